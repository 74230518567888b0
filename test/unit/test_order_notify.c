/* Customer notifications: event rules and @Model.X templates. */
#include "common/tz.h"
#include "order/notify.h"
#include "test_order_common.h"

#define ST(x) DLV_STATUS_##x
#define BIT(e) DLV__NOTIFY_BIT(DLV__NOTIFY_##e)

static dlv__order *base; /* order_courier.json */

static dlv__notify_mask step(dlv__order *o, dlv_status to, dlv__notify_mask *sent)
{
    dlv__notify_before before = {false, o->status, o->result_sum};
    o->status = to;
    dlv__notify_mask events = dlv__notify_decide(o, &before, *sent);
    *sent = dlv__notify_record(*sent, events);
    return events;
}

static void each_event_once_per_order(void)
{
    dlv__order *o = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__order_clone(base, &o), DLV_OK);
    dlv__notify_mask sent = 0;
    dlv__notify_before arrival = {.is_new = true};
    dlv__notify_mask events = dlv__notify_decide(o, &arrival, sent);
    CU_ASSERT_EQUAL(events, BIT(UNCONFIRMED));
    sent = dlv__notify_record(sent, events);
    CU_ASSERT_EQUAL(step(o, ST(WAIT_COOKING), &sent), BIT(NEW));
    CU_ASSERT_EQUAL(step(o, ST(READY_FOR_COOKING), &sent), 0); /* still "New" */
    CU_ASSERT_EQUAL(step(o, ST(COOKING_STARTED), &sent), BIT(COOKING));
    CU_ASSERT_EQUAL(step(o, ST(COOKING_COMPLETED), &sent), BIT(READY));
    CU_ASSERT_EQUAL(step(o, ST(WAITING), &sent), BIT(WAITING));
    CU_ASSERT_EQUAL(step(o, ST(ON_WAY), &sent), BIT(ON_WAY));
    CU_ASSERT_EQUAL(step(o, ST(DELIVERED), &sent), BIT(DELIVERED));
    /* «Доставлен» set by mistake, undone, set again: no second message. */
    CU_ASSERT_EQUAL(step(o, ST(ON_WAY), &sent), 0);
    CU_ASSERT_EQUAL(step(o, ST(DELIVERED), &sent), 0);
    CU_ASSERT_EQUAL(step(o, ST(CLOSED), &sent), 0);
    CU_ASSERT_EQUAL(step(o, ST(CANCELLED), &sent), BIT(CANCELLED));
    CU_ASSERT_EQUAL(step(o, ST(CANCELLED), &sent), 0);
    CU_ASSERT_EQUAL(sent, (dlv__notify_mask)(DLV__NOTIFY_BIT(DLV__NOTIFY_SUM_CHANGED) - 1));
    dlv__order_free(o);
}

static void sum_changes_before_sending_only(void)
{
    dlv__order *o = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__order_clone(base, &o), DLV_OK);
    dlv__notify_mask sent = BIT(UNCONFIRMED) | BIT(NEW);
    o->status = ST(WAIT_COOKING);
    dlv__notify_before before = {false, ST(WAIT_COOKING), o->result_sum};
    o->result_sum -= 5000; /* a discount */
    CU_ASSERT_EQUAL(dlv__notify_decide(o, &before, sent), BIT(SUM_CHANGED));
    before.result_sum = o->result_sum;
    o->result_sum -= 100;
    CU_ASSERT_EQUAL(dlv__notify_decide(o, &before, sent), BIT(SUM_CHANGED)); /* every time */
    CU_ASSERT_EQUAL(dlv__notify_record(sent, BIT(SUM_CHANGED)), sent);       /* not remembered */
    before.result_sum = o->result_sum;
    CU_ASSERT_EQUAL(dlv__notify_decide(o, &before, sent), 0); /* unchanged sum */
    /* Together with a status change. */
    before = (dlv__notify_before){false, ST(COOKING_COMPLETED), o->result_sum + 1};
    o->status = ST(WAITING);
    CU_ASSERT_EQUAL(dlv__notify_decide(o, &before, sent), BIT(WAITING) | BIT(SUM_CHANGED));
    /* Once sent out, never. */
    before = (dlv__notify_before){false, ST(ON_WAY), o->result_sum + 1};
    o->status = ST(ON_WAY);
    CU_ASSERT_EQUAL(dlv__notify_decide(o, &before, BIT(ON_WAY)), 0);
    /* A new order has no previous sum. */
    before = (dlv__notify_before){.is_new = true, .result_sum = 1};
    o->status = ST(WAIT_COOKING);
    CU_ASSERT_EQUAL(dlv__notify_decide(o, &before, 0), BIT(NEW));
    dlv__order_free(o);
}

