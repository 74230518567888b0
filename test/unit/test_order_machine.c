/* The status machine against an independent expectation written from the transition rules
 * (statuses, service types and rights of each operation; see lib/order/machine.h). */
#include "order/machine.h"
#include "test_order_common.h"

#define ST(x) DLV_STATUS_##x
#define R(x) DLV_RIGHT_##x

#define CASH_PAYMENT_ID "7b1e0000-0000-4000-8000-00000000ca51"
#define EXTERNAL_PAYMENT_ID "7b1e0000-0000-4000-8000-0000000e0001"

static dlv__settings *settings;
static dlv__order *courier_order; /* order_courier.json: Unconfirmed, paid in cash */

/* ---- Scenario orders ---- */

typedef struct scenario {
    bool pickup, paid, external, courier, before_sending;
} scenario;

static void set_payments(dlv__order *o, dlv__money cash, dlv__money external)
{
    for (size_t i = 0; i < o->payment_count; i++) {
        free(o->payments[i].payment_type_id);
        free(o->payments[i].name);
        free(o->payments[i].id);
    }
    free(o->payments);
    o->payments = calloc(2, sizeof *o->payments);
    o->payment_count = 0;
    if (cash)
        o->payments[o->payment_count++] = (dlv__payment){
            strdup(PAYTYPE_ID),     strdup("Наличные"), DLV__PAYMENT_CASH, cash, false, false,
            strdup(CASH_PAYMENT_ID)};
    if (external)
        o->payments[o->payment_count++] = (dlv__payment){
            strdup(PAYTYPE_ID),         strdup("Сайт"), DLV__PAYMENT_EXTERNAL, external, true, true,
            strdup(EXTERNAL_PAYMENT_ID)};
}

static dlv__order *make_order(const scenario *sc)
{
    dlv__order *o = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__order_clone(courier_order, &o), DLV_OK);
    if (sc->pickup)
        o->service_type = DLV_SERVICE_PICKUP;
    /* External 100.00 never pays it all; cash tops it up when the order is paid. */
    set_payments(o, sc->paid ? o->result_sum : 0, sc->external ? 10000 : 0);
    if (sc->courier) {
        o->courier = calloc(1, sizeof *o->courier);
        o->courier->id = strdup(COURIER_OK);
        o->courier->name = strdup("Пётр");
    }
    return o;
}

/* ---- The expectation, from the spec's table ---- */

typedef struct expect {
    int code;
    char needle[96];
} expect;

static bool in(dlv_status s, unsigned mask)
{
    return mask & (1u << s);
}

#define B(x) (1u << ST(x))

static void missing(expect *e, dlv_rights need, dlv_rights have)
{
    static const struct {
        dlv_rights flag;
        const char *name;
    } order[] = {{R(D_CND), "D_CND"},   {R(D_MD), "D_MD"},       {R(D_CD), "D_CD"},
                 {R(D_CAD), "D_CAD"},   {R(D_DEP), "D_DEP"},     {R(D_ED), "D_ED"},
                 {R(D_DCO), "D_DCO"},   {R(D_ACDMM), "D_ACDMM"}, {R(D_SADT), "D_SADT"},
                 {R(F_CASH), "F_CASH"}, {R(F_PA), "F_PA"}};
    e->code = DLV_EMISSINGRIGHT;
    strcpy(e->needle, "missing right ");
    bool first = true;
    for (size_t i = 0; i < DLV__ARRAY_SIZE(order); i++) {
        if ((need & order[i].flag) && !(have & order[i].flag)) {
            if (!first)
                strcat(e->needle, ",");
            strcat(e->needle, order[i].name);
            first = false;
        }
    }
}

static void rule(expect *e, const char *needle)
{
    e->code = DLV_ERULE;
    strcpy(e->needle, needle);
}

static void invalid(expect *e, const char *needle)
{
    e->code = DLV_EINVALIDTRANSITION;
    strcpy(e->needle, needle);
}

/* What "set status `to`" must do for an order in `from`. */
static expect expected_set_status(const scenario *sc, dlv_status from, dlv_status to,
                                  dlv_rights rights)
{
    expect e = {DLV_OK, ""};
    dlv_rights need = 0;
    const char *why = NULL; /* the rule broken, checked after the rights */
    bool paid_before_send = !sc->pickup && sc->before_sending && !sc->paid;
    if (to == ST(CANCELLED)) {
        if (from == ST(CANCELLED)) {
            invalid(&e, "cannot change status from Cancelled to Cancelled");
            return e;
        }
        need = R(D_CAD);
        if (in(from, B(WAITING) | B(ON_WAY) | B(DELIVERED) | B(CLOSED)))
            need |= R(D_MD);
        if (sc->external)
            need |= R(D_DEP);
    } else if (from == ST(UNCONFIRMED) && (to == ST(WAIT_COOKING) || to == ST(READY_FOR_COOKING))) {
        need = R(D_CND);
    } else if (in(from, B(WAIT_COOKING) | B(READY_FOR_COOKING)) && to == ST(COOKING_STARTED)) {
        need = R(D_MD);
    } else if (from == ST(COOKING_STARTED) && to == ST(COOKING_COMPLETED)) {
        need = R(D_MD);
    } else if (from == ST(COOKING_COMPLETED) && to == ST(WAITING)) {
        need = R(D_MD);
        why = paid_before_send ? "paid before sending" : NULL;
    } else if (from == ST(WAITING) && to == ST(ON_WAY) && !sc->pickup) {
        need = R(D_MD);
        why = !sc->courier       ? "no courier is assigned"
              : paid_before_send ? "paid before sending"
                                 : NULL;
    } else if (from == ST(WAITING) && to == ST(CLOSED) && sc->pickup) {
        need = R(D_CD);
        why = !sc->paid ? "not fully paid" : NULL;
    } else if (from == ST(ON_WAY) && to == ST(DELIVERED) && !sc->pickup) {
        need = R(D_SADT); /* «Доставл.»: the right to the button and the actual time */
    } else if (from == ST(DELIVERED) && to == ST(CLOSED)) {
        need = R(D_CD);
        why = !sc->paid ? "not fully paid" : NULL;
    } else if ((from == ST(DELIVERED) && to == ST(ON_WAY)) ||
               (from == ST(ON_WAY) && to == ST(WAITING))) {
        need = R(D_MD); /* undo */
    } else {
        invalid(&e, "cannot change status");
        if (sc->pickup && from == ST(WAITING) && to == ST(ON_WAY))
            strcat(e.needle, " from Waiting to OnWay: pickup orders skip OnWay");
        if (sc->pickup && from == ST(ON_WAY) && to == ST(DELIVERED))
            strcat(e.needle, " from OnWay to Delivered: pickup orders skip Delivered");
        if (!sc->pickup && from == ST(WAITING) && to == ST(CLOSED))
            strcat(e.needle, " from Waiting to Closed: a courier order is sent");
        return e;
    }
    if (need & ~rights)
        missing(&e, need, rights);
    else if (why)
        rule(&e, why);
    return e;
}

