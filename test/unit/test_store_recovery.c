/* The store when things go wrong: schema migrations and refusals, damaged and truncated files,
 * a recovery interrupted halfway, disk full and I/O errors on commit (injected through a small
 * SQLite VFS wrapper and through max_page_count). */
#include "common/internal.h"
#include "store/store.h"
#include "testlib.h"

#include <dirent.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define ORDER_X "11111111-1111-4111-8111-111111111111"

typedef struct made_cmd {
    char id[37];
    char body[1200];
} made_cmd;

/* Commands for one order; `pad` bytes of comment make rows take pages of their own. */
static void make_cmds(dlv__store_cmd *cmds, made_cmd *m, size_t n, size_t pad)
{
    char comment[1024];
    if (pad >= sizeof comment)
        pad = sizeof comment - 1;
    memset(comment, 'k', pad);
    comment[pad] = '\0';
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL_FATAL(dlv__uuid_v4(m[i].id), DLV_OK);
        snprintf(m[i].body, sizeof m[i].body,
                 "{\"id\":\"%.36s\",\"type\":\"Pay\",\"orderId\":\"" ORDER_X
                 "\",\"comment\":\"%s\"}",
                 m[i].id, comment);
        cmds[i] = (dlv__store_cmd){m[i].id, ORDER_X, "Pay", m[i].body};
    }
}

static dlv__store *open_ok(const char *dir, unsigned flags)
{
    dlv__store_options opts = {.flags = flags};
    dlv_error err = {0};
    dlv__store *st = NULL;
    int rc = dlv__store_open(dir, &opts, &st, &err);
    if (rc != DLV_OK)
        fprintf(stderr, "\n  open failed: %s\n", err.message);
    CU_ASSERT_EQUAL_FATAL(rc, DLV_OK);
    return st;
}

static char *db_path(const char *dir)
{
    return dlv__asprintf("%s/%s", dir, DLV__STORE_FILE);
}

static void show(const dlv_error *err)
{
    if (getenv("STORE_TEST_LS"))
        fprintf(stderr, "\n  [%s] %s\n", dlv_err_name(err->code), err->message);
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Files in `dir` whose name contains `part`; the first one's full path in *first (freed by the
 * caller) when asked. */
static int count_files(const char *dir, const char *part, char **first)
{
    DIR *d = opendir(dir);
    int n = 0;

    if (first)
        *first = NULL;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!strstr(e->d_name, part))
            continue;
        if (first && !*first)
            *first = dlv__asprintf("%s/%s", dir, e->d_name);
        n++;
    }
    if (d)
        closedir(d);
    return n;
}

static long outbox_count(dlv__store *st)
{
    long count = -1;
    int64_t oldest;
    CU_ASSERT_EQUAL(dlv__store_outbox_stats(st, &count, &oldest, NULL), DLV_OK);
    return count;
}

static void assert_outbox_is(dlv__store *st, const dlv__store_cmd *cmds, size_t n)
{
    dlv__store_cmd_row *rows;
    size_t got;
    CU_ASSERT_EQUAL_FATAL(dlv__store_outbox_peek(st, 500, false, &rows, &got, NULL), DLV_OK);
    CU_ASSERT_EQUAL(got, n);
    for (size_t i = 0; i < n && i < got; i++)
        CU_ASSERT_STRING_EQUAL(rows[i].id, cmds[i].id);
    dlv__store_cmd_rows_free(rows, got);
}

static int64_t raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static int64_t file_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    int64_t v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
        v = raw_int(db, sql);
    sqlite3_close(db);
    return v;
}

/* ---- schema ---- */

/* Version 1 as it was shipped: outbox, order cache, meta. Written out here, not taken from the
 * library, so that the test keeps an old file's real shape. */
static const char v1_schema[] =
    "PRAGMA application_id = 1145853508;"
    "CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);"
    "CREATE TABLE outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
    " order_id TEXT, type TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL);"
    "CREATE INDEX outbox_order ON outbox(order_id, seq);"
    "CREATE TABLE orders(id TEXT PRIMARY KEY NOT NULL, revision INTEGER NOT NULL,"
    " status TEXT NOT NULL, number INTEGER NOT NULL, json TEXT NOT NULL,"
    " updated_at INTEGER NOT NULL);"
    "INSERT INTO outbox(id, order_id, type, body, created_at, attempts, next_attempt_at) VALUES"
    " ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', '" ORDER_X "', 'ChangeStatus', '{\"n\":1}', 5, 2,"
    " 9),"
    " ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', '" ORDER_X "', 'Cancel', '{\"n\":2}', 6, 0, 6);"
    "INSERT INTO orders VALUES('" ORDER_X "', 41, 'WaitCooking', 100245, '{\"id\":1}', 7);"
    "INSERT INTO meta VALUES('store.last_revision', '41');"
    "PRAGMA user_version = 1;";

static void make_file_db(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "\n  %s\n", msg);
    sqlite3_free(msg);
    CU_ASSERT_EQUAL(rc, SQLITE_OK);
    sqlite3_close(db);
}

