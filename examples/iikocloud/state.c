/* The sandbox's state in SQLite and iikoCloud's server-side behaviour: tokens, dictionaries,
 * orders with 64-bit revisions, and commands that answer a correlationId at once and apply later
 * (commands/status follows them). One mutex serialises every call; the HTTP layer never touches
 * the database itself. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iikocloud.h"

#define DEFAULT_ORGANIZATION "7bc05553-4b68-44e8-b7bc-37be63c6d9e9"
#define DEFAULT_TERMINAL_GROUP "8b6f3e1a-2c4d-4e5f-9a0b-1c2d3e4f5a6b"
#define ORGANIZATION_NAME "Пиццерия «Сандбокс»"

struct ik_state {
    sqlite3 *db;
    pthread_mutex_t lock;
    char api_login[128];
    int token_ttl;
    int apply_delay_ms;
    char organization[37];
    char terminal_group[37];
    unsigned seq;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS tokens(token TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS terminal_groups(id TEXT PRIMARY KEY, name TEXT NOT NULL,"
    " alive INTEGER NOT NULL DEFAULT 1);"
    "CREATE TABLE IF NOT EXISTS orders(id TEXT PRIMARY KEY, organization_id TEXT NOT NULL,"
    " revision INTEGER NOT NULL, timestamp INTEGER NOT NULL, creation_status TEXT NOT NULL,"
    " error_info TEXT, json TEXT);"
    "CREATE INDEX IF NOT EXISTS orders_revision ON orders(revision);"
    "CREATE TABLE IF NOT EXISTS commands(correlation_id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
    " endpoint TEXT NOT NULL, organization_id TEXT, order_id TEXT, body TEXT NOT NULL,"
    " state TEXT NOT NULL, error TEXT, apply_at INTEGER NOT NULL, polls_left INTEGER NOT NULL);";

/* ---- errors and replies ---- */

static void new_correlation(char out[37])
{
    ik_new_uuid(out);
}

void ik_error(ik_reply *out, int status, const char *code, const char *fmt, ...)
{
    char text[512], corr[37];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    new_correlation(corr);
    out->status = status;
    out->body = cJSON_CreateObject();
    cJSON_AddStringToObject(out->body, "correlationId", corr);
    cJSON_AddStringToObject(out->body, "errorDescription", text);
    cJSON_AddStringToObject(out->body, "error", code);
}

/* A 200 answer that starts with a fresh correlationId, as every iikoCloud answer does. */
static cJSON *answer(ik_reply *out)
{
    char corr[37];
    new_correlation(corr);
    out->status = 200;
    out->body = cJSON_CreateObject();
    cJSON_AddStringToObject(out->body, "correlationId", corr);
    return out->body;
}

/* ---- small SQLite and JSON helpers ---- */

static sqlite3_stmt *prep(ik_state *st, const char *sql)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        fprintf(stderr, "iikocloud: SQL error: %s in %s\n", sqlite3_errmsg(st->db), sql);
    return s;
}

static void exec(ik_state *st, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "iikocloud: SQL error: %s in %s\n", msg, sql);
        sqlite3_free(msg);
    }
}

static bool meta_get(ik_state *st, const char *key, char *out, size_t n)
{
    sqlite3_stmt *s = prep(st, "SELECT value FROM meta WHERE key=?");
    bool found = false;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0)) {
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(s, 0));
        found = true;
    }
    sqlite3_finalize(s);
    return found;
}

static void meta_set(ik_state *st, const char *key, const char *value)
{
    sqlite3_stmt *s = prep(st, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)");
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
    sqlite3_step(s);
    sqlite3_finalize(s);
}

static int64_t meta_int(ik_state *st, const char *key)
{
    char v[32];
    return meta_get(st, key, v, sizeof v) ? strtoll(v, NULL, 10) : 0;
}

static void meta_set_int(ik_state *st, const char *key, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    meta_set(st, key, buf);
}

/* Revisions are 64-bit and start above 2^32 (ik_options.start_revision) so that a client
 * keeping them in 32 bits fails at once. */
static int64_t bump_revision(ik_state *st)
{
    int64_t r = meta_int(st, "revision") + 1;
    meta_set_int(st, "revision", r);
    return r;
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

static void set_string(cJSON *o, const char *key, const char *value)
{
    set_item(o, key, value ? cJSON_CreateString(value) : cJSON_CreateNull());
}

static void set_now(cJSON *o, const char *key, const char *given)
{
    char now[32];
    ik_format_time(ik_now_ms(), false, now);
    set_string(o, key, given ? given : now);
}

static bool list_has(const cJSON *list, const char *value)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, value) == 0)
            return true;
    }
    return false;
}

/* ---- open / close ---- */

static void seed_group(ik_state *st, const char *id, const char *name)
{
    sqlite3_stmt *s = prep(st, "INSERT OR IGNORE INTO terminal_groups(id, name) VALUES(?, ?)");
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    sqlite3_step(s);
    sqlite3_finalize(s);
}

ik_state *ik_state_open(const ik_options *opts, char *err, size_t errlen)
{
    if ((opts->organization_id && !ik_is_uuid(opts->organization_id)) ||
        (opts->terminal_group_id && !ik_is_uuid(opts->terminal_group_id))) {
        snprintf(err, errlen, "organization and terminal group ids must be UUIDs");
        return NULL;
    }
    ik_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (sqlite3_open(opts->db_path, &st->db) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", opts->db_path, sqlite3_errmsg(st->db));
        goto fail_db;
    }
    sqlite3_busy_timeout(st->db, 5000);
    exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    exec(st, schema);
    pthread_mutex_init(&st->lock, NULL);
    snprintf(st->api_login, sizeof st->api_login, "%s", opts->api_login);
    st->token_ttl = opts->token_ttl_seconds;
    st->apply_delay_ms = opts->apply_delay_ms;
    if (meta_int(st, "revision") == 0)
        meta_set_int(st, "revision", opts->start_revision);
    if (meta_int(st, "next_number") == 0)
        meta_set_int(st, "next_number", 1001);
    if (opts->organization_id)
        meta_set(st, "organization", opts->organization_id);
    if (!meta_get(st, "organization", st->organization, sizeof st->organization)) {
        meta_set(st, "organization", DEFAULT_ORGANIZATION);
        snprintf(st->organization, sizeof st->organization, "%s", DEFAULT_ORGANIZATION);
    }
    if (opts->terminal_group_id)
        meta_set(st, "terminal_group", opts->terminal_group_id);
    if (!meta_get(st, "terminal_group", st->terminal_group, sizeof st->terminal_group)) {
        meta_set(st, "terminal_group", DEFAULT_TERMINAL_GROUP);
        snprintf(st->terminal_group, sizeof st->terminal_group, "%s", DEFAULT_TERMINAL_GROUP);
    }
    seed_group(st, st->terminal_group, "Кухня на Тверской");
    st->seq = (unsigned)meta_int(st, "seq");
    return st;

fail_db:
    sqlite3_close(st->db);
    free(st);
    return NULL;
}

