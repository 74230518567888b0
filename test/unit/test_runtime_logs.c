/* No secret and no customer's personal data in the logs (issue 9): a realistic session at
 * debug log level against the call-center emulator, every log line captured by the on_log
 * callback, then searched for the fixture customers' phone numbers, names, surnames and
 * addresses, for every session token the emulator issued and for the terminalId. None may
 * appear in full in any line.
 *
 * The session: registration, orders with distinctive customers arriving from the call-center,
 * one of them invalid, a login, confirmations, a courier, a cancellation by the call-center
 * (a rejected command), an order taken at the terminal, invoices printed to a file printer,
 * customer notifications (some refused by the notifier), faults on both routes, a session that
 * expires and a new registration, and the stop. */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ccproc.h"
#include "delivery/delivery.h"
#include "testlib.h"

#define TID "e49d3632-b06a-4a9a-8c76-ae816c4404ad"
#define UNKNOWN_TID "7d1e8c3b-55aa-4c1d-9e0f-a1b2c3d4e5f6"
#define CAUSE "0c4a6a4e-7d43-4f0e-8a50-3b1f0c000001"
#define LOGIN                                                                                              \
    "{\"cmd\":\"login\",\"userId\":\"00000000-0000-4000-8000-0000000000aa\","                              \
    "\"name\":\"Менеджер\",\"rights\":[\"D_CND\",\"D_MD\",\"D_CD\",\"D_CAD\",\"F_CASH\",\"D_ED\"]" \
    "}"

/* The fixture customers: every value is distinctive so that a hit cannot be a coincidence. */
#define PHONE1 "+79995550167"
#define NAME1 "Евлампия"
#define SURNAME1 "Зайцеворонкова"
#define STREET1 "Улица Конфиденциальная"
#define HOUSE1 "13к2"
#define FLAT1 "кв481"
#define DOORPHONE1 "7391В"
#define ADDRNOTE1 "Код калитки 5520"
#define NOTE1 "Аллергия на фундук"
#define PHONE2 "+79993332211"
#define NAME2 "Феоктист"
#define SURNAME2 "Громобоев"
#define STREET2 "Проезд Потаённый"
#define PHONE3 "+79997778899"
#define NAME3 "Аграфена"
#define SURNAME3 "Скрытнова"
#define STREET3 "Тупик Засекреченный"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const personal_data[] = {
    PHONE1,     "9995550167", NAME1,        SURNAME1, STREET1,      HOUSE1,  FLAT1,
    DOORPHONE1, ADDRNOTE1,    NOTE1,        PHONE2,   "9993332211", NAME2,   SURNAME2,
    STREET2,    PHONE3,       "9997778899", NAME3,    SURNAME3,     STREET3,
};

static char *dir;
static cc_proc cc;

/* ---- a host that keeps every log line ---- */

typedef struct host {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char **events;
    int event_count;
    char **logs;
    int log_count;
    char *reply;
    bool replied;
    int notifications;
    dlv_ctx *ctx;
} host;

#define HOST_MAX 20000

static void push(host *h, char ***list, int *count, const char *text)
{
    pthread_mutex_lock(&h->lock);
    if (*count < HOST_MAX)
        (*list)[(*count)++] = strdup(text);
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
}

static void on_log(void *arg, dlv_log_level level, const char *line)
{
    host *h = arg;
    static const char *const names[] = {"E", "W", "I", "D"};
    char *tagged = NULL;
    if (asprintf(&tagged, "%s %s", names[level & 3], line) < 0)
        return;
    push(h, &h->logs, &h->log_count, tagged);
    free(tagged);
    if (getenv("DLV_TEST_VERBOSE"))
        fprintf(stderr, "    [log] %s %s\n", names[level & 3], line);
}

static void on_event(void *arg, const char *json)
{
    host *h = arg;
    push(h, &h->events, &h->event_count, json);
}

static void on_reply(void *arg, const char *json)
{
    host *h = arg;
    pthread_mutex_lock(&h->lock);
    free(h->reply);
    h->reply = strdup(json);
    h->replied = true;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
}