static void migrates_version_1(void)
{
    char *dir = dlv_test_mkdtemp();
    char *path = db_path(dir);
    make_file_db(path, v1_schema);

    dlv__store *st = open_ok(dir, 0);
    CU_ASSERT_EQUAL(raw_int(dlv__store_sqlite(st), "PRAGMA user_version"),
                    DLV__STORE_SCHEMA_VERSION);
    dlv__store_cmd_row *rows;
    size_t n;
    CU_ASSERT_EQUAL(dlv__store_outbox_peek(st, 10, false, &rows, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_STRING_EQUAL(rows[0].id, "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa");
    CU_ASSERT_EQUAL(rows[0].attempts, 2);
    CU_ASSERT_EQUAL(rows[0].next_attempt_at, 9);
    CU_ASSERT_STRING_EQUAL(rows[1].type, "Cancel");
    dlv__store_cmd_rows_free(rows, n);
    int64_t rev;
    CU_ASSERT_EQUAL(dlv__store_revision(st, &rev, NULL), DLV_OK);
    CU_ASSERT_EQUAL(rev, 41);
    dlv__store_order_row row;
    CU_ASSERT_EQUAL(dlv__store_orders_get(st, ORDER_X, &row, NULL), DLV_OK);
    CU_ASSERT_STRING_EQUAL(row.status, "WaitCooking");
    dlv__store_order_row_clear(&row);
    /* What version 2 added works. */
    dlv__print_new job = {ORDER_X, "Invoice", "OnSend", 1, NULL, false, NULL, 0};
    int64_t id, number;
    bool newly;
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &job, &id, NULL, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_notify_mark(st, ORDER_X, "New", &newly, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_number_next(st, 1, 9, &number, NULL), DLV_OK);
    dlv__store_close(st);
    CU_ASSERT_EQUAL(file_int(path, "PRAGMA user_version"), DLV__STORE_SCHEMA_VERSION);
    dlv__free(path);
    dlv_test_rmdir(dir);
}

/* Version 2 as it was shipped: version 1 plus the ledgers and the number series; the last number
 * issued to a terminal-created order was the meta value numbers.lastIssued. */
static const char v2_additions[] =
    "CREATE TABLE print_jobs(id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL,"
    " document TEXT NOT NULL, trigger_key TEXT NOT NULL, copies INTEGER NOT NULL, printer TEXT,"
    " is_copy INTEGER NOT NULL DEFAULT 0, reprint_of INTEGER, state TEXT NOT NULL DEFAULT"
    " 'pending', attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, payload BLOB,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL,"
    " UNIQUE(order_id, document, trigger_key));"
    "CREATE TABLE notifications(order_id TEXT NOT NULL, event TEXT NOT NULL,"
    " sent_at INTEGER NOT NULL, PRIMARY KEY(order_id, event));"
    "CREATE TABLE numbers(lo INTEGER NOT NULL, hi INTEGER NOT NULL, first INTEGER NOT NULL,"
    " last INTEGER NOT NULL, PRIMARY KEY(lo, hi));"
    "INSERT INTO meta VALUES('numbers.lastIssued', '100312');"
    "PRAGMA user_version = 2;";

static void migrates_version_2(void)
{
    char *dir = dlv_test_mkdtemp();
    char *path = db_path(dir);
    char *sql = dlv__asprintf("%s%s", v1_schema, v2_additions);
    make_file_db(path, sql);
    dlv__free(sql);

    dlv__store *st = open_ok(dir, 0);
    CU_ASSERT_EQUAL(raw_int(dlv__store_sqlite(st), "PRAGMA user_version"),
                    DLV__STORE_SCHEMA_VERSION);
    /* The last number issued is carried into the number state; no block yet. */
    dlv__number_state ns;
    CU_ASSERT_EQUAL(dlv__store_number_state_load(st, &ns, NULL), DLV_OK);
    CU_ASSERT_EQUAL(ns.last_issued, 100312);
    CU_ASSERT(!ns.has_block && !ns.has_next);
    char *old = NULL;
    CU_ASSERT_EQUAL(dlv__store_meta_get(st, "numbers.lastIssued", &old, NULL), DLV_OK);
    CU_ASSERT_PTR_NULL(old);
    dlv__free(old);
    /* What version 3 added works: blocks round-trip, a bad block is refused. */
    ns.has_block = true;
    ns.block = (dlv__number_block){900000, 900999};
    ns.has_next = true;
    ns.next = (dlv__number_block){901000, 901999};
    ns.last_issued = 900005;
    CU_ASSERT_EQUAL(dlv__store_number_state_save(st, &ns, NULL), DLV_OK);
    dlv__number_state bad = ns;
    bad.next.last = 1;
    CU_ASSERT_EQUAL(dlv__store_number_state_save(st, &bad, NULL), DLV_EINVAL);
    dlv__store_close(st);
    st = open_ok(dir, 0);
    dlv__number_state back;
    CU_ASSERT_EQUAL(dlv__store_number_state_load(st, &back, NULL), DLV_OK);
    CU_ASSERT_EQUAL(back.last_issued, 900005);
    CU_ASSERT(back.has_block && back.block.first == 900000 && back.block.last == 900999);
    CU_ASSERT(back.has_next && back.next.first == 901000 && back.next.last == 901999);
    dlv__store_close(st);
    dlv__free(path);
    dlv_test_rmdir(dir);
}

static void failed_migration_changes_nothing(void)
{
    char *dir = dlv_test_mkdtemp();
    char *path = db_path(dir);
    /* A version-1 file that (by some accident) already has a table version 2 creates. */
    char *sql = dlv__asprintf("%s CREATE TABLE notifications(x);", v1_schema);
    make_file_db(path, sql);
    dlv__free(sql);
    dlv__store *st = NULL;
    dlv_error err;
    CU_ASSERT_EQUAL(dlv__store_open(dir, NULL, &st, &err), DLV_ESTORE);
    CU_ASSERT_PTR_NULL(st);
    DLV_ASSERT_CONTAINS(err.message, "upgrading the schema from version 1 to 2");
    DLV_ASSERT_CONTAINS(err.message, "notifications");
    /* The upgrade was one transaction: still version 1, none of version 2's tables. */
    CU_ASSERT_EQUAL(file_int(path, "PRAGMA user_version"), 1);
    CU_ASSERT_EQUAL(file_int(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'print_jobs'"),
                    0);
    CU_ASSERT_EQUAL(file_int(path, "SELECT count(*) FROM outbox"), 2);
    CU_ASSERT_EQUAL(count_files(dir, ".corrupt-", NULL), 0);
    dlv__free(path);
    dlv_test_rmdir(dir);
}

static void newer_schema_is_refused(void)
{
    char *dir = dlv_test_mkdtemp();
    char *path = db_path(dir);
    dlv__store *st = open_ok(dir, 0);
    dlv__store_close(st);
    sqlite3 *db;
    CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &db), SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_exec(db, "PRAGMA user_version = 7", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    dlv_error err;
    CU_ASSERT_EQUAL(dlv__store_open(dir, NULL, &st, &err), DLV_ESCHEMA);
    CU_ASSERT_PTR_NULL(st);
    show(&err);
    DLV_ASSERT_CONTAINS(err.message, "schema version 7");
    DLV_ASSERT_CONTAINS(err.message, "newer");
    DLV_ASSERT_CONTAINS(err.message, "left untouched");
    CU_ASSERT_EQUAL(file_int(path, "PRAGMA user_version"), 7);
    CU_ASSERT_EQUAL(count_files(dir, ".corrupt-", NULL), 0);
    dlv__free(path);
    dlv_test_rmdir(dir);
}

static void foreign_database_is_refused(void)
{
    char *dir = dlv_test_mkdtemp();
    char *path = db_path(dir);
    make_file_db(path, "CREATE TABLE accounts(id, balance); INSERT INTO accounts VALUES(1, 100);");
    dlv__store *st = NULL;
    dlv_error err;
    CU_ASSERT_EQUAL(dlv__store_open(dir, NULL, &st, &err), DLV_ESCHEMA);
    DLV_ASSERT_CONTAINS(err.message, "not a delivery plugin database");
    CU_ASSERT_EQUAL(file_int(path, "SELECT balance FROM accounts"), 100);
    CU_ASSERT_EQUAL(file_int(path, "PRAGMA user_version"), 0);
    dlv__free(path);
    dlv_test_rmdir(dir);
}

/* ---- damaged files ---- */

static void garbage_file_is_moved_aside_and_blocks(void)
{
    char *dir = dlv_test_mkdtemp();
    char *path = db_path(dir);
    char garbage[8192];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (char)('A' + (i * 7) % 26);
    garbage[sizeof garbage - 1] = '\0';
    free(dlv_test_write_file(dir, DLV__STORE_FILE, garbage));

    dlv__store *st = NULL;
    dlv_error err;
    CU_ASSERT_EQUAL(dlv__store_open(dir, NULL, &st, &err), DLV_ECORRUPT);
    CU_ASSERT_PTR_NULL(st);
    show(&err);
    DLV_ASSERT_CONTAINS(err.message, "file is not a database");
    DLV_ASSERT_CONTAINS(err.message, "was moved aside as delivery.db.corrupt-");
    DLV_ASSERT_CONTAINS(err.message, "Unreadable: pending commands, print ledger");
    DLV_ASSERT_CONTAINS(err.message, "send that file to support");
    DLV_ASSERT_CONTAINS(err.message, "accepting the loss");
    char *moved = NULL;
    CU_ASSERT_EQUAL(count_files(dir, ".corrupt-", &moved), 1);
    DLV_ASSERT_CONTAINS(err.message, strrchr(moved, '/') + 1);
    CU_ASSERT_TRUE(strlen(err.message) < DLV_ERROR_MESSAGE_MAX - 1); /* not cut off */
    size_t len = 0;
    char *kept = dlv_test_read_file(moved, &len);
    CU_ASSERT_EQUAL(len, strlen(garbage));
    CU_ASSERT_TRUE(kept && memcmp(kept, garbage, len) == 0); /* byte for byte, for support */
    free(kept);

    /* Not silently replaced: every start refuses the same way. */
    char first[DLV_ERROR_MESSAGE_MAX];
    snprintf(first, sizeof first, "%s", err.message);
    CU_ASSERT_EQUAL(dlv__store_open(dir, NULL, &st, &err), DLV_ECORRUPT);
    CU_ASSERT_STRING_EQUAL(err.message, first);
    CU_ASSERT_EQUAL(count_files(dir, ".corrupt-", NULL), 1);

    /* The operator accepts the loss: a working store, the recovery reported. */
    st = open_ok(dir, DLV__STORE_ACCEPT_LOSS);
    const dlv__store_recovery *info = dlv__store_recovery_info(st);
    CU_ASSERT_PTR_NOT_NULL_FATAL(info);
    CU_ASSERT_STRING_EQUAL(info->moved_to, moved);
    DLV_ASSERT_CONTAINS(info->reason, "not a database");
    CU_ASSERT_FALSE(info->complete);
    CU_ASSERT_TRUE(info->loss_accepted);
    CU_ASSERT_EQUAL(outbox_count(st), 0);
    dlv__store_close(st);
    st = open_ok(dir, 0);
    CU_ASSERT_PTR_NULL(dlv__store_recovery_info(st));
    dlv__store_close(st);
    dlv__free(moved);
    dlv__free(path);
    dlv_test_rmdir(dir);
}

/* A store with a bit of everything; `orders` big cached orders. Returns the page size. */
static int64_t fill_store(const char *dir, dlv__store_cmd *cmds, made_cmd *m, size_t ncmds,
                          size_t pad, int orders, int64_t *job_sent, int64_t *job_unknown)
{
    dlv__store *st = open_ok(dir, 0);
    dlv__print_new job = {ORDER_X, "Invoice", "OnSend", 2, NULL, false, NULL, 0};
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &job, job_sent, NULL, NULL), DLV_OK);
    dlv__store_print_set_state(st, *job_sent, DLV__PRINT_SENDING, NULL, 0, NULL);
    dlv__store_print_set_state(st, *job_sent, DLV__PRINT_SENT, NULL, 0, NULL);
    job.document = "ServiceCheck";
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &job, job_unknown, NULL, NULL), DLV_OK);
    dlv__store_print_set_state(st, *job_unknown, DLV__PRINT_SENDING, NULL, 0, NULL);
    dlv__store_print_set_state(st, *job_unknown, DLV__PRINT_UNKNOWN, "connection reset", 0, NULL);
    dlv__store_notify_mark(st, ORDER_X, "New", NULL, NULL);
    dlv__store_notify_mark(st, ORDER_X, "Cooking", NULL, NULL);
    int64_t number;
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(dlv__store_number_next(st, 7000, 7999, &number, NULL), DLV_OK);
    char json[2100];
    memset(json, ' ', sizeof json);
    memcpy(json, "{\"n\":1}", 7);
    json[sizeof json - 1] = '\0';
    for (int i = 0; i < orders; i++) {
        char id[40];
        snprintf(id, sizeof id, "order-%04d", i);
        dlv__store_order o = {id, i, "WaitCooking", 100000 + i, json};
        CU_ASSERT_EQUAL(dlv__store_orders_sync(st, &o, 1, NULL, 0, i + 1, NULL), DLV_OK);
    }
    make_cmds(cmds, m, ncmds, pad);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, cmds, ncmds, NULL), DLV_OK);
    int64_t page_size = raw_int(dlv__store_sqlite(st), "PRAGMA page_size");
    dlv__store_close(st);
    char *wal = dlv__asprintf("%s/%s-wal", dir, DLV__STORE_FILE);
    CU_ASSERT_FALSE(exists(wal)); /* closed cleanly: everything is in the main file */
    dlv__free(wal);
    return page_size;
}

