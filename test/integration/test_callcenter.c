/* The call-center emulator against the protocol: every route, every error code, long-poll
 * wake-up, idempotent replay, fault injection, restart on the same database; protocol 1.1
 * (paging, number blocks, corrections, new fields) and both 1.0 directions. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "ccproc.h"
#include "testlib.h"

#define TID "e49d3632-b06a-4a9a-8c76-ae816c4404ad"
#define OTHER "7b0f3d2e-1111-4a9a-8c76-ae816c4404ad"
#define CAUSE "0c4a6a4e-7d43-4f0e-8a50-3b1f0c000001"
#define COURIER "5a1d0c3e-2b7f-4e55-9a10-c0c0c0000001"

static cc_proc cc;
static char *dir;
static char db[512];
static char token[64];

static void url_of(char *out, size_t n, const char *path)
{
    snprintf(out, n, "%s%s", cc.base, path);
}

static int call(const char *method, const char *path, const char *terminal, const char *tok,
                const char *body, http_result *r)
{
    char url[512], h1[128], h2[128];
    url_of(url, sizeof url, path);
    const char *headers[3] = {NULL, NULL, NULL};
    int n = 0;
    if (terminal) {
        snprintf(h1, sizeof h1, "X-Terminal-Id: %s", terminal);
        headers[n++] = h1;
    }
    if (tok) {
        snprintf(h2, sizeof h2, "Authorization: Bearer %s", tok);
        headers[n++] = h2;
    }
    return http_call(method, url, headers, body, 15000, r);
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double jnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void expect_error(const http_result *r, long status, const char *code)
{
    CU_ASSERT_EQUAL(r->status, status);
    if (r->status != status)
        fprintf(stderr, "\n  expected %ld %s, got %ld %s\n", status, code, r->status, r->body);
    CU_ASSERT_STRING_EQUAL(jstr(r->json, "error"), code);
    CU_ASSERT_TRUE(strlen(jstr(r->json, "description")) > 0);
}

static void do_register(const char *terminal)
{
    http_result r;
    char body[256];
    snprintf(body, sizeof body,
             "{\"terminalId\":\"%s\",\"name\":\"Касса 1\",\"pluginVersion\":\"0.1.0\","
             "\"protocolVersion\":1}",
             terminal);
    call("POST", "/delivery/v1/register", terminal, NULL, body, &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    snprintf(token, sizeof token, "%s", jstr(r.json, "sessionToken"));
    http_result_free(&r);
}

static char *order_id_at(int index)
{
    http_result r;
    call("GET", "/delivery/v1/orders?sinceRevision=0", TID, token, NULL, &r);
    cJSON *o = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "orders"), index);
    char *id = strdup(jstr(o, "id"));
    http_result_free(&r);
    return id;
}

static void registration(void)
{
    http_result r;
    const char *body = "{\"terminalId\":\"" OTHER "\",\"name\":\"x\",\"protocolVersion\":1}";
    call("POST", "/delivery/v1/register", NULL, NULL, body, &r);
    expect_error(&r, 400, "BadRequest");
    DLV_ASSERT_CONTAINS(jstr(r.json, "description"), "X-Terminal-Id");
    http_result_free(&r);

    call("POST", "/delivery/v1/register", OTHER, NULL, body, &r);
    expect_error(&r, 403, "TerminalNotRegistered");
    http_result_free(&r);

    call("POST", "/delivery/v1/register", TID, NULL, body, &r); /* body names another terminal */
    expect_error(&r, 400, "BadRequest");
    http_result_free(&r);

    call("POST", "/delivery/v1/register", TID, NULL, "{not json", &r);
    expect_error(&r, 400, "BadRequest");
    http_result_free(&r);

    char url[512];
    url_of(url, sizeof url, "/delivery/v1/register");
    const char *h[] = {"X-Terminal-Id: " TID, "Content-Type: text/plain", NULL};
    http_call("POST", url, h, "{\"terminalId\":\"" TID "\"}", 5000, &r);
    expect_error(&r, 400, "BadRequest");
    DLV_ASSERT_CONTAINS(jstr(r.json, "description"), "Content-Type");
    http_result_free(&r);

    call("GET", "/delivery/v1/register", TID, NULL, NULL, &r);
    expect_error(&r, 405, "BadRequest");
    http_result_free(&r);

    do_register(TID);
    CU_ASSERT_EQUAL(strlen(token), 32);

    call("POST", "/delivery/v1/register", TID, NULL,
         "{\"terminalId\":\"" TID "\",\"protocolVersion\":1}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(jnum(r.json, "expiresInSeconds"), 3600);
    const cJSON *settings = cJSON_GetObjectItemCaseSensitive(r.json, "settings");
    CU_ASSERT_STRING_EQUAL(jstr(settings, "deliveryServiceType"), "CourierAndPickup");
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(settings, "cancelCauses")),
                    3);
    CU_ASSERT_TRUE(strlen(jstr(r.json, "serverTime")) == 20);
    http_result_free(&r);
}

static void authorization(void)
{
    http_result r;
    call("GET", "/delivery/v1/orders?sinceRevision=0", TID, NULL, NULL, &r);
    expect_error(&r, 401, "Unauthorized");
    http_result_free(&r);
    call("GET", "/delivery/v1/orders?sinceRevision=0", TID, "0123456789abcdef0123456789abcdef",
         NULL, &r);
    expect_error(&r, 401, "Unauthorized");
    http_result_free(&r);
    call("GET", "/delivery/v1/orders?sinceRevision=0", OTHER, token, NULL, &r);
    expect_error(&r, 403, "TerminalNotRegistered");
    http_result_free(&r);
    call("GET", "/delivery/v1/orders?sinceRevision=x", TID, token, NULL, &r);
    expect_error(&r, 400, "BadRequest");
    http_result_free(&r);
    call("GET", "/delivery/v1/orders?sinceRevision=0&waitSeconds=61", TID, token, NULL, &r);
    expect_error(&r, 400, "BadRequest");
    http_result_free(&r);
}

static void snapshot_and_long_poll(void)
{
    http_result r;
    call("GET", "/delivery/v1/orders?sinceRevision=0", TID, token, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    const cJSON *orders = cJSON_GetObjectItemCaseSensitive(r.json, "orders");
    CU_ASSERT_EQUAL(cJSON_GetArraySize(orders), 3);
    int64_t revision = (int64_t)jnum(r.json, "revision");
    CU_ASSERT_EQUAL(revision, 3);
    const cJSON *o = cJSON_GetArrayItem(orders, 0);
    CU_ASSERT_EQUAL(strlen(jstr(o, "id")), 36);
    CU_ASSERT_STRING_EQUAL(jstr(o, "status"), "Unconfirmed");
    CU_ASSERT_TRUE(jnum(o, "number") >= 100001);
    CU_ASSERT_TRUE(jnum(o, "resultSum") > 0);
    CU_ASSERT_TRUE(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "items")) >= 1);
    http_result_free(&r);

    /* Nothing new: an empty answer after the wait. */
    char path[128];
    snprintf(path, sizeof path, "/delivery/v1/orders?sinceRevision=%lld&waitSeconds=1",
             (long long)revision);
    call("GET", path, TID, token, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "orders")), 0);
    CU_ASSERT_TRUE(r.seconds >= 0.9 && r.seconds < 3.0);
    http_result_free(&r);

    /* A change wakes the held poll at once: measured from the admin call's return. */
    snprintf(path, sizeof path, "/delivery/v1/orders?sinceRevision=%lld&waitSeconds=30",
             (long long)revision);
    pid_t child = fork();
    if (child == 0) {
        struct timespec ts = {0, 300 * 1000000L};
        nanosleep(&ts, NULL);
        http_result a;
        cc_admin(&cc, "POST", "orders", "{\"comment\":\"новый заказ\"}", &a);
        _exit(a.status == 200 ? 0 : 1);
    }
    call("GET", path, TID, token, NULL, &r);
    int status;
    waitpid(child, &status, 0);
    CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "orders")), 1);
    CU_ASSERT_TRUE(r.seconds < 1.0); /* 0.3 s before the change; nowhere near the 30 s wait */
    CU_ASSERT_EQUAL(jnum(r.json, "revision"), revision + 1);
    http_result_free(&r);

    /* Polls are woken per terminal: another terminal's order leaves this poll held to its end,
     * an order of this terminal wakes it at once. */
    static const char *const bodies[] = {"{\"terminalId\":\"" OTHER "\"}",
                                         "{\"terminalId\":\"" TID "\"}"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "/delivery/v1/orders?sinceRevision=%lld&waitSeconds=%d",
                 (long long)(revision + 1), i == 0 ? 2 : 30);
        child = fork();
        if (child == 0) {
            struct timespec ts = {0, 300 * 1000000L};
            nanosleep(&ts, NULL);
            http_result a;
            cc_admin(&cc, "POST", "orders", bodies[i], &a);
            _exit(a.status == 200 ? 0 : 1);
        }
        call("GET", path, TID, token, NULL, &r);
        waitpid(child, &status, 0);
        CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
        CU_ASSERT_EQUAL(r.status, 200);
        CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "orders")), i);
        /* i == 0: held for the whole wait; i == 1: 0.3 s, nowhere near the 30 s wait */
        CU_ASSERT_TRUE(i == 0 ? r.seconds >= 1.9 : r.seconds < 1.0);
        http_result_free(&r);
    }
}

