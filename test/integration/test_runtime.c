/* The terminal runtime against the call-center emulator and its faults: registration, the long
 * poll, durable commands applied exactly once, conflicts, restarts, several terminals. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "ccproc.h"
#include "hostsim.h"
#include "testlib.h"

#define TID "e49d3632-b06a-4a9a-8c76-ae816c4404ad"
#define TID2 "5f2c9a10-3b4d-4e6f-8a9b-0c1d2e3f4a5b"
#define CAUSE "0c4a6a4e-7d43-4f0e-8a50-3b1f0c000001"
#define LOGIN                                                                                      \
    "{\"cmd\":\"login\",\"userId\":\"00000000-0000-4000-8000-0000000000aa\","                      \
    "\"name\":\"Менеджер\",\"rights\":[\"D_CND\",\"D_MD\",\"D_CD\",\"D_CAD\",\"F_CASH\"]}"

static char *dir;
static cc_proc cc;
static int test_no;

static char *fresh_dir(void)
{
    char *d = NULL;
    if (asprintf(&d, "%s/t%d", dir, ++test_no) < 0 || mkdir(d, 0755) != 0)
        return NULL;
    return d;
}

static void start_cc(const char *const *extra)
{
    char db[600];
    snprintf(db, sizeof db, "%s/cc%d.db", dir, ++test_no);
    const char *base[] = {"--terminal", TID, "--terminal", TID2, NULL, NULL, NULL, NULL, NULL};
    int n = 4;
    for (int i = 0; extra && extra[i] && n < 8; i++)
        base[n++] = extra[i];
    CU_ASSERT_EQUAL_FATAL(cc_proc_start(&cc, db, base), 0);
}

static hostsim *start_host(const char *d, const char *terminal)
{
    hostsim_config cfg = {.dir = d, .server_url = cc.base, .terminal_id = terminal};
    return hostsim_start(&cfg);
}

static cJSON *admin_json(const char *method, const char *path, const char *body)
{
    http_result r;
    cc_admin(&cc, method, path, body, &r);
    cJSON *j = r.json;
    r.json = NULL;
    http_result_free(&r);
    return j;
}

static char *new_order(const char *body)
{
    /* Due in four hours: the kitchen's time for a courier order (protocol 1.1: due time minus
     * the travel time) has not come, so no automatic step runs ahead of the test's own. */
    char later[128];
    time_t due = time(NULL) + 4 * 3600;
    strftime(later, sizeof later,
             "{\"serviceType\":\"DeliveryByCourier\",\"completeBefore\":\"%Y-%m-%dT%H:%M:%SZ\"}",
             gmtime(&due));
    cJSON *o = admin_json("POST", "orders", body ? body : later);
    const cJSON *id = cJSON_GetObjectItem(o, "id");
    char *copy = cJSON_IsString(id) ? strdup(id->valuestring) : NULL;
    cJSON_Delete(o);
    return copy;
}

/* Applied count of every command in the emulator's log: each must be exactly 1. */
static int applied_exactly_once(int *commands)
{
    cJSON *log = admin_json("GET", "log", NULL);
    int bad = 0, n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(log, "commands"))
    {
        n++;
        const cJSON *applied = cJSON_GetObjectItem(e, "applied");
        const cJSON *outcome = cJSON_GetObjectItem(e, "outcome");
        if (strcmp(outcome->valuestring, "Applied") == 0 && applied->valueint != 1)
            bad++;
    }
    cJSON_Delete(log);
    if (commands)
        *commands = n;
    return bad;
}

static const char *status_at_server(const char *order_id)
{
    static char status[32];
    char path[128];
    snprintf(path, sizeof path, "orders/%s", order_id);
    cJSON *o = admin_json("GET", path, NULL);
    const cJSON *s = cJSON_GetObjectItem(o, "status");
    snprintf(status, sizeof status, "%s", cJSON_IsString(s) ? s->valuestring : "");
    cJSON_Delete(o);
    return status;
}

static void wait_server_status(const char *order_id, const char *status, int ms)
{
    for (int waited = 0; waited < ms && strcmp(status_at_server(order_id), status) != 0;
         waited += 20)
        usleep(20000);
    CU_ASSERT_STRING_EQUAL(status_at_server(order_id), status);
}

static char req[512];
static const char *cmd_for(const char *cmd, const char *order_id, const char *extra)
{
    snprintf(req, sizeof req, "{\"cmd\":\"%s\",\"orderId\":\"%s\"%s%s}", cmd, order_id,
             extra ? "," : "", extra ? extra : "");
    return req;
}

