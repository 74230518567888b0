/* Call-center protocol v1 on top of the HTTP client: URLs, headers, bodies, and the
 * classification of every answer into one error code and a retry decision. */
#ifndef DLV__NET_PROTOCOL_H
#define DLV__NET_PROTOCOL_H

#include <cjson/cJSON.h>

#include "net/http.h"

#define DLV__PROTOCOL_VERSION 1
#define DLV__BACKOFF_BASE_MS 250
#define DLV__BACKOFF_CAP_MS 30000
/* Retry-After is honoured up to this; a server asking for more is retried at this interval. */
#define DLV__RETRY_AFTER_CAP_S 120
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
void dlv__proto_answer_free(dlv__proto_answer *a);

/* Delay before retry number `attempt` (0-based): full jitter over min(cap, base·2^attempt);
 * a Retry-After (seconds, ≥ 0) takes precedence, capped. `random` is a uniform 32-bit value. */
uint64_t dlv__backoff_ms(unsigned attempt, long retry_after_s, uint32_t random);

/* "<serverUrl><path>", NULL on allocation failure. */
char *dlv__proto_url(const char *server_url, const char *path);

/* Fills `headers` (at least 4 slots) with X-Terminal-Id, Authorization when a token is given,
 * and Content-Type for bodies; the strings live in `storage`. Returns DLV_EINVAL when a value
 * would carry a line break. */
typedef struct dlv__proto_headers {
    char terminal[96];
    char auth[320];
    const char *list[4];
} dlv__proto_headers;
int dlv__proto_headers_init(dlv__proto_headers *h, const char *terminal_id, const char *token,
                            bool json_body);

#endif
