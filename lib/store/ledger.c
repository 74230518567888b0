/* The print ledger (one trigger, one document; recorded before any byte goes out), the
 * notification ledger (each event at most once per order) and delivery numbers that are never
 * issued twice. */
#include "store/store_impl.h"

#include "common/dynbuf.h"

#include <stdio.h>
#include <string.h>

static const char *const state_names[] = {"pending", "sending", "sent",
                                          "failed",  "unknown", "dismissed"};

/* Which states each target state may be entered from (bit per dlv__print_state). */
#define BIT(s) (1u << (s))
static const unsigned allowed_from[] = {
    [DLV__PRINT_PENDING] = 0,
    [DLV__PRINT_SENDING] = BIT(DLV__PRINT_PENDING) | BIT(DLV__PRINT_FAILED),
    [DLV__PRINT_SENT] = BIT(DLV__PRINT_SENDING),
    [DLV__PRINT_FAILED] = BIT(DLV__PRINT_SENDING),
    [DLV__PRINT_UNKNOWN] = BIT(DLV__PRINT_SENDING),
    [DLV__PRINT_DISMISSED] =
        BIT(DLV__PRINT_PENDING) | BIT(DLV__PRINT_FAILED) | BIT(DLV__PRINT_UNKNOWN),
};

#define JOB_COLUMNS                                                                                \
    "id, order_id, document, trigger_key, copies, printer, is_copy, reprint_of, state, attempts,"  \
    " last_error, payload, created_at, updated_at, next_attempt_at"

static const char SQL_JOB_FIND[] =
    "SELECT id FROM print_jobs WHERE order_id = ?1 AND document = ?2 AND trigger_key = ?3";
static const char SQL_JOB_ADD[] =
    "INSERT INTO print_jobs(order_id, document, trigger_key, copies, printer, is_copy,"
    " reprint_of, payload, created_at, updated_at, next_attempt_at)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?9)";
static const char SQL_JOB_GET[] = "SELECT " JOB_COLUMNS " FROM print_jobs WHERE id = ?1";
static const char SQL_JOB_SET[] =
    "UPDATE print_jobs SET state = ?2, attempts = attempts + ?3,"
    " last_error = coalesce(?4, last_error), next_attempt_at = ?5, updated_at = ?6 WHERE id = ?1";
static const char SQL_JOB_DUE[] = "SELECT " JOB_COLUMNS " FROM print_jobs WHERE state = 'pending'"
                                  " OR (state = 'failed' AND next_attempt_at <= ?1) ORDER BY id";
static const char SQL_JOB_OFFERS[] =
    "SELECT " JOB_COLUMNS " FROM print_jobs WHERE state = 'unknown' ORDER BY id";
static const char SQL_JOB_FOR_ORDER[] =
    "SELECT " JOB_COLUMNS " FROM print_jobs WHERE order_id = ?1 ORDER BY id";
static const char SQL_JOB_INTERRUPTED[] =
    "UPDATE print_jobs SET state = 'unknown', updated_at = ?1,"
    " last_error = 'interrupted while sending: the terminal stopped' WHERE state = 'sending'";
static const char SQL_NOTIFY_MARK[] =
    "INSERT OR IGNORE INTO notifications(order_id, event, sent_at) VALUES(?1, ?2, ?3)";
static const char SQL_NOTIFY_SENT[] =
    "SELECT event FROM notifications WHERE order_id = ?1 ORDER BY rowid";
/* A series (one range) issues increasing numbers, so all it ever issued lies in [first, last].
 * The next number is above the highest of every series whose span meets [?1, ?2]. */
static const char SQL_NUMBER_TOP[] =
    "SELECT max(last) FROM numbers WHERE first <= ?2 AND last >= ?1";
static const char SQL_NUMBER_SET[] =
    "INSERT INTO numbers(lo, hi, first, last) VALUES(?1, ?2, ?3, ?3)"
    " ON CONFLICT(lo, hi) DO UPDATE SET last = excluded.last";
