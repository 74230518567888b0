/* The call-center emulator against the protocol: every route, every error code, long-poll
 * wake-up, idempotent replay, fault injection, restart on the same database. */
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
        DLV_TEST_END,
    };
    int rc = dlv_test_main("callcenter", cases);
    cc_proc_stop(&cc);
    dlv_test_rmdir(dir);
    curl_global_cleanup();
    return rc;
}
