/* The iikoCloud backend ("iikoCloud"): the same runtime, rules and store, with iiko's cloud API
 * (iikoTransport, /api/1/...) as the call-center instead of protocol v1. This file holds the
 * session (access_token, renewed before its hour runs out and once on a 401), registration (the
 * organization, the terminal group and the dictionaries) and the polling of
 * deliveries/by_revision; backend_iiko_orders.c maps the bodies and backend_iiko_commands.c sends
 * the commands exactly once. docs/iikocloud.md describes it all. */
#include "net/backend.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "net/http.h"
#include "net/iiko.h"
#include "net/protocol.h"

#define DEFAULT_POLL_MS 5000
#define TOKEN_RENEW_MS (55 * 60 * 1000) /* iikoCloud's token lives an hour */
#define SETTINGS_REFRESH_MS (10 * 60 * 1000)
#define IDLE_FACTOR_MAX 4
#define TOKEN_MAX 512

/* ---- calls with the session ---- */

typedef struct call {
    dlv__iiko *k;
    char path[64];
    char *body;
    bool token_phase; /* getting a token before the call itself */
    bool renewed;     /* the token was renewed once for this call already */
    bool fresh;       /* a command: never on a reused connection (see dlv__http_request) */
    dlv__iiko_done cb;
    void *arg;
    double total_ms;
} call;

static void call_free(call *c)
{
    dlv__free(c->body);
    dlv__free(c);
}

static void finish_call(call *c, dlv__iiko_answer *a)
{
    a->total_ms += c->total_ms;
    dlv__iiko_done cb = c->cb;
    void *arg = c->arg;
    dlv__iiko *k = c->k;
    call_free(c);
    cb(k, arg, a);
    cJSON_Delete(a->json);
}

static void fail_call(call *c, int err, const char *fmt, const char *detail)
{
    dlv__iiko_answer a = {.err = err, .retry_after_s = -1, .retryable = err != DLV_ESTOPPED};
    snprintf(a.message, sizeof a.message, fmt, detail ? detail : "");
    finish_call(c, &a);
}

static void on_http(void *arg, const dlv__http_response *resp);

static int start_http(call *c)
{
    dlv__iiko *k = c->k;
    if (k->closing || !k->http)
        return DLV_ESTOPPED;
    char auth[TOKEN_MAX + 32];
    const char *headers[3] = {"Content-Type: application/json", NULL, NULL};
    const char *path = c->token_phase ? "access_token" : c->path;
    char *token_body = NULL;
    if (c->token_phase) {
        cJSON *b = cJSON_CreateObject();
        if (b && dlv__jput_string(b, "apiLogin", k->api_login))
            token_body = dlv__json_print(b);
        cJSON_Delete(b);
        if (!token_body)
            return DLV_ENOMEM;
    } else {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", k->token ? k->token : "");
        headers[1] = auth;
    }
    char *url = dlv__asprintf("%s/api/1/%s", k->server_url, path);
    const char *body = c->token_phase ? token_body : c->body;
    dlv__http_request hr = {.method = "POST",
                            .url = url,
                            .headers = headers,
                            .body = body,
                            .body_len = body ? strlen(body) : 0,
                            .timeout_ms = k->timeout_ms,
                            .fresh_connection = c->fresh};
    dlv_error err = {0};
    int rc = url ? dlv__http_start(k->http, &hr, on_http, c, NULL, &err) : DLV_ENOMEM;
    if (rc != DLV_OK)
        DLV__LOGE(k->base.log, "iikoCloud %s: %s", path, err.message);
    dlv__free(url);
    dlv__free(token_body);
    return rc;
}

/* Starts the next phase from a callback: a failure ends the call with that error. */
static void continue_call(call *c)
{
    int rc = start_http(c);
    if (rc != DLV_OK)
        fail_call(c, rc, "%s", rc == DLV_ESTOPPED ? "the backend is closing" : dlv_strerror(rc));
}

