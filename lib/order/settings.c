/* Delivery service settings, as the call-center sends them with the register answer
 * (docs/protocol.md): defaults, codec, lookups. */
#include "order/model.h"
#include "order/notify.h"

#include <string.h>
#include <strings.h>

#define MAX_LIST 1000

const char *const dlv__delivery_service_type_names[3] = {"CourierAndPickup", "CourierOnly",
                                                         "PickupOnly"};
const char *const dlv__invoice_moment_names[5] = {"OnBill", "OnCookingCompleted",
                                                  "OnCourierAssigned", "OnSend", "Manual"};
const char *const dlv__payment_moment_names[2] = {"BeforeSending", "BeforeClosing"};
const char *const dlv__cooking_start_mode_names[2] = {"Automatic", "Manual"};

void dlv__settings_defaults(dlv__settings *s)
{
    memset(s, 0, sizeof *s);
    s->pickup_cooking_lead_minutes = 15;
    s->service_type = DLV__DELIVERY_COURIER_AND_PICKUP;
    s->invoice_moment = DLV__INVOICE_MANUAL;
    s->invoice_copies = 1;
    s->payment_moment = DLV__PAY_BEFORE_CLOSING;
    s->cooking_start_mode = DLV__COOKING_MANUAL;
    s->courier_delivery_minutes = 45;
    s->courier_cooking_minutes = s->pickup_cooking_lead_minutes;
    s->overdue_grace_minutes = 5;
    for (size_t i = 0; i < DLV__NOTIFY_COUNT; i++)
        s->notifications[i] = (dlv__notify_channels){.sms = true, .push = false};
}

static void named_free(dlv__named *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++) {
        dlv__free(list[i].id);
        dlv__free(list[i].name);
    }
    dlv__free(list);
}

void dlv__settings_free(dlv__settings *s)
{
    if (!s)
        return;
    named_free(s->cities, s->city_count);
    named_free(s->regions, s->region_count);
    named_free(s->cancel_causes, s->cancel_cause_count);
    for (size_t i = 0; s->couriers && i < s->courier_count; i++) {
        dlv__free(s->couriers[i].id);
        dlv__free(s->couriers[i].name);
        dlv__free(s->couriers[i].phone);
    }
    dlv__free(s->couriers);
    dlv__free(s->default_city_id);
    dlv__free(s->time_zone);
    dlv__free(s);
}

const dlv__courier *dlv__settings_courier(const dlv__settings *s, const char *id)
{
    for (size_t i = 0; s && id && i < s->courier_count; i++)
        if (strcasecmp(s->couriers[i].id, id) == 0)
            return &s->couriers[i];
    return NULL;
}

const dlv__named *dlv__settings_cancel_cause(const dlv__settings *s, const char *id)
{
    for (size_t i = 0; s && id && i < s->cancel_cause_count; i++)
        if (strcasecmp(s->cancel_causes[i].id, id) == 0)
            return &s->cancel_causes[i];
    return NULL;
}

/* Ids are compared case-insensitively: a UUID is the same in either case. */
static int check_unique(const char *id, const char *prev_id, size_t count, size_t stride,
                        dlv__jpath *p, dlv_error *err)
{
    for (size_t k = 0; k < count; k++) {
        const char *other = *(char *const *)(prev_id + k * stride);
        if (strcasecmp(id, other) == 0) {
            size_t mark = dlv__jpath_key(p, "id");
            int rc = dlv__jerr(err, DLV_EJSON, p, "duplicate id (same as element %zu)", k);
            dlv__jpath_restore(p, mark);
            return rc;
        }
    }
    return DLV_OK;
}

static int decode_named(const cJSON *obj, const char *key, dlv__jpath *p, dlv__named **out,
                        size_t *count, dlv_error *err)
{
    const cJSON *arr;
    size_t n, i = 0;
    DLV__TRY(dlv__jget_array(obj, key, DLV__J_NULLABLE, MAX_LIST, p, &arr, &n, err));
    if (!n)
        return DLV_OK;
    if (!(*out = dlv__calloc(n, sizeof **out)))
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    size_t key_mark = dlv__jpath_key(p, key);
    int rc = DLV_OK;
    for (const cJSON *c = arr->child; !rc && c; c = c->next, i++) {
        size_t mark = dlv__jpath_index(p, i);
        dlv__named *e = &(*out)[i];
        *count = i + 1;
        if (!cJSON_IsObject(c))
            rc = dlv__jerr(err, DLV_EJSON, p, "not an object");
        if (!rc)
            rc = dlv__jget_string(c, "id", DLV__J_REQUIRED | DLV__J_UUID, p, &e->id, err);
        if (!rc)
            rc = dlv__jget_string(c, "name", DLV__J_REQUIRED | DLV__J_NONEMPTY, p, &e->name, err);
        if (!rc)
            rc = check_unique(e->id, (const char *)&(*out)[0].id, i, sizeof **out, p, err);
        dlv__jpath_restore(p, mark);
    }
    dlv__jpath_restore(p, key_mark);
    return rc;
}

