/* ORDER document → dlv__order, with strict validation naming the field path. */
#include "order/model.h"

#include "common/dynbuf.h"

#include <stdio.h>
#include <string.h>

enum { REQ = DLV__J_REQUIRED, NUL = DLV__J_NULLABLE, NE = DLV__J_NONEMPTY, ID = DLV__J_UUID };

#define MONEY(m, k, flags, min, path, out)                                                         \
    dlv__jm_decimal(m, k, flags, DLV__MONEY_SCALE, min, DLV__MONEY_MAX, path, out, NULL, err)
#define AMOUNT(m, k, path, out)                                                                    \
    dlv__jm_decimal(m, k, REQ, DLV__AMOUNT_SCALE, 1, DLV__AMOUNT_MAX, path, out, NULL, err)

const char *const dlv__payment_kind_names[3] = {"Cash", "Card", "External"};

const char *const dlv__status_names[DLV_STATUS_COUNT] = {
    "Unconfirmed", "WaitCooking", "ReadyForCooking", "CookingStarted", "CookingCompleted",
    "Waiting",     "OnWay",       "Delivered",       "Closed",         "Cancelled"};
static const char *const service_names[2] = {"DeliveryByCourier", "DeliveryByClient"};

/* The members each object of an ORDER is read for, found in one walk over the object
 * (dlv__jmembers_scan). Listed in the order the call-center writes them, which the walk tries
 * first; any order works. */
