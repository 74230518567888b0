/* Keeping the terminal in sync with the call-center: registration, order polling, the command
 * sender and the heartbeat, each with its own retry timer (backoff with full jitter). The calls
 * themselves go through the backend table (lib/net/backend.h); what is kept here is policy,
 * shared by every backend: when to call, when to retry, what an answer changes. The state is this
 * file's own (struct dlv__sync); other files ask through the dlv__sync_* functions. */
#include "runtime/rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REGISTER_RETRY_NOT_REGISTERED_S 60
#define HEARTBEAT_MS 60000
/* The memory of reported problems (a set of hashes); forgotten whole when 3/4 full. */
#define REPORTED_SLOTS 4096

struct dlv__sync {
    dlv__backend *backend; /* NULL before start, after stop, or when it could not open */
    bool registered;
    bool reg_busy, poll_busy, send_busy, hb_busy; /* a call of that kind is in flight */
    unsigned reg_attempt, poll_attempt, send_attempt;
    uv_timer_t reg_timer, poll_timer, send_timer, hb_timer;
    /* A page of a snapshot waiting to be applied on the next loop turn, so that the request for
     * the page after it goes out first (apply_timer). */
    dlv__orders_response *page;
    uv_timer_t apply_timer;
    dlv__store_cmd_row *in_flight_rows; /* the commands of the request in flight */
    size_t in_flight_count;
    uint32_t rng;
    int protocol_minor; /* the server's, from its last register answer */
    /* What was already reported of broken orders (hashes of "order (revision): what"), so that
     * an InvalidOrder or a field warning is told once, not on every poll that brings it again. */
    uint64_t reported[REPORTED_SLOTS];
    size_t reported_count;
};

static void start_register(dlv_ctx *ctx);
static void start_poll(dlv_ctx *ctx);
static void start_poll_from(dlv_ctx *ctx, int64_t revision);
static void start_send(dlv_ctx *ctx);

static bool running(const dlv_ctx *ctx)
{
    return ctx->loop_state == RT_RUNNING || ctx->loop_state == RT_STOPPING;
}

static uint32_t next_random(struct dlv__sync *s)
{
    /* xorshift seeded from the OS: jitter only, not security. */
    uint32_t x = s->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s->rng = x ? x : 0x9e3779b9u;
    return s->rng;
}

static void note_health(dlv_ctx *ctx, bool online, const char *error, double rtt_ms)
{
    if (dlv__rt_health_note_link(ctx, online, error, rtt_ms))
        dlv__rt_emit(ctx, dlv__ev_connection(online, error));
}

static void retry_in(dlv_ctx *ctx, uv_timer_t *timer, uv_timer_cb cb, unsigned *attempt,
                     long retry_after_s)
{
    uint64_t delay = dlv__backoff_ms(*attempt, retry_after_s, next_random(ctx->sync));
    if (*attempt < 32)
        (*attempt)++;
    uv_timer_start(timer, cb, delay, 0);
}

/* A 401 anywhere: the session is gone, register again (once). */
static void session_lost(dlv_ctx *ctx)
{
    struct dlv__sync *s = ctx->sync;
    if (!s->registered)
        return;
    s->registered = false;
    DLV__LOGW(&ctx->log, "session expired: registering again");
    note_health(ctx, false, "session expired or terminal unregistered: registering again", 0);
    if (!s->reg_busy)
        start_register(ctx);
}

/* ---- registration ---- */

static void on_reg_timer(uv_timer_t *t)
{
    start_register(t->data);
}

static void registration_failed(dlv_ctx *ctx, const dlv__backend_result *a)
{
    struct dlv__sync *s = ctx->sync;
    bool not_registered = a->err == DLV_ENOTREGISTERED;
    note_health(ctx, not_registered, a->message, 0);
    long retry_s = not_registered ? REGISTER_RETRY_NOT_REGISTERED_S : -1;
    dlv__rt_emit(ctx,
                 dlv__ev_registration_failed(
                     not_registered ? "TerminalNotRegistered"
                     : a->code[0]   ? a->code
                                    : dlv_err_name(a->err),
                     not_registered ? "this terminal is not registered as a delivery terminal at "
                                      "the call-center: register it there, or remove terminalId "
                                      "from deliveryPluginConfig.xml to register anew"
                                    : a->message,
                     retry_s));
    /* The server's text may quote the terminalId: never log it in full. */
    char safe[sizeof a->message];
    snprintf(safe, sizeof safe, "%s", a->message);
    const char *tid = dlv_config_terminal_id(ctx->config);
    char *at = tid && *tid ? strstr(safe, tid) : NULL;
    while (at) {
        size_t n = strlen(tid);
        memset(at + 4, '*', n - 4);
        at = strstr(at + n, tid);
    }
    DLV__LOGW(&ctx->log, "registration failed: %s", safe);
    if (not_registered)
        uv_timer_start(&s->reg_timer, on_reg_timer, (uint64_t)retry_s * 1000, 0);
    else
        retry_in(ctx, &s->reg_timer, on_reg_timer, &s->reg_attempt, a->retry_after_s);
}

