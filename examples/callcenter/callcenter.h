/* delivery-callcenter: the bundled call-center emulator (server side of protocol v1). */
#ifndef CALLCENTER_H
#define CALLCENTER_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef struct cc_state cc_state;

/* What a protocol or admin call answers: an HTTP status and a JSON body (owned by the reply). */
typedef struct cc_reply {
    int status;
    cJSON *body;
    int retry_after; /* seconds; 0: no Retry-After header */
} cc_reply;

typedef struct cc_options {
    const char *db_path;
    bool accept_any_terminal;
    int session_ttl_seconds;
    int protocol_minor; /* highest minor version served: 1 (default) or 0 (a 1.0 server) */
} cc_options;

/* Call-center order numbers run from 100001 upward; blocks reserved for terminals
 * (protocol 1.1 numberBlock) start at CC_FIRST_BLOCK_NUMBER, so the two never meet. */
#define CC_FIRST_BLOCK_NUMBER 900000
#define CC_DEFAULT_BLOCK_SIZE 1000
/* Bounds of a paged orders answer (protocol 1.1 `limit`). */
#define CC_PAGE_MIN 1
#define CC_PAGE_MAX 5000

/* Opens (or creates) the emulator's SQLite database. Returns NULL with `err` filled on failure. */
cc_state *cc_state_open(const cc_options *opts, char *err, size_t errlen);
void cc_state_close(cc_state *st);

/* Called (without the state lock held) after every change that bumps the revision, with the
 * terminal id the change concerns alone, or NULL when it may concern every terminal (an order
 * without a terminal, an order moved between terminals, settings, zones). */
void cc_state_on_change(cc_state *st, void (*fn)(void *arg, const char *terminal_id), void *arg);

/* Protocol routes. `terminal_id` is the X-Terminal-Id header (NULL when absent). */
void cc_register(cc_state *st, const char *terminal_id, const cJSON *body, cc_reply *out);
/* 0 when the session is valid; otherwise fills `out` with the 401/403/400 answer. */
/* `minor` receives the protocol minor version the session registered with (0 or 1). */
int cc_authorize(cc_state *st, const char *terminal_id, const char *authorization, int *minor,
                 cc_reply *out);
/* The highest protocol minor version this server speaks (cc_options.protocol_minor). */
int cc_state_protocol_minor(const cc_state *st);
/* Orders newer than `since` for the terminal, as a session of protocol minor `minor` sees them.
 * `limit` 0: everything; otherwise at most `limit` orders and removals, in revision order, with
 * "more":true when the answer stopped before the end. Returns false (and no body) when there is
 * nothing to answer. */
bool cc_orders_since(cc_state *st, const char *terminal_id, int64_t since, int64_t limit, int minor,
                     cc_reply *out);
/* The empty answer a long poll gives when its wait ran out. */
void cc_orders_empty(cc_state *st, cc_reply *out);
void cc_commands(cc_state *st, const char *terminal_id, const cJSON *body, cc_reply *out);
void cc_heartbeat(cc_state *st, const char *terminal_id, const cJSON *body, cc_reply *out);

/* Admin routes (loopback only). */
void cc_admin_terminal(cc_state *st, const char *terminal_id, bool add, cc_reply *out);
void cc_admin_create_order(cc_state *st, const cJSON *body, cc_reply *out);
void cc_admin_generate(cc_state *st, const cJSON *body, cc_reply *out);
void cc_admin_change_order(cc_state *st, const char *order_id, const cJSON *body, cc_reply *out);
void cc_admin_get_order(cc_state *st, const char *order_id, cc_reply *out);
void cc_admin_settings(cc_state *st, const cJSON *replace, cc_reply *out);
/* Travel time per delivery zone: {"zones":[{"region":"name or id","travelMinutes":30}]}. */
void cc_admin_zones(cc_state *st, const cJSON *body, cc_reply *out);
void cc_admin_log(cc_state *st, cc_reply *out);
void cc_admin_terminals(cc_state *st, cc_reply *out);
void cc_admin_expire_sessions(cc_state *st, cc_reply *out);
void cc_admin_seed(cc_state *st, int count, const char *terminal_id);

/* Fills `out` with the protocol's error body. */
void cc_error(cc_reply *out, int status, const char *code, const char *fmt, ...);

/* Demo data (generate.c). `seq` varies the picks; `now` anchors the times. */
cJSON *cc_generate_order(unsigned seq, time_t now, const cJSON *settings);
cJSON *cc_default_settings(void);
/* Protocol 1.1 notifications: every event by SMS, none by push. */
cJSON *cc_default_notifications(void);
/* Fills missing ORDER fields of `order` with generated ones. */
void cc_complete_order(cJSON *order, unsigned seq, time_t now, const cJSON *settings);

/* fullSum of items: their sums plus every modifier's price × amount (kopecks). */
int64_t cc_items_total(const cJSON *items);

/* Server-side transition rule: NULL when `from` → `to` is allowed, else the reason. */
const char *cc_transition_refusal(const char *from, const char *to);
bool cc_status_known(const char *status);
bool cc_status_final(const char *status);

/* RFC 3339 UTC time. */
void cc_format_time(time_t t, char out[32]);
/* Parses an RFC 3339 time (Z or an offset; fractions ignored). Returns false when malformed. */
bool cc_parse_time(const char *text, time_t *out);
/* A random UUID v4. */
void cc_new_uuid(char out[37]);
/* True for a canonical 8-4-4-4-12 hexadecimal UUID. */
bool cc_is_uuid(const char *s);
/* A stable UUID standing for any string (a 1.0 peer needs UUID ids where 1.1 allows any). */
void cc_uuid_for(const char *s, char out[37]);
/* Money in kopecks as a JSON number with at most two decimals. */
cJSON *cc_money(int64_t kopecks);

#endif
