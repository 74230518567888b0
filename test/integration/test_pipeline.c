/* delivery-host with pipelined requests (issue 17, item 8): several requests in one write are
 * judged one after the other against the view the ones before left, every reply echoes its
 * request's "id", and the replies (BadCommand for an unparsable line included) keep request
 * order. */
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

static const char *host_bin, *plugin_so;
static char *dir;
static cc_proc cc;

typedef struct host {
    pid_t pid;
    int in, out, err;
    char buf[1 << 20];
    size_t len;
    char *lines[4096];
    int nlines;
    char errtext[8192];
} host;

static void write_config_for(const char *d, const char *tid)
{
    char path[600];
    snprintf(path, sizeof path, "%s/deliveryPluginConfig.xml", d);
    FILE *f = fopen(path, "w");
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<config>\n"
            "  <serviceMethodTimeoutMilliseconds>2000</serviceMethodTimeoutMilliseconds>\n"
            "  <serverUrl>%s</serverUrl>\n  <terminalId>%s</terminalId>\n"
            "  <connectToServerDelayInSeconds>0</connectToServerDelayInSeconds>\n</config>\n",
            cc.base, tid);
    fclose(f);
}

static void write_config(const char *d)
{
    write_config_for(d, TID);
}

static host *host_start(const char *d, const char *front, const char *rights)
{
    host *h = calloc(1, sizeof *h);
    int in[2], out[2], err[2];
    if (pipe(in) || pipe(out) || pipe(err))
        return NULL;
    char cfg[600], printer[700];
    snprintf(cfg, sizeof cfg, "%s/deliveryPluginConfig.xml", d);
    snprintf(printer, sizeof printer, "receipt=file:%s/receipt.bin", d);
    h->pid = fork();
    if (h->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(in[1]);
        close(out[0]);
        close(err[0]);
        const char *argv[20] = {host_bin, "--plugin",   plugin_so, "--config",
                                cfg,      "--data-dir", d,         "--long-poll-seconds",
                                "2",      "--printer",  printer};
        int n = 11;
        if (front) {
            argv[n++] = "--front-config";
            argv[n++] = front;
        }
        if (rights) {
            argv[n++] = "--user-rights";
            argv[n++] = rights;
        }
        argv[n] = NULL;
        execv(host_bin, (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    h->in = in[1];
    h->out = out[0];
    h->err = err[0];
    fcntl(h->err, F_SETFL, O_NONBLOCK);
    return h;
}

static void drain_err(host *h)
{
    size_t n = strlen(h->errtext);
    ssize_t got;
    while (n < sizeof h->errtext - 1 &&
           (got = read(h->err, h->errtext + n, sizeof h->errtext - 1 - n)) > 0)
        n += (size_t)got;
    h->errtext[n] = '\0';
}

/* Reads what stdout has, splitting lines; waits up to `ms`. */
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
        if (h->nlines < 4096)
            h->lines[h->nlines++] = strdup(h->buf);
        size_t rest = h->len - (size_t)(nl + 1 - h->buf);
        memmove(h->buf, nl + 1, rest);
        h->len = rest;
        h->buf[h->len] = '\0';
    }
    return true;
}

/* The first line at index >= *from containing every fragment; waits up to ms. */
static const char *expect_line(host *h, int *from, int ms, ...)
{
    const char *frags[8];
    int n = 0;
    va_list ap;
    va_start(ap, ms);
    for (const char *f; n < 8 && (f = va_arg(ap, const char *));)
        frags[n++] = f;
    va_end(ap);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        for (int i = *from; i < h->nlines; i++) {
            bool all = true;
            for (int k = 0; k < n && all; k++)
                all = strstr(h->lines[i], frags[k]) != NULL;
            if (all) {
                *from = i + 1;
                return h->lines[i];
            }
        }
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long elapsed = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (elapsed >= ms || !pump(h, (int)(ms - elapsed))) {
            if (elapsed >= ms) {
                fprintf(stderr, "\n  no line with");
                for (int k = 0; k < n; k++)
                    fprintf(stderr, " [%s]", frags[k]);
                fprintf(stderr, " after line %d of %d\n", *from, h->nlines);
                return NULL;
            }
        }
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

/* Closes stdin (or sends quit) and waits for the exit code. */
static int host_finish(host *h, bool quit)
{
    if (quit)
        send_line(h, "{\"cmd\":\"quit\"}");
    close(h->in);
    int status = 0;
    for (int i = 0; i < 1500; i++) {
        if (!pump(h, 10))
            usleep(10000); /* stdout may be closed already: do not spin */
        if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
            while (pump(h, 10))
                ;
            drain_err(h);
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        }
    }
    if (getenv("DLV_TEST_GDB")) {
        char cmd[256];
        snprintf(cmd, sizeof cmd,
                 "gdb -p %d -batch -ex 'thread apply all bt' > /tmp/hostbt.txt 2>&1", h->pid);
        if (system(cmd) != 0)
            fprintf(stderr, "gdb failed\n");
    }
    kill(h->pid, SIGKILL);
    waitpid(h->pid, &status, 0);
    drain_err(h);
    return -1;
}

static void host_free(host *h)
{
    close(h->out);
    close(h->err);
    for (int i = 0; i < h->nlines; i++)
        free(h->lines[i]);
    free(h);
}

static char *fresh(const char *name)
{
    char *d = NULL;
    if (asprintf(&d, "%s/%s", dir, name) < 0 || mkdir(d, 0755))
        return NULL;
    return d;
}

static char *new_order(const char *body)
{
    http_result r;
    cc_admin(&cc, "POST", "orders", body, &r);
    const cJSON *id = cJSON_GetObjectItem(r.json, "id");
    char *copy = cJSON_IsString(id) ? strdup(id->valuestring) : NULL;
    http_result_free(&r);
    return copy;
}

/* The index of the first line at or after `from` that is a reply (has "reply"), or -1. */
static int next_reply(host *h, int from)
{
    for (int i = from; i < h->nlines; i++)
        if (strstr(h->lines[i], "\"reply\":"))
            return i;
    return -1;
}

static void one_write_four_requests(void)
{
    char *d = fresh("pipe");
    write_config(d);
    char *id = new_order("{\"serviceType\":\"DeliveryByCourier\",\"terminalId\":\"" TID "\"}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(id);
    host *h = host_start(d, NULL, "D_CND,D_MD,D_CD,D_CAD,F_CASH,D_SADT");
    int at = 0;
    CU_ASSERT_PTR_NOT_NULL(expect_line(h, &at, 5000, "\"reply\":\"login\",\"ok\":true", NULL));
    CU_ASSERT_PTR_NOT_NULL(expect_line(h, &at, 5000, "\"event\":\"order\"", id, NULL));
    /* One write: the host reads the four lines at once and the library gets them together. */
    char block[1024];
    int n = snprintf(block, sizeof block,
                     "{\"cmd\":\"confirm\",\"id\":\"a1\",\"orderId\":\"%s\"}\n"
                     "{\"cmd\":\"setStatus\",\"id\":2,\"orderId\":\"%s\","
                     "\"status\":\"CookingStarted\"}\n"
                     "this is not json\n"
                     "{\"cmd\":\"list\",\"id\":\"a4\"}\n",
                     id, id);
    CU_ASSERT_EQUAL(write(h->in, block, (size_t)n), n);
    CU_ASSERT_PTR_NOT_NULL(expect_line(h, &at, 5000, "\"reply\":\"list\"", NULL));
    int r0 = next_reply(h, 0);
    while (r0 >= 0 && strstr(h->lines[r0], "\"reply\":\"login\""))
        r0 = next_reply(h, r0 + 1);
    int r1 = r0 >= 0 ? next_reply(h, r0 + 1) : -1;
    int r2 = r1 >= 0 ? next_reply(h, r1 + 1) : -1;
    int r3 = r2 >= 0 ? next_reply(h, r2 + 1) : -1;
    CU_ASSERT_FATAL(r3 >= 0);
    DLV_ASSERT_CONTAINS(h->lines[r0], "\"reply\":\"confirm\",\"ok\":true");
    DLV_ASSERT_CONTAINS(h->lines[r0], "\"id\":\"a1\"");
    DLV_ASSERT_CONTAINS(h->lines[r1], "\"reply\":\"setStatus\",\"ok\":true");
    DLV_ASSERT_CONTAINS(h->lines[r1], "\"id\":2");
    DLV_ASSERT_CONTAINS(h->lines[r2], "\"error\":\"BadCommand\"");
    DLV_ASSERT_CONTAINS(h->lines[r3], "\"reply\":\"list\"");
    DLV_ASSERT_CONTAINS(h->lines[r3], "\"id\":\"a4\"");
    CU_ASSERT_EQUAL(host_finish(h, true), 0);
    host_free(h);
    free(id);
    free(d);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_pipeline DELIVERY_HOST PLUGIN_SO\n");
        return 2;
    }
    host_bin = argv[1];
    plugin_so = argv[2];
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    dir = dlv_test_mkdtemp();
    char db[600];
    snprintf(db, sizeof db, "%s/cc.db", dir);
    const char *args[] = {"--terminal", TID, NULL};
    if (cc_proc_start(&cc, db, args) != 0)
        return 1;
    static const dlv_test_case cases[] = {
        DLV_TEST(one_write_four_requests),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("pipeline", cases);
    cc_proc_stop(&cc);
    dlv_test_rmdir(dir);
    curl_global_cleanup();
    return rc;
}
