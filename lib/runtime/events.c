/* JSON of the events and replies the host receives (reference-host.md). Every event is built
 * here, named from DLV_EVENT_MAP (include/delivery/delivery.h); the rest of the runtime decides
 * when to send one and never spells an event name itself. */
#include "runtime/rt.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "order/json.h"
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

/* Money members: JSON numbers with two decimals. */
static bool put_money(cJSON *j, const char *key, dlv__money value)
{
    return dlv__jput_decimal(j, key, value, DLV__MONEY_SCALE, true);
}

static bool put_amount(cJSON *j, const char *key, dlv__amount value)
{
    return dlv__jput_decimal(j, key, value, DLV__AMOUNT_SCALE, false);
}

/* `item` added to `parent` (under `key`, or to an array with key NULL) when `ok`; else deleted.
 * Returns whether it went in. */
static bool put_built(cJSON *parent, const char *key, cJSON *item, bool ok)
{
    if (!ok) {
        cJSON_Delete(item);
        return false;
    }
    return dlv__jattach(parent, key, item);
}

/* `j` when every member went in (`ok`), else NULL (`j` deleted). */
static cJSON *keep(cJSON *j, bool ok)
{
    if (ok)
        return j;
    cJSON_Delete(j);
    return NULL;
}

/* [{"productId","name","amount","price","sum"}] */
static cJSON *modifiers_json(const dlv__item *it)
{
    cJSON *list = cJSON_CreateArray();
    bool ok = list != NULL;
    for (size_t i = 0; ok && i < it->modifier_count; i++) {
        const dlv__modifier *m = &it->modifiers[i];
        cJSON *mj = cJSON_CreateObject();
        ok =
            put_built(list, NULL, mj,
                      mj && dlv__jput_string(mj, "productId", m->product_id) &&
                          dlv__jput_string(mj, "name", m->name) &&
                          put_amount(mj, "amount", m->amount) && put_money(mj, "price", m->price) &&
                          put_money(mj, "sum", dlv__order_line_sum(m->price, m->amount)));
    }
    return keep(list, ok);
}

/* [{"positionId","productId","name","amount","price","sum","comment","modifiers"}] */
static cJSON *items_json(const dlv__order *o)
{
    cJSON *list = cJSON_CreateArray();
    bool ok = list != NULL;
    for (size_t i = 0; ok && i < o->item_count; i++) {
        const dlv__item *it = &o->items[i];
        cJSON *ij = cJSON_CreateObject();
        ok = put_built(list, NULL, ij,
                       ij && dlv__jput_string(ij, "positionId", it->position_id) &&
                           dlv__jput_string(ij, "productId", it->product_id) &&
                           dlv__jput_string(ij, "name", it->name) &&
                           put_amount(ij, "amount", it->amount) &&
                           put_money(ij, "price", it->price) && put_money(ij, "sum", it->sum) &&
                           dlv__jput_string(ij, "comment", it->comment) &&
                           dlv__jattach(ij, "modifiers", modifiers_json(it)));
    }
    return keep(list, ok);
}

/* {"city","street","house","building","flat","entrance","floor","doorphone","region","comment"},
 * null for a pickup. */
static bool put_address(cJSON *j, const dlv__address *a)
{
    if (!a)
        return cJSON_AddNullToObject(j, "address") != NULL;
    cJSON *aj = cJSON_CreateObject();
    return put_built(j, "address", aj,
                     aj && dlv__jput_string(aj, "city", a->city) &&
                         dlv__jput_string(aj, "street", a->street) &&
                         dlv__jput_string(aj, "house", a->house) &&
                         dlv__jput_string(aj, "building", a->building) &&
                         dlv__jput_string(aj, "flat", a->flat) &&
                         dlv__jput_string(aj, "entrance", a->entrance) &&
                         dlv__jput_string(aj, "floor", a->floor) &&
                         dlv__jput_string(aj, "doorphone", a->doorphone) &&
                         dlv__jput_string(aj, "region", a->region) &&
                         dlv__jput_string(aj, "comment", a->comment));
}

