#define _GNU_SOURCE
#include "bench.h"

#include "ccproc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- clocks ---- */

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double bench_now_ms(void)
{
    return (double)bench_now_ns() / 1e6;
}

void bench_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

double bench_cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

long bench_maxrss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* ---- samples ---- */

void bench_samples_add(bench_samples *s, double value)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = value;
    s->sorted = false;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_samples_pct(bench_samples *s, double p)
{
    if (s->n == 0)
        return 0;
    if (!s->sorted) {
        qsort(s->v, s->n, sizeof *s->v, cmp_double);
        s->sorted = true;
    }
    size_t rank = (size_t)((p / 100.0) * (double)s->n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > s->n)
        rank = s->n;
    return s->v[rank - 1];
}

double bench_samples_mean(const bench_samples *s)
{
    double sum = 0;
    for (size_t i = 0; i < s->n; i++)
        sum += s->v[i];
    return s->n ? sum / (double)s->n : 0;
}

void bench_samples_free(bench_samples *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- rows ---- */

void bench_row(const char *bench, const char *measure, const char *value, const char *reference,
               const char *goal, const char *verdict)
{
    printf("ROW\t%s\t%s\t%s\t%s\t%s\t%s\n", bench, measure, value ? value : "-",
           reference ? reference : "-", goal ? goal : "-", verdict ? verdict : "-");
    fflush(stdout);
}

const char *bench_fmt(const char *fmt, ...)
{
    static char slots[8][256];
    static int next;
    char *out = slots[next++ % 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, sizeof slots[0], fmt, ap);
    va_end(ap);
    return out;
}

const char *bench_verdict(bool met)
{
    return met ? "met" : "MISSED";
}

/* ---- scratch ---- */

char *bench_mkdtemp(const char *tag)
{
    const char *root = getenv("DLV_BENCH_TMP");
    if (!root)
        root = getenv("TMPDIR");
    if (!root)
        root = "/tmp";
    char *path = NULL;
    if (asprintf(&path, "%s/dlvbench-%s-XXXXXX", root, tag) < 0)
        return NULL;
    if (!mkdtemp(path)) {
        fprintf(stderr, "bench: mkdtemp %s: %s\n", path, strerror(errno));
        free(path);
        return NULL;
    }
    return path;
}

char *bench_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    return buf;
}

int bench_write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    return fclose(f) == 0 && w == len ? 0 : -1;
}

long bench_env_long(const char *name, long fallback)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return fallback;
    char *end;
    long n = strtol(v, &end, 10);
    return *end ? fallback : n;
}

int bench_fsync_probe(const char *dir, int rounds, double *p50, double *p99)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/fsync.probe", dir);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    char page[4096];
    memset(page, 'x', sizeof page);
    bench_samples s = {0};
    for (int i = 0; i < rounds; i++) {
        double t0 = bench_now_ms();
        /* appended, as a WAL frame is: the file's size changes with every sync */
        if (pwrite(fd, page, sizeof page, (off_t)i * 4096) != (ssize_t)sizeof page)
            break;
        fdatasync(fd);
        bench_samples_add(&s, bench_now_ms() - t0);
    }
    close(fd);
    unlink(path);
    *p50 = bench_samples_pct(&s, 50);
    *p99 = bench_samples_pct(&s, 99);
    bench_samples_free(&s);
    return s.n ? 0 : -1;
}

/* ---- HTTP ---- */

static size_t on_body(char *ptr, size_t size, size_t n, void *arg)
{
    bench_http *c = arg;
    size_t add = size * n;
    char *grown = realloc(c->body, c->len + add + 1);
    if (!grown)
        return 0;
    c->body = grown;
    memcpy(c->body + c->len, ptr, add);
    c->len += add;
    c->body[c->len] = '\0';
    return add;
}

int bench_http_init(bench_http *c)
{
    memset(c, 0, sizeof *c);
    c->h = curl_easy_init();
    return c->h ? 0 : -1;
}

int bench_http_call(bench_http *c, const char *method, const char *url, const char *const *headers,
                    const char *body)
{
    struct curl_slist *list = NULL;
    for (int i = 0; headers && headers[i]; i++)
        list = curl_slist_append(list, headers[i]);
    if (body)
        list = curl_slist_append(list, "Content-Type: application/json");
    c->len = 0;
    if (c->body)
        c->body[0] = '\0';
    CURL *h = c->h;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L); /* forget the previous call's body */
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    int rc = (int)curl_easy_perform(h);
    c->status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(list);
    if (!c->body)
        c->body = calloc(1, 1);
    return rc;
}

void bench_http_cleanup(bench_http *c)
{
    if (c->h)
        curl_easy_cleanup(c->h);
    free(c->body);
    memset(c, 0, sizeof *c);
}

/* ---- host ---- */

