/* The outbox: commands stored before the host is told they were accepted, sent in creation order,
 * and removed only on the server's final word (Applied, Duplicate, Rejected). */
#include "store/store_impl.h"

#include "common/dynbuf.h"

#include <string.h>

#define ROW_COLUMNS "seq, id, order_id, type, body, created_at, attempts, next_attempt_at"

static const char SQL_ADD[] = "INSERT INTO outbox(id, order_id, type, body, created_at,"
                              " next_attempt_at) VALUES(?1, ?2, ?3, ?4, ?5, ?5)";
static const char SQL_PEEK[] = "SELECT " ROW_COLUMNS " FROM outbox ORDER BY seq LIMIT ?1";
/* A command whose turn has come, unless an earlier one of its order is still waiting: the server
 * applies an order's commands in the order they arrive. */
static const char SQL_PEEK_DUE[] =
    "SELECT " ROW_COLUMNS " FROM outbox AS o WHERE o.next_attempt_at <= ?2 AND NOT EXISTS"
    " (SELECT 1 FROM outbox AS p WHERE p.order_id = o.order_id AND p.seq < o.seq"
    " AND p.next_attempt_at > ?2) ORDER BY o.seq LIMIT ?1";
static const char SQL_ATTEMPT[] =
    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2 WHERE id = ?1";
static const char SQL_COMPLETE[] = "DELETE FROM outbox WHERE id = ?1";
static const char SQL_STATS[] = "SELECT count(*), coalesce(min(created_at), 0) FROM outbox";
static const char SQL_COUNT_TYPE[] = "SELECT count(*) FROM outbox WHERE type = ?1";

static int check_cmd(dlv__store *st, const dlv__store_cmd *c, size_t i, size_t count,
                     dlv_error *err)
{
    const char *why = NULL;
    if (!dlv__uuid_valid(c->id))
        why = "its id is not a UUID";
    else if (c->order_id && !*c->order_id)
        why = "its order id is empty";
    else if (!c->type || !*c->type)
        why = "it has no type";
    else if (!dlv__store_json_object(c->body))
        why = "its body is not a JSON object";
    if (!why)
        return DLV_OK;
    return dlv__error_set(err, DLV_EINVAL, "%s: command %zu of %zu (%s) refused, none stored: %s",
                          st->name, i + 1, count, c->id ? c->id : "no id", why);
}

int dlv__store_outbox_add(dlv__store *st, const dlv__store_cmd *cmds, size_t count, dlv_error *err)
{
    if (count == 0)
        return DLV_OK;
    if (!cmds)
        return dlv__error_set(err, DLV_EINVAL, "%s: no commands given", st->name);
    for (size_t i = 0; i < count; i++) {
        int rc = check_cmd(st, &cmds[i], i, count, err);
        if (rc != DLV_OK)
            return rc;
    }
    int rc = dlv__store_tx_begin(st, err);
    if (rc != DLV_OK)
        return rc;
    int64_t now = dlv__store_now(st);
    sqlite3_stmt *s;
    rc = dlv__store_stmt(st, SQL_ADD, &s, err);
    for (size_t i = 0; i < count && rc == DLV_OK; i++) {
        sqlite3_reset(s);
        sqlite3_bind_text(s, 1, cmds[i].id, -1, SQLITE_STATIC);
        dlv__store_bind_text(s, 2, cmds[i].order_id);
        sqlite3_bind_text(s, 3, cmds[i].type, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, cmds[i].body, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 5, now);
        int src = sqlite3_step(s);
        if (src == SQLITE_CONSTRAINT_UNIQUE)
            rc = dlv__error_set(err, DLV_EEXIST,
                                "%s: command %s is already in the outbox; none of the %zu "
                                "commands was stored",
                                st->name, cmds[i].id, count);
        else if (src != SQLITE_DONE)
            rc = dlv__store_fail(st, err, src, "cannot store %zu commands, none was stored", count);
        sqlite3_reset(s);
    }
    return dlv__store_tx_end(st, rc, err);
}

void dlv__store_cmd_row_clear(dlv__store_cmd_row *row)
{
    dlv__free(row->id);
    dlv__free(row->order_id);
    dlv__free(row->type);
    dlv__free(row->body);
    *row = (dlv__store_cmd_row){0};
}

void dlv__store_cmd_rows_free(dlv__store_cmd_row *rows, size_t count)
{
    if (!rows)
        return;
    for (size_t i = 0; i < count; i++)
        dlv__store_cmd_row_clear(&rows[i]);
    dlv__free(rows);
}

