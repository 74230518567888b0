/* Whole-process crashes of delivery-host against the emulator, with a file printer:
 *
 *   test_crash_host after-ok HOST PLUGIN  kills the host with SIGKILL right after it printed the
 *                                          ok reply to setStatus CookingStarted, ten times, and
 *                                          checks after a restart that every order's service
 *                                          check printed exactly once.
 *   test_crash_host soak HOST PLUGIN [N]   a busy shift (orders confirmed, cooked, completed,
 *                                          completed) with N (default 40) kill -9 points at
 *                                          random moments; at the end every acknowledged command
 *                                          was applied exactly once at the call-center and every
 *                                          order that reached CookingStarted has exactly one
 *                                          service check on paper.
 *
 * Prints "N passed, N failed" like the other suites. docs/reliability.md keeps the figures. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ccproc.h"
#include "testlib.h"

#define TID "e49d3632-b06a-4a9a-8c76-ae816c4404ad"
#define COURIER "5a1d0c3e-2b7f-4e55-9a10-c0c0c0000001"
#define MAX_ORDERS 256

static const char *host_bin, *plugin_so;
static char *dir;
static cc_proc cc;
static int passed, failed;

static void check(bool ok, const char *fmt, ...)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

/* ---- the host process, through its stdin and stdout (as test_host.c drives it) ---- */

typedef struct host {
    pid_t pid;
    int in, out;
    char buf[1 << 18];
    size_t len;
    char **lines;
    int nlines, cap;
} host;

