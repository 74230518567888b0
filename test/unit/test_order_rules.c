/* Decisions with an injected clock, numbering, notification rules and templates. */
#include "order/decide.h"
#include "order/notify.h"
#include "test_order_common.h"

#define ST(x) DLV_STATUS_##x

static dlv__settings *settings; /* settings.json: lead 20 min, Automatic, OnCookingCompleted ×2 */
static dlv__order *base;        /* order_courier.json */

static dlv__order *copy_of(const dlv__order *o)
{
    dlv__order *c = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__order_clone(o, &c), DLV_OK);
    return c;
}

static dlv__event ev(dlv__trigger trigger, dlv_status from)
{
    return (dlv__event){trigger, from};
}

/* ---- Time-based decisions ---- */

static void lead_time_and_automatic_start(void)
{
    dlv__order *o = copy_of(base);
    dlv__time due = o->complete_before - 20 * 60;
    dlv__decision d;
    dlv__event tick = ev(DLV__TRIGGER_TICK, 0);
    o->status = ST(WAIT_COOKING);

    settings->cooking_start_mode = DLV__COOKING_MANUAL;
    dlv__decide(o, settings, due - 1, &tick, false, &d);
    CU_ASSERT_FALSE(d.has_op);
    CU_ASSERT_FALSE(d.overdue_cooking);
    CU_ASSERT_EQUAL(d.next_due, due); /* arm the timer for the lead time */
    dlv__decide(o, settings, due, &tick, false, &d);
    CU_ASSERT_TRUE(d.has_op);
    CU_ASSERT_EQUAL(d.op, DLV__OP_LEAD_TIME_REACHED);
    CU_ASSERT_FALSE(d.overdue_cooking);        /* due, but within overdueGraceMinutes (5) */
    CU_ASSERT_EQUAL(d.next_due, due + 5 * 60); /* wake when the grace ends */
    CU_ASSERT_FALSE(dlv__cooking_overdue(o, settings, due + 5 * 60 - 1));
    CU_ASSERT_TRUE(dlv__cooking_overdue(o, settings, due + 5 * 60));
    settings->overdue_grace_minutes = 0; /* no grace: overdue the very minute it is due */
    CU_ASSERT_TRUE(dlv__cooking_overdue(o, settings, due));
    settings->overdue_grace_minutes = 12;
    CU_ASSERT_FALSE(dlv__cooking_overdue(o, settings, due + 12 * 60 - 1));
    CU_ASSERT_TRUE(dlv__cooking_overdue(o, settings, due + 12 * 60));
    settings->overdue_grace_minutes = 5;
    o->status = ST(READY_FOR_COOKING); /* the manager must press «Готовить» */
    dlv__decide(o, settings, due + 600, &tick, false, &d);
    CU_ASSERT_FALSE(d.has_op);
    CU_ASSERT_TRUE(d.overdue_cooking);
    settings->notify_overdue_cooking = false;
    dlv__decide(o, settings, due + 600, &tick, false, &d);
    CU_ASSERT_FALSE(d.overdue_cooking);
    CU_ASSERT_TRUE(dlv__cooking_overdue(o, settings, due + 600)); /* still sorts first */
    settings->notify_overdue_cooking = true;

    settings->cooking_start_mode = DLV__COOKING_AUTOMATIC;
    o->status = ST(WAIT_COOKING);
    dlv__decide(o, settings, due - 1, &tick, false, &d);
    CU_ASSERT_FALSE(d.has_op);
    dlv__decide(o, settings, due, &tick, false, &d);
    CU_ASSERT_TRUE(d.has_op);
    CU_ASSERT_EQUAL(d.op, DLV__OP_AUTO_START_COOKING);
    o->status = ST(READY_FOR_COOKING);
    dlv__decide(o, settings, due, &tick, false, &d);
    CU_ASSERT_EQUAL(d.op, DLV__OP_AUTO_START_COOKING);
    o->status = ST(UNCONFIRMED); /* never automatic before a human confirms */
    dlv__decide(o, settings, due + 5 * 60, &tick, false, &d);
    CU_ASSERT_FALSE(d.has_op);
    CU_ASSERT_TRUE(d.overdue_cooking);
    o->status = ST(COOKING_STARTED);
    dlv__decide(o, settings, due, &tick, false, &d);
    CU_ASSERT_FALSE(d.has_op);
    CU_ASSERT_FALSE(d.overdue_cooking);
    CU_ASSERT_EQUAL(d.next_due, o->complete_before + 1); /* becomes late after its due time */
    CU_ASSERT_FALSE(dlv__order_overdue(o, settings, o->complete_before));
    CU_ASSERT_TRUE(dlv__order_overdue(o, settings, o->complete_before + 1));
    dlv__decide(o, settings, o->complete_before + 1, &tick, false, &d);
    CU_ASSERT_EQUAL(d.next_due, DLV__TIME_NONE);
    o->status = ST(DELIVERED);
    CU_ASSERT_FALSE(dlv__order_overdue(o, settings, o->complete_before + 3600));
    dlv__order_free(o);
}