static int decode_couriers(const cJSON *obj, dlv__jpath *p, dlv__settings *s, dlv_error *err)
{
    const cJSON *arr;
    size_t n, i = 0;
    DLV__TRY(dlv__jget_array(obj, "couriers", DLV__J_NULLABLE, MAX_LIST, p, &arr, &n, err));
    if (!n)
        return DLV_OK;
    if (!(s->couriers = dlv__calloc(n, sizeof *s->couriers)))
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    size_t key_mark = dlv__jpath_key(p, "couriers");
    int rc = DLV_OK;
    for (const cJSON *c = arr->child; !rc && c; c = c->next, i++) {
        size_t mark = dlv__jpath_index(p, i);
        dlv__courier *e = &s->couriers[i];
        s->courier_count = i + 1;
        if (!cJSON_IsObject(c))
            rc = dlv__jerr(err, DLV_EJSON, p, "not an object");
        if (!rc)
            rc = dlv__jget_string(c, "id", DLV__J_REQUIRED | DLV__J_UUID, p, &e->id, err);
        if (!rc)
            rc = dlv__jget_string(c, "name", DLV__J_REQUIRED | DLV__J_NONEMPTY, p, &e->name, err);
        if (!rc)
            rc = dlv__jget_string(c, "phone", DLV__J_NULLABLE, p, &e->phone, err);
        if (!rc)
            rc = dlv__jget_decimal(c, "debt", DLV__J_NULLABLE, DLV__MONEY_SCALE, -DLV__MONEY_MAX,
                                   DLV__MONEY_MAX, p, &e->debt, NULL, err);
        if (!rc)
            rc = dlv__jget_bool(c, "canBeCourier", DLV__J_REQUIRED, p, &e->can_be_courier, err);
        if (!rc)
            rc = check_unique(e->id, (const char *)&s->couriers[0].id, i, sizeof *s->couriers, p,
                              err);
        dlv__jpath_restore(p, mark);
    }
    dlv__jpath_restore(p, key_mark);
    return rc;
}

static int decode_enum(const cJSON *obj, const char *key, const char *const *names, size_t n,
                       dlv__jpath *p, int *field, dlv_error *err)
{
    return dlv__jget_enum(obj, key, 0, names, n, p, field, err);
}

/* An IANA zone name: "Europe/Moscow", "America/Argentina/Buenos_Aires", "UTC", "Etc/GMT+3". */
static bool zone_name_valid(const char *z)
{
    size_t len = strlen(z);
    if (len == 0 || len > 64 || z[0] == '/' || z[len - 1] == '/' || strstr(z, "..") ||
        strstr(z, "//"))
        return false;
    for (const char *c = z; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              strchr("/_+-.", *c)))
            return false;
    return true;
}

/* "notifications": {"Unconfirmed":{"sms":true,"push":false},...}; events not named keep the
 * default (sms on, push off), unknown event names are ignored (a newer server). */
static int decode_notifications(const cJSON *obj, dlv__jpath *p, dlv__settings *s, dlv_error *err)
{
    const cJSON *n;
    DLV__TRY(dlv__jget_object(obj, "notifications", DLV__J_NULLABLE, p, &n, err));
    if (!n)
        return DLV_OK;
    size_t mark = dlv__jpath_key(p, "notifications");
    int rc = DLV_OK;
    for (int e = 0; !rc && e < DLV__NOTIFY_COUNT; e++) {
        const char *name = dlv__notify_event_name((dlv__notify_event)e);
        const cJSON *ev;
        rc = dlv__jget_object(n, name, DLV__J_NULLABLE, p, &ev, err);
        if (rc || !ev)
            continue;
        size_t ev_mark = dlv__jpath_key(p, name);
        rc = dlv__jget_bool(ev, "sms", 0, p, &s->notifications[e].sms, err);
        if (!rc)
            rc = dlv__jget_bool(ev, "push", 0, p, &s->notifications[e].push, err);
        dlv__jpath_restore(p, ev_mark);
    }
    dlv__jpath_restore(p, mark);
    return rc;
}

