/* The HTTP client on libuv + libcurl multi and the protocol's classification of answers:
 * each network fault produces its exact error, nothing hangs, the loop closes clean. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "ccproc.h"
#include "faultserver.h"
#include "net/http.h"
#include "net/protocol.h"
#include "testlib.h"

#define TID "e49d3632-b06a-4a9a-8c76-ae816c4404ad"

typedef struct outcome {
    int calls; /* how many times the callback ran */
    dlv__proto_answer answer;
    dlv__http_response raw;
    char body[256];
} outcome;

static void on_done(void *arg, const dlv__http_response *resp)
{
    outcome *o = arg;
    o->calls++;
    o->raw = *resp;
    o->raw.body = NULL;
    snprintf(o->body, sizeof o->body, "%.*s", (int)(resp->body_len < 255 ? resp->body_len : 255),
             resp->body);
    dlv__proto_classify(resp, &o->answer);
}

static void on_guard(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* Runs one request to completion (or `guard_ms`), with a response cap; returns the outcome. */
static outcome run_one(const char *method, const char *url, const char *const *headers,
                       const char *body, long timeout_ms, bool long_poll, size_t cap)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    dlv__http *http;
    dlv__http_options opts = {.max_response_bytes = cap, .connect_timeout_ms = 2000};
    CU_ASSERT_EQUAL_FATAL(dlv__http_create(&loop, &opts, &http, NULL), DLV_OK);
    outcome o;
    memset(&o, 0, sizeof o);
    dlv__http_request req = {.method = method,
                             .url = url,
                             .headers = headers,
                             .body = body,
                             .body_len = body ? strlen(body) : 0,
                             .timeout_ms = timeout_ms,
                             .long_poll = long_poll};
    dlv_error err;
    CU_ASSERT_EQUAL(dlv__http_start(http, &req, on_done, &o, NULL, &err), DLV_OK);
    uv_timer_t guard;
    uv_timer_init(&loop, &guard);
    uv_timer_start(&guard, on_guard, (uint64_t)timeout_ms + 5000, 0);
    while (o.calls == 0 && uv_run(&loop, UV_RUN_ONCE))
        ;
    uv_close((uv_handle_t *)&guard, NULL);
    dlv__http_close(http, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
    CU_ASSERT_EQUAL(o.calls, 1);
    return o;
}

static fault_server *fs;
static char fs_url[128];

static outcome run_fault(fault_mode mode, long timeout_ms, size_t cap)
{
    fault_server_set(fs, mode, 503, 7);
    return run_one("GET", fs_url, NULL, NULL, timeout_ms, false, cap);
}

static void ok_json(void)
{
    outcome o = run_fault(FAULT_OK_JSON, 3000, 0);
    CU_ASSERT_EQUAL(o.raw.err, DLV_OK);
    CU_ASSERT_EQUAL(o.raw.status, 200);
    CU_ASSERT_EQUAL(o.answer.err, DLV_OK);
    CU_ASSERT_PTR_NOT_NULL(o.answer.json);
    CU_ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItem(o.answer.json, "ok")));
    dlv__proto_answer_free(&o.answer);
}

static void html_is_not_the_call_center(void)
{
    outcome o = run_fault(FAULT_HTML, 3000, 0);
    CU_ASSERT_EQUAL(o.answer.err, DLV_EPROTOCOL);
    DLV_ASSERT_CONTAINS(o.answer.message, "not a JSON object");
    DLV_ASSERT_CONTAINS(o.answer.message, "local server");
}

/* The native backend's classification leaves a 2xx object to its decoder (one parse), and
 * still tells a foreign or malformed answer as the full one does. */
static void status_classification_leaves_objects_to_the_decoder(void)
{
    const char *bodies[] = {" {\"revision\":1,\"orders\":[]}", "<html>local server</html>", "[1,2]",
                            "{\"truncated\":"};
    int expect[] = {DLV_OK, DLV_EPROTOCOL, DLV_EPROTOCOL, DLV_OK};
    for (size_t i = 0; i < 4; i++) {
        dlv__http_response resp = {
            .status = 200, .body = bodies[i], .body_len = strlen(bodies[i]), .retry_after_s = -1};
        dlv__proto_answer a;
        dlv__proto_classify_status(&resp, &a);
        CU_ASSERT_EQUAL(a.err, expect[i]);
        CU_ASSERT_PTR_NULL(a.json); /* never a tree: the decoder parses */
        if (expect[i] != DLV_OK)
            DLV_ASSERT_CONTAINS(a.message, "not a JSON object");
        dlv__proto_answer_free(&a);
    }
    /* An error status is read whole, as before: its code and description. */
    const char *err_body = "{\"error\":\"StatusConflict\",\"description\":\"cancelled\"}";
    dlv__http_response resp = {
        .status = 409, .body = err_body, .body_len = strlen(err_body), .retry_after_s = -1};
    dlv__proto_answer a;
    dlv__proto_classify_status(&resp, &a);
    CU_ASSERT_EQUAL(a.err, DLV_ECONFLICT);
    CU_ASSERT_STRING_EQUAL(a.code, "StatusConflict");
    dlv__proto_answer_free(&a);
}

