/* The operation table (the statuses, service type and rights each operation needs, the rules
 * checked after the rights, and the change it makes) and its interpreter (see machine.h). */
#include "order/machine.h"

#include <stdio.h>
#include <string.h>

#define S(x) (1u << DLV_STATUS_##x)
#define EARLY                                                                                      \
    (S(UNCONFIRMED) | S(WAIT_COOKING) | S(READY_FOR_COOKING) | S(COOKING_STARTED) |                \
     S(COOKING_COMPLETED))
#define LATE (S(WAITING) | S(ON_WAY) | S(DELIVERED) | S(CLOSED))
#define NON_FINAL (EARLY | S(WAITING) | S(ON_WAY) | S(DELIVERED))
#define BEFORE_ON_WAY (EARLY | S(WAITING))
#define ALL (NON_FINAL | S(CLOSED) | S(CANCELLED))

/* Targets besides real statuses. */
enum { SAME = -1, CONFIRMED = -2 };

/* Service types a row applies to. */
enum { COURIER = 1u << DLV_SERVICE_COURIER, PICKUP = 1u << DLV_SERVICE_PICKUP };
#define ANY_SERVICE (COURIER | PICKUP)

/* Rules checked after the rights. */
enum {
    ACTORLESS = 1u << 0,           /* the timer or the automatic mode does it, rights ignored */
    NEED_DUE = 1u << 1,            /* now >= completeBefore - lead */
    NEED_AUTOMATIC = 1u << 2,      /* cookingStartMode Automatic */
    PAID_IF_BEFORE_SEND = 1u << 3, /* courier orders paid when paymentMoment is BeforeSending */
    FULLY_PAID = 1u << 4,
    COURIER_ASSIGNED = 1u << 5,
    VALID_COURIER = 1u << 6,  /* the requested courier can be one; D_ACDMM over the debt */
    CAUSE = 1u << 7,          /* a cancel cause from the settings; D_DEP if paid externally */
    PAYMENTS = 1u << 8,       /* the request carries valid payments */
    SADT_IF_TIMED = 1u << 9,  /* D_SADT when the actual time is given */
    COURIER_ORDER = 1u << 10, /* refuse pickup orders as a rule (not a transition) */
    EDIT_FIELDS = 1u << 11,   /* the changes name editable fields, each editable now */
    PAYMENT_BY_ID = 1u << 12, /* the payment exists; F_CASH for own, D_DEP for external */
};

typedef struct op_row {
    dlv__op op;
    unsigned from;     /* status bits */
    int to;            /* dlv_status, SAME or CONFIRMED */
    unsigned service;  /* COURIER/PICKUP */
    dlv_rights rights; /* every one of them */
    dlv_rights any_of; /* and, when not 0, at least one of these */
    unsigned rules;
    const char *service_reason; /* why the other service type cannot */
} op_row;

static const op_row table[] = {
    {DLV__OP_CONFIRM, S(UNCONFIRMED), CONFIRMED, ANY_SERVICE, DLV_RIGHT_D_CND, 0, 0, NULL},
    {DLV__OP_LEAD_TIME_REACHED, S(WAIT_COOKING), DLV_STATUS_READY_FOR_COOKING, ANY_SERVICE, 0, 0,
     ACTORLESS | NEED_DUE, NULL},
    {DLV__OP_START_COOKING, S(WAIT_COOKING) | S(READY_FOR_COOKING), DLV_STATUS_COOKING_STARTED,
     ANY_SERVICE, DLV_RIGHT_D_MD, 0, 0, NULL},
    {DLV__OP_AUTO_START_COOKING, S(WAIT_COOKING) | S(READY_FOR_COOKING), DLV_STATUS_COOKING_STARTED,
     ANY_SERVICE, 0, 0, ACTORLESS | NEED_DUE | NEED_AUTOMATIC, NULL},
    {DLV__OP_COOKING_COMPLETED, S(COOKING_STARTED), DLV_STATUS_COOKING_COMPLETED, ANY_SERVICE,
     DLV_RIGHT_D_MD, 0, 0, NULL},
    {DLV__OP_READY_TO_SEND, S(COOKING_COMPLETED), DLV_STATUS_WAITING, ANY_SERVICE, DLV_RIGHT_D_MD,
     0, PAID_IF_BEFORE_SEND, NULL},
    {DLV__OP_TAKE_PAYMENT, NON_FINAL, SAME, ANY_SERVICE, DLV_RIGHT_F_CASH, 0, PAYMENTS, NULL},
    {DLV__OP_ASSIGN_COURIER, BEFORE_ON_WAY, SAME, ANY_SERVICE, 0, DLV_RIGHT_D_MD | DLV_RIGHT_D_ED,
     COURIER_ORDER | VALID_COURIER, NULL},
    {DLV__OP_SEND, S(WAITING), DLV_STATUS_ON_WAY, COURIER, DLV_RIGHT_D_MD, 0,
     COURIER_ASSIGNED | PAID_IF_BEFORE_SEND, "pickup orders skip OnWay"},
    {DLV__OP_MARK_DELIVERED, S(ON_WAY), DLV_STATUS_DELIVERED, COURIER, DLV_RIGHT_D_SADT, 0,
     SADT_IF_TIMED, "pickup orders skip Delivered"},
    {DLV__OP_PICKUP_HANDED_OVER, S(WAITING), DLV_STATUS_CLOSED, PICKUP, DLV_RIGHT_D_CD, 0,
     FULLY_PAID, "a courier order is sent and delivered before it is closed"},
    {DLV__OP_CLOSE, S(DELIVERED), DLV_STATUS_CLOSED, ANY_SERVICE, DLV_RIGHT_D_CD, 0, FULLY_PAID,
     NULL},
    {DLV__OP_UNDO, S(DELIVERED), DLV_STATUS_ON_WAY, ANY_SERVICE, DLV_RIGHT_D_MD, 0, 0, NULL},
    {DLV__OP_UNDO, S(ON_WAY), DLV_STATUS_WAITING, ANY_SERVICE, DLV_RIGHT_D_MD, 0, 0, NULL},
    {DLV__OP_CANCEL, EARLY, DLV_STATUS_CANCELLED, ANY_SERVICE, DLV_RIGHT_D_CAD, 0, CAUSE, NULL},
    {DLV__OP_CANCEL, LATE, DLV_STATUS_CANCELLED, ANY_SERVICE, DLV_RIGHT_D_CAD | DLV_RIGHT_D_MD, 0,
     CAUSE, NULL},
    {DLV__OP_EDIT, NON_FINAL, SAME, ANY_SERVICE, DLV_RIGHT_D_ED, 0, EDIT_FIELDS, NULL},
    {DLV__OP_PRINT_INVOICE, ALL & ~S(CANCELLED), SAME, ANY_SERVICE, DLV_RIGHT_D_MD, 0, 0, NULL},
    {DLV__OP_REMOVE_PAYMENT, NON_FINAL, SAME, ANY_SERVICE, 0, 0, PAYMENT_BY_ID, NULL},
    {DLV__OP_REPRINT, ALL, SAME, ANY_SERVICE, 0, DLV_RIGHT_F_PA | DLV_RIGHT_D_MD, 0, NULL},
};