static http_result send_commands(const char *json)
{
    http_result r;
    call("POST", "/delivery/v1/commands", TID, token, json, &r);
    return r;
}

static const cJSON *result_at(const http_result *r, int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r->json, "results"), i);
}

static char cmd_buf[4096];
static const char *change_status(const char *cmd_id, const char *order, const char *to,
                                 const char *expected)
{
    snprintf(cmd_buf, sizeof cmd_buf,
             "{\"commands\":[{\"id\":\"%s\",\"type\":\"ChangeStatus\",\"orderId\":\"%s\","
             "\"status\":\"%s\",\"expectedStatus\":\"%s\",\"at\":\"2026-11-29T12:40:00Z\","
             "\"actor\":{\"id\":\"" TID "\",\"name\":\"Менеджер\"}}]}",
             cmd_id, order, to, expected);
    return cmd_buf;
}

static void commands_apply_once(void)
{
    char *order = order_id_at(0);
    const char *c1 = "11111111-0000-4000-8000-000000000001";
    http_result r = send_commands(change_status(c1, order, "WaitCooking", "Unconfirmed"));
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 0), "outcome"), "Applied");
    double rev = jnum(result_at(&r, 0), "revision");
    CU_ASSERT_TRUE(rev > 0);
    http_result_free(&r);

    /* The same id again: never applied twice, first outcome returned. */
    r = send_commands(change_status(c1, order, "WaitCooking", "Unconfirmed"));
    CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 0), "outcome"), "Duplicate");
    CU_ASSERT_EQUAL(jnum(result_at(&r, 0), "revision"), rev);
    http_result_free(&r);

    /* Stale expectation: StatusConflict with the current status. */
    r = send_commands(
        change_status("11111111-0000-4000-8000-000000000002", order, "WaitCooking", "Unconfirmed"));
    const cJSON *res = result_at(&r, 0);
    CU_ASSERT_STRING_EQUAL(jstr(res, "outcome"), "Rejected");
    CU_ASSERT_STRING_EQUAL(jstr(res, "error"), "StatusConflict");
    CU_ASSERT_STRING_EQUAL(jstr(res, "currentStatus"), "WaitCooking");
    http_result_free(&r);

    /* Not a transition of the rules. */
    r = send_commands(
        change_status("11111111-0000-4000-8000-000000000003", order, "Delivered", "WaitCooking"));
    CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 0), "error"), "InvalidTransition");
    http_result_free(&r);

    /* A batch applies in order: two steps of the same order. */
    snprintf(cmd_buf, sizeof cmd_buf,
             "{\"commands\":[{\"id\":\"11111111-0000-4000-8000-000000000004\",\"type\":"
             "\"ChangeStatus\",\"orderId\":\"%s\",\"status\":\"CookingStarted\","
             "\"expectedStatus\":\"WaitCooking\"},{\"id\":\"11111111-0000-4000-8000-000000000005\","
             "\"type\":\"ChangeStatus\",\"orderId\":\"%s\",\"status\":\"CookingCompleted\","
             "\"expectedStatus\":\"CookingStarted\"},{\"id\":\"11111111-0000-4000-8000-"
             "000000000006\",\"type\":\"AssignCourier\",\"orderId\":\"%s\",\"courierId\":\"" COURIER
             "\"},{\"id\":\"11111111-0000-4000-8000-000000000007\",\"type\":\"Cancel\","
             "\"orderId\":\"%s\",\"cancelCauseId\":\"00000000-0000-4000-8000-000000000000\"}]}",
             order, order, order, order);
    r = send_commands(cmd_buf);
    CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 0), "outcome"), "Applied");
    CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 1), "outcome"), "Applied");
    CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 2), "outcome"), "Applied");
    CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 3), "outcome"), "Rejected");
    DLV_ASSERT_CONTAINS(jstr(result_at(&r, 3), "description"), "cancel cause");
    http_result_free(&r);

    snprintf(cmd_buf, sizeof cmd_buf,
             "{\"commands\":[{\"id\":\"11111111-0000-4000-8000-000000000008\",\"type\":\"Cancel\","
             "\"orderId\":\"%s\",\"cancelCauseId\":\"" CAUSE "\",\"comment\":\"передумал\"}]}",
             order);
    r = send_commands(cmd_buf);
    CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 0), "outcome"), "Applied");
    http_result_free(&r);

    http_result g;
    char path[128];
    snprintf(path, sizeof path, "orders/%s", order);
    cc_admin(&cc, "GET", path, NULL, &g);
    CU_ASSERT_STRING_EQUAL(jstr(g.json, "status"), "Cancelled");
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(g.json, "cancelInfo");
    CU_ASSERT_STRING_EQUAL(jstr(cJSON_GetObjectItemCaseSensitive(info, "cause"), "name"),
                           "Клиент отказался");
    CU_ASSERT_STRING_EQUAL(jstr(cJSON_GetObjectItemCaseSensitive(g.json, "courier"), "id"),
                           COURIER);
    http_result_free(&g);

    /* The log: each command once, the replayed one received twice but applied once. */
    cc_admin(&cc, "GET", "log", NULL, &g);
    const cJSON *e;
    int seen = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(g.json, "commands"))
    {
        if (strcmp(jstr(e, "id"), c1) == 0) {
            seen++;
            CU_ASSERT_EQUAL(jnum(e, "received"), 2);
            CU_ASSERT_EQUAL(jnum(e, "applied"), 1);
        }
    }
    CU_ASSERT_EQUAL(seen, 1);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g.json, "commands")), 8);
    http_result_free(&g);
    free(order);
}