/* An order arrives early in Automatic mode and the runtime follows the decisions as time
 * passes: exactly one service check, at the lead time, and the invoice when cooked. */
static void automatic_flow_with_injected_clock(void)
{
    dlv__order *o = copy_of(base);
    dlv_error err = {0};
    dlv__decision d;
    dlv__time now = o->complete_before - 3 * 3600;
    int service_checks = 0, invoices = 0;
    dlv__op_request confirm = dlv__op_request_make(DLV__OP_CONFIRM, DLV_RIGHT_D_CND);
    CU_ASSERT_EQUAL(dlv__op_apply(o, settings, &confirm, now, &err), DLV_OK);
    CU_ASSERT_EQUAL(o->status, ST(WAIT_COOKING));
    dlv__event e = ev(DLV__TRIGGER_STATUS_CHANGED, ST(UNCONFIRMED));
    for (int step = 0; step < 10; step++) {
        dlv__decide(o, settings, now, &e, false, &d);
        for (size_t i = 0; i < d.print_count; i++) {
            service_checks += d.prints[i].document == DLV__DOCUMENT_SERVICE_CHECK;
            invoices += d.prints[i].document == DLV__DOCUMENT_INVOICE;
        }
        if (d.has_op) {
            dlv_status from = o->status;
            dlv__op_request req = dlv__op_request_make(d.op, 0);
            CU_ASSERT_EQUAL_FATAL(dlv__op_apply(o, settings, &req, now, &err), DLV_OK);
            e = ev(DLV__TRIGGER_STATUS_CHANGED, from);
            continue;
        }
        if (d.next_due == DLV__TIME_NONE || o->status != ST(WAIT_COOKING))
            break;
        now = d.next_due; /* the one timer fires */
        e = ev(DLV__TRIGGER_TICK, 0);
    }
    CU_ASSERT_EQUAL(now, o->complete_before - 20 * 60);
    CU_ASSERT_EQUAL(o->status, ST(COOKING_STARTED));
    CU_ASSERT_EQUAL(service_checks, 1);
    CU_ASSERT_EQUAL(invoices, 0);
    dlv__op_request done = dlv__op_request_make(DLV__OP_COOKING_COMPLETED, DLV_RIGHT_D_MD);
    CU_ASSERT_EQUAL(dlv__op_apply(o, settings, &done, now + 900, &err), DLV_OK);
    e = ev(DLV__TRIGGER_STATUS_CHANGED, ST(COOKING_STARTED));
    dlv__decide(o, settings, now + 900, &e, true, &d);
    CU_ASSERT_EQUAL_FATAL(d.print_count, 1);
    CU_ASSERT_EQUAL(d.prints[0].document, DLV__DOCUMENT_INVOICE);
    CU_ASSERT_EQUAL(d.prints[0].copies, 2);
    CU_ASSERT_TRUE(d.prints[0].a4);
    CU_ASSERT_FALSE(d.prints[0].by_hand);
    CU_ASSERT_STRING_EQUAL(d.prints[0].key, "Invoice/OnCookingCompleted");
    dlv__order_free(o);
}

