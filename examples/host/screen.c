/* The delivery screen (docs/screen.md). libmicrohttpd runs a thread per connection, so a POST
 * waits for its reply and an event stream waits for events simply by blocking on a condition
 * variable. Every request of the page goes through api->request exactly as a stdin line does; the
 * only requests answered here are the host's own: `users` (who may log in) and `login` by user id
 * and PIN, which becomes the library's login with that user's rights from the --users file. */
#include "screen.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "screen_assets.h"

#define MAX_BODY (64 * 1024)
#define MAX_QUEUE (4 * 1024 * 1024) /* a page that stops reading is dropped and reconnects */
#define REPLY_WAIT_S 60
#define PING_S 15

typedef struct client {
    struct client *next;
    unsigned long id;
    char *buf; /* SSE bytes not yet sent */
    size_t len, cap;
    bool dropped;
} client;

struct screen {
    const dlv_plugin_api *api;
    dlv_ctx *ctx;
    struct MHD_Daemon *daemon;
    char *token;
    cJSON *users; /* the --users file: {"users":[…],"paymentTypes":[…]} */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    client *clients;
    unsigned long next_id;
    bool stopping;
    char *last_registered, *last_connection; /* replayed to a page that connects */
};

/* ---- event streams ---- */

static void queue_event(client *c, const char *json)
{
    size_t n = strlen(json), need = c->len + n + 8;
    if (c->dropped)
        return;
    if (need > MAX_QUEUE) {
        c->dropped = true;
        return;
    }
    if (need > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4096;
        while (cap < need)
            cap *= 2;
        char *b = realloc(c->buf, cap);
        if (!b) {
            c->dropped = true;
            return;
        }
        c->buf = b;
        c->cap = cap;
    }
    /* Event JSON is one line (cJSON_PrintUnformatted): one data field. */
    memcpy(c->buf + c->len, "data: ", 6);
    memcpy(c->buf + c->len + 6, json, n);
    memcpy(c->buf + c->len + 6 + n, "\n\n", 2);
    c->len += n + 8;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

void screen_event(screen *s, const char *json)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    char **keep = strstr(json, "\"event\":\"registered\"")   ? &s->last_registered
                  : strstr(json, "\"event\":\"connection\"") ? &s->last_connection
                                                             : NULL;
    if (keep) {
        free(*keep);
        *keep = dup_or_null(json);
    }
    for (client *c = s->clients; c; c = c->next)
        queue_event(c, json);
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

typedef struct {
    screen *s;
    unsigned long client_id;
} replay;

/* The reply to a replay request (the list, the health) goes to the one page that asked. */
static void on_replay(void *arg, const char *json)
{
    replay *r = arg;
    pthread_mutex_lock(&r->s->lock);
    for (client *c = r->s->clients; c; c = c->next)
        if (c->id == r->client_id)
            queue_event(c, json);
    pthread_cond_broadcast(&r->s->wake);
    pthread_mutex_unlock(&r->s->lock);
    free(r);
}

static void ask_replay(screen *s, unsigned long id, const char *request)
{
    replay *r = malloc(sizeof *r);
    if (!r)
        return;
    r->s = s;
    r->client_id = id;
    if (s->api->request(s->ctx, request, on_replay, r) != DLV_OK)
        free(r);
}

typedef struct {
    screen *s;
    client *c;
} stream_cls;

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    stream_cls *st = cls;
    screen *s = st->s;
    client *c = st->c;
    pthread_mutex_lock(&s->lock);
    while (c->len == 0 && !s->stopping && !c->dropped) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += PING_S;
        if (pthread_cond_timedwait(&s->wake, &s->lock, &until) == ETIMEDOUT && c->len == 0) {
            pthread_mutex_unlock(&s->lock);
            static const char ping[] = ": ping\n\n";
            memcpy(out, ping, sizeof ping - 1);
            return (ssize_t)(sizeof ping - 1);
        }
    }
    if (s->stopping || c->dropped) {
        pthread_mutex_unlock(&s->lock);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    size_t n = c->len < max ? c->len : max;
    memcpy(out, c->buf, n);
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
    pthread_mutex_unlock(&s->lock);
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    stream_cls *st = cls;
    screen *s = st->s;
    pthread_mutex_lock(&s->lock);
    for (client **p = &s->clients; *p; p = &(*p)->next)
        if (*p == st->c) {
            *p = st->c->next;
            break;
        }
    pthread_mutex_unlock(&s->lock);
    free(st->c->buf);
    free(st->c);
    free(st);
}