static int set_status(const dlv__order *o, dlv_status to, dlv_rights rights, dlv__time now,
                      dlv_status *result, dlv_error *err)
{
    dlv__op op;
    int rc = dlv__op_for_status(o, to, DLV__LOCALE_EN, &op, err);
    if (rc)
        return rc;
    dlv__op_request req = dlv__op_request_make(op, rights);
    req.cancel_cause_id = CAUSE_ID;
    return dlv__op_check(o, settings, &req, now, result, err);
}

static void every_transition_and_right_set(void)
{
    const dlv_rights relevant[] = {R(D_CND), R(D_MD), R(D_CD), R(D_CAD), R(D_DEP), R(D_SADT)};
    dlv__time now = courier_order->complete_before - 2 * 3600; /* well before cooking is due */
    long checked = 0, allowed = 0;
    for (unsigned bits = 0; bits < 32; bits++) {
        scenario sc = {bits & 1, bits & 2, bits & 4, bits & 8, bits & 16};
        settings->payment_moment =
            sc.before_sending ? DLV__PAY_BEFORE_SENDING : DLV__PAY_BEFORE_CLOSING;
        dlv__order *o = make_order(&sc);
        for (int from = 0; from < DLV_STATUS_COUNT; from++) {
            o->status = (dlv_status)from;
            for (int to = 0; to < DLV_STATUS_COUNT; to++) {
                for (unsigned set = 0; set < 64; set++) {
                    dlv_rights rights = 0;
                    for (int k = 0; k < 6; k++)
                        if (set & (1u << k))
                            rights |= relevant[k];
                    /* Rights the operations never need change nothing. */
                    rights |= R(D_ED) | R(F_CASH);
                    expect e = expected_set_status(&sc, (dlv_status)from, (dlv_status)to, rights);
                    dlv_error err = {0};
                    dlv_status result = DLV_STATUS_COUNT;
                    int rc = set_status(o, (dlv_status)to, rights, now, &result, &err);
                    CU_ASSERT_EQUAL(rc, e.code);
                    if (rc != e.code || !dlv_test_contains(err.message, e.needle)) {
                        fprintf(stderr,
                                "\n  %s %s->%s rights %#x paid %d ext %d courier %d bs %d: "
                                "expected %s \"%s\", got %s \"%s\"",
                                sc.pickup ? "pickup" : "courier", dlv__status_names[from],
                                dlv__status_names[to], rights, sc.paid, sc.external, sc.courier,
                                sc.before_sending, dlv_err_name(e.code), e.needle, dlv_err_name(rc),
                                err.message);
                        CU_FAIL("transition differs from the spec");
                    }
                    if (rc == DLV_OK) {
                        /* Confirming before the lead time always gives WaitCooking. */
                        dlv_status want =
                            to == ST(READY_FOR_COOKING) ? ST(WAIT_COOKING) : (dlv_status)to;
                        CU_ASSERT_EQUAL(result, want);
                        allowed++;
                    }
                    checked++;
                }
            }
        }
        dlv__order_free(o);
    }
    CU_ASSERT_EQUAL(checked, 32L * 10 * 10 * 64);
    CU_ASSERT_TRUE(allowed > 1000);
    settings->payment_moment = DLV__PAY_BEFORE_SENDING;
}

/* Operations that are not status changes, for every status and every subset of the rights that
 * matter: `all` must all be held, and at least one of `any` when it is not 0. */