static void documents_for_every_moment(void)
{
    static const struct {
        dlv__trigger trigger;
        dlv_status from, status;
        int moment; /* the invoice moment that prints on it, -1 none */
    } triggers[] = {
        {DLV__TRIGGER_PAID, ST(WAITING), ST(WAITING), DLV__INVOICE_ON_BILL},
        {DLV__TRIGGER_STATUS_CHANGED, ST(COOKING_STARTED), ST(COOKING_COMPLETED),
         DLV__INVOICE_ON_COOKING_COMPLETED},
        {DLV__TRIGGER_ARRIVED, 0, ST(COOKING_COMPLETED), DLV__INVOICE_ON_COOKING_COMPLETED},
        {DLV__TRIGGER_COURIER_ASSIGNED, ST(WAITING), ST(WAITING), DLV__INVOICE_ON_COURIER_ASSIGNED},
        {DLV__TRIGGER_STATUS_CHANGED, ST(WAITING), ST(ON_WAY), DLV__INVOICE_ON_SEND},
        {DLV__TRIGGER_STATUS_CHANGED, ST(ON_WAY), ST(ON_WAY), -1}, /* no change, no print */
        {DLV__TRIGGER_STATUS_CHANGED, ST(ON_WAY), ST(DELIVERED), -1},
        {DLV__TRIGGER_TICK, 0, ST(ON_WAY), -1},
        {DLV__TRIGGER_PAID, ST(CANCELLED), ST(CANCELLED), -1},
    };
    dlv__order *o = copy_of(base);
    for (int moment = 0; moment <= DLV__INVOICE_MANUAL; moment++) {
        settings->invoice_moment = (dlv__invoice_moment)moment;
        for (size_t t = 0; t < DLV__ARRAY_SIZE(triggers); t++) {
            o->status = triggers[t].status;
            dlv__event e = ev(triggers[t].trigger, triggers[t].from);
            dlv__decision d;
            dlv__decide(o, settings, 0, &e, false, &d);
            bool want = triggers[t].moment == moment && o->status != ST(CANCELLED);
            /* A courier assignment also asks for the invoice again for the new courier, which
             * the runtime prints only after one was printed (print_moments below). */
            bool again = false;
            size_t regular = 0;
            for (size_t k = 0; k < d.print_count; k++) {
                again |= d.prints[k].after_invoice;
                regular += !d.prints[k].after_invoice;
            }
            CU_ASSERT_EQUAL(again, triggers[t].trigger == DLV__TRIGGER_COURIER_ASSIGNED &&
                                       o->status != ST(CANCELLED));
            CU_ASSERT_EQUAL(regular, want ? 1u : 0u);
            if (want) {
                CU_ASSERT_EQUAL(d.prints[0].document, DLV__DOCUMENT_INVOICE);
                CU_ASSERT_EQUAL(d.prints[0].copies, settings->invoice_copies);
                CU_ASSERT_FALSE(d.prints[0].a4);
            }
        }
        /* By hand it always prints, also when the moment is Manual; never when cancelled. */
        dlv__event hand = ev(DLV__TRIGGER_PRINT_REQUESTED, 0);
        dlv__decision d;
        o->status = ST(CLOSED);
        dlv__decide(o, settings, 0, &hand, true, &d);
        CU_ASSERT_EQUAL_FATAL(d.print_count, 1);
        CU_ASSERT_TRUE(d.prints[0].by_hand);
        CU_ASSERT_TRUE(d.prints[0].a4);
        o->status = ST(CANCELLED);
        dlv__decide(o, settings, 0, &hand, true, &d);
        CU_ASSERT_EQUAL(d.print_count, 0);
    }
    /* Service check on entering CookingStarted, from any origin; also an arrival in it. */
    settings->invoice_moment = DLV__INVOICE_MANUAL;
    dlv__decision d;
    o->status = ST(COOKING_STARTED);
    dlv__event e = ev(DLV__TRIGGER_STATUS_CHANGED, ST(READY_FOR_COOKING));
    dlv__decide(o, settings, 0, &e, false, &d);
    CU_ASSERT_EQUAL_FATAL(d.print_count, 1);
    CU_ASSERT_EQUAL(d.prints[0].document, DLV__DOCUMENT_SERVICE_CHECK);
    CU_ASSERT_EQUAL(d.prints[0].copies, 1);
    CU_ASSERT_STRING_EQUAL(d.prints[0].key, "ServiceCheck");
    /* Arriving already in CookingStarted or later: the kitchen has the ticket (decide.c). */
    for (int st = ST(COOKING_STARTED); st <= ST(CLOSED); st++) {
        o->status = (dlv_status)st;
        e = ev(DLV__TRIGGER_ARRIVED, 0);
        dlv__decide(o, settings, 0, &e, false, &d);
        for (size_t k = 0; k < d.print_count; k++)
            CU_ASSERT_NOT_EQUAL(d.prints[k].document, DLV__DOCUMENT_SERVICE_CHECK);
    }
    o->status = ST(COOKING_STARTED);
    e = ev(DLV__TRIGGER_TICK, 0);
    dlv__decide(o, settings, 0, &e, false, &d);
    CU_ASSERT_EQUAL(d.print_count, 0);
    settings->invoice_moment = DLV__INVOICE_ON_COOKING_COMPLETED;
    dlv__order_free(o);
}

