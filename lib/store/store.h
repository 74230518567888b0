/* The terminal's durable state in SQLite (WAL, synchronous=FULL): the outbox of commands, the
 * order cache with the sync revision, the print and notification ledgers and the delivery number
 * allocator. Orders, commands and settings are opaque JSON text here; the store only keeps the few
 * columns it indexes. See docs/store.md.
 *
 * Every write is committed, and on disk, before the call returns DLV_OK; a failed write leaves
 * nothing behind. Errors come back as a dlv_err code with `err` (may be NULL) naming what failed:
 * DLV_EFULL (disk full), DLV_EIO (I/O error, unreadable file), DLV_ECORRUPT (damaged database),
 * DLV_ESCHEMA (newer or foreign database), DLV_EBUSY (another process holds it), DLV_ENOMEM,
 * DLV_EINVAL (bad argument), DLV_ENOTFOUND, DLV_EEXIST, DLV_ERANGE (numbers used up), DLV_ESTORE
 * (anything else SQLite said).
 *
 * A handle is used by one thread at a time (the runtime's loop thread). Strings returned in rows
 * are dlv__malloc'd and freed with the matching *_free function. Times are milliseconds since the
 * Unix epoch (UTC), from the store's clock. */
#ifndef DLV__STORE_STORE_H
#define DLV__STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/internal.h"
#include "order/decide.h"

typedef struct dlv__store dlv__store;

/* The file inside the data folder, and the schema this library writes. */
#define DLV__STORE_FILE "delivery.db"
#define DLV__STORE_SCHEMA_VERSION 3
/* At most this many commands per peek: the protocol's limit per request. */
#define DLV__STORE_PEEK_MAX 500

/* ---- opening ---- */

enum {
    /* Start even though a damaged database could not be read whole (its pending commands, print
     * or notification ledger, or issued numbers may be lost). Only on an operator's explicit
     * decision; without it such a store refuses to open with DLV_ECORRUPT on every start. */
    DLV__STORE_ACCEPT_LOSS = 1u << 0,
};

typedef struct dlv__store_options {
    unsigned flags;      /* DLV__STORE_* */
    int busy_timeout_ms; /* wait for another process's lock; 0: 5000, < 0: do not wait */
    const char *vfs;     /* SQLite VFS name; NULL: the default (tests inject faults here) */
} dlv__store_options;

/* What happened when a damaged database was found (docs/store.md, "Corruption"). */
typedef struct dlv__store_recovery {
    char *moved_to; /* the damaged file's new name, kept for support */
    char *reason;   /* what SQLite said about it */
    long commands;  /* outbox rows carried over into the new database (-1: unknown) */
    long print_jobs;
    long notifications;
    long number_series;
    bool complete;      /* every table that cannot be fetched again was read whole */
    bool loss_accepted; /* opened with DLV__STORE_ACCEPT_LOSS although incomplete */
} dlv__store_recovery;

/* Opens (creating the folder and the file when missing) `<dir>/delivery.db`, upgrades an older
 * schema in one transaction, and turns print jobs left in 'sending' by a crash into 'unknown'.
 * The process holds the database exclusively until dlv__store_close: a second opener gets
 * DLV_EBUSY after the busy timeout. A newer schema or a foreign SQLite file: DLV_ESCHEMA, the file
 * untouched. A damaged file is moved aside and its readable rows carried into a new database;
 * if something that cannot be fetched again from the call-center was unreadable, the open fails
 * with DLV_ECORRUPT (now and on every later start) unless DLV__STORE_ACCEPT_LOSS is given.
 * `opts` may be NULL. On error *out is NULL. */
int dlv__store_open(const char *dir, const dlv__store_options *opts, dlv__store **out,
                    dlv_error *err);

/* Closes the database; a group left open is rolled back (nothing of it was acknowledged).
 * NULL does nothing. */
void dlv__store_close(dlv__store *st);

/* Full path of the database file; valid until close. */
const char *dlv__store_path(const dlv__store *st);

/* Set when this open found a damaged database (or accepted an earlier blocked recovery); NULL
 * otherwise. Valid until close. The runtime tells the host. */
const dlv__store_recovery *dlv__store_recovery_info(const dlv__store *st);

/* The store's clock (ms since the epoch, UTC); tests replace it. `now_ms` NULL restores the
 * system clock. */