static void bad_command_requests(void)
{
    http_result r = send_commands("{\"commands\":{}}");
    expect_error(&r, 400, "BadRequest");
    http_result_free(&r);
    r = send_commands("{\"commands\":[{\"id\":\"short\",\"type\":\"Pay\"}]}");
    expect_error(&r, 400, "BadRequest");
    DLV_ASSERT_CONTAINS(jstr(r.json, "description"), "commands[0]");
    http_result_free(&r);
    /* 501 commands */
    size_t cap = 600 * 80;
    char *big = malloc(cap), *p = big;
    p += sprintf(p, "{\"commands\":[");
    for (int i = 0; i < 501; i++)
        p += sprintf(p, "%s{\"id\":\"22222222-0000-4000-8000-%012d\",\"type\":\"X\"}", i ? "," : "",
                     i);
    sprintf(p, "]}");
    r = send_commands(big);
    expect_error(&r, 400, "BadRequest");
    DLV_ASSERT_CONTAINS(jstr(r.json, "description"), "500");
    http_result_free(&r);
    free(big);
    /* An oversized body is refused, not buffered without bound. */
    size_t huge = 5u * 1024 * 1024;
    big = malloc(huge + 1);
    memset(big, ' ', huge);
    big[0] = '{';
    big[huge - 1] = '}';
    big[huge] = '\0';
    r = send_commands(big);
    expect_error(&r, 400, "BadRequest");
    DLV_ASSERT_CONTAINS(jstr(r.json, "description"), "larger");
    http_result_free(&r);
    free(big);
    call("GET", "/delivery/v2/orders", TID, token, NULL, &r);
    expect_error(&r, 404, "NotFound");
    http_result_free(&r);
}

static void heartbeat(void)
{
    http_result r;
    call("POST", "/delivery/v1/heartbeat", TID, token,
         "{\"pendingCommands\":3,\"lastRevision\":1042}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(strlen(jstr(r.json, "serverTime")), 20);
    http_result_free(&r);
    call("POST", "/delivery/v1/heartbeat", TID, token, "{\"pendingCommands\":\"3\"}", &r);
    expect_error(&r, 400, "BadRequest");
    http_result_free(&r);
    cc_admin(&cc, "GET", "terminals", NULL, &r);
    const cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "terminals"), 0);
    CU_ASSERT_EQUAL(jnum(t, "pendingCommands"), 3);
    CU_ASSERT_EQUAL(jnum(t, "lastRevision"), 1042);
    http_result_free(&r);
}

static void add_fault(const char *json)
{
    http_result r;
    cc_admin(&cc, "POST", "faults", json, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    http_result_free(&r);
}

static void faults(void)
{
    http_result r;
    const char *hb = "{\"pendingCommands\":0,\"lastRevision\":0}";
    add_fault("{\"route\":\"heartbeat\",\"fault\":\"status\",\"status\":503,\"retryAfter\":2}");
    call("POST", "/delivery/v1/heartbeat", TID, token, hb, &r);
    expect_error(&r, 503, "ServiceUnavailable");
    CU_ASSERT_STRING_EQUAL(r.retry_after, "2");
    http_result_free(&r);
    call("POST", "/delivery/v1/heartbeat", TID, token, hb, &r); /* count 1: healed */
    CU_ASSERT_EQUAL(r.status, 200);
    http_result_free(&r);

    add_fault("{\"route\":\"heartbeat\",\"fault\":\"status\",\"status\":429,\"retryAfter\":1}");
    call("POST", "/delivery/v1/heartbeat", TID, token, hb, &r);
    expect_error(&r, 429, "TooManyRequests");
    http_result_free(&r);

    add_fault("{\"route\":\"heartbeat\",\"fault\":\"drop\"}");
    call("POST", "/delivery/v1/heartbeat", TID, token, hb, &r);
    CU_ASSERT_EQUAL(r.curl_code, CURLE_GOT_NOTHING);
    http_result_free(&r);

    add_fault("{\"route\":\"heartbeat\",\"fault\":\"delay\",\"delayMs\":400}");
    call("POST", "/delivery/v1/heartbeat", TID, token, hb, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_TRUE(r.seconds >= 0.39);
    http_result_free(&r);

    add_fault("{\"route\":\"register\",\"fault\":\"garbage\"}");
    call("POST", "/delivery/v1/register", TID, NULL, "{\"terminalId\":\"" TID "\"}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_PTR_NULL(r.json);
    http_result_free(&r);

    add_fault("{\"route\":\"orders\",\"fault\":\"truncate\"}");
    call("GET", "/delivery/v1/orders?sinceRevision=0", TID, token, NULL, &r);
    CU_ASSERT_EQUAL(r.curl_code, CURLE_PARTIAL_FILE);
    http_result_free(&r);

    add_fault("{\"route\":\"heartbeat\",\"fault\":\"idle\"}");
    char url[512], h1[128], h2[128];
    url_of(url, sizeof url, "/delivery/v1/heartbeat");
    snprintf(h1, sizeof h1, "X-Terminal-Id: %s", TID);
    snprintf(h2, sizeof h2, "Authorization: Bearer %s", token);
    const char *h[] = {h1, h2, NULL};
    http_call("POST", url, h, hb, 500, &r);
    CU_ASSERT_EQUAL(r.curl_code, CURLE_OPERATION_TIMEDOUT);
    http_result_free(&r);

    /* The server applies the command and the answer is lost; the resend is a Duplicate. */
    char *order = order_id_at(1);
    const char *cid = "33333333-0000-4000-8000-000000000001";
    add_fault("{\"route\":\"commands\",\"fault\":\"drop\",\"afterApply\":true}");
    r = send_commands(change_status(cid, order, "WaitCooking", "Unconfirmed"));
    CU_ASSERT_EQUAL(r.curl_code, CURLE_GOT_NOTHING);
    http_result_free(&r);
    r = send_commands(change_status(cid, order, "WaitCooking", "Unconfirmed"));
    CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 0), "outcome"), "Duplicate");
    http_result_free(&r);
    free(order);

    cc_admin(&cc, "POST", "faults", "{\"route\":\"moon\",\"fault\":\"drop\"}", &r);
    expect_error(&r, 400, "BadRequest");
    http_result_free(&r);
    add_fault("{\"route\":\"heartbeat\",\"fault\":\"status\",\"status\":500,\"count\":0}");
    cc_admin(&cc, "DELETE", "faults", NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    http_result_free(&r);
    call("POST", "/delivery/v1/heartbeat", TID, token, hb, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    http_result_free(&r);
}

static void call_center_changes(void)
{
    http_result r;
    call("GET", "/delivery/v1/orders?sinceRevision=0", TID, token, NULL, &r);
    int64_t rev = (int64_t)jnum(r.json, "revision");
    http_result_free(&r);
    char *order = order_id_at(2);
    char path[128], body[256];
    snprintf(path, sizeof path, "orders/%s", order);
    snprintf(body, sizeof body, "{\"cancelCauseId\":\"%s\"}", CAUSE);
    cc_admin(&cc, "POST", path, body, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    http_result_free(&r);
    cc_admin(&cc, "PUT", "settings", "{\"invoiceCopies\":3,\"cookingStartMode\":\"Manual\"}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    http_result_free(&r);
    snprintf(path, sizeof path, "/delivery/v1/orders?sinceRevision=%lld", (long long)rev);
    call("GET", path, TID, token, NULL, &r);
    const cJSON *orders = cJSON_GetObjectItemCaseSensitive(r.json, "orders");
    CU_ASSERT_EQUAL(cJSON_GetArraySize(orders), 1);
    CU_ASSERT_STRING_EQUAL(jstr(cJSON_GetArrayItem(orders, 0), "status"), "Cancelled");
    CU_ASSERT_EQUAL(jnum(cJSON_GetObjectItemCaseSensitive(r.json, "settings"), "invoiceCopies"), 3);
    rev = (int64_t)jnum(r.json, "revision");
    http_result_free(&r);

    /* Assigned to this terminal, then moved elsewhere: it appears in removedOrderIds. */
    free(order);
    order = order_id_at(0);
    snprintf(path, sizeof path, "orders/%s", order);
    cc_admin(&cc, "POST", path, "{\"terminalId\":\"" TID "\"}", &r);
    http_result_free(&r);
    cc_admin(&cc, "POST", path, "{\"terminalId\":\"" OTHER "\"}", &r);
    http_result_free(&r);
    snprintf(path, sizeof path, "/delivery/v1/orders?sinceRevision=%lld", (long long)rev);
    call("GET", path, TID, token, NULL, &r);
    const cJSON *removed = cJSON_GetObjectItemCaseSensitive(r.json, "removedOrderIds");
    CU_ASSERT_EQUAL(cJSON_GetArraySize(removed), 1);
    CU_ASSERT_STRING_EQUAL(cJSON_GetArrayItem(removed, 0)->valuestring, order);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "orders")), 0);
    http_result_free(&r);
    free(order);

    cc_admin(&cc, "POST", "orders", "{\"status\":\"Lost\"}", &r);
    expect_error(&r, 400, "BadRequest");
    http_result_free(&r);
    cc_admin(&cc, "GET", "nothing", NULL, &r);
    expect_error(&r, 404, "NotFound");
    http_result_free(&r);
    cc_admin(&cc, "POST", "orders/generate", "{\"count\":5}", &r);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "orderIds")), 5);
    http_result_free(&r);
}

