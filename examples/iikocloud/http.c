/* HTTP side of the sandbox: libmicrohttpd with a thread per connection (a "delay" fault simply
 * sleeps in its request's thread), iikoCloud's routes as a table, the admin API on loopback, and
 * faults injected per route. */
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
#define API_PREFIX "/api/1/"
#define ADMIN_PREFIX "/admin/"

/* A fault injected into a route (admin/faults). */
typedef struct fault {
    char route[64]; /* a path under /api/1/, or "*" for every route */
    char kind[16];  /* drop | status | delay | slow */
    int status;
    int retry_after;
    int delay_ms;
    int polls;        /* slow: commands/status polls answering InProgress */
    int count;        /* requests it applies to; 0: until cleared */
    bool after_apply; /* drop: apply the request, then lose the answer */
    struct fault *next;
} fault;

typedef struct request {
    char *body;
    size_t len, cap;
    bool too_large;
} request;

struct ik_server {
    struct MHD_Daemon *daemon;
    ik_state *st;
    pthread_mutex_t lock;
    fault *faults;
    unsigned short port;
};

enum { OPEN = 1, COMMAND = 2 };

typedef struct route {
    const char *path; /* under /api/1/ */
    ik_handler handler;
    int flags;
} route;

/* The subset of iikoCloud a delivery terminal uses (docs/iikocloud-sandbox.md). */
static const route routes[] = {
    {"access_token", ik_access_token, OPEN},
    {"organizations", ik_organizations, 0},
    {"terminal_groups", ik_terminal_groups, 0},
    {"terminal_groups/is_alive", ik_is_alive, 0},
    {"cancel_causes", ik_cancel_causes, 0},
    {"employees/couriers", ik_couriers, 0},
    {"payment_types", ik_payment_types, 0},
    {"cities", ik_cities, 0},
    {"regions", ik_regions, 0},
    {"deliveries/by_revision", ik_by_revision, 0},
    {"deliveries/by_id", ik_by_id, 0},
    {"commands/status", ik_command_status, 0},
    {"deliveries/confirm", ik_command, COMMAND},
    {"deliveries/update_order_delivery_status", ik_command, COMMAND},
    {"deliveries/close", ik_command, COMMAND},
    {"deliveries/cancel", ik_command, COMMAND},
    {"deliveries/update_order_courier", ik_command, COMMAND},
    {"deliveries/change_payments", ik_command, COMMAND},
    {"deliveries/change_comment", ik_command, COMMAND},
    {"deliveries/print_delivery_bill", ik_command, COMMAND},
    {"deliveries/create", ik_command, COMMAND},
    {NULL, NULL, 0},
};

static const route *find_route(const char *path)
{
    for (const route *r = routes; r->path; r++)
        if (strcmp(r->path, path) == 0)
            return r;
    return NULL;
}

/* ---- faults ---- */

