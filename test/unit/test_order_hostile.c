/* Malformed and hostile ORDER documents, each with its expected error; allocation failures. */
#include "order/decide.h"
#include "order/notify.h"
#include "test_order_common.h"

static char *base;

typedef struct hostile {
    const char *from, *to; /* edit of the valid courier order; from NULL: `to` is the document */
    int code;
    const char *message; /* expected substring */
} hostile;

static const hostile cases[] = {
    /* wrong types */
    {"\"amount\":1,\"price\":590.00", "\"amount\":\"1\",\"price\":590.00", DLV_EJSON,
     "items[0].amount: not a number"},
    {"\"serviceType\":\"DeliveryByCourier\"", "\"serviceType\":5", DLV_EJSON,
     "serviceType: not a string"},
    {"\"items\":[", "\"items\":{},\"x\":[", DLV_EJSON, "items: not an array"},
    {"\"items\":[{", "\"items\":[7,{", DLV_EJSON, "items[0]: not an object"},
    {"\"customer\":{", "\"customer\":\"Анна\",\"x\":{", DLV_EJSON, "customer: not an object"},
    {"\"splitBetweenPersons\":false", "\"splitBetweenPersons\":\"no\"", DLV_EJSON,
     "splitBetweenPersons: not a boolean"},
    {"\"phone\":\"+79161234567\"", "\"phone\":79161234567", DLV_EJSON, "phone: not a string"},
    {"\"revision\":1040", "\"revision\":[1040]", DLV_EJSON, "revision: not a number"},
    /* numbers */
    {"\"price\":590.00,", "\"price\":590.001,", DLV_EJSON, "items[0].price: more than 2 decimals"},
    {"\"fullSum\":680.00", "\"fullSum\":1e400", DLV_EJSON, "fullSum: out of range"},
    {"\"fullSum\":680.00", "\"fullSum\":99999999999999999999", DLV_EJSON, "fullSum: out of range"},
    {"\"fullSum\":680.00", "\"fullSum\":1000000000000.00", DLV_EJSON, "fullSum: out of range"},
    {"\"discountSum\":0.00", "\"discountSum\":-1.00", DLV_EJSON,
     "discountSum: must not be negative"},
    {"\"amount\":1,\"price\":590.00", "\"amount\":0,\"price\":590.00", DLV_EJSON,
     "items[0].amount: must be positive"},
    {"\"amount\":1,\"price\":590.00", "\"amount\":0.0001,\"price\":590.00", DLV_EJSON,
     "items[0].amount: more than 3 decimals"},
    {"\"number\":100245", "\"number\":1.5", DLV_EJSON, "number: not an integer"},
    {"\"number\":100245", "\"number\":0", DLV_EJSON, "number: must be positive"},
    {"\"number\":100245", "\"number\":0100245", DLV_EJSON, "number: not a number"},
    {"\"fullSum\":680.00", "\"fullSum\":680.", DLV_EJSON, "fullSum: not a number"},
    {"\"fullSum\":680.00", "\"fullSum\":NaN", DLV_EJSON, "invalid JSON"},
    {"\"fullSum\":680.00", "\"fullSum\":Infinity", DLV_EJSON, "invalid JSON"},
    {"\"fullSum\":680.00", "\"fullSum\":-Infinity", DLV_EJSON, "invalid JSON"},
    {"\"fullSum\":680.00", "\"fullSum\":0x2A8", DLV_EJSON, "invalid JSON"},
    {"\"personsCount\":2", "\"personsCount\":-1", DLV_EJSON, "personsCount: must not be negative"},
    {"\"payments\":[{\"paymentTypeId\"", "\"payments\":[{\"sum\":0,\"paymentTypeId\"", DLV_EJSON,
     "payments[0].sum: duplicate key"},
    {"\"amount\":1,\"price\":590.00,\n   \"sum\":590.00",
     "\"amount\":999999.999,\"price\":999999999999.99,\n   \"sum\":590.00", DLV_EJSON,
     "items[0]: price × amount out of range"},
    /* sums */
    {"\"sum\":590.00", "\"sum\":591.00", DLV_EJSON,
     "items[0].sum: 591.00 does not match price × amount (590.00)"},
    {"\"fullSum\":680.00", "\"fullSum\":700.00", DLV_EJSON,
     "fullSum: 700.00 does not match the items (680.00)"},
    {"\"resultSum\":680.00", "\"resultSum\":600.00", DLV_EJSON,
     "resultSum: 600.00 is not fullSum - discountSum (680.00)"},
    {"\"discountSum\":0.00", "\"discountSum\":700.00", DLV_EJSON,
     "discountSum: 700.00 exceeds fullSum (680.00)"},
    {"\"kind\":\"Cash\"", "\"kind\":\"Card\"", DLV_EJSON,
     "payments: non-cash payments (700.00) exceed resultSum (680.00)"},
    {"\"kind\":\"Cash\"", "\"kind\":\"Bitcoin\"", DLV_EJSON,
     "payments[0].kind: unknown value \"Bitcoin\""},
    {"\"sum\":700.00", "\"sum\":0", DLV_EJSON, "payments[0].sum: must be positive"},
    /* missing and invalid fields */
    {"\"id\":\"6f0c8e5a-3b7d-4c2e-9a1f-0d2b4c6e8a10\",", "", DLV_EJSON, "id: missing"},
    {"\"id\":\"6f0c8e5a-3b7d-4c2e-9a1f-0d2b4c6e8a10\"", "\"id\":\"6f0c8e5a\"", DLV_EJSON,
     "id: not a UUID"},
    {"\"status\":\"Unconfirmed\"", "\"status\":\"Teleported\"", DLV_EJSON,
     "status: unknown value \"Teleported\""},
    {"\"completeBefore\":\"2026-11-29T13:30:00Z\"", "\"completeBefore\":\"yesterday\"", DLV_EJSON,
     "completeBefore: not an RFC 3339 date-time"},
    {"\"completeBefore\":\"2026-11-29T13:30:00Z\"", "\"completeBefore\":\"2026-11-29T13:30:00\"",
     DLV_EJSON, "completeBefore: missing time zone offset"},
    {"\"completeBefore\":\"2026-11-29T13:30:00Z\"", "\"completeBefore\":\"2026-02-30T13:30:00Z\"",
     DLV_EJSON, "completeBefore: date or time out of range"},
    {"\"whenCreated\":\"2026-11-29T12:31:07Z\"", "\"whenCreated\":\"2026-11-29T12:31:07+25:00\"",
     DLV_EJSON, "whenCreated: time zone offset out of range"},
    {"\"items\":[", "\"itemz\":[", DLV_EJSON, "items: missing"},
    {"\"items\":[", "\"items\":[],\"x\":[", DLV_EJSON, "items: must not be empty"},
    {"{\"productId\":\"2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f\",\"name\":\"Двойной сыр\",",
     "{\"productId\":\"2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f\",", DLV_EJSON,
     "items[0].modifiers[0].name: missing"},
    {"\"name\":\"Анна\"", "\"name\":\"\"", DLV_EJSON, "customer.name: must not be empty"},
    {"\"customer\":{", "\"customez\":{", DLV_EJSON, "customer: missing"},
    {"\"address\":{\"city\":\"Москва\",\"street\":\"Тверская\",\"house\":\"7\",\"building\":\"2\","
     "\"flat\":\"15\",\"entrance\":\"3\",\n   \"floor\":\"4\",\"doorphone\":\"15К\",\"region\":\"в "
     "пределах МКАД\",\"comment\":\"позвонить за 10 минут\"}",
     "\"address\":null", DLV_EJSON, "address: must not be null for a courier order"},
    {"\"street\":\"Тверская\",", "", DLV_EJSON, "address.street: missing"},
    {"\"phone\":\"+79161234567\"", "\"phone\":null", DLV_EJSON,
     "phone: must not be null when the order has a customer"},
    /* Protocol 1.1: a cause id is any non-empty string. */
    {"\"cancelInfo\":null", "\"cancelInfo\":{\"cause\":{\"id\":\"\"}}", DLV_EJSON,
     "cancelInfo.cause.id: must not be empty"},
    {"\"courier\":null", "\"courier\":{\"id\":\"" COURIER_OK "\"}", DLV_EJSON,
     "courier.name: missing"},
    {"\"problem\":{\"hasProblem\":false,", "\"problem\":{", DLV_EJSON,
     "problem.hasProblem: missing"},
    {"\"resultSum\":680.00", "\"resultSum\":680.00,\"resultSum\":0.00", DLV_EJSON,
     "resultSum: duplicate key"},
    /* invalid text */
    {"\"name\":\"Анна\"", "\"name\":\"\xC3\x28\"", DLV_EJSON, "customer.name: invalid UTF-8"},
    {"\"comment\":\"без лука\"", "\"comment\":\"\xC0\xAF\"", DLV_EJSON, "comment: invalid UTF-8"},
    {"\"comment\":\"без лука\"", "\"comment\":\"\xED\xA0\x80\"", DLV_EJSON,
     "comment: invalid UTF-8"},
    {"\"comment\":\"без лука\"", "\"comment\":\"\xF4\x90\x80\x80\"", DLV_EJSON,
     "comment: invalid UTF-8"},
    {"\"comment\":\"без лука\"", "\"comment\":\"\xE2\x82\"", DLV_EJSON, "comment: invalid UTF-8"},
    {"\"comment\":\"без лука\"", "\"comment\":\"a\\u0000b\"", DLV_EJSON, "\\u0000 in a string"},
    {"\"comment\":\"без лука\"", "\"comment\":\"a\tb\"", DLV_EJSON,
     "control character in a string"},
    {"\"comment\":\"без лука\"", "\"comment\":\"\\ud800\"", DLV_EJSON, "invalid JSON"},
    /* structure */
    {NULL, "[1]", DLV_EJSON, "not an object"},
    {NULL, "", DLV_EJSON, "invalid"},
    {NULL, "{\"id\":", DLV_EJSON, "invalid"},
    {NULL, "null", DLV_EJSON, "not an object"},
    {"\"operator\":{\"name\":\"Оператор 1\"}}", "\"operator\":{\"name\":\"Оператор 1\"}} x",
     DLV_EJSON, "trailing data"},
    {"\"operator\":{\"name\":\"Оператор 1\"}}", "\"operator\":{\"name\":\"Оператор 1\"}", DLV_EJSON,
     "invalid"},
};