/* ---- tests ---- */

static void registers_and_receives_orders(void)
{
    start_cc(NULL);
    char *d = fresh_dir();
    hostsim *h = start_host(d, TID);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 5000, "\"event\":\"started\"", TID, NULL));
    CU_ASSERT_PTR_NOT_NULL(
        hostsim_wait(h, 15000, "\"event\":\"registered\"", "cancelCauses", NULL));
    char *id = new_order(NULL);
    const char *ev = hostsim_wait(h, 3000, "\"event\":\"order\"", id, NULL);
    CU_ASSERT_PTR_NOT_NULL(ev);
    DLV_ASSERT_CONTAINS(ev, "\"status\":\"Unconfirmed\"");
    /* The rights are checked by the library itself, before anything is stored or sent. */
    const char *r = hostsim_request(h, cmd_for("confirm", id, NULL));
    DLV_ASSERT_CONTAINS(r, "\"error\":\"MissingRight\"");
    hostsim_request(h, "{\"cmd\":\"login\",\"userId\":\"00000000-0000-4000-8000-0000000000bb\","
                       "\"name\":\"Курьер\",\"rights\":[\"D_CD\"]}");
    r = hostsim_request(h, cmd_for("confirm", id, NULL));
    DLV_ASSERT_CONTAINS(r, "\"error\":\"MissingRight\"");
    DLV_ASSERT_CONTAINS(r, "D_CND");
    r = hostsim_request(h, LOGIN);
    DLV_ASSERT_CONTAINS(r, "\"ok\":true");
    r = hostsim_request(h, cmd_for("confirm", id, NULL));
    DLV_ASSERT_CONTAINS(r, "\"reply\":\"confirm\",\"ok\":true");
    CU_ASSERT_PTR_NOT_NULL(
        hostsim_wait(h, 3000, "statusChanged", id, "\"origin\":\"local\"", NULL));
    wait_server_status(id, "WaitCooking", 5000);
    /* The customer heard of the order once when it arrived and once when it was confirmed. */
    const char *note =
        hostsim_wait(h, 3000, "\"event\":\"notification\"", "\"kind\":\"New\"", id, NULL);
    CU_ASSERT_PTR_NOT_NULL(note);
    DLV_ASSERT_CONTAINS(note, "подтверждён");
    DLV_ASSERT_CONTAINS(note, "\"channel\":\"sms\"");
    CU_ASSERT_EQUAL(hostsim_count(h, "\"kind\":\"Unconfirmed\""), 1);
    r = hostsim_request(h, cmd_for("confirm", id, NULL));
    DLV_ASSERT_CONTAINS(r, "\"error\":\"InvalidTransition\"");
    r = hostsim_request(h, cmd_for("confirm", "00000000-0000-4000-8000-000000000999", NULL));
    DLV_ASSERT_CONTAINS(r, "\"error\":\"UnknownOrder\"");
    r = hostsim_request(h, "{not json");
    DLV_ASSERT_CONTAINS(r, "\"error\":\"BadCommand\"");
    r = hostsim_request(h, "{\"cmd\":\"fly\"}");
    DLV_ASSERT_CONTAINS(r, "\"error\":\"BadCommand\"");
    CU_ASSERT_EQUAL(hostsim_stop(h, 2000), DLV_OK);
    int n;
    CU_ASSERT_EQUAL(applied_exactly_once(&n), 0);
    CU_ASSERT_EQUAL(n, 1);
    cc_proc_stop(&cc);
    free(id);
    free(d);
}

static void unregistered_terminal_is_told(void)
{
    start_cc(NULL);
    char *d = fresh_dir();
    hostsim *h = start_host(d, "11111111-2222-4333-8444-555555555555");
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    const char *ev = hostsim_wait(h, 5000, "registrationFailed", NULL);
    CU_ASSERT_PTR_NOT_NULL(ev);
    DLV_ASSERT_CONTAINS(ev, "\"error\":\"TerminalNotRegistered\"");
    DLV_ASSERT_CONTAINS(ev, "\"retryInSeconds\":60");
    DLV_ASSERT_CONTAINS(ev, "remove terminalId");
    CU_ASSERT_EQUAL(hostsim_stop(h, 100), DLV_OK);
    cc_proc_stop(&cc);
    free(d);
}