static host *host_start(const char *d)
{
    host *h = calloc(1, sizeof *h);
    int in[2], out[2];
    if (!h || pipe(in) || pipe(out))
        return NULL;
    char cfg[600], printer[700], log[700];
    snprintf(cfg, sizeof cfg, "%s/deliveryPluginConfig.xml", d);
    snprintf(printer, sizeof printer, "receipt=file:%s/receipt.bin", d);
    snprintf(log, sizeof log, "%s/host.log", d);
    h->pid = fork();
    if (h->pid == 0) {
        int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(in[0], 0);
        dup2(out[1], 1);
        if (logfd >= 0)
            dup2(logfd, 2);
        close(in[1]);
        close(out[0]);
        const char *argv[] = {host_bin,
                              "--plugin",
                              plugin_so,
                              "--config",
                              cfg,
                              "--data-dir",
                              d,
                              "--long-poll-seconds",
                              "2",
                              "--printer",
                              printer,
                              "--user-rights",
                              "D_CND,D_MD,D_CD,D_CAD,F_CASH",
                              NULL};
        execv(host_bin, (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    h->in = in[1];
    h->out = out[0];
    return h;
}

static void add_line(host *h, const char *line)
{
    if (h->nlines == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 256;
        h->lines = realloc(h->lines, (size_t)h->cap * sizeof *h->lines);
    }
    h->lines[h->nlines++] = strdup(line);
}

static bool pump(host *h, int ms)
{
    struct pollfd p = {h->out, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0)
        return false;
    ssize_t got = read(h->out, h->buf + h->len, sizeof h->buf - 1 - h->len);
    if (got <= 0)
        return false;
    h->len += (size_t)got;
    h->buf[h->len] = '\0';
    char *nl;
    while ((nl = memchr(h->buf, '\n', h->len))) {
        *nl = '\0';
        add_line(h, h->buf);
        size_t rest = h->len - (size_t)(nl + 1 - h->buf);
        memmove(h->buf, nl + 1, rest);
        h->len = rest;
        h->buf[h->len] = '\0';
    }
    return true;
}

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The first line at index >= *from with both fragments (b may be NULL); waits up to ms. */
static const char *expect_line(host *h, int *from, int ms, const char *a, const char *b)
{
    long until = now_ms() + ms;
    for (;;) {
        for (int i = *from; i < h->nlines; i++) {
            if (strstr(h->lines[i], a) && (!b || strstr(h->lines[i], b))) {
                *from = i + 1;
                return h->lines[i];
            }
        }
        long left = until - now_ms();
        if (left <= 0)
            return NULL;
        if (!pump(h, (int)left))
            usleep(1000);
    }
}

static void send_line(host *h, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    line[n++] = '\n';
    if (write(h->in, line, (size_t)n) != n)
        fprintf(stderr, "host: write failed\n");
}

static void host_free(host *h)
{
    close(h->in);
    close(h->out);
    for (int i = 0; i < h->nlines; i++)
        free(h->lines[i]);
    free(h->lines);
    free(h);
}

static void host_kill(host *h)
{
    int status;
    kill(h->pid, SIGKILL);
    waitpid(h->pid, &status, 0);
    host_free(h);
}

static int host_quit(host *h)
{
    send_line(h, "{\"cmd\":\"quit\"}");
    close(h->in);
    h->in = -1;
    int status = 0;
    for (int i = 0; i < 1500; i++) {
        if (!pump(h, 10))
            usleep(10000); /* stdout may be closed already: do not spin */
        if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
            host_free(h);
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        }
    }
    host_kill(h);
    return -1;
}

/* A started host, registered and logged in; NULL after a bound. */
static host *host_up(const char *d, int *at)
{
    host *h = host_start(d);
    *at = 0;
    if (h && expect_line(h, at, 10000, "\"reply\":\"login\",\"ok\":true", NULL))
        return h;
    if (h)
        host_kill(h);
    return NULL;
}

/* ---- the emulator and the paper ---- */

static void write_config(const char *d)
{
    char path[600];
    snprintf(path, sizeof path, "%s/deliveryPluginConfig.xml", d);
    FILE *f = fopen(path, "w");
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<config>\n"
            "  <serviceMethodTimeoutMilliseconds>2000</serviceMethodTimeoutMilliseconds>\n"
            "  <serverUrl>%s</serverUrl>\n  <terminalId>" TID "</terminalId>\n"
            "  <connectToServerDelayInSeconds>0</connectToServerDelayInSeconds>\n</config>\n",
            cc.base);
    fclose(f);
}

typedef struct order {
    char id[40];
    long number;
    int done;  /* steps that took effect (acknowledged, or found applied after a kill) */
    int acked; /* steps whose ok reply was seen */
} order;

static bool new_order(order *o)
{
    http_result r;
    /* Due in four hours: with the courier cooking time (protocol 1.1) a generated order due
     * sooner may already be due for the kitchen and start cooking by itself. */
    char body[200], due[32];
    time_t t = time(NULL) + 4 * 3600;
    strftime(due, sizeof due, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    snprintf(body, sizeof body,
             "{\"serviceType\":\"DeliveryByCourier\",\"terminalId\":\"" TID
             "\",\"completeBefore\":\"%s\"}",
             due);
    cc_admin(&cc, "POST", "orders", body, &r);
    const cJSON *id = cJSON_GetObjectItem(r.json, "id");
    const cJSON *num = cJSON_GetObjectItem(r.json, "number");
    bool ok = cJSON_IsString(id);
    if (ok) {
        snprintf(o->id, sizeof o->id, "%s", id->valuestring);
        o->number = cJSON_IsNumber(num) ? (long)num->valuedouble : -1;
    }
    http_result_free(&r);
    memset(&o->done, 0, sizeof o->done * 2);
    if (ok && o->number < 0) {
        char path[128];
        snprintf(path, sizeof path, "orders/%s", o->id);
        cc_admin(&cc, "GET", path, NULL, &r);
        num = cJSON_GetObjectItem(r.json, "number");
        o->number = cJSON_IsNumber(num) ? (long)num->valuedouble : -1;
        http_result_free(&r);
    }
    return ok;
}

/* Service checks on paper for order `number` (CP866, one document per cut). */
static int service_checks(const char *d, long number)
{
    char path[600];
    snprintf(path, sizeof path, "%s/receipt.bin", d);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    static char data[1 << 23];
    size_t len = fread(data, 1, sizeof data - 1, f);
    fclose(f);
    data[len] = '\0';
    static const char title[] = "\x91\x85\x90\x82\x88\x91\x8d\x9b\x89"; /* СЕРВИСНЫЙ */
    char want[32];
    int wn = snprintf(want, sizeof want, "\xfc %ld", number);
    int count = 0;
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *cut = memmem(p, (size_t)(end - p), "\x1dV", 2);
        const char *doc_end = cut ? cut : end;
        const char *t = memmem(p, (size_t)(doc_end - p), title, sizeof title - 1);
        const char *n = t ? memmem(t, (size_t)(doc_end - t), want, (size_t)wn) : NULL;
        if (n && (n + wn == doc_end || n[wn] < '0' || n[wn] > '9'))
            count++;
        p = cut ? cut + 2 : end;
    }
    return count;
}

/* Applied commands at the call-center for the order, other than DocumentPrinted. */
static int applied_for(const cJSON *log, const char *order_id, int *received_twice)
{
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(log, "commands"))
    {
        const char *oid = cJSON_GetStringValue(cJSON_GetObjectItem(c, "orderId"));
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(c, "type"));
        if (!oid || strcmp(oid, order_id) != 0 || (type && strcmp(type, "DocumentPrinted") == 0))
            continue;
        int applied = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(c, "applied"));
        n += applied;
        if (received_twice) /* tell what was there */
            fprintf(stderr, "  %s %s applied=%d received=%d outcome=%s\n",
                    cJSON_GetStringValue(cJSON_GetObjectItem(c, "id")), type ? type : "?", applied,
                    (int)cJSON_GetNumberValue(cJSON_GetObjectItem(c, "received")),
                    cJSON_GetStringValue(cJSON_GetObjectItem(c, "outcome")));
    }
    return n;
}