void ik_state_close(ik_state *st)
{
    if (!st)
        return;
    sqlite3_close(st->db);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

const char *ik_state_organization(const ik_state *st)
{
    return st->organization;
}

const char *ik_state_terminal_group(const ik_state *st)
{
    return st->terminal_group;
}

/* ---- access_token ---- */

void ik_access_token(ik_state *st, const ik_call *call, ik_reply *out)
{
    const char *login = str(call->body, "apiLogin");
    if (!login) {
        ik_error(out, 400, "BadRequest", "apiLogin is required");
        return;
    }
    if (strcmp(login, st->api_login) != 0) {
        ik_error(out, 401, "Unauthorized", "Login '%s' is not authorized", login);
        return;
    }
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    char a[37], b[37], token[49];
    ik_new_uuid(a);
    ik_new_uuid(b);
    for (int i = 0; i < 48; i++) {
        unsigned char c =
            (unsigned char)(i < 24 ? a[i + (i >= 8) + (i >= 12) + (i >= 16)] : b[i - 24]);
        token[i] = alphabet[(c * 31u + (unsigned)i * 7u) % 62u];
    }
    token[48] = '\0';
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *s = prep(st, "INSERT INTO tokens(token, expires_at) VALUES(?, ?)");
    sqlite3_bind_text(s, 1, token, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, ik_now_ms() + (int64_t)st->token_ttl * 1000);
    sqlite3_step(s);
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
    cJSON_AddStringToObject(answer(out), "token", token);
}

int ik_authorize(ik_state *st, const char *authorization, ik_reply *out)
{
    if (!authorization || strncmp(authorization, "Bearer ", 7) != 0) {
        ik_error(out, 401, "Unauthorized", "Authorization: Bearer <token> is required");
        return -1;
    }
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *s = prep(st, "SELECT expires_at FROM tokens WHERE token=?");
    sqlite3_bind_text(s, 1, authorization + 7, -1, SQLITE_STATIC);
    int64_t expires = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
    if (expires < 0) {
        ik_error(out, 401, "Unauthorized", "Token is not valid");
        return -1;
    }
    if (expires <= ik_now_ms()) {
        ik_error(out, 401, "Unauthorized", "Token is expired");
        return -1;
    }
    return 0;
}

void ik_admin_expire_tokens(ik_state *st, ik_reply *out)
{
    pthread_mutex_lock(&st->lock);
    exec(st, "UPDATE tokens SET expires_at=0");
    int n = sqlite3_changes(st->db);
    pthread_mutex_unlock(&st->lock);
    out->status = 200;
    out->body = cJSON_CreateObject();
    cJSON_AddNumberToObject(out->body, "expired", n);
}

/* ---- dictionaries ---- */

/* organizationIds (when given) must name this sandbox's organization. */
static bool organizations_ok(ik_state *st, const cJSON *body, const char *key, bool required,
                             ik_reply *out)
{
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(body, key);
    if (!ids || cJSON_IsNull(ids)) {
        if (required)
            ik_error(out, 400, "BadRequest", "%s is required", key);
        return !required;
    }
    const cJSON *it;
    bool ok = cJSON_IsArray(ids);
    cJSON_ArrayForEach(it, ids)
    {
        ok &= cJSON_IsString(it) && strcmp(it->valuestring, st->organization) == 0;
    }
    if (!ok)
        ik_error(out, 400, "BadRequest", "%s: unknown organization (this sandbox serves %s)", key,
                 st->organization);
    return ok;
}

static bool organization_ok(ik_state *st, const cJSON *body, ik_reply *out)
{
    const char *org = str(body, "organizationId");
    if (!org || strcmp(org, st->organization) != 0) {
        ik_error(out, 400, "BadRequest", "organizationId: unknown organization '%s'",
                 org ? org : "");
        return false;
    }
    return true;
}

void ik_organizations(ik_state *st, const ik_call *call, ik_reply *out)
{
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(call->body, "organizationIds");
    cJSON *list = cJSON_AddArrayToObject(answer(out), "organizations");
    if (cJSON_IsArray(ids) && !list_has(ids, st->organization))
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "responseType", "Simple");
    cJSON_AddStringToObject(o, "id", st->organization);
    cJSON_AddStringToObject(o, "name", ORGANIZATION_NAME);
    cJSON_AddStringToObject(o, "code", "1");
    cJSON_AddItemToArray(list, o);
}

