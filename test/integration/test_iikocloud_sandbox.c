/* The iikoCloud sandbox (examples/iikocloud) over HTTP: access_token and 401 on expiry,
 * dictionaries, deliveries/by_revision with 64-bit revisions, commands answered with a
 * correlationId and followed with commands/status, no idempotency (the same command twice applies
 * twice), invalid transitions ending in Error, faults (drop after apply, 429 with Retry-After,
 * slow commands/status) and a restart on the same database. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccproc.h"
#include "testlib.h"

#define ORG "7bc05553-4b68-44e8-b7bc-37be63c6d9e9"
#define GROUP "8b6f3e1a-2c4d-4e5f-9a0b-1c2d3e4f5a6b"
#define LOGIN "sandbox-api-login"
#define CAUSE "3a0f6c1e-0001-4c2b-9d1e-5ab1c0ca0001"
#define COURIER "5c0e7a2b-0001-4e11-8f3a-c0c0c0c00001"
#define CASH "09322f46-578a-d210-add7-eec222a08871"

static cc_proc ik; /* the sandbox, started with ccproc's helper */
static char *dir;
static char db[512];
static char token[128];

static int api(const char *path, const char *tok, const char *body, http_result *r)
{
    char url[512], auth[200];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/1/%s", ik.port, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok ? tok : "");
    const char *headers[] = {auth, NULL};
    return http_call("POST", url, tok ? headers : NULL, body, 15000, r);
}

static int admin(const char *method, const char *path, const char *body, http_result *r)
{
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/admin/%s", ik.port, path);
    return http_call(method, url, NULL, body, 15000, r);
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

static void get_token(void)
{
    http_result r;
    api("access_token", NULL, "{\"apiLogin\":\"" LOGIN "\"}", &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    snprintf(token, sizeof token, "%s", jstr(r.json, "token"));
    CU_ASSERT_TRUE(strlen(jstr(r.json, "correlationId")) == 36);
    http_result_free(&r);
}

/* A new order made by the admin API ("the call-center"); returns its id (caller frees). */
static char *new_order(const char *extra)
{
    http_result r;
    admin("POST", "orders", extra ? extra : "{}", &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    char *id = strdup(jstr(r.json, "id"));
    http_result_free(&r);
    return id;
}

/* The order object as deliveries/by_id shows it (caller deletes). */
static cJSON *order_by_id(const char *id)
{
    char body[256];
    snprintf(body, sizeof body, "{\"organizationId\":\"" ORG "\",\"orderIds\":[\"%s\"]}", id);
    http_result r;
    api("deliveries/by_id", token, body, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    cJSON *info = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "orders"), 0);
    cJSON *copy = cJSON_Duplicate(info, 1);
    http_result_free(&r);
    return copy;
}

static const char *status_of(const cJSON *info)
{
    return jstr(cJSON_GetObjectItemCaseSensitive(info, "order"), "status");
}

/* Sends a command; returns its correlationId in `corr` (empty when the call failed). */
static long command(const char *path, const char *order_id, const char *fields, char corr[64])
{
    char body[1024];
    snprintf(body, sizeof body, "{\"organizationId\":\"" ORG "\",\"orderId\":\"%s\"%s%s}", order_id,
             fields ? "," : "", fields ? fields : "");
    http_result r;
    api(path, token, body, &r);
    long status = r.status;
    snprintf(corr, 64, "%s", jstr(r.json, "correlationId"));
    http_result_free(&r);
    return status;
}

static char *command_state(const char *corr)
{
    char body[256];
    snprintf(body, sizeof body, "{\"organizationId\":\"" ORG "\",\"correlationId\":\"%s\"}", corr);
    http_result r;
    api("commands/status", token, body, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    char *state = strdup(jstr(r.json, "state"));
    if (strcmp(state, "Error") == 0)
        CU_ASSERT_TRUE(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r.json, "exception")));
    http_result_free(&r);
    return state;
}

static void expect_state(const char *corr, const char *want)
{
    char *state = command_state(corr);
    if (strcmp(state, want) != 0)
        fprintf(stderr, "\n  command %s: expected %s, got %s\n", corr, want, state);
    CU_ASSERT_STRING_EQUAL(state, want);
    free(state);
}

/* The log row of (endpoint, order): received and applied counts. */
static void log_counts(const char *endpoint, const char *order_id, int *received, int *applied)
{
    http_result r;
    admin("GET", "log", NULL, &r);
    *received = *applied = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r.json, "commands"))
    {
        if (strcmp(jstr(c, "endpoint"), endpoint) == 0 &&
            strcmp(jstr(c, "orderId"), order_id) == 0) {
            *received = (int)jnum(c, "received");
            *applied = (int)jnum(c, "applied");
        }
    }
    http_result_free(&r);
}

