/* JSON of the events and replies the host receives (reference-host.md). Every event is built
 * here, named from DLV_EVENT_MAP (include/delivery/delivery.h); the rest of the runtime decides
 * when to send one and never spells an event name itself. */
#include "runtime/rt.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "order/json.h"
#include "order/jwrite.h"
#include "runtime/events.h"
#include "store/store.h"

static const char *const event_names[] = {
#define EVENT_NAME(id, name, text) name,
    DLV_EVENT_MAP(EVENT_NAME)
#undef EVENT_NAME
};

const char *dlv__event_name(dlv__event_id id)
{
    return (unsigned)id < DLV__EV_COUNT_ ? event_names[id] : "";
}

/* A new event object: {"event":"<name>"}; NULL when memory ran out. */
static cJSON *ev_new(dlv__event_id id)
{
    cJSON *j = cJSON_CreateObject();
    if (j && !dlv__jput_string(j, "event", dlv__event_name(id))) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* The text of `j` when every member went in (`ok`), else NULL; deletes `j` either way. */
static char *ev_finish(cJSON *j, bool ok)
{
    char *text = j && ok ? dlv__json_print(j) : NULL;
    cJSON_Delete(j);
    return text;
}

/* {"event":…,"orderId"}: the events that only name an order. */
static char *ev_order_id(dlv__event_id id, const char *order_id)
{
    cJSON *j = ev_new(id);
    return ev_finish(j, j && dlv__jput_string(j, "orderId", order_id));
}

char *dlv__ev_started(const char *terminal_id)
{
    cJSON *j = ev_new(DLV__EV_STARTED);
    return ev_finish(j, j && dlv__jput_string(j, "terminalId", terminal_id));
}

char *dlv__ev_stopped(long pending_commands)
{
    cJSON *j = ev_new(DLV__EV_STOPPED);
    return ev_finish(j,
                     j && cJSON_AddNumberToObject(j, "pendingCommands", (double)pending_commands));
}

char *dlv__ev_error(const char *code, const char *message)
{
    cJSON *j = ev_new(DLV__EV_ERROR);
    return ev_finish(j, j && dlv__jput_string(j, "code", code) &&
                            dlv__jput_string(j, "message", message));
}

char *dlv__ev_settings_changed(void)
{
    return ev_finish(ev_new(DLV__EV_SETTINGS_CHANGED), true);
}

char *dlv__ev_order_removed(const char *order_id)
{
    return ev_order_id(DLV__EV_ORDER_REMOVED, order_id);
}

char *dlv__ev_overdue_cooking(const char *order_id)
{
    return ev_order_id(DLV__EV_OVERDUE_COOKING, order_id);
}

char *dlv__ev_show_delivery_list(cJSON *orders)
{
    cJSON *j = orders ? ev_new(DLV__EV_SHOW_DELIVERY_LIST) : NULL;
    if (!j) {
        cJSON_Delete(orders);
        return NULL;
    }
    return ev_finish(j, dlv__jattach(j, "orders", orders));
}

char *dlv__ev_notification(const char *order_id, const char *kind, const char *channel,
                           const char *to, const char *text)
{
    cJSON *j = ev_new(DLV__EV_NOTIFICATION);
    return ev_finish(j, j && dlv__jput_string(j, "orderId", order_id) &&
                            dlv__jput_string(j, "kind", kind) &&
                            dlv__jput_string(j, "channel", channel) &&
                            dlv__jput_string(j, "to", to) && dlv__jput_string(j, "text", text));
}

/* The members every print event shares, in the order hosts have always seen them. */
static cJSON *ev_print_job(dlv__event_id id, const dlv__print_job *job)
{
    cJSON *j = ev_new(id);
    bool ok = j && dlv__jput_string(j, "orderId", job->order_id) &&
              dlv__jput_string(j, "document", job->document) &&
              cJSON_AddNumberToObject(j, "copies", job->copies) &&
              dlv__jput_string(j, "printer", job->printer ? job->printer : "receipt") &&
              cJSON_AddNumberToObject(j, "jobId", (double)job->id);
    if (ok && job->is_copy)
        ok = dlv__jput_bool(j, "copy", true);
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

char *dlv__ev_printed(const dlv__print_job *job)
{
    cJSON *j = ev_print_job(DLV__EV_PRINTED, job);
    return ev_finish(j, j != NULL);
}

char *dlv__ev_print_failed(const dlv__print_job *job, const char *error, bool will_retry)
{
    cJSON *j = ev_print_job(DLV__EV_PRINT_FAILED, job);
    return ev_finish(j, j && dlv__jput_string(j, "error", error) &&
                            dlv__jput_bool(j, "willRetry", will_retry));
}

char *dlv__ev_reprint_offered(const dlv__print_job *job, const char *reason)
{
    cJSON *j = ev_print_job(DLV__EV_REPRINT_OFFERED, job);
    return ev_finish(j, j && dlv__jput_string(j, "error", reason));
}

char *dlv__ev_print_not_recorded(const char *order_id, const char *document, const char *error)
{
    cJSON *j = ev_new(DLV__EV_PRINT_FAILED);
    return ev_finish(j, j && dlv__jput_string(j, "orderId", order_id) &&
                            dlv__jput_string(j, "document", document) &&
                            dlv__jput_string(j, "error", error) &&
                            dlv__jput_bool(j, "willRetry", false));
}

/* The order as hosts see it is written straight to text (order/jwrite.h): it goes out with
 * every `order` event, every list and every getOrder, and a tree per order cost more than the
 * rest of applying it (docs/performance.md). */

static void put_money(dlv__jw *w, const char *key, dlv__money value)
{
    dlv__jw_decimal(w, key, value, DLV__MONEY_SCALE, true);
}

static void put_amount(dlv__jw *w, const char *key, dlv__amount value)
{
    dlv__jw_decimal(w, key, value, DLV__AMOUNT_SCALE, false);
}

/* [{"productId","name","amount","price","sum"}] */
static void put_modifiers(dlv__jw *w, const dlv__item *it)
{
    dlv__jw_array(w, "modifiers");
    for (size_t i = 0; i < it->modifier_count; i++) {
        const dlv__modifier *m = &it->modifiers[i];
        dlv__jw_object(w, NULL);
        dlv__jw_string(w, "productId", m->product_id);
        dlv__jw_string(w, "name", m->name);
        put_amount(w, "amount", m->amount);
        put_money(w, "price", m->price);
        put_money(w, "sum", dlv__order_line_sum(m->price, m->amount));
        dlv__jw_end(w);
    }
    dlv__jw_end(w);
}

/* [{"positionId","productId","name","amount","price","sum","comment","modifiers"}] */
static void put_items(dlv__jw *w, const dlv__order *o)
{
    dlv__jw_array(w, "items");
    for (size_t i = 0; i < o->item_count; i++) {
        const dlv__item *it = &o->items[i];
        dlv__jw_object(w, NULL);
        dlv__jw_string(w, "positionId", it->position_id);
        dlv__jw_string(w, "productId", it->product_id);
        dlv__jw_string(w, "name", it->name);
        put_amount(w, "amount", it->amount);
        put_money(w, "price", it->price);
        put_money(w, "sum", it->sum);
        dlv__jw_string(w, "comment", it->comment);
        put_modifiers(w, it);
        dlv__jw_end(w);
    }
    dlv__jw_end(w);
}

/* {"id","name","surname","phone","comment","inBlacklist","blacklistReason"}, null when anonymous.
 * The order's phone is the customer's. */
static void put_customer(dlv__jw *w, const dlv__order *o)
{
    const dlv__customer *c = o->customer;
    if (!c) {
        dlv__jw_null(w, "customer");
        return;
    }
    dlv__jw_object(w, "customer");
    dlv__jw_string(w, "id", c->id);
    dlv__jw_string(w, "name", c->name);
    dlv__jw_string(w, "surname", c->surname);
    dlv__jw_string(w, "phone", o->phone);
    dlv__jw_string(w, "comment", c->comment);
    dlv__jw_bool(w, "inBlacklist", c->in_blacklist);
    dlv__jw_string(w, "blacklistReason", c->blacklist_reason);
    dlv__jw_end(w);
}

/* {"id","name","phone"} of the assigned courier, null when none. */
static void put_assigned_courier(dlv__jw *w, const dlv__order_courier *c)
{
    if (!c) {
        dlv__jw_null(w, "assignedCourier");
        return;
    }
    dlv__jw_object(w, "assignedCourier");
    dlv__jw_string(w, "id", c->id);
    dlv__jw_string(w, "name", c->name);
    dlv__jw_string(w, "phone", c->phone);
    dlv__jw_end(w);
}

/* {"whenCancelled","cause":{"id","name"},"comment"}, null unless cancelled. */
static void put_cancel_info(dlv__jw *w, const dlv__cancel_info *ci)
{
    if (!ci) {
        dlv__jw_null(w, "cancelInfo");
        return;
    }
    dlv__jw_object(w, "cancelInfo");
    dlv__jw_object(w, "cause");
    dlv__jw_string(w, "id", ci->cause_id);
    dlv__jw_string(w, "name", ci->cause_name);
    dlv__jw_end(w);
    dlv__jw_time(w, "whenCancelled", ci->when);
    dlv__jw_string(w, "comment", ci->comment);
    dlv__jw_end(w);
}

/* What was taken for an order: [{"id","kind","sum","paymentTypeId","name"}] (under `key`, or the
 * outermost value when NULL), so the host can give the money back when a paid order is
 * cancelled; with `details` (the whole order) also "processed" (processed externally) and
 * "prepay". */
static void put_payments(dlv__jw *w, const char *key, const dlv__order *o, bool details)
{
    dlv__jw_array(w, key);
    for (size_t i = 0; i < o->payment_count; i++) {
        const dlv__payment *p = &o->payments[i];
        dlv__jw_object(w, NULL);
        dlv__jw_string(w, "id", p->id);
        dlv__jw_string(w, "kind", dlv__payment_kind_names[p->kind]);
        put_money(w, "sum", p->sum);
        dlv__jw_string(w, "paymentTypeId", p->payment_type_id);
        dlv__jw_string(w, "name", p->name);
        if (details) {
            dlv__jw_bool(w, "processed", p->processed_externally);
            dlv__jw_bool(w, "prepay", p->prepay);
        }
        dlv__jw_end(w);
    }
    dlv__jw_end(w);
}

/* The names of dlv__order_actions for the logged-in user; empty when nobody is logged in or
 * the settings have not come yet. */
static void put_actions(dlv__jw *w, dlv_ctx *ctx, const dlv__order *o, dlv__time now)
{
    dlv__action_set set = ctx->login.logged_in && ctx->settings
                              ? dlv__order_actions(o, ctx->settings, ctx->login.rights, now)
                              : 0;
    dlv__jw_array(w, "actions");
    for (int a = 0; a < DLV__ACTION_COUNT; a++)
        if (set & (1u << a))
            dlv__jw_string(w, NULL, dlv__action_name((dlv__action)a));
    dlv__jw_end(w);
}

/* A text written by `w` as a node to attach (printed as it is), or NULL. */
static cJSON *raw_node(dlv__jw *w)
{
    char *text = dlv__jw_finish(w);
    cJSON *node = text ? cJSON_CreateRaw(text) : NULL;
    dlv__free(text);
    return node;
}

cJSON *dlv__ev_order_json(dlv_ctx *ctx, const dlv__order *o)
{
    dlv__jw w;
    dlv__jw_init(&w, DLV__ORDER_JSON_MAX * 4);
    dlv__time now = dlv__rt_now(ctx);
    const dlv__settings *s = ctx->settings;
    dlv__money paid = dlv__order_paid_sum(o);
    dlv__jw_object(&w, NULL);
    /* The summary members first, as hosts have always had them. */
    dlv__jw_string(&w, "id", o->id);
    dlv__jw_decimal(&w, "number", o->number, 0, true);
    dlv__jw_string(&w, "status", dlv_status_name(o->status));
    dlv__jw_string(&w, "serviceType", dlv_service_type_name(o->service_type));
    dlv__jw_time(&w, "completeBefore", o->complete_before);
    dlv__jw_bool(&w, "overdue", s ? dlv__order_overdue(o, s, now) : false);
    put_money(&w, "resultSum", o->result_sum);
    dlv__jw_string(&w, "customerName", o->customer ? o->customer->name : NULL);
    dlv__jw_string(&w, "phone", o->phone);
    dlv__jw_string(&w, "courier", o->courier ? o->courier->name : NULL);
    /* The whole order. */
    dlv__jw_string(&w, "statusName", dlv_status_russian_name(o->status));
    dlv__jw_string(&w, "externalNumber", o->external_number);
    dlv__jw_decimal(&w, "personsCount", o->persons_count, 0, true);
    dlv__jw_string(&w, "comment", o->comment);
    dlv__jw_bool(&w, "highRisk", o->customer && o->customer->in_blacklist);
    put_items(&w, o);
    dlv__order_write_address(&w, o->address);
    put_customer(&w, o);
    put_payments(&w, "payments", o, true);
    put_assigned_courier(&w, o->courier);
    put_money(&w, "fullSum", o->full_sum);
    put_money(&w, "discountSum", o->discount_sum);
    put_money(&w, "surchargeSum", o->surcharge_sum);
    put_money(&w, "paid", paid);
    put_money(&w, "sumToPay", paid < o->result_sum ? o->result_sum - paid : 0);
    put_money(&w, "change", dlv__order_change_sum(o));
    dlv__jw_time(&w, "whenCreated", o->when_created);
    dlv__jw_time(&w, "predictedCookingCompleteTime", o->predicted_cooking_complete_time);
    dlv__jw_time(&w, "predictedDeliveryTime", o->predicted_delivery_time);
    dlv__jw_time(&w, "kitchenDeadline", s ? dlv__kitchen_deadline(o, s) : DLV__TIME_NONE);
    dlv__jw_time(&w, "cookingDueAt", s ? dlv__cooking_due_at(o, s) : DLV__TIME_NONE);
    dlv__jw_string(&w, "problem",
                   o->has_problem ? (o->problem_description ? o->problem_description : "") : NULL);
    put_cancel_info(&w, o->cancel_info);
    put_actions(&w, ctx, o, now);
    dlv__jw_end(&w);
    return raw_node(&w);
}

char *dlv__ev_order(dlv_ctx *ctx, const dlv__order *o)
{
    cJSON *j = ev_new(DLV__EV_ORDER);
    return ev_finish(j, j && dlv__jattach(j, "order", dlv__ev_order_json(ctx, o)));
}

char *dlv__ev_status_changed(const char *order_id, dlv_status from, dlv_status to,
                             const char *origin)
{
    cJSON *j = ev_new(DLV__EV_STATUS_CHANGED);
    return ev_finish(j, j && dlv__jput_string(j, "orderId", order_id) &&
                            dlv__jput_string(j, "from", dlv_status_name(from)) &&
                            dlv__jput_string(j, "to", dlv_status_name(to)) &&
                            dlv__jput_string(j, "origin", origin));
}

char *dlv__ev_status_changed_of(const dlv__order *o, dlv_status from, const char *origin)
{
    cJSON *j = ev_new(DLV__EV_STATUS_CHANGED);
    bool ok = j && dlv__jput_string(j, "orderId", o->id) &&
              dlv__jput_string(j, "from", dlv_status_name(from)) &&
              dlv__jput_string(j, "to", dlv_status_name(o->status)) &&
              dlv__jput_string(j, "origin", origin);
    if (ok && o->status == DLV_STATUS_CANCELLED) {
        dlv__jw w;
        dlv__jw_init(&w, DLV__ORDER_JSON_MAX * 4);
        put_payments(&w, NULL, o, false);
        ok = dlv__jattach(j, "payments", raw_node(&w));
    }
    return ev_finish(j, ok);
}

#ifndef NDEBUG
static bool event_known(const char *event)
{
    for (int i = 0; i < DLV__EV_COUNT_; i++)
        if (strcmp(event_names[i], event) == 0)
            return true;
    return false;
}
#endif

/* Prefer a named builder above; this one is for events without members beyond one string, and
 * only for names in DLV_EVENT_MAP (a debug build stops on any other). */
char *dlv__ev_simple(const char *event, const char *key, const char *value)
{
    assert(event && event_known(event));
    cJSON *j = cJSON_CreateObject();
    char *text = NULL;
    if (j && dlv__jput_string(j, "event", event) && (!key || dlv__jput_string(j, key, value)))
        text = dlv__json_print(j);
    cJSON_Delete(j);
    return text;
}

char *dlv__reply_ok(const char *cmd, cJSON *extra)
{
    cJSON *j = cJSON_CreateObject();
    char *text = NULL;
    if (j && dlv__jput_string(j, "reply", cmd) && dlv__jput_bool(j, "ok", true)) {
        while (extra && extra->child) {
            cJSON *item = extra->child;
            cJSON_DetachItemViaPointer(extra, item);
            cJSON_AddItemToObject(j, item->string, item);
        }
        text = dlv__json_print(j);
    }
    cJSON_Delete(extra);
    cJSON_Delete(j);
    return text;
}

char *dlv__reply_error(const char *cmd, const char *code, const char *message)
{
    cJSON *j = cJSON_CreateObject();
    char *text = NULL;
    if (j && dlv__jput_string(j, "reply", cmd ? cmd : "") && dlv__jput_bool(j, "ok", false) &&
        dlv__jput_string(j, "error", code) && dlv__jput_string(j, "message", message))
        text = dlv__json_print(j);
    cJSON_Delete(j);
    return text;
}

/* The id is spliced in first, as the host sent it (a string or a number), so a host that
 * pipelines requests matches each reply to its request (docs/api.md, "Requests and replies").
 * Text splicing keeps the reply's exact money texts as they are. */
char *dlv__reply_with_id(char *reply, const char *id_json)
{
    if (!reply || !id_json || reply[0] != '{')
        return reply;
    size_t rlen = strlen(reply), ilen = strlen(id_json);
    char *text = dlv__malloc(rlen + ilen + 8);
    if (!text)
        return reply;
    /* {"id":ID,"reply":… ; an empty object gets no comma. */
    snprintf(text, rlen + ilen + 8, "{\"id\":%s%s%s", id_json, reply[1] == '}' ? "" : ",",
             reply + 1);
    dlv__free(reply);
    return text;
}

const char *dlv__reply_code(int err)
{
    switch (err) {
    case DLV_EMISSINGRIGHT:
        return "MissingRight";
    case DLV_EINVALIDTRANSITION:
        return "InvalidTransition";
    case DLV_EUNKNOWNORDER:
        return "UnknownOrder";
    case DLV_ERULE:
        return "RuleViolated";
    case DLV_ECONFLICT:
        return "StatusConflict";
    case DLV_EJSON:
    case DLV_EINVAL:
        return "BadCommand";
    case DLV_EFULL:
        return "DiskFull";
    case DLV_ESTORE:
    case DLV_EIO:
    case DLV_ECORRUPT:
        return "StoreError";
    case DLV_ENOMEM:
        return "OutOfMemory";
    case DLV_ESTOPPED:
        return "Stopped";
    case DLV_ERANGE:
        return "OutOfRange";
    case DLV_ENOTSUP:
        return "NotSupported";
    default:
        return "Error";
    }
}

/* ---- the sync's events (sync.c): connection, registration, rejected commands ---- */

char *dlv__ev_connection(bool online, const char *reason)
{
    cJSON *j = ev_new(DLV__EV_CONNECTION);
    return ev_finish(j, j && dlv__jput_string(j, "state", online ? "online" : "offline") &&
                            dlv__jput_string(j, "reason", online ? NULL : reason));
}

char *dlv__ev_registration_failed(const char *error, const char *description, long retry_in_seconds)
{
    cJSON *j = ev_new(DLV__EV_REGISTRATION_FAILED);
    bool ok = j && dlv__jput_string(j, "error", error) &&
              dlv__jput_string(j, "description", description) &&
              (retry_in_seconds < 0 ||
               cJSON_AddNumberToObject(j, "retryInSeconds", (double)retry_in_seconds));
    return ev_finish(j, ok);
}

char *dlv__ev_registered(const char *terminal_id, const char *settings_json)
{
    cJSON *j = ev_new(DLV__EV_REGISTERED);
    cJSON *sj = settings_json ? cJSON_Parse(settings_json) : NULL;
    bool ok = j && dlv__jput_string(j, "terminalId", terminal_id) && sj &&
              dlv__jattach(j, "settings", sj);
    if (ok)
        sj = NULL;
    cJSON_Delete(sj);
    return ev_finish(j, ok);
}

char *dlv__ev_command_rejected(const char *order_id, const char *command_id, const char *error,
                               const char *description)
{
    cJSON *j = ev_new(DLV__EV_COMMAND_REJECTED);
    return ev_finish(j, j && dlv__jput_string(j, "orderId", order_id) &&
                            dlv__jput_string(j, "commandId", command_id) &&
                            dlv__jput_string(j, "error", error) &&
                            dlv__jput_string(j, "description", description));
}
