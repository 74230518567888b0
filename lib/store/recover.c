/* A damaged database: moved aside for support, its readable rows carried into a new one, and the
 * terminal refusing to start when something that cannot be fetched again from the call-center
 * (pending commands, the print and notification ledgers, issued numbers) could not be read whole,
 * until an operator accepts the loss. docs/store.md explains the choice.
 *
 * Order of work, so that a crash at any point leaves the damaged file in place or a finished new
 * database, never a fresh empty one in its stead:
 *   1. build <name>.recovering (schema + salvaged rows + the blocking marker) and close it;
 *   2. rename <name> -> <name>.corrupt-<UTC>, its -wal beside it, then <name>.recovering -> <name>.
 * At open, a missing <name> with a <name>.recovering present means step 2 was interrupted: it is
 * finished then (dlv__store_recover_finish_interrupted). */
#include "store/store_impl.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#if !defined(_WIN32)
#include <fcntl.h>
#include <unistd.h>
#endif

/* Rows probed one by one past a damaged page, at most. */
#define PROBE_LIMIT 100000

static bool file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static void sync_folder(const char *dir)
{
#if !defined(_WIN32)
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
#else
    (void)dir;
#endif
}

static int move_file(const char *from, const char *to, dlv_error *err)
{
    if (rename(from, to) != 0)
        return dlv__error_set(err, DLV_EIO, "cannot move %s to %s: %s", from, to, strerror(errno));
    return DLV_OK;
}

/* Moves `from` + suffix to `to` + suffix when it exists. */
static int move_companion(const char *from, const char *to, const char *suffix, dlv_error *err)
{
    char *a = dlv__asprintf("%s%s", from, suffix);
    char *b = dlv__asprintf("%s%s", to, suffix);
    int rc = a && b ? DLV_OK : dlv__error_set(err, DLV_ENOMEM, "store: out of memory");
    if (rc == DLV_OK && file_exists(a))
        rc = move_file(a, b, err);
    dlv__free(a);
    dlv__free(b);
    return rc;
}

static void remove_companion(const char *path, const char *suffix)
{
    char *p = dlv__asprintf("%s%s", path, suffix);
    if (p)
        remove(p);
    dlv__free(p);
}

static void remove_database(const char *path)
{
    remove(path);
    remove_companion(path, "-journal");
    remove_companion(path, "-wal");
    remove_companion(path, "-shm");
}

static void utc_stamp(char *out, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
#if defined(_WIN32)
    gmtime_s(&tm, &now);
#else
    gmtime_r(&now, &tm);
#endif
    strftime(out, len, "%Y%m%dT%H%M%SZ", &tm);
}

/* <path>.corrupt-<UTC>, with -2, -3, ... when that name is taken. */
static char *corrupt_name(const char *path, const char *what)
{
    char stamp[32];
    utc_stamp(stamp, sizeof stamp);
    char *name = dlv__asprintf("%s.%s-%s", path, what, stamp);
    for (int n = 2; name && file_exists(name) && n < 1000; n++) {
        dlv__free(name);
        name = dlv__asprintf("%s.%s-%s-%d", path, what, stamp, n);
    }
    return name;
}

int dlv__store_recover_finish_interrupted(const char *path, dlv_error *err)
{
    char *tmp = dlv__asprintf("%s.recovering", path);
    if (!tmp)
        return dlv__error_set(err, DLV_ENOMEM, "store: out of memory");
    int rc = DLV_OK;
    if (file_exists(path)) {
        /* A recovery that stopped while building: it starts over from the damaged file. */
        if (file_exists(tmp))
            remove_database(tmp);
        dlv__free(tmp);
        return DLV_OK;
    }
    /* No database: a -wal left at its name belongs to a file that is gone (or moved aside by a
     * recovery stopped between its renames). It must not be replayed into another database;
     * it is kept beside, for support. */
    char *wal = dlv__asprintf("%s-wal", path);
    char *orphan = corrupt_name(path, "corrupt-wal");
    rc = wal && orphan ? DLV_OK : dlv__error_set(err, DLV_ENOMEM, "store: out of memory");
    if (rc == DLV_OK && file_exists(wal))
        rc = move_file(wal, orphan, err);
    if (rc == DLV_OK) {
        remove_companion(path, "-shm");
        /* Stopped between the renames: the new database is complete. */
        if (file_exists(tmp))
            rc = move_file(tmp, path, err);
    }
    dlv__free(wal);
    dlv__free(orphan);
    dlv__free(tmp);
    return rc;
}

