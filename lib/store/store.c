/* Opening the terminal database, its schema and migrations, and the helpers every part of the
 * store shares: error mapping, cached statements and (group) transactions. */
#include "store/store_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/fsutil.h"

/* "DLVD" (0x444C5644): marks the file as ours, so a foreign SQLite file is never migrated over. */
#define APPLICATION_ID 1145853508
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

/* ---- schema ---- */

/* Ordered and append-only: migration i takes the schema from version i to i + 1. A released
 * migration is never edited; a change is a new entry. Version 1 held the outbox and the order
 * cache; version 2 added the print and notification ledgers and the number allocator; version 3
 * the number state of terminal-created orders (last issued, the call-center's blocks), carried
 * over from the meta value that held the last number before. */
const char *const dlv__store_migrations[DLV__STORE_SCHEMA_VERSION] = {
    /* 0 -> 1 */
    "PRAGMA application_id = " STRINGIFY(
        APPLICATION_ID) ";"
                        "CREATE TABLE meta("
                        " key TEXT PRIMARY KEY NOT NULL,"
                        " value TEXT NOT NULL);"
                        "CREATE TABLE outbox("
                        " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                        " id TEXT NOT NULL UNIQUE,"
                        " order_id TEXT,"
                        " type TEXT NOT NULL,"
                        " body TEXT NOT NULL,"
                        " created_at INTEGER NOT NULL,"
                        " attempts INTEGER NOT NULL DEFAULT 0,"
                        " next_attempt_at INTEGER NOT NULL);"
                        "CREATE INDEX outbox_order ON outbox(order_id, seq);"
                        "CREATE TABLE orders("
                        " id TEXT PRIMARY KEY NOT NULL,"
                        " revision INTEGER NOT NULL,"
                        " status TEXT NOT NULL,"
                        " number INTEGER NOT NULL,"
                        " json TEXT NOT NULL,"
                        " updated_at INTEGER NOT NULL);",
    /* 1 -> 2 */
    "CREATE TABLE print_jobs("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " order_id TEXT NOT NULL,"
    " document TEXT NOT NULL CHECK(document IN ('Invoice', 'ServiceCheck')),"
    " trigger_key TEXT NOT NULL,"
    " copies INTEGER NOT NULL CHECK(copies BETWEEN 1 AND 5),"
    " printer TEXT,"
    " is_copy INTEGER NOT NULL DEFAULT 0,"
    " reprint_of INTEGER REFERENCES print_jobs(id),"
    " state TEXT NOT NULL DEFAULT 'pending' CHECK(state IN"
    "  ('pending', 'sending', 'sent', 'failed', 'unknown', 'dismissed')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT,"
    " payload BLOB,"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " next_attempt_at INTEGER NOT NULL,"
    " UNIQUE(order_id, document, trigger_key));"
    "CREATE INDEX print_jobs_state ON print_jobs(state, next_attempt_at);"
    "CREATE TABLE notifications("
    " order_id TEXT NOT NULL,"
    " event TEXT NOT NULL,"
    " sent_at INTEGER NOT NULL,"
    " PRIMARY KEY(order_id, event));"
    "CREATE TABLE numbers("
    " lo INTEGER NOT NULL,"
    " hi INTEGER NOT NULL,"
    " first INTEGER NOT NULL,"
    " last INTEGER NOT NULL,"
    " PRIMARY KEY(lo, hi),"
    " CHECK(lo <= first AND first <= last AND last <= hi));",
    /* 2 -> 3 */
    "CREATE TABLE number_state("
    " id INTEGER PRIMARY KEY CHECK(id = 1),"
    " last_issued INTEGER NOT NULL CHECK(last_issued >= 0),"
    " block_first INTEGER,"
    " block_last INTEGER,"
    " next_first INTEGER,"
    " next_last INTEGER,"
    " CHECK((block_first IS NULL) = (block_last IS NULL)),"
    " CHECK((next_first IS NULL) = (next_last IS NULL)),"
    " CHECK(block_first IS NULL OR (1 <= block_first AND block_first <= block_last)),"
    " CHECK(next_first IS NULL OR (1 <= next_first AND next_first <= next_last)));"
    "INSERT INTO number_state(id, last_issued)"
    " SELECT 1, max(0, CAST(value AS INTEGER)) FROM meta WHERE key = 'numbers.lastIssued';"
    "DELETE FROM meta WHERE key = 'numbers.lastIssued';",
};

