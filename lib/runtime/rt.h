/* The terminal runtime: one dlv_ctx on one libuv loop. Internal to lib/runtime.
 *
 * struct dlv_ctx holds the identity the host configured and the loop, then one part per concern,
 * each owned by one file the way curl's struct Curl_easy keeps data->req and data->state: the
 * host queue (ctx.c), the commit batch (commit.c), the orders (orders.c), the printing state
 * (printing.c, opaque), the health figures, the login, the sync state (sync.c). Another file
 * reaches a part only through the functions declared below under the owner's name. Every part
 * writes to the durable store (lib/store) directly. */
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
#include "store/store.h"

/* What the runtime needs of an order without its view: enough to find it by number, time it
 * (lib/order/decide.c's due moments) and sort the list. Kept for every order; the view itself
 * is in memory only for the most recently used ones (dlv__rt_view). */
typedef struct rt_key {
    int64_t revision, number;
    dlv__time complete_before, predicted_cooking_complete_time;
    dlv__money result_sum;
    dlv_status status;
    dlv_service_type service_type;
} rt_key;

/* One order as the terminal holds it. */
typedef struct rt_order {
    char id[40];
    rt_key key;         /* of `view`, kept when the view leaves memory */
    dlv__order *view;   /* what the host sees: the server's copy with local changes on top, as
                           cached in the store; NULL while not in memory (read it through
                           dlv__rt_view, replace it through dlv__rt_view_set) */
    dlv__order *server; /* the newest server copy that arrived while local commands were pending */
    struct rt_order *lru_prev, *lru_next; /* in memory, most recently used first */
    bool stored;       /* has a committed view (in the store's cache): false for an order being
                          created in this turn */
    int pending;       /* local commands not yet acknowledged by the call-center */
    bool overdue_told; /* overdueCooking already reported (also in the store's ledger) */
    struct rt_order *next;
} rt_order;

typedef struct rt_table {
    rt_order **buckets;
    size_t bucket_count;
    size_t count;
    rt_order *lru_head, *lru_tail; /* the orders whose view is in memory */
    size_t views;                  /* how many */
} rt_table;

/* How many order views stay decoded in memory (the most recently used); the others are read
 * back from the store's order cache when needed. A shift's live orders fit; a 100,000-order
 * snapshot syncs in bounded memory (docs/performance.md). */
#define DLV__RT_VIEWS_IN_MEMORY 256

typedef struct host_req {
    char *json;
    dlv_reply_cb cb;
    void *arg;
    struct host_req *next;
} host_req;

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
    char *request_id;      /* the request's "id" as JSON text, echoed in its reply; or NULL */
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

/* The host queue: what host threads hand to the loop (ctx.c only). */
typedef struct rt_host {
    uv_async_t wake;
    host_req *head, *tail; /* under ctx->lock */
    enum rt_state state;   /* under ctx->lock: what other threads see */
    int flush_ms;          /* how long a stop waits for the outbox */
    uint64_t stop_deadline;
} rt_host;

/* The batch of this loop turn: the commands made and the requests staged, waiting for the group
 * commit (commit.c only). The commands are the store's own type, handed to it as they are; the
 * batch owns their strings. */
typedef struct rt_held rt_held; /* commit.c */
typedef struct rt_batch {
    dlv__store_cmd *cmds;
    size_t count, cap;
    rt_staged *staged_head, *staged_tail;
    /* Events and customer messages the consequences produce while their transaction is open:
     * told only once it is committed, after the replies (commit.c). */
    bool holding;
    rt_held *held_head, *held_tail;
} rt_batch;

/* The orders the terminal holds and how far the sync got (orders.c only). */
typedef struct rt_orders {
    rt_table table;
    int64_t revision;      /* the call-center revision the cache reflects */
    bool cache_incomplete; /* a cached order could not be read: sync from revision 0 */
} rt_orders;