static const char *const op_names[DLV__OP_COUNT] = {
    [DLV__OP_CONFIRM] = "confirm",
    [DLV__OP_LEAD_TIME_REACHED] = "mark time to cook",
    [DLV__OP_START_COOKING] = "start cooking",
    [DLV__OP_AUTO_START_COOKING] = "start cooking automatically",
    [DLV__OP_COOKING_COMPLETED] = "complete cooking",
    [DLV__OP_READY_TO_SEND] = "make ready to send",
    [DLV__OP_TAKE_PAYMENT] = "take payment",
    [DLV__OP_ASSIGN_COURIER] = "assign a courier",
    [DLV__OP_SEND] = "send",
    [DLV__OP_MARK_DELIVERED] = "mark delivered",
    [DLV__OP_PICKUP_HANDED_OVER] = "hand over",
    [DLV__OP_CLOSE] = "close",
    [DLV__OP_UNDO] = "undo",
    [DLV__OP_CANCEL] = "cancel",
    [DLV__OP_EDIT] = "edit",
    [DLV__OP_PRINT_INVOICE] = "print the invoice",
    [DLV__OP_REMOVE_PAYMENT] = "remove a payment",
    [DLV__OP_REPRINT] = "reprint",
};

const char *dlv__op_name(dlv__op op)
{
    return (unsigned)op < DLV__OP_COUNT ? op_names[op] : "unknown operation";
}

/* The operations as the staff reads them in Russian replies («нет права D_MD: начать
 * приготовление»). */
static const char *const op_names_ru[DLV__OP_COUNT] = {
    [DLV__OP_CONFIRM] = "подтвердить заказ",
    [DLV__OP_LEAD_TIME_REACHED] = "отметить «Пора готовить»",
    [DLV__OP_START_COOKING] = "начать приготовление",
    [DLV__OP_AUTO_START_COOKING] = "начать приготовление автоматически",
    [DLV__OP_COOKING_COMPLETED] = "завершить приготовление",
    [DLV__OP_READY_TO_SEND] = "подготовить к отправке",
    [DLV__OP_TAKE_PAYMENT] = "принять оплату",
    [DLV__OP_ASSIGN_COURIER] = "назначить курьера",
    [DLV__OP_SEND] = "отправить с курьером",
    [DLV__OP_MARK_DELIVERED] = "отметить доставку",
    [DLV__OP_PICKUP_HANDED_OVER] = "выдать заказ",
    [DLV__OP_CLOSE] = "закрыть заказ",
    [DLV__OP_UNDO] = "вернуть на шаг назад",
    [DLV__OP_CANCEL] = "отменить заказ",
    [DLV__OP_EDIT] = "изменить заказ",
    [DLV__OP_PRINT_INVOICE] = "напечатать накладную",
    [DLV__OP_REMOVE_PAYMENT] = "удалить оплату",
    [DLV__OP_REPRINT] = "напечатать повторно",
};

const char *dlv__op_title(dlv__op op, dlv__locale loc)
{
    if (loc != DLV__LOCALE_RU)
        return dlv__op_name(op);
    return (unsigned)op < DLV__OP_COUNT ? op_names_ru[op] : "неизвестное действие";
}

/* A status as the staff reads it: «Готовится» in Russian, CookingStarted in English. */
static const char *status_title(dlv_status st, dlv__locale loc)
{
    return loc == DLV__LOCALE_RU ? dlv_status_russian_name(st) : dlv_status_name(st);
}