static void other_operations_in_every_status(void)
{
#define NON_FINAL_B (~(B(CLOSED) | B(CANCELLED)) & 0x3FFu)
#define BEFORE_ON_WAY_B                                                                            \
    (B(UNCONFIRMED) | B(WAIT_COOKING) | B(READY_FOR_COOKING) | B(COOKING_STARTED) |                \
     B(COOKING_COMPLETED) | B(WAITING))
    static const struct {
        dlv__op op;
        dlv_rights all, any;
        unsigned allowed; /* statuses */
        unsigned rule_ok; /* of those, where the request's rule holds (else DLV_ERULE) */
        const char *any_text;
    } ops[] = {
        {DLV__OP_TAKE_PAYMENT, R(F_CASH), 0, NON_FINAL_B, NON_FINAL_B, NULL},
        /* The request edits the comment: until OnWay. */
        {DLV__OP_EDIT, R(D_ED), 0, NON_FINAL_B, BEFORE_ON_WAY_B, NULL},
        {DLV__OP_PRINT_INVOICE, R(D_MD), 0, 0x3FFu & ~B(CANCELLED), 0x3FFu, NULL},
        {DLV__OP_ASSIGN_COURIER, 0, R(D_MD) | R(D_ED), BEFORE_ON_WAY_B, 0x3FFu, "D_MD or D_ED"},
        /* The order's own cash payment. */
        {DLV__OP_REMOVE_PAYMENT, R(F_CASH), 0, NON_FINAL_B, 0x3FFu, NULL},
        {DLV__OP_REPRINT, 0, R(D_MD) | R(F_PA), 0x3FFu, 0x3FFu, "D_MD or F_PA"},
    };
    const dlv_rights relevant[] = {R(D_MD), R(D_ED), R(F_CASH), R(F_PA)};
    dlv__payment pay = {.payment_type_id = PAYTYPE_ID, .kind = DLV__PAYMENT_CASH, .sum = 100};
    cJSON *changes = NULL;
    dlv_error perr;
    CU_ASSERT_EQUAL_FATAL(
        dlv__json_parse("{\"comment\":\"у подъезда\"}", 33, 1024, &changes, &perr), DLV_OK);
    dlv__order *o = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__order_clone(courier_order, &o), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(o->payment_count, 1);
    o->payments[0].id = strdup(CASH_PAYMENT_ID);
    long checked = 0;
    for (size_t i = 0; i < DLV__ARRAY_SIZE(ops); i++) {
        for (int st = 0; st < DLV_STATUS_COUNT; st++) {
            for (unsigned set = 0; set < 16; set++) {
                o->status = (dlv_status)st;
                /* Every other right, so only the ones under test decide. */
                dlv_rights rights = DLV_RIGHTS_ALL & ~(R(D_MD) | R(D_ED) | R(F_CASH) | R(F_PA));
                for (int k = 0; k < 4; k++)
                    if (set & (1u << k))
                        rights |= relevant[k];
                dlv__op_request req = dlv__op_request_make(ops[i].op, rights);
                req.payments = &pay;
                req.payment_count = 1;
                req.courier_id = COURIER_OK;
                req.changes = changes;
                req.payment_id = CASH_PAYMENT_ID;
                dlv_error err = {0};
                dlv_status to;
                int rc = dlv__op_check(o, settings, &req, 0, &to, &err);
                bool has_all = (rights & ops[i].all) == ops[i].all;
                bool has_any = !ops[i].any || (rights & ops[i].any);
                checked++;
                if (!(ops[i].allowed & (1u << st))) {
                    CU_ASSERT_EQUAL(rc, DLV_EINVALIDTRANSITION);
                    DLV_ASSERT_CONTAINS(err.message, "the order is");
                } else if (!has_all || !has_any) {
                    CU_ASSERT_EQUAL(rc, DLV_EMISSINGRIGHT);
                    if (!has_all)
                        DLV_ASSERT_CONTAINS(err.message, dlv_right_name((dlv_right)ops[i].all));
                    if (!has_any)
                        DLV_ASSERT_CONTAINS(err.message, ops[i].any_text);
                } else if (!(ops[i].rule_ok & (1u << st))) {
                    CU_ASSERT_EQUAL(rc, DLV_ERULE);
                    DLV_ASSERT_CONTAINS(err.message, "can no longer be edited");
                } else {
                    CU_ASSERT_EQUAL(rc, DLV_OK);
                    CU_ASSERT_EQUAL(to, (dlv_status)st);
                }
            }
        }
    }
    CU_ASSERT_EQUAL(checked, 6L * 10 * 16);
    /* An external payment needs D_DEP to be removed, F_CASH does not do. */
    o->status = ST(WAITING);
    o->payments[0].kind = DLV__PAYMENT_EXTERNAL;
    dlv__op_request req = dlv__op_request_make(DLV__OP_REMOVE_PAYMENT, R(F_CASH));
    req.payment_id = CASH_PAYMENT_ID;
    dlv_error err = {0};
    CU_ASSERT_EQUAL(dlv__op_check(o, settings, &req, 0, NULL, &err), DLV_EMISSINGRIGHT);
    CU_ASSERT_STRING_EQUAL(err.message, "missing right D_DEP to remove a payment (order Waiting)");
    req.rights = R(D_DEP);
    CU_ASSERT_EQUAL(dlv__op_check(o, settings, &req, 0, NULL, &err), DLV_OK);
    req.payment_id = EXTERNAL_PAYMENT_ID; /* not in the order: a rule, after F_CASH */
    req.rights = R(D_DEP) | R(F_CASH);
    CU_ASSERT_EQUAL(dlv__op_check(o, settings, &req, 0, NULL, &err), DLV_ERULE);
    /* Items cannot be edited once a non-cash payment was taken; a field not in EditOrder never. */
    cJSON_Delete(changes);
    CU_ASSERT_EQUAL_FATAL(dlv__json_parse("{\"items\":[]}", 12, 1024, &changes, &perr), DLV_OK);
    req = dlv__op_request_make(DLV__OP_EDIT, R(D_ED));
    req.changes = changes;
    CU_ASSERT_EQUAL(dlv__op_check(o, settings, &req, 0, NULL, &err), DLV_ERULE);
    DLV_ASSERT_CONTAINS(err.message, "a non-cash payment was taken");
    cJSON_Delete(changes);
    CU_ASSERT_EQUAL_FATAL(dlv__json_parse("{\"status\":\"Closed\"}", 19, 1024, &changes, &perr),
                          DLV_OK);
    req.changes = changes;
    CU_ASSERT_EQUAL(dlv__op_check(o, settings, &req, 0, NULL, &err), DLV_ERULE);
    DLV_ASSERT_CONTAINS(err.message, "status cannot be edited");
    /* Creating an order needs D_ED. */
    CU_ASSERT_EQUAL(dlv__create_check(R(D_MD), DLV__LOCALE_EN, &err), DLV_EMISSINGRIGHT);
    CU_ASSERT_STRING_EQUAL(err.message, "missing right D_ED to create an order");
    CU_ASSERT_EQUAL(dlv__create_check(R(D_ED), DLV__LOCALE_EN, &err), DLV_OK);
    cJSON_Delete(changes);
    dlv__order_free(o);
}

static int check(const dlv__order *o, dlv__op_request req, dlv__time now, dlv_status *to,
                 dlv_error *err)
{
    return dlv__op_check(o, settings, &req, now, to, err);
}