/* ---- salvage ---- */

typedef struct table_spec {
    const char *table;
    const char *label; /* for the operator */
    const char *scan;  /* rows with key > ?1 in key order; key is column 0 */
    const char *one;   /* the row with key = ?1 */
    const char *max;   /* the largest key */
    const char *insert;
    int columns;
} table_spec;

static const table_spec tables[] = {
    {"outbox", "pending commands",
     "SELECT seq, id, order_id, type, body, created_at, attempts, next_attempt_at FROM outbox"
     " WHERE seq > ?1 ORDER BY seq",
     "SELECT seq, id, order_id, type, body, created_at, attempts, next_attempt_at FROM outbox"
     " WHERE seq = ?1",
     "SELECT max(seq) FROM outbox",
     "INSERT OR IGNORE INTO outbox(seq, id, order_id, type, body, created_at, attempts,"
     " next_attempt_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
     8},
    {"print_jobs", "print ledger",
     "SELECT id, order_id, document, trigger_key, copies, printer, is_copy, reprint_of, state,"
     " attempts, last_error, payload, created_at, updated_at, next_attempt_at FROM print_jobs"
     " WHERE id > ?1 ORDER BY id",
     "SELECT id, order_id, document, trigger_key, copies, printer, is_copy, reprint_of, state,"
     " attempts, last_error, payload, created_at, updated_at, next_attempt_at FROM print_jobs"
     " WHERE id = ?1",
     "SELECT max(id) FROM print_jobs",
     /* A copy whose original was lost keeps no dangling reference. */
     "INSERT OR IGNORE INTO print_jobs(id, order_id, document, trigger_key, copies, printer,"
     " is_copy, reprint_of, state, attempts, last_error, payload, created_at, updated_at,"
     " next_attempt_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7,"
     " (SELECT id FROM print_jobs WHERE id = ?8), ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
     15},
    {"notifications", "notification ledger",
     "SELECT rowid, order_id, event, sent_at FROM notifications WHERE rowid > ?1 ORDER BY rowid",
     "SELECT rowid, order_id, event, sent_at FROM notifications WHERE rowid = ?1",
     "SELECT max(rowid) FROM notifications",
     "INSERT OR IGNORE INTO notifications(rowid, order_id, event, sent_at)"
     " VALUES(?1, ?2, ?3, ?4)",
     4},
    {"numbers", "issued delivery numbers",
     "SELECT rowid, lo, hi, first, last FROM numbers WHERE rowid > ?1 ORDER BY rowid",
     "SELECT rowid, lo, hi, first, last FROM numbers WHERE rowid = ?1",
     "SELECT max(rowid) FROM numbers",
     "INSERT OR IGNORE INTO numbers(rowid, lo, hi, first, last) VALUES(?1, ?2, ?3, ?4, ?5)", 5},
    /* Losing it could hand out a number twice: carried like the series above. */
    {"number_state", "delivery number state",
     "SELECT id, last_issued, block_first, block_last, next_first, next_last FROM number_state"
     " WHERE id > ?1 ORDER BY id",
     "SELECT id, last_issued, block_first, block_last, next_first, next_last FROM number_state"
     " WHERE id = ?1",
     "SELECT max(id) FROM number_state",
     "INSERT OR IGNORE INTO number_state(id, last_issued, block_first, block_last, next_first,"
     " next_last) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
     6},
};

typedef struct table_result {
    long rows;
    bool complete;
} table_result;

static bool copy_row(sqlite3_stmt *from, sqlite3_stmt *ins, int columns)
{
    sqlite3_reset(ins);
    sqlite3_clear_bindings(ins);
    for (int i = 0; i < columns; i++)
        sqlite3_bind_value(ins, i + 1, sqlite3_column_value(from, i));
    int rc = sqlite3_step(ins);
    bool ok = rc == SQLITE_DONE && sqlite3_changes(sqlite3_db_handle(ins)) == 1;
    sqlite3_reset(ins);
    return ok;
}