static void on_registered(void *arg, dlv__backend_result *res)
{
    dlv_ctx *ctx = arg;
    struct dlv__sync *s = ctx->sync;
    s->reg_busy = false;
    if (res->err == DLV_ESTOPPED)
        return;
    if (res->err != DLV_OK) {
        registration_failed(ctx, res);
        return;
    }
    s->reg_attempt = 0;
    s->protocol_minor = res->reg->protocol_minor;
    if (s->protocol_minor < 1)
        dlv__rt_numbers_forget_blocks(ctx);
    else if (res->reg->has_number_block)
        dlv__rt_numbers_take_block(ctx, res->reg->number_block, "register");
    dlv__settings_free(ctx->settings);
    ctx->settings = res->reg->settings;
    res->reg->settings = NULL;
    char *settings = dlv__settings_to_json(ctx->settings);
    if (settings)
        dlv__store_meta_set(ctx->store, "settings", settings, NULL);
    s->registered = true;
    note_health(ctx, true, NULL, res->total_ms);
    dlv__rt_health_update(ctx);
    char tid[16];
    dlv__mask_token(dlv_config_terminal_id(ctx->config), tid, sizeof tid);
    DLV__LOGI(&ctx->log, "registered terminal %s at the call-center", tid);
    dlv__rt_emit(ctx, dlv__ev_registered(dlv_config_terminal_id(ctx->config), settings));
    dlv__free(settings);
    if (ctx->loop_state == RT_RUNNING && !s->poll_busy)
        start_poll(ctx);
    dlv__rt_numbers_reserve_if_needed(ctx); /* kicks the sender too */
    dlv__sync_kick_sender(ctx);
    dlv__rt_arm_due_timer(ctx);
}

static void start_register(dlv_ctx *ctx)
{
    struct dlv__sync *s = ctx->sync;
    if (!running(ctx) || s->reg_busy || !s->backend)
        return;
    int rc = dlv__backend_register_terminal(s->backend, on_registered, ctx);
    if (rc == DLV_OK)
        s->reg_busy = true;
    else
        retry_in(ctx, &s->reg_timer, on_reg_timer, &s->reg_attempt, -1);
}

/* ---- polling for orders ---- */

/* True the first time `a`+`b` is seen (until the set is forgotten). */
static bool first_report(struct dlv__sync *s, const char *a, const char *b)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = a; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ 0xffu) * 1099511628211ull;
    for (const char *p = b; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h |= 1; /* 0 marks a free slot */
    size_t i = (size_t)(h % REPORTED_SLOTS);
    for (; s->reported[i]; i = (i + 1) % REPORTED_SLOTS)
        if (s->reported[i] == h)
            return false;
    if (s->reported_count + 1 > REPORTED_SLOTS / 4 * 3) {
        memset(s->reported, 0, sizeof s->reported);
        s->reported_count = 0;
        i = (size_t)(h % REPORTED_SLOTS);
    }
    s->reported[i] = h;
    s->reported_count++;
    return true;
}

/* Tolerant reading's findings: each broken order (by id and revision) is reported to the host
 * once, and each field read as absent is logged once (order id and field path only: the value
 * itself may be personal data). */