/* Who is logged in at the terminal: set by the login request, carried by every command. */
typedef struct rt_login {
    char actor_id[40];
    char actor_name[128];
    dlv_rights rights;
    bool logged_in;
} rt_login;

typedef struct rt_printing rt_printing; /* printing.c */

/* The restaurant's clock (ctx.c): the zones it may read local time from, in order. */
typedef struct rt_zone {
    struct dlv__tz *settings_tz; /* the call-center's timeZone, loaded for settings_zone */
    char *settings_zone;         /* the name settings_tz was loaded for (NULL: none tried) */
    char *bad_zone;              /* the call-center zone that did not load: warned once */
    struct dlv__tz *option_tz;   /* dlv_options.time_zone, loaded at create; NULL: none */
    struct dlv__tz *os_tz;       /* the OS zone, loaded at first use; NULL: UTC */
    bool os_loaded;
} rt_zone;

struct dlv_ctx {
    /* identity: what the host configured, fixed after dlv_ctx_create */
    dlv_config *config;
    dlv_front_config *front;
    char *data_dir;
    char *config_dir;
    char *terminal_name;
    char *receipt_printer, *a4_printer;
    char *templates_dir;
    char *front_config_path;
    char *cafe_address;
    char *restaurant_name; /* the invoice's header (dlv_options version 5) */
    dlv_event_cb on_event;
    void *event_arg;
    dlv_notify_cb on_notify;
    void *notify_arg;
    dlv__logger log;
    int long_poll_seconds;
    int utc_offset_minutes;
    dlv__locale locale; /* the staff's language (options' locale; default Russian) */
    int64_t regular_first, regular_last;
    dlv__time (*clock)(void *arg); /* tests inject time; NULL: the wall clock */
    void *clock_arg;
    struct rt_notify *notify; /* notify.c (opaque): the message templates and their fallbacks */

    /* the loop */
    uv_loop_t own_loop;
    uv_loop_t *loop;
    bool own_thread;
    uv_thread_t thread;
    uv_mutex_t lock;          /* host queue, state, health, last error */
    enum rt_state loop_state; /* the loop thread's copy of the state, read without locking */
    int open_handles;         /* libuv handles not closed yet, across the parts */
    char last_error[DLV_ERROR_MESSAGE_MAX];

    /* the parts */
    dlv__store *store;       /* the durable state, used directly by every part */
    dlv__settings *settings; /* the call-center's settings for this terminal; NULL until known */
    rt_host host;
    rt_batch batch;
    rt_orders orders;
    rt_printing *printing;
    rt_login login;
    rt_zone zone;     /* ctx.c: the restaurant's local time */
    rt_health health; /* under `lock` */

    struct dlv__sync *sync; /* sync.c: the backend, attempts, timers, commands in flight */
    uv_timer_t due_timer;   /* orders.c: lead times and automatic steps */
};

/* ---- ctx.c ---- */
dlv__time dlv__rt_now(dlv_ctx *ctx);
/* The restaurant's clock: minutes east of UTC at `utc` (seconds), daylight saving included.
 * dlv_options.utc_offset_minutes (non-zero) overrides; otherwise the call-center's timeZone,
 * else dlv_options.time_zone, else the OS zone, else UTC (docs/time.md). Loop thread. The
 * signature fits the render options' utc_offset_at with the context as the argument. */
int dlv__rt_utc_offset_at(void *ctx, int64_t utc);
void dlv__rt_emit(dlv_ctx *ctx, char *json); /* takes ownership */
/* journal.c: the backends' durable journal over the store's meta table; the local-time
 * conversion (dlv__backend_options.local_time) with the context as its argument. */
void dlv__rt_journal(dlv_ctx *ctx, dlv__backend_journal *out);
int64_t dlv__rt_local_time(void *ctx, int64_t t, bool to_utc);
void dlv__rt_set_error(dlv_ctx *ctx, const char *fmt, ...) DLV__PRINTF(2, 3);
/* Health: the outbox figures from the store; a copy of the whole under the lock; the print jobs
 * held back (printing.c tells). */
