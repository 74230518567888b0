/* The HTTP client of lib/net: libcurl multi on a libuv loop (curl's docs/examples/multi-uv.c),
 * one uv_poll_t per socket curl reports and one uv_timer_t for curl's timeouts. A call owns its
 * easy handle, headers, request body and response buffer until its callback has run; the client
 * counts its open libuv handles and frees itself in the last close callback (hiredis-style). */
#include "net/http.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/dynbuf.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_MAX_RESPONSE (16u * 1024u * 1024u)

typedef struct sock_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    dlv__http *owner;
    struct sock_ctx *prev, *next;
} sock_ctx;

struct dlv__http_call {
    dlv__http *owner;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    dlv__dynbuf response; /* capped at max_response bytes of content */
    dlv__http_cb cb;
    void *arg;
    struct dlv__http_call *prev, *next;
};

struct dlv__http {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    sock_ctx *sockets;
    dlv__http_call *calls;
    size_t active;
    int open_handles; /* libuv handles not yet closed */
    bool closing;
    char *ca_file;
    long connect_timeout_ms;
    size_t max_response;
    void (*closed)(void *arg);
    void *closed_arg;
};

static void check_multi_info(dlv__http *http);

static void maybe_finish_close(dlv__http *http)
{
    DLV__ASSERT(http->open_handles >= 0);
    if (!http->closing || http->open_handles > 0)
        return;
    void (*closed)(void *) = http->closed;
    void *arg = http->closed_arg;
    dlv__free(http->ca_file);
    dlv__free(http);
    if (closed)
        closed(arg);
}

static void on_handle_closed(uv_handle_t *handle)
{
    dlv__http *http = handle->data;
    if (handle->type == UV_POLL)
        dlv__free(handle); /* sock_ctx starts with its uv_poll_t */
    DLV__ASSERT(http->open_handles > 0);
    http->open_handles--;
    maybe_finish_close(http);
}

static void sock_unlink(dlv__http *http, sock_ctx *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        http->sockets = s->next;
    if (s->next)
        s->next->prev = s->prev;
}

static void sock_close(sock_ctx *s)
{
    dlv__http *http = s->owner;
    sock_unlink(http, s);
    uv_poll_stop(&s->poll);
    s->poll.data = http;
    uv_close((uv_handle_t *)&s->poll, on_handle_closed);
}

static void on_poll(uv_poll_t *poll, int status, int events)
{
    sock_ctx *s = (sock_ctx *)poll;
    dlv__http *http = s->owner;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR; /* let curl find out what happened to the socket */
    else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    int running;
    curl_multi_socket_action(http->multi, s->fd, flags, &running);
    check_multi_info(http);
}

