/* ORDER document → dlv__order, with strict validation naming the field path. */
#include "order/model.h"

#include <string.h>

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_)                                                                                   \
            return rc_;                                                                            \
    } while (0)

enum { REQ = DLV__J_REQUIRED, NUL = DLV__J_NULLABLE, NE = DLV__J_NONEMPTY, ID = DLV__J_UUID };

#define MONEY(obj, key, flags, min, path, out)                                                     \
    dlv__jget_decimal(obj, key, flags, DLV__MONEY_SCALE, min, DLV__MONEY_MAX, path, out, NULL, err)
#define AMOUNT(obj, key, path, out)                                                                \
    dlv__jget_decimal(obj, key, REQ, DLV__AMOUNT_SCALE, 1, DLV__AMOUNT_MAX, path, out, NULL, err)

const char *const dlv__payment_kind_names[3] = {"Cash", "Card", "External"};

const char *const dlv__status_names[DLV_STATUS_COUNT] = {
    "Unconfirmed", "WaitCooking", "ReadyForCooking", "CookingStarted", "CookingCompleted",
    "Waiting",     "OnWay",       "Delivered",       "Closed",         "Cancelled"};
static const char *const service_names[2] = {"DeliveryByCourier", "DeliveryByClient"};

/* Reads an array member and lets `each` decode every element with "[i]" on the path. */
typedef int (*element_fn)(const cJSON *node, dlv__jpath *path, void *slot, dlv_error *err);

static int decode_array(const cJSON *obj, const char *key, unsigned flags, size_t max,
                        size_t elem_size, element_fn each, dlv__jpath *path, void **out,
                        size_t *count, dlv_error *err)
{
    const cJSON *arr;
    size_t n;
    TRY(dlv__jget_array(obj, key, flags, max, path, &arr, &n, err));
    if (!arr || n == 0)
        return DLV_OK;
    char *elems = dlv__calloc(n, elem_size);
    if (!elems)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    /* Owned by the order from here on, so a failure below frees what was decoded. */
    *out = elems;
    *count = n;
    size_t key_mark = dlv__jpath_key(path, key), i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        size_t mark = dlv__jpath_index(path, i);
        int rc = each(c, path, elems + i * elem_size, err);
        dlv__jpath_restore(path, mark);
        if (rc) {
            dlv__jpath_restore(path, key_mark);
            return rc;
        }
    }
    dlv__jpath_restore(path, key_mark);
    return DLV_OK;
}

static int need_object(const cJSON *node, dlv__jpath *path, dlv_error *err)
{
    return cJSON_IsObject(node) ? DLV_OK : dlv__jerr(err, DLV_EJSON, path, "not an object");
}

static int decode_modifier(const cJSON *n, dlv__jpath *p, void *slot, dlv_error *err)
{
    dlv__modifier *m = slot;
    TRY(need_object(n, p, err));
    TRY(dlv__jget_string(n, "productId", REQ | ID, p, &m->product_id, err));
    TRY(dlv__jget_string(n, "name", REQ | NE, p, &m->name, err));
    TRY(AMOUNT(n, "amount", p, &m->amount));
    TRY(MONEY(n, "price", REQ, 0, p, &m->price));
    return DLV_OK;
}

static int decode_item(const cJSON *n, dlv__jpath *p, void *slot, dlv_error *err)
{
    dlv__item *it = slot;
    TRY(need_object(n, p, err));
    TRY(dlv__jget_string(n, "positionId", REQ | ID, p, &it->position_id, err));
    TRY(dlv__jget_string(n, "productId", REQ | ID, p, &it->product_id, err));
    TRY(dlv__jget_string(n, "name", REQ | NE, p, &it->name, err));
    TRY(AMOUNT(n, "amount", p, &it->amount));
    TRY(MONEY(n, "price", REQ, 0, p, &it->price));
    TRY(MONEY(n, "sum", REQ, 0, p, &it->sum));
    TRY(dlv__jget_string(n, "comment", NUL, p, &it->comment, err));
    void *mods = NULL;
    int rc = decode_array(n, "modifiers", NUL, DLV__ORDER_MAX_MODIFIERS, sizeof(dlv__modifier),
                          decode_modifier, p, &mods, &it->modifier_count, err);
    it->modifiers = mods;
    return rc;
}