void ik_terminal_groups(ik_state *st, const ik_call *call, ik_reply *out)
{
    if (!organizations_ok(st, call->body, "organizationIds", true, out))
        return;
    cJSON *body = answer(out);
    cJSON *groups = cJSON_AddArrayToObject(body, "terminalGroups");
    cJSON_AddArrayToObject(body, "terminalGroupsInSleep");
    cJSON *org = cJSON_CreateObject();
    cJSON_AddStringToObject(org, "organizationId", st->organization);
    cJSON *items = cJSON_AddArrayToObject(org, "items");
    cJSON_AddItemToArray(groups, org);
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *s = prep(st, "SELECT id, name FROM terminal_groups ORDER BY rowid");
    while (sqlite3_step(s) == SQLITE_ROW) {
        cJSON *g = cJSON_CreateObject();
        cJSON_AddStringToObject(g, "id", (const char *)sqlite3_column_text(s, 0));
        cJSON_AddStringToObject(g, "organizationId", st->organization);
        cJSON_AddStringToObject(g, "name", (const char *)sqlite3_column_text(s, 1));
        cJSON_AddStringToObject(g, "address", "Москва, Тверская улица, 1");
        cJSON_AddStringToObject(g, "timeZone", "Russian Standard Time");
        cJSON_AddItemToArray(items, g);
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
}

void ik_is_alive(ik_state *st, const ik_call *call, ik_reply *out)
{
    if (!organizations_ok(st, call->body, "organizationIds", true, out))
        return;
    const cJSON *wanted = cJSON_GetObjectItemCaseSensitive(call->body, "terminalGroupIds");
    if (!cJSON_IsArray(wanted)) {
        ik_error(out, 400, "BadRequest", "terminalGroupIds is required");
        return;
    }
    cJSON *list = cJSON_AddArrayToObject(answer(out), "isAliveStatus");
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *s = prep(st, "SELECT id, alive FROM terminal_groups ORDER BY rowid");
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(s, 0);
        if (!list_has(wanted, id))
            continue;
        cJSON *a = cJSON_CreateObject();
        cJSON_AddBoolToObject(a, "isAlive", sqlite3_column_int(s, 1));
        cJSON_AddStringToObject(a, "terminalGroupId", id);
        cJSON_AddStringToObject(a, "organizationId", st->organization);
        cJSON_AddItemToArray(list, a);
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
}

void ik_cancel_causes(ik_state *st, const ik_call *call, ik_reply *out)
{
    if (!organizations_ok(st, call->body, "organizationIds", true, out))
        return;
    cJSON *list = cJSON_AddArrayToObject(answer(out), "cancelCauses");
    for (const ik_named *c = ik_cancel_cause_table; c->id; c++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", c->id);
        cJSON_AddStringToObject(o, "name", c->name);
        cJSON_AddBoolToObject(o, "isDeleted", 0);
        cJSON_AddItemToArray(list, o);
    }
}

/* A per-organization list: {"<key>":[{"organizationId", "items":[...]}]}; returns the items. */
static cJSON *by_organization(ik_state *st, ik_reply *out, const char *key)
{
    cJSON *list = cJSON_AddArrayToObject(answer(out), key);
    cJSON *org = cJSON_CreateObject();
    cJSON_AddStringToObject(org, "organizationId", st->organization);
    cJSON_AddItemToArray(list, org);
    return cJSON_AddArrayToObject(org, "items");
}

void ik_couriers(ik_state *st, const ik_call *call, ik_reply *out)
{
    if (!organizations_ok(st, call->body, "organizationIds", true, out))
        return;
    cJSON *items = by_organization(st, out, "employees");
    int code = 1;
    for (const ik_named *c = ik_courier_table; c->id; c++, code++) {
        char first[64], last[64], code_text[16];
        const char *space = strchr(c->name, ' ');
        snprintf(first, sizeof first, "%.*s", (int)(space - c->name), c->name);
        snprintf(last, sizeof last, "%s", space + 1);
        snprintf(code_text, sizeof code_text, "%d", code);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", c->id);
        cJSON_AddStringToObject(o, "firstName", first);
        cJSON_AddNullToObject(o, "middleName");
        cJSON_AddStringToObject(o, "lastName", last);
        cJSON_AddStringToObject(o, "displayName", c->name);
        cJSON_AddStringToObject(o, "code", code_text);
        cJSON_AddBoolToObject(o, "isDeleted", 0);
        cJSON_AddItemToArray(items, o);
    }
}

void ik_payment_types(ik_state *st, const ik_call *call, ik_reply *out)
{
    if (!organizations_ok(st, call->body, "organizationIds", true, out))
        return;
    cJSON *list = cJSON_AddArrayToObject(answer(out), "paymentTypes");
    static const char *const codes[] = {"CASH", "CARD", "SITE"};
    int i = 0;
    for (const ik_named *p = ik_payment_type_table; p->id; p++, i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", p->id);
        cJSON_AddStringToObject(o, "code", codes[i]);
        cJSON_AddStringToObject(o, "name", p->name);
        cJSON_AddStringToObject(o, "comment", "");
        cJSON_AddBoolToObject(o, "combinable", 1);
        cJSON_AddNumberToObject(o, "externalRevision", 1);
        cJSON_AddArrayToObject(o, "applicableMarketingCampaigns");
        cJSON_AddBoolToObject(o, "isDeleted", 0);
        cJSON_AddBoolToObject(o, "printCheque", 1);
        cJSON_AddStringToObject(o, "paymentProcessingType", "Both");
        cJSON_AddStringToObject(o, "paymentTypeKind", p->extra);
        cJSON *groups = cJSON_AddArrayToObject(o, "terminalGroups");
        cJSON *g = cJSON_CreateObject();
        cJSON_AddStringToObject(g, "id", st->terminal_group);
        cJSON_AddStringToObject(g, "organizationId", st->organization);
        cJSON_AddStringToObject(g, "name", "Кухня на Тверской");
        cJSON_AddItemToArray(groups, g);
        cJSON_AddItemToArray(list, o);
    }
}

void ik_cities(ik_state *st, const ik_call *call, ik_reply *out)
{
    if (!organizations_ok(st, call->body, "organizationIds", true, out))
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", ik_city.id);
    cJSON_AddStringToObject(o, "name", ik_city.name);
    cJSON_AddNumberToObject(o, "externalRevision", 1);
    cJSON_AddNullToObject(o, "classifierId");
    cJSON_AddNullToObject(o, "additionalInfo");
    cJSON_AddBoolToObject(o, "isDeleted", 0);
    cJSON_AddItemToArray(by_organization(st, out, "cities"), o);
}

void ik_regions(ik_state *st, const ik_call *call, ik_reply *out)
{
    if (!organizations_ok(st, call->body, "organizationIds", true, out))
        return;
    cJSON *items = by_organization(st, out, "regions");
    for (const ik_named *r = ik_region_table; r->id; r++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", r->id);
        cJSON_AddStringToObject(o, "name", r->name);
        cJSON_AddBoolToObject(o, "isDeleted", 0);
        cJSON_AddItemToArray(items, o);
    }
}

/* ---- orders ---- */

/* Caller holds the lock. The stored `order` object, or NULL (unknown, or not created yet). */
static cJSON *load_order(ik_state *st, const char *id)
{
    sqlite3_stmt *s = prep(st, "SELECT json FROM orders WHERE id=?");
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    cJSON *o = NULL;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
        o = cJSON_Parse((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return o;
}

/* Caller holds the lock. Stores the order (created or changed) under a new revision. */
static void store_order(ik_state *st, const char *id, const cJSON *order)
{
    char *text = cJSON_PrintUnformatted(order);
    sqlite3_stmt *s = prep(st, "INSERT INTO orders(id, organization_id, revision, timestamp,"
                               " creation_status, json) VALUES(?, ?, ?, ?, 'Success', ?)"
                               " ON CONFLICT(id) DO UPDATE SET revision=excluded.revision,"
                               " timestamp=excluded.timestamp, creation_status='Success',"
                               " error_info=NULL, json=excluded.json");
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, st->organization, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, bump_revision(st));
    sqlite3_bind_int64(s, 4, ik_now_ms());
    sqlite3_bind_text(s, 5, text, -1, SQLITE_STATIC);
    sqlite3_step(s);
    sqlite3_finalize(s);
    free(text);
}

/* The OrderInfo wrapper of a row: id, posId, externalNumber, organizationId, timestamp,
 * creationStatus, errorInfo, order. */
static cJSON *order_info(sqlite3_stmt *s)
{
    cJSON *info = cJSON_CreateObject();
    const char *json = (const char *)sqlite3_column_text(s, 5);
    cJSON *order = json ? cJSON_Parse(json) : NULL;
    cJSON_AddStringToObject(info, "id", (const char *)sqlite3_column_text(s, 0));
    cJSON_AddNullToObject(info, "posId");
    const char *ext = str(order, "externalNumber");
    if (ext)
        cJSON_AddStringToObject(info, "externalNumber", ext);
    else
        cJSON_AddNullToObject(info, "externalNumber");
    cJSON_AddStringToObject(info, "organizationId", (const char *)sqlite3_column_text(s, 1));
    cJSON_AddNumberToObject(info, "timestamp", (double)sqlite3_column_int64(s, 2));
    cJSON_AddStringToObject(info, "creationStatus", (const char *)sqlite3_column_text(s, 3));
    const char *error = (const char *)sqlite3_column_text(s, 4);
    cJSON *error_info = error ? cJSON_Parse(error) : NULL;
    cJSON_AddItemToObject(info, "errorInfo", error_info ? error_info : cJSON_CreateNull());
    if (order)
        cJSON_DeleteItemFromObjectCaseSensitive(order, "externalNumber");
    cJSON_AddItemToObject(info, "order", order ? order : cJSON_CreateNull());
    return info;
}

#define INFO_COLUMNS "id, organization_id, timestamp, creation_status, error_info, json"

static void apply_due(ik_state *st);

void ik_by_revision(ik_state *st, const ik_call *call, ik_reply *out)
{
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(call->body, "startRevision");
    if (!cJSON_IsNumber(start) || start->valuedouble < 0) {
        ik_error(out, 400, "BadRequest", "startRevision must be a revision >= 0");
        return;
    }
    if (!organizations_ok(st, call->body, "organizationIds", true, out))
        return;
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(call->body, "sourceKeys");
    cJSON *body = answer(out);
    pthread_mutex_lock(&st->lock);
    apply_due(st);
    cJSON_AddNumberToObject(body, "maxRevision", (double)meta_int(st, "revision"));
    cJSON *list = cJSON_AddArrayToObject(body, "ordersByOrganizations");
    cJSON *org = cJSON_CreateObject();
    cJSON_AddStringToObject(org, "organizationId", st->organization);
    cJSON *orders = cJSON_AddArrayToObject(org, "orders");
    cJSON_AddItemToArray(list, org);
    sqlite3_stmt *s = prep(st, "SELECT " INFO_COLUMNS " FROM orders WHERE revision>? AND"
                               " organization_id=? AND json IS NOT NULL ORDER BY revision");
    sqlite3_bind_int64(s, 1, (sqlite3_int64)start->valuedouble);
    sqlite3_bind_text(s, 2, st->organization, -1, SQLITE_STATIC);
    while (sqlite3_step(s) == SQLITE_ROW) {
        cJSON *info = order_info(s);
        const char *source = str(cJSON_GetObjectItemCaseSensitive(info, "order"), "sourceKey");
        if (cJSON_IsArray(keys) && cJSON_GetArraySize(keys) > 0 &&
            (!source || !list_has(keys, source)))
            cJSON_Delete(info);
        else
            cJSON_AddItemToArray(orders, info);
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
}

void ik_by_id(ik_state *st, const ik_call *call, ik_reply *out)
{
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(call->body, "orderIds");
    if (!organization_ok(st, call->body, out))
        return;
    if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) == 0) {
        ik_error(out, 400, "BadRequest", "orderIds is required");
        return;
    }
    cJSON *orders = cJSON_AddArrayToObject(answer(out), "orders");
    pthread_mutex_lock(&st->lock);
    apply_due(st);
    const cJSON *id;
    cJSON_ArrayForEach(id, ids)
    {
        if (!cJSON_IsString(id))
            continue;
        sqlite3_stmt *s = prep(st, "SELECT " INFO_COLUMNS " FROM orders WHERE id=?");
        sqlite3_bind_text(s, 1, id->valuestring, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW)
            cJSON_AddItemToArray(orders, order_info(s));
        sqlite3_finalize(s);
    }
    pthread_mutex_unlock(&st->lock);
}

/* Caller holds the lock. A new order in the sandbox: number, ids, stored under a revision. */
static void insert_order(ik_state *st, const char *id, cJSON *order)
{
    int64_t number = meta_int(st, "next_number");
    meta_set_int(st, "next_number", number + 1);
    set_item(order, "number", cJSON_CreateNumber((double)number));
    store_order(st, id, order);
}

/* ---- commands ---- */

static bool status_is(const cJSON *order, const char *const *set)
{
    const char *status = str(order, "status");
    for (; status && *set; set++)
        if (strcmp(status, *set) == 0)
            return true;
    return false;
}

static const char *const final_statuses[] = {"Closed", "Cancelled", NULL};

static bool is_pickup(const cJSON *order)
{
    const char *type =
        str(cJSON_GetObjectItemCaseSensitive(order, "orderType"), "orderServiceType");
    return type && strcmp(type, "DeliveryByClient") == 0;
}

static double payments_sum(const cJSON *order)
{
    double sum = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(order, "payments"))
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, "sum");
        sum += cJSON_IsNumber(v) ? v->valuedouble : 0;
    }
    return sum;
}

