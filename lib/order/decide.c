/* Pure consequences: automatic steps, documents, overdue flags, timers, list order, numbers. */
#include "order/decide.h"

#include <stdlib.h>

static bool cooking_not_started(dlv_status s)
{
    return s == DLV_STATUS_UNCONFIRMED || s == DLV_STATUS_WAIT_COOKING ||
           s == DLV_STATUS_READY_FOR_COOKING;
}

/* Cooking started but the order is not yet with the customer. */
static bool in_progress(dlv_status s)
{
    return s == DLV_STATUS_COOKING_STARTED || s == DLV_STATUS_COOKING_COMPLETED ||
           s == DLV_STATUS_WAITING || s == DLV_STATUS_ON_WAY;
}

bool dlv__due_op(const dlv__order *o, const dlv__settings *s, dlv__time now, dlv__op *op)
{
    if (now < dlv__cooking_due_at(o, s))
        return false;
    if (s->cooking_start_mode == DLV__COOKING_AUTOMATIC &&
        (o->status == DLV_STATUS_WAIT_COOKING || o->status == DLV_STATUS_READY_FOR_COOKING)) {
        *op = DLV__OP_AUTO_START_COOKING;
        return true;
    }
    if (s->cooking_start_mode == DLV__COOKING_MANUAL && o->status == DLV_STATUS_WAIT_COOKING) {
        *op = DLV__OP_LEAD_TIME_REACHED;
        return true;
    }
    return false;
}

/* The moment a not-yet-cooking order turns overdue: overdueGraceMinutes after it became due
 * (not the very minute it is due: the kitchen gets the grace the call-center set). */
static dlv__time cooking_overdue_at(const dlv__order *o, const dlv__settings *s)
{
    return dlv__cooking_due_at(o, s) + (dlv__time)s->overdue_grace_minutes * 60;
}

bool dlv__cooking_overdue(const dlv__order *o, const dlv__settings *s, dlv__time now)
{
    return cooking_not_started(o->status) && now >= cooking_overdue_at(o, s);
}

bool dlv__order_overdue(const dlv__order *o, const dlv__settings *s, dlv__time now)
{
    return dlv__cooking_overdue(o, s, now) || (in_progress(o->status) && now > o->complete_before);
}

dlv__time dlv__order_next_due(const dlv__order *o, const dlv__settings *s, dlv__time now)
{
    dlv__time due = dlv__cooking_due_at(o, s);
    if (cooking_not_started(o->status) && due > now)
        return due;
    dlv__time next = DLV__TIME_NONE;
    dlv__time overdue = cooking_overdue_at(o, s);
    if (cooking_not_started(o->status) && overdue > now)
        next = overdue; /* wake when the grace ends, to tell the operator */
    if (in_progress(o->status) && o->complete_before >= now &&
        (next == DLV__TIME_NONE || o->complete_before + 1 < next))
        next = o->complete_before + 1; /* it becomes late one second after its due time */
    return next;
}

dlv__time dlv__orders_next_due(const dlv__order *const *orders, size_t count,
                               const dlv__settings *s, dlv__time now)
{
    dlv__time next = DLV__TIME_NONE;
    for (size_t i = 0; i < count; i++) {
        dlv__time t = dlv__order_next_due(orders[i], s, now);
        if (t != DLV__TIME_NONE && (next == DLV__TIME_NONE || t < next))
            next = t;
    }
    return next;
}

static void add_print(dlv__decision *d, dlv__document doc, int copies, bool a4, bool by_hand,
                      const char *key)
{
    if (d->print_count < DLV__ARRAY_SIZE(d->prints))
        d->prints[d->print_count++] = (dlv__print_task){doc, copies, a4, by_hand, key, false};
}

/* The invoice moment the event stands for, or -1. */
static int invoice_moment_of(const dlv__order *o, const dlv__settings *s, const dlv__event *ev)
{
    bool entered = ev->trigger == DLV__TRIGGER_ARRIVED ||
                   (ev->trigger == DLV__TRIGGER_STATUS_CHANGED && ev->from != o->status);
    switch (ev->trigger) {
    case DLV__TRIGGER_PAID:
        /* OnBill is the bill settled: a first partial payment is not yet the moment. */
        return dlv__order_fully_paid(o) ? DLV__INVOICE_ON_BILL : -1;
    case DLV__TRIGGER_COURIER_ASSIGNED:
        return DLV__INVOICE_ON_COURIER_ASSIGNED;
    default:
        break;
    }
    if (entered && o->status == DLV_STATUS_COOKING_COMPLETED)
        return DLV__INVOICE_ON_COOKING_COMPLETED;
    if (entered && o->status == DLV_STATUS_ON_WAY)
        return DLV__INVOICE_ON_SEND;
    /* A pickup order never gets a courier nor goes OnWay: at those moments its invoice prints
     * when it is ready to be handed over. */
    if (entered && o->status == DLV_STATUS_WAITING && o->service_type == DLV_SERVICE_PICKUP &&
        (s->invoice_moment == DLV__INVOICE_ON_COURIER_ASSIGNED ||
         s->invoice_moment == DLV__INVOICE_ON_SEND))
        return (int)s->invoice_moment;
    return -1;
}

