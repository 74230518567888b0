/* The terminal's orders (struct rt_orders, only this file touches it): the table, the sync
 * revision and the cache load; local operations staged as durable commands; the merge of the
 * call-center's answers; and the consequences (automatic steps, prints, notices) of every
 * committed change. */
#include "runtime/rt.h"

#include <string.h>

#include "order/json.h"
#include "runtime/printing.h"

/* ---- the table: chained hash on the order id ---- */

static size_t hash_id(const char *id)
{
    size_t h = 1469598103934665603ull;
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 1099511628211ull;
    return h;
}

static int table_init(rt_table *t)
{
    t->bucket_count = 1024;
    t->count = 0;
    t->buckets = dlv__calloc(t->bucket_count, sizeof *t->buckets);
    return t->buckets ? DLV_OK : DLV_ENOMEM;
}

static rt_order *table_find(rt_table *t, const char *id)
{
    if (!id || !t->buckets)
        return NULL;
    for (rt_order *o = t->buckets[hash_id(id) % t->bucket_count]; o; o = o->next)
        if (strcmp(o->id, id) == 0)
            return o;
    return NULL;
}

static void grow(rt_table *t)
{
    size_t n = t->bucket_count * 2;
    rt_order **b = dlv__calloc(n, sizeof *b);
    if (!b)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < t->bucket_count; i++) {
        for (rt_order *o = t->buckets[i], *next; o; o = next) {
            next = o->next;
            size_t k = hash_id(o->id) % n;
            o->next = b[k];
            b[k] = o;
        }
    }
    dlv__free(t->buckets);
    t->buckets = b;
    t->bucket_count = n;
}

static rt_order *table_add(rt_table *t, const char *id)
{
    if (t->count + 1 > t->bucket_count)
        grow(t);
    rt_order *o = dlv__calloc(1, sizeof *o);
    if (!o)
        return NULL;
    snprintf(o->id, sizeof o->id, "%s", id);
    size_t k = hash_id(id) % t->bucket_count;
    o->next = t->buckets[k];
    t->buckets[k] = o;
    t->count++;
    return o;
}

/* ---- the views in memory: a list, most recently used first ---- */

static void lru_unlink(rt_table *t, rt_order *o)
{
    if (o->lru_prev)
        o->lru_prev->lru_next = o->lru_next;
    else
        t->lru_head = o->lru_next;
    if (o->lru_next)
        o->lru_next->lru_prev = o->lru_prev;
    else
        t->lru_tail = o->lru_prev;
    o->lru_prev = o->lru_next = NULL;
    t->views--;
}

static void lru_push(rt_table *t, rt_order *o)
{
    o->lru_prev = NULL;
    o->lru_next = t->lru_head;
    if (t->lru_head)
        t->lru_head->lru_prev = o;
    else
        t->lru_tail = o;
    t->lru_head = o;
    t->views++;
}

static void lru_touch(rt_table *t, rt_order *o)
{
    if (t->lru_head == o)
        return;
    lru_unlink(t, o);
    lru_push(t, o);
}

static void order_entry_free(rt_table *t, rt_order *o)
{
    if (o->view)
        lru_unlink(t, o);
    dlv__order_free(o->view);
    dlv__order_free(o->server);
    dlv__free(o);
}

static void table_remove(rt_table *t, const char *id)
{
    for (rt_order **p = &t->buckets[hash_id(id) % t->bucket_count]; *p; p = &(*p)->next) {
        if (strcmp((*p)->id, id) == 0) {
            rt_order *o = *p;
            *p = o->next;
            order_entry_free(t, o);
            t->count--;
            return;
        }
    }
}

static void table_free(rt_table *t)
{
    for (size_t i = 0; t->buckets && i < t->bucket_count; i++) {
        for (rt_order *o = t->buckets[i], *next; o; o = next) {
            next = o->next;
            order_entry_free(t, o);
        }
    }
    dlv__free(t->buckets);
    memset(t, 0, sizeof *t);
}

