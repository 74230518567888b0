/* Call-center protocol v1 on top of the HTTP client: URLs, headers, bodies, and the
 * classification of every answer into one error code and a retry decision. */
#ifndef DLV__NET_PROTOCOL_H
#define DLV__NET_PROTOCOL_H

#include <cjson/cJSON.h>

#include "net/backend.h"
#include "net/http.h"

#define DLV__PROTOCOL_VERSION 1
/* The minor version this terminal speaks (docs/protocol.md, "Version 1.1"): sent in register; the
 * server's answer says which one it speaks (0 when it sends none: a 1.0 server). */
#define DLV__PROTOCOL_MINOR 1
/* Orders per page asked of a 1.1 server (`limit`, 1..5000): one page is what the terminal holds
 * decoded at a time while it catches up, whatever the size of the snapshot. */
#define DLV__ORDERS_PAGE_LIMIT 1000
#define DLV__MAX_COMMANDS_PER_REQUEST 500

typedef struct dlv__proto_answer {
    int err;            /* DLV_OK: 2xx with a JSON object in `json` */
    long status;        /* HTTP status, 0 when none arrived */
    bool retryable;     /* transport failure, 5xx, 429: try again later with backoff */
    long retry_after_s; /* -1: none; else capped at DLV__RETRY_AFTER_CAP_S */
    char code[32];      /* the protocol's error code ("StatusConflict"), or "" */
    char message[400];  /* one line for logs and the host */
    cJSON *json;        /* owned; free with dlv__proto_answer_free */
} dlv__proto_answer;

/* Classifies an HTTP result. 401 → DLV_EUNAUTHORIZED, 403 → DLV_ENOTREGISTERED, 404 →
 * DLV_ENOTFOUND, 409 → DLV_ECONFLICT, 422 → DLV_EINVALIDTRANSITION, 429 → DLV_EBUSY (retry),
 * other 4xx → DLV_EINVAL, 5xx → DLV_ESERVER (retry), 3xx or a 2xx that is not a JSON object →
 * DLV_EPROTOCOL; transport errors keep their code and are retryable (TLS failures are not). */
void dlv__proto_classify(const dlv__http_response *resp, dlv__proto_answer *out);
/* The same for a caller that decodes a 2xx body itself (the native backend, whose decoders in
 * lib/order parse it): such a body is only checked to open as a JSON object, `json` stays NULL,
 * and a malformed one is the decoder's to refuse. One parse of a large answer instead of two. */
void dlv__proto_classify_status(const dlv__http_response *resp, dlv__proto_answer *out);
void dlv__proto_answer_free(dlv__proto_answer *a);

/* "<serverUrl><path>", NULL on allocation failure. */
char *dlv__proto_url(const char *server_url, const char *path);

/* Fills h->list, NULL-terminated, with X-Terminal-Id, Authorization when a token is given, and
 * Content-Type for bodies; the strings live in `h` itself. Returns DLV_EINVAL when a value would
 * carry a line break (or the token does not fit). */
typedef struct dlv__proto_headers {
    char terminal[96];
    char auth[320];
    const char *list[4];
} dlv__proto_headers;
int dlv__proto_headers_init(dlv__proto_headers *h, const char *terminal_id, const char *token,
                            bool json_body);

/* One call of the protocol: the only place that knows its paths and request bodies
 * (docs/protocol.md). Used by the native backend and by the doctor. */
typedef struct dlv__proto_request {
    const char *method; /* GET or POST */
    char path[128];     /* appended to serverUrl */
    char *body;         /* owned; NULL: none */
    bool long_poll;     /* the server may hold the answer */
} dlv__proto_request;

/* POST /delivery/v1/register: who the terminal is. */
int dlv__proto_register_request(dlv__proto_request *r, const char *terminal_id, const char *name);
/* GET /delivery/v1/orders: what changed since a revision, held up to `wait_seconds`. */
int dlv__proto_orders_request(dlv__proto_request *r, int64_t since_revision, int wait_seconds);
/* The same with `&limit=N` (protocol 1.1 paging) when limit > 0; limit <= 0 is the 1.0 request. */
int dlv__proto_orders_page_request(dlv__proto_request *r, int64_t since_revision, int wait_seconds,
                                   int limit);
/* POST /delivery/v1/commands: these command objects (JSON text each), in order. */
int dlv__proto_commands_request(dlv__proto_request *r, const char *const *commands, size_t count);
/* POST /delivery/v1/heartbeat. */
int dlv__proto_heartbeat_request(dlv__proto_request *r, long pending_commands,
                                 int64_t last_revision);
void dlv__proto_request_free(dlv__proto_request *r);

#endif