static const char SQL_PRUNE_JOBS[] =
    "DELETE FROM print_jobs WHERE state IN ('sent', 'dismissed') AND updated_at < ?1"
    " AND order_id NOT IN (SELECT id FROM orders) AND NOT EXISTS (SELECT 1 FROM print_jobs AS c"
    " WHERE c.reprint_of = print_jobs.id AND NOT (c.state IN ('sent', 'dismissed')"
    " AND c.updated_at < ?1))";
static const char SQL_PRUNE_NOTIFY[] =
    "DELETE FROM notifications WHERE sent_at < ?1 AND order_id NOT IN (SELECT id FROM orders)";

const char *dlv__print_state_name(dlv__print_state state)
{
    return (unsigned)state < DLV__ARRAY_SIZE(state_names) ? state_names[state] : NULL;
}

static int state_from_name(const char *name)
{
    for (size_t i = 0; name && i < DLV__ARRAY_SIZE(state_names); i++)
        if (strcmp(name, state_names[i]) == 0)
            return (int)i;
    return -1;
}

/* ---- print jobs ---- */

static int check_job(dlv__store *st, const dlv__print_new *j, dlv_error *err)
{
    const char *why = NULL;
    if (!j->order_id || !*j->order_id)
        why = "no order id";
    else if (!j->document ||
             (strcmp(j->document, "Invoice") != 0 && strcmp(j->document, "ServiceCheck") != 0))
        why = "the document must be Invoice or ServiceCheck";
    else if (!j->trigger || !*j->trigger)
        why = "no trigger";
    else if (j->copies < 1 || j->copies > 5)
        why = "copies must be 1..5";
    else if (j->payload_len && !j->payload)
        why = "payload length without a payload";
    if (!why)
        return DLV_OK;
    return dlv__error_set(err, DLV_EINVAL, "%s: print job refused: %s", st->name, why);
}

static int insert_job(dlv__store *st, const dlv__print_new *j, int64_t reprint_of, int64_t *id,
                      dlv_error *err)
{
    sqlite3_stmt *s;
    int rc = dlv__store_stmt(st, SQL_JOB_ADD, &s, err);
    if (rc != DLV_OK)
        return rc;
    sqlite3_bind_text(s, 1, j->order_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, j->document, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, j->trigger, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, j->copies);
    dlv__store_bind_text(s, 5, j->printer);
    sqlite3_bind_int(s, 6, j->is_copy ? 1 : 0);
    if (reprint_of > 0)
        sqlite3_bind_int64(s, 7, reprint_of);
    if (j->payload)
        sqlite3_bind_blob64(s, 8, j->payload, j->payload_len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 9, dlv__store_now(st));
    rc = dlv__store_step_done(st, s, err, "cannot record a print job");
    if (rc == DLV_OK)
        *id = sqlite3_last_insert_rowid(st->db);
    return rc;
}

int dlv__store_print_add(dlv__store *st, const dlv__print_new *job, int64_t *id, bool *created,
                         dlv_error *err)
{
    int64_t found = 0;
    bool made = false;
    if (id)
        *id = 0;
    if (created)
        *created = false;
    int rc = job ? check_job(st, job, err)
                 : dlv__error_set(err, DLV_EINVAL, "%s: no print job given", st->name);
    if (rc == DLV_OK)
        rc = dlv__store_tx_begin(st, err);
    if (rc != DLV_OK)
        return rc;
    sqlite3_stmt *s;
    rc = dlv__store_stmt(st, SQL_JOB_FIND, &s, err);
    if (rc == DLV_OK) {
        sqlite3_bind_text(s, 1, job->order_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, job->document, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, job->trigger, -1, SQLITE_STATIC);
        int src = sqlite3_step(s);
        if (src == SQLITE_ROW)
            found = sqlite3_column_int64(s, 0);
        else if (src != SQLITE_DONE)
            rc = dlv__store_fail(st, err, src, "cannot look up a print job");
        sqlite3_reset(s);
    }
    if (rc == DLV_OK && !found) {
        rc = insert_job(st, job, 0, &found, err);
        made = rc == DLV_OK;
    }
    rc = dlv__store_tx_end(st, rc, err);
    if (rc == DLV_OK) {
        if (id)
            *id = found;
        if (created)
            *created = made;
    }
    return rc;
}

