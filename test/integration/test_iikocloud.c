/* The library with <backend>iikoCloud</backend> against the bundled sandbox (examples/iikocloud):
 * a whole shift, faults on the command routes (drop after apply, 500, 429 with Retry-After, slow
 * commands/status, a change by someone else in between, token expiry) and a kill -9 with a
 * command in flight — each asserting from the sandbox's admin log that every command was applied
 * exactly once (docs/iikocloud.md, "Exactly once"). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ccproc.h"
#include "hostsim.h"
#include "testlib.h"

#define ORG "7bc05553-4b68-44e8-b7bc-37be63c6d9e9"
#define GROUP "8b6f3e1a-2c4d-4e5f-9a0b-1c2d3e4f5a6b"
#define OTHER_GROUP "9c7f4e2b-3d5e-4f60-8b1c-2d3e4f5a6b7c"
#define LOGIN "sandbox-api-login"
#define CAUSE "3a0f6c1e-0001-4c2b-9d1e-5ab1c0ca0001"
#define COURIER "5c0e7a2b-0001-4e11-8f3a-c0c0c0c00001"
#define COURIER2 "5c0e7a2b-0002-4e11-8f3a-c0c0c0c00002"
#define CASH "09322f46-578a-d210-add7-eec222a08871"
#define LOGIN_ALL                                                                                     \
    "{\"cmd\":\"login\",\"userId\":\"00000000-0000-4000-8000-0000000000aa\",\"name\":\"Мария\"," \
    "\"rights\":[\"D_CND\",\"D_MD\",\"D_CD\",\"D_CAD\",\"D_DEP\",\"D_ED\",\"D_DCO\",\"D_ACDMM\","     \
    "\"D_SADT\",\"F_CASH\"]}"

static cc_proc ik;
static char *dir;

static int admin(const char *method, const char *path, const char *body, http_result *r)
{
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/admin/%s", ik.port, path);
    return http_call(method, url, NULL, body, 15000, r);
}

static void admin_do(const char *method, const char *path, const char *body)
{
    http_result r;
    admin(method, path, body, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    http_result_free(&r);
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void write_config(const char *d)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/deliveryPluginConfig.xml", d);
    FILE *f = fopen(path, "w");
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<config>\n"
            "  <serviceMethodTimeoutMilliseconds>2000</serviceMethodTimeoutMilliseconds>\n"
            "  <serverUrl>http://127.0.0.1:%d</serverUrl>\n"
            "  <connectToServerDelayInSeconds>0</connectToServerDelayInSeconds>\n"
            "  <terminalId>e49d3632-b06a-4a9a-8c76-ae816c4404ad</terminalId>\n"
            "  <backend>iikoCloud</backend>\n"
            "  <apiLogin>" LOGIN "</apiLogin>\n"
            "  <organizationId>" ORG "</organizationId>\n"
            "  <terminalGroupId>" GROUP "</terminalGroupId>\n"
            "  <pollIntervalSeconds>1</pollIntervalSeconds>\n"
            "</config>\n",
            ik.port);
    fclose(f);
}

static hostsim *start_host(const char *d)
{
    write_config(d);
    hostsim_config hc = {.dir = d, .server_url = "unused"};
    hostsim *h = hostsim_start(&hc);
    if (!h)
        return NULL;
    if (!hostsim_wait(h, 15000, "\"event\":\"registered\"", NULL)) {
        fprintf(stderr, "not registered: %s\n", hostsim_dump(h));
        hostsim_stop(h, 0);
        return NULL;
    }
    DLV_ASSERT_CONTAINS(hostsim_request(h, LOGIN_ALL), "\"ok\":true");
    return h;
}

/* A new order at the sandbox; waits until the terminal shows it. Caller frees. */
static char *new_order(hostsim *h, const char *extra)
{
    http_result r;
    admin("POST", "orders", extra ? extra : "{}", &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    char *id = strdup(jstr(r.json, "id"));
    http_result_free(&r);
    if (h && !hostsim_wait(h, 10000, "\"event\":\"order\"", id, NULL))
        CU_FAIL("the order did not reach the terminal");
    return id;
}

static cJSON *sandbox_order(const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "orders/%s", id);
    http_result r;
    admin("GET", path, NULL, &r);
    cJSON *o = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r.json, "order"), 1);
    http_result_free(&r);
    return o;
}