static void pickup_silence(void)
{
    dlv__order *o = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__order_clone(base, &o), DLV_OK);
    o->service_type = DLV_SERVICE_PICKUP;
    dlv__notify_mask sent = BIT(UNCONFIRMED) | BIT(NEW) | BIT(COOKING);
    o->status = ST(COOKING_STARTED);
    CU_ASSERT_EQUAL(step(o, ST(COOKING_COMPLETED), &sent), BIT(READY));
    CU_ASSERT_EQUAL(step(o, ST(WAITING), &sent), 0);
    CU_ASSERT_EQUAL(step(o, ST(ON_WAY), &sent), 0);
    CU_ASSERT_EQUAL(step(o, ST(DELIVERED), &sent), 0);
    dlv__notify_before before = {false, ST(WAITING), o->result_sum + 100};
    o->status = ST(WAITING);
    CU_ASSERT_EQUAL(dlv__notify_decide(o, &before, sent), 0); /* no SumChanged either */
    CU_ASSERT_EQUAL(step(o, ST(CLOSED), &sent), 0);
    CU_ASSERT_EQUAL(step(o, ST(CANCELLED), &sent), BIT(CANCELLED));
    dlv__order_free(o);
}

/* Every (previous, current, service, sent, sum change) against the rules restated here. */
static void notification_table(void)
{
    static const int event_of[DLV_STATUS_COUNT] = {
        DLV__NOTIFY_UNCONFIRMED, DLV__NOTIFY_NEW,       DLV__NOTIFY_NEW,
        DLV__NOTIFY_COOKING,     DLV__NOTIFY_READY,     DLV__NOTIFY_WAITING,
        DLV__NOTIFY_ON_WAY,      DLV__NOTIFY_DELIVERED, -1,
        DLV__NOTIFY_CANCELLED};
    dlv__order *o = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__order_clone(base, &o), DLV_OK);
    long n = 0;
    for (int prev = -1; prev < DLV_STATUS_COUNT; prev++)
        for (int cur = 0; cur < DLV_STATUS_COUNT; cur++)
            for (int pickup = 0; pickup < 2; pickup++)
                for (int sent_kind = 0; sent_kind < 3; sent_kind++)
                    for (int changed = 0; changed < 2; changed++) {
                        o->status = (dlv_status)cur;
                        o->service_type = pickup ? DLV_SERVICE_PICKUP : DLV_SERVICE_COURIER;
                        int e = event_of[cur];
                        dlv__notify_mask sent = sent_kind == 0   ? 0
                                                : sent_kind == 1 ? 0x1FF
                                                : e >= 0         ? DLV__NOTIFY_BIT(e)
                                                                 : 0;
                        dlv__notify_before before = {prev < 0, prev < 0 ? 0 : (dlv_status)prev,
                                                     o->result_sum + changed};
                        dlv__notify_mask want = 0;
                        bool silent = pickup && (cur == ST(WAITING) || cur == ST(ON_WAY) ||
                                                 cur == ST(DELIVERED));
                        if (!silent && (prev < 0 || prev != cur) && e >= 0 &&
                            !(sent & DLV__NOTIFY_BIT(e)))
                            want |= DLV__NOTIFY_BIT(e);
                        if (!silent && prev >= 0 && changed && cur <= ST(WAITING))
                            want |= BIT(SUM_CHANGED);
                        CU_ASSERT_EQUAL(dlv__notify_decide(o, &before, sent), want);
                        n++;
                    }
    CU_ASSERT_EQUAL(n, 11L * 10 * 2 * 3 * 2);
    CU_ASSERT_STRING_EQUAL(dlv__notify_event_name(DLV__NOTIFY_SUM_CHANGED), "SumChanged");
    CU_ASSERT_STRING_EQUAL(dlv__notify_event_name(DLV__NOTIFY_ON_WAY), "OnWay");
    CU_ASSERT_PTR_NULL(dlv__notify_event_name(DLV__NOTIFY_COUNT));
    CU_ASSERT_EQUAL(dlv__notify_event_for_status(ST(CLOSED)), -1);
    CU_ASSERT_EQUAL(dlv__notify_event_for_status(ST(READY_FOR_COOKING)), DLV__NOTIFY_NEW);
    dlv__order_free(o);
}

/* ---- Templates ---- */

