/* The call-center protocol v1 of docs/protocol.md, as plain functions over the HTTP client's
 * types: the one place that knows the paths, headers and request bodies, and that turns any
 * answer (transport error, HTTP status, JSON error body) into one error code and a retry
 * decision. No I/O of its own; used by the native backend (backend_native.c) and the doctor's
 * probes (probe.c). */
#include "net/protocol.h"

#include <stdio.h>
#include <string.h>

#include "order/json.h"

void dlv__proto_answer_free(dlv__proto_answer *a)
{
    if (a) {
        cJSON_Delete(a->json);
        a->json = NULL;
    }
}

static void set(dlv__proto_answer *a, int err, bool retryable, const char *fmt, const char *detail)
{
    a->err = err;
    a->retryable = retryable;
    snprintf(a->message, sizeof a->message, fmt, detail ? detail : "");
}

/* How deep the brackets of a JSON text go (strings skipped); only to say why cJSON refused it. */
static int nesting_depth(const char *t, size_t len)
{
    int depth = 0, max = 0;
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '"') {
            for (i++; i < len && t[i] != '"'; i++)
                if (t[i] == '\\')
                    i++;
        } else if (t[i] == '{' || t[i] == '[') {
            if (++depth > max)
                max = depth;
        } else if (t[i] == '}' || t[i] == ']') {
            depth--;
        }
    }
    return max;
}

static void classify(const dlv__http_response *resp, dlv__proto_answer *a, bool tree);

void dlv__proto_classify(const dlv__http_response *resp, dlv__proto_answer *a)
{
    classify(resp, a, true);
}

void dlv__proto_classify_status(const dlv__http_response *resp, dlv__proto_answer *a)
{
    classify(resp, a, false);
}

/* Whether the body's first non-blank character opens an object. */
static bool opens_object(const char *body, size_t len)
{
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r'))
        i++;
    return i < len && body[i] == '{';
}

static void classify(const dlv__http_response *resp, dlv__proto_answer *a, bool tree)
{
    memset(a, 0, sizeof *a);
    a->retry_after_s = -1;
    a->status = resp->status;
    if (resp->err != DLV_OK) {
        bool retry = resp->err != DLV_ETLS && resp->err != DLV_ENOMEM &&
                     resp->err != DLV_ESTOPPED && resp->err != DLV_EINVAL;
        set(a, resp->err, retry, "%s", resp->error_text);
        return;
    }
    if (resp->retry_after_s >= 0)
        a->retry_after_s = resp->retry_after_s > DLV__RETRY_AFTER_CAP_S ? DLV__RETRY_AFTER_CAP_S
                                                                        : resp->retry_after_s;
    long st = resp->status;
    if (!tree && st >= 200 && st < 300 && opens_object(resp->body, resp->body_len)) {
        a->err = DLV_OK;
        return;
    }
    /* Anything else is read whole, to say what it is. */
    cJSON *json = resp->body_len ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
    bool object = cJSON_IsObject(json);
    if (st >= 200 && st < 300) {
        if (!json && resp->body_len &&
            nesting_depth(resp->body, resp->body_len) > CJSON_NESTING_LIMIT) {
            /* A JSON answer too deep to read is a malformed answer, not a sign of the wrong
             * server (issue 17, item 9). */
            char detail[96];
            snprintf(detail, sizeof detail, "nested deeper than %d levels",
                     (int)CJSON_NESTING_LIMIT);
            set(a, DLV_EPROTOCOL, true, "malformed answer: %s", detail);
            return;
        }
        if (!object) {
            cJSON_Delete(json);
            set(a, DLV_EPROTOCOL, true,
                "the answer is not a JSON object: is serverUrl the call-center (not the point's "
                "local server)?%s",
                NULL);
            return;
        }
        a->json = json;
        a->err = DLV_OK;
        return;
    }
    /* An error answer: take the protocol's code and description when the body has them. */
    const cJSON *code = object ? cJSON_GetObjectItemCaseSensitive(json, "error") : NULL;
    const cJSON *desc = object ? cJSON_GetObjectItemCaseSensitive(json, "description") : NULL;
    if (cJSON_IsString(code))
        snprintf(a->code, sizeof a->code, "%s", code->valuestring);
    char detail[256];
    snprintf(detail, sizeof detail, "HTTP %ld%s%s%s%s", st, a->code[0] ? " " : "", a->code,
             cJSON_IsString(desc) ? ": " : "", cJSON_IsString(desc) ? desc->valuestring : "");
    cJSON_Delete(json);
    if (st >= 300 && st < 400)
        set(a, DLV_EPROTOCOL, false,
            "%s (redirects are not followed: set serverUrl to the final "
            "address)",
            detail);
    else if (st == 401)
        set(a, DLV_EUNAUTHORIZED, false, "%s", detail);
    else if (st == 403)
        set(a, DLV_ENOTREGISTERED, false, "%s", detail);
    else if (st == 404)
        set(a, DLV_ENOTFOUND, false, "%s", detail);
    else if (st == 409)
        set(a, DLV_ECONFLICT, false, "%s", detail);
    else if (st == 422)
        set(a, DLV_EINVALIDTRANSITION, false, "%s", detail);
    else if (st == 429)
        set(a, DLV_EBUSY, true, "%s", detail);
    else if (st >= 400 && st < 500)
        set(a, DLV_EINVAL, false, "%s", detail);
    else if (st >= 500)
        set(a, DLV_ESERVER, true, "%s", detail);
    else
        set(a, DLV_EPROTOCOL, false, "%s: unexpected status", detail);
}