static void courier_and_cancel_rules(void)
{
    dlv__order *o = NULL;
    dlv_error err = {0};
    dlv_status to;
    CU_ASSERT_EQUAL_FATAL(dlv__order_clone(courier_order, &o), DLV_OK);
    o->status = ST(COOKING_COMPLETED);
    dlv__op_request req = dlv__op_request_make(DLV__OP_ASSIGN_COURIER, R(D_MD));
    req.courier_id = COURIER_NOT;
    CU_ASSERT_EQUAL(check(o, req, 0, &to, &err), DLV_ERULE);
    CU_ASSERT_STRING_EQUAL(err.message, "Повар cannot be a courier (no right D_DCO)");
    req.courier_id = "d1000000-0000-4000-8000-00000000000f";
    CU_ASSERT_EQUAL(check(o, req, 0, &to, &err), DLV_ERULE);
    DLV_ASSERT_CONTAINS(err.message, "unknown courier");
    req.courier_id = NULL;
    CU_ASSERT_EQUAL(check(o, req, 0, &to, &err), DLV_ERULE);
    /* Debt 6000.50 over the 5000.00 limit needs D_ACDMM too. */
    req.courier_id = COURIER_DEBTOR;
    CU_ASSERT_EQUAL(check(o, req, 0, &to, &err), DLV_EMISSINGRIGHT);
    DLV_ASSERT_CONTAINS(err.message, "missing right D_ACDMM");
    req.rights |= R(D_ACDMM);
    CU_ASSERT_EQUAL(check(o, req, 0, &to, &err), DLV_OK);
    settings->max_courier_debt = 600050; /* at the limit is fine */
    req.rights = R(D_MD);
    CU_ASSERT_EQUAL(check(o, req, 0, &to, &err), DLV_OK);
    settings->has_max_courier_debt = false;
    settings->max_courier_debt = 0;
    CU_ASSERT_EQUAL(check(o, req, 0, &to, &err), DLV_OK);
    settings->has_max_courier_debt = true;
    settings->max_courier_debt = 500000;
    req.courier_id = COURIER_OK;
    o->service_type = DLV_SERVICE_PICKUP;
    CU_ASSERT_EQUAL(check(o, req, 0, &to, &err), DLV_ERULE);
    DLV_ASSERT_CONTAINS(err.message, "pickup order has no courier");
    o->service_type = DLV_SERVICE_COURIER;

    req = dlv__op_request_make(DLV__OP_CANCEL, R(D_CAD));
    CU_ASSERT_EQUAL(check(o, req, 0, &to, &err), DLV_ERULE);
    CU_ASSERT_STRING_EQUAL(err.message, "a cancellation needs a cancel cause");
    req.cancel_cause_id = "c1000000-0000-4000-8000-0000000000ff";
    CU_ASSERT_EQUAL(check(o, req, 0, &to, &err), DLV_ERULE);
    DLV_ASSERT_CONTAINS(err.message, "unknown cancel cause");
    req.cancel_cause_id = "C1000000-0000-4000-8000-000000000002"; /* any case */
    CU_ASSERT_EQUAL(check(o, req, 0, &to, &err), DLV_OK);
    CU_ASSERT_EQUAL(to, ST(CANCELLED));
    req.rights = 0;
    CU_ASSERT_EQUAL(check(o, req, 0, &to, &err), DLV_EMISSINGRIGHT);
    CU_ASSERT_STRING_EQUAL(err.message, "missing right D_CAD to cancel (order CookingCompleted)");
    o->status = ST(CLOSED);
    req.rights = R(D_CAD);
    CU_ASSERT_EQUAL(check(o, req, 0, &to, &err), DLV_EMISSINGRIGHT);
    CU_ASSERT_STRING_EQUAL(err.message, "missing right D_MD to cancel (order Closed)");
    dlv__order_free(o);
}

static void timed_and_automatic_operations(void)
{
    dlv__order *o = NULL;
    dlv_error err = {0};
    dlv_status to;
    CU_ASSERT_EQUAL_FATAL(dlv__order_clone(courier_order, &o), DLV_OK);
    dlv__time due = dlv__cooking_due_at(o, settings);
    CU_ASSERT_EQUAL(due, o->complete_before - 20 * 60);

    /* Confirm goes to WaitCooking before the due time, to ReadyForCooking from it on. */
    dlv__op_request req = dlv__op_request_make(DLV__OP_CONFIRM, R(D_CND));
    CU_ASSERT_EQUAL(check(o, req, due - 1, &to, &err), DLV_OK);
    CU_ASSERT_EQUAL(to, ST(WAIT_COOKING));
    CU_ASSERT_EQUAL(check(o, req, due, &to, &err), DLV_OK);
    CU_ASSERT_EQUAL(to, ST(READY_FOR_COOKING));

    o->status = ST(WAIT_COOKING);
    req = dlv__op_request_make(DLV__OP_LEAD_TIME_REACHED, 0); /* no actor, no rights */
    CU_ASSERT_EQUAL(check(o, req, due - 1, &to, &err), DLV_ERULE);
    DLV_ASSERT_CONTAINS(err.message, "not yet time to cook (due at 2026-11-29T13:10:00Z)");
    CU_ASSERT_EQUAL(check(o, req, due, &to, &err), DLV_OK);
    CU_ASSERT_EQUAL(to, ST(READY_FOR_COOKING));
    o->status = ST(READY_FOR_COOKING);
    CU_ASSERT_EQUAL(check(o, req, due, &to, &err), DLV_EINVALIDTRANSITION);

    req = dlv__op_request_make(DLV__OP_AUTO_START_COOKING, 0);
    settings->cooking_start_mode = DLV__COOKING_MANUAL;
    CU_ASSERT_EQUAL(check(o, req, due, &to, &err), DLV_ERULE);
    DLV_ASSERT_CONTAINS(err.message, "cookingStartMode Manual");
    settings->cooking_start_mode = DLV__COOKING_AUTOMATIC;
    CU_ASSERT_EQUAL(check(o, req, due, &to, &err), DLV_OK);
    CU_ASSERT_EQUAL(to, ST(COOKING_STARTED));
    o->status = ST(WAIT_COOKING);
    CU_ASSERT_EQUAL(check(o, req, due - 60, &to, &err), DLV_ERULE);
    CU_ASSERT_EQUAL(check(o, req, due + 60, &to, &err), DLV_OK);
    o->status = ST(UNCONFIRMED); /* needs a human to confirm first */
    CU_ASSERT_EQUAL(check(o, req, due + 60, &to, &err), DLV_EINVALIDTRANSITION);

    /* Manual start of cooking is allowed early. */
    o->status = ST(WAIT_COOKING);
    req = dlv__op_request_make(DLV__OP_START_COOKING, R(D_MD));
    CU_ASSERT_EQUAL(check(o, req, due - 3600, &to, &err), DLV_OK);

    /* Giving the actual delivery time by hand needs D_SADT. */
    o->status = ST(ON_WAY);
    /* «Доставл.» needs D_SADT with or without a time (D_CD is for closing). */
    req = dlv__op_request_make(DLV__OP_MARK_DELIVERED, R(D_CD));
    CU_ASSERT_EQUAL(check(o, req, 0, &to, &err), DLV_EMISSINGRIGHT);
    req.actual_time = o->complete_before - 60;
    CU_ASSERT_EQUAL(check(o, req, 0, &to, &err), DLV_EMISSINGRIGHT);
    CU_ASSERT_STRING_EQUAL(err.message, "missing right D_SADT to mark delivered (order OnWay)");
    req.rights |= R(D_SADT);
    CU_ASSERT_EQUAL(check(o, req, o->complete_before, &to, &err), DLV_OK);
    /* Not in the future, not before the order existed. */
    CU_ASSERT_EQUAL(check(o, req, o->complete_before - 61, &to, &err), DLV_ERULE);
    DLV_ASSERT_CONTAINS(err.message, "between the order's creation and now");
    req.actual_time = o->when_created - 1;
    CU_ASSERT_EQUAL(check(o, req, o->complete_before, &to, &err), DLV_ERULE);
    dlv__order_free(o);
}