/* The table's service reasons in Russian (the table keeps the English text). */
static const char *reason_title(const char *en, dlv__locale loc)
{
    static const struct {
        const char *en, *ru;
    } reasons[] = {
        {"pickup orders skip OnWay", "самовывоз не бывает «В пути»"},
        {"pickup orders skip Delivered", "самовывоз не бывает «Доставлена»"},
        {"a courier order is sent and delivered before it is closed",
         "курьерский заказ закрывают после отправки и доставки"},
    };
    for (size_t i = 0; loc == DLV__LOCALE_RU && en && i < DLV__ARRAY_SIZE(reasons); i++)
        if (strcmp(en, reasons[i].en) == 0)
            return reasons[i].ru;
    return en;
}

dlv__op_request dlv__op_request_make(dlv__op op, dlv_rights rights)
{
    dlv__op_request req;
    memset(&req, 0, sizeof req);
    req.op = op;
    req.rights = rights;
    req.actual_time = DLV__TIME_NONE;
    return req;
}

dlv__time dlv__kitchen_deadline(const dlv__order *o, const dlv__settings *s)
{
    if (o->service_type != DLV_SERVICE_COURIER)
        return o->complete_before;
    if (o->predicted_cooking_complete_time != DLV__TIME_NONE)
        return o->predicted_cooking_complete_time;
    return o->complete_before - (dlv__time)s->courier_delivery_minutes * 60;
}

dlv__time dlv__cooking_due_at(const dlv__order *o, const dlv__settings *s)
{
    /* A courier order: the courier's travel comes first, so the kitchen's own time counts back
     * from the kitchen's deadline, not from when the customer expects the order. */
    if (o->service_type == DLV_SERVICE_COURIER)
        return dlv__kitchen_deadline(o, s) - (dlv__time)s->courier_cooking_minutes * 60;
    return o->complete_before - (dlv__time)s->pickup_cooking_lead_minutes * 60;
}

/* What the table must satisfy for dlv__op_check to be sound: known operations with a name, from
 * and to real statuses, at least one service type, and a reason wherever a row excludes one
 * (its text ends up in the error message). Checked by DLV__ASSERT, so only in debug builds. */
static bool table_consistent(void)
{
    for (size_t i = 0; i < DLV__ARRAY_SIZE(table); i++) {
        const op_row *row = &table[i];
        if ((unsigned)row->op >= DLV__OP_COUNT || !op_names[row->op])
            return false;
        if (row->from == 0 || (row->from & ~(unsigned)ALL) != 0)
            return false;
        if (row->to != SAME && row->to != CONFIRMED && (unsigned)row->to >= DLV_STATUS_COUNT)
            return false;
        if (row->service == 0 || (row->service & ~(unsigned)ANY_SERVICE) != 0)
            return false;
        if ((row->service != ANY_SERVICE) != (row->service_reason != NULL))
            return false;
    }
    return true;
}

static const op_row *find_row(dlv__op op, dlv_status status)
{
    for (size_t i = 0; i < DLV__ARRAY_SIZE(table); i++)
        if (table[i].op == op && (table[i].from & (1u << status)))
            return &table[i];
    return NULL;
}

static int money_rule(dlv_error *err, const char *fmt, dlv__money a, dlv__money b)
{
    char ta[32], tb[32];
    dlv__decimal_format(a, DLV__MONEY_SCALE, true, ta);
    dlv__decimal_format(b, DLV__MONEY_SCALE, true, tb);
    return dlv__error_set(err, DLV_ERULE, fmt, ta, tb);
}

static int check_payments(const dlv__order *o, const dlv__op_request *req, dlv_error *err)
{
    dlv__locale loc = req->locale;
    if (!req->payments || req->payment_count == 0)
        return dlv__error_set(
            err, DLV_ERULE,
            DLV__TR(loc, "take payment: no payment given", "принять оплату: оплата не указана"));
    if (o->payment_count + req->payment_count > DLV__ORDER_MAX_PAYMENTS)
        return dlv__error_set(
            err, DLV_ERULE,
            DLV__TR(loc, "take payment: more than %d payments", "принять оплату: больше %d оплат"),
            DLV__ORDER_MAX_PAYMENTS);
    dlv__money non_cash = 0;
    for (size_t i = 0; i < o->payment_count; i++)
        if (o->payments[i].kind != DLV__PAYMENT_CASH)
            non_cash += o->payments[i].sum;
    for (size_t i = 0; i < req->payment_count; i++) {
        const dlv__payment *p = &req->payments[i];
        if (!dlv__uuid_valid(p->payment_type_id))
            return dlv__error_set(err, DLV_ERULE, "payments[%zu].paymentTypeId: not a UUID", i);
        if ((unsigned)p->kind > DLV__PAYMENT_EXTERNAL)
            return dlv__error_set(err, DLV_ERULE, "payments[%zu].kind: unknown", i);
        if (p->sum <= 0 || p->sum > DLV__MONEY_MAX)
            return dlv__error_set(err, DLV_ERULE, "payments[%zu].sum: out of range", i);
        if (p->name && !dlv__utf8_valid(p->name, strlen(p->name)))
            return dlv__error_set(err, DLV_ERULE, "payments[%zu].name: invalid UTF-8", i);
        if (p->kind != DLV__PAYMENT_CASH)
            non_cash += p->sum;
    }
    if (non_cash > o->result_sum)
        return money_rule(err,
                          DLV__TR(loc,
                                  "non-cash payments (%s) would exceed the sum due (%s): only "
                                  "cash gives change",
                                  "безналичные оплаты (%s) превысили бы сумму к оплате (%s): "
                                  "сдачу даёт только наличная оплата"),
                          non_cash, o->result_sum);
    return DLV_OK;
}

