/* The group commit: the commands and staged requests of one loop turn (struct rt_batch), made
 * durable in one store transaction before any reply says ok; then the replies and events go out
 * in request order and the consequences run. The commands are kept in the store's own type
 * (dlv__store_cmd) so the whole batch goes to dlv__store_outbox_add as it is. Only this file
 * touches ctx->batch. */
#include "runtime/rt.h"

#include <stdio.h>
#include <string.h>

#include "order/json.h"

/* ---- staging ---- */

rt_staged *dlv__rt_staged_new(dlv_ctx *ctx, const char *cmd_name, dlv_reply_cb cb, void *arg)
{
    rt_batch *b = &ctx->batch;
    rt_staged *s = dlv__calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cb = cb;
    s->arg = arg;
    snprintf(s->cmd_name, sizeof s->cmd_name, "%s", cmd_name ? cmd_name : "");
    s->origin = "local";
    if (b->staged_tail)
        b->staged_tail->next = s;
    else
        b->staged_head = s;
    b->staged_tail = s;
    return s;
}

rt_staged *dlv__rt_staged_last(dlv_ctx *ctx)
{
    return ctx->batch.staged_tail;
}

const dlv__order *dlv__rt_staged_view(dlv_ctx *ctx, const rt_order *o)
{
    const dlv__order *v = NULL;
    for (rt_staged *s = ctx->batch.staged_head; s; s = s->next)
        if (s->order == o && s->new_view)
            v = s->new_view;
    return v;
}

bool dlv__rt_order_staged(dlv_ctx *ctx, const rt_order *o)
{
    for (rt_staged *s = ctx->batch.staged_head; s; s = s->next)
        if (s->order == o)
            return true;
    return false;
}

void dlv__rt_staged_event(rt_staged *s, char *json)
{
    if (!json)
        return;
    rt_event *e = dlv__calloc(1, sizeof *e);
    if (!e) {
        dlv__free(json);
        return;
    }
    e->json = json;
    rt_event **tail = &s->events;
    while (*tail)
        tail = &(*tail)->next;
    *tail = e;
}

void dlv__rt_staged_error(rt_staged *s, int code, const char *message)
{
    dlv__free(s->reply);
    s->reply = dlv__reply_error(s->cmd_name, dlv__reply_code(code), message);
}

/* ---- the command batch ---- */

/* The batch owns the strings behind the store's const pointers. */
static void cmd_clear(dlv__store_cmd *c)
{
    dlv__free((char *)c->id);
    dlv__free((char *)c->order_id);
    dlv__free((char *)c->type);
    dlv__free((char *)c->body);
    memset(c, 0, sizeof *c);
}

int dlv__rt_batch_add(dlv_ctx *ctx, const char *order_id, cJSON *body, dlv_error *err)
{
    rt_batch *b = &ctx->batch;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(body, "id");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(body, "type");
    dlv__store_cmd c = {0};
    bool ok = cJSON_IsString(id) && cJSON_IsString(type);
    if (ok && b->count == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        dlv__store_cmd *grown = dlv__realloc(b->cmds, cap * sizeof *grown);
        ok = grown != NULL;
        if (grown) {
            b->cmds = grown;
            b->cap = cap;
        }
    }
    if (ok) {
        c.id = dlv__strdup(id->valuestring);
        c.order_id = dlv__strdup(order_id);
        c.type = dlv__strdup(type->valuestring);
        c.body = dlv__json_print(body);
        ok = c.id && c.order_id && c.type && c.body;
    }
    cJSON_Delete(body);
    if (!ok) {
        cmd_clear(&c);
        return dlv__error_set(err, DLV_ENOMEM, "out of memory making the command");
    }
    b->cmds[b->count++] = c;
    return DLV_OK;
}

static void batch_clear(rt_batch *b)
{
    for (size_t i = 0; i < b->count; i++)
        cmd_clear(&b->cmds[i]);
    b->count = 0;
}

/* ---- the group commit ---- */

static void staged_free(rt_staged *s)
{
    while (s->events) {
        rt_event *e = s->events;
        s->events = e->next;
        dlv__free(e->json);
        dlv__free(e);
    }
    dlv__order_free(s->new_view);
    dlv__free(s->reply);
    dlv__free(s->request_id);
    dlv__free(s);
}

/* ---- what the consequences tell, held until their transaction is durable ---- */

struct rt_held {
    char *json; /* an event, or NULL for a customer message */
    char *order_id, *event, *channel, *to, *text;
    struct rt_held *next;
};

static void held_free(rt_held *h)
{
    dlv__free(h->json);
    dlv__free(h->order_id);
    dlv__free(h->event);
    dlv__free(h->channel);
    dlv__free(h->to);
    dlv__free(h->text);
    dlv__free(h);
}