static void applying_changes_the_order(void)
{
    dlv__order *o = NULL;
    dlv_error err = {0};
    CU_ASSERT_EQUAL_FATAL(dlv__order_clone(courier_order, &o), DLV_OK);
    set_payments(o, 0, 0);
    dlv__time now = o->complete_before - 3600;
    dlv__op_request req = dlv__op_request_make(DLV__OP_CONFIRM, R(D_CND));
    CU_ASSERT_EQUAL(dlv__op_apply(o, settings, &req, now, &err), DLV_OK);
    CU_ASSERT_EQUAL(o->status, ST(WAIT_COOKING));
    CU_ASSERT_EQUAL(o->when_confirmed, now);

    req = dlv__op_request_make(DLV__OP_START_COOKING, R(D_MD));
    CU_ASSERT_EQUAL(dlv__op_apply(o, settings, &req, now, &err), DLV_OK);
    req.op = DLV__OP_COOKING_COMPLETED;
    CU_ASSERT_EQUAL(dlv__op_apply(o, settings, &req, now, &err), DLV_OK);
    CU_ASSERT_EQUAL(o->status, ST(COOKING_COMPLETED));

    /* Paid before sending: not yet. */
    req.op = DLV__OP_READY_TO_SEND;
    CU_ASSERT_EQUAL(dlv__op_apply(o, settings, &req, now, &err), DLV_ERULE);
    CU_ASSERT_STRING_EQUAL(err.message, "the order is paid before sending (paymentMoment "
                                        "BeforeSending) and is not fully paid (0.00 of 680.00)");
    CU_ASSERT_EQUAL(o->status, ST(COOKING_COMPLETED));

    dlv__payment pays[] = {
        {PAYTYPE_ID, "Карта", DLV__PAYMENT_CARD, 50000, false, false, NULL},
        {PAYTYPE_ID, NULL, DLV__PAYMENT_CASH, 20000, false, false, NULL},
    };
    req = dlv__op_request_make(DLV__OP_TAKE_PAYMENT, R(F_CASH));
    req.payments = pays;
    req.payment_count = 1;
    CU_ASSERT_EQUAL(dlv__op_apply(o, settings, &req, now, &err), DLV_OK);
    CU_ASSERT_EQUAL(o->payment_count, 1);
    CU_ASSERT_EQUAL(o->when_billed, DLV__TIME_NONE); /* 500.00 of 680.00 */
    /* A card may not pay more than is due: only cash gives change. */
    dlv__payment too_much = {PAYTYPE_ID, NULL, DLV__PAYMENT_CARD, 20000, false, false, NULL};
    req.payments = &too_much;
    CU_ASSERT_EQUAL(dlv__op_apply(o, settings, &req, now, &err), DLV_ERULE);
    DLV_ASSERT_CONTAINS(err.message, "non-cash payments (700.00) would exceed the sum due");
    req.payments = &pays[1];
    CU_ASSERT_EQUAL(dlv__op_apply(o, settings, &req, now + 1, &err), DLV_OK);
    CU_ASSERT_EQUAL(o->payment_count, 2);
    CU_ASSERT_EQUAL(o->when_billed, now + 1);
    CU_ASSERT_EQUAL(dlv__order_change_sum(o), 2000);
    CU_ASSERT_STRING_EQUAL(o->payments[0].name, "Карта");
    CU_ASSERT_PTR_NULL(o->payments[1].name);

    req = dlv__op_request_make(DLV__OP_READY_TO_SEND, R(D_MD));
    CU_ASSERT_EQUAL(dlv__op_apply(o, settings, &req, now, &err), DLV_OK);
    req.op = DLV__OP_SEND;
    CU_ASSERT_EQUAL(dlv__op_apply(o, settings, &req, now, &err), DLV_ERULE);
    CU_ASSERT_STRING_EQUAL(err.message, "no courier is assigned");
    req.op = DLV__OP_ASSIGN_COURIER;
    req.courier_id = COURIER_OK;
    CU_ASSERT_EQUAL(dlv__op_apply(o, settings, &req, now, &err), DLV_OK);
    CU_ASSERT_STRING_EQUAL(o->courier->name, "Пётр");
    CU_ASSERT_STRING_EQUAL(o->courier->phone, "+79990000000");
    req.op = DLV__OP_SEND;
    CU_ASSERT_EQUAL(dlv__op_apply(o, settings, &req, now + 10, &err), DLV_OK);
    CU_ASSERT_EQUAL(o->status, ST(ON_WAY));
    CU_ASSERT_EQUAL(o->when_sent, now + 10);
    req.op = DLV__OP_ASSIGN_COURIER; /* too late now */
    CU_ASSERT_EQUAL(dlv__op_apply(o, settings, &req, now, &err), DLV_EINVALIDTRANSITION);

    req = dlv__op_request_make(DLV__OP_MARK_DELIVERED, R(D_CD) | R(D_SADT));
    req.actual_time = now + 1000;
    CU_ASSERT_EQUAL(dlv__op_apply(o, settings, &req, now + 2000, &err), DLV_OK);
    CU_ASSERT_EQUAL(o->actual_delivery_time, now + 1000);
    req = dlv__op_request_make(DLV__OP_UNDO, R(D_MD));
    CU_ASSERT_EQUAL(dlv__op_apply(o, settings, &req, now, &err), DLV_OK);
    CU_ASSERT_EQUAL(o->status, ST(ON_WAY));
    CU_ASSERT_EQUAL(o->actual_delivery_time, DLV__TIME_NONE);
    CU_ASSERT_EQUAL(dlv__op_apply(o, settings, &req, now, &err), DLV_OK);
    CU_ASSERT_EQUAL(o->status, ST(WAITING));
    CU_ASSERT_EQUAL(o->when_sent, DLV__TIME_NONE);

    req = dlv__op_request_make(DLV__OP_CANCEL, R(D_CAD) | R(D_MD));
    req.cancel_cause_id = CAUSE_ID;
    req.comment = "клиент не отвечает";
    CU_ASSERT_EQUAL(dlv__op_apply(o, settings, &req, now + 5, &err), DLV_OK);
    CU_ASSERT_EQUAL(o->status, ST(CANCELLED));
    CU_ASSERT_STRING_EQUAL(o->cancel_info->cause_name, "Клиент отказался");
    CU_ASSERT_STRING_EQUAL(o->cancel_info->comment, "клиент не отвечает");
    CU_ASSERT_EQUAL(o->cancel_info->when, now + 5);
    /* The result still encodes and decodes. */
    char *text = dlv__order_to_json(o);
    dlv__order *back = NULL;
    CU_ASSERT_EQUAL(dlv__order_from_json(text, strlen(text), 0, &back, &err), DLV_OK);
    DLV_ASSERT_CONTAINS(text, "\"comment\":\"клиент не отвечает\"");
    free(text);
    dlv__order_free(back);
    dlv__order_free(o);
}