void dlv__rt_health_update(dlv_ctx *ctx);
void dlv__rt_health_get(dlv_ctx *ctx, rt_health *out);
void dlv__rt_health_set_held_prints(dlv_ctx *ctx, long held);
/* The link to the call-center went online or stayed offline (`error`: why), with the round
 * trip of the call when there was one; true when online/offline changed. */
bool dlv__rt_health_note_link(dlv_ctx *ctx, bool online, const char *error, double rtt_ms);
/* An orders answer was applied: the last sync is now. */
void dlv__rt_health_note_sync(dlv_ctx *ctx);
/* Pending commands as last counted by dlv__rt_health_update. */
long dlv__rt_health_pending(dlv_ctx *ctx);

/* ---- commit.c ---- */
/* Commits the batch, then replies and emits in request order, then runs consequences. */
void dlv__rt_commit(dlv_ctx *ctx);
/* The command batch: appends a command (takes `body`). */
int dlv__rt_batch_add(dlv_ctx *ctx, const char *order_id, cJSON *body, dlv_error *err);
/* Drops what is left in the batch (at destroy; nothing of it was acknowledged). */
void dlv__rt_batch_free(dlv_ctx *ctx);
rt_staged *dlv__rt_staged_new(dlv_ctx *ctx, const char *cmd_name, dlv_reply_cb cb, void *arg);
/* The request staged last in this turn, or NULL. */
rt_staged *dlv__rt_staged_last(dlv_ctx *ctx);
/* The newest view staged for `o` in this turn, or NULL when none. */
const dlv__order *dlv__rt_staged_view(dlv_ctx *ctx, const rt_order *o);
/* Whether a request staged in this turn names `o`. */
bool dlv__rt_order_staged(dlv_ctx *ctx, const rt_order *o);
/* The view a request on `o` is judged against: the newest staged one, else the stored one. */
const dlv__order *dlv__rt_working_view(dlv_ctx *ctx, rt_order *o);
void dlv__rt_staged_event(rt_staged *s, char *json);
void dlv__rt_staged_error(rt_staged *s, int code, const char *message);
/* While the group commit holds the host's events (ctx->batch.holding): keeps one for later. */
void dlv__rt_hold_event(dlv_ctx *ctx, char *json);

/* ---- orders.c ---- */
int dlv__rt_orders_init(dlv_ctx *ctx);
void dlv__rt_orders_free(dlv_ctx *ctx);
rt_order *dlv__rt_order_find(dlv_ctx *ctx, const char *id);
rt_order *dlv__rt_order_add(dlv_ctx *ctx, const char *id);
void dlv__rt_order_remove(dlv_ctx *ctx, const char *id);
/* Every order, for iteration; caller frees the array with dlv__free. */
rt_order **dlv__rt_order_list_all(dlv_ctx *ctx, size_t *count);
/* The order's view, read back from the store's cache when it is not in memory; NULL when it
 * cannot be read (logged). Valid until the next dlv__rt_views_trim. */
dlv__order *dlv__rt_view(dlv_ctx *ctx, rt_order *o);
/* Makes `view` (owned from now on, may be NULL for an order not yet committed) the order's view
 * and its key; returns the previous view, for the caller to free or put back. */
dlv__order *dlv__rt_view_set(dlv_ctx *ctx, rt_order *o, dlv__order *view);
/* The key again after the view was changed in place. */
void dlv__rt_view_changed(rt_order *o);
/* Drops the least recently used views beyond DLV__RT_VIEWS_IN_MEMORY (those of orders with
 * nothing staged and no command awaiting its answer); they stay in the store's cache. Called where
 * no view pointer is held: after a commit, after a page of orders. */