static char *render(const char *text, const dlv__order *o, const dlv__render_options *opt)
{
    dlv__template *t = NULL;
    dlv_error err = {0};
    char *out = NULL;
    int rc = dlv__template_compile(text, strlen(text), &t, &err);
    if (rc)
        fprintf(stderr, "\n  compile \"%s\": %s\n", text, err.message);
    CU_ASSERT_EQUAL(rc, DLV_OK);
    if (!rc)
        CU_ASSERT_EQUAL(dlv__template_render(t, o, opt, &out, &err), DLV_OK);
    dlv__template_free(t);
    return out;
}

static void expect_render(const char *text, const dlv__order *o, const dlv__render_options *opt,
                          const char *expected)
{
    char *out = render(text, o, opt);
    if (!out || strcmp(out, expected) != 0)
        fprintf(stderr, "\n  %s\n  -> \"%s\"\n  expected \"%s\"\n", text, out ? out : "(null)",
                expected);
    CU_ASSERT_STRING_EQUAL(out ? out : "", expected);
    free(out);
}

static void expect_compile_error(const char *text, int code, const char *message)
{
    dlv__template *t = (dlv__template *)1;
    dlv_error err = {0};
    CU_ASSERT_EQUAL(dlv__template_compile(text, strlen(text), &t, &err), code);
    CU_ASSERT_PTR_NULL(t);
    if (!dlv_test_contains(err.message, message))
        fprintf(stderr, "\n  %s -> %s\n", text, err.message);
    DLV_ASSERT_CONTAINS(err.message, message);
}

static void template_renders_an_order(void)
{
    dlv__render_options moscow = {.utc_offset_minutes = 180, .cafe_address = "Арбат, 1"};
    expect_render("Заказ №@Model.Number (@Model.Status) на @Model.Order.ResultSum руб., сдача "
                  "@Model.Order.ChangeSum. @Model.Customer.Name @Model.Customer.Surname, ждите к "
                  "@Model.ExpectedDeliverTime по адресу @Model.Address.AddressInStringView, "
                  "подъезд @Model.Address.Entrance. Создан @Model.CreateTime. Email:[@Model.Email] "
                  "Курьер:[@Model.Courier.Name] @Model.Order.Items; @Model.Order.PaymentItems. "
                  "info@cafe.ru @@ @* скрыто *@@(Model.PersonsCount)чел. @Model.CafeAddress",
                  base, &moscow,
                  "Заказ №100245 (0) на 680,00 руб., сдача 20,00. Анна Петрова, ждите к "
                  "29.11.2026 16:30 по адресу Москва, Тверская, д. 7, корп. 2, кв. 15, подъезд 3. "
                  "Создан 29.11.2026 15:31. Email:[] Курьер:[] Пицца Маргарита × 1; Наличные "
                  "700,00. info@cafe.ru @ 2чел. Арбат, 1");
    dlv__render_options iso = {.date_format = "yyyy-MM-dd HH:mm:ss (yy)", .decimal_separator = '.'};
    expect_render(
        "@Model.ExpectedDeliverTime|@Model.Order.FullSum|@Model.Order.ProcessedPaymentsSum"
        "|@Model.HasProblem|@Model.SplitBetweenPersons|@Model.Customer.InBlacklist|"
        "@Model.DeliveryOperator.Name|@Model.SourceKey|@Model.Phone|@Model.Comment",
        base, &iso,
        "2026-11-29 13:30:00 (26)|680.00|700.00|False|False|False|Оператор 1|website|"
        "+79161234567|без лука");
    expect_render("@Model.Order.Items[0].Product.Name ×@Model.Order.Items[0].Amount = "
                  "@Model.Order.Items[0].Sum [@Model.Order.Items[0].Product.CategoryName] "
                  "[@Model.Order.Items[7].Product.Name] @Model.Address.StreetName "
                  "@Model.Address.House @Model.Address.CityName @Model.Address.RegionName "
                  "@Model.Address.Building @Model.Address.Flat @Model.Address.Floor "
                  "@Model.Address.Doorphone (@Model.Address.AdditionalInfo)",
                  base, NULL,
                  "Пицца Маргарита ×1 = 590,00 [] [] Тверская 7 Москва в пределах МКАД 2 15 4 15К "
                  "(позвонить за 10 минут)");
    /* Every @Model.X field the library lists compiles; the empty ones render empty. */
    static const char *const empty_fields[] = {"Email",
                                               "PredictedCookingCompleteTime",
                                               "PredictedDeliveryTime",
                                               "MarketingSourceName",
                                               "IndexInCourierRoute",
                                               "Customer.CardNumber",
                                               "Customer.Emails",
                                               "ConfirmTime",
                                               "BillTime",
                                               "PrintTime",
                                               "SendTime",
                                               "ActualDeliverTime",
                                               "Duration",
                                               "ProblemComment",
                                               "Courier.CellPhone",
                                               "Customer.Comment",
                                               "Customer.BlacklistReason"};
    for (size_t i = 0; i < DLV__ARRAY_SIZE(empty_fields); i++) {
        char text[96];
        snprintf(text, sizeof text, "[@Model.%s]", empty_fields[i]);
        expect_render(text, base, NULL, "[]");
    }
    size_t count = 0;
    for (const char *f; (f = dlv__template_field(count)); count++) {
        char text[96], *bracket;
        snprintf(text, sizeof text, "@(Model.%s)", f);
        if ((bracket = strstr(text, "[]"))) { /* an indexed field: use Items[0] */
            memmove(bracket + 3, bracket + 2, strlen(bracket + 2) + 1);
            bracket[1] = '0';
            bracket[2] = ']';
        }
        char *out = render(text, base, NULL);
        CU_ASSERT_PTR_NOT_NULL(out);
        free(out);
    }
    CU_ASSERT_TRUE(count >= 55);
}

