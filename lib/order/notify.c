/* When to notify the customer (delivery-rules §6, seed «Принцип отправки сообщений»). */
#include "order/notify.h"

static const char *const event_names[DLV__NOTIFY_COUNT] = {"Unconfirmed", "New",       "Cooking",
                                                          "Ready",       "Waiting",   "OnWay",
                                                          "Delivered",   "Cancelled", "SumChanged"};

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

/* The seed: no SMS for pickup orders in «Ждет отправки», «В пути» and «Доставлена». */
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