static void session_expiry(void)
{
    http_result r;
    cc_admin(&cc, "POST", "sessions/expire", NULL, &r);
    CU_ASSERT_TRUE(jnum(r.json, "expired") >= 1);
    http_result_free(&r);
    call("POST", "/delivery/v1/heartbeat", TID, token, "{\"pendingCommands\":0,\"lastRevision\":0}",
         &r);
    expect_error(&r, 401, "Unauthorized");
    http_result_free(&r);
    do_register(TID);
    cc_admin(&cc, "DELETE", "terminals/" TID, NULL, &r);
    http_result_free(&r);
    call("POST", "/delivery/v1/heartbeat", TID, token, "{\"pendingCommands\":0,\"lastRevision\":0}",
         &r);
    expect_error(&r, 403, "TerminalNotRegistered");
    http_result_free(&r);
    cc_admin(&cc, "POST", "terminals/" TID, NULL, &r);
    http_result_free(&r);
    do_register(TID);
}

static void restart_keeps_state(void)
{
    http_result before_log, before_orders;
    cc_admin(&cc, "GET", "log", NULL, &before_log);
    call("GET", "/delivery/v1/orders?sinceRevision=0", TID, token, NULL, &before_orders);
    CU_ASSERT_EQUAL(cc_proc_stop(&cc), 0);
    CU_ASSERT_EQUAL_FATAL(cc_proc_start(&cc, db, NULL), 0);
    do_register(TID); /* the terminal stays registered; sessions may be renewed */
    http_result after_log, after_orders;
    cc_admin(&cc, "GET", "log", NULL, &after_log);
    call("GET", "/delivery/v1/orders?sinceRevision=0", TID, token, NULL, &after_orders);
    char *a = cJSON_PrintUnformatted(before_log.json), *b = cJSON_PrintUnformatted(after_log.json);
    CU_ASSERT_STRING_EQUAL(a, b);
    free(a);
    free(b);
    a = cJSON_PrintUnformatted(before_orders.json);
    b = cJSON_PrintUnformatted(after_orders.json);
    CU_ASSERT_STRING_EQUAL(a, b);
    free(a);
    free(b);
    /* Replays still resolve to the first outcome. */
    const cJSON *first =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(after_log.json, "commands"), 0);
    snprintf(cmd_buf, sizeof cmd_buf,
             "{\"commands\":[{\"id\":\"%s\",\"type\":\"ChangeStatus\",\"orderId\":\"%s\","
             "\"status\":\"WaitCooking\"}]}",
             jstr(first, "id"), jstr(first, "orderId"));
    http_result r = send_commands(cmd_buf);
    CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 0), "outcome"), "Duplicate");
    http_result_free(&r);
    http_result_free(&before_log);
    http_result_free(&after_log);
    http_result_free(&before_orders);
    http_result_free(&after_orders);
}

/* ---- protocol 1.1 ---- */

#define T11 "a1111111-1111-4111-8111-111111111111"
#define T12 "a2222222-2222-4222-8222-222222222222"
#define T13 "a3333333-3333-4333-8333-333333333333"
#define TPG "a4444444-4444-4444-8444-444444444444"
#define TBIG "a5555555-5555-4555-8555-555555555555"

static char token11[64];

/* Registers `terminal` (made a delivery terminal first) speaking 1.1; returns the answer. */
static cJSON *register_v11(const char *terminal, char tok[64])
{
    http_result r;
    char path[128], body[256];
    snprintf(path, sizeof path, "terminals/%s", terminal);
    cc_admin(&cc, "POST", path, NULL, &r);
    http_result_free(&r);
    snprintf(body, sizeof body, "{\"terminalId\":\"%s\",\"protocolVersion\":1,\"protocolMinor\":1}",
             terminal);
    call("POST", "/delivery/v1/register", terminal, NULL, body, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    snprintf(tok, 64, "%s", jstr(r.json, "sessionToken"));
    cJSON *answer = r.json;
    r.json = NULL;
    http_result_free(&r);
    return answer;
}

static int64_t block_first(const cJSON *answer)
{
    return (int64_t)jnum(cJSON_GetObjectItemCaseSensitive(answer, "numberBlock"), "first");
}

static int64_t block_last(const cJSON *answer)
{
    return (int64_t)jnum(cJSON_GetObjectItemCaseSensitive(answer, "numberBlock"), "last");
}

static void v11_register(void)
{
    cJSON *a = register_v11(T11, token11);
    CU_ASSERT_EQUAL(jnum(a, "protocolMinor"), 1);
    CU_ASSERT_TRUE(block_first(a) >= 900000);
    CU_ASSERT_EQUAL(block_last(a) - block_first(a), 999);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(a, "settings");
    CU_ASSERT_STRING_EQUAL(jstr(s, "timeZone"), "Europe/Moscow");
    CU_ASSERT_EQUAL(jnum(s, "courierDeliveryMinutes"), 45);
    /* Earlier cases replaced the settings without pickupCookingLeadMinutes: its default is 15. */
    double lead = jnum(s, "pickupCookingLeadMinutes");
    CU_ASSERT_EQUAL(jnum(s, "courierCookingMinutes"), lead < 0 ? 15 : lead);
    CU_ASSERT_EQUAL(jnum(s, "overdueGraceMinutes"), 5);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(s, "notifications"), "Unconfirmed");
    CU_ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(n, "sms")));
    CU_ASSERT_TRUE(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(n, "push")));
    /* Registering again keeps the block; another terminal gets a disjoint one. */
    char other_tok[64];
    cJSON *again = register_v11(T11, token11);
    CU_ASSERT_EQUAL(block_first(again), block_first(a));
    cJSON *b = register_v11(T12, other_tok);
    CU_ASSERT_TRUE(block_first(b) > block_last(a) || block_last(b) < block_first(a));
    cJSON_Delete(a);
    cJSON_Delete(again);
    cJSON_Delete(b);

    /* A 1.0 registration: exactly 1.0's answer. */
    http_result r;
    call("POST", "/delivery/v1/register", TID, NULL,
         "{\"terminalId\":\"" TID "\",\"protocolVersion\":1}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItemCaseSensitive(r.json, "protocolMinor"));
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItemCaseSensitive(r.json, "numberBlock"));
    s = cJSON_GetObjectItemCaseSensitive(r.json, "settings");
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItemCaseSensitive(s, "timeZone"));
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItemCaseSensitive(s, "notifications"));
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItemCaseSensitive(s, "courierDeliveryMinutes"));
    snprintf(token, sizeof token, "%s", jstr(r.json, "sessionToken"));
    http_result_free(&r);
}