static void template_local_history_and_nulls(void)
{
    dlv__order *o = load_order("order_anonymous.json", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    o->when_confirmed = o->when_created + 60;
    o->when_sent = o->when_created + 1800;
    o->actual_delivery_time = o->when_created + 2700;
    dlv__render_options utc = {.date_format = "HH:mm"};
    expect_render(
        "[@Model.Customer.Name][@Model.Phone][@Model.Customer.Phones][@Model.Status]"
        "[@Model.ConfirmTime][@Model.SendTime][@Model.ActualDeliverTime][@Model.Duration]"
        "[@Model.Courier.Name][@Model.Courier.CellPhone][@Model.Address]"
        "[@Model.Order.PaymentItems][@Model.Order.ChangeSum][@Model.CafeAddress]",
        o, &utc,
        "[][][][][20:01][20:30][20:45][00:45:00][Пётр][+79990000000][Ленина, д. 1][][0,00]"
        "[]");
    o->actual_delivery_time = o->when_created + 86400 + 2 * 3600 + 3 * 60 + 4;
    expect_render("@Model.Duration", o, NULL, "1.02:03:04");
    /* Data is inserted as text, never read as a template. */
    free(o->address->comment);
    o->address->comment = strdup("@Model.Phone @(Model.Number) @@ @* x *@ @if(true){}");
    expect_render("<@Model.Address.AdditionalInfo>", o, NULL,
                  "<@Model.Phone @(Model.Number) @@ @* x *@ @if(true){}>");
    dlv__order_free(o);

    dlv__order *p = load_order("order_pickup.json", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    expect_render("[@Model.Address][@Model.Address.StreetName][@Model.Customer.Addresses]"
                  "[@Model.HasProblem][@Model.ProblemComment][@Model.Status][@Model.Order.Items]",
                  p, NULL, "[][][][True][клиент просил позвонить][1][Сыр весовой × 0,5, Кофе × 2]");
    dlv__order_free(p);
}

static void template_errors_at_load(void)
{
    expect_compile_error("Привет,\n  @Model.Foo!", DLV_ETEMPLATE,
                         "line 2, column 3: unknown field @Model.Foo");
    /* Methods other than ToString are Razor code the library does not run. */
    expect_compile_error("@Model.Courier.Name.ToUpper()", DLV_ETEMPLATE,
                         "unknown field @Model.Courier.Name.ToUpper");
    expect_compile_error("@Model", DLV_ETEMPLATE, "column 1: unknown field @Model");
    expect_compile_error("@Model.customer.name", DLV_ETEMPLATE,
                         "unknown field @Model.customer.name");
    expect_compile_error("@if (Model.HasProblem) { x }", DLV_ETEMPLATE,
                         "unsupported Razor code @if");
    expect_compile_error("@Html.Raw(\"<b>\")", DLV_ETEMPLATE, "unsupported Razor code @Html");
    expect_compile_error("@(1+1)", DLV_ETEMPLATE, "unsupported expression");
    expect_compile_error("x @(Model.Number", DLV_ETEMPLATE, "column 3: expected )");
    expect_compile_error("a @* never closed", DLV_ETEMPLATE, "unterminated @* comment");
    expect_compile_error("@Model.Order.Items[1][2]", DLV_ETEMPLATE, "unknown field");
    expect_compile_error("bad \xC3\x28 text", DLV_ETEMPLATE, "not valid UTF-8");
    char *big = malloc(70 * 1024 + 1);
    memset(big, 'a', 70 * 1024);
    big[70 * 1024] = '\0';
    expect_compile_error(big, DLV_ETOOLARGE, "exceeds");
    free(big);
    /* A ToString format past its 255 bytes is the template's fault, named as such: it was
     * reported as "out of memory" (fuzz_notify_template,
     * test/fuzz/corpus/notify_template/regress-long-format.txt). */
    char longfmt[400];
    snprintf(longfmt, sizeof longfmt, "x @Model.Order.WhenCreated.ToString(\"%0300d\")", 0);
    expect_compile_error(longfmt, DLV_ETEMPLATE, "column 3: ToString format longer than 255");
    /* Edge cases that are text. */
    expect_render("", base, NULL, "");
    expect_render("@", base, NULL, "@");
    expect_render("100% @ 5", base, NULL, "100% @ 5");
    expect_render("@Model.Number.", base, NULL, "100245.");
    expect_render("@@Model.Number", base, NULL, "@Model.Number");
    expect_render("a@@b", base, NULL, "a@b");
    expect_render("№@(Model.Number)руб", base, NULL, "№100245руб");
    expect_render("@Model.Order.Items[x]", base, NULL, "Пицца Маргарита × 1[x]");
}

/* The delivery fee (protocol 1.1 surchargeSum) in a message; 0,00 when the order has none. */
static void template_surcharge(void)
{
    dlv__render_options opt = {.utc_offset_minutes = 180};
    expect_render("доставка @Model.Order.SurchargeSum", base, &opt, "доставка 0,00");
    dlv__order *o = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__order_clone(base, &o), DLV_OK);
    o->surcharge_sum = 15000; /* 150.00 */
    o->result_sum += o->surcharge_sum;
    expect_render("к оплате @Model.Order.ResultSum, из них доставка @Model.Order.SurchargeSum", o,
                  &opt, "к оплате 830,00, из них доставка 150,00");
    dlv__order_free(o);
}

static int zone_offset(void *zone, int64_t utc)
{
    return dlv__tz_offset_at(zone, utc);
}

/* Berlin's spring change (01:00Z on 2026-03-29): a due time just after reads in summer time,
 * one just before in winter time; the fixed minutes are ignored when the callback is set. */
static void template_local_time_across_dst(void)
{
    dlv__tz *berlin = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__tz_load("Europe/Berlin", &berlin, NULL), DLV_OK);
    dlv__render_options opt = {
        .utc_offset_minutes = 180, .utc_offset_at = zone_offset, .utc_offset_arg = berlin};
    dlv__time saved = base->complete_before;
    dlv__time_parse("2026-03-29T01:15:00Z", &base->complete_before);
    expect_render("к @Model.ExpectedDeliverTime", base, &opt, "к 29.03.2026 03:15");
    dlv__time_parse("2026-03-29T00:45:00Z", &base->complete_before);
    expect_render("к @Model.ExpectedDeliverTime", base, &opt, "к 29.03.2026 01:45");
    /* The .ToString form asks per time too. */
    dlv__time_parse("2026-03-29T01:15:00Z", &base->complete_before);
    expect_render("к @Model.ExpectedDeliverTime.ToString(\"HH:mm\")", base, &opt, "к 03:15");
    base->complete_before = saved;
    dlv__tz_free(berlin);
}