#define KEY_ENUM(id, name) id,
#define KEY_NAME(id, name) name,
#define DEFINE_KEYS(prefix, LIST)                                                                  \
    enum { LIST(KEY_ENUM) prefix##COUNT };                                                         \
    static const char *const prefix##keys[] = {LIST(KEY_NAME)}

#define ORDER_KEYS(X)                                                                              \
    X(O_NUMBER, "number")                                                                          \
    X(O_ID, "id")                                                                                  \
    X(O_EXTERNAL_NUMBER, "externalNumber")                                                         \
    X(O_SOURCE_KEY, "sourceKey")                                                                   \
    X(O_STATUS, "status")                                                                          \
    X(O_SERVICE_TYPE, "serviceType")                                                               \
    X(O_COMPLETE_BEFORE, "completeBefore")                                                         \
    X(O_PREDICTED_COOKING, "predictedCookingCompleteTime")                                         \
    X(O_PREDICTED_DELIVERY, "predictedDeliveryTime")                                               \
    X(O_WHEN_CREATED, "whenCreated")                                                               \
    X(O_PHONE, "phone")                                                                            \
    X(O_CUSTOMER, "customer")                                                                      \
    X(O_ADDRESS, "address")                                                                        \
    X(O_COMMENT, "comment")                                                                        \
    X(O_PERSONS_COUNT, "personsCount")                                                             \
    X(O_SPLIT, "splitBetweenPersons")                                                              \
    X(O_ITEMS, "items")                                                                            \
    X(O_FULL_SUM, "fullSum")                                                                       \
    X(O_DISCOUNT_SUM, "discountSum")                                                               \
    X(O_SURCHARGE_SUM, "surchargeSum")                                                             \
    X(O_RESULT_SUM, "resultSum")                                                                   \
    X(O_PAYMENTS, "payments")                                                                      \
    X(O_COURIER, "courier")                                                                        \
    X(O_CANCEL_INFO, "cancelInfo")                                                                 \
    X(O_PROBLEM, "problem")                                                                        \
    X(O_OPERATOR, "operator")                                                                      \
    X(O_REVISION, "revision")                                                                      \
    X(O_WHEN_CONFIRMED, "whenConfirmed")                                                           \
    X(O_WHEN_BILLED, "whenBilled")                                                                 \
    X(O_WHEN_PRINTED, "whenPrinted")                                                               \
    X(O_WHEN_SENT, "whenSent")                                                                     \
    X(O_ACTUAL_DELIVERY, "actualDeliveryTime")
DEFINE_KEYS(O_, ORDER_KEYS);

#define ITEM_KEYS(X)                                                                               \
    X(I_POSITION_ID, "positionId")                                                                 \
    X(I_PRODUCT_ID, "productId")                                                                   \
    X(I_NAME, "name")                                                                              \
    X(I_AMOUNT, "amount")                                                                          \
    X(I_PRICE, "price")                                                                            \
    X(I_SUM, "sum")                                                                                \
    X(I_COMMENT, "comment")                                                                        \
    X(I_MODIFIERS, "modifiers")
DEFINE_KEYS(I_, ITEM_KEYS);

#define MODIFIER_KEYS(X)                                                                           \
    X(M_PRODUCT_ID, "productId")                                                                   \
    X(M_NAME, "name")                                                                              \
    X(M_AMOUNT, "amount")                                                                          \
    X(M_PRICE, "price")
DEFINE_KEYS(M_, MODIFIER_KEYS);

#define PAYMENT_KEYS(X)                                                                            \
    X(P_ID, "id")                                                                                  \
    X(P_PAYMENT_TYPE_ID, "paymentTypeId")                                                          \
    X(P_NAME, "name")                                                                              \
    X(P_KIND, "kind")                                                                              \
    X(P_SUM, "sum")                                                                                \
    X(P_PROCESSED_EXTERNALLY, "isProcessedExternally")                                             \
    X(P_PREPAY, "isPrepay")
DEFINE_KEYS(P_, PAYMENT_KEYS);

#define CUSTOMER_KEYS(X)                                                                           \
    X(C_ID, "id")                                                                                  \
    X(C_NAME, "name")                                                                              \
    X(C_SURNAME, "surname")                                                                        \
    X(C_COMMENT, "comment")                                                                        \
    X(C_IN_BLACKLIST, "inBlacklist")                                                               \
    X(C_BLACKLIST_REASON, "blacklistReason")
DEFINE_KEYS(C_, CUSTOMER_KEYS);

/* Read in this order, each into the char * at its offset in dlv__address. */
#define ADDRESS_KEYS(X)                                                                            \
    X(A_CITY, "city")                                                                              \
    X(A_STREET, "street")                                                                          \
    X(A_HOUSE, "house")                                                                            \
    X(A_BUILDING, "building")                                                                      \
    X(A_FLAT, "flat")                                                                              \
    X(A_ENTRANCE, "entrance")                                                                      \
    X(A_FLOOR, "floor")                                                                            \
    X(A_DOORPHONE, "doorphone")                                                                    \
    X(A_REGION, "region")                                                                          \
    X(A_COMMENT, "comment")
DEFINE_KEYS(A_, ADDRESS_KEYS);

#define COURIER_KEYS(X) X(K_ID, "id") X(K_NAME, "name") X(K_PHONE, "phone")
DEFINE_KEYS(K_, COURIER_KEYS);

#define CANCEL_KEYS(X) X(X_WHEN, "whenCancelled") X(X_CAUSE, "cause") X(X_COMMENT, "comment")
DEFINE_KEYS(X_, CANCEL_KEYS);

#define CAUSE_KEYS(X) X(CA_ID, "id") X(CA_NAME, "name")
DEFINE_KEYS(CA_, CAUSE_KEYS);

#define PROBLEM_KEYS(X) X(PR_HAS_PROBLEM, "hasProblem") X(PR_DESCRIPTION, "description")
DEFINE_KEYS(PR_, PROBLEM_KEYS);

#define OPERATOR_KEYS(X) X(OP_NAME, "name")
DEFINE_KEYS(OP_, OPERATOR_KEYS);

/* One decoding: the path, the error, and in tolerant mode where warnings go. */
typedef struct dec {
    unsigned flags;
    dlv__jpath *p;
    dlv_error *err;
    dlv__order_warnings *warnings; /* NULL: strict */
    size_t base;                   /* path length at the order's root */
    const dlv__order *o;           /* for the id in warnings */
    unsigned take;                 /* DLV__J_TAKE or 0, for the strings of soft_string */
} dec;

/* A non-strict field failed with rc. Strict mode passes rc on; tolerant mode turns a malformed
 * value (DLV_EJSON) into a warning named after the field path in the error message and returns
 * DLV_OK, after which the caller leaves the field absent. */
static int soft(dec *d, int rc)
{
    if (rc != DLV_EJSON || !d->warnings)
        return rc;
    dlv__order_warnings *w = d->warnings;
    if (DLV__DYNARR_RESERVE(w->items, w->cap, w->count + 1, 4, DLV__DYNARR_NOLIMIT) != DLV_OK)
        return dlv__error_set(d->err, DLV_ENOMEM, "out of memory");
    dlv__order_warning *e = &w->items[w->count++];
    memset(e, 0, sizeof *e);
    snprintf(e->order_id, sizeof e->order_id, "%.39s", d->o->id ? d->o->id : "");
    /* The message is "<path>: <what>"; the path starts with the order's own (d->base bytes). */
    const char *m = d->err->message;
    if (d->base && strncmp(m, d->p->text, d->base) == 0)
        m += d->base;
    if (*m == '.')
        m++;
    const char *sep = strstr(m, ": ");
    if (sep) {
        size_t n = (size_t)(sep - m);
        snprintf(e->field, sizeof e->field, "%.*s",
                 (int)(n < sizeof e->field ? n : sizeof e->field - 1), m);
        snprintf(e->message, sizeof e->message, "%.199s", sep + 2);
    } else {
        snprintf(e->message, sizeof e->message, "%.199s", m);
    }
    return DLV_OK;
}

/* Appends a warning that is not a reader's error (a cross-field rule relaxed in tolerant mode). */
static int warn(dec *d, const char *key, const char *what)
{
    size_t mark = dlv__jpath_key(d->p, key);
    int rc = soft(d, dlv__jerr(d->err, DLV_EJSON, d->p, "%s", what));
    dlv__jpath_restore(d->p, mark);
    return rc;
}

static int soft_string(dec *d, const dlv__jmembers *m, size_t k, unsigned flags, char **out)
{
    return soft(d, dlv__jm_string(m, k, flags | d->take, d->p, out, d->err));
}

static int soft_time(dec *d, const dlv__jmembers *m, size_t k, unsigned flags, dlv__time *out)
{
    int rc = dlv__jm_time(m, k, flags, d->p, out, d->err);
    if (rc) {
        *out = DLV__TIME_NONE;
        rc = soft(d, rc);
    }
    return rc;
}

static int soft_bool(dec *d, const dlv__jmembers *m, size_t k, unsigned flags, bool *out)
{
    int rc = dlv__jm_bool(m, k, flags, d->p, out, d->err);
    if (rc) {
        *out = false;
        rc = soft(d, rc);
    }
    return rc;
}

/* Reads an array member and lets `each` decode every element with "[i]" on the path. */
typedef int (*element_fn)(const cJSON *node, dec *d, void *slot);

static int decode_array(const dlv__jmembers *m, size_t k, unsigned flags, size_t max,
                        size_t elem_size, element_fn each, dec *d, void **out, size_t *count)
{
    const cJSON *arr;
    size_t n;
    dlv__jpath *path = d->p;
    DLV__TRY(dlv__jm_array(m, k, flags, max, path, &arr, &n, d->err));
    if (!arr || n == 0)
        return DLV_OK;
    char *elems = dlv__calloc(n, elem_size);
    if (!elems)
        return dlv__error_set(d->err, DLV_ENOMEM, "out of memory");
    /* Owned by the order from here on, so a failure below frees what was decoded. */
    *out = elems;
    *count = n;
    size_t key_mark = dlv__jpath_key(path, m->keys[k]), i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        size_t mark = dlv__jpath_index(path, i);
        int rc = each(c, d, elems + i * elem_size);
        dlv__jpath_restore(path, mark);
        if (rc) {
            dlv__jpath_restore(path, key_mark);
            return rc;
        }
    }
    dlv__jpath_restore(path, key_mark);
    return DLV_OK;
}

