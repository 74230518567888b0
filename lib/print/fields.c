/* The fields templates may name, and their values for one order. A fixed table: a template
 * cannot reach anything else. Docs: docs/printers.md lists every field. */
#include <stdio.h>
#include <string.h>

#include "order/machine.h"
#include "print/doc.h"

enum {
    F_ORDER_NUMBER,
    F_ORDER_EXTERNAL_NUMBER,
    F_ORDER_SERVICE_TYPE,
    F_ORDER_IS_COURIER,
    F_ORDER_IS_PICKUP,
    F_ORDER_STATUS,
    F_ORDER_DUE_TIME,
    F_ORDER_KITCHEN_TIME,
    F_ORDER_CREATED_TIME,
    F_ORDER_PHONE,
    F_ORDER_COMMENT,
    F_ORDER_PERSONS,
    F_ORDER_OPERATOR,
    F_ORDER_FULL_SUM,
    F_ORDER_DISCOUNT_SUM,
    F_ORDER_SURCHARGE_SUM,
    F_ORDER_RESULT_SUM,
    F_ORDER_PAID_SUM,
    F_ORDER_CHANGE_SUM,
    F_ORDER_UNPAID_SUM,
    F_ORDER_ITEMS,
    F_ORDER_PAYMENTS,
    F_CUSTOMER_NAME,
    F_CUSTOMER_COMMENT,
    F_CUSTOMER_HIGH_RISK,
    F_ADDRESS_LINE,
    F_ADDRESS_CITY,
    F_ADDRESS_STREET,
    F_ADDRESS_HOUSE,
    F_ADDRESS_BUILDING,
    F_ADDRESS_FLAT,
    F_ADDRESS_ENTRANCE,
    F_ADDRESS_FLOOR,
    F_ADDRESS_DOORPHONE,
    F_ADDRESS_REGION,
    F_ADDRESS_COMMENT,
    F_COURIER_NAME,
    F_COURIER_PHONE,
    F_DOC_IS_COPY,
    F_DOC_COPY_NUMBER,
    F_DOC_COPIES,
    F_DOC_PRINT_TIME,
    F_DOC_RESTAURANT,
    F_DOC_RESTAURANT_ADDRESS,
    F_ITEM_NUMBER,
    F_ITEM_NAME,
    F_ITEM_AMOUNT,
    F_ITEM_PRICE,
    F_ITEM_SUM,
    F_ITEM_TOTAL_SUM,
    F_ITEM_COMMENT,
    F_ITEM_MODIFIERS,
    F_MODIFIER_NAME,
    F_MODIFIER_AMOUNT,
    F_MODIFIER_PRICE,
    F_MODIFIER_SUM,
    F_PAYMENT_NAME,
    F_PAYMENT_KIND,
    F_PAYMENT_SUM,
    F_PAYMENT_IS_CASH,
    F_COUNT
};

#define O DLV__SCOPE_ORDER
#define I DLV__SCOPE_ITEM
#define M DLV__SCOPE_MODIFIER
#define P DLV__SCOPE_PAYMENT

