/* The order cache (the server's state as last seen, so the host sees its orders before the
 * network is back), the last sync revision, and small meta values. */
#include "store/store_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_ORDER_PUT[] =
    "INSERT INTO orders(id, revision, status, number, json, updated_at)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO UPDATE SET revision = excluded.revision,"
    " status = excluded.status, number = excluded.number, json = excluded.json,"
    " updated_at = excluded.updated_at";
static const char SQL_ORDER_REMOVE[] = "DELETE FROM orders WHERE id = ?1";
static const char SQL_ORDER_GET[] =
    "SELECT id, revision, status, number, json, updated_at FROM orders WHERE id = ?1";
static const char SQL_ORDER_ALL[] =
    "SELECT id, revision, status, number, json, updated_at FROM orders ORDER BY number, id";
static const char SQL_META_GET[] = "SELECT value FROM meta WHERE key = ?1";
static const char SQL_META_SET[] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)";
static const char SQL_META_DELETE[] = "DELETE FROM meta WHERE key = ?1";

static int check_order(dlv__store *st, const dlv__store_order *o, dlv_error *err)
{
    if (!o->id || !*o->id)
        return dlv__error_set(err, DLV_EINVAL, "%s: an order to cache has no id", st->name);
    if (!o->status || !*o->status)
        return dlv__error_set(err, DLV_EINVAL, "%s: order %s to cache has no status", st->name,
                              o->id);
    if (!dlv__store_json_object(o->json))
        return dlv__error_set(err, DLV_EINVAL, "%s: order %s to cache is not a JSON object",
                              st->name, o->id);
    return DLV_OK;
}

static int put_one(dlv__store *st, const dlv__store_order *o, int64_t now, dlv_error *err)
{
    sqlite3_stmt *s;
    int rc = dlv__store_stmt(st, SQL_ORDER_PUT, &s, err);
    if (rc != DLV_OK)
        return rc;
    sqlite3_bind_text(s, 1, o->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, o->revision);
    sqlite3_bind_text(s, 3, o->status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, o->number);
    sqlite3_bind_text(s, 5, o->json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, now);
    return dlv__store_step_done(st, s, err, "cannot cache an order");
}

static int remove_one(dlv__store *st, const char *id, dlv_error *err)
{
    sqlite3_stmt *s;
    int rc = dlv__store_stmt(st, SQL_ORDER_REMOVE, &s, err);
    if (rc != DLV_OK)
        return rc;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    return dlv__store_step_done(st, s, err, "cannot remove a cached order");
}

int dlv__store_orders_put(dlv__store *st, const dlv__store_order *order, dlv_error *err)
{
    if (!order)
        return dlv__error_set(err, DLV_EINVAL, "%s: no order to cache", st->name);
    return dlv__store_orders_sync(st, order, 1, NULL, 0, -1, err);
}

int dlv__store_orders_sync(dlv__store *st, const dlv__store_order *orders, size_t count,
                           const char *const *removed, size_t removed_count, int64_t revision,
                           dlv_error *err)
{
    if ((count && !orders) || (removed_count && !removed))
        return dlv__error_set(err, DLV_EINVAL, "%s: no orders given", st->name);
    for (size_t i = 0; i < count; i++) {
        int rc = check_order(st, &orders[i], err);
        if (rc != DLV_OK)
            return rc;
    }
    for (size_t i = 0; i < removed_count; i++)
        if (!removed[i])
            return dlv__error_set(err, DLV_EINVAL, "%s: an order id to remove is missing",
                                  st->name);
    int rc = dlv__store_tx_begin(st, err);
    if (rc != DLV_OK)
        return rc;
    int64_t now = dlv__store_now(st);
    for (size_t i = 0; i < count && rc == DLV_OK; i++)
        rc = put_one(st, &orders[i], now, err);
    for (size_t i = 0; i < removed_count && rc == DLV_OK; i++)
        rc = remove_one(st, removed[i], err);
    if (rc == DLV_OK && revision >= 0) {
        char text[32];
        snprintf(text, sizeof text, "%lld", (long long)revision);
        rc = dlv__store_meta_write(st, DLV__STORE_KEY_REVISION, text, err);
    }
    return dlv__store_tx_end(st, rc, err);
}

int dlv__store_orders_remove(dlv__store *st, const char *const *ids, size_t count, dlv_error *err)
{
    return dlv__store_orders_sync(st, NULL, 0, ids, count, -1, err);
}

static int fill_row(dlv__store *st, sqlite3_stmt *s, dlv__store_order_row *row, dlv_error *err)
{
    memset(row, 0, sizeof *row);
    row->revision = sqlite3_column_int64(s, 1);
    row->number = sqlite3_column_int64(s, 3);
    row->updated_at = sqlite3_column_int64(s, 5);
    if (!dlv__store_column_dup(s, 0, &row->id) || !dlv__store_column_dup(s, 2, &row->status) ||
        !dlv__store_column_dup(s, 4, &row->json)) {
        dlv__store_order_row_clear(row);
        return dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", st->name);
    }
    return DLV_OK;
}