/* The print moments of docs/printers.md: OnBill when the order becomes fully paid, a pickup's
 * invoice on entering Waiting when its moment (a courier, OnWay) never comes, the invoice again for
 * a new courier, and one copy by hand. */
static void print_moments(void)
{
    dlv__order *o = copy_of(base);
    dlv__decision d;
    dlv__event e;
    CU_ASSERT_EQUAL_FATAL(settings->invoice_copies, 2);
    CU_ASSERT_EQUAL_FATAL(o->payment_count, 1);

    /* OnBill: a first partial payment prints nothing; the payment that settles the bill does. */
    settings->invoice_moment = DLV__INVOICE_ON_BILL;
    o->status = ST(WAITING);
    dlv__money full = o->payments[0].sum;
    o->payments[0].sum = o->result_sum - 1;
    e = ev(DLV__TRIGGER_PAID, ST(WAITING));
    dlv__decide(o, settings, 0, &e, false, &d);
    CU_ASSERT_EQUAL(d.print_count, 0);
    o->payments[0].sum = o->result_sum;
    dlv__decide(o, settings, 0, &e, false, &d);
    CU_ASSERT_EQUAL_FATAL(d.print_count, 1);
    CU_ASSERT_STRING_EQUAL(d.prints[0].key, "Invoice/OnBill");
    CU_ASSERT_EQUAL(d.prints[0].copies, 2);
    o->payments[0].sum = full; /* more than the bill (change): still fully paid */
    dlv__decide(o, settings, 0, &e, false, &d);
    CU_ASSERT_EQUAL(d.print_count, 1);

    /* A pickup at OnCourierAssigned or OnSend: on entering Waiting (also arriving in it); a
     * courier order there waits for its own moment; other moments never print on Waiting. */
    static const struct {
        dlv__invoice_moment moment;
        const char *key;
    } late[] = {{DLV__INVOICE_ON_COURIER_ASSIGNED, "Invoice/OnCourierAssigned"},
                {DLV__INVOICE_ON_SEND, "Invoice/OnSend"}};
    for (size_t i = 0; i < DLV__ARRAY_SIZE(late); i++) {
        settings->invoice_moment = late[i].moment;
        o->service_type = DLV_SERVICE_PICKUP;
        o->status = ST(WAITING);
        e = ev(DLV__TRIGGER_STATUS_CHANGED, ST(COOKING_COMPLETED));
        dlv__decide(o, settings, 0, &e, true, &d);
        CU_ASSERT_EQUAL_FATAL(d.print_count, 1);
        CU_ASSERT_EQUAL(d.prints[0].document, DLV__DOCUMENT_INVOICE);
        CU_ASSERT_STRING_EQUAL(d.prints[0].key, late[i].key);
        CU_ASSERT_EQUAL(d.prints[0].copies, 2);
        CU_ASSERT_TRUE(d.prints[0].a4);
        CU_ASSERT_FALSE(d.prints[0].after_invoice);
        e = ev(DLV__TRIGGER_ARRIVED, 0);
        dlv__decide(o, settings, 0, &e, false, &d);
        CU_ASSERT_EQUAL(d.print_count, 1);
        e = ev(DLV__TRIGGER_STATUS_CHANGED, ST(WAITING)); /* no change, no print */
        dlv__decide(o, settings, 0, &e, false, &d);
        CU_ASSERT_EQUAL(d.print_count, 0);
        o->service_type = DLV_SERVICE_COURIER;
        e = ev(DLV__TRIGGER_STATUS_CHANGED, ST(COOKING_COMPLETED));
        dlv__decide(o, settings, 0, &e, false, &d);
        CU_ASSERT_EQUAL(d.print_count, 0);
    }
    o->service_type = DLV_SERVICE_PICKUP;
    e = ev(DLV__TRIGGER_STATUS_CHANGED, ST(COOKING_COMPLETED));
    for (int m = 0; m <= DLV__INVOICE_MANUAL; m++) {
        if (m == DLV__INVOICE_ON_COURIER_ASSIGNED || m == DLV__INVOICE_ON_SEND)
            continue;
        settings->invoice_moment = (dlv__invoice_moment)m;
        dlv__decide(o, settings, 0, &e, false, &d);
        CU_ASSERT_EQUAL(d.print_count, 0);
    }
    o->service_type = DLV_SERVICE_COURIER;

    /* A courier assigned: the invoice again, at every moment, marked for the runtime to print
     * only after one was printed; never for a cancelled order. */
    for (int m = 0; m <= DLV__INVOICE_MANUAL; m++) {
        settings->invoice_moment = (dlv__invoice_moment)m;
        o->status = ST(WAITING);
        e = ev(DLV__TRIGGER_COURIER_ASSIGNED, ST(WAITING));
        dlv__decide(o, settings, 0, &e, false, &d);
        CU_ASSERT_EQUAL_FATAL(d.print_count, m == DLV__INVOICE_ON_COURIER_ASSIGNED ? 2u : 1u);
        const dlv__print_task *t = &d.prints[d.print_count - 1];
        CU_ASSERT_TRUE(t->after_invoice);
        CU_ASSERT_FALSE(t->by_hand);
        CU_ASSERT_EQUAL(t->document, DLV__DOCUMENT_INVOICE);
        CU_ASSERT_EQUAL(t->copies, 2);
        CU_ASSERT_STRING_EQUAL(t->key, "Invoice/CourierChanged");
        o->status = ST(CANCELLED);
        dlv__decide(o, settings, 0, &e, false, &d);
        CU_ASSERT_EQUAL(d.print_count, 0);
    }

    /* By hand: one copy, whatever invoiceCopies says. */
    settings->invoice_moment = DLV__INVOICE_MANUAL;
    o->status = ST(ON_WAY);
    e = ev(DLV__TRIGGER_PRINT_REQUESTED, 0);
    dlv__decide(o, settings, 0, &e, false, &d);
    CU_ASSERT_EQUAL_FATAL(d.print_count, 1);
    CU_ASSERT_TRUE(d.prints[0].by_hand);
    CU_ASSERT_EQUAL(d.prints[0].copies, 1);
    settings->invoice_moment = DLV__INVOICE_ON_COOKING_COMPLETED;
    dlv__order_free(o);
}

