/* @Model.X notification templates: compiled once (unknown fields fail at load), rendered by
 * plain substitution. Nothing from the order's data is ever parsed as template text. */
#include "order/notify.h"

#include "common/dynbuf.h"

#include <stdio.h>
#include <string.h>

#define TEMPLATE_MAX (64 * 1024)

/* Rendering appends to a dlv__dynbuf without checking each step: a failed add sticks in the
 * buffer (see common/dynbuf.h) and dlv__template_render checks once at the end. */
static void put(dlv__dynbuf *b, const char *s, size_t n)
{
    (void)dlv__dynbuf_add(b, s, n);
}

static void puts_(dlv__dynbuf *b, const char *s)
{
    (void)dlv__dynbuf_adds(b, s);
}

static void put_decimal(dlv__dynbuf *b, int64_t v, int scale, bool fixed,
                        const dlv__render_options *o)
{
    char text[32];
    dlv__decimal_format(v, scale, fixed, text);
    char *dot = strchr(text, '.');
    if (dot)
        *dot = o->decimal_separator ? o->decimal_separator : ',';
    puts_(b, text);
}

static void put_money(dlv__dynbuf *b, dlv__money v, const dlv__render_options *o)
{
    put_decimal(b, v, DLV__MONEY_SCALE, true, o);
}

static void put_int(dlv__dynbuf *b, int64_t v)
{
    char text[24];
    snprintf(text, sizeof text, "%lld", (long long)v);
    puts_(b, text);
}

static void put_bool(dlv__dynbuf *b, bool v)
{
    puts_(b, v ? "True" : "False"); /* what Razor prints for a bool */
}

static void put_time(dlv__dynbuf *b, dlv__time t, const dlv__render_options *o)
{
    if (t == DLV__TIME_NONE || t < DLV__TIME_MIN || t > DLV__TIME_MAX)
        return;
    int64_t y;
    unsigned mo, d, h, mi, s;
    dlv__time_fields(t, o->utc_offset_minutes, &y, &mo, &d, &h, &mi, &s);
    char text[16];
    for (const char *f = o->date_format ? o->date_format : "dd.MM.yyyy HH:mm"; *f;) {
        static const char *const tokens[] = {"yyyy", "yy", "MM", "dd", "HH", "mm", "ss"};
        size_t k = 0;
        while (k < DLV__ARRAY_SIZE(tokens) && strncmp(f, tokens[k], strlen(tokens[k])) != 0)
            k++;
        unsigned values[] = {0, (unsigned)(y % 100), mo, d, h, mi, s};
        if (k == 0)
            snprintf(text, sizeof text, "%04d", (int)y);
        else if (k < DLV__ARRAY_SIZE(tokens))
            snprintf(text, sizeof text, "%02u", values[k]);
        if (k < DLV__ARRAY_SIZE(tokens)) {
            puts_(b, text);
            f += strlen(tokens[k]);
        } else {
            put(b, f++, 1);
        }
    }
}

/* ---- Fields ---- */

typedef void (*render_fn)(dlv__dynbuf *b, const dlv__order *o, const dlv__render_options *opt,
                          size_t i);

#define FIELD(fn, expr)                                                                            \
    static void fn(dlv__dynbuf *b, const dlv__order *o, const dlv__render_options *opt, size_t i)  \
    {                                                                                              \
        (void)o, (void)opt, (void)i;                                                               \
        expr;                                                                                      \
    }

static void address_line(dlv__dynbuf *b, const dlv__address *a)
{
    if (!a)
        return;
    const char *parts[][2] = {{"", a->city},
                              {"", a->street},
                              {"д. ", a->house},
                              {"корп. ", a->building},
                              {"кв. ", a->flat}};
    bool first = true;
    for (size_t k = 0; k < DLV__ARRAY_SIZE(parts); k++) {
        if (!parts[k][1] || !*parts[k][1])
            continue;
        if (!first)
            puts_(b, ", ");
        puts_(b, parts[k][0]);
        puts_(b, parts[k][1]);
        first = false;
    }
}