static int decode_settings_11(const cJSON *obj, dlv__jpath *p, dlv__settings *s, dlv_error *err)
{
    int64_t delivery = s->courier_delivery_minutes, cooking = -1, grace = s->overdue_grace_minutes;
    bool has_cooking = false;
    DLV__TRY(dlv__jget_string(obj, "timeZone", DLV__J_NULLABLE | DLV__J_NONEMPTY, p, &s->time_zone,
                              err));
    if (s->time_zone && !zone_name_valid(s->time_zone)) {
        size_t mark = dlv__jpath_key(p, "timeZone");
        int rc = dlv__jerr(err, DLV_EJSON, p, "not an IANA time zone name");
        dlv__jpath_restore(p, mark);
        return rc;
    }
    DLV__TRY(dlv__jget_decimal(obj, "courierDeliveryMinutes", DLV__J_NULLABLE, 0, 0, 1440, p,
                               &delivery, NULL, err));
    DLV__TRY(dlv__jget_decimal(obj, "courierCookingMinutes", DLV__J_NULLABLE, 0, 0, 1440, p,
                               &cooking, &has_cooking, err));
    DLV__TRY(dlv__jget_decimal(obj, "overdueGraceMinutes", DLV__J_NULLABLE, 0, 0, 1440, p, &grace,
                               NULL, err));
    DLV__TRY(decode_notifications(obj, p, s, err));
    s->courier_delivery_minutes = (int)delivery;
    /* Default: the pickup lead time (already decoded), as the protocol says. */
    s->courier_cooking_minutes = has_cooking ? (int)cooking : s->pickup_cooking_lead_minutes;
    s->overdue_grace_minutes = (int)grace;
    return DLV_OK;
}

static int decode_settings(const cJSON *obj, dlv__jpath *p, dlv__settings *s, dlv_error *err)
{
    int64_t lead = s->pickup_cooking_lead_minutes, copies = s->invoice_copies;
    int type = (int)s->service_type, moment = (int)s->invoice_moment;
    int pay = (int)s->payment_moment, mode = (int)s->cooking_start_mode;
    if (!cJSON_IsObject(obj))
        return dlv__jerr(err, DLV_EJSON, p, "not an object");
    /* A day: a lead time longer than that is a typo, not a kitchen. */
    DLV__TRY(
        dlv__jget_decimal(obj, "pickupCookingLeadMinutes", 0, 0, 0, 1440, p, &lead, NULL, err));
    DLV__TRY(decode_enum(obj, "deliveryServiceType", dlv__delivery_service_type_names, 3, p, &type,
                         err));
    DLV__TRY(decode_named(obj, "cities", p, &s->cities, &s->city_count, err));
    DLV__TRY(dlv__jget_string(obj, "defaultCityId", DLV__J_NULLABLE | DLV__J_UUID, p,
                              &s->default_city_id, err));
    DLV__TRY(decode_named(obj, "regions", p, &s->regions, &s->region_count, err));
    DLV__TRY(decode_enum(obj, "invoicePrintMoment", dlv__invoice_moment_names, 5, p, &moment, err));
    DLV__TRY(dlv__jget_decimal(obj, "invoiceCopies", 0, 0, 1, 5, p, &copies, NULL, err));
    DLV__TRY(decode_enum(obj, "cookingStartMode", dlv__cooking_start_mode_names, 2, p, &mode, err));
    DLV__TRY(decode_enum(obj, "paymentMoment", dlv__payment_moment_names, 2, p, &pay, err));
    DLV__TRY(dlv__jget_bool(obj, "notifyOverdueCooking", 0, p, &s->notify_overdue_cooking, err));
    DLV__TRY(dlv__jget_bool(obj, "allowAnonymous", 0, p, &s->allow_anonymous, err));
    DLV__TRY(decode_named(obj, "cancelCauses", p, &s->cancel_causes, &s->cancel_cause_count, err));
    DLV__TRY(decode_couriers(obj, p, s, err));
    DLV__TRY(dlv__jget_decimal(obj, "maxCourierDebt", DLV__J_NULLABLE, DLV__MONEY_SCALE, 0,
                               DLV__MONEY_MAX, p, &s->max_courier_debt, &s->has_max_courier_debt,
                               err));
    s->pickup_cooking_lead_minutes = (int)lead;
    s->invoice_copies = (int)copies;
    s->service_type = (dlv__delivery_service_type)type;
    s->invoice_moment = (dlv__invoice_moment)moment;
    s->payment_moment = (dlv__payment_moment)pay;
    s->cooking_start_mode = (dlv__cooking_start_mode)mode;
    DLV__TRY(decode_settings_11(obj, p, s, err));
    if (s->default_city_id) {
        bool found = false;
        for (size_t i = 0; i < s->city_count; i++)
            found = found || strcasecmp(s->cities[i].id, s->default_city_id) == 0;
        if (!found) {
            size_t mark = dlv__jpath_key(p, "defaultCityId");
            int rc = dlv__jerr(err, DLV_EJSON, p, "not one of cities");
            dlv__jpath_restore(p, mark);
            return rc;
        }
    }
    return DLV_OK;
}

