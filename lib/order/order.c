/* dlv__order: encoding, copying, freeing and derived sums. */
#include "order/model.h"

#include <string.h>

#include "order/jwrite.h"
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

void dlv__order_write_address(struct dlv__jw *w, const dlv__address *a)
{
    if (!a) {
        dlv__jw_null(w, "address");
        return;
    }
    dlv__jw_object(w, "address");
    dlv__jw_string(w, "city", a->city);
    dlv__jw_string(w, "street", a->street);
    dlv__jw_string(w, "house", a->house);
    dlv__jw_string(w, "building", a->building);
    dlv__jw_string(w, "flat", a->flat);
    dlv__jw_string(w, "entrance", a->entrance);
    dlv__jw_string(w, "floor", a->floor);
    dlv__jw_string(w, "doorphone", a->doorphone);
    dlv__jw_string(w, "region", a->region);
    dlv__jw_string(w, "comment", a->comment);
    dlv__jw_end(w);
}

/* The same document as dlv__order_to_cjson printed, written straight to text: every cached copy
 * of every order is made here (test_order_codec holds the two to the same bytes). */
char *dlv__order_to_json(const dlv__order *o)
{
    dlv__jw w;
    dlv__jw_init(&w, DLV__ORDER_JSON_MAX * 4);
    dlv__jw_object(&w, NULL);
    dlv__jw_string(&w, "id", o->id);
    dlv__jw_decimal(&w, "revision", o->revision, 0, true);
    dlv__jw_decimal(&w, "number", o->number, 0, true);
    dlv__jw_string(&w, "externalNumber", o->external_number);
    dlv__jw_string(&w, "sourceKey", o->source_key);
    dlv__jw_string(&w, "status", dlv_status_name(o->status));
    dlv__jw_string(&w, "serviceType", dlv_service_type_name(o->service_type));
    dlv__jw_time(&w, "completeBefore", o->complete_before);
    dlv__jw_time(&w, "whenCreated", o->when_created);
    dlv__jw_string(&w, "phone", o->phone);
    if (!o->customer) {
        dlv__jw_null(&w, "customer");
    } else {
        const dlv__customer *c = o->customer;
        dlv__jw_object(&w, "customer");
        dlv__jw_string(&w, "id", c->id);
        dlv__jw_string(&w, "name", c->name);
        dlv__jw_string(&w, "surname", c->surname);
        dlv__jw_string(&w, "comment", c->comment);
        dlv__jw_bool(&w, "inBlacklist", c->in_blacklist);
        dlv__jw_string(&w, "blacklistReason", c->blacklist_reason);
        dlv__jw_end(&w);
    }
    dlv__order_write_address(&w, o->address);
    dlv__jw_string(&w, "comment", o->comment);
    dlv__jw_decimal(&w, "personsCount", o->persons_count, 0, true);
    dlv__jw_bool(&w, "splitBetweenPersons", o->split_between_persons);
    dlv__jw_array(&w, "items");
    for (size_t i = 0; i < o->item_count; i++) {
        const dlv__item *it = &o->items[i];
        dlv__jw_object(&w, NULL);
        dlv__jw_string(&w, "positionId", it->position_id);
        dlv__jw_string(&w, "productId", it->product_id);
        dlv__jw_string(&w, "name", it->name);
        dlv__jw_decimal(&w, "amount", it->amount, DLV__AMOUNT_SCALE, false);
        dlv__jw_decimal(&w, "price", it->price, DLV__MONEY_SCALE, true);
        dlv__jw_decimal(&w, "sum", it->sum, DLV__MONEY_SCALE, true);
        dlv__jw_string(&w, "comment", it->comment);
        dlv__jw_array(&w, "modifiers");
        for (size_t m = 0; m < it->modifier_count; m++) {
            const dlv__modifier *mod = &it->modifiers[m];
            dlv__jw_object(&w, NULL);
            dlv__jw_string(&w, "productId", mod->product_id);
            dlv__jw_string(&w, "name", mod->name);
            dlv__jw_decimal(&w, "amount", mod->amount, DLV__AMOUNT_SCALE, false);
            dlv__jw_decimal(&w, "price", mod->price, DLV__MONEY_SCALE, true);
            dlv__jw_end(&w);
        }
        dlv__jw_end(&w);
        dlv__jw_end(&w);
    }
    dlv__jw_end(&w);
    dlv__jw_array(&w, "payments");
    for (size_t i = 0; i < o->payment_count; i++) {
        const dlv__payment *p = &o->payments[i];
        dlv__jw_object(&w, NULL);
        if (p->id)
            dlv__jw_string(&w, "id", p->id);
        dlv__jw_string(&w, "paymentTypeId", p->payment_type_id);
        dlv__jw_string(&w, "name", p->name);
        dlv__jw_string(&w, "kind", dlv__payment_kind_names[p->kind]);
        dlv__jw_decimal(&w, "sum", p->sum, DLV__MONEY_SCALE, true);
        dlv__jw_bool(&w, "isProcessedExternally", p->processed_externally);
        dlv__jw_bool(&w, "isPrepay", p->prepay);
        dlv__jw_end(&w);
    }
    dlv__jw_end(&w);
    dlv__jw_decimal(&w, "fullSum", o->full_sum, DLV__MONEY_SCALE, true);
    dlv__jw_decimal(&w, "discountSum", o->discount_sum, DLV__MONEY_SCALE, true);
    if (o->surcharge_sum != 0)
        dlv__jw_decimal(&w, "surchargeSum", o->surcharge_sum, DLV__MONEY_SCALE, true);
    dlv__jw_decimal(&w, "resultSum", o->result_sum, DLV__MONEY_SCALE, true);
    if (o->predicted_cooking_complete_time != DLV__TIME_NONE)
        dlv__jw_time(&w, "predictedCookingCompleteTime", o->predicted_cooking_complete_time);
    if (o->predicted_delivery_time != DLV__TIME_NONE)
        dlv__jw_time(&w, "predictedDeliveryTime", o->predicted_delivery_time);
    if (!o->courier) {
        dlv__jw_null(&w, "courier");
    } else {
        dlv__jw_object(&w, "courier");
        dlv__jw_string(&w, "id", o->courier->id);
        dlv__jw_string(&w, "name", o->courier->name);
        dlv__jw_string(&w, "phone", o->courier->phone);
        dlv__jw_end(&w);
    }
    if (!o->cancel_info) {
        dlv__jw_null(&w, "cancelInfo");
    } else {
        const dlv__cancel_info *ci = o->cancel_info;
        dlv__jw_object(&w, "cancelInfo");
        dlv__jw_time(&w, "whenCancelled", ci->when);
        dlv__jw_object(&w, "cause");
        dlv__jw_string(&w, "id", ci->cause_id);
        dlv__jw_string(&w, "name", ci->cause_name);
        dlv__jw_end(&w);
        dlv__jw_string(&w, "comment", ci->comment);
        dlv__jw_end(&w);
    }
    dlv__jw_object(&w, "problem");
    dlv__jw_bool(&w, "hasProblem", o->has_problem);
    dlv__jw_string(&w, "description", o->problem_description);
    dlv__jw_end(&w);
    if (!o->operator_name) {
        dlv__jw_null(&w, "operator");
    } else {
        dlv__jw_object(&w, "operator");
        dlv__jw_string(&w, "name", o->operator_name);
        dlv__jw_end(&w);
    }
    const struct {
        const char *key;
        dlv__time t;
    } local[] = {{"whenConfirmed", o->when_confirmed},
                 {"whenBilled", o->when_billed},
                 {"whenPrinted", o->when_printed},
                 {"whenSent", o->when_sent},
                 {"actualDeliveryTime", o->actual_delivery_time}};
    for (size_t i = 0; i < DLV__ARRAY_SIZE(local); i++)
        if (local[i].t != DLV__TIME_NONE)
            dlv__jw_time(&w, local[i].key, local[i].t);
    dlv__jw_end(&w);
    return dlv__jw_finish(&w);
}