/* Overwrites the root page of `table` with a pattern no b-tree page can have. */
static void smash_root_page(const char *path, const char *table, int64_t page_size)
{
    char *sql = dlv__asprintf("SELECT rootpage FROM sqlite_schema WHERE name = '%s'", table);
    int64_t page = file_int(path, sql);
    dlv__free(sql);
    CU_ASSERT_FATAL(page > 1);
    FILE *f = fopen(path, "r+b");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char *junk = malloc((size_t)page_size);
    memset(junk, 0xA5, (size_t)page_size);
    fseek(f, (long)((page - 1) * page_size), SEEK_SET);
    CU_ASSERT_EQUAL(fwrite(junk, 1, (size_t)page_size, f), (size_t)page_size);
    fclose(f);
    free(junk);
}

static void check_ledgers_carried(dlv__store *st, int64_t job_sent, int64_t job_unknown)
{
    dlv__print_job job;
    CU_ASSERT_EQUAL(dlv__store_print_get(st, job_sent, &job, NULL), DLV_OK);
    CU_ASSERT_EQUAL(job.state, DLV__PRINT_SENT);
    CU_ASSERT_EQUAL(job.copies, 2);
    dlv__store_print_job_clear(&job);
    dlv__print_job *offers;
    size_t n;
    CU_ASSERT_EQUAL(dlv__store_print_offers(st, &offers, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(offers[0].id, job_unknown);
    dlv__store_print_jobs_free(offers, n);
    /* A repeated trigger still finds the sent job: nothing printed twice. */
    dlv__print_new again = {ORDER_X, "Invoice", "OnSend", 2, NULL, false, NULL, 0};
    int64_t id;
    bool created = true;
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &again, &id, &created, NULL), DLV_OK);
    CU_ASSERT_FALSE(created);
    CU_ASSERT_EQUAL(id, job_sent);
    bool newly = true;
    CU_ASSERT_EQUAL(dlv__store_notify_mark(st, ORDER_X, "Cooking", &newly, NULL), DLV_OK);
    CU_ASSERT_FALSE(newly);
    int64_t number;
    CU_ASSERT_EQUAL(dlv__store_number_next(st, 7000, 7999, &number, NULL), DLV_OK);
    CU_ASSERT_EQUAL(number, 7003);
}