/* 1: the table exists, 0: it does not (an older schema), -1: cannot tell. */
static int table_exists(sqlite3 *src, const char *table)
{
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(
        src, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1", -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
        rc = sqlite3_step(q);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Reads what it can: in key order up to the first unreadable page, then key by key past it. */
static table_result salvage_table(sqlite3 *src, sqlite3 *dst, const table_spec *t)
{
    table_result res = {0, true};
    int exists = src ? table_exists(src, t->table) : -1;
    if (exists == 0)
        return res;
    if (exists < 0) {
        res.complete = false;
        return res;
    }
    sqlite3_stmt *scan = NULL, *one = NULL, *max = NULL, *ins = NULL;
    if (sqlite3_prepare_v2(src, t->scan, -1, &scan, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(src, t->one, -1, &one, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(src, t->max, -1, &max, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(dst, t->insert, -1, &ins, NULL) != SQLITE_OK) {
        res.complete = false;
        goto out;
    }
    int64_t last = 0;
    sqlite3_bind_int64(scan, 1, last);
    int rc;
    while ((rc = sqlite3_step(scan)) == SQLITE_ROW) {
        last = sqlite3_column_int64(scan, 0);
        if (copy_row(scan, ins, t->columns))
            res.rows++;
        else
            res.complete = false;
    }
    if (rc != SQLITE_DONE) {
        res.complete = false;
        if (sqlite3_step(max) == SQLITE_ROW) {
            int64_t top = sqlite3_column_int64(max, 0);
            for (int64_t key = last + 1, probes = 0; key <= top && probes < PROBE_LIMIT;
                 key++, probes++) {
                sqlite3_reset(one);
                sqlite3_bind_int64(one, 1, key);
                if (sqlite3_step(one) == SQLITE_ROW && copy_row(one, ins, t->columns))
                    res.rows++;
            }
        }
    }
out:
    sqlite3_finalize(scan);
    sqlite3_finalize(one);
    sqlite3_finalize(max);
    sqlite3_finalize(ins);
    return res;
}

/* Opens the damaged file to read what is there: no checkpoint on close and no writes, so support
 * receives it as it was; exclusive locking keeps the WAL index off disk. */
static sqlite3 *open_damaged(const char *path, const char *vfs)
{
    sqlite3 *src = NULL;
    if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, vfs) !=
        SQLITE_OK) {
        sqlite3_close_v2(src);
        return NULL;
    }
    sqlite3_db_config(src, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
    /* writable_schema lets SQLite read a file shorter than its header says (a truncated copy)
     * instead of refusing it whole; query_only still forbids any write. */
    sqlite3_exec(src,
                 "PRAGMA locking_mode = EXCLUSIVE; PRAGMA query_only = 1;"
                 " PRAGMA writable_schema = ON",
                 NULL, NULL, NULL);
    return src;
}

static char *describe_loss(const table_result *res)
{
    char unreadable[256] = "";
    for (size_t i = 0; i < DLV__ARRAY_SIZE(tables); i++) {
        if (res[i].complete)
            continue;
        size_t used = strlen(unreadable);
        snprintf(unreadable + used, sizeof unreadable - used, "%s%s", used ? ", " : "",
                 tables[i].label);
    }
    return dlv__strdup(unreadable);
}

static int write_marker(dlv__store *scratch, const dlv__store_recovery *info, const char *message,
                        dlv_error *err)
{
    cJSON *doc = cJSON_CreateObject();
    char *text = NULL;
    if (doc && cJSON_AddStringToObject(doc, "message", message) &&
        cJSON_AddStringToObject(doc, "moved_to", info->moved_to) &&
        cJSON_AddStringToObject(doc, "reason", info->reason) &&
        cJSON_AddNumberToObject(doc, "commands", (double)info->commands) &&
        cJSON_AddNumberToObject(doc, "print_jobs", (double)info->print_jobs) &&
        cJSON_AddNumberToObject(doc, "notifications", (double)info->notifications) &&
        cJSON_AddNumberToObject(doc, "number_series", (double)info->number_series))
        text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (!text)
        return dlv__error_set(err, DLV_ENOMEM, "store: out of memory");
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(
        scratch->db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", -1, &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(s, 1, DLV__STORE_KEY_BLOCKED, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
    }
    int out = rc == SQLITE_DONE ? DLV_OK
                                : dlv__store_fail(scratch, err, rc, "cannot record the recovery");
    sqlite3_finalize(s);
    cJSON_free(text);
    return out;
}

/* Builds <name>.recovering from what the damaged file still gives. */
static int build_recovered(dlv__store *st, const char *tmp, unsigned flags, const char *vfs,
                           dlv_error *err)
{
    dlv__store scratch = {0};
    scratch.name = DLV__STORE_FILE ".recovering";
    scratch.path = (char *)tmp;
    int rc = sqlite3_open_v2(tmp, &scratch.db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, vfs);
    int out =
        rc == SQLITE_OK ? DLV_OK : dlv__store_fail(&scratch, err, rc, "cannot create %s", tmp);
    if (out == DLV_OK) {
        sqlite3_extended_result_codes(scratch.db, 1);
        /* A plain rollback journal: the finished file is one file, renamed into place. */
        out = dlv__store_exec(&scratch, "PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL",
                              err);
    }
    if (out == DLV_OK)
        out = dlv__store_migrate(&scratch, err);
    if (out == DLV_OK)
        out = dlv__store_tx_begin(&scratch, err);
    if (out == DLV_OK) {
        sqlite3 *src = open_damaged(st->path, vfs);
        table_result res[DLV__ARRAY_SIZE(tables)];
        bool complete = true;
        for (size_t i = 0; i < DLV__ARRAY_SIZE(tables); i++) {
            res[i] = salvage_table(src, scratch.db, &tables[i]);
            complete = complete && res[i].complete;
        }
        sqlite3_close_v2(src);
        dlv__store_recovery *info = &st->recovery;
        info->commands = res[0].rows;
        info->print_jobs = res[1].rows;
        info->notifications = res[2].rows;
        info->number_series = res[3].rows;
        info->complete = complete;
        info->loss_accepted = !complete && (flags & DLV__STORE_ACCEPT_LOSS);
        st->recovered = true;
        if (!complete && !(flags & DLV__STORE_ACCEPT_LOSS)) {
            char *lost = describe_loss(res);
            /* Kept under DLV_ERROR_MESSAGE_MAX: the folder is known, the file name suffices. */
            const char *moved = strrchr(info->moved_to, '/');
            moved = moved ? moved + 1 : info->moved_to;
            char *message =
                lost
                    ? dlv__asprintf("%s is damaged (%s) and was moved aside as %s. Unreadable: %s. "
                                    "Carried over: %ld commands, %ld print jobs, %ld notification "
                                    "marks, %ld number series. Not starting without an operator: "
                                    "send that file to support, or start accepting the loss",
                                    st->name, info->reason, moved, lost, info->commands,
                                    info->print_jobs, info->notifications, info->number_series)
                    : NULL;
            out = message ? write_marker(&scratch, info, message, err)
                          : dlv__error_set(err, DLV_ENOMEM, "store: out of memory");
            dlv__free(lost);
            dlv__free(message);
        }
        out = dlv__store_tx_end(&scratch, out, err);
    }
    /* Statements of the scratch handle were never cached; only the connection to close. */
    sqlite3_close_v2(scratch.db);
    return out;
}

/* What made the file unusable, on one short line: SQLite's integrity report spans lines and
 * repeats the file name. */
static char *short_reason(const char *reason)
{
    static const char prefix[] = DLV__STORE_FILE ": ";
    static const char banner[] = "*** in database main ***";
    if (strncmp(reason, prefix, sizeof prefix - 1) == 0)
        reason += sizeof prefix - 1;
    char *out = dlv__strndup(reason, 160);
    if (!out)
        return NULL;
    char *b = strstr(out, banner);
    if (b)
        memmove(b, b + sizeof banner - 1, strlen(b + sizeof banner - 1) + 1);
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    /* Collapse the runs of spaces left behind. */
    char *w = out;
    for (const char *r = out; *r; r++)
        if (!(*r == ' ' && (w == out || w[-1] == ' ')))
            *w++ = *r;
    *w = '\0';
    return out;
}

int dlv__store_recover(dlv__store *st, unsigned flags, const char *vfs, const char *reason,
                       dlv_error *err)
{
    char *tmp = dlv__asprintf("%s.recovering", st->path);
    st->recovery.moved_to = corrupt_name(st->path, "corrupt");
    st->recovery.reason = short_reason(reason);
    if (!tmp || !st->recovery.moved_to || !st->recovery.reason) {
        dlv__free(tmp);
        return dlv__error_set(err, DLV_ENOMEM, "store: out of memory");
    }
    remove_database(tmp);
    int rc = build_recovered(st, tmp, flags, vfs, err);
    char *wal = dlv__asprintf("%s-wal", st->path);
    struct stat sb;
    if (wal && stat(wal, &sb) == 0 && sb.st_size == 0)
        remove(wal); /* made empty by the salvage itself; nothing in it for support */
    dlv__free(wal);
    if (rc == DLV_OK)
        rc = move_file(st->path, st->recovery.moved_to, err);
    if (rc == DLV_OK)
        rc = move_companion(st->path, st->recovery.moved_to, "-wal", err);
    if (rc == DLV_OK)
        rc = move_companion(st->path, st->recovery.moved_to, "-journal", err);
    if (rc == DLV_OK) {
        remove_companion(st->path, "-shm");
        rc = move_file(tmp, st->path, err);
    }
    if (rc == DLV_OK)
        sync_folder(st->dir);
    else if (file_exists(st->path))
        remove_database(tmp); /* the damaged file is still in place: try again next start */
    dlv__free(tmp);
    if (rc != DLV_OK)
        st->recovered = false;
    return rc;
}

int dlv__store_recover_check_blocked(dlv__store *st, unsigned flags, dlv_error *err)
{
    char *value = NULL;
    int rc = dlv__store_meta_read(st, DLV__STORE_KEY_BLOCKED, &value, err);
    if (rc != DLV_OK || !value)
        return rc;
    cJSON *doc = cJSON_Parse(value);
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(doc, "message");
    if (!(flags & DLV__STORE_ACCEPT_LOSS)) {
        rc =
            dlv__error_set(err, DLV_ECORRUPT, "%s", cJSON_IsString(msg) ? msg->valuestring : value);
    } else {
        rc = dlv__store_meta_write(st, DLV__STORE_KEY_BLOCKED, NULL, err);
        if (rc == DLV_OK && !st->recovered) {
            const cJSON *moved = cJSON_GetObjectItemCaseSensitive(doc, "moved_to");
            const cJSON *reason = cJSON_GetObjectItemCaseSensitive(doc, "reason");
            const cJSON *n;
            dlv__store_recovery *info = &st->recovery;
            info->moved_to = dlv__strdup(cJSON_IsString(moved) ? moved->valuestring : "");
            info->reason = dlv__strdup(cJSON_IsString(reason) ? reason->valuestring : "");
            n = cJSON_GetObjectItemCaseSensitive(doc, "commands");
            info->commands = cJSON_IsNumber(n) ? (long)n->valuedouble : -1;
            n = cJSON_GetObjectItemCaseSensitive(doc, "print_jobs");
            info->print_jobs = cJSON_IsNumber(n) ? (long)n->valuedouble : -1;
            n = cJSON_GetObjectItemCaseSensitive(doc, "notifications");
            info->notifications = cJSON_IsNumber(n) ? (long)n->valuedouble : -1;
            n = cJSON_GetObjectItemCaseSensitive(doc, "number_series");
            info->number_series = cJSON_IsNumber(n) ? (long)n->valuedouble : -1;
            info->complete = false;
            st->recovered = true;
            if (!info->moved_to || !info->reason)
                rc = dlv__error_set(err, DLV_ENOMEM, "store: out of memory");
        }
        if (rc == DLV_OK)
            st->recovery.loss_accepted = true;
    }
    cJSON_Delete(doc);
    dlv__free(value);
    return rc;
}