static void fault(const char *json)
{
    http_result r;
    admin("POST", "faults", json, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    http_result_free(&r);
}

static void access_token(void)
{
    http_result r;
    api("access_token", NULL, "{\"apiLogin\":\"nobody\"}", &r);
    CU_ASSERT_EQUAL(r.status, 401);
    CU_ASSERT_TRUE(strlen(jstr(r.json, "errorDescription")) > 0);
    CU_ASSERT_TRUE(strlen(jstr(r.json, "correlationId")) == 36);
    http_result_free(&r);

    api("organizations", NULL, "{}", &r); /* no token */
    CU_ASSERT_EQUAL(r.status, 401);
    http_result_free(&r);

    get_token();
    api("organizations", token, "{\"organizationIds\":null,\"returnAdditionalInfo\":false}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    cJSON *org = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "organizations"), 0);
    CU_ASSERT_STRING_EQUAL(jstr(org, "id"), ORG);
    http_result_free(&r);
}

static void dictionaries(void)
{
    static const struct {
        const char *path, *key;
        int count;
    } lists[] = {
        {"cancel_causes", "cancelCauses", 3},
        {"payment_types", "paymentTypes", 3},
    };
    http_result r;
    for (size_t i = 0; i < 2; i++) {
        api(lists[i].path, token, "{\"organizationIds\":[\"" ORG "\"]}", &r);
        CU_ASSERT_EQUAL(r.status, 200);
        CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, lists[i].key)),
                        lists[i].count);
        http_result_free(&r);
    }
    api("employees/couriers", token, "{\"organizationIds\":[\"" ORG "\"]}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    cJSON *org = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "employees"), 0);
    CU_ASSERT_STRING_EQUAL(jstr(org, "organizationId"), ORG);
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(org, "items"), 0);
    CU_ASSERT_STRING_EQUAL(jstr(first, "id"), COURIER);
    CU_ASSERT_STRING_EQUAL(jstr(first, "displayName"), "Сергей Иванов");
    http_result_free(&r);

    api("terminal_groups", token, "{\"organizationIds\":[\"" ORG "\"]}", &r);
    org = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "terminalGroups"), 0);
    first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(org, "items"), 0);
    CU_ASSERT_STRING_EQUAL(jstr(first, "id"), GROUP);
    http_result_free(&r);

    api("terminal_groups/is_alive", token,
        "{\"organizationIds\":[\"" ORG "\"],\"terminalGroupIds\":[\"" GROUP "\"]}", &r);
    first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "isAliveStatus"), 0);
    CU_ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(first, "isAlive")));
    http_result_free(&r);

    api("cities", token, "{\"organizationIds\":[\"" ORG "\"]}", &r);
    org = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "cities"), 0);
    first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(org, "items"), 0);
    CU_ASSERT_STRING_EQUAL(jstr(first, "name"), "Москва");
    http_result_free(&r);

    api("cancel_causes", token, "{\"organizationIds\":[\"00000000-0000-4000-8000-000000000000\"]}",
        &r);
    CU_ASSERT_EQUAL(r.status, 400);
    http_result_free(&r);
}

