/* Documents: the invoice and the service check of fixed orders as ESC/POS bytes decoded back and
 * compared with golden text (CP866, never raw UTF-8), widths, copies, «КОПИЯ», the text preview,
 * the A4 PDF read back with pdftotext, and templates refused at load with file:line.
 *
 * DLV_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing (review the diff). */
#define _GNU_SOURCE
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>

#include "order/model.h"
#include "common/tz.h"
#include "print/print.h"
#include "testlib.h"

#define DATA DLV_TEST_SOURCE_DIR "/test/unit/data/print/"

/* An order from data/print/order_<name>.json, decoded by the order module. */
static dlv__order *load_order(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, DATA "order_%s.json", name);
    char *json = dlv_test_read_file(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    dlv__order *o = NULL;
    dlv_error err = {0};
    int rc = dlv__order_from_json(json, strlen(json), 0, &o, &err);
    if (rc != DLV_OK)
        fprintf(stderr, "\n  order: %s\n", err.message);
    CU_ASSERT_EQUAL_FATAL(rc, DLV_OK);
    free(json);
    return o;
}

static dlv__print_context ctx_at(void)
{
    dlv__print_context c = {0};
    dlv__time_parse("2026-11-29T12:40:00Z", &c.now);
    c.tz_offset_minutes = 180; /* Moscow */
    c.copies = 1;
    return c;
}

/* ---- ESC/POS decoding ---- */

typedef struct decoded {
    char *text;
    size_t len;
    int codepage, inits, cuts, feeds;
    bool ok;
    char why[160];
} decoded;

