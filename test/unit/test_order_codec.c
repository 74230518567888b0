/* Exact values, the ORDER codec, settings and server responses. */
#include "test_order_common.h"

#include "order/jwrite.h"

#include <time.h>

static void decimals_are_exact(void)
{
    static const struct {
        const char *text;
        int scale;
        int64_t value;
    } ok[] = {
        {"150.50", 2, 15050},
        {"590", 2, 59000},
        {"590.00", 2, 59000},
        {"0.1", 2, 10},
        {"4.35", 2, 435}, /* 4.35 * 100 is 434.99999999999994 as a double */
        {"0.29", 2, 29},  /* 28.999999999999996 */
        {"1.15", 2, 115},
        {"-0.01", 2, -1},
        {"-0", 2, 0},
        {"1e2", 2, 10000},
        {"1.5E+1", 2, 1500},
        {"2500e-2", 2, 2500},
        {"1.500", 2, 150}, /* trailing zeros carry no kopecks */
        {"100000000000000000000000e-20", 2, 100000},
        {"0e999999", 2, 0},
        {"0.5", 3, 500},
        {"0.125", 3, 125},
        {"9223372036854775807", 0, INT64_MAX},
        {"-9223372036854775807", 0, -INT64_MAX},
        {"999999999999.99", 2, DLV__MONEY_MAX},
    };
    for (size_t i = 0; i < DLV__ARRAY_SIZE(ok); i++) {
        int64_t v = -12345;
        const char *reason = dlv__decimal_parse(ok[i].text, ok[i].scale, &v);
        if (reason || v != ok[i].value)
            fprintf(stderr, "\n  %s: %s %lld\n", ok[i].text, reason ? reason : "", (long long)v);
        CU_ASSERT_PTR_NULL(reason);
        CU_ASSERT_EQUAL(v, ok[i].value);
    }
    static const struct {
        const char *text;
        int scale;
        const char *reason;
    } bad[] = {
        {"0.001", 2, "more than 2 decimals"},
        {"1.0001", 3, "more than 3 decimals"},
        {"1.5", 0, "not an integer"},
        {"1e-400", 2, "more than 2 decimals"},
        {"01", 2, "not a number"},
        {"1.", 2, "not a number"},
        {".5", 2, "not a number"},
        {"+1", 2, "not a number"},
        {"1e", 2, "not a number"},
        {"--1", 2, "not a number"},
        {"NaN", 2, "not a number"},
        {"Infinity", 2, "not a number"},
        {"-Infinity", 2, "not a number"},
        {"0x10", 2, "not a number"},
        {"1 ", 2, "not a number"},
        {"", 2, "not a number"},
        {"1e400", 2, "out of range"},
        {"99999999999999999999", 0, "out of range"},
        {"9223372036854775808", 0, "out of range"},
        {"92233720368547758.08", 2, "out of range"},
        {"1234567890123456789012345678901234567890123456789012345678901234567890", 0,
         "out of range"},
    };
    for (size_t i = 0; i < DLV__ARRAY_SIZE(bad); i++) {
        int64_t v = 0;
        const char *reason = dlv__decimal_parse(bad[i].text, bad[i].scale, &v);
        CU_ASSERT_PTR_NOT_NULL_FATAL(reason);
        if (strcmp(reason, bad[i].reason) != 0)
            fprintf(stderr, "\n  %s: got \"%s\"\n", bad[i].text, reason);
        CU_ASSERT_STRING_EQUAL(reason, bad[i].reason);
    }
}

static void money_arithmetic_and_printing(void)
{
    dlv__money lo, hi;
    CU_ASSERT_TRUE(dlv__money_times_amount(15050, 2000, &lo, &hi)); /* 150.50 × 2 */
    CU_ASSERT_EQUAL(lo, 30100);
    CU_ASSERT_EQUAL(hi, 30100);
    CU_ASSERT_TRUE(dlv__money_times_amount(15050, 500, &lo, &hi)); /* × 0.5 kg */
    CU_ASSERT_EQUAL(lo, 7525);
    CU_ASSERT_EQUAL(hi, 7525);
    CU_ASSERT_TRUE(dlv__money_times_amount(999, 333, &lo, &hi)); /* 3.326... */
    CU_ASSERT_EQUAL(lo, 332);
    CU_ASSERT_EQUAL(hi, 333);
    CU_ASSERT_TRUE(dlv__money_times_amount(DLV__MONEY_MAX, DLV__AMOUNT_ONE, &lo, &hi));
    CU_ASSERT_EQUAL(lo, DLV__MONEY_MAX);
    CU_ASSERT_FALSE(dlv__money_times_amount(DLV__MONEY_MAX, DLV__AMOUNT_MAX, &lo, &hi));
    CU_ASSERT_FALSE(dlv__money_times_amount(-1, 1000, &lo, &hi));

    char out[32];
    dlv__decimal_format(59000, 2, true, out);
    CU_ASSERT_STRING_EQUAL(out, "590.00");
    dlv__decimal_format(-1, 2, true, out);
    CU_ASSERT_STRING_EQUAL(out, "-0.01");
    dlv__decimal_format(30100, 2, true, out);
    CU_ASSERT_STRING_EQUAL(out, "301.00");
    dlv__decimal_format(500, 3, false, out);
    CU_ASSERT_STRING_EQUAL(out, "0.5");
    dlv__decimal_format(1000, 3, false, out);
    CU_ASSERT_STRING_EQUAL(out, "1");
    dlv__decimal_format(1250, 3, false, out);
    CU_ASSERT_STRING_EQUAL(out, "1.25");
    dlv__decimal_format(INT64_MIN, 2, true, out);
    CU_ASSERT_STRING_EQUAL(out, "-92233720368547758.08");
    char when[21];
    CU_ASSERT_TRUE(dlv__time_format(DLV__TIME_MIN, when));
    CU_ASSERT_STRING_EQUAL(when, "0001-01-01T00:00:00Z");
    CU_ASSERT_TRUE(dlv__time_format(DLV__TIME_MAX, when));
    CU_ASSERT_STRING_EQUAL(when, "9999-12-31T23:59:59Z");
    CU_ASSERT_TRUE(dlv__time_format(0, when));
    CU_ASSERT_STRING_EQUAL(when, "1970-01-01T00:00:00Z");
    CU_ASSERT_TRUE(dlv__time_format(1796041507, when));
    CU_ASSERT_STRING_EQUAL(when, "2026-11-30T12:25:07Z");
    CU_ASSERT_FALSE(dlv__time_format(DLV__TIME_MAX + 1, when));
    dlv__decimal_format(0, 3, false, out);
    CU_ASSERT_STRING_EQUAL(out, "0");
    dlv__decimal_format(0, 2, true, out);
    CU_ASSERT_STRING_EQUAL(out, "0.00");
    dlv__decimal_format(5, 3, false, out);
    CU_ASSERT_STRING_EQUAL(out, "0.005");
    dlv__decimal_format(-70, 3, false, out);
    CU_ASSERT_STRING_EQUAL(out, "-0.07");
    dlv__decimal_format(INT64_MAX, 0, true, out);
    CU_ASSERT_STRING_EQUAL(out, "9223372036854775807");
    dlv__decimal_format(42, 0, true, out);
    CU_ASSERT_STRING_EQUAL(out, "42");
    /* Every kopeck value prints and parses back to itself. */
    for (int64_t v = -100000; v <= 100000; v += 7) {
        int64_t back;
        dlv__decimal_format(v, 2, true, out);
        CU_ASSERT_PTR_NULL(dlv__decimal_parse(out, 2, &back));
        CU_ASSERT_EQUAL(back, v);
    }
}