/* ---- answers ---- */

static void secure_headers(struct MHD_Response *r, const char *type)
{
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; script-src 'self'; style-src 'self'; "
                            "img-src 'self'; connect-src 'self'; base-uri 'none'; "
                            "form-action 'none'; frame-ancestors 'none'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cache-Control", "no-store");
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *type,
                              const char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, mode);
    if (!r)
        return MHD_NO;
    secure_headers(r, type);
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result answer_json(struct MHD_Connection *conn, unsigned status, char *json)
{
    if (!json)
        return MHD_NO;
    return answer(conn, status, "application/json; charset=utf-8", json, strlen(json),
                  MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result answer_error(struct MHD_Connection *conn, unsigned status, const char *code,
                                    const char *message)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "ok", 0);
    cJSON_AddStringToObject(j, "error", code);
    cJSON_AddStringToObject(j, "message", message);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return answer_json(conn, status, text);
}

/* ---- who may call ---- */

static bool same_text(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    unsigned char diff = (unsigned char)(na != nb);
    for (size_t i = 0; i < na; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (nb ? nb : 1)]);
    return diff == 0;
}

/* The token when one is configured, and no other site's page: a browser names the page's origin
 * on every fetch, which must be this server's own. */
static const char *refusal(const screen *s, struct MHD_Connection *conn)
{
    if (s->token) {
        const char *t = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Delivery-Token");
        if (!t || !same_text(t, s->token))
            return "Unauthorized";
    }
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    if (origin && (!host || strncmp(origin, "http://", 7) != 0 || strcmp(origin + 7, host) != 0))
        return "Forbidden";
    return NULL;
}

/* ---- requests ---- */

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t done;
    char *reply;
    bool answered;
    int refs; /* the waiting thread and the reply callback */
} pending;

static void pending_unref(pending *p)
{
    pthread_mutex_lock(&p->lock);
    bool last = --p->refs == 0;
    pthread_mutex_unlock(&p->lock);
    if (last) {
        free(p->reply);
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->done);
        free(p);
    }
}

static void on_reply(void *arg, const char *json)
{
    pending *p = arg;
    pthread_mutex_lock(&p->lock);
    p->reply = dup_or_null(json);
    p->answered = true;
    pthread_cond_signal(&p->done);
    pthread_mutex_unlock(&p->lock);
    pending_unref(p);
}

/* Runs one request through the library and waits for its reply (a malloc'd string or NULL). */
static char *call_library(screen *s, const char *json)
{
    pending *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->done, NULL);
    p->refs = 2;
    int rc = s->api->request(s->ctx, json, on_reply, p);
    if (rc != DLV_OK) {
        p->refs = 1;
        pending_unref(p);
        cJSON *j = cJSON_CreateObject();
        cJSON_AddBoolToObject(j, "ok", 0);
        cJSON_AddStringToObject(j, "error", "BadCommand");
        cJSON_AddStringToObject(j, "message", s->api->strerror(rc));
        char *text = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        return text;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += REPLY_WAIT_S;
    pthread_mutex_lock(&p->lock);
    while (!p->answered && pthread_cond_timedwait(&p->done, &p->lock, &until) != ETIMEDOUT)
        ;
    char *reply = p->reply;
    p->reply = NULL;
    pthread_mutex_unlock(&p->lock);
    pending_unref(p);
    return reply;
}

static const cJSON *users_list(const screen *s)
{
    return cJSON_GetObjectItemCaseSensitive(s->users, "users");
}

/* {"cmd":"users"}: who may log in, without PINs; the payment types for the payment dialog. */
static char *users_reply(const screen *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "reply", "users");
    cJSON_AddBoolToObject(j, "ok", 1);
    cJSON *out = cJSON_AddArrayToObject(j, "users");
    const cJSON *u;
    cJSON_ArrayForEach(u, users_list(s))
    {
        cJSON *e = cJSON_CreateObject();
        const cJSON *pin = cJSON_GetObjectItemCaseSensitive(u, "pin");
        cJSON_AddItemToObject(e, "id",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(u, "id"), 1));
        cJSON_AddItemToObject(e, "name",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(u, "name"), 1));
        cJSON_AddItemToObject(e, "rights",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(u, "rights"), 1));
        cJSON_AddBoolToObject(e, "pin", cJSON_IsString(pin) && pin->valuestring[0]);
        cJSON_AddItemToArray(out, e);
    }
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(s->users, "paymentTypes");
    cJSON_AddItemToObject(j, "paymentTypes",
                          types ? cJSON_Duplicate(types, 1) : cJSON_CreateArray());
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return text;
}

