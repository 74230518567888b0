/* Keeping the terminal in sync with the call-center: registration, the long poll, the command
 * sender and the heartbeat, each with its own retry timer (backoff with full jitter). */
#include "runtime/rt.h"

#include <string.h>

#include "order/json.h"

#define REGISTER_RETRY_NOT_REGISTERED_S 60
#define HEARTBEAT_MS 60000

static void start_register(dlv_ctx *ctx);
static void start_poll(dlv_ctx *ctx);
static void start_send(dlv_ctx *ctx);

static bool running(const dlv_ctx *ctx)
{
    return ctx->loop_state == RT_RUNNING || ctx->loop_state == RT_STOPPING;
}

static void note_health(dlv_ctx *ctx, bool online, const char *error, double rtt_ms)
{
    uv_mutex_lock(&ctx->lock);
    bool was = ctx->health.online;
    ctx->health.online = online;
    if (error)
        snprintf(ctx->health.last_error, sizeof ctx->health.last_error, "%s", error);
    if (rtt_ms > 0) {
        ctx->health.rtt_last_ms = rtt_ms;
        if (rtt_ms > ctx->health.rtt_max_ms)
            ctx->health.rtt_max_ms = rtt_ms;
    }
    if (!online)
        ctx->health.retries++;
    uv_mutex_unlock(&ctx->lock);
    if (was != online) {
        cJSON *j = cJSON_CreateObject();
        if (j && dlv__jput_string(j, "event", "connection") &&
            dlv__jput_string(j, "state", online ? "online" : "offline") &&
            dlv__jput_string(j, "reason", online ? NULL : error))
            dlv__rt_emit(ctx, dlv__json_print(j));
        cJSON_Delete(j);
    }
}

static char *url(dlv_ctx *ctx, const char *path)
{
    return dlv__proto_url(dlv_config_server_url(ctx->config), path);
}

static int start_call(dlv_ctx *ctx, const char *method, const char *path, const char *body,
                      bool long_poll, long timeout_ms, dlv__http_cb cb, dlv__http_call **call)
{
    dlv__proto_headers h;
    const char *terminal = dlv_config_terminal_id(ctx->config);
    if (dlv__proto_headers_init(&h, terminal, ctx->token, body != NULL) != DLV_OK) {
        DLV__LOGE(&ctx->log, "refusing to send a header with a line break");
        return DLV_EINVAL;
    }
    char *u = url(ctx, path);
    if (!u)
        return DLV_ENOMEM;
    dlv__http_request req = {.method = method,
                             .url = u,
                             .headers = h.list,
                             .body = body,
                             .body_len = body ? strlen(body) : 0,
                             .timeout_ms = timeout_ms,
                             .long_poll = long_poll};
    dlv_error err = {0};
    int rc = dlv__http_start(ctx->http, &req, cb, ctx, call, &err);
    if (rc != DLV_OK)
        DLV__LOGE(&ctx->log, "%s %s: %s", method, path, err.message);
    dlv__free(u);
    return rc;
}

static void retry_in(dlv_ctx *ctx, uv_timer_t *timer, uv_timer_cb cb, unsigned *attempt,
                     long retry_after_s)
{
    uint64_t delay = dlv__backoff_ms(*attempt, retry_after_s, dlv__rt_random(ctx));
    if (*attempt < 32)
        (*attempt)++;
    uv_timer_start(timer, cb, delay, 0);
}

/* A 401 anywhere: the session is gone, register again (once). */
static void session_lost(dlv_ctx *ctx)
{
    if (!ctx->registered)
        return;
    ctx->registered = false;
    dlv__free(ctx->token);
    ctx->token = NULL;
    DLV__LOGW(&ctx->log, "session expired: registering again");
    note_health(ctx, false, "session expired or terminal unregistered: registering again", 0);
    if (!ctx->reg_call)
        start_register(ctx);
}

/* ---- registration ---- */

static void on_reg_timer(uv_timer_t *t)
{
    start_register(t->data);
}