static void classify(const dlv__http_response *resp, dlv__iiko_answer *a)
{
    dlv__proto_answer p;
    dlv__proto_classify(resp, &p);
    memset(a, 0, sizeof *a);
    a->err = p.err;
    a->retryable = p.retryable;
    a->retry_after_s = p.retry_after_s;
    a->status = p.status;
    a->total_ms = resp->total_ms;
    snprintf(a->code, sizeof a->code, "%s", p.code);
    snprintf(a->message, sizeof a->message, "%s", p.message);
    a->json = p.json;
    p.json = NULL;
    dlv__proto_answer_free(&p);
    if (a->err != DLV_OK && resp->err == DLV_OK && resp->body_len) {
        /* iikoCloud's ErrorResponse: {correlationId, errorDescription, error}. */
        cJSON *j = cJSON_ParseWithLength(resp->body, resp->body_len);
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "errorDescription");
        if (cJSON_IsString(d))
            snprintf(a->message, sizeof a->message, "HTTP %ld %s: %.300s", resp->status, a->code,
                     d->valuestring);
        cJSON_Delete(j);
    }
}

static void on_http(void *arg, const dlv__http_response *resp)
{
    call *c = arg;
    dlv__iiko *k = c->k;
    dlv__iiko_answer a;
    classify(resp, &a);
    c->total_ms += a.total_ms;
    a.total_ms = 0;
    if (c->token_phase) {
        if (a.err != DLV_OK) {
            if (a.err == DLV_EUNAUTHORIZED ||
                (a.status >= 400 && a.status < 500 && a.status != 429)) {
                /* The apiLogin itself was refused: registering again will not help by itself. */
                a.err = DLV_ENOTREGISTERED;
                a.retryable = false;
                char was[sizeof a.message];
                snprintf(was, sizeof was, "%s", a.message);
                snprintf(a.message, sizeof a.message,
                         "iikoCloud refused the apiLogin (%.300s): check <apiLogin> in "
                         "deliveryPluginConfig.xml",
                         was);
            }
            finish_call(c, &a);
            return;
        }
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(a.json, "token");
        if (!cJSON_IsString(t) || !*t->valuestring || strlen(t->valuestring) > TOKEN_MAX ||
            !dlv__http_header_value_ok(t->valuestring)) {
            cJSON_Delete(a.json);
            fail_call(c, DLV_EPROTOCOL, "%s", "access_token: no usable token in the answer");
            return;
        }
        char *copy = dlv__strdup(t->valuestring);
        cJSON_Delete(a.json);
        if (!copy) {
            fail_call(c, DLV_ENOMEM, "%s", "out of memory");
            return;
        }
        dlv__free(k->token);
        k->token = copy;
        k->token_at = uv_now(k->base.loop);
        c->token_phase = false;
        continue_call(c);
        return;
    }
    if (a.err == DLV_EUNAUTHORIZED && !c->renewed && !k->closing) {
        /* The token expired early (or was revoked): one renewal, then the call again. */
        cJSON_Delete(a.json);
        dlv__free(k->token);
        k->token = NULL;
        c->renewed = c->token_phase = true;
        continue_call(c);
        return;
    }
    finish_call(c, &a);
}

int dlv__iiko_call(dlv__iiko *k, const char *path, const cJSON *body, dlv__iiko_done cb, void *arg)
{
    if (k->closing)
        return DLV_ESTOPPED;
    call *c = dlv__calloc(1, sizeof *c);
    if (!c)
        return DLV_ENOMEM;
    *c = (call){.k = k, .cb = cb, .arg = arg};
    snprintf(c->path, sizeof c->path, "%s", path);
    /* Reads may be repeated freely; a command (deliveries/<verb> other than the two reads) is
     * sent once per attempt, so curl must not repeat it on its own. */
    c->fresh = strncmp(path, "deliveries/", 11) == 0 && strcmp(path, "deliveries/by_id") != 0 &&
               strcmp(path, "deliveries/by_revision") != 0;
    c->body = body ? dlv__json_print(body) : dlv__strdup("{}");
    if (!c->body) {
        call_free(c);
        return DLV_ENOMEM;
    }
    bool stale = k->token && uv_now(k->base.loop) - k->token_at >= TOKEN_RENEW_MS;
    c->token_phase = !k->token || stale;
    int rc = start_http(c);
    if (rc != DLV_OK)
        call_free(c);
    return rc;
}

