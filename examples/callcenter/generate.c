/* Realistic demo data: Russian names, Moscow streets, a pizzeria's menu. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "callcenter.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const first_names[] = {"Анна",    "Иван",  "Мария",   "Сергей",  "Ольга",
                                          "Дмитрий", "Елена", "Алексей", "Наталья", "Павел"};
static const char *const surnames[] = {"Петрова", "Смирнов",  "Иванова", "Кузнецов", "Соколова",
                                       "Попов",   "Лебедева", "Козлов",  "Новикова", "Морозов"};
static const char *const streets[] = {"Тверская",           "Арбат",         "Профсоюзная",
                                      "Ленинский проспект", "Мясницкая",     "Пятницкая",
                                      "Садовая-Кудринская", "Новослободская"};
static const char *const comments[] = {
    NULL, "позвонить за 10 минут", "домофон не работает", "оставить у двери",
    NULL, "код подъезда 1234"};
static const char *const order_comments[] = {NULL, "без лука", "острое отдельно", NULL,
                                             "приборы на двоих"};
static const struct {
    const char *name;
    int64_t price; /* kopecks */
} menu[] = {
    {"Пицца Маргарита", 59000},
    {"Пицца Пепперони", 69000},
    {"Пицца Четыре сыра", 74000},
    {"Салат Цезарь", 42000},
    {"Борщ", 35000},
    {"Суп том ям", 49000},
    {"Морс клюквенный", 15050},
    {"Чизкейк", 27000},
    {"Роллы Филадельфия", 64000},
};
static const struct {
    const char *name;
    int64_t price;
} modifiers[] = {{"Двойной сыр", 9000}, {"Острый соус", 3000}, {"Без лука", 0}};