static void items_line(dlv__dynbuf *b, const dlv__order *o, const dlv__render_options *opt)
{
    for (size_t k = 0; k < o->item_count; k++) {
        if (k)
            puts_(b, ", ");
        puts_(b, o->items[k].name);
        puts_(b, " × ");
        put_decimal(b, o->items[k].amount, DLV__AMOUNT_SCALE, false, opt);
    }
}

static void payments_line(dlv__dynbuf *b, const dlv__order *o, const dlv__render_options *opt)
{
    for (size_t k = 0; k < o->payment_count; k++) {
        if (k)
            puts_(b, ", ");
        puts_(b, o->payments[k].name ? o->payments[k].name
                                     : dlv__payment_kind_names[o->payments[k].kind]);
        puts_(b, " ");
        put_money(b, o->payments[k].sum, opt);
    }
}

/* .NET TimeSpan text: [d.]hh:mm:ss. */
static void duration(dlv__dynbuf *b, const dlv__order *o)
{
    if (o->actual_delivery_time == DLV__TIME_NONE || o->when_created == DLV__TIME_NONE ||
        o->actual_delivery_time < o->when_created)
        return;
    int64_t s = o->actual_delivery_time - o->when_created;
    char text[48];
    if (s >= 86400)
        snprintf(text, sizeof text, "%lld.", (long long)(s / 86400));
    else
        text[0] = '\0';
    size_t n = strlen(text);
    snprintf(text + n, sizeof text - n, "%02d:%02d:%02d", (int)(s % 86400 / 3600),
             (int)(s % 3600 / 60), (int)(s % 60));
    puts_(b, text);
}

static const dlv__item *item_at(const dlv__order *o, size_t i)
{
    return i < o->item_count ? &o->items[i] : NULL;
}

#define CUSTOMER(member) (o->customer ? o->customer->member : NULL)
#define ADDRESS(member) (o->address ? o->address->member : NULL)

FIELD(f_empty, (void)b)
FIELD(f_number, put_int(b, o->number))
FIELD(f_phone, puts_(b, o->phone))
FIELD(f_comment, puts_(b, o->comment))
FIELD(f_create, put_time(b, o->when_created, opt))
FIELD(f_expected, put_time(b, o->complete_before, opt))
FIELD(f_confirm, put_time(b, o->when_confirmed, opt))
FIELD(f_bill, put_time(b, o->when_billed, opt))
FIELD(f_print, put_time(b, o->when_printed, opt))
FIELD(f_send, put_time(b, o->when_sent, opt))
FIELD(f_actual, put_time(b, o->actual_delivery_time, opt))
FIELD(f_duration, duration(b, o))
FIELD(f_has_problem, put_bool(b, o->has_problem))
FIELD(f_problem, puts_(b, o->problem_description))
FIELD(f_split, put_bool(b, o->split_between_persons))
FIELD(f_persons, put_int(b, o->persons_count))
FIELD(f_status,
      if (dlv_status_coarse_code(o->status) >= 0) put_int(b, dlv_status_coarse_code(o->status)))
FIELD(f_source, puts_(b, o->source_key))
FIELD(f_item_category, (void)b)
FIELD(f_item_name, if (item_at(o, i)) puts_(b, item_at(o, i)->name))
FIELD(f_item_amount,
      if (item_at(o, i)) put_decimal(b, item_at(o, i)->amount, DLV__AMOUNT_SCALE, false, opt))
