/* @Model.X notification templates: compiled once (unknown fields fail at load), rendered by
 * plain substitution. Nothing from the order's data is ever parsed as template text. */
#include "order/notify.h"

#include "common/dynbuf.h"

#include <stdio.h>
#include <stdlib.h>
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

/* The fields see the caller's options; a segment's .ToString("fmt") travels beside them. Every
 * options pointer a field receives is the first member of one of these (dlv__template_render). */
typedef struct render_state {
    dlv__render_options opt;
    const char *fmt; /* NULL: the field's default text */
} render_state;

static const char *segment_format(const dlv__render_options *o)
{
    return ((const render_state *)(const void *)o)->fmt;
}

/* ---- .ToString("fmt") on numbers (.NET standard N F D C G, custom 0 # , .; ru-RU) ---- */

typedef struct number_format {
    bool group;        /* digit groups of three, separated by a no-break space */
    int min_dec;       /* decimals always shown */
    int max_dec;       /* decimals shown when not zero */
    int min_int;       /* integer digits, zero padded (D6) */
    bool currency;     /* " ₽" after the number */
    bool integer_only; /* D: only for whole numbers */
} number_format;

/* Parses a numeric format; NULL or the reason it is not supported. */
static const char *parse_number_format(const char *f, number_format *nf)
{
    *nf = (number_format){0};
    size_t n = strlen(f);
    if (n == 0 || (n == 1 && (f[0] == 'G' || f[0] == 'g'))) {
        nf->min_dec = -1; /* the field's own text */
        return NULL;
    }
    char c = f[0];
    if (strchr("NnFfDdCc", c) && (n == 1 || (n <= 3 && strspn(f + 1, "0123456789") == n - 1))) {
        int digits = n > 1 ? atoi(f + 1) : -1;
        if (digits > 10)
            return "precision above 10";
        switch (c) {
        case 'N':
        case 'n':
            nf->group = true; /* fall through */
        case 'F':
        case 'f':
            nf->min_dec = nf->max_dec = digits < 0 ? 2 : digits;
            nf->min_int = 1;
            break;
        case 'C':
        case 'c':
            nf->group = nf->currency = true;
            nf->min_dec = nf->max_dec = digits < 0 ? 2 : digits;
            nf->min_int = 1;
            break;
        default:
            nf->integer_only = true;
            nf->min_int = digits < 0 ? 1 : digits;
            break;
        }
        return NULL;
    }
    /* Custom: [#,0]+ then an optional . and [0#]*. */
    size_t i = 0;
    bool zero = false;
    for (; i < n && (f[i] == '#' || f[i] == '0' || f[i] == ','); i++) {
        if (f[i] == ',')
            nf->group = true;
        else if (f[i] == '0')
            zero = true, nf->min_int++;
        else if (zero)
            return "'#' after '0' in the integer part";
    }
    if (i == 0 && (i >= n || f[i] != '.'))
        return "not a number format";
    if (i < n && f[i] == '.') {
        for (i++; i < n && (f[i] == '0' || f[i] == '#'); i++) {
            if (f[i] == '0' && nf->max_dec > nf->min_dec)
                return "'0' after '#' in the decimals";
            nf->min_dec += f[i] == '0';
            nf->max_dec++;
        }
    }
    if (i != n)
        return "only 0 # , . are supported in a custom number format";
    return NULL;
}