const dlv__field_def dlv__fields[] = {
    [F_ORDER_NUMBER] = {"Order.Number", O, O, false},
    [F_ORDER_EXTERNAL_NUMBER] = {"Order.ExternalNumber", O, O, false},
    [F_ORDER_SERVICE_TYPE] = {"Order.ServiceType", O, O, false},
    [F_ORDER_IS_COURIER] = {"Order.IsCourier", O, O, false},
    [F_ORDER_IS_PICKUP] = {"Order.IsPickup", O, O, false},
    [F_ORDER_STATUS] = {"Order.Status", O, O, false},
    [F_ORDER_DUE_TIME] = {"Order.DueTime", O, O, false},
    [F_ORDER_KITCHEN_TIME] = {"Order.KitchenTime", O, O, false},
    [F_ORDER_CREATED_TIME] = {"Order.CreatedTime", O, O, false},
    [F_ORDER_PHONE] = {"Order.Phone", O, O, false},
    [F_ORDER_COMMENT] = {"Order.Comment", O, O, false},
    [F_ORDER_PERSONS] = {"Order.PersonsCount", O, O, false},
    [F_ORDER_OPERATOR] = {"Order.Operator", O, O, false},
    [F_ORDER_FULL_SUM] = {"Order.FullSum", O, O, false},
    [F_ORDER_DISCOUNT_SUM] = {"Order.DiscountSum", O, O, false},
    [F_ORDER_SURCHARGE_SUM] = {"Order.SurchargeSum", O, O, false},
    [F_ORDER_RESULT_SUM] = {"Order.ResultSum", O, O, false},
    [F_ORDER_PAID_SUM] = {"Order.PaidSum", O, O, false},
    [F_ORDER_CHANGE_SUM] = {"Order.ChangeSum", O, O, false},
    [F_ORDER_UNPAID_SUM] = {"Order.UnpaidSum", O, O, false},
    [F_ORDER_ITEMS] = {"Order.Items", O, I, true},
    [F_ORDER_PAYMENTS] = {"Order.Payments", O, P, true},
    [F_CUSTOMER_NAME] = {"Customer.Name", O, O, false},
    [F_CUSTOMER_COMMENT] = {"Customer.Comment", O, O, false},
    [F_CUSTOMER_HIGH_RISK] = {"Customer.HighRisk", O, O, false},
    [F_ADDRESS_LINE] = {"Address.Line", O, O, false},
    [F_ADDRESS_CITY] = {"Address.City", O, O, false},
    [F_ADDRESS_STREET] = {"Address.Street", O, O, false},
    [F_ADDRESS_HOUSE] = {"Address.House", O, O, false},
    [F_ADDRESS_BUILDING] = {"Address.Building", O, O, false},
    [F_ADDRESS_FLAT] = {"Address.Flat", O, O, false},
    [F_ADDRESS_ENTRANCE] = {"Address.Entrance", O, O, false},
    [F_ADDRESS_FLOOR] = {"Address.Floor", O, O, false},
    [F_ADDRESS_DOORPHONE] = {"Address.Doorphone", O, O, false},
    [F_ADDRESS_REGION] = {"Address.Region", O, O, false},
    [F_ADDRESS_COMMENT] = {"Address.Comment", O, O, false},
    [F_COURIER_NAME] = {"Courier.Name", O, O, false},
    [F_COURIER_PHONE] = {"Courier.Phone", O, O, false},
    [F_DOC_IS_COPY] = {"Doc.IsCopy", O, O, false},
    [F_DOC_COPY_NUMBER] = {"Doc.CopyNumber", O, O, false},
    [F_DOC_COPIES] = {"Doc.Copies", O, O, false},
    [F_DOC_PRINT_TIME] = {"Doc.PrintTime", O, O, false},
    [F_DOC_RESTAURANT] = {"Doc.Restaurant", O, O, false},
    [F_DOC_RESTAURANT_ADDRESS] = {"Doc.RestaurantAddress", O, O, false},
    [F_ITEM_NUMBER] = {"Item.Number", I, O, false},
    [F_ITEM_NAME] = {"Item.Name", I, O, false},
    [F_ITEM_AMOUNT] = {"Item.Amount", I, O, false},
    [F_ITEM_PRICE] = {"Item.Price", I, O, false},
    [F_ITEM_SUM] = {"Item.Sum", I, O, false},
    [F_ITEM_TOTAL_SUM] = {"Item.TotalSum", I, O, false},
    [F_ITEM_COMMENT] = {"Item.Comment", I, O, false},
    [F_ITEM_MODIFIERS] = {"Item.Modifiers", I, M, true},
    [F_MODIFIER_NAME] = {"Modifier.Name", M, O, false},
    [F_MODIFIER_AMOUNT] = {"Modifier.Amount", M, O, false},
    [F_MODIFIER_PRICE] = {"Modifier.Price", M, O, false},
    [F_MODIFIER_SUM] = {"Modifier.Sum", M, O, false},
    [F_PAYMENT_NAME] = {"Payment.Name", P, O, false},
    [F_PAYMENT_KIND] = {"Payment.Kind", P, O, false},
    [F_PAYMENT_SUM] = {"Payment.Sum", P, O, false},
    [F_PAYMENT_IS_CASH] = {"Payment.IsCash", P, O, false},
};

#undef O
#undef I
#undef M
#undef P

const size_t dlv__field_count = F_COUNT;