void dlv__store_print_job_clear(dlv__print_job *job)
{
    if (!job)
        return;
    dlv__free(job->order_id);
    dlv__free(job->document);
    dlv__free(job->trigger);
    dlv__free(job->printer);
    dlv__free(job->last_error);
    dlv__free(job->payload);
    memset(job, 0, sizeof *job);
}

void dlv__store_print_jobs_free(dlv__print_job *jobs, size_t count)
{
    if (!jobs)
        return;
    for (size_t i = 0; i < count; i++)
        dlv__store_print_job_clear(&jobs[i]);
    dlv__free(jobs);
}

static int fill_job(dlv__store *st, sqlite3_stmt *s, dlv__print_job *job, dlv_error *err)
{
    memset(job, 0, sizeof *job);
    job->id = sqlite3_column_int64(s, 0);
    job->copies = sqlite3_column_int(s, 4);
    job->is_copy = sqlite3_column_int(s, 6) != 0;
    job->reprint_of = sqlite3_column_int64(s, 7);
    int state = state_from_name((const char *)sqlite3_column_text(s, 8));
    job->state = state >= 0 ? (dlv__print_state)state : DLV__PRINT_UNKNOWN;
    job->attempts = sqlite3_column_int(s, 9);
    job->created_at = sqlite3_column_int64(s, 12);
    job->updated_at = sqlite3_column_int64(s, 13);
    job->next_attempt_at = sqlite3_column_int64(s, 14);
    bool ok = dlv__store_column_dup(s, 1, &job->order_id) &&
              dlv__store_column_dup(s, 2, &job->document) &&
              dlv__store_column_dup(s, 3, &job->trigger) &&
              dlv__store_column_dup(s, 5, &job->printer) &&
              dlv__store_column_dup(s, 10, &job->last_error);
    int len = sqlite3_column_bytes(s, 11);
    if (ok && sqlite3_column_type(s, 11) != SQLITE_NULL && len > 0) {
        job->payload = dlv__malloc((size_t)len);
        ok = job->payload != NULL;
        if (ok) {
            memcpy(job->payload, sqlite3_column_blob(s, 11), (size_t)len);
            job->payload_len = (size_t)len;
        }
    }
    if (!ok) {
        dlv__store_print_job_clear(job);
        return dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", st->name);
    }
    return DLV_OK;
}

static int collect_jobs(dlv__store *st, sqlite3_stmt *s, dlv__print_job **jobs, size_t *count,
                        dlv_error *err)
{
    dlv__print_job *list = NULL;
    size_t n = 0, cap = 0;
    int rc = DLV_OK, src;
    while ((src = sqlite3_step(s)) == SQLITE_ROW) {
        if (DLV__DYNARR_RESERVE(list, cap, n + 1, 8, DLV__DYNARR_NOLIMIT) != DLV_OK) {
            rc = dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", st->name);
            break;
        }
        rc = fill_job(st, s, &list[n], err);
        if (rc != DLV_OK)
            break;
        n++;
    }
    if (rc == DLV_OK && src != SQLITE_DONE)
        rc = dlv__store_fail(st, err, src, "cannot read the print ledger");
    sqlite3_reset(s);
    if (rc != DLV_OK) {
        dlv__store_print_jobs_free(list, n);
        list = NULL;
        n = 0;
    }
    if (!n) {
        dlv__free(list);
        list = NULL;
    }
    *jobs = list;
    *count = n;
    return rc;
}

