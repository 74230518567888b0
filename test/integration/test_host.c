/* delivery-host end to end, driven through its stdin and stdout as scripts and other programs
 * drive it: a whole shift against the emulator, rights refusals, bad input, a courier terminal,
 * a restart with pending commands, and a bad configuration. */
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
#define CAUSE "0c4a6a4e-7d43-4f0e-8a50-3b1f0c000001"
#define COURIER "5a1d0c3e-2b7f-4e55-9a10-c0c0c0000001"

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

static void bad_config_exits_nonzero(void)
{
    char *d = fresh("badcfg");
    char path[600];
    snprintf(path, sizeof path, "%s/deliveryPluginConfig.xml", d);
    FILE *f = fopen(path, "w");
    fprintf(f, "<config>\n  <serverUrl>ftp://nowhere</serverUrl>\n</config>\n");
    fclose(f);
    host *h = host_start(d, NULL, NULL);
    int rc = host_finish(h, false);
    CU_ASSERT_NOT_EQUAL(rc, 0);
    DLV_ASSERT_CONTAINS(h->errtext, path);
    DLV_ASSERT_CONTAINS(h->errtext, ":2:");
    DLV_ASSERT_CONTAINS(h->errtext, "<serverUrl>");
    CU_ASSERT_EQUAL(h->nlines, 0);
    host_free(h);
    free(d);
}

