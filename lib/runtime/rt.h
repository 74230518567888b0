/* The terminal runtime: one dlv_ctx on one libuv loop. Internal to lib/runtime. */
#ifndef DLV__RUNTIME_RT_H
#define DLV__RUNTIME_RT_H

#include <uv.h>

#include "common/log.h"
#include "delivery/delivery.h"
#include "net/backend.h"
#include "order/decide.h"
#include "order/machine.h"
#include "order/model.h"
#include "order/notify.h"
#include "runtime/persist.h"

/* One order as the terminal holds it. */
typedef struct rt_order {
    char id[40];
    dlv__order *view;   /* what the host sees: the server's copy with local changes on top */
    dlv__order *server; /* the newest server copy that arrived while local commands were pending */
    int pending;        /* local commands not yet acknowledged by the call-center */
    bool overdue_told;  /* overdueCooking already reported */
    struct rt_order *next;
} rt_order;

typedef struct rt_table {
    rt_order **buckets;
    size_t bucket_count;
    size_t count;
} rt_table;

typedef struct host_req {
    char *json;
    dlv_reply_cb cb;
    void *arg;
    struct host_req *next;
} host_req;

/* A command made in this loop turn, waiting for the group commit. */
typedef struct rt_cmd {
    char id[37];
    char order_id[40];
    char type[32]; /* ChangeStatus, Cancel, ... */
    char *body;    /* the command's JSON object */
    struct rt_cmd *next;
} rt_cmd;

/* An event to emit after the commit that makes it true. */
typedef struct rt_event {
    char *json;
    struct rt_event *next;
} rt_event;

/* A request's result, held until the batch is committed: its reply, the new views it made and
 * the events they cause. */
typedef struct rt_staged {
    dlv_reply_cb cb;
    void *arg;
    char *reply; /* ok reply; replaced by an error reply when the commit fails */
    char cmd_name[32];
    rt_order *order;       /* the order it changes, or NULL */
    dlv__order *new_view;  /* owned until the commit swaps it in */
    dlv_status from;       /* status before */
    dlv__money sum_before; /* sum to pay before */
    const char *origin;    /* local | timer | auto */
    int commands;          /* commands it added to the batch */
    dlv__trigger trigger;  /* what the change was, for decisions */
    bool created;          /* a new terminal-created order */
    bool print_invoice;    /* a by-hand invoice */
    bool trigger_set;      /* a change with consequences */
    bool applied;          /* committed (or nothing to commit) */
    rt_event *events;
    struct rt_staged *next;
} rt_staged;

enum rt_state { RT_CREATED, RT_RUNNING, RT_STOPPING, RT_STOPPED };

typedef struct rt_health {
    bool online;
    bool registered;
    char last_error[256];
    dlv__time last_sync;
    long retries;
    double rtt_last_ms, rtt_max_ms;
    long pending_commands;
    dlv__time oldest_pending_at;
    long held_print_jobs;
} rt_health;

struct dlv_ctx {
    /* configuration */
    dlv_config *config;
    dlv_front_config *front;
    char *data_dir;
    char *config_dir;
    char *terminal_name;
    char *receipt_printer, *a4_printer;
    char *templates_dir;
    char *front_config_path;
    dlv_event_cb on_event;
    void *event_arg;
    dlv__logger log;
    int long_poll_seconds;
    int utc_offset_minutes;
    int64_t regular_first, regular_last;

    /* loop and host queue */
    uv_loop_t own_loop;
    uv_loop_t *loop;
    bool own_thread;
    uv_thread_t thread;
    uv_async_t wake;
    uv_mutex_t lock; /* queue, state, health, last error */
    host_req *queue_head, *queue_tail;
    enum rt_state state;      /* under `lock`: what other threads see */
    enum rt_state loop_state; /* the loop thread's own copy, read without locking */
    int open_handles;
    int flush_ms;
    uint64_t stop_deadline;

    /* state */
    dlv__persist *persist;
    dlv__settings *settings;
    rt_table orders;
    int64_t revision;
    int load_error;        /* set while reading the cache */
    bool cache_incomplete; /* a cached order could not be read: sync from revision 0 */
    char actor_id[40];
    char actor_name[128];
    dlv_rights rights;
    bool logged_in;

    /* the batch of this loop turn */
    rt_cmd *batch_head, *batch_tail;
    size_t batch_count;
    rt_staged *staged_head, *staged_tail;

    /* sync: owned by sync.c (registration, polling, the sender, the heartbeat) */
    struct dlv__sync *sync;
    uv_timer_t due_timer;

    /* printing */
    struct dlv_printer *receipt, *a4;
    uv_timer_t print_timer;
    bool print_timer_open;
    bool print_busy;
    int print_failed_waiting;

    rt_health health;
    char last_error[DLV_ERROR_MESSAGE_MAX];
    struct dlv__template *templates[DLV__NOTIFY_COUNT]; /* NULL: no message for that event */
    dlv_notify_cb on_notify;
    void *notify_arg;
    char *cafe_address;
    dlv__time (*clock)(void *arg); /* tests inject time; NULL: the wall clock */
    void *clock_arg;
};