static void rfc3339_times(void)
{
    static const struct {
        const char *text;
        dlv__time t;
    } ok[] = {
        {"2026-11-29T12:30:00Z", 1795955400},
        {"2026-11-29T15:30:00+03:00", 1795955400},
        {"2026-11-29T10:00:00-02:30", 1795955400},
        {"2026-11-29t12:30:00z", 1795955400},
        {"2026-11-29T12:30:00.999Z", 1795955400},
        {"1970-01-01T00:00:00Z", 0},
        {"1969-12-31T23:59:59Z", -1},
        {"2024-02-29T00:00:00Z", 1709164800},
        {"2016-12-31T23:59:60Z", 1483228800}, /* a leap second reads as the next second */
        {"0001-01-01T00:00:00Z", DLV__TIME_MIN},
        {"9999-12-31T23:59:59Z", DLV__TIME_MAX},
    };
    for (size_t i = 0; i < DLV__ARRAY_SIZE(ok); i++) {
        dlv__time t = 0;
        const char *reason = dlv__time_parse(ok[i].text, &t);
        if (reason)
            fprintf(stderr, "\n  %s: %s\n", ok[i].text, reason);
        CU_ASSERT_PTR_NULL(reason);
        CU_ASSERT_EQUAL(t, ok[i].t);
    }
    static const char *const bad[] = {
        "2026-11-29T12:30:00",
        "2026-11-29 12:30:00Z",
        "2026-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-11-31T00:00:00Z",
        "2026-11-29T24:00:00Z",
        "2026-11-29T12:60:00Z",
        "2026-11-29T12:30:00+24:00",
        "2026-11-29T12:30:00+03",
        "2026-11-29T12:30:00.Z",
        "0000-01-01T00:00:00Z",
        "26-11-29T12:30:00Z",
        "2026-11-29T12:30:00Z junk",
        "yesterday",
        "",
        "2026-11-29T12:30:00+03:00:00",
    };
    for (size_t i = 0; i < DLV__ARRAY_SIZE(bad); i++) {
        dlv__time t;
        CU_ASSERT_PTR_NOT_NULL(dlv__time_parse(bad[i], &t));
    }
    char out[21];
    CU_ASSERT_TRUE(dlv__time_format(1795955400, out));
    CU_ASSERT_STRING_EQUAL(out, "2026-11-29T12:30:00Z");
    CU_ASSERT_TRUE(dlv__time_format(-1, out));
    CU_ASSERT_STRING_EQUAL(out, "1969-12-31T23:59:59Z");
    CU_ASSERT_TRUE(dlv__time_format(DLV__TIME_MIN, out));
    CU_ASSERT_STRING_EQUAL(out, "0001-01-01T00:00:00Z");
    CU_ASSERT_FALSE(dlv__time_format(DLV__TIME_MAX + 1, out));
    /* days_from_civil against the C library over 1900..2200, one day in 97. */
    for (int64_t t = -2208988800LL; t < 7258118400LL; t += 86400LL * 97 + 3661) {
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        char expect[32];
        strftime(expect, sizeof expect, "%Y-%m-%dT%H:%M:%SZ", &tm);
        dlv__time back;
        CU_ASSERT_TRUE(dlv__time_format(t, out));
        CU_ASSERT_STRING_EQUAL(out, expect);
        CU_ASSERT_PTR_NULL(dlv__time_parse(out, &back));
        CU_ASSERT_EQUAL(back, t);
    }
}

static void decode_courier_order(void)
{
    dlv__order *o = load_order("order_courier.json", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_STRING_EQUAL(o->id, "6f0c8e5a-3b7d-4c2e-9a1f-0d2b4c6e8a10");
    CU_ASSERT_EQUAL(o->revision, 1040);
    CU_ASSERT_EQUAL(o->number, 100245);
    CU_ASSERT_STRING_EQUAL(o->external_number, "site-7781");
    CU_ASSERT_STRING_EQUAL(o->source_key, "website");
    CU_ASSERT_EQUAL(o->status, DLV_STATUS_UNCONFIRMED);
    CU_ASSERT_EQUAL(o->service_type, DLV_SERVICE_COURIER);
    CU_ASSERT_EQUAL(o->complete_before, 1795959000);
    CU_ASSERT_EQUAL(o->when_created, 1795955467);
    CU_ASSERT_STRING_EQUAL(o->phone, "+79161234567");
    CU_ASSERT_PTR_NOT_NULL_FATAL(o->customer);
    CU_ASSERT_STRING_EQUAL(o->customer->name, "Анна");
    CU_ASSERT_STRING_EQUAL(o->customer->surname, "Петрова");
    CU_ASSERT_PTR_NULL(o->customer->comment);
    CU_ASSERT_FALSE(o->customer->in_blacklist);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o->address);
    CU_ASSERT_STRING_EQUAL(o->address->doorphone, "15К");
    CU_ASSERT_STRING_EQUAL(o->address->comment, "позвонить за 10 минут");
    CU_ASSERT_STRING_EQUAL(o->comment, "без лука");
    CU_ASSERT_EQUAL(o->persons_count, 2);
    CU_ASSERT_EQUAL_FATAL(o->item_count, 1);
    CU_ASSERT_EQUAL(o->items[0].amount, 1000);
    CU_ASSERT_EQUAL(o->items[0].price, 59000);
    CU_ASSERT_EQUAL(o->items[0].sum, 59000);
    CU_ASSERT_PTR_NULL(o->items[0].comment);
    CU_ASSERT_EQUAL_FATAL(o->items[0].modifier_count, 1);
    CU_ASSERT_STRING_EQUAL(o->items[0].modifiers[0].name, "Двойной сыр");
    CU_ASSERT_EQUAL(o->items[0].modifiers[0].price, 9000);
    CU_ASSERT_EQUAL_FATAL(o->payment_count, 1);
    CU_ASSERT_EQUAL(o->payments[0].kind, DLV__PAYMENT_CASH);
    CU_ASSERT_EQUAL(o->payments[0].sum, 70000);
    CU_ASSERT_EQUAL(o->full_sum, 68000);
    CU_ASSERT_EQUAL(o->discount_sum, 0);
    CU_ASSERT_EQUAL(o->result_sum, 68000);
    CU_ASSERT_EQUAL(dlv__order_change_sum(o), 2000);
    CU_ASSERT_TRUE(dlv__order_fully_paid(o));
    CU_ASSERT_FALSE(dlv__order_has_external_payment(o));
    CU_ASSERT_PTR_NULL(o->courier);
    CU_ASSERT_PTR_NULL(o->cancel_info);
    CU_ASSERT_FALSE(o->has_problem);
    CU_ASSERT_STRING_EQUAL(o->operator_name, "Оператор 1");
    CU_ASSERT_EQUAL(o->when_confirmed, DLV__TIME_NONE);
    dlv__order_free(o);
}

