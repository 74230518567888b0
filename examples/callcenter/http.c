/* HTTP side of the emulator: libmicrohttpd in its internal epoll thread, routes, long polls held
 * with suspend/resume (woken by changes, never by a polling loop), and injected faults. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"

#define BODY_CAP (4u * 1024u * 1024u)

enum wait_kind { WAIT_NONE, WAIT_LONGPOLL, WAIT_DELAY, WAIT_IDLE };

typedef struct request {
    char *body;
    size_t len, cap;
    bool too_large;
    enum wait_kind waiting; /* what the suspended request waits for */
    bool delay_done;        /* a delay fault already served */
    cc_fault fault;         /* the fault this request was picked for (kind "" if none) */
    char terminal[40];
    int64_t since;
    int64_t limit;       /* protocol 1.1 page size; 0: unpaged */
    int minor;           /* the session's protocol minor version */
    int64_t deadline_ms; /* monotonic; 0: none */
    struct MHD_Connection *conn;
    /* Held requests are in two lists (unlinked in O(1) through the pointer to the link that
     * points at them): every suspended request in srv->waiters, for the deadline thread; a held
     * long poll also in the bucket of its terminal id, so a change to one terminal's order wakes
     * that terminal's polls without walking a thousand others. */
    struct request *next_waiter, **pprev_waiter;
    struct request *next_poll, **pprev_poll;
} request;

#define POLL_BUCKETS 1024 /* power of two */
/* Long polls that ran out are answered on ticks of this many ms (up to one late), so a thousand
 * held polls wake the deadline thread a few times a second, not once per poll. */
#define LONGPOLL_TICK_MS 250

struct cc_server {
    struct MHD_Daemon *daemon;
    cc_state *st;
    char base[128];
    size_t base_len;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t timer;
    int64_t timer_due; /* when the deadline thread wakes next (monotonic ms) */
    bool stopping;
    request *waiters;
    request *polls[POLL_BUCKETS]; /* held long polls by terminal id (poll_bucket) */
    cc_fault *faults;
    unsigned short port;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- waiters: suspended requests and the thread that wakes them at their deadline ---- */

/* FNV-1a of the terminal id. */
static size_t poll_bucket(const char *terminal)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *c = (const unsigned char *)terminal; *c; c++)
        h = (h ^ *c) * 16777619u;
    return h & (POLL_BUCKETS - 1);
}

/* Caller holds srv->lock. Takes a request off both lists (a no-op when it is on none). */
static void unlink_waiter(cc_server *srv, request *r)
{
    (void)srv;
    if (r->pprev_waiter) {
        *r->pprev_waiter = r->next_waiter;
        if (r->next_waiter)
            r->next_waiter->pprev_waiter = r->pprev_waiter;
        r->next_waiter = NULL;
        r->pprev_waiter = NULL;
    }
    if (r->pprev_poll) {
        *r->pprev_poll = r->next_poll;
        if (r->next_poll)
            r->next_poll->pprev_poll = r->pprev_poll;
        r->next_poll = NULL;
        r->pprev_poll = NULL;
    }
}

/* Caller holds srv->lock: the handler runs again (answering or holding it anew) once the lock is
 * released, and on_completed cannot free the request before that. */
static void resume_request(cc_server *srv, request *r)
{
    unlink_waiter(srv, r);
    MHD_resume_connection(r->conn);
}

/* Caller holds srv->lock and is inside the request's handler. */
static void suspend_request(cc_server *srv, request *r, enum wait_kind kind, int64_t deadline_ms)
{
    r->waiting = kind;
    r->deadline_ms = deadline_ms;
    r->next_waiter = srv->waiters;
    if (srv->waiters)
        srv->waiters->pprev_waiter = &r->next_waiter;
    srv->waiters = r;
    r->pprev_waiter = &srv->waiters;
    if (kind == WAIT_LONGPOLL) {
        request **head = &srv->polls[poll_bucket(r->terminal)];
        r->next_poll = *head;
        if (*head)
            (*head)->pprev_poll = &r->next_poll;
        *head = r;
        r->pprev_poll = head;
    }
    MHD_suspend_connection(r->conn);
    /* The deadline thread walks every waiter when it wakes: wake it only when this deadline
     * comes before its next round (never for a long poll of seconds). */
    if (deadline_ms && deadline_ms < srv->timer_due)
        pthread_cond_signal(&srv->cond);
}