static void put_number(dlv__dynbuf *b, int64_t v, int scale, const number_format *nf,
                       const dlv__render_options *o)
{
    bool neg = v < 0;
    uint64_t mag = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int dec = nf->max_dec;
    if (scale > dec) { /* round half away from zero, as .NET does for decimal */
        uint64_t div = 1;
        for (int k = dec; k < scale; k++)
            div *= 10;
        mag = mag / div + (mag % div >= div - mag % div ? 1 : 0);
        scale = dec;
    }
    char digits[64];
    int len = snprintf(digits, sizeof digits, "%0*llu", scale + 1, (unsigned long long)mag);
    for (; scale < dec; scale++) /* pad the decimals */
        digits[len++] = '0';
    digits[len] = '\0';
    int int_len = len - dec, shown = dec;
    while (shown > nf->min_dec && digits[int_len + shown - 1] == '0')
        shown--;
    const char *ip = digits;
    while (ip < digits + int_len && *ip == '0') /* leading zeros: min_int decides */
        ip++;
    int ipn = (int)(digits + int_len - ip), pad = nf->min_int > ipn ? nf->min_int - ipn : 0;
    if (neg && mag != 0)
        puts_(b, "-");
    for (int k = 0; k < pad + ipn; k++) {
        if (nf->group && k > 0 && (pad + ipn - k) % 3 == 0)
            puts_(b, "\xC2\xA0"); /* ru-RU groups with a no-break space */
        put(b, k < pad ? "0" : &ip[k - pad], 1);
    }
    if (shown > 0) {
        char sep = o->decimal_separator ? o->decimal_separator : ',';
        put(b, &sep, 1);
        put(b, digits + int_len, (size_t)shown);
    }
    if (nf->currency)
        puts_(b, "\xC2\xA0\xE2\x82\xBD"); /* " ₽" */
}

/* A formatted number; false when the segment has no format (the caller writes its default). */
static bool put_formatted(dlv__dynbuf *b, int64_t v, int scale, const dlv__render_options *o)
{
    const char *f = segment_format(o);
    number_format nf;
    if (!f || parse_number_format(f, &nf) || nf.min_dec < 0)
        return false;
    put_number(b, v, scale, &nf, o);
    return true;
}