/* An answer nested deeper than cJSON reads is malformed, not "is serverUrl the call-center?". */
static void deep_nesting_is_malformed(void)
{
    enum { DEPTH = 5000 };
    char *body = malloc(2 * DEPTH + 1);
    memset(body, '[', DEPTH);
    memset(body + DEPTH, ']', DEPTH);
    body[2 * DEPTH] = '\0';
    dlv__http_response resp = {
        .status = 200, .body = body, .body_len = 2 * DEPTH, .retry_after_s = -1};
    dlv__proto_answer a;
    dlv__proto_classify(&resp, &a);
    CU_ASSERT_EQUAL(a.err, DLV_EPROTOCOL);
    DLV_ASSERT_CONTAINS(a.message, "nested deeper than");
    CU_ASSERT_PTR_NULL(strstr(a.message, "call-center"));
    cJSON_Delete(a.json);
    dlv__proto_classify_status(&resp, &a); /* the native backend's: the same verdict */
    CU_ASSERT_EQUAL(a.err, DLV_EPROTOCOL);
    DLV_ASSERT_CONTAINS(a.message, "nested deeper than");
    cJSON_Delete(a.json);
    free(body);
}

static void endless_body_hits_the_cap(void)
{
    outcome o = run_fault(FAULT_ENDLESS, 10000, 64 * 1024);
    CU_ASSERT_EQUAL(o.raw.err, DLV_ETOOLARGE);
    CU_ASSERT_EQUAL(o.answer.err, DLV_ETOOLARGE);
    DLV_ASSERT_CONTAINS(o.answer.message, "larger than 65536 bytes");
}

static void redirect_is_refused(void)
{
    outcome o = run_fault(FAULT_REDIRECT, 3000, 0);
    CU_ASSERT_EQUAL(o.raw.status, 302);
    CU_ASSERT_EQUAL(o.answer.err, DLV_EPROTOCOL);
    CU_ASSERT_FALSE(o.answer.retryable);
    DLV_ASSERT_CONTAINS(o.answer.message, "redirects are not followed");
}

static void trickle_times_out(void)
{
    outcome o = run_fault(FAULT_TRICKLE, 1500, 0);
    CU_ASSERT_EQUAL(o.raw.err, DLV_ETIMEDOUT);
    CU_ASSERT_TRUE(o.answer.retryable);
    CU_ASSERT_TRUE(o.raw.total_ms >= 1400 && o.raw.total_ms < 4000);
}

static void reset_and_empty_and_short(void)
{
    outcome o = run_fault(FAULT_RESET, 3000, 0);
    CU_ASSERT_EQUAL(o.raw.err, DLV_ENET);
    CU_ASSERT_TRUE(o.answer.retryable);
    o = run_fault(FAULT_EMPTY, 3000, 0);
    CU_ASSERT_EQUAL(o.raw.err, DLV_ENET);
    DLV_ASSERT_CONTAINS(o.answer.message, "Server returned nothing");
    o = run_fault(FAULT_SHORT, 3000, 0);
    CU_ASSERT_EQUAL(o.raw.err, DLV_ENET);
    CU_ASSERT_TRUE(o.answer.retryable);
}

static void idle_server_times_out(void)
{
    outcome o = run_fault(FAULT_IDLE, 800, 0);
    CU_ASSERT_EQUAL(o.raw.err, DLV_ETIMEDOUT);
    CU_ASSERT_TRUE(o.raw.total_ms >= 700 && o.raw.total_ms < 3000);
}

static void status_with_retry_after(void)
{
    outcome o = run_fault(FAULT_STATUS, 3000, 0);
    CU_ASSERT_EQUAL(o.raw.status, 503);
    CU_ASSERT_EQUAL(o.answer.err, DLV_ESERVER);
    CU_ASSERT_TRUE(o.answer.retryable);
    CU_ASSERT_EQUAL(o.answer.retry_after_s, 7);
    CU_ASSERT_STRING_EQUAL(o.answer.code, "ServiceUnavailable");
    fault_server_set(fs, FAULT_STATUS, 429, 999);
    o = run_one("GET", fs_url, NULL, NULL, 3000, false, 0);
    CU_ASSERT_EQUAL(o.answer.err, DLV_EBUSY);
    CU_ASSERT_EQUAL(o.answer.retry_after_s, DLV__RETRY_AFTER_CAP_S);
    fault_server_set(fs, FAULT_STATUS, 404, 0);
    o = run_one("GET", fs_url, NULL, NULL, 3000, false, 0);
    CU_ASSERT_EQUAL(o.answer.err, DLV_ENOTFOUND);
    CU_ASSERT_FALSE(o.answer.retryable);
}

