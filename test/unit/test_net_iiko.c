/* The iikoCloud backend's mapping (lib/net/iiko.h): orders in the sandbox's shapes
 * (examples/iikocloud/data.c) → dlv__order, local times, dictionaries → settings, commands →
 * endpoint + body, and the reconciliation's "is the effect there" check. */
#include <stdlib.h>
#include <string.h>

#include "net/iiko.h"
#include "testlib.h"

#define GROUP "8b6f3e1a-2c4d-4e5f-9a0b-1c2d3e4f5a6b"
#define ORDER_ID "0a1b2c3d-0000-4000-8000-000000000001"

/* A by_revision answer: one order of ours (pizza with a modifier ×1, rolls ×2, a cash payment,
 * a courier, a discount), one of another group, one still being created. */
static const char *answer =
    "{\"correlationId\":\"c\",\"maxRevision\":4294967301,\"ordersByOrganizations\":[{"
    "\"organizationId\":\"7bc05553-4b68-44e8-b7bc-37be63c6d9e9\",\"orders\":["
    "{\"id\":\"" ORDER_ID "\",\"posId\":null,\"externalNumber\":\"EXT-1\",\"organizationId\":\"o\","
    "\"timestamp\":1767225600123,\"creationStatus\":\"Success\",\"errorInfo\":null,\"order\":{"
    "\"customer\":{\"type\":\"regular\",\"id\":\"1f1f1f1f-0000-4000-8000-000000000001\","
    "\"name\":\"Анна\",\"surname\":\"Смирнова\",\"comment\":null,\"inBlacklist\":false},"
    "\"phone\":\"+79161234567\",\"deliveryPoint\":{\"address\":{\"street\":{\"id\":\"s\","
    "\"name\":\"Арбат\",\"city\":{\"id\":\"c\",\"name\":\"Москва\"}},\"house\":\"5\","
    "\"building\":null,\"flat\":\"12\",\"entrance\":\"1\",\"floor\":\"3\",\"doorphone\":null,"
    "\"region\":{\"id\":\"r\",\"name\":\"Центральный\"}},\"comment\":\"домофон\"},"
    "\"status\":\"OnWay\",\"cancelInfo\":null,\"courierInfo\":{\"courier\":{\"id\":"
    "\"5c0e7a2b-0001-4e11-8f3a-c0c0c0c00001\",\"name\":\"Сергей Иванов\",\"phone\":null},"
    "\"isCourierSelectedManually\":true},\"completeBefore\":\"2026-01-01 13:30:00.000\","
    "\"whenCreated\":\"2026-01-01 12:30:00.250\",\"whenConfirmed\":\"2026-01-01 12:31:00.000\","
    "\"whenSended\":\"2026-01-01 13:00:00.000\",\"whenDelivered\":null,\"comment\":\"Позвонить\","
    "\"problem\":{\"hasProblem\":true,\"description\":\"опаздывает\"},\"operator\":null,"
    "\"number\":17,\"sourceKey\":\"sandbox\",\"guestsInfo\":{\"count\":2,"
    "\"splitBetweenPersons\":false},\"items\":[{\"type\":\"Product\",\"product\":{\"id\":"
    "\"6f1c0d2e-0001-4b3a-9c8d-9f0d00000001\",\"name\":\"Пицца Маргарита\"},\"modifiers\":[{"
    "\"product\":{\"id\":\"6f1c0d2e-0101-4b3a-9c8d-9f0d00000101\",\"name\":\"Сырный бортик\"},"
    "\"amount\":1,\"price\":90,\"resultSum\":90,\"deleted\":null,\"positionId\":\"p\"}],"
    "\"price\":590,\"cost\":590,\"positionId\":\"aa000000-0000-4000-8000-000000000001\","
    "\"resultSum\":680,\"deleted\":null,\"amount\":1,\"comment\":null},"
    "{\"type\":\"Product\",\"product\":{\"id\":\"6f1c0d2e-0002-4b3a-9c8d-9f0d00000002\","
    "\"name\":\"Ролл Филадельфия\"},\"modifiers\":[],\"price\":450.5,\"cost\":901,"
    "\"positionId\":\"aa000000-0000-4000-8000-000000000002\",\"resultSum\":901,\"deleted\":null,"
    "\"amount\":2,\"comment\":\"без васаби\"},"
    "{\"type\":\"Product\",\"product\":{\"id\":\"6f1c0d2e-0003-4b3a-9c8d-9f0d00000003\","
    "\"name\":\"Удалён\"},\"modifiers\":[],\"price\":100,\"positionId\":"
    "\"aa000000-0000-4000-8000-000000000003\",\"resultSum\":100,\"deleted\":{\"x\":1},"
    "\"amount\":1}],\"sum\":1581,\"payments\":[{\"paymentType\":{\"id\":"
    "\"09322f46-578a-d210-add7-eec222a08871\",\"name\":\"Наличные\",\"kind\":\"Cash\"},"
    "\"sum\":1500,\"isPreliminary\":false,\"isExternal\":false,\"isProcessedExternally\":false,"
    "\"isPrepay\":false}],\"discounts\":[{\"sum\":81}],\"orderType\":{\"id\":\"t\",\"name\":\"d\","
    "\"orderServiceType\":\"DeliveryByCourier\"},\"terminalGroupId\":\"" GROUP "\"}},"
    "{\"id\":\"0a1b2c3d-0000-4000-8000-000000000002\",\"timestamp\":1,\"creationStatus\":"
    "\"Success\",\"order\":{\"status\":\"Unconfirmed\",\"terminalGroupId\":"
    "\"9c7f4e2b-3d5e-4f60-8b1c-2d3e4f5a6b7c\"}},"
    "{\"id\":\"0a1b2c3d-0000-4000-8000-000000000003\",\"timestamp\":1,\"creationStatus\":"
    "\"InProgress\",\"order\":null}]}]}";