FIELD(f_item_price, if (item_at(o, i)) put_money(b, item_at(o, i)->price, opt))
FIELD(f_item_sum, if (item_at(o, i)) put_money(b, item_at(o, i)->sum, opt))
FIELD(f_item_comment, if (item_at(o, i)) puts_(b, item_at(o, i)->comment))
FIELD(f_full_sum, put_money(b, o->full_sum, opt))
FIELD(f_result_sum, put_money(b, o->result_sum, opt))
FIELD(f_surcharge_sum, put_money(b, o->surcharge_sum, opt))
FIELD(f_change_sum, put_money(b, dlv__order_change_sum(o), opt))
FIELD(f_paid_sum, put_money(b, dlv__order_paid_sum(o), opt))
FIELD(f_items, items_line(b, o, opt))
FIELD(f_payments, payments_line(b, o, opt))
FIELD(f_customer_name, puts_(b, CUSTOMER(name)))
FIELD(f_customer_surname, puts_(b, CUSTOMER(surname)))
FIELD(f_customer_comment, puts_(b, CUSTOMER(comment)))
FIELD(f_customer_blacklist, if (o->customer) put_bool(b, o->customer->in_blacklist))
FIELD(f_customer_reason, puts_(b, CUSTOMER(blacklist_reason)))
FIELD(f_customer_phones, if (o->customer) puts_(b, o->phone))
FIELD(f_customer_addresses, if (o->customer) address_line(b, o->address))
FIELD(f_courier_name, if (o->courier) puts_(b, o->courier->name))
FIELD(f_courier_phone, if (o->courier) puts_(b, o->courier->phone))
FIELD(f_operator, puts_(b, o->operator_name))
FIELD(f_address, address_line(b, o->address))
FIELD(f_street, puts_(b, ADDRESS(street)))
FIELD(f_city, puts_(b, ADDRESS(city)))
FIELD(f_house, puts_(b, ADDRESS(house)))
FIELD(f_region, puts_(b, ADDRESS(region)))
FIELD(f_building, puts_(b, ADDRESS(building)))
FIELD(f_flat, puts_(b, ADDRESS(flat)))
FIELD(f_entrance, puts_(b, ADDRESS(entrance)))
FIELD(f_floor, puts_(b, ADDRESS(floor)))
FIELD(f_doorphone, puts_(b, ADDRESS(doorphone)))
FIELD(f_address_info, puts_(b, ADDRESS(comment)))
FIELD(f_cafe, puts_(b, opt->cafe_address))

/* Every @Model.X field a notification template may use. Fields the protocol's ORDER carries no data
 * for (Email, predictions, route index, marketing source, card number, e-mails, item categories)
 * render empty; the times the terminal records itself come from the order's local history. */
static const struct {
    const char *name;
    render_fn fn;
} fields[] = {
    {"Number", f_number},
    {"Phone", f_phone},
    {"Email", f_empty},
    {"Comment", f_comment},
    {"CreateTime", f_create},
    {"ExpectedDeliverTime", f_expected},
    {"ConfirmTime", f_confirm},
    {"BillTime", f_bill},
    {"PrintTime", f_print},
    {"SendTime", f_send},
    {"ActualDeliverTime", f_actual},
    {"PredictedCookingCompleteTime", f_empty},
    {"PredictedDeliveryTime", f_empty},
    {"Duration", f_duration},
    {"HasProblem", f_has_problem},
    {"ProblemComment", f_problem},
    {"SplitBetweenPersons", f_split},
    {"PersonsCount", f_persons},
    {"MarketingSourceName", f_empty},
    {"IndexInCourierRoute", f_empty},
    {"Status", f_status},
    {"SourceKey", f_source},
    {"Order.Items[].Product.CategoryName", f_item_category},
    {"Order.Items[].Product.Name", f_item_name},
    {"Order.Items[].Amount", f_item_amount},
    {"Order.Items[].Price", f_item_price},
    {"Order.Items[].Sum", f_item_sum},
    {"Order.Items[].Comment", f_item_comment},
    {"Order.FullSum", f_full_sum},
    {"Order.ResultSum", f_result_sum},
    {"Order.SurchargeSum", f_surcharge_sum}, /* the delivery fee (protocol 1.1) */
    {"Order.ChangeSum", f_change_sum},
    {"Order.ProcessedPaymentsSum", f_paid_sum},
    {"Order.Items", f_items},
    {"Order.PaymentItems", f_payments},
    {"Customer.Name", f_customer_name},
    {"Customer.Surname", f_customer_surname},
    {"Customer.Comment", f_customer_comment},
    {"Customer.CardNumber", f_empty},
    {"Customer.InBlacklist", f_customer_blacklist},
    {"Customer.BlacklistReason", f_customer_reason},
    {"Customer.Addresses", f_customer_addresses},
    {"Customer.Phones", f_customer_phones},
    {"Customer.Emails", f_empty},
    {"Courier.Name", f_courier_name},
    {"Courier.CellPhone", f_courier_phone},
    {"DeliveryOperator.Name", f_operator},
    {"Address", f_address},
    {"Address.AddressInStringView", f_address},
    {"Address.StreetName", f_street},
    {"Address.CityName", f_city},
    {"Address.House", f_house},
    {"Address.RegionName", f_region},
    {"Address.Building", f_building},
    {"Address.Flat", f_flat},
    {"Address.Entrance", f_entrance},
    {"Address.Floor", f_floor},
    {"Address.Doorphone", f_doorphone},
    {"Address.AdditionalInfo", f_address_info},
    {"CafeAddress", f_cafe},
};