static void damaged_cache_is_recovered_with_everything_pending(void)
{
    char *dir = dlv_test_mkdtemp();
    char *path = db_path(dir);
    dlv__store_cmd cmds[30];
    made_cmd m[30];
    int64_t sent, unknown;
    int64_t page_size = fill_store(dir, cmds, m, 30, 600, 60, &sent, &unknown);
    smash_root_page(path, "orders", page_size);

    dlv__store *st = open_ok(dir, 0);
    const dlv__store_recovery *info = dlv__store_recovery_info(st);
    CU_ASSERT_PTR_NOT_NULL_FATAL(info);
    CU_ASSERT_TRUE(info->complete);
    CU_ASSERT_FALSE(info->loss_accepted);
    CU_ASSERT_EQUAL(info->commands, 30);
    CU_ASSERT_EQUAL(info->print_jobs, 2);
    CU_ASSERT_EQUAL(info->notifications, 2);
    CU_ASSERT_EQUAL(info->number_series, 1);
    DLV_ASSERT_CONTAINS(info->moved_to, ".corrupt-");
    CU_ASSERT_TRUE(exists(info->moved_to));
    CU_ASSERT_EQUAL(count_files(dir, ".corrupt-", NULL), 1);
    /* Every pending command, in order, exactly once. */
    assert_outbox_is(st, cmds, 30);
    check_ledgers_carried(st, sent, unknown);
    /* The cache is fetched again from the call-center: from revision 0. */
    int64_t rev = -1;
    CU_ASSERT_EQUAL(dlv__store_revision(st, &rev, NULL), DLV_OK);
    CU_ASSERT_EQUAL(rev, 0);
    dlv__store_order_row row;
    CU_ASSERT_EQUAL(dlv__store_orders_get(st, "order-0001", &row, NULL), DLV_ENOTFOUND);
    dlv__store_close(st);
    st = open_ok(dir, 0);
    CU_ASSERT_PTR_NULL(dlv__store_recovery_info(st));
    assert_outbox_is(st, cmds, 30);
    dlv__store_close(st);
    dlv__free(path);
    dlv_test_rmdir(dir);
}