static void report_problems(dlv_ctx *ctx, const dlv__orders_response *orders)
{
    struct dlv__sync *s = ctx->sync;
    for (size_t i = 0; i < orders->invalid_count; i++) {
        if (!first_report(s, "invalid", orders->invalid[i].message))
            continue;
        DLV__LOGE(&ctx->log, "call-center sent an invalid order, left out: %s",
                  orders->invalid[i].message);
        /* The reason itself comes from the order reader (English, like the logs); the host's
         * operator gets it behind a prefix in the context's language. */
        char msg[DLV_ERROR_MESSAGE_MAX + 64];
        snprintf(msg, sizeof msg, "%s%s", DLV__TR(ctx->locale, "", "некорректный заказ пропущен: "),
                 orders->invalid[i].message);
        dlv__rt_emit(ctx, dlv__ev_error("InvalidOrder", msg));
    }
    for (size_t i = 0; i < orders->warning_count; i++) {
        const dlv__order_warning *w = &orders->warnings[i];
        char key[sizeof w->order_id + sizeof w->field + sizeof w->message + 2];
        snprintf(key, sizeof key, "%s\n%s\n%s", w->order_id, w->field, w->message);
        if (first_report(s, "warning", key))
            DLV__LOGW(&ctx->log, "order %s: field %s read as absent: %s", w->order_id, w->field,
                      w->message);
    }
}

static void on_poll_timer(uv_timer_t *t)
{
    start_poll(t->data);
}

/* Everything one answer (one page) changes (cache, revision, ledgers) in one transaction; then
 * the automatic steps the arrivals made due. Frees the answer. */
static void apply_page(dlv_ctx *ctx, dlv__orders_response *orders)
{
    bool nothing = orders->order_count == 0 && orders->removed_count == 0 && !orders->settings &&
                   orders->revision == dlv__rt_revision(ctx);
    if (!nothing) {
        dlv_error err = {0};
        bool group = dlv__store_begin(ctx->store, NULL) == DLV_OK;
        dlv__rt_apply_server_orders(ctx, orders);
        if (group && dlv__store_commit(ctx->store, &err) != DLV_OK)
            DLV__LOGE(&ctx->log, "cannot store the orders answer: %s", err.message);
        dlv__rt_commit(ctx);
        dlv__rt_arm_due_timer(ctx);
    }
    dlv__orders_response_free(orders);
}

static void apply_waiting_page(dlv_ctx *ctx)
{
    struct dlv__sync *s = ctx->sync;
    dlv__orders_response *page = s->page;
    s->page = NULL;
    uv_timer_stop(&s->apply_timer);
    if (page)
        apply_page(ctx, page);
}

static void on_apply_timer(uv_timer_t *t)
{
    apply_waiting_page(t->data);
}

static void on_polled(void *arg, dlv__backend_result *res)
{
    dlv_ctx *ctx = arg;
    struct dlv__sync *s = ctx->sync;
    s->poll_busy = false;
    if (res->err == DLV_ESTOPPED)
        return;
    /* Pages are applied in the order they came: one still waiting goes first. */
    apply_waiting_page(ctx);
    if (res->err != DLV_OK) {
        DLV__LOGW(&ctx->log, "orders: %s", res->message);
        note_health(ctx, false, res->message, 0);
        if (res->err == DLV_EUNAUTHORIZED || res->err == DLV_ENOTREGISTERED)
            session_lost(ctx);
        else if (ctx->loop_state == RT_RUNNING)
            retry_in(ctx, &s->poll_timer, on_poll_timer, &s->poll_attempt, res->retry_after_s);
        return;
    }
    dlv__orders_response *orders = res->orders;
    if (orders->revision < dlv__rt_revision(ctx)) {
        /* An answer older than what the terminal holds would rewind it: the next poll would ask
         * from the old revision and re-apply changes (a removal) already seen. Refuse it whole,
         * say so, and keep asking from the revision the terminal has (issue 17, item 9). */
        char msg[320];
        snprintf(msg, sizeof msg,
                 DLV__TR(ctx->locale,
                         "the call-center answered revision %lld, older than the terminal's %lld: "
                         "answer ignored",
                         "колл-центр ответил ревизией %lld, более старой, чем у терминала (%lld): "
                         "ответ пропущен"),
                 (long long)orders->revision, (long long)dlv__rt_revision(ctx));
        DLV__LOGE(&ctx->log, "orders: %s", msg);
        dlv__rt_emit(ctx, dlv__ev_error("RevisionWentBack", msg));
        dlv__orders_response_free(res->orders);
        res->orders = NULL;
        if (ctx->loop_state == RT_RUNNING)
            retry_in(ctx, &s->poll_timer, on_poll_timer, &s->poll_attempt, 0);
        return;
    }
    s->poll_attempt = 0;
    note_health(ctx, true, NULL, 0);
    dlv__rt_health_note_sync(ctx);
    report_problems(ctx, orders);
    bool more = orders->more;
    bool nothing = orders->order_count == 0 && orders->removed_count == 0 && !orders->settings &&
                   orders->revision == dlv__rt_revision(ctx);
    if (more && orders->revision <= dlv__rt_revision(ctx) && orders->order_count == 0 &&
        orders->removed_count == 0) {
        /* "more" without progress would ask for the same page forever. */
        DLV__LOGW(&ctx->log,
                  "orders: the call-center said more without moving past revision "
                  "%lld; asking again later",
                  (long long)orders->revision);
        more = false;
    }
    res->orders = NULL;
    if (more && ctx->loop_state == RT_RUNNING) {
        /* Paging (protocol 1.1): the next page is asked for before this one is applied, from
         * the revision this one ends at, and this one waits for the next loop turn: the request
         * goes out first (the HTTP client sends on the loop), and the call-center builds the
         * next page while the terminal stores this one. */
        start_poll_from(ctx, orders->revision);
        s->page = orders;
        uv_timer_start(&s->apply_timer, on_apply_timer, 0, 0);
        return;
    }
    apply_page(ctx, orders);
    if (ctx->loop_state != RT_RUNNING)
        return;
    /* A server that answers an empty poll at once instead of holding it (or a backend that
     * cannot hold one) must not make the terminal spin: wait a second before asking again. */
    if (more)
        start_poll(ctx);
    else if (nothing && res->total_ms < 1000)
        uv_timer_start(&s->poll_timer, on_poll_timer, 1000, 0);
    else
        start_poll(ctx);
}