/* Each apply function changes `order` (already loaded) as the command asks, or returns the reason
 * it cannot (the command's Error). */
typedef const char *(*apply_fn)(ik_state *st, const cJSON *body, cJSON *order, char *why, size_t n);

static const char *apply_confirm(ik_state *st, const cJSON *body, cJSON *order, char *why, size_t n)
{
    (void)st;
    (void)body;
    if (strcmp(str(order, "status"), "Unconfirmed") != 0) {
        snprintf(why, n, "Delivery is not Unconfirmed (status %s)", str(order, "status"));
        return why;
    }
    set_string(order, "status", "WaitCooking");
    set_now(order, "whenConfirmed", NULL);
    return NULL;
}

/* update_order_delivery_status switches between Waiting, OnWay and Delivered only; the cooking
 * statuses before them are the kitchen's (admin API). */
static const char *apply_delivery_status(ik_state *st, const cJSON *body, cJSON *order, char *why,
                                         size_t n)
{
    (void)st;
    static const char *const from[] = {"CookingCompleted", "Waiting", "OnWay", "Delivered", NULL};
    const char *to = str(body, "deliveryStatus");
    if (!status_is(order, from) || strcmp(str(order, "status"), to) == 0) {
        snprintf(why, n, "Cannot change delivery status from %s to %s", str(order, "status"), to);
        return why;
    }
    if (strcmp(to, "OnWay") == 0) {
        if (is_pickup(order)) {
            snprintf(why, n, "A pickup order is never OnWay");
            return why;
        }
        set_now(order, "whenSended", NULL);
    }
    if (strcmp(to, "Delivered") == 0)
        set_now(order, "whenDelivered", str(body, "deliveryDate"));
    set_string(order, "status", to);
    return NULL;
}

static const char *apply_close(ik_state *st, const cJSON *body, cJSON *order, char *why, size_t n)
{
    (void)st;
    static const char *const courier_from[] = {"OnWay", "Delivered", NULL};
    static const char *const pickup_from[] = {"CookingCompleted", "Waiting", "OnWay", "Delivered",
                                              NULL};
    if (!status_is(order, is_pickup(order) ? pickup_from : courier_from)) {
        snprintf(why, n, "Cannot close delivery in status %s", str(order, "status"));
        return why;
    }
    double sum = cJSON_GetObjectItemCaseSensitive(order, "sum")->valuedouble;
    if (payments_sum(order) + 0.005 < sum) {
        snprintf(why, n, "Delivery is not fully paid: %.2f of %.2f", payments_sum(order), sum);
        return why;
    }
    set_string(order, "status", "Closed");
    const char *date = str(body, "deliveryDate");
    if (!str(order, "whenDelivered"))
        set_now(order, "whenDelivered", date);
    set_now(order, "whenClosed", date);
    return NULL;
}