/* ---- the shift ---- */

static const char *const step_fmt[] = {
    "{\"cmd\":\"confirm\",\"orderId\":\"%s\"}",
    "{\"cmd\":\"setStatus\",\"orderId\":\"%s\",\"status\":\"CookingStarted\"}",
    "{\"cmd\":\"setStatus\",\"orderId\":\"%s\",\"status\":\"CookingCompleted\"}",
    "{\"cmd\":\"assignCourier\",\"orderId\":\"%s\",\"courierId\":\"" COURIER "\"}",
};
static const char *const step_reply[] = {"\"reply\":\"confirm\"", "\"reply\":\"setStatus\"",
                                         "\"reply\":\"setStatus\"", "\"reply\":\"assignCourier\""};
#define STEPS                                                                                      \
    3 /* assignCourier may repeat (a new courier), so a retried one is not a duplicate             \
       */

/* Sends the order's next step and waits for its reply: 1 ok, 0 refused (the step had taken
 * effect before a kill: the local state is past it), -1 no reply. */
static int step(host *h, int *at, order *o)
{
    send_line(h, step_fmt[o->done], o->id);
    const char *line = expect_line(h, at, 5000, step_reply[o->done], NULL);
    if (!line)
        return -1;
    return strstr(line, "\"ok\":true") ? 1 : 0;
}

/* Restarts the host until every owed document is out and every command is delivered; an
 * operator's reprint for a job whose fate a kill made unknown and that is not on paper. */
static void settle(const char *d, order *orders, int n)
{
    int at;
    host *h = host_up(d, &at);
    check(h != NULL, "host restarts for the final check");
    if (!h)
        return;
    /* Offers for unknown jobs: reprint when the paper lacks the document. */
    for (int from = 0;;) {
        const char *offer = expect_line(h, &from, 1500, "\"event\":\"reprintOffered\"", NULL);
        if (!offer)
            break;
        for (int i = 0; i < n; i++) {
            if (strstr(offer, orders[i].id) && strstr(offer, "ServiceCheck") &&
                service_checks(d, orders[i].number) == 0) {
                cJSON *j = cJSON_Parse(offer);
                const cJSON *job = cJSON_GetObjectItem(j, "jobId");
                if (cJSON_IsNumber(job))
                    send_line(h, "{\"cmd\":\"reprint\",\"jobId\":%.0f}", job->valuedouble);
                cJSON_Delete(j);
            }
        }
    }
    /* Wait for the outbox to empty and the printer to go quiet. */
    usleep(3000 * 1000);
    int rc = host_quit(h);
    check(rc == 0, "final stop exits 0 (got %d)", rc);
}

static void after_ok(void)
{
    char *d = NULL;
    if (asprintf(&d, "%s/afterok", dir) < 0 || mkdir(d, 0755))
        return;
    write_config(d);
    enum { N = 10 };
    order orders[N];
    for (int i = 0; i < N; i++) {
        check(new_order(&orders[i]), "order %d made at the call-center", i);
        int at;
        host *h = host_up(d, &at);
        check(h != NULL, "host starts (%d)", i);
        if (!h)
            break;
        if (!expect_line(h, &at, 5000, "\"event\":\"order\"", orders[i].id))
            check(false, "order %d reaches the host", i);
        int r = step(h, &at, &orders[i]); /* confirm */
        if (r == 1)
            orders[i].done++;
        r = step(h, &at, &orders[i]); /* CookingStarted: killed right after the ok */
        if (r == 1) {
            kill(h->pid, SIGKILL);
            orders[i].done++;
        }
        check(r == 1, "setStatus CookingStarted acknowledged (%d)", i);
        host_kill(h);
    }
    settle(d, orders, N);
    int lost = 0, twice = 0;
    for (int i = 0; i < N; i++) {
        int c = service_checks(d, orders[i].number);
        lost += c == 0;
        twice += c > 1;
    }
    printf("kill after ok: %d of %d service checks lost, %d printed twice\n", lost, N, twice);
    check(lost == 0, "no service check lost (%d of %d lost)", lost, N);
    check(twice == 0, "no service check printed twice (%d)", twice);
    free(d);
}