static void start_poll(dlv_ctx *ctx)
{
    start_poll_from(ctx, dlv__rt_revision(ctx));
}

static void start_poll_from(dlv_ctx *ctx, int64_t revision)
{
    struct dlv__sync *s = ctx->sync;
    if (ctx->loop_state != RT_RUNNING || !s->registered || s->poll_busy || !s->backend)
        return;
    if (dlv__backend_poll_orders(s->backend, revision, on_polled, ctx) == DLV_OK)
        s->poll_busy = true;
    else
        retry_in(ctx, &s->poll_timer, on_poll_timer, &s->poll_attempt, -1);
}

/* ---- the command sender: one request in flight, the outbox in order ---- */

static void on_send_timer(uv_timer_t *t)
{
    dlv_ctx *ctx = t->data;
    start_send(ctx);
}

/* The orders an answer changed, cached once at its end in one call (not one store call per
 * command: issue 20). */
typedef struct touched {
    rt_order **orders;
    size_t count;
} touched;

static void touch(touched *t, rt_order *o)
{
    if (t->orders && (t->count == 0 || t->orders[t->count - 1] != o))
        t->orders[t->count++] = o;
}

/* The outcome of one command (already out of the outbox): a rejection puts the server state
 * back. */
static void settle(dlv_ctx *ctx, const dlv__command_result *r, const char *order_id,
                   bool changes_order, touched *changed)
{
    rt_order *o = order_id ? dlv__rt_order_find(ctx, order_id) : NULL;
    if (!changes_order)
        return; /* DocumentPrinted: a report, not a change of the order */
    if (o && o->pending > 0)
        o->pending--;
    dlv__order *view = o ? dlv__rt_view(ctx, o) : NULL;
    if (r->outcome != DLV__OUTCOME_REJECTED) {
        if (!view)
            return;
        /* The view now reflects at least this revision: an older answer still on its way (a
         * poll that left the server before the command was applied) must not roll it back. */
        if (r->revision > view->revision) {
            view->revision = r->revision;
            dlv__rt_view_changed(o);
        }
        if (o->pending == 0 && o->server) {
            dlv__order *server = o->server;
            o->server = NULL;
            if (server->revision >= view->revision) {
                dlv_status before = view->status;
                dlv__order_free(dlv__rt_view_set(ctx, o, server));
                if (server->status != before) {
                    dlv__rt_emit(ctx, dlv__ev_status_changed_of(server, before, "server"));
                    dlv__event ev = {DLV__TRIGGER_STATUS_CHANGED, before};
                    dlv__notify_before nb = {false, before, server->result_sum};
                    dlv__rt_consequences(ctx, o, &ev, &nb);
                }
            } else {
                dlv__order_free(server);
            }
        }
        touch(changed, o);
        return;
    }
    dlv__rt_emit(ctx, dlv__ev_command_rejected(order_id, r->id, r->error, r->description));
    DLV__LOGW(&ctx->log, "command %s rejected: %s %s", r->id, r->error,
              r->description ? r->description : "");
    if (!view)
        return;
    /* The call-center wins: its copy, or at least its status, replaces the local step. */
    dlv_status before = view->status;
    if (o->pending == 0 && o->server) {
        dlv__order_free(dlv__rt_view_set(ctx, o, o->server));
        o->server = NULL;
    } else if (r->current_status >= 0) {
        o->view->status = (dlv_status)r->current_status;
        dlv__rt_view_changed(o);
    }
    if (o->view->status != before) {
        dlv__rt_emit(ctx, dlv__ev_status_changed_of(o->view, before, "server"));
        dlv__event ev = {DLV__TRIGGER_STATUS_CHANGED, before};
        dlv__notify_before nb = {false, before, o->view->result_sum};
        dlv__rt_consequences(ctx, o, &ev, &nb);
    }
    touch(changed, o);
}