int64_t dlv__store_now(dlv__store *st);
void dlv__store_set_clock(dlv__store *st, int64_t (*now_ms)(void *arg), void *arg);

/* ---- group commit ---- */

/* Opens a group: every write until dlv__store_commit shares one transaction, and one disk flush.
 * The runtime opens one per loop iteration, writes what it produced (commands, print jobs,
 * notification marks, numbers), commits, and only then acknowledges to the host. A write that
 * fails inside a group is undone alone and the group stays usable, unless SQLite had to roll back
 * the whole transaction (disk full, I/O error): then every later call in the group and the commit
 * return that error. Groups do not nest (DLV_EBUSY). */
int dlv__store_begin(dlv__store *st, dlv_error *err);
/* Commits the group: DLV_OK means durable. On error nothing of the group is stored. */
int dlv__store_commit(dlv__store *st, dlv_error *err);
/* Drops the group. No-op outside a group. */
void dlv__store_rollback(dlv__store *st);

/* ---- outbox (POST /delivery/v1/commands) ---- */

typedef struct dlv__store_cmd {
    const char *id;       /* UUID, chosen once when the command is made */
    const char *order_id; /* the order it changes (for CreateOrder: the new order's id) */
    const char *type;     /* ChangeStatus, Cancel, AssignCourier, Pay, ... */
    const char *body;     /* the command's JSON object as sent */
} dlv__store_cmd;

typedef struct dlv__store_cmd_row {
    int64_t seq; /* creation order */
    char *id;
    char *order_id; /* NULL when the command has none */
    char *type;
    char *body;
    int64_t created_at;
    int attempts;
    int64_t next_attempt_at;
} dlv__store_cmd_row;

/* The server's final word on a command. */
typedef struct dlv__store_outcome {
    const char *id;
    const char *outcome; /* "Applied", "Duplicate" or "Rejected" */
} dlv__store_outcome;

/* Stores `count` commands in one transaction, in array order, due at once. All or nothing: a bad
 * argument (DLV_EINVAL), a repeated id (DLV_EEXIST), disk full (DLV_EFULL) or an I/O error
 * (DLV_EIO) stores none of them. */
int dlv__store_outbox_add(dlv__store *st, const dlv__store_cmd *cmds, size_t count, dlv_error *err);

/* Up to `max` (1..DLV__STORE_PEEK_MAX) commands in creation order. With `due_only`, only those
 * whose next attempt time has come, and never one that would overtake an earlier command of the
 * same order still waiting. *rows is NULL when *count is 0; free with dlv__store_cmd_rows_free. */
int dlv__store_outbox_peek(dlv__store *st, size_t max, bool due_only, dlv__store_cmd_row **rows,
                           size_t *count, dlv_error *err);

/* Frees one row's members (the row itself is the caller's) and empties it. */
void dlv__store_cmd_row_clear(dlv__store_cmd_row *row);
void dlv__store_cmd_rows_free(dlv__store_cmd_row *rows, size_t count);

/* After a request that got no answer (timeout, 5xx, connection lost): one more attempt counted
 * for each command, next attempt not before `next_attempt_at`. Unknown ids are skipped. */
int dlv__store_outbox_mark_attempt(dlv__store *st, const char *const *ids, size_t count,
                                   int64_t next_attempt_at, dlv_error *err);

/* The same for the rows a peek returned (the commands of one request). */
int dlv__store_outbox_mark_attempt_rows(dlv__store *st, const dlv__store_cmd_row *rows,
                                        size_t count, int64_t next_attempt_at, dlv_error *err);

/* Removes commands the server answered for, in one transaction. Only the protocol's final
 * outcomes remove a command: anything else is DLV_EINVAL and removes none. Idempotent: an id no
 * longer in the outbox is skipped. `removed` (may be NULL) gets how many rows went. */
int dlv__store_outbox_complete(dlv__store *st, const dlv__store_outcome *outcomes, size_t count,
                               size_t *removed, dlv_error *err);

/* Number of pending commands and the creation time of the oldest (0 when none). */
int dlv__store_outbox_stats(dlv__store *st, long *count, int64_t *oldest_created_at,
                            dlv_error *err);
/* How many commands of this type ("ReserveNumbers") wait in the outbox. */
int dlv__store_outbox_count_type(dlv__store *st, const char *type, long *count, dlv_error *err);
/* Calls `each` with every order that has commands waiting and how many, reports
 * (DocumentPrinted) not counted; `each` must not call into the store. A non-zero return stops
 * and is returned. */
