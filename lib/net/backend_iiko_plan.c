/* Library commands (docs/protocol.md) → iikoCloud endpoints and bodies, and the reconciliation's
 * question: does the order show the command's effect? Pure; docs/iikocloud.md has the table. */
#include "net/iiko.h"

#include <stdio.h>
#include <string.h>

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

static int status_index(const char *name)
{
    for (int i = 0; name && i < DLV_STATUS_COUNT; i++)
        if (strcmp(dlv__status_names[i], name) == 0)
            return i;
    return -1;
}

/* A number node as iikoCloud's JSON number, exact when written from a decimal text. */
static bool put_number(cJSON *o, const char *key, const cJSON *v)
{
    if (!cJSON_IsNumber(v) && !cJSON_IsRaw(v))
        return cJSON_AddNumberToObject(o, key, 0) != NULL;
    const char *text = v->valuestring;
    if (text && *text)
        return cJSON_AddRawToObject(o, key, text) != NULL;
    return cJSON_AddNumberToObject(o, key, v->valuedouble) != NULL;
}

static cJSON *base_body(const char *org, const char *order_id)
{
    cJSON *b = cJSON_CreateObject();
    if (b && (!dlv__jput_string(b, "organizationId", org) ||
              (order_id && !dlv__jput_string(b, "orderId", order_id)))) {
        cJSON_Delete(b);
        return NULL;
    }
    return b;
}

static void local(dlv__iiko_plan *p, dlv__iiko_action action, const char *code, const char *why)
{
    p->action = action;
    snprintf(p->code, sizeof p->code, "%s", code ? code : "");
    snprintf(p->message, sizeof p->message, "%s", why ? why : "");
}

static int plan_status(dlv__iiko_plan *p, const cJSON *cmd, cJSON **body)
{
    p->target_status = status_index(str(cmd, "status"));
    p->expected_status = status_index(str(cmd, "expectedStatus"));
    switch (p->target_status) {
    case DLV_STATUS_WAIT_COOKING:
    case DLV_STATUS_READY_FOR_COOKING:
        if (p->expected_status == DLV_STATUS_UNCONFIRMED) {
            p->endpoint = "deliveries/confirm";
            return DLV_OK;
        }
        /* The lead time reached (WaitCooking → ReadyForCooking) is the terminal's own view:
         * iikoCloud has no such step; its copy keeps WaitCooking until the kitchen moves it. */
        local(p, DLV__IIKO_LOCAL_APPLIED, NULL, NULL);
        return DLV_OK;
    case DLV_STATUS_COOKING_STARTED:
    case DLV_STATUS_COOKING_COMPLETED:
        local(p, DLV__IIKO_LOCAL_REJECTED, "NotSupported",
              "iikoCloud: the kitchen (iikoFront) moves the cooking statuses, not the terminal");
        return DLV_OK;
    case DLV_STATUS_WAITING:
    case DLV_STATUS_ON_WAY:
    case DLV_STATUS_DELIVERED:
        p->endpoint = "deliveries/update_order_delivery_status";
        return dlv__jput_string(*body, "deliveryStatus", dlv__status_names[p->target_status])
                   ? DLV_OK
                   : DLV_ENOMEM;
    case DLV_STATUS_CLOSED:
        p->endpoint = "deliveries/close";
        return DLV_OK;
    default:
        local(p, DLV__IIKO_LOCAL_REJECTED, "NotSupported",
              "iikoCloud has no endpoint for this status change");
        return DLV_OK;
    }
}

static int plan_pay(dlv__iiko_plan *p, const cJSON *cmd, cJSON *body)
{
    cJSON *list = cJSON_AddArrayToObject(body, "payments");
    if (!list)
        return DLV_ENOMEM;
    const cJSON *pay;
    cJSON_ArrayForEach(pay, get(cmd, "payments"))
    {
        cJSON *e = cJSON_CreateObject();
        if (!e || !dlv__jattach(list, NULL, e) ||
            !dlv__jput_string(e, "paymentTypeKind", str(pay, "kind") ? str(pay, "kind") : "Cash") ||
            !put_number(e, "sum", get(pay, "sum")) ||
            !dlv__jput_string(e, "paymentTypeId", str(pay, "paymentTypeId")))
            return DLV_ENOMEM;
    }
    p->endpoint = "deliveries/change_payments";
    p->merge_payments = true;
    return DLV_OK;
}