static void put(decoded *d, const char *s, size_t n)
{
    d->text = realloc(d->text, d->len + n + 1);
    memcpy(d->text + d->len, s, n);
    d->len += n;
    d->text[d->len] = '\0';
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Turns printer bytes back into the text a person would read: commands dropped, CP866 decoded,
 * a cut shown as the preview's "8<---" line. Checks every line fits its width. */
static decoded decode(const unsigned char *b, size_t n, int width)
{
    decoded d = {.codepage = -1, .ok = true};
    put(&d, "", 0);
    iconv_t cd = iconv_open("UTF-8", "CP866");
    char line[1024];
    size_t ll = 0;
    int size = 0;
    for (size_t i = 0; i < n && d.ok; i++) {
        unsigned char c = b[i];
        if (c == 0x1B && i + 1 < n) {
            unsigned char op = b[++i];
            if (op == '@')
                d.inits++;
            else if (op == 't' && i + 1 < n)
                d.codepage = b[++i];
            else if (op == 'E' && i + 1 < n)
                i++;
            else if (op == 'd' && i + 1 < n)
                i++, d.feeds++;
            else
                d.ok = false, snprintf(d.why, sizeof d.why, "unknown ESC 0x%02x at %zu", op, i);
        } else if (c == 0x1D && i + 1 < n) {
            unsigned char op = b[++i];
            if (op == '!' && i + 1 < n) {
                unsigned char v = b[++i];
                size = v == 0x11 ? 2 : v == 0x01 ? 1 : 0;
            } else if (op == 'V' && i + 2 < n && b[i + 1] == 66) {
                i += 2;
                d.cuts++;
                put(&d, "8<", 2);
                for (int k = 2; k < width; k++)
                    put(&d, "-", 1);
                put(&d, "\n", 1);
            } else {
                d.ok = false, snprintf(d.why, sizeof d.why, "unknown GS 0x%02x at %zu", op, i);
            }
        } else if (c == '\n') {
            char out[4096];
            char *in = line, *o = out;
            size_t il = ll, ol = sizeof out - 1;
            if (iconv(cd, &in, &il, &o, &ol) == (size_t)-1)
                d.ok = false, snprintf(d.why, sizeof d.why, "not CP866: %.*s", (int)ll, line);
            *o = '\0';
            size_t cols = utf8_chars(out);
            size_t max = (size_t)(size == 2 ? width / 2 : width);
            if (cols > max)
                d.ok = false,
                snprintf(d.why, sizeof d.why, "%zu columns > %zu: %.100s", cols, max, out);
            put(&d, out, strlen(out));
            put(&d, "\n", 1);
            ll = 0;
        } else if (c < 0x20 || c == 0x7F) {
            d.ok = false, snprintf(d.why, sizeof d.why, "stray control byte 0x%02x at %zu", c, i);
        } else if (ll < sizeof line) {
            line[ll++] = (char)c;
        }
    }
    if (ll)
        d.ok = false, snprintf(d.why, sizeof d.why, "text after the last line feed");
    iconv_close(cd);
    if (!d.ok)
        fprintf(stderr, "\n  decode: %s\n", d.why);
    return d;
}

static bool has_utf8_cyrillic(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if ((b[i] == 0xD0 || b[i] == 0xD1) && (b[i + 1] & 0xC0) == 0x80)
            return true;
    return false;
}

static void check_golden(const char *name, const char *actual)
{
    char path[512];
    snprintf(path, sizeof path, DATA "%s", name);
    if (getenv("DLV_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fputs(actual, f);
        fclose(f);
        return;
    }
    char *want = dlv_test_read_file(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(want);
    bool same = strcmp(want, actual) == 0;
    if (!same)
        fprintf(stderr, "\n  golden %s differs:\n--- want\n%s--- got\n%s---\n", name, want, actual);
    CU_ASSERT(same);
    free(want);
}

static dlv__print_out render(dlv__doc_kind kind, const dlv__order *o, const dlv__print_context *c,
                             dlv__print_format f, int width)
{
    dlv__print_out out = {0};
    dlv__print_profile prof = {17, width, true};
    dlv_error err = {0};
    int rc = dlv__print_render(kind, o, NULL, c, f, &prof, &out, &err);
    if (rc != DLV_OK)
        fprintf(stderr, "\n  render: %s\n", err.message);
    CU_ASSERT_EQUAL(rc, DLV_OK);
    return out;
}

/* Renders ESC/POS, checks the bytes and returns the decoded text (free it). */
static char *escpos_text(dlv__doc_kind kind, const dlv__order *o, const dlv__print_context *c,
                         int width, decoded *info)
{
    dlv__print_out out = render(kind, o, c, DLV__FORMAT_ESCPOS, width);
    CU_ASSERT_FATAL(out.len > 5);
    /* ESC @ then ESC t 17 before any text. */
    CU_ASSERT(out.data[0] == 0x1B && out.data[1] == '@' && out.data[2] == 0x1B &&
              out.data[3] == 't' && out.data[4] == 17);
    CU_ASSERT(!has_utf8_cyrillic(out.data, out.len));
    CU_ASSERT_PTR_NULL(memchr(out.data, 0xD0, out.len));
    CU_ASSERT_PTR_NULL(memchr(out.data, 0xD1, out.len));
    decoded d = decode(out.data, out.len, width);
    CU_ASSERT(d.ok);
    CU_ASSERT_EQUAL(d.codepage, 17);
    CU_ASSERT_EQUAL(d.inits, 1);
    if (info)
        *info = d;
    dlv__print_out_free(&out);
    return d.text;
}

static void golden(dlv__doc_kind kind, const char *order, int width, const char *file)
{
    dlv__order *o = load_order(order);
    dlv__print_context c = ctx_at();
    decoded d;
    char *text = escpos_text(kind, o, &c, width, &d);
    CU_ASSERT_EQUAL(d.cuts, 1);
    check_golden(file, text);
    /* The preview is the same lines in UTF-8. */
    dlv__print_out t = render(kind, o, &c, DLV__FORMAT_TEXT, width);
    CU_ASSERT_FATAL(dlv__out_append(&t, "", 1) == DLV_OK);
    CU_ASSERT_STRING_EQUAL((char *)t.data, text);
    dlv__print_out_free(&t);
    free(text);
    dlv__order_free(o);
}

static void invoice_golden_42(void)
{
    golden(DLV__DOC_INVOICE, "courier", 42, "invoice_courier_42.txt");
}

static void invoice_golden_32(void)
{
    golden(DLV__DOC_INVOICE, "courier", 32, "invoice_courier_32.txt");
}

static void invoice_golden_48(void)
{
    golden(DLV__DOC_INVOICE, "courier", 48, "invoice_courier_48.txt");
}

/* A courier order with a delivery fee (protocol 1.1 surchargeSum): «Надбавка» between the
 * discount and the total; an order without one prints no such line (the goldens above). */
static void invoice_surcharge_golden(void)
{
    golden(DLV__DOC_INVOICE, "courier_surcharge", 42, "invoice_courier_surcharge_42.txt");
}

static void invoice_pickup_golden(void)
{
    golden(DLV__DOC_INVOICE, "pickup", 42, "invoice_pickup_42.txt");
}

static void service_check_golden(void)
{
    golden(DLV__DOC_SERVICE_CHECK, "courier", 42, "service_check_courier_42.txt");
    golden(DLV__DOC_SERVICE_CHECK, "pickup", 32, "service_check_pickup_32.txt");
}

/* Everything the invoice carries (docs/printers.md), on a courier order with a delivery fee, a
 * blacklisted customer («Высокий риск»), persons, the site's number, a courier with a phone and
 * the restaurant's name and address; the service check's time is the kitchen's (completeBefore
 * minus the courier's 45 minutes by default), not the customer's. And a pickup order. */
static void golden_restaurant(dlv__doc_kind kind, const char *order, const char *file)
{
    dlv__order *o = load_order(order);
    dlv__print_context c = ctx_at();
    c.restaurant = "Пиццерия „Тесто“";
    c.restaurant_address = "ул. Тверская, 7";
    decoded d;
    char *text = escpos_text(kind, o, &c, 42, &d);
    CU_ASSERT_EQUAL(d.cuts, 1);
    check_golden(file, text);
    if (kind == DLV__DOC_INVOICE) {
        DLV_ASSERT_CONTAINS(text, "Пиццерия \"Тесто\""); /* CP866 has no „ “ */
        DLV_ASSERT_CONTAINS(text, "ул. Тверская, 7");
    }
    free(text);
    dlv__order_free(o);
}

static void documents_golden(void)
{
    golden_restaurant(DLV__DOC_INVOICE, "courier_risk", "invoice_courier_risk_42.txt");
    golden_restaurant(DLV__DOC_SERVICE_CHECK, "courier_risk", "service_check_courier_risk_42.txt");
    golden_restaurant(DLV__DOC_INVOICE, "pickup", "invoice_pickup_restaurant_42.txt");
    golden_restaurant(DLV__DOC_SERVICE_CHECK, "pickup", "service_check_pickup_42.txt");

    /* What the goldens must show, whatever a rewrite of them says. */
    dlv__order *o = load_order("courier_risk");
    dlv__print_context c = ctx_at();
    c.restaurant = "Пиццерия „Тесто“";
    c.restaurant_address = "ул. Тверская, 7";
    char *text = escpos_text(DLV__DOC_INVOICE, o, &c, 42, NULL);
    const char *need[] = {"Высокий риск",
                          "site-7781",
                          "Персон:",
                          "2",
                          "Надбавка:",
                          "150.00",
                          "1383.00",
                          "Сдача:",
                          "117.00",
                          "Иван Смирнов",
                          "Телефон курьера:",
                          "+79260000001",
                          "Доставить к:              29.11.2026 16:30",
                          "позвонить за 10"};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
        DLV_ASSERT_CONTAINS(text, need[i]);
    free(text);
    text = escpos_text(DLV__DOC_SERVICE_CHECK, o, &c, 42, NULL);
    DLV_ASSERT_CONTAINS(text, "К сроку:                  29.11.2026 15:45");
    free(text);
    /* The settings' courier travel time and the predicted cooking time move it. */
    dlv__settings s;
    dlv__settings_defaults(&s);
    s.courier_delivery_minutes = 30;
    dlv__print_out out = {0};
    CU_ASSERT_EQUAL_FATAL(
        dlv__print_render(DLV__DOC_SERVICE_CHECK, o, &s, &c, DLV__FORMAT_TEXT, NULL, &out, NULL),
        DLV_OK);
    CU_ASSERT_FATAL(dlv__out_append(&out, "", 1) == DLV_OK);
    DLV_ASSERT_CONTAINS((char *)out.data, "К сроку:                  29.11.2026 16:00");
    dlv__print_out_free(&out);
    o->predicted_cooking_complete_time = o->complete_before - 50 * 60;
    text = escpos_text(DLV__DOC_SERVICE_CHECK, o, &c, 42, NULL);
    DLV_ASSERT_CONTAINS(text, "К сроку:                  29.11.2026 15:40");
    free(text);
    /* Without a blacklist mark, no «Высокий риск». */
    o->customer->in_blacklist = false;
    text = escpos_text(DLV__DOC_INVOICE, o, &c, 42, NULL);
    CU_ASSERT_PTR_NULL(strstr(text, "Высокий риск"));
    free(text);
    dlv__order_free(o);

    /* A pickup's service check is due at completeBefore itself. */
    o = load_order("pickup");
    text = escpos_text(DLV__DOC_SERVICE_CHECK, o, &c, 42, NULL);
    DLV_ASSERT_CONTAINS(text, "К сроку:                  29.11.2026 18:00");
    free(text);
    dlv__order_free(o);
}

/* The invoice names everything docs/printers.md says it carries. */
static void invoice_carries_everything(void)
{
    dlv__order *o = load_order("courier");
    dlv__print_context c = ctx_at();
    char *t = escpos_text(DLV__DOC_INVOICE, o, &c, 48, NULL);
    const char *need[] = {"100245",  "Анна Петрова",    "+79161234567", "Тверская",
                          "Дом:",    "Корпус:",         "Квартира:",    "Подъезд:",
                          "Этаж:",   "Домофон:",        "15К",          "позвонить за 10 минут",
                          "16:30",   "Пицца Маргарита", "Двойной сыр",  "хорошо пропечь",
                          "1370.00", "137.00",          "1233.00",      "Наличные",
                          "1500.00", "Сдача:",          "267.00",       "Иван Смирнов",
                          "без лука"};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
        DLV_ASSERT_CONTAINS(t, need[i]);
    CU_ASSERT(!dlv_test_contains(t, "КОПИЯ"));
    free(t);
    t = escpos_text(DLV__DOC_SERVICE_CHECK, o, &c, 42, NULL);
    /* The kitchen's deadline: 16:30 less the courier's 45 minutes (the default settings). */
    const char *kitchen[] = {"СЕРВИСНЫЙ ЧЕК",   "100245",      "Доставка курьером", "15:45",
                             "Пицца Маргарита", "Двойной сыр", "хорошо пропечь",    "Морс"};
    for (size_t i = 0; i < sizeof kitchen / sizeof *kitchen; i++)
        DLV_ASSERT_CONTAINS(t, kitchen[i]);
    CU_ASSERT(!dlv_test_contains(t, "1233.00")); /* the kitchen sees no money */
    free(t);
    dlv__order_free(o);
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void copies(void)
{
    dlv__order *o = load_order("courier");
    dlv__print_context c = ctx_at();
    char *one = escpos_text(DLV__DOC_INVOICE, o, &c, 42, NULL);
    c.copies = 3;
    decoded d;
    char *three = escpos_text(DLV__DOC_INVOICE, o, &c, 42, &d);
    CU_ASSERT_EQUAL(d.cuts, 3);
    CU_ASSERT_EQUAL(d.inits, 1);
    CU_ASSERT_EQUAL(strlen(three), 3 * strlen(one));
    CU_ASSERT_EQUAL(count_of(three, one), 3);
    free(three);
    /* 0 copies: the settings' invoice copies; the service check is always one. */
    dlv__settings s;
    dlv__settings_defaults(&s);
    s.invoice_copies = 2;
    c.copies = 0;
    dlv__print_out out = {0};
    CU_ASSERT_EQUAL(
        dlv__print_render(DLV__DOC_INVOICE, o, &s, &c, DLV__FORMAT_TEXT, NULL, &out, NULL), DLV_OK);
    CU_ASSERT_FATAL(dlv__out_append(&out, "", 1) == DLV_OK);
    CU_ASSERT_EQUAL(count_of((char *)out.data, "НАКЛАДНАЯ"), 2);
    dlv__print_out_free(&out);
    CU_ASSERT_EQUAL(
        dlv__print_render(DLV__DOC_SERVICE_CHECK, o, &s, &c, DLV__FORMAT_TEXT, NULL, &out, NULL),
        DLV_OK);
    CU_ASSERT_FATAL(dlv__out_append(&out, "", 1) == DLV_OK);
    CU_ASSERT_EQUAL(count_of((char *)out.data, "СЕРВИСНЫЙ ЧЕК"), 1);
    dlv__print_out_free(&out);
    /* Out of range: refused, nothing written. */
    c.copies = 6;
    dlv_error err;
    CU_ASSERT_EQUAL(
        dlv__print_render(DLV__DOC_INVOICE, o, NULL, &c, DLV__FORMAT_ESCPOS, NULL, &out, &err),
        DLV_EINVAL);
    CU_ASSERT_EQUAL(out.len, 0);
    free(one);
    dlv__order_free(o);
}

static void reprint_says_copy(void)
{
    dlv__order *o = load_order("courier");
    dlv__print_context c = ctx_at();
    c.is_copy = true;
    c.copies = 2;
    for (int k = DLV__DOC_INVOICE; k <= DLV__DOC_SERVICE_CHECK; k++) {
        char *t = escpos_text((dlv__doc_kind)k, o, &c, 42, NULL);
        CU_ASSERT_EQUAL(count_of(t, "КОПИЯ"), 2); /* on every copy */
        size_t sp = strspn(t, " ");
        CU_ASSERT(strncmp(t + sp, "КОПИЯ\n", strlen("КОПИЯ\n")) == 0); /* first of all */
        free(t);
    }
    /* A replacement template that forgot the mark still gets it. */
    char *dir = dlv_test_mkdtemp();
    free(dlv_test_write_file(dir, "invoice.xml", "<doc>Накладная {{Order.Number}}</doc>"));
    c.templates_dir = dir;
    c.copies = 1;
    char *t = escpos_text(DLV__DOC_INVOICE, o, &c, 32, NULL);
    CU_ASSERT_STRING_EQUAL(
        t, "             КОПИЯ\nНакладная 100245\n8<------------------------------\n");
    free(t);
    c.is_copy = false;
    t = escpos_text(DLV__DOC_INVOICE, o, &c, 32, NULL);
    CU_ASSERT_STRING_EQUAL(t, "Накладная 100245\n8<------------------------------\n");
    free(t);
    dlv_test_rmdir(dir);
    dlv__order_free(o);
}

static void profile_codepage_and_cut(void)
{
    dlv__order *o = load_order("courier");
    dlv__print_context c = ctx_at();
    dlv__print_profile p = {7, 32, false};
    dlv__print_out out = {0};
    CU_ASSERT_EQUAL_FATAL(
        dlv__print_render(DLV__DOC_SERVICE_CHECK, o, NULL, &c, DLV__FORMAT_ESCPOS, &p, &out, NULL),
        DLV_OK);
    CU_ASSERT(out.data[2] == 0x1B && out.data[3] == 't' && out.data[4] == 7);
    decoded d = decode(out.data, out.len, 32);
    CU_ASSERT(d.ok);
    CU_ASSERT_EQUAL(d.cuts, 0); /* no cutter: fed instead */
    CU_ASSERT_EQUAL(d.feeds, 1);
    free(d.text);
    dlv__print_out_free(&out);
    p.width = 12;
    dlv_error err;
    CU_ASSERT_EQUAL(
        dlv__print_render(DLV__DOC_SERVICE_CHECK, o, NULL, &c, DLV__FORMAT_ESCPOS, &p, &out, &err),
        DLV_EINVAL);
    DLV_ASSERT_CONTAINS(err.message, "width");
    dlv__order_free(o);
}

/* Text from outside can hold anything: it must not become printer commands, raw UTF-8 or break
 * the layout. */
static void hostile_text(void)
{
    char *json = dlv_test_read_file(DATA "order_courier.json", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    char *p = strstr(json, "\"без лука, не звонить в дверь\"");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    const char *evil = "\"\\u001b@\\u001dV\\u0042\\u0000x — «ёлка» 😀 李 Ї і\"";
    size_t old = strlen("\"без лука, не звонить в дверь\"");
    char *j2 = malloc(strlen(json) + strlen(evil) + 1);
    sprintf(j2, "%.*s%s%s", (int)(p - json), json, evil, p + old);
    dlv__order *o = NULL;
    dlv_error err;
    int rc = dlv__order_from_json(j2, strlen(j2), 0, &o, &err);
    if (rc != DLV_OK) {
        /* \u0000 is refused by the decoder; try without it. */
        char *z = strstr(j2, "\\u0000");
        memmove(z, z + 6, strlen(z + 6) + 1);
        rc = dlv__order_from_json(j2, strlen(j2), 0, &o, &err);
    }
    CU_ASSERT_EQUAL_FATAL(rc, DLV_OK);
    dlv__print_context c = ctx_at();
    decoded d;
    char *t = escpos_text(DLV__DOC_INVOICE, o, &c, 42, &d);
    CU_ASSERT(d.ok); /* no stray control byte reached the printer */
    CU_ASSERT_EQUAL(d.cuts, 1);
    DLV_ASSERT_CONTAINS(t, "Комментарий: @ VBx - \"ёлка\" ? ? Ї i");
    free(t);
    free(json);
    free(j2);
    dlv__order_free(o);
}

/* Wrapping, alignment, pairs and columns on a layout written for it. */
static void layout_rules(void)
{
    dlv__order *o = load_order("courier");
    dlv__print_context c = ctx_at();
    char *dir = dlv_test_mkdtemp();
    free(dlv_test_write_file(
        dir, "invoice.xml",
        "<doc>\n"
        "<center>Центр</center><right>справа</right>\n"
        "Очень   длинный текст, который переносится по словам на следующую строку\n"
        "<np/><np/>Сверхдлинноесловобезпробеловкотороенепомещается\n"
        "<pair left=\"Слева довольно длинный текст\" right=\"{{Order.ResultSum}}\"/>\n"
        "<pair left=\"Коротко\" right=\"{{Order.ResultSum}}\"/>\n"
        "<f2><center>ОГРОМНЫЙ</center></f2>\n"
        "<line char=\"=\"/>\n"
        "<columns><col width=\"*\">Название блюда, длинное</col><col width=\"4\" "
        "align=\"right\">2</col><col width=\"8\" align=\"right\">120.00</col></columns>\n"
        "Жирный <bold>текст</bold> в строке<np/>\n"
        "<if field=\"Order.IsPickup\">не печатается</if><unless field=\"Order.IsPickup\">"
        "курьер</unless>\n"
        "</doc>\n"));
    c.templates_dir = dir;
    char *t = escpos_text(DLV__DOC_INVOICE, o, &c, 32, NULL);
    const char *want = "             Центр\n"
                       "                          справа\n"
                       "Очень длинный текст, который\n"
                       "переносится по словам на\n"
                       "следующую строку\n"
                       "\n"
                       "Сверхдлинноесловобезпробеловкото\n"
                       "роенепомещается\n"
                       "Слева довольно длинный текст\n"
                       "                         1233.00\n"
                       "Коротко                  1233.00\n"
                       "    ОГРОМНЫЙ\n"
                       "================================\n"
                       "Название блюда,       2   120.00\n"
                       "длинное\n"
                       "Жирный текст в строке\n"
                       "курьер\n"
                       "8<------------------------------\n";
    CU_ASSERT_STRING_EQUAL(t, want);
    if (strcmp(t, want) != 0)
        fprintf(stderr, "\n%s", t);
    free(t);
    dlv_test_rmdir(dir);
    dlv__order_free(o);
}

/* A file in the templates folder replaces the built-in layout; a kind without a file keeps it. */
static void templates_folder(void)
{
    dlv__order *o = load_order("courier");
    dlv__print_context c = ctx_at();
    char *dir = dlv_test_mkdtemp();
    free(dlv_test_write_file(dir, "invoice.xml",
                             "<?xml version=\"1.0\"?>\n<doc><f1>Своя накладная "
                             "{{Order.Number}}</f1><pagecut/></doc>"));
    c.templates_dir = dir;
    char *t = escpos_text(DLV__DOC_INVOICE, o, &c, 42, NULL);
    CU_ASSERT_STRING_EQUAL(t,
                           "Своя накладная 100245\n8<----------------------------------------\n");
    free(t);
    t = escpos_text(DLV__DOC_SERVICE_CHECK, o, &c, 42, NULL);
    DLV_ASSERT_CONTAINS(t, "СЕРВИСНЫЙ ЧЕК");
    free(t);
    CU_ASSERT_EQUAL(dlv__print_templates_check(dir, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__print_templates_check(NULL, NULL), DLV_OK);
    /* A file far too large to be a layout is refused like a bad one. */
    size_t big = 300 << 10;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    memcpy(huge, "<doc>", 5);
    memcpy(huge + big - 6, "</doc>", 6);
    huge[big] = '\0';
    free(dlv_test_write_file(dir, "service-check.xml", huge));
    free(huge);
    dlv_error err;
    CU_ASSERT_EQUAL(dlv__print_templates_check(dir, &err), DLV_ETEMPLATE);
    DLV_ASSERT_CONTAINS(err.message, "service-check.xml: larger than");
    /* The built-in text is available, e.g. to write an editable copy. */
    DLV_ASSERT_CONTAINS(dlv__print_builtin_template(DLV__DOC_INVOICE), "{{Order.ResultSum}}");
    dlv_test_rmdir(dir);
    dlv__order_free(o);
}

/* The example in docs/printers.md is a working template. */
static void docs_example(void)
{
    char *md = dlv_test_read_file(DLV_TEST_SOURCE_DIR "/docs/printers.md", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(md);
    char *start = strstr(md, "```xml\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(start);
    start += strlen("```xml\n");
    char *end = strstr(start, "\n```");
    CU_ASSERT_PTR_NOT_NULL_FATAL(end);
    end[1] = '\0';
    char *dir = dlv_test_mkdtemp();
    free(dlv_test_write_file(dir, "invoice.xml", start));
    dlv__order *o = load_order("courier");
    dlv__print_context c = ctx_at();
    c.templates_dir = dir;
    char *t = escpos_text(DLV__DOC_INVOICE, o, &c, 42, NULL);
    DLV_ASSERT_CONTAINS(t, "Заказ № 100245");
    DLV_ASSERT_CONTAINS(t, "Адрес: Москва, Тверская, д. 7, корп. 2,\nкв. 15");
    DLV_ASSERT_CONTAINS(t, "Пицца Маргарита                     680.00");
    DLV_ASSERT_CONTAINS(t, "Сдача:");
    free(t);
    dlv__order_free(o);
    dlv_test_rmdir(dir);
    free(md);
}

static void bad_templates(void)
{
    static const struct {
        const char *xml;
        int line;
        const char *says;
    } cases[] = {
        {"<doc>\n  <center>{{Order.Nope}}</center>\n</doc>", 2, "unknown field {{Order.Nope}}"},
        {"<doc>\n  Итого:\n  {{Order.ResultSum}} {{Order.Total}}\n</doc>", 3,
         "unknown field {{Order.Total}}"},
        {"<doc>\n<center>x</centr>\n</doc>", 2, "malformed XML"},
        {"<doc>\n\n<blink/>\n</doc>", 3, "unknown element <blink>"},
        {"<doc>\n{{Order.Items}}</doc>", 2, "is a list"},
        {"<doc>\n<pair left=\"{{Item.Name}}\"/></doc>", 2, "only valid inside"},
        {"<doc>\n<foreach items=\"Order.Items\">\n{{Modifier.Name}}</foreach></doc>", 3,
         "only valid inside <foreach items=\"Item.Modifiers\">"},
        {"<doc>\n<columns>\n<col width=\"abc\"/></columns></doc>", 3, "width"},
        {"<doc>\n<line color=\"red\"/></doc>", 2, "unknown attribute color"},
        {"<!DOCTYPE doc [<!ENTITY x \"y\">]>\n<doc>&x;</doc>", 1, "DOCTYPE"},
        {"<document/>", 1, "root element must be <doc>"},
        {"<doc>\n\n{{Order.Number</doc>", 3, "'{{' without '}}'"},
        {"<doc><columns>\ntext</columns></doc>", 2, "text is not allowed inside <columns>"},
        {"<doc>\n<foreach items=\"Order.Number\"/></doc>", 2, "not a list"},
        {"<doc>\n<if field=\"Order.Whatever\"/></doc>", 2, "unknown field"},
        {"<doc><columns>\n<col width=\"*\"><center>x</center></col></columns></doc>", 2,
         "not allowed inside <col>"},
        {"", 1, ""},
    };
    dlv__order *o = load_order("courier");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *dir = dlv_test_mkdtemp();
        char *path = dlv_test_write_file(dir, "invoice.xml", cases[i].xml);
        dlv_error err = {0};
        int rc = dlv__print_templates_check(dir, &err);
        CU_ASSERT_EQUAL(rc, DLV_ETEMPLATE);
        CU_ASSERT_EQUAL(err.code, DLV_ETEMPLATE);
        char where[600];
        snprintf(where, sizeof where, "%s:%d: ", path, cases[i].line);
        if (cases[i].xml[0]) {
            DLV_ASSERT_CONTAINS(err.message, where);
            DLV_ASSERT_CONTAINS(err.message, cases[i].says);
        } else {
            DLV_ASSERT_CONTAINS(err.message, path);
        }
        /* Rendering refuses the same way and writes nothing. */
        dlv__print_context c = ctx_at();
        c.templates_dir = dir;
        dlv__print_out out = {0};
        CU_ASSERT_EQUAL(
            dlv__print_render(DLV__DOC_INVOICE, o, NULL, &c, DLV__FORMAT_ESCPOS, NULL, &out, &err),
            DLV_ETEMPLATE);
        CU_ASSERT_EQUAL(out.len, 0);
        free(out.data);
        free(path);
        dlv_test_rmdir(dir);
    }
    dlv__order_free(o);
}

/* ---- PDF ---- */

static char *run_capture(const char *cmd)
{
    FILE *f = popen(cmd, "r");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        buf = realloc(buf, len + n + 1);
        memcpy(buf + len, chunk, n);
        len += n;
        buf[len] = '\0';
    }
    int st = pclose(f);
    if (st != 0) {
        fprintf(stderr, "\n  `%s` exited with %d\n", cmd, st);
        free(buf);
        return NULL;
    }
    return buf ? buf : strdup("");
}

static void pdf_invoice(void)
{
    dlv__order *o = load_order("courier");
    dlv__print_context c = ctx_at();
    c.copies = 2;
    dlv__print_out out = render(DLV__DOC_INVOICE, o, &c, DLV__FORMAT_PDF, 42);
    CU_ASSERT_FATAL(out.len > 1000);
    CU_ASSERT(memcmp(out.data, "%PDF-", 5) == 0);
    char *dir = dlv_test_mkdtemp();
    char path[512], cmd[1200];
    snprintf(path, sizeof path, "%s/invoice.pdf", dir);
    FILE *f = fopen(path, "wb");
    CU_ASSERT_FATAL(f && fwrite(out.data, 1, out.len, f) == out.len);
    fclose(f);
    snprintf(cmd, sizeof cmd, "pdftotext -enc UTF-8 '%s' -", path);
    char *text = run_capture(cmd);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    const char *need[] = {
        "НАКЛАДНАЯ", "Заказ № 100245",  "Анна Петрова", "+79161234567", "Тверская",
        "15К",       "Пицца Маргарита", "Двойной сыр",  "1370.00",      "137.00",
        "1233.00",   "Сдача",           "267.00",       "Иван Смирнов", "без лука"};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
        DLV_ASSERT_CONTAINS(text, need[i]);
    CU_ASSERT_EQUAL(count_of(text, "НАКЛАДНАЯ"), 2);
    free(text);
    snprintf(cmd, sizeof cmd, "pdfinfo '%s'", path);
    char *info = run_capture(cmd);
    CU_ASSERT_PTR_NOT_NULL_FATAL(info);
    const char *pages = strstr(info, "Pages:");
    CU_ASSERT_FATAL(pages != NULL);
    CU_ASSERT_EQUAL(atoi(pages + 6), 2); /* each copy on its own page */
    DLV_ASSERT_CONTAINS(info, "Накладная № 100245");
    DLV_ASSERT_CONTAINS(info, "A4");
    free(info);
    /* The fonts are embedded DejaVu. */
    snprintf(cmd, sizeof cmd, "pdffonts '%s'", path);
    char *fonts = run_capture(cmd);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fonts);
    DLV_ASSERT_CONTAINS(fonts, "DejaVuSans");
    free(fonts);
    dlv__print_out_free(&out);
    dlv_test_rmdir(dir);
    dlv__order_free(o);
}

/* The A4 invoice carries the same: read back with pdftotext. */
static void pdf_invoice_everything(void)
{
    dlv__order *o = load_order("courier_risk");
    dlv__print_context c = ctx_at();
    c.restaurant = "Пиццерия „Тесто“";
    c.restaurant_address = "ул. Тверская, 7";
    dlv__print_out out = render(DLV__DOC_INVOICE, o, &c, DLV__FORMAT_PDF, 42);
    CU_ASSERT_FATAL(out.len > 1000);
    char *dir = dlv_test_mkdtemp();
    char path[512], cmd[1200];
    snprintf(path, sizeof path, "%s/invoice.pdf", dir);
    FILE *f = fopen(path, "wb");
    CU_ASSERT_FATAL(f && fwrite(out.data, 1, out.len, f) == out.len);
    fclose(f);
    snprintf(cmd, sizeof cmd, "pdftotext -enc UTF-8 '%s' -", path);
    char *text = run_capture(cmd);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    const char *need[] = {"Пиццерия „Тесто“", "ул. Тверская, 7", "Заказ № 100245", "site-7781",
                          "Высокий риск",     "Персон",          "Надбавка",       "150.00",
                          "1383.00",          "117.00",          "Иван Смирнов",   "+79260000001",
                          "29.11.2026 16:30", "позвонить за 10"};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
        DLV_ASSERT_CONTAINS(text, need[i]);
    free(text);
    dlv__print_out_free(&out);
    dlv_test_rmdir(dir);
    dlv__order_free(o);
}

static void pdf_service_check_copy(void)
{
    dlv__order *o = load_order("pickup");
    dlv__print_context c = ctx_at();
    c.is_copy = true;
    dlv__print_out out = render(DLV__DOC_SERVICE_CHECK, o, &c, DLV__FORMAT_PDF, 42);
    char *dir = dlv_test_mkdtemp();
    char path[512], cmd[1200];
    snprintf(path, sizeof path, "%s/sc.pdf", dir);
    FILE *f = fopen(path, "wb");
    CU_ASSERT_FATAL(f && fwrite(out.data, 1, out.len, f) == out.len);
    fclose(f);
    snprintf(cmd, sizeof cmd, "pdftotext -enc UTF-8 '%s' -", path);
    char *text = run_capture(cmd);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    DLV_ASSERT_CONTAINS(text, "КОПИЯ");
    DLV_ASSERT_CONTAINS(text, "СЕРВИСНЫЙ ЧЕК");
    DLV_ASSERT_CONTAINS(text, "Самовывоз");
    DLV_ASSERT_CONTAINS(text, "Сыр весовой");
    DLV_ASSERT_CONTAINS(text, "Сироп ваниль");
    free(text);
    dlv__print_out_free(&out);
    dlv_test_rmdir(dir);
    dlv__order_free(o);
}

/* The printer's URI chooses the profile; a4 chooses the PDF. */
static void render_for_printer(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    dlv_printer *p;
    CU_ASSERT_EQUAL_FATAL(dlv__printer_open(&loop, "null:?codepage=10&width=32&cut=0", &p, NULL),
                          DLV_OK);
    dlv__order *o = load_order("courier");
    dlv__print_context c = ctx_at();
    dlv__print_out out = {0};
    dlv__print_format f;
    CU_ASSERT_EQUAL(dlv__print_render_for(DLV__DOC_INVOICE, o, NULL, &c, p, false, &out, &f, NULL),
                    DLV_OK);
    CU_ASSERT_EQUAL(f, DLV__FORMAT_ESCPOS);
    CU_ASSERT(out.data[4] == 10);
    decoded d = decode(out.data, out.len, 32);
    CU_ASSERT(d.ok);
    CU_ASSERT_EQUAL(d.cuts, 0);
    free(d.text);
    dlv__print_out_free(&out);
    /* Fatal: without the PDF renderer (DLV_PRINT_EXTRA unset) there is nothing to look at. */
    CU_ASSERT_EQUAL_FATAL(
        dlv__print_render_for(DLV__DOC_INVOICE, o, NULL, &c, p, true, &out, &f, NULL), DLV_OK);
    CU_ASSERT_EQUAL(f, DLV__FORMAT_PDF);
    CU_ASSERT(memcmp(out.data, "%PDF-", 5) == 0);
    dlv__print_out_free(&out);
    dlv__printer_close(p, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
    dlv__order_free(o);
}

/* Every allocation failure (ours and libxml2's) is reported as DLV_ENOMEM and leaks nothing. */
static void out_of_memory(void)
{
    dlv__order *o = load_order("courier");
    dlv__print_context c = ctx_at();
    c.copies = 2;
    c.is_copy = true;
    for (int f = DLV__FORMAT_ESCPOS; f <= DLV__FORMAT_TEXT; f++) {
        int ok = 0, nomem = 0;
        for (long n = 0; n < 100000 && ok == 0; n++) {
            dlv__print_out out = {0};
            dlv_error err;
            dlv__alloc_fail_after(n);
            int rc = dlv__print_render(DLV__DOC_INVOICE, o, NULL, &c, (dlv__print_format)f, NULL,
                                       &out, &err);
            dlv__alloc_fail_after(-1);
            if (rc == DLV_OK)
                ok++;
            else if (rc == DLV_ENOMEM)
                nomem++;
            else
                fprintf(stderr, "\n  after %ld allocations: %s\n", n, err.message);
            CU_ASSERT(rc == DLV_OK || rc == DLV_ENOMEM);
            CU_ASSERT(rc == DLV_OK || out.len == 0);
            free(out.data);
        }
        CU_ASSERT_EQUAL(ok, 1);
        CU_ASSERT(nomem > 10);
    }
    dlv__order_free(o);
}

static int zone_offset(void *zone, int64_t utc)
{
    return dlv__tz_offset_at(zone, utc);
}

/* The offset is asked per time: in Berlin a due time just after the spring change (01:00Z on
 * 2026-03-29) reads in summer time, one just before in winter time, on the same document. */
static void invoice_local_time_across_dst(void)
{
    dlv__tz *berlin = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__tz_load("Europe/Berlin", &berlin, NULL), DLV_OK);
    dlv__order *o = load_order("courier");
    dlv__print_context c = ctx_at();
    c.utc_offset_at = zone_offset;
    c.utc_offset_arg = berlin;
    dlv__time_parse("2026-03-29T00:30:00Z", &c.now);
    dlv__time_parse("2026-03-29T01:15:00Z", &o->complete_before);
    char *text = escpos_text(DLV__DOC_INVOICE, o, &c, 42, NULL);
    DLV_ASSERT_CONTAINS(text, "29.03.2026 03:15"); /* due: CEST, +2 */
    DLV_ASSERT_CONTAINS(text, "29.03.2026 01:30"); /* printed: CET, +1 */
    free(text);
    dlv__time_parse("2026-03-29T00:45:00Z", &o->complete_before);
    text = escpos_text(DLV__DOC_INVOICE, o, &c, 42, NULL);
    DLV_ASSERT_CONTAINS(text, "29.03.2026 01:45");
    CU_ASSERT_FALSE(dlv_test_contains(text, "03:15"));
    free(text);
    dlv__order_free(o);
    dlv__tz_free(berlin);
}

int main(void)
{
    dlv__alloc_hook_libraries(); /* libxml2's allocations can fail in out_of_memory too */
    static const dlv_test_case cases[] = {
        DLV_TEST(invoice_golden_42),
        DLV_TEST(invoice_golden_32),
        DLV_TEST(invoice_golden_48),
        DLV_TEST(invoice_pickup_golden),
        DLV_TEST(invoice_surcharge_golden),
        DLV_TEST(service_check_golden),
        DLV_TEST(documents_golden),
        DLV_TEST(pdf_invoice_everything),
        DLV_TEST(invoice_carries_everything),
        DLV_TEST(copies),
        DLV_TEST(reprint_says_copy),
        DLV_TEST(profile_codepage_and_cut),
        DLV_TEST(hostile_text),
        DLV_TEST(layout_rules),
        DLV_TEST(templates_folder),
        DLV_TEST(bad_templates),
        DLV_TEST(docs_example),
        DLV_TEST(pdf_invoice),
        DLV_TEST(pdf_service_check_copy),
        DLV_TEST(render_for_printer),
        DLV_TEST(out_of_memory),
        DLV_TEST(invoice_local_time_across_dst),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("print_render", cases);
    /* Release what pango, cairo and fontconfig keep for the life of the process, so leak
     * checkers see only what the library itself would lose. */
    pango_cairo_font_map_set_default(NULL);
    cairo_debug_reset_static_data();
    FcFini();
    return rc;
}