/* The staff reads the rules' answers in Russian (the context's default locale); the codes are
 * the same in both languages. */
static void messages_in_russian(void)
{
    dlv__order *o = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__order_clone(courier_order, &o), DLV_OK);
    o->status = ST(READY_FOR_COOKING);
    dlv__op_request req = dlv__op_request_make(DLV__OP_START_COOKING, R(D_CND));
    dlv_error err = {0};
    CU_ASSERT_EQUAL(dlv__op_check(o, settings, &req, 0, NULL, &err), DLV_EMISSINGRIGHT);
    DLV_ASSERT_CONTAINS(err.message, "missing right D_MD to start cooking");
    req.locale = DLV__LOCALE_RU;
    CU_ASSERT_EQUAL(dlv__op_check(o, settings, &req, 0, NULL, &err), DLV_EMISSINGRIGHT);
    DLV_ASSERT_CONTAINS(err.message, "нет права D_MD: начать приготовление");
    DLV_ASSERT_CONTAINS(err.message, "«Пора готовить»");
    req = dlv__op_request_make(DLV__OP_CLOSE, R(D_CD));
    req.locale = DLV__LOCALE_RU;
    CU_ASSERT_EQUAL(dlv__op_check(o, settings, &req, 0, NULL, &err), DLV_EINVALIDTRANSITION);
    CU_ASSERT_STRING_EQUAL(err.message, "нельзя закрыть заказ: заказ в статусе «Пора готовить»");
    o->status = ST(COOKING_STARTED);
    dlv__op op;
    CU_ASSERT_EQUAL(dlv__op_for_status(o, ST(CLOSED), DLV__LOCALE_RU, &op, &err),
                    DLV_EINVALIDTRANSITION);
    CU_ASSERT_STRING_EQUAL(err.message, "нельзя перейти из «Готовится» в «Закрыта»");
    CU_ASSERT_EQUAL(dlv__op_for_status(o, ST(CLOSED), DLV__LOCALE_EN, &op, &err),
                    DLV_EINVALIDTRANSITION);
    CU_ASSERT_STRING_EQUAL(err.message, "cannot change status from CookingStarted to Closed");
    CU_ASSERT_EQUAL(dlv__create_check(R(D_MD), DLV__LOCALE_RU, &err), DLV_EMISSINGRIGHT);
    CU_ASSERT_STRING_EQUAL(err.message, "нет права D_ED: создать заказ");
    CU_ASSERT_STRING_EQUAL(dlv__op_title(DLV__OP_CANCEL, DLV__LOCALE_RU), "отменить заказ");
    CU_ASSERT_STRING_EQUAL(dlv__op_title(DLV__OP_CANCEL, DLV__LOCALE_EN), "cancel");
    for (int op_i = 0; op_i < DLV__OP_COUNT; op_i++)
        CU_ASSERT_PTR_NOT_NULL(dlv__op_title((dlv__op)op_i, DLV__LOCALE_RU));
    dlv__order_free(o);
}