/* Rights the request needs beyond the row's, from the order and the request. */
static dlv_rights extra_rights(const op_row *row, const dlv__order *o, const dlv__settings *s,
                               const dlv__op_request *req)
{
    dlv_rights need = 0;
    if ((row->rules & CAUSE) && dlv__order_has_external_payment(o))
        need |= DLV_RIGHT_D_DEP;
    if ((row->rules & SADT_IF_TIMED) && req->actual_time != DLV__TIME_NONE)
        need |= DLV_RIGHT_D_SADT;
    if (row->rules & VALID_COURIER) {
        const dlv__courier *c = dlv__settings_courier(s, req->courier_id);
        if (c && s->has_max_courier_debt && c->debt > s->max_courier_debt)
            need |= DLV_RIGHT_D_ACDMM;
    }
    if (row->rules & PAYMENT_BY_ID) {
        /* An unknown payment is refused as a rule, after the rights: F_CASH for the question. */
        const dlv__payment *pay = dlv__order_payment(o, req->payment_id);
        need |= pay && pay->kind == DLV__PAYMENT_EXTERNAL ? DLV_RIGHT_D_DEP : DLV_RIGHT_F_CASH;
    }
    return need;
}

/* Fields EditOrder may name, and whether they stay editable up to Closed (items) or only
 * before OnWay (the rest). */
static const struct {
    const char *key;
    bool until_closed;
} editable[] = {
    {"items", true},  {"address", false},  {"comment", false},      {"completeBefore", false},
    {"phone", false}, {"customer", false}, {"personsCount", false},
};

static int check_edit(const dlv__order *o, const dlv__op_request *req, dlv_error *err)
{
    dlv__locale loc = req->locale;
    if (!cJSON_IsObject(req->changes) || !req->changes->child)
        return dlv__error_set(
            err, DLV_ERULE,
            DLV__TR(loc, "edit: no changes given", "изменить заказ: изменения не указаны"));
    for (const cJSON *c = req->changes->child; c; c = c->next) {
        size_t k = 0;
        while (k < DLV__ARRAY_SIZE(editable) && (!c->string || strcmp(c->string, editable[k].key)))
            k++;
        if (k == DLV__ARRAY_SIZE(editable))
            return dlv__error_set(err, DLV_ERULE,
                                  DLV__TR(loc, "edit: %.60s cannot be edited",
                                          "изменить заказ: поле %.60s менять нельзя"),
                                  c->string ? c->string : "(no name)");
        if (editable[k].until_closed && dlv__order_has_non_cash_payment(o))
            return dlv__error_set(err, DLV_ERULE,
                                  DLV__TR(loc,
                                          "edit: items can no longer be edited: a non-cash "
                                          "payment was taken",
                                          "изменить заказ: состав уже нельзя менять: принята "
                                          "безналичная оплата"));
        if (!editable[k].until_closed && !((BEFORE_ON_WAY) & (1u << o->status)))
            return dlv__error_set(err, DLV_ERULE,
                                  DLV__TR(loc, "edit: %s can no longer be edited: the order is %s",
                                          "изменить заказ: поле %s уже нельзя менять: заказ в "
                                          "статусе «%s»"),
                                  editable[k].key, status_title(o->status, loc));
    }
    return DLV_OK;
}