static void run_case(const char *doc, size_t len, int code, const char *message)
{
    dlv__order *o = (dlv__order *)1;
    dlv_error err = {0};
    int rc = dlv__order_from_json(doc, len, 0, &o, &err);
    if (rc != code || !dlv_test_contains(err.message, message))
        fprintf(stderr, "\n  expected %s \"%s\", got %s \"%s\"\n", dlv_err_name(code), message,
                dlv_err_name(rc), err.message);
    CU_ASSERT_EQUAL(rc, code);
    CU_ASSERT_PTR_NULL(o);
    DLV_ASSERT_CONTAINS(err.message, message);
}

static void hostile_documents(void)
{
    CU_ASSERT_TRUE(DLV__ARRAY_SIZE(cases) >= 30);
    for (size_t i = 0; i < DLV__ARRAY_SIZE(cases); i++) {
        char *doc =
            cases[i].from ? replace_once(base, cases[i].from, cases[i].to) : strdup(cases[i].to);
        run_case(doc, strlen(doc), cases[i].code, cases[i].message);
        free(doc);
    }
}

static void hostile_sizes_and_nesting(void)
{
    /* 100 nested arrays in an unknown field. */
    char deep[300] = "\"futureField\":";
    for (int i = 0; i < 100; i++)
        strcat(deep, "[");
    for (int i = 0; i < 100; i++)
        strcat(deep, "]");
    strcat(deep, ",\"fullSum\"");
    char *doc = replace_once(base, "\"fullSum\"", deep);
    run_case(doc, strlen(doc), DLV_EJSON, "nested deeper than 64 levels");
    free(doc);

    /* A 9000-byte comment. */
    char *long_comment = malloc(9100);
    strcpy(long_comment, "\"comment\":\"");
    memset(long_comment + 11, 'x', 9000);
    strcpy(long_comment + 9011, "\"");
    doc = replace_once(base, "\"comment\":\"без лука\"", long_comment);
    run_case(doc, strlen(doc), DLV_EJSON, "comment: longer than 8192 bytes");
    free(doc);
    free(long_comment);

    /* 1001 items. */
    const char *item = "{\"positionId\":\"1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d\",\"productId\":"
                       "\"9f8e7d6c-5b4a-4c3d-9e2f-1a0b9c8d7e6f\",\"name\":\"x\",\"amount\":1,"
                       "\"price\":1,\"sum\":1},";
    size_t n = 1001 * strlen(item) + 32;
    char *items = malloc(n);
    strcpy(items, "\"items\":[");
    for (int i = 0; i < 1001; i++)
        strcat(items, item);
    doc = replace_once(base, "\"items\":[", items);
    run_case(doc, strlen(doc), DLV_ETOOLARGE, "items: more than 1000 elements");
    free(doc);
    free(items);

    /* Over 1 MiB of whitespace. */
    size_t big = DLV__ORDER_JSON_MAX + 10;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[big] = '\0';
    huge[0] = '{';
    huge[big - 1] = '}';
    run_case(huge, big, DLV_ETOOLARGE, "exceeds");
    free(huge);

    /* A NUL byte inside the document's length. */
    size_t len = strlen(base);
    char *nul = strdup(base);
    nul[10] = '\0';
    run_case(nul, len, DLV_EJSON, "NUL byte at offset 10");
    free(nul);
}