static void on_registered(void *arg, const dlv__http_response *resp)
{
    dlv_ctx *ctx = arg;
    ctx->reg_call = NULL;
    if (resp->err == DLV_ESTOPPED)
        return;
    dlv__proto_answer a;
    dlv__proto_classify(resp, &a);
    dlv__register_response *reg = NULL;
    dlv_error err = {0};
    if (a.err == DLV_OK &&
        dlv__register_response_decode(resp->body, resp->body_len, &reg, &err) != DLV_OK) {
        a.err = DLV_EPROTOCOL;
        a.retryable = true;
        snprintf(a.message, sizeof a.message, "register answer: %.300s", err.message);
    }
    if (a.err != DLV_OK) {
        note_health(ctx, a.err == DLV_ENOTREGISTERED, a.message, 0);
        bool not_registered = a.err == DLV_ENOTREGISTERED;
        long retry_s = not_registered ? REGISTER_RETRY_NOT_REGISTERED_S : -1;
        cJSON *j = cJSON_CreateObject();
        if (j && dlv__jput_string(j, "event", "registrationFailed") &&
            dlv__jput_string(j, "error",
                             not_registered ? "TerminalNotRegistered"
                             : a.code[0]    ? a.code
                                            : dlv_err_name(a.err)) &&
            dlv__jput_string(j, "description",
                             not_registered
                                 ? "this terminal is not registered as a delivery terminal at "
                                   "the call-center: register it there, or remove terminalId "
                                   "from deliveryPluginConfig.xml to register anew"
                                 : a.message)) {
            if (not_registered)
                cJSON_AddNumberToObject(j, "retryInSeconds", REGISTER_RETRY_NOT_REGISTERED_S);
            dlv__rt_emit(ctx, dlv__json_print(j));
        }
        cJSON_Delete(j);
        /* The server's text may quote the terminalId: never log it in full. */
        char safe[sizeof a.message];
        snprintf(safe, sizeof safe, "%s", a.message);
        const char *tid = dlv_config_terminal_id(ctx->config);
        char *at = tid && *tid ? strstr(safe, tid) : NULL;
        while (at) {
            size_t n = strlen(tid);
            memset(at + 4, '*', n - 4);
            at = strstr(at + n, tid);
        }
        DLV__LOGW(&ctx->log, "registration failed: %s", safe);
        if (not_registered)
            uv_timer_start(&ctx->reg_timer, on_reg_timer, (uint64_t)retry_s * 1000, 0);
        else
            retry_in(ctx, &ctx->reg_timer, on_reg_timer, &ctx->reg_attempt, a.retry_after_s);
        dlv__proto_answer_free(&a);
        return;
    }
    /* The token goes back in every header: one that cannot be sent is a broken answer. */
    if (!reg->session_token || !dlv__http_header_value_ok(reg->session_token) ||
        strlen(reg->session_token) > 256) {
        dlv__register_response_free(reg);
        dlv__proto_answer_free(&a);
        DLV__LOGE(&ctx->log, "registration answer refused: the session token has a line break or "
                            "is longer than 256 characters");
        note_health(ctx, false, "the call-center sent a session token that cannot be sent back", 0);
        retry_in(ctx, &ctx->reg_timer, on_reg_timer, &ctx->reg_attempt, -1);
        return;
    }
    dlv__proto_answer_free(&a);
    ctx->reg_attempt = 0;
    dlv__free(ctx->token);
    ctx->token = reg->session_token;
    reg->session_token = NULL;
    dlv__settings_free(ctx->settings);
    ctx->settings = reg->settings;
    reg->settings = NULL;
    dlv__register_response_free(reg);
    char *settings = dlv__settings_to_json(ctx->settings);
    if (settings)
        dlv__store_meta_set(ctx->store, "settings", settings, NULL);
    ctx->registered = true;
    note_health(ctx, true, NULL, resp->total_ms);
    dlv__rt_health_update(ctx);
    char tid[16];
    dlv__mask_token(dlv_config_terminal_id(ctx->config), tid, sizeof tid);
    DLV__LOGI(&ctx->log, "registered terminal %s at the call-center", tid);
    cJSON *j = cJSON_CreateObject();
    cJSON *sj = settings ? cJSON_Parse(settings) : NULL;
    dlv__free(settings);
    if (j && dlv__jput_string(j, "event", "registered") &&
        dlv__jput_string(j, "terminalId", dlv_config_terminal_id(ctx->config)) && sj &&
        dlv__jattach(j, "settings", sj)) {
        sj = NULL;
        dlv__rt_emit(ctx, dlv__json_print(j));
    }
    cJSON_Delete(sj);
    cJSON_Delete(j);
    if (ctx->loop_state == RT_RUNNING && !ctx->poll_call)
        start_poll(ctx);
    dlv__sync_kick_sender(ctx);
    dlv__rt_arm_due_timer(ctx);
}

