/* iikoCloud's orders and dictionaries mapped to the library's model (lib/order/model.h). Each
 * OrderInfo is rewritten as the library's ORDER document and then read by the library's own
 * decoder, so an order from iikoCloud passes exactly the checks an order of protocol v1 does. */
#include "net/iiko.h"

#include <stdio.h>
#include <string.h>

/* ---- times: "yyyy-MM-dd HH:mm:ss.fff", the terminal's wall clock ---- */

static int64_t to_utc(const dlv__iiko_clock *clock, int64_t t, bool utc)
{
    return clock && clock->fn ? clock->fn(clock->arg, t, utc) : t;
}

bool dlv__iiko_time_parse(const char *text, const dlv__iiko_clock *clock, dlv__time *out)
{
    unsigned y, mo, d, h, mi, s;
    int used = 0;
    if (!text || sscanf(text, "%4u-%2u-%2u %2u:%2u:%2u%n", &y, &mo, &d, &h, &mi, &s, &used) != 6 ||
        used != 19)
        return false;
    const char *rest = text + used;
    if (*rest == '.') {
        rest++;
        size_t digits = strspn(rest, "0123456789");
        if (digits == 0 || digits > 7)
            return false;
        rest += digits;
    }
    if (*rest || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return false;
    int64_t local = dlv__days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    *out = to_utc(clock, local, true);
    return true;
}

void dlv__iiko_time_format(dlv__time utc, const dlv__iiko_clock *clock, char out[32])
{
    int64_t local = to_utc(clock, utc, false);
    int64_t y;
    unsigned mo, d, h, mi, s;
    dlv__time_fields(local, 0, &y, &mo, &d, &h, &mi, &s);
    snprintf(out, 32, "%04lld-%02u-%02u %02u:%02u:%02u.000", (long long)y, mo, d, h, mi, s);
}

/* ---- small readers of iikoCloud's bodies (lenient: absent, null and wrong types read as
 * absent; the library's decoder then refuses what it needs and did not get) ---- */

static const cJSON *get(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    return cJSON_IsNull(v) ? NULL : v;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = get(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A JSON number as an exact decimal at `scale` when its text allows, else rounded. */
static bool decimal(const cJSON *v, int scale, int64_t *out)
{
    if (!cJSON_IsNumber(v))
        return false;
    if (v->valuestring && !dlv__decimal_parse(v->valuestring, scale, out))
        return true;
    double f = v->valuedouble;
    for (int i = 0; i < scale; i++)
        f *= 10;
    if (!(f < 9e15 && f > -9e15)) /* also NaN */
        return false;
    *out = (int64_t)(f >= 0 ? f + 0.5 : f - 0.5);
    return true;
}

static bool put_str(cJSON *o, const char *key, const char *value)
{
    return value ? dlv__jput_string(o, key, value) : true;
}

static bool put_time(cJSON *o, const char *key, const char *local, const dlv__iiko_clock *clock)
{
    dlv__time t;
    if (!local || !dlv__iiko_time_parse(local, clock, &t))
        return true;
    return dlv__jput_time(o, key, t);
}

static bool map_customer(cJSON *o, const cJSON *src)
{
    const cJSON *c = get(src, "customer");
    const char *id = str(c, "id");
    if (!id) /* anonymous, or a one-time customer without a card */
        return cJSON_AddNullToObject(o, "customer") != NULL;
    cJSON *dst = cJSON_CreateObject();
    const char *name = str(c, "name");
    bool ok = dst && dlv__jput_string(dst, "id", id) &&
              dlv__jput_string(dst, "name", name && *name ? name : "—") &&
              put_str(dst, "surname", str(c, "surname")) &&
              put_str(dst, "comment", str(c, "comment")) &&
              dlv__jput_bool(dst, "inBlacklist", cJSON_IsTrue(get(c, "inBlacklist"))) &&
              put_str(dst, "blacklistReason", str(c, "blacklistReason"));
    if (!ok) {
        cJSON_Delete(dst);
        return false;
    }
    return dlv__jattach(o, "customer", dst);
}

static bool map_address(cJSON *o, const cJSON *src, bool courier)
{
    const cJSON *point = get(src, "deliveryPoint");
    const cJSON *a = get(point, "address");
    if (!courier || !a)
        return cJSON_AddNullToObject(o, "address") != NULL;
    const cJSON *street = get(a, "street");
    cJSON *dst = cJSON_CreateObject();
    bool ok =
        dst && put_str(dst, "city", str(get(street, "city"), "name")) &&
        put_str(dst, "street", str(street, "name")) && put_str(dst, "house", str(a, "house")) &&
        put_str(dst, "building", str(a, "building")) && put_str(dst, "flat", str(a, "flat")) &&
        put_str(dst, "entrance", str(a, "entrance")) && put_str(dst, "floor", str(a, "floor")) &&
        put_str(dst, "doorphone", str(a, "doorphone")) &&
        put_str(dst, "region", str(get(a, "region"), "name")) &&
        put_str(dst, "comment", str(point, "comment"));
    if (!ok) {
        cJSON_Delete(dst);
        return false;
    }
    return dlv__jattach(o, "address", dst);
}

static bool is_deleted(const cJSON *node)
{
    const cJSON *d = get(node, "deleted");
    return d && !cJSON_IsFalse(d); /* iikoCloud: null, or the removal's details */
}

/* Items with their modifiers; *full is what they cost (the library's fullSum). */
static bool map_items(cJSON *o, const cJSON *src, dlv__money *full)
{
    cJSON *items = cJSON_CreateArray();
    if (!items || !dlv__jattach(o, "items", items))
        return false;
    *full = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, get(src, "items"))
    {
        if (is_deleted(it))
            continue;
        const cJSON *product = get(it, "product");
        dlv__amount amount = 0;
        dlv__money price = 0, lo = 0, hi = 0;
        decimal(get(it, "amount"), DLV__AMOUNT_SCALE, &amount);
        decimal(get(it, "price"), DLV__MONEY_SCALE, &price);
        if (amount > 0 && price >= 0)
            dlv__money_times_amount(price, amount, &lo, &hi);
        cJSON *dst = cJSON_CreateObject();
        if (!dst || !dlv__jattach(items, NULL, dst))
            return false;
        cJSON *mods = cJSON_AddArrayToObject(dst, "modifiers");
        bool ok = mods && put_str(dst, "positionId", str(it, "positionId")) &&
                  put_str(dst, "productId", str(product, "id")) &&
                  put_str(dst, "name", str(product, "name")) &&
                  dlv__jput_decimal(dst, "amount", amount, DLV__AMOUNT_SCALE, false) &&
                  dlv__jput_decimal(dst, "price", price, DLV__MONEY_SCALE, true) &&
                  dlv__jput_decimal(dst, "sum", lo, DLV__MONEY_SCALE, true) &&
                  put_str(dst, "comment", str(it, "comment"));
        if (!ok)
            return false;
        *full += lo;
        const cJSON *m;
        cJSON_ArrayForEach(m, get(it, "modifiers"))
        {
            if (is_deleted(m))
                continue;
            dlv__amount mamount = 0;
            dlv__money mprice = 0, mlo = 0, mhi = 0;
            decimal(get(m, "amount"), DLV__AMOUNT_SCALE, &mamount);
            decimal(get(m, "price"), DLV__MONEY_SCALE, &mprice);
            if (mamount > 0 && mprice >= 0)
                dlv__money_times_amount(mprice, mamount, &mlo, &mhi);
            cJSON *md = cJSON_CreateObject();
            const cJSON *mp = get(m, "product");
            if (!md || !dlv__jattach(mods, NULL, md) || !put_str(md, "productId", str(mp, "id")) ||
                !put_str(md, "name", str(mp, "name")) ||
                !dlv__jput_decimal(md, "amount", mamount, DLV__AMOUNT_SCALE, false) ||
                !dlv__jput_decimal(md, "price", mprice, DLV__MONEY_SCALE, true))
                return false;
            *full += mlo;
        }
    }
    return true;
}

static bool map_payments(cJSON *o, const cJSON *src)
{
    cJSON *list = cJSON_CreateArray();
    if (!list || !dlv__jattach(o, "payments", list))
        return false;
    const cJSON *p;
    cJSON_ArrayForEach(p, get(src, "payments"))
    {
        dlv__money sum = 0;
        decimal(get(p, "sum"), DLV__MONEY_SCALE, &sum);
        if (sum <= 0)
            continue; /* iikoCloud lists zero payments; the library's are positive */
        const cJSON *type = get(p, "paymentType");
        const char *kind = str(type, "kind");
        if (!kind || (strcmp(kind, "Cash") != 0 && strcmp(kind, "Card") != 0))
            kind = "External"; /* loyalty cards, online payments, credit: not cash in hand */
        cJSON *dst = cJSON_CreateObject();
        if (!dst || !dlv__jattach(list, NULL, dst) ||
            !put_str(dst, "paymentTypeId", str(type, "id")) ||
            !put_str(dst, "name", str(type, "name")) || !dlv__jput_string(dst, "kind", kind) ||
            !dlv__jput_decimal(dst, "sum", sum, DLV__MONEY_SCALE, true) ||
            !dlv__jput_bool(dst, "isProcessedExternally",
                            cJSON_IsTrue(get(p, "isProcessedExternally"))) ||
            !dlv__jput_bool(dst, "isPrepay", cJSON_IsTrue(get(p, "isPrepay"))))
            return false;
    }
    return true;
}

static bool map_misc(cJSON *o, const cJSON *src, const dlv__iiko_clock *clock)
{
    const cJSON *ci = get(src, "courierInfo");
    const cJSON *courier = get(ci, "courier");
    if (str(courier, "id")) {
        cJSON *c = cJSON_CreateObject();
        const char *name = str(courier, "name");
        if (!c || !dlv__jattach(o, "courier", c) ||
            !dlv__jput_string(c, "id", str(courier, "id")) ||
            !dlv__jput_string(c, "name", name && *name ? name : "—") ||
            !put_str(c, "phone", str(courier, "phone")))
            return false;
    }
    const cJSON *cancel = get(src, "cancelInfo");
    const cJSON *cause = get(cancel, "cause");
    if (str(cause, "id")) {
        cJSON *c = cJSON_CreateObject(), *k = cJSON_CreateObject();
        if (!c || !k || !dlv__jattach(o, "cancelInfo", c) || !dlv__jattach(c, "cause", k)) {
            cJSON_Delete(k);
            return false;
        }
        if (!put_time(c, "whenCancelled", str(cancel, "whenCancelled"), clock) ||
            !dlv__jput_string(k, "id", str(cause, "id")) ||
            !put_str(k, "name", str(cause, "name")) ||
            !put_str(c, "comment", str(cancel, "comment")))
            return false;
    }
    const cJSON *problem = get(src, "problem");
    if (problem) {
        cJSON *pr = cJSON_CreateObject();
        if (!pr || !dlv__jattach(o, "problem", pr) ||
            !dlv__jput_bool(pr, "hasProblem", cJSON_IsTrue(get(problem, "hasProblem"))) ||
            !put_str(pr, "description", str(problem, "description")))
            return false;
    }
    const cJSON *op = get(src, "operator");
    if (str(op, "name")) {
        cJSON *c = cJSON_CreateObject();
        if (!c || !dlv__jattach(o, "operator", c) || !dlv__jput_string(c, "name", str(op, "name")))
            return false;
    }
    static const char *const times[][2] = {{"whenConfirmed", "whenConfirmed"},
                                           {"whenBillPrinted", "whenBilled"},
                                           {"whenPrinted", "whenPrinted"},
                                           {"whenSended", "whenSent"},
                                           {"whenDelivered", "actualDeliveryTime"}};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
        if (!put_time(o, times[i][1], str(src, times[i][0]), clock))
            return false;
    return true;
}

/* The ORDER document (docs/protocol.md) of an iikoCloud order. */
static cJSON *to_library_json(const cJSON *info, const cJSON *src, const dlv__iiko_clock *clock)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    int64_t revision = 0, number = 0;
    decimal(get(info, "timestamp"), 0, &revision);
    decimal(get(src, "number"), 0, &number);
    const char *service = str(get(src, "orderType"), "orderServiceType");
    if (!service)
        service = str(src, "orderServiceType");
    if (!service)
        service = get(src, "deliveryPoint") ? "DeliveryByCourier" : "DeliveryByClient";
    bool courier = strcmp(service, "DeliveryByClient") != 0;
    const char *phone = str(src, "phone");
    const cJSON *guests = get(src, "guestsInfo");
    int64_t persons = 1;
    decimal(get(guests, "count"), 0, &persons);
    const char *due = str(src, "completeBefore");
    if (!due)
        due = str(src, "whenCreated");
    dlv__money full = 0, discount = 0;
    const cJSON *d;
    bool ok =
        put_str(o, "id", str(info, "id")) &&
        dlv__jput_decimal(o, "revision", revision < 0 ? 0 : revision, 0, false) &&
        dlv__jput_decimal(o, "number", number, 0, false) &&
        put_str(o, "externalNumber", str(info, "externalNumber")) &&
        put_str(o, "sourceKey", str(src, "sourceKey")) &&
        put_str(o, "status", str(src, "status")) &&
        dlv__jput_string(o, "serviceType", courier ? "DeliveryByCourier" : "DeliveryByClient") &&
        put_time(o, "completeBefore", due, clock) &&
        put_time(o, "whenCreated", str(src, "whenCreated"), clock) &&
        (phone && *phone ? dlv__jput_string(o, "phone", phone)
                         : cJSON_AddNullToObject(o, "phone") != NULL) &&
        map_customer(o, src) && map_address(o, src, courier) &&
        put_str(o, "comment", str(src, "comment")) &&
        dlv__jput_decimal(o, "personsCount", persons < 1 ? 1 : persons, 0, false) &&
        dlv__jput_bool(o, "splitBetweenPersons",
                       cJSON_IsTrue(get(guests, "splitBetweenPersons"))) &&
        map_items(o, src, &full) && map_payments(o, src);
    cJSON_ArrayForEach(d, get(src, "discounts"))
    {
        dlv__money s = 0;
        if (decimal(get(d, "sum"), DLV__MONEY_SCALE, &s) && s > 0)
            discount += s;
    }
    if (discount > full)
        discount = full;
    ok = ok && dlv__jput_decimal(o, "fullSum", full, DLV__MONEY_SCALE, true) &&
         dlv__jput_decimal(o, "discountSum", discount, DLV__MONEY_SCALE, true) &&
         dlv__jput_decimal(o, "resultSum", full - discount, DLV__MONEY_SCALE, true) &&
         map_misc(o, src, clock);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

int dlv__iiko_order_from_info(const cJSON *info, const char *terminal_group_id,
                              const dlv__iiko_clock *clock, dlv__order **out, int *disposition,
                              dlv_error *err)
{
    *out = NULL;
    *disposition = DLV__IIKO_ORDER_NOT_YET;
    if (!cJSON_IsObject(info) || !str(info, "id"))
        return dlv__error_set(err, DLV_EJSON, "an order without an id");
    const char *creation = str(info, "creationStatus");
    const cJSON *src = get(info, "order");
    if ((creation && strcmp(creation, "Success") != 0) || !cJSON_IsObject(src))
        return DLV_OK;
    const char *group = str(src, "terminalGroupId");
    if ((terminal_group_id && group && strcmp(group, terminal_group_id) != 0) ||
        cJSON_IsTrue(get(src, "isDeleted"))) {
        *disposition = DLV__IIKO_ORDER_GONE;
        return DLV_OK;
    }
    cJSON *doc = to_library_json(info, src, clock);
    if (!doc)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    dlv__jpath path;
    char root[64];
    snprintf(root, sizeof root, "order %.40s", str(info, "id"));
    dlv__jpath_init(&path, root);
    int rc = dlv__order_from_cjson(doc, 0, &path, out, err);
    cJSON_Delete(doc);
    if (rc == DLV_OK)
        *disposition = DLV__IIKO_ORDER_OURS;
    return rc;
}

static bool push(void **array, size_t *count, size_t size, const void *elem)
{
    void *grown = dlv__realloc(*array, (*count + 1) * size);
    if (!grown)
        return false;
    memcpy((char *)grown + *count * size, elem, size);
    *array = grown;
    (*count)++;
    return true;
}

int dlv__iiko_orders_decode(const char *body, size_t len, const char *terminal_group_id,
                            const dlv__iiko_clock *clock, dlv__orders_response **out,
                            dlv_error *err)
{
    *out = NULL;
    cJSON *root = NULL;
    DLV__TRY(dlv__json_parse(body, len, DLV__RESPONSE_JSON_MAX, &root, err));
    dlv__orders_response *r = dlv__calloc(1, sizeof *r);
    int rc = r ? DLV_OK : dlv__error_set(err, DLV_ENOMEM, "out of memory");
    if (rc == DLV_OK && !decimal(get(root, "maxRevision"), 0, &r->revision))
        rc = dlv__error_set(err, DLV_EJSON, "maxRevision: not a number");
    const cJSON *org;
    cJSON_ArrayForEach(org, get(root, "ordersByOrganizations"))
    {
        const cJSON *info;
        cJSON_ArrayForEach(info, get(org, "orders"))
        {
            if (rc != DLV_OK)
                break;
            dlv__order *o = NULL;
            int disposition;
            dlv_error why = {0};
            int one =
                dlv__iiko_order_from_info(info, terminal_group_id, clock, &o, &disposition, &why);
            if (one == DLV_ENOMEM) {
                rc = dlv__error_set(err, DLV_ENOMEM, "out of memory");
            } else if (one != DLV_OK) {
                if (!push((void **)&r->invalid, &r->invalid_count, sizeof why, &why))
                    rc = dlv__error_set(err, DLV_ENOMEM, "out of memory");
            } else if (disposition == DLV__IIKO_ORDER_OURS) {
                if (!push((void **)&r->orders, &r->order_count, sizeof o, &o)) {
                    dlv__order_free(o);
                    rc = dlv__error_set(err, DLV_ENOMEM, "out of memory");
                }
            } else if (disposition == DLV__IIKO_ORDER_GONE) {
                char *id = dlv__strdup(str(info, "id"));
                if (!id || !push((void **)&r->removed_ids, &r->removed_count, sizeof id, &id)) {
                    dlv__free(id);
                    rc = dlv__error_set(err, DLV_ENOMEM, "out of memory");
                }
            }
        }
    }
    cJSON_Delete(root);
    if (rc != DLV_OK) {
        dlv__orders_response_free(r);
        return rc;
    }
    *out = r;
    return DLV_OK;
}

/* ---- dictionaries → settings ---- */

/* The items of an answer's list, flattened across organizations when they are grouped
 * ({key:[{organizationId, items:[...]}]}) or as they are ({key:[...]}). */
typedef bool (*item_fn)(dlv__settings *s, const cJSON *item);

static bool each_item(dlv__settings *s, const cJSON *answer, const char *key, item_fn fn)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, get(answer, key))
    {
        const cJSON *items = get(e, "items");
        if (cJSON_IsArray(items)) {
            const cJSON *it;
            cJSON_ArrayForEach(it, items)
            {
                if (!fn(s, it))
                    return false;
            }
        } else if (!fn(s, e)) {
            return false;
        }
    }
    return true;
}

