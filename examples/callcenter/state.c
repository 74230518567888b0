/* The emulator's state in SQLite and the protocol's server-side logic. One mutex serialises
 * every call; the HTTP layer never touches the database itself. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "callcenter.h"

struct cc_state {
    sqlite3 *db;
    pthread_mutex_t lock;
    bool accept_any;
    int session_ttl;
    void (*on_change)(void *arg, const char *terminal_id);
    void *on_change_arg;
    unsigned seq;
    int max_minor;         /* highest protocol minor served */
    cJSON *settings_cache; /* the stored settings, parsed once; NULL until first needed */
    /* The statements of the commands route, prepared once (see cached); under `lock`. */
    struct {
        const char *sql;
        sqlite3_stmt *stmt;
    } cache[16];
    int cached_count;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS terminals(id TEXT PRIMARY KEY, name TEXT, registered_at INTEGER,"
    " last_seen INTEGER, pending_commands INTEGER DEFAULT 0, last_revision INTEGER DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS sessions(token TEXT PRIMARY KEY, terminal_id TEXT NOT NULL,"
    " expires_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS orders(id TEXT PRIMARY KEY, terminal_id TEXT, revision INTEGER"
    " NOT NULL, status TEXT NOT NULL, number INTEGER, json TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS orders_revision ON orders(revision);"
    "CREATE INDEX IF NOT EXISTS orders_terminal ON orders(terminal_id, revision);"
    "CREATE TABLE IF NOT EXISTS moves(order_id TEXT, terminal_id TEXT, revision INTEGER);"
    "CREATE INDEX IF NOT EXISTS moves_terminal ON moves(terminal_id, revision);"
    "CREATE TABLE IF NOT EXISTS commands(seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE"
    " NOT NULL, terminal_id TEXT, order_id TEXT, type TEXT, outcome TEXT NOT NULL, error TEXT,"
    " result TEXT NOT NULL, received INTEGER NOT NULL DEFAULT 1, applied INTEGER NOT NULL);";

/* Columns added by protocol 1.1, for databases made before it (errors mean "already there"). */
static const char *const migrations[] = {
    "ALTER TABLE sessions ADD COLUMN minor INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE terminals ADD COLUMN block_first INTEGER",
    "ALTER TABLE terminals ADD COLUMN block_last INTEGER",
};

void cc_error(cc_reply *out, int status, const char *code, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    out->status = status;
    out->body = cJSON_CreateObject();
    cJSON_AddStringToObject(out->body, "error", code);
    cJSON_AddStringToObject(out->body, "description", text);
}

static void ok(cc_reply *out, cJSON *body)
{
    out->status = 200;
    out->body = body;
}

/* ---- small SQLite helpers ---- */

static sqlite3_stmt *prep(cc_state *st, const char *sql)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        fprintf(stderr, "callcenter: SQL error: %s in %s\n", sqlite3_errmsg(st->db), sql);
        return NULL;
    }
    return s;
}

/* A statement of the hot paths (a command costs seven), kept prepared and found by the address
 * of its SQL text: parsing them again for each command cost more than running them. Give it
 * back with done(). Only under st->lock. */
static sqlite3_stmt *cached(cc_state *st, const char *sql)
{
    for (int i = 0; i < st->cached_count; i++)
        if (st->cache[i].sql == sql)
            return st->cache[i].stmt;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
        fprintf(stderr, "callcenter: SQL error: %s in %s\n", sqlite3_errmsg(st->db), sql);
        return NULL;
    }
    if (st->cached_count < (int)(sizeof st->cache / sizeof *st->cache)) {
        st->cache[st->cached_count].sql = sql;
        st->cache[st->cached_count++].stmt = s;
    }
    return s;
}

static void done(cc_state *st, sqlite3_stmt *s)
{
    for (int i = 0; i < st->cached_count; i++) {
        if (st->cache[i].stmt == s) {
            sqlite3_reset(s);
            sqlite3_clear_bindings(s);
            return;
        }
    }
    sqlite3_finalize(s);
}

static const char SQL_META_GET[] = "SELECT value FROM meta WHERE key=?";
static const char SQL_META_SET[] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)";
static const char SQL_ORDER_LOAD[] = "SELECT json, terminal_id FROM orders WHERE id=?";
static const char SQL_ORDER_SAVE[] =
    "INSERT INTO orders(id, terminal_id, revision, status, number, json)"
    " VALUES(?1,?2,?3,?4,?5,?6) ON CONFLICT(id) DO UPDATE SET"
    " terminal_id=?2, revision=?3, status=?4, number=?5, json=?6";
static const char SQL_COMMAND_FIND[] = "SELECT result FROM commands WHERE id=?";
static const char SQL_COMMAND_AGAIN[] = "UPDATE commands SET received = received + 1 WHERE id=?";
static const char SQL_COMMAND_ADD[] =
    "INSERT INTO commands(id, terminal_id, order_id, type, outcome, error, result,"
    " applied) VALUES(?,?,?,?,?,?,?,?)";

static void exec(cc_state *st, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "callcenter: SQL error: %s in %s\n", msg, sql);
        sqlite3_free(msg);
    }
}

static char *meta_get(cc_state *st, const char *key)
{
    sqlite3_stmt *s = cached(st, SQL_META_GET);
    char *v = NULL;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
        v = strdup((const char *)sqlite3_column_text(s, 0));
    done(st, s);
    return v;
}

static void meta_set(cc_state *st, const char *key, const char *value)
{
    sqlite3_stmt *s = cached(st, SQL_META_SET);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
    sqlite3_step(s);
    done(st, s);
}

static int64_t meta_int(cc_state *st, const char *key)
{
    char *v = meta_get(st, key);
    int64_t n = v ? strtoll(v, NULL, 10) : 0;
    free(v);
    return n;
}

static void meta_set_int(cc_state *st, const char *key, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    meta_set(st, key, buf);
}

static int64_t bump_revision(cc_state *st)
{
    int64_t r = meta_int(st, "revision") + 1;
    meta_set_int(st, "revision", r);
    return r;
}

/* The stored settings, parsed once and kept until they change; owned by the state. */
static const cJSON *settings_ref(cc_state *st)
{
    if (!st->settings_cache) {
        char *text = meta_get(st, "settings");
        st->settings_cache = text ? cJSON_Parse(text) : NULL;
        free(text);
        if (!st->settings_cache)
            st->settings_cache = cc_default_settings();
    }
    return st->settings_cache;
}

static cJSON *settings_load(cc_state *st)
{
    return cJSON_Duplicate(settings_ref(st), 1);
}

static void settings_store(cc_state *st, const cJSON *settings)
{
    char *text = cJSON_PrintUnformatted(settings);
    meta_set(st, "settings", text);
    free(text);
    cJSON_Delete(st->settings_cache);
    st->settings_cache = NULL;
    meta_set_int(st, "settings_revision", bump_revision(st));
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void set_item(cJSON *o, const char *key, cJSON *value)
{
    if (cJSON_GetObjectItemCaseSensitive(o, key))
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, value);
    else
        cJSON_AddItemToObject(o, key, value);
}

static double number_of(const cJSON *n)
{
    return cJSON_IsNumber(n) ? n->valuedouble : -1;
}

static int64_t kopecks(const cJSON *n)
{
    double v = cJSON_IsNumber(n) ? n->valuedouble : 0;
    return (int64_t)(v * 100.0 + (v >= 0 ? 0.5 : -0.5));
}

static const cJSON *find_by_id(const cJSON *list, const char *id)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        const char *v = str(it, "id");
        if (v && id && strcmp(v, id) == 0)
            return it;
    }
    return NULL;
}

/* iiko's cancelInfo: {"whenCancelled","cause":{"id","name"},"comment"}. */
static cJSON *cancel_info(const cJSON *cause, const char *comment, const char *when)
{
    cJSON *info = cJSON_CreateObject();
    cJSON_AddStringToObject(info, "whenCancelled", when);
    cJSON *c = cJSON_AddObjectToObject(info, "cause");
    cJSON_AddStringToObject(c, "id", str(cause, "id"));
    cJSON_AddStringToObject(c, "name", str(cause, "name"));
    cJSON_AddItemToObject(info, "comment",
                          comment ? cJSON_CreateString(comment) : cJSON_CreateNull());
    return info;
}