/* The library's ORDER document of a CreateOrder → iikoCloud's deliveries/create order. */
static int plan_create(dlv__iiko_plan *p, const cJSON *cmd, cJSON *body, const char *tg,
                       const dlv__iiko_clock *clock)
{
    const cJSON *src = get(cmd, "order");
    snprintf(p->order_id, sizeof p->order_id, "%s", str(src, "id") ? str(src, "id") : "");
    if (tg && !dlv__jput_string(body, "terminalGroupId", tg))
        return DLV_ENOMEM;
    cJSON *o = cJSON_AddObjectToObject(body, "order");
    if (!o)
        return DLV_ENOMEM;
    bool ok =
        (!p->order_id[0] || dlv__jput_string(o, "id", p->order_id)) &&
        (!str(src, "externalNumber") ||
         dlv__jput_string(o, "externalNumber", str(src, "externalNumber"))) &&
        (!str(src, "phone") || dlv__jput_string(o, "phone", str(src, "phone"))) &&
        dlv__jput_string(o, "orderServiceType",
                         str(src, "serviceType") ? str(src, "serviceType") : "DeliveryByCourier") &&
        (!str(src, "comment") || dlv__jput_string(o, "comment", str(src, "comment"))) &&
        (!str(src, "sourceKey") || dlv__jput_string(o, "sourceKey", str(src, "sourceKey")));
    dlv__time due;
    if (ok && str(src, "completeBefore") && !dlv__time_parse(str(src, "completeBefore"), &due)) {
        char text[32];
        dlv__iiko_time_format(due, clock, text);
        ok = dlv__jput_string(o, "completeBefore", text);
    }
    const cJSON *c = get(src, "customer");
    if (ok && c) {
        cJSON *dc = cJSON_AddObjectToObject(o, "customer");
        ok = dc && dlv__jput_string(dc, "type", "regular") &&
             (!str(c, "id") || dlv__jput_string(dc, "id", str(c, "id"))) &&
             (!str(c, "name") || dlv__jput_string(dc, "name", str(c, "name"))) &&
             (!str(c, "surname") || dlv__jput_string(dc, "surname", str(c, "surname")));
    }
    const cJSON *a = get(src, "address");
    if (ok && a) {
        cJSON *dp = cJSON_AddObjectToObject(o, "deliveryPoint");
        cJSON *da = dp ? cJSON_AddObjectToObject(dp, "address") : NULL;
        cJSON *ds = da ? cJSON_AddObjectToObject(da, "street") : NULL;
        ok = ds && (!str(a, "street") || dlv__jput_string(ds, "name", str(a, "street"))) &&
             (!str(a, "city") || dlv__jput_string(ds, "city", str(a, "city")));
        static const char *const keys[] = {"house",    "building", "flat",
                                           "entrance", "floor",    "doorphone"};
        for (size_t i = 0; ok && i < sizeof keys / sizeof *keys; i++)
            ok = !str(a, keys[i]) || dlv__jput_string(da, keys[i], str(a, keys[i]));
        ok = ok && (!str(a, "comment") || dlv__jput_string(dp, "comment", str(a, "comment")));
    }
    cJSON *items = ok ? cJSON_AddArrayToObject(o, "items") : NULL;
    ok = ok && items;
    const cJSON *it;
    cJSON_ArrayForEach(it, get(src, "items"))
    {
        cJSON *e = ok ? cJSON_CreateObject() : NULL;
        ok = e && dlv__jattach(items, NULL, e) && dlv__jput_string(e, "type", "Product") &&
             dlv__jput_string(e, "productId", str(it, "productId")) &&
             put_number(e, "amount", get(it, "amount")) &&
             put_number(e, "price", get(it, "price")) &&
             (!str(it, "comment") || dlv__jput_string(e, "comment", str(it, "comment")));
        const cJSON *m;
        cJSON *mods = ok && cJSON_GetArraySize(get(it, "modifiers")) > 0
                          ? cJSON_AddArrayToObject(e, "modifiers")
                          : NULL;
        const cJSON *src_mods = mods ? get(it, "modifiers") : NULL;
        cJSON_ArrayForEach(m, src_mods)
        {
            cJSON *me = ok ? cJSON_CreateObject() : NULL;
            ok = me && dlv__jattach(mods, NULL, me) &&
                 dlv__jput_string(me, "productId", str(m, "productId")) &&
                 put_number(me, "amount", get(m, "amount")) &&
                 put_number(me, "price", get(m, "price"));
        }
    }
    if (!ok)
        return DLV_ENOMEM;
    p->endpoint = "deliveries/create";
    return DLV_OK;
}

