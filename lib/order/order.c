/* dlv__order: encoding, copying, freeing and derived sums. */
#include "order/model.h"

#include <string.h>
#include <strings.h>

static void customer_free(dlv__customer *c)
{
    if (!c)
        return;
    dlv__free(c->id);
    dlv__free(c->name);
    dlv__free(c->surname);
    dlv__free(c->comment);
    dlv__free(c->blacklist_reason);
    dlv__free(c);
}

static void address_free(dlv__address *a)
{
    if (!a)
        return;
    char **fields[] = {&a->city,     &a->street, &a->house,     &a->building, &a->flat,
                       &a->entrance, &a->floor,  &a->doorphone, &a->region,   &a->comment};
    for (size_t i = 0; i < DLV__ARRAY_SIZE(fields); i++)
        dlv__free(*fields[i]);
    dlv__free(a);
}

void dlv__order_free(dlv__order *o)
{
    if (!o)
        return;
    for (size_t i = 0; o->items && i < o->item_count; i++) {
        dlv__item *it = &o->items[i];
        for (size_t m = 0; it->modifiers && m < it->modifier_count; m++) {
            dlv__free(it->modifiers[m].product_id);
            dlv__free(it->modifiers[m].name);
        }
        dlv__free(it->modifiers);
        dlv__free(it->position_id);
        dlv__free(it->product_id);
        dlv__free(it->name);
        dlv__free(it->comment);
    }
    dlv__free(o->items);
    for (size_t i = 0; o->payments && i < o->payment_count; i++) {
        dlv__free(o->payments[i].id);
        dlv__free(o->payments[i].payment_type_id);
        dlv__free(o->payments[i].name);
    }
    dlv__free(o->payments);
    customer_free(o->customer);
    address_free(o->address);
    if (o->courier) {
        dlv__free(o->courier->id);
        dlv__free(o->courier->name);
        dlv__free(o->courier->phone);
        dlv__free(o->courier);
    }
    if (o->cancel_info) {
        dlv__free(o->cancel_info->cause_id);
        dlv__free(o->cancel_info->cause_name);
        dlv__free(o->cancel_info->comment);
        dlv__free(o->cancel_info);
    }
    dlv__free(o->id);
    dlv__free(o->external_number);
    dlv__free(o->source_key);
    dlv__free(o->phone);
    dlv__free(o->comment);
    dlv__free(o->problem_description);
    dlv__free(o->operator_name);
    dlv__free(o);
}

dlv__money dlv__order_paid_sum(const dlv__order *o)
{
    dlv__money sum = 0;
    for (size_t i = 0; i < o->payment_count; i++)
        sum += o->payments[i].sum;
    return sum;
}

dlv__money dlv__order_change_sum(const dlv__order *o)
{
    dlv__money over = dlv__order_paid_sum(o) - o->result_sum;
    return over > 0 ? over : 0;
}

bool dlv__order_fully_paid(const dlv__order *o)
{
    return dlv__order_paid_sum(o) >= o->result_sum;
}

/* price × amount rounded half up to kopecks (the validator accepts either rounding). */
dlv__money dlv__order_line_sum(dlv__money price, dlv__amount amount)
{
    dlv__money lo, hi;
    if (!dlv__money_times_amount(price, amount, &lo, &hi))
        return 0; /* cannot happen for a validated order */
    if (lo == hi)
        return lo;
    int64_t r = price * (amount % DLV__AMOUNT_ONE) % DLV__AMOUNT_ONE; /* fits: checked above */
    return r >= DLV__AMOUNT_ONE / 2 ? hi : lo;
}

void dlv__order_recompute_sums(dlv__order *o)
{
    dlv__money full = 0;
    for (size_t i = 0; i < o->item_count; i++) {
        dlv__item *it = &o->items[i];
        it->sum = dlv__order_line_sum(it->price, it->amount);
        full += it->sum;
        for (size_t m = 0; m < it->modifier_count; m++)
            full += dlv__order_line_sum(it->modifiers[m].price, it->modifiers[m].amount);
    }
    o->full_sum = full;
    if (o->discount_sum > full)
        o->discount_sum = full;
    o->result_sum = full - o->discount_sum + o->surcharge_sum;
}

const dlv__payment *dlv__order_payment(const dlv__order *o, const char *payment_id)
{
    for (size_t i = 0; payment_id && i < o->payment_count; i++)
        if (o->payments[i].id && strcasecmp(o->payments[i].id, payment_id) == 0)
            return &o->payments[i];
    return NULL;
}

bool dlv__order_has_non_cash_payment(const dlv__order *o)
{
    for (size_t i = 0; i < o->payment_count; i++)
        if (o->payments[i].kind != DLV__PAYMENT_CASH)
            return true;
    return false;
}

bool dlv__order_has_external_payment(const dlv__order *o)
{
    for (size_t i = 0; i < o->payment_count; i++)
        if (o->payments[i].kind == DLV__PAYMENT_EXTERNAL)
            return true;
    return false;
}