/* ---- protocol 1.1 fields and the 1.0 view ---- */

static bool is_pickup(const cJSON *o)
{
    const char *t = str(o, "serviceType");
    return t && strcmp(t, "DeliveryByClient") == 0;
}

static int64_t setting_int(const cJSON *settings, const char *key, int64_t fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(settings, key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : fallback;
}

/* Travel time of the order's delivery zone: the region's travelMinutes (admin/zones), else
 * courierDeliveryMinutes, else 45. */
static int64_t travel_minutes(const cJSON *settings, const cJSON *order)
{
    const char *region = str(cJSON_GetObjectItemCaseSensitive(order, "address"), "region");
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(settings, "regions"))
    {
        const char *name = str(r, "name"), *id = str(r, "id");
        const cJSON *minutes = cJSON_GetObjectItemCaseSensitive(r, "travelMinutes");
        if (region && cJSON_IsNumber(minutes) &&
            ((name && strcmp(name, region) == 0) || (id && strcmp(id, region) == 0)))
            return (int64_t)minutes->valuedouble;
    }
    return setting_int(settings, "courierDeliveryMinutes", 45);
}

/* What the call-center derives whenever it stores an order: payment ids, and for courier orders
 * when the kitchen must be done (completeBefore minus the zone's travel time). */
static void order_derive(cc_state *st, cJSON *o)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(o, "payments"))
    {
        if (cJSON_IsObject(p) && !str(p, "id")) {
            char id[37];
            cc_new_uuid(id);
            set_item((cJSON *)p, "id", cJSON_CreateString(id));
        }
    }
    time_t due;
    if (is_pickup(o) || !cc_parse_time(str(o, "completeBefore"), &due)) {
        cJSON_DeleteItemFromObjectCaseSensitive(o, "predictedCookingCompleteTime");
        cJSON_DeleteItemFromObjectCaseSensitive(o, "predictedDeliveryTime");
        return;
    }
    char t[32];
    cc_format_time(due - (time_t)travel_minutes(settings_ref(st), o) * 60, t);
    set_item(o, "predictedCookingCompleteTime", cJSON_CreateString(t));
    cc_format_time(due, t);
    set_item(o, "predictedDeliveryTime", cJSON_CreateString(t));
}

/* fullSum from the items, resultSum = fullSum - discountSum + surchargeSum (protocol 1.1). */
static void recompute_sums(cJSON *o)
{
    int64_t full = cc_items_total(cJSON_GetObjectItemCaseSensitive(o, "items"));
    int64_t discount = kopecks(cJSON_GetObjectItemCaseSensitive(o, "discountSum"));
    int64_t surcharge = kopecks(cJSON_GetObjectItemCaseSensitive(o, "surchargeSum"));
    set_item(o, "fullSum", cc_money(full));
    set_item(o, "resultSum", cc_money(full - discount + surcharge));
}

/* An order as a 1.0 session sees it: no 1.1 fields, and what 1.0 cannot say said its way. A 1.0
 * terminal checks resultSum = fullSum - discountSum and fullSum against the items, so a surcharge
 * becomes a delivery line (what a 1.0 call-center does with a fee); its cancel causes must be
 * UUIDs, so another id is replaced by a stable UUID standing for it (Cancel maps it back). */
static void order_view_1_0(cJSON *o)
{
    int64_t surcharge = kopecks(cJSON_GetObjectItemCaseSensitive(o, "surchargeSum"));
    cJSON_DeleteItemFromObjectCaseSensitive(o, "surchargeSum");
    cJSON_DeleteItemFromObjectCaseSensitive(o, "predictedCookingCompleteTime");
    cJSON_DeleteItemFromObjectCaseSensitive(o, "predictedDeliveryTime");
    cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(o, "payments"))
        cJSON_DeleteItemFromObjectCaseSensitive(p, "id");
    cJSON *cause = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(o, "cancelInfo"), "cause");
    const char *cause_id = str(cause, "id");
    if (cause_id && !cc_is_uuid(cause_id)) {
        char id[37];
        cc_uuid_for(cause_id, id);
        set_item(cause, "id", cJSON_CreateString(id));
    }
    cJSON *items = cJSON_GetObjectItemCaseSensitive(o, "items");
    if (surcharge > 0 && cJSON_IsArray(items)) {
        char key[64], id[37];
        snprintf(key, sizeof key, "surcharge:%s", str(o, "id") ? str(o, "id") : "");
        cJSON *it = cJSON_CreateObject();
        cc_uuid_for(key, id);
        cJSON_AddStringToObject(it, "positionId", id);
        cJSON_AddStringToObject(it, "productId", "d0c0d0c0-0000-4000-8000-5e1c4a26e000");
        cJSON_AddStringToObject(it, "name", "Доставка");
        cJSON_AddNumberToObject(it, "amount", 1);
        cJSON_AddItemToObject(it, "price", cc_money(surcharge));
        cJSON_AddItemToObject(it, "sum", cc_money(surcharge));
        cJSON_AddNullToObject(it, "comment");
        cJSON_AddArrayToObject(it, "modifiers");
        cJSON_AddItemToArray(items, it);
        set_item(o, "fullSum",
                 cc_money(kopecks(cJSON_GetObjectItemCaseSensitive(o, "fullSum")) + surcharge));
    }
}

static const char *const settings_1_1[] = {"timeZone", "courierDeliveryMinutes",
                                           "courierCookingMinutes", "overdueGraceMinutes",
                                           "notifications"};

/* Settings as a session of `minor` sees them (a new object). */
static cJSON *settings_for(cc_state *st, int minor)
{
    cJSON *s = settings_load(st);
    cJSON *v;
    if (minor >= 1) {
        int64_t lead = setting_int(s, "pickupCookingLeadMinutes", 15);
        if (!cJSON_GetObjectItemCaseSensitive(s, "timeZone"))
            cJSON_AddStringToObject(s, "timeZone", "Europe/Moscow");
        if (!cJSON_GetObjectItemCaseSensitive(s, "courierDeliveryMinutes"))
            cJSON_AddNumberToObject(s, "courierDeliveryMinutes", 45);
        if (!cJSON_GetObjectItemCaseSensitive(s, "courierCookingMinutes"))
            cJSON_AddNumberToObject(s, "courierCookingMinutes", (double)lead);
        if (!cJSON_GetObjectItemCaseSensitive(s, "overdueGraceMinutes"))
            cJSON_AddNumberToObject(s, "overdueGraceMinutes", 5);
        if (!cJSON_GetObjectItemCaseSensitive(s, "notifications"))
            cJSON_AddItemToObject(s, "notifications", cc_default_notifications());
        return s;
    }
    for (size_t i = 0; i < sizeof settings_1_1 / sizeof *settings_1_1; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(s, settings_1_1[i]);
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(s, "regions"))
        cJSON_DeleteItemFromObjectCaseSensitive(v, "travelMinutes");
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(s, "cancelCauses"))
    {
        const char *id = str(v, "id");
        if (id && !cc_is_uuid(id)) {
            char mapped[37];
            cc_uuid_for(id, mapped);
            set_item(v, "id", cJSON_CreateString(mapped));
        }
    }
    return s;
}

/* A cancel cause of the settings by its id, or by the UUID a 1.0 session was shown for it. */
static const cJSON *find_cause(const cJSON *settings, const char *id)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(settings, "cancelCauses"))
    {
        const char *v = str(c, "id");
        char mapped[37];
        if (!v || !id)
            continue;
        if (strcmp(v, id) == 0)
            return c;
        cc_uuid_for(v, mapped);
        if (!cc_is_uuid(v) && strcmp(mapped, id) == 0)
            return c;
    }
    return NULL;
}

/* ---- orders ---- */

static cJSON *order_load(cc_state *st, const char *id, char **terminal)
{
    sqlite3_stmt *s = cached(st, SQL_ORDER_LOAD);
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    cJSON *o = NULL;
    if (sqlite3_step(s) == SQLITE_ROW) {
        o = cJSON_Parse((const char *)sqlite3_column_text(s, 0));
        if (terminal)
            *terminal =
                sqlite3_column_text(s, 1) ? strdup((const char *)sqlite3_column_text(s, 1)) : NULL;
    }
    done(st, s);
    return o;
}