/* .ToString("fmt") as iiko users write it: .NET custom and standard date formats with ru-RU names,
 * number formats with a no-break space between groups and a decimal comma. */
static void template_tostring_formats(void)
{
    dlv__render_options msk = {.utc_offset_minutes = 180};
    /* completeBefore 2026-11-29T13:30:00Z is 16:30 on Sunday in Moscow. */
    expect_render("Доставим к @Model.ExpectedDeliverTime.ToString(\"HH:mm\")", base, &msk,
                  "Доставим к 16:30");
    expect_render("@(Model.ExpectedDeliverTime.ToString(\"H:m:ss\"))!", base, &msk, "16:30:00!");
    expect_render("@Model.ExpectedDeliverTime.ToString(\"d MMMM yyyy, dddd, ddd\")", base, &msk,
                  "29 ноября 2026, воскресенье, вс");
    expect_render("@Model.ExpectedDeliverTime.ToString(\"MMMM yy / MMM / M\")", base, &msk,
                  "ноябрь 26 . ноя . 11");
    expect_render("@Model.ExpectedDeliverTime.ToString(\"HH 'ч' mm \\\"мин\\\" \\\\h\")", base,
                  &msk, "16 ч 30 мин h");
    expect_render("@Model.ExpectedDeliverTime.ToString(\"t\") @Model.ExpectedDeliverTime."
                  "ToString(\"d\") @Model.ExpectedDeliverTime.ToString(\"g\") "
                  "@Model.ExpectedDeliverTime.ToString(\"D\") @Model.ExpectedDeliverTime."
                  "ToString(\"%d\") @Model.ExpectedDeliverTime.ToString(\"hh\")",
                  base, &msk, "16:30 29.11.2026 29.11.2026 16:30 29 ноября 2026 г. 29 04");
    expect_render("[@Model.ActualDeliverTime.ToString(\"HH:mm\")]", base, &msk, "[]");
    expect_render("@Model.CreateTime.ToString()", base, &msk, "29.11.2026 15:31");
    /* Numbers. */
    dlv__order *o = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__order_clone(base, &o), DLV_OK);
    o->result_sum = 123456789; /* 1 234 567,89 */
    expect_render("@Model.Order.ResultSum.ToString(\"N2\")|@Model.Order.ResultSum.ToString(\"N0\")"
                  "|@Model.Order.ResultSum.ToString(\"F2\")|@Model.Order.ResultSum.ToString(\"F0\")"
                  "|@Model.Order.ResultSum.ToString(\"0\")|@Model.Order.ResultSum.ToString("
                  "\"0.00\")|@Model.Order.ResultSum.ToString(\"#,##0.00\")|@Model.Order.ResultSum."
                  "ToString(\"C\")|@Model.Order.ResultSum.ToString(\"N\")|@Model.Order.ResultSum."
                  "ToString(\"0.#\")|@Model.Order.ResultSum.ToString()",
                  o, NULL,
                  "1\xC2\xA0"
                  "234\xC2\xA0"
                  "567,89|1\xC2\xA0"
                  "234\xC2\xA0"
                  "568|1234567,89|"
                  "1234568|1234568|1234567,89|1\xC2\xA0"
                  "234\xC2\xA0"
                  "567,89|1\xC2\xA0"
                  "234\xC2\xA0"
                  "567,89\xC2\xA0\xE2\x82\xBD|1\xC2\xA0"
                  "234\xC2\xA0"
                  "567,89|"
                  "1234567,9|1234567,89");
    o->result_sum = 50; /* 0,50: half rounds away from zero */
    expect_render("@Model.Order.ResultSum.ToString(\"N0\") @Model.Order.ResultSum.ToString(\"0.0\")"
                  " @Model.Order.ResultSum.ToString(\"#.##\") @Model.Order.ResultSum.ToString("
                  "\"F3\")",
                  o, NULL, "1 0,5 ,5 0,500");
    o->result_sum = 68000;
    expect_render("@Model.Number.ToString(\"D8\") @Model.Number.ToString(\"N0\") "
                  "@Model.PersonsCount.ToString(\"00\") @Model.Order.Items[0].Amount.ToString("
                  "\"0.000\") @Model.Order.ResultSum.ToString(\"0.##\")",
                  o, NULL,
                  "00100245 100\xC2\xA0"
                  "245 02 1,000 680");
    dlv__order_free(o);
    /* What the library cannot do fails at load, naming line, column and the reason. */
    expect_compile_error("x\n  @Model.ExpectedDeliverTime.ToString(\"hh:mm tt\")", DLV_ETEMPLATE,
                         "line 2, column 3: unsupported format \"hh:mm tt\"");
    expect_compile_error("@Model.ExpectedDeliverTime.ToString(\"K\")", DLV_ETEMPLATE,
                         "not a supported standard date format");
    expect_compile_error("@Model.ExpectedDeliverTime.ToString(\"HH 'ч\")", DLV_ETEMPLATE,
                         "unterminated quoted text");
    expect_compile_error("@Model.Order.ResultSum.ToString(\"P\")", DLV_ETEMPLATE,
                         "unsupported format \"P\"");
    expect_compile_error("@Model.Order.ResultSum.ToString(\"0 руб\")", DLV_ETEMPLATE,
                         "only 0 # , . are supported");
    expect_compile_error("@Model.Order.ResultSum.ToString(\"D\")", DLV_ETEMPLATE,
                         "whole numbers only");
    expect_compile_error("@Model.Phone.ToString(\"N2\")", DLV_ETEMPLATE, "this field is text");
    expect_compile_error("@Model.Number.ToString", DLV_ETEMPLATE, "ToString needs");
    expect_compile_error("@Model.Number.ToString(\"N2\"", DLV_ETEMPLATE, "ToString takes one");
    expect_compile_error("@Model.Number.ToString(\"N2)", DLV_ETEMPLATE, "unterminated string");
    expect_compile_error("@(Model.Number.ToString(\"N2\")", DLV_ETEMPLATE, "expected )");
    expect_render("@Model.Phone.ToString()", base, NULL, "+79161234567");
}