int dlv__iiko_plan_command(const char *command, const char *organization_id,
                           const char *terminal_group_id, const dlv__iiko_clock *clock,
                           dlv__iiko_plan *out, dlv_error *err)
{
    memset(out, 0, sizeof *out);
    out->target_status = out->expected_status = -1;
    cJSON *cmd = NULL;
    DLV__TRY(dlv__json_parse(command, strlen(command), DLV__ORDER_JSON_MAX * 2, &cmd, err));
    const char *id = str(cmd, "id"), *type = str(cmd, "type");
    if (!id || !type) {
        cJSON_Delete(cmd);
        return dlv__error_set(err, DLV_EJSON, "a command without id or type");
    }
    snprintf(out->id, sizeof out->id, "%s", id);
    snprintf(out->type, sizeof out->type, "%s", type);
    snprintf(out->order_id, sizeof out->order_id, "%s",
             str(cmd, "orderId") ? str(cmd, "orderId") : "");
    out->action = DLV__IIKO_SEND;
    bool create = strcmp(type, "CreateOrder") == 0;
    out->body = base_body(organization_id, create ? NULL : out->order_id);
    int rc = out->body ? DLV_OK : DLV_ENOMEM;
    if (rc != DLV_OK) {
    } else if (strcmp(type, "ChangeStatus") == 0) {
        rc = plan_status(out, cmd, &out->body);
    } else if (strcmp(type, "Cancel") == 0) {
        out->endpoint = "deliveries/cancel";
        out->target_status = DLV_STATUS_CANCELLED;
        const char *cause = str(cmd, "cancelCauseId"), *comment = str(cmd, "comment");
        if ((cause && !dlv__jput_string(out->body, "cancelCauseId", cause)) ||
            (comment && !dlv__jput_string(out->body, "cancelComment", comment)))
            rc = DLV_ENOMEM;
    } else if (strcmp(type, "AssignCourier") == 0) {
        out->endpoint = "deliveries/update_order_courier";
        const char *courier = str(cmd, "courierId");
        snprintf(out->courier_id, sizeof out->courier_id, "%s", courier ? courier : "");
        if (!dlv__jput_string(out->body, "employeeId", courier))
            rc = DLV_ENOMEM;
    } else if (strcmp(type, "Pay") == 0) {
        rc = plan_pay(out, cmd, out->body);
    } else if (strcmp(type, "ChangeComment") == 0) {
        out->endpoint = "deliveries/change_comment";
        const char *comment = str(cmd, "comment");
        snprintf(out->comment, sizeof out->comment, "%s", comment ? comment : "");
        if (!dlv__jput_string(out->body, "comment", out->comment))
            rc = DLV_ENOMEM;
    } else if (create) {
        rc = plan_create(out, cmd, out->body, terminal_group_id, clock);
    } else if (strcmp(type, "DocumentPrinted") == 0 || strcmp(type, "SetActualDeliveryTime") == 0) {
        /* A local report, and a time iikoCloud takes itself (whenDelivered): nothing to send. */
        local(out, DLV__IIKO_LOCAL_APPLIED, NULL, NULL);
    } else {
        local(out, DLV__IIKO_LOCAL_REJECTED, "NotSupported", "iikoCloud has no such command");
    }
    cJSON_Delete(cmd);
    if (rc != DLV_OK) {
        dlv__iiko_plan_free(out);
        return dlv__error_set(err, rc, "out of memory");
    }
    return DLV_OK;
}

void dlv__iiko_plan_free(dlv__iiko_plan *plan)
{
    cJSON_Delete(plan->body);
    plan->body = NULL;
}

/* The delivery statuses in the order a courier order goes through them. */
static int rank(int status)
{
    return status; /* dlv_status is declared in that order, Cancelled last */
}