static void list_order_and_timer(void)
{
    dlv__order *o[5];
    dlv__time now = base->complete_before;
    for (int i = 0; i < 5; i++)
        o[i] = copy_of(base);
    /* 0: due in 2 h, 1: due in 1 h, 2: cooking overdue, 3: late on way, 4: same due as 1 */
    o[0]->status = ST(WAIT_COOKING), o[0]->complete_before = now + 7200, o[0]->number = 1;
    o[1]->status = ST(WAIT_COOKING), o[1]->complete_before = now + 3600, o[1]->number = 9;
    o[2]->status = ST(READY_FOR_COOKING), o[2]->complete_before = now + 600, o[2]->number = 3;
    o[3]->status = ST(ON_WAY), o[3]->complete_before = now - 60, o[3]->number = 4;
    o[4]->status = ST(WAIT_COOKING), o[4]->complete_before = now + 3600, o[4]->number = 5;
    const dlv__order *list[5] = {o[0], o[1], o[2], o[3], o[4]};
    CU_ASSERT_EQUAL(dlv__orders_sort(list, 5, settings, now), DLV_OK);
    CU_ASSERT_PTR_EQUAL(list[0], o[3]); /* overdue, earliest due */
    CU_ASSERT_PTR_EQUAL(list[1], o[2]);
    CU_ASSERT_PTR_EQUAL(list[2], o[4]); /* same due time: lower number first */
    CU_ASSERT_PTR_EQUAL(list[3], o[1]);
    CU_ASSERT_PTR_EQUAL(list[4], o[0]);
    /* One timer: the earliest lead time among them. */
    const dlv__order *all[5] = {o[0], o[1], o[2], o[3], o[4]};
    CU_ASSERT_EQUAL(dlv__orders_next_due(all, 5, settings, now), now + 3600 - 1200);
    CU_ASSERT_EQUAL(dlv__orders_next_due(all, 0, settings, now), DLV__TIME_NONE);
    dlv__alloc_fail_after(0);
    CU_ASSERT_EQUAL(dlv__orders_sort(list, 5, settings, now), DLV_ENOMEM);
    dlv__alloc_fail_after(-1);
    CU_ASSERT_PTR_EQUAL(list[0], o[3]); /* unchanged */
    for (int i = 0; i < 5; i++)
        dlv__order_free(o[i]);
    CU_ASSERT_TRUE(dlv__open_list_on_login(true));
    CU_ASSERT_FALSE(dlv__open_list_on_login(false));
}