/* @Model.Order.SumToPay: the result sum less prepaid and online payments (cash is the banknote the
 * courier is handed, not a payment made); never below 0. */
static void template_sum_to_pay(void)
{
    expect_render("@Model.Order.SumToPay", base, NULL, "680,00"); /* cash 700: still to pay */
    dlv__order *o = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__order_clone(base, &o), DLV_OK);
    o->payments[0].processed_externally = true; /* paid online */
    o->payments[0].sum = 50000;
    expect_render("@Model.Order.SumToPay.ToString(\"N2\")", o, NULL, "180,00");
    o->payments[0].sum = 68000;
    expect_render("@Model.Order.SumToPay|@Model.Order.SumToPay.ToString(\"0\")", o, NULL, "0,00|0");
    o->payments[0].processed_externally = false;
    o->payments[0].prepay = true;
    o->payments[0].sum = 70000; /* more than the sum: nothing, not a negative amount */
    expect_render("@Model.Order.SumToPay", o, NULL, "0,00");
    dlv__order_free(o);
}

/* The built-in texts speak of what is true: no «К оплате» when nothing is left to pay, no
 * «Доставим к» to a pickup, nothing at all for a pickup in Waiting, OnWay, Delivered. */
static void builtin_variants(void)
{
    dlv__render_options msk = {.utc_offset_minutes = 180};
    dlv__order *o = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__order_clone(base, &o), DLV_OK);
    CU_ASSERT_EQUAL(dlv__notify_variant(o), 0u); /* courier, cash: 680,00 to pay */
    const char *on_way = dlv__notify_builtin_text(DLV__NOTIFY_ON_WAY, dlv__notify_variant(o));
    expect_render(on_way, o, &msk, "Заказ №100245 в пути. Курьер , тел. . К оплате 680,00 руб.");
    expect_render(dlv__notify_builtin_text(DLV__NOTIFY_NEW, dlv__notify_variant(o)), o, &msk,
                  "Заказ №100245 подтверждён. Доставим к 16:30.");
    o->payments[0].processed_externally = true; /* paid online */
    o->payments[0].sum = o->result_sum;
    CU_ASSERT_EQUAL(dlv__notify_variant(o), (unsigned)DLV__NOTIFY_VARIANT_PREPAID);
    char *text =
        render(dlv__notify_builtin_text(DLV__NOTIFY_ON_WAY, dlv__notify_variant(o)), o, &msk);
    CU_ASSERT_PTR_NULL(strstr(text ? text : "К оплате", "К оплате"));
    DLV_ASSERT_CONTAINS(text, "Заказ оплачен");
    free(text);
    text =
        render(dlv__notify_builtin_text(DLV__NOTIFY_SUM_CHANGED, dlv__notify_variant(o)), o, &msk);
    CU_ASSERT_PTR_NULL(strstr(text ? text : "К оплате", "К оплате"));
    free(text);
    o->service_type = DLV_SERVICE_PICKUP;
    CU_ASSERT_EQUAL(dlv__notify_variant(o),
                    (unsigned)(DLV__NOTIFY_VARIANT_PREPAID | DLV__NOTIFY_VARIANT_PICKUP));
    expect_render(dlv__notify_builtin_text(DLV__NOTIFY_READY, dlv__notify_variant(o)), o, &msk,
                  "Ваш заказ №100245 готов, ждём вас.");
    o->payments[0].processed_externally = false; /* cash at the counter */
    expect_render(dlv__notify_builtin_text(DLV__NOTIFY_READY, dlv__notify_variant(o)), o, &msk,
                  "Ваш заказ №100245 готов, ждём вас. К оплате 680,00 руб.");
    expect_render(dlv__notify_builtin_text(DLV__NOTIFY_NEW, dlv__notify_variant(o)), o, &msk,
                  "Заказ №100245 подтверждён. Будет готов к 16:30.");
    /* Every text of every variant compiles; pickups have none where they are silent, and no
     * pickup text promises a delivery, no prepaid text asks for money. */
    for (int e = 0; e < DLV__NOTIFY_COUNT; e++)
        for (unsigned v = 0; v < DLV__NOTIFY_VARIANTS; v++) {
            const char *t = dlv__notify_builtin_text((dlv__notify_event)e, v);
            bool silent =
                (v & DLV__NOTIFY_VARIANT_PICKUP) &&
                (e == DLV__NOTIFY_WAITING || e == DLV__NOTIFY_ON_WAY || e == DLV__NOTIFY_DELIVERED);
            CU_ASSERT_EQUAL(t == NULL, silent);
            if (!t)
                continue;
            free(render(t, o, &msk));
            if (v & DLV__NOTIFY_VARIANT_PICKUP)
                CU_ASSERT_PTR_NULL(strstr(t, "Доставим"));
            if (v & DLV__NOTIFY_VARIANT_PREPAID)
                CU_ASSERT_PTR_NULL(strstr(t, "оплате"));
        }
    CU_ASSERT_PTR_NULL(dlv__notify_builtin_text(DLV__NOTIFY_COUNT, 0));
    CU_ASSERT_PTR_NULL(dlv__notify_builtin_text(DLV__NOTIFY_NEW, DLV__NOTIFY_VARIANTS));
    dlv__order_free(o);
}

