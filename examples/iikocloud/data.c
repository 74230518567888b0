/* The sandbox's fixed dictionaries and generated orders, shaped as iikoCloud answers them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "iikocloud.h"

const ik_named ik_cancel_cause_table[] = {
    {"3a0f6c1e-0001-4c2b-9d1e-5ab1c0ca0001", "Клиент отказался", NULL},
    {"3a0f6c1e-0002-4c2b-9d1e-5ab1c0ca0002", "Не дозвонились до клиента", NULL},
    {"3a0f6c1e-0003-4c2b-9d1e-5ab1c0ca0003", "Долгое ожидание", NULL},
    {NULL, NULL, NULL},
};

/* extra: the courier's phone. */
const ik_named ik_courier_table[] = {
    {"5c0e7a2b-0001-4e11-8f3a-c0c0c0c00001", "Сергей Иванов", "+79161110001"},
    {"5c0e7a2b-0002-4e11-8f3a-c0c0c0c00002", "Дмитрий Кузнецов", "+79161110002"},
    {"5c0e7a2b-0003-4e11-8f3a-c0c0c0c00003", "Алексей Попов", "+79161110003"},
    {NULL, NULL, NULL},
};

/* extra: paymentTypeKind. */
const ik_named ik_payment_type_table[] = {
    {"09322f46-578a-d210-add7-eec222a08871", "Наличные", "Cash"},
    {"1c2d8a6b-0002-4f0e-9a55-7e0c0ca10002", "Банковская карта", "Card"},
    {"1c2d8a6b-0003-4f0e-9a55-7e0c0ca10003", "Онлайн-оплата", "External"},
    {NULL, NULL, NULL},
};

const ik_named ik_region_table[] = {
    {"8e6f1b2c-0001-4a7d-b0c1-4e9100000001", "Центральный", NULL},
    {"8e6f1b2c-0002-4a7d-b0c1-4e9100000002", "Северный", NULL},
    {"8e6f1b2c-0003-4a7d-b0c1-4e9100000003", "Южный", NULL},
    {NULL, NULL, NULL},
};

const ik_named ik_city = {"b090de0b-8550-6e17-70b2-bbba152bcbd3", "Москва", NULL};

const ik_named *ik_find(const ik_named *table, const char *id)
{
    for (; id && table->id; table++)
        if (strcmp(table->id, id) == 0)
            return table;
    return NULL;
}

int64_t ik_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ik_format_time(int64_t ms, bool utc, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (utc)
        gmtime_r(&t, &tm);
    else
        localtime_r(&t, &tm);
    char head[24];
    strftime(head, sizeof head, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03d", head, (int)(ms % 1000));
}

void ik_new_uuid(char out[37])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (unsigned char)rand();
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

bool ik_is_uuid(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
            return false;
    }
    return true;
}

static double round2(double v)
{
    return (double)(long long)(v * 100.0 + (v >= 0 ? 0.5 : -0.5)) / 100.0;
}

static cJSON *product_ref(const char *id, const char *name)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "id", id);
    cJSON_AddStringToObject(p, "name", name);
    return p;
}

cJSON *ik_product_item(const char *product_id, const char *name, double price, double amount)
{
    char position[37];
    ik_new_uuid(position);
    cJSON *it = cJSON_CreateObject();
    cJSON_AddStringToObject(it, "type", "Product");
    cJSON_AddItemToObject(it, "product", product_ref(product_id, name));
    cJSON_AddArrayToObject(it, "modifiers");
    cJSON_AddNumberToObject(it, "price", price);
    cJSON_AddNumberToObject(it, "cost", round2(price * amount));
    cJSON_AddBoolToObject(it, "pricePredefined", 0);
    cJSON_AddStringToObject(it, "positionId", position);
    cJSON_AddNullToObject(it, "taxPercent");
    cJSON_AddNumberToObject(it, "resultSum", round2(price * amount));
    cJSON_AddStringToObject(it, "status", "Added");
    cJSON_AddNullToObject(it, "deleted");
    cJSON_AddNumberToObject(it, "amount", amount);
    cJSON_AddNullToObject(it, "comment");
    cJSON_AddNullToObject(it, "whenPrinted");
    cJSON_AddNullToObject(it, "size");
    cJSON_AddNullToObject(it, "comboInformation");
    return it;
}