static void server_down(void)
{
    /* A port nobody listens on: take one from a server and stop it. */
    fault_server *gone = fault_server_start();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/resto", fault_server_port(gone));
    fault_server_stop(gone);
    outcome o = run_one("GET", url, NULL, NULL, 3000, false, 0);
    CU_ASSERT_EQUAL(o.raw.err, DLV_ENET);
    CU_ASSERT_TRUE(o.answer.retryable);
    DLV_ASSERT_CONTAINS(o.answer.message, "onnect");
}

static void header_injection_refused(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    dlv__http *http;
    CU_ASSERT_EQUAL_FATAL(dlv__http_create(&loop, NULL, &http, NULL), DLV_OK);
    outcome o;
    memset(&o, 0, sizeof o);
    const char *bad[] = {"X-Terminal-Id: abc\r\nX-Evil: 1", NULL};
    dlv__http_request req = {.method = "GET", .url = fs_url, .headers = bad, .timeout_ms = 1000};
    dlv_error err;
    CU_ASSERT_EQUAL(dlv__http_start(http, &req, on_done, &o, NULL, &err), DLV_EINVAL);
    DLV_ASSERT_CONTAINS(err.message, "line break");
    req.url = "ftp://127.0.0.1/x";
    req.headers = NULL;
    CU_ASSERT_EQUAL(dlv__http_start(http, &req, on_done, &o, NULL, &err), DLV_EINVAL);
    dlv__proto_headers h;
    CU_ASSERT_EQUAL(dlv__proto_headers_init(&h, "id\nX: y", NULL, false), DLV_EINVAL);
    CU_ASSERT_EQUAL(dlv__proto_headers_init(&h, TID, "tok\r", false), DLV_EINVAL);
    CU_ASSERT_EQUAL(dlv__proto_headers_init(&h, TID, "tok", true), DLV_OK);
    CU_ASSERT_STRING_EQUAL(h.list[0], "X-Terminal-Id: " TID);
    CU_ASSERT_STRING_EQUAL(h.list[1], "Authorization: Bearer tok");
    CU_ASSERT_STRING_EQUAL(h.list[2], "Content-Type: application/json");
    CU_ASSERT_PTR_NULL(h.list[3]);
    dlv__http_close(http, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
    CU_ASSERT_EQUAL(o.calls, 0); /* refused calls never call back */
}

static int closed_count;
static void on_closed(void *arg)
{
    (void)arg;
    closed_count++;
}

static void close_with_calls_in_flight(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    dlv__http *http;
    CU_ASSERT_EQUAL_FATAL(dlv__http_create(&loop, NULL, &http, NULL), DLV_OK);
    fault_server_set(fs, FAULT_IDLE, 0, 0);
    outcome o[3];
    memset(o, 0, sizeof o);
    dlv__http_request req = {.method = "GET", .url = fs_url, .timeout_ms = 30000};
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(dlv__http_start(http, &req, on_done, &o[i], NULL, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__http_active(http), 3);
    for (int i = 0; i < 20; i++)
        uv_run(&loop, UV_RUN_NOWAIT); /* connections under way */
    closed_count = 0;
    dlv__http_close(http, on_closed, NULL);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(o[i].calls, 1);
        CU_ASSERT_EQUAL(o[i].raw.err, DLV_ESTOPPED);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(closed_count, 1);
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
}

static void backoff_policy(void)
{
    /* Full jitter within min(cap, base·2^n). */
    for (unsigned attempt = 0; attempt < 20; attempt++) {
        uint64_t ceiling = 250u << (attempt < 8 ? attempt : 8);
        if (ceiling > 30000)
            ceiling = 30000;
        CU_ASSERT_EQUAL(dlv__backoff_ms(attempt, -1, 0), 0);
        CU_ASSERT_EQUAL(dlv__backoff_ms(attempt, -1, (uint32_t)ceiling), ceiling);
        CU_ASSERT_TRUE(dlv__backoff_ms(attempt, -1, UINT32_MAX) <= ceiling);
    }
    CU_ASSERT_EQUAL(dlv__backoff_ms(0, -1, 251), 0); /* 251 mod 251 */
    CU_ASSERT_EQUAL(dlv__backoff_ms(3, 5, 12345), 5000);
    CU_ASSERT_EQUAL(dlv__backoff_ms(3, 0, 12345), 0);
    CU_ASSERT_EQUAL(dlv__backoff_ms(3, 100000, 1), DLV__RETRY_AFTER_CAP_S * 1000u);
    /* Spread: 1000 draws at attempt 6 cover the whole range roughly evenly. */
    int buckets[4] = {0};
    uint32_t x = 2463534242u;
    for (int i = 0; i < 1000; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        buckets[dlv__backoff_ms(6, -1, x) * 4 / 16001]++;
    }
    for (int b = 0; b < 4; b++)
        CU_ASSERT_TRUE(buckets[b] > 150 && buckets[b] < 350);
}

/* Against the real emulator: registration, a long poll woken by a change, keep-alive. */
static void against_emulator(void)
{
    char *dir = dlv_test_mkdtemp();
    char db[512];
    snprintf(db, sizeof db, "%s/cc.db", dir);
    cc_proc cc;
    const char *args[] = {"--terminal", TID, "--seed-demo-orders", "2", NULL};
    CU_ASSERT_EQUAL_FATAL(cc_proc_start(&cc, db, args), 0);
    char *url = dlv__proto_url(cc.base, "/delivery/v1/register");
    dlv__proto_headers h;
    dlv__proto_headers_init(&h, TID, NULL, true);
    outcome o = run_one("POST", url, h.list, "{\"terminalId\":\"" TID "\",\"protocolVersion\":1}",
                        5000, false, 0);
    CU_ASSERT_EQUAL(o.answer.err, DLV_OK);
    const cJSON *tok = cJSON_GetObjectItem(o.answer.json, "sessionToken");
    CU_ASSERT_TRUE(cJSON_IsString(tok));
    char token[64];
    snprintf(token, sizeof token, "%s", cJSON_IsString(tok) ? tok->valuestring : "");
    dlv__proto_answer_free(&o.answer);
    dlv_free(url);

    dlv__proto_headers_init(&h, TID, "wrong", false);
    url = dlv__proto_url(cc.base, "/delivery/v1/orders?sinceRevision=0");
    o = run_one("GET", url, h.list, NULL, 5000, false, 0);
    CU_ASSERT_EQUAL(o.answer.err, DLV_EUNAUTHORIZED);
    CU_ASSERT_STRING_EQUAL(o.answer.code, "Unauthorized");
    dlv__proto_headers_init(&h, TID, token, false);
    o = run_one("GET", url, h.list, NULL, 5000, false, 0);
    CU_ASSERT_EQUAL(o.answer.err, DLV_OK);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(o.answer.json, "orders")), 2);
    dlv__proto_answer_free(&o.answer);
    dlv_free(url);

    dlv__proto_headers_init(&h, "7b0f3d2e-1111-4a9a-8c76-ae816c4404ad", NULL, true);
    url = dlv__proto_url(cc.base, "/delivery/v1/register");
    o = run_one("POST", url, h.list,
                "{\"terminalId\":\"7b0f3d2e-1111-4a9a-8c76-ae816c4404ad\",\"protocolVersion\":1}",
                5000, false, 0);
    CU_ASSERT_EQUAL(o.answer.err, DLV_ENOTREGISTERED);
    CU_ASSERT_STRING_EQUAL(o.answer.code, "TerminalNotRegistered");
    CU_ASSERT_FALSE(o.answer.retryable);
    dlv_free(url);
    cc_proc_stop(&cc);
    dlv_test_rmdir(dir);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    fs = fault_server_start();
    snprintf(fs_url, sizeof fs_url, "http://127.0.0.1:%d/resto/delivery/v1/orders",
             fault_server_port(fs));
    static const dlv_test_case cases[] = {
        DLV_TEST(ok_json),
        DLV_TEST(html_is_not_the_call_center),
        DLV_TEST(deep_nesting_is_malformed),
        DLV_TEST(status_classification_leaves_objects_to_the_decoder),
        DLV_TEST(endless_body_hits_the_cap),
        DLV_TEST(redirect_is_refused),
        DLV_TEST(trickle_times_out),
        DLV_TEST(reset_and_empty_and_short),
        DLV_TEST(idle_server_times_out),
        DLV_TEST(status_with_retry_after),
        DLV_TEST(server_down),
        DLV_TEST(header_injection_refused),
        DLV_TEST(close_with_calls_in_flight),
        DLV_TEST(backoff_policy),
        DLV_TEST(against_emulator),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("net", cases);
    fault_server_stop(fs);
    curl_global_cleanup();
    return rc;
}