int dlv__field_find(const char *name, size_t len)
{
    for (int i = 0; i < F_COUNT; i++)
        if (strlen(dlv__fields[i].name) == len && memcmp(dlv__fields[i].name, name, len) == 0)
            return i;
    return -1;
}

int dlv__field_is_copy(void)
{
    return F_DOC_IS_COPY;
}

static const char *money(dlv__arena *a, dlv__money m)
{
    char buf[32];
    dlv__decimal_format(m, DLV__MONEY_SCALE, true, buf);
    return dlv__arena_strdup(a, buf);
}

static const char *amount(dlv__arena *a, dlv__amount v)
{
    char buf[32];
    dlv__decimal_format(v, DLV__AMOUNT_SCALE, false, buf);
    return dlv__arena_strdup(a, buf);
}

/* The offset is asked per time: a document printed in March may show a due time after the
 * change to summer time. */
static const char *local_time(dlv__arena *a, dlv__time t, const dlv__print_context *c)
{
    if (t == DLV__TIME_NONE || t < DLV__TIME_MIN || t > DLV__TIME_MAX)
        return "";
    int offset = c->utc_offset_at ? c->utc_offset_at(c->utc_offset_arg, t) : c->tz_offset_minutes;
    int64_t y;
    unsigned mo, d, h, mi, s;
    dlv__time_fields(t, offset, &y, &mo, &d, &h, &mi, &s);
    return dlv__arena_printf(a, "%02u.%02u.%04lld %02u:%02u", d, mo, (long long)y, h, mi);
}

/* price × amount / 1000 rounded half up: what a modifier line costs. */
static dlv__money times_amount(dlv__money price, dlv__amount amt)
{
    __int128 v = (__int128)price * amt;
    __int128 q = v / DLV__AMOUNT_ONE, r = v % DLV__AMOUNT_ONE;
    if (r < 0)
        r = -r;
    if (2 * r >= DLV__AMOUNT_ONE)
        q += v < 0 ? -1 : 1;
    return (dlv__money)q;
}

static dlv__money modifiers_sum(const dlv__item *it)
{
    dlv__money s = 0;
    for (size_t i = 0; i < it->modifier_count; i++)
        s += times_amount(it->modifiers[i].price, it->modifiers[i].amount);
    return s;
}

static const char *str(const char *s)
{
    return s ? s : "";
}

/* "Москва, Тверская, д. 7, корп. 2, кв. 15, подъезд 3, этаж 4, домофон 15К" */
static const char *address_line(dlv__arena *a, const dlv__address *ad)
{
    if (!ad)
        return "";
    const struct {
        const char *prefix, *value;
    } parts[] = {{"", ad->city},           {"", ad->street},           {"д. ", ad->house},
                 {"корп. ", ad->building}, {"кв. ", ad->flat},         {"подъезд ", ad->entrance},
                 {"этаж ", ad->floor},     {"домофон ", ad->doorphone}};
    size_t n = 1;
    for (size_t i = 0; i < DLV__ARRAY_SIZE(parts); i++)
        if (parts[i].value && *parts[i].value)
            n += strlen(parts[i].prefix) + strlen(parts[i].value) + 2;
    char *out = dlv__arena_alloc(a, n);
    if (!out)
        return "";
    for (size_t i = 0; i < DLV__ARRAY_SIZE(parts); i++) {
        if (!parts[i].value || !*parts[i].value)
            continue;
        if (*out)
            strcat(out, ", ");
        strcat(out, parts[i].prefix);
        strcat(out, parts[i].value);
    }
    return out;
}

static const char *payment_kind_name(dlv__payment_kind k)
{
    switch (k) {
    case DLV__PAYMENT_CASH:
        return "Наличные";
    case DLV__PAYMENT_CARD:
        return "Банковская карта";
    case DLV__PAYMENT_EXTERNAL:
        return "Оплачено онлайн";
    }
    return "";
}