static void server_down_at_start(void)
{
    /* The terminal starts first; the call-center comes up later on the same port. */
    start_cc(NULL);
    int port = cc.port;
    char url[128];
    snprintf(url, sizeof url, "%s", cc.base);
    cc_proc_stop(&cc);
    char *d = fresh_dir();
    hostsim_config cfg = {.dir = d, .server_url = url, .terminal_id = TID};
    hostsim *h = hostsim_start(&cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    usleep(700000);
    CU_ASSERT_EQUAL(hostsim_count(h, "\"event\":\"registered\""), 0);
    char db[600], listen[64];
    snprintf(db, sizeof db, "%s/late.db", dir);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    const char *args[] = {"--terminal", TID, "--listen", listen, NULL};
    /* cc_proc_start always listens on :0 first; start by hand on the old port. */
    pid_t pid = fork();
    if (pid == 0) {
        execl(cc_proc_binary(), "delivery-callcenter", "--db", db, args[0], args[1], args[2],
              args[3], (char *)NULL);
        _exit(127);
    }
    cc.pid = pid;
    cc.port = port;
    snprintf(cc.base, sizeof cc.base, "%s", url);
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 15000, "\"event\":\"registered\"", NULL));
    char *id = new_order(NULL);
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 5000, "\"event\":\"order\"", id, NULL));
    CU_ASSERT_EQUAL(hostsim_stop(h, 1000), DLV_OK);
    cc_proc_stop(&cc);
    free(id);
    free(d);
}

static void add_fault(const char *json)
{
    cJSON *j = admin_json("POST", "faults", json);
    CU_ASSERT_PTR_NOT_NULL(j);
    cJSON_Delete(j);
}

/* Every fault on the commands route: the change still reaches the server exactly once. */
static void commands_survive_faults(void)
{
    start_cc(NULL);
    char *d = fresh_dir();
    hostsim *h = start_host(d, TID);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hostsim_wait(h, 15000, "\"event\":\"registered\"", NULL));
    hostsim_request(h, LOGIN);
    static const char *const faults[] = {
        "{\"route\":\"commands\",\"fault\":\"drop\"}",
        "{\"route\":\"commands\",\"fault\":\"drop\",\"afterApply\":true}",
        "{\"route\":\"commands\",\"fault\":\"status\",\"status\":500}",
        "{\"route\":\"commands\",\"fault\":\"status\",\"status\":503,\"retryAfter\":1}",
        "{\"route\":\"commands\",\"fault\":\"status\",\"status\":429,\"retryAfter\":1}",
        "{\"route\":\"commands\",\"fault\":\"delay\",\"delayMs\":3000}",
        "{\"route\":\"commands\",\"fault\":\"truncate\"}",
        "{\"route\":\"commands\",\"fault\":\"garbage\"}",
        "{\"route\":\"commands\",\"fault\":\"idle\"}",
    };
    for (size_t i = 0; i < sizeof faults / sizeof *faults; i++) {
        char *id = new_order(NULL);
        CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 5000, "\"event\":\"order\"", id, NULL));
        add_fault(faults[i]);
        const char *r = hostsim_request(h, cmd_for("confirm", id, NULL));
        DLV_ASSERT_CONTAINS(r, "\"ok\":true");
        wait_server_status(id, "WaitCooking", 15000);
        if (strcmp(status_at_server(id), "WaitCooking") != 0)
            fprintf(stderr, "\n  fault %s: order stayed %s\n", faults[i], status_at_server(id));
        free(id);
    }
    int n;
    CU_ASSERT_EQUAL(applied_exactly_once(&n), 0);
    CU_ASSERT_EQUAL(n, (int)(sizeof faults / sizeof *faults));
    CU_ASSERT_EQUAL(hostsim_stop(h, 2000), DLV_OK);
    cc_proc_stop(&cc);
    free(d);
}

static void orders_survive_poll_faults(void)
{
    start_cc(NULL);
    char *d = fresh_dir();
    hostsim *h = start_host(d, TID);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hostsim_wait(h, 15000, "\"event\":\"registered\"", NULL));
    add_fault("{\"route\":\"orders\",\"fault\":\"truncate\"}");
    add_fault("{\"route\":\"orders\",\"fault\":\"garbage\"}");
    add_fault("{\"route\":\"orders\",\"fault\":\"status\",\"status\":503,\"retryAfter\":1}");
    add_fault("{\"route\":\"orders\",\"fault\":\"drop\"}");
    char *ids[5];
    for (int i = 0; i < 5; i++)
        ids[i] = new_order(NULL);
    for (int i = 0; i < 5; i++) {
        CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 15000, "\"event\":\"order\"", ids[i], NULL));
        free(ids[i]);
    }
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 1000, "\"event\":\"connection\"", "offline", NULL));
    CU_ASSERT_EQUAL(hostsim_stop(h, 500), DLV_OK);
    cc_proc_stop(&cc);
    free(d);
}