int dlv__store_print_get(dlv__store *st, int64_t id, dlv__print_job *job, dlv_error *err)
{
    memset(job, 0, sizeof *job);
    sqlite3_stmt *s;
    int rc = dlv__store_stmt(st, SQL_JOB_GET, &s, err);
    if (rc != DLV_OK)
        return rc;
    sqlite3_bind_int64(s, 1, id);
    int src = sqlite3_step(s);
    if (src == SQLITE_ROW)
        rc = fill_job(st, s, job, err);
    else if (src == SQLITE_DONE)
        rc = dlv__error_set(err, DLV_ENOTFOUND, "%s: no print job %lld", st->name, (long long)id);
    else
        rc = dlv__store_fail(st, err, src, "cannot read print job %lld", (long long)id);
    sqlite3_reset(s);
    return rc;
}

/* The job's state inside the current transaction. */
static int job_state(dlv__store *st, int64_t id, dlv__print_job *job, dlv_error *err)
{
    return dlv__store_print_get(st, id, job, err);
}

static int set_state(dlv__store *st, const dlv__print_job *job, dlv__print_state to,
                     const char *error, int64_t next_attempt_at, dlv_error *err)
{
    if (!(allowed_from[to] & BIT(job->state)))
        return dlv__error_set(err, DLV_EINVAL, "%s: print job %lld cannot go from %s to %s",
                              st->name, (long long)job->id, state_names[job->state],
                              state_names[to]);
    sqlite3_stmt *s;
    int rc = dlv__store_stmt(st, SQL_JOB_SET, &s, err);
    if (rc != DLV_OK)
        return rc;
    sqlite3_bind_int64(s, 1, job->id);
    sqlite3_bind_text(s, 2, state_names[to], -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, to == DLV__PRINT_SENDING ? 1 : 0);
    dlv__store_bind_text(s, 4, error);
    sqlite3_bind_int64(s, 5, to == DLV__PRINT_FAILED ? next_attempt_at : job->next_attempt_at);
    sqlite3_bind_int64(s, 6, dlv__store_now(st));
    return dlv__store_step_done(st, s, err, "cannot change a print job");
}

int dlv__store_print_set_state(dlv__store *st, int64_t id, dlv__print_state to, const char *error,
                               int64_t next_attempt_at, dlv_error *err)
{
    if ((unsigned)to >= DLV__ARRAY_SIZE(state_names))
        return dlv__error_set(err, DLV_EINVAL, "%s: invalid print job state %d", st->name, (int)to);
    int rc = dlv__store_tx_begin(st, err);
    if (rc != DLV_OK)
        return rc;
    dlv__print_job job;
    rc = job_state(st, id, &job, err);
    if (rc == DLV_OK)
        rc = set_state(st, &job, to, error, next_attempt_at, err);
    dlv__store_print_job_clear(&job);
    return dlv__store_tx_end(st, rc, err);
}

