/* The call-center backends: one operations table per protocol, in the style of SQLite's
 * sqlite3_io_methods and of include/delivery/printer.h. The runtime (lib/runtime/sync.c) drives
 * registration, order polling, the command sender and the heartbeat through this table only; it
 * never sees HTTP, paths or JSON answers: every call completes with an already decoded result and
 * an error classification. Retry policy (timers, attempts, backoff) stays with the caller, shared
 * by every backend; a backend makes one call per operation.
 *
 * Adding a backend (e.g. iikoCloud):
 *   1. Write lib/net/backend_<name>.c with a `static const dlv__backend_methods` table: version
 *      DLV__BACKEND_METHODS_VERSION first, then every slot in order with a comment naming it;
 *      slots it cannot serve are NULL (their wrappers return DLV_ENOTSUP).
 *   2. Its private struct embeds `dlv__backend` as its first member; `priv_size` is the size of
 *      that struct. The core allocates and frees it.
 *   3. `open` may fail; the caller still calls `close`, which must cope with a half-opened object
 *      and call `done` exactly once (at once, or from the loop once its handles are closed).
 *   4. Each operation returns an error without calling back, or calls back exactly once on the
 *      loop thread, with DLV_ESTOPPED for calls still in flight when the backend closes.
 *   5. Add the table to the built-in list in lib/net/backend.c and its name to the allowed
 *      values of <backend> in lib/config/config.c (test_runtime_sync checks they agree).
 * Polling backends (no long poll) simply answer poll_orders at once: the caller asks again,
 * waiting a second when the answer came back quickly with nothing new. A backend whose session
 * expires on a schedule renews it itself; a session the server refused is reported as
 * DLV_EUNAUTHORIZED and the caller registers again. */
#ifndef DLV__NET_BACKEND_H
#define DLV__NET_BACKEND_H

#include <uv.h>

#include "common/internal.h"
#include "common/log.h"
#include "order/model.h"

#define DLV__BACKEND_METHODS_VERSION 1

#define DLV__BACKOFF_BASE_MS 250
#define DLV__BACKOFF_CAP_MS 30000
/* Retry-After is honoured up to this; a server asking for more is retried at this interval. */
#define DLV__RETRY_AFTER_CAP_S 120

/* Delay before retry number `attempt` (0-based): full jitter over min(cap, base·2^attempt);
 * a Retry-After (seconds, ≥ 0) takes precedence, capped. `random` is a uniform 32-bit value. */
uint64_t dlv__backoff_ms(unsigned attempt, long retry_after_s, uint32_t random);

typedef struct dlv__backend dlv__backend;
typedef struct dlv__backend_methods dlv__backend_methods;

/* What a backend is opened with. Strings are copied by the backend when it keeps them. */
typedef struct dlv__backend_options {
    uv_loop_t *loop;
    const dlv__logger *log; /* outlives the backend */
    const char *server_url;
    const char *terminal_id;
    const char *terminal_name;
    const char *ca_file; /* NULL: the system store */
    long service_timeout_ms;
    int long_poll_seconds; /* how long a poll may be held by a server that can */
    /* ---- added for iikoCloud (lib/net/backend_iiko.c); other backends ignore them ---- */
    const char *api_login;         /* the chain's API key: a secret, masked in logs */
    const char *organization_id;   /* UUID of the organization (restaurant) */
    const char *terminal_group_id; /* UUID of the terminal group whose orders are ours */
    long poll_interval_ms;         /* pause between empty polls of a polling backend; 0: 5 s */
    /* Durable small records a backend keeps across crashes (iikoCloud: the commands whose
     * outcome is not known yet). NULL: nothing survives a restart. Copied by the backend. */
    const struct dlv__backend_journal *journal;
    /* Converts between UTC and the terminal's local wall-clock time (both as seconds since
     * 1970-01-01 00:00:00 of their own clock): to_utc true turns a local time into UTC. NULL:
     * local time is UTC. `time_arg` is passed back. */
    int64_t (*local_time)(void *time_arg, int64_t t, bool to_utc);
    void *time_arg;
} dlv__backend_options;

/* A key-value store that survives a crash: put is durable when it returns DLV_OK. Values are
 * short text. get sets *value (dlv__malloc'd) or NULL when absent. */
typedef struct dlv__backend_journal {
    int (*get)(void *arg, const char *key, char **value);
    int (*put)(void *arg, const char *key, const char *value);
    int (*del)(void *arg, const char *key);
    void *arg;
} dlv__backend_journal;