static void start_register(dlv_ctx *ctx)
{
    if (!running(ctx) || ctx->reg_call)
        return;
    cJSON *b = cJSON_CreateObject();
    char *body = NULL;
    if (b && dlv__jput_string(b, "terminalId", dlv_config_terminal_id(ctx->config)) &&
        dlv__jput_string(b, "name", ctx->terminal_name) &&
        dlv__jput_string(b, "pluginVersion", dlv_version_string()) &&
        cJSON_AddNumberToObject(b, "protocolVersion", DLV__PROTOCOL_VERSION))
        body = dlv__json_print(b);
    cJSON_Delete(b);
    char *saved = ctx->token;
    ctx->token = NULL; /* registration carries no session */
    int rc =
        body ? start_call(ctx, "POST", "/delivery/v1/register", body, false,
                          dlv_config_service_timeout_ms(ctx->config), on_registered, &ctx->reg_call)
             : DLV_ENOMEM;
    ctx->token = saved;
    dlv__free(body);
    if (rc != DLV_OK)
        retry_in(ctx, &ctx->reg_timer, on_reg_timer, &ctx->reg_attempt, -1);
}

/* ---- the long poll ---- */

static void on_poll_timer(uv_timer_t *t)
{
    start_poll(t->data);
}

static void on_polled(void *arg, const dlv__http_response *resp)
{
    dlv_ctx *ctx = arg;
    ctx->poll_call = NULL;
    if (resp->err == DLV_ESTOPPED)
        return;
    dlv__proto_answer a;
    dlv__proto_classify(resp, &a);
    dlv__orders_response *orders = NULL;
    dlv_error err = {0};
    if (a.err == DLV_OK &&
        dlv__orders_response_decode_lenient(resp->body, resp->body_len, &orders, &err) != DLV_OK) {
        a.err = DLV_EPROTOCOL;
        a.retryable = true;
        snprintf(a.message, sizeof a.message, "orders answer refused: %.300s", err.message);
    }
    if (a.err != DLV_OK) {
        DLV__LOGW(&ctx->log, "orders: %s", a.message);
        note_health(ctx, false, a.message, 0);
        if (a.err == DLV_EUNAUTHORIZED || a.err == DLV_ENOTREGISTERED)
            session_lost(ctx);
        else if (ctx->loop_state == RT_RUNNING)
            retry_in(ctx, &ctx->poll_timer, on_poll_timer, &ctx->poll_attempt, a.retry_after_s);
        dlv__proto_answer_free(&a);
        return;
    }
    dlv__proto_answer_free(&a);
    ctx->poll_attempt = 0;
    note_health(ctx, true, NULL, 0);
    uv_mutex_lock(&ctx->lock);
    ctx->health.last_sync = dlv__rt_now(ctx);
    uv_mutex_unlock(&ctx->lock);
    for (size_t i = 0; i < orders->invalid_count; i++) {
        DLV__LOGE(&ctx->log, "call-center sent an invalid order, left out: %s",
                 orders->invalid[i].message);
        cJSON *j = cJSON_CreateObject();
        if (j && dlv__jput_string(j, "event", "error") &&
            dlv__jput_string(j, "code", "InvalidOrder") &&
            dlv__jput_string(j, "message", orders->invalid[i].message))
            dlv__rt_emit(ctx, dlv__json_print(j));
        cJSON_Delete(j);
    }
    bool nothing = orders->order_count == 0 && orders->removed_count == 0 && !orders->settings &&
                   orders->revision == dlv__rt_revision(ctx);
    if (!nothing) {
        /* Everything this answer changes (cache, revision, ledgers) in one transaction. */
        bool group = dlv__store_begin(ctx->store, NULL) == DLV_OK;
        dlv__rt_apply_server_orders(ctx, orders);
        if (group && dlv__store_commit(ctx->store, &err) != DLV_OK)
            DLV__LOGE(&ctx->log, "cannot store the orders answer: %s", err.message);
        dlv__rt_commit(ctx); /* automatic steps the arrivals made due */
        dlv__rt_arm_due_timer(ctx);
    }
    dlv__orders_response_free(orders);
    if (ctx->loop_state != RT_RUNNING)
        return;
    /* A server that answers an empty poll at once instead of holding it must not make the
     * terminal spin: wait a second before asking again. */
    if (nothing && resp->total_ms < 1000)
        uv_timer_start(&ctx->poll_timer, on_poll_timer, 1000, 0);
    else
        start_poll(ctx);
}