/* Steps `s` to the end, collecting rows. */
static int collect(dlv__store *st, sqlite3_stmt *s, dlv__store_cmd_row **rows, size_t *count,
                   dlv_error *err)
{
    dlv__store_cmd_row *list = NULL;
    size_t n = 0, cap = 0;
    int rc = DLV_OK, src;
    while ((src = sqlite3_step(s)) == SQLITE_ROW) {
        if (DLV__DYNARR_RESERVE(list, cap, n + 1, 16, DLV__DYNARR_NOLIMIT) != DLV_OK) {
            rc = dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", st->name);
            break;
        }
        dlv__store_cmd_row *r = &list[n++];
        memset(r, 0, sizeof *r);
        r->seq = sqlite3_column_int64(s, 0);
        r->created_at = sqlite3_column_int64(s, 5);
        r->attempts = sqlite3_column_int(s, 6);
        r->next_attempt_at = sqlite3_column_int64(s, 7);
        if (!dlv__store_column_dup(s, 1, &r->id) || !dlv__store_column_dup(s, 2, &r->order_id) ||
            !dlv__store_column_dup(s, 3, &r->type) || !dlv__store_column_dup(s, 4, &r->body)) {
            rc = dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", st->name);
            break;
        }
    }
    if (rc == DLV_OK && src != SQLITE_DONE)
        rc = dlv__store_fail(st, err, src, "cannot read the outbox");
    sqlite3_reset(s);
    if (rc != DLV_OK) {
        dlv__store_cmd_rows_free(list, n);
        list = NULL;
        n = 0;
    }
    *rows = n ? list : NULL;
    if (!n)
        dlv__free(list);
    *count = n;
    return rc;
}

int dlv__store_outbox_peek(dlv__store *st, size_t max, bool due_only, dlv__store_cmd_row **rows,
                           size_t *count, dlv_error *err)
{
    *rows = NULL;
    *count = 0;
    if (max == 0 || max > DLV__STORE_PEEK_MAX)
        return dlv__error_set(err, DLV_EINVAL, "%s: peek %zu commands: must be 1..%d", st->name,
                              max, DLV__STORE_PEEK_MAX);
    sqlite3_stmt *s;
    int rc = dlv__store_stmt(st, due_only ? SQL_PEEK_DUE : SQL_PEEK, &s, err);
    if (rc != DLV_OK)
        return rc;
    sqlite3_bind_int64(s, 1, (int64_t)max);
    if (due_only)
        sqlite3_bind_int64(s, 2, dlv__store_now(st));
    return collect(st, s, rows, count, err);
}