/* {"id","name","surname","phone","comment","inBlacklist","blacklistReason"}, null when anonymous.
 * The order's phone is the customer's. */
static bool put_customer(cJSON *j, const dlv__order *o)
{
    const dlv__customer *c = o->customer;
    if (!c)
        return cJSON_AddNullToObject(j, "customer") != NULL;
    cJSON *cj = cJSON_CreateObject();
    return put_built(j, "customer", cj,
                     cj && dlv__jput_string(cj, "id", c->id) &&
                         dlv__jput_string(cj, "name", c->name) &&
                         dlv__jput_string(cj, "surname", c->surname) &&
                         dlv__jput_string(cj, "phone", o->phone) &&
                         dlv__jput_string(cj, "comment", c->comment) &&
                         dlv__jput_bool(cj, "inBlacklist", c->in_blacklist) &&
                         dlv__jput_string(cj, "blacklistReason", c->blacklist_reason));
}

/* {"id","name","phone"} of the assigned courier, null when none. */
static bool put_assigned_courier(cJSON *j, const dlv__order_courier *c)
{
    if (!c)
        return cJSON_AddNullToObject(j, "assignedCourier") != NULL;
    cJSON *cj = cJSON_CreateObject();
    return put_built(j, "assignedCourier", cj,
                     cj && dlv__jput_string(cj, "id", c->id) &&
                         dlv__jput_string(cj, "name", c->name) &&
                         dlv__jput_string(cj, "phone", c->phone));
}

/* {"whenCancelled","cause":{"id","name"},"comment"}, null unless cancelled. */
static bool put_cancel_info(cJSON *j, const dlv__cancel_info *ci)
{
    if (!ci)
        return cJSON_AddNullToObject(j, "cancelInfo") != NULL;
    cJSON *cj = cJSON_CreateObject(), *cause = cJSON_CreateObject();
    bool ok = cj && put_built(cj, "cause", cause,
                              cause && dlv__jput_string(cause, "id", ci->cause_id) &&
                                  dlv__jput_string(cause, "name", ci->cause_name));
    if (!cj)
        cJSON_Delete(cause);
    return put_built(j, "cancelInfo", cj,
                     ok && dlv__jput_time(cj, "whenCancelled", ci->when) &&
                         dlv__jput_string(cj, "comment", ci->comment));
}

static cJSON *payments_json(const dlv__order *o, bool details);

/* The names of dlv__order_actions for the logged-in user; empty when nobody is logged in or
 * the settings have not come yet. */
static cJSON *actions_json(dlv_ctx *ctx, const dlv__order *o, dlv__time now)
{
    cJSON *list = cJSON_CreateArray();
    dlv__action_set set = ctx->login.logged_in && ctx->settings
                              ? dlv__order_actions(o, ctx->settings, ctx->login.rights, now)
                              : 0;
    bool ok = list != NULL;
    for (int a = 0; ok && a < DLV__ACTION_COUNT; a++)
        if (set & (1u << a))
            ok = dlv__jattach(list, NULL, cJSON_CreateString(dlv__action_name((dlv__action)a)));
    return keep(list, ok);
}