static void soak(int kills)
{
    char *d = NULL;
    if (asprintf(&d, "%s/soak", dir) < 0 || mkdir(d, 0755))
        return;
    write_config(d);
    static order orders[MAX_ORDERS];
    int n = 0, killed = 0, restarts = 0;
    srand((unsigned)time(NULL));
    long t0 = now_ms();
    while (killed < kills) {
        int at;
        host *h = host_up(d, &at);
        restarts++;
        if (!h) {
            check(false, "host starts after kill %d", killed);
            break;
        }
        /* A few new orders every round: the busy shift. */
        for (int k = 0; k < 3 && n < MAX_ORDERS; k++)
            if (new_order(&orders[n]))
                n++;
        expect_line(h, &at, 3000, "\"event\":\"order\"", orders[n - 1].id);
        /* Drive random orders one step each; the kill comes after a random number of steps,
         * sometimes right after an ok, sometimes with a request in flight. */
        int budget = 1 + rand() % 8;
        bool in_flight = rand() % 2;
        for (int s = 0; s < budget; s++) {
            order *o = &orders[rand() % n];
            if (o->done >= STEPS)
                continue;
            if (s == budget - 1 && in_flight) {
                send_line(h, step_fmt[o->done], o->id);
                usleep((useconds_t)(rand() % 3000));
                break;
            }
            int r = step(h, &at, o);
            if (r == 1) {
                o->done++;
                o->acked++;
            } else if (r == 0) {
                o->done++; /* taken effect before an earlier kill, its reply never seen */
            }
        }
        kill(h->pid, SIGKILL);
        host_kill(h);
        killed++;
    }
    /* The unanswered last steps: find out which took effect (a refusal says so). */
    int at;
    host *h = host_up(d, &at);
    for (int i = 0; h && i < n; i++) {
        while (orders[i].done < STEPS) {
            int r = step(h, &at, &orders[i]);
            if (r < 0)
                break;
            orders[i].done++;
            orders[i].acked += r == 1;
        }
    }
    if (h)
        host_quit(h);
    settle(d, orders, n);
    http_result r;
    cc_admin(&cc, "GET", "log", NULL, &r);
    int wrong_commands = 0, lost = 0, twice = 0, cooked = 0;
    for (int i = 0; i < n; i++) {
        int applied = applied_for(r.json, orders[i].id, NULL);
        if (applied != orders[i].done) {
            wrong_commands++;
            fprintf(stderr, "order %ld: %d steps, %d applied at the call-center\n",
                    orders[i].number, orders[i].done, applied);
            int verbose = 1;
            applied_for(r.json, orders[i].id, &verbose);
        }
        if (orders[i].done >= 2) {
            cooked++;
            int c = service_checks(d, orders[i].number);
            lost += c == 0;
            twice += c > 1;
        }
    }
    http_result_free(&r);
    printf("soak: %d kill -9 points, %d orders, %d cooked, %.1f s: %d command mismatches, "
           "%d service checks lost, %d printed twice\n",
           killed, n, cooked, (double)(now_ms() - t0) / 1000.0, wrong_commands, lost, twice);
    check(killed >= kills, "%d kill points", killed);
    check(wrong_commands == 0, "every acknowledged command applied exactly once (%d wrong)",
          wrong_commands);
    check(lost == 0 && twice == 0, "every owed service check printed once (%d lost, %d twice)",
          lost, twice);
    free(d);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: test_crash_host after-ok|soak DELIVERY_HOST PLUGIN_SO [KILLS]\n");
        return 2;
    }
    host_bin = argv[2];
    plugin_so = argv[3];
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    dir = dlv_test_mkdtemp();
    char db[600];
    snprintf(db, sizeof db, "%s/cc.db", dir);
    const char *args[] = {"--terminal", TID, NULL};
    if (cc_proc_start(&cc, db, args) != 0)
        return 1;
    if (strcmp(argv[1], "after-ok") == 0)
        after_ok();
    else
        soak(argc > 4 ? atoi(argv[4]) : 40);
    cc_proc_stop(&cc);
    if (failed && getenv("DLV_TEST_KEEP"))
        fprintf(stderr, "kept %s\n", dir);
    else
        dlv_test_rmdir(dir);
    curl_global_cleanup();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