/* Runs `fn` with the N-th allocation failing, for every N until it succeeds: each failure must
 * be a clean error and leave nothing allocated (valgrind checks the latter). */
static void every_allocation_fails(const char *what, int (*fn)(void *), void *arg)
{
    int rc = -1;
    long n;
    for (n = 0; n < 100000; n++) {
        dlv__alloc_fail_after(n);
        rc = fn(arg);
        dlv__alloc_fail_after(-1);
        if (rc == DLV_OK)
            break;
        if (rc != DLV_ENOMEM && rc != DLV_EJSON)
            fprintf(stderr, "\n  %s: allocation %ld failed as %s\n", what, n, dlv_err_name(rc));
        CU_ASSERT_TRUE(rc == DLV_ENOMEM || rc == DLV_EJSON);
    }
    CU_ASSERT_EQUAL(rc, DLV_OK);
    if (n < 3)
        fprintf(stderr, "\n  %s: succeeded after only %ld failures\n", what, n);
    CU_ASSERT_TRUE(n >= 3); /* the loop really exercised failures */
}

static int decode_order(void *arg)
{
    dlv__order *o;
    int rc = dlv__order_from_json(arg, strlen(arg), 0, &o, NULL);
    dlv__order_free(o);
    return rc;
}

static int decode_orders_response(void *arg)
{
    dlv__orders_response *r;
    int rc = dlv__orders_response_decode(arg, strlen(arg), &r, NULL);
    dlv__orders_response_free(r);
    return rc;
}