static void session_expiry_mid_session(void)
{
    start_cc(NULL);
    char *d = fresh_dir();
    hostsim *h = start_host(d, TID);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hostsim_wait(h, 15000, "\"event\":\"registered\"", NULL));
    hostsim_request(h, LOGIN);
    cJSON_Delete(admin_json("POST", "sessions/expire", NULL));
    hostsim_clear(h);
    char *id = new_order(NULL);
    /* The held poll answers with the order (its session was valid when it started), the next
     * one gets 401 and the terminal registers again. */
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 8000, "\"event\":\"registered\"", NULL));
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 5000, "\"event\":\"order\"", id, NULL));
    const char *r = hostsim_request(h, cmd_for("confirm", id, NULL));
    DLV_ASSERT_CONTAINS(r, "\"ok\":true");
    wait_server_status(id, "WaitCooking", 5000);
    CU_ASSERT_EQUAL(hostsim_stop(h, 1000), DLV_OK);
    cc_proc_stop(&cc);
    free(id);
    free(d);
}

static void server_cancellation_wins(void)
{
    start_cc(NULL);
    char *d = fresh_dir();
    hostsim *h = start_host(d, TID);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hostsim_wait(h, 15000, "\"event\":\"registered\"", NULL));
    hostsim_request(h, LOGIN);
    char *id = new_order(NULL);
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 5000, "\"event\":\"order\"", id, NULL));
    /* Hold the commands route so the call-center's cancellation lands first. */
    add_fault("{\"route\":\"commands\",\"fault\":\"delay\",\"delayMs\":800}");
    add_fault("{\"route\":\"orders\",\"fault\":\"delay\",\"delayMs\":1500}");
    const char *r = hostsim_request(h, cmd_for("confirm", id, NULL));
    DLV_ASSERT_CONTAINS(r, "\"ok\":true");
    char path[128], body[128];
    snprintf(path, sizeof path, "orders/%s", id);
    snprintf(body, sizeof body, "{\"cancelCauseId\":\"%s\"}", CAUSE);
    cJSON_Delete(admin_json("POST", path, body));
    const char *ev = hostsim_wait(h, 8000, "commandRejected", id, NULL);
    CU_ASSERT_PTR_NOT_NULL(ev);
    DLV_ASSERT_CONTAINS(ev, "StatusConflict");
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 8000, "statusChanged", id, "\"to\":\"Cancelled\"",
                                        "\"origin\":\"server\"", NULL));
    CU_ASSERT_STRING_EQUAL(status_at_server(id), "Cancelled");
    /* The terminal now refuses further local steps on it without asking the server. */
    r = hostsim_request(h, cmd_for("setStatus", id, "\"status\":\"CookingStarted\""));
    DLV_ASSERT_CONTAINS(r, "\"ok\":false");
    CU_ASSERT_EQUAL(hostsim_stop(h, 1000), DLV_OK);
    cc_proc_stop(&cc);
    free(id);
    free(d);
}

static void restart_with_pending_commands(void)
{
    start_cc(NULL);
    char *d = fresh_dir();
    hostsim *h = start_host(d, TID);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hostsim_wait(h, 15000, "\"event\":\"registered\"", NULL));
    hostsim_request(h, LOGIN);
    char *ids[3];
    for (int i = 0; i < 3; i++) {
        ids[i] = new_order(NULL);
        CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 5000, "\"event\":\"order\"", ids[i], NULL));
    }
    add_fault("{\"route\":\"commands\",\"fault\":\"status\",\"status\":503,\"count\":0}");
    for (int i = 0; i < 3; i++)
        DLV_ASSERT_CONTAINS(hostsim_request(h, cmd_for("confirm", ids[i], NULL)), "\"ok\":true");
    const char *stopped = NULL;
    CU_ASSERT_EQUAL(hostsim_stop(h, 300), DLV_OK);
    (void)stopped;
    for (int i = 0; i < 3; i++)
        CU_ASSERT_STRING_EQUAL(status_at_server(ids[i]), "Unconfirmed");
    cJSON_Delete(admin_json("DELETE", "faults", NULL));
    /* A new start: cached orders show at once, pending commands go out. */
    h = start_host(d, TID);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    const char *ev = hostsim_wait(h, 2000, "\"event\":\"order\"", ids[0], NULL);
    CU_ASSERT_PTR_NOT_NULL(ev);
    DLV_ASSERT_CONTAINS(ev, "WaitCooking"); /* the optimistic view survived the restart */
    for (int i = 0; i < 3; i++) {
        wait_server_status(ids[i], "WaitCooking", 8000);
        free(ids[i]);
    }
    int n;
    CU_ASSERT_EQUAL(applied_exactly_once(&n), 0);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(hostsim_stop(h, 1000), DLV_OK);
    cc_proc_stop(&cc);
    free(d);
}