static const char *apply_cancel(ik_state *st, const cJSON *body, cJSON *order, char *why, size_t n)
{
    (void)st;
    if (status_is(order, final_statuses)) {
        snprintf(why, n, "Cannot cancel delivery in status %s", str(order, "status"));
        return why;
    }
    const char *cause_id = str(body, "cancelCauseId");
    const ik_named *cause = ik_find(ik_cancel_cause_table, cause_id);
    if (cause_id && !cause) {
        snprintf(why, n, "Cancel cause %s not found", cause_id);
        return why;
    }
    cJSON *info = cJSON_CreateObject();
    set_now(info, "whenCancelled", NULL);
    if (cause) {
        cJSON *c = cJSON_AddObjectToObject(info, "cause");
        cJSON_AddStringToObject(c, "id", cause->id);
        cJSON_AddStringToObject(c, "name", cause->name);
    } else {
        cJSON_AddNullToObject(info, "cause");
    }
    set_string(info, "comment", str(body, "cancelComment"));
    set_item(order, "cancelInfo", info);
    set_string(order, "status", "Cancelled");
    return NULL;
}

static const char *apply_courier(ik_state *st, const cJSON *body, cJSON *order, char *why, size_t n)
{
    (void)st;
    const ik_named *courier = ik_find(ik_courier_table, str(body, "employeeId"));
    if (!courier) {
        snprintf(why, n, "Courier %s not found", str(body, "employeeId"));
        return why;
    }
    if (status_is(order, final_statuses) || is_pickup(order)) {
        snprintf(why, n, "Cannot assign a courier to this delivery (status %s)",
                 str(order, "status"));
        return why;
    }
    cJSON *info = cJSON_CreateObject();
    cJSON *c = cJSON_AddObjectToObject(info, "courier");
    cJSON_AddStringToObject(c, "id", courier->id);
    cJSON_AddStringToObject(c, "name", courier->name);
    cJSON_AddStringToObject(c, "phone", courier->extra);
    cJSON_AddBoolToObject(info, "isCourierSelectedManually", 1);
    set_item(order, "courierInfo", info);
    return NULL;
}

/* change_payments replaces the payments, and fails when any payment is processed already. */
static const char *apply_payments(ik_state *st, const cJSON *body, cJSON *order, char *why,
                                  size_t n)
{
    (void)st;
    if (status_is(order, final_statuses)) {
        snprintf(why, n, "Cannot change payments of delivery in status %s", str(order, "status"));
        return why;
    }
    const cJSON *processed = cJSON_GetObjectItemCaseSensitive(order, "processedPaymentsSum");
    if (cJSON_IsNumber(processed) && processed->valuedouble > 0) {
        snprintf(why, n, "Delivery has processed payments");
        return why;
    }
    cJSON *payments = cJSON_CreateArray();
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(body, "payments"))
    {
        const ik_named *type = ik_find(ik_payment_type_table, str(p, "paymentTypeId"));
        const cJSON *sum = cJSON_GetObjectItemCaseSensitive(p, "sum");
        if (!type || !cJSON_IsNumber(sum)) {
            snprintf(why, n, "Payment type %s not found", str(p, "paymentTypeId"));
            cJSON_Delete(payments);
            return why;
        }
        cJSON *item = cJSON_CreateObject();
        cJSON *t = cJSON_AddObjectToObject(item, "paymentType");
        cJSON_AddStringToObject(t, "id", type->id);
        cJSON_AddStringToObject(t, "name", type->name);
        cJSON_AddStringToObject(t, "kind", type->extra);
        cJSON_AddNumberToObject(item, "sum", sum->valuedouble);
        cJSON_AddBoolToObject(item, "isPreliminary", 0);
        cJSON_AddBoolToObject(item, "isExternal", 1);
        cJSON_AddBoolToObject(
            item, "isProcessedExternally",
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "isProcessedExternally")));
        cJSON_AddBoolToObject(
            item, "isFiscalizedExternally",
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "isFiscalizedExternally")));
        cJSON_AddBoolToObject(item, "isPrepay",
                              cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "isPrepay")));
        cJSON_AddItemToArray(payments, item);
    }
    set_item(order, "payments", payments);
    return NULL;
}

static const char *apply_comment(ik_state *st, const cJSON *body, cJSON *order, char *why, size_t n)
{
    (void)st;
    if (status_is(order, final_statuses)) {
        snprintf(why, n, "Cannot change comment of delivery in status %s", str(order, "status"));
        return why;
    }
    set_string(order, "comment", str(body, "comment"));
    return NULL;
}

static const char *apply_bill(ik_state *st, const cJSON *body, cJSON *order, char *why, size_t n)
{
    (void)st;
    (void)body;
    if (strcmp(str(order, "status"), "Cancelled") == 0) {
        snprintf(why, n, "Cannot print the bill of a cancelled delivery");
        return why;
    }
    set_now(order, "whenBillPrinted", NULL);
    return NULL;
}

/* What the request must hold before a correlationId is given (400 otherwise). */
enum { NEEDS_ORDER = 1, NEEDS_STATUS = 2, NEEDS_COURIER = 4, NEEDS_PAYMENTS = 8, CREATES = 16 };

typedef struct command_def {
    const char *path;
    apply_fn apply;
    int needs;
} command_def;

static const command_def commands[] = {
    {"deliveries/confirm", apply_confirm, NEEDS_ORDER},
    {"deliveries/update_order_delivery_status", apply_delivery_status, NEEDS_ORDER | NEEDS_STATUS},
    {"deliveries/close", apply_close, NEEDS_ORDER},
    {"deliveries/cancel", apply_cancel, NEEDS_ORDER},
    {"deliveries/update_order_courier", apply_courier, NEEDS_ORDER | NEEDS_COURIER},
    {"deliveries/change_payments", apply_payments, NEEDS_ORDER | NEEDS_PAYMENTS},
    {"deliveries/change_comment", apply_comment, NEEDS_ORDER},
    {"deliveries/print_delivery_bill", apply_bill, NEEDS_ORDER},
    {"deliveries/create", NULL, CREATES},
    {NULL, NULL, 0},
};

static const command_def *find_command(const char *path)
{
    for (const command_def *c = commands; c->path; c++)
        if (strcmp(c->path, path) == 0)
            return c;
    return NULL;
}

bool ik_is_command(const char *path)
{
    return find_command(path) != NULL;
}