/* A change that concerns `terminal` alone resumes that terminal's held long polls; NULL (an
 * order without a terminal, a move, settings, zones) resumes every held long poll. */
static void on_state_change(void *arg, const char *terminal)
{
    cc_server *srv = arg;
    pthread_mutex_lock(&srv->lock);
    request *r = terminal ? srv->polls[poll_bucket(terminal)] : srv->waiters;
    while (r) {
        request *next = terminal ? r->next_poll : r->next_waiter;
        if (r->waiting == WAIT_LONGPOLL && (!terminal || strcmp(r->terminal, terminal) == 0))
            resume_request(srv, r);
        r = next;
    }
    pthread_mutex_unlock(&srv->lock);
}

static void *timer_main(void *arg)
{
    cc_server *srv = arg;
    pthread_mutex_lock(&srv->lock);
    while (!srv->stopping) {
        int64_t now = now_ms(), next = now + 1000;
        for (request *r = srv->waiters, *after; r; r = after) {
            after = r->next_waiter;
            int64_t due = r->deadline_ms;
            if (due && r->waiting == WAIT_LONGPOLL)
                due = (due + LONGPOLL_TICK_MS - 1) / LONGPOLL_TICK_MS * LONGPOLL_TICK_MS;
            if (due && due <= now)
                resume_request(srv, r);
            else if (due && due < next)
                next = due;
        }
        srv->timer_due = next;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t wait = next - now;
        ts.tv_sec += wait / 1000;
        ts.tv_nsec += (wait % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&srv->cond, &srv->lock, &ts);
    }
    while (srv->waiters)
        resume_request(srv, srv->waiters);
    pthread_mutex_unlock(&srv->lock);
    return NULL;
}

/* ---- faults ---- */

static bool take_fault(cc_server *srv, const char *route, cc_fault *out)
{
    pthread_mutex_lock(&srv->lock);
    bool found = false;
    for (cc_fault **p = &srv->faults; *p; p = &(*p)->next) {
        cc_fault *f = *p;
        if (strcmp(f->route, route) != 0)
            continue;
        *out = *f;
        found = true;
        if (f->count > 0 && --f->count == 0) {
            *p = f->next;
            free(f);
        }
        break;
    }
    pthread_mutex_unlock(&srv->lock);
    return found;
}

void cc_server_add_fault(cc_server *srv, const cc_fault *fault)
{
    cc_fault *f = malloc(sizeof *f);
    *f = *fault;
    pthread_mutex_lock(&srv->lock);
    cc_fault **tail = &srv->faults;
    while (*tail)
        tail = &(*tail)->next;
    f->next = NULL;
    *tail = f;
    pthread_mutex_unlock(&srv->lock);
}

static void clear_faults(cc_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    while (srv->faults) {
        cc_fault *f = srv->faults;
        srv->faults = f->next;
        free(f);
    }
    pthread_mutex_unlock(&srv->lock);
}

static const char *const fault_routes[] = {"commands", "orders", "register", "heartbeat"};
static const char *const fault_kinds[] = {"drop", "status", "delay", "truncate", "garbage", "idle"};