static void whole_shift(void)
{
    char *d = fresh("shift");
    write_config(d);
    char *courier = new_order("{\"serviceType\":\"DeliveryByCourier\",\"terminalId\":\"" TID "\"}");
    char *pickup = new_order("{\"serviceType\":\"DeliveryByClient\",\"terminalId\":\"" TID "\"}");
    char *doomed = new_order("{\"serviceType\":\"DeliveryByCourier\",\"terminalId\":\"" TID "\"}");
    host *h = host_start(d, NULL, "D_CND,D_MD,D_CD,D_CAD,F_CASH,D_SADT");
    int at = 0;
    CU_ASSERT_PTR_NOT_NULL(expect_line(h, &at, 5000, "\"event\":\"started\"", NULL));
    CU_ASSERT_PTR_NOT_NULL(expect_line(h, &at, 5000, "\"reply\":\"login\",\"ok\":true", NULL));
    CU_ASSERT_PTR_NOT_NULL(expect_line(h, &at, 5000, "\"event\":\"registered\"", NULL));
    CU_ASSERT_PTR_NOT_NULL(expect_line(h, &at, 5000, "\"event\":\"order\"", doomed, NULL));

    /* Bad input gets BadCommand and the host goes on. */
    send_line(h, "this is not json");
    CU_ASSERT_PTR_NOT_NULL(expect_line(h, &at, 3000, "\"error\":\"BadCommand\"", NULL));

    const char *steps[][2] = {
        {"{\"cmd\":\"confirm\",\"orderId\":\"%s\"}", "confirm"},
        {"{\"cmd\":\"setStatus\",\"orderId\":\"%s\",\"status\":\"CookingStarted\"}", "setStatus"},
        {"{\"cmd\":\"setStatus\",\"orderId\":\"%s\",\"status\":\"CookingCompleted\"}", "setStatus"},
        {"{\"cmd\":\"assignCourier\",\"orderId\":\"%s\",\"courierId\":\"" COURIER "\"}",
         "assignCourier"},
    };
    for (size_t i = 0; i < 4; i++) {
        send_line(h, steps[i][0], courier);
        char want[64];
        snprintf(want, sizeof want, "\"reply\":\"%s\",\"ok\":true", steps[i][1]);
        const char *line = expect_line(h, &at, 5000, want, NULL);
        CU_ASSERT_PTR_NOT_NULL(line);
        if (!line)
            fprintf(stderr, "  step %zu failed; last: %s\n", i,
                    h->nlines ? h->lines[h->nlines - 1] : "");
    }
    /* Paid before sending (the emulator's settings), then Waiting, OnWay, Delivered, Closed. */
    http_result r;
    char path[128];
    snprintf(path, sizeof path, "orders/%s", courier);
    cc_admin(&cc, "GET", path, NULL, &r);
    char *sum = cJSON_PrintUnformatted(cJSON_GetObjectItem(r.json, "resultSum"));
    http_result_free(&r);
    send_line(h,
              "{\"cmd\":\"pay\",\"orderId\":\"%s\",\"payments\":[{\"paymentTypeId\":"
              "\"09322f46-578a-d210-add7-eec222a08871\",\"kind\":\"Cash\",\"sum\":%s}]}",
              courier, sum);
    CU_ASSERT_PTR_NOT_NULL(expect_line(h, &at, 5000, "\"reply\":\"pay\",\"ok\":true", NULL));
    free(sum);
    const char *later[] = {"Waiting", "OnWay", "Delivered", "Closed"};
    for (size_t i = 0; i < 4; i++) {
        send_line(h, "{\"cmd\":\"setStatus\",\"orderId\":\"%s\",\"status\":\"%s\"}", courier,
                  later[i]);
        CU_ASSERT_PTR_NOT_NULL(
            expect_line(h, &at, 5000, "\"reply\":\"setStatus\",\"ok\":true", NULL));
    }
    /* One cancelled with a cause; a cancellation without one is refused. */
    send_line(h, "{\"cmd\":\"cancel\",\"orderId\":\"%s\"}", doomed);
    CU_ASSERT_PTR_NOT_NULL(expect_line(h, &at, 5000, "\"reply\":\"cancel\",\"ok\":false", NULL));
    send_line(h,
              "{\"cmd\":\"cancel\",\"orderId\":\"%s\",\"cancelCauseId\":\"" CAUSE
              "\",\"comment\":\"клиент передумал\"}",
              doomed);
    CU_ASSERT_PTR_NOT_NULL(expect_line(h, &at, 5000, "\"reply\":\"cancel\",\"ok\":true", NULL));
    /* A user without the right is refused, naming it. */
    send_line(h, "{\"cmd\":\"login\",\"userId\":\"00000000-0000-4000-8000-000000000002\","
                 "\"name\":\"Стажёр\",\"rights\":[]}");
    CU_ASSERT_PTR_NOT_NULL(expect_line(h, &at, 5000, "\"reply\":\"login\",\"ok\":true", NULL));
    send_line(h, "{\"cmd\":\"confirm\",\"orderId\":\"%s\"}", pickup);
    const char *refused = expect_line(h, &at, 5000, "\"reply\":\"confirm\",\"ok\":false", NULL);
    DLV_ASSERT_CONTAINS(refused, "MissingRight");
    DLV_ASSERT_CONTAINS(refused, "D_CND");
    send_line(h, "{\"cmd\":\"list\"}");
    const char *list = expect_line(h, &at, 5000, "\"reply\":\"list\",\"ok\":true", NULL);
    DLV_ASSERT_CONTAINS(list, pickup);
    CU_ASSERT_FALSE(dlv_test_contains(list, courier)); /* closed orders leave the list */
    CU_ASSERT_EQUAL(host_finish(h, true), 0);
    int end = 0;
    const char *stopped = expect_line(h, &end, 100, "\"event\":\"stopped\"", NULL);
    DLV_ASSERT_CONTAINS(stopped, "\"pendingCommands\":0");
    /* The call-center saw the whole shift. */
    snprintf(path, sizeof path, "orders/%s", courier);
    cc_admin(&cc, "GET", path, NULL, &r);
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "status")), "Closed");
    http_result_free(&r);
    snprintf(path, sizeof path, "orders/%s", doomed);
    cc_admin(&cc, "GET", path, NULL, &r);
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "status")),
                           "Cancelled");
    http_result_free(&r);
    host_free(h);
    free(courier);
    free(pickup);
    free(doomed);
    free(d);
}