/* The order a deliveries/create body describes, completed with generated defaults. */
static cJSON *order_from_create(ik_state *st, const cJSON *body, const char *id, char *why,
                                size_t n)
{
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(body, "order");
    const char *group = str(body, "terminalGroupId");
    if (!group)
        group = st->terminal_group;
    cJSON *order = ik_generate_order(st->seq++, group, ik_now_ms());
    meta_set_int(st, "seq", st->seq);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(in, "items");
    cJSON *made = cJSON_CreateArray();
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        const char *product = str(it, "productId");
        const cJSON *amount = cJSON_GetObjectItemCaseSensitive(it, "amount");
        const cJSON *price = cJSON_GetObjectItemCaseSensitive(it, "price");
        if (!product || !cJSON_IsNumber(amount) || amount->valuedouble <= 0) {
            snprintf(why, n, "Order item needs productId and a positive amount");
            cJSON_Delete(made);
            cJSON_Delete(order);
            return NULL;
        }
        cJSON_AddItemToArray(made, ik_product_item(product, "Блюдо",
                                                   cJSON_IsNumber(price) ? price->valuedouble : 100,
                                                   amount->valuedouble));
    }
    if (cJSON_GetArraySize(made) > 0) {
        set_item(order, "sum", cJSON_CreateNumber(ik_items_sum(made)));
        set_item(order, "items", made);
    } else {
        cJSON_Delete(made);
    }
    static const char *const copied[] = {"phone", "comment", "completeBefore", "externalNumber",
                                         "sourceKey"};
    for (size_t i = 0; i < sizeof copied / sizeof *copied; i++)
        if (str(in, copied[i]))
            set_string(order, copied[i], str(in, copied[i]));
    const char *service = str(in, "orderServiceType");
    if (service && strcmp(service, "DeliveryByClient") == 0) {
        cJSON *type = cJSON_GetObjectItemCaseSensitive(order, "orderType");
        set_string(type, "name", "Самовывоз");
        set_string(type, "orderServiceType", "DeliveryByClient");
        set_item(order, "deliveryPoint", cJSON_CreateNull());
    }
    (void)id;
    return order;
}

static void set_command_state(ik_state *st, const char *corr, const char *state, const char *error)
{
    sqlite3_stmt *s = prep(st, "UPDATE commands SET state=?, error=? WHERE correlation_id=?");
    sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, error, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, corr, -1, SQLITE_STATIC);
    sqlite3_step(s);
    sqlite3_finalize(s);
}

/* Caller holds the lock. Applies one command: the order changes (new revision) and the command
 * ends Success, or nothing changes and it ends Error. */
static void apply_command(ik_state *st, const char *corr, const char *endpoint,
                          const char *order_id, const char *body_text)
{
    const command_def *def = find_command(endpoint);
    cJSON *body = cJSON_Parse(body_text);
    char why[256];
    const char *error = NULL;
    exec(st, "BEGIN");
    if (def && (def->needs & CREATES)) {
        cJSON *order = order_from_create(st, body, order_id, why, sizeof why);
        if (order) {
            insert_order(st, order_id, order);
            cJSON_Delete(order);
        } else {
            error = why;
            char *info = NULL;
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "code", "Common");
            cJSON_AddStringToObject(e, "message", why);
            cJSON_AddStringToObject(e, "description", why);
            cJSON_AddNullToObject(e, "additionalData");
            info = cJSON_PrintUnformatted(e);
            cJSON_Delete(e);
            sqlite3_stmt *s = prep(st, "UPDATE orders SET creation_status='Error', error_info=?,"
                                       " timestamp=? WHERE id=?");
            sqlite3_bind_text(s, 1, info, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 2, ik_now_ms());
            sqlite3_bind_text(s, 3, order_id, -1, SQLITE_STATIC);
            sqlite3_step(s);
            sqlite3_finalize(s);
            free(info);
        }
    } else if (def) {
        cJSON *order = load_order(st, order_id);
        if (!order) {
            snprintf(why, sizeof why, "Delivery with id %s not found", order_id);
            error = why;
        } else if ((error = def->apply(st, body, order, why, sizeof why)) == NULL) {
            store_order(st, order_id, order);
        }
        cJSON_Delete(order);
    } else {
        error = "Unknown command";
    }
    set_command_state(st, corr, error ? "Error" : "Success", error);
    exec(st, "COMMIT");
    cJSON_Delete(body);
}

/* Caller holds the lock. Applies, in the order received, every command whose delay has run out
 * and that is not held for more commands/status polls (a "slow" fault). */
static void apply_due(ik_state *st)
{
    for (;;) {
        sqlite3_stmt *s = prep(st, "SELECT correlation_id, endpoint, order_id, body FROM commands"
                                   " WHERE state='InProgress' AND apply_at<=? AND polls_left<=0"
                                   " ORDER BY seq LIMIT 1");
        sqlite3_bind_int64(s, 1, ik_now_ms());
        if (sqlite3_step(s) != SQLITE_ROW) {
            sqlite3_finalize(s);
            return;
        }
        char *corr = strdup((const char *)sqlite3_column_text(s, 0));
        char *endpoint = strdup((const char *)sqlite3_column_text(s, 1));
        char *order = strdup((const char *)sqlite3_column_text(s, 2));
        char *body = strdup((const char *)sqlite3_column_text(s, 3));
        sqlite3_finalize(s);
        apply_command(st, corr, endpoint, order, body);
        free(corr);
        free(endpoint);
        free(order);
        free(body);
    }
}

void ik_command(ik_state *st, const ik_call *call, ik_reply *out)
{
    const command_def *def = find_command(call->path);
    const cJSON *body = call->body;
    if (!def) {
        ik_error(out, 404, "NotFound", "no command %s", call->path);
        return;
    }
    if (!organization_ok(st, body, out))
        return;
    const char *order_id = str(body, "orderId");
    char created[37];
    if ((def->needs & NEEDS_ORDER) && !ik_is_uuid(order_id)) {
        ik_error(out, 400, "BadRequest", "orderId must be a UUID");
        return;
    }
    const char *status = str(body, "deliveryStatus");
    if ((def->needs & NEEDS_STATUS) &&
        (!status || (strcmp(status, "Waiting") != 0 && strcmp(status, "OnWay") != 0 &&
                     strcmp(status, "Delivered") != 0))) {
        ik_error(out, 400, "BadRequest", "deliveryStatus must be Waiting, OnWay or Delivered");
        return;
    }
    if ((def->needs & NEEDS_COURIER) && !ik_is_uuid(str(body, "employeeId"))) {
        ik_error(out, 400, "BadRequest", "employeeId must be a UUID");
        return;
    }
    if ((def->needs & NEEDS_PAYMENTS) &&
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(body, "payments"))) {
        ik_error(out, 400, "BadRequest", "payments is required");
        return;
    }
    if (def->needs & CREATES) {
        const cJSON *order = cJSON_GetObjectItemCaseSensitive(body, "order");
        if (!cJSON_IsObject(order) || !str(order, "phone")) {
            ik_error(out, 400, "BadRequest", "order with a phone is required");
            return;
        }
        const char *given = str(order, "id");
        if (given && !ik_is_uuid(given)) {
            ik_error(out, 400, "BadRequest", "order.id must be a UUID");
            return;
        }
        if (given)
            snprintf(created, sizeof created, "%s", given);
        else
            ik_new_uuid(created);
        order_id = created;
    }
    char corr[37];
    new_correlation(corr);
    char *text = cJSON_PrintUnformatted(body);
    int64_t now = ik_now_ms();
    pthread_mutex_lock(&st->lock);
    if (def->needs & CREATES) {
        sqlite3_stmt *s = prep(st, "INSERT OR IGNORE INTO orders(id, organization_id, revision,"
                                   " timestamp, creation_status) VALUES(?, ?, 0, ?, 'InProgress')");
        sqlite3_bind_text(s, 1, order_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, st->organization, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, now);
        sqlite3_step(s);
        sqlite3_finalize(s);
    }
    sqlite3_stmt *s = prep(st, "INSERT INTO commands(correlation_id, seq, endpoint,"
                               " organization_id, order_id, body, state, apply_at, polls_left)"
                               " VALUES(?, (SELECT IFNULL(MAX(seq), 0) + 1 FROM commands), ?, ?, ?,"
                               " ?, 'InProgress', ?, ?)");
    sqlite3_bind_text(s, 1, corr, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, def->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, st->organization, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, order_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, now + st->apply_delay_ms);
    sqlite3_bind_int(s, 7, call->slow_polls);
    sqlite3_step(s);
    sqlite3_finalize(s);
    apply_due(st);
    pthread_mutex_unlock(&st->lock);
    free(text);
    out->status = 200;
    out->body = cJSON_CreateObject();
    cJSON_AddStringToObject(out->body, "correlationId", corr);
    if (def->needs & CREATES) {
        /* deliveries/create answers OrderResponse: the order is being created. */
        cJSON *info = cJSON_AddObjectToObject(out->body, "orderInfo");
        cJSON_AddStringToObject(info, "id", order_id);
        cJSON_AddNullToObject(info, "posId");
        set_string(info, "externalNumber",
                   str(cJSON_GetObjectItemCaseSensitive(body, "order"), "externalNumber"));
        cJSON_AddStringToObject(info, "organizationId", st->organization);
        cJSON_AddNumberToObject(info, "timestamp", (double)now);
        cJSON_AddStringToObject(info, "creationStatus", "InProgress");
        cJSON_AddNullToObject(info, "errorInfo");
        cJSON_AddNullToObject(info, "order");
    }
}

