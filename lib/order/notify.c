/* When to notify the customer: the event each status calls for, SumChanged only before the order
 * is sent out, and silence for pickup orders past the kitchen (the rules: notify.h). */
#include "order/notify.h"

static const char *const event_names[DLV_NOTIFY_COUNT] = {"Unconfirmed", "New",       "Cooking",
                                                          "Ready",       "Waiting",   "OnWay",
                                                          "Delivered",   "Cancelled", "SumChanged"};

static const int status_events[DLV_STATUS_COUNT] = {
    [DLV_STATUS_UNCONFIRMED] = DLV_NOTIFY_UNCONFIRMED,
    [DLV_STATUS_WAIT_COOKING] = DLV_NOTIFY_NEW,
    [DLV_STATUS_READY_FOR_COOKING] = DLV_NOTIFY_NEW,
    [DLV_STATUS_COOKING_STARTED] = DLV_NOTIFY_COOKING,
    [DLV_STATUS_COOKING_COMPLETED] = DLV_NOTIFY_READY,
    [DLV_STATUS_WAITING] = DLV_NOTIFY_WAITING,
    [DLV_STATUS_ON_WAY] = DLV_NOTIFY_ON_WAY,
    [DLV_STATUS_DELIVERED] = DLV_NOTIFY_DELIVERED,
    [DLV_STATUS_CLOSED] = -1,
    [DLV_STATUS_CANCELLED] = DLV_NOTIFY_CANCELLED,
};

const char *dlv__notify_event_name(dlv_notify_event event)
{
    return (unsigned)event < DLV_NOTIFY_COUNT ? event_names[event] : NULL;
}

int dlv__notify_event_for_status(dlv_status status)
{
    return (unsigned)status < DLV_STATUS_COUNT ? status_events[status] : -1;
}

/* No message for pickup orders in Waiting, OnWay and Delivered («Ждет отправки», «В пути»,
 * «Доставлена»). */
static bool silent(const dlv_order *o)
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

dlv_notify_mask dlv__notify_decide(const dlv_order *o, const dlv_notify_before *before,
                                   dlv_notify_mask sent)
{
    dlv_notify_mask events = 0;
    if (!o || !before || (unsigned)o->status >= DLV_STATUS_COUNT || silent(o))
        return 0;
    if (before->is_new || before->status != o->status) {
        int e = status_events[o->status];
        if (e >= 0 && !(sent & DLV_NOTIFY_BIT(e)))
            events |= DLV_NOTIFY_BIT(e);
    }
    if (!before->is_new && before->result_sum != o->result_sum && before_sending(o->status))
        events |= DLV_NOTIFY_BIT(DLV_NOTIFY_SUM_CHANGED);
    return events;
}

dlv_notify_mask dlv__notify_record(dlv_notify_mask sent, dlv_notify_mask events)
{
    return sent | (events & ~DLV_NOTIFY_BIT(DLV_NOTIFY_SUM_CHANGED));
}
