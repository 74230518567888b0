/* The native backend ("native"): the call-center protocol v1 of docs/protocol.md over the
 * libcurl-on-libuv client (http.c). It holds the session token and puts it in every header;
 * answers are classified (protocol.c) and decoded (lib/order/responses.c) before they reach the
 * caller. */
#include "net/backend.h"

#include <stdio.h>
#include <string.h>

#include "net/protocol.h"

/* The token goes back in every header: longer than this is a broken answer. */
#define SESSION_TOKEN_MAX 256

typedef struct native {
    dlv__backend base; /* first: the core allocates priv_size and frees it */
    dlv__http *http;
    char *server_url;
    char *terminal_id;
    char *terminal_name;
    char *token;        /* the session; NULL before registration */
    int protocol_minor; /* of the server, from its register answer (0: a 1.0 server) */
    long timeout_ms;
    int long_poll_seconds;
    void (*done)(dlv__backend *b);
} native;

enum op { OP_REGISTER, OP_POLL, OP_SEND, OP_HEARTBEAT };

typedef struct native_call {
    native *n;
    enum op op;
    dlv__backend_cb cb;
    void *arg;
} native_call;

static void copy_answer(dlv__backend_result *res, const dlv__proto_answer *a, double total_ms)
{
    res->err = a->err;
    res->retryable = a->retryable;
    res->retry_after_s = a->retry_after_s;
    snprintf(res->code, sizeof res->code, "%s", a->code);
    snprintf(res->message, sizeof res->message, "%s", a->message);
    res->total_ms = total_ms;
}

static void refuse(dlv__backend_result *res, const char *what, const char *why)
{
    res->err = DLV_EPROTOCOL;
    res->retryable = true;
    snprintf(res->message, sizeof res->message, "%s: %.300s", what, why);
}

/* A register answer: keep its token as the session, hand the rest to the caller. */
static void decode_register(native *n, const dlv__http_response *resp, dlv__backend_result *res)
{
    dlv_error err = {0};
    if (dlv__register_response_decode(resp->body, resp->body_len, &res->reg, &err) != DLV_OK) {
        refuse(res, "register answer", err.message);
        return;
    }
    const char *token = res->reg->session_token;
    if (!token || !dlv__http_header_value_ok(token) || strlen(token) > SESSION_TOKEN_MAX) {
        DLV__LOGE(n->base.log, "registration answer refused: the session token has a line break "
                               "or is longer than 256 characters");
        dlv__backend_result_clear(res);
        refuse(res, "register answer",
               "the call-center sent a session token that cannot be sent back");
        return;
    }
    char *copy = dlv__strdup(token);
    if (!copy) {
        dlv__backend_result_clear(res);
        res->err = DLV_ENOMEM;
        res->retryable = true;
        snprintf(res->message, sizeof res->message, "out of memory");
        return;
    }
    dlv__free(n->token);
    n->token = copy;
    n->protocol_minor = res->reg->protocol_minor;
}

static void on_http_done(void *arg, const dlv__http_response *resp)
{
    native_call *call = arg;
    native *n = call->n;
    dlv__proto_answer a;
    dlv__proto_classify_status(resp, &a); /* the decoders below parse the body */
    dlv__backend_result res = {0};
    copy_answer(&res, &a, resp->total_ms);
    dlv__proto_answer_free(&a);
    dlv_error err = {0};
    if (res.err == DLV_OK) {
        switch (call->op) {
        case OP_REGISTER:
            decode_register(n, resp, &res);
            break;
        case OP_POLL:
            if (dlv__orders_response_decode_lenient(resp->body, resp->body_len, &res.orders,
                                                    &err) != DLV_OK)
                refuse(&res, "orders answer refused", err.message);
            break;
        case OP_SEND:
            if (dlv__commands_response_decode(resp->body, resp->body_len, &res.commands, &err) !=
                DLV_OK)
                refuse(&res, "commands answer refused", err.message);
            break;
        case OP_HEARTBEAT:
            break;
        }
    }
    dlv__backend_cb cb = call->cb;
    void *cb_arg = call->arg;
    dlv__free(call);
    cb(cb_arg, &res);
    dlv__backend_result_clear(&res);
}

static int start(native *n, enum op op, const dlv__proto_request *req, bool with_session,
                 long timeout_ms, dlv__backend_cb cb, void *arg)
{
    DLV__ASSERT(n->http && cb); /* operations run only on an opened, not yet closed backend */
    dlv__proto_headers h;
    if (dlv__proto_headers_init(&h, n->terminal_id, with_session ? n->token : NULL,
                                req->body != NULL) != DLV_OK) {
        DLV__LOGE(n->base.log, "refusing to send a header with a line break");
        return DLV_EINVAL;
    }
    char *u = dlv__proto_url(n->server_url, req->path);
    native_call *call = dlv__calloc(1, sizeof *call);
    if (!u || !call) {
        dlv__free(u);
        dlv__free(call);
        return DLV_ENOMEM;
    }
    *call = (native_call){n, op, cb, arg};
    dlv__http_request hr = {.method = req->method,
                            .url = u,
                            .headers = h.list,
                            .body = req->body,
                            .body_len = req->body ? strlen(req->body) : 0,
                            .timeout_ms = timeout_ms,
                            .long_poll = req->long_poll};
    dlv_error err = {0};
    int rc = dlv__http_start(n->http, &hr, on_http_done, call, NULL, &err);
    if (rc != DLV_OK) {
        DLV__LOGE(n->base.log, "%s %s: %s", req->method, req->path, err.message);
        dlv__free(call);
    }
    dlv__free(u);
    return rc;
}