static void public_vocabulary(void)
{
    static const char *const names[] = {
        "Unconfirmed", "WaitCooking", "ReadyForCooking", "CookingStarted", "CookingCompleted",
        "Waiting",     "OnWay",       "Delivered",       "Closed",         "Cancelled"};
    static const int coarse[] = {0, 1, 1, 1, 1, 2, 3, 5, 4, -1};
    for (int s = 0; s < DLV_STATUS_COUNT; s++) {
        dlv_status back;
        CU_ASSERT_STRING_EQUAL(dlv_status_name((dlv_status)s), names[s]);
        CU_ASSERT_EQUAL(dlv_status_from_name(names[s], &back), DLV_OK);
        CU_ASSERT_EQUAL(back, (dlv_status)s);
        CU_ASSERT_EQUAL(dlv_status_coarse_code((dlv_status)s), coarse[s]);
        CU_ASSERT_PTR_NOT_NULL(dlv_status_russian_name((dlv_status)s));
        CU_ASSERT_EQUAL(dlv_status_is_final((dlv_status)s), s >= DLV_STATUS_CLOSED);
    }
    CU_ASSERT_STRING_EQUAL(dlv_status_russian_name(DLV_STATUS_WAITING), "Ждёт отправки");
    CU_ASSERT_STRING_EQUAL(dlv_status_russian_name(DLV_STATUS_READY_FOR_COOKING), "Пора готовить");
    CU_ASSERT_PTR_NULL(dlv_status_name(DLV_STATUS_COUNT));
    CU_ASSERT_PTR_NULL(dlv_status_russian_name((dlv_status)-1));
    CU_ASSERT_EQUAL(dlv_status_coarse_code(DLV_STATUS_COUNT), -1);
    dlv_status st = DLV_STATUS_CLOSED;
    CU_ASSERT_EQUAL(dlv_status_from_name("waiting", &st), DLV_EINVAL);
    CU_ASSERT_EQUAL(dlv_status_from_name(NULL, &st), DLV_EINVAL);
    CU_ASSERT_EQUAL(st, DLV_STATUS_CLOSED);

    CU_ASSERT_STRING_EQUAL(dlv_right_name(DLV_RIGHT_D_CAD), "D_CAD");
    CU_ASSERT_PTR_NULL(dlv_right_name((dlv_right)(DLV_RIGHT_D_CAD | DLV_RIGHT_D_MD)));
    CU_ASSERT_EQUAL(dlv_right_from_name("D_ACDMM"), DLV_RIGHT_D_ACDMM);
    CU_ASSERT_EQUAL(dlv_right_from_name("B_ADM"), 0);
    dlv_rights set = 0;
    CU_ASSERT_EQUAL(dlv_rights_parse("D_CND, D_MD,B_ADM  F_CASH,,", &set), DLV_OK);
    CU_ASSERT_EQUAL(set, DLV_RIGHT_D_CND | DLV_RIGHT_D_MD | DLV_RIGHT_F_CASH);
    CU_ASSERT_EQUAL(dlv_rights_parse(NULL, &set), DLV_EINVAL);
    char buf[64];
    CU_ASSERT_EQUAL(dlv_rights_format(set, buf, sizeof buf), strlen("D_CND,D_MD,F_CASH"));
    CU_ASSERT_STRING_EQUAL(buf, "D_CND,D_MD,F_CASH");
    CU_ASSERT_EQUAL(dlv_rights_format(set, buf, 8), 17);
    CU_ASSERT_STRING_EQUAL(buf, "D_CND,D");
    CU_ASSERT_EQUAL(dlv_rights_format(DLV_RIGHTS_ALL, NULL, 0), 65);
    for (unsigned bit = 0; bit < 10; bit++) {
        const char *name = dlv_right_name((dlv_right)(1u << bit));
        CU_ASSERT_PTR_NOT_NULL_FATAL(name);
        CU_ASSERT_EQUAL(dlv_right_from_name(name), (dlv_right)(1u << bit));
    }
    dlv_service_type type;
    CU_ASSERT_STRING_EQUAL(dlv_service_type_name(DLV_SERVICE_PICKUP), "DeliveryByClient");
    CU_ASSERT_EQUAL(dlv_service_type_from_name("DeliveryByCourier", &type), DLV_OK);
    CU_ASSERT_EQUAL(type, DLV_SERVICE_COURIER);
    CU_ASSERT_EQUAL(dlv_service_type_from_name("Drone", &type), DLV_EINVAL);
    CU_ASSERT_PTR_NULL(dlv_service_type_name((dlv_service_type)2));
}

/* ---- Actions (dlv__order_actions) against dlv__op_check ---- */

/* Whether some request for `action` passes dlv__op_check: the request path's own check, with
 * every argument a host could send (the settings' causes and couriers, the order's payments,
 * each editable field, a cash or card payment). Written apart from machine.c's dry runs. */
static bool request_passes(const dlv__order *o, dlv__action action, dlv_rights rights,
                           dlv__time now)
{
    static const dlv_status targets[] = {
        [DLV__ACTION_COOKING_STARTED] = ST(COOKING_STARTED),
        [DLV__ACTION_COOKING_COMPLETED] = ST(COOKING_COMPLETED),
        [DLV__ACTION_WAITING] = ST(WAITING),
        [DLV__ACTION_ON_WAY] = ST(ON_WAY),
        [DLV__ACTION_DELIVERED] = ST(DELIVERED),
        [DLV__ACTION_CLOSED] = ST(CLOSED),
        [DLV__ACTION_CANCEL] = 0,
    };
    dlv__op_request req = dlv__op_request_make(DLV__OP_CONFIRM, rights);
    switch (action) {
    case DLV__ACTION_CONFIRM:
        return dlv__op_check(o, settings, &req, now, NULL, NULL) == DLV_OK;
    case DLV__ACTION_CANCEL:
        req.op = DLV__OP_CANCEL;
        for (size_t i = 0; i < settings->cancel_cause_count; i++) {
            req.cancel_cause_id = settings->cancel_causes[i].id;
            if (dlv__op_check(o, settings, &req, now, NULL, NULL) == DLV_OK)
                return true;
        }
        return false;
    case DLV__ACTION_ASSIGN_COURIER:
        req.op = DLV__OP_ASSIGN_COURIER;
        for (size_t i = 0; i < settings->courier_count; i++) {
            req.courier_id = settings->couriers[i].id;
            if (dlv__op_check(o, settings, &req, now, NULL, NULL) == DLV_OK)
                return true;
        }
        return false;
    case DLV__ACTION_PAY: {
        req.op = DLV__OP_TAKE_PAYMENT;
        for (int kind = 0; kind < 2; kind++) {
            dlv__payment p = {
                .payment_type_id = PAYTYPE_ID, .kind = (dlv__payment_kind)kind, .sum = 100};
            req.payments = &p;
            req.payment_count = 1;
            if (dlv__op_check(o, settings, &req, now, NULL, NULL) == DLV_OK)
                return true;
        }
        return false;
    }
    case DLV__ACTION_PRINT_INVOICE:
        req.op = DLV__OP_PRINT_INVOICE;
        return dlv__op_check(o, settings, &req, now, NULL, NULL) == DLV_OK;
    case DLV__ACTION_EDIT_ORDER: {
        static const char *const changes[] = {"{\"items\":[]}",      "{\"address\":null}",
                                              "{\"comment\":\"x\"}", "{\"completeBefore\":null}",
                                              "{\"phone\":\"+7\"}",  "{\"customer\":null}",
                                              "{\"personsCount\":2}"};
        req.op = DLV__OP_EDIT;
        bool any = false;
        for (size_t i = 0; !any && i < DLV__ARRAY_SIZE(changes); i++) {
            cJSON *c = cJSON_Parse(changes[i]);
            req.changes = c;
            any = dlv__op_check(o, settings, &req, now, NULL, NULL) == DLV_OK;
            cJSON_Delete(c);
        }
        return any;
    }
    case DLV__ACTION_REMOVE_PAYMENT:
        req.op = DLV__OP_REMOVE_PAYMENT;
        for (size_t i = 0; i < o->payment_count; i++) {
            req.payment_id = o->payments[i].id;
            if (dlv__op_check(o, settings, &req, now, NULL, NULL) == DLV_OK)
                return true;
        }
        return false;
    default: {
        /* setStatus: the operation the host's request would run. */
        dlv__op op;
        if (dlv__op_for_status(o, targets[action], DLV__LOCALE_EN, &op, NULL) != DLV_OK)
            return false;
        req.op = op;
        return dlv__op_check(o, settings, &req, now, NULL, NULL) == DLV_OK;
    }
    }
}