/* Stores the order under a new revision; `terminal` NULL keeps it visible to every terminal. */
static int64_t order_save(cc_state *st, cJSON *o, const char *terminal)
{
    order_derive(st, o);
    int64_t rev = bump_revision(st);
    set_item(o, "revision", cJSON_CreateNumber((double)rev));
    char *json = cJSON_PrintUnformatted(o);
    const cJSON *num = cJSON_GetObjectItemCaseSensitive(o, "number");
    sqlite3_stmt *s = cached(st, SQL_ORDER_SAVE);
    sqlite3_bind_text(s, 1, str(o, "id"), -1, SQLITE_STATIC);
    if (terminal)
        sqlite3_bind_text(s, 2, terminal, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, rev);
    sqlite3_bind_text(s, 4, str(o, "status") ? str(o, "status") : "Unconfirmed", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, cJSON_IsNumber(num) ? (int64_t)num->valuedouble : 0);
    sqlite3_bind_text(s, 6, json, -1, SQLITE_STATIC);
    sqlite3_step(s);
    done(st, s);
    free(json);
    return rev;
}

/* `terminal`: the one terminal the change concerns; NULL: it may concern every terminal. */
static void notify(cc_state *st, const char *terminal)
{
    if (st->on_change)
        st->on_change(st->on_change_arg, terminal);
}

/* ---- lifecycle ---- */

cc_state *cc_state_open(const cc_options *opts, char *err, size_t errlen)
{
    cc_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (sqlite3_open(opts->db_path, &st->db) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", opts->db_path, sqlite3_errmsg(st->db));
        sqlite3_close(st->db);
        free(st);
        return NULL;
    }
    char *msg = NULL;
    if (sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
                     &msg) != SQLITE_OK ||
        sqlite3_exec(st->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", opts->db_path, msg ? msg : "cannot create schema");
        sqlite3_free(msg);
        sqlite3_close(st->db);
        free(st);
        return NULL;
    }
    for (size_t i = 0; i < sizeof migrations / sizeof *migrations; i++)
        sqlite3_exec(st->db, migrations[i], NULL, NULL, NULL);
    sqlite3_busy_timeout(st->db, 5000);
    pthread_mutex_init(&st->lock, NULL);
    st->accept_any = opts->accept_any_terminal;
    st->session_ttl = opts->session_ttl_seconds > 0 ? opts->session_ttl_seconds : 3600;
    st->max_minor = opts->protocol_minor == 0 ? 0 : 1;
    char *revision = meta_get(st, "revision");
    if (!revision) {
        meta_set_int(st, "revision", 0);
        meta_set_int(st, "next_number", 100001);
    }
    free(revision);
    if (meta_int(st, "next_block") < CC_FIRST_BLOCK_NUMBER)
        meta_set_int(st, "next_block", CC_FIRST_BLOCK_NUMBER);
    st->seq = (unsigned)meta_int(st, "next_number");
    return st;
}

void cc_state_close(cc_state *st)
{
    if (!st)
        return;
    for (int i = 0; i < st->cached_count; i++)
        sqlite3_finalize(st->cache[i].stmt);
    sqlite3_close(st->db);
    cJSON_Delete(st->settings_cache);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

int cc_state_protocol_minor(const cc_state *st)
{
    return st->max_minor;
}

void cc_state_on_change(cc_state *st, void (*fn)(void *arg, const char *terminal_id), void *arg)
{
    st->on_change = fn;
    st->on_change_arg = arg;
}

/* ---- protocol ---- */

static bool terminal_known(cc_state *st, const char *id)
{
    sqlite3_stmt *s = prep(st, "SELECT 1 FROM terminals WHERE id=?");
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    bool known = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return known;
}

static void add_terminal(cc_state *st, const char *id, const char *name)
{
    sqlite3_stmt *s = prep(st, "INSERT OR IGNORE INTO terminals(id, name, registered_at, last_seen)"
                               " VALUES(?, ?, strftime('%s','now'), strftime('%s','now'))");
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, name ? name : "", -1, SQLITE_STATIC);
    sqlite3_step(s);
    sqlite3_finalize(s);
}

static bool valid_terminal_header(const char *id, cc_reply *out)
{
    if (!id || !*id) {
        cc_error(out, 400, "BadRequest", "X-Terminal-Id header is missing");
        return false;
    }
    if (strlen(id) != 36) {
        cc_error(out, 400, "BadRequest", "X-Terminal-Id is not a UUID");
        return false;
    }
    return true;
}

/* The terminal's current number block; false when it has none yet. */
static bool terminal_block(cc_state *st, const char *terminal_id, int64_t *first, int64_t *last)
{
    sqlite3_stmt *s = prep(st, "SELECT block_first, block_last FROM terminals WHERE id=? AND"
                               " block_first IS NOT NULL");
    sqlite3_bind_text(s, 1, terminal_id, -1, SQLITE_STATIC);
    bool found = sqlite3_step(s) == SQLITE_ROW;
    if (found) {
        *first = sqlite3_column_int64(s, 0);
        *last = sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
    return found;
}

/* Hands the terminal the next unused block of `count` numbers. Blocks only ever move forward
 * (meta next_block, durable with the rest of the state), so none is given out twice. */
static void reserve_block(cc_state *st, const char *terminal_id, int64_t count, int64_t *first,
                          int64_t *last)
{
    *first = meta_int(st, "next_block");
    *last = *first + count - 1;
    meta_set_int(st, "next_block", *last + 1);
    sqlite3_stmt *s = prep(st, "UPDATE terminals SET block_first=?, block_last=? WHERE id=?");
    sqlite3_bind_int64(s, 1, *first);
    sqlite3_bind_int64(s, 2, *last);
    sqlite3_bind_text(s, 3, terminal_id, -1, SQLITE_STATIC);
    sqlite3_step(s);
    sqlite3_finalize(s);
}

static cJSON *block_json(int64_t first, int64_t last)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddNumberToObject(b, "first", (double)first);
    cJSON_AddNumberToObject(b, "last", (double)last);
    return b;
}

void cc_register(cc_state *st, const char *terminal_id, const cJSON *body, cc_reply *out)
{
    if (!valid_terminal_header(terminal_id, out))
        return;
    const char *body_id = str(body, "terminalId");
    const cJSON *proto = cJSON_GetObjectItemCaseSensitive(body, "protocolVersion");
    if (!body_id || strcmp(body_id, terminal_id) != 0) {
        cc_error(out, 400, "BadRequest", "terminalId in the body must match X-Terminal-Id");
        return;
    }
    if (proto && (!cJSON_IsNumber(proto) || proto->valuedouble != 1)) {
        cc_error(out, 400, "BadRequest", "unsupported protocolVersion (this server speaks 1)");
        return;
    }
    pthread_mutex_lock(&st->lock);
    if (!terminal_known(st, terminal_id)) {
        if (!st->accept_any) {
            pthread_mutex_unlock(&st->lock);
            cc_error(out, 403, "TerminalNotRegistered",
                     "terminal %s is not registered as a delivery terminal at the call-center",
                     terminal_id);
            return;
        }
        add_terminal(st, terminal_id, str(body, "name"));
    }
    const cJSON *minor_field = cJSON_GetObjectItemCaseSensitive(body, "protocolMinor");
    int minor = cJSON_IsNumber(minor_field) && minor_field->valuedouble >= 1 ? st->max_minor : 0;
    unsigned char raw[16];
    char token[33];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        for (int i = 0; i < 16; i++)
            raw[i] = (unsigned char)rand();
    for (int i = 0; i < 16; i++)
        snprintf(token + 2 * i, 3, "%02x", raw[i]);
    time_t now = time(NULL);
    sqlite3_stmt *s =
        prep(st, "INSERT INTO sessions(token, terminal_id, expires_at, minor) VALUES(?,?,?,?)");
    sqlite3_bind_text(s, 1, token, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, terminal_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (int64_t)now + st->session_ttl);
    sqlite3_bind_int(s, 4, minor);
    sqlite3_step(s);
    sqlite3_finalize(s);
    cJSON *answer = cJSON_CreateObject();
    char t[32];
    cc_format_time(now, t);
    cJSON_AddStringToObject(answer, "sessionToken", token);
    cJSON_AddNumberToObject(answer, "expiresInSeconds", st->session_ttl);
    cJSON_AddStringToObject(answer, "serverTime", t);
    cJSON_AddItemToObject(answer, "settings", settings_for(st, minor));
    if (minor >= 1) {
        /* A terminal re-registering keeps its block; a new one gets its first. */
        cJSON_AddNumberToObject(answer, "protocolMinor", minor);
        int64_t first, last;
        if (!terminal_block(st, terminal_id, &first, &last))
            reserve_block(st, terminal_id, CC_DEFAULT_BLOCK_SIZE, &first, &last);
        cJSON_AddItemToObject(answer, "numberBlock", block_json(first, last));
    }
    pthread_mutex_unlock(&st->lock);
    ok(out, answer);
}