int dlv__store_orders_get(dlv__store *st, const char *id, dlv__store_order_row *row, dlv_error *err)
{
    memset(row, 0, sizeof *row);
    if (!id)
        return dlv__error_set(err, DLV_EINVAL, "%s: no order id given", st->name);
    sqlite3_stmt *s;
    int rc = dlv__store_stmt(st, SQL_ORDER_GET, &s, err);
    if (rc != DLV_OK)
        return rc;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    int src = sqlite3_step(s);
    if (src == SQLITE_ROW)
        rc = fill_row(st, s, row, err);
    else if (src == SQLITE_DONE)
        rc = dlv__error_set(err, DLV_ENOTFOUND, "%s: order %s is not cached", st->name, id);
    else
        rc = dlv__store_fail(st, err, src, "cannot read a cached order");
    sqlite3_reset(s);
    return rc;
}

void dlv__store_order_row_clear(dlv__store_order_row *row)
{
    if (!row)
        return;
    dlv__free(row->id);
    dlv__free(row->status);
    dlv__free(row->json);
    memset(row, 0, sizeof *row);
}

int dlv__store_orders_each(dlv__store *st, int (*each)(void *arg, const dlv__store_order_row *row),
                           void *arg, dlv_error *err)
{
    if (!each)
        return dlv__error_set(err, DLV_EINVAL, "%s: no callback given", st->name);
    sqlite3_stmt *s;
    int rc = dlv__store_stmt(st, SQL_ORDER_ALL, &s, err);
    if (rc != DLV_OK)
        return rc;
    int src = SQLITE_DONE;
    while (rc == DLV_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
        /* Borrowed pointers: valid until the next step, which is after the callback. */
        dlv__store_order_row row = {
            .id = (char *)sqlite3_column_text(s, 0),
            .revision = sqlite3_column_int64(s, 1),
            .status = (char *)sqlite3_column_text(s, 2),
            .number = sqlite3_column_int64(s, 3),
            .json = (char *)sqlite3_column_text(s, 4),
            .updated_at = sqlite3_column_int64(s, 5),
        };
        if (!row.id || !row.status || !row.json)
            rc = dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", st->name);
        else
            rc = each(arg, &row);
    }
    if (rc == DLV_OK && src != SQLITE_DONE)
        rc = dlv__store_fail(st, err, src, "cannot read the order cache");
    sqlite3_reset(s);
    return rc;
}

int dlv__store_revision(dlv__store *st, int64_t *revision, dlv_error *err)
{
    char *text = NULL;
    *revision = 0;
    int rc = dlv__store_meta_read(st, DLV__STORE_KEY_REVISION, &text, err);
    if (rc == DLV_OK && text)
        *revision = strtoll(text, NULL, 10);
    dlv__free(text);
    return rc;
}

/* ---- meta ---- */

int dlv__store_meta_read(dlv__store *st, const char *key, char **value, dlv_error *err)
{
    *value = NULL;
    sqlite3_stmt *s;
    int rc = dlv__store_stmt(st, SQL_META_GET, &s, err);
    if (rc != DLV_OK)
        return rc;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int src = sqlite3_step(s);
    if (src == SQLITE_ROW) {
        if (!dlv__store_column_dup(s, 0, value))
            rc = dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", st->name);
    } else if (src != SQLITE_DONE) {
        rc = dlv__store_fail(st, err, src, "cannot read %s", key);
    }
    sqlite3_reset(s);
    return rc;
}

int dlv__store_meta_write(dlv__store *st, const char *key, const char *value, dlv_error *err)
{
    sqlite3_stmt *s;
    int rc = dlv__store_tx_begin(st, err);
    if (rc != DLV_OK)
        return rc;
    rc = dlv__store_stmt(st, value ? SQL_META_SET : SQL_META_DELETE, &s, err);
    if (rc == DLV_OK) {
        sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
        if (value)
            sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
        rc = dlv__store_step_done(st, s, err, "cannot store a setting");
    }
    return dlv__store_tx_end(st, rc, err);
}

static bool reserved(const char *key)
{
    return strncmp(key, "store.", 6) == 0;
}

int dlv__store_meta_get(dlv__store *st, const char *key, char **value, dlv_error *err)
{
    if (value)
        *value = NULL;
    if (!key || !*key || !value)
        return dlv__error_set(err, DLV_EINVAL, "%s: no key given", st->name);
    return dlv__store_meta_read(st, key, value, err);
}

int dlv__store_meta_set(dlv__store *st, const char *key, const char *value, dlv_error *err)
{
    if (!key || !*key)
        return dlv__error_set(err, DLV_EINVAL, "%s: no key given", st->name);
    if (reserved(key))
        return dlv__error_set(err, DLV_EINVAL, "%s: key \"%s\" is reserved for the store", st->name,
                              key);
    return dlv__store_meta_write(st, key, value, err);
}