static int64_t plus3(void *arg, int64_t t, bool to_utc)
{
    (void)arg;
    return to_utc ? t - 3 * 3600 : t + 3 * 3600;
}

static const dlv__iiko_clock moscow = {plus3, NULL};

static void times(void)
{
    dlv__time t = 0;
    CU_ASSERT_TRUE(dlv__iiko_time_parse("2026-01-01 12:30:00.250", &moscow, &t));
    char text[21];
    dlv__time_format(t, text);
    CU_ASSERT_STRING_EQUAL(text, "2026-01-01T09:30:00Z");
    CU_ASSERT_TRUE(dlv__iiko_time_parse("2026-01-01 12:30:00", NULL, &t));
    dlv__time_format(t, text);
    CU_ASSERT_STRING_EQUAL(text, "2026-01-01T12:30:00Z");
    char local[32];
    dlv__iiko_time_format(t, &moscow, local);
    CU_ASSERT_STRING_EQUAL(local, "2026-01-01 15:30:00.000");
    CU_ASSERT_FALSE(dlv__iiko_time_parse("2026-01-01T12:30:00Z", NULL, &t));
    CU_ASSERT_FALSE(dlv__iiko_time_parse("2026-13-01 12:30:00", NULL, &t));
    CU_ASSERT_FALSE(dlv__iiko_time_parse("2026-01-01 12:30:00.", NULL, &t));
    CU_ASSERT_FALSE(dlv__iiko_time_parse(NULL, NULL, &t));
}