/* Every other message is refused, so the refusal is logged too. */
static int on_notify(void *arg, const char *order_id, const char *event, const char *channel,
                     const char *to, const char *text)
{
    host *h = arg;
    (void)order_id, (void)event, (void)channel, (void)to, (void)text;
    pthread_mutex_lock(&h->lock);
    int n = h->notifications++;
    pthread_mutex_unlock(&h->lock);
    return n % 2 ? -1 : 0;
}

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Waits until an event holds both fragments (b may be NULL); true when one did. */
static bool wait_event(host *h, int ms, const char *a, const char *b)
{
    struct timespec ts;
    deadline_in(&ts, ms);
    pthread_mutex_lock(&h->lock);
    bool found = false;
    for (;;) {
        for (int i = 0; i < h->event_count && !found; i++)
            found = strstr(h->events[i], a) && (!b || strstr(h->events[i], b));
        if (found || pthread_cond_timedwait(&h->cond, &h->lock, &ts) != 0)
            break;
    }
    for (int i = 0; i < h->event_count && !found; i++)
        found = strstr(h->events[i], a) && (!b || strstr(h->events[i], b));
    pthread_mutex_unlock(&h->lock);
    if (!found)
        fprintf(stderr, "\n  no event with %s %s\n", a, b ? b : "");
    return found;
}

static char *request(host *h, const char *json)
{
    pthread_mutex_lock(&h->lock);
    h->replied = false;
    pthread_mutex_unlock(&h->lock);
    if (dlv_ctx_request(h->ctx, json, on_reply, h) != DLV_OK)
        return strdup("(refused)");
    struct timespec ts;
    deadline_in(&ts, 10000);
    pthread_mutex_lock(&h->lock);
    while (!h->replied && pthread_cond_timedwait(&h->cond, &h->lock, &ts) == 0)
        ;
    char *r = strdup(h->replied && h->reply ? h->reply : "(no reply)");
    pthread_mutex_unlock(&h->lock);
    return r;
}

static void request_ok(host *h, const char *json)
{
    char *r = request(h, json);
    DLV_ASSERT_CONTAINS(r, "\"ok\":true");
    free(r);
}

static host *host_start(const char *folder, const char *terminal_id, const char *printer)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/deliveryPluginConfig.xml", folder);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<config>\n"
            "  <serviceMethodTimeoutMilliseconds>2000</serviceMethodTimeoutMilliseconds>\n"
            "  <serverUrl>%s</serverUrl>\n"
            "  <connectToServerDelayInSeconds>0</connectToServerDelayInSeconds>\n"
            "  <terminalId>%s</terminalId>\n</config>\n",
            cc.base, terminal_id);
    fclose(f);
    host *h = calloc(1, sizeof *h);
    h->events = calloc(HOST_MAX, sizeof *h->events);
    h->logs = calloc(HOST_MAX, sizeof *h->logs);
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->cond, NULL);
    dlv_options opts = {
        .version = DLV_OPTIONS_VERSION,
        .config_path = path,
        .data_dir = folder,
        .terminal_name = "log test terminal",
        .on_event = on_event,
        .event_arg = h,
        .on_log = on_log,
        .log_arg = h,
        .log_level = DLV_LOG_DEBUG,
        .receipt_printer = printer,
        .long_poll_seconds = 1,
        .utc_offset_minutes = 180,
        .on_notify = on_notify,
        .notify_arg = h,
        .cafe_address = "Москва, Кафе 1",
    };
    dlv_error err = {0};
    if (dlv_ctx_create(&opts, &h->ctx, &err) != DLV_OK || dlv_ctx_start(h->ctx) != DLV_OK) {
        fprintf(stderr, "host: %s\n", err.message);
        dlv_ctx_destroy(h->ctx);
        free(h->events);
        free(h->logs);
        free(h);
        return NULL;
    }
    return h;
}

static void host_stop(host *h, int flush_ms)
{
    dlv_ctx_stop(h->ctx, flush_ms);
    dlv_ctx_destroy(h->ctx);
}

static void host_free(host *h)
{
    for (int i = 0; i < h->event_count; i++)
        free(h->events[i]);
    for (int i = 0; i < h->log_count; i++)
        free(h->logs[i]);
    free(h->events);
    free(h->logs);
    free(h->reply);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->cond);
    free(h);
}