static bool take_fault(ik_server *srv, const char *path, fault *out)
{
    pthread_mutex_lock(&srv->lock);
    bool found = false;
    for (fault **p = &srv->faults; *p; p = &(*p)->next) {
        fault *f = *p;
        if (strcmp(f->route, path) != 0 && strcmp(f->route, "*") != 0)
            continue;
        /* "slow" concerns commands only: a status poll does not consume it. */
        if (strcmp(f->kind, "slow") == 0 && !ik_is_command(path))
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

static void clear_faults(ik_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    while (srv->faults) {
        fault *f = srv->faults;
        srv->faults = f->next;
        free(f);
    }
    pthread_mutex_unlock(&srv->lock);
}

static int int_field(const cJSON *body, const char *key, int fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);
    return cJSON_IsNumber(v) ? (int)v->valuedouble : fallback;
}

static void admin_faults(ik_server *srv, const cJSON *body, ik_reply *out)
{
    static const char *const kinds[] = {"drop", "status", "delay", "slow", NULL};
    const cJSON *route_v = cJSON_GetObjectItemCaseSensitive(body, "route");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(body, "fault");
    bool kind_ok = false;
    for (const char *const *k = kinds; cJSON_IsString(kind) && *k; k++)
        kind_ok |= strcmp(kind->valuestring, *k) == 0;
    bool route_ok = cJSON_IsString(route_v) && (strcmp(route_v->valuestring, "*") == 0 ||
                                                find_route(route_v->valuestring) != NULL);
    if (!route_ok || !kind_ok) {
        ik_error(out, 400, "BadRequest",
                 "route must be an operation under /api/1/ (e.g. deliveries/confirm) or *, and "
                 "fault drop|status|delay|slow");
        return;
    }
    fault f = {0};
    snprintf(f.route, sizeof f.route, "%s", route_v->valuestring);
    snprintf(f.kind, sizeof f.kind, "%s", kind->valuestring);
    f.status = int_field(body, "status", 500);
    f.retry_after = int_field(body, "retryAfter", 0);
    f.delay_ms = int_field(body, "delayMs", 1000);
    f.polls = int_field(body, "polls", 3);
    f.count = int_field(body, "count", 1);
    f.after_apply = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "afterApply"));
    if (f.status < 100 || f.status > 599 || f.count < 0 || f.delay_ms < 0 || f.polls < 0) {
        ik_error(out, 400, "BadRequest",
                 "status 100..599, count >= 0 (0: until cleared), delayMs >= 0, polls >= 0");
        return;
    }
    fault *copy = malloc(sizeof *copy);
    if (!copy) {
        ik_error(out, 500, "InternalError", "out of memory");
        return;
    }
    *copy = f;
    pthread_mutex_lock(&srv->lock);
    fault **tail = &srv->faults;
    while (*tail)
        tail = &(*tail)->next;
    *tail = copy;
    pthread_mutex_unlock(&srv->lock);
    out->status = 200;
    out->body = cJSON_Duplicate(body, 1);
}

/* ---- responses ---- */