/* Waits (bounded) until the sandbox shows the order in `status`. */
static bool sandbox_status(const char *id, const char *status, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        cJSON *o = sandbox_order(id);
        bool there = strcmp(jstr(o, "status"), status) == 0;
        cJSON_Delete(o);
        if (there)
            return true;
        sleep_ms(100);
    }
    return false;
}

/* The sandbox's count of `endpoint` commands for the order: received and applied. */
static void counts(const char *endpoint, const char *order_id, int *received, int *applied)
{
    http_result r;
    admin("GET", "log", NULL, &r);
    *received = *applied = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r.json, "commands"))
    {
        if (strcmp(jstr(c, "endpoint"), endpoint) == 0 &&
            strcmp(jstr(c, "orderId"), order_id) == 0) {
            *received = cJSON_GetObjectItemCaseSensitive(c, "received")->valueint;
            *applied = cJSON_GetObjectItemCaseSensitive(c, "applied")->valueint;
        }
    }
    http_result_free(&r);
}

static int applied_of(const char *endpoint, const char *order_id)
{
    int received, applied;
    counts(endpoint, order_id, &received, &applied);
    return applied;
}

/* Waits until the terminal has no command left to send. */
static bool drained(hostsim *h, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 200) {
        const char *rep = hostsim_request(h, "{\"cmd\":\"health\"}");
        if (rep && strstr(rep, "\"pendingCommands\":0"))
            return true;
        sleep_ms(200);
    }
    return false;
}

static void request_ok(hostsim *h, const char *fmt, const char *id)
{
    char req[512];
    snprintf(req, sizeof req, fmt, id);
    const char *rep = hostsim_request(h, req);
    if (!rep || !strstr(rep, "\"ok\":true"))
        fprintf(stderr, "request %s: %s\n", req, rep ? rep : "(no reply)");
    DLV_ASSERT_CONTAINS(rep, "\"ok\":true");
}

static void kitchen(hostsim *h, const char *id, const char *status)
{
    char path[128], body[64], to[64];
    snprintf(path, sizeof path, "orders/%s", id);
    snprintf(body, sizeof body, "{\"status\":\"%s\"}", status);
    admin_do("POST", path, body);
    snprintf(to, sizeof to, "\"to\":\"%s\"", status);
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 10000, "\"statusChanged\"", id, to, NULL));
}

static void pay_in_full(hostsim *h, const char *id)
{
    cJSON *o = sandbox_order(id);
    char req[512];
    snprintf(req, sizeof req,
             "{\"cmd\":\"pay\",\"orderId\":\"%%s\",\"payments\":[{\"paymentTypeId\":\"" CASH
             "\",\"kind\":\"Cash\",\"sum\":%.2f}]}",
             cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "sum")));
    cJSON_Delete(o);
    request_ok(h, req, id);
}

#define STATUS_REQ "{\"cmd\":\"setStatus\",\"orderId\":\"%s\",\"status\":"

/* Orders arrive, the kitchen cooks through the admin API, the terminal confirms, assigns a
 * courier, sends, delivers, takes the money and closes; another order is cancelled with a
 * cause; an order of another terminal group never shows. Every command applies once. */