/* Every line holding one of `secrets` (NULL-terminated) in full; returns how many. */
static int leaks(const host *h, const char *const *secrets, size_t count)
{
    int found = 0;
    for (int i = 0; i < h->log_count; i++) {
        for (size_t k = 0; k < count; k++) {
            if (secrets[k] && secrets[k][0] && strstr(h->logs[i], secrets[k])) {
                fprintf(stderr, "\n  log line shows \"%s\": %s", secrets[k], h->logs[i]);
                found++;
            }
        }
    }
    return found;
}

/* ---- the emulator ---- */

static cJSON *admin(const char *method, const char *path, const char *body)
{
    http_result r;
    cc_admin(&cc, method, path, body, &r);
    cJSON *j = r.json;
    r.json = NULL;
    if (r.status != 200)
        fprintf(stderr, "\n  admin %s %s: HTTP %ld %s\n", method, path, r.status,
                r.body ? r.body : "");
    http_result_free(&r);
    return j;
}

static char *new_order(const char *body)
{
    cJSON *o = admin("POST", "orders", body);
    const cJSON *id = cJSON_GetObjectItem(o, "id");
    char *copy = cJSON_IsString(id) ? strdup(id->valuestring) : NULL;
    cJSON_Delete(o);
    return copy;
}

/* The session tokens the emulator issued, read from its database. */
static size_t issued_tokens(char tokens[][64], size_t max)
{
    sqlite3 *db = NULL;
    size_t n = 0;
    if (sqlite3_open_v2(cc.db, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(db, "SELECT token FROM sessions", -1, &s, NULL) == SQLITE_OK) {
            while (n < max && sqlite3_step(s) == SQLITE_ROW)
                snprintf(tokens[n++], 64, "%s", (const char *)sqlite3_column_text(s, 0));
        }
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return n;
}

static char *fresh_dir(const char *name)
{
    char *d = NULL;
    if (asprintf(&d, "%s/%s", dir, name) < 0 || mkdir(d, 0755) != 0)
        return NULL;
    return d;
}

static char req[2048];
static const char *cmd_for(const char *cmd, const char *order_id, const char *extra)
{
    snprintf(req, sizeof req, "{\"cmd\":\"%s\",\"orderId\":\"%s\"%s%s}", cmd, order_id,
             extra ? "," : "", extra ? extra : "");
    return req;
}

/* The order taken at the terminal: the courier fixture without its ids, for customer 3. */
static char *terminal_order(void)
{
    char *path = NULL;
    if (asprintf(&path, "%s/test/unit/data/order/order_courier.json", DLV_TEST_SOURCE_DIR) < 0)
        return NULL;
    char *text = dlv_test_read_file(path, NULL);
    free(path);
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!o)
        return NULL;
    static const char *const drop[] = {"id",      "revision",    "number",
                                       "status",  "whenCreated", "externalNumber",
                                       "courier", "cancelInfo",  "operator"};
    for (size_t i = 0; i < sizeof drop / sizeof *drop; i++)
        cJSON_DeleteItemFromObject(o, drop[i]);
    /* Due in two hours, so it is not overdue at once. */
    char due[32];
    time_t t = time(NULL) + 7200;
    strftime(due, sizeof due, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    cJSON_ReplaceItemInObject(o, "completeBefore", cJSON_CreateString(due));
    cJSON_ReplaceItemInObject(o, "phone", cJSON_CreateString(PHONE3));
    cJSON *c = cJSON_GetObjectItem(o, "customer");
    cJSON_DeleteItemFromObject(c, "id");
    cJSON_ReplaceItemInObject(c, "name", cJSON_CreateString(NAME3));
    cJSON_ReplaceItemInObject(c, "surname", cJSON_CreateString(SURNAME3));
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(o, "address"), "street",
                              cJSON_CreateString(STREET3));
    cJSON *wrap = cJSON_CreateObject();
    cJSON_AddStringToObject(wrap, "cmd", "createOrder");
    cJSON_AddItemToObject(wrap, "order", o);
    char *out = cJSON_PrintUnformatted(wrap);
    cJSON_Delete(wrap);
    return out;
}

