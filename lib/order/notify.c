/* When to notify the customer: the event each status calls for, SumChanged only before the order
 * is sent out, and silence for pickup orders past the kitchen (the rules: notify.h). */
#include "order/notify.h"

static const char *const event_names[DLV__NOTIFY_COUNT] = {
    "Unconfirmed", "New",       "Cooking",   "Ready",     "Waiting",
    "OnWay",       "Delivered", "Cancelled", "SumChanged"};

static const int status_events[DLV_STATUS_COUNT] = {
    [DLV_STATUS_UNCONFIRMED] = DLV__NOTIFY_UNCONFIRMED,
    [DLV_STATUS_WAIT_COOKING] = DLV__NOTIFY_NEW,
    [DLV_STATUS_READY_FOR_COOKING] = DLV__NOTIFY_NEW,
    [DLV_STATUS_COOKING_STARTED] = DLV__NOTIFY_COOKING,
    [DLV_STATUS_COOKING_COMPLETED] = DLV__NOTIFY_READY,
    [DLV_STATUS_WAITING] = DLV__NOTIFY_WAITING,
    [DLV_STATUS_ON_WAY] = DLV__NOTIFY_ON_WAY,
    [DLV_STATUS_DELIVERED] = DLV__NOTIFY_DELIVERED,
    [DLV_STATUS_CLOSED] = -1,
    [DLV_STATUS_CANCELLED] = DLV__NOTIFY_CANCELLED,
};

const char *dlv__notify_event_name(dlv__notify_event event)
{
    return (unsigned)event < DLV__NOTIFY_COUNT ? event_names[event] : NULL;
}

int dlv__notify_event_for_status(dlv_status status)
{
    return (unsigned)status < DLV_STATUS_COUNT ? status_events[status] : -1;
}

/* No message for pickup orders in Waiting, OnWay and Delivered («Ждет отправки», «В пути»,
 * «Доставлена»). */
static bool silent(const dlv__order *o)
{
    return o->service_type == DLV_SERVICE_PICKUP &&
           (o->status == DLV_STATUS_WAITING || o->status == DLV_STATUS_ON_WAY ||
            o->status == DLV_STATUS_DELIVERED);
}

/* Not yet sent out: before OnWay and not final. */
static bool before_sending(dlv_status s)
{
    return s <= DLV_STATUS_WAITING;
}

dlv__notify_mask dlv__notify_decide(const dlv__order *o, const dlv__notify_before *before,
                                    dlv__notify_mask sent)
{
    dlv__notify_mask events = 0;
    if (!o || !before || (unsigned)o->status >= DLV_STATUS_COUNT || silent(o))
        return 0;
    if (before->is_new || before->status != o->status) {
        int e = status_events[o->status];
        if (e >= 0 && !(sent & DLV__NOTIFY_BIT(e)))
            events |= DLV__NOTIFY_BIT(e);
    }
    if (!before->is_new && before->result_sum != o->result_sum && before_sending(o->status))
        events |= DLV__NOTIFY_BIT(DLV__NOTIFY_SUM_CHANGED);
    return events;
}

dlv__notify_mask dlv__notify_record(dlv__notify_mask sent, dlv__notify_mask events)
{
    return sent | (events & ~DLV__NOTIFY_BIT(DLV__NOTIFY_SUM_CHANGED));
}

dlv__money dlv__notify_sum_to_pay(const dlv__order *o)
{
    dlv__money left = o->result_sum;
    for (size_t k = 0; k < o->payment_count; k++)
        if (o->payments[k].prepay || o->payments[k].processed_externally)
            left -= o->payments[k].sum;
    return left > 0 ? left : 0;
}

unsigned dlv__notify_variant(const dlv__order *o)
{
    return (o->service_type == DLV_SERVICE_PICKUP ? DLV__NOTIFY_VARIANT_PICKUP : 0) |
           (dlv__notify_sum_to_pay(o) == 0 ? DLV__NOTIFY_VARIANT_PREPAID : 0);
}

#define NUM "Заказ №@Model.Number"
#define AT_TIME "@Model.ExpectedDeliverTime.ToString(\"HH:mm\")"
#define TO_PAY "К оплате @Model.Order.SumToPay руб."
#define COURIER NUM " в пути. Курьер @Model.Courier.Name, тел. @Model.Courier.CellPhone."
#define READY_PICKUP "Ваш заказ №@Model.Number готов, ждём вас."

/* [event][variant]: variant bits pickup (1) and prepaid (2); docs/notifications.md shows them. */
static const char *const builtin[DLV__NOTIFY_COUNT][DLV__NOTIFY_VARIANTS] = {
    [DLV__NOTIFY_UNCONFIRMED] = {NUM " принят, ожидает подтверждения.",
                                 NUM " принят, ожидает подтверждения.",
                                 NUM " принят, ожидает подтверждения.",
                                 NUM " принят, ожидает подтверждения."},
    [DLV__NOTIFY_NEW] = {NUM " подтверждён. Доставим к " AT_TIME ".",
                         NUM " подтверждён. Будет готов к " AT_TIME ".",
                         NUM " подтверждён. Доставим к " AT_TIME ".",
                         NUM " подтверждён. Будет готов к " AT_TIME "."},
    [DLV__NOTIFY_COOKING] = {NUM " готовится.", NUM " готовится.", NUM " готовится.",
                             NUM " готовится."},
    [DLV__NOTIFY_READY] = {NUM " приготовлен.", READY_PICKUP " " TO_PAY, NUM " приготовлен.",
                           READY_PICKUP},
    [DLV__NOTIFY_WAITING] = {NUM " собран и ждёт курьера.", NULL, NUM " собран и ждёт курьера.",
                             NULL},
    [DLV__NOTIFY_ON_WAY] = {COURIER " " TO_PAY, NULL, COURIER " Заказ оплачен.", NULL},
    [DLV__NOTIFY_DELIVERED] = {NUM " доставлен. Спасибо!", NULL, NUM " доставлен. Спасибо!", NULL},
    [DLV__NOTIFY_CANCELLED] = {NUM " отменён.", NUM " отменён.", NUM " отменён.", NUM " отменён."},
    [DLV__NOTIFY_SUM_CHANGED] =
        {"Сумма заказа №@Model.Number изменилась: @Model.Order.ResultSum руб. " TO_PAY,
         "Сумма заказа №@Model.Number изменилась: @Model.Order.ResultSum руб. " TO_PAY,
         "Сумма заказа №@Model.Number изменилась: @Model.Order.ResultSum руб., заказ оплачен.",
         "Сумма заказа №@Model.Number изменилась: @Model.Order.ResultSum руб., заказ оплачен."},
};

const char *dlv__notify_builtin_text(dlv__notify_event event, unsigned variant)
{
    return (unsigned)event < DLV__NOTIFY_COUNT && variant < DLV__NOTIFY_VARIANTS
               ? builtin[event][variant]
               : NULL;
}