static void orders_answer(void)
{
    dlv__orders_response *r = NULL;
    dlv_error err = {0};
    CU_ASSERT_EQUAL_FATAL(dlv__iiko_orders_decode(answer, strlen(answer), GROUP, &moscow, &r, &err),
                          DLV_OK);
    CU_ASSERT_EQUAL(r->revision, INT64_C(4294967301)); /* 64-bit */
    CU_ASSERT_EQUAL_FATAL(r->order_count, 1);
    CU_ASSERT_EQUAL(r->invalid_count, 0);
    CU_ASSERT_EQUAL_FATAL(r->removed_count, 1); /* the other group's */
    CU_ASSERT_STRING_EQUAL(r->removed_ids[0], "0a1b2c3d-0000-4000-8000-000000000002");
    const dlv__order *o = r->orders[0];
    CU_ASSERT_STRING_EQUAL(o->id, ORDER_ID);
    CU_ASSERT_EQUAL(o->revision, INT64_C(1767225600123));
    CU_ASSERT_EQUAL(o->number, 17);
    CU_ASSERT_STRING_EQUAL(o->external_number, "EXT-1");
    CU_ASSERT_EQUAL(o->status, DLV_STATUS_ON_WAY);
    CU_ASSERT_EQUAL(o->service_type, DLV_SERVICE_COURIER);
    char text[21];
    dlv__time_format(o->complete_before, text);
    CU_ASSERT_STRING_EQUAL(text, "2026-01-01T10:30:00Z");
    dlv__time_format(o->when_sent, text);
    CU_ASSERT_STRING_EQUAL(text, "2026-01-01T10:00:00Z");
    CU_ASSERT_EQUAL(o->actual_delivery_time, DLV__TIME_NONE);
    CU_ASSERT_STRING_EQUAL(o->customer->name, "Анна");
    CU_ASSERT_STRING_EQUAL(o->address->street, "Арбат");
    CU_ASSERT_STRING_EQUAL(o->address->city, "Москва");
    CU_ASSERT_STRING_EQUAL(o->address->region, "Центральный");
    CU_ASSERT_STRING_EQUAL(o->address->comment, "домофон");
    CU_ASSERT_EQUAL(o->persons_count, 2);
    CU_ASSERT_EQUAL_FATAL(o->item_count, 2); /* the deleted one is left out */
    CU_ASSERT_EQUAL(o->items[0].sum, 59000);
    CU_ASSERT_EQUAL(o->items[0].modifier_count, 1);
    CU_ASSERT_EQUAL(o->items[0].modifiers[0].price, 9000);
    CU_ASSERT_EQUAL(o->items[1].price, 45050);
    CU_ASSERT_EQUAL(o->items[1].amount, 2000);
    CU_ASSERT_EQUAL(o->items[1].sum, 90100);
    CU_ASSERT_EQUAL(o->full_sum, 158100);
    CU_ASSERT_EQUAL(o->discount_sum, 8100);
    CU_ASSERT_EQUAL(o->result_sum, 150000);
    CU_ASSERT_EQUAL_FATAL(o->payment_count, 1);
    CU_ASSERT_EQUAL(o->payments[0].kind, DLV__PAYMENT_CASH);
    CU_ASSERT_EQUAL(o->payments[0].sum, 150000);
    CU_ASSERT_STRING_EQUAL(o->courier->id, "5c0e7a2b-0001-4e11-8f3a-c0c0c0c00001");
    CU_ASSERT_TRUE(o->has_problem);
    CU_ASSERT_STRING_EQUAL(o->problem_description, "опаздывает");
    dlv__orders_response_free(r);
}

static void invalid_order_is_left_out(void)
{
    const char *bad = "{\"maxRevision\":7,\"ordersByOrganizations\":[{\"orders\":[{\"id\":"
                      "\"" ORDER_ID "\",\"timestamp\":1,\"creationStatus\":\"Success\",\"order\":"
                      "{\"status\":\"Flying\",\"terminalGroupId\":\"" GROUP "\"}}]}]}";
    dlv__orders_response *r = NULL;
    dlv_error err = {0};
    CU_ASSERT_EQUAL_FATAL(dlv__iiko_orders_decode(bad, strlen(bad), GROUP, NULL, &r, &err), DLV_OK);
    CU_ASSERT_EQUAL(r->order_count, 0);
    CU_ASSERT_EQUAL(r->invalid_count, 1);
    DLV_ASSERT_CONTAINS(r->invalid[0].message, ORDER_ID);
    dlv__orders_response_free(r);
    CU_ASSERT_NOT_EQUAL(dlv__iiko_orders_decode("{}", 2, GROUP, NULL, &r, &err), DLV_OK);
}