/* ---- sequences: registration and polling ---- */

enum { DICT_CAUSES, DICT_COURIERS, DICT_CITIES, DICT_REGIONS, DICT_COUNT };
static const char *const dict_paths[DICT_COUNT] = {"cancel_causes", "employees/couriers", "cities",
                                                   "regions"};

enum step {
    STEP_ORGANIZATIONS,
    STEP_ALIVE,
    STEP_DICTS, /* + DICT_COUNT */
    STEP_ORDERS = STEP_DICTS + DICT_COUNT,
    STEP_DONE
};

struct dlv__iiko_seq {
    dlv__iiko *k;
    bool registering;
    int step;
    int64_t since;
    uint64_t started;
    dlv__backend_cb cb;
    void *arg;
    cJSON *dicts[DICT_COUNT];
};

static void seq_free(dlv__iiko_seq *s)
{
    for (int i = 0; i < DICT_COUNT; i++)
        cJSON_Delete(s->dicts[i]);
    dlv__free(s);
}

static void seq_end(dlv__iiko_seq *s, dlv__backend_result *res)
{
    dlv__iiko *k = s->k;
    if (k->poll_seq == s)
        k->poll_seq = NULL;
    dlv__backend_cb cb = s->cb;
    void *arg = s->arg;
    res->total_ms = (double)(uv_now(k->base.loop) - s->started);
    seq_free(s);
    cb(arg, res);
    dlv__backend_result_clear(res);
}

static void seq_fail(dlv__iiko_seq *s, const dlv__iiko_answer *a)
{
    dlv__backend_result res = {
        .err = a->err, .retryable = a->retryable, .retry_after_s = a->retry_after_s};
    snprintf(res.code, sizeof res.code, "%s", a->code);
    snprintf(res.message, sizeof res.message, "%s", a->message);
    seq_end(s, &res);
}

static void seq_refuse(dlv__iiko_seq *s, int err, bool retryable, const char *fmt, ...)
    DLV__PRINTF(4, 5);
static void seq_refuse(dlv__iiko_seq *s, int err, bool retryable, const char *fmt, ...)
{
    dlv__iiko_answer a = {.err = err, .retryable = retryable, .retry_after_s = -1};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a.message, sizeof a.message, fmt, ap);
    va_end(ap);
    seq_fail(s, &a);
}

static void seq_next(dlv__iiko_seq *s);

static bool listed(const cJSON *list, const char *key, const char *id)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, key);
        if (cJSON_IsString(v) && strcmp(v->valuestring, id) == 0)
            return true;
    }
    return false;
}

static void finish_register(dlv__iiko_seq *s)
{
    dlv__iiko *k = s->k;
    dlv__backend_result res = {.retry_after_s = -1};
    res.reg = dlv__calloc(1, sizeof *res.reg);
    if (res.reg) {
        res.reg->settings = dlv__iiko_settings(s->dicts[DICT_CAUSES], s->dicts[DICT_COURIERS],
                                               s->dicts[DICT_CITIES], s->dicts[DICT_REGIONS]);
        res.reg->session_token = dlv__strdup("iikoCloud"); /* the real one stays here */
        res.reg->expires_in_seconds = TOKEN_RENEW_MS / 1000;
        res.reg->server_time = DLV__TIME_NONE;
    }
    if (!res.reg || !res.reg->settings || !res.reg->session_token) {
        dlv__backend_result_clear(&res);
        seq_refuse(s, DLV_ENOMEM, true, "out of memory");
        return;
    }
    k->settings_at = uv_now(k->base.loop);
    seq_end(s, &res);
}