int cc_authorize(cc_state *st, const char *terminal_id, const char *authorization, int *minor,
                 cc_reply *out)
{
    *minor = 0;
    if (!valid_terminal_header(terminal_id, out))
        return -1;
    if (!authorization || strncmp(authorization, "Bearer ", 7) != 0) {
        cc_error(out, 401, "Unauthorized", "Authorization: Bearer <sessionToken> is required");
        return -1;
    }
    pthread_mutex_lock(&st->lock);
    int rc = 0;
    if (!terminal_known(st, terminal_id)) {
        cc_error(out, 403, "TerminalNotRegistered", "terminal %s is not registered", terminal_id);
        rc = -1;
    } else {
        sqlite3_stmt *s = prep(st, "SELECT expires_at, minor FROM sessions WHERE token=? AND"
                                   " terminal_id=?");
        sqlite3_bind_text(s, 1, authorization + 7, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, terminal_id, -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_ROW || sqlite3_column_int64(s, 0) <= (int64_t)time(NULL)) {
            cc_error(out, 401, "Unauthorized", "session expired or unknown: register again");
            rc = -1;
        } else {
            *minor = sqlite3_column_int(s, 1);
        }
        sqlite3_finalize(s);
        if (rc == 0) {
            s = prep(st, "UPDATE terminals SET last_seen=strftime('%s','now') WHERE id=?");
            sqlite3_bind_text(s, 1, terminal_id, -1, SQLITE_STATIC);
            sqlite3_step(s);
            sqlite3_finalize(s);
        }
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

/* One page of the terminal's changes: orders and removals merged in revision order. The two
 * queries each stop after `limit` + 1 rows (an index range scan, whatever the table's size), so
 * a page costs the same at the start and at the end of a 100,000-order snapshot. The orders are
 * the merge of two ranges of orders_terminal (the terminal's own, those of no terminal): a scan
 * of orders_revision would also step over every other terminal's orders since `since`, which
 * in a chain of 1,000 terminals is a thousand rows read for each one answered. */
bool cc_orders_since(cc_state *st, const char *terminal_id, int64_t since, int64_t limit, int minor,
                     cc_reply *out)
{
    pthread_mutex_lock(&st->lock);
    int64_t revision = meta_int(st, "revision");
    if (since > revision)
        since = 0; /* the terminal is ahead of this database (a new server): resend everything */
    sqlite3_stmt *os =
        prep(st, "SELECT revision, json FROM orders WHERE terminal_id = ?2 AND"
                 " revision > ?1 AND (?1 > 0 OR status NOT IN ('Closed','Cancelled'))"
                 " UNION ALL SELECT revision, json FROM orders WHERE terminal_id IS"
                 " NULL AND revision > ?1 AND (?1 > 0 OR status NOT IN"
                 " ('Closed','Cancelled')) ORDER BY 1 LIMIT ?3");
    /* An order moved away (its last move) unless it has come back since. */
    sqlite3_stmt *ms = prep(st, "SELECT m.order_id, MAX(m.revision) AS r FROM moves m JOIN orders o"
                                " ON o.id = m.order_id WHERE m.terminal_id = ?2 AND m.revision > ?1"
                                " AND o.terminal_id IS NOT ?2 GROUP BY m.order_id ORDER BY r"
                                " LIMIT ?3");
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *s = i ? ms : os;
        sqlite3_bind_int64(s, 1, since);
        sqlite3_bind_text(s, 2, terminal_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, limit > 0 ? limit + 1 : -1);
    }
    cJSON *orders = cJSON_CreateArray();
    cJSON *removed = cJSON_CreateArray();
    bool has_order = sqlite3_step(os) == SQLITE_ROW;
    bool has_move = sqlite3_step(ms) == SQLITE_ROW;
    int64_t taken = 0, last = since;
    bool more = false;
    while (has_order || has_move) {
        if (limit > 0 && taken == limit) {
            more = true;
            break;
        }
        int64_t order_rev = has_order ? sqlite3_column_int64(os, 0) : INT64_MAX;
        int64_t move_rev = has_move ? sqlite3_column_int64(ms, 1) : INT64_MAX;
        if (order_rev <= move_rev) {
            cJSON *o = cJSON_Parse((const char *)sqlite3_column_text(os, 1));
            if (minor < 1)
                order_view_1_0(o);
            cJSON_AddItemToArray(orders, o);
            last = order_rev;
            has_order = sqlite3_step(os) == SQLITE_ROW;
        } else {
            cJSON_AddItemToArray(removed,
                                 cJSON_CreateString((const char *)sqlite3_column_text(ms, 0)));
            last = move_rev;
            has_move = sqlite3_step(ms) == SQLITE_ROW;
        }
        taken++;
    }
    sqlite3_finalize(os);
    sqlite3_finalize(ms);
    bool settings_changed = meta_int(st, "settings_revision") > since;
    /* A snapshot (since 0) is answered at once when there is anything at all; an empty
     * call-center holds it like any long poll. */
    bool any = taken > 0 || settings_changed || (since == 0 && revision > 0);
    cJSON *answer = NULL;
    if (any) {
        answer = cJSON_CreateObject();
        /* A page that stopped early ends at its last change: sinceRevision=revision continues
         * exactly there. */
        cJSON_AddNumberToObject(answer, "revision", (double)(more ? last : revision));
        cJSON_AddItemToObject(answer, "orders", orders);
        cJSON_AddItemToObject(answer, "removedOrderIds", removed);
        if (limit > 0)
            cJSON_AddBoolToObject(answer, "more", more);
        if (settings_changed)
            cJSON_AddItemToObject(answer, "settings", settings_for(st, minor));
    } else {
        cJSON_Delete(orders);
        cJSON_Delete(removed);
    }
    pthread_mutex_unlock(&st->lock);
    if (any)
        ok(out, answer);
    return any;
}

/* An empty answer after a long poll's wait ran out. */
static cJSON *empty_orders_answer(int64_t revision)
{
    cJSON *answer = cJSON_CreateObject();
    cJSON_AddNumberToObject(answer, "revision", (double)revision);
    cJSON_AddItemToObject(answer, "orders", cJSON_CreateArray());
    cJSON_AddItemToObject(answer, "removedOrderIds", cJSON_CreateArray());
    return answer;
}

void cc_orders_empty(cc_state *st, cc_reply *out)
{
    pthread_mutex_lock(&st->lock);
    int64_t revision = meta_int(st, "revision");
    pthread_mutex_unlock(&st->lock);
    ok(out, empty_orders_answer(revision));
}

/* ---- commands ---- */

typedef struct outcome {
    const char *outcome; /* Applied | Rejected */
    const char *error;
    char description[256];
    char current_status[24];
    int64_t revision;
    int64_t block_first, block_last; /* ReserveNumbers: the block given; 0 otherwise */
} outcome;

static void reject(outcome *r, const char *error, const char *current, const char *fmt, ...)
{
    r->outcome = "Rejected";
    r->error = error;
    snprintf(r->current_status, sizeof r->current_status, "%s", current ? current : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->description, sizeof r->description, fmt, ap);
    va_end(ap);
}

static bool fully_paid(const cJSON *o)
{
    int64_t paid = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(o, "payments")) paid +=
        kopecks(cJSON_GetObjectItemCaseSensitive(p, "sum"));
    return paid >= kopecks(cJSON_GetObjectItemCaseSensitive(o, "resultSum"));
}