cJSON *dlv__ev_order_json(dlv_ctx *ctx, const dlv__order *o)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    dlv__time now = dlv__rt_now(ctx);
    const dlv__settings *s = ctx->settings;
    dlv__money paid = dlv__order_paid_sum(o);
    /* The summary members first, as hosts have always had them. */
    bool ok = dlv__jput_string(j, "id", o->id) &&
              cJSON_AddNumberToObject(j, "number", (double)o->number) &&
              dlv__jput_string(j, "status", dlv_status_name(o->status)) &&
              dlv__jput_string(j, "serviceType", dlv_service_type_name(o->service_type)) &&
              dlv__jput_time(j, "completeBefore", o->complete_before) &&
              dlv__jput_bool(j, "overdue", s ? dlv__order_overdue(o, s, now) : false) &&
              put_money(j, "resultSum", o->result_sum) &&
              dlv__jput_string(j, "customerName", o->customer ? o->customer->name : NULL) &&
              dlv__jput_string(j, "phone", o->phone) &&
              dlv__jput_string(j, "courier", o->courier ? o->courier->name : NULL);
    /* The whole order. */
    ok = ok && dlv__jput_string(j, "statusName", dlv_status_russian_name(o->status)) &&
         dlv__jput_string(j, "externalNumber", o->external_number) &&
         cJSON_AddNumberToObject(j, "personsCount", o->persons_count) &&
         dlv__jput_string(j, "comment", o->comment) &&
         dlv__jput_bool(j, "highRisk", o->customer && o->customer->in_blacklist) &&
         dlv__jattach(j, "items", items_json(o)) && put_address(j, o->address) &&
         put_customer(j, o) && dlv__jattach(j, "payments", payments_json(o, true)) &&
         put_assigned_courier(j, o->courier) && put_money(j, "fullSum", o->full_sum) &&
         put_money(j, "discountSum", o->discount_sum) &&
         put_money(j, "surchargeSum", o->surcharge_sum) && put_money(j, "paid", paid) &&
         put_money(j, "sumToPay", paid < o->result_sum ? o->result_sum - paid : 0) &&
         put_money(j, "change", dlv__order_change_sum(o)) &&
         dlv__jput_time(j, "whenCreated", o->when_created) &&
         dlv__jput_time(j, "predictedCookingCompleteTime", o->predicted_cooking_complete_time) &&
         dlv__jput_time(j, "predictedDeliveryTime", o->predicted_delivery_time) &&
         dlv__jput_time(j, "kitchenDeadline", s ? dlv__kitchen_deadline(o, s) : DLV__TIME_NONE) &&
         dlv__jput_time(j, "cookingDueAt", s ? dlv__cooking_due_at(o, s) : DLV__TIME_NONE) &&
         dlv__jput_string(j, "problem",
                          o->has_problem ? (o->problem_description ? o->problem_description : "")
                                         : NULL) &&
         put_cancel_info(j, o->cancel_info) &&
         dlv__jattach(j, "actions", actions_json(ctx, o, now));
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
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

/* What was taken for an order: [{"id","kind","sum","paymentTypeId","name"}], so the host can give
 * the money back when a paid order is cancelled; with `details` (the whole order) also
 * "processed" (processed externally) and "prepay". */
static cJSON *payments_json(const dlv__order *o, bool details)
{
    cJSON *list = cJSON_CreateArray();
    bool ok = list != NULL;
    for (size_t i = 0; ok && i < o->payment_count; i++) {
        const dlv__payment *p = &o->payments[i];
        cJSON *pj = cJSON_CreateObject();
        ok = pj && dlv__jput_string(pj, "id", p->id) &&
             dlv__jput_string(pj, "kind", dlv__payment_kind_names[p->kind]) &&
             dlv__jput_decimal(pj, "sum", p->sum, DLV__MONEY_SCALE, true) &&
             dlv__jput_string(pj, "paymentTypeId", p->payment_type_id) &&
             dlv__jput_string(pj, "name", p->name) &&
             (!details || (dlv__jput_bool(pj, "processed", p->processed_externally) &&
                           dlv__jput_bool(pj, "prepay", p->prepay)));
        if (!ok)
            cJSON_Delete(pj);
        else
            ok = dlv__jattach(list, NULL, pj);
    }
    if (!ok) {
        cJSON_Delete(list);
        return NULL;
    }
    return list;
}

char *dlv__ev_status_changed_of(const dlv__order *o, dlv_status from, const char *origin)
{
    cJSON *j = ev_new(DLV__EV_STATUS_CHANGED);
    bool ok = j && dlv__jput_string(j, "orderId", o->id) &&
              dlv__jput_string(j, "from", dlv_status_name(from)) &&
              dlv__jput_string(j, "to", dlv_status_name(o->status)) &&
              dlv__jput_string(j, "origin", origin);
    if (ok && o->status == DLV_STATUS_CANCELLED)
        ok = dlv__jattach(j, "payments", payments_json(o, false));
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
