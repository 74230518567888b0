/* The store's functional contract: outbox, group commit, order cache and meta, print and
 * notification ledgers, delivery numbers, pruning. */
#include "common/internal.h"
#include "common/xml.h"
#include "store/store.h"
#include "store/store_impl.h"
#include "testlib.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ORDER_X "11111111-1111-4111-8111-111111111111"
#define ORDER_Y "22222222-2222-4222-8222-222222222222"

typedef struct made_cmd {
    char id[37];
    char body[160];
} made_cmd;

static int64_t fake_now = 1700000000000;

static int64_t fake_clock(void *arg)
{
    return *(int64_t *)arg;
}

static dlv__store *open_in(const char *dir)
{
    dlv_error err = {0};
    dlv__store *st = NULL;
    int rc = dlv__store_open(dir, NULL, &st, &err);
    if (rc != DLV_OK)
        fprintf(stderr, "\n  open failed: %s\n", err.message);
    CU_ASSERT_EQUAL_FATAL(rc, DLV_OK);
    dlv__store_set_clock(st, fake_clock, &fake_now);
    return st;
}

/* Fills `n` commands for one order with fresh ids. */
static void make_cmds(dlv__store_cmd *cmds, made_cmd *m, size_t n, const char *order_id)
{
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL_FATAL(dlv__uuid_v4(m[i].id), DLV_OK);
        snprintf(m[i].body, sizeof m[i].body,
                 "{\"id\":\"%.36s\",\"type\":\"ChangeStatus\",\"orderId\":\"%.40s\"}", m[i].id,
                 order_id ? order_id : "");
        cmds[i] = (dlv__store_cmd){m[i].id, order_id, "ChangeStatus", m[i].body};
    }
}

static long outbox_count(dlv__store *st)
{
    long count = -1;
    int64_t oldest;
    CU_ASSERT_EQUAL(dlv__store_outbox_stats(st, &count, &oldest, NULL), DLV_OK);
    return count;
}