int dlv__store_print_reprint(dlv__store *st, int64_t id, int64_t *new_id, dlv_error *err)
{
    if (new_id)
        *new_id = 0;
    int rc = dlv__store_tx_begin(st, err);
    if (rc != DLV_OK)
        return rc;
    dlv__print_job job;
    int64_t made = 0;
    char trigger[64];
    rc = job_state(st, id, &job, err);
    if (rc == DLV_OK && (job.state == DLV__PRINT_PENDING || job.state == DLV__PRINT_SENDING))
        rc = dlv__error_set(err, DLV_EBUSY, "%s: print job %lld is %s, not printed yet", st->name,
                            (long long)id, state_names[job.state]);
    if (rc == DLV_OK) {
        char uuid[37];
        rc = dlv__uuid_v4(uuid);
        if (rc == DLV_OK)
            snprintf(trigger, sizeof trigger, "reprint:%s", uuid);
        else
            dlv__error_set(err, rc, "%s: no random source for a reprint id", st->name);
    }
    if (rc == DLV_OK) {
        /* The stored payload of the original lacks the «КОПИЯ» mark: the copy is rendered anew.
         * One copy: the operator asked for the document again, not for the configured set. */
        dlv__print_new copy = {job.order_id, job.document, trigger, 1, job.printer, true, NULL, 0};
        rc = insert_job(st, &copy, job.id, &made, err);
    }
    if (rc == DLV_OK && (job.state == DLV__PRINT_FAILED || job.state == DLV__PRINT_UNKNOWN)) {
        char why[64];
        snprintf(why, sizeof why, "replaced by reprint %lld", (long long)made);
        rc = set_state(st, &job, DLV__PRINT_DISMISSED, why, 0, err);
    }
    dlv__store_print_job_clear(&job);
    rc = dlv__store_tx_end(st, rc, err);
    if (rc == DLV_OK && new_id)
        *new_id = made;
    return rc;
}

int dlv__store_print_due(dlv__store *st, dlv__print_job **jobs, size_t *count, dlv_error *err)
{
    *jobs = NULL;
    *count = 0;
    sqlite3_stmt *s;
    int rc = dlv__store_stmt(st, SQL_JOB_DUE, &s, err);
    if (rc != DLV_OK)
        return rc;
    sqlite3_bind_int64(s, 1, dlv__store_now(st));
    return collect_jobs(st, s, jobs, count, err);
}

int dlv__store_print_offers(dlv__store *st, dlv__print_job **jobs, size_t *count, dlv_error *err)
{
    *jobs = NULL;
    *count = 0;
    sqlite3_stmt *s;
    int rc = dlv__store_stmt(st, SQL_JOB_OFFERS, &s, err);
    if (rc != DLV_OK)
        return rc;
    return collect_jobs(st, s, jobs, count, err);
}

int dlv__store_print_for_order(dlv__store *st, const char *order_id, dlv__print_job **jobs,
                               size_t *count, dlv_error *err)
{
    *jobs = NULL;
    *count = 0;
    if (!order_id)
        return dlv__error_set(err, DLV_EINVAL, "%s: no order id given", st->name);
    sqlite3_stmt *s;
    int rc = dlv__store_stmt(st, SQL_JOB_FOR_ORDER, &s, err);
    if (rc != DLV_OK)
        return rc;
    sqlite3_bind_text(s, 1, order_id, -1, SQLITE_STATIC);
    return collect_jobs(st, s, jobs, count, err);
}

int dlv__store_print_interrupted(dlv__store *st, dlv_error *err)
{
    int rc = dlv__store_tx_begin(st, err);
    if (rc != DLV_OK)
        return rc;
    sqlite3_stmt *s;
    rc = dlv__store_stmt(st, SQL_JOB_INTERRUPTED, &s, err);
    if (rc == DLV_OK) {
        sqlite3_bind_int64(s, 1, dlv__store_now(st));
        rc = dlv__store_step_done(st, s, err, "cannot mark interrupted print jobs");
    }
    return dlv__store_tx_end(st, rc, err);
}

/* ---- notifications ---- */

int dlv__store_notify_mark(dlv__store *st, const char *order_id, const char *event, bool *newly,
                           dlv_error *err)
{
    if (newly)
        *newly = false;
    if (!order_id || !*order_id || !event || !*event)
        return dlv__error_set(err, DLV_EINVAL, "%s: a notification mark needs an order and event",
                              st->name);
    int rc = dlv__store_tx_begin(st, err);
    if (rc != DLV_OK)
        return rc;
    sqlite3_stmt *s;
    bool added = false;
    rc = dlv__store_stmt(st, SQL_NOTIFY_MARK, &s, err);
    if (rc == DLV_OK) {
        sqlite3_bind_text(s, 1, order_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, event, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, dlv__store_now(st));
        rc = dlv__store_step_done(st, s, err, "cannot record a notification");
        added = rc == DLV_OK && sqlite3_changes(st->db) == 1;
    }
    rc = dlv__store_tx_end(st, rc, err);
    if (rc == DLV_OK && newly)
        *newly = added;
    return rc;
}