/* The settings' "notifications": per event SMS and push; unnamed events keep SMS on, push off. */
static dlv__notify_mask channel_mask(const dlv__settings *s, bool push)
{
    dlv__notify_mask m = 0;
    for (int e = 0; e < DLV__NOTIFY_COUNT; e++)
        if (push ? s->notifications[e].push : s->notifications[e].sms)
            m |= DLV__NOTIFY_BIT(e);
    return m;
}

static void settings_channels(void)
{
    static const char json[] =
        "{\"notifications\":{\"OnWay\":{\"sms\":true,\"push\":true},\"Cooking\":{\"sms\":false},"
        "\"Ready\":{\"sms\":false,\"push\":true},\"FutureEvent\":{\"sms\":true}}}";
    dlv__settings *s = NULL;
    dlv_error err = {0};
    CU_ASSERT_EQUAL_FATAL(dlv__settings_from_json(json, strlen(json), &s, &err), DLV_OK);
    CU_ASSERT_EQUAL(channel_mask(s, false),
                    (dlv__notify_mask)(0x1FF & ~(BIT(COOKING) | BIT(READY))));
    CU_ASSERT_EQUAL(channel_mask(s, true), (dlv__notify_mask)(BIT(ON_WAY) | BIT(READY)));
    char *back = dlv__settings_to_json(s); /* persisted in the store and read back */
    dlv__settings *t = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__settings_from_json(back, strlen(back), &t, &err), DLV_OK);
    CU_ASSERT_EQUAL(channel_mask(t, false), channel_mask(s, false));
    CU_ASSERT_EQUAL(channel_mask(t, true), channel_mask(s, true));
    dlv__free(back);
    dlv__settings_free(t);
    dlv__settings_free(s);
    CU_ASSERT_EQUAL_FATAL(dlv__settings_from_json("{}", 2, &s, &err), DLV_OK);
    CU_ASSERT_EQUAL(channel_mask(s, false), (dlv__notify_mask)0x1FF);
    CU_ASSERT_EQUAL(channel_mask(s, true), 0u);
    dlv__settings_free(s);
    static const char bad[] = "{\"notifications\":{\"OnWay\":{\"sms\":1}}}";
    CU_ASSERT_EQUAL(dlv__settings_from_json(bad, strlen(bad), &s, &err), DLV_EJSON);
    DLV_ASSERT_CONTAINS(err.message, "notifications.OnWay.sms");
}