static int decode_register(void *arg)
{
    dlv__register_response *r;
    int rc = dlv__register_response_decode(arg, strlen(arg), &r, NULL);
    dlv__register_response_free(r);
    return rc;
}

static int encode_and_clone(void *arg)
{
    dlv__order *copy = NULL;
    char *text = dlv__order_to_json(arg);
    char *settings_text = NULL;
    int rc = text ? dlv__order_clone(arg, &copy) : DLV_ENOMEM;
    free(text);
    dlv__order_free(copy);
    if (rc == DLV_OK) {
        dlv__settings defaults;
        dlv__settings_defaults(&defaults);
        settings_text = dlv__settings_to_json(&defaults);
        rc = settings_text ? DLV_OK : DLV_ENOMEM;
        free(settings_text);
    }
    return rc;
}

static int template_roundtrip(void *arg)
{
    const char *text = "Заказ №@Model.Number на @Model.Order.ResultSum: @Model.Order.Items. "
                       "@Model.Customer.Name, @Model.Address.AddressInStringView @@ "
                       "@(Model.ExpectedDeliverTime)";
    dlv__template *t;
    char *out = NULL;
    int rc = dlv__template_compile(text, strlen(text), &t, NULL);
    if (!rc)
        rc = dlv__template_render(t, arg, NULL, &out, NULL);
    free(out);
    dlv__template_free(t);
    return rc;
}