static void finish_orders(dlv__iiko_seq *s, dlv__iiko_answer *a)
{
    dlv__iiko *k = s->k;
    dlv__backend_result res = {.retry_after_s = -1};
    char *text = dlv__json_print(a->json);
    dlv_error err = {0};
    int rc = text ? dlv__iiko_orders_decode(text, strlen(text), k->terminal_group_id, &k->clock,
                                            &res.orders, &err)
                  : dlv__error_set(&err, DLV_ENOMEM, "out of memory");
    dlv__free(text);
    if (rc != DLV_OK) {
        seq_refuse(s, rc == DLV_ENOMEM ? rc : DLV_EPROTOCOL, true, "by_revision answer: %s",
                   err.message);
        return;
    }
    if (s->dicts[DICT_CAUSES]) {
        res.orders->settings = dlv__iiko_settings(s->dicts[DICT_CAUSES], s->dicts[DICT_COURIERS],
                                                  s->dicts[DICT_CITIES], s->dicts[DICT_REGIONS]);
        k->settings_at = uv_now(k->base.loop);
    }
    bool nothing = res.orders->order_count == 0 && res.orders->removed_count == 0 &&
                   res.orders->invalid_count == 0 && res.orders->revision == s->since;
    k->idle_polls = nothing ? k->idle_polls + 1 : 0;
    seq_end(s, &res);
}

static void on_step(dlv__iiko *k, void *arg, dlv__iiko_answer *a)
{
    dlv__iiko_seq *s = arg;
    (void)k;
    if (a->err != DLV_OK) {
        if (s->registering && a->err == DLV_EINVAL && s->step == STEP_ORGANIZATIONS) {
            a->err = DLV_ENOTREGISTERED;
            snprintf(a->message, sizeof a->message,
                     "iikoCloud does not know organization %s for this apiLogin: check "
                     "<organizationId>",
                     s->k->organization_id);
        }
        seq_fail(s, a);
        return;
    }
    switch (s->step) {
    case STEP_ORGANIZATIONS:
        if (!listed(cJSON_GetObjectItemCaseSensitive(a->json, "organizations"), "id",
                    s->k->organization_id)) {
            seq_refuse(s, DLV_ENOTREGISTERED, false,
                       "iikoCloud: this apiLogin has no organization %s: check <organizationId>",
                       s->k->organization_id);
            return;
        }
        break;
    case STEP_ALIVE: {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(a->json, "isAliveStatus");
        const cJSON *e, *found = NULL;
        cJSON_ArrayForEach(e, list)
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "terminalGroupId");
            if (cJSON_IsString(id) && strcmp(id->valuestring, s->k->terminal_group_id) == 0)
                found = e;
        }
        if (!found) {
            seq_refuse(s, DLV_ENOTREGISTERED, false,
                       "iikoCloud: the organization has no terminal group %s: check "
                       "<terminalGroupId>",
                       s->k->terminal_group_id);
            return;
        }
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(found, "isAlive")))
            DLV__LOGW(s->k->base.log,
                      "iikoCloud: terminal group %s is not alive (no iikoFront "
                      "online): orders and commands may wait",
                      s->k->terminal_group_id);
        break;
    }
    case STEP_ORDERS:
        finish_orders(s, a);
        return;
    default:
        s->dicts[s->step - STEP_DICTS] = a->json;
        a->json = NULL;
        break;
    }
    s->step++;
    seq_next(s);
}

static cJSON *org_body(const dlv__iiko *k, bool with_groups)
{
    cJSON *b = cJSON_CreateObject();
    cJSON *orgs = b ? cJSON_AddArrayToObject(b, "organizationIds") : NULL;
    cJSON *id = cJSON_CreateString(k->organization_id);
    if (!orgs || !id || !cJSON_AddItemToArray(orgs, id)) {
        cJSON_Delete(id);
        cJSON_Delete(b);
        return NULL;
    }
    if (with_groups) {
        cJSON *groups = cJSON_AddArrayToObject(b, "terminalGroupIds");
        cJSON *g = cJSON_CreateString(k->terminal_group_id);
        if (!groups || !g || !cJSON_AddItemToArray(groups, g)) {
            cJSON_Delete(g);
            cJSON_Delete(b);
            return NULL;
        }
    }
    return b;
}