static void held_append(rt_batch *b, rt_held *h)
{
    if (b->held_tail)
        b->held_tail->next = h;
    else
        b->held_head = h;
    b->held_tail = h;
}

void dlv__rt_hold_event(dlv_ctx *ctx, char *json)
{
    rt_held *h = dlv__calloc(1, sizeof *h);
    if (!h) {
        dlv__free(json);
        return;
    }
    h->json = json;
    held_append(&ctx->batch, h);
}

/* Stands in for the host's notifier while the consequences' transaction is open: a message must
 * not reach a customer for a change that is then not stored. */
static int hold_notify(void *arg, const char *order_id, const char *event, const char *channel,
                       const char *to, const char *text)
{
    dlv_ctx *ctx = arg;
    rt_held *h = dlv__calloc(1, sizeof *h);
    if (!h)
        return -1;
    h->order_id = dlv__strdup(order_id);
    h->event = dlv__strdup(event);
    h->channel = dlv__strdup(channel);
    h->to = dlv__strdup(to);
    h->text = dlv__strdup(text);
    if (!h->order_id || !h->event || !h->channel || !h->to || !h->text) {
        held_free(h);
        return -1;
    }
    held_append(&ctx->batch, h);
    return 0;
}

typedef struct hold_state {
    dlv_notify_cb on_notify;
    void *notify_arg;
} hold_state;

static void hold_begin(dlv_ctx *ctx, hold_state *saved)
{
    saved->on_notify = ctx->on_notify;
    saved->notify_arg = ctx->notify_arg;
    if (ctx->on_notify) {
        ctx->on_notify = hold_notify;
        ctx->notify_arg = ctx;
    }
    ctx->batch.holding = true;
}

static void hold_end(dlv_ctx *ctx, const hold_state *saved)
{
    ctx->on_notify = saved->on_notify;
    ctx->notify_arg = saved->notify_arg;
    ctx->batch.holding = false;
}

/* Tells what was held, in the order it was made (`tell` false: drops it). */
static void held_flush(dlv_ctx *ctx, bool tell)
{
    rt_batch *b = &ctx->batch;
    rt_held *h = b->held_head;
    b->held_head = b->held_tail = NULL;
    while (h) {
        rt_held *next = h->next;
        if (tell && h->json) {
            dlv__rt_emit(ctx, h->json);
            h->json = NULL;
        } else if (tell && ctx->on_notify &&
                   ctx->on_notify(ctx->notify_arg, h->order_id, h->event, h->channel, h->to,
                                  h->text) != 0) {
            DLV__LOGW(&ctx->log, "notifier refused the %s message for order %s", h->event,
                      h->order_id);
        }
        held_free(h);
        h = next;
    }
}

void dlv__rt_batch_free(dlv_ctx *ctx)
{
    rt_batch *b = &ctx->batch;
    batch_clear(b);
    dlv__free(b->cmds);
    b->cmds = NULL;
    b->cap = 0;
    while (b->staged_head) {
        rt_staged *s = b->staged_head;
        b->staged_head = s->next;
        staged_free(s);
    }
    b->staged_tail = NULL;
    held_flush(ctx, false);
}

/* Drops what the consequences of a failed commit staged (automatic steps). */
static void staged_drop_new(dlv_ctx *ctx)
{
    rt_batch *b = &ctx->batch;
    batch_clear(b);
    while (b->staged_head) {
        rt_staged *s = b->staged_head;
        b->staged_head = s->next;
        staged_free(s);
    }
    b->staged_tail = NULL;
}