int dlv__settings_from_cjson(const cJSON *node, dlv__jpath *path, dlv__settings **out,
                             dlv_error *err)
{
    dlv__jpath local;
    *out = NULL;
    if (!path) {
        dlv__jpath_init(&local, NULL);
        path = &local;
    }
    dlv__settings *s = dlv__malloc(sizeof *s);
    if (!s)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    dlv__settings_defaults(s);
    int rc = decode_settings(node, path, s, err);
    if (rc) {
        dlv__settings_free(s);
        return rc;
    }
    *out = s;
    return DLV_OK;
}

int dlv__settings_from_json(const char *json, size_t len, dlv__settings **out, dlv_error *err)
{
    cJSON *root;
    *out = NULL;
    int rc = dlv__json_parse(json, len, DLV__RESPONSE_JSON_MAX, &root, err);
    if (rc)
        return rc;
    rc = dlv__settings_from_cjson(root, NULL, out, err);
    cJSON_Delete(root);
    return rc;
}

static bool put_named(cJSON *j, const char *key, const dlv__named *list, size_t n)
{
    cJSON *arr = cJSON_AddArrayToObject(j, key);
    bool ok = arr != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        ok = dlv__jattach(arr, NULL, e) && dlv__jput_string(e, "id", list[i].id) &&
             dlv__jput_string(e, "name", list[i].name);
    }
    return ok;
}

cJSON *dlv__settings_to_cjson(const dlv__settings *s)
{
    cJSON *j = cJSON_CreateObject(), *couriers = NULL;
    bool ok =
        j &&
        dlv__jput_decimal(j, "pickupCookingLeadMinutes", s->pickup_cooking_lead_minutes, 0, true) &&
        dlv__jput_string(j, "deliveryServiceType",
                         dlv__delivery_service_type_names[s->service_type]) &&
        put_named(j, "cities", s->cities, s->city_count) &&
        dlv__jput_string(j, "defaultCityId", s->default_city_id) &&
        put_named(j, "regions", s->regions, s->region_count) &&
        dlv__jput_string(j, "invoicePrintMoment", dlv__invoice_moment_names[s->invoice_moment]) &&
        dlv__jput_decimal(j, "invoiceCopies", s->invoice_copies, 0, true) &&
        dlv__jput_string(j, "cookingStartMode",
                         dlv__cooking_start_mode_names[s->cooking_start_mode]) &&
        dlv__jput_string(j, "paymentMoment", dlv__payment_moment_names[s->payment_moment]) &&
        dlv__jput_bool(j, "notifyOverdueCooking", s->notify_overdue_cooking) &&
        dlv__jput_bool(j, "allowAnonymous", s->allow_anonymous) &&
        put_named(j, "cancelCauses", s->cancel_causes, s->cancel_cause_count) &&
        (couriers = cJSON_AddArrayToObject(j, "couriers")) != NULL;
    for (size_t i = 0; ok && i < s->courier_count; i++) {
        const dlv__courier *c = &s->couriers[i];
        cJSON *e = cJSON_CreateObject();
        ok = dlv__jattach(couriers, NULL, e) && dlv__jput_string(e, "id", c->id) &&
             dlv__jput_string(e, "name", c->name) && dlv__jput_string(e, "phone", c->phone) &&
             dlv__jput_decimal(e, "debt", c->debt, DLV__MONEY_SCALE, true) &&
             dlv__jput_bool(e, "canBeCourier", c->can_be_courier);
    }
    if (ok && s->has_max_courier_debt)
        ok = dlv__jput_decimal(j, "maxCourierDebt", s->max_courier_debt, DLV__MONEY_SCALE, true);
    else if (ok)
        ok = cJSON_AddNullToObject(j, "maxCourierDebt") != NULL;
    ok = ok && dlv__jput_string(j, "timeZone", s->time_zone) &&
         dlv__jput_decimal(j, "courierDeliveryMinutes", s->courier_delivery_minutes, 0, true) &&
         dlv__jput_decimal(j, "courierCookingMinutes", s->courier_cooking_minutes, 0, true) &&
         dlv__jput_decimal(j, "overdueGraceMinutes", s->overdue_grace_minutes, 0, true);
    cJSON *notes = ok ? cJSON_AddObjectToObject(j, "notifications") : NULL;
    ok = ok && notes;
    for (int e = 0; ok && e < DLV__NOTIFY_COUNT; e++) {
        cJSON *ev = cJSON_AddObjectToObject(notes, dlv__notify_event_name((dlv__notify_event)e));
        ok = ev && dlv__jput_bool(ev, "sms", s->notifications[e].sms) &&
             dlv__jput_bool(ev, "push", s->notifications[e].push);
    }
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

char *dlv__settings_to_json(const dlv__settings *s)
{
    cJSON *j = dlv__settings_to_cjson(s);
    char *text = dlv__json_print(j);
    cJSON_Delete(j);
    return text;
}