void dlv__decide(const dlv__order *o, const dlv__settings *s, dlv__time now, const dlv__event *ev,
                 bool a4_invoice, dlv__decision *d)
{
    static const char *const invoice_keys[] = {"Invoice/OnBill", "Invoice/OnCookingCompleted",
                                               "Invoice/OnCourierAssigned", "Invoice/OnSend",
                                               "Invoice/Manual"};
    *d = (dlv__decision){.next_due = DLV__TIME_NONE};
    d->has_op = dlv__due_op(o, s, now, &d->op);
    d->overdue_cooking = s->notify_overdue_cooking && dlv__cooking_overdue(o, s, now);
    d->next_due = dlv__order_next_due(o, s, now);
    if (!ev)
        return;
    /* The service check goes out when this terminal sees the order ENTER CookingStarted (by hand,
     * or automatically right after it arrived). An order that arrives already in CookingStarted
     * or later does not print one: CookingStarted means the first dish was printed to the
     * kitchen, so whoever set it (another terminal, or this one before its cache was lost) has
     * already sent the ticket; a second one would have the kitchen cook twice, while a missing
     * one can be reprinted by hand. */
    if (ev->trigger == DLV__TRIGGER_STATUS_CHANGED && ev->from != o->status &&
        o->status == DLV_STATUS_COOKING_STARTED)
        add_print(d, DLV__DOCUMENT_SERVICE_CHECK, 1, false, false, "ServiceCheck");
    /* By hand: one copy; the operator asked for one document, not the configured set. */
    if (ev->trigger == DLV__TRIGGER_PRINT_REQUESTED && o->status != DLV_STATUS_CANCELLED) {
        add_print(d, DLV__DOCUMENT_INVOICE, 1, a4_invoice, true, "Invoice/ByHand");
    } else if (o->status != DLV_STATUS_CANCELLED) {
        int moment = invoice_moment_of(o, s, ev);
        if (moment >= 0 && moment == (int)s->invoice_moment)
            add_print(d, DLV__DOCUMENT_INVOICE, s->invoice_copies, a4_invoice, false,
                      invoice_keys[moment]);
        /* The courier carries the invoice: one printed for the previous courier names the wrong
         * person and phone, so a new courier gets a new one. Whether one was printed is the
         * ledger's to say (the runtime), not the order's. */
        if (ev->trigger == DLV__TRIGGER_COURIER_ASSIGNED) {
            add_print(d, DLV__DOCUMENT_INVOICE, s->invoice_copies, a4_invoice, false,
                      "Invoice/CourierChanged");
            d->prints[d->print_count - 1].after_invoice = true;
        }
    }
}

bool dlv__open_list_on_login(bool show_delivery_list_on_login)
{
    return show_delivery_list_on_login;
}

/* ---- List order ---- */

typedef struct sort_key {
    bool overdue;
    dlv__time due;
    int64_t number;
    size_t index;
    const dlv__order *order;
} sort_key;