static void settings_from_dictionaries(void)
{
    cJSON *causes = cJSON_Parse("{\"cancelCauses\":[{\"id\":\"3a0f6c1e-0001-4c2b-9d1e-"
                                "5ab1c0ca0001\",\"name\":\"Клиент отказался\",\"isDeleted\":false},"
                                "{\"id\":\"3a0f6c1e-0002-4c2b-9d1e-5ab1c0ca0002\",\"name\":\"x\","
                                "\"isDeleted\":true}]}");
    cJSON *couriers = cJSON_Parse(
        "{\"employees\":[{\"organizationId\":\"o\",\"items\":[{\"id\":\"5c0e7a2b-0001-4e11-8f3a-"
        "c0c0c0c00001\",\"firstName\":\"Сергей\",\"lastName\":\"Иванов\",\"displayName\":"
        "\"Сергей Иванов\",\"isDeleted\":false}]}]}");
    cJSON *cities =
        cJSON_Parse("{\"cities\":[{\"organizationId\":\"o\",\"items\":[{\"id\":"
                    "\"b090de0b-8550-6e17-70b2-bbba152bcbd3\",\"name\":\"Москва\"}]}]}");
    dlv__settings *s = dlv__iiko_settings(causes, couriers, cities, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->cancel_cause_count, 1);
    CU_ASSERT_EQUAL_FATAL(s->courier_count, 1);
    CU_ASSERT_STRING_EQUAL(s->couriers[0].name, "Сергей Иванов");
    CU_ASSERT_TRUE(s->couriers[0].can_be_courier);
    CU_ASSERT_EQUAL(s->city_count, 1);
    CU_ASSERT_STRING_EQUAL(s->default_city_id, "b090de0b-8550-6e17-70b2-bbba152bcbd3");
    CU_ASSERT_EQUAL(s->region_count, 0);
    dlv__settings_free(s);
    cJSON_Delete(causes);
    cJSON_Delete(couriers);
    cJSON_Delete(cities);
}

static dlv__iiko_plan plan_of(const char *command)
{
    dlv__iiko_plan p;
    dlv_error err = {0};
    CU_ASSERT_EQUAL(dlv__iiko_plan_command(command, "org", GROUP, &moscow, &p, &err), DLV_OK);
    return p;
}

static char *body_text(const dlv__iiko_plan *p)
{
    return cJSON_PrintUnformatted(p->body);
}

#define CMD(type, extra)                                                                           \
    "{\"id\":\"c0000000-0000-4000-8000-000000000001\",\"type\":\"" type "\",\"orderId\":"          \
    "\"" ORDER_ID "\",\"at\":\"2026-01-01T09:00:00Z\"" extra "}"

static void command_endpoints(void)
{
    dlv__iiko_plan p = plan_of(CMD("ChangeStatus", ",\"status\":\"WaitCooking\","
                                                   "\"expectedStatus\":\"Unconfirmed\""));
    CU_ASSERT_EQUAL(p.action, DLV__IIKO_SEND);
    CU_ASSERT_STRING_EQUAL(p.endpoint, "deliveries/confirm");
    char *b = body_text(&p);
    CU_ASSERT_STRING_EQUAL(b, "{\"organizationId\":\"org\",\"orderId\":\"" ORDER_ID "\"}");
    free(b);
    dlv__iiko_plan_free(&p);

    p = plan_of(CMD("ChangeStatus", ",\"status\":\"OnWay\",\"expectedStatus\":\"Waiting\""));
    CU_ASSERT_STRING_EQUAL(p.endpoint, "deliveries/update_order_delivery_status");
    b = body_text(&p);
    DLV_ASSERT_CONTAINS(b, "\"deliveryStatus\":\"OnWay\"");
    free(b);
    dlv__iiko_plan_free(&p);

    p = plan_of(CMD("ChangeStatus", ",\"status\":\"Closed\",\"expectedStatus\":\"Delivered\""));
    CU_ASSERT_STRING_EQUAL(p.endpoint, "deliveries/close");
    dlv__iiko_plan_free(&p);

    p = plan_of(CMD("ChangeStatus", ",\"status\":\"CookingStarted\","
                                    "\"expectedStatus\":\"WaitCooking\""));
    CU_ASSERT_EQUAL(p.action, DLV__IIKO_LOCAL_REJECTED);
    CU_ASSERT_STRING_EQUAL(p.code, "NotSupported");
    dlv__iiko_plan_free(&p);

    p = plan_of(CMD("ChangeStatus", ",\"status\":\"ReadyForCooking\","
                                    "\"expectedStatus\":\"WaitCooking\""));
    CU_ASSERT_EQUAL(p.action, DLV__IIKO_LOCAL_APPLIED);
    dlv__iiko_plan_free(&p);

    p = plan_of(CMD("Cancel", ",\"cancelCauseId\":\"3a0f6c1e-0001-4c2b-9d1e-5ab1c0ca0001\","
                              "\"comment\":\"нет\""));
    CU_ASSERT_STRING_EQUAL(p.endpoint, "deliveries/cancel");
    b = body_text(&p);
    DLV_ASSERT_CONTAINS(b, "\"cancelCauseId\":\"3a0f6c1e-0001-4c2b-9d1e-5ab1c0ca0001\"");
    DLV_ASSERT_CONTAINS(b, "\"cancelComment\":\"нет\"");
    free(b);
    dlv__iiko_plan_free(&p);

    p = plan_of(CMD("AssignCourier", ",\"courierId\":\"5c0e7a2b-0001-4e11-8f3a-c0c0c0c00001\""));
    CU_ASSERT_STRING_EQUAL(p.endpoint, "deliveries/update_order_courier");
    b = body_text(&p);
    DLV_ASSERT_CONTAINS(b, "\"employeeId\":\"5c0e7a2b-0001-4e11-8f3a-c0c0c0c00001\"");
    free(b);
    dlv__iiko_plan_free(&p);

    p = plan_of(CMD("DocumentPrinted", ",\"document\":\"Invoice\""));
    CU_ASSERT_EQUAL(p.action, DLV__IIKO_LOCAL_APPLIED);
    dlv__iiko_plan_free(&p);

    p = plan_of(CMD("Teleport", ""));
    CU_ASSERT_EQUAL(p.action, DLV__IIKO_LOCAL_REJECTED);
    dlv__iiko_plan_free(&p);

    dlv_error err = {0};
    CU_ASSERT_EQUAL(dlv__iiko_plan_command("[]", "org", GROUP, NULL, &p, &err), DLV_EJSON);
}