static rt_order **table_list(rt_table *t, size_t *count)
{
    rt_order **list = dlv__malloc((t->count ? t->count : 1) * sizeof *list);
    size_t n = 0;
    for (size_t i = 0; list && i < t->bucket_count; i++)
        for (rt_order *o = t->buckets[i]; o; o = o->next)
            list[n++] = o;
    *count = list ? n : 0;
    return list;
}

/* ---- the part's functions ---- */

int dlv__rt_orders_init(dlv_ctx *ctx)
{
    return table_init(&ctx->orders.table);
}

void dlv__rt_orders_free(dlv_ctx *ctx)
{
    table_free(&ctx->orders.table);
}

rt_order *dlv__rt_order_find(dlv_ctx *ctx, const char *id)
{
    return table_find(&ctx->orders.table, id);
}

rt_order *dlv__rt_order_add(dlv_ctx *ctx, const char *id)
{
    return table_add(&ctx->orders.table, id);
}

void dlv__rt_order_remove(dlv_ctx *ctx, const char *id)
{
    table_remove(&ctx->orders.table, id);
}

rt_order **dlv__rt_order_list_all(dlv_ctx *ctx, size_t *count)
{
    return table_list(&ctx->orders.table, count);
}

size_t dlv__rt_order_count(const dlv_ctx *ctx)
{
    return ctx->orders.table.count;
}

int64_t dlv__rt_revision(const dlv_ctx *ctx)
{
    return ctx->orders.revision;
}

static void key_of(rt_key *k, const dlv__order *v)
{
    *k = (rt_key){v->revision,   v->number, v->complete_before, v->predicted_cooking_complete_time,
                  v->result_sum, v->status, v->service_type};
}

void dlv__rt_order_skeleton(const rt_order *o, dlv__order *out)
{
    const rt_key *k = &o->key;
    *out = (dlv__order){.revision = k->revision,
                        .number = k->number,
                        .status = k->status,
                        .service_type = k->service_type,
                        .complete_before = k->complete_before,
                        .predicted_cooking_complete_time = k->predicted_cooking_complete_time,
                        .predicted_delivery_time = DLV__TIME_NONE,
                        .when_created = DLV__TIME_NONE,
                        .result_sum = k->result_sum};
}

dlv__order *dlv__rt_view_set(dlv_ctx *ctx, rt_order *o, dlv__order *view)
{
    rt_table *t = &ctx->orders.table;
    dlv__order *old = o->view;
    if (old)
        lru_unlink(t, o);
    o->view = view;
    if (view) {
        key_of(&o->key, view);
        lru_push(t, o);
    }
    o->stored = view != NULL;
    return old;
}

void dlv__rt_view_changed(rt_order *o)
{
    if (o->view)
        key_of(&o->key, o->view);
}

dlv__order *dlv__rt_view(dlv_ctx *ctx, rt_order *o)
{
    if (!o || !o->stored)
        return NULL;
    if (o->view) {
        lru_touch(&ctx->orders.table, o);
        return o->view;
    }
    dlv__store_order_row row = {0};
    dlv_error err = {0};
    dlv__order *v = NULL;
    int rc = dlv__store_orders_get(ctx->store, o->id, &row, &err);
    /* Lenient, as the cache was loaded at start (dlv__rt_load_cache). */
    if (rc == DLV_OK)
        rc = dlv__order_from_json(row.json, strlen(row.json), DLV__ORDER_LENIENT, &v, &err);
    dlv__store_order_row_clear(&row);
    if (rc != DLV_OK) {
        DLV__LOGE(&ctx->log, "order %s cannot be read back from the cache: %s", o->id,
                  err.message[0] ? err.message : dlv_strerror(rc));
        return NULL;
    }
    dlv__rt_view_set(ctx, o, v);
    return v;
}