static int check_rules(const op_row *row, const dlv__order *o, const dlv__settings *s,
                       const dlv__op_request *req, dlv__time now, dlv_error *err)
{
    unsigned r = row->rules;
    dlv__locale loc = req->locale;
    if ((r & NEED_AUTOMATIC) && s->cooking_start_mode != DLV__COOKING_AUTOMATIC)
        return dlv__error_set(err, DLV_ERULE,
                              DLV__TR(loc, "cooking starts by hand (cookingStartMode Manual)",
                                      "приготовление начинают вручную (cookingStartMode Manual)"));
    if ((r & NEED_DUE) && now < dlv__cooking_due_at(o, s)) {
        char due[21];
        dlv__time_format(dlv__cooking_due_at(o, s), due);
        return dlv__error_set(
            err, DLV_ERULE,
            DLV__TR(loc, "not yet time to cook (due at %s)", "ещё не пора готовить (пора в %s)"),
            due);
    }
    if ((r & COURIER_ORDER) && o->service_type != DLV_SERVICE_COURIER)
        return dlv__error_set(
            err, DLV_ERULE,
            DLV__TR(loc, "a pickup order has no courier", "у самовывоза нет курьера"));
    if (r & VALID_COURIER) {
        const dlv__courier *c = dlv__settings_courier(s, req->courier_id);
        if (!c)
            return dlv__error_set(err, DLV_ERULE,
                                  DLV__TR(loc, "unknown courier %.40s", "неизвестный курьер %.40s"),
                                  req->courier_id ? req->courier_id : "(none)");
        if (!c->can_be_courier)
            return dlv__error_set(err, DLV_ERULE,
                                  DLV__TR(loc, "%.80s cannot be a courier (no right D_DCO)",
                                          "%.80s не может быть курьером (нет права D_DCO)"),
                                  c->name);
    }
    if ((r & COURIER_ASSIGNED) && !o->courier)
        return dlv__error_set(err, DLV_ERULE,
                              DLV__TR(loc, "no courier is assigned", "курьер не назначен"));
    if ((r & PAID_IF_BEFORE_SEND) && o->service_type == DLV_SERVICE_COURIER &&
        s->payment_moment == DLV__PAY_BEFORE_SENDING && !dlv__order_fully_paid(o))
        return money_rule(err,
                          DLV__TR(loc,
                                  "the order is paid before sending (paymentMoment "
                                  "BeforeSending) and is not fully paid (%s of %s)",
                                  "заказ оплачивают до отправки (paymentMoment BeforeSending), "
                                  "а он оплачен не полностью (%s из %s)"),
                          dlv__order_paid_sum(o), o->result_sum);
    if ((r & FULLY_PAID) && !dlv__order_fully_paid(o))
        return money_rule(err,
                          DLV__TR(loc, "the order is not fully paid (%s of %s)",
                                  "заказ оплачен не полностью (%s из %s)"),
                          dlv__order_paid_sum(o), o->result_sum);
    if ((r & CAUSE) && !req->cancel_cause_id)
        return dlv__error_set(
            err, DLV_ERULE,
            DLV__TR(loc, "a cancellation needs a cancel cause", "для отмены нужна причина отмены"));
    if ((r & CAUSE) && !dlv__settings_cancel_cause(s, req->cancel_cause_id))
        return dlv__error_set(
            err, DLV_ERULE,
            DLV__TR(loc, "unknown cancel cause %.40s", "неизвестная причина отмены %.40s"),
            req->cancel_cause_id);
    if ((r & CAUSE) && req->comment && !dlv__utf8_valid(req->comment, strlen(req->comment)))
        return dlv__error_set(
            err, DLV_ERULE,
            DLV__TR(loc, "cancel comment: invalid UTF-8", "комментарий к отмене: неверный UTF-8"));
    if ((r & PAYMENT_BY_ID) && !dlv__order_payment(o, req->payment_id))
        return dlv__error_set(err, DLV_ERULE,
                              DLV__TR(loc, "remove a payment: no payment %.40s in the order",
                                      "удалить оплату: в заказе нет оплаты %.40s"),
                              req->payment_id ? req->payment_id : "(none)");
    if (r & EDIT_FIELDS)
        DLV__TRY(check_edit(o, req, err));
    if ((r & SADT_IF_TIMED) && req->actual_time != DLV__TIME_NONE &&
        (req->actual_time > now ||
         (o->when_created != DLV__TIME_NONE && req->actual_time < o->when_created)))
        return dlv__error_set(err, DLV_ERULE,
                              DLV__TR(loc,
                                      "the actual delivery time must lie between the order's "
                                      "creation and now",
                                      "фактическое время доставки должно быть между созданием "
                                      "заказа и текущим моментом"));
    if (r & PAYMENTS)
        return check_payments(o, req, err);
    return DLV_OK;
}

int dlv__op_check(const dlv__order *o, const dlv__settings *s, const dlv__op_request *req,
                  dlv__time now, dlv_status *to, dlv_error *err)
{
    if (!o || !s || !req || (unsigned)req->op >= DLV__OP_COUNT ||
        (unsigned)o->status >= DLV_STATUS_COUNT)
        return dlv__error_set(err, DLV_EINVAL, "invalid operation request");
    (void)table_consistent; /* only called in debug builds: keep clang from dropping it */
    DLV__ASSERT(table_consistent());
    dlv__locale loc = req->locale;
    const char *name = dlv__op_title(req->op, loc), *status = status_title(o->status, loc);
    const op_row *row = find_row(req->op, o->status);
    if (!row)
        return dlv__error_set(
            err, DLV_EINVALIDTRANSITION,
            DLV__TR(loc, "cannot %s: the order is %s", "нельзя %s: заказ в статусе «%s»"), name,
            status);
    DLV__ASSERT(row->op == req->op && (row->from & (1u << o->status)));
    if (!(row->service & (1u << o->service_type)))
        return dlv__error_set(err, DLV_EINVALIDTRANSITION,
                              DLV__TR(loc, "cannot %s: %s", "нельзя %s: %s"), name,
                              reason_title(row->service_reason, loc));
    if (!(row->rules & ACTORLESS)) {
        dlv_rights missing = (row->rights | extra_rights(row, o, s, req)) & ~req->rights;
        bool any_missing = row->any_of && !(row->any_of & req->rights);
        if (missing || any_missing) {
            char names[128] = "", alts[64] = "";
            dlv_rights_format(missing, names, sizeof names);
            if (any_missing) {
                /* "D_MD or D_ED": either will do. */
                size_t n = 0;
                for (dlv_rights bit = 1; bit && bit <= row->any_of; bit <<= 1)
                    if ((row->any_of & bit) && n < sizeof alts)
                        n += (size_t)snprintf(alts + n, sizeof alts - n, "%s%s",
                                              n ? DLV__TR(loc, " or ", " или ") : "",
                                              dlv_right_name((dlv_right)bit));
            }
            return dlv__error_set(err, DLV_EMISSINGRIGHT,
                                  DLV__TR(loc, "missing right %s%s%s to %s (order %s)",
                                          "нет права %s%s%s: %s (заказ «%s»)"),
                                  names, *names && *alts ? "," : "", alts, name, status);
        }
    }
    int rc = check_rules(row, o, s, req, now, err);
    if (rc)
        return rc;
    if (to) {
        if (row->to == SAME)
            *to = o->status;
        else if (row->to == CONFIRMED)
            *to = now >= dlv__cooking_due_at(o, s) ? DLV_STATUS_READY_FOR_COOKING
                                                   : DLV_STATUS_WAIT_COOKING;
        else
            *to = (dlv_status)row->to;
    }
    return DLV_OK;
}