/* A ReserveNumbers outcome (already out of the outbox): the block it brought is stored
 * (protocol 1.1). */
static void settle_reserve(dlv_ctx *ctx, const dlv__command_result *r)
{
    if (r->outcome != DLV__OUTCOME_REJECTED && r->has_number_block)
        dlv__rt_numbers_take_block(ctx, r->number_block, "ReserveNumbers");
    else if (r->outcome == DLV__OUTCOME_REJECTED)
        DLV__LOGW(&ctx->log, "ReserveNumbers rejected: %s %s", r->error,
                  r->description ? r->description : "");
    else
        DLV__LOGW(&ctx->log, "ReserveNumbers answered without a number block");
}

static void on_sent(void *arg, dlv__backend_result *res)
{
    dlv_ctx *ctx = arg;
    struct dlv__sync *s = ctx->sync;
    s->send_busy = false;
    struct {
        dlv__store_cmd_row *rows;
        size_t count;
    } batch = {s->in_flight_rows, s->in_flight_count};
    s->in_flight_rows = NULL;
    s->in_flight_count = 0;
    if (res->err != DLV_OK) {
        /* The whole batch stays pending, to go again with the same ids. */
        if (res->err != DLV_ESTOPPED) {
            DLV__LOGW(&ctx->log, "commands: %s (%zu kept for retry)", res->message, batch.count);
            note_health(ctx, false, res->message, 0);
            dlv__store_outbox_mark_attempt_rows(ctx->store, batch.rows, batch.count,
                                                dlv__store_now(ctx->store), NULL);
            if (res->err == DLV_EUNAUTHORIZED || res->err == DLV_ENOTREGISTERED)
                session_lost(ctx);
            else if (res->retryable)
                retry_in(ctx, &s->send_timer, on_send_timer, &s->send_attempt, res->retry_after_s);
            else {
                DLV__LOGE(&ctx->log, "the call-center refused the whole batch: %s", res->message);
                retry_in(ctx, &s->send_timer, on_send_timer, &s->send_attempt, 30);
            }
        }
        dlv__store_cmd_rows_free(batch.rows, batch.count);
        return;
    }
    dlv__commands_response *cr = res->commands;
    dlv_error err = {0};
    note_health(ctx, true, NULL, res->total_ms);
    bool group = dlv__store_begin(ctx->store, NULL) == DLV_OK, unstored = false;
    /* Each result's command: the server answers in the order it was sent, so row i is tried
     * first and the whole batch searched only when that misses. */
    const dlv__store_cmd_row **row_of = dlv__calloc(cr->result_count + 1, sizeof *row_of);
    dlv__store_outcome *done = dlv__calloc(cr->result_count + 1, sizeof *done);
    touched changed = {dlv__calloc(cr->result_count + 1, sizeof *changed.orders), 0};
    static const char *const outcomes[] = {"Applied", "Duplicate", "Rejected"};
    size_t ndone = 0;
    for (size_t i = 0; row_of && done && i < cr->result_count; i++) {
        const dlv__command_result *r = &cr->results[i];
        const dlv__store_cmd_row *row = NULL;
        if (i < batch.count && strcmp(batch.rows[i].id, r->id) == 0)
            row = &batch.rows[i];
        for (size_t k = 0; !row && k < batch.count; k++)
            if (strcmp(batch.rows[k].id, r->id) == 0)
                row = &batch.rows[k];
        row_of[i] = row;
        bool reserve = row && row->type && strcmp(row->type, "ReserveNumbers") == 0;
        if (row && (row->order_id || reserve))
            done[ndone++] = (dlv__store_outcome){r->id, outcomes[r->outcome]};
    }
    /* The answered commands leave the outbox first, so that the next request can go out at
     * once: the call-center works on it while this answer is settled here. Still one request
     * in flight, sent only after the one before was answered, so each order's commands keep
     * their order. Were this transaction lost, the answered commands would go again and be
     * answered as duplicates. */
    if (!row_of || !done || !changed.orders) {
        unstored = true; /* out of memory: nothing settled, all sent again */
    } else if (ndone > 0 &&
               dlv__store_outbox_complete(ctx->store, done, ndone, NULL, &err) != DLV_OK) {
        DLV__LOGE(&ctx->log, "cannot remove %zu answered commands from the outbox: %s", ndone,
                  err.message);
        unstored = true;
    }
    for (size_t i = 0; !unstored && i < cr->result_count; i++) {
        const dlv__command_result *r = &cr->results[i];
        const dlv__store_cmd_row *row = row_of[i];
        if (row && row->type && strcmp(row->type, "ReserveNumbers") == 0) {
            settle_reserve(ctx, r); /* a rejected one is asked for again by the next order */
            continue;
        }
        if (!row || !row->order_id) {
            DLV__LOGW(&ctx->log, "the call-center answered for a command it was not sent: %s",
                      r->id);
            continue;
        }
        settle(ctx, r, row->order_id, !strstr(row->body, "\"type\":\"DocumentPrinted\""), &changed);
    }
    /* The next request after the revisions of this answer are known (an edit waiting behind
     * these commands names the revision they left: edit_body); the call-center works on it
     * while the outcomes are cached and committed here. */
    if (!unstored)
        start_send(ctx);
    if (changed.count > 0)
        dlv__rt_persist_views(ctx, changed.orders, changed.count); /* logs its own failure */
    dlv__free(changed.orders);
    dlv__free(done);
    dlv__free(row_of);
    if (group && dlv__store_commit(ctx->store, &err) != DLV_OK) {
        DLV__LOGE(&ctx->log,
                  "cannot store the commands' outcomes: %s (they are sent again and "
                  "answered as duplicates)",
                  err.message);
        unstored = true;
    }
    /* Outcomes not stored (disk full): sent again after the usual backoff, not at once. */
    if (unstored)
        retry_in(ctx, &s->send_timer, on_send_timer, &s->send_attempt, -1);
    else
        s->send_attempt = 0;
    dlv__store_cmd_rows_free(batch.rows, batch.count);
    dlv__rt_health_update(ctx);
    dlv__rt_commit(ctx); /* consequences of rejections */
    start_send(ctx);     /* more waiting? */
}