void dlv__rt_views_trim(dlv_ctx *ctx)
{
    rt_table *t = &ctx->orders.table;
    rt_order *o = t->lru_tail;
    while (o && t->views > DLV__RT_VIEWS_IN_MEMORY) {
        rt_order *prev = o->lru_prev;
        /* Kept: a view with something staged, and one whose commands are still out (their
         * outcome settles on it; reading it back per answer doubled a command's cost). */
        if (!dlv__rt_order_staged(ctx, o) && o->pending == 0) {
            lru_unlink(t, o);
            dlv__order_free(o->view);
            o->view = NULL;
        }
        o = prev;
    }
}

/* ---- staging ---- */

/* The view a new change builds on: the newest staged one for the order, else the order's. A
 * request is judged against what the requests before it in the same turn left (issue 17, item 8:
 * confirm then setStatus CookingStarted in one write). */
const dlv__order *dlv__rt_working_view(dlv_ctx *ctx, rt_order *o)
{
    const dlv__order *staged = dlv__rt_staged_view(ctx, o);
    return staged ? staged : dlv__rt_view(ctx, o);
}

static cJSON *command_base(dlv_ctx *ctx, const char *type, const char *order_id, bool actor)
{
    char id[37], at[21];
    cJSON *j = cJSON_CreateObject();
    if (!j || dlv__uuid_v4(id) != DLV_OK || !dlv__time_format(dlv__rt_now(ctx), at)) {
        cJSON_Delete(j);
        return NULL;
    }
    bool ok = dlv__jput_string(j, "id", id) && dlv__jput_string(j, "type", type) &&
              (!order_id || dlv__jput_string(j, "orderId", order_id)) &&
              dlv__jput_string(j, "at", at);
    if (ok && actor) {
        cJSON *a = dlv__rt_actor_json(ctx);
        ok = a && dlv__jattach(j, "actor", a);
    }
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* EditOrder's "changes": only the fields the host named, as the edited view holds them (decoded
 * strictly, the item sums recomputed, money in its exact text), so the call-center receives what
 * the terminal shows. */
static bool edit_changes(cJSON *command, const dlv__order *after, const cJSON *named)
{
    cJSON *tree = dlv__order_to_cjson(after);
    cJSON *changes = cJSON_CreateObject();
    bool ok = tree && changes;
    for (const cJSON *c = named ? named->child : NULL; ok && c; c = c->next) {
        cJSON *field = cJSON_DetachItemFromObjectCaseSensitive(tree, c->string);
        /* A field the view does not carry (a cleared comment) travels as null: cleared. */
        ok = dlv__jattach(changes, c->string, field ? field : cJSON_CreateNull());
    }
    cJSON_Delete(tree);
    if (!ok) {
        cJSON_Delete(changes);
        return false;
    }
    return dlv__jattach(command, "changes", changes);
}