static void add_modifier(cJSON *item, const char *id, const char *name, double price, double amount)
{
    char position[37];
    ik_new_uuid(position);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddItemToObject(m, "product", product_ref(id, name));
    cJSON_AddNumberToObject(m, "amount", amount);
    cJSON_AddBoolToObject(m, "amountIndependentOfParentAmount", 0);
    cJSON_AddNullToObject(m, "productGroup");
    cJSON_AddNumberToObject(m, "price", price);
    cJSON_AddBoolToObject(m, "pricePredefined", 0);
    cJSON_AddNumberToObject(m, "resultSum", round2(price * amount));
    cJSON_AddNullToObject(m, "deleted");
    cJSON_AddStringToObject(m, "positionId", position);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(item, "modifiers"), m);
    /* An item's resultSum includes its modifiers (the order's sum is the items' sum). */
    cJSON *sum = cJSON_GetObjectItemCaseSensitive(item, "resultSum");
    cJSON_SetNumberValue(sum, round2(sum->valuedouble + price * amount));
}

double ik_items_sum(const cJSON *items)
{
    double total = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        const cJSON *deleted = cJSON_GetObjectItemCaseSensitive(it, "deleted");
        const cJSON *sum = cJSON_GetObjectItemCaseSensitive(it, "resultSum");
        if (cJSON_IsNumber(sum) && (!deleted || cJSON_IsNull(deleted)))
            total += sum->valuedouble;
    }
    return round2(total);
}

static const struct {
    const char *id, *name;
    double price;
} products[] = {
    {"6f1c0d2e-0001-4b3a-9c8d-9f0d00000001", "Пицца Маргарита", 590},
    {"6f1c0d2e-0002-4b3a-9c8d-9f0d00000002", "Ролл Филадельфия", 450},
    {"6f1c0d2e-0003-4b3a-9c8d-9f0d00000003", "Борщ с пампушками", 320},
    {"6f1c0d2e-0004-4b3a-9c8d-9f0d00000004", "Морс клюквенный", 150},
};
static const char *const first_names[] = {"Иван", "Анна", "Пётр", "Мария", "Ольга"};
static const char *const last_names[] = {"Петров", "Смирнова", "Соколов", "Волкова", "Морозова"};
static const char *const streets[] = {"Тверская улица", "улица Ленина", "Арбат",
                                      "Профсоюзная улица"};