/* ---- Numbers ---- */

static bool taken_set(int64_t n, void *arg)
{
    const int64_t *set = arg;
    for (; *set; set++)
        if (*set == n)
            return true;
    return false;
}

static void numbering(void)
{
    dlv__number_state st = {0};
    dlv__number_policy pol = {.regular_first = 1, .regular_last = 99999};
    dlv_error err = {0};
    int64_t n = 0;
    CU_ASSERT_EQUAL(dlv__number_next(&st, &pol, &n, &err), DLV_OK);
    CU_ASSERT_EQUAL(n, 100000);
    CU_ASSERT_EQUAL(dlv__number_next(&st, &pol, &n, &err), DLV_OK);
    CU_ASSERT_EQUAL(n, 100001);
    CU_ASSERT_EQUAL(st.last_issued, 100001);
    /* A restart: the store saved the struct; numbering goes on, never back. */
    dlv__number_state saved = st;
    CU_ASSERT_EQUAL(dlv__number_next(&saved, &pol, &n, &err), DLV_OK);
    CU_ASSERT_EQUAL(n, 100002);
    /* The host widens its range over numbers already issued: they are still never reused. */
    pol.regular_last = 200000;
    CU_ASSERT_EQUAL(dlv__number_next(&saved, &pol, &n, &err), DLV_OK);
    CU_ASSERT_EQUAL(n, 200001);
    pol.regular_last = 99999;
    CU_ASSERT_EQUAL(dlv__number_next(&saved, &pol, &n, &err), DLV_OK);
    CU_ASSERT_EQUAL(n, 200002);
    /* Numbers known to be used (orders from the call-center) are skipped. */
    int64_t taken[] = {200003, 200004, 200006, 0};
    pol.taken = taken_set;
    pol.arg = taken;
    CU_ASSERT_EQUAL(dlv__number_next(&saved, &pol, &n, &err), DLV_OK);
    CU_ASSERT_EQUAL(n, 200005);
    CU_ASSERT_EQUAL(dlv__number_next(&saved, &pol, &n, &err), DLV_OK);
    CU_ASSERT_EQUAL(n, 200007);
    /* No regular range; a start. */
    dlv__number_state fresh = {0};
    dlv__number_policy none = {.regular_first = 1, .regular_last = 0, .start = 500};
    CU_ASSERT_EQUAL(dlv__number_next(&fresh, &none, &n, &err), DLV_OK);
    CU_ASSERT_EQUAL(n, 500);
    none.start = 0;
    dlv__number_state low = {0};
    CU_ASSERT_EQUAL(dlv__number_next(&low, &none, &n, &err), DLV_OK);
    CU_ASSERT_EQUAL(n, 1);
    /* A range in the middle is jumped over. */
    dlv__number_state mid = {.last_issued = 39};
    dlv__number_policy midpol = {.regular_first = 40, .regular_last = 60};
    CU_ASSERT_EQUAL(dlv__number_next(&mid, &midpol, &n, &err), DLV_OK);
    CU_ASSERT_EQUAL(n, 61);
    /* Exhaustion and corrupt state. */
    dlv__number_state full = {.last_issued = 10};
    dlv__number_policy everything = {.regular_first = 1, .regular_last = INT64_MAX};
    CU_ASSERT_EQUAL(dlv__number_next(&full, &everything, &n, &err), DLV_ERANGE);
    DLV_ASSERT_CONTAINS(err.message, "exhausted");
    CU_ASSERT_EQUAL(full.last_issued, 10);
    dlv__number_state top = {.last_issued = DLV__NUMBER_MAX};
    CU_ASSERT_EQUAL(dlv__number_next(&top, &none, &n, &err), DLV_ERANGE);
    dlv__number_state bad = {.last_issued = -5};
    CU_ASSERT_EQUAL(dlv__number_next(&bad, &none, &n, &err), DLV_EINVAL);
    /* Many in a row never collide with the range nor repeat. */
    dlv__number_state run = {0};
    dlv__number_policy rp = {.regular_first = 1000, .regular_last = 1999};
    int64_t prev = 0;
    for (int i = 0; i < 3000; i++) {
        CU_ASSERT_EQUAL(dlv__number_next(&run, &rp, &n, &err), DLV_OK);
        CU_ASSERT_TRUE(n > prev);
        CU_ASSERT_FALSE(n >= 1000 && n <= 1999);
        prev = n;
    }
}