static bool add_named(dlv__named **list, size_t *count, const cJSON *item)
{
    const char *id = str(item, "id"), *name = str(item, "name");
    if (!id || !dlv__uuid_valid(id) || cJSON_IsTrue(get(item, "isDeleted")))
        return true;
    dlv__named n = {dlv__strdup(id), dlv__strdup(name && *name ? name : id)};
    if (!n.id || !n.name || !push((void **)list, count, sizeof n, &n)) {
        dlv__free(n.id);
        dlv__free(n.name);
        return false;
    }
    return true;
}

static bool add_cause(dlv__settings *s, const cJSON *item)
{
    return add_named(&s->cancel_causes, &s->cancel_cause_count, item);
}

static bool add_city(dlv__settings *s, const cJSON *item)
{
    return add_named(&s->cities, &s->city_count, item);
}

static bool add_region(dlv__settings *s, const cJSON *item)
{
    return add_named(&s->regions, &s->region_count, item);
}

static bool add_courier(dlv__settings *s, const cJSON *item)
{
    const char *id = str(item, "id");
    if (!id || !dlv__uuid_valid(id) || cJSON_IsTrue(get(item, "isDeleted")))
        return true;
    const char *name = str(item, "displayName");
    char joined[256];
    if (!name || !*name) {
        snprintf(joined, sizeof joined, "%s %s",
                 str(item, "firstName") ? str(item, "firstName") : "",
                 str(item, "lastName") ? str(item, "lastName") : "");
        name = joined[0] != ' ' || joined[1] ? joined : id;
    }
    const char *phone = str(item, "phone");
    if (!phone)
        phone = str(item, "cellPhone");
    dlv__courier c = {dlv__strdup(id), dlv__strdup(name), phone ? dlv__strdup(phone) : NULL, 0,
                      true};
    if (!c.id || !c.name || (phone && !c.phone) ||
        !push((void **)&s->couriers, &s->courier_count, sizeof c, &c)) {
        dlv__free(c.id);
        dlv__free(c.name);
        dlv__free(c.phone);
        return false;
    }
    return true;
}

dlv__settings *dlv__iiko_settings(const cJSON *cancel_causes, const cJSON *couriers,
                                  const cJSON *cities, const cJSON *regions)
{
    dlv__settings *s = dlv__calloc(1, sizeof *s);
    if (!s)
        return NULL;
    dlv__settings_defaults(s);
    bool ok = each_item(s, cancel_causes, "cancelCauses", add_cause) &&
              each_item(s, couriers, "employees", add_courier) &&
              each_item(s, cities, "cities", add_city) &&
              each_item(s, regions, "regions", add_region);
    if (ok && s->city_count == 1)
        ok = (s->default_city_id = dlv__strdup(s->cities[0].id)) != NULL;
    if (!ok) {
        dlv__settings_free(s);
        return NULL;
    }
    return s;
}