static void start_poll(dlv_ctx *ctx)
{
    if (ctx->loop_state != RT_RUNNING || !ctx->registered || ctx->poll_call)
        return;
    char path[128];
    snprintf(path, sizeof path, "/delivery/v1/orders?sinceRevision=%lld&waitSeconds=%d",
             (long long)dlv__rt_revision(ctx), ctx->long_poll_seconds);
    long timeout = (long)ctx->long_poll_seconds * 1000 + dlv_config_service_timeout_ms(ctx->config);
    if (start_call(ctx, "GET", path, NULL, true, timeout, on_polled, &ctx->poll_call) != DLV_OK)
        retry_in(ctx, &ctx->poll_timer, on_poll_timer, &ctx->poll_attempt, -1);
}

/* ---- the command sender: one request in flight, the outbox in order ---- */

static void on_send_timer(uv_timer_t *t)
{
    dlv_ctx *ctx = t->data;
    start_send(ctx);
}

/* The outcome of one command: it leaves the outbox; a rejection puts the server state back. */
static void settle(dlv_ctx *ctx, const dlv__command_result *r, const char *order_id,
                   bool changes_order)
{
    dlv_error err = {0};
    static const char *const outcomes[] = {"Applied", "Duplicate", "Rejected"};
    dlv__store_outcome done = {r->id, outcomes[r->outcome]};
    if (dlv__store_outbox_complete(ctx->store, &done, 1, NULL, &err) != DLV_OK)
        DLV__LOGE(&ctx->log, "cannot remove command %s from the outbox: %s", r->id, err.message);
    rt_order *o = order_id ? dlv__rt_order_find(ctx, order_id) : NULL;
    if (!changes_order)
        return; /* DocumentPrinted: a report, not a change of the order */
    if (o && o->pending > 0)
        o->pending--;
    if (r->outcome != DLV__OUTCOME_REJECTED) {
        if (!o || !o->view)
            return;
        /* The view now reflects at least this revision: an older answer still on its way (a
         * poll that left the server before the command was applied) must not roll it back. */
        if (r->revision > o->view->revision)
            o->view->revision = r->revision;
        if (o->pending == 0 && o->server) {
            dlv__order *server = o->server;
            o->server = NULL;
            if (server->revision >= o->view->revision) {
                dlv_status before = o->view->status;
                dlv__order_free(o->view);
                o->view = server;
                if (server->status != before) {
                    dlv__rt_emit(ctx,
                                 dlv__ev_status_changed(o->id, before, server->status, "server"));
                    dlv__event ev = {DLV__TRIGGER_STATUS_CHANGED, before};
                    dlv__notify_before nb = {false, before, server->result_sum};
                    dlv__rt_consequences(ctx, o, &ev, &nb);
                }
            } else {
                dlv__order_free(server);
            }
        }
        dlv__rt_persist_views(ctx, &o, 1);
        return;
    }
    cJSON *j = cJSON_CreateObject();
    if (j && dlv__jput_string(j, "event", "commandRejected") &&
        dlv__jput_string(j, "orderId", order_id) && dlv__jput_string(j, "commandId", r->id) &&
        dlv__jput_string(j, "error", r->error) &&
        dlv__jput_string(j, "description", r->description))
        dlv__rt_emit(ctx, dlv__json_print(j));
    cJSON_Delete(j);
    DLV__LOGW(&ctx->log, "command %s rejected: %s %s", r->id, r->error,
             r->description ? r->description : "");
    if (!o || !o->view)
        return;
    /* The call-center wins: its copy, or at least its status, replaces the local step. */
    dlv_status before = o->view->status;
    if (o->pending == 0 && o->server) {
        dlv__order_free(o->view);
        o->view = o->server;
        o->server = NULL;
    } else if (r->current_status >= 0) {
        o->view->status = (dlv_status)r->current_status;
    }
    if (o->view->status != before) {
        dlv__rt_emit(ctx, dlv__ev_status_changed(o->id, before, o->view->status, "server"));
        dlv__event ev = {DLV__TRIGGER_STATUS_CHANGED, before};
        dlv__notify_before nb = {false, before, o->view->result_sum};
        dlv__rt_consequences(ctx, o, &ev, &nb);
    }
    dlv__rt_persist_views(ctx, &o, 1);
}