static int need_object(const cJSON *node, dec *d)
{
    return cJSON_IsObject(node) ? DLV_OK : dlv__jerr(d->err, DLV_EJSON, d->p, "not an object");
}

/* In an item or a modifier the amount, price and sum are strict (they make fullSum); the ids,
 * names and comments are not. */
static int decode_modifier(const cJSON *n, dec *d, void *slot)
{
    dlv__modifier *mod = slot;
    dlv__jpath *p = d->p;
    dlv_error *err = d->err;
    dlv__jmembers m;
    DLV__TRY(need_object(n, d));
    dlv__jmembers_scan(&m, n, M_keys, M_COUNT);
    DLV__TRY(soft_string(d, &m, M_PRODUCT_ID, REQ | ID, &mod->product_id));
    DLV__TRY(soft_string(d, &m, M_NAME, REQ | NE, &mod->name));
    DLV__TRY(AMOUNT(&m, M_AMOUNT, p, &mod->amount));
    DLV__TRY(MONEY(&m, M_PRICE, REQ, 0, p, &mod->price));
    return DLV_OK;
}

static int decode_item(const cJSON *n, dec *d, void *slot)
{
    dlv__item *it = slot;
    dlv__jpath *p = d->p;
    dlv_error *err = d->err;
    dlv__jmembers m;
    DLV__TRY(need_object(n, d));
    dlv__jmembers_scan(&m, n, I_keys, I_COUNT);
    DLV__TRY(soft_string(d, &m, I_POSITION_ID, REQ | ID, &it->position_id));
    DLV__TRY(soft_string(d, &m, I_PRODUCT_ID, REQ | ID, &it->product_id));
    DLV__TRY(soft_string(d, &m, I_NAME, REQ | NE, &it->name));
    DLV__TRY(AMOUNT(&m, I_AMOUNT, p, &it->amount));
    DLV__TRY(MONEY(&m, I_PRICE, REQ, 0, p, &it->price));
    DLV__TRY(MONEY(&m, I_SUM, REQ, 0, p, &it->sum));
    DLV__TRY(soft_string(d, &m, I_COMMENT, NUL, &it->comment));
    void *mods = NULL;
    int rc = decode_array(&m, I_MODIFIERS, NUL, DLV__ORDER_MAX_MODIFIERS, sizeof(dlv__modifier),
                          decode_modifier, d, &mods, &it->modifier_count);
    it->modifiers = mods;
    return rc;
}