static void by_revision_incremental(void)
{
    http_result r;
    api("deliveries/by_revision", token, "{\"organizationIds\":[\"" ORG "\"],\"startRevision\":0}",
        &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    double max = jnum(r.json, "maxRevision");
    CU_ASSERT_TRUE(max > 4294967296.0); /* 64-bit revisions */
    cJSON *org =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "ordersByOrganizations"), 0);
    CU_ASSERT_STRING_EQUAL(jstr(org, "organizationId"), ORG);
    cJSON *info = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(org, "orders"), 0);
    CU_ASSERT_STRING_EQUAL(jstr(info, "creationStatus"), "Success");
    cJSON *order = cJSON_GetObjectItemCaseSensitive(info, "order");
    CU_ASSERT_STRING_EQUAL(jstr(order, "status"), "Unconfirmed");
    CU_ASSERT_STRING_EQUAL(jstr(order, "terminalGroupId"), GROUP);
    /* iiko's local time "yyyy-MM-dd HH:mm:ss.fff", not RFC 3339. */
    const char *created = jstr(order, "whenCreated");
    CU_ASSERT_EQUAL(strlen(created), 23);
    CU_ASSERT_EQUAL(created[10], ' ');
    CU_ASSERT_EQUAL(created[19], '.');
    CU_ASSERT_TRUE(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(order, "items")) > 0);
    CU_ASSERT_TRUE(jnum(order, "sum") > 0);
    http_result_free(&r);

    char body[256];
    snprintf(body, sizeof body, "{\"organizationIds\":[\"" ORG "\"],\"startRevision\":%.0f}", max);
    api("deliveries/by_revision", token, body, &r);
    org = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "ordersByOrganizations"), 0);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(org, "orders")), 0);
    CU_ASSERT_EQUAL(jnum(r.json, "maxRevision"), max);
    http_result_free(&r);

    char *id = new_order("{\"terminalGroupId\":\"2b6f3e1a-2c4d-4e5f-9a0b-1c2d3e4f5a6c\"}");
    api("deliveries/by_revision", token, body, &r);
    org = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "ordersByOrganizations"), 0);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(org, "orders")), 1);
    info = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(org, "orders"), 0);
    CU_ASSERT_STRING_EQUAL(jstr(info, "id"), id);
    /* Orders of every terminal group come back: filtering to one group is the terminal's job. */
    CU_ASSERT_STRING_EQUAL(jstr(cJSON_GetObjectItemCaseSensitive(info, "order"), "terminalGroupId"),
                           "2b6f3e1a-2c4d-4e5f-9a0b-1c2d3e4f5a6c");
    CU_ASSERT_EQUAL(jnum(r.json, "maxRevision"), max + 1);
    http_result_free(&r);
    free(id);
}

