/* The runtime's sync (lib/runtime/sync.c) driven through a fake call-center backend
 * (test/common/fakebackend.c): no emulator process, every answer scripted by the test. The
 * context runs on this thread's loop, so each step is deterministic. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "delivery/delivery.h"
#include "fakebackend.h"
#include "runtime/rt.h"
#include "testlib.h"

#define TID "e49d3632-b06a-4a9a-8c76-ae816c4404ad"
#define ORDER_ID "6f0c8e5a-3b7d-4c2e-9a1f-0d2b4c6e8a10"
#define LOGIN                                                                                      \
    "{\"cmd\":\"login\",\"userId\":\"00000000-0000-4000-8000-0000000000aa\","                      \
    "\"name\":\"Manager\",\"rights\":[\"D_CND\",\"D_MD\",\"D_CD\",\"D_CAD\",\"F_CASH\",\"D_ED\"]}"

/* ---- a context on this thread's loop ---- */

typedef struct harness {
    uv_loop_t loop;
    char *dir;
    dlv_ctx *ctx;
    char **events;
    size_t event_count;
    char *reply;
} harness;

static void on_event(void *arg, const char *json)
{
    harness *h = arg;
    h->events = realloc(h->events, (h->event_count + 1) * sizeof *h->events);
    h->events[h->event_count++] = strdup(json);
}

static void on_log(void *arg, dlv_log_level level, const char *line)
{
    (void)arg;
    (void)level;
    (void)line; /* the scripted faults log errors on purpose */
}

static void on_reply(void *arg, const char *json)
{
    harness *h = arg;
    free(h->reply);
    h->reply = strdup(json);
}

static char *read_data(const char *name)
{
    char *path = NULL;
    if (asprintf(&path, "%s/test/unit/data/order/%s", DLV_TEST_SOURCE_DIR, name) < 0)
        return NULL;
    char *text = dlv_test_read_file(path, NULL);
    free(path);
    return text;
}