/* *dst = a copy of src (NULL stays NULL); false when out of memory. */
static bool copy_str(char **dst, const char *src)
{
    *dst = src ? dlv__strdup(src) : NULL;
    return !src || *dst;
}

/* A new block holding a copy of *src's members with every pointer cleared, for the caller to
 * fill; NULL when src is NULL or out of memory (*ok false then). */
static void *copy_shell(const void *src, size_t size, bool *ok)
{
    if (!src || !*ok)
        return NULL;
    void *c = dlv__malloc(size);
    if (c)
        memcpy(c, src, size);
    *ok = c != NULL;
    return c;
}

/* A deep copy, member by member, releasing nothing it did not make: each copied block has its
 * pointers cleared before they are filled, so on failure dlv__order_free releases exactly what
 * was made. The members are those dlv__order_free releases (keep the two in step with the
 * struct); test_order_codec checks a copy's text against its original's for every fixture. */
int dlv__order_clone(const dlv__order *o, dlv__order **out)
{
    *out = NULL;
    bool ok = true;
    dlv__order *c = copy_shell(o, sizeof *o, &ok);
    if (!c)
        return DLV_ENOMEM;
    c->id = c->external_number = c->source_key = c->phone = c->comment = NULL;
    c->problem_description = c->operator_name = NULL;
    c->customer = NULL;
    c->address = NULL;
    c->courier = NULL;
    c->cancel_info = NULL;
    c->items = NULL;
    c->payments = NULL;
    c->item_count = c->payment_count = 0;
    ok = copy_str(&c->id, o->id) && copy_str(&c->external_number, o->external_number) &&
         copy_str(&c->source_key, o->source_key) && copy_str(&c->phone, o->phone) &&
         copy_str(&c->comment, o->comment) &&
         copy_str(&c->problem_description, o->problem_description) &&
         copy_str(&c->operator_name, o->operator_name);
    if ((c->customer = copy_shell(o->customer, sizeof *o->customer, &ok))) {
        dlv__customer *cu = c->customer;
        cu->id = cu->name = cu->surname = cu->comment = cu->blacklist_reason = NULL;
        ok = copy_str(&cu->id, o->customer->id) && copy_str(&cu->name, o->customer->name) &&
             copy_str(&cu->surname, o->customer->surname) &&
             copy_str(&cu->comment, o->customer->comment) &&
             copy_str(&cu->blacklist_reason, o->customer->blacklist_reason);
    }
    if ((c->address = copy_shell(o->address, sizeof *o->address, &ok))) {
        dlv__address *a = c->address;
        const dlv__address *from = o->address;
        char **to[] = {&a->city,     &a->street, &a->house,     &a->building, &a->flat,
                       &a->entrance, &a->floor,  &a->doorphone, &a->region,   &a->comment};
        const char *src[] = {from->city,   from->street,   from->house, from->building,
                             from->flat,   from->entrance, from->floor, from->doorphone,
                             from->region, from->comment};
        for (size_t i = 0; i < DLV__ARRAY_SIZE(to); i++)
            *to[i] = NULL;
        for (size_t i = 0; ok && i < DLV__ARRAY_SIZE(to); i++)
            ok = copy_str(to[i], src[i]);
    }
    if ((c->courier = copy_shell(o->courier, sizeof *o->courier, &ok))) {
        c->courier->id = c->courier->name = c->courier->phone = NULL;
        ok = copy_str(&c->courier->id, o->courier->id) &&
             copy_str(&c->courier->name, o->courier->name) &&
             copy_str(&c->courier->phone, o->courier->phone);
    }
    if ((c->cancel_info = copy_shell(o->cancel_info, sizeof *o->cancel_info, &ok))) {
        dlv__cancel_info *ci = c->cancel_info;
        ci->cause_id = ci->cause_name = ci->comment = NULL;
        ok = copy_str(&ci->cause_id, o->cancel_info->cause_id) &&
             copy_str(&ci->cause_name, o->cancel_info->cause_name) &&
             copy_str(&ci->comment, o->cancel_info->comment);
    }
    if (ok && o->item_count) {
        c->items = dlv__calloc(o->item_count, sizeof *c->items);
        ok = c->items != NULL;
        c->item_count = ok ? o->item_count : 0;
    }
    for (size_t i = 0; ok && i < c->item_count; i++) {
        const dlv__item *from = &o->items[i];
        dlv__item *it = &c->items[i];
        *it = (dlv__item){.amount = from->amount, .price = from->price, .sum = from->sum};
        ok = copy_str(&it->position_id, from->position_id) &&
             copy_str(&it->product_id, from->product_id) && copy_str(&it->name, from->name) &&
             copy_str(&it->comment, from->comment);
        if (ok && from->modifier_count) {
            it->modifiers = dlv__calloc(from->modifier_count, sizeof *it->modifiers);
            ok = it->modifiers != NULL;
            it->modifier_count = ok ? from->modifier_count : 0;
        }
        for (size_t m = 0; ok && m < it->modifier_count; m++) {
            const dlv__modifier *fm = &from->modifiers[m];
            it->modifiers[m] = (dlv__modifier){.amount = fm->amount, .price = fm->price};
            ok = copy_str(&it->modifiers[m].product_id, fm->product_id) &&
                 copy_str(&it->modifiers[m].name, fm->name);
        }
    }
    if (ok && o->payment_count) {
        c->payments = dlv__calloc(o->payment_count, sizeof *c->payments);
        ok = c->payments != NULL;
        c->payment_count = ok ? o->payment_count : 0;
    }
    for (size_t i = 0; ok && i < c->payment_count; i++) {
        const dlv__payment *from = &o->payments[i];
        dlv__payment *p = &c->payments[i];
        *p = (dlv__payment){.kind = from->kind,
                            .sum = from->sum,
                            .processed_externally = from->processed_externally,
                            .prepay = from->prepay};
        ok = copy_str(&p->payment_type_id, from->payment_type_id) &&
             copy_str(&p->name, from->name) && copy_str(&p->id, from->id);
    }
    if (!ok) {
        dlv__order_free(c);
        return DLV_ENOMEM;
    }
    *out = c;
    return DLV_OK;
}