void dlv__rt_commit(dlv_ctx *ctx)
{
    rt_batch *b = &ctx->batch;
    /* Consequences may stage further automatic steps: commit until nothing is left. */
    for (int round = 0; b->staged_head && round < 16; round++) {
        rt_staged *list = b->staged_head;
        b->staged_head = b->staged_tail = NULL;
        /* One transaction, one flush, for everything this turn produced: the commands, the
         * views they make and what those changes owe (print jobs, notification marks). Only
         * after it is durable do the replies say ok, so a crash right after an "ok" cannot
         * forget a kitchen ticket (docs/reliability.md). */
        dlv_error err = {0};
        size_t n = 0;
        for (rt_staged *s = list; s; s = s->next)
            n += s->new_view != NULL;
        const dlv__order **views = dlv__calloc(n ? n : 1, sizeof *views);
        rt_staged **with_view = dlv__calloc(n ? n : 1, sizeof *with_view);
        dlv__order **old_views = dlv__calloc(n ? n : 1, sizeof *old_views);
        size_t k = 0;
        for (rt_staged *s = list; views && with_view && old_views && s; s = s->next)
            if (s->new_view) {
                with_view[k] = s;
                views[k++] = s->new_view;
            }
        int rc = views && with_view && old_views
                     ? DLV_OK
                     : dlv__error_set(&err, DLV_ENOMEM, "out of memory");
        bool consequences = false;
        for (rt_staged *s = list; s; s = s->next)
            consequences |= s->trigger_set;
        bool group = false;
        if (rc == DLV_OK && (b->count > 0 || k > 0 || consequences)) {
            rc = dlv__store_begin(ctx->store, &err);
            group = rc == DLV_OK;
        }
        bool added = b->count > 0;
        if (rc == DLV_OK && added)
            rc = dlv__store_outbox_add(ctx->store, b->cmds, b->count, &err);
        if (rc == DLV_OK && k > 0 && dlv__rt_persist_orders(ctx, views, k, NULL, 0, -1) != DLV_OK)
            rc = dlv__error_set(&err, DLV_ESTORE, "cannot cache the changed orders");
        batch_clear(b); /* stored (or refused); automatic steps below make new commands */
        /* The new views go in so that the rules decide on them; undone when the commit fails. */
        bool swapped = rc == DLV_OK;
        for (size_t i = 0; swapped && i < k; i++) {
            rt_order *o = with_view[i]->order;
            old_views[i] = dlv__rt_view_set(ctx, o, with_view[i]->new_view);
        }
        if (rc == DLV_OK) {
            hold_state saved;
            hold_begin(ctx, &saved);
            for (rt_staged *s = list; s; s = s->next) {
                if (s->order && s->order->view && s->trigger_set) {
                    dlv__event ev = {s->trigger, s->from};
                    dlv__notify_before before = {s->created, s->from, s->sum_before};
                    dlv__rt_consequences(ctx, s->order, &ev, &before);
                }
            }
            hold_end(ctx, &saved);
        }
        if (group && rc == DLV_OK)
            rc = dlv__store_commit(ctx->store, &err);
        else if (group)
            dlv__store_rollback(ctx->store);
        dlv__free(views);
        if (rc != DLV_OK) {
            DLV__LOGE(&ctx->log, "changes refused, not stored: %s", err.message);
            dlv__rt_set_error(ctx, "%s", err.message);
            held_flush(ctx, false);
            staged_drop_new(ctx);
            /* The old view puts its key back; the new one stays the staged one's. An order being
             * created had none and is removed below. */
            for (size_t i = k; swapped && i-- > 0;)
                dlv__rt_view_set(ctx, with_view[i]->order, old_views[i]);
        }
        /* Keep the new views; a failed commit turns them into errors. */
        for (rt_staged *s = list; s; s = s->next)
            s->applied = s->new_view == NULL || rc == DLV_OK;
        for (size_t i = 0; i < k; i++) {
            rt_staged *s = with_view[i];
            if (rc != DLV_OK) {
                char msg[DLV_ERROR_MESSAGE_MAX + 64];
                snprintf(msg, sizeof msg, "not stored, nothing changed: %s", err.message);
                dlv__rt_staged_error(s, rc, msg);
                if (s->created)
                    dlv__rt_order_remove(ctx, s->order->id);
                s->order = NULL;
                continue;
            }
            rt_order *o = s->order;
            if (old_views[i] && old_views[i]->status != s->new_view->status)
                DLV__LOGI(&ctx->log, "order %lld: %s -> %s (%s, stored)",
                          (long long)s->new_view->number, dlv_status_name(old_views[i]->status),
                          dlv_status_name(s->new_view->status), s->origin);
            dlv__order_free(old_views[i]);
            s->new_view = NULL;
            o->pending += s->commands;
        }
        dlv__free(with_view);
        dlv__free(old_views);
        /* A host that reads the health after an "ok" sees the commands it was given. */
        if (rc == DLV_OK && added)
            dlv__rt_health_update(ctx);
        /* Replies first, then the events each request caused, in request order; then what
         * their consequences told. */
        for (rt_staged *s = list; s; s = s->next) {
            s->reply = dlv__reply_with_id(s->reply, s->request_id);
            if (s->cb)
                s->cb(s->arg, s->reply ? s->reply
                                       : "{\"reply\":\"\",\"ok\":false,\"error\":\"OutOfMemory\"}");
            for (rt_event *e = s->events; e && s->applied; e = e->next) {
                dlv__rt_emit(ctx, e->json);
                e->json = NULL;
            }
        }
        held_flush(ctx, true);
        while (list) {
            rt_staged *s = list;
            list = s->next;
            staged_free(s);
        }
    }
    dlv__rt_views_trim(ctx);
    dlv__rt_health_update(ctx);
    dlv__sync_kick_sender(ctx);
}