/* The command(s) that carry an operation to the call-center. */
static int commands_for_op(dlv_ctx *ctx, const dlv__order *before, const dlv__order *after,
                           const dlv__op_request *req, int *count, dlv_error *err)
{
    bool actor = req->op != DLV__OP_LEAD_TIME_REACHED && req->op != DLV__OP_AUTO_START_COOKING;
    cJSON *c = NULL;
    bool ok = true;
    *count = 0;
    switch (req->op) {
    case DLV__OP_PRINT_INVOICE:
    case DLV__OP_REPRINT:
        return DLV_OK; /* nothing to send: the print reports itself when done */
    case DLV__OP_EDIT:
        c = command_base(ctx, "EditOrder", before->id, actor);
        ok = c && cJSON_AddNumberToObject(c, "expectedRevision", (double)before->revision) &&
             edit_changes(c, after, req->changes);
        break;
    case DLV__OP_REMOVE_PAYMENT:
        c = command_base(ctx, "RemovePayment", before->id, actor);
        ok = c && dlv__jput_string(c, "paymentId", req->payment_id);
        break;
    case DLV__OP_ASSIGN_COURIER:
        c = command_base(ctx, "AssignCourier", before->id, actor);
        ok = c && dlv__jput_string(c, "courierId", req->courier_id);
        break;
    case DLV__OP_TAKE_PAYMENT: {
        c = command_base(ctx, "Pay", before->id, actor);
        cJSON *list = cJSON_CreateArray();
        ok = c && list && dlv__jattach(c, "payments", list);
        /* dlv__op_apply appended the payments with their ids: the command carries them, so the
         * call-center keeps the id the terminal shows (RemovePayment names it). */
        size_t first = after->payment_count - req->payment_count;
        for (size_t i = 0; ok && i < req->payment_count; i++) {
            const dlv__payment *p = &req->payments[i];
            const char *id = after->payments[first + i].id;
            cJSON *pj = cJSON_CreateObject();
            ok = pj && (!id || dlv__jput_string(pj, "id", id)) &&
                 dlv__jput_string(pj, "paymentTypeId", p->payment_type_id) &&
                 dlv__jput_string(pj, "kind", dlv__payment_kind_names[p->kind]) &&
                 dlv__jput_decimal(pj, "sum", p->sum, DLV__MONEY_SCALE, true) &&
                 dlv__jattach(list, NULL, pj);
        }
        break;
    }
    case DLV__OP_CANCEL:
        c = command_base(ctx, "Cancel", before->id, actor);
        ok = c && dlv__jput_string(c, "cancelCauseId", req->cancel_cause_id) &&
             dlv__jput_string(c, "comment", req->comment);
        break;
    default:
        c = command_base(ctx, "ChangeStatus", before->id, actor);
        ok = c && dlv__jput_string(c, "status", dlv_status_name(after->status)) &&
             dlv__jput_string(c, "expectedStatus", dlv_status_name(before->status));
        break;
    }
    if (!ok) {
        cJSON_Delete(c);
        return dlv__error_set(err, DLV_ENOMEM, "out of memory making the command");
    }
    int rc = dlv__rt_batch_add(ctx, before->id, c, err);
    if (rc != DLV_OK)
        return rc;
    (*count)++;
    if (req->op == DLV__OP_MARK_DELIVERED && req->actual_time != DLV__TIME_NONE) {
        c = command_base(ctx, "SetActualDeliveryTime", before->id, actor);
        if (!c || !dlv__jput_time(c, "actualTime", req->actual_time)) {
            cJSON_Delete(c);
            return dlv__error_set(err, DLV_ENOMEM, "out of memory making the command");
        }
        rc = dlv__rt_batch_add(ctx, before->id, c, err);
        if (rc == DLV_OK)
            (*count)++;
    }
    return rc;
}

static dlv__trigger trigger_of(dlv__op op)
{
    switch (op) {
    case DLV__OP_TAKE_PAYMENT:
        return DLV__TRIGGER_PAID;
    case DLV__OP_ASSIGN_COURIER:
        return DLV__TRIGGER_COURIER_ASSIGNED;
    case DLV__OP_PRINT_INVOICE:
        return DLV__TRIGGER_PRINT_REQUESTED;
    default:
        return DLV__TRIGGER_STATUS_CHANGED;
    }
}