static int64_t pragma_int(dlv__store *st, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(dlv__store_sqlite(st), sql, -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* ---- opening ---- */

static void open_creates_wal_database(void)
{
    char *dir = dlv_test_mkdtemp();
    char *sub = dlv__asprintf("%s/data/plugin", dir);
    dlv__store *st = open_in(sub);
    DLV_ASSERT_CONTAINS(dlv__store_path(st), "/data/plugin/delivery.db");
    CU_ASSERT_PTR_NULL(dlv__store_recovery_info(st));
    CU_ASSERT_EQUAL(pragma_int(st, "PRAGMA user_version"), DLV__STORE_SCHEMA_VERSION);
    CU_ASSERT_EQUAL(pragma_int(st, "PRAGMA synchronous"), 2); /* FULL */
    CU_ASSERT_EQUAL(pragma_int(st, "PRAGMA foreign_keys"), 1);
    sqlite3_stmt *s = NULL;
    sqlite3_prepare_v2(dlv__store_sqlite(st), "PRAGMA journal_mode", -1, &s, NULL);
    CU_ASSERT_EQUAL(sqlite3_step(s), SQLITE_ROW);
    CU_ASSERT_STRING_EQUAL((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    dlv__store_close(st);
    st = open_in(sub);
    CU_ASSERT_EQUAL(outbox_count(st), 0);
    dlv__store_close(st);
    dlv__store_close(NULL);
    dlv_error err;
    CU_ASSERT_EQUAL(dlv__store_open("", NULL, &st, &err), DLV_EINVAL);
    CU_ASSERT_PTR_NULL(st);
    dlv__free(sub);
    dlv_test_rmdir(dir);
}

static void second_open_is_busy(void)
{
    char *dir = dlv_test_mkdtemp();
    dlv__store *a = open_in(dir), *b = NULL;
    dlv_error err = {0};
    dlv__store_options opts = {.busy_timeout_ms = 50};
    CU_ASSERT_EQUAL(dlv__store_open(dir, &opts, &b, &err), DLV_EBUSY);
    CU_ASSERT_PTR_NULL(b);
    DLV_ASSERT_CONTAINS(err.message, "in use by another process");
    dlv__store_close(a);
    CU_ASSERT_EQUAL(dlv__store_open(dir, &opts, &b, &err), DLV_OK);
    dlv__store_close(b);
    dlv_test_rmdir(dir);
}

/* ---- outbox ---- */

typedef struct pending_counts {
    int orders;
    long x, y;
    bool stop;
} pending_counts;

static int count_pending(void *arg, const char *order_id, long count)
{
    pending_counts *pc = arg;
    pc->orders++;
    if (strcmp(order_id, ORDER_X) == 0)
        pc->x = count;
    else if (strcmp(order_id, ORDER_Y) == 0)
        pc->y = count;
    return pc->stop ? 7 : 0;
}

static void outbox_keeps_creation_order(void)
{
    char *dir = dlv_test_mkdtemp();
    dlv__store *st = open_in(dir);
    dlv__store_cmd cmds[6];
    made_cmd m[6];
    make_cmds(cmds, m, 3, ORDER_X);
    make_cmds(cmds + 3, m + 3, 3, ORDER_Y);
    dlv__store_cmd interleaved[6] = {cmds[0], cmds[3], cmds[1], cmds[4], cmds[2], cmds[5]};
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, interleaved, 4, NULL), DLV_OK);
    fake_now += 1000;
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, interleaved + 4, 2, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, NULL, 0, NULL), DLV_OK);

    dlv__store_cmd_row *rows;
    size_t n;
    CU_ASSERT_EQUAL(dlv__store_outbox_peek(st, 500, false, &rows, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(n, 6);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_STRING_EQUAL(rows[i].id, interleaved[i].id);
        CU_ASSERT_STRING_EQUAL(rows[i].body, interleaved[i].body);
        CU_ASSERT_STRING_EQUAL(rows[i].type, "ChangeStatus");
        CU_ASSERT_EQUAL(rows[i].attempts, 0);
        if (i > 0)
            CU_ASSERT_TRUE(rows[i].seq > rows[i - 1].seq);
    }
    CU_ASSERT_EQUAL(rows[0].created_at, fake_now - 1000);
    CU_ASSERT_EQUAL(rows[5].created_at, fake_now);
    dlv__store_cmd_rows_free(rows, n);

    CU_ASSERT_EQUAL(dlv__store_outbox_peek(st, 2, false, &rows, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_STRING_EQUAL(rows[1].id, cmds[3].id);
    dlv__store_cmd_rows_free(rows, n);

    /* Per order, how many wait: the runtime's start counts them once for all orders. */
    pending_counts pc = {0};
    CU_ASSERT_EQUAL(dlv__store_outbox_pending_orders(st, count_pending, &pc, NULL), DLV_OK);
    CU_ASSERT_EQUAL(pc.orders, 2);
    CU_ASSERT_EQUAL(pc.x, 3);
    CU_ASSERT_EQUAL(pc.y, 3);
    pending_counts stop = {.stop = true};
    CU_ASSERT_EQUAL(dlv__store_outbox_pending_orders(st, count_pending, &stop, NULL), 7);
    CU_ASSERT_EQUAL(stop.orders, 1);
    /* A print report is not a change of its order: not counted. */
    made_cmd report;
    CU_ASSERT_EQUAL_FATAL(dlv__uuid_v4(report.id), DLV_OK);
    snprintf(report.body, sizeof report.body,
             "{\"id\":\"%.36s\",\"type\":\"DocumentPrinted\",\"orderId\":\"" ORDER_X "\"}",
             report.id);
    dlv__store_cmd printed = {report.id, ORDER_X, "DocumentPrinted", report.body};
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, &printed, 1, NULL), DLV_OK);
    pc = (pending_counts){0};
    CU_ASSERT_EQUAL(dlv__store_outbox_pending_orders(st, count_pending, &pc, NULL), DLV_OK);
    CU_ASSERT_EQUAL(pc.x, 3);
    dlv__store_outcome gone = {report.id, "Applied"};
    CU_ASSERT_EQUAL(dlv__store_outbox_complete(st, &gone, 1, NULL, NULL), DLV_OK);

    /* Each order's commands in the order they were made, the other order's between them. */
    CU_ASSERT_EQUAL(dlv__store_outbox_peek(st, 10, false, &rows, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(n, 6);
    size_t of_y = 0, of_none = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].order_id, ORDER_Y) == 0) {
            CU_ASSERT_FATAL(of_y < 3);
            CU_ASSERT_STRING_EQUAL(rows[i].id, cmds[3 + of_y].id);
            of_y++;
        }
        of_none += strcmp(rows[i].order_id, "no-such-order") == 0;
    }
    CU_ASSERT_EQUAL(of_y, 3);
    CU_ASSERT_EQUAL(of_none, 0);
    dlv__store_cmd_rows_free(rows, n);

    long count;
    int64_t oldest;
    CU_ASSERT_EQUAL(dlv__store_outbox_stats(st, &count, &oldest, NULL), DLV_OK);
    CU_ASSERT_EQUAL(count, 6);
    CU_ASSERT_EQUAL(oldest, fake_now - 1000);

    /* Survives a restart unchanged. */
    dlv__store_close(st);
    st = open_in(dir);
    CU_ASSERT_EQUAL(dlv__store_outbox_peek(st, 500, false, &rows, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(n, 6);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_STRING_EQUAL(rows[i].id, interleaved[i].id);
    dlv__store_cmd_rows_free(rows, n);
    dlv__store_close(st);
    dlv_test_rmdir(dir);
}

static void outbox_add_is_all_or_nothing(void)
{
    char *dir = dlv_test_mkdtemp();
    dlv__store *st = open_in(dir);
    dlv__store_cmd cmds[4];
    made_cmd m[4];
    dlv_error err;
    make_cmds(cmds, m, 4, ORDER_X);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, cmds, 1, NULL), DLV_OK);

    /* A repeated id, already stored: none of the batch. */
    dlv__store_cmd batch[3] = {cmds[1], cmds[0], cmds[2]};
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, batch, 3, &err), DLV_EEXIST);
    DLV_ASSERT_CONTAINS(err.message, cmds[0].id);
    DLV_ASSERT_CONTAINS(err.message, "none of the 3 commands was stored");
    CU_ASSERT_EQUAL(outbox_count(st), 1);

    /* A repeated id inside the batch. */
    dlv__store_cmd twice[3] = {cmds[1], cmds[2], cmds[1]};
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, twice, 3, &err), DLV_EEXIST);
    CU_ASSERT_EQUAL(outbox_count(st), 1);

    /* Bad arguments are refused before anything is written. */
    dlv__store_cmd bad = cmds[3];
    bad.id = "not-a-uuid";
    dlv__store_cmd mixed[2] = {cmds[1], bad};
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, mixed, 2, &err), DLV_EINVAL);
    DLV_ASSERT_CONTAINS(err.message, "command 2 of 2");
    DLV_ASSERT_CONTAINS(err.message, "not a UUID");
    bad = cmds[3];
    bad.body = "{\"truncated\":";
    mixed[1] = bad;
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, mixed, 2, &err), DLV_EINVAL);
    DLV_ASSERT_CONTAINS(err.message, "not a JSON object");
    bad.body = "[1,2]";
    mixed[1] = bad;
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, mixed, 2, &err), DLV_EINVAL);
    /* Whole objects only: brackets balance outside strings, nothing follows. */
    const char *refused[] = {"{\"a\":[1}", "{\"a\":1}}", "{\"a\":\"}\"", "{} x", "  "};
    for (size_t i = 0; i < DLV__ARRAY_SIZE(refused); i++) {
        bad.body = refused[i];
        mixed[1] = bad;
        CU_ASSERT_EQUAL(dlv__store_outbox_add(st, mixed, 2, &err), DLV_EINVAL);
    }
    CU_ASSERT_EQUAL(outbox_count(st), 1);
    bad = cmds[3];
    bad.type = "";
    mixed[1] = bad;
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, mixed, 2, &err), DLV_EINVAL);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, NULL, 2, &err), DLV_EINVAL);
    CU_ASSERT_EQUAL(outbox_count(st), 1);

    /* A command without an order (allowed) and the rest; brackets and escaped quotes inside
     * strings are text, not structure. */
    cmds[3].order_id = NULL;
    cmds[3].body = " {\"comment\":\"скобки }] и \\\"}\\\" в тексте\",\"a\":[{}]}\n";
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, cmds + 1, 3, &err), DLV_OK);
    CU_ASSERT_EQUAL(outbox_count(st), 4);
    dlv__store_cmd_row *rows;
    size_t n;
    CU_ASSERT_EQUAL(dlv__store_outbox_peek(st, 10, false, &rows, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    CU_ASSERT_PTR_NULL(rows[3].order_id);
    dlv__store_cmd_rows_free(rows, n);
    dlv__store_close(st);
    dlv_test_rmdir(dir);
}

static void outbox_peek_limits(void)
{
    char *dir = dlv_test_mkdtemp();
    dlv__store *st = open_in(dir);
    enum { N = 600 };
    dlv__store_cmd *cmds = calloc(N, sizeof *cmds);
    made_cmd *m = calloc(N, sizeof *m);
    make_cmds(cmds, m, N, ORDER_X);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, cmds, N, NULL), DLV_OK);
    dlv__store_cmd_row *rows;
    size_t n;
    dlv_error err;
    CU_ASSERT_EQUAL(dlv__store_outbox_peek(st, 0, false, &rows, &n, &err), DLV_EINVAL);
    CU_ASSERT_EQUAL(dlv__store_outbox_peek(st, 501, false, &rows, &n, &err), DLV_EINVAL);
    DLV_ASSERT_CONTAINS(err.message, "1..500");
    CU_ASSERT_EQUAL(dlv__store_outbox_peek(st, 500, true, &rows, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(n, 500);
    CU_ASSERT_STRING_EQUAL(rows[0].id, cmds[0].id);
    CU_ASSERT_STRING_EQUAL(rows[499].id, cmds[499].id);
    dlv__store_cmd_rows_free(rows, n);
    free(cmds);
    free(m);
    dlv__store_close(st);
    dlv_test_rmdir(dir);
}

static void outbox_due_never_overtakes(void)
{
    char *dir = dlv_test_mkdtemp();
    dlv__store *st = open_in(dir);
    dlv__store_cmd x[2], y[2];
    made_cmd mx[2], my[2];
    make_cmds(x, mx, 2, ORDER_X);
    make_cmds(y, my, 2, ORDER_Y);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, &x[0], 1, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, &y[0], 1, NULL), DLV_OK);
    /* X's first command failed to go out: it waits 5 s. */
    const char *ids[] = {x[0].id, "ffffffff-ffff-4fff-8fff-ffffffffffff"};
    CU_ASSERT_EQUAL(dlv__store_outbox_mark_attempt(st, ids, 2, fake_now + 5000, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, &x[1], 1, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, &y[1], 1, NULL), DLV_OK);

    dlv__store_cmd_row *rows;
    size_t n;
    CU_ASSERT_EQUAL(dlv__store_outbox_peek(st, 500, true, &rows, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_STRING_EQUAL(rows[0].id, y[0].id);
    CU_ASSERT_STRING_EQUAL(rows[1].id, y[1].id);
    dlv__store_cmd_rows_free(rows, n);

    fake_now += 5000;
    CU_ASSERT_EQUAL(dlv__store_outbox_peek(st, 500, true, &rows, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    CU_ASSERT_STRING_EQUAL(rows[0].id, x[0].id);
    CU_ASSERT_EQUAL(rows[0].attempts, 1);
    CU_ASSERT_EQUAL(rows[0].next_attempt_at, fake_now);
    CU_ASSERT_STRING_EQUAL(rows[1].id, y[0].id);
    CU_ASSERT_EQUAL(rows[1].attempts, 0);
    CU_ASSERT_STRING_EQUAL(rows[2].id, x[1].id);
    CU_ASSERT_STRING_EQUAL(rows[3].id, y[1].id);
    /* The rows of a request that got no answer are counted again, by the rows themselves. */
    CU_ASSERT_EQUAL(dlv__store_outbox_mark_attempt_rows(st, rows, 2, fake_now + 1000, NULL),
                    DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_outbox_mark_attempt_rows(st, NULL, 0, 0, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_outbox_mark_attempt_rows(st, NULL, 1, 0, NULL), DLV_EINVAL);
    dlv__store_cmd_rows_free(rows, n);
    CU_ASSERT_EQUAL(dlv__store_outbox_peek(st, 500, false, &rows, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    CU_ASSERT_EQUAL(rows[0].attempts, 2);
    CU_ASSERT_EQUAL(rows[0].next_attempt_at, fake_now + 1000);
    CU_ASSERT_EQUAL(rows[1].attempts, 1);
    CU_ASSERT_EQUAL(rows[2].attempts, 0);
    dlv__store_cmd_rows_free(rows, n);
    dlv__store_close(st);
    dlv_test_rmdir(dir);
}

static void outbox_complete_only_on_final_outcomes(void)
{
    char *dir = dlv_test_mkdtemp();
    dlv__store *st = open_in(dir);
    dlv__store_cmd cmds[4];
    made_cmd m[4];
    make_cmds(cmds, m, 4, ORDER_X);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, cmds, 4, NULL), DLV_OK);
    size_t removed = 99;
    dlv_error err;

    dlv__store_outcome transport[] = {{cmds[0].id, "Applied"}, {cmds[1].id, "Timeout"}};
    CU_ASSERT_EQUAL(dlv__store_outbox_complete(st, transport, 2, &removed, &err), DLV_EINVAL);
    DLV_ASSERT_CONTAINS(err.message, "Timeout");
    CU_ASSERT_EQUAL(removed, 0);
    dlv__store_outcome none[] = {{cmds[0].id, NULL}};
    CU_ASSERT_EQUAL(dlv__store_outbox_complete(st, none, 1, &removed, &err), DLV_EINVAL);
    CU_ASSERT_EQUAL(outbox_count(st), 4);

    dlv__store_outcome done[] = {
        {cmds[0].id, "Applied"}, {cmds[1].id, "Duplicate"}, {cmds[2].id, "Rejected"}};
    CU_ASSERT_EQUAL(dlv__store_outbox_complete(st, done, 3, &removed, NULL), DLV_OK);
    CU_ASSERT_EQUAL(removed, 3);
    /* Idempotent: the same answer processed twice (after a restart) removes nothing more. */
    CU_ASSERT_EQUAL(dlv__store_outbox_complete(st, done, 3, &removed, NULL), DLV_OK);
    CU_ASSERT_EQUAL(removed, 0);
    CU_ASSERT_EQUAL(outbox_count(st), 1);
    dlv__store_cmd_row *rows;
    size_t n;
    CU_ASSERT_EQUAL(dlv__store_outbox_peek(st, 10, false, &rows, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_STRING_EQUAL(rows[0].id, cmds[3].id);
    dlv__store_cmd_rows_free(rows, n);

    long count;
    int64_t oldest;
    dlv__store_outcome last[] = {{cmds[3].id, "Applied"}};
    CU_ASSERT_EQUAL(dlv__store_outbox_complete(st, last, 1, NULL, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_outbox_stats(st, &count, &oldest, NULL), DLV_OK);
    CU_ASSERT_EQUAL(count, 0);
    CU_ASSERT_EQUAL(oldest, 0);

    /* New commands still come after the removed ones (seq is never reused). */
    dlv__store_cmd more[1];
    made_cmd mm[1];
    make_cmds(more, mm, 1, ORDER_X);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, more, 1, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_outbox_peek(st, 10, false, &rows, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_TRUE(rows[0].seq > 4);
    dlv__store_cmd_rows_free(rows, n);
    dlv__store_close(st);
    dlv_test_rmdir(dir);
}

/* ---- group commit ---- */

static void group_commits_everything_or_nothing(void)
{
    char *dir = dlv_test_mkdtemp();
    dlv__store *st = open_in(dir);
    dlv__store_cmd cmds[4];
    made_cmd m[4];
    make_cmds(cmds, m, 4, ORDER_X);
    dlv__print_new job = {ORDER_X, "ServiceCheck", "CookingStarted", 1, NULL, false, NULL, 0};
    dlv_error err;
    int64_t number, id;
    bool created, newly;

    /* Rolled back: nothing of it remains. */
    CU_ASSERT_EQUAL(dlv__store_begin(st, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_begin(st, &err), DLV_EBUSY);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, cmds, 2, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &job, &id, &created, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_notify_mark(st, ORDER_X, "Cooking", &newly, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_number_next(st, 100, 200, &number, NULL), DLV_OK);
    CU_ASSERT_EQUAL(outbox_count(st), 2); /* the group sees its own writes */
    dlv__store_rollback(st);
    dlv__store_rollback(st); /* no-op outside a group */
    CU_ASSERT_EQUAL(outbox_count(st), 0);
    dlv__print_job *jobs;
    size_t n;
    CU_ASSERT_EQUAL(dlv__store_print_for_order(st, ORDER_X, &jobs, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(dlv__store_commit(st, &err), DLV_EINVAL);

    /* A failing write inside a group undoes only itself. */
    CU_ASSERT_EQUAL(dlv__store_begin(st, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, cmds, 2, NULL), DLV_OK);
    dlv__store_cmd again[2] = {cmds[2], cmds[0]};
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, again, 2, &err), DLV_EEXIST);
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &job, &id, &created, NULL), DLV_OK);
    CU_ASSERT_TRUE(created);
    CU_ASSERT_EQUAL(dlv__store_notify_mark(st, ORDER_X, "Cooking", &newly, NULL), DLV_OK);
    CU_ASSERT_TRUE(newly);
    CU_ASSERT_EQUAL(dlv__store_number_next(st, 100, 200, &number, NULL), DLV_OK);
    CU_ASSERT_EQUAL(number, 100);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, cmds + 2, 2, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_commit(st, NULL), DLV_OK);

    dlv__store_close(st);
    st = open_in(dir);
    dlv__store_cmd_row *rows;
    CU_ASSERT_EQUAL(dlv__store_outbox_peek(st, 10, false, &rows, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    for (size_t i = 0; i < 4; i++)
        CU_ASSERT_STRING_EQUAL(rows[i].id, cmds[i].id);
    dlv__store_cmd_rows_free(rows, n);
    CU_ASSERT_EQUAL(dlv__store_print_for_order(st, ORDER_X, &jobs, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL(n, 1);
    dlv__store_print_jobs_free(jobs, n);
    CU_ASSERT_EQUAL(dlv__store_notify_mark(st, ORDER_X, "Cooking", &newly, NULL), DLV_OK);
    CU_ASSERT_FALSE(newly);
    CU_ASSERT_EQUAL(dlv__store_number_next(st, 100, 200, &number, NULL), DLV_OK);
    CU_ASSERT_EQUAL(number, 101);

    /* A group left open at close was never acknowledged: it is dropped. */
    dlv__store_cmd late[1];
    made_cmd ml[1];
    make_cmds(late, ml, 1, ORDER_Y);
    CU_ASSERT_EQUAL(dlv__store_begin(st, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, late, 1, NULL), DLV_OK);
    dlv__store_close(st);
    st = open_in(dir);
    CU_ASSERT_EQUAL(outbox_count(st), 4);
    dlv__store_close(st);
    dlv_test_rmdir(dir);
}

/* ---- order cache and meta ---- */

typedef struct seen_orders {
    int count;
    char ids[8][40];
    int stop_after;
} seen_orders;

static int see_order(void *arg, const dlv__store_order_row *row)
{
    seen_orders *seen = arg;
    if (seen->count < 8)
        snprintf(seen->ids[seen->count], sizeof seen->ids[0], "%s", row->id);
    seen->count++;
    return seen->stop_after && seen->count == seen->stop_after ? 42 : 0;
}

static void order_cache_and_revision(void)
{
    char *dir = dlv_test_mkdtemp();
    dlv__store *st = open_in(dir);
    int64_t rev = -1;
    CU_ASSERT_EQUAL(dlv__store_revision(st, &rev, NULL), DLV_OK);
    CU_ASSERT_EQUAL(rev, 0);

    dlv__store_order a = {ORDER_X, 10, "Unconfirmed", 100245, "{\"id\":\"x\",\"revision\":10}"};
    CU_ASSERT_EQUAL(dlv__store_orders_put(st, &a, NULL), DLV_OK);
    dlv__store_order_row row;
    CU_ASSERT_EQUAL(dlv__store_orders_get(st, ORDER_X, &row, NULL), DLV_OK);
    CU_ASSERT_STRING_EQUAL(row.id, ORDER_X);
    CU_ASSERT_EQUAL(row.revision, 10);
    CU_ASSERT_STRING_EQUAL(row.status, "Unconfirmed");
    CU_ASSERT_EQUAL(row.number, 100245);
    CU_ASSERT_STRING_EQUAL(row.json, a.json);
    CU_ASSERT_EQUAL(row.updated_at, fake_now);
    dlv__store_order_row_clear(&row);

    /* One orders answer: replace X, add Y and Z, remove a stranger, set the revision. */
    dlv__store_order batch[] = {
        {ORDER_X, 12, "WaitCooking", 100245, "{\"id\":\"x\",\"revision\":12}"},
        {ORDER_Y, 11, "Unconfirmed", 100246, "{\"id\":\"y\"}"},
        {"zzz", 12, "Closed", 5, "{\"id\":\"z\"}"},
    };
    const char *gone[] = {"not-cached"};
    CU_ASSERT_EQUAL(dlv__store_orders_sync(st, batch, 3, gone, 1, 12, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_revision(st, &rev, NULL), DLV_OK);
    CU_ASSERT_EQUAL(rev, 12);

    /* A bad order in an answer changes nothing at all. */
    dlv__store_order bad[] = {
        {ORDER_X, 13, "Closed", 100245, "{\"id\":\"x\"}"},
        {ORDER_Y, 13, "Closed", 100246, "not json"},
    };
    dlv_error err;
    CU_ASSERT_EQUAL(dlv__store_orders_sync(st, bad, 2, NULL, 0, 13, &err), DLV_EINVAL);
    DLV_ASSERT_CONTAINS(err.message, ORDER_Y);
    bad[1] = (dlv__store_order){ORDER_Y, 13, NULL, 1, "{}"};
    CU_ASSERT_EQUAL(dlv__store_orders_sync(st, bad, 2, NULL, 0, 13, &err), DLV_EINVAL);
    CU_ASSERT_EQUAL(dlv__store_revision(st, &rev, NULL), DLV_OK);
    CU_ASSERT_EQUAL(rev, 12);

    const char *remove_z[] = {"zzz"};
    CU_ASSERT_EQUAL(dlv__store_orders_remove(st, remove_z, 1, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_orders_get(st, "zzz", &row, &err), DLV_ENOTFOUND);
    DLV_ASSERT_CONTAINS(err.message, "zzz");

    /* A restart resumes from the stored revision with the cache as it was. */
    dlv__store_close(st);
    st = open_in(dir);
    CU_ASSERT_EQUAL(dlv__store_revision(st, &rev, NULL), DLV_OK);
    CU_ASSERT_EQUAL(rev, 12);
    seen_orders seen = {0};
    CU_ASSERT_EQUAL(dlv__store_orders_each(st, see_order, &seen, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(seen.count, 2);
    CU_ASSERT_STRING_EQUAL(seen.ids[0], ORDER_X); /* by number */
    CU_ASSERT_STRING_EQUAL(seen.ids[1], ORDER_Y);
    CU_ASSERT_EQUAL(dlv__store_orders_get(st, ORDER_X, &row, NULL), DLV_OK);
    CU_ASSERT_STRING_EQUAL(row.status, "WaitCooking");
    dlv__store_order_row_clear(&row);
    CU_ASSERT_EQUAL(dlv__store_orders_get(st, ORDER_X, &row, NULL), DLV_OK);
    CU_ASSERT_STRING_EQUAL(row.id, ORDER_X);
    CU_ASSERT_STRING_EQUAL(row.status, "WaitCooking");
    CU_ASSERT_EQUAL(row.revision, 12);
    CU_ASSERT_EQUAL(row.number, 100245);
    dlv__store_order_row_clear(&row);
    CU_ASSERT_EQUAL(dlv__store_orders_get(st, ORDER_Y, &row, NULL), DLV_OK);
    CU_ASSERT_STRING_EQUAL(row.json, "{\"id\":\"y\"}");
    dlv__store_order_row_clear(&row);
    seen_orders stop = {.stop_after = 1};
    CU_ASSERT_EQUAL(dlv__store_orders_each(st, see_order, &stop, NULL), 42);
    CU_ASSERT_EQUAL(stop.count, 1);
    /* Revision untouched when not given. */
    CU_ASSERT_EQUAL(dlv__store_orders_sync(st, batch, 1, NULL, 0, -1, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_revision(st, &rev, NULL), DLV_OK);
    CU_ASSERT_EQUAL(rev, 12);
    dlv__store_close(st);
    dlv_test_rmdir(dir);
}

static void meta_values(void)
{
    char *dir = dlv_test_mkdtemp();
    dlv__store *st = open_in(dir);
    char *v = (char *)"x";
    dlv_error err;
    CU_ASSERT_EQUAL(dlv__store_meta_get(st, "settings", &v, NULL), DLV_OK);
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT_EQUAL(dlv__store_meta_set(st, "settings", "{\"invoiceCopies\":2}", NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_meta_set(st, "session", "token", NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_meta_set(st, "store.last_revision", "99", &err), DLV_EINVAL);
    DLV_ASSERT_CONTAINS(err.message, "reserved");
    CU_ASSERT_EQUAL(dlv__store_meta_set(st, "", "v", &err), DLV_EINVAL);
    dlv__store_close(st);
    st = open_in(dir);
    CU_ASSERT_EQUAL(dlv__store_meta_get(st, "settings", &v, NULL), DLV_OK);
    CU_ASSERT_STRING_EQUAL(v, "{\"invoiceCopies\":2}");
    dlv__free(v);
    CU_ASSERT_EQUAL(dlv__store_meta_set(st, "session", NULL, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_meta_get(st, "session", &v, NULL), DLV_OK);
    CU_ASSERT_PTR_NULL(v);
    int64_t rev;
    CU_ASSERT_EQUAL(dlv__store_revision(st, &rev, NULL), DLV_OK);
    CU_ASSERT_EQUAL(rev, 0);
    dlv__store_close(st);
    dlv_test_rmdir(dir);
}

/* ---- print ledger ---- */

static void print_one_trigger_one_job(void)
{
    char *dir = dlv_test_mkdtemp();
    dlv__store *st = open_in(dir);
    static const char ticket[] = "\x1b@SERVICE CHECK\n";
    dlv__print_new job = {ORDER_X, "Invoice", "OnCookingCompleted", 2, "tcp://10.0.0.5:9100",
                          false,   ticket,    sizeof ticket - 1};
    int64_t id = 0, again = 0, other = 0;
    bool created = false;
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &job, &id, &created, NULL), DLV_OK);
    CU_ASSERT_TRUE(id > 0);
    CU_ASSERT_TRUE(created);
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &job, &again, &created, NULL), DLV_OK);
    CU_ASSERT_EQUAL(again, id);
    CU_ASSERT_FALSE(created);
    /* Even after it was sent and the terminal restarted. */
    CU_ASSERT_EQUAL(dlv__store_print_set_state(st, id, DLV__PRINT_SENDING, NULL, 0, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_print_set_state(st, id, DLV__PRINT_SENT, NULL, 0, NULL), DLV_OK);
    dlv__store_close(st);
    st = open_in(dir);
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &job, &again, &created, NULL), DLV_OK);
    CU_ASSERT_EQUAL(again, id);
    CU_ASSERT_FALSE(created);
    /* Another document or trigger is another job. */
    job.document = "ServiceCheck";
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &job, &other, &created, NULL), DLV_OK);
    CU_ASSERT_TRUE(created);
    CU_ASSERT_NOT_EQUAL(other, id);

    dlv__print_job got;
    CU_ASSERT_EQUAL(dlv__store_print_get(st, id, &got, NULL), DLV_OK);
    CU_ASSERT_STRING_EQUAL(got.order_id, ORDER_X);
    CU_ASSERT_STRING_EQUAL(got.document, "Invoice");
    CU_ASSERT_STRING_EQUAL(got.trigger, "OnCookingCompleted");
    CU_ASSERT_EQUAL(got.copies, 2);
    CU_ASSERT_STRING_EQUAL(got.printer, "tcp://10.0.0.5:9100");
    CU_ASSERT_FALSE(got.is_copy);
    CU_ASSERT_EQUAL(got.state, DLV__PRINT_SENT);
    CU_ASSERT_EQUAL(got.attempts, 1);
    CU_ASSERT_EQUAL_FATAL(got.payload_len, sizeof ticket - 1);
    CU_ASSERT_EQUAL(memcmp(got.payload, ticket, got.payload_len), 0);
    CU_ASSERT_PTR_NULL(got.last_error);
    dlv__store_print_job_clear(&got);

    dlv_error err;
    dlv__print_new bad = job;
    bad.document = "Receipt";
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &bad, &id, &created, &err), DLV_EINVAL);
    DLV_ASSERT_CONTAINS(err.message, "Invoice or ServiceCheck");
    bad = job;
    bad.copies = 6;
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &bad, &id, &created, &err), DLV_EINVAL);
    bad = job;
    bad.trigger = "";
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &bad, &id, &created, &err), DLV_EINVAL);
    CU_ASSERT_EQUAL(dlv__store_print_get(st, 9999, &got, &err), DLV_ENOTFOUND);
    dlv__store_close(st);
    dlv_test_rmdir(dir);
}

static void print_state_machine(void)
{
    char *dir = dlv_test_mkdtemp();
    dlv__store *st = open_in(dir);
    dlv__print_new job = {ORDER_X, "Invoice", "OnSend", 1, NULL, false, NULL, 0};
    int64_t id;
    dlv_error err;
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &job, &id, NULL, NULL), DLV_OK);
    dlv__print_job *jobs;
    size_t n;
    CU_ASSERT_EQUAL(dlv__store_print_due(st, &jobs, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(jobs[0].id, id);
    CU_ASSERT_EQUAL(jobs[0].state, DLV__PRINT_PENDING);
    dlv__store_print_jobs_free(jobs, n);

    CU_ASSERT_EQUAL(dlv__store_print_set_state(st, id, DLV__PRINT_SENT, NULL, 0, &err), DLV_EINVAL);
    DLV_ASSERT_CONTAINS(err.message, "from pending to sent");
    CU_ASSERT_EQUAL(dlv__store_print_set_state(st, id, DLV__PRINT_SENDING, NULL, 0, NULL), DLV_OK);
    /* While sending it is not due (no second sender). */
    CU_ASSERT_EQUAL(dlv__store_print_due(st, &jobs, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(dlv__store_print_set_state(st, id, DLV__PRINT_FAILED, "printer is out of paper",
                                               fake_now + 10000, NULL),
                    DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_print_due(st, &jobs, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL(n, 0);
    fake_now += 10000;
    CU_ASSERT_EQUAL(dlv__store_print_due(st, &jobs, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(jobs[0].state, DLV__PRINT_FAILED);
    CU_ASSERT_STRING_EQUAL(jobs[0].last_error, "printer is out of paper");
    CU_ASSERT_EQUAL(jobs[0].attempts, 1);
    dlv__store_print_jobs_free(jobs, n);
    CU_ASSERT_EQUAL(dlv__store_print_set_state(st, id, DLV__PRINT_SENDING, NULL, 0, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_print_set_state(st, id, DLV__PRINT_SENT, NULL, 0, NULL), DLV_OK);
    dlv__print_job got;
    CU_ASSERT_EQUAL(dlv__store_print_get(st, id, &got, NULL), DLV_OK);
    CU_ASSERT_EQUAL(got.state, DLV__PRINT_SENT);
    CU_ASSERT_EQUAL(got.attempts, 2);
    dlv__store_print_job_clear(&got);

    /* A sent job never goes out again automatically, and cannot be dismissed. */
    const dlv__print_state never[] = {DLV__PRINT_PENDING, DLV__PRINT_SENDING, DLV__PRINT_FAILED,
                                      DLV__PRINT_UNKNOWN, DLV__PRINT_DISMISSED};
    for (size_t i = 0; i < DLV__ARRAY_SIZE(never); i++)
        CU_ASSERT_EQUAL(dlv__store_print_set_state(st, id, never[i], NULL, 0, NULL), DLV_EINVAL);
    CU_ASSERT_EQUAL(dlv__store_print_set_state(st, 4242, DLV__PRINT_SENDING, NULL, 0, &err),
                    DLV_ENOTFOUND);
    CU_ASSERT_EQUAL(dlv__store_print_set_state(st, id, (dlv__print_state)77, NULL, 0, &err),
                    DLV_EINVAL);
    CU_ASSERT_STRING_EQUAL(dlv__print_state_name(DLV__PRINT_UNKNOWN), "unknown");
    CU_ASSERT_PTR_NULL(dlv__print_state_name((dlv__print_state)77));

    /* The printer reported an unclear end: unknown, an offer, dismissable. */
    job.trigger = "OnBill";
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &job, &id, NULL, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_print_set_state(st, id, DLV__PRINT_SENDING, NULL, 0, NULL), DLV_OK);
    CU_ASSERT_EQUAL(
        dlv__store_print_set_state(st, id, DLV__PRINT_UNKNOWN, "connection reset", 0, NULL),
        DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_print_set_state(st, id, DLV__PRINT_SENDING, NULL, 0, NULL),
                    DLV_EINVAL);
    CU_ASSERT_EQUAL(dlv__store_print_offers(st, &jobs, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(jobs[0].id, id);
    dlv__store_print_jobs_free(jobs, n);
    CU_ASSERT_EQUAL(dlv__store_print_set_state(st, id, DLV__PRINT_DISMISSED, NULL, 0, NULL),
                    DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_print_offers(st, &jobs, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL(n, 0);
    dlv__store_close(st);
    dlv_test_rmdir(dir);
}

static void print_sending_after_restart_is_offered_not_resent(void)
{
    char *dir = dlv_test_mkdtemp();
    dlv__store *st = open_in(dir);
    dlv__print_new job = {ORDER_X, "ServiceCheck", "CookingStarted", 1, NULL, false, NULL, 0};
    int64_t interrupted, waiting, sent, copy;
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &job, &interrupted, NULL, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_print_set_state(st, interrupted, DLV__PRINT_SENDING, NULL, 0, NULL),
                    DLV_OK);
    job.document = "Invoice";
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &job, &waiting, NULL, NULL), DLV_OK);
    job.trigger = "Manual";
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &job, &sent, NULL, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_print_set_state(st, sent, DLV__PRINT_SENDING, NULL, 0, NULL),
                    DLV_OK);
    CU_ASSERT_EQUAL(dlv__store_print_set_state(st, sent, DLV__PRINT_SENT, NULL, 0, NULL), DLV_OK);
    dlv__store_close(st); /* as if the terminal died while the service check was printing */

    st = open_in(dir);
    dlv__print_job *jobs;
    size_t n;
    CU_ASSERT_EQUAL(dlv__store_print_due(st, &jobs, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(jobs[0].id, waiting); /* pending: never started, safe to send */
    dlv__store_print_jobs_free(jobs, n);
    CU_ASSERT_EQUAL(dlv__store_print_offers(st, &jobs, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(jobs[0].id, interrupted);
    CU_ASSERT_EQUAL(jobs[0].state, DLV__PRINT_UNKNOWN);
    DLV_ASSERT_CONTAINS(jobs[0].last_error, "interrupted while sending");
    dlv__store_print_jobs_free(jobs, n);

    /* The operator takes the offer: a copy marked as such; the original leaves the offers. */
    dlv_error err;
    CU_ASSERT_EQUAL(dlv__store_print_reprint(st, waiting, &copy, &err), DLV_EBUSY);
    CU_ASSERT_EQUAL(dlv__store_print_reprint(st, interrupted, &copy, NULL), DLV_OK);
    dlv__print_job got;
    CU_ASSERT_EQUAL(dlv__store_print_get(st, copy, &got, NULL), DLV_OK);
    CU_ASSERT_TRUE(got.is_copy);
    CU_ASSERT_EQUAL(got.reprint_of, interrupted);
    CU_ASSERT_EQUAL(got.state, DLV__PRINT_PENDING);
    CU_ASSERT_STRING_EQUAL(got.document, "ServiceCheck");
    DLV_ASSERT_CONTAINS(got.trigger, "reprint:");
    dlv__store_print_job_clear(&got);
    CU_ASSERT_EQUAL(dlv__store_print_get(st, interrupted, &got, NULL), DLV_OK);
    CU_ASSERT_EQUAL(got.state, DLV__PRINT_DISMISSED);
    DLV_ASSERT_CONTAINS(got.last_error, "replaced by reprint");
    dlv__store_print_job_clear(&got);
    CU_ASSERT_EQUAL(dlv__store_print_offers(st, &jobs, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL(n, 0);

    /* Reprinting a sent invoice by hand: a copy, the original stays sent. */
    int64_t copy2;
    CU_ASSERT_EQUAL(dlv__store_print_reprint(st, sent, &copy2, NULL), DLV_OK);
    CU_ASSERT_NOT_EQUAL(copy2, copy);
    CU_ASSERT_EQUAL(dlv__store_print_get(st, sent, &got, NULL), DLV_OK);
    CU_ASSERT_EQUAL(got.state, DLV__PRINT_SENT);
    dlv__store_print_job_clear(&got);
    CU_ASSERT_EQUAL(dlv__store_print_for_order(st, ORDER_X, &jobs, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL(n, 5);
    int copies = 0;
    for (size_t i = 0; i < n; i++)
        copies += jobs[i].is_copy;
    CU_ASSERT_EQUAL(copies, 2);
    dlv__store_print_jobs_free(jobs, n);
    CU_ASSERT_EQUAL(dlv__store_print_reprint(st, 777, &copy2, &err), DLV_ENOTFOUND);
    dlv__store_close(st);
    dlv_test_rmdir(dir);
}

/* ---- notifications ---- */

static void notifications_at_most_once(void)
{
    char *dir = dlv_test_mkdtemp();
    dlv__store *st = open_in(dir);
    bool newly = false;
    CU_ASSERT_EQUAL(dlv__store_notify_mark(st, ORDER_X, "New", &newly, NULL), DLV_OK);
    CU_ASSERT_TRUE(newly);
    CU_ASSERT_EQUAL(dlv__store_notify_mark(st, ORDER_X, "Cooking", &newly, NULL), DLV_OK);
    CU_ASSERT_TRUE(newly);
    /* A status set by mistake and corrected comes back: no second message. */
    CU_ASSERT_EQUAL(dlv__store_notify_mark(st, ORDER_X, "New", &newly, NULL), DLV_OK);
    CU_ASSERT_FALSE(newly);
    CU_ASSERT_EQUAL(dlv__store_notify_mark(st, ORDER_Y, "New", &newly, NULL), DLV_OK);
    CU_ASSERT_TRUE(newly);
    CU_ASSERT_EQUAL(dlv__store_notify_mark(st, ORDER_X, "", &newly, NULL), DLV_EINVAL);
    dlv__store_close(st);
    st = open_in(dir);
    CU_ASSERT_EQUAL(dlv__store_notify_mark(st, ORDER_X, "Cooking", &newly, NULL), DLV_OK);
    CU_ASSERT_FALSE(newly);
    char **events;
    size_t n;
    CU_ASSERT_EQUAL(dlv__store_notify_sent(st, ORDER_X, &events, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_STRING_EQUAL(events[0], "New");
    CU_ASSERT_STRING_EQUAL(events[1], "Cooking");
    dlv__store_strings_free(events, n);
    CU_ASSERT_EQUAL(dlv__store_notify_sent(st, "nobody", &events, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_PTR_NULL(events);
    dlv__store_close(st);
    dlv_test_rmdir(dir);
}

/* ---- numbers ---- */

static void numbers_never_reused(void)
{
    char *dir = dlv_test_mkdtemp();
    dlv__store *st = open_in(dir);
    int64_t n = 0;
    dlv_error err;
    CU_ASSERT_EQUAL(dlv__store_number_next(st, 1000, 1002, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL(n, 1000);
    CU_ASSERT_EQUAL(dlv__store_number_next(st, 1000, 1002, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL(n, 1001);
    dlv__store_close(st);
    st = open_in(dir);
    CU_ASSERT_EQUAL(dlv__store_number_next(st, 1000, 1002, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL(n, 1002);
    CU_ASSERT_EQUAL(dlv__store_number_next(st, 1000, 1002, &n, &err), DLV_ERANGE);
    DLV_ASSERT_CONTAINS(err.message, "used up");
    CU_ASSERT_EQUAL(n, 0);
    /* The range changes: nothing already issued inside the new range comes back. */
    CU_ASSERT_EQUAL(dlv__store_number_next(st, 500, 1500, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL(n, 1003);
    CU_ASSERT_EQUAL(dlv__store_number_next(st, 1001, 2000, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL(n, 1004);
    CU_ASSERT_EQUAL(dlv__store_number_next(st, 500, 999, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL(n, 500);
    CU_ASSERT_EQUAL(dlv__store_number_next(st, 5000, 5001, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL(n, 5000);
    CU_ASSERT_EQUAL(dlv__store_number_next(st, 0, 10, &n, &err), DLV_EINVAL);
    CU_ASSERT_EQUAL(dlv__store_number_next(st, 10, 9, &n, &err), DLV_EINVAL);
    dlv__store_close(st);
    st = open_in(dir);
    CU_ASSERT_EQUAL(dlv__store_number_next(st, 500, 1500, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL(n, 1005);
    dlv__store_close(st);
    dlv_test_rmdir(dir);
}

/* ---- housekeeping ---- */

static void prune_forgets_finished_orders_only(void)
{
    char *dir = dlv_test_mkdtemp();
    dlv__store *st = open_in(dir);
    dlv__store_order cached = {ORDER_Y, 1, "OnWay", 7, "{}"};
    CU_ASSERT_EQUAL(dlv__store_orders_put(st, &cached, NULL), DLV_OK);
    int64_t old_sent, old_copy, old_failed, live;
    dlv__print_new job = {ORDER_X, "Invoice", "OnSend", 1, NULL, false, NULL, 0};
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &job, &old_sent, NULL, NULL), DLV_OK);
    dlv__store_print_set_state(st, old_sent, DLV__PRINT_SENDING, NULL, 0, NULL);
    dlv__store_print_set_state(st, old_sent, DLV__PRINT_SENT, NULL, 0, NULL);
    CU_ASSERT_EQUAL(dlv__store_print_reprint(st, old_sent, &old_copy, NULL), DLV_OK);
    dlv__store_print_set_state(st, old_copy, DLV__PRINT_SENDING, NULL, 0, NULL);
    dlv__store_print_set_state(st, old_copy, DLV__PRINT_SENT, NULL, 0, NULL);
    job.trigger = "OnBill";
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &job, &old_failed, NULL, NULL), DLV_OK);
    dlv__store_print_set_state(st, old_failed, DLV__PRINT_SENDING, NULL, 0, NULL);
    dlv__store_print_set_state(st, old_failed, DLV__PRINT_FAILED, "offline", fake_now, NULL);
    job.order_id = ORDER_Y;
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &job, &live, NULL, NULL), DLV_OK);
    dlv__store_print_set_state(st, live, DLV__PRINT_SENDING, NULL, 0, NULL);
    dlv__store_print_set_state(st, live, DLV__PRINT_SENT, NULL, 0, NULL);
    dlv__store_notify_mark(st, ORDER_X, "Delivered", NULL, NULL);
    dlv__store_notify_mark(st, ORDER_Y, "OnWay", NULL, NULL);
    fake_now += 1000;

    long removed = -1;
    CU_ASSERT_EQUAL(dlv__store_prune(st, fake_now, &removed, NULL), DLV_OK);
    CU_ASSERT_EQUAL(removed, 3); /* X's sent original and copy, X's notification */
    dlv__print_job got;
    CU_ASSERT_EQUAL(dlv__store_print_get(st, old_sent, &got, NULL), DLV_ENOTFOUND);
    CU_ASSERT_EQUAL(dlv__store_print_get(st, old_failed, &got, NULL), DLV_OK); /* not final */
    dlv__store_print_job_clear(&got);
    CU_ASSERT_EQUAL(dlv__store_print_get(st, live, &got, NULL), DLV_OK); /* order still cached */
    dlv__store_print_job_clear(&got);
    char **events;
    size_t n;
    CU_ASSERT_EQUAL(dlv__store_notify_sent(st, ORDER_Y, &events, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL(n, 1);
    dlv__store_strings_free(events, n);
    CU_ASSERT_EQUAL(dlv__store_notify_sent(st, ORDER_X, &events, &n, NULL), DLV_OK);
    CU_ASSERT_EQUAL(n, 0);
    dlv__store_close(st);
    dlv_test_rmdir(dir);
}

/* Every allocation of the read paths may fail: a clean DLV_ENOMEM, no leak (valgrind). */
static void reads_survive_allocation_failures(void)
{
    char *dir = dlv_test_mkdtemp();
    dlv__store *st = open_in(dir);
    dlv__store_cmd cmds[20];
    made_cmd m[20];
    make_cmds(cmds, m, 20, ORDER_X);
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, cmds, 20, NULL), DLV_OK);
    dlv__print_new job = {ORDER_X, "Invoice", "OnSend", 1, "p", false, "bytes", 5};
    int64_t id;
    CU_ASSERT_EQUAL(dlv__store_print_add(st, &job, &id, NULL, NULL), DLV_OK);
    dlv__store_order o = {ORDER_X, 1, "New", 1, "{}"};
    CU_ASSERT_EQUAL(dlv__store_orders_put(st, &o, NULL), DLV_OK);
    for (int i = 0; i < 3; i++) {
        char ev[8];
        snprintf(ev, sizeof ev, "E%d", i);
        dlv__store_notify_mark(st, ORDER_X, ev, NULL, NULL);
    }
    int failures = 0;
    for (long limit = 0; limit < 120; limit++) {
        dlv__store_cmd_row *rows;
        dlv__print_job *jobs;
        dlv__store_order_row row;
        char **events;
        size_t n;
        dlv__alloc_fail_after(limit);
        int a = dlv__store_outbox_peek(st, 500, false, &rows, &n, NULL);
        if (a == DLV_OK)
            dlv__store_cmd_rows_free(rows, n);
        int b = dlv__store_print_due(st, &jobs, &n, NULL);
        if (b == DLV_OK)
            dlv__store_print_jobs_free(jobs, n);
        int c = dlv__store_orders_get(st, ORDER_X, &row, NULL);
        if (c == DLV_OK)
            dlv__store_order_row_clear(&row);
        int d = dlv__store_notify_sent(st, ORDER_X, &events, &n, NULL);
        if (d == DLV_OK)
            dlv__store_strings_free(events, n);
        seen_orders seen = {0};
        int e = dlv__store_orders_each(st, see_order, &seen, NULL);
        if (e == DLV_OK)
            CU_ASSERT_EQUAL(seen.count, 1);
        int f = dlv__store_outbox_mark_attempt_rows(st, &(dlv__store_cmd_row){.id = m[0].id}, 1,
                                                    fake_now, NULL);
        dlv__alloc_fail_after(-1);
        CU_ASSERT_TRUE(e == DLV_OK || e == DLV_ENOMEM);
        CU_ASSERT_TRUE(f == DLV_OK || f == DLV_ENOMEM);
        CU_ASSERT_TRUE(a == DLV_OK || a == DLV_ENOMEM);
        CU_ASSERT_TRUE(b == DLV_OK || b == DLV_ENOMEM);
        CU_ASSERT_TRUE(c == DLV_OK || c == DLV_ENOMEM);
        CU_ASSERT_TRUE(d == DLV_OK || d == DLV_ENOMEM);
        failures += (a != DLV_OK) + (b != DLV_OK) + (c != DLV_OK) + (d != DLV_OK);
    }
    CU_ASSERT_TRUE(failures > 0);
    CU_ASSERT_EQUAL(outbox_count(st), 20);
    dlv__store_close(st);
    dlv_test_rmdir(dir);
}

static char *file_text(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    dlv__read_file(path, 4096, &text, &len, NULL);
    return text;
}

/* A database the terminal had (its id beside it in delivery.db.id) that is now empty or missing
 * is refused, naming the way to start anyway; accepting the loss starts fresh and renews the id;
 * a genuine first start just works. */
static void lost_database_is_refused_not_a_first_start(void)
{
    char *dir = dlv_test_mkdtemp();
    char *db = dlv__asprintf("%s/delivery.db", dir);
    char *marker = dlv__asprintf("%s/delivery.db.id", dir);
    dlv__store *st = open_in(dir); /* the first start */
    dlv__store_cmd cmds[1];
    made_cmd m[1];
    make_cmds(cmds, m, 1, "order-1");
    CU_ASSERT_EQUAL(dlv__store_outbox_add(st, cmds, 1, NULL), DLV_OK);
    dlv__store_close(st);
    char *id = file_text(marker);
    CU_ASSERT_PTR_NOT_NULL_FATAL(id);
    CU_ASSERT_EQUAL(strlen(id), 37); /* a uuid and a newline */
    st = open_in(dir);               /* a normal restart keeps the id */
    dlv__store_close(st);
    char *again = file_text(marker);
    CU_ASSERT_STRING_EQUAL(again, id);
    dlv__free(again);
    for (int missing = 0; missing < 2; missing++) {
        /* Emptied (a zero-byte file) or deleted, the WAL gone with it. */
        char *wal = dlv__asprintf("%s-wal", db);
        remove(wal);
        dlv__free(wal);
        if (missing) {
            remove(db);
        } else {
            FILE *f = fopen(db, "w");
            fclose(f);
        }
        dlv_error err = {0};
        st = NULL;
        CU_ASSERT_EQUAL(dlv__store_open(dir, NULL, &st, &err), DLV_ECORRUPT);
        CU_ASSERT_PTR_NULL(st);
        DLV_ASSERT_CONTAINS(err.message, missing ? "missing" : "empty");
        DLV_ASSERT_CONTAINS(err.message, "had state");
        DLV_ASSERT_CONTAINS(err.message, "--accept-store-loss");
        /* Refused again on the next start: nothing was created meanwhile. */
        CU_ASSERT_EQUAL(dlv__store_open(dir, NULL, &st, &err), DLV_ECORRUPT);
    }
    dlv__store_options accept = {.flags = DLV__STORE_ACCEPT_LOSS};
    dlv_error err = {0};
    CU_ASSERT_EQUAL_FATAL(dlv__store_open(dir, &accept, &st, &err), DLV_OK);
    CU_ASSERT_EQUAL(outbox_count(st), 0);
    dlv__store_close(st);
    char *renewed = file_text(marker);
    CU_ASSERT_PTR_NOT_NULL(renewed);
    CU_ASSERT_STRING_NOT_EQUAL(renewed, id);
    dlv__free(renewed);
    st = open_in(dir); /* and from then on it starts normally */
    dlv__store_close(st);
    dlv__free(id);
    dlv__free(marker);
    dlv__free(db);
    dlv_test_rmdir(dir);
}

/* A transaction far larger than the WAL's limit grows the WAL for a while; the next checkpoint
 * cuts it back to 4 MiB (journal_size_limit), so a full disk is not held by an old WAL. */
static void wal_stays_bounded(void)
{
    char *dir = dlv_test_mkdtemp();
    dlv__store *st = open_in(dir);
    CU_ASSERT_EQUAL(pragma_int(st, "PRAGMA journal_size_limit"), 4194304);
    CU_ASSERT_EQUAL(pragma_int(st, "PRAGMA wal_autocheckpoint"), 1000);
    enum { N = 3000 };
    static dlv__store_cmd cmds[N];
    static made_cmd m[N];
    static char body[2100];
    memset(body, 'w', sizeof body - 1);
    memcpy(body, "{\"x\":\"", 6);
    memcpy(body + sizeof body - 3, "\"}", 2);
    make_cmds(cmds, m, N, "order-big");
    for (int i = 0; i < N; i++)
        cmds[i].body = body;
    /* One group: a single 6 MB transaction. */
    dlv_error err = {0};
    CU_ASSERT_EQUAL(dlv__store_begin(st, &err), DLV_OK);
    for (int i = 0; i < N; i += 500)
        if (dlv__store_outbox_add(st, cmds + i, 500, &err) != DLV_OK)
            fprintf(stderr, "\n  add: %s\n", err.message);
    CU_ASSERT_EQUAL(dlv__store_commit(st, &err), DLV_OK);
    for (int round = 0; round < 3; round++) { /* small writes: checkpoint, the WAL restarts */
        dlv__store_cmd one[1];
        made_cmd mo[1];
        make_cmds(one, mo, 1, "order-small");
        CU_ASSERT_EQUAL(dlv__store_outbox_add(st, one, 1, NULL), DLV_OK);
        sqlite3_wal_checkpoint_v2(dlv__store_sqlite(st), NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
                                  NULL);
    }
    char *wal = dlv__asprintf("%s-wal", dlv__store_path(st));
    struct stat sb;
    CU_ASSERT_EQUAL(stat(wal, &sb), 0);
    printf("\n  WAL after a 6 MB transaction: %lld bytes\n", (long long)sb.st_size);
    CU_ASSERT_TRUE(sb.st_size <= 4194304 + 65536);
    dlv__free(wal);
    dlv__store_close(st);
    dlv_test_rmdir(dir);
}

/* The check the cache and the outbox run on every text they take (a scanner, not a parse). */
static void json_object_check(void)
{
    static const char *const good[] = {
        "{}", " {\"a\":1} ", "{\"a\":[1,-2.5e+3,0.0,true,false,null,\"x\\\"\\u00e9\\n\"],\"b\":{}}",
        "{\"nested\":{\"x\":[[],[{}]]},\"e\":1E-7,\"z\":-0}", "{\"\\/\":\"\\t\"}"};
    static const char *const bad[] = {"",
                                      "[]",
                                      "1",
                                      "\"x\"",
                                      "{",
                                      "{\"a\"}",
                                      "{\"a\":}",
                                      "{\"a\":1,}",
                                      "{a:1}",
                                      "{\"a\":01}",
                                      "{\"a\":1.}",
                                      "{\"a\":.5}",
                                      "{\"a\":tru}",
                                      "{\"a\":\"\\x\"}",
                                      "{\"a\":\"\\u12\"}",
                                      "{} x",
                                      "{\"a\":\"\n\"}",
                                      "{\"a\":[1 2]}",
                                      "{\"truncated\":"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        if (!dlv__store_json_object(good[i]))
            fprintf(stderr, "refused: %s\n", good[i]);
        CU_ASSERT_TRUE(dlv__store_json_object(good[i]));
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (dlv__store_json_object(bad[i]))
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CU_ASSERT_FALSE(dlv__store_json_object(bad[i]));
    }
    CU_ASSERT_FALSE(dlv__store_json_object(NULL));
    char deep[2 * 1100 + 16];
    size_t n = 0;
    deep[n++] = '{';
    deep[n++] = '"';
    deep[n++] = 'a';
    deep[n++] = '"';
    deep[n++] = ':';
    for (int i = 0; i < 1100; i++)
        deep[n++] = '[';
    for (int i = 0; i < 1100; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    CU_ASSERT_FALSE(dlv__store_json_object(deep)); /* deeper than cJSON would take */
}

int main(void)
{
    static const dlv_test_case cases[] = {
        DLV_TEST(open_creates_wal_database),
        DLV_TEST(second_open_is_busy),
        DLV_TEST(outbox_keeps_creation_order),
        DLV_TEST(outbox_add_is_all_or_nothing),
        DLV_TEST(outbox_peek_limits),
        DLV_TEST(outbox_due_never_overtakes),
        DLV_TEST(outbox_complete_only_on_final_outcomes),
        DLV_TEST(group_commits_everything_or_nothing),
        DLV_TEST(order_cache_and_revision),
        DLV_TEST(meta_values),
        DLV_TEST(print_one_trigger_one_job),
        DLV_TEST(print_state_machine),
        DLV_TEST(print_sending_after_restart_is_offered_not_resent),
        DLV_TEST(notifications_at_most_once),
        DLV_TEST(numbers_never_reused),
        DLV_TEST(prune_forgets_finished_orders_only),
        DLV_TEST(reads_survive_allocation_failures),
        DLV_TEST(lost_database_is_refused_not_a_first_start),
        DLV_TEST(wal_stays_bounded),
        DLV_TEST(json_object_check),
        DLV_TEST_END,
    };
    return dlv_test_main("store", cases);
}