void cc_format_time(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

cJSON *cc_money(int64_t kopecks)
{
    /* %1.15g of a value with two decimals prints it back exactly. */
    return cJSON_CreateNumber((double)kopecks / 100.0);
}

/* A random UUID v4 for ids that must be unique; a fixed one for the menu's product ids. */
static void uuid_from(unsigned seq, unsigned salt, char out[37])
{
    unsigned char b[16];
    if (salt >= 77) {
        unsigned long long a = 0x9e3779b97f4a7c15ULL * (seq + 1) ^ (0xbf58476d1ce4e5b9ULL * salt);
        for (int i = 0; i < 16; i++)
            b[i] = (unsigned char)(a >> ((i % 8) * 8)) ^ (unsigned char)(i * 31);
    } else if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        for (int i = 0; i < 16; i++)
            b[i] = (unsigned char)rand();
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

void cc_new_uuid(char out[37])
{
    uuid_from(0, 0, out);
}

bool cc_is_uuid(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
            return false;
    }
    return true;
}

void cc_uuid_for(const char *s, char out[37])
{
    /* Two FNV-1a hashes with different offsets give the 128 bits. */
    unsigned long long h[2] = {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL};
    for (int k = 0; k < 2; k++)
        for (const unsigned char *c = (const unsigned char *)s; c && *c; c++)
            h[k] = (h[k] ^ *c) * 0x100000001b3ULL;
    unsigned char b[16];
    for (int i = 0; i < 16; i++)
        b[i] = (unsigned char)(h[i / 8] >> ((i % 8) * 8));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x50);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

bool cc_parse_time(const char *text, time_t *out)
{
    struct tm tm = {0};
    int consumed = 0;
    if (!text || sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                        &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
        return false;
    const char *p = text + consumed;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    long offset = 0;
    if (*p == '+' || *p == '-') {
        int hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
            return false;
        offset = (*p == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
        p += 6;
    } else if (*p == 'Z' || *p == 'z') {
        p++;
    } else {
        return false;
    }
    if (*p)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = timegm(&tm) - offset;
    return true;
}

static cJSON *id_list_item(const char *id, const char *name)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "name", name);
    return o;
}

cJSON *cc_default_notifications(void)
{
    static const char *const events[] = {"Unconfirmed", "New",       "Cooking",
                                         "Ready",       "Waiting",   "OnWay",
                                         "Delivered",   "Cancelled", "SumChanged"};
    cJSON *n = cJSON_CreateObject();
    for (size_t i = 0; i < N(events); i++) {
        cJSON *e = cJSON_AddObjectToObject(n, events[i]);
        cJSON_AddBoolToObject(e, "sms", 1);
        cJSON_AddBoolToObject(e, "push", 0);
    }
    return n;
}

cJSON *cc_default_settings(void)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddNumberToObject(s, "pickupCookingLeadMinutes", 15);
    cJSON_AddStringToObject(s, "deliveryServiceType", "CourierAndPickup");
    cJSON *cities = cJSON_AddArrayToObject(s, "cities");
    cJSON_AddItemToArray(cities, id_list_item("6d8e1f5a-54a6-4c1e-9d33-0f0b5a1c0001", "Москва"));
    cJSON_AddStringToObject(s, "defaultCityId", "6d8e1f5a-54a6-4c1e-9d33-0f0b5a1c0001");
    cJSON *regions = cJSON_AddArrayToObject(s, "regions");
    cJSON_AddItemToArray(regions,
                         id_list_item("6d8e1f5a-54a6-4c1e-9d33-0f0b5a1c0101", "в пределах МКАД"));
    cJSON_AddItemToArray(regions,
                         id_list_item("6d8e1f5a-54a6-4c1e-9d33-0f0b5a1c0102", "за МКАД до 10 км"));
    cJSON_AddStringToObject(s, "invoicePrintMoment", "OnCookingCompleted");
    cJSON_AddNumberToObject(s, "invoiceCopies", 2);
    cJSON_AddStringToObject(s, "cookingStartMode", "Automatic");
    cJSON_AddStringToObject(s, "paymentMoment", "BeforeSending");
    cJSON_AddBoolToObject(s, "notifyOverdueCooking", 1);
    cJSON_AddBoolToObject(s, "allowAnonymous", 0);
    cJSON *causes = cJSON_AddArrayToObject(s, "cancelCauses");
    cJSON_AddItemToArray(causes,
                         id_list_item("0c4a6a4e-7d43-4f0e-8a50-3b1f0c000001", "Клиент отказался"));
    cJSON_AddItemToArray(causes,
                         id_list_item("0c4a6a4e-7d43-4f0e-8a50-3b1f0c000002", "Долгое ожидание"));
    cJSON_AddItemToArray(causes,
                         id_list_item("0c4a6a4e-7d43-4f0e-8a50-3b1f0c000003", "Ошибка оператора"));
    cJSON *couriers = cJSON_AddArrayToObject(s, "couriers");
    const struct {
        const char *id, *name, *phone;
        int64_t debt;
        bool can;
    } cs[] = {
        {"5a1d0c3e-2b7f-4e55-9a10-c0c0c0000001", "Иван Курьеров", "+79160000001", 0, true},
        {"5a1d0c3e-2b7f-4e55-9a10-c0c0c0000002", "Пётр Быстров", "+79160000002", 620000, true},
        {"5a1d0c3e-2b7f-4e55-9a10-c0c0c0000003", "Анна Кассирова", "+79160000003", 0, false},
    };
    for (size_t i = 0; i < N(cs); i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "id", cs[i].id);
        cJSON_AddStringToObject(c, "name", cs[i].name);
        cJSON_AddStringToObject(c, "phone", cs[i].phone);
        cJSON_AddItemToObject(c, "debt", cc_money(cs[i].debt));
        cJSON_AddBoolToObject(c, "canBeCourier", cs[i].can);
        cJSON_AddItemToArray(couriers, c);
    }
    cJSON_AddItemToObject(s, "maxCourierDebt", cc_money(500000));
    /* Protocol 1.1 fields; a 1.0 session never sees them (state.c strips them). */
    cJSON_AddStringToObject(s, "timeZone", "Europe/Moscow");
    cJSON_AddNumberToObject(s, "courierDeliveryMinutes", 45);
    cJSON_AddNumberToObject(s, "courierCookingMinutes", 15);
    cJSON_AddNumberToObject(s, "overdueGraceMinutes", 5);
    cJSON_AddItemToObject(s, "notifications", cc_default_notifications());
    return s;
}

static void add_if_missing(cJSON *o, const char *key, cJSON *value)
{
    if (cJSON_GetObjectItemCaseSensitive(o, key))
        cJSON_Delete(value);
    else
        cJSON_AddItemToObject(o, key, value);
}

static cJSON *str_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static int64_t kopecks_of(const cJSON *n)
{
    double v = cJSON_IsNumber(n) ? n->valuedouble : 0;
    return (int64_t)(v * 100.0 + (v >= 0 ? 0.5 : -0.5));
}

int64_t cc_items_total(const cJSON *items)
{
    int64_t total = 0;
    const cJSON *it, *md;
    cJSON_ArrayForEach(it, items)
    {
        total += kopecks_of(cJSON_GetObjectItemCaseSensitive(it, "sum"));
        cJSON_ArrayForEach(md, cJSON_GetObjectItemCaseSensitive(it, "modifiers"))
        {
            const cJSON *amount = cJSON_GetObjectItemCaseSensitive(md, "amount");
            double a = cJSON_IsNumber(amount) ? amount->valuedouble : 1;
            total +=
                (int64_t)((double)kopecks_of(cJSON_GetObjectItemCaseSensitive(md, "price")) * a +
                          0.5);
        }
    }
    return total;
}