void dlv__store_strings_free(char **strings, size_t count)
{
    if (!strings)
        return;
    for (size_t i = 0; i < count; i++)
        dlv__free(strings[i]);
    dlv__free(strings);
}

int dlv__store_notify_sent(dlv__store *st, const char *order_id, char ***events, size_t *count,
                           dlv_error *err)
{
    *events = NULL;
    *count = 0;
    if (!order_id)
        return dlv__error_set(err, DLV_EINVAL, "%s: no order id given", st->name);
    sqlite3_stmt *s;
    int rc = dlv__store_stmt(st, SQL_NOTIFY_SENT, &s, err);
    if (rc != DLV_OK)
        return rc;
    sqlite3_bind_text(s, 1, order_id, -1, SQLITE_STATIC);
    char **list = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(s)) == SQLITE_ROW) {
        if (DLV__DYNARR_RESERVE(list, cap, n + 1, 8, DLV__DYNARR_NOLIMIT) != DLV_OK) {
            rc = dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", st->name);
            break;
        }
        if (!dlv__store_column_dup(s, 0, &list[n]) || !list[n]) {
            rc = dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", st->name);
            break;
        }
        n++;
    }
    if (rc == DLV_OK && src != SQLITE_DONE)
        rc = dlv__store_fail(st, err, src, "cannot read the notification ledger");
    sqlite3_reset(s);
    if (rc != DLV_OK || n == 0) {
        dlv__store_strings_free(list, n);
        return rc;
    }
    *events = list;
    *count = n;
    return DLV_OK;
}

/* ---- numbers ---- */

int dlv__store_number_next(dlv__store *st, int64_t lo, int64_t hi, int64_t *number, dlv_error *err)
{
    *number = 0;
    if (lo < 1 || hi < lo)
        return dlv__error_set(err, DLV_EINVAL, "%s: delivery number range %lld..%lld is invalid",
                              st->name, (long long)lo, (long long)hi);
    int rc = dlv__store_tx_begin(st, err);
    if (rc != DLV_OK)
        return rc;
    int64_t next = lo;
    sqlite3_stmt *s;
    rc = dlv__store_stmt(st, SQL_NUMBER_TOP, &s, err);
    if (rc == DLV_OK) {
        sqlite3_bind_int64(s, 1, lo);
        sqlite3_bind_int64(s, 2, hi);
        int src = sqlite3_step(s);
        if (src == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
            int64_t top = sqlite3_column_int64(s, 0);
            if (top >= hi)
                rc = dlv__error_set(err, DLV_ERANGE,
                                    "%s: delivery numbers %lld..%lld are used up (last issued "
                                    "%lld); the terminal needs a new range",
                                    st->name, (long long)lo, (long long)hi, (long long)top);
            else if (top >= next)
                next = top + 1;
        } else if (src != SQLITE_ROW) {
            rc = dlv__store_fail(st, err, src, "cannot read issued numbers");
        }
        sqlite3_reset(s);
    }
    if (rc == DLV_OK)
        rc = dlv__store_stmt(st, SQL_NUMBER_SET, &s, err);
    if (rc == DLV_OK) {
        sqlite3_bind_int64(s, 1, lo);
        sqlite3_bind_int64(s, 2, hi);
        sqlite3_bind_int64(s, 3, next);
        rc = dlv__store_step_done(st, s, err, "cannot record an issued number");
    }
    rc = dlv__store_tx_end(st, rc, err);
    if (rc == DLV_OK)
        *number = next;
    return rc;
}

#define SQL_NUMBER_STATE_GET                                                                       \
    "SELECT last_issued, block_first, block_last, next_first, next_last FROM number_state"         \
    " WHERE id = 1"