rt_staged *dlv__rt_stage_op(dlv_ctx *ctx, rt_order *o, const dlv__op_request *req,
                            const char *cmd_name, const char *origin, dlv_reply_cb cb, void *arg)
{
    rt_staged *s = dlv__rt_staged_new(ctx, cmd_name, cb, arg);
    if (!s)
        return NULL;
    s->origin = origin;
    dlv_error err = {0};
    if (!ctx->settings) {
        dlv__rt_staged_error(s, DLV_ERULE,
                             "the delivery settings have not arrived from the "
                             "call-center yet");
        return s;
    }
    const dlv__order *base = dlv__rt_working_view(ctx, o);
    if (!base) {
        dlv__rt_staged_error(s, DLV_ESTORE,
                             DLV__TR(ctx->locale,
                                     "the order cannot be read from the terminal's cache",
                                     "заказ не удалось прочитать из базы терминала"));
        return s;
    }
    dlv__order *next = NULL;
    dlv__op_request localized = *req; /* the rules answer in the staff's language */
    localized.locale = ctx->locale;
    int rc = dlv__order_clone(base, &next);
    if (rc == DLV_OK)
        rc = dlv__op_apply(next, ctx->settings, &localized, dlv__rt_now(ctx), &err);
    else
        dlv__error_set(&err, rc, "out of memory");
    int commands = 0;
    if (rc == DLV_OK)
        rc = commands_for_op(ctx, base, next, req, &commands, &err);
    if (rc != DLV_OK) {
        dlv__order_free(next);
        dlv__rt_staged_error(s, rc, err.message);
        return s;
    }
    s->order = o;
    s->new_view = next;
    s->from = base->status;
    s->sum_before = base->result_sum;
    s->commands = commands;
    s->trigger = trigger_of(req->op);
    s->trigger_set = true;
    s->print_invoice = req->op == DLV__OP_PRINT_INVOICE;
    cJSON *extra = cJSON_CreateObject();
    /* A payment's reply says the change to give back (docs/api.md, "pay"). */
    if (extra && req->op == DLV__OP_TAKE_PAYMENT)
        dlv__jput_decimal(extra, "change", dlv__order_change_sum(next), DLV__MONEY_SCALE, true);
    /* An edit's reply says the sum to pay as recomputed (docs/api.md, "editOrder"). */
    if (extra && req->op == DLV__OP_EDIT)
        dlv__jput_decimal(extra, "resultSum", next->result_sum, DLV__MONEY_SCALE, true);
    if (extra)
        dlv__jput_string(extra, "status", dlv_status_name(next->status));
    s->reply = dlv__reply_ok(cmd_name ? cmd_name : "", extra);
    /* The host shows an edited order at once, before the call-center has it. */
    if (req->op == DLV__OP_EDIT)
        dlv__rt_staged_event(s, dlv__ev_order(ctx, next));
    if (next->status != base->status)
        dlv__rt_staged_event(s, dlv__ev_status_changed_of(next, base->status, origin));
    return s;
}

/* ---- the call-center's answers ---- */

int dlv__rt_persist_orders(dlv_ctx *ctx, const dlv__order *const *orders, size_t n, char **removed,
                           size_t removed_n, int64_t revision)
{
    dlv__store_order *rows = dlv__calloc(n ? n : 1, sizeof *rows);
    char **texts = dlv__calloc(n ? n : 1, sizeof *texts);
    int rc = rows && texts ? DLV_OK : DLV_ENOMEM;
    for (size_t i = 0; rc == DLV_OK && i < n; i++) {
        const dlv__order *v = orders[i];
        texts[i] = dlv__order_to_json(v);
        if (!texts[i]) {
            rc = DLV_ENOMEM;
            break;
        }
        rows[i] =
            (dlv__store_order){v->id, v->revision, dlv_status_name(v->status), v->number, texts[i]};
    }
    dlv_error err = {0};
    if (rc == DLV_OK)
        rc = dlv__store_orders_sync(ctx->store, rows, n, (const char *const *)removed, removed_n,
                                    revision, &err);
    if (rc != DLV_OK)
        DLV__LOGE(&ctx->log, "cannot cache orders: %s",
                  err.message[0] ? err.message : dlv_strerror(rc));
    for (size_t i = 0; texts && i < n; i++)
        dlv__free(texts[i]);
    dlv__free(texts);
    dlv__free(rows);
    return rc;
}

static int persist_views(dlv_ctx *ctx, rt_order **changed, size_t n, char **removed,
                         size_t removed_n, int64_t revision)
{
    const dlv__order **views = dlv__calloc(n ? n : 1, sizeof *views);
    if (!views)
        return DLV_ENOMEM;
    for (size_t i = 0; i < n; i++)
        views[i] = changed[i]->view;
    int rc = dlv__rt_persist_orders(ctx, views, n, removed, removed_n, revision);
    dlv__free(views);
    return rc;
}