static void damaged_outbox_blocks_until_accepted(void)
{
    char *dir = dlv_test_mkdtemp();
    char *path = db_path(dir);
    dlv__store_cmd cmds[3];
    made_cmd m[3];
    int64_t sent, unknown;
    int64_t page_size = fill_store(dir, cmds, m, 3, 10, 5, &sent, &unknown);
    smash_root_page(path, "outbox", page_size);

    dlv__store *st = NULL;
    dlv_error err;
    CU_ASSERT_EQUAL(dlv__store_open(dir, NULL, &st, &err), DLV_ECORRUPT);
    show(&err);
    DLV_ASSERT_CONTAINS(err.message, "Unreadable: pending commands.");
    DLV_ASSERT_CONTAINS(err.message, "integrity check failed: Page ");
    DLV_ASSERT_CONTAINS(err.message, "0 commands, 2 print jobs, 2 notification marks, 1 number");
    CU_ASSERT_EQUAL(dlv__store_open(dir, NULL, &st, &err), DLV_ECORRUPT);
    CU_ASSERT_EQUAL(count_files(dir, ".corrupt-", NULL), 1);

    st = open_ok(dir, DLV__STORE_ACCEPT_LOSS);
    const dlv__store_recovery *info = dlv__store_recovery_info(st);
    CU_ASSERT_PTR_NOT_NULL_FATAL(info);
    CU_ASSERT_TRUE(info->loss_accepted);
    CU_ASSERT_FALSE(info->complete);
    CU_ASSERT_EQUAL(info->print_jobs, 2);
    CU_ASSERT_EQUAL(outbox_count(st), 0);
    check_ledgers_carried(st, sent, unknown);
    dlv__store_close(st);
    dlv__free(path);
    dlv_test_rmdir(dir);
}

static void truncated_file_is_moved_aside(void)
{
    char *dir = dlv_test_mkdtemp();
    char *path = db_path(dir);
    dlv__store_cmd cmds[30];
    made_cmd m[30];
    int64_t sent, unknown;
    fill_store(dir, cmds, m, 30, 1000, 80, &sent, &unknown);
    struct stat sb;
    CU_ASSERT_EQUAL_FATAL(stat(path, &sb), 0);
    CU_ASSERT_EQUAL_FATAL(truncate(path, sb.st_size * 2 / 5), 0);

    dlv__store *st = NULL;
    dlv_error err;
    CU_ASSERT_EQUAL(dlv__store_open(dir, NULL, &st, &err), DLV_ECORRUPT);
    show(&err);
    DLV_ASSERT_CONTAINS(err.message, "malformed");
    DLV_ASSERT_CONTAINS(err.message, "pending commands");
    char *moved = NULL;
    CU_ASSERT_EQUAL(count_files(dir, ".corrupt-", &moved), 1);
    CU_ASSERT_EQUAL_FATAL(stat(moved, &sb), 0);
    CU_ASSERT_TRUE(sb.st_size > 0);
    st = open_ok(dir, DLV__STORE_ACCEPT_LOSS);
    /* The ledgers sat in early pages and came through; the commands did not. */
    check_ledgers_carried(st, sent, unknown);
    CU_ASSERT_TRUE(dlv__store_recovery_info(st)->commands < 30);
    dlv__store_close(st);
    dlv__free(moved);
    dlv__free(path);
    dlv_test_rmdir(dir);
}

static void interrupted_recovery_is_finished(void)
{
    char *dir = dlv_test_mkdtemp();
    char *other = dlv_test_mkdtemp();
    dlv__store_cmd cmds[2];
    made_cmd m[2];
    make_cmds(cmds, m, 2, 0);
    dlv__store *st = open_ok(other, 0);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, cmds, 2, NULL), DLV_OK);
    dlv__store_close(st);

    /* Crash between the renames: the damaged file already moved, its -wal not yet, the
     * rebuilt database still under its temporary name. */
    char *built = db_path(other);
    char *tmp = dlv__asprintf("%s/%s.recovering", dir, DLV__STORE_FILE);
    CU_ASSERT_EQUAL_FATAL(rename(built, tmp), 0);
    free(dlv_test_write_file(dir, DLV__STORE_FILE ".corrupt-20260101T000000Z", "damaged"));
    free(dlv_test_write_file(dir, DLV__STORE_FILE "-wal", "stale wal of the damaged file"));
    st = open_ok(dir, 0);
    assert_outbox_is(st, cmds, 2);
    dlv__store_close(st);
    CU_ASSERT_FALSE(exists(tmp));
    CU_ASSERT_EQUAL(count_files(dir, ".corrupt-wal-", NULL), 1);

    /* Crash while building: the damaged file is still in place, the half-built one goes. */
    free(dlv_test_write_file(dir, DLV__STORE_FILE ".recovering", "half built"));
    st = open_ok(dir, 0);
    assert_outbox_is(st, cmds, 2);
    dlv__store_close(st);
    CU_ASSERT_FALSE(exists(tmp));
    dlv__free(built);
    dlv__free(tmp);
    dlv_test_rmdir(other);
    dlv_test_rmdir(dir);
}