/* ---- ctx.c ---- */
dlv__time dlv__rt_now(dlv_ctx *ctx);
void dlv__rt_emit(dlv_ctx *ctx, char *json); /* takes ownership */
void dlv__rt_set_error(dlv_ctx *ctx, const char *fmt, ...) DLV__PRINTF(2, 3);
/* Commits the batch, then replies and emits in request order, then runs consequences. */
void dlv__rt_commit(dlv_ctx *ctx);
void dlv__rt_health_update(dlv_ctx *ctx);

/* ---- orders.c ---- */
int dlv__table_init(rt_table *t);
rt_order *dlv__table_find(rt_table *t, const char *id);
rt_order *dlv__table_add(rt_table *t, const char *id);
void dlv__table_remove(rt_table *t, const char *id);
void dlv__table_free(rt_table *t);
/* Every order, for iteration; caller frees the array with dlv__free. */
rt_order **dlv__table_list(rt_table *t, size_t *count);

/* Stages a change made by an operation on `o`: checks it, makes the new view and the commands.
 * Returns a staged entry (also on refusal, carrying the error reply). */
rt_staged *dlv__rt_stage_op(dlv_ctx *ctx, rt_order *o, const dlv__op_request *req,
                            const char *cmd_name, const char *origin, dlv_reply_cb cb, void *arg);
/* Caches these orders (and removes `removed`, sets the revision when >= 0), in one transaction
 * or inside the open group. */
int dlv__rt_persist_orders(dlv_ctx *ctx, const dlv__order *const *orders, size_t n, char **removed,
                           size_t removed_n, int64_t revision);
/* Caches the views of these orders (and nothing else). */
int dlv__rt_persist_views(dlv_ctx *ctx, rt_order **changed, size_t n);
/* Merges an orders answer from the call-center. */
void dlv__rt_apply_server_orders(dlv_ctx *ctx, dlv__orders_response *resp);
/* Consequences of a change that is now committed: automatic steps, prints, notices. */
/* `before` (NULL: nothing changed, a timer tick) is what the order looked like before, for the
 * customer notifications. */
void dlv__rt_consequences(dlv_ctx *ctx, rt_order *o, const dlv__event *event,
                          const dlv__notify_before *before);
/* Re-arms the one timer for lead times and automatic steps. */
void dlv__rt_arm_due_timer(dlv_ctx *ctx);
void dlv__rt_on_due(uv_timer_t *timer);
int dlv__rt_load_cache(dlv_ctx *ctx, dlv_error *err);
/* The command batch: appends a command (takes `body`). */
int dlv__rt_batch_add(dlv_ctx *ctx, const char *order_id, cJSON *body, dlv_error *err);
rt_staged *dlv__rt_staged_new(dlv_ctx *ctx, const char *cmd_name, dlv_reply_cb cb, void *arg);
void dlv__rt_staged_event(rt_staged *s, char *json);
void dlv__rt_staged_error(rt_staged *s, int code, const char *message);

/* ---- events.c ---- (the named event builders are declared in runtime/events.h) */
#include "runtime/events.h"
char *dlv__ev_order(dlv_ctx *ctx, const dlv__order *o);
cJSON *dlv__ev_order_summary(dlv_ctx *ctx, const dlv__order *o);
char *dlv__ev_status_changed(const char *order_id, dlv_status from, dlv_status to,
                             const char *origin);
char *dlv__ev_simple(const char *event, const char *key, const char *value);
char *dlv__reply_ok(const char *cmd, cJSON *extra); /* takes extra's members */
char *dlv__reply_error(const char *cmd, const char *code, const char *message);
/* The reply's error code for a library error ("MissingRight", "InvalidTransition", ...). */
const char *dlv__reply_code(int err);

/* ---- requests.c ---- */
void dlv__rt_handle_request(dlv_ctx *ctx, host_req *req);
/* Whether a request name of DLV_REQUEST_MAP has a row (a handler) in the request table. */
bool dlv__request_known(const char *name);
/* The live orders for the host, overdue first then by due time. */
cJSON *dlv__rt_order_list(dlv_ctx *ctx);

/* ---- create.c ---- */
/* An order taken at the terminal (a customer phoned): validated, numbered, stored, sent. */
void dlv__rt_create_order(dlv_ctx *ctx, const cJSON *order, const char *cmd, dlv_reply_cb cb,
                          void *arg);

/* ---- notify.c ---- */
/* Loads the message templates (built-in, or <config folder>/notifications/<Event>.txt). */
int dlv__rt_notify_load(dlv_ctx *ctx, dlv_error *err);
void dlv__rt_notify_free(dlv_ctx *ctx);
/* Sends the customer messages a change calls for, each at most once (the ledger). */
void dlv__rt_notify(dlv_ctx *ctx, rt_order *o, const dlv__notify_before *before);

/* ---- sync.c ---- */
/* Opens the backend <backend> names (the native protocol by default) and starts registering. */
void dlv__sync_start(dlv_ctx *ctx);
void dlv__sync_kick_sender(dlv_ctx *ctx);
/* Closes the timers and the backend (calls in flight end); commands in flight stay stored. */
void dlv__sync_stop(dlv_ctx *ctx);
/* No commands in flight. */
bool dlv__sync_idle(const dlv_ctx *ctx);
/* The call-center accepted the terminal and the session holds. */
bool dlv__sync_registered(const dlv_ctx *ctx);
/* Frees the sync state once the loop is done with it (from dlv_ctx_destroy). */
void dlv__sync_free(dlv_ctx *ctx);

#endif