static void two_terminals_one_process(void)
{
    start_cc(NULL);
    char *d1 = fresh_dir(), *d2 = fresh_dir();
    hostsim *a = start_host(d1, TID), *b = start_host(d2, TID2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(a, 5000, "\"event\":\"registered\"", NULL));
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(b, 5000, "\"event\":\"registered\"", NULL));
    char *for_a = new_order("{\"terminalId\":\"" TID "\"}");
    char *for_b = new_order("{\"terminalId\":\"" TID2 "\"}");
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(a, 5000, for_a, NULL));
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(b, 5000, for_b, NULL));
    usleep(300000);
    CU_ASSERT_EQUAL(hostsim_count(a, for_b), 0);
    CU_ASSERT_EQUAL(hostsim_count(b, for_a), 0);
    CU_ASSERT_EQUAL(hostsim_stop(a, 500), DLV_OK);
    CU_ASSERT_EQUAL(hostsim_stop(b, 500), DLV_OK);
    cc_proc_stop(&cc);
    free(for_a);
    free(for_b);
    free(d1);
    free(d2);
}

typedef struct load_counts {
    int ok, refused;
} load_counts;

static void on_load_reply(void *arg, const char *json)
{
    load_counts *c = arg;
    if (strstr(json, "\"ok\":true"))
        __atomic_add_fetch(&c->ok, 1, __ATOMIC_SEQ_CST);
    else
        __atomic_add_fetch(&c->refused, 1, __ATOMIC_SEQ_CST);
}

/* Stop while requests pour in: each accepted request gets exactly one reply, every "ok" is
 * durable and reaches the call-center after a restart, nothing is applied twice. */
static void stop_under_load(void)
{
    start_cc(NULL);
    /* Generated courier orders may be due for the kitchen at once (protocol 1.1 courier cooking
     * time): no automatic start of cooking, so every command applied is one the host was told
     * "ok" for. */
    cJSON_Delete(admin_json("PUT", "settings", "{\"cookingStartMode\":\"Manual\"}"));
    cJSON *gen =
        admin_json("POST", "orders/generate", "{\"count\":150,\"terminalId\":\"" TID "\"}");
    const cJSON *ids = cJSON_GetObjectItem(gen, "orderIds");
    char *d = fresh_dir();
    hostsim *h = start_host(d, TID);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hostsim_wait(h, 15000, "\"event\":\"registered\"", NULL));
    hostsim_request(h, LOGIN);
    for (int i = 0; i < 200 && hostsim_count(h, "\"event\":\"order\"") < 150; i++)
        usleep(20000);
    load_counts c = {0};
    int accepted = 0, n = cJSON_GetArraySize(ids);
    for (int i = 0; i < n; i++) {
        if (dlv_ctx_request(hostsim_ctx(h),
                            cmd_for("confirm", cJSON_GetArrayItem(ids, i)->valuestring, NULL),
                            on_load_reply, &c) == DLV_OK)
            accepted++;
        if (i == n / 2)
            CU_ASSERT_EQUAL(dlv_ctx_stop(hostsim_ctx(h), 200), DLV_OK); /* mid-stream */
    }
    CU_ASSERT_EQUAL(c.ok + c.refused, accepted); /* one reply per accepted request */
    CU_ASSERT_TRUE(accepted > n / 2 - 1 && accepted <= n / 2 + 1);
    int acknowledged = c.ok;
    hostsim_stop(h, 0);
    h = start_host(d, TID); /* what was acknowledged but not yet sent goes out now */
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    int applied = 0;
    for (int wait = 0; wait < 300; wait++) {
        applied = 0;
        cJSON *log = admin_json("GET", "log", NULL);
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(log, "commands")) applied +=
            cJSON_GetObjectItem(e, "applied")->valueint;
        cJSON_Delete(log);
        if (applied >= acknowledged)
            break;
        usleep(20000);
    }
    CU_ASSERT_EQUAL(applied, acknowledged);
    CU_ASSERT_EQUAL(applied_exactly_once(NULL), 0);
    hostsim_stop(h, 1000);
    cJSON_Delete(gen);
    cc_proc_stop(&cc);
    free(d);
}