int dlv__rt_persist_views(dlv_ctx *ctx, rt_order **changed, size_t n)
{
    return persist_views(ctx, changed, n, NULL, 0, -1);
}

typedef struct change {
    rt_order *o;
    bool is_new;
    dlv_status from;
    dlv__money sum_before;
} change;

void dlv__rt_apply_server_orders(dlv_ctx *ctx, dlv__orders_response *resp)
{
    if (resp->settings) {
        dlv__settings_free(ctx->settings);
        ctx->settings = resp->settings;
        resp->settings = NULL;
        char *json = dlv__settings_to_json(ctx->settings);
        if (json)
            dlv__store_meta_set(ctx->store, "settings", json, NULL);
        dlv__free(json);
        dlv__rt_emit(ctx, dlv__ev_settings_changed());
    }
    change *changes = dlv__calloc(resp->order_count ? resp->order_count : 1, sizeof *changes);
    rt_order **changed = dlv__calloc(resp->order_count ? resp->order_count : 1, sizeof *changed);
    size_t n = 0;
    for (size_t i = 0; changes && changed && i < resp->order_count; i++) {
        dlv__order *incoming = resp->orders[i];
        rt_order *o = dlv__rt_order_find(ctx, incoming->id);
        bool is_new = !o;
        if (!o && !(o = dlv__rt_order_add(ctx, incoming->id)))
            continue;
        resp->orders[i] = NULL;
        if (!is_new && incoming->revision < o->key.revision) {
            dlv__order_free(incoming); /* older than what the terminal already has */
            continue;
        }
        if (o->pending > 0) {
            /* Local commands are in flight: the view keeps them; the server copy waits. */
            dlv__order_free(o->server);
            o->server = incoming;
            continue;
        }
        change c = {o, is_new, is_new ? incoming->status : o->key.status,
                    is_new ? 0 : o->key.result_sum};
        bool same = !is_new && o->key.revision == incoming->revision;
        dlv__order_free(dlv__rt_view_set(ctx, o, incoming));
        if (same)
            continue;
        changes[n] = c;
        changed[n++] = o;
    }
    persist_views(ctx, changed, n, resp->removed_ids, resp->removed_count, resp->revision);
    ctx->orders.revision = resp->revision;
    for (size_t i = 0; i < resp->removed_count; i++) {
        if (!dlv__rt_order_find(ctx, resp->removed_ids[i]))
            continue;
        dlv__rt_order_remove(ctx, resp->removed_ids[i]);
        dlv__rt_emit(ctx, dlv__ev_order_removed(resp->removed_ids[i]));
    }
    for (size_t i = 0; i < n; i++) {
        change *c = &changes[i];
        const dlv__order *v = c->o->view; /* set above; no trim before the page is done */
        if (c->is_new)
            DLV__LOGI(&ctx->log, "order %lld arrived: %s, due %lld", (long long)v->number,
                      dlv_status_name(v->status), (long long)v->complete_before);
        else if (c->from != v->status)
            DLV__LOGI(&ctx->log, "order %lld: %s -> %s at the call-center", (long long)v->number,
                      dlv_status_name(c->from), dlv_status_name(v->status));
        dlv__rt_emit(ctx, dlv__ev_order(ctx, v));
        if (!c->is_new && c->from != v->status)
            dlv__rt_emit(ctx, dlv__ev_status_changed_of(v, c->from, "server"));
        dlv__event ev = {c->is_new ? DLV__TRIGGER_ARRIVED : DLV__TRIGGER_STATUS_CHANGED, c->from};
        dlv__notify_before before = {c->is_new, c->from, c->sum_before};
        if (c->is_new || c->from != v->status)
            dlv__rt_consequences(ctx, c->o, &ev, &before);
        else if (c->sum_before != v->result_sum)
            dlv__rt_notify(ctx, c->o, &before);
    }
    dlv__free(changes);
    dlv__free(changed);
}