int dlv__store_outbox_mark_attempt(dlv__store *st, const char *const *ids, size_t count,
                                   int64_t next_attempt_at, dlv_error *err)
{
    if (count == 0)
        return DLV_OK;
    if (!ids)
        return dlv__error_set(err, DLV_EINVAL, "%s: no command ids given", st->name);
    for (size_t i = 0; i < count; i++)
        if (!ids[i])
            return dlv__error_set(err, DLV_EINVAL, "%s: command id %zu of %zu is missing", st->name,
                                  i + 1, count);
    int rc = dlv__store_tx_begin(st, err);
    if (rc != DLV_OK)
        return rc;
    sqlite3_stmt *s;
    rc = dlv__store_stmt(st, SQL_ATTEMPT, &s, err);
    for (size_t i = 0; i < count && rc == DLV_OK; i++) {
        sqlite3_reset(s);
        sqlite3_bind_text(s, 1, ids[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, next_attempt_at);
        rc = dlv__store_step_done(st, s, err, "cannot count an attempt");
    }
    return dlv__store_tx_end(st, rc, err);
}

int dlv__store_outbox_mark_attempt_rows(dlv__store *st, const dlv__store_cmd_row *rows,
                                        size_t count, int64_t next_attempt_at, dlv_error *err)
{
    if (count == 0)
        return DLV_OK;
    if (!rows)
        return dlv__error_set(err, DLV_EINVAL, "%s: no commands given", st->name);
    const char **ids = dlv__calloc(count, sizeof *ids);
    if (!ids)
        return dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", st->name);
    for (size_t i = 0; i < count; i++)
        ids[i] = rows[i].id;
    int rc = dlv__store_outbox_mark_attempt(st, ids, count, next_attempt_at, err);
    dlv__free(ids);
    return rc;
}

static bool final_outcome(const char *outcome)
{
    return outcome && (strcmp(outcome, "Applied") == 0 || strcmp(outcome, "Duplicate") == 0 ||
                       strcmp(outcome, "Rejected") == 0);
}

int dlv__store_outbox_complete(dlv__store *st, const dlv__store_outcome *outcomes, size_t count,
                               size_t *removed, dlv_error *err)
{
    if (removed)
        *removed = 0;
    if (count == 0)
        return DLV_OK;
    if (!outcomes)
        return dlv__error_set(err, DLV_EINVAL, "%s: no outcomes given", st->name);
    for (size_t i = 0; i < count; i++) {
        if (!outcomes[i].id)
            return dlv__error_set(err, DLV_EINVAL, "%s: outcome %zu of %zu has no command id",
                                  st->name, i + 1, count);
        if (!final_outcome(outcomes[i].outcome))
            return dlv__error_set(err, DLV_EINVAL,
                                  "%s: command %s: outcome \"%s\" does not take it out of the "
                                  "outbox (only Applied, Duplicate, Rejected); nothing removed",
                                  st->name, outcomes[i].id,
                                  outcomes[i].outcome ? outcomes[i].outcome : "(none)");
    }
    int rc = dlv__store_tx_begin(st, err);
    if (rc != DLV_OK)
        return rc;
    sqlite3_stmt *s;
    size_t gone = 0;
    rc = dlv__store_stmt(st, SQL_COMPLETE, &s, err);
    for (size_t i = 0; i < count && rc == DLV_OK; i++) {
        sqlite3_reset(s);
        sqlite3_bind_text(s, 1, outcomes[i].id, -1, SQLITE_STATIC);
        rc = dlv__store_step_done(st, s, err, "cannot remove a command");
        if (rc == DLV_OK)
            gone += (size_t)sqlite3_changes(st->db);
    }
    rc = dlv__store_tx_end(st, rc, err);
    if (rc == DLV_OK && removed)
        *removed = gone;
    return rc;
}

int dlv__store_outbox_stats(dlv__store *st, long *count, int64_t *oldest_created_at, dlv_error *err)
{
    *count = 0;
    *oldest_created_at = 0;
    sqlite3_stmt *s;
    int rc = dlv__store_stmt(st, SQL_STATS, &s, err);
    if (rc != DLV_OK)
        return rc;
    int src = sqlite3_step(s);
    if (src == SQLITE_ROW) {
        *count = (long)sqlite3_column_int64(s, 0);
        *oldest_created_at = sqlite3_column_int64(s, 1);
    } else {
        rc = dlv__store_fail(st, err, src, "cannot count the outbox");
    }
    sqlite3_reset(s);
    return rc;
}

int dlv__store_outbox_count_type(dlv__store *st, const char *type, long *count, dlv_error *err)
{
    *count = 0;
    sqlite3_stmt *s;
    int rc = dlv__store_stmt(st, SQL_COUNT_TYPE, &s, err);
    if (rc != DLV_OK)
        return rc;
    dlv__store_bind_text(s, 1, type);
    int src = sqlite3_step(s);
    if (src == SQLITE_ROW)
        *count = (long)sqlite3_column_int64(s, 0);
    else
        rc = dlv__store_fail(st, err, src, "cannot count the outbox");
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc;
}

static const char SQL_PENDING_BY_ORDER[] =
    "SELECT order_id, count(*) FROM outbox WHERE order_id IS NOT NULL"
    " AND type <> 'DocumentPrinted' GROUP BY order_id";

int dlv__store_outbox_pending_orders(dlv__store *st,
                                     int (*each)(void *arg, const char *order_id, long count),
                                     void *arg, dlv_error *err)
{
    if (!each)
        return dlv__error_set(err, DLV_EINVAL, "%s: no callback given", st->name);
    sqlite3_stmt *s;
    int rc = dlv__store_stmt(st, SQL_PENDING_BY_ORDER, &s, err);
    if (rc != DLV_OK)
        return rc;
    int src = SQLITE_DONE;
    while (rc == DLV_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(s, 0);
        if (!id)
            rc = dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", st->name);
        else
            rc = each(arg, id, (long)sqlite3_column_int64(s, 1));
    }
    if (rc == DLV_OK && src != SQLITE_DONE)
        rc = dlv__store_fail(st, err, src, "cannot count the outbox by order");
    sqlite3_reset(s);
    return rc;
}