/* Protocol 1.1 blocks: refill below 20%, switch to the next block, never reuse across a
 * restart (the state is all that is persisted), the regular range stays excluded. */
static void numbering_blocks(void)
{
    dlv_error err = {0};
    int64_t n;
    dlv__number_state st = {0};
    dlv__number_policy pol = {.regular_first = 905, .regular_last = 909};
    CU_ASSERT_FALSE(dlv__number_needs_block(&st)); /* 1.0: no blocks at all */
    CU_ASSERT_EQUAL(dlv__number_add_block(&st, (dlv__number_block){900, 919}, &err), DLV_OK);
    CU_ASSERT_FALSE(dlv__number_needs_block(&st));
    CU_ASSERT_EQUAL(dlv__number_next(&st, &pol, &n, &err), DLV_OK);
    CU_ASSERT_EQUAL(n, 900);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(dlv__number_next(&st, &pol, &n, &err), DLV_OK);
    CU_ASSERT_EQUAL(n, 904);
    CU_ASSERT_EQUAL(dlv__number_next(&st, &pol, &n, &err), DLV_OK);
    CU_ASSERT_EQUAL(n, 910); /* the host's regular range skipped */
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(dlv__number_next(&st, &pol, &n, &err), DLV_OK);
    CU_ASSERT_EQUAL(n, 916); /* 3 of 20 left: under 20% */
    CU_ASSERT_TRUE(dlv__number_needs_block(&st));
    /* A restart: the persisted state goes on where it was. */
    dlv__number_state saved = st;
    CU_ASSERT_EQUAL(dlv__number_next(&saved, &pol, &n, &err), DLV_OK);
    CU_ASSERT_EQUAL(n, 917);
    CU_ASSERT_EQUAL(dlv__number_add_block(&saved, (dlv__number_block){950, 959}, &err), DLV_OK);
    CU_ASSERT_FALSE(dlv__number_needs_block(&saved)); /* a next block is held */
    CU_ASSERT_EQUAL(dlv__number_next(&saved, &pol, &n, &err), DLV_OK);
    CU_ASSERT_EQUAL(n, 918);
    CU_ASSERT_EQUAL(dlv__number_next(&saved, &pol, &n, &err), DLV_OK);
    CU_ASSERT_EQUAL(n, 919);
    CU_ASSERT_EQUAL(dlv__number_next(&saved, &pol, &n, &err), DLV_OK);
    CU_ASSERT_EQUAL(n, 950); /* switched blocks */
    CU_ASSERT_EQUAL(saved.block.first, 950);
    CU_ASSERT_FALSE(saved.has_next);
    /* Taken numbers are skipped, and a used-up block without a next one is DLV_ERANGE. */
    for (int i = 0; i < 9; i++)
        CU_ASSERT_EQUAL(dlv__number_next(&saved, &pol, &n, &err), DLV_OK);
    CU_ASSERT_EQUAL(n, 959);
    CU_ASSERT_EQUAL(dlv__number_next(&saved, &pol, &n, &err), DLV_ERANGE);
    CU_ASSERT_EQUAL(saved.last_issued, 959);
    /* A block at or below what was issued is refused: numbers are never reused. */
    CU_ASSERT_EQUAL(dlv__number_add_block(&saved, (dlv__number_block){900, 959}, &err), DLV_EINVAL);
    CU_ASSERT_EQUAL(dlv__number_add_block(&saved, (dlv__number_block){10, 5}, &err), DLV_EINVAL);
    CU_ASSERT_EQUAL(dlv__number_add_block(&saved, (dlv__number_block){955, 1000}, &err), DLV_OK);
    CU_ASSERT_EQUAL(dlv__number_next(&saved, &pol, &n, &err), DLV_OK);
    CU_ASSERT_EQUAL(n, 960);
}