static enum MHD_Result send_reply(struct MHD_Connection *conn, ik_reply *reply)
{
    char *text = reply->body ? cJSON_PrintUnformatted(reply->body) : strdup("{}");
    cJSON_Delete(reply->body);
    reply->body = NULL;
    if (!text)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
    if (reply->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", reply->retry_after);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)reply->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static const char *status_code_name(int status)
{
    switch (status) {
    case 400:
        return "BadRequest";
    case 401:
        return "Unauthorized";
    case 408:
        return "RequestTimeout";
    case 429:
        return "TooManyRequests";
    case 503:
        return "ServiceUnavailable";
    default:
        return "InternalServerError";
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

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static enum MHD_Result handle_api(ik_server *srv, request *r, struct MHD_Connection *conn,
                                  const char *path, const char *method)
{
    ik_reply reply = {0};
    const route *rt = find_route(path);
    if (!rt) {
        ik_error(&reply, 404, "NotFound", "no operation /api/1/%s", path);
        return send_reply(conn, &reply);
    }
    fault f = {0};
    if (take_fault(srv, path, &f)) {
        if (strcmp(f.kind, "drop") == 0 && !f.after_apply)
            return MHD_NO; /* the connection closes without an answer */
        if (strcmp(f.kind, "status") == 0) {
            ik_error(&reply, f.status, status_code_name(f.status), "injected fault");
            reply.retry_after = f.retry_after;
            return send_reply(conn, &reply);
        }
        if (strcmp(f.kind, "delay") == 0)
            sleep_ms(f.delay_ms);
    }
    if (strcmp(method, "POST") != 0) {
        ik_error(&reply, 405, "MethodNotAllowed", "use POST for /api/1/%s", path);
        return send_reply(conn, &reply);
    }
    const char *ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    cJSON *body = NULL;
    if (r->too_large) {
        ik_error(&reply, 400, "BadRequest", "request body larger than %u bytes", BODY_CAP);
    } else if (!ctype || strncmp(ctype, "application/json", 16) != 0) {
        ik_error(&reply, 400, "BadRequest", "Content-Type: application/json is required");
    } else if (!cJSON_IsObject(body = r->body ? cJSON_ParseWithLength(r->body, r->len) : NULL)) {
        ik_error(&reply, 400, "BadRequest", "body is not a JSON object");
    } else if (!(rt->flags & OPEN) &&
               ik_authorize(srv->st,
                            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
                            &reply) != 0) {
        /* reply holds the 401 */
    } else {
        ik_call call = {.path = rt->path, .body = body};
        if (strcmp(f.kind, "slow") == 0)
            call.slow_polls = f.polls;
        rt->handler(srv->st, &call, &reply);
    }
    cJSON_Delete(body);
    if (strcmp(f.kind, "drop") == 0 && f.after_apply) {
        cJSON_Delete(reply.body);
        return MHD_NO; /* applied, but the answer never reaches the terminal */
    }
    return send_reply(conn, &reply);
}

static enum MHD_Result handle_admin(ik_server *srv, request *r, struct MHD_Connection *conn,
                                    const char *path, const char *method)
{
    ik_reply reply = {0};
    if (!from_loopback(conn)) {
        ik_error(&reply, 403, "Forbidden", "the admin API answers loopback clients only");
        return send_reply(conn, &reply);
    }
    cJSON *body = r->len ? cJSON_ParseWithLength(r->body, r->len) : NULL;
    if (r->too_large || (r->len && !body)) {
        ik_error(&reply, 400, "BadRequest", "body is not valid JSON");
        return send_reply(conn, &reply);
    }
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    bool del = strcmp(method, "DELETE") == 0;
    ik_state *st = srv->st;
    if (strcmp(path, "info") == 0 && get)
        ik_admin_info(st, &reply);
    else if (strcmp(path, "orders") == 0 && post)
        ik_admin_create_order(st, body, &reply);
    else if (strcmp(path, "orders/generate") == 0 && post)
        ik_admin_generate(st, body, &reply);
    else if (strncmp(path, "orders/", 7) == 0 && post)
        ik_admin_change_order(st, path + 7, body, &reply);
    else if (strncmp(path, "orders/", 7) == 0 && get)
        ik_admin_get_order(st, path + 7, &reply);
    else if (strcmp(path, "terminal_groups") == 0 && post)
        ik_admin_terminal_group(st, body, &reply);
    else if (strcmp(path, "log") == 0 && get)
        ik_admin_log(st, &reply);
    else if (strcmp(path, "tokens/expire") == 0 && post)
        ik_admin_expire_tokens(st, &reply);
    else if (strcmp(path, "faults") == 0 && post)
        admin_faults(srv, body, &reply);
    else if (strcmp(path, "faults") == 0 && del) {
        clear_faults(srv);
        reply.status = 200;
        reply.body = cJSON_CreateObject();
        cJSON_AddBoolToObject(reply.body, "cleared", 1);
    } else
        ik_error(&reply, 404, "NotFound", "no admin route %s %s", method, path);
    cJSON_Delete(body);
    return send_reply(conn, &reply);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    ik_server *srv = cls;
    request *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
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
    if (strncmp(url, API_PREFIX, strlen(API_PREFIX)) == 0)
        return handle_api(srv, r, conn, url + strlen(API_PREFIX), method);
    if (strncmp(url, ADMIN_PREFIX, strlen(ADMIN_PREFIX)) == 0)
        return handle_admin(srv, r, conn, url + strlen(ADMIN_PREFIX), method);
    ik_reply reply = {0};
    ik_error(&reply, 404, "NotFound", "no route %s", url);
    return send_reply(conn, &reply);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    request *r = *con_cls;
    if (!r)
        return;
    free(r->body);
    free(r);
    *con_cls = NULL;
}

ik_server *ik_server_start(ik_state *st, const struct sockaddr *addr, char *err, size_t errlen)
{
    ik_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    srv->st = st;
    pthread_mutex_init(&srv->lock, NULL);
    srv->daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
                                   0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, addr,
                                   MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                                   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                                   MHD_OPTION_CONNECTION_LIMIT, (unsigned)256, MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(err, errlen, "cannot listen: %s", strerror(errno ? errno : EADDRINUSE));
        ik_server_stop(srv);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : 0;
    return srv;
}

unsigned short ik_server_port(const ik_server *srv)
{
    return srv->port;
}

void ik_server_stop(ik_server *srv)
{
    if (!srv)
        return;
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    clear_faults(srv);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}