/* ---- errors ---- */

int dlv__store_map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return DLV_OK;
    case SQLITE_FULL:
        return DLV_EFULL;
    case SQLITE_IOERR:
        return rc == SQLITE_IOERR_NOMEM ? DLV_ENOMEM : DLV_EIO;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return DLV_ECORRUPT;
    case SQLITE_NOMEM:
        return DLV_ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return DLV_EBUSY;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
        return DLV_EIO;
    case SQLITE_CONSTRAINT:
        return (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) ? DLV_EEXIST
                                                                                      : DLV_EINVAL;
    case SQLITE_TOOBIG:
        return DLV_ETOOLARGE;
    default:
        return DLV_ESTORE;
    }
}

int dlv__store_fail(dlv__store *st, dlv_error *err, int rc, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    /* The connection's message is more precise, but only if it is about this very failure. */
    const char *msg = sqlite3_errstr(rc);
    if (st->db && sqlite3_extended_errcode(st->db) == rc)
        msg = sqlite3_errmsg(st->db);
    int code = dlv__store_map_rc(rc);
    if (code == DLV_OK)
        code = DLV_ESTORE;
    return dlv__error_set(err, code, "%s: %s: %s", st->name, what, msg);
}

/* ---- statements ---- */

int dlv__store_stmt(dlv__store *st, const char *sql, sqlite3_stmt **out, dlv_error *err)
{
    DLV__ASSERT(st && st->db && sql && out);
    for (size_t i = 0; i < st->nstmts; i++) {
        if (st->stmts[i].sql == sql) {
            *out = st->stmts[i].stmt;
            sqlite3_reset(*out);
            sqlite3_clear_bindings(*out);
            return DLV_OK;
        }
    }
    dlv__store_stmt_slot *grown = dlv__realloc(st->stmts, (st->nstmts + 1) * sizeof *st->stmts);
    if (!grown)
        return dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", st->name);
    st->stmts = grown;
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
    if (rc != SQLITE_OK)
        return dlv__store_fail(st, err, rc, "cannot prepare a statement");
    st->stmts[st->nstmts].sql = sql;
    st->stmts[st->nstmts].stmt = s;
    st->nstmts++;
    *out = s;
    return DLV_OK;
}

static void finalize_stmts(dlv__store *st)
{
    for (size_t i = 0; i < st->nstmts; i++)
        sqlite3_finalize(st->stmts[i].stmt);
    dlv__free(st->stmts);
    st->stmts = NULL;
    st->nstmts = 0;
}

int dlv__store_exec(dlv__store *st, const char *sql, dlv_error *err)
{
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return dlv__store_fail(st, err, rc, "%.60s", sql);
    return DLV_OK;
}

int dlv__store_step_done(dlv__store *st, sqlite3_stmt *s, dlv_error *err, const char *what)
{
    int rc = sqlite3_step(s);
    int out = DLV_OK;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        out = dlv__store_fail(st, err, rc, "%s", what);
    sqlite3_reset(s);
    return out;
}