/* The outcome of one call, decoded. */
typedef struct dlv__backend_result {
    int err;            /* DLV_OK, or the classification (DLV_EUNAUTHORIZED: session lost,
                           DLV_ENOTREGISTERED, DLV_ESERVER, DLV_ESTOPPED, ...) */
    bool retryable;     /* try again later with backoff */
    long retry_after_s; /* -1: none; else what the server asked for, capped */
    char code[32];      /* the server's error code ("StatusConflict"), or "" */
    char message[400];  /* one line for logs and the host */
    double total_ms;    /* the call's round trip */
    /* The decoded answer of the operation that succeeded, else NULL. The callback may take it
     * (set the pointer to NULL); whatever is left is freed after the callback returns. */
    dlv__register_response *reg;
    dlv__orders_response *orders;
    dlv__commands_response *commands;
} dlv__backend_result;

/* Runs exactly once per started call, on the loop thread. */
typedef void (*dlv__backend_cb)(void *arg, dlv__backend_result *res);

struct dlv__backend_methods {
    int version; /* DLV__BACKEND_METHODS_VERSION */
    const char *name;
    size_t priv_size;    /* the backend's struct, dlv__backend first */
    size_t max_commands; /* at most this many commands per send_commands call */
    int (*open)(dlv__backend *b, const dlv__backend_options *opts, dlv_error *err);
    /* Ends every call in flight (DLV_ESTOPPED), releases what open made, then calls `done`. */
    void (*close)(dlv__backend *b, void (*done)(dlv__backend *b));
    /* Starts a new session (the old one, if any, is dropped); the result carries `reg`. */
    int (*register_terminal)(dlv__backend *b, dlv__backend_cb cb, void *arg);
    /* Orders changed since `since_revision`; the result carries `orders`. */
    int (*poll_orders)(dlv__backend *b, int64_t since_revision, dlv__backend_cb cb, void *arg);
    /* Sends these commands (JSON objects, in order); the result carries `commands`. */
    int (*send_commands)(dlv__backend *b, const char *const *commands, size_t count,
                         dlv__backend_cb cb, void *arg);
    /* Tells the server the terminal is alive. */
    int (*heartbeat)(dlv__backend *b, long pending_commands, int64_t last_revision,
                     dlv__backend_cb cb, void *arg);
    /* Escape hatch (xFileControl): DLV_ENOTSUP for an op it does not know. May be NULL. */
    int (*ctl)(dlv__backend *b, int op, void *arg);
};

/* The part every backend shares; each backend's struct embeds it first. */
struct dlv__backend {
    const dlv__backend_methods *methods;
    uv_loop_t *loop;
    const dlv__logger *log;
    void (*closed)(void *arg);
    void *closed_arg;
};

/* The backend named `name`; NULL finds the default (the native protocol unless a test made
 * another the default). NULL when there is none by that name. */
const dlv__backend_methods *dlv__backend_find(const char *name);
/* Adds a backend to the registry (sqlite3_vfs_register); `make_default` makes dlv__backend_find
 * (NULL) return it. Not thread-safe: call before any context starts. DLV_EBUSY when full. */
int dlv__backend_register(const dlv__backend_methods *m, bool make_default);
/* Removes a registered backend; the native one stays the default when the removed one was. */
void dlv__backend_unregister(const dlv__backend_methods *m);

/* Allocates the backend and opens it. Unless it returns DLV_ENOMEM with *out NULL, *out is set
 * also on failure and must be closed with dlv__backend_close. */
int dlv__backend_open(const dlv__backend_methods *m, const dlv__backend_options *opts,
                      dlv__backend **out, dlv_error *err);
/* Ends every call in flight (their callbacks run with DLV_ESTOPPED), then frees the backend and
 * calls `closed` (may be NULL) once it is gone. */
void dlv__backend_close(dlv__backend *b, void (*closed)(void *arg), void *arg);

/* The operations; DLV_ENOTSUP when the backend has no such slot. */
int dlv__backend_register_terminal(dlv__backend *b, dlv__backend_cb cb, void *arg);
int dlv__backend_poll_orders(dlv__backend *b, int64_t since_revision, dlv__backend_cb cb,
                             void *arg);
int dlv__backend_send_commands(dlv__backend *b, const char *const *commands, size_t count,
                               dlv__backend_cb cb, void *arg);
int dlv__backend_heartbeat(dlv__backend *b, long pending_commands, int64_t last_revision,
                           dlv__backend_cb cb, void *arg);
int dlv__backend_ctl(dlv__backend *b, int op, void *arg);

/* Frees the decoded answers a result still holds. */
void dlv__backend_result_clear(dlv__backend_result *res);

extern const dlv__backend_methods dlv__backend_native;
extern const dlv__backend_methods dlv__backend_iiko;

#endif