static void commands_and_status(void)
{
    char *id = new_order(NULL);
    char corr[64];
    CU_ASSERT_EQUAL(command("deliveries/confirm", id, NULL, corr), 200);
    CU_ASSERT_EQUAL(strlen(corr), 36);
    expect_state(corr, "Success");
    cJSON *info = order_by_id(id);
    CU_ASSERT_STRING_EQUAL(status_of(info), "WaitCooking");
    cJSON_Delete(info);

    /* Invalid transitions end in Error: OnWay before the kitchen is done, confirm twice. */
    command("deliveries/update_order_delivery_status", id, "\"deliveryStatus\":\"OnWay\"", corr);
    expect_state(corr, "Error");
    command("deliveries/confirm", id, NULL, corr);
    expect_state(corr, "Error");
    int received, applied;
    log_counts("deliveries/confirm", id, &received, &applied);
    CU_ASSERT_EQUAL(received, 2);
    CU_ASSERT_EQUAL(applied, 1);
    /* A status update takes only Waiting, OnWay or Delivered: anything else is a 400. */
    CU_ASSERT_EQUAL(command("deliveries/update_order_delivery_status", id,
                            "\"deliveryStatus\":\"Closed\"", corr),
                    400);

    /* The kitchen (admin) cooks; then the terminal sends the courier and closes. */
    http_result r;
    char path[128];
    snprintf(path, sizeof path, "orders/%s", id);
    admin("POST", path, "{\"status\":\"CookingCompleted\"}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    http_result_free(&r);
    command("deliveries/update_order_courier", id, "\"employeeId\":\"" COURIER "\"", corr);
    expect_state(corr, "Success");
    command("deliveries/update_order_delivery_status", id, "\"deliveryStatus\":\"OnWay\"", corr);
    expect_state(corr, "Success");
    command("deliveries/close", id, NULL, corr); /* not paid */
    expect_state(corr, "Error");
    info = order_by_id(id);
    cJSON *order = cJSON_GetObjectItemCaseSensitive(info, "order");
    CU_ASSERT_STRING_EQUAL(jstr(order, "status"), "OnWay");
    CU_ASSERT_STRING_EQUAL(
        jstr(cJSON_GetObjectItemCaseSensitive(
                 cJSON_GetObjectItemCaseSensitive(order, "courierInfo"), "courier"),
             "id"),
        COURIER);
    char fields[256];
    snprintf(fields, sizeof fields,
             "\"payments\":[{\"paymentTypeKind\":\"Cash\",\"sum\":%.2f,\"paymentTypeId\":\"" CASH
             "\"}]",
             jnum(order, "sum"));
    cJSON_Delete(info);
    command("deliveries/change_payments", id, fields, corr);
    expect_state(corr, "Success");
    command("deliveries/close", id, NULL, corr);
    expect_state(corr, "Success");
    info = order_by_id(id);
    CU_ASSERT_STRING_EQUAL(status_of(info), "Closed");
    CU_ASSERT_EQUAL(strlen(jstr(cJSON_GetObjectItemCaseSensitive(info, "order"), "whenClosed")),
                    23);
    cJSON_Delete(info);
    command("deliveries/cancel", id, "\"cancelCauseId\":\"" CAUSE "\"", corr);
    expect_state(corr, "Error");
    free(id);

    id = new_order(NULL);
    command("deliveries/cancel", id, "\"cancelCauseId\":\"" CAUSE "\",\"cancelComment\":\"x\"",
            corr);
    expect_state(corr, "Success");
    info = order_by_id(id);
    order = cJSON_GetObjectItemCaseSensitive(info, "order");
    CU_ASSERT_STRING_EQUAL(jstr(order, "status"), "Cancelled");
    cJSON *cause = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(order, "cancelInfo"), "cause");
    CU_ASSERT_STRING_EQUAL(jstr(cause, "id"), CAUSE);
    cJSON_Delete(info);
    free(id);

    /* An unknown correlationId is a 400 with iiko's error body. */
    http_result r2;
    api("commands/status", token,
        "{\"organizationId\":\"" ORG "\",\"correlationId\":"
        "\"00000000-0000-4000-8000-000000000000\"}",
        &r2);
    CU_ASSERT_EQUAL(r2.status, 400);
    CU_ASSERT_TRUE(strlen(jstr(r2.json, "errorDescription")) > 0);
    http_result_free(&r2);
}

/* No idempotency key: the same command sent twice applies twice when it is still valid. */
static void same_command_twice(void)
{
    char *id = new_order(NULL);
    char a[64], b[64];
    command("deliveries/change_comment", id, "\"comment\":\"Домофон не работает\"", a);
    command("deliveries/change_comment", id, "\"comment\":\"Домофон не работает\"", b);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
    expect_state(a, "Success");
    expect_state(b, "Success");
    int received, applied;
    log_counts("deliveries/change_comment", id, &received, &applied);
    CU_ASSERT_EQUAL(received, 2);
    CU_ASSERT_EQUAL(applied, 2);
    cJSON *info = order_by_id(id);
    CU_ASSERT_STRING_EQUAL(jstr(cJSON_GetObjectItemCaseSensitive(info, "order"), "comment"),
                           "Домофон не работает");
    cJSON_Delete(info);
    free(id);
}