/* An EditOrder names the revision it was made on (expectedRevision), and the call-center refuses
 * it as stale when the order has moved on since. The terminal's own commands of the same order
 * made before it move it on too: so the edit goes out only once they are answered (never in one
 * request after them) and names the revision the terminal knows after them, not the one it was
 * staged on. Returns the body to send: `row->body`, or a new one (*owned). */
static const char *edit_body(dlv_ctx *ctx, const dlv__store_cmd_row *row, char **owned)
{
    static const char key[] = "\"expectedRevision\":";
    *owned = NULL;
    rt_order *o = row->order_id ? dlv__rt_order_find(ctx, row->order_id) : NULL;
    /* The body is cJSON's compact print (orders.c): the member is `"expectedRevision":N`; only
     * its digits change, every other byte goes as it was stored. */
    const char *at = o ? strstr(row->body, key) : NULL;
    if (!at)
        return row->body;
    const char *digits = at + sizeof key - 1, *end = digits;
    while (*end >= '0' && *end <= '9')
        end++;
    char *stop = NULL;
    long long stored = strtoll(digits, &stop, 10);
    if (end == digits || stop != end || o->key.revision <= stored)
        return row->body;
    char number[24];
    int n = snprintf(number, sizeof number, "%lld", (long long)o->key.revision);
    size_t head = (size_t)(digits - row->body), tail = strlen(end);
    *owned = dlv__malloc(head + (size_t)n + tail + 1);
    if (!*owned)
        return row->body; /* sent as made: at worst refused as stale, and the host is told */
    memcpy(*owned, row->body, head);
    memcpy(*owned + head, number, (size_t)n);
    memcpy(*owned + head + n, end, tail + 1);
    return *owned;
}

/* Whether an earlier row of the batch is a command of the same order as rows[i]. */
static bool order_earlier(const dlv__store_cmd_row *rows, size_t i)
{
    for (size_t k = 0; rows[i].order_id && k < i; k++)
        if (rows[k].order_id && strcmp(rows[k].order_id, rows[i].order_id) == 0)
            return true;
    return false;
}