int dlv__store_outbox_pending_orders(dlv__store *st,
                                     int (*each)(void *arg, const char *order_id, long count),
                                     void *arg, dlv_error *err);

/* ---- order cache and small values ---- */

typedef struct dlv__store_order {
    const char *id;
    int64_t revision;
    const char *status; /* status name, e.g. "CookingStarted" */
    int64_t number;
    const char *json; /* the ORDER object */
} dlv__store_order;

typedef struct dlv__store_order_row {
    char *id;
    int64_t revision;
    char *status;
    int64_t number;
    char *json;
    int64_t updated_at;
} dlv__store_order_row;

/* Inserts or replaces one cached order. */
int dlv__store_orders_put(dlv__store *st, const dlv__store_order *order, dlv_error *err);

/* Applies one orders answer in one transaction: `orders` replace cached copies, `removed` ids
 * leave the cache, and the last server revision becomes `revision` (< 0: unchanged), so a restart
 * resumes sinceRevision exactly where the cache is. */
int dlv__store_orders_sync(dlv__store *st, const dlv__store_order *orders, size_t count,
                           const char *const *removed, size_t removed_count, int64_t revision,
                           dlv_error *err);

/* Removes cached orders; unknown ids are skipped. */
int dlv__store_orders_remove(dlv__store *st, const char *const *ids, size_t count, dlv_error *err);

/* One cached order: DLV_ENOTFOUND when absent. Free with dlv__store_order_row_clear. */
int dlv__store_orders_get(dlv__store *st, const char *id, dlv__store_order_row *row,
                          dlv_error *err);
void dlv__store_order_row_clear(dlv__store_order_row *row);

/* Calls `each` for every cached order, by number then id; the row is valid during the call only
 * and `each` must not call into the store. A non-zero return stops and is returned. */
int dlv__store_orders_each(dlv__store *st, int (*each)(void *arg, const dlv__store_order_row *row),
                           void *arg, dlv_error *err);

/* The last server revision stored with the cache (0 before the first sync). */
int dlv__store_revision(dlv__store *st, int64_t *revision, dlv_error *err);

/* Small values (settings JSON, session info). Keys starting with "store." are the store's own.
 * get: *value is dlv__malloc'd, NULL when absent. set: NULL value deletes. */
int dlv__store_meta_get(dlv__store *st, const char *key, char **value, dlv_error *err);
int dlv__store_meta_set(dlv__store *st, const char *key, const char *value, dlv_error *err);

/* ---- print ledger: one trigger, one document (docs/printers.md, docs/store.md) ---- */

typedef enum dlv__print_state {
    DLV__PRINT_PENDING,   /* recorded, nothing sent yet */
    DLV__PRINT_SENDING,   /* bytes may be going out */
    DLV__PRINT_SENT,      /* fully sent: never sent again automatically */
    DLV__PRINT_FAILED,    /* not printed (offline, paper out): retried when due */
    DLV__PRINT_UNKNOWN,   /* interrupted while sending: offered as a reprint, never resent */
    DLV__PRINT_DISMISSED, /* given up or replaced by a reprint; final */
} dlv__print_state;

/* "pending", "sending", ... ; NULL for an invalid value. */
const char *dlv__print_state_name(dlv__print_state state);

typedef struct dlv__print_new {
    const char *order_id;
    const char *document; /* "Invoice" or "ServiceCheck" */
    const char *trigger;  /* what caused it, e.g. "OnCookingCompleted"; one job per trigger */
    int copies;           /* 1..5 */
    const char *printer;  /* printer name or URI; NULL: the default for the document */
    bool is_copy;         /* printed marked «КОПИЯ» */
    const void *payload;  /* optional rendered document, so a retry prints the same bytes */
    size_t payload_len;
} dlv__print_new;

typedef struct dlv__print_job {
    int64_t id;
    char *order_id;
    char *document;
    char *trigger;
    int copies;
    char *printer; /* NULL: default */
    bool is_copy;
    int64_t reprint_of; /* 0 unless a reprint */
    dlv__print_state state;
    int attempts;     /* times it went to 'sending' */
    char *last_error; /* NULL when none */
    void *payload;    /* NULL when none */
    size_t payload_len;
    int64_t created_at;
    int64_t updated_at;
    int64_t next_attempt_at;
} dlv__print_job;