cJSON *ik_generate_order(unsigned seq, const char *terminal_group_id, int64_t now_ms)
{
    char when[32], due[32], cook[32], id[37];
    ik_format_time(now_ms, false, when);
    ik_format_time(now_ms + 60 * 60 * 1000, false, due);
    ik_format_time(now_ms + 20 * 60 * 1000, false, cook);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNullToObject(o, "parentDeliveryId");
    cJSON *c = cJSON_AddObjectToObject(o, "customer");
    ik_new_uuid(id);
    cJSON_AddStringToObject(c, "type", "regular");
    cJSON_AddStringToObject(c, "id", id);
    cJSON_AddStringToObject(c, "name", first_names[seq % 5]);
    cJSON_AddStringToObject(c, "surname", last_names[seq % 5]);
    cJSON_AddNullToObject(c, "comment");
    cJSON_AddStringToObject(c, "gender", "NotSpecified");
    cJSON_AddBoolToObject(c, "inBlacklist", 0);
    cJSON_AddNullToObject(c, "blacklistReason");
    cJSON_AddNullToObject(c, "birthdate");
    char phone[24];
    snprintf(phone, sizeof phone, "+7916%07u", 1000000u + seq % 9000000u);
    cJSON_AddStringToObject(o, "phone", phone);
    cJSON *dp = cJSON_AddObjectToObject(o, "deliveryPoint");
    cJSON *coord = cJSON_AddObjectToObject(dp, "coordinates");
    cJSON_AddNumberToObject(coord, "latitude", 55.7558 + (seq % 10) * 0.001);
    cJSON_AddNumberToObject(coord, "longitude", 37.6173 + (seq % 10) * 0.001);
    cJSON *addr = cJSON_AddObjectToObject(dp, "address");
    cJSON *street = cJSON_AddObjectToObject(addr, "street");
    char street_id[37];
    snprintf(street_id, sizeof street_id, "7d2e4f10-%04u-4c5b-8a9e-51ee70000000", seq % 4 + 1);
    cJSON_AddStringToObject(street, "id", street_id);
    cJSON_AddStringToObject(street, "name", streets[seq % 4]);
    cJSON *city = cJSON_AddObjectToObject(street, "city");
    cJSON_AddStringToObject(city, "id", ik_city.id);
    cJSON_AddStringToObject(city, "name", ik_city.name);
    cJSON_AddNullToObject(addr, "index");
    char house[8], flat[8];
    snprintf(house, sizeof house, "%u", seq % 40 + 1);
    snprintf(flat, sizeof flat, "%u", seq % 120 + 1);
    cJSON_AddStringToObject(addr, "house", house);
    cJSON_AddNullToObject(addr, "building");
    cJSON_AddStringToObject(addr, "flat", flat);
    cJSON_AddStringToObject(addr, "entrance", "1");
    cJSON_AddStringToObject(addr, "floor", "3");
    cJSON_AddNullToObject(addr, "doorphone");
    cJSON *region = cJSON_AddObjectToObject(addr, "region");
    cJSON_AddStringToObject(region, "id", ik_region_table[seq % 3].id);
    cJSON_AddStringToObject(region, "name", ik_region_table[seq % 3].name);
    cJSON_AddNullToObject(dp, "externalCartographyId");
    cJSON_AddNullToObject(dp, "comment");
    cJSON_AddStringToObject(o, "status", "Unconfirmed");
    cJSON_AddNullToObject(o, "cancelInfo");
    cJSON_AddNullToObject(o, "courierInfo");
    cJSON_AddStringToObject(o, "completeBefore", due);
    cJSON_AddStringToObject(o, "whenCreated", when);
    static const char *const unset[] = {"whenConfirmed", "whenPrinted", "whenCookingCompleted",
                                        "whenSended", "whenDelivered"};
    for (size_t i = 0; i < sizeof unset / sizeof *unset; i++)
        cJSON_AddNullToObject(o, unset[i]);
    cJSON_AddStringToObject(o, "comment", seq % 2 ? "Позвонить за 10 минут" : "");
    cJSON_AddNullToObject(o, "problem");
    cJSON_AddNullToObject(o, "operator");
    cJSON_AddNullToObject(o, "marketingSource");
    cJSON_AddNumberToObject(o, "deliveryDuration", 60);
    cJSON_AddNullToObject(o, "indexInCourierRoute");
    cJSON_AddStringToObject(o, "cookingStartTime", cook);
    cJSON_AddBoolToObject(o, "isDeleted", 0);
    char utc[32];
    ik_format_time(now_ms, true, utc);
    cJSON_AddStringToObject(o, "whenReceivedByApi", utc);
    cJSON_AddStringToObject(o, "whenReceivedFromFront", utc);
    static const char *const moved[] = {"movedFromDeliveryId",     "movedFromTerminalGroupId",
                                        "movedFromOrganizationId", "externalCourierService",
                                        "movedToDeliveryId",       "movedToTerminalGroupId",
                                        "movedToOrganizationId",   "menuId"};
    for (size_t i = 0; i < sizeof moved / sizeof *moved; i++)
        cJSON_AddNullToObject(o, moved[i]);
    cJSON_AddStringToObject(o, "deliveryZone", ik_region_table[seq % 3].name);
    cJSON_AddNullToObject(o, "estimatedTime");
    cJSON_AddBoolToObject(o, "isAsap", 1);
    cJSON_AddNullToObject(o, "whenPacked");
    cJSON_AddNullToObject(o, "priceCategory");
    cJSON *items = cJSON_CreateArray();
    unsigned n = seq % 3 + 1;
    for (unsigned i = 0; i < n; i++) {
        unsigned p = (seq + i) % 4;
        cJSON *it = ik_product_item(products[p].id, products[p].name, products[p].price,
                                    (double)(i % 2 + 1));
        if (p == 0)
            add_modifier(it, "6f1c0d2e-0101-4b3a-9c8d-9f0d00000101", "Сырный бортик", 90, 1);
        cJSON_AddItemToArray(items, it);
    }
    cJSON_AddNumberToObject(o, "sum", ik_items_sum(items));
    cJSON_AddNumberToObject(o, "number", 0); /* set by the state */
    cJSON_AddStringToObject(o, "sourceKey", "sandbox");
    cJSON_AddNullToObject(o, "whenBillPrinted");
    cJSON_AddNullToObject(o, "whenClosed");
    cJSON_AddNullToObject(o, "conception");
    cJSON *guests = cJSON_AddObjectToObject(o, "guestsInfo");
    cJSON_AddNumberToObject(guests, "count", 1 + seq % 3);
    cJSON_AddBoolToObject(guests, "splitBetweenPersons", 0);
    cJSON_AddItemToObject(o, "items", items);
    cJSON_AddArrayToObject(o, "combos");
    cJSON_AddArrayToObject(o, "payments");
    cJSON_AddArrayToObject(o, "tips");
    cJSON_AddArrayToObject(o, "discounts");
    cJSON *type = cJSON_AddObjectToObject(o, "orderType");
    cJSON_AddStringToObject(type, "id", "76067ea3-356f-eb93-9d14-1fa00d082c4e");
    cJSON_AddStringToObject(type, "name", "Доставка курьером");
    cJSON_AddStringToObject(type, "orderServiceType", "DeliveryByCourier");
    cJSON_AddStringToObject(o, "terminalGroupId", terminal_group_id);
    cJSON_AddNumberToObject(o, "processedPaymentsSum", 0);
    cJSON_AddNullToObject(o, "loyaltyInfo");
    cJSON_AddArrayToObject(o, "externalData");
    return o;
}