static void decode_pickup_and_anonymous(void)
{
    dlv__order *o = load_order("order_pickup.json", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_EQUAL(o->service_type, DLV_SERVICE_PICKUP);
    CU_ASSERT_PTR_NULL(o->address);
    CU_ASSERT_EQUAL(o->complete_before, 1795964400); /* 18:00+03:00 */
    CU_ASSERT_EQUAL(o->when_created, 1795959930);    /* 16:45:30.250+03:00, fraction dropped */
    CU_ASSERT_EQUAL(o->items[0].amount, 500);        /* 0.5 kg */
    CU_ASSERT_EQUAL(o->items[0].sum, 7525);
    CU_ASSERT_EQUAL(o->items[1].sum, 30100); /* 150.50 × 2 */
    CU_ASSERT_EQUAL(o->items[1].modifier_count, 0);
    CU_ASSERT_EQUAL(o->full_sum, 37625);
    CU_ASSERT_EQUAL(o->discount_sum, 2625);
    CU_ASSERT_EQUAL(o->result_sum, 35000);
    CU_ASSERT_TRUE(dlv__order_has_external_payment(o));
    CU_ASSERT_FALSE(dlv__order_fully_paid(o));
    CU_ASSERT_EQUAL(dlv__order_change_sum(o), 0);
    CU_ASSERT_TRUE(o->customer->in_blacklist);
    CU_ASSERT_TRUE(o->has_problem);
    CU_ASSERT_STRING_EQUAL(o->problem_description, "клиент просил позвонить");
    CU_ASSERT_PTR_NULL(o->operator_name);
    CU_ASSERT_TRUE(o->split_between_persons);
    dlv__order_free(o);

    o = load_order("order_anonymous.json", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_PTR_NULL(o->customer);
    CU_ASSERT_PTR_NULL(o->phone);
    CU_ASSERT_PTR_NULL(o->address->city);
    CU_ASSERT_STRING_EQUAL(o->address->street, "Ленина");
    CU_ASSERT_EQUAL(o->complete_before, 1798770599); /* 23:59:59-02:30 */
    CU_ASSERT_EQUAL(o->persons_count, 1);            /* default */
    CU_ASSERT_EQUAL(o->payment_count, 0);
    CU_ASSERT_EQUAL(o->items[0].sum, 297);
    CU_ASSERT_STRING_EQUAL(o->courier->name, "Пётр");
    CU_ASSERT_STRING_EQUAL(o->cancel_info->cause_id, CAUSE_ID);
    CU_ASSERT_STRING_EQUAL(o->cancel_info->comment, "передумал");
    CU_ASSERT_EQUAL(o->status, DLV_STATUS_CANCELLED);
    dlv__order_free(o);
}

static void round_trips(void)
{
    static const char *const names[] = {"order_courier.json", "order_pickup.json",
                                        "order_anonymous.json"};
    for (size_t i = 0; i < DLV__ARRAY_SIZE(names); i++) {
        dlv__order *o = load_order(names[i], 0), *again = NULL, *copy = NULL;
        CU_ASSERT_PTR_NOT_NULL_FATAL(o);
        o->when_confirmed = 1795955500; /* local history survives too */
        o->actual_delivery_time = 1795958000;
        if (i == 0) {
            /* Every kind of member a copy must make its own: courier, cancel info, 1.1 times. */
            o->courier = dlv__calloc(1, sizeof *o->courier);
            o->cancel_info = dlv__calloc(1, sizeof *o->cancel_info);
            CU_ASSERT_PTR_NOT_NULL_FATAL(o->courier);
            CU_ASSERT_PTR_NOT_NULL_FATAL(o->cancel_info);
            o->courier->id = dlv__strdup("5a1d0c3e-2b7f-4e55-9a10-c0c0c0000001");
            o->courier->name = dlv__strdup("Курьер Иван");
            o->cancel_info->cause_id = dlv__strdup("client-refused");
            o->cancel_info->comment = dlv__strdup("передумал");
            o->cancel_info->when = 1795956000;
            o->predicted_cooking_complete_time = 1795956600;
            o->surcharge_sum = 5000;
            o->result_sum += 5000;
        }
        if (i == 2) {
            /* What the writer escapes, as cJSON does: quote, backslash, control bytes. */
            dlv__free(o->comment);
            o->comment = dlv__strdup("«без лука» \"острое\" \\ \n\t\x01\x1f конец");
        }
        char *first = dlv__order_to_json(o);
        CU_ASSERT_PTR_NOT_NULL_FATAL(first);
        /* The text written straight is the tree's text, byte for byte. */
        cJSON *tree = dlv__order_to_cjson(o);
        char *printed = dlv__json_print(tree);
        CU_ASSERT_PTR_NOT_NULL_FATAL(printed);
        CU_ASSERT_STRING_EQUAL(first, printed);
        cJSON_Delete(tree);
        free(printed);
        dlv_error err = {0};
        CU_ASSERT_EQUAL(dlv__order_from_json(first, strlen(first), 0, &again, &err), DLV_OK);
        CU_ASSERT_PTR_NOT_NULL_FATAL(again);
        char *second = dlv__order_to_json(again);
        CU_ASSERT_STRING_EQUAL(first, second);
        CU_ASSERT_EQUAL(dlv__order_clone(o, &copy), DLV_OK);
        char *third = dlv__order_to_json(copy);
        CU_ASSERT_STRING_EQUAL(first, third);
        CU_ASSERT_EQUAL(again->actual_delivery_time, 1795958000);
        if (i == 0) {
            DLV_ASSERT_CONTAINS(first, "\"courier\":{\"id\":\"5a1d0c3e");
            DLV_ASSERT_CONTAINS(first, "\"comment\":\"передумал\"");
            CU_ASSERT_PTR_NOT_EQUAL(copy->courier, o->courier);
            CU_ASSERT_PTR_NOT_EQUAL(copy->courier->name, o->courier->name);
            CU_ASSERT_PTR_NOT_EQUAL(copy->items[0].modifiers, o->items[0].modifiers);
            DLV_ASSERT_CONTAINS(first, "\"price\":590.00");
            DLV_ASSERT_CONTAINS(first, "\"resultSum\":730.00");
            DLV_ASSERT_CONTAINS(first, "\"discountSum\":0.00");
            DLV_ASSERT_CONTAINS(first, "\"completeBefore\":\"2026-11-29T13:30:00Z\"");
            DLV_ASSERT_CONTAINS(first, "\"whenConfirmed\":\"2026-11-29T12:31:40Z\"");
            DLV_ASSERT_CONTAINS(first, "\"amount\":1,");
        } else if (i == 1) {
            DLV_ASSERT_CONTAINS(first, "\"amount\":0.5,");
            DLV_ASSERT_CONTAINS(first, "\"sum\":75.25");
            DLV_ASSERT_CONTAINS(first, "\"address\":null");
            DLV_ASSERT_CONTAINS(first, "\"completeBefore\":\"2026-11-29T15:00:00Z\"");
        } else {
            DLV_ASSERT_CONTAINS(first, "\"customer\":null");
            CU_ASSERT_FALSE(dlv_test_contains(first, "futureField"));
        }
        free(first);
        free(second);
        free(third);
        dlv__order_free(o);
        dlv__order_free(again);
        dlv__order_free(copy);
    }
}

/* The writer refuses what would not be one JSON document. */
static void writer_refuses_broken_documents(void)
{
    dlv__jw w;
    dlv__jw_init(&w, 1 << 20);
    for (int i = 0; i < 65; i++)
        dlv__jw_array(&w, NULL);
    for (int i = 0; i < 65; i++)
        dlv__jw_end(&w);
    CU_ASSERT_PTR_NULL(dlv__jw_finish(&w)); /* deeper than 64 */
    dlv__jw_init(&w, 1 << 20);
    dlv__jw_object(&w, NULL);
    CU_ASSERT_PTR_NULL(dlv__jw_finish(&w)); /* left open */
    dlv__jw_init(&w, 16);
    dlv__jw_object(&w, NULL);
    dlv__jw_string(&w, "k", "a value longer than the cap");
    dlv__jw_end(&w);
    CU_ASSERT_PTR_NULL(dlv__jw_finish(&w)); /* too large */
    dlv__jw_init(&w, 1 << 20);
    dlv__jw_object(&w, NULL);
    dlv__jw_array(&w, "a");
    dlv__jw_bool(&w, NULL, true);
    dlv__jw_null(&w, NULL);
    dlv__jw_end(&w);
    dlv__jw_decimal(&w, "d", -5, 3, false);
    dlv__jw_end(&w);
    char *text = dlv__jw_finish(&w);
    CU_ASSERT_STRING_EQUAL(text, "{\"a\":[true,null],\"d\":-0.005}");
    dlv__free(text);
}

static void draft_orders(void)
{
    const char *draft =
        "{\"serviceType\":\"DeliveryByClient\",\"completeBefore\":\"2026-11-29T13:30:00Z\","
        "\"phone\":\"+70000000000\",\"customer\":{\"name\":\"Гость\"},"
        "\"items\":[{\"positionId\":\"10000000-0000-4000-8000-000000000001\",\"productId\":"
        "\"20000000-0000-4000-8000-000000000002\",\"name\":\"Чай\",\"amount\":1,\"price\":1,"
        "\"sum\":1}],\"fullSum\":1,\"resultSum\":1}";
    dlv__order *o = NULL;
    dlv_error err = {0};
    CU_ASSERT_EQUAL(dlv__order_from_json(draft, strlen(draft), DLV__ORDER_DRAFT, &o, &err), DLV_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_PTR_NULL(o->id);
    CU_ASSERT_EQUAL(o->number, 0);
    CU_ASSERT_EQUAL(o->status, DLV_STATUS_UNCONFIRMED);
    CU_ASSERT_EQUAL(o->when_created, DLV__TIME_NONE);
    CU_ASSERT_PTR_NULL(o->customer->id);
    dlv__order_free(o);
    /* Without the flag the server's fields are required. */
    CU_ASSERT_EQUAL(dlv__order_from_json(draft, strlen(draft), 0, &o, &err), DLV_EJSON);
    CU_ASSERT_STRING_EQUAL(err.message, "id: missing");
    CU_ASSERT_PTR_NULL(o);
}

static void settings_codec(void)
{
    dlv__settings *s = load_settings();
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->pickup_cooking_lead_minutes, 20);
    CU_ASSERT_EQUAL(s->service_type, DLV__DELIVERY_COURIER_AND_PICKUP);
    CU_ASSERT_EQUAL(s->city_count, 2);
    CU_ASSERT_STRING_EQUAL(s->default_city_id, "a1000000-0000-4000-8000-000000000001");
    CU_ASSERT_EQUAL(s->region_count, 1);
    CU_ASSERT_EQUAL(s->invoice_moment, DLV__INVOICE_ON_COOKING_COMPLETED);
    CU_ASSERT_EQUAL(s->invoice_copies, 2);
    CU_ASSERT_EQUAL(s->cooking_start_mode, DLV__COOKING_AUTOMATIC);
    CU_ASSERT_EQUAL(s->payment_moment, DLV__PAY_BEFORE_SENDING);
    CU_ASSERT_TRUE(s->notify_overdue_cooking);
    CU_ASSERT_FALSE(s->allow_anonymous);
    CU_ASSERT_EQUAL(s->cancel_cause_count, 2);
    CU_ASSERT_EQUAL_FATAL(s->courier_count, 3);
    CU_ASSERT_EQUAL(s->couriers[1].debt, 600050);
    CU_ASSERT_FALSE(s->couriers[2].can_be_courier);
    CU_ASSERT_PTR_NULL(s->couriers[1].phone);
    CU_ASSERT_TRUE(s->has_max_courier_debt);
    CU_ASSERT_EQUAL(s->max_courier_debt, 500000);
    CU_ASSERT_PTR_NOT_NULL(dlv__settings_courier(s, "D1000000-0000-4000-8000-000000000002"));
    CU_ASSERT_PTR_NULL(dlv__settings_courier(s, "d1000000-0000-4000-8000-000000000009"));
    CU_ASSERT_PTR_NOT_NULL(dlv__settings_cancel_cause(s, CAUSE_ID));
    char *text = dlv__settings_to_json(s);
    dlv__settings *again = NULL;
    dlv_error err = {0};
    CU_ASSERT_EQUAL(dlv__settings_from_json(text, strlen(text), &again, &err), DLV_OK);
    char *text2 = dlv__settings_to_json(again);
    CU_ASSERT_STRING_EQUAL(text, text2);
    DLV_ASSERT_CONTAINS(text, "\"maxCourierDebt\":5000.00");
    DLV_ASSERT_CONTAINS(text, "\"debt\":6000.50");
    free(text);
    free(text2);
    dlv__settings_free(again);
    dlv__settings_free(s);

    /* An empty object means every default. */
    CU_ASSERT_EQUAL(dlv__settings_from_json("{}", 2, &s, &err), DLV_OK);
    CU_ASSERT_EQUAL(s->pickup_cooking_lead_minutes, 15);
    CU_ASSERT_EQUAL(s->invoice_copies, 1);
    CU_ASSERT_EQUAL(s->invoice_moment, DLV__INVOICE_MANUAL);
    CU_ASSERT_EQUAL(s->cooking_start_mode, DLV__COOKING_MANUAL);
    CU_ASSERT_EQUAL(s->payment_moment, DLV__PAY_BEFORE_CLOSING);
    CU_ASSERT_FALSE(s->has_max_courier_debt);
    dlv__settings_free(s);

    static const struct {
        const char *json, *message;
    } bad[] = {
        {"{\"invoiceCopies\":0}", "invoiceCopies: must be positive"},
        {"{\"invoiceCopies\":6}", "invoiceCopies: out of range"},
        {"{\"invoiceCopies\":2.5}", "invoiceCopies: not an integer"},
        {"{\"pickupCookingLeadMinutes\":-5}", "pickupCookingLeadMinutes: must not be negative"},
        {"{\"pickupCookingLeadMinutes\":1441}", "pickupCookingLeadMinutes: out of range"},
        {"{\"invoicePrintMoment\":\"Sometimes\"}",
         "invoicePrintMoment: unknown value \"Sometimes\""},
        {"{\"deliveryServiceType\":\"Drone\"}", "deliveryServiceType: unknown value \"Drone\""},
        {"{\"cookingStartMode\":true}", "cookingStartMode: not a string"},
        {"{\"paymentMoment\":\"Never\"}", "paymentMoment: unknown value \"Never\""},
        {"{\"notifyOverdueCooking\":1}", "notifyOverdueCooking: not a boolean"},
        {"{\"defaultCityId\":\"a1000000-0000-4000-8000-000000000009\"}",
         "defaultCityId: not one of cities"},
        {"{\"cities\":[{\"id\":\"x\",\"name\":\"a\"}]}", "cities[0].id: not a UUID"},
        {"{\"cancelCauses\":[{\"id\":\"" CAUSE_ID "\",\"name\":\"a\"},{\"id\":\"" CAUSE_ID
         "\",\"name\":\"b\"}]}",
         "cancelCauses[1].id: duplicate id (same as element 0)"},
        {"{\"couriers\":[{\"id\":\"" COURIER_OK "\",\"name\":\"a\"}]}",
         "couriers[0].canBeCourier: missing"},
        {"{\"couriers\":[{\"id\":\"" COURIER_OK "\",\"name\":\"a\",\"debt\":\"0\","
         "\"canBeCourier\":true}]}",
         "couriers[0].debt: not a number"},
        {"{\"maxCourierDebt\":-1}", "maxCourierDebt: must not be negative"},
        {"{\"regions\":{}}", "regions: not an array"},
        {"[]", "not an object"},
    };
    for (size_t i = 0; i < DLV__ARRAY_SIZE(bad); i++) {
        s = NULL;
        CU_ASSERT_EQUAL(dlv__settings_from_json(bad[i].json, strlen(bad[i].json), &s, &err),
                        DLV_EJSON);
        CU_ASSERT_PTR_NULL(s);
        if (strcmp(err.message, bad[i].message) != 0)
            fprintf(stderr, "\n  %s -> %s\n", bad[i].json, err.message);
        CU_ASSERT_STRING_EQUAL(err.message, bad[i].message);
    }
}

static char *orders_response_text(const char *second_order_edit_from, const char *to)
{
    char *a = fixture("order_courier.json"), *b = fixture("order_pickup.json");
    char *s = fixture("settings.json");
    if (second_order_edit_from) {
        char *edited = replace_once(b, second_order_edit_from, to);
        free(b);
        b = edited;
    }
    size_t n = strlen(a) + strlen(b) + strlen(s) + 256;
    char *text = malloc(n);
    snprintf(text, n,
             "{\"revision\":1042,\"orders\":[%s,%s],\"removedOrderIds\":"
             "[\"ffffffff-0000-4000-8000-000000000001\"],\"settings\":%s}",
             a, b, s);
    free(a);
    free(b);
    free(s);
    return text;
}

static void server_responses(void)
{
    dlv_error err = {0};
    char *text = orders_response_text(NULL, NULL);
    dlv__orders_response *r = NULL;
    CU_ASSERT_EQUAL(dlv__orders_response_decode(text, strlen(text), &r, &err), DLV_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->revision, 1042);
    CU_ASSERT_EQUAL_FATAL(r->order_count, 2);
    CU_ASSERT_EQUAL(r->orders[1]->number, 512);
    CU_ASSERT_EQUAL_FATAL(r->removed_count, 1);
    CU_ASSERT_STRING_EQUAL(r->removed_ids[0], "ffffffff-0000-4000-8000-000000000001");
    CU_ASSERT_PTR_NOT_NULL(r->settings);
    dlv__orders_response_free(r);
    free(text);

    const char *empty = "{\"revision\":5,\"orders\":[]}";
    CU_ASSERT_EQUAL(dlv__orders_response_decode(empty, strlen(empty), &r, &err), DLV_OK);
    CU_ASSERT_EQUAL(r->order_count, 0);
    CU_ASSERT_PTR_NULL(r->settings);
    dlv__orders_response_free(r);

    static const struct {
        const char *from, *to, *message;
    } bad_orders[] = {
        {"\"amount\":2", "\"amount\":\"2\"", "orders[1].items[1].amount: not a number"},
        {"\"kind\":\"External\"", "\"kind\":\"Crypto\"",
         "orders[1].payments[0].kind: unknown value \"Crypto\""},
        {"\"sum\":301.00", "\"sum\":301.001", "orders[1].items[1].sum: more than 2 decimals"},
    };
    for (size_t i = 0; i < DLV__ARRAY_SIZE(bad_orders); i++) {
        text = orders_response_text(bad_orders[i].from, bad_orders[i].to);
        r = NULL;
        CU_ASSERT_EQUAL(dlv__orders_response_decode(text, strlen(text), &r, &err), DLV_EJSON);
        CU_ASSERT_PTR_NULL(r);
        CU_ASSERT_STRING_EQUAL(err.message, bad_orders[i].message);
        free(text);
    }
    static const struct {
        const char *json, *message;
    } bad[] = {
        {"{\"orders\":[]}", "revision: missing"},
        {"{\"revision\":-1,\"orders\":[]}", "revision: must not be negative"},
        {"{\"revision\":1}", "orders: missing"},
        {"{\"revision\":1,\"orders\":[],\"removedOrderIds\":[\"nope\"]}",
         "removedOrderIds[0]: not a UUID"},
        {"{\"revision\":1,\"orders\":[],\"removedOrderIds\":[null]}",
         "removedOrderIds[0]: must not be null"},
        {"{\"revision\":1,\"orders\":[],\"settings\":{\"invoiceCopies\":9}}",
         "settings.invoiceCopies: out of range"},
        {"{\"revision\":1,\"orders\":[7]}", "orders[0]: not an object"},
    };
    for (size_t i = 0; i < DLV__ARRAY_SIZE(bad); i++) {
        CU_ASSERT_EQUAL(dlv__orders_response_decode(bad[i].json, strlen(bad[i].json), &r, &err),
                        DLV_EJSON);
        CU_ASSERT_STRING_EQUAL(err.message, bad[i].message);
    }

    text = fixture("commands_response.json");
    dlv__commands_response *c = NULL;
    CU_ASSERT_EQUAL(dlv__commands_response_decode(text, strlen(text), &c, &err), DLV_OK);
    free(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(c->revision, 1050);
    CU_ASSERT_EQUAL_FATAL(c->result_count, 3);
    CU_ASSERT_EQUAL(c->results[0].outcome, DLV__OUTCOME_APPLIED);
    CU_ASSERT_EQUAL(c->results[0].revision, 1043);
    CU_ASSERT_EQUAL(c->results[1].outcome, DLV__OUTCOME_DUPLICATE);
    CU_ASSERT_EQUAL(c->results[2].outcome, DLV__OUTCOME_REJECTED);
    CU_ASSERT_EQUAL(c->results[2].revision, -1);
    CU_ASSERT_STRING_EQUAL(c->results[2].error, "StatusConflict");
    CU_ASSERT_EQUAL(c->results[2].current_status, DLV_STATUS_CANCELLED);
    CU_ASSERT_EQUAL(c->results[0].current_status, -1);
    dlv__commands_response_free(c);
    static const struct {
        const char *json, *message;
    } bad_cmds[] = {
        {"{\"revision\":1,\"results\":[{\"id\":\"e0000000-0000-4000-8000-000000000001\","
         "\"outcome\":\"Rejected\"}]}",
         "results[0].error: missing"},
        {"{\"revision\":1,\"results\":[{\"id\":\"e0000000-0000-4000-8000-000000000001\","
         "\"outcome\":\"Applied\"}]}",
         "results[0].revision: missing"},
        {"{\"revision\":1,\"results\":[{\"id\":\"e0000000-0000-4000-8000-000000000001\","
         "\"outcome\":\"Maybe\",\"revision\":1}]}",
         "results[0].outcome: unknown value \"Maybe\""},
        {"{\"revision\":1,\"results\":[{\"outcome\":\"Applied\",\"revision\":1}]}",
         "results[0].id: missing"},
        {"{\"revision\":1,\"results\":[{\"id\":\"e0000000-0000-4000-8000-000000000001\","
         "\"outcome\":\"Rejected\",\"error\":\"X\",\"currentStatus\":\"Lost\"}]}",
         "results[0].currentStatus: unknown value \"Lost\""},
        {"{\"revision\":1}", "results: missing"},
        {"{\"results\":[]}", "revision: missing"},
    };
    for (size_t i = 0; i < DLV__ARRAY_SIZE(bad_cmds); i++) {
        CU_ASSERT_EQUAL(
            dlv__commands_response_decode(bad_cmds[i].json, strlen(bad_cmds[i].json), &c, &err),
            DLV_EJSON);
        CU_ASSERT_STRING_EQUAL(err.message, bad_cmds[i].message);
    }

    text = fixture("register_response.json");
    dlv__register_response *reg = NULL;
    CU_ASSERT_EQUAL(dlv__register_response_decode(text, strlen(text), &reg, &err), DLV_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
    CU_ASSERT_STRING_EQUAL(reg->session_token, "opaque-token-1");
    CU_ASSERT_EQUAL(reg->expires_in_seconds, 3600);
    CU_ASSERT_EQUAL(reg->server_time, 1795953600);
    CU_ASSERT_EQUAL(reg->settings->invoice_copies, 2);
    CU_ASSERT_STRING_EQUAL(reg->settings->couriers[0].phone, "+7…");
    dlv__register_response_free(reg);
    char *no_settings = replace_once(text, "\"settings\"", "\"settingz\"");
    CU_ASSERT_EQUAL(dlv__register_response_decode(no_settings, strlen(no_settings), &reg, &err),
                    DLV_EJSON);
    CU_ASSERT_STRING_EQUAL(err.message, "settings: missing");
    free(no_settings);
    char *bad_copies = replace_once(text, "\"invoiceCopies\":2", "\"invoiceCopies\":0");
    CU_ASSERT_EQUAL(dlv__register_response_decode(bad_copies, strlen(bad_copies), &reg, &err),
                    DLV_EJSON);
    CU_ASSERT_STRING_EQUAL(err.message, "settings.invoiceCopies: must be positive");
    free(bad_copies);
    char *no_token = replace_once(text, "\"opaque-token-1\"", "\"\"");
    CU_ASSERT_EQUAL(dlv__register_response_decode(no_token, strlen(no_token), &reg, &err),
                    DLV_EJSON);
    CU_ASSERT_STRING_EQUAL(err.message, "sessionToken: must not be empty");
    free(no_token);
    free(text);
}

/* ---- Protocol 1.1 ---- */

static char *wrap_orders(const char *a, const char *b)
{
    size_t n = strlen(a) + (b ? strlen(b) : 0) + 64;
    char *out = malloc(n);
    snprintf(out, n, "{\"revision\":5,\"orders\":[%s%s%s]}", a, b ? "," : "", b ? b : "");
    return out;
}

static void v11_order_fields(void)
{
    char *base = fixture("order_courier.json");
    CU_ASSERT_PTR_NOT_NULL_FATAL(base);
    char *a = replace_once(base, "\"resultSum\":680.00",
                           "\"surchargeSum\":150.00,\"resultSum\":830.00,"
                           "\"predictedCookingCompleteTime\":\"2026-11-29T12:45:00Z\","
                           "\"predictedDeliveryTime\":\"2026-11-29T13:20:00Z\"");
    char *b = replace_once(a, "\"paymentTypeId\"",
                           "\"id\":\"5e000000-0000-4000-8000-000000000001\",\"paymentTypeId\"");
    char *c = replace_once(b, "\"cancelInfo\":null",
                           "\"cancelInfo\":{\"whenCancelled\":null,\"cause\":{\"id\":\"late\","
                           "\"name\":\"Опоздание\"},\"comment\":null}");
    dlv__order *o = NULL;
    dlv_error err = {0};
    CU_ASSERT_EQUAL_FATAL(dlv__order_from_json(c, strlen(c), 0, &o, &err), DLV_OK);
    CU_ASSERT_EQUAL(o->surcharge_sum, 15000);
    CU_ASSERT_EQUAL(o->result_sum, 83000);
    CU_ASSERT_NOT_EQUAL(o->predicted_cooking_complete_time, DLV__TIME_NONE);
    CU_ASSERT_EQUAL(o->predicted_delivery_time - o->predicted_cooking_complete_time, 35 * 60);
    CU_ASSERT_STRING_EQUAL(o->payments[0].id, "5e000000-0000-4000-8000-000000000001");
    CU_ASSERT_STRING_EQUAL(o->cancel_info->cause_id, "late");
    CU_ASSERT_PTR_NOT_NULL(dlv__order_payment(o, "5E000000-0000-4000-8000-000000000001"));
    /* Round trip: every new field comes back. */
    char *text = dlv__order_to_json(o);
    dlv__order *back = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__order_from_json(text, strlen(text), 0, &back, &err), DLV_OK);
    char *again = dlv__order_to_json(back);
    CU_ASSERT_STRING_EQUAL(text, again);
    DLV_ASSERT_CONTAINS(text, "\"surchargeSum\":150.00");
    DLV_ASSERT_CONTAINS(text, "\"predictedDeliveryTime\":\"2026-11-29T13:20:00Z\"");
    /* resultSum must include the surcharge. */
    char *bad = replace_once(c, "\"resultSum\":830.00", "\"resultSum\":680.00");
    dlv__order *refused = NULL;
    CU_ASSERT_EQUAL(dlv__order_from_json(bad, strlen(bad), 0, &refused, &err), DLV_EJSON);
    CU_ASSERT_PTR_NULL(refused);
    DLV_ASSERT_CONTAINS(err.message,
                        "resultSum: 680.00 is not fullSum - discountSum + surchargeSum");
    /* A 1.0 order is written without any 1.1 field. */
    dlv__order *old = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__order_from_json(base, strlen(base), 0, &old, &err), DLV_OK);
    char *old_text = dlv__order_to_json(old);
    CU_ASSERT_PTR_NULL(strstr(old_text, "surchargeSum"));
    CU_ASSERT_PTR_NULL(strstr(old_text, "predicted"));
    CU_ASSERT_PTR_NULL(strstr(old_text, "\"id\":null"));
    dlv__free(old_text);
    dlv__order_free(old);
    dlv__free(text);
    dlv__free(again);
    dlv__order_free(o);
    dlv__order_free(back);
    free(base), free(a), free(b), free(c), free(bad);
}

/* One case per kind of malformation: the order is kept, the field is absent, the warning names
 * the order and the field. */
static void tolerant_reading(void)
{
    static const struct {
        const char *from, *to, *field, *message;
    } cases[] = {
        {"\"surname\":\"Петрова\"", "\"surname\":7", "customer.surname", "not a string"},
        {"\"id\":\"0b7e3c2a-1d4f-4e6a-8b9c-2f3e4d5c6b7a\"", "\"id\":\"nope\"", "customer.id",
         "not a UUID"},
        {"\"whenCreated\":\"2026-11-29T12:31:07Z\"", "\"whenCreated\":\"yesterday\"", "whenCreated",
         ""},
        {"\"comment\":\"без лука\"", "\"comment\":\"\xff\xfe\"", "comment", "invalid UTF-8"},
        {"\"comment\":\"без лука\"", "\"comment\":\"a\\u0000b\"", "comment", "\\u0000"},
        {"\"personsCount\":2", "\"personsCount\":-3", "personsCount", "negative"},
        {"\"operator\":{\"name\":\"Оператор 1\"}", "\"operator\":[1]", "operator", ""},
        {"\"name\":\"Двойной сыр\"", "\"name\":null", "items[0].modifiers[0].name", "null"},
        {"\"sum\":590.00,\"comment\":null", "\"sum\":590.00,\"comment\":{}", "items[0].comment",
         "not a string"},
        {"\"phone\":\"+79161234567\"", "\"phone\":5", "phone", "not a string"},
        {"\"isPrepay\":false", "\"isPrepay\":\"no\"", "payments[0].isPrepay", ""},
        {"\"courier\":null", "\"courier\":{\"id\":\"x\",\"name\":\"Пётр\"}", "courier.id",
         "not a UUID"},
        {"\"resultSum\":680.00", "\"resultSum\":680.00,\"predictedDeliveryTime\":12",
         "predictedDeliveryTime", ""},
    };
    char *base = fixture("order_courier.json");
    char *pickup = fixture("order_pickup.json");
    CU_ASSERT_PTR_NOT_NULL_FATAL(base);
    for (size_t i = 0; i < DLV__ARRAY_SIZE(cases); i++) {
        char *order = replace_once(base, cases[i].from, cases[i].to);
        char *answer = wrap_orders(order, pickup);
        dlv__orders_response *r = NULL;
        dlv_error err = {0};
        int rc = dlv__orders_response_decode_lenient(answer, strlen(answer), &r, &err);
        CU_ASSERT_EQUAL(rc, DLV_OK);
        if (rc) {
            fprintf(stderr, "\n  case %zu: %s", i, err.message);
        } else {
            CU_ASSERT_EQUAL(r->order_count, 2);
            CU_ASSERT_EQUAL(r->invalid_count, 0);
            CU_ASSERT_TRUE(r->warning_count >= 1);
            if (r->warning_count >= 1) {
                const dlv__order_warning *w = &r->warnings[0];
                CU_ASSERT_STRING_EQUAL(w->order_id, "6f0c8e5a-3b7d-4c2e-9a1f-0d2b4c6e8a10");
                CU_ASSERT_STRING_EQUAL(w->field, cases[i].field);
                if (strcmp(w->field, cases[i].field) || !strstr(w->message, cases[i].message))
                    fprintf(stderr, "\n  case %zu: warning %s: %s", i, w->field, w->message);
                CU_ASSERT_PTR_NOT_NULL(strstr(w->message, cases[i].message));
            }
            /* The strict decoder still refuses the same order. */
            dlv__orders_response *strict = NULL;
            CU_ASSERT_NOT_EQUAL(dlv__orders_response_decode(answer, strlen(answer), &strict, &err),
                                DLV_OK);
            dlv__orders_response_free(strict);
        }
        if (r && r->order_count) {
            const dlv__order *o = r->orders[0];
            if (i == 0)
                CU_ASSERT_PTR_NULL(o->customer->surname);
            if (i == 3 || i == 4)
                CU_ASSERT_PTR_NULL(o->comment);
            if (i == 5)
                CU_ASSERT_EQUAL(o->persons_count, 1);
            if (i == 11)
                CU_ASSERT_PTR_NULL(o->courier);
            /* What tolerant reading kept can be copied (the cache reads it back the same way). */
            dlv__order *copy = NULL;
            CU_ASSERT_EQUAL(dlv__order_clone(o, &copy), DLV_OK);
            dlv__order_free(copy);
        }
        dlv__orders_response_free(r);
        free(order), free(answer);
    }
    /* Strict fields refuse the order, never the answer; the other order stays. */
    static const char *const strict[][2] = {
        {"\"fullSum\":680.00", "\"fullSum\":\"x\""},
        {"\"status\":\"Unconfirmed\"", "\"status\":\"Lost\""},
        {"\"completeBefore\":\"2026-11-29T13:30:00Z\"", "\"completeBefore\":\"soon\""},
        {"\"id\":\"6f0c8e5a-3b7d-4c2e-9a1f-0d2b4c6e8a10\"", "\"id\":\"a\\u0000\""},
        {"\"kind\":\"Cash\"", "\"kind\":\"Gold\""},
    };
    for (size_t i = 0; i < DLV__ARRAY_SIZE(strict); i++) {
        char *order = replace_once(base, strict[i][0], strict[i][1]);
        char *answer = wrap_orders(order, pickup);
        dlv__orders_response *r = NULL;
        dlv_error err = {0};
        CU_ASSERT_EQUAL_FATAL(dlv__orders_response_decode_lenient(answer, strlen(answer), &r, &err),
                              DLV_OK);
        CU_ASSERT_EQUAL(r->order_count, 1);
        CU_ASSERT_EQUAL(r->invalid_count, 1);
        CU_ASSERT_EQUAL(r->warning_count, 0);
        dlv__orders_response_free(r);
        free(order), free(answer);
    }
    /* The same id twice: the highest revision is kept and the other reported. */
    char *newer = replace_once(base, "\"revision\":1040", "\"revision\":1041");
    char *answer = wrap_orders(newer, base);
    dlv__orders_response *r = NULL;
    dlv_error err = {0};
    CU_ASSERT_EQUAL_FATAL(dlv__orders_response_decode_lenient(answer, strlen(answer), &r, &err),
                          DLV_OK);
    CU_ASSERT_EQUAL(r->order_count, 1);
    CU_ASSERT_EQUAL(r->orders[0]->revision, 1041);
    CU_ASSERT_EQUAL_FATAL(r->invalid_count, 1);
    DLV_ASSERT_CONTAINS(r->invalid[0].message, "orders[1]: duplicate of orders[0]");
    CU_ASSERT_FALSE(r->more);
    dlv__orders_response_free(r);
    free(newer), free(answer);
    free(base), free(pickup);
}

static void v11_responses_and_settings(void)
{
    dlv_error err = {0};
    dlv__orders_response *o = NULL;
    const char *paged = "{\"revision\":7,\"more\":true,\"orders\":[]}";
    CU_ASSERT_EQUAL_FATAL(dlv__orders_response_decode_lenient(paged, strlen(paged), &o, &err),
                          DLV_OK);
    CU_ASSERT_TRUE(o->more);
    dlv__orders_response_free(o);
    char *reg = fixture("register_response.json");
    CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
    dlv__register_response *r = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__register_response_decode(reg, strlen(reg), &r, &err), DLV_OK);
    CU_ASSERT_EQUAL(r->protocol_minor, 0);
    CU_ASSERT_FALSE(r->has_number_block);
    /* 1.0 settings: the 1.1 defaults. */
    CU_ASSERT_EQUAL(r->settings->courier_delivery_minutes, 45);
    CU_ASSERT_EQUAL(r->settings->courier_cooking_minutes, r->settings->pickup_cooking_lead_minutes);
    CU_ASSERT_EQUAL(r->settings->overdue_grace_minutes, 5);
    CU_ASSERT_PTR_NULL(r->settings->time_zone);
    CU_ASSERT_TRUE(r->settings->notifications[DLV__NOTIFY_ON_WAY].sms);
    CU_ASSERT_FALSE(r->settings->notifications[DLV__NOTIFY_ON_WAY].push);
    dlv__register_response_free(r);
    char *r11a = replace_once(reg, "\"sessionToken\"",
                              "\"protocolMinor\":1,\"numberBlock\":{\"first\":900000,"
                              "\"last\":900999},\"sessionToken\"");
    char *r11 = replace_once(r11a, "\"pickupCookingLeadMinutes\":15",
                             "\"pickupCookingLeadMinutes\":15,\"timeZone\":\"Europe/Moscow\","
                             "\"courierDeliveryMinutes\":30,\"overdueGraceMinutes\":7,"
                             "\"notifications\":{\"OnWay\":{\"sms\":false,\"push\":true},"
                             "\"Future\":{\"sms\":true}}");
    CU_ASSERT_EQUAL_FATAL(dlv__register_response_decode(r11, strlen(r11), &r, &err), DLV_OK);
    CU_ASSERT_EQUAL(r->protocol_minor, 1);
    CU_ASSERT_TRUE(r->has_number_block);
    CU_ASSERT_EQUAL(r->number_block.first, 900000);
    CU_ASSERT_EQUAL(r->number_block.last, 900999);
    CU_ASSERT_STRING_EQUAL(r->settings->time_zone, "Europe/Moscow");
    CU_ASSERT_EQUAL(r->settings->courier_delivery_minutes, 30);
    CU_ASSERT_EQUAL(r->settings->courier_cooking_minutes, 15);
    CU_ASSERT_EQUAL(r->settings->overdue_grace_minutes, 7);
    CU_ASSERT_FALSE(r->settings->notifications[DLV__NOTIFY_ON_WAY].sms);
    CU_ASSERT_TRUE(r->settings->notifications[DLV__NOTIFY_ON_WAY].push);
    CU_ASSERT_TRUE(r->settings->notifications[DLV__NOTIFY_NEW].sms);
    /* Settings round trip with every 1.1 field. */
    char *st = dlv__settings_to_json(r->settings);
    dlv__settings *back = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__settings_from_json(st, strlen(st), &back, &err), DLV_OK);
    char *st2 = dlv__settings_to_json(back);
    CU_ASSERT_STRING_EQUAL(st, st2);
    dlv__free(st), dlv__free(st2);
    dlv__settings_free(back);
    dlv__register_response_free(r);
    char *bad = replace_once(r11, "\"last\":900999", "\"last\":5");
    CU_ASSERT_EQUAL(dlv__register_response_decode(bad, strlen(bad), &r, &err), DLV_EJSON);
    DLV_ASSERT_CONTAINS(err.message, "numberBlock");
    free(bad);
    bad = replace_once(r11, "Europe/Moscow", "../etc/passwd");
    CU_ASSERT_EQUAL(dlv__register_response_decode(bad, strlen(bad), &r, &err), DLV_EJSON);
    DLV_ASSERT_CONTAINS(err.message, "timeZone");
    free(bad), free(reg), free(r11a), free(r11);
    /* A ReserveNumbers result carries the block. */
    const char *cmds =
        "{\"revision\":3,\"results\":[{\"id\":\"e0000000-0000-4000-8000-000000000001\","
        "\"outcome\":\"Applied\",\"revision\":3,\"numberBlock\":{\"first\":901000,"
        "\"last\":901999}}]}";
    dlv__commands_response *c = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__commands_response_decode(cmds, strlen(cmds), &c, &err), DLV_OK);
    CU_ASSERT_TRUE(c->results[0].has_number_block);
    CU_ASSERT_EQUAL(c->results[0].number_block.first, 901000);
    dlv__commands_response_free(c);
}

int main(void)
{
    static const dlv_test_case cases[] = {
        DLV_TEST(decimals_are_exact),
        DLV_TEST(money_arithmetic_and_printing),
        DLV_TEST(rfc3339_times),
        DLV_TEST(decode_courier_order),
        DLV_TEST(decode_pickup_and_anonymous),
        DLV_TEST(round_trips),
        DLV_TEST(writer_refuses_broken_documents),
        DLV_TEST(draft_orders),
        DLV_TEST(settings_codec),
        DLV_TEST(server_responses),
        DLV_TEST(v11_order_fields),
        DLV_TEST(tolerant_reading),
        DLV_TEST(v11_responses_and_settings),
        DLV_TEST_END,
    };
    return dlv_test_main("order_codec", cases);
}