uint64_t dlv__backoff_ms(unsigned attempt, long retry_after_s, uint32_t random)
{
    if (retry_after_s >= 0) {
        long s = retry_after_s > DLV__RETRY_AFTER_CAP_S ? DLV__RETRY_AFTER_CAP_S : retry_after_s;
        return (uint64_t)s * 1000u;
    }
    uint64_t ceiling = DLV__BACKOFF_BASE_MS;
    for (unsigned i = 0; i < attempt && ceiling < DLV__BACKOFF_CAP_MS; i++)
        ceiling *= 2;
    if (ceiling > DLV__BACKOFF_CAP_MS)
        ceiling = DLV__BACKOFF_CAP_MS;
    return (uint64_t)random % (ceiling + 1);
}

char *dlv__proto_url(const char *server_url, const char *path)
{
    return dlv__asprintf("%s%s", server_url, path);
}

int dlv__proto_headers_init(dlv__proto_headers *h, const char *terminal_id, const char *token,
                            bool json_body)
{
    memset(h, 0, sizeof *h);
    if (!dlv__http_header_value_ok(terminal_id) || (token && !dlv__http_header_value_ok(token)))
        return DLV_EINVAL;
    int n = 0;
    snprintf(h->terminal, sizeof h->terminal, "X-Terminal-Id: %s", terminal_id);
    h->list[n++] = h->terminal;
    if (token) {
        int len = snprintf(h->auth, sizeof h->auth, "Authorization: Bearer %s", token);
        if (len < 0 || (size_t)len >= sizeof h->auth)
            return DLV_EINVAL;
        h->list[n++] = h->auth;
    }
    if (json_body)
        h->list[n++] = "Content-Type: application/json";
    DLV__ASSERT((size_t)n < DLV__ARRAY_SIZE(h->list));
    h->list[n] = NULL;
    return DLV_OK;
}

/* ---- the requests: paths and bodies, written once ---- */

void dlv__proto_request_free(dlv__proto_request *r)
{
    if (r) {
        dlv__free(r->body);
        r->body = NULL;
    }
}

int dlv__proto_register_request(dlv__proto_request *r, const char *terminal_id, const char *name)
{
    memset(r, 0, sizeof *r);
    r->method = "POST";
    snprintf(r->path, sizeof r->path, "/delivery/v1/register");
    cJSON *b = cJSON_CreateObject();
    if (b && dlv__jput_string(b, "terminalId", terminal_id) && dlv__jput_string(b, "name", name) &&
        dlv__jput_string(b, "pluginVersion", dlv_version_string()) &&
        cJSON_AddNumberToObject(b, "protocolVersion", DLV__PROTOCOL_VERSION) &&
        cJSON_AddNumberToObject(b, "protocolMinor", DLV__PROTOCOL_MINOR))
        r->body = dlv__json_print(b);
    cJSON_Delete(b);
    return r->body ? DLV_OK : DLV_ENOMEM;
}

int dlv__proto_orders_request(dlv__proto_request *r, int64_t since_revision, int wait_seconds)
{
    return dlv__proto_orders_page_request(r, since_revision, wait_seconds, 0);
}

int dlv__proto_orders_page_request(dlv__proto_request *r, int64_t since_revision, int wait_seconds,
                                   int limit)
{
    memset(r, 0, sizeof *r);
    r->method = "GET";
    r->long_poll = true;
    int n =
        snprintf(r->path, sizeof r->path, "/delivery/v1/orders?sinceRevision=%lld&waitSeconds=%d",
                 (long long)since_revision, wait_seconds);
    if (limit > 0 && n > 0 && (size_t)n < sizeof r->path)
        snprintf(r->path + n, sizeof r->path - (size_t)n, "&limit=%d", limit);
    return DLV_OK;
}

int dlv__proto_commands_request(dlv__proto_request *r, const char *const *commands, size_t count)
{
    memset(r, 0, sizeof *r);
    r->method = "POST";
    snprintf(r->path, sizeof r->path, "/delivery/v1/commands");
    size_t len = 16;
    for (size_t i = 0; i < count; i++)
        len += strlen(commands[i]) + 1;
    char *body = dlv__malloc(len);
    if (!body)
        return DLV_ENOMEM;
    char *p = body;
    p += sprintf(p, "{\"commands\":[");
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(commands[i]);
        if (i)
            *p++ = ',';
        memcpy(p, commands[i], n);
        p += n;
    }
    DLV__ASSERT((size_t)(p - body) + sizeof "]}" <= len);
    strcpy(p, "]}");
    r->body = body;
    return DLV_OK;
}

int dlv__proto_heartbeat_request(dlv__proto_request *r, long pending_commands,
                                 int64_t last_revision)
{
    memset(r, 0, sizeof *r);
    r->method = "POST";
    snprintf(r->path, sizeof r->path, "/delivery/v1/heartbeat");
    r->body = dlv__asprintf("{\"pendingCommands\":%ld,\"lastRevision\":%lld}", pending_commands,
                            (long long)last_revision);
    return r->body ? DLV_OK : DLV_ENOMEM;
}