static void apply_change_status(cc_state *st, cJSON *o, const cJSON *cmd, outcome *r)
{
    (void)st;
    const char *cur = str(o, "status");
    const char *to = str(cmd, "status");
    const char *expected = str(cmd, "expectedStatus");
    if (!to) {
        reject(r, "BadRequest", NULL, "status is required");
        return;
    }
    if (expected && strcmp(expected, cur) != 0) {
        reject(r, "StatusConflict", cur, "order is %s at the call-center, not %s", cur, expected);
        return;
    }
    const char *why = cc_transition_refusal(cur, to);
    if (!why && strcmp(to, "OnWay") == 0 && strcmp(cur, "Waiting") == 0) {
        if (is_pickup(o))
            why = "a pickup order is not sent with a courier";
        else if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "courier")))
            why = "no courier assigned";
    }
    if (!why && strcmp(to, "Closed") == 0 && !fully_paid(o))
        why = "the order is not fully paid";
    if (!why && strcmp(to, "Closed") == 0 && strcmp(cur, "Waiting") == 0 && !is_pickup(o))
        why = "a courier order is closed after delivery";
    if (!why && strcmp(to, "Cancelled") == 0)
        why = "cancellation is a Cancel command with a cause";
    if (why) {
        reject(r, cc_status_final(cur) ? "StatusConflict" : "InvalidTransition", cur,
               "%s -> %s: %s", cur, to, why);
        return;
    }
    set_item(o, "status", cJSON_CreateString(to));
    if (strcmp(to, "Delivered") == 0 && !cJSON_GetObjectItemCaseSensitive(o, "actualDeliveryTime"))
        set_item(o, "actualDeliveryTime", cJSON_CreateString(str(cmd, "at") ? str(cmd, "at") : ""));
}

static void apply_cancel(cc_state *st, cJSON *o, const cJSON *cmd, outcome *r)
{
    const char *cur = str(o, "status");
    const char *cause_id = str(cmd, "cancelCauseId");
    cJSON *settings = settings_load(st);
    const cJSON *cause = find_cause(settings, cause_id);
    if (strcmp(cur, "Cancelled") == 0) {
        reject(r, "StatusConflict", cur, "order is already cancelled");
    } else if (!cause) {
        reject(r, "BadRequest", cur, "unknown cancel cause %s", cause_id ? cause_id : "(none)");
    } else {
        char t[32];
        cc_format_time(time(NULL), t);
        set_item(o, "cancelInfo",
                 cancel_info(cause, str(cmd, "comment"), str(cmd, "at") ? str(cmd, "at") : t));
        set_item(o, "status", cJSON_CreateString("Cancelled"));
    }
    cJSON_Delete(settings);
}

static void apply_assign_courier(cc_state *st, cJSON *o, const cJSON *cmd, outcome *r)
{
    const char *cur = str(o, "status");
    cJSON *settings = settings_load(st);
    const cJSON *c =
        find_by_id(cJSON_GetObjectItemCaseSensitive(settings, "couriers"), str(cmd, "courierId"));
    if (!c) {
        reject(r, "BadRequest", cur, "unknown courier %s",
               str(cmd, "courierId") ? str(cmd, "courierId") : "(none)");
    } else if (cc_status_final(cur) || !strcmp(cur, "OnWay") || !strcmp(cur, "Delivered")) {
        reject(r, "StatusConflict", cur, "the courier cannot change once the order is %s", cur);
    } else {
        cJSON *courier = cJSON_CreateObject();
        cJSON_AddStringToObject(courier, "id", str(c, "id"));
        cJSON_AddStringToObject(courier, "name", str(c, "name"));
        cJSON_AddStringToObject(courier, "phone", str(c, "phone") ? str(c, "phone") : "");
        set_item(o, "courier", courier);
    }
    cJSON_Delete(settings);
}

static void apply_pay(cJSON *o, const cJSON *cmd, outcome *r)
{
    const char *cur = str(o, "status");
    const cJSON *pays = cJSON_GetObjectItemCaseSensitive(cmd, "payments");
    if (cc_status_final(cur)) {
        reject(r, "StatusConflict", cur, "order is %s", cur);
        return;
    }
    if (!cJSON_IsArray(pays) || cJSON_GetArraySize(pays) == 0) {
        reject(r, "BadRequest", cur, "payments must be a non-empty array");
        return;
    }
    cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "payments");
    if (!cJSON_IsArray(list)) {
        list = cJSON_CreateArray();
        set_item(o, "payments", list);
    }
    /* Payments are added (protocol: a split payment is two Pay commands); each gets an id when
     * the order is stored, unless the terminal chose one. */
    const cJSON *p;
    cJSON_ArrayForEach(p, pays)
    {
        cJSON *copy = cJSON_Duplicate(p, 1);
        const char *id = str(copy, "id");
        if (id && find_by_id(list, id))
            cJSON_DeleteItemFromObjectCaseSensitive(copy, "id"); /* ids stay unique */
        if (!cJSON_GetObjectItemCaseSensitive(copy, "isProcessedExternally"))
            cJSON_AddBoolToObject(copy, "isProcessedExternally", 0);
        if (!cJSON_GetObjectItemCaseSensitive(copy, "isPrepay"))
            cJSON_AddBoolToObject(copy, "isPrepay", 0);
        if (!cJSON_GetObjectItemCaseSensitive(copy, "name"))
            cJSON_AddStringToObject(copy, "name", str(p, "kind") ? str(p, "kind") : "");
        cJSON_AddItemToArray(list, copy);
    }
}

static bool has_non_cash_payment(const cJSON *o)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(o, "payments"))
    {
        const char *kind = str(p, "kind");
        if (kind && strcmp(kind, "Cash") != 0)
            return true;
    }
    return false;
}

/* EditOrder: the fields a terminal may change, and until when. */
static const struct {
    const char *field;
    bool items; /* until Closed while no non-cash payment; the others until OnWay */
} editable[] = {
    {"items", true},  {"address", false},  {"comment", false},      {"completeBefore", false},
    {"phone", false}, {"customer", false}, {"personsCount", false},
};

static void apply_edit(cJSON *o, const cJSON *cmd, outcome *r)
{
    const char *cur = str(o, "status");
    const cJSON *expected = cJSON_GetObjectItemCaseSensitive(cmd, "expectedRevision");
    const cJSON *changes = cJSON_GetObjectItemCaseSensitive(cmd, "changes");
    if (!cJSON_IsNumber(expected) || !cJSON_IsObject(changes) || !changes->child) {
        reject(r, "BadRequest", cur, "EditOrder needs expectedRevision and non-empty changes");
        return;
    }
    int64_t revision = (int64_t)number_of(cJSON_GetObjectItemCaseSensitive(o, "revision"));
    if (cc_status_final(cur)) {
        reject(r, "StatusConflict", cur, "order is %s", cur);
        return;
    }
    if ((int64_t)expected->valuedouble != revision) {
        reject(r, "StatusConflict", cur, "order is at revision %lld, not %lld", (long long)revision,
               (long long)expected->valuedouble);
        return;
    }
    bool sent = strcmp(cur, "OnWay") == 0 || strcmp(cur, "Delivered") == 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, changes)
    {
        size_t i = 0;
        while (i < sizeof editable / sizeof *editable && strcmp(editable[i].field, c->string) != 0)
            i++;
        if (i == sizeof editable / sizeof *editable) {
            reject(r, "BadRequest", cur, "%s cannot be edited", c->string);
            return;
        }
        if (editable[i].items && (!cJSON_IsArray(c) || cJSON_GetArraySize(c) == 0)) {
            reject(r, "BadRequest", cur, "items must be a non-empty array");
            return;
        }
        if (editable[i].items && has_non_cash_payment(o)) {
            reject(r, "InvalidTransition", cur,
                   "items cannot change once a non-cash payment is processed");
            return;
        }
        if (!editable[i].items && sent) {
            reject(r, "InvalidTransition", cur, "%s cannot change once the order is %s", c->string,
                   cur);
            return;
        }
    }
    cJSON_ArrayForEach(c, changes) set_item(o, c->string, cJSON_Duplicate(c, 1));
    if (cJSON_GetObjectItemCaseSensitive(changes, "items"))
        recompute_sums(o);
}

static void apply_remove_payment(cJSON *o, const cJSON *cmd, outcome *r)
{
    const char *cur = str(o, "status");
    const char *id = str(cmd, "paymentId");
    cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "payments");
    if (!id) {
        reject(r, "BadRequest", cur, "paymentId is required");
        return;
    }
    if (cc_status_final(cur)) {
        reject(r, "StatusConflict", cur, "order is %s", cur);
        return;
    }
    int index = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, list)
    {
        if (str(p, "id") && strcmp(str(p, "id"), id) == 0) {
            cJSON_DeleteItemFromArray(list, index);
            return;
        }
        index++;
    }
    reject(r, "NotFound", cur, "order has no payment %s", id);
}