static void session_logs_hold_no_personal_data(void)
{
    char db[600];
    snprintf(db, sizeof db, "%s/cc-session.db", dir);
    const char *args[] = {"--terminal", TID, "--session-ttl", "3600", NULL};
    CU_ASSERT_EQUAL_FATAL(cc_proc_start(&cc, db, args), 0);
    /* Orders waiting before the terminal starts: a courier order with a full address, a pickup
     * order, one the terminal keeps with a warning (a number where the customer's name goes:
     * tolerant reading, protocol 1.1) and one it must refuse (a sum that is not a number). */
    char *id1 = new_order(
        "{\"serviceType\":\"DeliveryByCourier\",\"phone\":\"" PHONE1 "\","
        "\"customer\":{\"id\":\"0b7e3c2a-1d4f-4e6a-8b9c-2f3e4d5c6b71\",\"name\":\"" NAME1 "\","
        "\"surname\":\"" SURNAME1 "\",\"comment\":\"" NOTE1 "\",\"inBlacklist\":false,"
        "\"blacklistReason\":null},"
        "\"address\":{\"city\":\"Москва\",\"street\":\"" STREET1 "\",\"house\":\"" HOUSE1 "\","
        "\"building\":null,\"flat\":\"" FLAT1 "\",\"entrance\":\"2\",\"floor\":\"9\","
        "\"doorphone\":\"" DOORPHONE1 "\",\"region\":null,\"comment\":\"" ADDRNOTE1 "\"},"
        "\"comment\":\"" NOTE1 "\"}");
    char *id2 = new_order(
        "{\"serviceType\":\"DeliveryByClient\",\"phone\":\"" PHONE2 "\","
        "\"customer\":{\"id\":\"0b7e3c2a-1d4f-4e6a-8b9c-2f3e4d5c6b72\",\"name\":\"" NAME2 "\","
        "\"surname\":\"" SURNAME2 "\",\"comment\":null,\"inBlacklist\":false,"
        "\"blacklistReason\":null}}");
    char *bad =
        new_order("{\"serviceType\":\"DeliveryByCourier\",\"phone\":\"" PHONE2 "\","
                  "\"customer\":{\"id\":\"0b7e3c2a-1d4f-4e6a-8b9c-2f3e4d5c6b73\",\"name\":42,"
                  "\"surname\":\"" SURNAME2 "\",\"inBlacklist\":false},"
                  "\"address\":{\"city\":\"Москва\",\"street\":\"" STREET2 "\",\"house\":\"1\"}}");
    char *bad_sum = new_order("{\"serviceType\":\"DeliveryByClient\",\"phone\":\"" PHONE2 "\","
                              "\"resultSum\":\"abc\"}");
    CU_ASSERT_FATAL(id1 && id2 && bad && bad_sum);

    char *d = fresh_dir("session");
    char printer[700];
    snprintf(printer, sizeof printer, "file:%s/receipts.bin", d);
    host *h = host_start(d, TID, printer);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT(wait_event(h, 8000, "\"event\":\"registered\"", NULL));
    CU_ASSERT(wait_event(h, 5000, "\"event\":\"order\"", id1));
    CU_ASSERT(wait_event(h, 5000, "\"event\":\"order\"", id2));
    CU_ASSERT(wait_event(h, 5000, "\"event\":\"order\"", bad));
    CU_ASSERT(wait_event(h, 5000, "InvalidOrder", bad_sum));
    /* The kept order's broken field is logged once, by order id and field (never its value). */
    int warned = 0;
    pthread_mutex_lock(&h->lock);
    for (int i = 0; i < h->log_count; i++)
        warned +=
            h->logs[i][0] == 'W' && strstr(h->logs[i], bad) && strstr(h->logs[i], "customer.name");
    pthread_mutex_unlock(&h->lock);
    CU_ASSERT_EQUAL(warned, 1);
    request_ok(h, LOGIN);
    request_ok(h, cmd_for("confirm", id1, NULL));
    request_ok(h, cmd_for("confirm", id2, NULL));
    request_ok(h, cmd_for("printInvoice", id1, NULL));
    CU_ASSERT(wait_event(h, 8000, "\"event\":\"printed\"", id1));
    /* A local order, taken by phone. */
    char *create = terminal_order();
    CU_ASSERT_PTR_NOT_NULL_FATAL(create);
    char *r = request(h, create);
    DLV_ASSERT_CONTAINS(r, "\"ok\":true");
    free(r);
    free(create);
    /* Faults on both routes: warnings with the call-center's answers in them. */
    cJSON_Delete(admin("POST", "faults",
                       "{\"route\":\"commands\",\"fault\":\"status\",\"status\":503,"
                       "\"retryAfter\":1}"));
    cJSON_Delete(admin("POST", "faults", "{\"route\":\"orders\",\"fault\":\"garbage\"}"));
    request_ok(h, cmd_for("setStatus", id1, "\"status\":\"CookingStarted\""));
    /* The call-center cancels an order while a local step on it is held back: rejected. */
    cJSON_Delete(
        admin("POST", "faults", "{\"route\":\"commands\",\"fault\":\"delay\",\"delayMs\":800}"));
    request_ok(h, cmd_for("setStatus", id2, "\"status\":\"CookingStarted\""));
    char path[128], body[128];
    snprintf(path, sizeof path, "orders/%s", id2);
    snprintf(body, sizeof body, "{\"cancelCauseId\":\"" CAUSE "\"}");
    cJSON_Delete(admin("POST", path, body));
    CU_ASSERT(wait_event(h, 10000, "\"to\":\"Cancelled\"", id2));
    /* The session expires: the terminal registers again with a new token. */
    cJSON_Delete(admin("POST", "sessions/expire", NULL));
    char *id3 = new_order("{\"serviceType\":\"DeliveryByCourier\",\"phone\":\"" PHONE1 "\"}");
    CU_ASSERT(wait_event(h, 10000, "\"event\":\"order\"", id3));
    request_ok(h, cmd_for("confirm", id3, NULL));
    for (int i = 0; i < 50; i++) { /* let the last command reach the call-center */
        char *health = dlv_ctx_health(h->ctx);
        bool idle = health && strstr(health, "\"pendingCommands\":0");
        dlv_free(health);
        if (idle)
            break;
        usleep(100000);
    }
    host_stop(h, 2000);

    char tokens[16][64];
    size_t token_count = issued_tokens(tokens, 16);
    CU_ASSERT(token_count >= 2); /* the first session and the one after it expired */
    const char *secrets[ARRAY_SIZE(personal_data) + 17];
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_SIZE(personal_data); i++)
        secrets[n++] = personal_data[i];
    secrets[n++] = TID;
    for (size_t i = 0; i < token_count; i++)
        secrets[n++] = tokens[i];
    if (h->log_count < 5)
        fprintf(stderr, "\n  only %d log lines captured\n", h->log_count);
    CU_ASSERT(h->log_count >= 5); /* the session really logged */
    CU_ASSERT_EQUAL(leaks(h, secrets, n), 0);
    if (getenv("DLV_TEST_VERBOSE"))
        fprintf(stderr, "\n  %d log lines, %d events, %zu tokens checked\n", h->log_count,
                h->event_count, token_count);
    host_free(h);
    cc_proc_stop(&cc);
    free(id1);
    free(id2);
    free(id3);
    free(bad);
    free(bad_sum);
    free(d);
}