static cJSON *admin_order(const char *body)
{
    http_result r;
    cc_admin(&cc, "POST", "orders", body, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    if (r.status != 200)
        fprintf(stderr, "\n  admin orders: %s\n", r.body);
    cJSON *o = r.json;
    r.json = NULL;
    http_result_free(&r);
    return o;
}

static cJSON *get_order(const char *id)
{
    http_result r;
    char path[128];
    snprintf(path, sizeof path, "orders/%s", id);
    cc_admin(&cc, "GET", path, NULL, &r);
    cJSON *o = r.json;
    r.json = NULL;
    http_result_free(&r);
    return o;
}

/* The order with `id` in a terminal's orders answer since `since`, as that session sees it. */
static cJSON *seen_by(const char *terminal, const char *tok, int64_t since, const char *id)
{
    http_result r;
    char path[128];
    snprintf(path, sizeof path, "/delivery/v1/orders?sinceRevision=%lld", (long long)since);
    call("GET", path, terminal, tok, NULL, &r);
    cJSON *found = NULL;
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(r.json, "orders"))
    {
        if (strcmp(jstr(o, "id"), id) == 0)
            found = cJSON_Duplicate(o, 1);
    }
    http_result_free(&r);
    return found;
}

static int64_t money(const cJSON *o, const char *key)
{
    double v = jnum(o, key);
    return (int64_t)(v * 100 + (v >= 0 ? 0.5 : -0.5));
}

static void surcharge_and_versions(void)
{
    /* Visible to every terminal: the 1.1 and the 1.0 session see the same order. */
    cJSON *made = admin_order("{\"serviceType\":\"DeliveryByCourier\",\"surchargeSum\":150,"
                              "\"completeBefore\":\"2026-11-29T13:30:00Z\"}");
    int64_t since = (int64_t)jnum(made, "revision") - 1;
    const char *id = jstr(made, "id");
    cJSON *v11 = seen_by(T11, token11, since, id);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v11);
    CU_ASSERT_EQUAL(money(v11, "surchargeSum"), 15000);
    CU_ASSERT_EQUAL(money(v11, "resultSum"),
                    money(v11, "fullSum") - money(v11, "discountSum") + 15000);
    CU_ASSERT_STRING_EQUAL(jstr(v11, "predictedCookingCompleteTime"), "2026-11-29T12:45:00Z");
    CU_ASSERT_STRING_EQUAL(jstr(v11, "predictedDeliveryTime"), "2026-11-29T13:30:00Z");
    const cJSON *pay = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(v11, "payments"), 0);
    CU_ASSERT_EQUAL(strlen(jstr(pay, "id")), 36);

    cJSON *v10 = seen_by(TID, token, since, id);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v10);
    static const char *const absent[] = {"surchargeSum", "predictedCookingCompleteTime",
                                         "predictedDeliveryTime"};
    for (int i = 0; i < 3; i++)
        CU_ASSERT_PTR_NULL(cJSON_GetObjectItemCaseSensitive(v10, absent[i]));
    pay = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(v10, "payments"), 0);
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItemCaseSensitive(pay, "id"));
    /* The same amount to pay, said the 1.0 way: the fee is a delivery line. */
    CU_ASSERT_EQUAL(money(v10, "resultSum"), money(v11, "resultSum"));
    CU_ASSERT_EQUAL(money(v10, "resultSum"), money(v10, "fullSum") - money(v10, "discountSum"));
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(v10, "items");
    CU_ASSERT_EQUAL(cJSON_GetArraySize(items),
                    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(v11, "items")) + 1);
    const cJSON *fee = cJSON_GetArrayItem(items, cJSON_GetArraySize(items) - 1);
    CU_ASSERT_STRING_EQUAL(jstr(fee, "name"), "Доставка");
    CU_ASSERT_EQUAL(money(fee, "sum"), 15000);
    cJSON_Delete(made);
    cJSON_Delete(v11);
    cJSON_Delete(v10);
}

static void predicted_from_zone(void)
{
    http_result r;
    cc_admin(&cc, "PUT", "zones",
             "{\"zones\":[{\"region\":\"в пределах МКАД\",\"travelMinutes\":30}]}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    http_result_free(&r);
    cc_admin(&cc, "PUT", "zones", "{\"zones\":[{\"region\":\"x\"}]}", &r);
    expect_error(&r, 400, "BadRequest");
    http_result_free(&r);
    cJSON *o = admin_order("{\"serviceType\":\"DeliveryByCourier\","
                           "\"completeBefore\":\"2026-11-29T16:30:00+03:00\"}");
    CU_ASSERT_STRING_EQUAL(jstr(o, "predictedCookingCompleteTime"), "2026-11-29T13:00:00Z");
    CU_ASSERT_STRING_EQUAL(jstr(o, "predictedDeliveryTime"), "2026-11-29T13:30:00Z");
    cJSON_Delete(o);
    /* A zone without a travel time: courierDeliveryMinutes (45). */
    o = admin_order("{\"serviceType\":\"DeliveryByCourier\",\"completeBefore\":"
                    "\"2026-11-29T13:30:00Z\",\"address\":{\"city\":\"Москва\",\"street\":"
                    "\"Тверская\",\"house\":\"1\",\"region\":\"Зеленоград\"}}");
    CU_ASSERT_STRING_EQUAL(jstr(o, "predictedCookingCompleteTime"), "2026-11-29T12:45:00Z");
    cJSON_Delete(o);
    o = admin_order("{\"serviceType\":\"DeliveryByClient\"}");
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItemCaseSensitive(o, "predictedCookingCompleteTime"));
    cJSON_Delete(o);
}

/* Pages a terminal's orders from `since` with `limit`; appends order ids and removed ids. */
typedef struct page {
    int orders, removed;
    bool more;
    int64_t revision;
    double seconds;
    size_t bytes;
} page;

static page get_page(const char *terminal, const char *tok, int64_t since, int limit, int wait,
                     cJSON *ids, cJSON *removed)
{
    http_result r;
    char path[160];
    snprintf(path, sizeof path, "/delivery/v1/orders?sinceRevision=%lld&limit=%d&waitSeconds=%d",
             (long long)since, limit, wait);
    char url[512], h1[128], h2[128];
    url_of(url, sizeof url, path);
    snprintf(h1, sizeof h1, "X-Terminal-Id: %s", terminal);
    snprintf(h2, sizeof h2, "Authorization: Bearer %s", tok);
    const char *h[] = {h1, h2, NULL};
    http_call("GET", url, h, NULL, 60000, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    page p = {0};
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(r.json, "orders"))
    {
        p.orders++;
        if (ids)
            cJSON_AddItemToArray(ids, cJSON_CreateString(jstr(o, "id")));
    }
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(r.json, "removedOrderIds"))
    {
        p.removed++;
        if (removed)
            cJSON_AddItemToArray(removed, cJSON_CreateString(o->valuestring));
    }
    p.more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r.json, "more"));
    p.revision = (int64_t)jnum(r.json, "revision");
    p.seconds = r.seconds;
    p.bytes = r.body ? strlen(r.body) : 0;
    http_result_free(&r);
    return p;
}