static void admin_faults(cc_server *srv, const cJSON *body, cc_reply *out)
{
    const cJSON *route = cJSON_GetObjectItemCaseSensitive(body, "route");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(body, "fault");
    cc_fault f = {0};
    bool route_ok = false, kind_ok = false;
    for (size_t i = 0; cJSON_IsString(route) && i < 4; i++)
        route_ok |= strcmp(route->valuestring, fault_routes[i]) == 0;
    for (size_t i = 0; cJSON_IsString(kind) && i < 6; i++)
        kind_ok |= strcmp(kind->valuestring, fault_kinds[i]) == 0;
    if (!route_ok || !kind_ok) {
        cc_error(out, 400, "BadRequest",
                 "route must be commands|orders|register|heartbeat and fault "
                 "drop|status|delay|truncate|garbage|idle");
        return;
    }
    snprintf(f.route, sizeof f.route, "%s", route->valuestring);
    snprintf(f.kind, sizeof f.kind, "%s", kind->valuestring);
    const cJSON *v;
    f.status = cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(body, "status"))
                   ? (int)v->valuedouble
                   : 503;
    f.retry_after = cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(body, "retryAfter"))
                        ? (int)v->valuedouble
                        : 0;
    f.delay_ms = cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(body, "delayMs"))
                     ? (int)v->valuedouble
                     : 1000;
    f.count = cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(body, "count"))
                  ? (int)v->valuedouble
                  : 1;
    f.after_apply = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "afterApply"));
    if (f.status < 100 || f.status > 599 || f.count < 0 || f.delay_ms < 0) {
        cc_error(out, 400, "BadRequest",
                 "status 100..599, count >= 0 (0: until cleared), "
                 "delayMs >= 0");
        return;
    }
    cc_server_add_fault(srv, &f);
    out->status = 200;
    out->body = cJSON_Duplicate(body, 1);
}

/* ---- responses ---- */

static enum MHD_Result send_text(struct MHD_Connection *conn, int status, const char *text,
                                 size_t len, int retry_after)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
    if (retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry_after);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

typedef struct truncated {
    char *text;
    size_t len, sent_limit;
} truncated;

static ssize_t truncated_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    truncated *t = cls;
    if (pos >= t->sent_limit)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = t->sent_limit - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, t->text + pos, n);
    return (ssize_t)n;
}