/* What a command changed (bits): an order of the sending terminal, or one without a terminal
 * (which every terminal sees). */
enum { CHANGED_OWN = 1, CHANGED_SHARED = 2 };

/* Applies one command inside the request's transaction. */
static void apply_command(cc_state *st, const char *terminal_id, const cJSON *cmd, outcome *r,
                          int *changed)
{
    const char *type = str(cmd, "type");
    r->outcome = "Applied";
    if (!type) {
        reject(r, "BadRequest", NULL, "command type is required");
        return;
    }
    if (strcmp(type, "CreateOrder") == 0) {
        const cJSON *order = cJSON_GetObjectItemCaseSensitive(cmd, "order");
        const char *id = str(order, "id");
        if (!cJSON_IsObject(order) || !id) {
            reject(r, "BadRequest", NULL, "CreateOrder needs an order with an id");
            return;
        }
        cJSON *existing = order_load(st, id, NULL);
        if (existing) {
            cJSON_Delete(existing);
            reject(r, "BadRequest", NULL, "order %s already exists", id);
            return;
        }
        cJSON *copy = cJSON_Duplicate(order, 1);
        cc_complete_order(copy, st->seq++, time(NULL), NULL);
        r->revision = order_save(st, copy, terminal_id);
        cJSON_Delete(copy);
        *changed |= CHANGED_OWN;
        return;
    }
    bool v1_1 = st->max_minor >= 1;
    if (v1_1 && strcmp(type, "ReserveNumbers") == 0) {
        const cJSON *count = cJSON_GetObjectItemCaseSensitive(cmd, "count");
        double n = count ? number_of(count) : CC_DEFAULT_BLOCK_SIZE;
        if (!(n >= 1 && n <= 100000) || n != (double)(int64_t)n) {
            reject(r, "BadRequest", NULL, "count must be a number from 1 to 100000");
            return;
        }
        reserve_block(st, terminal_id, (int64_t)n, &r->block_first, &r->block_last);
        r->revision = meta_int(st, "revision");
        return;
    }
    const char *order_id = str(cmd, "orderId");
    char *owner = NULL;
    cJSON *o = order_id ? order_load(st, order_id, &owner) : NULL;
    if (!o || (owner && strcmp(owner, terminal_id) != 0)) {
        reject(r, "NotFound", NULL, "order %s is not assigned to this terminal",
               order_id ? order_id : "(none)");
        cJSON_Delete(o);
        free(owner);
        return;
    }
    if (strcmp(type, "ChangeStatus") == 0)
        apply_change_status(st, o, cmd, r);
    else if (strcmp(type, "Cancel") == 0)
        apply_cancel(st, o, cmd, r);
    else if (strcmp(type, "AssignCourier") == 0)
        apply_assign_courier(st, o, cmd, r);
    else if (strcmp(type, "Pay") == 0)
        apply_pay(o, cmd, r);
    else if (v1_1 && strcmp(type, "EditOrder") == 0)
        apply_edit(o, cmd, r);
    else if (v1_1 && strcmp(type, "RemovePayment") == 0)
        apply_remove_payment(o, cmd, r);
    else if (strcmp(type, "SetActualDeliveryTime") == 0) {
        if (!str(cmd, "actualTime"))
            reject(r, "BadRequest", str(o, "status"), "actualTime is required");
        else
            set_item(o, "actualDeliveryTime", cJSON_CreateString(str(cmd, "actualTime")));
    } else if (strcmp(type, "DocumentPrinted") == 0) {
        /* Recorded in the command log; the order itself does not change. */
        r->revision = meta_int(st, "revision");
        cJSON_Delete(o);
        free(owner);
        return;
    } else
        reject(r, "BadRequest", str(o, "status"), "unknown command type %s", type);
    if (strcmp(r->outcome, "Applied") == 0) {
        r->revision = order_save(st, o, owner);
        *changed |= owner ? CHANGED_OWN : CHANGED_SHARED;
    }
    cJSON_Delete(o);
    free(owner);
}

static cJSON *outcome_json(const char *id, const outcome *r)
{
    cJSON *res = cJSON_CreateObject();
    cJSON_AddStringToObject(res, "id", id);
    cJSON_AddStringToObject(res, "outcome", r->outcome);
    if (strcmp(r->outcome, "Rejected") == 0) {
        cJSON_AddStringToObject(res, "error", r->error);
        cJSON_AddStringToObject(res, "description", r->description);
        if (r->current_status[0])
            cJSON_AddStringToObject(res, "currentStatus", r->current_status);
    } else {
        cJSON_AddNumberToObject(res, "revision", (double)r->revision);
        if (r->block_first > 0)
            cJSON_AddItemToObject(res, "numberBlock", block_json(r->block_first, r->block_last));
    }
    return res;
}

void cc_commands(cc_state *st, const char *terminal_id, const cJSON *body, cc_reply *out)
{
    const cJSON *cmds = cJSON_GetObjectItemCaseSensitive(body, "commands");
    if (!cJSON_IsArray(cmds)) {
        cc_error(out, 400, "BadRequest", "body must be {\"commands\":[...]}");
        return;
    }
    if (cJSON_GetArraySize(cmds) > 500) {
        cc_error(out, 400, "BadRequest", "at most 500 commands per request, got %d",
                 cJSON_GetArraySize(cmds));
        return;
    }
    const cJSON *c;
    int index = 0;
    cJSON_ArrayForEach(c, cmds)
    {
        const char *id = str(c, "id");
        if (!cJSON_IsObject(c) || !id || strlen(id) != 36) {
            cc_error(out, 400, "BadRequest", "commands[%d]: id must be a UUID", index);
            return;
        }
        index++;
    }
    pthread_mutex_lock(&st->lock);
    exec(st, "BEGIN IMMEDIATE");
    cJSON *results = cJSON_CreateArray();
    int changed = 0;
    cJSON_ArrayForEach(c, cmds)
    {
        const char *id = str(c, "id");
        sqlite3_stmt *s = cached(st, SQL_COMMAND_FIND);
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW) {
            cJSON *first = cJSON_Parse((const char *)sqlite3_column_text(s, 0));
            done(st, s);
            const char *o = str(first, "outcome");
            if (o && strcmp(o, "Applied") == 0)
                cJSON_ReplaceItemInObjectCaseSensitive(first, "outcome",
                                                       cJSON_CreateString("Duplicate"));
            cJSON_AddItemToArray(results, first);
            s = cached(st, SQL_COMMAND_AGAIN);
            sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
            sqlite3_step(s);
            done(st, s);
            continue;
        }
        done(st, s);
        outcome r = {0};
        apply_command(st, terminal_id, c, &r, &changed);
        cJSON *res = outcome_json(id, &r);
        char *text = cJSON_PrintUnformatted(res);
        s = cached(st, SQL_COMMAND_ADD);
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, terminal_id, -1, SQLITE_STATIC);
        const cJSON *order = cJSON_GetObjectItemCaseSensitive(c, "order");
        sqlite3_bind_text(s, 3, str(c, "orderId") ? str(c, "orderId") : str(order, "id"), -1,
                          SQLITE_STATIC);
        sqlite3_bind_text(s, 4, str(c, "type"), -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, r.outcome, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, r.error, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 7, text, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 8, strcmp(r.outcome, "Applied") == 0);
        sqlite3_step(s);
        done(st, s);
        free(text);
        cJSON_AddItemToArray(results, res);
    }
    cJSON *answer = cJSON_CreateObject();
    cJSON_AddNumberToObject(answer, "revision", (double)meta_int(st, "revision"));
    cJSON_AddItemToObject(answer, "results", results);
    exec(st, "COMMIT");
    pthread_mutex_unlock(&st->lock);
    if (changed)
        notify(st, changed & CHANGED_SHARED ? NULL : terminal_id);
    ok(out, answer);
}