static void create_order(void)
{
    http_result r;
    api("deliveries/create", token,
        "{\"organizationId\":\"" ORG "\",\"terminalGroupId\":\"" GROUP "\",\"order\":{"
        "\"phone\":\"+79160000001\",\"externalNumber\":\"WEB-17\",\"items\":[{\"type\":"
        "\"Product\",\"productId\":\"6f1c0d2e-0001-4b3a-9c8d-9f0d00000001\",\"amount\":2,"
        "\"price\":590}]}}",
        &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    cJSON *info = cJSON_GetObjectItemCaseSensitive(r.json, "orderInfo");
    CU_ASSERT_STRING_EQUAL(jstr(info, "creationStatus"), "InProgress");
    char *id = strdup(jstr(info, "id"));
    char corr[64];
    snprintf(corr, sizeof corr, "%s", jstr(r.json, "correlationId"));
    http_result_free(&r);
    expect_state(corr, "Success");
    cJSON *got = order_by_id(id);
    CU_ASSERT_STRING_EQUAL(jstr(got, "creationStatus"), "Success");
    CU_ASSERT_STRING_EQUAL(jstr(got, "externalNumber"), "WEB-17");
    CU_ASSERT_EQUAL(jnum(cJSON_GetObjectItemCaseSensitive(got, "order"), "sum"), 1180);
    cJSON_Delete(got);
    free(id);
}

static void faults(void)
{
    char *id = new_order(NULL);
    char corr[64];
    /* Drop after apply: the terminal sees no answer, yet the order changed. */
    fault("{\"route\":\"deliveries/confirm\",\"fault\":\"drop\",\"afterApply\":true}");
    CU_ASSERT_NOT_EQUAL(command("deliveries/confirm", id, NULL, corr), 200);
    cJSON *info = order_by_id(id);
    CU_ASSERT_STRING_EQUAL(status_of(info), "WaitCooking");
    cJSON_Delete(info);
    int received, applied;
    log_counts("deliveries/confirm", id, &received, &applied);
    CU_ASSERT_EQUAL(received, 1);
    CU_ASSERT_EQUAL(applied, 1);

    /* Drop before apply: nothing happens. */
    fault("{\"route\":\"deliveries/change_comment\",\"fault\":\"drop\"}");
    CU_ASSERT_NOT_EQUAL(command("deliveries/change_comment", id, "\"comment\":\"x\"", corr), 200);
    log_counts("deliveries/change_comment", id, &received, &applied);
    CU_ASSERT_EQUAL(received, 0);

    /* 429 with Retry-After, once. */
    fault("{\"route\":\"deliveries/by_revision\",\"fault\":\"status\",\"status\":429,"
          "\"retryAfter\":7}");
    http_result r;
    api("deliveries/by_revision", token, "{\"organizationIds\":[\"" ORG "\"],\"startRevision\":0}",
        &r);
    CU_ASSERT_EQUAL(r.status, 429);
    CU_ASSERT_STRING_EQUAL(r.retry_after, "7");
    CU_ASSERT_TRUE(strlen(jstr(r.json, "errorDescription")) > 0);
    http_result_free(&r);
    api("deliveries/by_revision", token, "{\"organizationIds\":[\"" ORG "\"],\"startRevision\":0}",
        &r);
    CU_ASSERT_EQUAL(r.status, 200);
    http_result_free(&r);

    /* 500 on every route until cleared. */
    fault("{\"route\":\"*\",\"fault\":\"status\",\"status\":500,\"count\":0}");
    api("organizations", token, "{}", &r);
    CU_ASSERT_EQUAL(r.status, 500);
    http_result_free(&r);
    admin("DELETE", "faults", NULL, &r);
    http_result_free(&r);

    /* Slow commands/status: InProgress for three polls, and the order unchanged until done. */
    fault("{\"route\":\"deliveries/print_delivery_bill\",\"fault\":\"slow\",\"polls\":3}");
    command("deliveries/print_delivery_bill", id, NULL, corr);
    for (int i = 0; i < 2; i++)
        expect_state(corr, "InProgress");
    info = order_by_id(id);
    CU_ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(info, "order"), "whenBillPrinted")));
    cJSON_Delete(info);
    expect_state(corr, "Success");
    info = order_by_id(id);
    CU_ASSERT_EQUAL(
        strlen(jstr(cJSON_GetObjectItemCaseSensitive(info, "order"), "whenBillPrinted")), 23);
    cJSON_Delete(info);

    /* Delay: the answer comes late but comes. */
    fault("{\"route\":\"organizations\",\"fault\":\"delay\",\"delayMs\":300}");
    api("organizations", token, "{}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_TRUE(r.seconds >= 0.25);
    http_result_free(&r);

    /* Someone else changes the order between two reads. */
    char path[128];
    snprintf(path, sizeof path, "orders/%s", id);
    admin("POST", path, "{\"status\":\"Cancelled\",\"problem\":\"Клиент передумал\"}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    http_result_free(&r);
    command("deliveries/change_comment", id, "\"comment\":\"y\"", corr);
    expect_state(corr, "Error");
    free(id);
}

static void token_expiry(void)
{
    http_result r;
    admin("POST", "tokens/expire", NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    http_result_free(&r);
    api("organizations", token, "{}", &r);
    CU_ASSERT_EQUAL(r.status, 401);
    http_result_free(&r);
    get_token();
    api("organizations", token, "{}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    http_result_free(&r);
}

static void restart_keeps_state(void)
{
    http_result r;
    admin("GET", "info", NULL, &r);
    double revision = jnum(r.json, "revision");
    http_result_free(&r);
    admin("GET", "log", NULL, &r);
    int entries = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "entries"));
    http_result_free(&r);
    CU_ASSERT_EQUAL(cc_proc_stop(&ik), 0);
    CU_ASSERT_EQUAL_FATAL(cc_proc_start(&ik, db, NULL), 0);
    admin("GET", "info", NULL, &r);
    CU_ASSERT_EQUAL(jnum(r.json, "revision"), revision);
    http_result_free(&r);
    admin("GET", "log", NULL, &r);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "entries")),
                    entries);
    http_result_free(&r);
    api("organizations", token, "{}", &r); /* the token outlives the restart */
    CU_ASSERT_EQUAL(r.status, 200);
    http_result_free(&r);
}