/* A payment's kind and sum are strict (the paid sum, change, D_DEP); the rest is not. */
static int decode_payment(const cJSON *n, dec *d, void *slot)
{
    dlv__payment *pay = slot;
    dlv__jpath *p = d->p;
    dlv_error *err = d->err;
    dlv__jmembers m;
    int kind = 0;
    DLV__TRY(need_object(n, d));
    dlv__jmembers_scan(&m, n, P_keys, P_COUNT);
    DLV__TRY(soft_string(d, &m, P_ID, NUL | ID, &pay->id));
    DLV__TRY(soft_string(d, &m, P_PAYMENT_TYPE_ID, REQ | ID, &pay->payment_type_id));
    DLV__TRY(soft_string(d, &m, P_NAME, NUL, &pay->name));
    DLV__TRY(dlv__jm_enum(&m, P_KIND, REQ, dlv__payment_kind_names, 3, p, &kind, err));
    pay->kind = (dlv__payment_kind)kind;
    DLV__TRY(MONEY(&m, P_SUM, REQ, 1, p, &pay->sum));
    DLV__TRY(soft_bool(d, &m, P_PROCESSED_EXTERNALLY, 0, &pay->processed_externally));
    DLV__TRY(soft_bool(d, &m, P_PREPAY, 0, &pay->prepay));
    return DLV_OK;
}

/* A member object, its own members scanned into `sub`; when present, its key stays on the path
 * until the caller restores `mark`. Tolerant mode reads a malformed one (not an object, duplicate
 * key) as absent. */
static int sub_object(dec *d, const dlv__jmembers *m, size_t k, unsigned flags,
                      const char *const *keys, size_t count, dlv__jmembers *sub, const cJSON **node,
                      size_t *mark)
{
    int rc = dlv__jm_object(m, k, flags, d->p, node, d->err);
    if (rc) {
        *node = NULL;
        return soft(d, rc);
    }
    if (*node) {
        *mark = dlv__jpath_key(d->p, m->keys[k]);
        dlv__jmembers_scan(sub, *node, keys, count);
    }
    return DLV_OK;
}