/* An integrator's loop: the context attaches to it; the loop closes clean afterwards. */
static void attached_to_host_loop(void)
{
    start_cc(NULL);
    char *d = fresh_dir();
    uv_loop_t loop;
    uv_loop_init(&loop);
    hostsim_config cfg = {.dir = d, .server_url = cc.base, .terminal_id = TID, .loop = &loop};
    hostsim *h = hostsim_start(&cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    for (int i = 0; i < 500 && hostsim_count(h, "\"event\":\"registered\"") == 0; i++)
        uv_run(&loop, UV_RUN_ONCE);
    CU_ASSERT_EQUAL(hostsim_count(h, "\"event\":\"registered\""), 1);
    dlv_ctx_stop(hostsim_ctx(h), 200);
    uv_run(&loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(hostsim_count(h, "\"event\":\"stopped\""), 1);
    hostsim_stop(h, 0);
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
    cc_proc_stop(&cc);
    free(d);
}

/* The first start (docs/configuration.md): no deliveryPluginConfig.xml. The library creates it
 * with an empty serverUrl and a new terminalId, starts without connecting and tells the operator
 * in Russian what to set; the doctor says the same; the second start reads the created file. */
static void first_start_creates_config(void)
{
    char *d = fresh_dir();
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    char path[700];
    snprintf(path, sizeof path, "%s/deliveryPluginConfig.xml", d);
    hostsim_config cfg = {.dir = d};
    char id[40] = "";
    for (int start = 0; start < 2; start++) {
        hostsim *h = hostsim_start(&cfg);
        CU_ASSERT_PTR_NOT_NULL_FATAL(h);
        const char *ev = hostsim_wait(h, 5000, "\"event\":\"started\"", NULL);
        CU_ASSERT_PTR_NOT_NULL(ev);
        const char *tid = dlv_ctx_terminal_id(hostsim_ctx(h));
        CU_ASSERT_PTR_NOT_NULL_FATAL(tid);
        if (start == 0)
            snprintf(id, sizeof id, "%s", tid);
        else
            CU_ASSERT_STRING_EQUAL(tid, id); /* the second start reads the created file */
        ev = hostsim_wait(h, 5000, "\"event\":\"error\"", "ServerUrlMissing", NULL);
        CU_ASSERT_PTR_NOT_NULL(ev);
        DLV_ASSERT_CONTAINS(ev, "Укажите serverUrl — адрес сервера колл-центра — в файле ");
        DLV_ASSERT_CONTAINS(ev, path);
        const char *r = hostsim_request(h, "{\"cmd\":\"doctor\"}");
        DLV_ASSERT_CONTAINS(r, "serverUrl не задан");
        DLV_ASSERT_CONTAINS(r, "Укажите serverUrl");
        CU_ASSERT_EQUAL(hostsim_count(h, "\"event\":\"registered\""), 0);
        CU_ASSERT_EQUAL(hostsim_stop(h, 100), DLV_OK);
    }
    FILE *f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    DLV_ASSERT_CONTAINS(text, "<serverUrl></serverUrl>");
    DLV_ASSERT_CONTAINS(text, id);
    free(d);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    dir = dlv_test_mkdtemp();
    static const dlv_test_case cases[] = {
        DLV_TEST(registers_and_receives_orders),
        DLV_TEST(first_start_creates_config),
        DLV_TEST(unregistered_terminal_is_told),
        DLV_TEST(server_down_at_start),
        DLV_TEST(commands_survive_faults),
        DLV_TEST(orders_survive_poll_faults),
        DLV_TEST(session_expiry_mid_session),
        DLV_TEST(server_cancellation_wins),
        DLV_TEST(restart_with_pending_commands),
        DLV_TEST(two_terminals_one_process),
        DLV_TEST(attached_to_host_loop),
        DLV_TEST(stop_under_load),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("runtime", cases);
    dlv_test_rmdir(dir);
    curl_global_cleanup();
    return rc;
}