static void paging_boundaries(void)
{
    char tok[64];
    cJSON_Delete(register_v11(TPG, tok));
    http_result r;
    cc_admin(&cc, "POST", "orders/generate", "{\"count\":8,\"terminalId\":\"" TPG "\"}", &r);
    cJSON *made = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r.json, "orderIds"), 1);
    http_result_free(&r);
    call("GET", "/delivery/v1/orders?sinceRevision=0&limit=0", TPG, tok, NULL, &r);
    expect_error(&r, 400, "BadRequest");
    http_result_free(&r);
    call("GET", "/delivery/v1/orders?sinceRevision=0&limit=5001", TPG, tok, NULL, &r);
    expect_error(&r, 400, "BadRequest");
    http_result_free(&r);

    /* Orders visible to every terminal are in the snapshot too: count them unpaged. */
    call("GET", "/delivery/v1/orders?sinceRevision=0", TPG, tok, NULL, &r);
    int total = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "orders"));
    int64_t end = (int64_t)jnum(r.json, "revision");
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItemCaseSensitive(r.json, "more"));
    http_result_free(&r);
    CU_ASSERT_TRUE(total >= 8);

    /* Pages of 3: nothing lost, nothing twice, the last one without more. */
    cJSON *ids = cJSON_CreateArray();
    int64_t since = 0;
    int pages = 0;
    page p;
    do {
        p = get_page(TPG, tok, since, 3, 25, ids, NULL);
        CU_ASSERT_TRUE(p.orders <= 3);
        CU_ASSERT_TRUE(p.seconds < 5); /* with more, no waiting even with waitSeconds=25 */
        CU_ASSERT_TRUE(p.revision > since);
        since = p.revision;
    } while (p.more && ++pages < 100);
    CU_ASSERT_EQUAL(since, end);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(ids), total);
    for (int i = 0; i < cJSON_GetArraySize(ids); i++)
        for (int j = i + 1; j < cJSON_GetArraySize(ids); j++)
            CU_ASSERT_STRING_NOT_EQUAL(cJSON_GetArrayItem(ids, i)->valuestring,
                                       cJSON_GetArrayItem(ids, j)->valuestring);
    const cJSON *m;
    cJSON_ArrayForEach(m, made)
    {
        bool found = false;
        const cJSON *id;
        cJSON_ArrayForEach(id, ids) found |= strcmp(id->valuestring, m->valuestring) == 0;
        CU_ASSERT_TRUE(found);
    }
    cJSON_Delete(ids);

    /* A limit exactly at the end: more is false. */
    p = get_page(TPG, tok, end - 2, 2, 0, NULL, NULL);
    CU_ASSERT_EQUAL(p.orders, 2);
    CU_ASSERT_FALSE(p.more);
    CU_ASSERT_EQUAL(p.revision, end);

    /* The last page with nothing new waits like any long poll. */
    p = get_page(TPG, tok, end, 5, 1, NULL, NULL);
    CU_ASSERT_EQUAL(p.orders, 0);
    CU_ASSERT_TRUE(p.seconds >= 0.9);

    /* A removal at the page edge: delivered in that page; the next page starts after it. */
    char path[128];
    snprintf(path, sizeof path, "orders/%s", cJSON_GetArrayItem(made, 0)->valuestring);
    cc_admin(&cc, "POST", path, "{\"terminalId\":\"" OTHER "\"}", &r);
    int64_t removal_rev = (int64_t)jnum(r.json, "revision");
    http_result_free(&r);
    cc_admin(&cc, "POST", "orders", "{\"terminalId\":\"" TPG "\"}", &r);
    char *late = strdup(jstr(r.json, "id"));
    http_result_free(&r);
    cJSON *removed = cJSON_CreateArray();
    ids = cJSON_CreateArray();
    p = get_page(TPG, tok, end, 1, 0, ids, removed);
    CU_ASSERT_EQUAL(p.removed, 1);
    CU_ASSERT_EQUAL(p.orders, 0);
    CU_ASSERT_TRUE(p.more);
    CU_ASSERT_EQUAL(p.revision, removal_rev);
    CU_ASSERT_STRING_EQUAL(cJSON_GetArrayItem(removed, 0)->valuestring,
                           cJSON_GetArrayItem(made, 0)->valuestring);
    p = get_page(TPG, tok, p.revision, 1, 0, ids, removed);
    CU_ASSERT_EQUAL(p.removed, 0);
    CU_ASSERT_EQUAL(p.orders, 1);
    CU_ASSERT_FALSE(p.more);
    CU_ASSERT_STRING_EQUAL(cJSON_GetArrayItem(ids, 0)->valuestring, late);
    /* With a page of 2 both come at once, in revision order. */
    p = get_page(TPG, tok, end, 2, 0, NULL, NULL);
    CU_ASSERT_EQUAL(p.removed + p.orders, 2);
    CU_ASSERT_FALSE(p.more);
    free(late);
    cJSON_Delete(ids);
    cJSON_Delete(removed);
    cJSON_Delete(made);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A snapshot synced in pages of 5000 through HTTP: $DLV_CC_SNAPSHOT_ORDERS orders (5000 by
 * default; the test_callcenter_snapshot ctest runs 100,000). */
static void snapshot_in_pages(void)
{
    const char *env = getenv("DLV_CC_SNAPSHOT_ORDERS");
    int count = env ? atoi(env) : 5000;
    char tok[64], body[128], url[512];
    cJSON_Delete(register_v11(TBIG, tok));
    snprintf(body, sizeof body, "{\"count\":%d,\"terminalId\":\"" TBIG "\"}", count);
    url_of(url, sizeof url, "/admin/orders/generate");
    http_result r;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    http_call("POST", url, NULL, body, 120000, &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    http_result_free(&r);
    double gen = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CU_ASSERT_TRUE(gen < 60);
    char **seen = calloc((size_t)count + 64, sizeof *seen);
    size_t n = 0, biggest = 0;
    int64_t since = 0;
    page p;
    int pages = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        cJSON *ids = cJSON_CreateArray();
        p = get_page(TBIG, tok, since, 5000, 10, ids, NULL);
        CU_ASSERT_TRUE(p.orders <= 5000);
        const cJSON *id;
        cJSON_ArrayForEach(id, ids) if (n < (size_t)count + 64) seen[n++] = strdup(id->valuestring);
        cJSON_Delete(ids);
        if (p.bytes > biggest)
            biggest = p.bytes;
        since = p.revision;
        pages++;
    } while (p.more && pages < 1000);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sync = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    /* Every generated order once (the snapshot also holds the orders seen by every terminal). */
    CU_ASSERT_TRUE(n >= (size_t)count);
    qsort(seen, n, sizeof *seen, compare_strings);
    size_t dups = 0;
    for (size_t i = 1; i < n; i++)
        dups += strcmp(seen[i - 1], seen[i]) == 0;
    CU_ASSERT_EQUAL(dups, 0);
    CU_ASSERT_TRUE(pages >= count / 5000);
    fprintf(stderr,
            "\n  snapshot: %d orders generated in %.1f s; %zu orders synced in %d pages in %.1f s,"
            " largest page %zu bytes\n",
            count, gen, n, pages, sync, biggest);
    for (size_t i = 0; i < n; i++)
        free(seen[i]);
    free(seen);
}

static http_result send_as(const char *terminal, const char *tok, const char *json)
{
    http_result r;
    call("POST", "/delivery/v1/commands", terminal, tok, json, &r);
    return r;
}