static void orphan_wal_is_kept_aside(void)
{
    char *dir = dlv_test_mkdtemp();
    /* Someone deleted delivery.db but not its -wal: those frames belong to a file that is gone
     * and must not be replayed into the new one. */
    free(dlv_test_write_file(dir, DLV__STORE_FILE "-wal", "frames of a deleted database"));
    dlv__store *st = open_ok(dir, 0);
    CU_ASSERT_EQUAL(outbox_count(st), 0);
    dlv__store_close(st);
    char *kept = NULL;
    CU_ASSERT_EQUAL(count_files(dir, ".corrupt-wal-", &kept), 1);
    char *text = kept ? dlv_test_read_file(kept, NULL) : NULL;
    CU_ASSERT_TRUE(text && strcmp(text, "frames of a deleted database") == 0);
    free(text);
    dlv__free(kept);
    dlv_test_rmdir(dir);
}

/* ---- disk full, I/O errors: a VFS that fails on demand ---- */

typedef struct faulty_file {
    sqlite3_file base;
    sqlite3_file *real;
    bool wal;
} faulty_file;

static sqlite3_vfs *real_vfs;
static int fail_wal_write; /* SQLite code xWrite returns on the WAL, 0: none */
static int fail_sync;      /* SQLite code xSync returns, 0: none */
static int faults_hit;

static int f_close(sqlite3_file *f)
{
    faulty_file *ff = (faulty_file *)f;
    return ff->real->pMethods->xClose(ff->real);
}
static int f_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    faulty_file *ff = (faulty_file *)f;
    return ff->real->pMethods->xRead(ff->real, buf, n, off);
}
static int f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    faulty_file *ff = (faulty_file *)f;
    if (ff->wal && fail_wal_write) {
        faults_hit++;
        return fail_wal_write;
    }
    return ff->real->pMethods->xWrite(ff->real, buf, n, off);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    faulty_file *ff = (faulty_file *)f;
    return ff->real->pMethods->xTruncate(ff->real, size);
}
static int f_sync(sqlite3_file *f, int flags)
{
    faulty_file *ff = (faulty_file *)f;
    if (fail_sync) {
        faults_hit++;
        return fail_sync;
    }
    return ff->real->pMethods->xSync(ff->real, flags);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *size)
{
    faulty_file *ff = (faulty_file *)f;
    return ff->real->pMethods->xFileSize(ff->real, size);
}
static int f_lock(sqlite3_file *f, int level)
{
    faulty_file *ff = (faulty_file *)f;
    return ff->real->pMethods->xLock(ff->real, level);
}
static int f_unlock(sqlite3_file *f, int level)
{
    faulty_file *ff = (faulty_file *)f;
    return ff->real->pMethods->xUnlock(ff->real, level);
}
static int f_reserved(sqlite3_file *f, int *out)
{
    faulty_file *ff = (faulty_file *)f;
    return ff->real->pMethods->xCheckReservedLock(ff->real, out);
}
static int f_control(sqlite3_file *f, int op, void *arg)
{
    faulty_file *ff = (faulty_file *)f;
    return ff->real->pMethods->xFileControl(ff->real, op, arg);
}
static int f_sector(sqlite3_file *f)
{
    faulty_file *ff = (faulty_file *)f;
    return ff->real->pMethods->xSectorSize(ff->real);
}
static int f_device(sqlite3_file *f)
{
    faulty_file *ff = (faulty_file *)f;
    return ff->real->pMethods->xDeviceCharacteristics(ff->real);
}
static int f_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **p)
{
    faulty_file *ff = (faulty_file *)f;
    return ff->real->pMethods->xShmMap(ff->real, pg, sz, extend, p);
}
static int f_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    faulty_file *ff = (faulty_file *)f;
    return ff->real->pMethods->xShmLock(ff->real, offset, n, flags);
}
static void f_shm_barrier(sqlite3_file *f)
{
    faulty_file *ff = (faulty_file *)f;
    ff->real->pMethods->xShmBarrier(ff->real);
}
static int f_shm_unmap(sqlite3_file *f, int del)
{
    faulty_file *ff = (faulty_file *)f;
    return ff->real->pMethods->xShmUnmap(ff->real, del);
}
static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **p)
{
    faulty_file *ff = (faulty_file *)f;
    return ff->real->pMethods->xFetch(ff->real, off, n, p);
}
static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    faulty_file *ff = (faulty_file *)f;
    return ff->real->pMethods->xUnfetch(ff->real, off, p);
}

