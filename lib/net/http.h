/* Asynchronous HTTP on a libuv loop: libcurl multi driven by uv_poll_t per socket and one
 * uv_timer_t (curl's docs/examples/multi-uv.c). Everything here runs on the loop thread. */
#ifndef DLV__NET_HTTP_H
#define DLV__NET_HTTP_H

#include <uv.h>

#include "common/internal.h"

typedef struct dlv__http dlv__http;
typedef struct dlv__http_call dlv__http_call;

typedef struct dlv__http_options {
    const char *ca_file;       /* extra trust for a private call-center; NULL: system store */
    long connect_timeout_ms;   /* 0: 10 s */
    size_t max_response_bytes; /* 0: 16 MiB */
} dlv__http_options;

typedef struct dlv__http_request {
    const char *method; /* GET or POST */
    const char *url;
    const char *const *headers; /* NULL-terminated "Name: value"; CR/LF in a value is refused */
    const char *body;           /* copied; NULL: none */
    size_t body_len;
    long timeout_ms; /* whole call */
    bool long_poll;  /* no low-speed limit: the server is silent on purpose */
    /* A new connection, never a kept-alive one: curl silently sends a request again when a
     * reused connection dies before the answer, which a server without idempotency keys
     * (iikoCloud) would apply twice. */
    bool fresh_connection;
} dlv__http_request;

typedef struct dlv__http_response {
    int err; /* DLV_OK when an HTTP answer arrived (any status) */
    long status;
    const char *body; /* NUL-terminated, valid during the callback only */
    size_t body_len;
    long retry_after_s; /* -1 when absent */
    double total_ms;
    char error_text[256]; /* what went wrong when err != DLV_OK */
} dlv__http_response;

/* Runs exactly once per started call, on the loop thread (also with DLV_ESTOPPED when the
 * client closes first). */
typedef void (*dlv__http_cb)(void *arg, const dlv__http_response *resp);

int dlv__http_create(uv_loop_t *loop, const dlv__http_options *opts, dlv__http **out,
                     dlv_error *err);

/* Starts a call. On error the callback is never called. `*call_out` (may be NULL) lets the caller
 * cancel; it is valid until the callback runs. */
int dlv__http_start(dlv__http *http, const dlv__http_request *req, dlv__http_cb cb, void *arg,
                    dlv__http_call **call_out, dlv_error *err);

/* Cancels a call: its callback runs with DLV_ESTOPPED before this returns. */
void dlv__http_cancel(dlv__http_call *call);

/* Number of calls in flight. */
size_t dlv__http_active(const dlv__http *http);

/* Cancels every call (callbacks run with DLV_ESTOPPED), cleans up curl and closes the libuv
 * handles; `closed` runs from the loop once the last handle is closed and the object is freed. */
void dlv__http_close(dlv__http *http, void (*closed)(void *arg), void *arg);

/* True when a header value is safe to send (no CR, LF or NUL). */
bool dlv__http_header_value_ok(const char *value);

#endif