int dlv__store_bind_text(sqlite3_stmt *s, int i, const char *text)
{
    return text ? sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

bool dlv__store_column_dup(sqlite3_stmt *s, int i, char **out)
{
    *out = NULL;
    if (sqlite3_column_type(s, i) == SQLITE_NULL)
        return true;
    const unsigned char *text = sqlite3_column_text(s, i);
    if (!text)
        return false;
    *out = dlv__strndup((const char *)text, (size_t)sqlite3_column_bytes(s, i));
    return *out != NULL;
}

/* A syntax check that builds nothing: every order the cache takes and every command the outbox
 * takes passes here, and a parse into a cJSON tree (one allocation per value) cost as much as
 * making the text (issue 20). Strict RFC 8259 grammar, nesting up to cJSON's limit. */
#define JSON_CHECK_DEPTH 1000

static const char *json_skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static bool json_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* `p` at the opening quote; returns past the closing one, or NULL. */
static const char *json_check_string(const char *p)
{
    for (p++;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c < 0x20)
            return NULL; /* the end of the text, or a raw control character */
        if (c != '\\')
            continue;
        c = (unsigned char)*++p;
        if (c == 'u') {
            if (!json_hex(p[1]) || !json_hex(p[2]) || !json_hex(p[3]) || !json_hex(p[4]))
                return NULL;
            p += 4;
        } else if (!strchr("\"\\/bfnrt", c) || c == '\0') {
            return NULL;
        }
    }
}