/* Starts the current step: on failure the sequence ends with that error. */
static int seq_start(dlv__iiko_seq *s)
{
    dlv__iiko *k = s->k;
    const char *path;
    cJSON *body = org_body(k, s->step == STEP_ALIVE);
    if (!body)
        return DLV_ENOMEM;
    if (s->step == STEP_ORGANIZATIONS)
        path = "organizations";
    else if (s->step == STEP_ALIVE)
        path = "terminal_groups/is_alive";
    else if (s->step < STEP_ORDERS)
        path = dict_paths[s->step - STEP_DICTS];
    else {
        path = "deliveries/by_revision";
        cJSON *rev = cJSON_CreateNumber((double)s->since);
        if (!rev || !cJSON_AddItemToObject(body, "startRevision", rev)) {
            cJSON_Delete(rev);
            cJSON_Delete(body);
            return DLV_ENOMEM;
        }
    }
    int rc = dlv__iiko_call(k, path, body, on_step, s);
    cJSON_Delete(body);
    return rc;
}

static void seq_next(dlv__iiko_seq *s)
{
    if (s->registering && s->step == STEP_ORDERS) {
        finish_register(s);
        return;
    }
    int rc = seq_start(s);
    if (rc != DLV_OK)
        seq_refuse(s, rc, rc != DLV_ESTOPPED, "iikoCloud: %s", dlv_strerror(rc));
}

/* ---- the operations ---- */

static int iiko_register(dlv__backend *b, dlv__backend_cb cb, void *arg)
{
    dlv__iiko *k = (dlv__iiko *)b;
    dlv__iiko_seq *s = dlv__calloc(1, sizeof *s);
    if (!s)
        return DLV_ENOMEM;
    *s = (dlv__iiko_seq){
        .k = k, .registering = true, .cb = cb, .arg = arg, .started = uv_now(b->loop)};
    dlv__free(k->token); /* a new registration starts a new session */
    k->token = NULL;
    int rc = seq_start(s);
    if (rc != DLV_OK)
        seq_free(s);
    return rc;
}

static void on_poll_timer(uv_timer_t *t)
{
    dlv__iiko *k = t->data;
    dlv__iiko_seq *s = k->poll_seq;
    if (!s)
        return;
    int rc = seq_start(s);
    if (rc != DLV_OK)
        seq_refuse(s, rc, rc != DLV_ESTOPPED, "iikoCloud: %s", dlv_strerror(rc));
}

static int iiko_poll(dlv__backend *b, int64_t since_revision, dlv__backend_cb cb, void *arg)
{
    dlv__iiko *k = (dlv__iiko *)b;
    if (k->closing)
        return DLV_ESTOPPED;
    if (k->poll_seq)
        return DLV_EBUSY;
    dlv__iiko_seq *s = dlv__calloc(1, sizeof *s);
    if (!s)
        return DLV_ENOMEM;
    uint64_t now = uv_now(b->loop);
    *s = (dlv__iiko_seq){.k = k, .cb = cb, .arg = arg, .since = since_revision, .started = now};
    /* The dictionaries come again every ten minutes, delivered as the answer's settings. */
    bool refresh = k->settings_at && now - k->settings_at >= SETTINGS_REFRESH_MS;
    s->step = refresh ? STEP_DICTS : STEP_ORDERS;
    k->poll_seq = s;
    if (k->idle_polls > 0) {
        /* No long poll in iikoCloud: wait the interval after an empty answer, longer while
         * nothing happens (up to 4x), at once after an answer that brought something. */
        unsigned factor = 1;
        for (unsigned i = 1; i < k->idle_polls && factor < IDLE_FACTOR_MAX; i++)
            factor *= 2;
        uv_timer_start(&k->poll_timer, on_poll_timer, (uint64_t)k->poll_interval_ms * factor, 0);
        return DLV_OK;
    }
    int rc = seq_start(s);
    if (rc != DLV_OK) {
        k->poll_seq = NULL;
        seq_free(s);
    }
    return rc;
}

