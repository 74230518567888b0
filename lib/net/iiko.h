/* The iikoCloud backend's parts (lib/net/backend_iiko*.c): the mapping of iikoCloud's bodies to
 * the library's model, pure and unit-tested (test/unit/test_net_iiko.c), and the command plans the
 * sender follows. docs/iikocloud.md has the mapping tables and the exactly-once argument. */
#ifndef DLV__NET_IIKO_H
#define DLV__NET_IIKO_H

#include <cjson/cJSON.h>

#include "net/backend.h"
#include "order/model.h"

/* The terminal's local clock: iikoCloud writes order times as local wall-clock time. */
typedef struct dlv__iiko_clock {
    int64_t (*fn)(void *arg, int64_t t, bool to_utc); /* NULL: local time is UTC */
    void *arg;
} dlv__iiko_clock;

/* "yyyy-MM-dd HH:mm:ss[.fff]" (local) → UTC seconds; false when it is not such a time. */
bool dlv__iiko_time_parse(const char *text, const dlv__iiko_clock *clock, dlv__time *out);
/* UTC seconds → "yyyy-MM-dd HH:mm:ss.000" (local). */
void dlv__iiko_time_format(dlv__time utc, const dlv__iiko_clock *clock, char out[32]);

/* What an OrderInfo is to this terminal. */
enum {
    DLV__IIKO_ORDER_OURS = 0,   /* mapped into *out */
    DLV__IIKO_ORDER_GONE = 1,   /* another terminal group's, or deleted: removed if held */
    DLV__IIKO_ORDER_NOT_YET = 2 /* creation InProgress or Error: no order to show */
};

/* One OrderInfo ({id, timestamp, creationStatus, order, ...}) → dlv__order, checked by the
 * library's own order decoder. The order's revision is the OrderInfo's timestamp (its last change,
 * increasing per order). *disposition tells whether *out was set. DLV_EJSON naming the field. */
int dlv__iiko_order_from_info(const cJSON *info, const char *terminal_group_id,
                              const dlv__iiko_clock *clock, dlv__order **out, int *disposition,
                              dlv_error *err);

/* A deliveries/by_revision answer → dlv__orders_response (revision: maxRevision). Orders that do
 * not map are left out and listed in `invalid`, as the native decoder's lenient mode does. */
int dlv__iiko_orders_decode(const char *body, size_t len, const char *terminal_group_id,
                            const dlv__iiko_clock *clock, dlv__orders_response **out,
                            dlv_error *err);

/* The settings from the dictionaries' answers (each may be NULL: absent); library defaults for
 * everything iikoCloud does not say. NULL on allocation failure. */
dlv__settings *dlv__iiko_settings(const cJSON *cancel_causes, const cJSON *couriers,
                                  const cJSON *cities, const cJSON *regions);

/* ---- commands ---- */

typedef enum dlv__iiko_action {
    DLV__IIKO_SEND,          /* call `endpoint` with `body` */
    DLV__IIKO_LOCAL_APPLIED, /* nothing to send: answered Applied at once */
    DLV__IIKO_LOCAL_REJECTED /* iikoCloud cannot do it: answered Rejected (`code`, `message`) */
} dlv__iiko_action;

/* What one library command (docs/protocol.md) becomes. */
typedef struct dlv__iiko_plan {
    dlv__iiko_action action;
    char id[40];       /* the command's id (the journal key) */
    char type[32];     /* ChangeStatus, Cancel, ... */
    char order_id[40]; /* "" when the command names none */
    const char *endpoint;
    cJSON *body;         /* owned; the request body (Pay: the new payments only) */
    bool merge_payments; /* Pay: the order's current payments go first (change_payments
                            replaces the list) */
    int target_status;   /* a dlv_status, or -1 */
    int expected_status; /* a dlv_status, or -1 */
    char courier_id[40];
    char comment[256];
    char code[32];
    char message[200];
} dlv__iiko_plan;

/* Plans one command. DLV_EJSON when the command is not a command object. */
int dlv__iiko_plan_command(const char *command, const char *organization_id,
                           const char *terminal_group_id, const dlv__iiko_clock *clock,
                           dlv__iiko_plan *out, dlv_error *err);
void dlv__iiko_plan_free(dlv__iiko_plan *plan);

/* Whether the order (an OrderInfo from deliveries/by_id, or NULL when there is none) shows the
 * command's effect: the reconciliation's question (docs/iikocloud.md). */
bool dlv__iiko_effect_present(const dlv__iiko_plan *plan, const cJSON *info);

/* Pay: the change_payments body, the order's current payments followed by the new ones. NULL on
 * allocation failure; free with cJSON_Delete. */
cJSON *dlv__iiko_pay_body(const dlv__iiko_plan *plan, const cJSON *info);

/* ---- the backend's object, shared by backend_iiko.c (session, registration, polling) and
 * backend_iiko_commands.c (the sender) ---- */

typedef struct dlv__http dlv__http;
typedef struct dlv__iiko_send dlv__iiko_send;
typedef struct dlv__iiko_seq dlv__iiko_seq;

typedef struct dlv__iiko {
    dlv__backend base; /* first: the core allocates priv_size and frees it */
    dlv__http *http;
    char *server_url, *api_login, *organization_id, *terminal_group_id;
    char *token;       /* NULL: none yet, or dropped after a 401 */
    uint64_t token_at; /* uv_now() when it was issued */
    long timeout_ms, poll_interval_ms;
    dlv__backend_journal journal; /* get NULL: none */
    dlv__iiko_clock clock;
    uv_timer_t poll_timer, send_timer;
    int open_handles; /* timers and the HTTP client still to close */
    bool closing;
    void (*done)(dlv__backend *b);
    unsigned idle_polls;     /* empty answers in a row */
    uint64_t settings_at;    /* uv_now() of the last dictionaries; 0: never */
    dlv__iiko_seq *poll_seq; /* the poll in progress (waiting or calling), or NULL */
    dlv__iiko_send *send;    /* the command in progress, or NULL */
} dlv__iiko;

/* One decoded answer of iikoCloud. `json` is freed after the callback unless taken. */
typedef struct dlv__iiko_answer {
    int err;
    bool retryable;
    long retry_after_s;
    long status;
    char code[32];
    char message[400];
    cJSON *json;
    double total_ms;
} dlv__iiko_answer;

typedef void (*dlv__iiko_done)(dlv__iiko *k, void *arg, dlv__iiko_answer *a);

/* POST /api/1/<path> with `body`, the session token first obtained or renewed as needed (at
 * ~55 minutes, and once on a 401). Returns an error without calling back, or calls back once. */
int dlv__iiko_call(dlv__iiko *k, const char *path, const cJSON *body, dlv__iiko_done cb, void *arg);

/* The sender (backend_iiko_commands.c): one command per call. */
int dlv__iiko_send_commands(dlv__backend *b, const char *const *commands, size_t count,
                            dlv__backend_cb cb, void *arg);
/* Ends a command waiting on a timer with DLV_ESTOPPED (the backend closes). */
void dlv__iiko_send_stop(dlv__iiko *k);

#endif