static int native_open(dlv__backend *b, const dlv__backend_options *o, dlv_error *err)
{
    native *n = (native *)b;
    n->timeout_ms = o->service_timeout_ms;
    n->long_poll_seconds = o->long_poll_seconds;
    n->server_url = dlv__strdup(o->server_url ? o->server_url : "");
    n->terminal_id = dlv__strdup(o->terminal_id ? o->terminal_id : "");
    n->terminal_name = o->terminal_name ? dlv__strdup(o->terminal_name) : NULL;
    if (!n->server_url || !n->terminal_id || (o->terminal_name && !n->terminal_name))
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    dlv__http_options opts = {.ca_file = o->ca_file, .connect_timeout_ms = o->service_timeout_ms};
    return dlv__http_create(o->loop, &opts, &n->http, err);
}

static void native_free(native *n)
{
    dlv__free(n->server_url);
    dlv__free(n->terminal_id);
    dlv__free(n->terminal_name);
    dlv__free(n->token);
}

static void on_http_closed(void *arg)
{
    native *n = arg;
    void (*done)(dlv__backend *) = n->done;
    native_free(n);
    done(&n->base);
}

static void native_close(dlv__backend *b, void (*done)(dlv__backend *b))
{
    native *n = (native *)b;
    DLV__ASSERT(!n->done); /* the core closes a backend once */
    if (!n->http) {
        native_free(n);
        done(b);
        return;
    }
    n->done = done;
    dlv__http *http = n->http;
    n->http = NULL;
    dlv__http_close(http, on_http_closed, n); /* pending calls end with DLV_ESTOPPED */
}

static int native_register(dlv__backend *b, dlv__backend_cb cb, void *arg)
{
    native *n = (native *)b;
    dlv__free(n->token); /* a new registration ends the old session */
    n->token = NULL;
    dlv__proto_request req;
    int rc = dlv__proto_register_request(&req, n->terminal_id, n->terminal_name);
    if (rc == DLV_OK)
        rc = start(n, OP_REGISTER, &req, false, n->timeout_ms, cb, arg);
    dlv__proto_request_free(&req);
    return rc;
}

static int native_poll(dlv__backend *b, int64_t since_revision, dlv__backend_cb cb, void *arg)
{
    native *n = (native *)b;
    dlv__proto_request req;
    /* Paging only when the server said it speaks 1.1: a 1.0 server answers in one page. */
    int rc = dlv__proto_orders_page_request(&req, since_revision, n->long_poll_seconds,
                                            n->protocol_minor >= 1 ? DLV__ORDERS_PAGE_LIMIT : 0);
    long timeout = (long)n->long_poll_seconds * 1000 + n->timeout_ms;
    if (rc == DLV_OK)
        rc = start(n, OP_POLL, &req, true, timeout, cb, arg);
    dlv__proto_request_free(&req);
    return rc;
}

static int native_send(dlv__backend *b, const char *const *commands, size_t count,
                       dlv__backend_cb cb, void *arg)
{
    native *n = (native *)b;
    dlv__proto_request req;
    int rc = dlv__proto_commands_request(&req, commands, count);
    if (rc == DLV_OK)
        rc = start(n, OP_SEND, &req, true, n->timeout_ms, cb, arg);
    dlv__proto_request_free(&req);
    return rc;
}

static int native_heartbeat(dlv__backend *b, long pending_commands, int64_t last_revision,
                            dlv__backend_cb cb, void *arg)
{
    native *n = (native *)b;
    dlv__proto_request req;
    int rc = dlv__proto_heartbeat_request(&req, pending_commands, last_revision);
    if (rc == DLV_OK)
        rc = start(n, OP_HEARTBEAT, &req, true, n->timeout_ms, cb, arg);
    dlv__proto_request_free(&req);
    return rc;
}

const dlv__backend_methods dlv__backend_native = {
    DLV__BACKEND_METHODS_VERSION,
    "native",                      /* name */
    sizeof(native),                /* priv_size */
    DLV__MAX_COMMANDS_PER_REQUEST, /* max_commands */
    native_open,                   /* open */
    native_close,                  /* close */
    native_register,               /* register_terminal */
    native_poll,                   /* poll_orders */
    native_send,                   /* send_commands */
    native_heartbeat,              /* heartbeat */
    NULL,                          /* ctl */
};