static const sqlite3_io_methods faulty_io = {
    3,             /* iVersion */
    f_close,       /* xClose */
    f_read,        /* xRead */
    f_write,       /* xWrite */
    f_truncate,    /* xTruncate */
    f_sync,        /* xSync */
    f_size,        /* xFileSize */
    f_lock,        /* xLock */
    f_unlock,      /* xUnlock */
    f_reserved,    /* xCheckReservedLock */
    f_control,     /* xFileControl */
    f_sector,      /* xSectorSize */
    f_device,      /* xDeviceCharacteristics */
    f_shm_map,     /* xShmMap */
    f_shm_lock,    /* xShmLock */
    f_shm_barrier, /* xShmBarrier */
    f_shm_unmap,   /* xShmUnmap */
    f_fetch,       /* xFetch */
    f_unfetch,     /* xUnfetch */
};

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    (void)vfs;
    faulty_file *ff = (faulty_file *)f;
    ff->real = (sqlite3_file *)(ff + 1);
    ff->wal = (flags & SQLITE_OPEN_WAL) != 0;
    int rc = real_vfs->xOpen(real_vfs, name, ff->real, flags, out);
    ff->base.pMethods = ff->real->pMethods ? &faulty_io : NULL;
    return rc;
}
static int v_delete(sqlite3_vfs *vfs, const char *name, int sync)
{
    (void)vfs;
    return real_vfs->xDelete(real_vfs, name, sync);
}
static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}
static int v_full(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}
static int v_random(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xRandomness(real_vfs, n, out);
}
static int v_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return real_vfs->xSleep(real_vfs, us);
}
static int v_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return real_vfs->xCurrentTime(real_vfs, out);
}
static int v_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xGetLastError(real_vfs, n, out);
}
static int v_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static sqlite3_vfs faulty_vfs;

static const char *faulty_vfs_name(void)
{
    if (!real_vfs) {
        real_vfs = sqlite3_vfs_find(NULL);
        faulty_vfs = (sqlite3_vfs){
            .iVersion = 2,
            .szOsFile = (int)sizeof(faulty_file) + real_vfs->szOsFile,
            .mxPathname = real_vfs->mxPathname,
            .zName = "dlvtest-faulty",
            .xOpen = v_open,
            .xDelete = v_delete,
            .xAccess = v_access,
            .xFullPathname = v_full,
            .xRandomness = v_random,
            .xSleep = v_sleep,
            .xCurrentTime = v_time,
            .xGetLastError = v_last_error,
            .xCurrentTimeInt64 = v_time64,
        };
        sqlite3_vfs_register(&faulty_vfs, 0);
    }
    fail_wal_write = fail_sync = faults_hit = 0;
    return faulty_vfs.zName;
}

static dlv__store *open_faulty(const char *dir)
{
    dlv__store_options opts = {.vfs = faulty_vfs_name()};
    dlv_error err = {0};
    dlv__store *st = NULL;
    int rc = dlv__store_open(dir, &opts, &st, &err);
    if (rc != DLV_OK)
        fprintf(stderr, "\n  open failed: %s\n", err.message);
    CU_ASSERT_EQUAL_FATAL(rc, DLV_OK);
    return st;
}

/* A failed commit: the error names the cause, the earlier rows are intact, the failed batch
 * left nothing (now, after more writes, and after a restart). */
static void commit_failure_stores_nothing(int *fault, int code, int expect, const char *text)
{
    char *dir = dlv_test_mkdtemp();
    dlv__store *st = open_faulty(dir);
    dlv__store_cmd before[3], failed[50], after[2];
    made_cmd mb[3], mf[50], ma[2];
    make_cmds(before, mb, 3, 50);
    make_cmds(failed, mf, 50, 50);
    make_cmds(after, ma, 2, 50);
    dlv_error err;
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, before, 3, NULL), DLV_OK);

    *fault = code;
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, failed, 50, &err), expect);
    show(&err);
    DLV_ASSERT_CONTAINS(err.message, text);
    DLV_ASSERT_CONTAINS(err.message, "nothing was stored");
    /* Also a whole group: commands, a print job, a notification mark and a number. */
    CU_ASSERT_EQUAL(dlv__store_begin(st, NULL), DLV_OK);
    int rc = dlv__store_outbox_add(st, failed, 10, NULL);
    dlv__print_new job = {ORDER_X, "Invoice", "OnBill", 1, NULL, false, NULL, 0};
    if (rc == DLV_OK)
        rc = dlv__store_print_add(st, &job, NULL, NULL, NULL);
    if (rc == DLV_OK)
        rc = dlv__store_notify_mark(st, ORDER_X, "Waiting", NULL, NULL);
    int64_t number;
    if (rc == DLV_OK)
        rc = dlv__store_number_next(st, 10, 20, &number, NULL);
    CU_ASSERT_EQUAL(rc, DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_commit(st, &err), expect);
    DLV_ASSERT_CONTAINS(err.message, text);
    CU_ASSERT_TRUE(faults_hit > 0);
    *fault = 0;

    assert_outbox_is(st, before, 3);
    dlv__print_job *jobs;
    size_t n;
    CU_ASSERT_EQUAL(dlv__store_print_for_order(st, ORDER_X, &jobs, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, after, 2, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_number_next(st, 10, 20, &number, NULL), DLV_OK);
    CU_ASSERT_EQUAL(number, 10);
    dlv__store_close(st);

    st = open_ok(dir, 0);
    dlv__store_cmd expect_rows[5] = {before[0], before[1], before[2], after[0], after[1]};
    assert_outbox_is(st, expect_rows, 5);
    bool newly = false;
    CU_ASSERT_EQUAL(dlv__store_notify_mark(st, ORDER_X, "Waiting", &newly, NULL), DLV_OK);
    CU_ASSERT_TRUE(newly);
    dlv__store_close(st);
    dlv_test_rmdir(dir);
}

static void disk_full_on_commit(void)
{
    commit_failure_stores_nothing(&fail_wal_write, SQLITE_FULL, DLV_EFULL, "disk is full");
}

static void io_error_on_commit(void)
{
    commit_failure_stores_nothing(&fail_wal_write, SQLITE_IOERR_WRITE, DLV_EIO, "I/O error");
}

static void flush_error_on_commit(void)
{
    commit_failure_stores_nothing(&fail_sync, SQLITE_IOERR_FSYNC, DLV_EIO, "I/O error");
}