static int decode_customer(const dlv__jmembers *om, dec *d, dlv__customer **out)
{
    const cJSON *n;
    dlv__jmembers m;
    size_t mark = 0;
    bool draft = d->flags & DLV__ORDER_DRAFT;
    DLV__TRY(
        sub_object(d, om, O_CUSTOMER, draft ? NUL : REQ | NUL, C_keys, C_COUNT, &m, &n, &mark));
    if (!n)
        return DLV_OK;
    dlv__customer *c = *out = dlv__calloc(1, sizeof *c);
    int rc = c ? DLV_OK : dlv__error_set(d->err, DLV_ENOMEM, "out of memory");
    if (!rc)
        rc = soft_string(d, &m, C_ID, (draft ? NUL : REQ) | ID, &c->id);
    if (!rc)
        rc = soft_string(d, &m, C_NAME, REQ | NE, &c->name);
    if (!rc)
        rc = soft_string(d, &m, C_SURNAME, NUL, &c->surname);
    if (!rc)
        rc = soft_string(d, &m, C_COMMENT, NUL, &c->comment);
    if (!rc)
        rc = soft_bool(d, &m, C_IN_BLACKLIST, 0, &c->in_blacklist);
    if (!rc)
        rc = soft_string(d, &m, C_BLACKLIST_REASON, NUL, &c->blacklist_reason);
    dlv__jpath_restore(d->p, mark);
    return rc;
}

static int decode_address(const dlv__jmembers *om, dec *d, dlv__address **out)
{
    const cJSON *n;
    dlv__jmembers m;
    size_t mark = 0;
    DLV__TRY(sub_object(d, om, O_ADDRESS, d->flags & DLV__ORDER_DRAFT ? NUL : REQ | NUL, A_keys,
                        A_COUNT, &m, &n, &mark));
    if (!n)
        return DLV_OK;
    dlv__address *a = *out = dlv__calloc(1, sizeof *a);
    if (!a) {
        dlv__jpath_restore(d->p, mark);
        return dlv__error_set(d->err, DLV_ENOMEM, "out of memory");
    }
    static const struct {
        size_t offset;
        unsigned flags;
    } fields[A_COUNT] = {
        [A_CITY] = {offsetof(dlv__address, city), NUL},
        [A_STREET] = {offsetof(dlv__address, street), REQ | NE},
        [A_HOUSE] = {offsetof(dlv__address, house), REQ | NE},
        [A_BUILDING] = {offsetof(dlv__address, building), NUL},
        [A_FLAT] = {offsetof(dlv__address, flat), NUL},
        [A_ENTRANCE] = {offsetof(dlv__address, entrance), NUL},
        [A_FLOOR] = {offsetof(dlv__address, floor), NUL},
        [A_DOORPHONE] = {offsetof(dlv__address, doorphone), NUL},
        [A_REGION] = {offsetof(dlv__address, region), NUL},
        [A_COMMENT] = {offsetof(dlv__address, comment), NUL},
    };
    int rc = DLV_OK;
    for (size_t i = 0; !rc && i < A_COUNT; i++)
        rc = soft_string(d, &m, i, fields[i].flags, (char **)((char *)a + fields[i].offset));
    dlv__jpath_restore(d->p, mark);
    return rc;
}

static void courier_free(dlv__order_courier *c)
{
    if (!c)
        return;
    dlv__free(c->id);
    dlv__free(c->name);
    dlv__free(c->phone);
    dlv__free(c);
}

static int decode_courier(const dlv__jmembers *om, dec *d, dlv__order_courier **out)
{
    const cJSON *n;
    dlv__jmembers m;
    size_t mark = 0;
    DLV__TRY(sub_object(d, om, O_COURIER, NUL, K_keys, K_COUNT, &m, &n, &mark));
    if (!n)
        return DLV_OK;
    dlv__order_courier *c = *out = dlv__calloc(1, sizeof *c);
    int rc = c ? DLV_OK : dlv__error_set(d->err, DLV_ENOMEM, "out of memory");
    if (!rc)
        rc = soft_string(d, &m, K_ID, REQ | ID, &c->id);
    if (!rc && !c->id) {
        /* Couriers are compared by id: one without a usable id is no courier at all. */
        courier_free(c);
        *out = NULL;
        dlv__jpath_restore(d->p, mark);
        return DLV_OK;
    }
    if (!rc)
        rc = soft_string(d, &m, K_NAME, REQ | NE, &c->name);
    if (!rc)
        rc = soft_string(d, &m, K_PHONE, NUL, &c->phone);
    dlv__jpath_restore(d->p, mark);
    return rc;
}