static void shift(void)
{
    char *d = dlv_test_mkdtemp();
    hostsim *h = start_host(d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    DLV_ASSERT_CONTAINS(hostsim_dump(h), "\"registered\"");
    DLV_ASSERT_CONTAINS(hostsim_dump(h), "Клиент отказался"); /* cancel causes in settings */
    char *a = new_order(h, NULL), *b = new_order(h, NULL);
    char *other = new_order(NULL, "{\"terminalGroupId\":\"" OTHER_GROUP "\"}");
    request_ok(h, "{\"cmd\":\"confirm\",\"orderId\":\"%s\"}", a);
    CU_ASSERT_TRUE(sandbox_status(a, "WaitCooking", 10000));
    kitchen(h, a, "CookingStarted");
    kitchen(h, a, "CookingCompleted");
    request_ok(h, "{\"cmd\":\"assignCourier\",\"orderId\":\"%s\",\"courierId\":\"" COURIER "\"}",
               a);
    request_ok(h, STATUS_REQ "\"Waiting\"}", a);
    request_ok(h, STATUS_REQ "\"OnWay\"}", a);
    request_ok(h, STATUS_REQ "\"Delivered\"}", a);
    CU_ASSERT_TRUE(sandbox_status(a, "Delivered", 15000));
    pay_in_full(h, a);
    request_ok(h, STATUS_REQ "\"Closed\"}", a);
    CU_ASSERT_TRUE(sandbox_status(a, "Closed", 15000));
    request_ok(h, "{\"cmd\":\"cancel\",\"orderId\":\"%s\",\"cancelCauseId\":\"" CAUSE "\"}", b);
    CU_ASSERT_TRUE(sandbox_status(b, "Cancelled", 15000));
    CU_ASSERT_TRUE(drained(h, 15000));
    CU_ASSERT_EQUAL(applied_of("deliveries/confirm", a), 1);
    CU_ASSERT_EQUAL(applied_of("deliveries/update_order_courier", a), 1);
    CU_ASSERT_EQUAL(applied_of("deliveries/update_order_delivery_status", a), 3);
    CU_ASSERT_EQUAL(applied_of("deliveries/change_payments", a), 1);
    CU_ASSERT_EQUAL(applied_of("deliveries/close", a), 1);
    CU_ASSERT_EQUAL(applied_of("deliveries/cancel", b), 1);
    CU_ASSERT_EQUAL(hostsim_count(h, "commandRejected"), 0);
    CU_ASSERT_EQUAL(hostsim_count(h, other), 0);
    if (hostsim_count(h, "commandRejected"))
        fprintf(stderr, "%s\n", hostsim_dump(h));
    hostsim_stop(h, 1000);
    free(a);
    free(b);
    free(other);
    dlv_test_rmdir(d);
}

static void fault(const char *json)
{
    admin_do("POST", "faults", json);
}

/* Faults on the command routes: each command still applies exactly once. */
static void faults(void)
{
    char *d = dlv_test_mkdtemp();
    hostsim *h = start_host(d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    /* The answer of a confirm is lost after it applied: reconciled from the order, not resent. */
    char *a = new_order(h, NULL);
    fault("{\"route\":\"deliveries/confirm\",\"fault\":\"drop\",\"afterApply\":true}");
    request_ok(h, "{\"cmd\":\"confirm\",\"orderId\":\"%s\"}", a);
    CU_ASSERT_TRUE(drained(h, 20000));
    CU_ASSERT_EQUAL(applied_of("deliveries/confirm", a), 1);
    int received, applied;
    counts("deliveries/confirm", a, &received, &applied);
    CU_ASSERT_EQUAL(received, 1);
    kitchen(h, a, "CookingCompleted");
    /* 500 then success. */
    fault("{\"route\":\"deliveries/update_order_courier\",\"fault\":\"status\",\"status\":500}");
    request_ok(h, "{\"cmd\":\"assignCourier\",\"orderId\":\"%s\",\"courierId\":\"" COURIER "\"}",
               a);
    CU_ASSERT_TRUE(drained(h, 20000));
    CU_ASSERT_EQUAL(applied_of("deliveries/update_order_courier", a), 1);
    /* 429 with Retry-After, then a slow commands/status. */
    fault("{\"route\":\"deliveries/update_order_delivery_status\",\"fault\":\"status\","
          "\"status\":429,\"retryAfter\":1}");
    request_ok(h, STATUS_REQ "\"Waiting\"}", a);
    CU_ASSERT_TRUE(drained(h, 20000));
    fault("{\"route\":\"deliveries/update_order_delivery_status\",\"fault\":\"slow\",\"polls\":3}");
    /* The token expires mid-shift: renewed on the 401, the command goes through once. */
    admin_do("POST", "tokens/expire", "{}");
    request_ok(h, STATUS_REQ "\"OnWay\"}", a);
    CU_ASSERT_TRUE(drained(h, 20000));
    CU_ASSERT_TRUE(sandbox_status(a, "OnWay", 10000));
    CU_ASSERT_EQUAL(applied_of("deliveries/update_order_delivery_status", a), 2);
    /* Someone else moves the order on (the operator marks it delivered) while the terminal's
     * own Delivered is on its way: not applied twice, not stuck. */
    char path[128];
    snprintf(path, sizeof path, "orders/%s", a);
    fault("{\"route\":\"deliveries/update_order_delivery_status\",\"fault\":\"delay\","
          "\"delayMs\":500}");
    request_ok(h, STATUS_REQ "\"Delivered\"}", a);
    admin_do("POST", path, "{\"status\":\"Delivered\"}");
    CU_ASSERT_TRUE(drained(h, 20000));
    CU_ASSERT_TRUE(sandbox_status(a, "Delivered", 10000));
    CU_ASSERT_TRUE(applied_of("deliveries/update_order_delivery_status", a) <= 3);
    pay_in_full(h, a);
    request_ok(h, STATUS_REQ "\"Closed\"}", a);
    CU_ASSERT_TRUE(sandbox_status(a, "Closed", 15000));
    CU_ASSERT_TRUE(drained(h, 20000));
    CU_ASSERT_EQUAL(applied_of("deliveries/change_payments", a), 1);
    CU_ASSERT_EQUAL(applied_of("deliveries/close", a), 1);
    admin_do("DELETE", "faults", NULL);
    hostsim_stop(h, 1000);
    free(a);
    dlv_test_rmdir(d);
}

/* kill -9 of the terminal with a command in flight (held by a delay fault): after the restart
 * the journal sends it again only if the order shows it did not happen. Applied once. */
static void kill_with_command_in_flight(void)
{
    char *d = dlv_test_mkdtemp();
    hostsim *h = start_host(d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    char *a = new_order(h, NULL);
    request_ok(h, "{\"cmd\":\"confirm\",\"orderId\":\"%s\"}", a);
    CU_ASSERT_TRUE(drained(h, 20000));
    hostsim_stop(h, 1000);
    fault("{\"route\":\"deliveries/update_order_courier\",\"fault\":\"delay\",\"delayMs\":1500}");
    char marker[1024];
    snprintf(marker, sizeof marker, "%s/assigned", d);
    pid_t child = fork();
    if (child == 0) {
        hostsim *c = start_host(d);
        if (!c)
            _exit(2);
        char req[256];
        snprintf(req, sizeof req,
                 "{\"cmd\":\"assignCourier\",\"orderId\":\"%s\",\"courierId\":\"" COURIER2 "\"}",
                 a);
        const char *rep = hostsim_request(c, req);
        if (rep && strstr(rep, "\"ok\":true")) {
            FILE *f = fopen(marker, "w");
            if (f)
                fclose(f);
        }
        pause();
        _exit(0);
    }
    struct stat st;
    for (int i = 0; i < 200 && stat(marker, &st) != 0; i++)
        sleep_ms(100);
    CU_ASSERT_EQUAL(stat(marker, &st), 0);
    sleep_ms(500); /* the request is on its way, held by the delay */
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    h = start_host(d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_TRUE(drained(h, 30000));
    int received, applied;
    counts("deliveries/update_order_courier", a, &received, &applied);
    CU_ASSERT_EQUAL(applied, 1);
    cJSON *o = sandbox_order(a);
    const cJSON *courier = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(o, "courierInfo"), "courier");
    CU_ASSERT_STRING_EQUAL(jstr(courier, "id"), COURIER2);
    cJSON_Delete(o);
    CU_ASSERT_EQUAL(hostsim_count(h, "commandRejected"), 0);
    admin_do("DELETE", "faults", NULL);
    hostsim_stop(h, 1000);
    free(a);
    dlv_test_rmdir(d);
}

int main(void)
{
    const char *bin = getenv("DLV_IIKOCLOUD");
    if (!bin) {
        fprintf(stderr, "DLV_IIKOCLOUD must name delivery-iikocloud\n");
        return 2;
    }
    setenv("DLV_CALLCENTER", bin, 1);
    /* The sandbox writes order times in its local time; the terminal reads them with the
     * host's offset (hostsim: +180): give both the same zone. */
    setenv("TZ", "Etc/GMT-3", 1);
    tzset();
    dir = dlv_test_mkdtemp();
    char db[512];
    snprintf(db, sizeof db, "%s/iikocloud.db", dir);
    if (cc_proc_start(&ik, db, NULL) != 0) {
        fprintf(stderr, "cannot start %s\n", bin);
        return 1;
    }
    http_result r;
    admin("POST", "terminal_groups", "{\"id\":\"" OTHER_GROUP "\",\"name\":\"other\"}", &r);
    http_result_free(&r);
    static const dlv_test_case cases[] = {
        DLV_TEST(shift),
        DLV_TEST(faults),
        DLV_TEST(kill_with_command_in_flight),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("iikocloud", cases);
    cc_proc_stop(&ik);
    dlv_test_rmdir(dir);
    return rc;
}