static int decode_payment(const cJSON *n, dlv__jpath *p, void *slot, dlv_error *err)
{
    dlv__payment *pay = slot;
    int kind = 0;
    TRY(need_object(n, p, err));
    TRY(dlv__jget_string(n, "paymentTypeId", REQ | ID, p, &pay->payment_type_id, err));
    TRY(dlv__jget_string(n, "name", NUL, p, &pay->name, err));
    TRY(dlv__jget_enum(n, "kind", REQ, dlv__payment_kind_names, 3, p, &kind, err));
    pay->kind = (dlv__payment_kind)kind;
    TRY(MONEY(n, "sum", REQ, 1, p, &pay->sum));
    TRY(dlv__jget_bool(n, "isProcessedExternally", 0, p, &pay->processed_externally, err));
    TRY(dlv__jget_bool(n, "isPrepay", 0, p, &pay->prepay, err));
    return DLV_OK;
}

/* A member object; when present, its key stays on the path until the caller restores `mark`. */
static int sub_object(const cJSON *obj, const char *key, unsigned flags, dlv__jpath *p,
                      const cJSON **node, size_t *mark, dlv_error *err)
{
    TRY(dlv__jget_object(obj, key, flags, p, node, err));
    if (*node)
        *mark = dlv__jpath_key(p, key);
    return DLV_OK;
}

static int decode_customer(const cJSON *obj, unsigned flags, dlv__jpath *p, dlv__customer **out,
                           dlv_error *err)
{
    const cJSON *n;
    size_t mark;
    bool draft = flags & DLV__ORDER_DRAFT;
    TRY(sub_object(obj, "customer", draft ? NUL : REQ | NUL, p, &n, &mark, err));
    if (!n)
        return DLV_OK;
    dlv__customer *c = *out = dlv__calloc(1, sizeof *c);
    int rc = c ? DLV_OK : dlv__error_set(err, DLV_ENOMEM, "out of memory");
    if (!rc)
        rc = dlv__jget_string(n, "id", (draft ? NUL : REQ) | ID, p, &c->id, err);
    if (!rc)
        rc = dlv__jget_string(n, "name", REQ | NE, p, &c->name, err);
    if (!rc)
        rc = dlv__jget_string(n, "surname", NUL, p, &c->surname, err);
    if (!rc)
        rc = dlv__jget_string(n, "comment", NUL, p, &c->comment, err);
    if (!rc)
        rc = dlv__jget_bool(n, "inBlacklist", 0, p, &c->in_blacklist, err);
    if (!rc)
        rc = dlv__jget_string(n, "blacklistReason", NUL, p, &c->blacklist_reason, err);
    dlv__jpath_restore(p, mark);
    return rc;
}

static int decode_address(const cJSON *obj, unsigned flags, dlv__jpath *p, dlv__address **out,
                          dlv_error *err)
{
    const cJSON *n;
    size_t mark;
    TRY(sub_object(obj, "address", flags & DLV__ORDER_DRAFT ? NUL : REQ | NUL, p, &n, &mark, err));
    if (!n)
        return DLV_OK;
    dlv__address *a = *out = dlv__calloc(1, sizeof *a);
    if (!a) {
        dlv__jpath_restore(p, mark);
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    }
    static const struct {
        const char *key;
        size_t offset;
        unsigned flags;
    } fields[] = {
        {"city", offsetof(dlv__address, city), NUL},
        {"street", offsetof(dlv__address, street), REQ | NE},
        {"house", offsetof(dlv__address, house), REQ | NE},
        {"building", offsetof(dlv__address, building), NUL},
        {"flat", offsetof(dlv__address, flat), NUL},
        {"entrance", offsetof(dlv__address, entrance), NUL},
        {"floor", offsetof(dlv__address, floor), NUL},
        {"doorphone", offsetof(dlv__address, doorphone), NUL},
        {"region", offsetof(dlv__address, region), NUL},
        {"comment", offsetof(dlv__address, comment), NUL},
    };
    int rc = DLV_OK;
    for (size_t i = 0; !rc && i < DLV__ARRAY_SIZE(fields); i++)
        rc = dlv__jget_string(n, fields[i].key, fields[i].flags, p,
                              (char **)((char *)a + fields[i].offset), err);
    dlv__jpath_restore(p, mark);
    return rc;
}