static int on_socket(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp)
{
    (void)easy;
    dlv__http *http = userp;
    sock_ctx *s = socketp;
    if (action == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(http->multi, fd, NULL);
            sock_close(s);
        }
        return 0;
    }
    if (!s) {
        s = dlv__calloc(1, sizeof *s);
        if (!s)
            return -1;
        if (uv_poll_init_socket(http->loop, &s->poll, fd) != 0) {
            dlv__free(s);
            return -1;
        }
        http->open_handles++;
        s->fd = fd;
        s->owner = http;
        s->next = http->sockets;
        if (s->next)
            s->next->prev = s;
        http->sockets = s;
        curl_multi_assign(http->multi, fd, s);
    }
    DLV__ASSERT(s->fd == fd && s->owner == http);
    int events = 0;
    if (action == CURL_POLL_IN || action == CURL_POLL_INOUT)
        events |= UV_READABLE;
    if (action == CURL_POLL_OUT || action == CURL_POLL_INOUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

static void on_timer(uv_timer_t *timer)
{
    dlv__http *http = timer->data;
    int running;
    curl_multi_socket_action(http->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_multi_info(http);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    dlv__http *http = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&http->timer);
    else /* never call back into curl from here: the loop runs the 0 ms timer next turn */
        uv_timer_start(&http->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

static size_t on_write(char *data, size_t size, size_t n, void *userp)
{
    dlv__http_call *call = userp;
    size_t len = size * n;
    /* Past the cap (or out of memory) the transfer is aborted: an endless body never exhausts
     * memory. The buffer keeps the reason for finish(). */
    if (dlv__dynbuf_add(&call->response, data, len) != DLV_OK)
        return 0;
    return len;
}

static void call_unlink(dlv__http *http, dlv__http_call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        http->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    DLV__ASSERT(http->active > 0);
    http->active--;
}

static int map_curl_error(CURLcode code, bool too_large)
{
    if (too_large)
        return DLV_ETOOLARGE;
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
        return DLV_ETIMEDOUT;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
        return DLV_ETLS;
    case CURLE_OUT_OF_MEMORY:
        return DLV_ENOMEM;
    case CURLE_UNSUPPORTED_PROTOCOL:
        return DLV_EPROTOCOL;
    default:
        return DLV_ENET;
    }
}

/* Completes a call: unlinks it, removes the easy handle, runs the callback once, frees. */
static void finish(dlv__http_call *call, CURLcode code, int forced_err, const char *forced_text)
{
    dlv__http *http = call->owner;
    DLV__ASSERT(call->cb && call->easy);
    bool too_large = dlv__dynbuf_error(&call->response) == DLV_ETOOLARGE;
    dlv__http_response resp = {.retry_after_s = -1};
    if (forced_err) {
        resp.err = forced_err;
        snprintf(resp.error_text, sizeof resp.error_text, "%s", forced_text);
    } else if (code != CURLE_OK) {
        resp.err = map_curl_error(code, too_large);
        if (too_large)
            snprintf(resp.error_text, sizeof resp.error_text,
                     "answer larger than %zu bytes: refused", http->max_response);
        else
            snprintf(resp.error_text, sizeof resp.error_text, "%s", curl_easy_strerror(code));
    } else {
        curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &resp.status);
        curl_off_t retry = -1;
        if (curl_easy_getinfo(call->easy, CURLINFO_RETRY_AFTER, &retry) == CURLE_OK && retry > 0)
            resp.retry_after_s = (long)retry;
    }
    curl_off_t total_us = 0;
    curl_easy_getinfo(call->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    resp.total_ms = (double)total_us / 1000.0;
    resp.body = dlv__dynbuf_ptr(&call->response);
    resp.body_len = dlv__dynbuf_len(&call->response);
    call_unlink(http, call);
    curl_multi_remove_handle(http->multi, call->easy);
    call->cb(call->arg, &resp);
    curl_easy_cleanup(call->easy);
    curl_slist_free_all(call->headers);
    dlv__free(call->body);
    dlv__dynbuf_free(&call->response);
    dlv__free(call);
}

static void check_multi_info(dlv__http *http)
{
    CURLMsg *msg;
    int pending;
    while ((msg = curl_multi_info_read(http->multi, &pending))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        dlv__http_call *call = NULL;
        CURLcode code = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
        if (call)
            finish(call, code, 0, NULL);
    }
}

int dlv__http_create(uv_loop_t *loop, const dlv__http_options *opts, dlv__http **out,
                     dlv_error *err)
{
    DLV__ASSERT(loop && out);
    *out = NULL;
    dlv__http *http = dlv__calloc(1, sizeof *http);
    if (!http)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    int rc;
    http->loop = loop;
    http->connect_timeout_ms =
        opts && opts->connect_timeout_ms ? opts->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    http->max_response =
        opts && opts->max_response_bytes ? opts->max_response_bytes : DEFAULT_MAX_RESPONSE;
    if (http->max_response > SIZE_MAX - 1)
        http->max_response = SIZE_MAX - 1; /* the buffer's cap counts the NUL too */
    if (opts && opts->ca_file && !(http->ca_file = dlv__strdup(opts->ca_file))) {
        rc = dlv__error_set(err, DLV_ENOMEM, "out of memory");
        goto fail;
    }
    http->multi = curl_multi_init();
    if (!http->multi) {
        rc = dlv__error_set(err, DLV_ENOMEM, "cannot create a curl multi handle");
        goto fail;
    }
    curl_multi_setopt(http->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(http->multi, CURLMOPT_SOCKETDATA, http);
    curl_multi_setopt(http->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(http->multi, CURLMOPT_TIMERDATA, http);
    curl_multi_setopt(http->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    uv_timer_init(loop, &http->timer);
    http->timer.data = http;
    http->open_handles = 1;
    *out = http;
    return DLV_OK;

fail: /* nothing is registered with the loop yet */
    dlv__free(http->ca_file);
    dlv__free(http);
    return rc;
}

bool dlv__http_header_value_ok(const char *value)
{
    return value && !strpbrk(value, "\r\n");
}

int dlv__http_start(dlv__http *http, const dlv__http_request *req, dlv__http_cb cb, void *arg,
                    dlv__http_call **call_out, dlv_error *err)
{
    DLV__ASSERT(http && req && req->url && req->method && cb);
    if (call_out)
        *call_out = NULL;
    if (http->closing)
        return dlv__error_set(err, DLV_ESTOPPED, "HTTP client is closing");
    if (strncmp(req->url, "http://", 7) != 0 && strncmp(req->url, "https://", 8) != 0)
        return dlv__error_set(err, DLV_EINVAL, "only http and https addresses are used");
    dlv__http_call *call = dlv__calloc(1, sizeof *call);
    if (!call)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    int rc;
    call->owner = http;
    call->cb = cb;
    call->arg = arg;
    dlv__dynbuf_init(&call->response, http->max_response + 1);
    for (size_t i = 0; req->headers && req->headers[i]; i++) {
        const char *colon = strchr(req->headers[i], ':');
        if (!colon || !dlv__http_header_value_ok(req->headers[i])) {
            rc = dlv__error_set(err, DLV_EINVAL,
                                "refusing a header with a line break or without a name");
            goto fail;
        }
        struct curl_slist *grown = curl_slist_append(call->headers, req->headers[i]);
        if (!grown)
            goto fail_nomem;
        call->headers = grown;
    }
    /* curl would otherwise add "Expect: 100-continue" to larger bodies and wait for it. */
    struct curl_slist *grown = curl_slist_append(call->headers, "Expect:");
    if (!grown)
        goto fail_nomem;
    call->headers = grown;
    if (req->body) {
        call->body = dlv__malloc(req->body_len + 1);
        if (!call->body)
            goto fail_nomem;
        memcpy(call->body, req->body, req->body_len);
        call->body[req->body_len] = '\0';
    }
    call->easy = curl_easy_init();
    if (!call->easy)
        goto fail_nomem;
    CURL *e = call->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, call);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, call->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, call);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect is reported, never followed */
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (http->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, http->ca_file);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, http->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    if (req->fresh_connection)
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    if (!req->long_poll) {
        /* A server that trickles bytes is as good as dead. */
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
                         req->timeout_ms / 1000 > 5 ? req->timeout_ms / 1000 : 5L);
    }
    if (strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, call->body ? call->body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    } else if (strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    }
    call->next = http->calls;
    if (call->next)
        call->next->prev = call;
    http->calls = call;
    http->active++;
    CURLMcode mc = curl_multi_add_handle(http->multi, e);
    if (mc != CURLM_OK) {
        call_unlink(http, call);
        rc = dlv__error_set(err, DLV_ENET, "cannot start the request: %s", curl_multi_strerror(mc));
        goto fail;
    }
    if (call_out)
        *call_out = call;
    return DLV_OK;

fail_nomem:
    rc = dlv__error_set(err, DLV_ENOMEM, "out of memory");
fail: /* safe on a half-built call: every member is NULL or owned; the callback never runs */
    curl_easy_cleanup(call->easy);
    curl_slist_free_all(call->headers);
    dlv__free(call->body);
    dlv__dynbuf_free(&call->response);
    dlv__free(call);
    return rc;
}

void dlv__http_cancel(dlv__http_call *call)
{
    if (call)
        finish(call, CURLE_OK, DLV_ESTOPPED, "cancelled");
}

size_t dlv__http_active(const dlv__http *http)
{
    return http->active;
}

void dlv__http_close(dlv__http *http, void (*closed)(void *arg), void *arg)
{
    DLV__ASSERT(http && !http->closing);
    http->closing = true;
    http->closed = closed;
    http->closed_arg = arg;
    while (http->calls)
        finish(http->calls, CURLE_OK, DLV_ESTOPPED, "the client is closing");
    curl_multi_cleanup(http->multi);
    http->multi = NULL;
    /* Cached connections' sockets that curl did not report removed are closed here. */
    while (http->sockets)
        sock_close(http->sockets);
    uv_timer_stop(&http->timer);
    uv_close((uv_handle_t *)&http->timer, on_handle_closed);
}