static int decode_cancel_info(const dlv__jmembers *om, dec *d, dlv__cancel_info **out)
{
    const cJSON *n, *cause;
    dlv__jmembers m, cm;
    size_t mark = 0, cause_mark = 0;
    DLV__TRY(sub_object(d, om, O_CANCEL_INFO, NUL, X_keys, X_COUNT, &m, &n, &mark));
    if (!n)
        return DLV_OK;
    dlv__cancel_info *ci = *out = dlv__calloc(1, sizeof *ci);
    int rc = ci ? DLV_OK : dlv__error_set(d->err, DLV_ENOMEM, "out of memory");
    if (ci)
        ci->when = DLV__TIME_NONE;
    if (!rc)
        rc = soft_time(d, &m, X_WHEN, NUL, &ci->when);
    if (!rc)
        rc = sub_object(d, &m, X_CAUSE, REQ, CA_keys, CA_COUNT, &cm, &cause, &cause_mark);
    if (!rc && cause) {
        /* Protocol 1.1: any non-empty string (a 1.0 server sends a UUID, which is one). */
        rc = soft_string(d, &cm, CA_ID, REQ | NE, &ci->cause_id);
        if (!rc)
            rc = soft_string(d, &cm, CA_NAME, NUL, &ci->cause_name);
        dlv__jpath_restore(d->p, cause_mark);
    }
    if (!rc)
        rc = soft_string(d, &m, X_COMMENT, NUL, &ci->comment);
    dlv__jpath_restore(d->p, mark);
    return rc;
}

static int decode_small_objects(const dlv__jmembers *om, dlv__order *o, dec *d)
{
    const cJSON *n;
    dlv__jmembers m;
    size_t mark = 0;
    DLV__TRY(sub_object(d, om, O_PROBLEM, NUL, PR_keys, PR_COUNT, &m, &n, &mark));
    if (n) {
        int rc = soft_bool(d, &m, PR_HAS_PROBLEM, REQ, &o->has_problem);
        if (!rc)
            rc = soft_string(d, &m, PR_DESCRIPTION, NUL, &o->problem_description);
        dlv__jpath_restore(d->p, mark);
        DLV__TRY(rc);
    }
    DLV__TRY(sub_object(d, om, O_OPERATOR, NUL, OP_keys, OP_COUNT, &m, &n, &mark));
    if (n) {
        int rc = soft_string(d, &m, OP_NAME, NUL, &o->operator_name);
        dlv__jpath_restore(d->p, mark);
        DLV__TRY(rc);
    }
    return DLV_OK;
}