/* {"cmd":"login","userId","pin"} becomes the library's login with the user's name and rights;
 * NULL with `*refused` set when the user or PIN is wrong. */
static char *login_request(const screen *s, const cJSON *req, const char **refused)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "userId");
    const cJSON *pin = cJSON_GetObjectItemCaseSensitive(req, "pin");
    const cJSON *u;
    cJSON_ArrayForEach(u, users_list(s))
    {
        const cJSON *uid = cJSON_GetObjectItemCaseSensitive(u, "id");
        if (!cJSON_IsString(id) || !cJSON_IsString(uid) ||
            strcmp(uid->valuestring, id->valuestring))
            continue;
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(u, "pin");
        if (cJSON_IsString(want) && want->valuestring[0] &&
            (!cJSON_IsString(pin) || !same_text(pin->valuestring, want->valuestring))) {
            *refused = "Неверный PIN";
            return NULL;
        }
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "cmd", "login");
        cJSON_AddStringToObject(j, "userId", uid->valuestring);
        cJSON_AddItemToObject(j, "name",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(u, "name"), 1));
        cJSON_AddItemToObject(j, "rights",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(u, "rights"), 1));
        char *text = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        return text;
    }
    *refused = "Нет такого пользователя";
    return NULL;
}

static enum MHD_Result api_request(screen *s, struct MHD_Connection *conn, const char *body,
                                   size_t len)
{
    cJSON *req = cJSON_ParseWithLength(body, len);
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(req, "cmd");
    if (!cJSON_IsObject(req) || !cJSON_IsString(cmd)) {
        cJSON_Delete(req);
        return answer_error(conn, 400, "BadCommand", "one JSON request object");
    }
    char *reply = NULL;
    if (strcmp(cmd->valuestring, "users") == 0)
        reply = users_reply(s);
    else if (strcmp(cmd->valuestring, "quit") == 0) {
        cJSON_Delete(req);
        return answer_error(conn, 403, "BadCommand", "the page cannot stop the host");
    } else if (strcmp(cmd->valuestring, "login") == 0) {
        const char *refused = NULL;
        char *login = login_request(s, req, &refused);
        if (!login) {
            cJSON_Delete(req);
            return answer_error(conn, 200, "MissingRight", refused);
        }
        reply = call_library(s, login);
        free(login);
    } else {
        char *text = cJSON_PrintUnformatted(req);
        reply = text ? call_library(s, text) : NULL;
        free(text);
    }
    cJSON_Delete(req);
    if (!reply)
        return answer_error(conn, 504, "Timeout", "no reply from the library");
    return answer_json(conn, 200, reply);
}

static enum MHD_Result open_stream(screen *s, struct MHD_Connection *conn)
{
    stream_cls *st = calloc(1, sizeof *st);
    client *c = calloc(1, sizeof *c);
    if (!st || !c) {
        free(st);
        free(c);
        return MHD_NO;
    }
    st->s = s;
    st->c = c;
    pthread_mutex_lock(&s->lock);
    c->id = ++s->next_id;
    c->next = s->clients;
    s->clients = c;
    /* What a page needs at once: the settings, the link, then the list and the health. */
    if (s->last_registered)
        queue_event(c, s->last_registered);
    if (s->last_connection)
        queue_event(c, s->last_connection);
    unsigned long id = c->id;
    pthread_mutex_unlock(&s->lock);
    ask_replay(s, id, "{\"cmd\":\"list\"}");
    ask_replay(s, id, "{\"cmd\":\"health\"}");
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
                                                               stream_read, st, stream_free);
    if (!r) {
        stream_free(st);
        return MHD_NO;
    }
    secure_headers(r, "text/event-stream; charset=utf-8");
    enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

typedef struct {
    char *buf;
    size_t len;
    bool too_big;
} upload;