static void courier_terminal_login(void)
{
    char *d = fresh("courier");
    write_config(d);
    char front[700];
    snprintf(front, sizeof front, "%s/config.xml", d);
    FILE *f = fopen(front, "w");
    fprintf(f, "<config><showDeliveryListOnLogin>true</showDeliveryListOnLogin></config>\n");
    fclose(f);
    host *h = host_start(d, front, NULL);
    int at = 0;
    CU_ASSERT_PTR_NOT_NULL(expect_line(h, &at, 5000, "\"event\":\"registered\"", NULL));
    send_line(h, "{\"cmd\":\"login\",\"userId\":\"00000000-0000-4000-8000-000000000003\","
                 "\"name\":\"Курьер\",\"rights\":[\"D_CD\"]}");
    CU_ASSERT_PTR_NOT_NULL(expect_line(h, &at, 5000, "\"reply\":\"login\",\"ok\":true", NULL));
    const char *ev = expect_line(h, &at, 5000, "\"event\":\"showDeliveryList\"", NULL);
    CU_ASSERT_PTR_NOT_NULL(ev);
    DLV_ASSERT_CONTAINS(ev, "\"orders\":[");
    int rc = host_finish(h, true);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc != 0)
        fprintf(stderr, "\n  exit %d, stderr: %s\n", rc, h->errtext);
    host_free(h);
    free(d);
}

static void restart_with_pending(void)
{
    char *d = fresh("restart");
    write_config(d);
    char *id = new_order("{\"terminalId\":\"" TID "\"}");
    host *h = host_start(d, NULL, "D_CND");
    int at = 0;
    CU_ASSERT_PTR_NOT_NULL(expect_line(h, &at, 5000, "\"event\":\"order\"", id, NULL));
    http_result r;
    cc_admin(&cc, "POST", "faults",
             "{\"route\":\"commands\",\"fault\":\"status\",\"status\":503,\"count\":0}", &r);
    http_result_free(&r);
    send_line(h, "{\"cmd\":\"confirm\",\"orderId\":\"%s\"}", id);
    CU_ASSERT_PTR_NOT_NULL(expect_line(h, &at, 5000, "\"reply\":\"confirm\",\"ok\":true", NULL));
    CU_ASSERT_EQUAL(host_finish(h, true), 0); /* pending, but durably stored */
    int end = 0;
    const char *stopped = expect_line(h, &end, 100, "\"event\":\"stopped\"", NULL);
    DLV_ASSERT_CONTAINS(stopped, "\"pendingCommands\":1");
    host_free(h);
    cc_admin(&cc, "DELETE", "faults", NULL, &r);
    http_result_free(&r);
    h = host_start(d, NULL, NULL);
    at = 0;
    CU_ASSERT_PTR_NOT_NULL(expect_line(h, &at, 5000, "\"event\":\"registered\"", NULL));
    char path[128];
    snprintf(path, sizeof path, "orders/%s", id);
    const char *status = "";
    for (int i = 0; i < 200; i++) {
        cc_admin(&cc, "GET", path, NULL, &r);
        status = cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "status"));
        bool done = status && strcmp(status, "WaitCooking") == 0;
        http_result_free(&r);
        if (done)
            break;
        usleep(25000);
    }
    cc_admin(&cc, "GET", path, NULL, &r);
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "status")),
                           "WaitCooking");
    http_result_free(&r);
    CU_ASSERT_EQUAL(host_finish(h, false), 0); /* end of input: also a clean stop */
    host_free(h);
    free(id);
    free(d);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_host DELIVERY_HOST PLUGIN_SO\n");
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
        DLV_TEST(bad_config_exits_nonzero), DLV_TEST(whole_shift), DLV_TEST(courier_terminal_login),
        DLV_TEST(restart_with_pending),     DLV_TEST_END,
    };
    int rc = dlv_test_main("host", cases);
    cc_proc_stop(&cc);
    dlv_test_rmdir(dir);
    curl_global_cleanup();
    return rc;
}