/* Was a bug (fixed): when the call-center refused the registration, the runtime logged its
 * answer verbatim ("registration failed: HTTP 403 TerminalNotRegistered: terminal <id> is not
 * registered ..."), and the emulator, like a real call-center may, names the terminalId in
 * full. */
static void refused_registration_logs_no_terminal_id(void)
{
    char db[600];
    snprintf(db, sizeof db, "%s/cc-refused.db", dir);
    const char *args[] = {"--terminal", TID, NULL};
    CU_ASSERT_EQUAL_FATAL(cc_proc_start(&cc, db, args), 0);
    char *d = fresh_dir("refused");
    host *h = host_start(d, UNKNOWN_TID, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT(wait_event(h, 8000, "registrationFailed", "TerminalNotRegistered"));
    host_stop(h, 100);
    const char *secrets[] = {UNKNOWN_TID};
    CU_ASSERT_EQUAL(leaks(h, secrets, 1), 0);
    host_free(h);
    cc_proc_stop(&cc);
    free(d);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    dir = dlv_test_mkdtemp();
    static const dlv_test_case cases[] = {
        DLV_TEST(session_logs_hold_no_personal_data),
        DLV_TEST(refused_registration_logs_no_terminal_id),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("runtime_logs", cases);
    dlv_test_rmdir(dir);
    curl_global_cleanup();
    return rc;
}