/* Everything apply needs to allocate, made before the order is touched. */
typedef struct pending {
    dlv__order_courier *courier;
    dlv__cancel_info *cancel;
    dlv__payment *payments; /* the order's payments followed by the new ones */
    size_t old_payments;    /* how many of them the order owns */
    size_t payment_count;
    dlv__order *edited; /* EDIT: the order with the changes, to swap in */
} pending;

static void pending_free(pending *p)
{
    if (p->courier) {
        dlv__free(p->courier->id);
        dlv__free(p->courier->name);
        dlv__free(p->courier->phone);
        dlv__free(p->courier);
    }
    if (p->cancel) {
        dlv__free(p->cancel->cause_id);
        dlv__free(p->cancel->cause_name);
        dlv__free(p->cancel->comment);
        dlv__free(p->cancel);
    }
    for (size_t i = p->old_payments; p->payments && i < p->payment_count; i++) {
        dlv__free(p->payments[i].payment_type_id);
        dlv__free(p->payments[i].name);
        dlv__free(p->payments[i].id);
    }
    dlv__free(p->payments);
    dlv__order_free(p->edited);
}

/* The order with req->changes merged in, through the JSON tree so every field is deep-copied
 * by the one codec: the named members replace the order's, then the tree is decoded strictly
 * with the sums recomputed from the items. */
/* (cJSON_Duplicate keeps the exact number text dlv__json_parse attached, so req->changes must
 * come from dlv__json_parse.) */
static int prepare_edit(const dlv__order *o, const dlv__op_request *req, pending *p, dlv_error *err)
{
    cJSON *tree = dlv__order_to_cjson(o);
    if (!tree)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    int rc = DLV_OK;
    for (const cJSON *c = req->changes->child; !rc && c; c = c->next) {
        cJSON *copy = cJSON_Duplicate(c, true);
        if (!copy || !cJSON_ReplaceItemInObjectCaseSensitive(tree, c->string, copy)) {
            cJSON_Delete(copy);
            rc = dlv__error_set(err, DLV_ENOMEM, "out of memory");
        }
    }
    if (!rc) {
        dlv__jpath path;
        dlv__jpath_init(&path, "changes");
        rc = dlv__order_from_cjson(tree, DLV__ORDER_DRAFT | DLV__ORDER_RESUM, &path, &p->edited,
                                   err);
        if (rc && rc != DLV_ENOMEM)
            rc = err->code = DLV_ERULE;
    }
    cJSON_Delete(tree);
    return rc;
}

static bool dup_opt(const char *s, char **out)
{
    *out = s ? dlv__strdup(s) : NULL;
    return !s || *out;
}

static int prepare(const dlv__order *o, const dlv__settings *s, const dlv__op_request *req,
                   dlv__time now, pending *p)
{
    if (req->op == DLV__OP_REMOVE_PAYMENT) {
        if (o->payment_count > 1 &&
            !(p->payments = dlv__calloc(o->payment_count - 1, sizeof *p->payments)))
            return DLV_ENOMEM;
        const dlv__payment *gone = dlv__order_payment(o, req->payment_id);
        for (size_t i = 0; i < o->payment_count; i++)
            if (&o->payments[i] != gone)
                p->payments[p->payment_count++] = o->payments[i];
        p->old_payments = p->payment_count; /* strings stay the order's */
    } else if (req->op == DLV__OP_ASSIGN_COURIER) {
        const dlv__courier *c = dlv__settings_courier(s, req->courier_id);
        if (!(p->courier = dlv__calloc(1, sizeof *p->courier)) ||
            !dup_opt(c->id, &p->courier->id) || !dup_opt(c->name, &p->courier->name) ||
            !dup_opt(c->phone, &p->courier->phone))
            return DLV_ENOMEM;
    } else if (req->op == DLV__OP_CANCEL) {
        const dlv__named *cause = dlv__settings_cancel_cause(s, req->cancel_cause_id);
        if (!(p->cancel = dlv__calloc(1, sizeof *p->cancel)) ||
            !dup_opt(cause->id, &p->cancel->cause_id) ||
            !dup_opt(cause->name, &p->cancel->cause_name) ||
            !dup_opt(req->comment, &p->cancel->comment))
            return DLV_ENOMEM;
        p->cancel->when = now;
    } else if (req->op == DLV__OP_TAKE_PAYMENT) {
        size_t total = o->payment_count + req->payment_count;
        if (!(p->payments = dlv__calloc(total, sizeof *p->payments)))
            return DLV_ENOMEM;
        if (o->payment_count)
            memcpy(p->payments, o->payments, o->payment_count * sizeof *p->payments);
        p->old_payments = p->payment_count = o->payment_count;
        for (size_t i = 0; i < req->payment_count; i++) {
            dlv__payment *dst = &p->payments[p->payment_count++];
            *dst = req->payments[i];
            dst->payment_type_id = dst->name = dst->id = NULL;
            if (!dup_opt(req->payments[i].payment_type_id, &dst->payment_type_id) ||
                !dup_opt(req->payments[i].name, &dst->name))
                return DLV_ENOMEM;
            /* Every payment has an id so that it can be removed (protocol 1.1 RemovePayment). */
            char fresh[37];
            if (req->payments[i].id ? !dup_opt(req->payments[i].id, &dst->id)
                                    : (dlv__uuid_v4(fresh) || !(dst->id = dlv__strdup(fresh))))
                return DLV_ENOMEM;
        }
    }
    return DLV_OK;
}