/* Records a job before any byte goes out. A job already recorded for the same order, document
 * and trigger is not created again: *id is the existing one and *created false. */
int dlv__store_print_add(dlv__store *st, const dlv__print_new *job, int64_t *id, bool *created,
                         dlv_error *err);

/* Moves a job along its state machine:
 *   pending -> sending | dismissed       sending -> sent | failed | unknown
 *   failed  -> sending | dismissed       unknown -> dismissed
 * Going to 'sending' counts an attempt. `error` (may be NULL) is kept as last_error;
 * `next_attempt_at` matters for 'failed' only. Any other move is DLV_EINVAL naming both states;
 * an unknown id is DLV_ENOTFOUND. */
int dlv__store_print_set_state(dlv__store *st, int64_t id, dlv__print_state to, const char *error,
                               int64_t next_attempt_at, dlv_error *err);

/* A manual reprint: a new job for the same order, document, copies and printer with is_copy set
 * and reprint_of pointing at the original. An original still waiting ('failed' or 'unknown') is
 * dismissed in the same transaction, so only the copy goes out. A job in 'pending' or 'sending' is
 * DLV_EBUSY: it is about to print. */
int dlv__store_print_reprint(dlv__store *st, int64_t id, int64_t *new_id, dlv_error *err);

int dlv__store_print_get(dlv__store *st, int64_t id, dlv__print_job *job, dlv_error *err);
/* Jobs to send now: 'pending', and 'failed' whose next attempt time has come, oldest first. */
int dlv__store_print_due(dlv__store *st, dlv__print_job **jobs, size_t *count, dlv_error *err);
/* Reprint offers for the operator: the 'unknown' jobs, oldest first. */
int dlv__store_print_offers(dlv__store *st, dlv__print_job **jobs, size_t *count, dlv_error *err);
/* Every job of one order, oldest first. */
int dlv__store_print_for_order(dlv__store *st, const char *order_id, dlv__print_job **jobs,
                               size_t *count, dlv_error *err);
void dlv__store_print_job_clear(dlv__print_job *job);
void dlv__store_print_jobs_free(dlv__print_job *jobs, size_t count);

/* ---- notification ledger: each event at most once per order (docs/store.md) ---- */

/* Records that `event` was sent for an order; *newly (may be NULL) is false when it already was.
 * Mark before sending: at most once. The event is opaque text (SumChanged may carry the sum,
 * "SumChanged:68000", to be told apart). */
int dlv__store_notify_mark(dlv__store *st, const char *order_id, const char *event, bool *newly,
                           dlv_error *err);
/* Events recorded for an order, in the order they were marked. Free with dlv__store_strings_free.
 */
int dlv__store_notify_sent(dlv__store *st, const char *order_id, char ***events, size_t *count,
                           dlv_error *err);
void dlv__store_strings_free(char **strings, size_t count);

/* ---- numbers for terminal-created orders, never reused (docs/store.md) ---- */

/* Issues the next delivery number in lo..hi (1 <= lo <= hi), durable before it returns. Each range
 * is a series of increasing numbers; the next one is above everything any series issued that
 * reaches into lo..hi, so no number is issued twice, across restarts and range changes.
 * DLV_ERANGE when the range is used up. */
int dlv__store_number_next(dlv__store *st, int64_t lo, int64_t hi, int64_t *number, dlv_error *err);

/* The numbering state of terminal-created orders (order/decide.h): the last number issued and the
 * blocks the call-center reserved for this terminal (protocol 1.1). A store that never saved one
 * loads a zero state. Save is durable before it returns (or joins the open group); a state whose
 * blocks are invalid (first < 1, last < first) is refused with DLV_EINVAL. */
int dlv__store_number_state_load(dlv__store *st, dlv__number_state *state, dlv_error *err);
int dlv__store_number_state_save(dlv__store *st, const dlv__number_state *state, dlv_error *err);

/* ---- housekeeping ---- */

/* Forgets, for orders no longer cached, print jobs that are final ('sent', 'dismissed') and
 * notification marks made before `before`. `removed` (may be NULL) gets the row count. */
int dlv__store_prune(dlv__store *st, int64_t before, long *removed, dlv_error *err);

/* The SQLite handle, for tests and diagnostics only. */
struct sqlite3 *dlv__store_sqlite(dlv__store *st);

#endif