static int load_one(void *arg, const dlv__store_order_row *row)
{
    dlv_ctx *ctx = arg;
    dlv__order *order = NULL;
    dlv_error err = {0};
    /* Lenient: an order kept by tolerant reading (a field read as absent) must reload too, or
     * the cache would look incomplete and the sync would start over on every start. */
    int rc = dlv__order_from_json(row->json, strlen(row->json), DLV__ORDER_LENIENT, &order, &err);
    if (rc == DLV_ENOMEM)
        return DLV_ENOMEM;
    if (rc != DLV_OK) {
        /* Dropped here, so the sync must start over to bring it back (see dlv__rt_load_cache). */
        DLV__LOGW(&ctx->log, "cached order %s is unreadable and is dropped: %s", row->id,
                  err.message);
        ctx->orders.cache_incomplete = true;
        return DLV_OK;
    }
    rt_order *o = dlv__rt_order_add(ctx, order->id);
    if (!o) {
        dlv__order_free(order);
        return DLV_ENOMEM;
    }
    dlv__rt_view_set(ctx, o, order);
    /* Only the key stays for most: a cache of any size loads in bounded memory. */
    dlv__rt_views_trim(ctx);
    return DLV_OK;
}

/* Commands of the order still in the outbox; reports such as DocumentPrinted do not count. */
static int load_pending(void *arg, const char *order_id, long count)
{
    rt_order *o = dlv__rt_order_find(arg, order_id);
    if (o)
        o->pending = (int)count;
    return DLV_OK;
}

/* Everything cached comes back, or the context does not start: a partial load would keep the
 * cached revision while orders are missing, and the call-center would never send them again. */
int dlv__rt_load_cache(dlv_ctx *ctx, dlv_error *err)
{
    char *settings = NULL;
    int rc = dlv__store_meta_get(ctx->store, "settings", &settings, err);
    if (rc == DLV_OK && settings) {
        dlv_error serr = {0};
        rc = dlv__settings_from_json(settings, strlen(settings), &ctx->settings, &serr);
        if (rc != DLV_OK && rc != DLV_ENOMEM) {
            DLV__LOGW(&ctx->log, "cached settings unreadable (%s): waiting for the call-center",
                      serr.message);
            rc = DLV_OK;
        }
    }
    dlv__free(settings);
    if (rc == DLV_OK)
        rc = dlv__store_orders_each(ctx->store, load_one, ctx, err);
    if (rc == DLV_OK)
        rc = dlv__store_outbox_pending_orders(ctx->store, load_pending, ctx, err);
    if (rc != DLV_OK)
        return dlv__error_set(err, rc, "cannot load the terminal's cached state: %s",
                              dlv_strerror(rc));
    ctx->orders.revision = 0;
    dlv__store_revision(ctx->store, &ctx->orders.revision, NULL);
    if (ctx->orders.cache_incomplete) {
        /* An order missing from the cache would never come back from a sync that resumes at
         * the cached revision: ask for the whole snapshot instead. */
        DLV__LOGW(&ctx->log, "cached orders incomplete: syncing from revision 0");
        ctx->orders.revision = 0;
    }
    return DLV_OK;
}

/* ---- consequences ---- */