/* A named compile: "file:line:column: reason" for a warning that points at the place. */
static void template_named_errors(void)
{
    dlv__template *t = NULL;
    dlv_error err = {0};
    static const char text[] = "Заказ\n  к @Model.ExpectedDeliverTime.ToString(\"hh tt\")";
    CU_ASSERT_EQUAL(
        dlv__template_compile_named("notifications/OnWay.txt", text, strlen(text), &t, &err),
        DLV_ETEMPLATE);
    DLV_ASSERT_CONTAINS(err.message, "notifications/OnWay.txt:2:5: unsupported format \"hh tt\"");
    CU_ASSERT_EQUAL(dlv__template_compile_named("x.txt", "a\xff", 2, &t, &err), DLV_ETEMPLATE);
    DLV_ASSERT_CONTAINS(err.message, "x.txt: template is not valid UTF-8");
}

int main(void)
{
    base = load_order("order_courier.json", 0);
    if (!base)
        return 1;
    static const dlv_test_case cases[] = {
        DLV_TEST(each_event_once_per_order),
        DLV_TEST(sum_changes_before_sending_only),
        DLV_TEST(pickup_silence),
        DLV_TEST(notification_table),
        DLV_TEST(template_renders_an_order),
        DLV_TEST(template_local_history_and_nulls),
        DLV_TEST(template_errors_at_load),
        DLV_TEST(template_local_time_across_dst),
        DLV_TEST(template_tostring_formats),
        DLV_TEST(template_sum_to_pay),
        DLV_TEST(builtin_variants),
        DLV_TEST(settings_channels),
        DLV_TEST(template_named_errors),
        DLV_TEST(template_surcharge),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("order_notify", cases);
    dlv__order_free(base);
    return rc;
}