void cc_complete_order(cJSON *o, unsigned seq, time_t now, const cJSON *settings)
{
    char id[37], t[32];
    uuid_from(seq, 1, id);
    add_if_missing(o, "id", cJSON_CreateString(id));
    add_if_missing(o, "externalNumber", cJSON_CreateNull());
    add_if_missing(o, "sourceKey", cJSON_CreateString(seq % 3 == 0 ? "website" : "callcenter"));
    add_if_missing(o, "status", cJSON_CreateString("Unconfirmed"));
    bool pickup = seq % 5 == 4;
    add_if_missing(o, "serviceType",
                   cJSON_CreateString(pickup ? "DeliveryByClient" : "DeliveryByCourier"));
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "serviceType");
    pickup = cJSON_IsString(st) && strcmp(st->valuestring, "DeliveryByClient") == 0;
    cc_format_time(now + 45 * 60 + (time_t)(seq % 6) * 15 * 60, t);
    add_if_missing(o, "completeBefore", cJSON_CreateString(t));
    cc_format_time(now, t);
    add_if_missing(o, "whenCreated", cJSON_CreateString(t));
    char phone[16];
    snprintf(phone, sizeof phone, "+7916%07u", (seq * 7919u + 1234567u) % 10000000u);
    add_if_missing(o, "phone", cJSON_CreateString(phone));

    if (!cJSON_GetObjectItemCaseSensitive(o, "customer")) {
        cJSON *c = cJSON_CreateObject();
        uuid_from(seq, 2, id);
        cJSON_AddStringToObject(c, "id", id);
        cJSON_AddStringToObject(c, "name", first_names[seq % N(first_names)]);
        cJSON_AddStringToObject(c, "surname", surnames[(seq / 3) % N(surnames)]);
        cJSON_AddNullToObject(c, "comment");
        cJSON_AddBoolToObject(c, "inBlacklist", 0);
        cJSON_AddNullToObject(c, "blacklistReason");
        cJSON_AddItemToObject(o, "customer", c);
    }
    if (!cJSON_GetObjectItemCaseSensitive(o, "address")) {
        if (pickup) {
            cJSON_AddNullToObject(o, "address");
        } else {
            cJSON *a = cJSON_CreateObject();
            char num[16];
            cJSON_AddStringToObject(a, "city", "Москва");
            cJSON_AddStringToObject(a, "street", streets[seq % N(streets)]);
            snprintf(num, sizeof num, "%u", 1 + seq % 40);
            cJSON_AddStringToObject(a, "house", num);
            cJSON_AddItemToObject(a, "building", str_or_null(seq % 4 ? NULL : "2"));
            snprintf(num, sizeof num, "%u", 1 + (seq * 13) % 180);
            cJSON_AddStringToObject(a, "flat", num);
            snprintf(num, sizeof num, "%u", 1 + seq % 6);
            cJSON_AddStringToObject(a, "entrance", num);
            snprintf(num, sizeof num, "%u", 1 + seq % 12);
            cJSON_AddStringToObject(a, "floor", num);
            snprintf(num, sizeof num, "%uК", 1 + (seq * 13) % 180);
            cJSON_AddStringToObject(a, "doorphone", num);
            cJSON_AddStringToObject(a, "region", "в пределах МКАД");
            cJSON_AddItemToObject(a, "comment", str_or_null(comments[seq % N(comments)]));
            cJSON_AddItemToObject(o, "address", a);
        }
    }
    add_if_missing(o, "comment", str_or_null(order_comments[seq % N(order_comments)]));
    add_if_missing(o, "personsCount", cJSON_CreateNumber(1 + seq % 4));
    add_if_missing(o, "splitBetweenPersons", cJSON_CreateFalse());

    if (!cJSON_GetObjectItemCaseSensitive(o, "items")) {
        cJSON *items = cJSON_AddArrayToObject(o, "items");
        unsigned count = 1 + seq % 3;
        for (unsigned i = 0; i < count; i++) {
            unsigned m = (seq + i * 4) % N(menu);
            int amount = 1 + (int)((seq + i) % 2);
            cJSON *it = cJSON_CreateObject();
            uuid_from(seq, 10 + i, id);
            cJSON_AddStringToObject(it, "positionId", id);
            uuid_from(m, 99, id);
            cJSON_AddStringToObject(it, "productId", id);
            cJSON_AddStringToObject(it, "name", menu[m].name);
            cJSON_AddNumberToObject(it, "amount", amount);
            cJSON_AddItemToObject(it, "price", cc_money(menu[m].price));
            cJSON *mods = cJSON_CreateArray();
            if (m < 3 && (seq + i) % 2 == 0) {
                unsigned k = (seq + i) % N(modifiers);
                cJSON *md = cJSON_CreateObject();
                uuid_from(k, 77, id);
                cJSON_AddStringToObject(md, "productId", id);
                cJSON_AddStringToObject(md, "name", modifiers[k].name);
                cJSON_AddNumberToObject(md, "amount", amount); /* one per portion */
                cJSON_AddItemToObject(md, "price", cc_money(modifiers[k].price));
                cJSON_AddItemToArray(mods, md);
            }
            cJSON_AddItemToObject(it, "sum", cc_money(menu[m].price * amount));
            cJSON_AddNullToObject(it, "comment");
            cJSON_AddItemToObject(it, "modifiers", mods);
            cJSON_AddItemToArray(items, it);
        }
    }
    /* A delivery fee on some courier orders, unless the caller gave the sums itself. */
    bool sums_given = cJSON_GetObjectItemCaseSensitive(o, "fullSum") ||
                      cJSON_GetObjectItemCaseSensitive(o, "resultSum");
    add_if_missing(o, "surchargeSum", cc_money(!sums_given && !pickup && seq % 3 == 1 ? 15000 : 0));
    int64_t surcharge = kopecks_of(cJSON_GetObjectItemCaseSensitive(o, "surchargeSum"));
    if (!cJSON_GetObjectItemCaseSensitive(o, "fullSum"))
        cJSON_AddItemToObject(
            o, "fullSum", cc_money(cc_items_total(cJSON_GetObjectItemCaseSensitive(o, "items"))));
    int64_t full = kopecks_of(cJSON_GetObjectItemCaseSensitive(o, "fullSum"));
    add_if_missing(o, "discountSum", cc_money(0));
    int64_t discount = kopecks_of(cJSON_GetObjectItemCaseSensitive(o, "discountSum"));
    add_if_missing(o, "resultSum", cc_money(full - discount + surcharge));
    int64_t result = kopecks_of(cJSON_GetObjectItemCaseSensitive(o, "resultSum"));
    if (!cJSON_GetObjectItemCaseSensitive(o, "payments")) {
        cJSON *pays = cJSON_AddArrayToObject(o, "payments");
        cJSON *p = cJSON_CreateObject();
        unsigned kind = seq % 3;
        cc_new_uuid(id);
        cJSON_AddStringToObject(p, "id", id);
        static const char *const kinds[] = {"Cash", "Card", "External"};
        static const char *const names[] = {"Наличные", "Банковская карта", "Оплата на сайте"};
        uuid_from(kind, 88, id);
        cJSON_AddStringToObject(p, "paymentTypeId", id);
        cJSON_AddStringToObject(p, "name", names[kind]);
        cJSON_AddStringToObject(p, "kind", kinds[kind]);
        /* Cash is given rounded up to the next 500 roubles, so the courier carries change. */
        int64_t sum = kind == 0 ? ((result + 49999) / 50000) * 50000 : result;
        cJSON_AddItemToObject(p, "sum", cc_money(sum));
        cJSON_AddBoolToObject(p, "isProcessedExternally", kind == 2);
        cJSON_AddBoolToObject(p, "isPrepay", kind == 2);
        cJSON_AddItemToArray(pays, p);
    }
    add_if_missing(o, "courier", cJSON_CreateNull());
    add_if_missing(o, "cancelInfo", cJSON_CreateNull());
    if (!cJSON_GetObjectItemCaseSensitive(o, "problem")) {
        cJSON *pr = cJSON_CreateObject();
        cJSON_AddBoolToObject(pr, "hasProblem", 0);
        cJSON_AddNullToObject(pr, "description");
        cJSON_AddItemToObject(o, "problem", pr);
    }
    if (!cJSON_GetObjectItemCaseSensitive(o, "operator")) {
        cJSON *op = cJSON_CreateObject();
        cJSON_AddStringToObject(op, "name", "Оператор 1");
        cJSON_AddItemToObject(o, "operator", op);
    }
    (void)settings;
}

cJSON *cc_generate_order(unsigned seq, time_t now, const cJSON *settings)
{
    cJSON *o = cJSON_CreateObject();
    cc_complete_order(o, seq, now, settings);
    return o;
}