static int decode_courier(const cJSON *obj, dlv__jpath *p, dlv__order_courier **out, dlv_error *err)
{
    const cJSON *n;
    size_t mark;
    TRY(sub_object(obj, "courier", NUL, p, &n, &mark, err));
    if (!n)
        return DLV_OK;
    dlv__order_courier *c = *out = dlv__calloc(1, sizeof *c);
    int rc = c ? DLV_OK : dlv__error_set(err, DLV_ENOMEM, "out of memory");
    if (!rc)
        rc = dlv__jget_string(n, "id", REQ | ID, p, &c->id, err);
    if (!rc)
        rc = dlv__jget_string(n, "name", REQ | NE, p, &c->name, err);
    if (!rc)
        rc = dlv__jget_string(n, "phone", NUL, p, &c->phone, err);
    dlv__jpath_restore(p, mark);
    return rc;
}

static int decode_cancel_info(const cJSON *obj, dlv__jpath *p, dlv__cancel_info **out,
                              dlv_error *err)
{
    const cJSON *n, *cause;
    size_t mark, cause_mark = 0;
    TRY(sub_object(obj, "cancelInfo", NUL, p, &n, &mark, err));
    if (!n)
        return DLV_OK;
    dlv__cancel_info *ci = *out = dlv__calloc(1, sizeof *ci);
    int rc = ci ? DLV_OK : dlv__error_set(err, DLV_ENOMEM, "out of memory");
    if (ci)
        ci->when = DLV__TIME_NONE;
    if (!rc)
        rc = dlv__jget_time(n, "whenCancelled", NUL, p, &ci->when, err);
    if (!rc)
        rc = sub_object(n, "cause", REQ, p, &cause, &cause_mark, err);
    if (!rc) {
        rc = dlv__jget_string(cause, "id", REQ | ID, p, &ci->cause_id, err);
        if (!rc)
            rc = dlv__jget_string(cause, "name", NUL, p, &ci->cause_name, err);
        dlv__jpath_restore(p, cause_mark);
    }
    if (!rc)
        rc = dlv__jget_string(n, "comment", NUL, p, &ci->comment, err);
    dlv__jpath_restore(p, mark);
    return rc;
}

static int decode_small_objects(const cJSON *obj, dlv__order *o, dlv__jpath *p, dlv_error *err)
{
    const cJSON *n;
    size_t mark;
    TRY(sub_object(obj, "problem", NUL, p, &n, &mark, err));
    if (n) {
        int rc = dlv__jget_bool(n, "hasProblem", REQ, p, &o->has_problem, err);
        if (!rc)
            rc = dlv__jget_string(n, "description", NUL, p, &o->problem_description, err);
        dlv__jpath_restore(p, mark);
        TRY(rc);
    }
    TRY(sub_object(obj, "operator", NUL, p, &n, &mark, err));
    if (n) {
        int rc = dlv__jget_string(n, "name", NUL, p, &o->operator_name, err);
        dlv__jpath_restore(p, mark);
        TRY(rc);
    }
    return DLV_OK;
}