typedef struct apply_args {
    const dlv__order *order;
    const dlv__settings *settings;
    dlv__op_request req;
} apply_args;

static int apply_op(void *arg)
{
    apply_args *a = arg;
    dlv__order *o;
    int rc = dlv__order_clone(a->order, &o);
    if (rc)
        return rc;
    char *before = dlv__order_to_json(o);
    rc = before ? dlv__op_apply(o, a->settings, &a->req, 1795955000, NULL) : DLV_ENOMEM;
    if (rc == DLV_ENOMEM && before) {
        /* A failed apply leaves the order exactly as it was. */
        char *after = dlv__order_to_json(o);
        if (after)
            CU_ASSERT_STRING_EQUAL(before, after);
        free(after);
    }
    free(before);
    dlv__order_free(o);
    return rc;
}

static void allocation_failures(void)
{
    dlv__alloc_hook_libraries();
    every_allocation_fails("order", decode_order, base);
    char *a = fixture("order_pickup.json"), *s = fixture("settings.json");
    char *resp = malloc(strlen(base) + strlen(a) + strlen(s) + 200);
    sprintf(resp,
            "{\"revision\":1,\"orders\":[%s,%s],\"removedOrderIds\":"
            "[\"ffffffff-0000-4000-8000-000000000001\"],\"settings\":%s}",
            base, a, s);
    every_allocation_fails("orders response", decode_orders_response, resp);
    char *reg = fixture("register_response.json");
    every_allocation_fails("register response", decode_register, reg);
    dlv__order *o = load_order("order_courier.json", 0);
    dlv__settings *settings = load_settings();
    every_allocation_fails("encode", encode_and_clone, o);
    every_allocation_fails("template", template_roundtrip, o);
    dlv__payment pay = {
        .payment_type_id = PAYTYPE_ID, .name = "Карта", .kind = DLV__PAYMENT_CARD, .sum = 100};
    apply_args args[] = {
        {o, settings, dlv__op_request_make(DLV__OP_ASSIGN_COURIER, DLV_RIGHT_D_MD)},
        {o, settings, dlv__op_request_make(DLV__OP_CANCEL, DLV_RIGHT_D_CAD)},
        {o, settings, dlv__op_request_make(DLV__OP_TAKE_PAYMENT, DLV_RIGHT_F_CASH)},
    };
    args[0].req.courier_id = COURIER_OK;
    args[1].req.cancel_cause_id = CAUSE_ID;
    args[1].req.comment = "ошибка";
    args[2].req.payments = &pay;
    args[2].req.payment_count = 1;
    for (size_t i = 0; i < DLV__ARRAY_SIZE(args); i++)
        every_allocation_fails("apply", apply_op, &args[i]);
    dlv__order_free(o);
    dlv__settings_free(settings);
    free(a);
    free(s);
    free(resp);
    free(reg);
}

/* The prescan stops a word at a time: a bad byte is reported at its own offset wherever it
 * falls in the eight-byte words of a long string, and one just past them is still seen. */