#define SQL_NUMBER_STATE_SET                                                                       \
    "INSERT OR REPLACE INTO number_state(id, last_issued, block_first, block_last, next_first,"    \
    " next_last) VALUES(1, ?1, ?2, ?3, ?4, ?5)"

int dlv__store_number_state_load(dlv__store *st, dlv__number_state *state, dlv_error *err)
{
    memset(state, 0, sizeof *state);
    sqlite3_stmt *s;
    int rc = dlv__store_stmt(st, SQL_NUMBER_STATE_GET, &s, err);
    if (rc != DLV_OK)
        return rc;
    int src = sqlite3_step(s);
    if (src == SQLITE_ROW) {
        state->last_issued = sqlite3_column_int64(s, 0);
        if (sqlite3_column_type(s, 1) != SQLITE_NULL) {
            state->has_block = true;
            state->block.first = sqlite3_column_int64(s, 1);
            state->block.last = sqlite3_column_int64(s, 2);
        }
        if (sqlite3_column_type(s, 3) != SQLITE_NULL) {
            state->has_next = true;
            state->next.first = sqlite3_column_int64(s, 3);
            state->next.last = sqlite3_column_int64(s, 4);
        }
    } else if (src != SQLITE_DONE) {
        rc = dlv__store_fail(st, err, src, "cannot read the number state");
    }
    sqlite3_reset(s);
    return rc;
}

static void bind_block(sqlite3_stmt *s, int i, bool has, dlv__number_block b)
{
    if (has) {
        sqlite3_bind_int64(s, i, b.first);
        sqlite3_bind_int64(s, i + 1, b.last);
    } else {
        sqlite3_bind_null(s, i);
        sqlite3_bind_null(s, i + 1);
    }
}

int dlv__store_number_state_save(dlv__store *st, const dlv__number_state *state, dlv_error *err)
{
    if (state->last_issued < 0 ||
        (state->has_block && (state->block.first < 1 || state->block.last < state->block.first)) ||
        (state->has_next && (state->next.first < 1 || state->next.last < state->next.first)))
        return dlv__error_set(err, DLV_EINVAL, "%s: invalid delivery number state", st->name);
    int rc = dlv__store_tx_begin(st, err);
    if (rc != DLV_OK)
        return rc;
    sqlite3_stmt *s;
    rc = dlv__store_stmt(st, SQL_NUMBER_STATE_SET, &s, err);
    if (rc == DLV_OK) {
        sqlite3_bind_int64(s, 1, state->last_issued);
        bind_block(s, 2, state->has_block, state->block);
        bind_block(s, 4, state->has_next, state->next);
        rc = dlv__store_step_done(st, s, err, "cannot record the number state");
    }
    return dlv__store_tx_end(st, rc, err);
}

/* ---- housekeeping ---- */

int dlv__store_prune(dlv__store *st, int64_t before, long *removed, dlv_error *err)
{
    if (removed)
        *removed = 0;
    int rc = dlv__store_tx_begin(st, err);
    if (rc != DLV_OK)
        return rc;
    long gone = 0;
    const char *const sqls[] = {SQL_PRUNE_JOBS, SQL_PRUNE_NOTIFY};
    for (size_t i = 0; i < DLV__ARRAY_SIZE(sqls) && rc == DLV_OK; i++) {
        sqlite3_stmt *s;
        rc = dlv__store_stmt(st, sqls[i], &s, err);
        if (rc == DLV_OK) {
            sqlite3_bind_int64(s, 1, before);
            rc = dlv__store_step_done(st, s, err, "cannot prune the ledgers");
        }
        if (rc == DLV_OK)
            gone += sqlite3_changes(st->db);
    }
    rc = dlv__store_tx_end(st, rc, err);
    if (rc == DLV_OK && removed)
        *removed = gone;
    return rc;
}