static int decode_fields(const cJSON *obj, unsigned flags, dlv__order *o, dlv__jpath *p,
                         dlv_error *err)
{
    bool draft = flags & DLV__ORDER_DRAFT;
    unsigned assigned = draft ? NUL : REQ; /* what the server assigns */
    int status = DLV_STATUS_UNCONFIRMED, service = 0;
    int64_t persons = 1;
    TRY(need_object(obj, p, err));
    TRY(dlv__jget_string(obj, "id", assigned | ID, p, &o->id, err));
    TRY(dlv__jget_decimal(obj, "revision", assigned, 0, 0, INT64_MAX, p, &o->revision, NULL, err));
    TRY(dlv__jget_decimal(obj, "number", assigned, 0, draft ? 0 : 1, INT64_C(999999999999999), p,
                          &o->number, NULL, err));
    TRY(dlv__jget_string(obj, "externalNumber", NUL, p, &o->external_number, err));
    TRY(dlv__jget_string(obj, "sourceKey", NUL, p, &o->source_key, err));
    TRY(dlv__jget_enum(obj, "status", assigned, dlv__status_names, DLV_STATUS_COUNT, p, &status,
                       err));
    o->status = (dlv_status)status;
    TRY(dlv__jget_enum(obj, "serviceType", REQ, service_names, 2, p, &service, err));
    o->service_type = (dlv_service_type)service;
    TRY(dlv__jget_time(obj, "completeBefore", REQ, p, &o->complete_before, err));
    TRY(dlv__jget_time(obj, "whenCreated", assigned, p, &o->when_created, err));
    TRY(dlv__jget_string(obj, "phone", REQ | NUL | NE, p, &o->phone, err));
    TRY(decode_customer(obj, flags, p, &o->customer, err));
    TRY(decode_address(obj, flags, p, &o->address, err));
    TRY(dlv__jget_string(obj, "comment", NUL, p, &o->comment, err));
    TRY(dlv__jget_decimal(obj, "personsCount", 0, 0, 0, 10000, p, &persons, NULL, err));
    o->persons_count = (int)persons;
    TRY(dlv__jget_bool(obj, "splitBetweenPersons", 0, p, &o->split_between_persons, err));
    void *items = NULL, *payments = NULL;
    int rc = decode_array(obj, "items", REQ, DLV__ORDER_MAX_ITEMS, sizeof(dlv__item), decode_item, p,
                          &items, &o->item_count, err);
    o->items = items;
    TRY(rc);
    if (o->item_count == 0) {
        size_t mark = dlv__jpath_key(p, "items");
        rc = dlv__jerr(err, DLV_EJSON, p, "must not be empty");
        dlv__jpath_restore(p, mark);
        return rc;
    }
    rc = decode_array(obj, "payments", NUL, DLV__ORDER_MAX_PAYMENTS, sizeof(dlv__payment),
                      decode_payment, p, &payments, &o->payment_count, err);
    o->payments = payments;
    TRY(rc);
    TRY(MONEY(obj, "fullSum", REQ, 0, p, &o->full_sum));
    TRY(MONEY(obj, "discountSum", 0, 0, p, &o->discount_sum));
    TRY(MONEY(obj, "resultSum", REQ, 0, p, &o->result_sum));
    TRY(decode_courier(obj, p, &o->courier, err));
    TRY(decode_cancel_info(obj, p, &o->cancel_info, err));
    TRY(decode_small_objects(obj, o, p, err));
    TRY(dlv__jget_time(obj, "whenConfirmed", NUL, p, &o->when_confirmed, err));
    TRY(dlv__jget_time(obj, "whenBilled", NUL, p, &o->when_billed, err));
    TRY(dlv__jget_time(obj, "whenPrinted", NUL, p, &o->when_printed, err));
    TRY(dlv__jget_time(obj, "whenSent", NUL, p, &o->when_sent, err));
    TRY(dlv__jget_time(obj, "actualDeliveryTime", NUL, p, &o->actual_delivery_time, err));
    return DLV_OK;
}

static int money_text_err(dlv_error *err, dlv__jpath *p, const char *key, const char *fmt,
                          dlv__money a, dlv__money b)
{
    char ta[32], tb[32];
    dlv__decimal_format(a, DLV__MONEY_SCALE, true, ta);
    dlv__decimal_format(b, DLV__MONEY_SCALE, true, tb);
    size_t mark = dlv__jpath_key(p, key);
    int rc = dlv__jerr(err, DLV_EJSON, p, fmt, ta, tb);
    dlv__jpath_restore(p, mark);
    return rc;
}