/* A flush (fsync) that fails at commit leaves the transaction's frames written in the WAL; if
 * the process died right then, they must not come back as stored on the next start: the caller
 * was told nothing was stored. */
static const char *self_path; /* argv[0]: this binary, re-run as the crashing child */

/* The child: a batch whose flush fails, then death without closing (no checkpoint). It runs as a
 * fresh process, outside valgrind, so its deliberate leaks are not reported. */
static int flush_failure_child(const char *dir, const char *id1, const char *id2)
{
    dlv__store_options opts = {.vfs = faulty_vfs_name()};
    dlv__store *st = NULL;
    /* Many WAL frames, far more than the write that follows the failure. */
    dlv__store_cmd failed[40];
    static made_cmd mf[40];
    static char comment[1001];
    memset(comment, 'k', sizeof comment - 1);
    for (int i = 0; i < 40; i++) {
        if (dlv__uuid_v4(mf[i].id) != DLV_OK)
            return 4;
        snprintf(mf[i].body, sizeof mf[i].body, "{\"id\":\"%.36s\",\"comment\":\"%s\"}", mf[i].id,
                 comment);
        failed[i] = (dlv__store_cmd){mf[i].id, ORDER_X, "Pay", mf[i].body};
    }
    /* Written first in the same session, so the WAL already has its header and the failed
     * batch's frames really reach the file before the flush fails. */
    dlv__store_cmd before[2] = {{id1, ORDER_X, "Pay", "{}"}, {id2, ORDER_X, "Pay", "{}"}};
    if (dlv__store_open(dir, &opts, &st, NULL) != DLV_OK ||
        dlv__store_outbox_add(st, before, 2, NULL) != DLV_OK)
        return 1;
    fail_sync = SQLITE_IOERR_FSYNC;
    int rc = dlv__store_outbox_add(st, failed, 40, NULL);
    fail_sync = 0;
    if (rc != DLV_EIO)
        return 2;
    raise(SIGKILL);
    return 3;
}

static void failed_flush_does_not_come_back_after_a_crash(void)
{
    char *dir = dlv_test_mkdtemp();
    dlv__store_cmd before[2];
    made_cmd mb[2];
    make_cmds(before, mb, 2, 10);
    fflush(NULL);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        execl(self_path, self_path, "--flush-failure-child", dir, before[0].id, before[1].id,
              (char *)NULL);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status))
        fprintf(stderr, "\n  child exited with %d\n", WEXITSTATUS(status));
    CU_ASSERT_TRUE_FATAL(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    dlv__store *st = open_ok(dir, 0);
    assert_outbox_is(st, before, 2);
    dlv__store_close(st);
    dlv_test_rmdir(dir);
}

/* The database may not grow (max_page_count): SQLITE_FULL while writing, not at commit. */
static void database_cannot_grow(void)
{
    char *dir = dlv_test_mkdtemp();
    dlv__store *st = open_ok(dir, 0);
    dlv__store_cmd before[3], big[40];
    made_cmd mb[3], mg[40];
    make_cmds(before, mb, 3, 10);
    make_cmds(big, mg, 40, 1000);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, before, 3, NULL), DLV_OK);
    sqlite3 *db = dlv__store_sqlite(st);
    int64_t pages = raw_int(db, "PRAGMA page_count");
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", (long long)pages);
    CU_ASSERT_EQUAL(raw_int(db, sql), pages);

    dlv_error err;
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, big, 40, &err), DLV_EFULL);
    show(&err);
    DLV_ASSERT_CONTAINS(err.message, "cannot store 40 commands, none was stored");
    assert_outbox_is(st, before, 3);

    /* Inside a group: the failing batch is undone; what the group wrote before stays or the
     * whole group reports the error, never a part of the failed batch. */
    CU_ASSERT_EQUAL(dlv__store_begin(st, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, big, 40, &err), DLV_EFULL);
    int rc = dlv__store_commit(st, &err);
    CU_ASSERT_TRUE(rc == DLV_OK || rc == DLV_EFULL);
    assert_outbox_is(st, before, 3);

    CU_ASSERT_TRUE(raw_int(db, "PRAGMA max_page_count = 100000") >= 100000);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, big, 40, NULL), DLV_OK);
    CU_ASSERT_EQUAL(outbox_count(st), 43);
    dlv__store_close(st);
    dlv_test_rmdir(dir);
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--flush-failure-child") == 0)
        return flush_failure_child(argv[2], argv[3], argv[4]);
    self_path = argv[0];
    static const dlv_test_case cases[] = {
        DLV_TEST(migrates_version_1),
        DLV_TEST(migrates_version_2),
        DLV_TEST(failed_migration_changes_nothing),
        DLV_TEST(newer_schema_is_refused),
        DLV_TEST(foreign_database_is_refused),
        DLV_TEST(garbage_file_is_moved_aside_and_blocks),
        DLV_TEST(damaged_cache_is_recovered_with_everything_pending),
        DLV_TEST(damaged_outbox_blocks_until_accepted),
        DLV_TEST(truncated_file_is_moved_aside),
        DLV_TEST(interrupted_recovery_is_finished),
        DLV_TEST(orphan_wal_is_kept_aside),
        DLV_TEST(disk_full_on_commit),
        DLV_TEST(io_error_on_commit),
        DLV_TEST(flush_error_on_commit),
        DLV_TEST(failed_flush_does_not_come_back_after_a_crash),
        DLV_TEST(database_cannot_grow),
        DLV_TEST_END,
    };
    return dlv_test_main("store_recovery", cases);
}