bool dlv__field_value(const dlv__eval *ev, int field, dlv__arena *a, const char **text)
{
    const dlv__order *o = ev->in->order;
    const dlv__print_context *c = ev->in->ctx;
    const dlv__address *ad = o->address;
    const dlv__item *it = ev->item;
    const dlv__modifier *mo = ev->modifier;
    const dlv__payment *pa = ev->payment;
    const char *t = "";
    bool set;
    dlv__money m = 0;
    bool is_money = false;
    switch (field) {
    case F_ORDER_NUMBER:
        t = dlv__arena_printf(a, "%lld", (long long)o->number);
        break;
    case F_ORDER_EXTERNAL_NUMBER:
        t = str(o->external_number);
        break;
    case F_ORDER_SERVICE_TYPE:
        t = o->service_type == DLV_SERVICE_PICKUP ? "Самовывоз" : "Доставка курьером";
        break;
    case F_ORDER_IS_COURIER:
        t = o->service_type == DLV_SERVICE_COURIER ? "да" : "";
        break;
    case F_ORDER_IS_PICKUP:
        t = o->service_type == DLV_SERVICE_PICKUP ? "да" : "";
        break;
    case F_ORDER_STATUS:
        t = str(dlv_status_russian_name(o->status));
        break;
    case F_ORDER_DUE_TIME:
        t = local_time(a, o->complete_before, c);
        break;
    case F_ORDER_KITCHEN_TIME: {
        /* When the kitchen must be done: for a courier order the courier's travel comes off the
         * customer's time (lib/order/machine.c), so the service check shows this, not DueTime. */
        dlv__settings defaults;
        const dlv__settings *s = ev->in->settings;
        if (!s) {
            dlv__settings_defaults(&defaults);
            s = &defaults;
        }
        t = local_time(a, dlv__kitchen_deadline(o, s), c);
        break;
    }
    case F_ORDER_CREATED_TIME:
        t = local_time(a, o->when_created, c);
        break;
    case F_ORDER_PHONE:
        t = str(o->phone);
        break;
    case F_ORDER_COMMENT:
        t = str(o->comment);
        break;
    case F_ORDER_PERSONS:
        t = o->persons_count > 0 ? dlv__arena_printf(a, "%d", o->persons_count) : "";
        break;
    case F_ORDER_OPERATOR:
        t = str(o->operator_name);
        break;
    case F_ORDER_FULL_SUM:
        m = o->full_sum, is_money = true;
        break;
    case F_ORDER_DISCOUNT_SUM:
        m = o->discount_sum, is_money = true;
        break;
    case F_ORDER_SURCHARGE_SUM:
        m = o->surcharge_sum, is_money = true;
        break;
    case F_ORDER_RESULT_SUM:
        m = o->result_sum, is_money = true;
        break;
    case F_ORDER_PAID_SUM:
        m = dlv__order_paid_sum(o), is_money = true;
        break;
    case F_ORDER_CHANGE_SUM:
        m = dlv__order_change_sum(o), is_money = true;
        break;
    case F_ORDER_UNPAID_SUM: {
        dlv__money paid = dlv__order_paid_sum(o);
        m = o->result_sum > paid ? o->result_sum - paid : 0, is_money = true;
        break;
    }
    case F_ORDER_ITEMS:
    case F_ORDER_PAYMENTS:
    case F_ITEM_MODIFIERS:
        *text = "";
        return dlv__field_list_count(ev, field) > 0;
    case F_CUSTOMER_NAME:
        if (o->customer && o->customer->surname && *o->customer->surname)
            t = dlv__arena_printf(a, "%s %s", str(o->customer->name), o->customer->surname);
        else if (o->customer)
            t = str(o->customer->name);
        break;
    case F_CUSTOMER_COMMENT:
        t = o->customer ? str(o->customer->comment) : "";
        break;
    case F_CUSTOMER_HIGH_RISK:
        t = o->customer && o->customer->in_blacklist ? "Высокий риск" : "";
        break;
    case F_ADDRESS_LINE:
        t = address_line(a, ad);
        break;
    case F_ADDRESS_CITY:
        t = ad ? str(ad->city) : "";
        break;
    case F_ADDRESS_STREET:
        t = ad ? str(ad->street) : "";
        break;
    case F_ADDRESS_HOUSE:
        t = ad ? str(ad->house) : "";
        break;
    case F_ADDRESS_BUILDING:
        t = ad ? str(ad->building) : "";
        break;
    case F_ADDRESS_FLAT:
        t = ad ? str(ad->flat) : "";
        break;
    case F_ADDRESS_ENTRANCE:
        t = ad ? str(ad->entrance) : "";
        break;
    case F_ADDRESS_FLOOR:
        t = ad ? str(ad->floor) : "";
        break;
    case F_ADDRESS_DOORPHONE:
        t = ad ? str(ad->doorphone) : "";
        break;
    case F_ADDRESS_REGION:
        t = ad ? str(ad->region) : "";
        break;
    case F_ADDRESS_COMMENT:
        t = ad ? str(ad->comment) : "";
        break;
    case F_COURIER_NAME:
        t = c->courier_name ? c->courier_name : o->courier ? str(o->courier->name) : "";
        break;
    case F_COURIER_PHONE:
        t = o->courier ? str(o->courier->phone) : "";
        break;
    case F_DOC_IS_COPY:
        t = c->is_copy ? "КОПИЯ" : "";
        break;
    case F_DOC_COPY_NUMBER:
        t = dlv__arena_printf(a, "%d", ev->in->copy_number);
        break;
    case F_DOC_COPIES:
        t = dlv__arena_printf(a, "%d", ev->in->copies);
        break;
    case F_DOC_PRINT_TIME:
        t = local_time(a, c->now, c);
        break;
    case F_DOC_RESTAURANT:
        t = str(c->restaurant);
        break;
    case F_DOC_RESTAURANT_ADDRESS:
        t = str(c->restaurant_address);
        break;
    case F_ITEM_NUMBER:
        t = it ? dlv__arena_printf(a, "%zu", ev->item_index + 1) : "";
        break;
    case F_ITEM_NAME:
        t = it ? str(it->name) : "";
        break;
    case F_ITEM_AMOUNT:
        t = it ? amount(a, it->amount) : "";
        break;
    case F_ITEM_PRICE:
        m = it ? it->price : 0, is_money = it != NULL;
        break;
    case F_ITEM_SUM:
        m = it ? it->sum : 0, is_money = it != NULL;
        break;
    case F_ITEM_TOTAL_SUM:
        m = it ? it->sum + modifiers_sum(it) : 0, is_money = it != NULL;
        break;
    case F_ITEM_COMMENT:
        t = it ? str(it->comment) : "";
        break;
    case F_MODIFIER_NAME:
        t = mo ? str(mo->name) : "";
        break;
    case F_MODIFIER_AMOUNT:
        t = mo ? amount(a, mo->amount) : "";
        break;
    case F_MODIFIER_PRICE:
        m = mo ? mo->price : 0, is_money = mo != NULL;
        break;
    case F_MODIFIER_SUM:
        m = mo ? times_amount(mo->price, mo->amount) : 0, is_money = mo != NULL;
        break;
    case F_PAYMENT_NAME:
        t = pa ? (pa->name && *pa->name ? pa->name : payment_kind_name(pa->kind)) : "";
        break;
    case F_PAYMENT_KIND:
        t = pa ? payment_kind_name(pa->kind) : "";
        break;
    case F_PAYMENT_SUM:
        m = pa ? pa->sum : 0, is_money = pa != NULL;
        break;
    case F_PAYMENT_IS_CASH:
        t = pa && pa->kind == DLV__PAYMENT_CASH ? "да" : "";
        break;
    default:
        break;
    }
    if (is_money) {
        t = money(a, m);
        set = m != 0;
    } else {
        if (!t)
            t = ""; /* arena exhausted: the caller sees a->failed */
        set = *t != '\0';
    }
    *text = t ? t : "";
    return set;
}

size_t dlv__field_list_count(const dlv__eval *ev, int field)
{
    switch (field) {
    case F_ORDER_ITEMS:
        return ev->in->order->item_count;
    case F_ORDER_PAYMENTS:
        return ev->in->order->payment_count;
    case F_ITEM_MODIFIERS:
        return ev->item ? ev->item->modifier_count : 0;
    default:
        return 0;
    }
}

void dlv__field_list_select(dlv__eval *ev, int field, size_t i)
{
    switch (field) {
    case F_ORDER_ITEMS:
        ev->item = &ev->in->order->items[i];
        ev->item_index = i;
        ev->modifier = NULL;
        break;
    case F_ORDER_PAYMENTS:
        ev->payment = &ev->in->order->payments[i];
        break;
    case F_ITEM_MODIFIERS:
        ev->modifier = &ev->item->modifiers[i];
        break;
    default:
        break;
    }
}