int dlv__order_check_settings(const dlv__order *o, const dlv__settings *s, dlv_error *err)
{
    if (o->service_type == DLV_SERVICE_PICKUP && s->service_type == DLV__DELIVERY_COURIER_ONLY)
        return dlv__error_set(err, DLV_ERULE,
                              "pickup orders are disabled (deliveryServiceType CourierOnly)");
    if (o->service_type == DLV_SERVICE_COURIER && s->service_type == DLV__DELIVERY_PICKUP_ONLY)
        return dlv__error_set(err, DLV_ERULE,
                              "courier orders are disabled (deliveryServiceType PickupOnly)");
    if (!o->customer && !s->allow_anonymous)
        return dlv__error_set(err, DLV_ERULE,
                              "customer: anonymous orders are not allowed (allowAnonymous false)");
    return DLV_OK;
}

/* ---- Encoding ---- */

#define MONEY(obj, key, v) dlv__jput_decimal(obj, key, v, DLV__MONEY_SCALE, true)
#define AMOUNT(obj, key, v) dlv__jput_decimal(obj, key, v, DLV__AMOUNT_SCALE, false)
#define INT(obj, key, v) dlv__jput_decimal(obj, key, v, 0, true)

static cJSON *item_json(const dlv__item *it)
{
    cJSON *j = cJSON_CreateObject(), *mods = NULL;
    bool ok = j && dlv__jput_string(j, "positionId", it->position_id) &&
              dlv__jput_string(j, "productId", it->product_id) &&
              dlv__jput_string(j, "name", it->name) && AMOUNT(j, "amount", it->amount) &&
              MONEY(j, "price", it->price) && MONEY(j, "sum", it->sum) &&
              dlv__jput_string(j, "comment", it->comment) &&
              (mods = cJSON_AddArrayToObject(j, "modifiers")) != NULL;
    for (size_t m = 0; ok && m < it->modifier_count; m++) {
        const dlv__modifier *mod = &it->modifiers[m];
        cJSON *mj = cJSON_CreateObject();
        ok = dlv__jattach(mods, NULL, mj) && dlv__jput_string(mj, "productId", mod->product_id) &&
             dlv__jput_string(mj, "name", mod->name) && AMOUNT(mj, "amount", mod->amount) &&
             MONEY(mj, "price", mod->price);
    }
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static cJSON *payment_json(const dlv__payment *p)
{
    cJSON *j = cJSON_CreateObject();
    /* The id only when known, so a 1.0 payment is written as before. */
    bool ok = j && (!p->id || dlv__jput_string(j, "id", p->id)) &&
              dlv__jput_string(j, "paymentTypeId", p->payment_type_id) &&
              dlv__jput_string(j, "name", p->name) &&
              dlv__jput_string(j, "kind", dlv__payment_kind_names[p->kind]) &&
              MONEY(j, "sum", p->sum) &&
              dlv__jput_bool(j, "isProcessedExternally", p->processed_externally) &&
              dlv__jput_bool(j, "isPrepay", p->prepay);
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static bool put_customer(cJSON *j, const dlv__customer *c)
{
    if (!c)
        return cJSON_AddNullToObject(j, "customer") != NULL;
    cJSON *cj = cJSON_CreateObject();
    return dlv__jattach(j, "customer", cj) && dlv__jput_string(cj, "id", c->id) &&
           dlv__jput_string(cj, "name", c->name) && dlv__jput_string(cj, "surname", c->surname) &&
           dlv__jput_string(cj, "comment", c->comment) &&
           dlv__jput_bool(cj, "inBlacklist", c->in_blacklist) &&
           dlv__jput_string(cj, "blacklistReason", c->blacklist_reason);
}

static bool put_address(cJSON *j, const dlv__address *a)
{
    if (!a)
        return cJSON_AddNullToObject(j, "address") != NULL;
    cJSON *aj = cJSON_CreateObject();
    return dlv__jattach(j, "address", aj) && dlv__jput_string(aj, "city", a->city) &&
           dlv__jput_string(aj, "street", a->street) && dlv__jput_string(aj, "house", a->house) &&
           dlv__jput_string(aj, "building", a->building) && dlv__jput_string(aj, "flat", a->flat) &&
           dlv__jput_string(aj, "entrance", a->entrance) &&
           dlv__jput_string(aj, "floor", a->floor) &&
           dlv__jput_string(aj, "doorphone", a->doorphone) &&
           dlv__jput_string(aj, "region", a->region) && dlv__jput_string(aj, "comment", a->comment);
}

static bool put_tail(cJSON *j, const dlv__order *o)
{
    bool ok = true;
    if (!o->courier) {
        ok = cJSON_AddNullToObject(j, "courier") != NULL;
    } else {
        cJSON *cj = cJSON_CreateObject();
        ok = dlv__jattach(j, "courier", cj) && dlv__jput_string(cj, "id", o->courier->id) &&
             dlv__jput_string(cj, "name", o->courier->name) &&
             dlv__jput_string(cj, "phone", o->courier->phone);
    }
    if (ok && !o->cancel_info) {
        ok = cJSON_AddNullToObject(j, "cancelInfo") != NULL;
    } else if (ok) {
        const dlv__cancel_info *ci = o->cancel_info;
        cJSON *cj = cJSON_CreateObject(), *cause = NULL;
        ok = dlv__jattach(j, "cancelInfo", cj) && dlv__jput_time(cj, "whenCancelled", ci->when) &&
             (cause = cJSON_AddObjectToObject(cj, "cause")) != NULL &&
             dlv__jput_string(cause, "id", ci->cause_id) &&
             dlv__jput_string(cause, "name", ci->cause_name) &&
             dlv__jput_string(cj, "comment", ci->comment);
    }
    cJSON *pj = ok ? cJSON_CreateObject() : NULL;
    ok = ok && dlv__jattach(j, "problem", pj) && dlv__jput_bool(pj, "hasProblem", o->has_problem) &&
         dlv__jput_string(pj, "description", o->problem_description);
    if (ok && !o->operator_name) {
        ok = cJSON_AddNullToObject(j, "operator") != NULL;
    } else if (ok) {
        cJSON *oj = cJSON_CreateObject();
        ok = dlv__jattach(j, "operator", oj) && dlv__jput_string(oj, "name", o->operator_name);
    }
    /* Local history: written only when known, so a server sees the protocol's fields. */
    static const struct {
        const char *key;
        size_t offset;
    } times[] = {
        {"whenConfirmed", offsetof(dlv__order, when_confirmed)},
        {"whenBilled", offsetof(dlv__order, when_billed)},
        {"whenPrinted", offsetof(dlv__order, when_printed)},
        {"whenSent", offsetof(dlv__order, when_sent)},
        {"actualDeliveryTime", offsetof(dlv__order, actual_delivery_time)},
    };
    for (size_t i = 0; ok && i < DLV__ARRAY_SIZE(times); i++) {
        dlv__time t = *(const dlv__time *)((const char *)o + times[i].offset);
        if (t != DLV__TIME_NONE)
            ok = dlv__jput_time(j, times[i].key, t);
    }
    return ok;
}

cJSON *dlv__order_to_cjson(const dlv__order *o)
{
    cJSON *j = cJSON_CreateObject(), *items = NULL, *payments = NULL;
    bool ok = j && dlv__jput_string(j, "id", o->id) && INT(j, "revision", o->revision) &&
              INT(j, "number", o->number) &&
              dlv__jput_string(j, "externalNumber", o->external_number) &&
              dlv__jput_string(j, "sourceKey", o->source_key) &&
              dlv__jput_string(j, "status", dlv_status_name(o->status)) &&
              dlv__jput_string(j, "serviceType", dlv_service_type_name(o->service_type)) &&
              dlv__jput_time(j, "completeBefore", o->complete_before) &&
              dlv__jput_time(j, "whenCreated", o->when_created) &&
              dlv__jput_string(j, "phone", o->phone) && put_customer(j, o->customer) &&
              put_address(j, o->address) && dlv__jput_string(j, "comment", o->comment) &&
              INT(j, "personsCount", o->persons_count) &&
              dlv__jput_bool(j, "splitBetweenPersons", o->split_between_persons) &&
              (items = cJSON_AddArrayToObject(j, "items")) != NULL;
    for (size_t i = 0; ok && i < o->item_count; i++)
        ok = dlv__jattach(items, NULL, item_json(&o->items[i]));
    ok = ok && (payments = cJSON_AddArrayToObject(j, "payments")) != NULL;
    for (size_t i = 0; ok && i < o->payment_count; i++)
        ok = dlv__jattach(payments, NULL, payment_json(&o->payments[i]));
    /* Protocol 1.1 fields only when set, so a 1.0 order is written exactly as before. */
    ok = ok && MONEY(j, "fullSum", o->full_sum) && MONEY(j, "discountSum", o->discount_sum) &&
         (o->surcharge_sum == 0 || MONEY(j, "surchargeSum", o->surcharge_sum)) &&
         MONEY(j, "resultSum", o->result_sum) &&
         (o->predicted_cooking_complete_time == DLV__TIME_NONE ||
          dlv__jput_time(j, "predictedCookingCompleteTime", o->predicted_cooking_complete_time)) &&
         (o->predicted_delivery_time == DLV__TIME_NONE ||
          dlv__jput_time(j, "predictedDeliveryTime", o->predicted_delivery_time)) &&
         put_tail(j, o);
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

char *dlv__order_to_json(const dlv__order *o)
{
    cJSON *j = dlv__order_to_cjson(o);
    char *text = dlv__json_print(j);
    cJSON_Delete(j);
    return text;
}

int dlv__order_clone(const dlv__order *o, dlv__order **out)
{
    /* Through the tree: the encoder and decoder are exact inverses (tested), so one code path
     * covers every field, present and future. */
    *out = NULL;
    cJSON *j = dlv__order_to_cjson(o);
    if (!j)
        return DLV_ENOMEM;
    dlv_error err;
    int rc = dlv__order_from_cjson(
        j, DLV__ORDER_DRAFT | DLV__ORDER_LENIENT | DLV__ORDER_TAKE_STRINGS, NULL, out, &err);
    cJSON_Delete(j);
    return rc;
}
