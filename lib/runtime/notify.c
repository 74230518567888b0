/* Customer notifications: the rules core decides which event a change calls for, the ledger keeps
 * each at most once, the template renders the text, and the host (event) and the notifier get it.
 */
#include "runtime/rt.h"

#include <stdio.h>
#include <string.h>

#include "common/xml.h"
#include "order/json.h"
#include "store/store.h"

/* Used when the config folder has no notifications/<Event>.txt. */
static const char *const builtin[DLV__NOTIFY_COUNT] = {
    [DLV__NOTIFY_UNCONFIRMED] = "Заказ №@Model.Number принят, ожидает подтверждения.",
    [DLV__NOTIFY_NEW] = "Заказ №@Model.Number подтверждён. Доставим к @Model.ExpectedDeliverTime.",
    [DLV__NOTIFY_COOKING] = "Заказ №@Model.Number готовится.",
    [DLV__NOTIFY_READY] = "Заказ №@Model.Number приготовлен.",
    [DLV__NOTIFY_WAITING] = "Заказ №@Model.Number собран и ждёт курьера.",
    [DLV__NOTIFY_ON_WAY] = ("Заказ №@Model.Number в пути. Курьер @Model.Courier.Name, "
                            "тел. @Model.Courier.CellPhone. К оплате @Model.Order.ResultSum руб."),
    [DLV__NOTIFY_DELIVERED] = "Заказ №@Model.Number доставлен. Спасибо!",
    [DLV__NOTIFY_CANCELLED] = "Заказ №@Model.Number отменён.",
    [DLV__NOTIFY_SUM_CHANGED] =
        "Сумма заказа №@Model.Number изменилась: @Model.Order.ResultSum руб.",
};

int dlv__rt_notify_load(dlv_ctx *ctx, dlv_error *err)
{
    for (int e = 0; e < DLV__NOTIFY_COUNT; e++) {
        char *path = dlv__asprintf("%s/notifications/%s.txt", ctx->config_dir,
                                   dlv__notify_event_name((dlv__notify_event)e));
        char *text = NULL;
        size_t len = 0;
        dlv_error ferr = {0};
        int rc = path ? dlv__read_file(path, 64 * 1024, &text, &len, &ferr) : DLV_ENOMEM;
        if (rc == DLV_ENOTFOUND) {
            text = dlv__strdup(builtin[e]);
            len = text ? strlen(text) : 0;
            rc = text ? DLV_OK : DLV_ENOMEM;
        } else if (rc != DLV_OK) {
            dlv__error_set(err, rc, "%s", ferr.message);
        }
        dlv_error terr = {0};
        if (rc == DLV_OK) {
            rc = dlv__template_compile(text, len, &ctx->templates[e], &terr);
            if (rc != DLV_OK)
                dlv__error_set(err, rc, "%s: %s", path, terr.message);
        }
        dlv__free(text);
        dlv__free(path);
        if (rc != DLV_OK) {
            if (rc == DLV_ENOMEM)
                dlv__error_set(err, rc, "out of memory loading message templates");
            dlv__rt_notify_free(ctx);
            return rc;
        }
    }
    return DLV_OK;
}

void dlv__rt_notify_free(dlv_ctx *ctx)
{
    for (int e = 0; e < DLV__NOTIFY_COUNT; e++) {
        dlv__template_free(ctx->templates[e]);
        ctx->templates[e] = NULL;
    }
}

/* What the ledger already holds for the order, as the rules core's mask. */
static dlv__notify_mask sent_mask(dlv_ctx *ctx, const char *order_id)
{
    char **events = NULL;
    size_t n = 0;
    dlv__notify_mask mask = 0;
    if (dlv__store_notify_sent(ctx->store, order_id, &events, &n, NULL) == DLV_OK) {
        for (size_t i = 0; i < n; i++)
            for (int e = 0; e < DLV__NOTIFY_COUNT; e++)
                if (strcmp(events[i], dlv__notify_event_name((dlv__notify_event)e)) == 0)
                    mask |= DLV__NOTIFY_BIT(e);
    }
    dlv__store_strings_free(events, n);
    return mask;
}

void dlv__rt_notify(dlv_ctx *ctx, rt_order *o, const dlv__notify_before *before)
{
    const dlv__order *v = o->view;
    if (!v || !v->phone)
        return; /* an anonymous order has nobody to tell */
    dlv__notify_mask events = dlv__notify_decide(v, before, sent_mask(ctx, o->id));
    for (int e = 0; e < DLV__NOTIFY_COUNT; e++) {
        if (!(events & DLV__NOTIFY_BIT(e)) || !ctx->templates[e])
            continue;
        const char *name = dlv__notify_event_name((dlv__notify_event)e);
        char key[64];
        /* SumChanged may repeat, once per sum; every other event once per order. */
        if (e == DLV__NOTIFY_SUM_CHANGED)
            snprintf(key, sizeof key, "%s:%lld", name, (long long)v->result_sum);
        else
            snprintf(key, sizeof key, "%s", name);
        bool newly = false;
        dlv_error err = {0};
        if (dlv__store_notify_mark(ctx->store, o->id, key, &newly, &err) != DLV_OK) {
            DLV__LOGE(&ctx->log, "notification %s for order %lld not recorded: %s", name,
                      (long long)v->number, err.message);
            continue;
        }
        if (!newly)
            continue;
        dlv__render_options ro = {.utc_offset_at = dlv__rt_utc_offset_at,
                                  .utc_offset_arg = ctx,
                                  .cafe_address = ctx->cafe_address};
        char *text = NULL;
        if (dlv__template_render(ctx->templates[e], v, &ro, &text, &err) != DLV_OK)
            continue;
        dlv__rt_emit(ctx, dlv__ev_notification(o->id, name, "sms", v->phone, text));
        if (ctx->on_notify &&
            ctx->on_notify(ctx->notify_arg, o->id, name, "sms", v->phone, text) != 0)
            DLV__LOGW(&ctx->log, "notifier refused the %s message for order %lld", name,
                      (long long)v->number);
        dlv__free(text);
    }
}