const char *dlv__template_field(size_t index)
{
    return index < DLV__ARRAY_SIZE(fields) ? fields[index].name : NULL;
}

/* ---- Compiling ---- */

typedef struct segment {
    int field;    /* index into fields, or -1 for literal text */
    size_t index; /* Items[index] */
    size_t off, len;
} segment;

struct dlv__template {
    char *text;
    segment *segs;
    size_t count, cap;
};

static bool add_seg(dlv__template *t, segment s)
{
    if (s.field < 0 && t->count && t->segs[t->count - 1].field < 0 &&
        t->segs[t->count - 1].off + t->segs[t->count - 1].len == s.off) {
        t->segs[t->count - 1].len += s.len; /* extend adjacent literal */
        return true;
    }
    if (DLV__DYNARR_RESERVE(t->segs, t->cap, t->count + 1, 8, DLV__DYNARR_NOLIMIT) != DLV_OK)
        return false;
    t->segs[t->count++] = s;
    return true;
}

static bool ident_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool ident_char(char c)
{
    return ident_start(c) || (c >= '0' && c <= '9');
}

static int tpl_error(dlv_error *err, const char *text, size_t at, const char *fmt, const char *arg)
{
    int line = 1, col = 1;
    for (size_t k = 0; k < at; k++) {
        if (text[k] == '\n')
            line++, col = 1;
        else if (((unsigned char)text[k] & 0xC0) != 0x80)
            col++;
    }
    char what[160];
    snprintf(what, sizeof what, fmt, arg);
    return dlv__error_set(err, DLV_ETEMPLATE, "line %d, column %d: %s", line, col, what);
}

/* Reads the members after "Model" at text[*j]: ".A.B", with at most one "[n]". */
static void read_members(const char *text, size_t len, size_t *j, char *name, size_t cap,
                         size_t *index)
{
    size_t n = 0;
    bool indexed = false;
    name[0] = '\0';
    for (;;) {
        size_t k = *j;
        if (k + 1 < len && text[k] == '.' && ident_start(text[k + 1])) {
            size_t start = ++k;
            while (k < len && ident_char(text[k]))
                k++;
            int w =
                snprintf(name + n, cap - n, "%s%.*s", n ? "." : "", (int)(k - start), text + start);
            n = w > 0 && (size_t)w < cap - n ? n + (size_t)w : cap - 1;
        } else if (!indexed && k + 1 < len && text[k] == '[' && text[k + 1] >= '0' &&
                   text[k + 1] <= '9') {
            size_t v = 0;
            for (k++; k < len && text[k] >= '0' && text[k] <= '9'; k++)
                v = v < 100000 ? v * 10 + (size_t)(text[k] - '0') : v;
            if (k >= len || text[k] != ']')
                return;
            k++;
            indexed = true;
            *index = v;
            int w = snprintf(name + n, cap - n, "[]");
            n = w > 0 && (size_t)w < cap - n ? n + (size_t)w : cap - 1;
        } else {
            return;
        }
        *j = k;
    }
}