static int compare_keys(const void *pa, const void *pb)
{
    const sort_key *a = pa, *b = pb;
    if (a->overdue != b->overdue)
        return a->overdue ? -1 : 1;
    if (a->due != b->due)
        return a->due < b->due ? -1 : 1;
    if (a->number != b->number)
        return a->number < b->number ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

int dlv__orders_sort(const dlv__order **orders, size_t count, const dlv__settings *s, dlv__time now)
{
    if (count < 2)
        return DLV_OK;
    sort_key *keys = dlv__malloc(count * sizeof *keys);
    if (!keys)
        return DLV_ENOMEM;
    for (size_t i = 0; i < count; i++)
        keys[i] = (sort_key){dlv__order_overdue(orders[i], s, now), orders[i]->complete_before,
                             orders[i]->number, i, orders[i]};
    qsort(keys, count, sizeof *keys, compare_keys);
    for (size_t i = 0; i < count; i++)
        orders[i] = keys[i].order;
    dlv__free(keys);
    return DLV_OK;
}

/* ---- Numbers ---- */

static bool block_valid(dlv__number_block b)
{
    return b.first >= 1 && b.last >= b.first && b.last <= DLV__NUMBER_MAX;
}

int dlv__number_add_block(dlv__number_state *st, dlv__number_block b, dlv_error *err)
{
    if (!st || !block_valid(b))
        return dlv__error_set(err, DLV_EINVAL, "invalid number block");
    if (b.last <= st->last_issued)
        return dlv__error_set(err, DLV_EINVAL,
                              "number block %lld..%lld lies at or below the last number issued "
                              "(%lld)",
                              (long long)b.first, (long long)b.last, (long long)st->last_issued);
    if (!st->has_block || st->block.last <= st->last_issued) {
        st->block = b;
        st->has_block = true;
    } else {
        st->next = b;
        st->has_next = true;
    }
    return DLV_OK;
}

bool dlv__number_needs_block(const dlv__number_state *st)
{
    if (!st || !st->has_block || st->has_next)
        return false;
    int64_t size = st->block.last - st->block.first + 1;
    int64_t used_to = st->last_issued >= st->block.first ? st->last_issued : st->block.first - 1;
    int64_t left = st->block.last > used_to ? st->block.last - used_to : 0;
    return left * 5 < size; /* fewer than 20% */
}

/* Block mode of dlv__number_next. */
static int number_from_blocks(dlv__number_state *st, const dlv__number_policy *policy, int64_t *out,
                              dlv_error *err)
{
    bool has_regular = policy->regular_last >= policy->regular_first;
    for (;;) {
        if (!block_valid(st->block))
            return dlv__error_set(err, DLV_EINVAL, "corrupt number block");
        int64_t n = st->last_issued + 1 > st->block.first ? st->last_issued + 1 : st->block.first;
        for (long probes = 0; n <= st->block.last; probes++) {
            if (has_regular && n >= policy->regular_first && n <= policy->regular_last) {
                if (policy->regular_last >= st->block.last)
                    break;
                n = policy->regular_last + 1;
                continue;
            }
            if (policy->taken && policy->taken(n, policy->arg)) {
                if (probes > 1000000)
                    return dlv__error_set(err, DLV_ERANGE, "no free delivery number near %lld",
                                          (long long)n);
                n++;
                continue;
            }
            st->last_issued = n;
            *out = n;
            return DLV_OK;
        }
        if (!st->has_next)
            return dlv__error_set(err, DLV_ERANGE,
                                  "the number block %lld..%lld is used up and no next block is "
                                  "reserved",
                                  (long long)st->block.first, (long long)st->block.last);
        st->block = st->next;
        st->has_next = false;
    }
}

int dlv__number_next(dlv__number_state *state, const dlv__number_policy *policy, int64_t *out,
                     dlv_error *err)
{
    if (!state || !policy || !out)
        return dlv__error_set(err, DLV_EINVAL, "invalid arguments");
    if (state->last_issued < 0 || state->last_issued > DLV__NUMBER_MAX)
        return dlv__error_set(err, DLV_EINVAL, "corrupt number state (last %lld)",
                              (long long)state->last_issued);
    if (state->has_block)
        return number_from_blocks(state, policy, out, err);
    int64_t n = state->last_issued + 1;
    if (n < policy->start)
        n = policy->start;
    if (n < 1)
        n = 1;
    bool has_regular = policy->regular_last >= policy->regular_first;
    /* Bounded probing of `taken`: a caller's set of known numbers is finite. */
    for (long probes = 0; n <= DLV__NUMBER_MAX; probes++) {
        if (has_regular && n >= policy->regular_first && n <= policy->regular_last) {
            if (policy->regular_last >= DLV__NUMBER_MAX)
                break;
            n = policy->regular_last + 1;
            continue;
        }
        if (policy->taken && policy->taken(n, policy->arg)) {
            if (probes > 1000000)
                return dlv__error_set(err, DLV_ERANGE, "no free delivery number near %lld",
                                      (long long)n);
            n++;
            continue;
        }
        state->last_issued = n;
        *out = n;
        return DLV_OK;
    }
    return dlv__error_set(err, DLV_ERANGE, "delivery numbers are exhausted (last issued %lld)",
                          (long long)state->last_issued);
}