static int iiko_open(dlv__backend *b, const dlv__backend_options *o, dlv_error *err)
{
    dlv__iiko *k = (dlv__iiko *)b;
    k->timeout_ms = o->service_timeout_ms > 0 ? o->service_timeout_ms : 10000;
    k->poll_interval_ms = o->poll_interval_ms > 0 ? o->poll_interval_ms : DEFAULT_POLL_MS;
    if (o->journal)
        k->journal = *o->journal;
    k->clock = (dlv__iiko_clock){o->local_time, o->time_arg};
    const char *url =
        o->server_url && *o->server_url ? o->server_url : "https://api-ru.iiko.services";
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    k->server_url = dlv__asprintf("%.*s", (int)n, url);
    k->api_login = dlv__strdup(o->api_login ? o->api_login : "");
    k->organization_id = dlv__strdup(o->organization_id ? o->organization_id : "");
    k->terminal_group_id = dlv__strdup(o->terminal_group_id ? o->terminal_group_id : "");
    if (!k->server_url || !k->api_login || !k->organization_id || !k->terminal_group_id)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    if (!*k->api_login || !*k->organization_id || !*k->terminal_group_id)
        return dlv__error_set(err, DLV_EINVAL,
                              "iikoCloud needs apiLogin, organizationId and terminalGroupId");
    uv_timer_init(o->loop, &k->poll_timer);
    uv_timer_init(o->loop, &k->send_timer);
    k->poll_timer.data = k->send_timer.data = k;
    k->open_handles = 2;
    dlv__http_options opts = {.ca_file = o->ca_file, .connect_timeout_ms = o->service_timeout_ms};
    int rc = dlv__http_create(o->loop, &opts, &k->http, err);
    if (rc == DLV_OK)
        k->open_handles++;
    return rc;
}

static void release(dlv__iiko *k)
{
    dlv__free(k->server_url);
    dlv__free(k->api_login);
    dlv__free(k->organization_id);
    dlv__free(k->terminal_group_id);
    dlv__free(k->token);
    void (*done)(dlv__backend *) = k->done;
    done(&k->base);
}

static void one_closed(dlv__iiko *k)
{
    if (--k->open_handles == 0)
        release(k);
}

static void on_timer_closed(uv_handle_t *h)
{
    one_closed(h->data);
}

static void on_http_closed(void *arg)
{
    one_closed(arg);
}

static void iiko_close(dlv__backend *b, void (*done)(dlv__backend *b))
{
    dlv__iiko *k = (dlv__iiko *)b;
    DLV__ASSERT(!k->done); /* the core closes a backend once */
    k->done = done;
    k->closing = true;
    if (k->open_handles == 0) {
        release(k);
        return;
    }
    bool timers = k->poll_timer.loop != NULL;
    if (timers)
        uv_timer_stop(&k->poll_timer);
    dlv__iiko_send_stop(k);
    if (k->http) {
        dlv__http *http = k->http;
        k->http = NULL;
        dlv__http_close(http, on_http_closed, k); /* calls in flight end with DLV_ESTOPPED */
    }
    if (k->poll_seq) {
        /* Still here after the HTTP calls ended: it was waiting on the timer. */
        dlv__iiko_answer a = {.err = DLV_ESTOPPED, .retry_after_s = -1};
        snprintf(a.message, sizeof a.message, "the backend is closing");
        seq_fail(k->poll_seq, &a);
    }
    if (timers) {
        uv_close((uv_handle_t *)&k->poll_timer, on_timer_closed);
        uv_close((uv_handle_t *)&k->send_timer, on_timer_closed);
    }
}

const dlv__backend_methods dlv__backend_iiko = {
    DLV__BACKEND_METHODS_VERSION,
    "iikoCloud",             /* name */
    sizeof(dlv__iiko),       /* priv_size */
    1,                       /* max_commands: one command, one endpoint, one outcome */
    iiko_open,               /* open */
    iiko_close,              /* close */
    iiko_register,           /* register_terminal */
    iiko_poll,               /* poll_orders */
    dlv__iiko_send_commands, /* send_commands */
    NULL,                    /* heartbeat: iikoCloud has none */
    NULL,                    /* ctl */
};