void dlv__rt_consequences(dlv_ctx *ctx, rt_order *o, const dlv__event *event,
                          const dlv__notify_before *before)
{
    const dlv__order *view = ctx->settings ? dlv__rt_view(ctx, o) : NULL;
    if (!view)
        return;
    dlv__decision d;
    bool a4 = dlv_front_config_flag(ctx->front, DLV_FRONT_A4_DELIVERY_INVOICE_FORMAT) != 0;
    dlv__decide(view, ctx->settings, dlv__rt_now(ctx), event, a4, &d);
    for (size_t i = 0; i < d.print_count; i++)
        dlv__rt_print(ctx, o, &d.prints[i]);
    if (d.overdue_cooking && !o->overdue_told) {
        /* Told once per order, across restarts: the mark sits in the notification ledger under a
         * key no customer event uses (docs/store.md). If it cannot be recorded, tell anyway: a
         * repeated warning beats a lost one. */
        bool newly = true;
        dlv_error err = {0};
        o->overdue_told = true;
        if (dlv__store_notify_mark(ctx->store, o->id, DLV__RT_OVERDUE_TOLD_KEY, &newly, &err) !=
            DLV_OK) {
            DLV__LOGW(&ctx->log, "overdue warning for order %s not recorded: %s", o->id,
                      err.message);
            newly = true;
        }
        if (newly)
            dlv__rt_emit(ctx, dlv__ev_overdue_cooking(o->id));
    }
    if (before)
        dlv__rt_notify(ctx, o, before);
    if (d.has_op) {
        dlv__op_request req = dlv__op_request_make(d.op, 0);
        const char *origin = d.op == DLV__OP_AUTO_START_COOKING ? "auto" : "timer";
        dlv__rt_stage_op(ctx, o, &req, NULL, origin, NULL, NULL);
    }
}

/* ---- the one timer for lead times ---- */

void dlv__rt_arm_due_timer(dlv_ctx *ctx)
{
    if (!ctx->settings || ctx->loop_state != RT_RUNNING)
        return;
    /* From the keys: the due moments need no view (lib/order/decide.c). */
    dlv__time now = dlv__rt_now(ctx);
    dlv__time next = DLV__TIME_NONE;
    rt_table *t = &ctx->orders.table;
    for (size_t i = 0; i < t->bucket_count; i++) {
        for (const rt_order *o = t->buckets[i]; o; o = o->next) {
            if (dlv_status_is_final(o->key.status))
                continue;
            dlv__order sk;
            dlv__rt_order_skeleton(o, &sk);
            dlv__time due = dlv__order_next_due(&sk, ctx->settings, now);
            if (due != DLV__TIME_NONE && (next == DLV__TIME_NONE || due < next))
                next = due;
        }
    }
    /* Looked at again at least every minute, so a wall-clock jump is caught within one. */
    uint64_t delay_ms = 60000;
    if (next != DLV__TIME_NONE && next > now && (uint64_t)(next - now) * 1000 < delay_ms)
        delay_ms = (uint64_t)(next - now) * 1000;
    else if (next != DLV__TIME_NONE && next <= now)
        delay_ms = 0;
    uv_timer_start(&ctx->due_timer, dlv__rt_on_due, delay_ms, 0);
}

void dlv__rt_on_due(uv_timer_t *timer)
{
    dlv_ctx *ctx = timer->data;
    size_t n;
    rt_order **list = dlv__rt_order_list_all(ctx, &n);
    dlv__event tick = {DLV__TRIGGER_TICK, 0};
    dlv__time now = dlv__rt_now(ctx);
    for (size_t i = 0; ctx->settings && list && i < n; i++) {
        /* A tick only starts a due step or tells an overdue kitchen (dlv__decide): the key
         * says whether either is due, so only those orders' views are read. */
        rt_order *o = list[i];
        if (dlv_status_is_final(o->key.status))
            continue;
        dlv__order sk;
        dlv__op op;
        dlv__rt_order_skeleton(o, &sk);
        bool overdue = ctx->settings->notify_overdue_cooking && !o->overdue_told &&
                       dlv__cooking_overdue(&sk, ctx->settings, now);
        if (overdue || dlv__due_op(&sk, ctx->settings, now, &op))
            dlv__rt_consequences(ctx, o, &tick, NULL);
    }
    dlv__free(list);
    dlv__rt_commit(ctx);
    dlv__rt_arm_due_timer(ctx);
}
