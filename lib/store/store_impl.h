/* Shared between the files of lib/store only. */
#ifndef DLV__STORE_IMPL_H
#define DLV__STORE_IMPL_H

#include <sqlite3.h>

#include "store/store.h"

typedef struct dlv__store_stmt_slot {
    const char *sql; /* the literal itself: looked up by address */
    sqlite3_stmt *stmt;
} dlv__store_stmt_slot;

struct dlv__store {
    sqlite3 *db;
    char *dir;
    char *path;
    const char *name; /* file name part of path, for messages */
    dlv__store_stmt_slot *stmts;
    size_t nstmts;
    int depth;   /* open transactions: 1 = BEGIN, more = SAVEPOINTs */
    bool group;  /* the outermost one was opened by dlv__store_begin */
    int aborted; /* SQLite rolled the whole transaction back with this code */
    char aborted_msg[DLV_ERROR_MESSAGE_MAX];
    int64_t (*clock)(void *arg);
    void *clock_arg;
    dlv__store_recovery recovery;
    bool recovered;
};

/* Fills `err` from the failed SQLite call `rc` ("delivery.db: <what>: <sqlite's message>") and
 * returns the mapped dlv_err code. */
int dlv__store_fail(dlv__store *st, dlv_error *err, int rc, const char *fmt, ...) DLV__PRINTF(4, 5);
/* SQLite result code -> dlv_err. */
int dlv__store_map_rc(int rc);

/* A cached prepared statement for a string literal, reset and unbound. */
int dlv__store_stmt(dlv__store *st, const char *sql, sqlite3_stmt **out, dlv_error *err);
/* Runs SQL without results (no caching). */
int dlv__store_exec(dlv__store *st, const char *sql, dlv_error *err);

/* Write transactions: the outermost is BEGIN IMMEDIATE ... COMMIT, inner ones are SAVEPOINTs so a
 * failing call inside a group undoes only itself. tx_end commits on rc == DLV_OK, rolls back
 * otherwise, and returns the final code (a failed COMMIT turns DLV_OK into its error). */
int dlv__store_tx_begin(dlv__store *st, dlv_error *err);
int dlv__store_tx_end(dlv__store *st, int rc, dlv_error *err);

/* Binds a nullable text; SQLITE_STATIC: the caller keeps it alive until the step. */
int dlv__store_bind_text(sqlite3_stmt *s, int i, const char *text);
/* Copies a text column (NULL stays NULL); false on out of memory. */
bool dlv__store_column_dup(sqlite3_stmt *s, int i, char **out);

/* True when `text` is one JSON object by RFC 8259's grammar, with nothing but white space after
 * it; checked in one pass that builds nothing (store.c). */
bool dlv__store_json_object(const char *text);

/* Runs one step of a statement that returns no row; maps the error with `what`. */
int dlv__store_step_done(dlv__store *st, sqlite3_stmt *s, dlv_error *err, const char *what);

/* Schema: applies the ordered migrations from user_version up to DLV__STORE_SCHEMA_VERSION. */
int dlv__store_migrate(dlv__store *st, dlv_error *err);
/* Migration i takes the schema from version i to i + 1. */
extern const char *const dlv__store_migrations[DLV__STORE_SCHEMA_VERSION];

/* Corruption handling (recover.c). `reason` is what made the file unusable. */
int dlv__store_recover(dlv__store *st, unsigned flags, const char *vfs, const char *reason,
                       dlv_error *err);
/* A previous recovery that stopped halfway (crash between its renames) is finished. */
int dlv__store_recover_finish_interrupted(const char *path, dlv_error *err);
/* Checks the marker a blocked recovery left; DLV_ECORRUPT unless accepted. */
int dlv__store_recover_check_blocked(dlv__store *st, unsigned flags, dlv_error *err);

/* Print ledger: 'sending' jobs left by a crash become 'unknown' (at open). */
int dlv__store_print_interrupted(dlv__store *st, dlv_error *err);

/* Meta values without the check on reserved keys; write: NULL value deletes. */
int dlv__store_meta_read(dlv__store *st, const char *key, char **value, dlv_error *err);
int dlv__store_meta_write(dlv__store *st, const char *key, const char *value, dlv_error *err);

/* Meta keys the store owns. */
#define DLV__STORE_KEY_REVISION "store.last_revision"
#define DLV__STORE_KEY_BLOCKED "store.recovery_blocked"

#endif