static void turn(harness *h, int ms)
{
    for (int i = 0; i < ms; i++) {
        uv_run(&h->loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
}

/* Index of the first event at or after `from` that contains both needles, or -1. */
static int find_event(harness *h, size_t from, const char *a, const char *b)
{
    for (size_t i = from; i < h->event_count; i++)
        if (dlv_test_contains(h->events[i], a) && (!b || dlv_test_contains(h->events[i], b)))
            return (int)i;
    return -1;
}

static int count_events(harness *h, const char *a)
{
    int n = 0;
    for (size_t i = 0; i < h->event_count; i++)
        n += dlv_test_contains(h->events[i], a);
    return n;
}

static int wait_event(harness *h, const char *a, const char *b, int ms)
{
    int i;
    for (int waited = 0; (i = find_event(h, 0, a, b)) < 0 && waited < ms; waited++) {
        uv_run(&h->loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    return i;
}

static const char *request(harness *h, const char *json)
{
    free(h->reply);
    h->reply = NULL;
    CU_ASSERT_EQUAL(dlv_ctx_request(h->ctx, json, on_reply, h), DLV_OK);
    for (int waited = 0; !h->reply && waited < 2000; waited++) {
        uv_run(&h->loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    return h->reply ? h->reply : "";
}

static void start_ctx(harness *h)
{
    dlv_options o = {.version = DLV_OPTIONS_VERSION,
                     .config_path = NULL,
                     .data_dir = h->dir,
                     .loop = &h->loop,
                     .on_event = on_event,
                     .event_arg = h,
                     .on_log = on_log,
                     .receipt_printer = "null:"};
    char *cfg = NULL;
    CU_ASSERT_FATAL(asprintf(&cfg, "%s/deliveryPluginConfig.xml", h->dir) > 0);
    o.config_path = cfg;
    dlv_error err = {0};
    int rc = dlv_ctx_create(&o, &h->ctx, &err);
    if (rc != DLV_OK)
        fprintf(stderr, "\n  dlv_ctx_create: %s\n", err.message);
    free(cfg);
    CU_ASSERT_EQUAL_FATAL(rc, DLV_OK);
    CU_ASSERT_EQUAL_FATAL(dlv_ctx_start(h->ctx), DLV_OK);
}

static void setup(harness *h)
{
    memset(h, 0, sizeof *h);
    CU_ASSERT_EQUAL_FATAL(uv_loop_init(&h->loop), 0);
    h->dir = dlv_test_mkdtemp();
    CU_ASSERT_PTR_NOT_NULL_FATAL(h->dir);
    char *path = dlv_test_write_file(h->dir, "deliveryPluginConfig.xml",
                                     "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<config>\n"
                                     "  <serverUrl>http://127.0.0.1:9/resto</serverUrl>\n"
                                     "  <connectToServerDelayInSeconds>0"
                                     "</connectToServerDelayInSeconds>\n"
                                     "  <terminalId>" TID "</terminalId>\n"
                                     "</config>\n");
    free(path);
    fake_backend_install();
    start_ctx(h);
}

/* Stops the context, lets the loop close every handle, and checks it closes cleanly. */
static void stop_ctx(harness *h, int flush_ms)
{
    CU_ASSERT_EQUAL(dlv_ctx_stop(h->ctx, flush_ms), DLV_OK);
    for (int waited = 0; find_event(h, 0, "\"event\":\"stopped\"", NULL) < 0 && waited < 5000;
         waited++) {
        uv_run(&h->loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    uv_run(&h->loop, UV_RUN_DEFAULT);
    dlv_ctx_destroy(h->ctx);
    h->ctx = NULL;
}

static void clear_events(harness *h)
{
    for (size_t i = 0; i < h->event_count; i++)
        free(h->events[i]);
    free(h->events);
    h->events = NULL;
    h->event_count = 0;
}

static void teardown(harness *h)
{
    if (h->ctx)
        stop_ctx(h, 0);
    CU_ASSERT_EQUAL(uv_loop_close(&h->loop), 0);
    fake_backend_uninstall();
    clear_events(h);
    free(h->reply);
    dlv_test_rmdir(h->dir);
}

static void register_ok(harness *h)
{
    fake_call *c = fake_wait(&h->loop, FAKE_REGISTER, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    char *answer = read_data("register_response.json");
    CU_ASSERT_PTR_NOT_NULL_FATAL(answer);
    fake_complete_ok(c, answer);
    free(answer);
}

/* One order answer holding order_courier.json at `revision`. */
static char *orders_answer(int64_t revision)
{
    char *order = read_data("order_courier.json");
    char *text = NULL;
    if (order &&
        asprintf(&text, "{\"revision\":%lld,\"orders\":[%s]}", (long long)revision, order) < 0)
        text = NULL;
    free(order);
    return text;
}

/* Waits for the next poll and answers it with `answer` (freed). */
static void answer_poll(harness *h, char *answer)
{
    fake_call *poll = fake_wait(&h->loop, FAKE_POLL, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(poll);
    CU_ASSERT_PTR_NOT_NULL_FATAL(answer);
    fake_complete_ok(poll, answer);
    free(answer);
}

/* Registers, delivers one order, logs in and confirms it: one command in the outbox. */
static fake_call *confirmed_order_in_flight(harness *h)
{
    register_ok(h);
    answer_poll(h, orders_answer(1040));
    CU_ASSERT(wait_event(h, "\"event\":\"order\"", ORDER_ID, 1000) >= 0);
    char req[160];
    snprintf(req, sizeof req, "{\"cmd\":\"confirm\",\"orderId\":\"%s\"}", ORDER_ID);
    /* Before a login: refused, in Russian (the default locale), naming what to do. */
    const char *refused = request(h, req);
    DLV_ASSERT_CONTAINS(refused, "\"error\":\"MissingRight\"");
    DLV_ASSERT_CONTAINS(refused, "пользователь не вошёл в систему");
    DLV_ASSERT_CONTAINS(request(h, "{\"cmd\":\"fly\"}"), "неизвестная команда");
    DLV_ASSERT_CONTAINS(request(h, LOGIN), "\"ok\":true");
    DLV_ASSERT_CONTAINS(request(h, req), "\"reply\":\"confirm\",\"ok\":true");
    fake_call *send = fake_wait(&h->loop, FAKE_SEND, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(send);
    /* The confirmation, and the automatic start of cooking it makes due (cookingStartMode). */
    CU_ASSERT(send->command_count >= 1);
    DLV_ASSERT_CONTAINS(send->commands[0], ORDER_ID);
    DLV_ASSERT_CONTAINS(send->commands[0], "ChangeStatus");
    return send;
}

/* An answer applying every command of a send call. */
static char *applied_answer(const fake_call *c, int64_t revision)
{
    size_t cap = 64 + c->command_count * 128;
    char *text = malloc(cap);
    int n = snprintf(text, cap, "{\"revision\":%lld,\"results\":[", (long long)revision);
    for (size_t i = 0; i < c->command_count; i++)
        n += snprintf(text + n, cap - (size_t)n,
                      "%s{\"id\":\"%s\",\"outcome\":\"Applied\",\"revision\":%lld}", i ? "," : "",
                      fake_command_id(c, i), (long long)revision);
    snprintf(text + n, cap - (size_t)n, "]}");
    return text;
}

/* Command ids seen in send calls, to prove each went exactly once once acknowledged. */
typedef struct sent_ids {
    char ids[64][40];
    int count;
} sent_ids;

static void note_sent(sent_ids *seen, const fake_call *c)
{
    for (size_t i = 0; i < c->command_count && seen->count < 64; i++)
        snprintf(seen->ids[seen->count++], sizeof seen->ids[0], "%s", fake_command_id(c, i));
}

static int times_sent(const sent_ids *seen, const char *id)
{
    int n = 0;
    for (int i = 0; i < seen->count; i++)
        n += strcmp(seen->ids[i], id) == 0;
    return n;
}

/* Acknowledges `send` and every later send until the outbox is empty. */
static void acknowledge_all(harness *h, fake_call *send, sent_ids *seen)
{
    for (int round = 0; send && round < 10; round++) {
        note_sent(seen, send);
        char *answer = applied_answer(send, 1043 + round);
        fake_complete_ok(send, answer);
        free(answer);
        send = fake_wait(&h->loop, FAKE_SEND, 200);
    }
}

static long pending_commands(harness *h)
{
    char *health = dlv_ctx_health(h->ctx);
    const char *p = health ? strstr(health, "\"pendingCommands\":") : NULL;
    long n = p ? strtol(p + strlen("\"pendingCommands\":"), NULL, 10) : -1;
    dlv_free(health);
    return n;
}

/* ---- tests ---- */

static void registers_and_polls(void)
{
    harness h;
    setup(&h);
    CU_ASSERT(wait_event(&h, "\"event\":\"started\"", TID, 1000) >= 0);
    register_ok(&h);
    int i = wait_event(&h, "\"event\":\"registered\"", TID, 1000);
    CU_ASSERT(i >= 0);
    if (i >= 0)
        DLV_ASSERT_CONTAINS(h.events[i], "cancelCauses");
    CU_ASSERT(wait_event(&h, "\"event\":\"connection\"", "online", 1000) >= 0);
    fake_call *poll = fake_wait(&h.loop, FAKE_POLL, 1000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(poll);
    CU_ASSERT_EQUAL(poll->since_revision, 0);
    CU_ASSERT_PTR_NULL(fake_pending(FAKE_SEND)); /* nothing to send */
    teardown(&h);
    CU_ASSERT_EQUAL(fake_backend_stats()->opens, 1);
    CU_ASSERT_EQUAL(fake_backend_stats()->closes, 1);
}

static void registration_refused_is_told_and_retried(void)
{
    harness h;
    setup(&h);
    fake_call *c = fake_wait(&h.loop, FAKE_REGISTER, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    fake_complete_error(c, DLV_ESERVER, true, 0, "HTTP 503");
    int i = wait_event(&h, "registrationFailed", NULL, 1000);
    CU_ASSERT(i >= 0);
    if (i >= 0)
        DLV_ASSERT_CONTAINS(h.events[i], "HTTP 503");
    /* Retry-After 0: the next attempt comes at once. */
    register_ok(&h);
    CU_ASSERT(wait_event(&h, "\"event\":\"registered\"", NULL, 1000) >= 0);
    teardown(&h);
}

static void orders_arrive_and_next_poll_resumes(void)
{
    harness h;
    setup(&h);
    register_ok(&h);
    answer_poll(&h, orders_answer(1040));
    int i = wait_event(&h, "\"event\":\"order\"", ORDER_ID, 1000);
    CU_ASSERT(i >= 0);
    if (i >= 0)
        DLV_ASSERT_CONTAINS(h.events[i], "\"status\":\"Unconfirmed\"");
    fake_call *poll = fake_wait(&h.loop, FAKE_POLL, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(poll);
    CU_ASSERT_EQUAL(poll->since_revision, 1040);
    /* An invalid order is left out and reported; the answer still counts. */
    fake_complete_ok(poll, "{\"revision\":1041,\"orders\":[{\"id\":\"x\"}]}");
    CU_ASSERT(wait_event(&h, "\"code\":\"InvalidOrder\"", NULL, 1000) >= 0);
    teardown(&h);
}

static void command_sent_and_acknowledged_once(void)
{
    harness h;
    setup(&h);
    fake_call *send = confirmed_order_in_flight(&h);
    CU_ASSERT_EQUAL(strlen(fake_command_id(send, 0)), 36);
    CU_ASSERT(pending_commands(&h) >= (long)send->command_count);
    sent_ids seen = {0};
    acknowledge_all(&h, send, &seen);
    turn(&h, 300);
    CU_ASSERT_EQUAL(pending_commands(&h), 0);
    /* Acknowledged: never sent again. */
    CU_ASSERT_PTR_NULL(fake_pending(FAKE_SEND));
    CU_ASSERT(seen.count >= 1);
    for (int i = 0; i < seen.count; i++)
        CU_ASSERT_EQUAL(times_sent(&seen, seen.ids[i]), 1);
    teardown(&h);
}

static void failed_send_is_retried_with_the_same_id(void)
{
    harness h;
    setup(&h);
    fake_call *send = confirmed_order_in_flight(&h);
    char id[64];
    snprintf(id, sizeof id, "%s", fake_command_id(send, 0));
    size_t count = send->command_count;
    int sends = fake_backend_stats()->calls[FAKE_SEND];
    fake_complete_error(send, DLV_ESERVER, true, -1, "HTTP 500");
    CU_ASSERT(wait_event(&h, "\"event\":\"connection\"", "offline", 1000) >= 0);
    CU_ASSERT(pending_commands(&h) >= (long)count);
    send = fake_wait(&h.loop, FAKE_SEND, 3000); /* after the backoff */
    CU_ASSERT_PTR_NOT_NULL_FATAL(send);
    CU_ASSERT_EQUAL(fake_backend_stats()->calls[FAKE_SEND], sends + 1);
    CU_ASSERT_STRING_EQUAL(fake_command_id(send, 0), id);
    sent_ids seen = {0};
    acknowledge_all(&h, send, &seen);
    turn(&h, 100);
    CU_ASSERT_EQUAL(pending_commands(&h), 0);
    CU_ASSERT(wait_event(&h, "\"event\":\"connection\"", "online", 100) >= 0);
    teardown(&h);
}

static void rejected_command_puts_server_state_back(void)
{
    harness h;
    setup(&h);
    fake_call *send = confirmed_order_in_flight(&h);
    /* The call-center cancelled the order meanwhile: every step is refused. */
    char answer[2048];
    int n = snprintf(answer, sizeof answer, "{\"revision\":1050,\"results\":[");
    for (size_t k = 0; k < send->command_count && k < 8; k++)
        n += snprintf(answer + n, sizeof answer - (size_t)n,
                      "%s{\"id\":\"%s\",\"outcome\":\"Rejected\",\"error\":\"StatusConflict\","
                      "\"description\":\"cancelled at the call-center\","
                      "\"currentStatus\":\"Cancelled\"}",
                      k ? "," : "", fake_command_id(send, k));
    snprintf(answer + n, sizeof answer - (size_t)n, "]}");
    fake_complete_ok(send, answer);
    int i = wait_event(&h, "\"event\":\"commandRejected\"", ORDER_ID, 1000);
    CU_ASSERT(i >= 0);
    if (i >= 0)
        DLV_ASSERT_CONTAINS(h.events[i], "StatusConflict");
    CU_ASSERT(wait_event(&h, "statusChanged", "\"origin\":\"server\"", 1000) >= 0);
    CU_ASSERT_EQUAL(pending_commands(&h), 0);
    teardown(&h);
}

static void session_loss_registers_again(void)
{
    harness h;
    setup(&h);
    register_ok(&h);
    fake_call *poll = fake_wait(&h.loop, FAKE_POLL, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(poll);
    fake_complete_error(poll, DLV_EUNAUTHORIZED, false, -1, "HTTP 401");
    CU_ASSERT(wait_event(&h, "\"event\":\"connection\"", "offline", 1000) >= 0);
    /* At once, without waiting for a timer. */
    CU_ASSERT_PTR_NOT_NULL(fake_pending(FAKE_REGISTER));
    CU_ASSERT_PTR_NULL(fake_pending(FAKE_POLL));
    CU_ASSERT_EQUAL(fake_backend_stats()->calls[FAKE_REGISTER], 2);
    register_ok(&h);
    CU_ASSERT_EQUAL(count_events(&h, "\"event\":\"registered\""), 2);
    CU_ASSERT_PTR_NOT_NULL(fake_wait(&h.loop, FAKE_POLL, 2000));
    teardown(&h);
}

static void stop_with_commands_pending_keeps_them(void)
{
    harness h;
    setup(&h);
    fake_call *send = confirmed_order_in_flight(&h);
    char id[64];
    snprintf(id, sizeof id, "%s", fake_command_id(send, 0));
    /* The answer never comes: the stop waits its flush time, then the call ends. */
    stop_ctx(&h, 100);
    int i = find_event(&h, 0, "\"event\":\"stopped\"", NULL);
    CU_ASSERT(i >= 0);
    if (i >= 0)
        CU_ASSERT(!dlv_test_contains(h.events[i], "\"pendingCommands\":0"));
    CU_ASSERT_EQUAL(fake_backend_stats()->closes, 1);
    /* The next start sends the same command again. */
    clear_events(&h);
    start_ctx(&h);
    register_ok(&h);
    send = fake_wait(&h.loop, FAKE_SEND, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(send);
    CU_ASSERT_STRING_EQUAL(fake_command_id(send, 0), id);
    sent_ids seen = {0};
    acknowledge_all(&h, send, &seen);
    turn(&h, 100);
    CU_ASSERT_EQUAL(pending_commands(&h), 0);
    teardown(&h);
}

static void heartbeat_and_stop_end_calls_in_flight(void)
{
    harness h;
    setup(&h);
    register_ok(&h);
    CU_ASSERT_PTR_NOT_NULL(fake_wait(&h.loop, FAKE_POLL, 2000));
    /* A poll is open: no heartbeat goes; the stop ends the poll with DLV_ESTOPPED. */
    CU_ASSERT_PTR_NULL(fake_pending(FAKE_HEARTBEAT));
    teardown(&h);
    CU_ASSERT_EQUAL(fake_backend_stats()->closes, 1);
}

/* ---- protocol 1.1 ---- */

/* register_response.json as a 1.1 server answers it, with this block reserved. */
static void register_11(harness *h, int64_t first, int64_t last)
{
    fake_call *c = fake_wait(&h->loop, FAKE_REGISTER, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    char *text = read_data("register_response.json");
    cJSON *reg = text ? cJSON_Parse(text) : NULL;
    free(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
    cJSON_AddNumberToObject(reg, "protocolMinor", 1);
    cJSON *block = cJSON_AddObjectToObject(reg, "numberBlock");
    cJSON_AddNumberToObject(block, "first", (double)first);
    cJSON_AddNumberToObject(block, "last", (double)last);
    char *answer = cJSON_PrintUnformatted(reg);
    cJSON_Delete(reg);
    fake_complete_ok(c, answer);
    free(answer);
}

/* order_courier.json changed by `edit` (may be NULL) at this revision, as answer text. */
static char *order_variant(int64_t revision, void (*edit)(cJSON *o))
{
    char *text = read_data("order_courier.json");
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!o)
        return NULL;
    cJSON_ReplaceItemInObject(o, "revision", cJSON_CreateNumber((double)revision));
    if (edit)
        edit(o);
    char *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}

static void paging_follows_more_at_once(void)
{
    harness h;
    setup(&h);
    register_11(&h, 900000, 900999);
    fake_call *poll = fake_wait(&h.loop, FAKE_POLL, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(poll);
    char *order = order_variant(1040, NULL), *page = NULL;
    CU_ASSERT_FATAL(asprintf(&page, "{\"revision\":1040,\"more\":true,\"orders\":[%s]}", order) >
                    0);
    fake_complete_ok(poll, page);
    free(page);
    free(order);
    /* The next page is asked for at once, from where this one ended (no one-second pause). */
    poll = fake_wait(&h.loop, FAKE_POLL, 50);
    CU_ASSERT_PTR_NOT_NULL_FATAL(poll);
    CU_ASSERT_EQUAL(poll->since_revision, 1040);
    /* This page is applied on the loop's next turn, after that request went out. */
    CU_ASSERT(wait_event(&h, "\"event\":\"order\"", ORDER_ID, 1000) >= 0);
    /* "more" that does not move on is not followed at once (it would spin). */
    fake_complete_ok(poll, "{\"revision\":1040,\"more\":true,\"orders\":[]}");
    turn(&h, 100);
    CU_ASSERT_PTR_NULL(fake_pending(FAKE_POLL));
    teardown(&h);
}

/* A page answered just before a stop is applied (the loop's next turn comes before the stop
 * is taken), and the next start resumes after it: nothing is half-applied or asked twice. */
static void page_answered_before_stop_is_kept(void)
{
    harness h;
    setup(&h);
    register_11(&h, 900000, 900999);
    fake_call *poll = fake_wait(&h.loop, FAKE_POLL, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(poll);
    CU_ASSERT_EQUAL(poll->since_revision, 0);
    char *order = order_variant(1040, NULL), *page = NULL;
    CU_ASSERT_FATAL(asprintf(&page, "{\"revision\":1040,\"more\":true,\"orders\":[%s]}", order) >
                    0);
    fake_complete_ok(poll, page); /* answered; applied on the loop's next turn */
    free(page);
    free(order);
    stop_ctx(&h, 0);
    CU_ASSERT(find_event(&h, 0, "\"event\":\"order\"", ORDER_ID) >= 0);
    clear_events(&h);
    start_ctx(&h);
    register_11(&h, 900000, 900999);
    poll = fake_wait(&h.loop, FAKE_POLL, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(poll);
    CU_ASSERT_EQUAL(poll->since_revision, 1040);
    CU_ASSERT(find_event(&h, 0, "\"event\":\"order\"", ORDER_ID) >= 0); /* from the cache */
    teardown(&h);
}

static void invalid_order_reported_once_per_revision(void)
{
    harness h;
    setup(&h);
    register_ok(&h);
    const char *answers[] = {
        "{\"revision\":1,\"orders\":[{\"id\":\"x\",\"revision\":5}]}",
        "{\"revision\":2,\"orders\":[{\"id\":\"x\",\"revision\":5}]}", /* the same again */
        "{\"revision\":3,\"orders\":[{\"id\":\"x\",\"revision\":6}]}", /* a new version */
    };
    for (size_t i = 0; i < 3; i++) {
        fake_call *poll = fake_wait(&h.loop, FAKE_POLL, 2000);
        CU_ASSERT_PTR_NOT_NULL_FATAL(poll);
        fake_complete_ok(poll, answers[i]);
        turn(&h, 20);
    }
    CU_ASSERT_EQUAL(count_events(&h, "\"code\":\"InvalidOrder\""), 2);
    teardown(&h);
}

static void broken_fields(cJSON *o)
{
    cJSON_ReplaceItemInObject(o, "status", cJSON_CreateString("Cancelled"));
    cJSON *info = cJSON_CreateObject();
    cJSON_AddStringToObject(info, "whenCancelled", "2026-11-29T12:30:00Z");
    cJSON *cause = cJSON_AddObjectToObject(info, "cause");
    cJSON_AddStringToObject(cause, "id", "client-refused"); /* any non-empty id in 1.1 */
    cJSON_AddStringToObject(cause, "name", "Отказ клиента");
    cJSON_AddNullToObject(info, "comment");
    cJSON_DeleteItemFromObject(o, "cancelInfo");
    cJSON_AddItemToObject(o, "cancelInfo", info);
    cJSON *customer = cJSON_GetObjectItem(o, "customer");
    cJSON_ReplaceItemInObject(customer, "name", cJSON_CreateNumber(42)); /* malformed */
}

static void cancellation_with_broken_fields_reaches_the_host(void)
{
    harness h;
    setup(&h);
    register_ok(&h);
    answer_poll(&h, orders_answer(1040));
    CU_ASSERT(wait_event(&h, "\"event\":\"order\"", ORDER_ID, 1000) >= 0);
    fake_call *poll = fake_wait(&h.loop, FAKE_POLL, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(poll);
    char *order = order_variant(1041, broken_fields), *page = NULL;
    CU_ASSERT_FATAL(asprintf(&page, "{\"revision\":1041,\"orders\":[%s]}", order) > 0);
    fake_complete_ok(poll, page);
    free(page);
    free(order);
    CU_ASSERT(wait_event(&h, "\"event\":\"statusChanged\"", "\"to\":\"Cancelled\"", 1000) >= 0);
    CU_ASSERT_EQUAL(count_events(&h, "InvalidOrder"), 0);
    /* Kept by tolerant reading, it reloads from the cache: no resync from revision 0. */
    stop_ctx(&h, 0);
    clear_events(&h);
    start_ctx(&h);
    register_ok(&h);
    poll = fake_wait(&h.loop, FAKE_POLL, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(poll);
    CU_ASSERT_EQUAL(poll->since_revision, 1041);
    teardown(&h);
}

#define CREATE_ORDER                                                                               \
    "{\"cmd\":\"createOrder\",\"order\":{\"serviceType\":\"DeliveryByClient\","                    \
    "\"completeBefore\":\"2099-01-01T12:00:00Z\",\"phone\":\"+79990000000\","                      \
    "\"customer\":{\"name\":\"Ann\",\"inBlacklist\":false},\"personsCount\":1,"                    \
    "\"splitBetweenPersons\":false,\"items\":[{\"positionId\":"                                    \
    "\"10000000-0000-4000-8000-000000000001\",\"productId\":"                                      \
    "\"20000000-0000-4000-8000-000000000001\",\"name\":\"Tea\",\"amount\":1,\"price\":100,"        \
    "\"sum\":100,\"modifiers\":[]}],\"payments\":[],\"fullSum\":100,\"discountSum\":0,"            \
    "\"resultSum\":100}}"

/* Creates one order; returns its number (-1 when refused). */
static long long create_one(harness *h)
{
    const char *r = request(h, CREATE_ORDER);
    const char *p = strstr(r, "\"number\":");
    if (!p) {
        fprintf(stderr, "\n  createOrder: %s\n", r);
        return -1;
    }
    return strtoll(p + strlen("\"number\":"), NULL, 10);
}

/* Acknowledges the pending sends; a ReserveNumbers gets `block_first`..+9. Returns how many
 * ReserveNumbers were among them. */
static int answer_sends(harness *h, long long block_first)
{
    int reserves = 0;
    for (fake_call *send; (send = fake_wait(&h->loop, FAKE_SEND, 100));) {
        char text[8192];
        int n = snprintf(text, sizeof text, "{\"revision\":2000,\"results\":[");
        for (size_t i = 0; i < send->command_count; i++) {
            bool reserve = strstr(send->commands[i], "\"type\":\"ReserveNumbers\"") != NULL;
            reserves += reserve;
            if (reserve)
                DLV_ASSERT_CONTAINS(send->commands[i], "\"count\":1000");
            n += snprintf(text + n, sizeof text - (size_t)n,
                          "%s{\"id\":\"%s\",\"outcome\":\"Applied\",\"revision\":2000",
                          i ? "," : "", fake_command_id(send, i));
            if (reserve)
                n += snprintf(text + n, sizeof text - (size_t)n,
                              ",\"numberBlock\":{\"first\":%lld,\"last\":%lld}", block_first,
                              block_first + 9);
            n += snprintf(text + n, sizeof text - (size_t)n, "}");
        }
        snprintf(text + n, sizeof text - (size_t)n, "]}");
        fake_complete_ok(send, text);
    }
    return reserves;
}

static void numbers_come_from_blocks_and_reserve_numbers_refills(void)
{
    harness h;
    setup(&h);
    register_11(&h, 900000, 900009);
    CU_ASSERT(wait_event(&h, "\"event\":\"registered\"", NULL, 1000) >= 0);
    DLV_ASSERT_CONTAINS(request(&h, LOGIN), "\"ok\":true");
    /* 8 of 10 numbers: 2 left is not fewer than 20%, no ReserveNumbers yet. */
    for (long long i = 0; i < 8; i++)
        CU_ASSERT_EQUAL(create_one(&h), 900000 + i);
    CU_ASSERT_EQUAL(answer_sends(&h, 910000), 0);
    /* The 9th leaves one: one ReserveNumbers, and only one while it is outstanding. */
    CU_ASSERT_EQUAL(create_one(&h), 900008);
    CU_ASSERT_EQUAL(create_one(&h), 900009);
    CU_ASSERT_EQUAL(answer_sends(&h, 910000), 1);
    /* The block it brought is used once the first is spent. */
    CU_ASSERT_EQUAL(create_one(&h), 910000);
    answer_sends(&h, 0);
    /* The state survives a restart; the register answer naming the old block changes nothing. */
    stop_ctx(&h, 0);
    start_ctx(&h);
    register_11(&h, 900000, 900009);
    CU_ASSERT(wait_event(&h, "\"event\":\"registered\"", NULL, 1000) >= 0);
    DLV_ASSERT_CONTAINS(request(&h, LOGIN), "\"ok\":true");
    CU_ASSERT_EQUAL(create_one(&h), 910001);
    teardown(&h);
}

static void a_10_server_numbers_by_the_10_rule(void)
{
    harness h;
    setup(&h);
    register_11(&h, 900000, 900009);
    CU_ASSERT(wait_event(&h, "\"event\":\"registered\"", NULL, 1000) >= 0);
    DLV_ASSERT_CONTAINS(request(&h, LOGIN), "\"ok\":true");
    CU_ASSERT_EQUAL(create_one(&h), 900000);
    answer_sends(&h, 0);
    stop_ctx(&h, 0);
    start_ctx(&h);
    register_ok(&h); /* no protocolMinor: a 1.0 server */
    CU_ASSERT(wait_event(&h, "\"event\":\"registered\"", NULL, 1000) >= 0);
    DLV_ASSERT_CONTAINS(request(&h, LOGIN), "\"ok\":true");
    /* Blocks dropped; numbers still only grow, so none is handed out twice. */
    CU_ASSERT_EQUAL(create_one(&h), 900001);
    CU_ASSERT_EQUAL(answer_sends(&h, 0), 0); /* never a ReserveNumbers to a 1.0 server */
    teardown(&h);
}

/* ---- issue 17, item 5: outcomes that cannot be stored (disk full) ---- */

/* The default SQLite VFS with one fault: writes to a WAL fail with `wal_write_fault` while it is
 * not 0 (test/unit/test_store_recovery.c has the full wrapper; this one is smaller). A WAL file
 * is opened by the real VFS into the same sqlite3_file, then given a copy of the real methods
 * whose xWrite checks the fault first; every other method is the real one, on the real file. */
static sqlite3_vfs *real_vfs;
static sqlite3_vfs full_disk_vfs;
static int wal_write_fault;
static const sqlite3_io_methods *real_wal_io;
static sqlite3_io_methods wal_io;

static int wal_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    return wal_write_fault ? wal_write_fault : real_wal_io->xWrite(f, buf, n, off);
}

static int full_disk_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    (void)vfs;
    int rc = real_vfs->xOpen(real_vfs, name, f, flags, out);
    if (rc != SQLITE_OK || !(flags & SQLITE_OPEN_WAL) || !f->pMethods)
        return rc;
    if (!real_wal_io) {
        real_wal_io = f->pMethods;
        wal_io = *f->pMethods;
        wal_io.xWrite = wal_write;
    }
    if (f->pMethods == real_wal_io)
        f->pMethods = &wal_io;
    return rc;
}

/* Makes the wrapper the default VFS (so the context's store uses it), fault off. */
static void full_disk_install(void)
{
    real_vfs = sqlite3_vfs_find(NULL);
    full_disk_vfs = *real_vfs;
    full_disk_vfs.zName = "dlvtest-full-disk";
    full_disk_vfs.xOpen = full_disk_open;
    full_disk_vfs.pNext = NULL;
    wal_write_fault = 0;
    CU_ASSERT_EQUAL_FATAL(sqlite3_vfs_register(&full_disk_vfs, 1), SQLITE_OK);
}

static void full_disk_uninstall(void)
{
    sqlite3_vfs_unregister(&full_disk_vfs);
    sqlite3_vfs_register(real_vfs, 1); /* the default again */
}

/* While the outcomes of acknowledged commands cannot be stored, the sender waits its backoff
 * before sending them again (lib/runtime/sync.c, on_sent): a handful of requests in 3 s, not a
 * storm; once the disk has room the next answer is stored, each command is told once and the
 * context goes on without a restart. */
static void unstored_outcomes_back_off(void)
{
    full_disk_install();
    harness h;
    setup(&h);
    register_ok(&h); /* a 1.0 server: createOrder numbers locally, no ReserveNumbers */
    answer_poll(&h, orders_answer(1040));
    CU_ASSERT(wait_event(&h, "\"event\":\"order\"", ORDER_ID, 1000) >= 0);
    DLV_ASSERT_CONTAINS(request(&h, LOGIN), "\"ok\":true");
    DLV_ASSERT_CONTAINS(request(&h, "{\"cmd\":\"confirm\",\"orderId\":\"" ORDER_ID "\"}"),
                        "\"ok\":true");
    fake_call *send = fake_wait(&h.loop, FAKE_SEND, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(send);
    sent_ids first = {0};
    note_sent(&first, send);
    long pending = pending_commands(&h);
    CU_ASSERT(pending >= (long)send->command_count);
    int status_events = count_events(&h, "\"event\":\"statusChanged\"");

    /* The disk fills while the request is out: its Applied answer cannot be stored. */
    wal_write_fault = SQLITE_FULL;
    int sends_before = fake_backend_stats()->calls[FAKE_SEND];
    char *answer = applied_answer(send, 1043);
    fake_complete_ok(send, answer);
    free(answer);
    /* Every retry is the same batch, answered Applied again, so the runtime tries to store it
     * again each time. */
    int retries = 0;
    for (int ms = 0; ms < 3000; ms++) {
        uv_run(&h.loop, UV_RUN_NOWAIT);
        if ((send = fake_pending(FAKE_SEND))) { /* one a turn: the old code re-sent at once */
            retries++;
            CU_ASSERT_EQUAL(send->command_count, (size_t)first.count);
            CU_ASSERT_STRING_EQUAL(fake_command_id(send, 0), first.ids[0]);
            answer = applied_answer(send, 1043);
            fake_complete_ok(send, answer);
            free(answer);
        }
        usleep(1000);
    }
    CU_ASSERT_EQUAL(fake_backend_stats()->calls[FAKE_SEND], sends_before + retries);
    fprintf(stderr, "\n  sends in 3 s while outcomes could not be stored: %d\n", retries);
    /* Backoff with full jitter (250 ms, 500 ms, 1 s, 2 s … ceilings): 4 or 5 in 3 s; more
     * than 8 would need nine random delays summing under 3 s (about 5 in a million). Sending
     * again at once made thousands. */
    CU_ASSERT(retries >= 1);
    CU_ASSERT(retries <= 8);
    CU_ASSERT_EQUAL(pending_commands(&h), pending); /* still owed */

    /* Room again: the next attempt (after the backoff in progress) stores the outcomes. */
    wal_write_fault = 0;
    send = fake_wait(&h.loop, FAKE_SEND, 31000); /* DLV__BACKOFF_CAP_MS at most */
    CU_ASSERT_PTR_NOT_NULL_FATAL(send);
    CU_ASSERT_STRING_EQUAL(fake_command_id(send, 0), first.ids[0]);
    answer = applied_answer(send, 1043);
    fake_complete_ok(send, answer);
    free(answer);
    turn(&h, 300);
    CU_ASSERT_EQUAL(pending_commands(&h), 0);
    CU_ASSERT_PTR_NULL(fake_pending(FAKE_SEND)); /* stored: never sent again */
    /* Told once: no rejection, no status change repeated by the answers sent again. */
    CU_ASSERT_EQUAL(count_events(&h, "\"event\":\"commandRejected\""), 0);
    CU_ASSERT_EQUAL(count_events(&h, "\"event\":\"statusChanged\""), status_events);

    /* The context keeps working without a restart: a new order's command goes at once. */
    CU_ASSERT(create_one(&h) > 0);
    send = fake_wait(&h.loop, FAKE_SEND, 1000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(send);
    DLV_ASSERT_CONTAINS(send->commands[0], "CreateOrder");
    sent_ids seen = {0};
    acknowledge_all(&h, send, &seen);
    turn(&h, 300);
    CU_ASSERT_EQUAL(pending_commands(&h), 0);
    teardown(&h);
    full_disk_uninstall();
}

/* ---- issue 17, item 8: pipelined requests; item 9: old and duplicate answers ---- */

typedef struct replies {
    char *text[8];
    int count;
} replies;

static void on_reply_list(void *arg, const char *json)
{
    replies *r = arg;
    if (r->count < 8)
        r->text[r->count++] = strdup(json);
}

/* Registers and delivers order_courier.json at revision 1040; logs in. */
static void order_delivered(harness *h)
{
    register_ok(h);
    answer_poll(h, orders_answer(1040));
    CU_ASSERT(wait_event(h, "\"event\":\"order\"", ORDER_ID, 1000) >= 0);
    DLV_ASSERT_CONTAINS(request(h, LOGIN), "\"ok\":true");
}

/* Requests queued together (one write of a POS) are judged one after the other: setStatus sees the
 * confirmation staged just before it, not the stored view. Every reply echoes its request's id and
 * the replies come in request order, the unparsable one included. */
static void pipelined_requests_see_the_view_left_before(void)
{
    harness h;
    setup(&h);
    order_delivered(&h);
    replies r = {0};
    const char *reqs[] = {
        "{\"cmd\":\"confirm\",\"id\":\"r-1\",\"orderId\":\"" ORDER_ID "\"}",
        "{\"cmd\":\"setStatus\",\"id\":2,\"orderId\":\"" ORDER_ID
        "\",\"status\":\"CookingStarted\"}",
        "this is not json",
        "{\"cmd\":\"list\",\"id\":\"r-4\"}",
    };
    for (size_t i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(dlv_ctx_request(h.ctx, reqs[i], on_reply_list, &r), DLV_OK);
    for (int waited = 0; r.count < 4 && waited < 2000; waited++) {
        uv_run(&h.loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    CU_ASSERT_EQUAL_FATAL(r.count, 4);
    DLV_ASSERT_CONTAINS(r.text[0], "\"reply\":\"confirm\",\"ok\":true");
    DLV_ASSERT_CONTAINS(r.text[0], "\"id\":\"r-1\"");
    DLV_ASSERT_CONTAINS(r.text[1], "\"reply\":\"setStatus\",\"ok\":true");
    DLV_ASSERT_CONTAINS(r.text[1], "\"id\":2");
    DLV_ASSERT_CONTAINS(r.text[1], "\"status\":\"CookingStarted\"");
    DLV_ASSERT_CONTAINS(r.text[2], "\"error\":\"BadCommand\"");
    CU_ASSERT_PTR_NULL(strstr(r.text[2], "\"id\""));
    DLV_ASSERT_CONTAINS(r.text[3], "\"reply\":\"list\"");
    DLV_ASSERT_CONTAINS(r.text[3], "\"id\":\"r-4\"");
    for (int i = 0; i < r.count; i++)
        free(r.text[i]);
    teardown(&h);
}

/* An answer at a lower revision than the terminal's is refused whole: no rewind, no old removal
 * applied again; the host is told both revisions and the next poll asks from the terminal's. */
static void lower_revision_answer_is_refused(void)
{
    harness h;
    setup(&h);
    order_delivered(&h);
    fake_call *poll = fake_wait(&h.loop, FAKE_POLL, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(poll);
    fake_complete_ok(poll,
                     "{\"revision\":1000,\"orders\":[],\"removedOrderIds\":[\"" ORDER_ID "\"]}");
    int i = wait_event(&h, "\"code\":\"RevisionWentBack\"", NULL, 1000);
    CU_ASSERT(i >= 0);
    if (i >= 0) {
        DLV_ASSERT_CONTAINS(h.events[i], "1000");
        DLV_ASSERT_CONTAINS(h.events[i], "1040");
    }
    CU_ASSERT_EQUAL(count_events(&h, "\"event\":\"orderRemoved\""), 0);
    poll = fake_wait(&h.loop, FAKE_POLL, 3000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(poll);
    CU_ASSERT_EQUAL(poll->since_revision, 1040);
    DLV_ASSERT_CONTAINS(request(&h, "{\"cmd\":\"list\"}"), ORDER_ID);
    teardown(&h);
}

/* The same order twice in one answer: the newer is kept and the host is told of the other. */
static void duplicate_ids_in_one_answer_are_told(void)
{
    harness h;
    setup(&h);
    register_ok(&h);
    char *order = read_data("order_courier.json");
    CU_ASSERT_PTR_NOT_NULL_FATAL(order);
    cJSON *older = cJSON_Parse(order);
    cJSON_ReplaceItemInObject(older, "revision", cJSON_CreateNumber(1039));
    char *older_text = cJSON_PrintUnformatted(older);
    char *answer = NULL;
    CU_ASSERT(asprintf(&answer, "{\"revision\":1040,\"orders\":[%s,%s]}", order, older_text) > 0);
    fake_call *poll = fake_wait(&h.loop, FAKE_POLL, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(poll);
    fake_complete_ok(poll, answer);
    int i = wait_event(&h, "\"code\":\"InvalidOrder\"", "duplicate", 1000);
    CU_ASSERT(i >= 0);
    if (i >= 0)
        DLV_ASSERT_CONTAINS(h.events[i], "kept revision 1040");
    CU_ASSERT(find_event(&h, 0, "\"event\":\"order\"", ORDER_ID) >= 0);
    free(answer);
    free(older_text);
    cJSON_Delete(older);
    free(order);
    teardown(&h);
}

static void registry_and_config_agree(void)
{
    CU_ASSERT_PTR_EQUAL(dlv__backend_find(NULL), &dlv__backend_native);
    CU_ASSERT_PTR_EQUAL(dlv__backend_find("native"), &dlv__backend_native);
    CU_ASSERT_PTR_NULL(dlv__backend_find("fake"));
    fake_backend_install();
    CU_ASSERT_PTR_EQUAL(dlv__backend_find(NULL), &fake_backend_methods);
    CU_ASSERT_PTR_EQUAL(dlv__backend_find("fake"), &fake_backend_methods);
    fake_backend_uninstall();
    CU_ASSERT_PTR_EQUAL(dlv__backend_find(NULL), &dlv__backend_native);

    /* Every name the configuration accepts is a registered backend; others are refused. */
    char *dir = dlv_test_mkdtemp();
    const char *names[] = {"native", "iikoCloud"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char text[512];
        snprintf(
            text, sizeof text,
            "<config>\n<serverUrl>http://cc/resto</serverUrl>\n<terminalId>" TID
            "</terminalId>\n<backend>%s</backend>\n<apiLogin>k</apiLogin>\n<organizationId>" TID
            "</organizationId>\n<terminalGroupId>" TID "</terminalGroupId>\n</config>\n",
            names[i]);
        char *path = dlv_test_write_file(dir, "c.xml", text);
        dlv_config *cfg = NULL;
        CU_ASSERT_EQUAL(dlv_config_load(path, DLV_CONFIG_READ_ONLY, &cfg, NULL), DLV_OK);
        CU_ASSERT_PTR_NOT_NULL(dlv__backend_find(dlv_config_backend(cfg)));
        dlv_config_free(cfg);
        free(path);
    }
    char *path = dlv_test_write_file(dir, "c.xml",
                                     "<config>\n<serverUrl>http://cc/resto</serverUrl>\n"
                                     "<backend>iikoOffice</backend>\n</config>\n");
    dlv_error err = {0};
    dlv_config *cfg = NULL;
    CU_ASSERT_EQUAL(dlv_config_load(path, DLV_CONFIG_READ_ONLY, &cfg, &err), DLV_ECONFIG);
    DLV_ASSERT_CONTAINS(err.message, ":3: <backend>: 'iikoOffice'");
    DLV_ASSERT_CONTAINS(err.message, "allowed: native, iikoCloud");
    free(path);
    path = dlv_test_write_file(dir, "c.xml",
                               "<config>\n<serverUrl>http://cc/resto</serverUrl>\n</config>\n");
    CU_ASSERT_EQUAL(dlv_config_load(path, DLV_CONFIG_READ_ONLY, &cfg, NULL), DLV_OK);
    CU_ASSERT_PTR_NULL(dlv_config_backend(cfg)); /* the default */
    dlv_config_free(cfg);
    free(path);
    dlv_test_rmdir(dir);
}

/* order_courier.json is due long ago and still Unconfirmed: its cooking is overdue. */
static void confirmed_at_the_call_center(cJSON *o)
{
    cJSON_ReplaceItemInObject(o, "status", cJSON_CreateString("WaitCooking"));
}

static void deliver_order(harness *h, int64_t revision, void (*edit)(cJSON *o))
{
    fake_call *poll = fake_wait(&h->loop, FAKE_POLL, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(poll);
    char *order = order_variant(revision, edit), *answer = NULL;
    CU_ASSERT_FATAL(
        asprintf(&answer, "{\"revision\":%lld,\"orders\":[%s]}", (long long)revision, order) > 0);
    fake_complete_ok(poll, answer);
    free(order);
    free(answer);
    CU_ASSERT(wait_event(h, "\"event\":\"order\"", ORDER_ID, 1000) >= 0);
    turn(h, 50);
}

static void overdue_told_once_across_restarts(void)
{
    harness h;
    setup(&h);
    register_ok(&h);
    deliver_order(&h, 1040, NULL);
    CU_ASSERT_EQUAL(count_events(&h, "\"event\":\"overdueCooking\""), 1);
    deliver_order(&h, 1041, NULL); /* a newer copy: still not told twice */
    CU_ASSERT_EQUAL(count_events(&h, "\"event\":\"overdueCooking\""), 1);
    /* A restart forgets nothing: the store remembers the warning was given. */
    stop_ctx(&h, 0);
    clear_events(&h);
    start_ctx(&h);
    register_ok(&h);
    /* Confirmed at the call-center: the decisions run again on a still overdue order. */
    deliver_order(&h, 1042, confirmed_at_the_call_center);
    turn(&h, 100);
    CU_ASSERT_EQUAL(count_events(&h, "\"event\":\"overdueCooking\""), 0);
    teardown(&h);
}

/* ---- more orders than views kept in memory ---- */

#define MANY (DLV__RT_VIEWS_IN_MEMORY + 100)

static void many_id(char out[37], int i)
{
    snprintf(out, 37, "6f0c8e5a-3b7d-4c2e-9a1f-%012x", (unsigned)i);
}

static int count_text(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

/* A page of MANY copies of order_courier.json with their own ids and numbers (from the
 * `from`th on), in `status`. */
static char *many_page_from(int64_t revision, const char *status, int from)
{
    char *text = read_data("order_courier.json");
    cJSON *base = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!base)
        return NULL;
    cJSON *answer = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(answer, "orders");
    cJSON_AddNumberToObject(answer, "revision", (double)revision);
    for (int i = from; i < from + MANY; i++) {
        char id[37];
        many_id(id, i);
        cJSON *o = cJSON_Duplicate(base, 1);
        cJSON_ReplaceItemInObject(o, "id", cJSON_CreateString(id));
        cJSON_ReplaceItemInObject(o, "number", cJSON_CreateNumber(200000 + i));
        cJSON_ReplaceItemInObject(o, "revision",
                                  cJSON_CreateNumber((double)revision - MANY + i - from));
        if (status)
            cJSON_ReplaceItemInObject(o, "status", cJSON_CreateString(status));
        cJSON_AddItemToArray(list, o);
    }
    char *out = cJSON_PrintUnformatted(answer);
    cJSON_Delete(answer);
    cJSON_Delete(base);
    return out;
}

static char *many_page_in(int64_t revision, const char *status)
{
    return many_page_from(revision, status, 0);
}

static char *many_page(int64_t revision)
{
    return many_page_in(revision, NULL);
}

static size_t views_in_memory(harness *h)
{
    return h->ctx->orders.table.views;
}

/* Only the most recently used views stay decoded; every other order is read back from the
 * store's cache when a request, a command's outcome or a restart needs it, whole. */
static void orders_beyond_memory_are_read_back_whole(void)
{
    harness h;
    setup(&h);
    register_ok(&h);
    answer_poll(&h, many_page(5000));
    turn(&h, 50);
    CU_ASSERT_EQUAL(count_events(&h, "\"event\":\"order\""), MANY);
    CU_ASSERT_EQUAL(dlv__rt_order_count(h.ctx), MANY);
    CU_ASSERT(views_in_memory(&h) <= DLV__RT_VIEWS_IN_MEMORY);
    char first[37], req[200];
    many_id(first, 0);
    rt_order *o = dlv__rt_order_find(h.ctx, first);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_PTR_NULL(o->view); /* the least recently used: not in memory */
    CU_ASSERT_EQUAL(o->key.number, 200000);
    CU_ASSERT_EQUAL(o->key.status, DLV_STATUS_UNCONFIRMED);

    /* A change to it is judged and made on its whole copy. */
    DLV_ASSERT_CONTAINS(request(&h, LOGIN), "\"ok\":true");
    snprintf(req, sizeof req, "{\"cmd\":\"confirm\",\"orderId\":\"%s\"}", first);
    DLV_ASSERT_CONTAINS(request(&h, req), "\"reply\":\"confirm\",\"ok\":true");
    fake_call *send = fake_wait(&h.loop, FAKE_SEND, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(send);
    DLV_ASSERT_CONTAINS(send->commands[0], first);
    DLV_ASSERT_CONTAINS(send->commands[0], "\"expectedStatus\":\"Unconfirmed\"");
    sent_ids seen = {0};
    acknowledge_all(&h, send, &seen);
    turn(&h, 50);
    CU_ASSERT_EQUAL(pending_commands(&h), 0);
    snprintf(req, sizeof req, "{\"cmd\":\"getOrder\",\"orderId\":\"%s\"}", first);
    const char *got = request(&h, req);
    DLV_ASSERT_CONTAINS(got, "Тверская");
    DLV_ASSERT_CONTAINS(got, "Двойной сыр");
    DLV_ASSERT_CONTAINS(got, "\"number\":200000");
    CU_ASSERT_PTR_NULL(strstr(got, "\"status\":\"Unconfirmed\""));

    /* The list holds every live order, each whole, in bounded memory. */
    const char *list = request(&h, "{\"cmd\":\"list\"}");
    CU_ASSERT_EQUAL(count_text(list, "\"id\":\"6f0c8e5a-3b7d-4c2e-9a1f-"), MANY);
    CU_ASSERT_EQUAL(count_text(list, "Двойной сыр"), MANY);
    CU_ASSERT(views_in_memory(&h) <= DLV__RT_VIEWS_IN_MEMORY);

    /* A restart brings every order back from the cache, the confirmed one as confirmed. */
    stop_ctx(&h, 0);
    clear_events(&h);
    start_ctx(&h);
    CU_ASSERT(wait_event(&h, "\"event\":\"order\"", first, 2000) >= 0);
    CU_ASSERT_EQUAL(count_events(&h, "\"event\":\"order\""), MANY);
    CU_ASSERT_EQUAL(dlv__rt_order_count(h.ctx), MANY);
    CU_ASSERT(views_in_memory(&h) <= DLV__RT_VIEWS_IN_MEMORY);
    o = dlv__rt_order_find(h.ctx, first);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT(o->key.status != DLV_STATUS_UNCONFIRMED);
    got = request(&h, req);
    DLV_ASSERT_CONTAINS(got, "Тверская");
    CU_ASSERT_PTR_NULL(strstr(got, "\"status\":\"Unconfirmed\""));
    teardown(&h);
}

/* A view whose command awaits its answer stays in memory however many orders pass through
 * (the answer settles on it); once answered it may leave again. */
static void views_with_commands_out_stay_in_memory(void)
{
    harness h;
    setup(&h);
    register_ok(&h);
    answer_poll(&h, many_page(5000));
    turn(&h, 50);
    DLV_ASSERT_CONTAINS(request(&h, LOGIN), "\"ok\":true");
    char first[37], req[200];
    many_id(first, 0);
    snprintf(req, sizeof req, "{\"cmd\":\"confirm\",\"orderId\":\"%s\"}", first);
    DLV_ASSERT_CONTAINS(request(&h, req), "\"reply\":\"confirm\",\"ok\":true");
    fake_call *send = fake_wait(&h.loop, FAKE_SEND, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(send);
    turn(&h, 50); /* the confirm's kitchen check printed */
    /* MANY new orders while the confirm is out: every older view but the confirmed one goes. */
    answer_poll(&h, many_page_from(6000, NULL, MANY));
    CU_ASSERT(wait_event(&h, "\"event\":\"order\"", "-9a1f-0000000002c7", 2000) >= 0);
    turn(&h, 50);
    rt_order *o = dlv__rt_order_find(h.ctx, first);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_PTR_NOT_NULL(o->view);
    CU_ASSERT(views_in_memory(&h) <= DLV__RT_VIEWS_IN_MEMORY); /* the kept one counts */
    sent_ids seen = {0};
    acknowledge_all(&h, send, &seen);
    turn(&h, 50);
    CU_ASSERT_EQUAL(pending_commands(&h), 0);
    snprintf(req, sizeof req, "{\"cmd\":\"getOrder\",\"orderId\":\"%s\"}", first);
    CU_ASSERT_PTR_NULL(strstr(request(&h, req), "\"status\":\"Unconfirmed\""));
    /* Answered: the next page may take its place. */
    answer_poll(&h, many_page_from(7000, NULL, 2 * MANY));
    turn(&h, 100);
    CU_ASSERT(views_in_memory(&h) <= DLV__RT_VIEWS_IN_MEMORY);
    teardown(&h);
}

static void on_reply_ignored(void *arg, const char *json)
{
    (void)arg;
    (void)json;
}

/* An edit made right after a payment, before the payment is answered, names the revision the
 * payment left: it waits for the payment's answer instead of going out in the same request with
 * the revision it was staged on (the call-center would refuse it as stale). */
static void edit_behind_a_payment_names_the_revision_after_it(void)
{
    harness h;
    setup(&h);
    register_11(&h, 900000, 900999);
    answer_poll(&h, orders_answer(1040));
    CU_ASSERT(wait_event(&h, "\"event\":\"order\"", ORDER_ID, 1000) >= 0);
    DLV_ASSERT_CONTAINS(request(&h, LOGIN), "\"ok\":true");
    char pay[320], edit[200];
    snprintf(pay, sizeof pay,
             "{\"cmd\":\"pay\",\"orderId\":\"%s\",\"payments\":[{\"paymentTypeId\":"
             "\"7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918\",\"kind\":\"Cash\",\"sum\":1.00}]}",
             ORDER_ID);
    snprintf(edit, sizeof edit,
             "{\"cmd\":\"editOrder\",\"orderId\":\"%s\",\"changes\":{\"comment\":\"домофон\"}}",
             ORDER_ID);
    /* Both in one turn: committed together, before anything is sent. */
    CU_ASSERT_EQUAL(dlv_ctx_request(h.ctx, pay, on_reply_ignored, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv_ctx_request(h.ctx, edit, on_reply_ignored, NULL), DLV_OK);
    fake_call *send = fake_wait(&h.loop, FAKE_SEND, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(send);
    CU_ASSERT_EQUAL_FATAL(send->command_count, 1);
    DLV_ASSERT_CONTAINS(send->commands[0], "\"type\":\"Pay\"");
    char *applied = applied_answer(send, 1043);
    fake_complete_ok(send, applied);
    free(applied);
    send = fake_wait(&h.loop, FAKE_SEND, 2000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(send);
    CU_ASSERT_EQUAL_FATAL(send->command_count, 1);
    DLV_ASSERT_CONTAINS(send->commands[0], "\"type\":\"EditOrder\"");
    DLV_ASSERT_CONTAINS(send->commands[0], "\"expectedRevision\":1043");
    DLV_ASSERT_CONTAINS(send->commands[0], "домофон");
    applied = applied_answer(send, 1044);
    fake_complete_ok(send, applied);
    free(applied);
    turn(&h, 50);
    CU_ASSERT_EQUAL(pending_commands(&h), 0);
    teardown(&h);
}

static dlv__time test_now;

static dlv__time test_clock(void *arg)
{
    (void)arg;
    return test_now;
}

/* The lead-time timer works from the keys: orders whose views are not in memory still start
 * cooking when they are due (cookingStartMode Automatic), each once. */
static void due_orders_beyond_memory_start_cooking(void)
{
    harness h;
    setup(&h);
    CU_ASSERT_PTR_NULL_FATAL(dlv__time_parse("2026-11-29T10:00:00Z", &test_now));
    h.ctx->clock = test_clock;
    register_ok(&h);
    answer_poll(&h, many_page_in(6000, "WaitCooking"));
    turn(&h, 50);
    CU_ASSERT_EQUAL(count_events(&h, "\"event\":\"order\""), MANY);
    CU_ASSERT_PTR_NULL(fake_pending(FAKE_SEND)); /* nothing due yet: the kitchen starts 12:30 */
    CU_ASSERT(views_in_memory(&h) <= DLV__RT_VIEWS_IN_MEMORY);
    /* 12:31: every order is due; the timer's turn finds them from their keys. */
    CU_ASSERT_PTR_NULL_FATAL(dlv__time_parse("2026-11-29T12:31:00Z", &test_now));
    dlv__rt_on_due(&h.ctx->due_timer);
    int started = 0;
    fake_call *send = fake_wait(&h.loop, FAKE_SEND, 2000);
    for (int round = 0; send && round < 50; round++) {
        for (size_t i = 0; i < send->command_count; i++)
            started += strstr(send->commands[i], "\"status\":\"CookingStarted\"") != NULL;
        char *answer = applied_answer(send, 7000 + round);
        fake_complete_ok(send, answer);
        free(answer);
        send = fake_wait(&h.loop, FAKE_SEND, 300);
    }
    CU_ASSERT_EQUAL(started, MANY);
    CU_ASSERT_EQUAL(count_events(&h, "\"to\":\"CookingStarted\""), MANY);
    CU_ASSERT(views_in_memory(&h) <= DLV__RT_VIEWS_IN_MEMORY);
    /* Once: the next turn finds nothing left to start. */
    dlv__rt_on_due(&h.ctx->due_timer);
    turn(&h, 50);
    CU_ASSERT_PTR_NULL(fake_pending(FAKE_SEND));
    teardown(&h);
}

int main(void)
{
    static const dlv_test_case cases[] = {
        DLV_TEST(registry_and_config_agree),
        DLV_TEST(registers_and_polls),
        DLV_TEST(registration_refused_is_told_and_retried),
        DLV_TEST(orders_arrive_and_next_poll_resumes),
        DLV_TEST(command_sent_and_acknowledged_once),
        DLV_TEST(failed_send_is_retried_with_the_same_id),
        DLV_TEST(rejected_command_puts_server_state_back),
        DLV_TEST(session_loss_registers_again),
        DLV_TEST(stop_with_commands_pending_keeps_them),
        DLV_TEST(heartbeat_and_stop_end_calls_in_flight),
        DLV_TEST(paging_follows_more_at_once),
        DLV_TEST(page_answered_before_stop_is_kept),
        DLV_TEST(invalid_order_reported_once_per_revision),
        DLV_TEST(cancellation_with_broken_fields_reaches_the_host),
        DLV_TEST(numbers_come_from_blocks_and_reserve_numbers_refills),
        DLV_TEST(a_10_server_numbers_by_the_10_rule),
        DLV_TEST(pipelined_requests_see_the_view_left_before),
        DLV_TEST(lower_revision_answer_is_refused),
        DLV_TEST(duplicate_ids_in_one_answer_are_told),
        DLV_TEST(overdue_told_once_across_restarts),
        DLV_TEST(unstored_outcomes_back_off),
        DLV_TEST(orders_beyond_memory_are_read_back_whole),
        DLV_TEST(views_with_commands_out_stay_in_memory),
        DLV_TEST(due_orders_beyond_memory_start_cooking),
        DLV_TEST(edit_behind_a_payment_names_the_revision_after_it),
        DLV_TEST_END,
    };
    return dlv_test_main("runtime_sync", cases);
}