static void truncated_free(void *cls)
{
    truncated *t = cls;
    free(t->text);
    free(t);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, cc_reply *reply, const cc_fault *f)
{
    char *text = reply->body ? cJSON_PrintUnformatted(reply->body) : strdup("{}");
    cJSON_Delete(reply->body);
    reply->body = NULL;
    size_t len = strlen(text);
    if (f && strcmp(f->kind, "truncate") == 0) {
        truncated *t = malloc(sizeof *t);
        t->text = text;
        t->len = len;
        t->sent_limit = len / 2;
        struct MHD_Response *resp =
            MHD_create_response_from_callback(len, 4096, truncated_reader, t, truncated_free);
        MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
        enum MHD_Result ret = MHD_queue_response(conn, (unsigned)reply->status, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    enum MHD_Result ret = send_text(conn, reply->status, text, len, reply->retry_after);
    free(text);
    return ret;
}

static const char *status_code_name(int status)
{
    switch (status) {
    case 400:
        return "BadRequest";
    case 401:
        return "Unauthorized";
    case 403:
        return "TerminalNotRegistered";
    case 404:
        return "NotFound";
    case 409:
        return "StatusConflict";
    case 422:
        return "InvalidTransition";
    case 429:
        return "TooManyRequests";
    case 503:
        return "ServiceUnavailable";
    default:
        return "InternalError";
    }
}

/* ---- routing ---- */

static bool from_loopback(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return false;
    if (ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ci->client_addr;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ci->client_addr;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return false;
}

static bool parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static const char *route_of(const char *path)
{
    if (strcmp(path, "/delivery/v1/register") == 0)
        return "register";
    if (strcmp(path, "/delivery/v1/orders") == 0)
        return "orders";
    if (strcmp(path, "/delivery/v1/commands") == 0)
        return "commands";
    if (strcmp(path, "/delivery/v1/heartbeat") == 0)
        return "heartbeat";
    return NULL;
}

/* Long poll: answer now if something is newer, else hold the request until a change or the
 * wait runs out. Returns true when a reply was produced. */
static bool orders_or_wait(cc_server *srv, request *r, cc_reply *reply)
{
    if (cc_orders_since(srv->st, r->terminal, r->since, r->limit, r->minor, reply))
        return true;
    if (r->deadline_ms == 0 || now_ms() >= r->deadline_ms || srv->stopping) {
        cc_orders_empty(srv->st, reply);
        return true;
    }
    pthread_mutex_lock(&srv->lock);
    /* A change between the check above and this lock would be missed: check again under it. */
    bool ready = cc_orders_since(srv->st, r->terminal, r->since, r->limit, r->minor, reply);
    if (!ready)
        suspend_request(srv, r, WAIT_LONGPOLL, r->deadline_ms);
    pthread_mutex_unlock(&srv->lock);
    return ready;
}

static enum MHD_Result handle_protocol(cc_server *srv, request *r, const char *route,
                                       const char *method)
{
    struct MHD_Connection *conn = r->conn;
    cc_reply reply = {0};
    bool is_get = strcmp(route, "orders") == 0;
    if (r->waiting == WAIT_LONGPOLL) {
        r->waiting = WAIT_NONE;
        if (!orders_or_wait(srv, r, &reply))
            return MHD_YES;
        return send_reply(conn, &reply, &r->fault);
    }
    if (strcmp(method, is_get ? "GET" : "POST") != 0) {
        cc_error(&reply, 405, "BadRequest", "method %s is not allowed here (use %s)", method,
                 is_get ? "GET" : "POST");
        return send_reply(conn, &reply, NULL);
    }
    const char *terminal = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Terminal-Id");
    snprintf(r->terminal, sizeof r->terminal, "%s", terminal ? terminal : "");
    cJSON *body = NULL;
    if (!is_get) {
        const char *ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
        if (r->too_large) {
            cc_error(&reply, 400, "BadRequest", "request body larger than %u bytes", BODY_CAP);
            return send_reply(conn, &reply, NULL);
        }
        if (!ctype || strncmp(ctype, "application/json", 16) != 0) {
            cc_error(&reply, 400, "BadRequest", "Content-Type: application/json is required");
            return send_reply(conn, &reply, NULL);
        }
        body = r->body ? cJSON_ParseWithLength(r->body, r->len) : NULL;
        if (!cJSON_IsObject(body)) {
            cJSON_Delete(body);
            cc_error(&reply, 400, "BadRequest", "body is not a JSON object");
            return send_reply(conn, &reply, NULL);
        }
    }
    if (strcmp(route, "register") == 0) {
        cc_register(srv->st, terminal, body, &reply);
    } else if (cc_authorize(srv->st, terminal,
                            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
                            &r->minor, &reply) != 0) {
        /* reply holds the 400/401/403 */
    } else if (is_get) {
        int64_t wait = 0;
        const char *since_s =
            MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "sinceRevision");
        const char *wait_s =
            MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "waitSeconds");
        /* A 1.0 server knows no limit: it ignores the parameter, as unknown ones are. */
        const char *limit_s =
            cc_state_protocol_minor(srv->st) >= 1
                ? MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit")
                : NULL;
        if (!parse_int(since_s, 0, INT64_MAX, &r->since) ||
            (wait_s && !parse_int(wait_s, 0, 60, &wait))) {
            cc_error(&reply, 400, "BadRequest",
                     "sinceRevision must be a revision >= 0 and waitSeconds 0..60");
        } else if (limit_s && !parse_int(limit_s, CC_PAGE_MIN, CC_PAGE_MAX, &r->limit)) {
            cc_error(&reply, 400, "BadRequest", "limit must be %d..%d", CC_PAGE_MIN, CC_PAGE_MAX);
        } else {
            r->deadline_ms = wait > 0 ? now_ms() + wait * 1000 : 0;
            if (!orders_or_wait(srv, r, &reply))
                return MHD_YES;
        }
    } else if (strcmp(route, "commands") == 0) {
        cc_commands(srv->st, terminal, body, &reply);
    } else {
        cc_heartbeat(srv->st, terminal, body, &reply);
    }
    cJSON_Delete(body);
    if (strcmp(r->fault.kind, "drop") == 0 && r->fault.after_apply) {
        cJSON_Delete(reply.body);
        return MHD_NO; /* applied, but the answer never reaches the terminal */
    }
    return send_reply(conn, &reply, &r->fault);
}

static enum MHD_Result handle_admin(cc_server *srv, request *r, const char *path,
                                    const char *method)
{
    cc_reply reply = {0};
    if (!from_loopback(r->conn)) {
        cc_error(&reply, 403, "BadRequest", "the admin API answers loopback clients only");
        return send_reply(r->conn, &reply, NULL);
    }
    if (r->too_large) {
        cc_error(&reply, 400, "BadRequest", "request body larger than %u bytes", BODY_CAP);
        return send_reply(r->conn, &reply, NULL);
    }
    cJSON *body = r->len ? cJSON_ParseWithLength(r->body, r->len) : NULL;
    if (r->len && !body) {
        cc_error(&reply, 400, "BadRequest", "body is not valid JSON");
        return send_reply(r->conn, &reply, NULL);
    }
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    bool put = strcmp(method, "PUT") == 0, del = strcmp(method, "DELETE") == 0;
    if (strncmp(path, "terminals/", 10) == 0 && (post || del))
        cc_admin_terminal(srv->st, path + 10, post, &reply);
    else if (strcmp(path, "terminals") == 0 && get)
        cc_admin_terminals(srv->st, &reply);
    else if (strcmp(path, "orders") == 0 && post)
        cc_admin_create_order(srv->st, body, &reply);
    else if (strcmp(path, "orders/generate") == 0 && post)
        cc_admin_generate(srv->st, body, &reply);
    else if (strncmp(path, "orders/", 7) == 0 && (post || put))
        cc_admin_change_order(srv->st, path + 7, body, &reply);
    else if (strncmp(path, "orders/", 7) == 0 && get)
        cc_admin_get_order(srv->st, path + 7, &reply);
    else if (strcmp(path, "zones") == 0 && put)
        cc_admin_zones(srv->st, body, &reply);
    else if (strcmp(path, "settings") == 0 && (get || put))
        cc_admin_settings(srv->st, put ? body : NULL, &reply);
    else if (strcmp(path, "faults") == 0 && post)
        admin_faults(srv, body, &reply);
    else if (strcmp(path, "faults") == 0 && del) {
        clear_faults(srv);
        reply.status = 200;
        reply.body = cJSON_CreateObject();
        cJSON_AddBoolToObject(reply.body, "cleared", 1);
    } else if (strcmp(path, "log") == 0 && get)
        cc_admin_log(srv->st, &reply);
    else if (strcmp(path, "sessions/expire") == 0 && post)
        cc_admin_expire_sessions(srv->st, &reply);
    else
        cc_error(&reply, 404, "NotFound", "no admin route %s %s", method, path);
    cJSON_Delete(body);
    return send_reply(r->conn, &reply, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    cc_server *srv = cls;
    request *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->conn = conn;
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->too_large || r->len + n > BODY_CAP) {
            r->too_large = true;
            return MHD_YES;
        }
        if (r->len + n + 1 > r->cap) {
            size_t cap = r->cap ? r->cap : 4096;
            while (cap < r->len + n + 1)
                cap *= 2;
            char *grown = realloc(r->body, cap);
            if (!grown)
                return MHD_NO;
            r->body = grown;
            r->cap = cap;
        }
        memcpy(r->body + r->len, upload_data, n);
        r->len += n;
        r->body[r->len] = '\0';
        return MHD_YES;
    }
    if (r->waiting == WAIT_IDLE)
        return MHD_NO; /* resumed only at shutdown */

    cc_reply reply = {0};
    if (strncmp(url, srv->base, srv->base_len) != 0) {
        cc_error(&reply, 404, "NotFound", "no route %s (the base path is %s)", url, srv->base);
        return send_reply(conn, &reply, NULL);
    }
    const char *path = url + srv->base_len;
    if (strncmp(path, "/admin/", 7) == 0)
        return handle_admin(srv, r, path + 7, method);
    const char *route = route_of(path);
    if (!route) {
        cc_error(&reply, 404, "NotFound", "no route %s", url);
        return send_reply(conn, &reply, NULL);
    }
    if (r->waiting == WAIT_DELAY) {
        r->waiting = WAIT_NONE;
        r->delay_done = true;
    } else if (r->waiting == WAIT_NONE && !r->delay_done && !r->fault.kind[0] &&
               take_fault(srv, route, &r->fault)) {
        const cc_fault *f = &r->fault;
        if (strcmp(f->kind, "drop") == 0 && !f->after_apply)
            return MHD_NO;
        if (strcmp(f->kind, "status") == 0) {
            cc_error(&reply, f->status, status_code_name(f->status), "injected fault");
            reply.retry_after = f->retry_after;
            return send_reply(conn, &reply, NULL);
        }
        if (strcmp(f->kind, "garbage") == 0)
            return send_text(conn, 200, "<html>502 Bad Gateway</html>\x01\xff", 31, 0);
        if ((strcmp(f->kind, "delay") == 0 || strcmp(f->kind, "idle") == 0) && !srv->stopping) {
            bool idle = f->kind[0] == 'i';
            pthread_mutex_lock(&srv->lock);
            suspend_request(srv, r, idle ? WAIT_IDLE : WAIT_DELAY,
                            idle ? 0 : now_ms() + f->delay_ms);
            pthread_mutex_unlock(&srv->lock);
            return MHD_YES;
        }
    }
    return handle_protocol(srv, r, route, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    cc_server *srv = cls;
    request *r = *con_cls;
    if (!r)
        return;
    pthread_mutex_lock(&srv->lock);
    unlink_waiter(srv, r);
    pthread_mutex_unlock(&srv->lock);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

cc_server *cc_server_start(cc_state *st, const struct sockaddr *addr, const char *base, char *err,
                           size_t errlen)
{
    cc_server *srv = calloc(1, sizeof *srv);
    srv->st = st;
    snprintf(srv->base, sizeof srv->base, "%s", base);
    srv->base_len = strlen(srv->base);
    while (srv->base_len > 0 && srv->base[srv->base_len - 1] == '/')
        srv->base[--srv->base_len] = '\0';
    pthread_mutex_init(&srv->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->cond, &ca);
    pthread_condattr_destroy(&ca);
    cc_state_on_change(st, on_state_change, srv);
    pthread_create(&srv->timer, NULL, timer_main, srv);
    srv->daemon =
        MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
                         on_request, srv, MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_NOTIFY_COMPLETED,
                         on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)180,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned)4000, MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(err, errlen, "cannot listen: %s", strerror(errno ? errno : EADDRINUSE));
        cc_server_stop(srv);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : 0;
    return srv;
}

unsigned short cc_server_port(const cc_server *srv)
{
    return srv->port;
}

void cc_server_stop(cc_server *srv)
{
    if (!srv)
        return;
    pthread_mutex_lock(&srv->lock);
    srv->stopping = true;
    pthread_cond_signal(&srv->cond);
    pthread_mutex_unlock(&srv->lock);
    pthread_join(srv->timer, NULL); /* resumes every held request on its way out */
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    cc_state_on_change(srv->st, NULL, NULL);
    clear_faults(srv);
    pthread_mutex_destroy(&srv->lock);
    pthread_cond_destroy(&srv->cond);
    free(srv);
}