static void on_sent(void *arg, const dlv__http_response *resp)
{
    dlv_ctx *ctx = arg;
    ctx->send_call = NULL;
    struct {
        dlv__store_cmd_row *rows;
        size_t count;
    } batch = {ctx->in_flight_rows, ctx->in_flight_count};
    ctx->in_flight_rows = NULL;
    ctx->in_flight_count = 0;
    dlv__proto_answer a;
    dlv__proto_classify(resp, &a);
    dlv__commands_response *cr = NULL;
    dlv_error err = {0};
    if (a.err == DLV_OK &&
        dlv__commands_response_decode(resp->body, resp->body_len, &cr, &err) != DLV_OK) {
        a.err = DLV_EPROTOCOL;
        a.retryable = true;
        snprintf(a.message, sizeof a.message, "commands answer refused: %.300s", err.message);
    }
    if (a.err != DLV_OK) {
        /* The whole batch stays pending, to go again with the same ids. */
        if (resp->err != DLV_ESTOPPED) {
            DLV__LOGW(&ctx->log, "commands: %s (%zu kept for retry)", a.message, batch.count);
            note_health(ctx, false, a.message, 0);
            dlv__store_outbox_mark_attempt_rows(ctx->store, batch.rows, batch.count,
                                                dlv__store_now(ctx->store), NULL);
            if (a.err == DLV_EUNAUTHORIZED || a.err == DLV_ENOTREGISTERED)
                session_lost(ctx);
            else if (a.retryable)
                retry_in(ctx, &ctx->send_timer, on_send_timer, &ctx->send_attempt, a.retry_after_s);
            else {
                DLV__LOGE(&ctx->log, "the call-center refused the whole batch: %s", a.message);
                retry_in(ctx, &ctx->send_timer, on_send_timer, &ctx->send_attempt, 30);
            }
        }
        dlv__proto_answer_free(&a);
        dlv__store_cmd_rows_free(batch.rows, batch.count);
        return;
    }
    dlv__proto_answer_free(&a);
    ctx->send_attempt = 0;
    note_health(ctx, true, NULL, resp->total_ms);
    bool group = dlv__store_begin(ctx->store, NULL) == DLV_OK;
    for (size_t i = 0; i < cr->result_count; i++) {
        const dlv__command_result *r = &cr->results[i];
        const char *order_id = NULL;
        bool changes_order = true;
        for (size_t k = 0; k < batch.count; k++) {
            if (strcmp(batch.rows[k].id, r->id) == 0) {
                order_id = batch.rows[k].order_id;
                changes_order = !strstr(batch.rows[k].body, "\"type\":\"DocumentPrinted\"");
            }
        }
        if (!order_id) {
            DLV__LOGW(&ctx->log, "the call-center answered for a command it was not sent: %s",
                     r->id);
            continue;
        }
        settle(ctx, r, order_id, changes_order);
    }
    if (group && dlv__store_commit(ctx->store, &err) != DLV_OK)
        DLV__LOGE(&ctx->log,
                 "cannot store the commands' outcomes: %s (they are sent again and "
                 "answered as duplicates)",
                 err.message);
    dlv__commands_response_free(cr);
    dlv__store_cmd_rows_free(batch.rows, batch.count);
    dlv__rt_health_update(ctx);
    dlv__rt_commit(ctx); /* consequences of rejections */
    start_send(ctx);     /* more waiting? */
}

static void start_send(dlv_ctx *ctx)
{
    if (!running(ctx) || !ctx->registered || ctx->send_call ||
        uv_is_active((uv_handle_t *)&ctx->send_timer))
        return;
    dlv__store_cmd_row *rows = NULL;
    size_t count = 0;
    dlv_error err = {0};
    if (dlv__store_outbox_peek(ctx->store, DLV__MAX_COMMANDS_PER_REQUEST, false, &rows, &count,
                               &err) != DLV_OK) {
        DLV__LOGE(&ctx->log, "cannot read the outbox: %s", err.message);
        return;
    }
    if (count == 0) {
        dlv__store_cmd_rows_free(rows, count);
        return;
    }
    size_t len = 16;
    for (size_t i = 0; i < count; i++)
        len += strlen(rows[i].body) + 1;
    char *body = dlv__malloc(len);
    if (!body) {
        dlv__store_cmd_rows_free(rows, count);
        return;
    }
    char *p = body;
    p += sprintf(p, "{\"commands\":[");
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(rows[i].body);
        if (i)
            *p++ = ',';
        memcpy(p, rows[i].body, n);
        p += n;
    }
    strcpy(p, "]}");
    ctx->in_flight_rows = rows;
    ctx->in_flight_count = count;
    int rc = start_call(ctx, "POST", "/delivery/v1/commands", body, false,
                        dlv_config_service_timeout_ms(ctx->config), on_sent, &ctx->send_call);
    dlv__free(body);
    if (rc != DLV_OK) {
        ctx->in_flight_rows = NULL;
        ctx->in_flight_count = 0;
        dlv__store_cmd_rows_free(rows, count);
        retry_in(ctx, &ctx->send_timer, on_send_timer, &ctx->send_attempt, -1);
    }
}