static void create_order_body(void)
{
    dlv__iiko_plan p = plan_of(
        "{\"id\":\"c0000000-0000-4000-8000-000000000002\",\"type\":\"CreateOrder\",\"order\":{"
        "\"id\":\"" ORDER_ID "\",\"serviceType\":\"DeliveryByClient\",\"phone\":\"+79160000000\","
        "\"completeBefore\":\"2026-01-01T10:00:00Z\",\"items\":[{\"productId\":"
        "\"6f1c0d2e-0001-4b3a-9c8d-9f0d00000001\",\"name\":\"Пицца\",\"amount\":1.5,"
        "\"price\":590.10,\"sum\":885.15}]}}");
    CU_ASSERT_STRING_EQUAL(p.endpoint, "deliveries/create");
    CU_ASSERT_STRING_EQUAL(p.order_id, ORDER_ID);
    char *b = body_text(&p);
    DLV_ASSERT_CONTAINS(b, "\"terminalGroupId\":\"" GROUP "\"");
    DLV_ASSERT_CONTAINS(b, "\"completeBefore\":\"2026-01-01 13:00:00.000\"");
    DLV_ASSERT_CONTAINS(b, "\"orderServiceType\":\"DeliveryByClient\"");
    DLV_ASSERT_CONTAINS(b, "\"amount\":1.5,\"price\":590.10");
    free(b);
    dlv__iiko_plan_free(&p);
}

static cJSON *info_with(const char *order_fields)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"id\":\"" ORDER_ID "\",\"timestamp\":5,\"creationStatus\":\"Success\","
             "\"order\":{%s}}",
             order_fields);
    return cJSON_Parse(text);
}