int dlv__op_apply(dlv__order *o, const dlv__settings *s, const dlv__op_request *req, dlv__time now,
                  dlv_error *err)
{
    dlv_status to;
    int rc = dlv__op_check(o, s, req, now, &to, err);
    if (rc)
        return rc;
    pending p = {0};
    if (req->op == DLV__OP_EDIT) {
        rc = prepare_edit(o, req, &p, err);
        if (rc) {
            pending_free(&p);
            return rc;
        }
    } else if (prepare(o, s, req, now, &p)) {
        pending_free(&p);
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    }
    dlv_status from = o->status;
    o->status = to;
    switch (req->op) {
    case DLV__OP_CONFIRM:
        o->when_confirmed = now;
        break;
    case DLV__OP_ASSIGN_COURIER: {
        dlv__order_courier *old = o->courier;
        o->courier = p.courier;
        p.courier = old; /* freed below */
        break;
    }
    case DLV__OP_CANCEL: {
        dlv__cancel_info *old = o->cancel_info; /* a stale one from the server, if any */
        o->cancel_info = p.cancel;
        p.cancel = old;
        break;
    }
    case DLV__OP_TAKE_PAYMENT:
        /* The strings of the old payments moved into the new array. */
        dlv__free(o->payments);
        o->payments = p.payments;
        o->payment_count = p.payment_count;
        p.payments = NULL;
        if (o->when_billed == DLV__TIME_NONE && dlv__order_fully_paid(o))
            o->when_billed = now;
        break;
    case DLV__OP_REMOVE_PAYMENT: {
        const dlv__payment *gone = dlv__order_payment(o, req->payment_id);
        dlv__free(gone->payment_type_id);
        dlv__free(gone->name);
        dlv__free(gone->id);
        dlv__free(o->payments);
        o->payments = p.payments;
        o->payment_count = p.payment_count;
        p.payments = NULL;
        if (!dlv__order_fully_paid(o))
            o->when_billed = DLV__TIME_NONE;
        break;
    }
    case DLV__OP_EDIT: {
        /* Swap the whole contents: the edited copy keeps the local history it was encoded with. */
        dlv__order tmp = *o;
        *o = *p.edited;
        *p.edited = tmp;
        break;
    }
    case DLV__OP_SEND:
        o->when_sent = now;
        break;
    case DLV__OP_MARK_DELIVERED:
        o->actual_delivery_time = req->actual_time != DLV__TIME_NONE ? req->actual_time : now;
        break;
    case DLV__OP_PICKUP_HANDED_OVER:
        o->actual_delivery_time = now;
        break;
    case DLV__OP_UNDO:
        if (from == DLV_STATUS_DELIVERED)
            o->actual_delivery_time = DLV__TIME_NONE;
        else
            o->when_sent = DLV__TIME_NONE;
        break;
    default:
        break;
    }
    pending_free(&p);
    return DLV_OK;
}

int dlv__create_check(dlv_rights rights, dlv__locale loc, dlv_error *err)
{
    if (!(rights & DLV_RIGHT_D_ED))
        return dlv__error_set(
            err, DLV_EMISSINGRIGHT,
            DLV__TR(loc, "missing right D_ED to create an order", "нет права D_ED: создать заказ"));
    return DLV_OK;
}

/* ---- actions: dry runs of dlv__op_check ---- */

static const char *const action_names[DLV__ACTION_COUNT] = {
    [DLV__ACTION_CONFIRM] = "Confirm",
    [DLV__ACTION_COOKING_STARTED] = "CookingStarted",
    [DLV__ACTION_COOKING_COMPLETED] = "CookingCompleted",
    [DLV__ACTION_WAITING] = "Waiting",
    [DLV__ACTION_ON_WAY] = "OnWay",
    [DLV__ACTION_DELIVERED] = "Delivered",
    [DLV__ACTION_CLOSED] = "Closed",
    [DLV__ACTION_CANCEL] = "Cancel",
    [DLV__ACTION_ASSIGN_COURIER] = "AssignCourier",
    [DLV__ACTION_PAY] = "Pay",
    [DLV__ACTION_PRINT_INVOICE] = "PrintInvoice",
    [DLV__ACTION_EDIT_ORDER] = "EditOrder",
    [DLV__ACTION_REMOVE_PAYMENT] = "RemovePayment",
};

const char *dlv__action_name(dlv__action action)
{
    return (unsigned)action < DLV__ACTION_COUNT ? action_names[action] : "";
}

/* Whether `req` passes the check with some argument its operation takes: the request path
 * checks exactly one, the one the host sends, so every possible one is tried here. */