static void edit_order(void)
{
    cJSON *o = admin_order("{\"terminalId\":\"" T11 "\",\"serviceType\":\"DeliveryByCourier\","
                           "\"surchargeSum\":100,\"discountSum\":0,\"payments\":[]}");
    char id[40];
    snprintf(id, sizeof id, "%s", jstr(o, "id"));
    int64_t rev = (int64_t)jnum(o, "revision");
    cJSON_Delete(o);
    snprintf(cmd_buf, sizeof cmd_buf,
             "{\"commands\":[{\"id\":\"44444444-0000-4000-8000-000000000001\",\"type\":"
             "\"EditOrder\",\"orderId\":\"%s\",\"expectedRevision\":%lld,\"changes\":{\"items\":"
             "[{\"positionId\":\"44444444-0000-4000-8000-0000000000a1\",\"productId\":"
             "\"44444444-0000-4000-8000-0000000000b1\",\"name\":\"Борщ\",\"amount\":2,"
             "\"price\":350.00,\"sum\":700.00,\"modifiers\":[]}],\"comment\":\"без сметаны\"}}]}",
             id, (long long)rev);
    http_result r = send_as(T11, token11, cmd_buf);
    CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 0), "outcome"), "Applied");
    http_result_free(&r);
    o = get_order(id);
    CU_ASSERT_EQUAL(money(o, "fullSum"), 70000);
    CU_ASSERT_EQUAL(money(o, "resultSum"), 70000 + 10000);
    CU_ASSERT_STRING_EQUAL(jstr(o, "comment"), "без сметаны");
    CU_ASSERT_TRUE(jnum(o, "revision") > rev);
    cJSON_Delete(o);

    /* The same expected revision again: stale. */
    snprintf(cmd_buf, sizeof cmd_buf,
             "{\"commands\":[{\"id\":\"44444444-0000-4000-8000-000000000002\",\"type\":"
             "\"EditOrder\",\"orderId\":\"%s\",\"expectedRevision\":%lld,\"changes\":"
             "{\"comment\":\"x\"}}]}",
             id, (long long)rev);
    r = send_as(T11, token11, cmd_buf);
    CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 0), "outcome"), "Rejected");
    CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 0), "error"), "StatusConflict");
    CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 0), "currentStatus"), "Unconfirmed");
    http_result_free(&r);

    /* A card payment: items are frozen, the comment is not; a field outside the list never. */
    snprintf(cmd_buf, sizeof cmd_buf,
             "{\"commands\":[{\"id\":\"44444444-0000-4000-8000-000000000003\",\"type\":\"Pay\","
             "\"orderId\":\"%s\",\"payments\":[{\"paymentTypeId\":\"44444444-0000-4000-8000-"
             "0000000000c1\",\"kind\":\"Card\",\"sum\":300.00}]}]}",
             id);
    r = send_as(T11, token11, cmd_buf);
    CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 0), "outcome"), "Applied");
    http_result_free(&r);
    o = get_order(id);
    rev = (int64_t)jnum(o, "revision");
    const cJSON *pay = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "payments"), 0);
    char pay_id[40];
    snprintf(pay_id, sizeof pay_id, "%s", jstr(pay, "id"));
    CU_ASSERT_EQUAL(strlen(pay_id), 36);
    cJSON_Delete(o);
    snprintf(cmd_buf, sizeof cmd_buf,
             "{\"commands\":[{\"id\":\"44444444-0000-4000-8000-000000000004\",\"type\":"
             "\"EditOrder\",\"orderId\":\"%s\",\"expectedRevision\":%lld,\"changes\":{\"items\":"
             "[{\"name\":\"Борщ\",\"amount\":1,\"price\":350.00,\"sum\":350.00}]}},"
             "{\"id\":\"44444444-0000-4000-8000-000000000005\",\"type\":\"EditOrder\","
             "\"orderId\":\"%s\",\"expectedRevision\":%lld,\"changes\":{\"number\":5}},"
             "{\"id\":\"44444444-0000-4000-8000-000000000006\",\"type\":\"EditOrder\","
             "\"orderId\":\"%s\",\"expectedRevision\":%lld,\"changes\":{\"personsCount\":3}}]}",
             id, (long long)rev, id, (long long)rev, id, (long long)rev);
    r = send_as(T11, token11, cmd_buf);
    CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 0), "error"), "InvalidTransition");
    CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 1), "error"), "BadRequest");
    CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 2), "outcome"), "Applied");
    http_result_free(&r);

    /* RemovePayment: the card payment goes; the same id again is not found. */
    for (int i = 0; i < 2; i++) {
        snprintf(cmd_buf, sizeof cmd_buf,
                 "{\"commands\":[{\"id\":\"44444444-0000-4000-8000-00000000001%d\",\"type\":"
                 "\"RemovePayment\",\"orderId\":\"%s\",\"paymentId\":\"%s\"}]}",
                 i, id, pay_id);
        r = send_as(T11, token11, cmd_buf);
        if (i == 0) {
            CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 0), "outcome"), "Applied");
        } else {
            CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 0), "error"), "NotFound");
        }
        http_result_free(&r);
    }
    o = get_order(id);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "payments")), 0);
    CU_ASSERT_EQUAL(jnum(o, "personsCount"), 3);
    cJSON_Delete(o);
}

/* Issue 17: two Pay commands make a split payment; Closed is then applied. */
static void split_payment_then_closed(void)
{
    cJSON *o = admin_order("{\"terminalId\":\"" T11 "\",\"serviceType\":\"DeliveryByClient\","
                           "\"status\":\"Waiting\",\"payments\":[]}");
    char id[40];
    snprintf(id, sizeof id, "%s", jstr(o, "id"));
    int64_t due = money(o, "resultSum");
    cJSON_Delete(o);
    int64_t half = due / 2;
    snprintf(cmd_buf, sizeof cmd_buf,
             "{\"commands\":[{\"id\":\"55555555-0000-4000-8000-000000000001\",\"type\":\"Pay\","
             "\"orderId\":\"%s\",\"payments\":[{\"paymentTypeId\":\"55555555-0000-4000-8000-"
             "0000000000c1\",\"kind\":\"Cash\",\"sum\":%lld.%02lld}]},"
             "{\"id\":\"55555555-0000-4000-8000-000000000002\",\"type\":\"Pay\","
             "\"orderId\":\"%s\",\"payments\":[{\"paymentTypeId\":\"55555555-0000-4000-8000-"
             "0000000000c2\",\"kind\":\"Card\",\"sum\":%lld.%02lld}]},"
             "{\"id\":\"55555555-0000-4000-8000-000000000003\",\"type\":\"ChangeStatus\","
             "\"orderId\":\"%s\",\"status\":\"Closed\",\"expectedStatus\":\"Waiting\"}]}",
             id, (long long)(half / 100), (long long)(half % 100), id,
             (long long)((due - half) / 100), (long long)((due - half) % 100), id);
    http_result r = send_as(T11, token11, cmd_buf);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, i), "outcome"), "Applied");
    if (strcmp(jstr(result_at(&r, 2), "outcome"), "Applied") != 0)
        fprintf(stderr, "\n  %s\n", r.body);
    http_result_free(&r);
    o = get_order(id);
    CU_ASSERT_STRING_EQUAL(jstr(o, "status"), "Closed");
    const cJSON *pays = cJSON_GetObjectItemCaseSensitive(o, "payments");
    CU_ASSERT_EQUAL(cJSON_GetArraySize(pays), 2);
    CU_ASSERT_STRING_NOT_EQUAL(jstr(cJSON_GetArrayItem(pays, 0), "id"),
                               jstr(cJSON_GetArrayItem(pays, 1), "id"));
    cJSON_Delete(o);
}

static cJSON *reserve(const char *terminal, const char *tok, const char *cmd_id)
{
    snprintf(cmd_buf, sizeof cmd_buf,
             "{\"commands\":[{\"id\":\"%s\",\"type\":\"ReserveNumbers\",\"count\":1000,"
             "\"at\":\"2026-11-29T12:00:00Z\"}]}",
             cmd_id);
    http_result r = send_as(terminal, tok, cmd_buf);
    cJSON *res = cJSON_Duplicate(result_at(&r, 0), 1);
    http_result_free(&r);
    return res;
}