static void reconciliation(void)
{
    dlv__iiko_plan p = plan_of(CMD("ChangeStatus", ",\"status\":\"OnWay\","
                                                   "\"expectedStatus\":\"Waiting\""));
    cJSON *waiting = info_with("\"status\":\"Waiting\"");
    cJSON *onway = info_with("\"status\":\"OnWay\"");
    cJSON *delivered = info_with("\"status\":\"Delivered\"");
    cJSON *cancelled = info_with("\"status\":\"Cancelled\"");
    CU_ASSERT_FALSE(dlv__iiko_effect_present(&p, waiting));
    CU_ASSERT_TRUE(dlv__iiko_effect_present(&p, onway));
    CU_ASSERT_TRUE(dlv__iiko_effect_present(&p, delivered)); /* past the target */
    CU_ASSERT_FALSE(dlv__iiko_effect_present(&p, cancelled));
    CU_ASSERT_FALSE(dlv__iiko_effect_present(&p, NULL));
    dlv__iiko_plan_free(&p);
    /* Undo (OnWay → Waiting) is there only when the order is exactly back. */
    p = plan_of(CMD("ChangeStatus", ",\"status\":\"Waiting\",\"expectedStatus\":\"OnWay\""));
    CU_ASSERT_TRUE(dlv__iiko_effect_present(&p, waiting));
    CU_ASSERT_FALSE(dlv__iiko_effect_present(&p, onway));
    dlv__iiko_plan_free(&p);
    p = plan_of(CMD("Cancel", ",\"cancelCauseId\":\"3a0f6c1e-0001-4c2b-9d1e-5ab1c0ca0001\""));
    CU_ASSERT_TRUE(dlv__iiko_effect_present(&p, cancelled));
    CU_ASSERT_FALSE(dlv__iiko_effect_present(&p, onway));
    dlv__iiko_plan_free(&p);

    p = plan_of(CMD("AssignCourier", ",\"courierId\":\"5c0e7a2b-0001-4e11-8f3a-c0c0c0c00001\""));
    cJSON *with = info_with("\"status\":\"Waiting\",\"courierInfo\":{\"courier\":{\"id\":"
                            "\"5c0e7a2b-0001-4e11-8f3a-c0c0c0c00001\"}}");
    CU_ASSERT_TRUE(dlv__iiko_effect_present(&p, with));
    CU_ASSERT_FALSE(dlv__iiko_effect_present(&p, waiting));
    dlv__iiko_plan_free(&p);

    p = plan_of(CMD("Pay", ",\"payments\":[{\"paymentTypeId\":\"09322f46-578a-d210-add7-"
                           "eec222a08871\",\"kind\":\"Cash\",\"sum\":1500.00}]"));
    CU_ASSERT_STRING_EQUAL(p.endpoint, "deliveries/change_payments");
    cJSON *paid = info_with("\"status\":\"Delivered\",\"payments\":[{\"paymentType\":{\"id\":"
                            "\"09322f46-578a-d210-add7-eec222a08871\",\"kind\":\"Cash\"},"
                            "\"sum\":1500}]");
    cJSON *card = info_with("\"status\":\"Delivered\",\"payments\":[{\"paymentType\":{\"id\":"
                            "\"1c2d8a6b-0002-4f0e-9a55-7e0c0ca10002\",\"kind\":\"Card\"},"
                            "\"sum\":100}]");
    CU_ASSERT_TRUE(dlv__iiko_effect_present(&p, paid));
    CU_ASSERT_FALSE(dlv__iiko_effect_present(&p, card));
    /* change_payments replaces the list: the order's payments go first. */
    cJSON *body = dlv__iiko_pay_body(&p, card);
    char *b = cJSON_PrintUnformatted(body);
    DLV_ASSERT_CONTAINS(b, "\"paymentTypeKind\":\"Card\",\"sum\":100,\"paymentTypeId\":\"1c2d");
    DLV_ASSERT_CONTAINS(b, "\"paymentTypeKind\":\"Cash\",\"sum\":1500.00,\"paymentTypeId\":\"0932");
    free(b);
    cJSON_Delete(body);
    dlv__iiko_plan_free(&p);

    p = plan_of("{\"id\":\"c0000000-0000-4000-8000-000000000003\",\"type\":\"CreateOrder\","
                "\"order\":{\"id\":\"" ORDER_ID "\",\"items\":[]}}");
    cJSON *creating = cJSON_Parse("{\"id\":\"" ORDER_ID "\",\"creationStatus\":\"InProgress\"}");
    cJSON *failed = cJSON_Parse("{\"id\":\"" ORDER_ID "\",\"creationStatus\":\"Error\"}");
    CU_ASSERT_TRUE(dlv__iiko_effect_present(&p, creating));
    CU_ASSERT_FALSE(dlv__iiko_effect_present(&p, failed));
    CU_ASSERT_FALSE(dlv__iiko_effect_present(&p, NULL));
    dlv__iiko_plan_free(&p);
    cJSON *all[] = {waiting, onway, delivered, cancelled, with, paid, card, creating, failed};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        cJSON_Delete(all[i]);
}

int main(void)
{
    static const dlv_test_case cases[] = {
        DLV_TEST(times),
        DLV_TEST(orders_answer),
        DLV_TEST(invalid_order_is_left_out),
        DLV_TEST(settings_from_dictionaries),
        DLV_TEST(command_endpoints),
        DLV_TEST(create_order_body),
        DLV_TEST(reconciliation),
        DLV_TEST_END,
    };
    return dlv_test_main("net_iiko", cases);
}