static bool possible(const dlv__order *o, const dlv__settings *s, dlv__op_request *req,
                     dlv__time now)
{
    switch (req->op) {
    case DLV__OP_CANCEL:
        for (size_t i = 0; i < s->cancel_cause_count; i++) {
            req->cancel_cause_id = s->cancel_causes[i].id;
            if (dlv__op_check(o, s, req, now, NULL, NULL) == DLV_OK)
                return true;
        }
        return false;
    case DLV__OP_ASSIGN_COURIER:
        for (size_t i = 0; i < s->courier_count; i++) {
            req->courier_id = s->couriers[i].id;
            if (dlv__op_check(o, s, req, now, NULL, NULL) == DLV_OK)
                return true;
        }
        return false;
    case DLV__OP_REMOVE_PAYMENT:
        for (size_t i = 0; i < o->payment_count; i++) {
            req->payment_id = o->payments[i].id;
            if (req->payment_id && dlv__op_check(o, s, req, now, NULL, NULL) == DLV_OK)
                return true;
        }
        return false;
    case DLV__OP_TAKE_PAYMENT: {
        /* The smallest cash payment: cash is never refused for exceeding the sum (it gives
         * change), so this passes whenever any payment could. */
        char type_id[] = "00000000-0000-4000-8000-000000000000";
        dlv__payment cash = {.payment_type_id = type_id, .kind = DLV__PAYMENT_CASH, .sum = 1};
        req->payments = &cash;
        req->payment_count = 1;
        return dlv__op_check(o, s, req, now, NULL, NULL) == DLV_OK;
    }
    case DLV__OP_EDIT:
        /* One field at a time; check_edit reads only the names, so a stack tree will do. */
        for (size_t k = 0; k < DLV__ARRAY_SIZE(editable); k++) {
            cJSON field = {.type = cJSON_NULL, .string = (char *)editable[k].key};
            cJSON changes = {.type = cJSON_Object, .child = &field};
            req->changes = &changes;
            bool ok = dlv__op_check(o, s, req, now, NULL, NULL) == DLV_OK;
            req->changes = NULL;
            if (ok)
                return true;
        }
        return false;
    default:
        return dlv__op_check(o, s, req, now, NULL, NULL) == DLV_OK;
    }
}

dlv__action_set dlv__order_actions(const dlv__order *o, const dlv__settings *s, dlv_rights rights,
                                   dlv__time now)
{
    static const dlv__op by_op[DLV__ACTION_COUNT] = {
        [DLV__ACTION_CONFIRM] = DLV__OP_CONFIRM,
        [DLV__ACTION_CANCEL] = DLV__OP_CANCEL,
        [DLV__ACTION_ASSIGN_COURIER] = DLV__OP_ASSIGN_COURIER,
        [DLV__ACTION_PAY] = DLV__OP_TAKE_PAYMENT,
        [DLV__ACTION_PRINT_INVOICE] = DLV__OP_PRINT_INVOICE,
        [DLV__ACTION_EDIT_ORDER] = DLV__OP_EDIT,
        [DLV__ACTION_REMOVE_PAYMENT] = DLV__OP_REMOVE_PAYMENT,
    };
    static const dlv_status by_status[DLV__ACTION_COUNT] = {
        [DLV__ACTION_COOKING_STARTED] = DLV_STATUS_COOKING_STARTED,
        [DLV__ACTION_COOKING_COMPLETED] = DLV_STATUS_COOKING_COMPLETED,
        [DLV__ACTION_WAITING] = DLV_STATUS_WAITING,
        [DLV__ACTION_ON_WAY] = DLV_STATUS_ON_WAY,
        [DLV__ACTION_DELIVERED] = DLV_STATUS_DELIVERED,
        [DLV__ACTION_CLOSED] = DLV_STATUS_CLOSED,
    };
    dlv__action_set set = 0;
    if (!o || !s || rights == 0 || (unsigned)o->status >= DLV_STATUS_COUNT)
        return 0;
    for (int a = 0; a < DLV__ACTION_COUNT; a++) {
        dlv__op op = by_op[a];
        /* A setStatus target: the operation the request path would pick (dlv__op_for_status). */
        if (by_status[a] != 0 &&
            dlv__op_for_status(o, by_status[a], DLV__LOCALE_EN, &op, NULL) != DLV_OK)
            continue;
        dlv__op_request req = dlv__op_request_make(op, rights);
        if (possible(o, s, &req, now))
            set |= 1u << a;
    }
    return set;
}

int dlv__op_for_status(const dlv__order *o, dlv_status to, dlv__locale loc, dlv__op *op,
                       dlv_error *err)
{
    if (!o || (unsigned)to >= DLV_STATUS_COUNT || (unsigned)o->status >= DLV_STATUS_COUNT)
        return dlv__error_set(err, DLV_EINVAL, "invalid status");
    const char *reason = NULL;
    for (size_t i = 0; i < DLV__ARRAY_SIZE(table); i++) {
        const op_row *row = &table[i];
        bool reaches = row->to == (int)to ||
                       (row->to == CONFIRMED &&
                        (to == DLV_STATUS_WAIT_COOKING || to == DLV_STATUS_READY_FOR_COOKING));
        if (!reaches || (row->rules & ACTORLESS) || !(row->from & (1u << o->status)))
            continue;
        if (!(row->service & (1u << o->service_type))) {
            reason = row->service_reason;
            continue;
        }
        *op = row->op;
        return DLV_OK;
    }
    return dlv__error_set(
        err, DLV_EINVALIDTRANSITION,
        DLV__TR(loc, "cannot change status from %s to %s%s%s", "нельзя перейти из «%s» в «%s»%s%s"),
        status_title(o->status, loc), status_title(to, loc), reason ? ": " : "",
        reason ? reason_title(reason, loc) : "");
}