static void prescan_offsets(void)
{
    static const char *const bad[] = {"\t", "\x01", "\\u0000"};
    static const char *const what[] = {"control character in a string",
                                       "control character in a string", "\\u0000 in a string"};
    for (size_t b = 0; b < DLV__ARRAY_SIZE(bad); b++) {
        for (size_t at = 0; at < 40; at++) {
            char doc[128];
            /* {"k":"<at ASCII or Cyrillic bytes><bad>xyz"} */
            size_t n = (size_t)snprintf(doc, sizeof doc, "{\"k\":\"");
            for (size_t i = 0; i < at; i++)
                doc[n++] = at % 2 ? 'a' : (char)(i % 2 ? 0xB0 : 0xD0);
            n += (size_t)snprintf(doc + n, sizeof doc - n, "%sxyz\"}", bad[b]);
            cJSON *root = NULL;
            dlv_error err = {0};
            CU_ASSERT_EQUAL(dlv__json_parse(doc, n, 1024, &root, &err), DLV_EJSON);
            char expect[96];
            snprintf(expect, sizeof expect, "%s at offset %zu", what[b], 6 + at);
            DLV_ASSERT_CONTAINS(err.message, expect);
            CU_ASSERT_PTR_NULL(root);
        }
    }
    /* Quotes and escapes inside long strings do not end them early. */
    const char *doc = "{\"a\":\"0123456789\\\"0123456789\\\\\",\"b\":[1.50,-2e3,{\"c\":0.10}]}";
    cJSON *root = NULL;
    dlv_error err = {0};
    CU_ASSERT_EQUAL_FATAL(dlv__json_parse(doc, strlen(doc), 1024, &root, &err), DLV_OK);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(root, "a")->valuestring, "0123456789\"0123456789\\");
    const cJSON *b = cJSON_GetObjectItem(root, "b");
    CU_ASSERT_STRING_EQUAL(cJSON_GetArrayItem(b, 0)->valuestring, "1.50");
    CU_ASSERT_STRING_EQUAL(cJSON_GetArrayItem(b, 1)->valuestring, "-2e3");
    cJSON *c = cJSON_Duplicate(cJSON_GetObjectItem(cJSON_GetArrayItem(b, 2), "c"), true);
    cJSON_Delete(root);
    /* A duplicate owns its text. */
    CU_ASSERT_STRING_EQUAL(c->valuestring, "0.10");
    cJSON_Delete(c);
    /* A document that is one number: the root's text is its own. */
    CU_ASSERT_EQUAL_FATAL(dlv__json_parse(" 150.10 ", 8, 1024, &root, &err), DLV_OK);
    CU_ASSERT_STRING_EQUAL(root->valuestring, "150.10");
    cJSON_Delete(root);
}

/* UTF-8 checks that skip ASCII words and two-byte sequences still find a bad byte anywhere. */
static void utf8_by_words(void)
{
    static const char *const bad[] = {"\xC3\x28", "\xC0\xAF",         "\xD0",    "\xED\xA0\x80",
                                      "\x80",     "\xF4\x90\x80\x80", "\xE2\x82"};
    for (size_t b = 0; b < DLV__ARRAY_SIZE(bad); b++) {
        for (size_t at = 0; at < 20; at++) {
            char s[64];
            size_t n = 0;
            for (size_t i = 0; i < at; i++)
                n += (size_t)snprintf(s + n, sizeof s - n, "%s", i % 3 == 2 ? "Ж" : "a");
            n += (size_t)snprintf(s + n, sizeof s - n, "%s", bad[b]);
            CU_ASSERT_FALSE(dlv__utf8_valid(s, n));
            n += (size_t)snprintf(s + n, sizeof s - n, "abcdefghij");
            CU_ASSERT_FALSE(dlv__utf8_valid(s, n));
        }
    }
    const char *good = "abcdefghЖЖЖЖabcdefgh€𝄞Жabcdefghijkl";
    CU_ASSERT_TRUE(dlv__utf8_valid(good, strlen(good)));
}

