/* delivery-iikocloud: a sandbox for the subset of iikoCloud (iikoTransport, /api/1/...) that a
 * delivery terminal uses. The request and answer bodies follow iiko's own OpenAPI document for
 * iikoCloud; docs/iikocloud-sandbox.md lists the operations and fields served. */
#ifndef IIKOCLOUD_H
#define IIKOCLOUD_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct ik_state ik_state;

/* What a call answers: an HTTP status and a JSON body (owned by the reply). */
typedef struct ik_reply {
    int status;
    cJSON *body;
    int retry_after; /* seconds; 0: no Retry-After header */
} ik_reply;

typedef struct ik_options {
    const char *db_path;
    const char *api_login;         /* the apiLogin access_token accepts */
    const char *organization_id;   /* NULL: keep the stored one (or the default) */
    const char *terminal_group_id; /* NULL: keep the stored one (or the default) */
    int token_ttl_seconds;         /* iikoCloud: one hour */
    int apply_delay_ms;            /* how long a command stays InProgress before it applies */
    int64_t start_revision;        /* first revision of a new database */
} ik_options;

/* One call of the API: the operation's path under /api/1/, its body and, for commands, how many
 * commands/status polls answer InProgress before it applies (a "slow" fault). */
typedef struct ik_call {
    const char *path;
    const cJSON *body;
    int slow_polls;
} ik_call;

typedef void (*ik_handler)(ik_state *st, const ik_call *call, ik_reply *out);

/* Opens (or creates) the sandbox database. Returns NULL with `err` filled on failure. */
ik_state *ik_state_open(const ik_options *opts, char *err, size_t errlen);
void ik_state_close(ik_state *st);
const char *ik_state_organization(const ik_state *st);
const char *ik_state_terminal_group(const ik_state *st);

/* 0 when `authorization` ("Bearer <token>") names a live token; otherwise fills `out` (401). */
int ik_authorize(ik_state *st, const char *authorization, ik_reply *out);

/* API operations (their OpenAPI path in the comment). */
void ik_access_token(ik_state *st, const ik_call *call, ik_reply *out);    /* access_token */
void ik_organizations(ik_state *st, const ik_call *call, ik_reply *out);   /* organizations */
void ik_terminal_groups(ik_state *st, const ik_call *call, ik_reply *out); /* terminal_groups */
void ik_is_alive(ik_state *st, const ik_call *call, ik_reply *out);        /* .../is_alive */
void ik_cancel_causes(ik_state *st, const ik_call *call, ik_reply *out);   /* cancel_causes */
void ik_couriers(ik_state *st, const ik_call *call, ik_reply *out);        /* employees/couriers */
void ik_payment_types(ik_state *st, const ik_call *call, ik_reply *out);   /* payment_types */
void ik_cities(ik_state *st, const ik_call *call, ik_reply *out);          /* cities */
void ik_regions(ik_state *st, const ik_call *call, ik_reply *out);         /* regions */
void ik_by_revision(ik_state *st, const ik_call *call, ik_reply *out); /* deliveries/by_revision */
void ik_by_id(ik_state *st, const ik_call *call, ik_reply *out);       /* deliveries/by_id */
void ik_command_status(ik_state *st, const ik_call *call, ik_reply *out); /* commands/status */
/* Every command (deliveries/confirm, .../cancel, ...): `call->path` selects it. */
void ik_command(ik_state *st, const ik_call *call, ik_reply *out);
/* True when `path` (under /api/1/) is one of the commands ik_command serves. */
bool ik_is_command(const char *path);

/* Admin operations (loopback only). */
void ik_admin_info(ik_state *st, ik_reply *out);
void ik_admin_create_order(ik_state *st, const cJSON *body, ik_reply *out);
void ik_admin_generate(ik_state *st, const cJSON *body, ik_reply *out);
void ik_admin_change_order(ik_state *st, const char *order_id, const cJSON *body, ik_reply *out);
void ik_admin_get_order(ik_state *st, const char *order_id, ik_reply *out);
void ik_admin_terminal_group(ik_state *st, const cJSON *body, ik_reply *out);
void ik_admin_log(ik_state *st, ik_reply *out);
void ik_admin_expire_tokens(ik_state *st, ik_reply *out);

/* iikoCloud's error body {correlationId, errorDescription, error}. */
void ik_error(ik_reply *out, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Demo data (data.c): the seeded dictionaries and generated orders. */
typedef struct ik_named {
    const char *id, *name, *extra; /* extra: payment kind, courier phone, ... */
} ik_named;
extern const ik_named ik_cancel_cause_table[];
extern const ik_named ik_courier_table[];
extern const ik_named ik_payment_type_table[];
extern const ik_named ik_region_table[];
extern const ik_named ik_city;
const ik_named *ik_find(const ik_named *table, const char *id);
/* A generated order object (iikoCloud's `order`), `seq` varying the picks. */
cJSON *ik_generate_order(unsigned seq, const char *terminal_group_id, int64_t now_ms);
/* A product item as iikoCloud shows it (ProductOrderItem). */
cJSON *ik_product_item(const char *product_id, const char *name, double price, double amount);
/* Sum of the items' resultSum (with modifiers). */
double ik_items_sum(const cJSON *items);

/* "yyyy-MM-dd HH:mm:ss.fff", local time (utc false) or UTC; `ms` since the epoch. */
void ik_format_time(int64_t ms, bool utc, char out[32]);
int64_t ik_now_ms(void);
void ik_new_uuid(char out[37]);
bool ik_is_uuid(const char *s);

#endif