static int decode_fields(const cJSON *obj, dec *d, dlv__order *o)
{
    dlv__jpath *p = d->p;
    dlv_error *err = d->err;
    bool draft = d->flags & DLV__ORDER_DRAFT;
    unsigned assigned = draft ? NUL : REQ; /* what the server assigns */
    int status = DLV_STATUS_UNCONFIRMED, service = 0;
    int64_t persons = 1;
    dlv__jmembers om, *m = &om;
    DLV__TRY(need_object(obj, d));
    dlv__jmembers_scan(m, obj, O_keys, O_COUNT);
    /* Strict: id, revision, number, status, serviceType, completeBefore (and the sums below). */
    DLV__TRY(dlv__jm_string(m, O_ID, assigned | ID, p, &o->id, err));
    DLV__TRY(dlv__jm_decimal(m, O_REVISION, assigned, 0, 0, INT64_MAX, p, &o->revision, NULL, err));
    DLV__TRY(dlv__jm_decimal(m, O_NUMBER, assigned, 0, draft ? 0 : 1, INT64_C(999999999999999), p,
                             &o->number, NULL, err));
    DLV__TRY(soft_string(d, m, O_EXTERNAL_NUMBER, NUL, &o->external_number));
    DLV__TRY(soft_string(d, m, O_SOURCE_KEY, NUL, &o->source_key));
    DLV__TRY(
        dlv__jm_enum(m, O_STATUS, assigned, dlv__status_names, DLV_STATUS_COUNT, p, &status, err));
    o->status = (dlv_status)status;
    DLV__TRY(dlv__jm_enum(m, O_SERVICE_TYPE, REQ, service_names, 2, p, &service, err));
    o->service_type = (dlv_service_type)service;
    DLV__TRY(dlv__jm_time(m, O_COMPLETE_BEFORE, REQ, p, &o->complete_before, err));
    DLV__TRY(soft_time(d, m, O_PREDICTED_COOKING, NUL, &o->predicted_cooking_complete_time));
    DLV__TRY(soft_time(d, m, O_PREDICTED_DELIVERY, NUL, &o->predicted_delivery_time));
    DLV__TRY(soft_time(d, m, O_WHEN_CREATED, assigned, &o->when_created));
    DLV__TRY(soft_string(d, m, O_PHONE, REQ | NUL | NE, &o->phone));
    DLV__TRY(decode_customer(m, d, &o->customer));
    DLV__TRY(decode_address(m, d, &o->address));
    DLV__TRY(soft_string(d, m, O_COMMENT, NUL, &o->comment));
    int rc = dlv__jm_decimal(m, O_PERSONS_COUNT, 0, 0, 0, 10000, p, &persons, NULL, err);
    if (rc) {
        persons = 1;
        DLV__TRY(soft(d, rc));
    }
    o->persons_count = (int)persons;
    DLV__TRY(soft_bool(d, m, O_SPLIT, 0, &o->split_between_persons));
    void *items = NULL, *payments = NULL;
    rc = decode_array(m, O_ITEMS, REQ, DLV__ORDER_MAX_ITEMS, sizeof(dlv__item), decode_item, d,
                      &items, &o->item_count);
    o->items = items;
    DLV__TRY(rc);
    if (o->item_count == 0) {
        size_t mark = dlv__jpath_key(p, "items");
        rc = dlv__jerr(err, DLV_EJSON, p, "must not be empty");
        dlv__jpath_restore(p, mark);
        return rc;
    }
    rc = decode_array(m, O_PAYMENTS, NUL, DLV__ORDER_MAX_PAYMENTS, sizeof(dlv__payment),
                      decode_payment, d, &payments, &o->payment_count);
    o->payments = payments;
    DLV__TRY(rc);
    DLV__TRY(MONEY(m, O_FULL_SUM, REQ, 0, p, &o->full_sum));
    DLV__TRY(MONEY(m, O_DISCOUNT_SUM, 0, 0, p, &o->discount_sum));
    DLV__TRY(MONEY(m, O_SURCHARGE_SUM, NUL, 0, p, &o->surcharge_sum));
    DLV__TRY(MONEY(m, O_RESULT_SUM, REQ, 0, p, &o->result_sum));
    DLV__TRY(decode_courier(m, d, &o->courier));
    DLV__TRY(decode_cancel_info(m, d, &o->cancel_info));
    DLV__TRY(decode_small_objects(m, o, d));
    DLV__TRY(soft_time(d, m, O_WHEN_CONFIRMED, NUL, &o->when_confirmed));
    DLV__TRY(soft_time(d, m, O_WHEN_BILLED, NUL, &o->when_billed));
    DLV__TRY(soft_time(d, m, O_WHEN_PRINTED, NUL, &o->when_printed));
    DLV__TRY(soft_time(d, m, O_WHEN_SENT, NUL, &o->when_sent));
    DLV__TRY(soft_time(d, m, O_ACTUAL_DELIVERY, NUL, &o->actual_delivery_time));
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

static int validate_in(const dlv__order *o, dlv__jpath *p, dec *d, dlv_error *err)
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
            if (!dlv__money_times_amount(mod->price, mod->amount, &lo, &hi) ||
                hi > DLV__MONEY_MAX) {
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
    if (o->result_sum != o->full_sum - o->discount_sum + o->surcharge_sum) {
        if (o->surcharge_sum == 0) /* a 1.0 order: the message it always had */
            return money_text_err(err, p, "resultSum", "%s is not fullSum - discountSum (%s)",
                                  o->result_sum, o->full_sum - o->discount_sum);
        return money_text_err(err, p, "resultSum",
                              "%s is not fullSum - discountSum + surchargeSum (%s)", o->result_sum,
                              o->full_sum - o->discount_sum + o->surcharge_sum);
    }
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
    /* Tolerant reading keeps such an order (its address or phone may have been malformed and
     * read as absent) and says so. */
    if (d && d->warnings) {
        if (o->service_type == DLV_SERVICE_COURIER && !o->address)
            DLV__TRY(warn(d, "address", "missing for a courier order"));
        if (o->customer && !o->phone)
            DLV__TRY(warn(d, "phone", "missing although the order has a customer"));
        return DLV_OK;
    }
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
    if (!(flags & DLV__ORDER_LENIENT))
        return validate_in(order, &p, NULL, err);
    /* Tolerantly read: the address and phone rules only warn (warnings discarded here). */
    dlv__order_warnings discarded = {0};
    dec d = {flags, &p, err, &discarded, 0, order, 0};
    int rc = validate_in(order, &p, &d, err);
    dlv__free(discarded.items);
    return rc;
}

static dlv__order *order_new(void)
{
    dlv__order *o = dlv__calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->complete_before = o->when_created = DLV__TIME_NONE;
    o->when_confirmed = o->when_billed = o->when_printed = DLV__TIME_NONE;
    o->when_sent = o->actual_delivery_time = DLV__TIME_NONE;
    o->predicted_cooking_complete_time = o->predicted_delivery_time = DLV__TIME_NONE;
    o->persons_count = 1;
    return o;
}

static int from_cjson(const cJSON *node, unsigned flags, dlv__jpath *path,
                      dlv__order_warnings *warnings, dlv__order **out, dlv_error *err)
{
    dlv__jpath local;
    *out = NULL;
    if (!path) {
        dlv__jpath_init(&local, NULL);
        path = &local;
    }
    dlv__order_warnings discarded = {0};
    if ((flags & DLV__ORDER_LENIENT) && !warnings)
        warnings = &discarded;
    dlv__order *o = order_new();
    if (!o)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    size_t had = warnings ? warnings->count : 0;
    dec d = {flags,
             path,
             err,
             warnings,
             path->len,
             o,
             flags & DLV__ORDER_TAKE_STRINGS ? DLV__J_TAKE : 0};
    int rc = decode_fields(node, &d, o);
    if (!rc && (flags & DLV__ORDER_RESUM))
        dlv__order_recompute_sums(o);
    if (!rc)
        rc = validate_in(o, path, &d, err);
    if (rc) {
        if (warnings)
            warnings->count = had; /* the order is refused: its warnings go with it */
        dlv__order_free(o);
        dlv__free(discarded.items);
        return rc;
    }
    dlv__free(discarded.items);
    *out = o;
    return DLV_OK;
}

int dlv__order_from_cjson(const cJSON *node, unsigned flags, dlv__jpath *path, dlv__order **out,
                          dlv_error *err)
{
    return from_cjson(node, flags, path, NULL, out, err);
}

int dlv__order_from_cjson_lenient(const cJSON *node, dlv__jpath *path,
                                  dlv__order_warnings *warnings, dlv__order **out, dlv_error *err)
{
    if (!warnings) {
        *out = NULL;
        return dlv__error_set(err, DLV_EINVAL, "no warning list");
    }
    return from_cjson(node, DLV__ORDER_LENIENT, path, warnings, out, err);
}

int dlv__order_from_cjson_warn(const cJSON *node, unsigned flags, dlv__jpath *path,
                               dlv__order_warnings *warnings, dlv__order **out, dlv_error *err)
{
    return from_cjson(node, flags, path, (flags & DLV__ORDER_LENIENT) ? warnings : NULL, out, err);
}

int dlv__order_from_json(const char *json, size_t len, unsigned flags, dlv__order **out,
                         dlv_error *err)
{
    cJSON *root;
    *out = NULL;
    int rc = dlv__json_parse(json, len, DLV__ORDER_JSON_MAX, &root, err);
    if (rc)
        return rc;
    rc = dlv__order_from_cjson(root, flags | DLV__ORDER_TAKE_STRINGS, NULL, out, err);
    cJSON_Delete(root);
    return rc;
}