/* Members read in one walk: any order of the keys reads the same order, and a path longer than
 * the buffer is cut where it always was. */
static void members_in_any_order(void)
{
    dlv__order *a = NULL, *b = NULL;
    dlv_error err = {0};
    CU_ASSERT_EQUAL_FATAL(dlv__order_from_json(base, strlen(base), 0, &a, &err), DLV_OK);
    cJSON *tree = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__json_parse(base, strlen(base), 1 << 20, &tree, &err), DLV_OK);
    cJSON *reversed = cJSON_CreateObject();
    while (tree->child) {
        cJSON *last = tree->child;
        while (last->next)
            last = last->next;
        /* Copied, not moved: a number node's text lives in its tree's block (json.h). */
        cJSON *item = cJSON_DetachItemViaPointer(tree, last);
        cJSON_AddItemToObject(reversed, item->string, cJSON_Duplicate(item, true));
        cJSON_Delete(item);
    }
    cJSON_Delete(tree);
    CU_ASSERT_EQUAL_FATAL(dlv__order_from_cjson(reversed, 0, NULL, &b, &err), DLV_OK);
    char *ta = dlv__order_to_json(a), *tb = dlv__order_to_json(b);
    CU_ASSERT_STRING_EQUAL(ta, tb);
    dlv__free(ta);
    dlv__free(tb);
    dlv__order_free(b);
    /* Taking the strings leaves the order whole after the tree is gone, and the id in place. */
    CU_ASSERT_EQUAL_FATAL(dlv__order_from_cjson(reversed, DLV__ORDER_TAKE_STRINGS, NULL, &b, &err),
                          DLV_OK);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(reversed, "id")->valuestring, a->id);
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(reversed, "phone")->valuestring);
    cJSON_Delete(reversed);
    ta = dlv__order_to_json(a);
    tb = dlv__order_to_json(b);
    CU_ASSERT_STRING_EQUAL(ta, tb);
    dlv__free(ta);
    dlv__free(tb);
    dlv__order_free(b);
    dlv__order_free(a);

    /* 250 bytes of path, then "items[0].amount": cut at 255 bytes as before. */
    char root[251];
    memset(root, 'r', 250);
    root[250] = '\0';
    char *doc =
        replace_once(base, "\"amount\":1,\"price\":590.00", "\"amount\":\"1\",\"price\":590.00");
    CU_ASSERT_EQUAL_FATAL(dlv__json_parse(doc, strlen(doc), 1 << 20, &tree, &err), DLV_OK);
    dlv__jpath path;
    dlv__jpath_init(&path, root);
    CU_ASSERT_EQUAL(dlv__order_from_cjson(tree, 0, &path, &b, &err), DLV_EJSON);
    char expect[300];
    snprintf(expect, sizeof expect, "%s.item: not a number", root);
    CU_ASSERT_STRING_EQUAL(err.message, expect);
    CU_ASSERT_EQUAL(path.len, 250);
    CU_ASSERT_PTR_NULL(path.leaf);
    /* A leaf named in full when it fits. */
    dlv__jpath_init(&path, "orders[3]");
    CU_ASSERT_EQUAL(dlv__order_from_cjson(tree, 0, &path, &b, &err), DLV_EJSON);
    CU_ASSERT_STRING_EQUAL(err.message, "orders[3].items[0].amount: not a number");
    cJSON_Delete(tree);
    free(doc);
}

int main(void)
{
    base = fixture("order_courier.json");
    if (!base)
        return 1;
    static const dlv_test_case tests[] = {
        DLV_TEST(hostile_documents),
        DLV_TEST(hostile_sizes_and_nesting),
        DLV_TEST(allocation_failures),
        DLV_TEST(prescan_offsets),
        DLV_TEST(utf8_by_words),
        DLV_TEST(members_in_any_order),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("order_hostile", tests);
    free(base);
    return rc;
}