static void start_send(dlv_ctx *ctx)
{
    struct dlv__sync *s = ctx->sync;
    if (!running(ctx) || !s->backend || !s->registered || s->send_busy ||
        uv_is_active((uv_handle_t *)&s->send_timer))
        return;
    dlv__store_cmd_row *rows = NULL;
    size_t count = 0;
    dlv_error err = {0};
    size_t max = s->backend->methods->max_commands ? s->backend->methods->max_commands : 1;
    if (dlv__store_outbox_peek(ctx->store, max, false, &rows, &count, &err) != DLV_OK) {
        DLV__LOGE(&ctx->log, "cannot read the outbox: %s", err.message);
        return;
    }
    if (count == 0) {
        dlv__store_cmd_rows_free(rows, count);
        return;
    }
    /* An edit behind commands of its order waits for their answer (edit_body). */
    for (size_t i = 1; i < count; i++) {
        if (rows[i].type && strcmp(rows[i].type, "EditOrder") == 0 && order_earlier(rows, i)) {
            for (size_t k = i; k < count; k++)
                dlv__store_cmd_row_clear(&rows[k]);
            count = i;
            break;
        }
    }
    const char **bodies = dlv__calloc(count, sizeof *bodies);
    char **owned = dlv__calloc(count, sizeof *owned);
    if (!bodies || !owned) {
        dlv__free(bodies);
        dlv__free(owned);
        dlv__store_cmd_rows_free(rows, count);
        return;
    }
    for (size_t i = 0; i < count; i++)
        bodies[i] = rows[i].type && strcmp(rows[i].type, "EditOrder") == 0
                        ? edit_body(ctx, &rows[i], &owned[i])
                        : rows[i].body;
    s->in_flight_rows = rows;
    s->in_flight_count = count;
    int rc = dlv__backend_send_commands(s->backend, bodies, count, on_sent, ctx);
    for (size_t i = 0; i < count; i++)
        dlv__free(owned[i]);
    dlv__free(owned);
    dlv__free(bodies);
    if (rc == DLV_OK) {
        s->send_busy = true;
        return;
    }
    s->in_flight_rows = NULL;
    s->in_flight_count = 0;
    dlv__store_cmd_rows_free(rows, count);
    retry_in(ctx, &s->send_timer, on_send_timer, &s->send_attempt, -1);
}

void dlv__sync_kick_sender(dlv_ctx *ctx)
{
    if (ctx->sync && ctx->sync->backend)
        start_send(ctx);
}

/* ---- heartbeat: only while no poll is open ---- */

static void on_heartbeat_done(void *arg, dlv__backend_result *res)
{
    dlv_ctx *ctx = arg;
    ctx->sync->hb_busy = false;
    if (res->err == DLV_EUNAUTHORIZED)
        session_lost(ctx);
}

static void on_heartbeat(uv_timer_t *t)
{
    dlv_ctx *ctx = t->data;
    struct dlv__sync *s = ctx->sync;
    if (ctx->loop_state != RT_RUNNING || !s->registered || s->poll_busy || s->hb_busy ||
        !s->backend)
        return;
    if (dlv__backend_heartbeat(s->backend, dlv__rt_health_pending(ctx), dlv__rt_revision(ctx),
                               on_heartbeat_done, ctx) == DLV_OK)
        s->hb_busy = true;
}

/* ---- lifecycle ---- */

static void init_timer(dlv_ctx *ctx, uv_timer_t *t)
{
    uv_timer_init(ctx->loop, t);
    t->data = ctx;
    ctx->open_handles++;
}

static void on_backend_closed(void *arg)
{
    dlv_ctx *ctx = arg;
    ctx->open_handles--;
}