char *bench_write_config(const char *dir, const char *server_url, const char *terminal_id,
                         long timeout_ms)
{
    char *path = NULL;
    if (asprintf(&path, "%s/deliveryPluginConfig.xml", dir) < 0)
        return NULL;
    FILE *f = fopen(path, "w");
    if (!f) {
        free(path);
        return NULL;
    }
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<config>\n"
            "  <serviceMethodTimeoutMilliseconds>%ld</serviceMethodTimeoutMilliseconds>\n"
            "  <serverUrl>%s</serverUrl>\n"
            "  <connectToServerDelayInSeconds>0</connectToServerDelayInSeconds>\n",
            timeout_ms ? timeout_ms : bench_env_long("DLV_BENCH_TIMEOUT_MS", 5000), server_url);
    if (terminal_id)
        fprintf(f, "  <terminalId>%s</terminalId>\n", terminal_id);
    fprintf(f, "</config>\n");
    fclose(f);
    return path;
}

static void on_log(void *arg, dlv_log_level level, const char *line)
{
    (void)arg;
    if (level == DLV_LOG_ERROR || getenv("DLV_BENCH_VERBOSE"))
        fprintf(stderr, "    [delivery %d] %s\n", (int)level, line);
}

dlv_ctx *bench_host_start(const bench_host_config *cfg)
{
    char *path = bench_write_config(cfg->dir, cfg->server_url, cfg->terminal_id, cfg->timeout_ms);
    if (!path)
        return NULL;
    dlv_options opts = {
        .version = DLV_OPTIONS_VERSION,
        .config_path = path,
        .data_dir = cfg->dir,
        .terminal_name = "bench terminal",
        .loop = cfg->loop,
        .on_event = cfg->on_event,
        .event_arg = cfg->event_arg,
        .on_log = on_log,
        .log_level = getenv("DLV_BENCH_VERBOSE") ? DLV_LOG_DEBUG : DLV_LOG_ERROR,
        .long_poll_seconds = cfg->long_poll_seconds,
        .utc_offset_minutes = 180,
    };
    dlv_ctx *ctx = NULL;
    dlv_error err = {0};
    int rc = dlv_ctx_create(&opts, &ctx, &err);
    free(path);
    if (rc != DLV_OK) {
        fprintf(stderr, "bench: dlv_ctx_create: %s\n", err.message);
        return NULL;
    }
    if (dlv_ctx_start(ctx) != DLV_OK) {
        fprintf(stderr, "bench: dlv_ctx_start: %s\n", dlv_last_error(ctx));
        dlv_ctx_destroy(ctx);
        return NULL;
    }
    return ctx;
}

/* ---- latch ---- */

void bench_latch_init(bench_latch *l)
{
    pthread_mutex_init(&l->m, NULL);
    pthread_cond_init(&l->c, NULL);
    l->count = 0;
}

void bench_latch_add(bench_latch *l, long n)
{
    pthread_mutex_lock(&l->m);
    l->count += n;
    pthread_cond_broadcast(&l->c);
    pthread_mutex_unlock(&l->m);
}

long bench_latch_get(bench_latch *l)
{
    pthread_mutex_lock(&l->m);
    long n = l->count;
    pthread_mutex_unlock(&l->m);
    return n;
}

bool bench_latch_wait(bench_latch *l, long target, int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&l->m);
    while (l->count < target && pthread_cond_timedwait(&l->c, &l->m, &ts) == 0)
        ;
    bool ok = l->count >= target;
    pthread_mutex_unlock(&l->m);
    return ok;
}

/* ---- requests ---- */

typedef struct pending_reply {
    bench_latch done;
    char *reply;
} pending_reply;

static void on_reply(void *arg, const char *json)
{
    pending_reply *p = arg;
    pthread_mutex_lock(&p->done.m);
    p->reply = strdup(json);
    p->done.count = 1;
    pthread_cond_broadcast(&p->done.c);
    pthread_mutex_unlock(&p->done.m);
}

char *bench_request(dlv_ctx *ctx, const char *json, int timeout_ms)
{
    pending_reply *p = calloc(1, sizeof *p);
    bench_latch_init(&p->done);
    if (dlv_ctx_request(ctx, json, on_reply, p) != DLV_OK) {
        free(p);
        return NULL;
    }
    if (!bench_latch_wait(&p->done, 1, timeout_ms))
        return NULL; /* p leaks on purpose: the reply may still come */
    char *r = p->reply;
    free(p);
    return r;
}

bool bench_order_event_id(const char *json, char out[37])
{
    static const char prefix[] = "{\"event\":\"order\",\"order\":{\"id\":\"";
    if (strncmp(json, prefix, sizeof prefix - 1) != 0)
        return false;
    memcpy(out, json + sizeof prefix - 1, 36);
    out[36] = '\0';
    return true;
}

void bench_uuid(char out[37])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        for (int i = 0; i < 16; i++)
            b[i] = (unsigned char)rand();
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

int bench_cc_bump_revision(const struct cc_proc *cc)
{
    http_result r;
    cc_admin(cc, "GET", "settings", NULL, &r);
    char *settings = r.status == 200 ? strdup(r.body) : NULL;
    http_result_free(&r);
    if (!settings)
        return -1;
    cc_admin(cc, "PUT", "settings", settings, &r);
    int rc = r.status == 200 ? 0 : -1;
    http_result_free(&r);
    free(settings);
    return rc;
}