void cc_heartbeat(cc_state *st, const char *terminal_id, const cJSON *body, cc_reply *out)
{
    const cJSON *pending = cJSON_GetObjectItemCaseSensitive(body, "pendingCommands");
    const cJSON *last = cJSON_GetObjectItemCaseSensitive(body, "lastRevision");
    if (!cJSON_IsNumber(pending) || !cJSON_IsNumber(last)) {
        cc_error(out, 400, "BadRequest", "pendingCommands and lastRevision must be numbers");
        return;
    }
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *s = prep(st, "UPDATE terminals SET pending_commands=?, last_revision=?,"
                               " last_seen=strftime('%s','now') WHERE id=?");
    sqlite3_bind_int64(s, 1, (int64_t)pending->valuedouble);
    sqlite3_bind_int64(s, 2, (int64_t)last->valuedouble);
    sqlite3_bind_text(s, 3, terminal_id, -1, SQLITE_STATIC);
    sqlite3_step(s);
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
    cJSON *answer = cJSON_CreateObject();
    char t[32];
    cc_format_time(time(NULL), t);
    cJSON_AddStringToObject(answer, "serverTime", t);
    ok(out, answer);
}

/* ---- admin ---- */

void cc_admin_terminal(cc_state *st, const char *terminal_id, bool add, cc_reply *out)
{
    if (!terminal_id || strlen(terminal_id) != 36) {
        cc_error(out, 400, "BadRequest", "terminal id must be a UUID");
        return;
    }
    pthread_mutex_lock(&st->lock);
    if (add) {
        add_terminal(st, terminal_id, NULL);
    } else {
        sqlite3_stmt *s = prep(st, "DELETE FROM terminals WHERE id=?");
        sqlite3_bind_text(s, 1, terminal_id, -1, SQLITE_STATIC);
        sqlite3_step(s);
        sqlite3_finalize(s);
        s = prep(st, "DELETE FROM sessions WHERE terminal_id=?");
        sqlite3_bind_text(s, 1, terminal_id, -1, SQLITE_STATIC);
        sqlite3_step(s);
        sqlite3_finalize(s);
    }
    pthread_mutex_unlock(&st->lock);
    cJSON *answer = cJSON_CreateObject();
    cJSON_AddStringToObject(answer, "terminalId", terminal_id);
    cJSON_AddBoolToObject(answer, "registered", add);
    ok(out, answer);
}

/* Creates an order from a (partial) ORDER; caller holds the lock. Returns the stored order. */
static cJSON *create_order_locked(cc_state *st, const cJSON *partial, const char *terminal)
{
    cJSON *o = partial ? cJSON_Duplicate(partial, 1) : cJSON_CreateObject();
    cJSON_DeleteItemFromObjectCaseSensitive(o, "terminalId");
    if (!cJSON_GetObjectItemCaseSensitive(o, "number")) {
        int64_t n = meta_int(st, "next_number");
        meta_set_int(st, "next_number", n + 1);
        cJSON_AddNumberToObject(o, "number", (double)n);
    }
    cc_complete_order(o, st->seq++, time(NULL), settings_ref(st));
    order_save(st, o, terminal);
    return o;
}

static const char *validate_partial(const cJSON *o)
{
    const char *status = str(o, "status");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
    if (st && !cc_status_known(status))
        return "status is not one of the ten delivery statuses";
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "serviceType");
    if (type && (!cJSON_IsString(type) || (strcmp(type->valuestring, "DeliveryByCourier") != 0 &&
                                           strcmp(type->valuestring, "DeliveryByClient") != 0)))
        return "serviceType must be DeliveryByCourier or DeliveryByClient";
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(o, "items");
    if (items && !cJSON_IsArray(items))
        return "items must be an array";
    const char *id = str(o, "id");
    if (cJSON_GetObjectItemCaseSensitive(o, "id") && (!id || strlen(id) != 36))
        return "id must be a UUID";
    return NULL;
}

void cc_admin_create_order(cc_state *st, const cJSON *body, cc_reply *out)
{
    if (body && !cJSON_IsObject(body)) {
        cc_error(out, 400, "BadRequest", "body must be an ORDER object (fields may be omitted)");
        return;
    }
    const char *why = validate_partial(body);
    if (why) {
        cc_error(out, 400, "BadRequest", "%s", why);
        return;
    }
    pthread_mutex_lock(&st->lock);
    const char *id = str(body, "id");
    cJSON *existing = id ? order_load(st, id, NULL) : NULL;
    if (existing) {
        pthread_mutex_unlock(&st->lock);
        cJSON_Delete(existing);
        cc_error(out, 409, "StatusConflict", "order %s already exists", id);
        return;
    }
    exec(st, "BEGIN");
    cJSON *o = create_order_locked(st, body, str(body, "terminalId"));
    exec(st, "COMMIT");
    pthread_mutex_unlock(&st->lock);
    notify(st, str(body, "terminalId"));
    ok(out, o);
}

void cc_admin_seed(cc_state *st, int count, const char *terminal_id)
{
    pthread_mutex_lock(&st->lock);
    exec(st, "BEGIN");
    for (int i = 0; i < count; i++)
        cJSON_Delete(create_order_locked(st, NULL, terminal_id));
    exec(st, "COMMIT");
    pthread_mutex_unlock(&st->lock);
    notify(st, terminal_id);
}

void cc_admin_generate(cc_state *st, const cJSON *body, cc_reply *out)
{
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(body, "count");
    if (!cJSON_IsNumber(count) || count->valuedouble < 1 || count->valuedouble > 100000) {
        cc_error(out, 400, "BadRequest", "count must be a number from 1 to 100000");
        return;
    }
    const char *terminal = str(body, "terminalId");
    pthread_mutex_lock(&st->lock);
    exec(st, "BEGIN");
    cJSON *ids = cJSON_CreateArray();
    for (int i = 0; i < (int)count->valuedouble; i++) {
        cJSON *o = create_order_locked(st, NULL, terminal);
        cJSON_AddItemToArray(ids, cJSON_CreateString(str(o, "id")));
        cJSON_Delete(o);
    }
    exec(st, "COMMIT");
    pthread_mutex_unlock(&st->lock);
    notify(st, terminal);
    cJSON *answer = cJSON_CreateObject();
    cJSON_AddItemToObject(answer, "orderIds", ids);
    ok(out, answer);
}

void cc_admin_get_order(cc_state *st, const char *order_id, cc_reply *out)
{
    pthread_mutex_lock(&st->lock);
    cJSON *o = order_load(st, order_id, NULL);
    pthread_mutex_unlock(&st->lock);
    if (!o)
        cc_error(out, 404, "NotFound", "no order %s", order_id);
    else
        ok(out, o);
}