static int compile_expr(dlv__template *t, const char *text, size_t len, size_t at, size_t *next,
                        dlv_error *err)
{
    bool explicit_ = text[at + 1] == '(';
    size_t j = at + (explicit_ ? 2 : 1), start = j;
    while (j < len && ident_char(text[j]))
        j++;
    char ident[40];
    snprintf(ident, sizeof ident, "%.*s", (int)(j - start), text + start);
    if (strcmp(ident, "Model") != 0)
        return tpl_error(
            err, text, at,
            explicit_ ? "unsupported expression @(%s...)" : "unsupported Razor code @%s", ident);
    char name[160];
    size_t index = 0;
    read_members(text, len, &j, name, sizeof name, &index);
    if (explicit_) {
        if (j >= len || text[j] != ')')
            return tpl_error(err, text, at, "%s", "expected ) to end @(Model...)");
        j++;
    }
    for (size_t f = 0; f < DLV__ARRAY_SIZE(fields); f++) {
        if (strcmp(fields[f].name, name) == 0) {
            *next = j;
            if (!add_seg(t, (segment){(int)f, index, 0, 0}))
                return dlv__error_set(err, DLV_ENOMEM, "out of memory");
            return DLV_OK;
        }
    }
    return tpl_error(err, text, at, name[0] ? "unknown field @Model.%s" : "unknown field @Model%s",
                     name);
}

static int compile(dlv__template *t, const char *text, size_t len, dlv_error *err)
{
    size_t i = 0;
    while (i < len) {
        char next = i + 1 < len ? text[i + 1] : '\0';
        bool after_word = i > 0 && ident_char(text[i - 1]);
        if (text[i] == '@' && next == '@') {
            /* One '@' of the two; the text after starts a new span, as it is not adjacent. */
            if (!add_seg(t, (segment){-1, 0, i, 1}))
                return dlv__error_set(err, DLV_ENOMEM, "out of memory");
            i += 2;
        } else if (text[i] != '@' || after_word ||
                   !(next == '*' || next == '(' || ident_start(next))) {
            if (!add_seg(t, (segment){-1, 0, i, 1}))
                return dlv__error_set(err, DLV_ENOMEM, "out of memory");
            i++;
        } else if (next == '*') {
            size_t k = i + 2;
            while (k + 1 < len && !(text[k] == '*' && text[k + 1] == '@'))
                k++;
            if (k + 1 >= len)
                return tpl_error(err, text, i, "%s", "unterminated @* comment *@");
            i = k + 2;
        } else {
            int rc = compile_expr(t, text, len, i, &i, err);
            if (rc)
                return rc;
        }
    }
    return DLV_OK;
}

void dlv__template_free(dlv__template *t)
{
    if (!t)
        return;
    dlv__free(t->text);
    dlv__free(t->segs);
    dlv__free(t);
}

int dlv__template_compile(const char *text, size_t len, dlv__template **out, dlv_error *err)
{
    *out = NULL;
    if (!text)
        return dlv__error_set(err, DLV_EINVAL, "no template text");
    if (len > TEMPLATE_MAX)
        return dlv__error_set(err, DLV_ETOOLARGE, "template of %zu bytes exceeds %d bytes", len,
                              TEMPLATE_MAX);
    if (memchr(text, '\0', len) || !dlv__utf8_valid(text, len))
        return dlv__error_set(err, DLV_ETEMPLATE, "template is not valid UTF-8 text");
    dlv__template *t = dlv__calloc(1, sizeof *t);
    if (!t || !(t->text = dlv__strndup(text, len))) {
        dlv__free(t);
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    }
    int rc = compile(t, t->text, len, err);
    if (rc) {
        dlv__template_free(t);
        return rc;
    }
    *out = t;
    return DLV_OK;
}

int dlv__template_render(const dlv__template *t, const dlv__order *o,
                         const dlv__render_options *opt, char **out, dlv_error *err)
{
    static const dlv__render_options defaults = {0};
    dlv__dynbuf b;
    dlv__dynbuf_init(&b, SIZE_MAX);
    *out = NULL;
    if (!t || !o)
        return dlv__error_set(err, DLV_EINVAL, "no template or order");
    if (!opt)
        opt = &defaults;
    for (size_t k = 0; k < t->count; k++) {
        const segment *s = &t->segs[k];
        if (s->field < 0) {
            put(&b, t->text + s->off, s->len);
        } else {
            DLV__ASSERT((size_t)s->field < DLV__ARRAY_SIZE(fields)); /* compile checked it */
            fields[s->field].fn(&b, o, opt, s->index);
        }
    }
    *out = dlv__dynbuf_take(&b, NULL);
    dlv__dynbuf_free(&b);
    if (!*out)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    return DLV_OK;
}