static void put_decimal(dlv__dynbuf *b, int64_t v, int scale, bool fixed,
                        const dlv__render_options *o)
{
    if (put_formatted(b, v, scale, o))
        return;
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

static void put_int(dlv__dynbuf *b, int64_t v, const dlv__render_options *o)
{
    if (put_formatted(b, v, 0, o))
        return;
    char text[24];
    snprintf(text, sizeof text, "%lld", (long long)v);
    puts_(b, text);
}

static void put_bool(dlv__dynbuf *b, bool v)
{
    puts_(b, v ? "True" : "False"); /* what Razor prints for a bool */
}

/* ---- .ToString("fmt") on times (.NET custom and standard date formats, ru-RU names) ---- */

typedef struct date_parts {
    int64_t year;
    unsigned month, day, hour, minute, second, weekday; /* weekday 0: Sunday */
} date_parts;

static const char *const month_gen[] = {"января",   "февраля", "марта",  "апреля",
                                        "мая",      "июня",    "июля",   "августа",
                                        "сентября", "октября", "ноября", "декабря"};
static const char *const month_nom[] = {"январь",   "февраль", "март",   "апрель",
                                        "май",      "июнь",    "июль",   "август",
                                        "сентябрь", "октябрь", "ноябрь", "декабрь"};
static const char *const month_abbr[] = {"янв", "фев", "мар", "апр", "май", "июн",
                                         "июл", "авг", "сен", "окт", "ноя", "дек"};
static const char *const day_full[] = {"воскресенье", "понедельник", "вторник", "среда",
                                       "четверг",     "пятница",     "суббота"};
static const char *const day_abbr[] = {"вс", "пн", "вт", "ср", "чт", "пт", "сб"};

/* The standard one-letter formats, as ru-RU patterns. */
static const char *standard_date_format(char c)
{
    switch (c) {
    case 'd':
        return "dd.MM.yyyy";
    case 'D':
        return "d MMMM yyyy 'г.'";
    case 't':
        return "HH:mm";
    case 'T':
        return "HH:mm:ss";
    case 'g':
        return "dd.MM.yyyy HH:mm";
    case 'G':
        return "dd.MM.yyyy HH:mm:ss";
    case 'f':
        return "d MMMM yyyy 'г.' HH:mm";
    case 'F':
        return "d MMMM yyyy 'г.' HH:mm:ss";
    case 'M':
    case 'm':
        return "d MMMM";
    case 'Y':
    case 'y':
        return "MMMM yyyy";
    case 's':
        return "yyyy'-'MM'-'dd'T'HH':'mm':'ss";
    default:
        return NULL;
    }
}

/* Writes the time `p` in the .NET format `f` to `b`, or with b NULL only checks `f`. NULL or the
 * reason the format is not supported. */
static const char *date_format(dlv__dynbuf *b, const char *f, const date_parts *p)
{
    if (f[0] && !f[1]) {
        f = standard_date_format(f[0]);
        if (!f)
            return "not a supported standard date format (d D t T g G f F M Y s)";
    }
    /* "MMMM" is the genitive («25 декабря») when the format also shows the day of the month. */
    bool genitive = false;
    for (const char *q = f; *q; q++) {
        if (*q == 'd') {
            size_t run = strspn(q, "d");
            genitive = genitive || run <= 2;
            q += run - 1;
        }
    }
    char text[32];
    for (size_t i = 0; f[i];) {
        char c = f[i];
        size_t run = 1;
        while (f[i + run] == c)
            run++;
        if (c == '%' && f[i + 1] && f[i + 1] != '%') { /* "%d": one custom specifier */
            i++;
            continue;
        }
        if (c == '\\' || c == '"' || c == '\'') {
            size_t start = i + 1, end = start;
            if (c == '\\')
                end = f[start] ? start + 1 : start;
            else
                while (f[end] && f[end] != c)
                    end++;
            if (c != '\\' && !f[end])
                return "unterminated quoted text";
            if (c == '\\' && end == start)
                return "a \\ at the end";
            if (b)
                put(b, f + start, end - start);
            i = c == '\\' ? end : end + 1;
            continue;
        }
        const char *word = NULL;
        text[0] = '\0';
        switch (c) {
        case 'd':
            if (run >= 4)
                word = p ? day_full[p->weekday] : "";
            else if (run == 3)
                word = p ? day_abbr[p->weekday] : "";
            else if (p)
                snprintf(text, sizeof text, run == 1 ? "%u" : "%02u", p->day);
            break;
        case 'M':
            if (run >= 4)
                word = p ? (genitive ? month_gen : month_nom)[p->month - 1] : "";
            else if (run == 3)
                word = p ? month_abbr[p->month - 1] : "";
            else if (p)
                snprintf(text, sizeof text, run == 1 ? "%u" : "%02u", p->month);
            break;
        case 'y':
            if (p && run <= 2)
                snprintf(text, sizeof text, run == 1 ? "%u" : "%02u", (unsigned)(p->year % 100));
            else if (p)
                snprintf(text, sizeof text, "%0*lld", (int)(run > 9 ? 9 : run), (long long)p->year);
            break;
        case 'H':
        case 'h':
        case 'm':
        case 's':
            if (run > 2)
                return c == 'H' || c == 'h' ? "more than two H" : "more than two m or s";
            if (p) {
                unsigned v = c == 'H'   ? p->hour
                             : c == 'h' ? (p->hour % 12 ? p->hour % 12 : 12)
                             : c == 'm' ? p->minute
                                        : p->second;
                snprintf(text, sizeof text, run == 1 ? "%u" : "%02u", v);
            }
            break;
        case 'f':
            if (run > 7)
                return "more than seven f";
            if (p)
                snprintf(text, sizeof text, "%0*d", (int)run, 0); /* times carry whole seconds */
            break;
        case 'F':
            if (run > 7)
                return "more than seven F";
            break;
        case ':':
            snprintf(text, sizeof text, ":");
            break;
        case '/':
            snprintf(text, sizeof text, "."); /* the ru-RU date separator */
            break;
        case 'g':
        case 'K':
        case 'z':
        case 't':
            return "era, time zone and AM/PM specifiers (g K z t) are not supported";
        default:
            if (b)
                put(b, f + i, run);
            i += run;
            continue;
        }
        if (b)
            puts_(b, word ? word : text);
        i += run;
    }
    return NULL;
}

/* A time with the segment's .NET format: the same local fields as put_time. */
static void put_time_formatted(dlv__dynbuf *b, dlv__time t, const dlv__render_options *o)
{
    if (t == DLV__TIME_NONE || t < DLV__TIME_MIN || t > DLV__TIME_MAX)
        return;
    date_parts p;
    int offset = o->utc_offset_at ? o->utc_offset_at(o->utc_offset_arg, t) : o->utc_offset_minutes;
    dlv__time_fields(t, offset, &p.year, &p.month, &p.day, &p.hour, &p.minute, &p.second);
    int64_t days = dlv__days_from_civil(p.year, p.month, p.day);
    p.weekday = (unsigned)(((days % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    (void)date_format(b, segment_format(o), &p);
}

static void put_time(dlv__dynbuf *b, dlv__time t, const dlv__render_options *o)
{
    if (segment_format(o)) {
        put_time_formatted(b, t, o);
        return;
    }
    if (t == DLV__TIME_NONE || t < DLV__TIME_MIN || t > DLV__TIME_MAX)
        return;
    int64_t y;
    unsigned mo, d, h, mi, s;
    /* Asked per time: a message sent in March may name a due time after the change to summer
     * time. */
    int offset = o->utc_offset_at ? o->utc_offset_at(o->utc_offset_arg, t) : o->utc_offset_minutes;
    dlv__time_fields(t, offset, &y, &mo, &d, &h, &mi, &s);
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
FIELD(f_number, put_int(b, o->number, opt))
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
FIELD(f_persons, put_int(b, o->persons_count, opt))
FIELD(f_status, if (dlv_status_coarse_code(o->status) >= 0)
                    put_int(b, dlv_status_coarse_code(o->status), opt))
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
FIELD(f_sum_to_pay, put_money(b, dlv__notify_sum_to_pay(o), opt))
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

typedef enum field_kind {
    K_TEXT = 0, /* .ToString() only */
    K_TIME,     /* a .NET date format */
    K_NUMBER,   /* a .NET number format: money, amounts, counts */
    K_INT,      /* a number format, "D" too */
    K_AMOUNT,   /* a number format (an item's amount) */
} field_kind;

/* Every @Model.X field a notification template may use. Fields the protocol's ORDER carries no data
 * for (Email, predictions, route index, marketing source, card number, e-mails, item categories)
 * render empty; the times the terminal records itself come from the order's local history. */
static const struct {
    const char *name;
    render_fn fn;
    field_kind kind; /* what .ToString("fmt") may format; 0: text only */
} fields[] = {
    {"Number", f_number, K_INT},
    {"Phone", f_phone, K_TEXT},
    {"Email", f_empty, K_TEXT},
    {"Comment", f_comment, K_TEXT},
    {"CreateTime", f_create, K_TIME},
    {"ExpectedDeliverTime", f_expected, K_TIME},
    {"ConfirmTime", f_confirm, K_TIME},
    {"BillTime", f_bill, K_TIME},
    {"PrintTime", f_print, K_TIME},
    {"SendTime", f_send, K_TIME},
    {"ActualDeliverTime", f_actual, K_TIME},
    {"PredictedCookingCompleteTime", f_empty, K_TIME},
    {"PredictedDeliveryTime", f_empty, K_TIME},
    {"Duration", f_duration, K_TEXT},
    {"HasProblem", f_has_problem, K_TEXT},
    {"ProblemComment", f_problem, K_TEXT},
    {"SplitBetweenPersons", f_split, K_TEXT},
    {"PersonsCount", f_persons, K_INT},
    {"MarketingSourceName", f_empty, K_TEXT},
    {"IndexInCourierRoute", f_empty, K_INT},
    {"Status", f_status, K_INT},
    {"SourceKey", f_source, K_TEXT},
    {"Order.Items[].Product.CategoryName", f_item_category, K_TEXT},
    {"Order.Items[].Product.Name", f_item_name, K_TEXT},
    {"Order.Items[].Amount", f_item_amount, K_AMOUNT},
    {"Order.Items[].Price", f_item_price, K_NUMBER},
    {"Order.Items[].Sum", f_item_sum, K_NUMBER},
    {"Order.Items[].Comment", f_item_comment, K_TEXT},
    {"Order.FullSum", f_full_sum, K_NUMBER},
    {"Order.ResultSum", f_result_sum, K_NUMBER},
    {"Order.SurchargeSum", f_surcharge_sum, K_NUMBER}, /* the delivery fee (protocol 1.1) */
    {"Order.ChangeSum", f_change_sum, K_NUMBER},
    {"Order.ProcessedPaymentsSum", f_paid_sum, K_NUMBER},
    {"Order.SumToPay", f_sum_to_pay, K_NUMBER},
    {"Order.Items", f_items, K_TEXT},
    {"Order.PaymentItems", f_payments, K_TEXT},
    {"Customer.Name", f_customer_name, K_TEXT},
    {"Customer.Surname", f_customer_surname, K_TEXT},
    {"Customer.Comment", f_customer_comment, K_TEXT},
    {"Customer.CardNumber", f_empty, K_TEXT},
    {"Customer.InBlacklist", f_customer_blacklist, K_TEXT},
    {"Customer.BlacklistReason", f_customer_reason, K_TEXT},
    {"Customer.Addresses", f_customer_addresses, K_TEXT},
    {"Customer.Phones", f_customer_phones, K_TEXT},
    {"Customer.Emails", f_empty, K_TEXT},
    {"Courier.Name", f_courier_name, K_TEXT},
    {"Courier.CellPhone", f_courier_phone, K_TEXT},
    {"DeliveryOperator.Name", f_operator, K_TEXT},
    {"Address", f_address, K_TEXT},
    {"Address.AddressInStringView", f_address, K_TEXT},
    {"Address.StreetName", f_street, K_TEXT},
    {"Address.CityName", f_city, K_TEXT},
    {"Address.House", f_house, K_TEXT},
    {"Address.RegionName", f_region, K_TEXT},
    {"Address.Building", f_building, K_TEXT},
    {"Address.Flat", f_flat, K_TEXT},
    {"Address.Entrance", f_entrance, K_TEXT},
    {"Address.Floor", f_floor, K_TEXT},
    {"Address.Doorphone", f_doorphone, K_TEXT},
    {"Address.AdditionalInfo", f_address_info, K_TEXT},
    {"CafeAddress", f_cafe, K_TEXT},
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
    char *fmt; /* .ToString("fmt"), unescaped; NULL: the field's default text */
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

/* Reads `("fmt")` or `()` after ".ToString" at text[*j]: a C# string literal with \" and \\
 * escapes (so a .NET "\\:" arrives as "\:"). *fmt is dlv__malloc'd ("" for no argument). */
static int read_tostring(const char *text, size_t len, size_t at, size_t *j, char **fmt,
                         dlv_error *err)
{
    size_t k = *j;
    if (k >= len || text[k] != '(')
        return tpl_error(err, text, at, "%s", "ToString needs (\"format\") or ()");
    dlv__dynbuf b;
    dlv__dynbuf_init(&b, 256);
    k++;
    if (k < len && text[k] == '"') {
        for (k++; k < len && text[k] != '"' && text[k] != '\n'; k++) {
            if (text[k] == '\\' && k + 1 < len && (text[k + 1] == '"' || text[k + 1] == '\\'))
                k++;
            put(&b, text + k, 1);
        }
        if (k >= len || text[k] != '"') {
            dlv__dynbuf_free(&b);
            return tpl_error(err, text, at, "%s", "unterminated string in ToString(\"...\")");
        }
        k++;
    }
    if (k >= len || text[k] != ')') {
        dlv__dynbuf_free(&b);
        return tpl_error(err, text, at, "%s",
                         "ToString takes one format string: ToString(\"HH:mm\")");
    }
    put(&b, "", 0);
    if (dlv__dynbuf_error(&b) == DLV_ETOOLARGE) { /* a fault of the template, not of memory */
        dlv__dynbuf_free(&b);
        return tpl_error(err, text, at, "%s", "ToString format longer than 255 bytes");
    }
    *fmt = dlv__dynbuf_take(&b, NULL);
    dlv__dynbuf_free(&b);
    if (!*fmt)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    if (!**fmt) { /* ToString(): the default text */
        dlv__free(*fmt);
        *fmt = NULL;
    }
    *j = k + 1;
    return DLV_OK;
}

/* Why `fmt` cannot format a field of `kind`, or NULL. */
static const char *format_error(field_kind kind, const char *fmt)
{
    number_format nf;
    const char *why;
    switch (kind) {
    case K_TIME:
        return date_format(NULL, fmt, NULL);
    case K_INT:
    case K_NUMBER:
    case K_AMOUNT:
        why = parse_number_format(fmt, &nf);
        if (!why && nf.integer_only && kind != K_INT)
            why = "\"D\" formats whole numbers only";
        return why;
    default:
        return "this field is text: only ToString() without a format";
    }
}

static int tpl_error2(dlv_error *err, const char *text, size_t at, const char *fmt, const char *why)
{
    char what[200];
    snprintf(what, sizeof what, "unsupported format \"%.60s\": %s", fmt, why);
    return tpl_error(err, text, at, "%s", what);
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
    char *fmt = NULL;
    size_t tostring = strlen(name) > 9 ? strlen(name) - 9 : 0;
    if (tostring && strcmp(name + tostring, ".ToString") == 0) {
        name[tostring] = '\0';
        int rc = read_tostring(text, len, at, &j, &fmt, err);
        if (rc)
            return rc;
    }
    if (explicit_) {
        if (j >= len || text[j] != ')') {
            dlv__free(fmt);
            return tpl_error(err, text, at, "%s", "expected ) to end @(Model...)");
        }
        j++;
    }
    for (size_t f = 0; f < DLV__ARRAY_SIZE(fields); f++) {
        if (strcmp(fields[f].name, name) == 0) {
            const char *why = fmt ? format_error(fields[f].kind, fmt) : NULL;
            if (why) {
                int rc = tpl_error2(err, text, at, fmt, why);
                dlv__free(fmt);
                return rc;
            }
            *next = j;
            if (!add_seg(t, (segment){(int)f, index, 0, 0, fmt})) {
                dlv__free(fmt);
                return dlv__error_set(err, DLV_ENOMEM, "out of memory");
            }
            return DLV_OK;
        }
    }
    dlv__free(fmt);
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
            if (!add_seg(t, (segment){-1, 0, i, 1, NULL}))
                return dlv__error_set(err, DLV_ENOMEM, "out of memory");
            i += 2;
        } else if (text[i] != '@' || after_word ||
                   !(next == '*' || next == '(' || ident_start(next))) {
            if (!add_seg(t, (segment){-1, 0, i, 1, NULL}))
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
    for (size_t k = 0; k < t->count; k++)
        dlv__free(t->segs[k].fmt);
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

int dlv__template_compile_named(const char *name, const char *text, size_t len, dlv__template **out,
                                dlv_error *err)
{
    int rc = dlv__template_compile(text, len, out, err);
    if (rc == DLV_OK || rc == DLV_ENOMEM || !err || !name)
        return rc;
    char why[DLV_ERROR_MESSAGE_MAX];
    int line = 0, col = 0, at = 0;
    snprintf(why, sizeof why, "%s", err->message);
    if (sscanf(why, "line %d, column %d: %n", &line, &col, &at) == 2 && at > 0)
        return dlv__error_set(err, rc, "%s:%d:%d: %s", name, line, col, why + at);
    return dlv__error_set(err, rc, "%s: %s", name, why);
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
            render_state st = {*opt, s->fmt};
            fields[s->field].fn(&b, o, &st.opt, s->index);
        }
    }
    *out = dlv__dynbuf_take(&b, NULL);
    dlv__dynbuf_free(&b);
    if (!*out)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    return DLV_OK;
}