/* The call-center changes an order as it likes: it is the source of truth. */
void cc_admin_change_order(cc_state *st, const char *order_id, const cJSON *body, cc_reply *out)
{
    if (!cJSON_IsObject(body)) {
        cc_error(out, 400, "BadRequest", "body must be an object of changes");
        return;
    }
    const char *status = str(body, "status");
    if (cJSON_GetObjectItemCaseSensitive(body, "status") && !cc_status_known(status)) {
        cc_error(out, 400, "BadRequest", "unknown status");
        return;
    }
    pthread_mutex_lock(&st->lock);
    char *owner = NULL;
    cJSON *o = order_load(st, order_id, &owner);
    if (!o) {
        pthread_mutex_unlock(&st->lock);
        cc_error(out, 404, "NotFound", "no order %s", order_id);
        return;
    }
    cJSON *settings = settings_load(st);
    const char *error = NULL;
    const char *cause_id = str(body, "cancelCauseId");
    /* The call-center may also cancel with a cause of its own, named in full: any non-empty id. */
    const cJSON *own_cause = cJSON_GetObjectItemCaseSensitive(body, "cancelCause");
    if (own_cause) {
        const char *id = str(own_cause, "id");
        if (!id || !*id || !str(own_cause, "name")) {
            error = "cancelCause needs a non-empty id and a name";
        } else {
            char t[32];
            cc_format_time(time(NULL), t);
            set_item(o, "cancelInfo", cancel_info(own_cause, str(body, "comment"), t));
            set_item(o, "status", cJSON_CreateString("Cancelled"));
        }
    } else if (cause_id) {
        const cJSON *cause = find_cause(settings, cause_id);
        if (!cause) {
            error = "unknown cancel cause";
        } else {
            char t[32];
            cc_format_time(time(NULL), t);
            set_item(o, "cancelInfo", cancel_info(cause, str(body, "comment"), t));
            set_item(o, "status", cJSON_CreateString("Cancelled"));
        }
    }
    if (status)
        set_item(o, "status", cJSON_CreateString(status));
    const char *courier_id = str(body, "courierId");
    if (courier_id && !error) {
        const cJSON *c =
            find_by_id(cJSON_GetObjectItemCaseSensitive(settings, "couriers"), courier_id);
        if (!c) {
            error = "unknown courier";
        } else {
            cJSON *courier = cJSON_CreateObject();
            cJSON_AddStringToObject(courier, "id", courier_id);
            cJSON_AddStringToObject(courier, "name", str(c, "name"));
            cJSON_AddStringToObject(courier, "phone", str(c, "phone") ? str(c, "phone") : "");
            set_item(o, "courier", courier);
        }
    }
    static const char *const copied[] = {"items",     "fullSum",  "discountSum", "surchargeSum",
                                         "resultSum", "payments", "comment",     "completeBefore",
                                         "problem",   "address",  "customer",    "phone"};
    for (size_t i = 0; i < sizeof copied / sizeof *copied; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, copied[i]);
        if (v)
            set_item(o, copied[i], cJSON_Duplicate(v, 1));
    }
    bool sums_named = cJSON_GetObjectItemCaseSensitive(body, "fullSum") ||
                      cJSON_GetObjectItemCaseSensitive(body, "resultSum");
    if (!sums_named && (cJSON_GetObjectItemCaseSensitive(body, "items") ||
                        cJSON_GetObjectItemCaseSensitive(body, "discountSum") ||
                        cJSON_GetObjectItemCaseSensitive(body, "surchargeSum")))
        recompute_sums(o);
    const cJSON *reassign = cJSON_GetObjectItemCaseSensitive(body, "terminalId");
    const char *new_owner = owner;
    if (reassign) {
        new_owner = cJSON_IsString(reassign) ? reassign->valuestring : NULL;
        if (owner && (!new_owner || strcmp(owner, new_owner) != 0)) {
            sqlite3_stmt *s = prep(st, "INSERT INTO moves(order_id, terminal_id, revision)"
                                       " VALUES(?, ?, ?)");
            sqlite3_bind_text(s, 1, order_id, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, owner, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 3, meta_int(st, "revision") + 1);
            sqlite3_step(s);
            sqlite3_finalize(s);
        }
    }
    cJSON_Delete(settings);
    if (error) {
        pthread_mutex_unlock(&st->lock);
        cJSON_Delete(o);
        free(owner);
        cc_error(out, 400, "BadRequest", "%s", error);
        return;
    }
    order_save(st, o, new_owner);
    pthread_mutex_unlock(&st->lock);
    /* Kept by its terminal: that terminal alone; moved, or without a terminal: everybody. */
    bool kept = owner && new_owner && strcmp(owner, new_owner) == 0;
    notify(st, kept ? owner : NULL);
    free(owner);
    ok(out, o);
}

void cc_admin_settings(cc_state *st, const cJSON *replace, cc_reply *out)
{
    if (replace) {
        if (!cJSON_IsObject(replace)) {
            cc_error(out, 400, "BadRequest", "settings must be an object");
            return;
        }
        pthread_mutex_lock(&st->lock);
        settings_store(st, replace);
        pthread_mutex_unlock(&st->lock);
        notify(st, NULL);
    }
    pthread_mutex_lock(&st->lock);
    cJSON *s = settings_load(st);
    pthread_mutex_unlock(&st->lock);
    ok(out, s);
}

void cc_admin_zones(cc_state *st, const cJSON *body, cc_reply *out)
{
    const cJSON *zones = cJSON_GetObjectItemCaseSensitive(body, "zones");
    const cJSON *z;
    bool valid = cJSON_IsArray(zones);
    cJSON_ArrayForEach(z, zones)
    {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(z, "travelMinutes");
        valid = valid && str(z, "region") && cJSON_IsNumber(m) && m->valuedouble >= 0 &&
                m->valuedouble <= 1440;
    }
    if (!valid) {
        cc_error(
            out, 400, "BadRequest",
            "body must be {\"zones\":[{\"region\":\"name or id\",\"travelMinutes\":0..1440}]}");
        return;
    }
    pthread_mutex_lock(&st->lock);
    cJSON *settings = settings_load(st);
    cJSON *regions = cJSON_GetObjectItemCaseSensitive(settings, "regions");
    if (!cJSON_IsArray(regions)) {
        regions = cJSON_CreateArray();
        set_item(settings, "regions", regions);
    }
    cJSON_ArrayForEach(z, zones)
    {
        const char *name = str(z, "region");
        cJSON *r = NULL, *it;
        cJSON_ArrayForEach(it, regions)
        {
            if ((str(it, "name") && strcmp(str(it, "name"), name) == 0) ||
                (str(it, "id") && strcmp(str(it, "id"), name) == 0))
                r = it;
        }
        if (!r) {
            char id[37];
            cc_new_uuid(id);
            r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "id", id);
            cJSON_AddStringToObject(r, "name", name);
            cJSON_AddItemToArray(regions, r);
        }
        set_item(
            r, "travelMinutes",
            cJSON_CreateNumber(cJSON_GetObjectItemCaseSensitive(z, "travelMinutes")->valuedouble));
    }
    settings_store(st, settings);
    pthread_mutex_unlock(&st->lock);
    notify(st, NULL);
    ok(out, settings);
}

void cc_admin_log(cc_state *st, cc_reply *out)
{
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *s = prep(st, "SELECT id, terminal_id, order_id, type, outcome, error, received,"
                               " applied FROM commands ORDER BY seq");
    cJSON *list = cJSON_CreateArray();
    while (sqlite3_step(s) == SQLITE_ROW) {
        cJSON *e = cJSON_CreateObject();
        static const char *const names[] = {"id",   "terminalId", "orderId",
                                            "type", "outcome",    "error"};
        for (int i = 0; i < 6; i++) {
            const unsigned char *v = sqlite3_column_text(s, i);
            if (v)
                cJSON_AddStringToObject(e, names[i], (const char *)v);
            else
                cJSON_AddNullToObject(e, names[i]);
        }
        cJSON_AddNumberToObject(e, "received", sqlite3_column_int(s, 6));
        cJSON_AddNumberToObject(e, "applied", sqlite3_column_int(s, 7));
        cJSON_AddItemToArray(list, e);
    }
    sqlite3_finalize(s);
    cJSON *answer = cJSON_CreateObject();
    cJSON_AddNumberToObject(answer, "revision", (double)meta_int(st, "revision"));
    cJSON_AddItemToObject(answer, "commands", list);
    pthread_mutex_unlock(&st->lock);
    ok(out, answer);
}

void cc_admin_terminals(cc_state *st, cc_reply *out)
{
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *s = prep(st, "SELECT id, name, last_seen, pending_commands, last_revision,"
                               " block_first, block_last FROM terminals ORDER BY registered_at");
    cJSON *list = cJSON_CreateArray();
    while (sqlite3_step(s) == SQLITE_ROW) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "terminalId", (const char *)sqlite3_column_text(s, 0));
        cJSON_AddStringToObject(e, "name", (const char *)sqlite3_column_text(s, 1));
        char t[32];
        cc_format_time((time_t)sqlite3_column_int64(s, 2), t);
        cJSON_AddStringToObject(e, "lastSeen", t);
        cJSON_AddNumberToObject(e, "pendingCommands", sqlite3_column_int(s, 3));
        cJSON_AddNumberToObject(e, "lastRevision", (double)sqlite3_column_int64(s, 4));
        if (sqlite3_column_type(s, 5) != SQLITE_NULL)
            cJSON_AddItemToObject(
                e, "numberBlock",
                block_json(sqlite3_column_int64(s, 5), sqlite3_column_int64(s, 6)));
        cJSON_AddItemToArray(list, e);
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
    cJSON *answer = cJSON_CreateObject();
    cJSON_AddItemToObject(answer, "terminals", list);
    ok(out, answer);
}

void cc_admin_expire_sessions(cc_state *st, cc_reply *out)
{
    pthread_mutex_lock(&st->lock);
    exec(st, "UPDATE sessions SET expires_at = 0");
    int n = sqlite3_changes(st->db);
    pthread_mutex_unlock(&st->lock);
    cJSON *answer = cJSON_CreateObject();
    cJSON_AddNumberToObject(answer, "expired", n);
    ok(out, answer);
}