void ik_command_status(ik_state *st, const ik_call *call, ik_reply *out)
{
    if (!organization_ok(st, call->body, out))
        return;
    const char *corr = str(call->body, "correlationId");
    if (!corr) {
        ik_error(out, 400, "BadRequest", "correlationId is required");
        return;
    }
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *s = prep(st, "UPDATE commands SET polls_left=polls_left-1 WHERE"
                               " correlation_id=? AND state='InProgress' AND polls_left>0");
    sqlite3_bind_text(s, 1, corr, -1, SQLITE_STATIC);
    sqlite3_step(s);
    sqlite3_finalize(s);
    apply_due(st);
    s = prep(st, "SELECT state, error FROM commands WHERE correlation_id=?");
    sqlite3_bind_text(s, 1, corr, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_finalize(s);
        pthread_mutex_unlock(&st->lock);
        ik_error(out, 400, "BadRequest", "Operation %s not found", corr);
        return;
    }
    out->status = 200;
    out->body = cJSON_CreateObject();
    const char *state = (const char *)sqlite3_column_text(s, 0);
    cJSON_AddStringToObject(out->body, "state", state);
    if (strcmp(state, "Error") == 0) {
        const char *error = (const char *)sqlite3_column_text(s, 1);
        cJSON *e = cJSON_AddObjectToObject(out->body, "exception");
        cJSON_AddStringToObject(e, "message", error ? error : "");
        cJSON_AddStringToObject(out->body, "errorReason", error ? error : "");
    } else {
        cJSON_AddNullToObject(out->body, "exception");
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
}

/* ---- admin ---- */

void ik_admin_info(ik_state *st, ik_reply *out)
{
    out->status = 200;
    out->body = cJSON_CreateObject();
    pthread_mutex_lock(&st->lock);
    apply_due(st);
    cJSON_AddStringToObject(out->body, "organizationId", st->organization);
    cJSON_AddStringToObject(out->body, "terminalGroupId", st->terminal_group);
    cJSON_AddStringToObject(out->body, "apiLogin", st->api_login);
    cJSON_AddNumberToObject(out->body, "revision", (double)meta_int(st, "revision"));
    pthread_mutex_unlock(&st->lock);
}

static bool known_status(const char *s)
{
    static const char *const all[] = {
        "Unconfirmed", "WaitCooking", "ReadyForCooking", "CookingStarted", "CookingCompleted",
        "Waiting",     "OnWay",       "Delivered",       "Closed",         "Cancelled",
        NULL};
    for (const char *const *p = all; s && *p; p++)
        if (strcmp(*p, s) == 0)
            return true;
    return false;
}

/* Changes made "by someone else" (the kitchen, a call-center operator): any status, courier,
 * comment, problem, payments processed; `order` merges any other fields as given. */
static const char *change_fields(cJSON *order, const cJSON *body, char *why, size_t n)
{
    const char *status = str(body, "status");
    if (status && !known_status(status)) {
        snprintf(why, n, "unknown status %s", status);
        return why;
    }
    if (status) {
        set_string(order, "status", status);
        if (strcmp(status, "CookingCompleted") == 0)
            set_now(order, "whenCookingCompleted", NULL);
    }
    const char *courier_id = str(body, "courierId");
    if (courier_id) {
        const ik_named *c = ik_find(ik_courier_table, courier_id);
        if (!c) {
            snprintf(why, n, "unknown courier %s", courier_id);
            return why;
        }
        cJSON *info = cJSON_CreateObject();
        cJSON *e = cJSON_AddObjectToObject(info, "courier");
        cJSON_AddStringToObject(e, "id", c->id);
        cJSON_AddStringToObject(e, "name", c->name);
        cJSON_AddStringToObject(e, "phone", c->extra);
        cJSON_AddBoolToObject(info, "isCourierSelectedManually", 1);
        set_item(order, "courierInfo", info);
    }
    if (str(body, "comment"))
        set_string(order, "comment", str(body, "comment"));
    const cJSON *problem = cJSON_GetObjectItemCaseSensitive(body, "problem");
    if (cJSON_IsString(problem)) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddBoolToObject(p, "hasProblem", 1);
        cJSON_AddStringToObject(p, "description", problem->valuestring);
        set_item(order, "problem", p);
    } else if (cJSON_IsNull(problem)) {
        set_item(order, "problem", cJSON_CreateNull());
    }
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(body, "items");
    if (cJSON_IsArray(items)) {
        set_item(order, "items", cJSON_Duplicate(items, 1));
        set_item(order, "sum", cJSON_CreateNumber(ik_items_sum(items)));
    }
    const cJSON *processed = cJSON_GetObjectItemCaseSensitive(body, "processedPaymentsSum");
    if (cJSON_IsNumber(processed))
        set_item(order, "processedPaymentsSum", cJSON_CreateNumber(processed->valuedouble));
    const cJSON *merge = cJSON_GetObjectItemCaseSensitive(body, "order");
    const cJSON *field;
    cJSON_ArrayForEach(field, merge)
    {
        set_item(order, field->string, cJSON_Duplicate(field, 1));
    }
    return NULL;
}