static void actions_agree_with_the_check(void)
{
    static const dlv_rights all_rights[] = {R(D_CND),  R(D_MD),   R(D_CD),  R(D_CAD),
                                            R(D_DEP),  R(D_ED),   R(D_DCO), R(D_ACDMM),
                                            R(D_SADT), R(F_CASH), R(F_PA)};
    enum { N = DLV__ARRAY_SIZE(all_rights) };
    dlv_rights every = 0;
    for (int k = 0; k < N; k++)
        every |= all_rights[k];
    /* Nobody, each right alone, every right, every right but one. */
    dlv_rights sets[2 + 2 * N];
    size_t nsets = 0;
    sets[nsets++] = 0;
    sets[nsets++] = every;
    for (int k = 0; k < N; k++) {
        sets[nsets++] = all_rights[k];
        sets[nsets++] = every & ~all_rights[k];
    }
    dlv__time now = courier_order->complete_before - 2 * 3600;
    long listed = 0, refused = 0;
    unsigned seen = 0;
    for (unsigned bits = 0; bits < 32; bits++) {
        scenario sc = {bits & 1, bits & 2, bits & 4, bits & 8, bits & 16};
        settings->payment_moment =
            sc.before_sending ? DLV__PAY_BEFORE_SENDING : DLV__PAY_BEFORE_CLOSING;
        dlv__order *o = make_order(&sc);
        for (int st = 0; st < DLV_STATUS_COUNT; st++) {
            o->status = (dlv_status)st;
            for (size_t r = 0; r < nsets; r++) {
                dlv__action_set got = dlv__order_actions(o, settings, sets[r], now);
                if (sets[r] == 0)
                    CU_ASSERT_EQUAL(got, 0u);
                CU_ASSERT_EQUAL(got >> DLV__ACTION_COUNT, 0u);
                seen |= got;
                for (int a = 0; a < DLV__ACTION_COUNT; a++) {
                    bool want = request_passes(o, (dlv__action)a, sets[r], now);
                    bool has = (got >> a) & 1u;
                    if (want != has) {
                        fprintf(stderr, "\n  %s %s rights %#x paid %d ext %d courier %d: %s %s",
                                sc.pickup ? "pickup" : "courier", dlv__status_names[st], sets[r],
                                sc.paid, sc.external, sc.courier, dlv__action_name((dlv__action)a),
                                has ? "listed but refused" : "passes but not listed");
                        CU_FAIL("actions differ from dlv__op_check");
                    }
                    if (has)
                        listed++;
                    else
                        refused++;
                }
            }
        }
        dlv__order_free(o);
    }
    settings->payment_moment = DLV__PAY_BEFORE_CLOSING;
    /* Every action of the vocabulary shows up somewhere, and both answers were exercised. */
    CU_ASSERT_EQUAL(seen, (1u << DLV__ACTION_COUNT) - 1);
    CU_ASSERT(listed > 1000 && refused > 1000);
}

static void actions_by_right_and_name(void)
{
    dlv__time now = courier_order->complete_before - 2 * 3600;
    scenario sc = {0};
    dlv__order *o = make_order(&sc);
    o->status = ST(UNCONFIRMED);
    dlv_rights base = R(D_CND) | R(D_MD) | R(D_ED) | R(F_CASH);
    dlv__action_set without = dlv__order_actions(o, settings, base, now);
    dlv__action_set with = dlv__order_actions(o, settings, base | R(D_CAD), now);
    CU_ASSERT(!(without & (1u << DLV__ACTION_CANCEL)));
    CU_ASSERT(with & (1u << DLV__ACTION_CANCEL));
    CU_ASSERT(with & (1u << DLV__ACTION_CONFIRM));
    CU_ASSERT(!(with & (1u << DLV__ACTION_COOKING_STARTED)));
    o->status = ST(WAIT_COOKING);
    CU_ASSERT(dlv__order_actions(o, settings, base, now) & (1u << DLV__ACTION_COOKING_STARTED));
    /* Nothing without settings or rights. */
    CU_ASSERT_EQUAL(dlv__order_actions(o, NULL, base, now), 0u);
    CU_ASSERT_EQUAL(dlv__order_actions(NULL, settings, base, now), 0u);
    dlv__order_free(o);
    /* The names are the host's: setStatus targets by status name, the rest by request. */
    static const char *const names[DLV__ACTION_COUNT] = {
        "Confirm",      "CookingStarted", "CookingCompleted", "Waiting",       "OnWay",
        "Delivered",    "Closed",         "Cancel",           "AssignCourier", "Pay",
        "PrintInvoice", "EditOrder",      "RemovePayment"};
    for (int a = 0; a < DLV__ACTION_COUNT; a++)
        CU_ASSERT_STRING_EQUAL(dlv__action_name((dlv__action)a), names[a]);
    for (int a = DLV__ACTION_COOKING_STARTED; a <= DLV__ACTION_CLOSED; a++) {
        dlv_status st;
        CU_ASSERT_EQUAL(dlv_status_from_name(dlv__action_name((dlv__action)a), &st), DLV_OK);
    }
    CU_ASSERT_STRING_EQUAL(dlv__action_name(DLV__ACTION_COUNT), "");
}

int main(void)
{
    courier_order = load_order("order_courier.json", 0);
    settings = load_settings();
    /* The lead time counts back from completeBefore here (no courier travel time); the 1.1
     * courier rule is tested in test_order_rules.c. */
    if (settings)
        settings->courier_delivery_minutes = 0;
    if (!courier_order || !settings)
        return 1;
    static const dlv_test_case cases[] = {
        DLV_TEST(every_transition_and_right_set),
        DLV_TEST(other_operations_in_every_status),
        DLV_TEST(courier_and_cancel_rules),
        DLV_TEST(timed_and_automatic_operations),
        DLV_TEST(applying_changes_the_order),
        DLV_TEST(public_vocabulary),
        DLV_TEST(actions_agree_with_the_check),
        DLV_TEST(actions_by_right_and_name),
        DLV_TEST(messages_in_russian),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("order_machine", cases);
    dlv__order_free(courier_order);
    dlv__settings_free(settings);
    return rc;
}