static bool payments_include(const cJSON *order, const cJSON *wanted)
{
    const cJSON *have = get(order, "payments");
    int n = cJSON_GetArraySize(have);
    bool used[64] = {false};
    const cJSON *w;
    cJSON_ArrayForEach(w, wanted)
    {
        int64_t wsum = 0;
        const cJSON *ws = get(w, "sum");
        if (!ws || !ws->valuestring || dlv__decimal_parse(ws->valuestring, 2, &wsum))
            wsum = (int64_t)(cJSON_GetNumberValue(ws) * 100 + 0.5);
        bool found = false;
        for (int i = 0; i < n && i < 64 && !found; i++) {
            const cJSON *h = cJSON_GetArrayItem(have, i);
            double hs = cJSON_GetNumberValue(get(h, "sum"));
            int64_t hsum = (int64_t)(hs * 100 + (hs >= 0 ? 0.5 : -0.5));
            const char *hid = str(get(h, "paymentType"), "id");
            if (!used[i] && hsum == wsum && hid && str(w, "paymentTypeId") &&
                strcmp(hid, str(w, "paymentTypeId")) == 0)
                used[i] = found = true;
        }
        if (!found)
            return false;
    }
    return true;
}

bool dlv__iiko_effect_present(const dlv__iiko_plan *plan, const cJSON *info)
{
    const char *creation = str(info, "creationStatus");
    if (strcmp(plan->type, "CreateOrder") == 0)
        return info && (!creation || strcmp(creation, "Error") != 0);
    const cJSON *o = get(info, "order");
    if (!o)
        return false;
    int status = status_index(str(o, "status"));
    const char *ep = plan->endpoint ? plan->endpoint : "";
    if (strcmp(ep, "deliveries/confirm") == 0)
        return status >= 0 && status != DLV_STATUS_UNCONFIRMED;
    if (strcmp(ep, "deliveries/cancel") == 0)
        return status == DLV_STATUS_CANCELLED;
    if (strcmp(ep, "deliveries/close") == 0)
        return status == DLV_STATUS_CLOSED;
    if (strcmp(ep, "deliveries/update_order_delivery_status") == 0) {
        if (status == plan->target_status)
            return true;
        /* A step forward is done when the order is already past it (not cancelled); a step
         * back (Undo) only when the order is exactly there. */
        bool forward = plan->expected_status < 0 || plan->target_status > plan->expected_status;
        return forward && status != DLV_STATUS_CANCELLED &&
               rank(status) > rank(plan->target_status);
    }
    if (strcmp(ep, "deliveries/update_order_courier") == 0) {
        const char *id = str(get(get(o, "courierInfo"), "courier"), "id");
        return id && strcmp(id, plan->courier_id) == 0;
    }
    if (strcmp(ep, "deliveries/change_payments") == 0)
        return payments_include(o, get(plan->body, "payments"));
    if (strcmp(ep, "deliveries/change_comment") == 0) {
        const char *c = str(o, "comment");
        return c && strcmp(c, plan->comment) == 0;
    }
    return false;
}

cJSON *dlv__iiko_pay_body(const dlv__iiko_plan *plan, const cJSON *info)
{
    cJSON *body = cJSON_Duplicate(plan->body, true);
    cJSON *list = body ? cJSON_CreateArray() : NULL;
    if (!list) {
        cJSON_Delete(body);
        return NULL;
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, get(get(info, "order"), "payments"))
    {
        const cJSON *type = get(p, "paymentType");
        cJSON *e = cJSON_CreateObject();
        if (!e || !cJSON_AddItemToArray(list, e) ||
            !dlv__jput_string(e, "paymentTypeKind",
                              str(type, "kind") ? str(type, "kind") : "Cash") ||
            !cJSON_AddNumberToObject(e, "sum", cJSON_GetNumberValue(get(p, "sum"))) ||
            !dlv__jput_string(e, "paymentTypeId", str(type, "id"))) {
            cJSON_Delete(e);
            cJSON_Delete(list);
            cJSON_Delete(body);
            return NULL;
        }
    }
    const cJSON *n;
    cJSON_ArrayForEach(n, get(plan->body, "payments"))
    {
        cJSON *copy = cJSON_Duplicate(n, true);
        if (!copy || !cJSON_AddItemToArray(list, copy)) {
            cJSON_Delete(copy);
            cJSON_Delete(list);
            cJSON_Delete(body);
            return NULL;
        }
    }
    cJSON_ReplaceItemInObjectCaseSensitive(body, "payments", list);
    return body;
}