static const char *json_check_number(const char *p)
{
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return NULL;
    if (*p == '.') {
        if (!(*++p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        if (*++p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return p;
}

static const char *json_check_value(const char *p, int depth)
{
    p = json_skip_ws(p);
    switch (*p) {
    case '"':
        return json_check_string(p);
    case 't':
        return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f':
        return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n':
        return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
    case '{':
    case '[': {
        char close = *p == '{' ? '}' : ']';
        bool object = *p == '{';
        if (depth >= JSON_CHECK_DEPTH)
            return NULL;
        p = json_skip_ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (object) {
                if (*p != '"' || !(p = json_check_string(p)))
                    return NULL;
                p = json_skip_ws(p);
                if (*p++ != ':')
                    return NULL;
            }
            if (!(p = json_check_value(p, depth + 1)))
                return NULL;
            p = json_skip_ws(p);
            if (*p == close)
                return p + 1;
            if (*p != ',')
                return NULL;
            p = json_skip_ws(p + 1);
        }
    }
    default:
        return json_check_number(p);
    }
}

bool dlv__store_json_object(const char *text)
{
    if (!text)
        return false;
    const char *p = json_skip_ws(text);
    if (*p != '{')
        return false;
    p = json_check_value(p, 0);
    return p && *json_skip_ws(p) == '\0';
}

/* ---- transactions ---- */

static const char SQL_SAVEPOINT[] = "SAVEPOINT s";
static const char SQL_RELEASE[] = "RELEASE s";

/* A savepoint opens and closes around every store call inside a group (one per order a commit
 * caches): run from the statement cache, not parsed again each time as sqlite3_exec would. */
static int exec_cached(dlv__store *st, const char *sql)
{
    sqlite3_stmt *s;
    if (dlv__store_stmt(st, sql, &s, NULL) != DLV_OK)
        return sqlite3_exec(st->db, sql, NULL, NULL, NULL);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

int dlv__store_tx_begin(dlv__store *st, dlv_error *err)
{
    if (st->aborted)
        return dlv__error_set(err, st->aborted, "%s", st->aborted_msg);
    int rc = st->depth == 0 ? sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)
                            : exec_cached(st, SQL_SAVEPOINT);
    if (rc != SQLITE_OK)
        return dlv__store_fail(st, err, rc, "cannot start a transaction");
    st->depth++;
    return DLV_OK;
}

/* A commit whose WAL flush failed has its frames written in the WAL file all the same: were the
 * process to die now, the next open would find them valid and bring back what the caller was
 * told was not stored. The next commit writes over those frames (the WAL index never counted
 * them) and breaks their checksum chain, so one small write right away buries them. If that
 * fails too, the disk is failing and the risk stays (docs/store.md). */
static void bury_failed_commit(dlv__store *st)
{
    sqlite3_exec(st->db,
                 "INSERT OR REPLACE INTO meta(key, value) VALUES('store.failed_commits',"
                 " coalesce((SELECT value FROM meta WHERE key = 'store.failed_commits'), 0) + 1)",
                 NULL, NULL, NULL);
}

int dlv__store_tx_end(dlv__store *st, int rc, dlv_error *err)
{
    DLV__ASSERT(st && st->depth > 0); /* every end pairs with a begin that succeeded */
    st->depth--;
    if (st->depth == 0) {
        int src = SQLITE_OK;
        if (rc == DLV_OK) {
            src = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
            if (src != SQLITE_OK)
                rc = dlv__store_fail(st, err, src, "cannot commit, nothing was stored");
        }
        if (rc != DLV_OK && !sqlite3_get_autocommit(st->db))
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        if ((src & 0xff) == SQLITE_IOERR)
            bury_failed_commit(st);
        return rc;
    }
    if (sqlite3_get_autocommit(st->db)) {
        /* SQLite rolled the whole transaction back (disk full, I/O error): the group is gone. */
        st->aborted = rc != DLV_OK ? rc : DLV_ESTORE;
        snprintf(st->aborted_msg, sizeof st->aborted_msg,
                 "%s: the open group was rolled back after an earlier error: %.400s", st->name,
                 err ? err->message : dlv_strerror(st->aborted));
        return st->aborted;
    }
    if (rc == DLV_OK) {
        int src = exec_cached(st, SQL_RELEASE);
        if (src != SQLITE_OK)
            rc = dlv__store_fail(st, err, src, "cannot finish a savepoint");
    } else {
        sqlite3_exec(st->db, "ROLLBACK TO s", NULL, NULL, NULL);
        exec_cached(st, SQL_RELEASE);
    }
    return rc;
}

int dlv__store_begin(dlv__store *st, dlv_error *err)
{
    if (st->depth > 0)
        return dlv__error_set(err, DLV_EBUSY, "%s: a group is already open", st->name);
    int rc = dlv__store_tx_begin(st, err);
    if (rc == DLV_OK)
        st->group = true;
    return rc;
}

static void reset_group(dlv__store *st)
{
    if (st->depth > 0 && !sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    /* A group refused for want of space: the WAL gives back what it can (copied into the
     * database and truncated), so the next attempt succeeds once space is freed, no restart. */
    if (st->aborted == DLV_EFULL)
        sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    st->depth = 0;
    st->group = false;
    st->aborted = 0;
    st->aborted_msg[0] = '\0';
}

int dlv__store_commit(dlv__store *st, dlv_error *err)
{
    if (!st->group)
        return dlv__error_set(err, DLV_EINVAL, "%s: commit without an open group", st->name);
    if (st->aborted) {
        int rc = dlv__error_set(err, st->aborted, "%s", st->aborted_msg);
        reset_group(st);
        return rc;
    }
    int rc = dlv__store_tx_end(st, DLV_OK, err);
    if (rc == DLV_EFULL)
        st->aborted = rc; /* reset_group gives the WAL's space back */
    reset_group(st);
    return rc;
}

void dlv__store_rollback(dlv__store *st)
{
    if (st && st->group)
        reset_group(st);
}

/* ---- clock ---- */

static int64_t system_clock(void *arg)
{
    (void)arg;
    struct timespec ts;
    if (timespec_get(&ts, TIME_UTC) != TIME_UTC)
        return (int64_t)time(NULL) * 1000;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t dlv__store_now(dlv__store *st)
{
    return st->clock(st->clock_arg);
}

void dlv__store_set_clock(dlv__store *st, int64_t (*now_ms)(void *arg), void *arg)
{
    st->clock = now_ms ? now_ms : system_clock;
    st->clock_arg = now_ms ? arg : NULL;
}

/* ---- opening ---- */

static int pragma_int(dlv__store *st, const char *sql, int64_t *value, dlv_error *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *value = sqlite3_column_int64(s, 0);
            rc = SQLITE_OK;
        }
    }
    int out = rc == SQLITE_OK ? DLV_OK : dlv__store_fail(st, err, rc, "%s", sql);
    sqlite3_finalize(s);
    return out;
}

int dlv__store_migrate(dlv__store *st, dlv_error *err)
{
    int64_t app = 0, version = 0, objects = 0;
    int rc = pragma_int(st, "PRAGMA application_id", &app, err);
    if (rc == DLV_OK)
        rc = pragma_int(st, "PRAGMA user_version", &version, err);
    if (rc == DLV_OK)
        rc = pragma_int(st, "SELECT count(*) FROM sqlite_schema", &objects, err);
    if (rc != DLV_OK)
        return rc;
    if (app != APPLICATION_ID && (app != 0 || version != 0 || objects != 0))
        return dlv__error_set(err, DLV_ESCHEMA,
                              "%s is not a delivery plugin database (application_id %lld, "
                              "user_version %lld); it was left untouched",
                              st->path, (long long)app, (long long)version);
    if (version > DLV__STORE_SCHEMA_VERSION)
        return dlv__error_set(err, DLV_ESCHEMA,
                              "%s has schema version %lld, newer than the %d this plugin "
                              "understands: it was written by a newer plugin version; install "
                              "that version again (the file was left untouched)",
                              st->path, (long long)version, DLV__STORE_SCHEMA_VERSION);
    if (version == DLV__STORE_SCHEMA_VERSION)
        return DLV_OK;
    rc = dlv__store_tx_begin(st, err);
    if (rc != DLV_OK)
        return rc;
    for (int64_t v = version; v < DLV__STORE_SCHEMA_VERSION && rc == DLV_OK; v++) {
        int src = sqlite3_exec(st->db, dlv__store_migrations[v], NULL, NULL, NULL);
        if (src != SQLITE_OK)
            rc = dlv__store_fail(st, err, src, "upgrading the schema from version %lld to %lld",
                                 (long long)v, (long long)v + 1);
    }
    if (rc == DLV_OK) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", DLV__STORE_SCHEMA_VERSION);
        rc = dlv__store_exec(st, sql, err);
    }
    return dlv__store_tx_end(st, rc, err);
}

static int pragma_text_is(dlv__store *st, const char *sql, const char *expect, dlv_error *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    int out = DLV_OK;
    if (rc == SQLITE_ROW) {
        const char *got = (const char *)sqlite3_column_text(s, 0);
        if (!got || strcmp(got, expect) != 0)
            out = dlv__error_set(err, DLV_ESTORE, "%s: %s gave \"%s\" instead of \"%s\"", st->name,
                                 sql, got ? got : "", expect);
    } else {
        out = dlv__store_fail(st, err, rc, "cannot read it");
    }
    sqlite3_finalize(s);
    return out;
}

/* PRAGMA quick_check: the first problem it names, or DLV_OK. */
static int check_integrity(dlv__store *st, dlv_error *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    int out = DLV_OK;
    if (rc == SQLITE_ROW) {
        const char *got = (const char *)sqlite3_column_text(s, 0);
        if (!got || strcmp(got, "ok") != 0)
            out = dlv__error_set(err, DLV_ECORRUPT, "%s: integrity check failed: %s", st->name,
                                 got ? got : "(no answer)");
    } else {
        out = dlv__store_fail(st, err, rc, "integrity check");
    }
    sqlite3_finalize(s);
    return out;
}

static void detach(dlv__store *st)
{
    finalize_stmts(st);
    if (st->db) {
        if (!sqlite3_get_autocommit(st->db))
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close_v2(st->db);
        st->db = NULL;
    }
    st->depth = 0;
    st->group = false;
    st->aborted = 0;
}

/* Connects, checks and upgrades. Exclusive locking is set before WAL so that no shared-memory
 * file is used and the lock is held from the first access until close (docs/store.md). */
static int attach(dlv__store *st, const dlv__store_options *opts, dlv_error *err)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(st->path, &st->db, flags, opts->vfs);
    if (rc != SQLITE_OK) {
        int out = dlv__error_set(err, dlv__store_map_rc(rc), "%s: cannot open: %s", st->path,
                                 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        detach(st);
        return out;
    }
    sqlite3_extended_result_codes(st->db, 1);
    int busy = opts->busy_timeout_ms == 0 ? 5000 : opts->busy_timeout_ms;
    sqlite3_busy_timeout(st->db, busy > 0 ? busy : 0);
    int out = dlv__store_exec(st, "PRAGMA locking_mode = EXCLUSIVE", err);
    if (out == DLV_OK)
        out = pragma_text_is(st, "PRAGMA journal_mode = WAL", "wal", err);
    if (out == DLV_OK)
        out = dlv__store_exec(st,
                              "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
                              /* The WAL stays small: checkpointed every 1000 pages and cut back
                               * to 4 MiB after each checkpoint (docs/store.md). */
                              " PRAGMA wal_autocheckpoint = 1000;"
                              " PRAGMA journal_size_limit = 4194304;"
                              " PRAGMA trusted_schema = OFF",
                              err);
    if (out == DLV_OK)
        out = check_integrity(st, err);
    if (out == DLV_OK)
        out = dlv__store_migrate(st, err);
    if (out == DLV_EBUSY)
        dlv__error_set(err, DLV_EBUSY,
                       "%s is in use by another process (another instance of the plugin?)",
                       st->path);
    if (out != DLV_OK)
        detach(st);
    return out;
}

/* ---- the terminal had state ----
 * `<name>.id` beside the database holds the id the database keeps in its meta table. Written at
 * the first open, it says that this terminal had a database: one that is now missing or empty
 * is a loss (pending commands, the print and notification ledgers), not a first start
 * (docs/store.md, "A missing or empty database"). */
#define STORE_KEY_ID "store.id"

static int read_marker(const char *marker, char id[64])
{
    id[0] = '\0';
    FILE *f = fopen(marker, "r");
    if (!f)
        return 0;
    size_t n = fread(id, 1, 63, f);
    fclose(f);
    id[n] = '\0';
    id[strcspn(id, "\r\n")] = '\0';
    return 1;
}

static int check_had_state(dlv__store *st, unsigned flags, dlv_error *err)
{
    char *marker = dlv__asprintf("%s.id", st->path);
    if (!marker)
        return dlv__error_set(err, DLV_ENOMEM, "store: out of memory");
    char id[64];
    struct stat sb;
    int rc = DLV_OK;
    bool empty = stat(st->path, &sb) != 0 || sb.st_size == 0;
    if (empty && read_marker(marker, id)) {
        if (!(flags & DLV__STORE_ACCEPT_LOSS)) {
            rc = dlv__error_set(
                err, DLV_ECORRUPT,
                "the terminal database %s is %s although this terminal had state (%s, store %s): "
                "pending commands and the print and notification ledgers may be lost; to start "
                "anyway with an empty database, start delivery-host once with --accept-store-loss "
                "(dlv_options.accept_store_loss; docs/store.md)",
                st->path, stat(st->path, &sb) != 0 ? "missing" : "empty", marker, id[0] ? id : "?");
        }
        /* Accepted: the new database gets a new id and the marker is renewed after the open. */
    }
    dlv__free(marker);
    return rc;
}

/* Gives the database its id (once) and writes the marker beside it when missing or stale. */
static int mark_had_state(dlv__store *st, dlv_error *err)
{
    char *value = NULL;
    int rc = dlv__store_meta_read(st, STORE_KEY_ID, &value, err);
    char uuid[37];
    if (rc == DLV_OK && !value) {
        rc = dlv__uuid_v4(uuid) == DLV_OK
                 ? dlv__store_meta_write(st, STORE_KEY_ID, uuid, err)
                 : dlv__error_set(err, DLV_ESTORE, "%s: no random source for its id", st->name);
        value = rc == DLV_OK ? dlv__strdup(uuid) : NULL;
        if (rc == DLV_OK && !value)
            rc = dlv__error_set(err, DLV_ENOMEM, "store: out of memory");
    }
    char *marker = rc == DLV_OK ? dlv__asprintf("%s.id", st->path) : NULL;
    if (rc == DLV_OK && !marker)
        rc = dlv__error_set(err, DLV_ENOMEM, "store: out of memory");
    char id[64];
    if (rc == DLV_OK && (!read_marker(marker, id) || strcmp(id, value) != 0)) {
        char line[80];
        int n = snprintf(line, sizeof line, "%s\n", value);
        rc = dlv__write_file_atomic(marker, line, (size_t)n, err);
    }
    dlv__free(marker);
    dlv__free(value);
    return rc;
}

int dlv__store_open(const char *dir, const dlv__store_options *opts, dlv__store **out,
                    dlv_error *err)
{
    static const dlv__store_options defaults = {0, 0, NULL};
    dlv_error local;
    dlv_error *e = err ? err : &local;
    if (out)
        *out = NULL;
    if (!dir || !*dir || !out)
        return dlv__error_set(err, DLV_EINVAL, "store: no data folder given");
    if (!opts)
        opts = &defaults;
    dlv__store *st = dlv__calloc(1, sizeof *st);
    if (!st)
        return dlv__error_set(err, DLV_ENOMEM, "store: out of memory");
    st->clock = system_clock;
    st->name = DLV__STORE_FILE;
    st->dir = dlv__strdup(dir);
    st->path = dlv__asprintf("%s/%s", dir, DLV__STORE_FILE);
    int rc = st->dir && st->path ? DLV_OK : dlv__error_set(e, DLV_ENOMEM, "store: out of memory");
    if (rc == DLV_OK)
        rc = dlv__mkdir_p(dir, e);
    if (rc == DLV_OK)
        rc = dlv__store_recover_finish_interrupted(st->path, e);
    if (rc == DLV_OK)
        rc = check_had_state(st, opts->flags, e);
    bool attached = false;
    if (rc == DLV_OK) {
        rc = attach(st, opts, e);
        attached = true;
    }
    if (attached && rc == DLV_ECORRUPT) {
        char *reason = dlv__strdup(e->message);
        rc = reason ? dlv__store_recover(st, opts->flags, opts->vfs, reason, e)
                    : dlv__error_set(e, DLV_ENOMEM, "store: out of memory");
        dlv__free(reason);
        if (rc == DLV_OK)
            rc = attach(st, opts, e);
    }
    if (rc == DLV_OK)
        rc = dlv__store_recover_check_blocked(st, opts->flags, e);
    if (rc == DLV_OK)
        rc = dlv__store_print_interrupted(st, e);
    if (rc == DLV_OK)
        rc = mark_had_state(st, e);
    if (rc != DLV_OK) {
        dlv__store_close(st);
        return rc;
    }
    *out = st;
    return DLV_OK;
}

void dlv__store_close(dlv__store *st)
{
    if (!st)
        return;
    detach(st);
    dlv__free(st->recovery.moved_to);
    dlv__free(st->recovery.reason);
    dlv__free(st->dir);
    dlv__free(st->path);
    dlv__free(st);
}

const char *dlv__store_path(const dlv__store *st)
{
    return st->path;
}

const dlv__store_recovery *dlv__store_recovery_info(const dlv__store *st)
{
    return st->recovered ? &st->recovery : NULL;
}

struct sqlite3 *dlv__store_sqlite(dlv__store *st)
{
    return st->db;
}