void dlv__sync_kick_sender(dlv_ctx *ctx)
{
    if (ctx->http)
        start_send(ctx);
}

/* ---- heartbeat: only while no long poll is open ---- */

static void on_heartbeat_done(void *arg, const dlv__http_response *resp)
{
    dlv_ctx *ctx = arg;
    ctx->hb_call = NULL;
    if (resp->err == DLV_ESTOPPED)
        return;
    dlv__proto_answer a;
    dlv__proto_classify(resp, &a);
    if (a.err == DLV_EUNAUTHORIZED)
        session_lost(ctx);
    dlv__proto_answer_free(&a);
}

static void on_heartbeat(uv_timer_t *t)
{
    dlv_ctx *ctx = t->data;
    if (ctx->loop_state != RT_RUNNING || !ctx->registered || ctx->poll_call || ctx->hb_call)
        return;
    char body[96];
    snprintf(body, sizeof body, "{\"pendingCommands\":%ld,\"lastRevision\":%lld}",
             ctx->health.pending_commands, (long long)dlv__rt_revision(ctx));
    start_call(ctx, "POST", "/delivery/v1/heartbeat", body, false,
               dlv_config_service_timeout_ms(ctx->config), on_heartbeat_done, &ctx->hb_call);
}

/* ---- lifecycle ---- */

static void init_timer(dlv_ctx *ctx, uv_timer_t *t)
{
    uv_timer_init(ctx->loop, t);
    t->data = ctx;
    ctx->open_handles++;
}

void dlv__sync_start(dlv_ctx *ctx)
{
    dlv__http_options opts = {.ca_file = dlv_config_trusted_ca_file(ctx->config),
                              .connect_timeout_ms = dlv_config_service_timeout_ms(ctx->config)};
    dlv_error err = {0};
    if (dlv__http_create(ctx->loop, &opts, &ctx->http, &err) != DLV_OK) {
        DLV__LOGE(&ctx->log, "cannot start HTTP: %s", err.message);
        return;
    }
    init_timer(ctx, &ctx->reg_timer);
    init_timer(ctx, &ctx->poll_timer);
    init_timer(ctx, &ctx->send_timer);
    init_timer(ctx, &ctx->hb_timer);
    uv_timer_start(&ctx->reg_timer, on_reg_timer,
                   (uint64_t)dlv_config_connect_delay_s(ctx->config) * 1000, 0);
    uv_timer_start(&ctx->hb_timer, on_heartbeat, HEARTBEAT_MS, HEARTBEAT_MS);
}

bool dlv__sync_idle(const dlv_ctx *ctx)
{
    return !ctx->send_call;
}

static void on_timer_closed(uv_handle_t *h)
{
    dlv_ctx *ctx = h->data;
    ctx->open_handles--;
}

static void on_http_closed(void *arg)
{
    dlv_ctx *ctx = arg;
    ctx->open_handles--;
}

void dlv__sync_stop(dlv_ctx *ctx)
{
    if (!ctx->http)
        return;
    uv_timer_t *timers[] = {&ctx->reg_timer, &ctx->poll_timer, &ctx->send_timer, &ctx->hb_timer};
    for (size_t i = 0; i < 4; i++) {
        uv_timer_stop(timers[i]);
        uv_close((uv_handle_t *)timers[i], on_timer_closed);
    }
    ctx->open_handles++;
    dlv__http *http = ctx->http;
    ctx->http = NULL;
    dlv__http_close(http, on_http_closed, ctx); /* pending calls end with DLV_ESTOPPED */
    dlv__store_cmd_rows_free(ctx->in_flight_rows, ctx->in_flight_count);
    ctx->in_flight_rows = NULL;
    ctx->in_flight_count = 0;
}