void dlv__rt_views_trim(dlv_ctx *ctx);
/* A dlv__order with only the key's fields, for lib/order's timing and sorting. */
void dlv__rt_order_skeleton(const rt_order *o, dlv__order *out);
size_t dlv__rt_order_count(const dlv_ctx *ctx);
/* The call-center revision the held orders reflect: where the next poll resumes. */
int64_t dlv__rt_revision(const dlv_ctx *ctx);

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

/* ---- events.c ---- (the named event builders are declared in runtime/events.h) */
#include "runtime/events.h"
char *dlv__ev_order(dlv_ctx *ctx, const dlv__order *o);
/* The whole order as the host shows it, with "actions" for the logged-in user (docs/api.md "The
 * order"): the order event's, getOrder's and list's. NULL when memory ran out. */
cJSON *dlv__ev_order_json(dlv_ctx *ctx, const dlv__order *o);
char *dlv__ev_status_changed(const char *order_id, dlv_status from, dlv_status to,
                             const char *origin);
char *dlv__ev_simple(const char *event, const char *key, const char *value);
char *dlv__reply_ok(const char *cmd, cJSON *extra); /* takes extra's members */
char *dlv__reply_error(const char *cmd, const char *code, const char *message);
/* `reply` with the request's "id" (JSON text of a string or number) added; `reply` itself when
 * there is no id or no memory. Takes `reply`. */
char *dlv__reply_with_id(char *reply, const char *id_json);
/* The reply's error code for a library error ("MissingRight", "InvalidTransition", ...). */
const char *dlv__reply_code(int err);

/* ---- requests.c ---- */
void dlv__rt_handle_request(dlv_ctx *ctx, host_req *req);
/* Whether a request name of DLV_REQUEST_MAP has a row (a handler) in the request table. */
bool dlv__request_known(const char *name);
/* The logged-in user (the login part is requests.c's): the name ("" when none) and
 * {"id","name"} as commands carry it (NULL when memory ran out). */
const char *dlv__rt_actor_name(const dlv_ctx *ctx);
cJSON *dlv__rt_actor_json(const dlv_ctx *ctx);
/* The notification ledger's key that marks overdueCooking as told for an order (not a customer
 * event: the operator's warning, once per order across restarts). */
#define DLV__RT_OVERDUE_TOLD_KEY "operator:overdueCooking"

/* The live orders for the host, overdue first then by due time. */
cJSON *dlv__rt_order_list(dlv_ctx *ctx);

/* ---- create.c ---- */
/* An order taken at the terminal (a customer phoned): validated, numbered, stored, sent. */
void dlv__rt_create_order(dlv_ctx *ctx, const cJSON *order, const char *cmd, dlv_reply_cb cb,
                          void *arg);
/* Numbers of terminal-created orders (protocol 1.1 blocks): takes a block the call-center
 * reserved (`from`: "register" or "ReserveNumbers"; one already held is ignored); drops the blocks
 * when the server speaks 1.0; queues one ReserveNumbers in the outbox when fewer than 20% are
 * left and none is outstanding. */
int dlv__rt_numbers_take_block(dlv_ctx *ctx, dlv__number_block block, const char *from);
void dlv__rt_numbers_forget_blocks(dlv_ctx *ctx);
void dlv__rt_numbers_reserve_if_needed(dlv_ctx *ctx);

/* ---- notify.c ---- */
/* Loads the message templates (built-in, or <config folder>/notifications/<Event>.txt). */
int dlv__rt_notify_load(dlv_ctx *ctx, dlv_error *err);
void dlv__rt_notify_free(dlv_ctx *ctx);
/* Tells the host (an `error` event "TemplateFallback" each) which templates fell back to the
 * built-in text at load. Called once, from dlv_ctx_start. */
void dlv__rt_notify_warn(dlv_ctx *ctx);
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
/* The server's protocol minor from its last register answer (0: 1.0, or not registered yet). */
int dlv__sync_protocol_minor(const dlv_ctx *ctx);
/* Frees the sync state once the loop is done with it (from dlv_ctx_destroy). */
void dlv__sync_free(dlv_ctx *ctx);

#endif