static int validate_in(const dlv__order *o, dlv__jpath *p, dlv_error *err)
{
    /* Sums are bounded (DLV__MONEY_MAX, at most 1000 items of 100 modifiers), so the totals
     * below cannot overflow int64 once each product is known to fit. */
    dlv__money low = 0, high = 0;
    for (size_t i = 0; i < o->item_count; i++) {
        const dlv__item *it = &o->items[i];
        dlv__money lo, hi;
        size_t mark = dlv__jpath_key(p, "items");
        dlv__jpath_index(p, i);
        if (!dlv__money_times_amount(it->price, it->amount, &lo, &hi) || hi > DLV__MONEY_MAX) {
            int rc = dlv__jerr(err, DLV_EJSON, p, "price × amount out of range");
            dlv__jpath_restore(p, mark);
            return rc;
        }
        if (it->sum != lo && it->sum != hi) {
            int rc =
                money_text_err(err, p, "sum", "%s does not match price × amount (%s)", it->sum, lo);
            dlv__jpath_restore(p, mark);
            return rc;
        }
        low += it->sum;
        high += it->sum;
        for (size_t m = 0; m < it->modifier_count; m++) {
            const dlv__modifier *mod = &it->modifiers[m];
            if (!dlv__money_times_amount(mod->price, mod->amount, &lo, &hi) || hi > DLV__MONEY_MAX) {
                dlv__jpath_key(p, "modifiers");
                dlv__jpath_index(p, m);
                int rc = dlv__jerr(err, DLV_EJSON, p, "price × amount out of range");
                dlv__jpath_restore(p, mark);
                return rc;
            }
            low += lo;
            high += hi;
        }
        dlv__jpath_restore(p, mark);
    }
    if (o->full_sum < low || o->full_sum > high)
        return money_text_err(err, p, "fullSum", "%s does not match the items (%s)", o->full_sum,
                              low);
    if (o->discount_sum > o->full_sum)
        return money_text_err(err, p, "discountSum", "%s exceeds fullSum (%s)", o->discount_sum,
                              o->full_sum);
    if (o->result_sum != o->full_sum - o->discount_sum)
        return money_text_err(err, p, "resultSum", "%s is not fullSum - discountSum (%s)",
                              o->result_sum, o->full_sum - o->discount_sum);
    dlv__money non_cash = 0;
    for (size_t i = 0; i < o->payment_count; i++)
        if (o->payments[i].kind != DLV__PAYMENT_CASH)
            non_cash += o->payments[i].sum;
    if (non_cash > o->result_sum)
        return money_text_err(err, p, "payments",
                              "non-cash payments (%s) exceed resultSum (%s): only cash gives "
                              "change",
                              non_cash, o->result_sum);
    size_t mark;
    if (o->service_type == DLV_SERVICE_COURIER && !o->address) {
        mark = dlv__jpath_key(p, "address");
        int rc = dlv__jerr(err, DLV_EJSON, p, "must not be null for a courier order");
        dlv__jpath_restore(p, mark);
        return rc;
    }
    if (o->customer && !o->phone) {
        mark = dlv__jpath_key(p, "phone");
        int rc = dlv__jerr(err, DLV_EJSON, p, "must not be null when the order has a customer");
        dlv__jpath_restore(p, mark);
        return rc;
    }
    return DLV_OK;
}

int dlv__order_validate(const dlv__order *order, unsigned flags, dlv_error *err)
{
    dlv__jpath p;
    dlv__jpath_init(&p, NULL);
    (void)flags;
    return validate_in(order, &p, err);
}

static dlv__order *order_new(void)
{
    dlv__order *o = dlv__calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->complete_before = o->when_created = DLV__TIME_NONE;
    o->when_confirmed = o->when_billed = o->when_printed = DLV__TIME_NONE;
    o->when_sent = o->actual_delivery_time = DLV__TIME_NONE;
    o->persons_count = 1;
    return o;
}

int dlv__order_from_cjson(const cJSON *node, unsigned flags, dlv__jpath *path, dlv__order **out,
                          dlv_error *err)
{
    dlv__jpath local;
    *out = NULL;
    if (!path) {
        dlv__jpath_init(&local, NULL);
        path = &local;
    }
    dlv__order *o = order_new();
    if (!o)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    int rc = decode_fields(node, flags, o, path, err);
    if (!rc)
        rc = validate_in(o, path, err);
    if (rc) {
        dlv__order_free(o);
        return rc;
    }
    *out = o;
    return DLV_OK;
}

int dlv__order_from_json(const char *json, size_t len, unsigned flags, dlv__order **out,
                         dlv_error *err)
{
    cJSON *root;
    *out = NULL;
    int rc = dlv__json_parse(json, len, DLV__ORDER_JSON_MAX, &root, err);
    if (rc)
        return rc;
    rc = dlv__order_from_cjson(root, flags, NULL, out, err);
    cJSON_Delete(root);
    return rc;
}