static enum MHD_Result on_http(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *data_size, void **con_cls)
{
    (void)version;
    screen *s = cls;
    bool post = strcmp(method, "POST") == 0, get = strcmp(method, "GET") == 0;
    if (post && strcmp(url, "/api/request") == 0) {
        upload *u = *con_cls;
        if (!u) {
            u = calloc(1, sizeof *u);
            *con_cls = u;
            return u ? MHD_YES : MHD_NO;
        }
        if (*data_size) {
            if (u->len + *data_size > MAX_BODY)
                u->too_big = true;
            else {
                char *b = realloc(u->buf, u->len + *data_size);
                if (!b)
                    return MHD_NO;
                memcpy(b + u->len, data, *data_size);
                u->buf = b;
                u->len += *data_size;
            }
            *data_size = 0;
            return MHD_YES;
        }
        const char *why = refusal(s, conn);
        const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
        if (why)
            return answer_error(conn, strcmp(why, "Forbidden") == 0 ? 403 : 401, why,
                                strcmp(why, "Forbidden") == 0
                                    ? "only this screen's own page"
                                    : "this page needs the screen's token");
        if (!type || strncmp(type, "application/json", 16) != 0)
            return answer_error(conn, 415, "BadCommand", "POST JSON");
        if (u->too_big)
            return answer_error(conn, 413, "BadCommand", "request too large");
        return api_request(s, conn, u->buf ? u->buf : "", u->len);
    }
    if (!get)
        return answer_error(conn, 405, "BadCommand", "GET the page, POST /api/request");
    if (strcmp(url, "/events") == 0) {
        const char *why = refusal(s, conn);
        if (why)
            return answer_error(conn, 401, why, "this page needs the screen's token");
        return open_stream(s, conn);
    }
    for (size_t i = 0; i < sizeof screen_assets / sizeof screen_assets[0]; i++) {
        const char *name = screen_assets[i].name;
        if (strcmp(url + 1, name) == 0 ||
            (strcmp(url, "/") == 0 && strcmp(name, "index.html") == 0)) {
            const char *dot = strrchr(name, '.');
            const char *type = strcmp(dot, ".js") == 0    ? "text/javascript; charset=utf-8"
                               : strcmp(dot, ".css") == 0 ? "text/css; charset=utf-8"
                               : strcmp(dot, ".png") == 0 ? "image/png"
                                                          : "text/html; charset=utf-8";
            return answer(conn, 200, type, screen_assets[i].data, screen_assets[i].size,
                          MHD_RESPMEM_PERSISTENT);
        }
    }
    return answer_error(conn, 404, "NotFound", "no such page");
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls, (void)conn, (void)why;
    upload *u = *con_cls;
    if (u) {
        free(u->buf);
        free(u);
        *con_cls = NULL;
    }
}

/* ---- start and stop ---- */

static cJSON *read_users(const char *path, char *why, size_t why_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, why_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 > cap) {
            char *b = realloc(text, cap = cap ? cap * 2 : 8192);
            if (!b)
                break;
            text = b;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
    }
    fclose(f);
    cJSON *j = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    if (!cJSON_IsObject(j) || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "users"))) {
        cJSON_Delete(j);
        snprintf(why, why_size, "%s: not {\"users\":[{\"id\",\"name\",\"pin\",\"rights\"}]}", path);
        return NULL;
    }
    return j;
}

screen *screen_start(const char *addr, const char *token, const char *users_path,
                     const dlv_plugin_api *api, dlv_ctx *ctx, char *why, size_t why_size)
{
    char host[64];
    const char *colon = strrchr(addr, ':');
    struct sockaddr_in sa = {.sin_family = AF_INET};
    long port = colon ? strtol(colon + 1, NULL, 10) : -1;
    if (!colon || (size_t)(colon - addr) >= sizeof host || port < 0 || port > 65535) {
        snprintf(why, why_size, "--http wants HOST:PORT, e.g. 127.0.0.1:8088");
        return NULL;
    }
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        snprintf(why, why_size, "--http wants an IPv4 address, e.g. 127.0.0.1:8088");
        return NULL;
    }
    sa.sin_port = htons((uint16_t)port);
    bool loopback = (ntohl(sa.sin_addr.s_addr) >> 24) == 127;
    if (!loopback && (!token || !token[0])) {
        snprintf(why, why_size, "--http on %s (not loopback) needs --http-token", host);
        return NULL;
    }
    screen *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    s->api = api;
    s->ctx = ctx;
    s->token = token && token[0] ? strdup(token) : NULL;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    s->users = users_path ? read_users(users_path, why, why_size) : cJSON_Parse("{\"users\":[]}");
    if (!s->users) {
        screen_stop(s);
        return NULL;
    }
    s->daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, on_http, s, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, s, MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT, 0u,
        MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(why, why_size, "cannot listen on %s", addr);
        screen_stop(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    fprintf(stderr, "delivery-host: the delivery screen is at http://%s:%u/\n", host,
            info ? info->port : (unsigned)port);
    return s;
}

void screen_stop(screen *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    cJSON_Delete(s->users);
    free(s->token);
    free(s->last_registered);
    free(s->last_connection);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s);
}