static void reply_order(ik_state *st, const char *id, ik_reply *out)
{
    sqlite3_stmt *s = prep(st, "SELECT " INFO_COLUMNS ", revision FROM orders WHERE id=?");
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW) {
        out->status = 200;
        out->body = order_info(s);
        cJSON_AddNumberToObject(out->body, "revision", (double)sqlite3_column_int64(s, 6));
    } else {
        ik_error(out, 404, "NotFound", "no order %s", id);
    }
    sqlite3_finalize(s);
}

/* Caller holds the lock. */
static const char *create_one(ik_state *st, const cJSON *body, char id[37], char *why, size_t n)
{
    const char *group = str(body, "terminalGroupId");
    const char *given = str(body, "id");
    if (given && !ik_is_uuid(given)) {
        snprintf(why, n, "id must be a UUID");
        return why;
    }
    if (given)
        snprintf(id, 37, "%s", given);
    else
        ik_new_uuid(id);
    cJSON *order = ik_generate_order(st->seq++, group ? group : st->terminal_group, ik_now_ms());
    meta_set_int(st, "seq", st->seq);
    if (body && change_fields(order, body, why, n)) {
        cJSON_Delete(order);
        return why;
    }
    insert_order(st, id, order);
    cJSON_Delete(order);
    return NULL;
}

void ik_admin_create_order(ik_state *st, const cJSON *body, ik_reply *out)
{
    char id[37], why[256];
    pthread_mutex_lock(&st->lock);
    exec(st, "BEGIN");
    const char *error = create_one(st, body, id, why, sizeof why);
    exec(st, "COMMIT");
    if (error)
        ik_error(out, 400, "BadRequest", "%s", error);
    else
        reply_order(st, id, out);
    pthread_mutex_unlock(&st->lock);
}

void ik_admin_generate(ik_state *st, const cJSON *body, ik_reply *out)
{
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(body, "count");
    int n = cJSON_IsNumber(count) ? (int)count->valuedouble : 1;
    if (n < 1 || n > 100000) {
        ik_error(out, 400, "BadRequest", "count must be 1..100000");
        return;
    }
    cJSON *only = cJSON_CreateObject();
    if (str(body, "terminalGroupId"))
        cJSON_AddStringToObject(only, "terminalGroupId", str(body, "terminalGroupId"));
    out->status = 200;
    out->body = cJSON_CreateObject();
    cJSON *ids = cJSON_AddArrayToObject(out->body, "orderIds");
    pthread_mutex_lock(&st->lock);
    exec(st, "BEGIN");
    for (int i = 0; i < n; i++) {
        char id[37], why[256];
        if (!create_one(st, only, id, why, sizeof why))
            cJSON_AddItemToArray(ids, cJSON_CreateString(id));
    }
    exec(st, "COMMIT");
    pthread_mutex_unlock(&st->lock);
    cJSON_Delete(only);
}

void ik_admin_change_order(ik_state *st, const char *order_id, const cJSON *body, ik_reply *out)
{
    char why[256];
    pthread_mutex_lock(&st->lock);
    apply_due(st);
    cJSON *order = load_order(st, order_id);
    if (!order) {
        ik_error(out, 404, "NotFound", "no order %s", order_id);
    } else if (change_fields(order, body, why, sizeof why)) {
        ik_error(out, 400, "BadRequest", "%s", why);
    } else {
        store_order(st, order_id, order);
        reply_order(st, order_id, out);
    }
    cJSON_Delete(order);
    pthread_mutex_unlock(&st->lock);
}

void ik_admin_get_order(ik_state *st, const char *order_id, ik_reply *out)
{
    pthread_mutex_lock(&st->lock);
    apply_due(st);
    reply_order(st, order_id, out);
    pthread_mutex_unlock(&st->lock);
}

void ik_admin_terminal_group(ik_state *st, const cJSON *body, ik_reply *out)
{
    const char *id = str(body, "id");
    char made[37];
    if (id && !ik_is_uuid(id)) {
        ik_error(out, 400, "BadRequest", "id must be a UUID");
        return;
    }
    if (!id) {
        ik_new_uuid(made);
        id = made;
    }
    const char *name = str(body, "name");
    const cJSON *alive = cJSON_GetObjectItemCaseSensitive(body, "isAlive");
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *s = prep(st, "INSERT INTO terminal_groups(id, name, alive) VALUES(?, ?, ?)"
                               " ON CONFLICT(id) DO UPDATE SET name=IFNULL(?, name), alive=?");
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, name ? name : "Кухня", -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, alive ? cJSON_IsTrue(alive) : 1);
    if (name)
        sqlite3_bind_text(s, 4, name, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, 4);
    sqlite3_bind_int(s, 5, alive ? cJSON_IsTrue(alive) : 1);
    sqlite3_step(s);
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
    out->status = 200;
    out->body = cJSON_CreateObject();
    cJSON_AddStringToObject(out->body, "id", id);
}

/* Per (endpoint, order): how many times the command was received and how many times it was
 * applied (Success) — iikoCloud has no idempotency key, so a repeat that is still valid applies
 * again. `entries` lists every command in the order received. */
void ik_admin_log(ik_state *st, ik_reply *out)
{
    out->status = 200;
    out->body = cJSON_CreateObject();
    cJSON *summary = cJSON_AddArrayToObject(out->body, "commands");
    cJSON *entries = cJSON_AddArrayToObject(out->body, "entries");
    pthread_mutex_lock(&st->lock);
    apply_due(st);
    sqlite3_stmt *s = prep(st, "SELECT endpoint, order_id, COUNT(*), SUM(state='Success'),"
                               " SUM(state='Error') FROM commands GROUP BY endpoint, order_id"
                               " ORDER BY MIN(seq)");
    while (sqlite3_step(s) == SQLITE_ROW) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "endpoint", (const char *)sqlite3_column_text(s, 0));
        cJSON_AddStringToObject(c, "orderId", (const char *)sqlite3_column_text(s, 1));
        cJSON_AddNumberToObject(c, "received", sqlite3_column_int(s, 2));
        cJSON_AddNumberToObject(c, "applied", sqlite3_column_int(s, 3));
        cJSON_AddNumberToObject(c, "failed", sqlite3_column_int(s, 4));
        cJSON_AddItemToArray(summary, c);
    }
    sqlite3_finalize(s);
    s = prep(st, "SELECT correlation_id, endpoint, order_id, state, error FROM commands"
                 " ORDER BY seq");
    while (sqlite3_step(s) == SQLITE_ROW) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "correlationId", (const char *)sqlite3_column_text(s, 0));
        cJSON_AddStringToObject(e, "endpoint", (const char *)sqlite3_column_text(s, 1));
        cJSON_AddStringToObject(e, "orderId", (const char *)sqlite3_column_text(s, 2));
        cJSON_AddStringToObject(e, "state", (const char *)sqlite3_column_text(s, 3));
        set_string(e, "error", (const char *)sqlite3_column_text(s, 4));
        cJSON_AddItemToArray(entries, e);
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
}
