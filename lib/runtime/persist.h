/* What the runtime asks of the durable store, in its own words; persist.c maps it onto
 * lib/store. Every write is committed (synchronous=FULL) before it returns. */
#ifndef DLV__RUNTIME_PERSIST_H
#define DLV__RUNTIME_PERSIST_H

#include <stdint.h>

#include "common/internal.h"

typedef struct dlv__persist dlv__persist;

typedef struct dlv__persist_cmd {
    const char *id; /* UUID */
    const char *order_id;
    const char *type; /* ChangeStatus, Cancel, ... */
    const char *body; /* the command's JSON object */
} dlv__persist_cmd;

typedef struct dlv__persist_row {
    char *id;
    char *order_id;
    char *body;
    int attempts;
} dlv__persist_row;

typedef struct dlv__persist_order {
    const char *id;
    int64_t revision;
    const char *status;
    int64_t number;
    const char *json;
} dlv__persist_order;

int dlv__persist_open(const char *data_dir, dlv__persist **out, dlv_error *err);
void dlv__persist_close(dlv__persist *p);

/* A group: every write until commit shares one transaction and one flush to disk. */
int dlv__persist_begin(dlv__persist *p, dlv_error *err);
int dlv__persist_commit(dlv__persist *p, dlv_error *err);
void dlv__persist_rollback(dlv__persist *p);

/* The outbox. add: one transaction for the whole batch (group commit). */
int dlv__persist_add_commands(dlv__persist *p, const dlv__persist_cmd *cmds, size_t count,
                              dlv_error *err);
/* Up to `max` oldest commands in creation order. Free with dlv__persist_rows_free. */
int dlv__persist_peek_commands(dlv__persist *p, size_t max, dlv__persist_row **rows, size_t *count,
                               dlv_error *err);
void dlv__persist_rows_free(dlv__persist_row *rows, size_t count);
/* outcome: "Applied", "Duplicate" or "Rejected". */
int dlv__persist_complete_command(dlv__persist *p, const char *id, const char *outcome,
                                  dlv_error *err);
int dlv__persist_command_attempts(dlv__persist *p, const dlv__persist_row *rows, size_t count,
                                  dlv_error *err);
/* Pending commands and the creation time (UTC seconds) of the oldest, 0 when none. */
int dlv__persist_pending(dlv__persist *p, long *count, int64_t *oldest, dlv_error *err);
/* Pending commands that change one order (reports such as DocumentPrinted do not count). */
int dlv__persist_pending_for_order(dlv__persist *p, const char *order_id, long *count,
                                   dlv_error *err);

/* The order cache (the host's view) and the sync revision, in one transaction; revision < 0
 * leaves it as it is. */
int dlv__persist_put_orders(dlv__persist *p, const dlv__persist_order *orders, size_t count,
                            const char *const *removed, size_t removed_count, int64_t revision,
                            dlv_error *err);
/* Calls `each` for every cached order. */
int dlv__persist_load_orders(dlv__persist *p,
                             void (*each)(void *arg, const char *id, const char *json), void *arg,
                             dlv_error *err);
int64_t dlv__persist_revision(dlv__persist *p);

/* Small values: settings JSON and the like. *value is dlv__malloc'd or NULL when absent. */
int dlv__persist_meta_get(dlv__persist *p, const char *key, char **value, dlv_error *err);
int dlv__persist_meta_set(dlv__persist *p, const char *key, const char *value, dlv_error *err);

/* Notification ledger: *newly true when (order, event) was not recorded before. */
int dlv__persist_notify_mark(dlv__persist *p, const char *order_id, const char *event, bool *newly,
                             dlv_error *err);

/* Delivery numbers: the last issued, persisted before use. */
int dlv__persist_number_last(dlv__persist *p, int64_t *last, dlv_error *err);
int dlv__persist_number_save(dlv__persist *p, int64_t last, dlv_error *err);

/* The store underneath, for the print ledger. */
struct dlv__store *dlv__persist_store(dlv__persist *p);

#endif