void dlv__sync_start(dlv_ctx *ctx)
{
    struct dlv__sync *s = ctx->sync ? ctx->sync : dlv__calloc(1, sizeof *s);
    if (!s) {
        DLV__LOGE(&ctx->log, "cannot start the sync: out of memory");
        return;
    }
    ctx->sync = s;
    dlv__random_bytes(&s->rng, sizeof s->rng);
    const char *name = dlv_config_backend(ctx->config);
    const dlv__backend_methods *m = dlv__backend_find(name);
    if (!m) {
        DLV__LOGE(&ctx->log, "no call-center backend named %s", name ? name : "(default)");
        return;
    }
    if (!dlv_config_server_url(ctx->config)) {
        /* The first start (or a file without serverUrl): the terminal runs without the
         * call-center until the operator sets the address and restarts. */
        char msg[1024];
        snprintf(msg, sizeof msg,
                 DLV__TR(ctx->locale,
                         "Set serverUrl, the call-center server's address, in %s and restart "
                         "the terminal",
                         "Укажите serverUrl — адрес сервера колл-центра — в файле %s и "
                         "перезапустите терминал"),
                 dlv_config_path(ctx->config));
        DLV__LOGE(&ctx->log, "%s", msg);
        dlv__rt_emit(ctx, dlv__ev_error("ServerUrlMissing", msg));
        return;
    }
    dlv__backend_journal journal;
    dlv__rt_journal(ctx, &journal);
    dlv__backend_options opts = {.loop = ctx->loop,
                                 .log = &ctx->log,
                                 .server_url = dlv_config_server_url(ctx->config),
                                 .terminal_id = dlv_config_terminal_id(ctx->config),
                                 .terminal_name = ctx->terminal_name,
                                 .ca_file = dlv_config_trusted_ca_file(ctx->config),
                                 .service_timeout_ms = dlv_config_service_timeout_ms(ctx->config),
                                 .long_poll_seconds = ctx->long_poll_seconds,
                                 .api_login = dlv_config_api_login(ctx->config),
                                 .organization_id = dlv_config_organization_id(ctx->config),
                                 .terminal_group_id = dlv_config_terminal_group_id(ctx->config),
                                 .poll_interval_ms = dlv_config_poll_interval_s(ctx->config) * 1000,
                                 .journal = &journal,
                                 .local_time = dlv__rt_local_time,
                                 .time_arg = ctx};
    dlv_error err = {0};
    dlv__backend *b = NULL;
    if (dlv__backend_open(m, &opts, &b, &err) != DLV_OK) {
        DLV__LOGE(&ctx->log, "cannot start the %s backend: %s", m->name, err.message);
        if (b) {
            ctx->open_handles++;
            dlv__backend_close(b, on_backend_closed, ctx);
        }
        return;
    }
    s->backend = b;
    init_timer(ctx, &s->reg_timer);
    init_timer(ctx, &s->poll_timer);
    init_timer(ctx, &s->send_timer);
    init_timer(ctx, &s->hb_timer);
    init_timer(ctx, &s->apply_timer);
    uv_timer_start(&s->reg_timer, on_reg_timer,
                   (uint64_t)dlv_config_connect_delay_s(ctx->config) * 1000, 0);
    uv_timer_start(&s->hb_timer, on_heartbeat, HEARTBEAT_MS, HEARTBEAT_MS);
}

bool dlv__sync_idle(const dlv_ctx *ctx)
{
    return !ctx->sync || !ctx->sync->send_busy;
}

bool dlv__sync_registered(const dlv_ctx *ctx)
{
    return ctx->sync && ctx->sync->registered;
}

int dlv__sync_protocol_minor(const dlv_ctx *ctx)
{
    return ctx->sync ? ctx->sync->protocol_minor : 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    dlv_ctx *ctx = h->data;
    ctx->open_handles--;
}

void dlv__sync_stop(dlv_ctx *ctx)
{
    struct dlv__sync *s = ctx->sync;
    if (!s || !s->backend)
        return;
    uv_timer_t *timers[] = {&s->reg_timer, &s->poll_timer, &s->send_timer, &s->hb_timer,
                            &s->apply_timer};
    /* A page not applied yet is dropped: the revision did not move, the next start asks again. */
    dlv__orders_response_free(s->page);
    s->page = NULL;
    for (size_t i = 0; i < DLV__ARRAY_SIZE(timers); i++) {
        uv_timer_stop(timers[i]);
        uv_close((uv_handle_t *)timers[i], on_timer_closed);
    }
    ctx->open_handles++;
    dlv__backend *b = s->backend;
    s->backend = NULL;
    dlv__backend_close(b, on_backend_closed, ctx); /* pending calls end with DLV_ESTOPPED */
    dlv__store_cmd_rows_free(s->in_flight_rows, s->in_flight_count);
    s->in_flight_rows = NULL;
    s->in_flight_count = 0;
}

void dlv__sync_free(dlv_ctx *ctx)
{
    if (!ctx->sync)
        return;
    dlv__store_cmd_rows_free(ctx->sync->in_flight_rows, ctx->sync->in_flight_count);
    dlv__orders_response_free(ctx->sync->page);
    dlv__free(ctx->sync);
    ctx->sync = NULL;
}
