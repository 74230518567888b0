/* JSON of the events and replies the host receives (reference-host.md). */
#include "runtime/rt.h"

#include <string.h>

#include "order/json.h"

cJSON *dlv__ev_order_summary(dlv_ctx *ctx, const dlv__order *o)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    dlv__time now = dlv__rt_now(ctx);
    bool ok = dlv__jput_string(j, "id", o->id) &&
              cJSON_AddNumberToObject(j, "number", (double)o->number) &&
              dlv__jput_string(j, "status", dlv_status_name(o->status)) &&
              dlv__jput_string(j, "serviceType", dlv_service_type_name(o->service_type)) &&
              dlv__jput_time(j, "completeBefore", o->complete_before) &&
              dlv__jput_bool(j, "overdue",
                             ctx->settings ? dlv__order_overdue(o, ctx->settings, now) : false) &&
              dlv__jput_decimal(j, "resultSum", o->result_sum, DLV__MONEY_SCALE, true) &&
              dlv__jput_string(j, "customerName", o->customer ? o->customer->name : NULL) &&
              dlv__jput_string(j, "phone", o->phone) &&
              dlv__jput_string(j, "courier", o->courier ? o->courier->name : NULL);
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

char *dlv__ev_order(dlv_ctx *ctx, const dlv__order *o)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *summary = dlv__ev_order_summary(ctx, o);
    char *text = NULL;
    if (j && summary && dlv__jput_string(j, "event", "order") &&
        dlv__jattach(j, "order", summary)) {
        summary = NULL;
        text = dlv__json_print(j);
    }
    cJSON_Delete(summary);
    cJSON_Delete(j);
    return text;
}

char *dlv__ev_status_changed(const char *order_id, dlv_status from, dlv_status to,
                             const char *origin)
{
    cJSON *j = cJSON_CreateObject();
    char *text = NULL;
    if (j && dlv__jput_string(j, "event", "statusChanged") &&
        dlv__jput_string(j, "orderId", order_id) &&
        dlv__jput_string(j, "from", dlv_status_name(from)) &&
        dlv__jput_string(j, "to", dlv_status_name(to)) && dlv__jput_string(j, "origin", origin))
        text = dlv__json_print(j);
    cJSON_Delete(j);
    return text;
}

char *dlv__ev_simple(const char *event, const char *key, const char *value)
{
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