/* A token that runs out by itself (--token-ttl 1) answers 401. */
static void short_token_ttl(void)
{
    cc_proc other;
    char other_db[600];
    snprintf(other_db, sizeof other_db, "%s/short.db", dir);
    const char *args[] = {"--token-ttl", "1", NULL};
    CU_ASSERT_EQUAL_FATAL(cc_proc_start(&other, other_db, args), 0);
    cc_proc saved = ik;
    ik = other;
    char saved_token[128];
    snprintf(saved_token, sizeof saved_token, "%s", token);
    get_token();
    http_result r;
    api("organizations", token, "{}", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    http_result_free(&r);
    struct timespec ts = {1, 300000000};
    nanosleep(&ts, NULL);
    api("organizations", token, "{}", &r);
    CU_ASSERT_EQUAL(r.status, 401);
    http_result_free(&r);
    cc_proc_stop(&ik);
    ik = saved;
    snprintf(token, sizeof token, "%s", saved_token);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* ccproc starts the binary named by DLV_CALLCENTER: point it at the sandbox. */
    const char *bin = getenv("DLV_IIKOCLOUD");
    if (!bin) {
        fprintf(stderr, "DLV_IIKOCLOUD must name delivery-iikocloud\n");
        return 1;
    }
    setenv("DLV_CALLCENTER", bin, 1);
    dir = dlv_test_mkdtemp();
    snprintf(db, sizeof db, "%s/iikocloud.db", dir);
    const char *args[] = {"--seed-orders", "3", NULL};
    if (cc_proc_start(&ik, db, args) != 0) {
        fprintf(stderr, "cannot start delivery-iikocloud\n");
        return 1;
    }
    static const dlv_test_case cases[] = {
        DLV_TEST(access_token),
        DLV_TEST(dictionaries),
        DLV_TEST(by_revision_incremental),
        DLV_TEST(commands_and_status),
        DLV_TEST(same_command_twice),
        DLV_TEST(create_order),
        DLV_TEST(faults),
        DLV_TEST(token_expiry),
        DLV_TEST(restart_keeps_state),
        DLV_TEST(short_token_ttl),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("iikocloud_sandbox", cases);
    cc_proc_stop(&ik);
    dlv_test_rmdir(dir);
    curl_global_cleanup();
    return rc;
}