static void reserve_numbers(void)
{
    char tok12[64], tok13[64];
    cJSON *a12 = register_v11(T12, tok12);
    cJSON *a = reserve(T11, token11, "66666666-0000-4000-8000-000000000001");
    cJSON *b = reserve(T12, tok12, "66666666-0000-4000-8000-000000000002");
    cJSON *again = reserve(T11, token11, "66666666-0000-4000-8000-000000000001");
    CU_ASSERT_STRING_EQUAL(jstr(a, "outcome"), "Applied");
    CU_ASSERT_STRING_EQUAL(jstr(again, "outcome"), "Duplicate");
    CU_ASSERT_EQUAL(block_first(again), block_first(a)); /* exactly once: the same block */
    CU_ASSERT_EQUAL(block_last(a) - block_first(a), 999);
    CU_ASSERT_TRUE(block_first(b) > block_last(a) || block_last(b) < block_first(a));
    CU_ASSERT_TRUE(block_first(a) > block_last(a12) || block_last(a) < block_first(a12));
    CU_ASSERT_TRUE(block_first(a) >= 900000 && block_first(b) >= 900000);

    /* A restart keeps the allocation: terminals keep their blocks, a new one gets a new one. */
    CU_ASSERT_EQUAL(cc_proc_stop(&cc), 0);
    CU_ASSERT_EQUAL_FATAL(cc_proc_start(&cc, db, NULL), 0);
    cJSON *r11 = register_v11(T11, token11);
    cJSON *r13 = register_v11(T13, tok13);
    CU_ASSERT_EQUAL(block_first(r11), block_first(a));
    CU_ASSERT_TRUE(block_first(r13) > block_last(a) && block_first(r13) > block_last(b));
    do_register(TID);
    http_result r;
    cc_admin(&cc, "GET", "terminals", NULL, &r);
    const cJSON *t;
    int with_blocks = 0;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(r.json, "terminals")) with_blocks +=
        cJSON_GetObjectItemCaseSensitive(t, "numberBlock") != NULL;
    CU_ASSERT_TRUE(with_blocks >= 3);
    http_result_free(&r);
    cJSON_Delete(a12);
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(again);
    cJSON_Delete(r11);
    cJSON_Delete(r13);
}

static void cancel_cause_not_uuid(void)
{
    /* The call-center cancels with a cause of its own. */
    cJSON *o = admin_order("{\"terminalId\":\"" T11 "\"}");
    char path[128];
    snprintf(path, sizeof path, "orders/%s", jstr(o, "id"));
    http_result r;
    cc_admin(&cc, "POST", path,
             "{\"cancelCause\":{\"id\":\"no-courier\",\"name\":\"Нет курьера\"},"
             "\"comment\":\"ночь\"}",
             &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(jstr(r.json, "status"), "Cancelled");
    const cJSON *cause = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r.json, "cancelInfo"), "cause");
    CU_ASSERT_STRING_EQUAL(jstr(cause, "id"), "no-courier");
    http_result_free(&r);
    cJSON_Delete(o);

    /* A cause of the settings with a non-UUID id: a terminal's Cancel uses it as is. */
    cc_admin(&cc, "GET", "settings", NULL, &r);
    cJSON *settings = r.json;
    r.json = NULL;
    http_result_free(&r);
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "id", "17");
    cJSON_AddStringToObject(c, "name", "Стоп-лист");
    cJSON *causes_list = cJSON_GetObjectItemCaseSensitive(settings, "cancelCauses");
    if (!causes_list)
        causes_list = cJSON_AddArrayToObject(settings, "cancelCauses");
    cJSON_AddItemToArray(causes_list, c);
    char *text = cJSON_PrintUnformatted(settings);
    cc_admin(&cc, "PUT", "settings", text, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    http_result_free(&r);
    free(text);
    cJSON_Delete(settings);
    o = admin_order("{\"terminalId\":\"" T11 "\"}");
    snprintf(cmd_buf, sizeof cmd_buf,
             "{\"commands\":[{\"id\":\"77777777-0000-4000-8000-000000000001\",\"type\":\"Cancel\","
             "\"orderId\":\"%s\",\"cancelCauseId\":\"17\"}]}",
             jstr(o, "id"));
    r = send_as(T11, token11, cmd_buf);
    CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 0), "outcome"), "Applied");
    http_result_free(&r);
    cJSON_Delete(o);
    /* A 1.0 session is shown a UUID for it (its decoder wants one). */
    call("POST", "/delivery/v1/register", TID, NULL,
         "{\"terminalId\":\"" TID "\",\"protocolVersion\":1}", &r);
    const cJSON *causes = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r.json, "settings"), "cancelCauses");
    CU_ASSERT_EQUAL(strlen(jstr(cJSON_GetArrayItem(causes, cJSON_GetArraySize(causes) - 1), "id")),
                    36);
    http_result_free(&r);
}

/* A 1.1 terminal against a 1.0 server: nothing of 1.1 in any answer, limit ignored. */
static void against_1_0_server(void)
{
    cc_proc old;
    char db10[600];
    snprintf(db10, sizeof db10, "%s/callcenter10.db", dir);
    const char *args[] = {"--terminal", T11, "--seed-demo-orders", "4", "--protocol-minor",
                          "0",          NULL};
    CU_ASSERT_EQUAL_FATAL(cc_proc_start(&old, db10, args), 0);
    char url[512];
    snprintf(url, sizeof url, "%s/delivery/v1/register", old.base);
    const char *h[] = {"X-Terminal-Id: " T11, NULL};
    http_result r;
    http_call("POST", url, h,
              "{\"terminalId\":\"" T11 "\",\"protocolVersion\":1,\"protocolMinor\":1}", 5000, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItemCaseSensitive(r.json, "protocolMinor"));
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItemCaseSensitive(r.json, "numberBlock"));
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r.json, "settings"), "timeZone"));
    char auth[128];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", jstr(r.json, "sessionToken"));
    http_result_free(&r);
    snprintf(url, sizeof url, "%s/delivery/v1/orders?sinceRevision=0&limit=1", old.base);
    const char *h2[] = {"X-Terminal-Id: " T11, auth, NULL};
    http_call("GET", url, h2, NULL, 5000, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    const cJSON *orders = cJSON_GetObjectItemCaseSensitive(r.json, "orders");
    CU_ASSERT_EQUAL(cJSON_GetArraySize(orders), 4);
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItemCaseSensitive(r.json, "more"));
    const cJSON *o;
    cJSON_ArrayForEach(o, orders)
    {
        CU_ASSERT_PTR_NULL(cJSON_GetObjectItemCaseSensitive(o, "surchargeSum"));
        CU_ASSERT_EQUAL(money(o, "resultSum"), money(o, "fullSum") - money(o, "discountSum"));
    }
    http_result_free(&r);
    snprintf(url, sizeof url, "%s/delivery/v1/commands", old.base);
    http_call("POST", url, h2,
              "{\"commands\":[{\"id\":\"88888888-0000-4000-8000-000000000001\",\"type\":"
              "\"ReserveNumbers\",\"count\":1000}]}",
              5000, &r);
    CU_ASSERT_STRING_EQUAL(jstr(result_at(&r, 0), "outcome"), "Rejected");
    http_result_free(&r);
    CU_ASSERT_EQUAL(cc_proc_stop(&old), 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    dir = dlv_test_mkdtemp();
    snprintf(db, sizeof db, "%s/callcenter.db", dir);
    const char *args[] = {"--terminal", TID, "--seed-demo-orders", "3", NULL};
    if (cc_proc_start(&cc, db, args) != 0) {
        fprintf(stderr, "cannot start delivery-callcenter\n");
        return 1;
    }
    static const dlv_test_case cases[] = {
        DLV_TEST(registration),
        DLV_TEST(authorization),
        DLV_TEST(snapshot_and_long_poll),
        DLV_TEST(commands_apply_once),
        DLV_TEST(bad_command_requests),
        DLV_TEST(heartbeat),
        DLV_TEST(faults),
        DLV_TEST(call_center_changes),
        DLV_TEST(session_expiry),
        DLV_TEST(restart_keeps_state),
        DLV_TEST(v11_register),
        DLV_TEST(surcharge_and_versions),
        DLV_TEST(predicted_from_zone),
        DLV_TEST(paging_boundaries),
        DLV_TEST(snapshot_in_pages),
        DLV_TEST(edit_order),
        DLV_TEST(split_payment_then_closed),
        DLV_TEST(reserve_numbers),
        DLV_TEST(cancel_cause_not_uuid),
        DLV_TEST(against_1_0_server),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("callcenter", cases);
    cc_proc_stop(&cc);
    dlv_test_rmdir(dir);
    curl_global_cleanup();
    return rc;
}