/* Protocol 1.1: a courier order is due courierCookingMinutes before the kitchen's deadline
 * (predictedCookingCompleteTime, else completeBefore - courierDeliveryMinutes); pickups count
 * pickupCookingLeadMinutes back from completeBefore. */
static void courier_cooking_due(void)
{
    dlv__settings s = *settings;
    s.courier_delivery_minutes = 45;
    s.courier_cooking_minutes = 25;
    s.pickup_cooking_lead_minutes = 20;
    dlv__order *o = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__order_clone(base, &o), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(o->service_type, DLV_SERVICE_COURIER);
    dlv__time cb = o->complete_before;
    CU_ASSERT_EQUAL(dlv__kitchen_deadline(o, &s), cb - 45 * 60);
    CU_ASSERT_EQUAL(dlv__cooking_due_at(o, &s), cb - 70 * 60);
    o->predicted_cooking_complete_time = cb - 30 * 60;
    CU_ASSERT_EQUAL(dlv__kitchen_deadline(o, &s), cb - 30 * 60);
    CU_ASSERT_EQUAL(dlv__cooking_due_at(o, &s), cb - 55 * 60);
    /* The decisions follow: nothing due a second before, the step at the moment. */
    o->status = ST(WAIT_COOKING);
    s.cooking_start_mode = DLV__COOKING_MANUAL;
    dlv__op op;
    CU_ASSERT_FALSE(dlv__due_op(o, &s, cb - 55 * 60 - 1, &op));
    CU_ASSERT_TRUE(dlv__due_op(o, &s, cb - 55 * 60, &op));
    CU_ASSERT_EQUAL(op, DLV__OP_LEAD_TIME_REACHED);
    /* A pickup ignores both courier settings and the predicted time. */
    o->service_type = DLV_SERVICE_PICKUP;
    CU_ASSERT_EQUAL(dlv__cooking_due_at(o, &s), cb - 20 * 60);
    CU_ASSERT_EQUAL(dlv__kitchen_deadline(o, &s), cb);
    dlv__order_free(o);
}

int main(void)
{
    base = load_order("order_courier.json", 0);
    settings = load_settings();
    /* These tests count the lead time back from completeBefore for every order, as protocol 1.0
     * did: no courier travel time. courier_cooking_due tests the 1.1 rule. */
    if (settings)
        settings->courier_delivery_minutes = 0;
    if (!base || !settings)
        return 1;
    static const dlv_test_case cases[] = {
        DLV_TEST(lead_time_and_automatic_start),
        DLV_TEST(automatic_flow_with_injected_clock),
        DLV_TEST(documents_for_every_moment),
        DLV_TEST(print_moments),
        DLV_TEST(list_order_and_timer),
        DLV_TEST(numbering),
        DLV_TEST(numbering_blocks),
        DLV_TEST(courier_cooking_due),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("order_rules", cases);
    dlv__order_free(base);
    dlv__settings_free(settings);
    return rc;
}
