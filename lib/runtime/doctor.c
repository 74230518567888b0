/* delivery-doctor: the seed's troubleshooting list («доставки не приходят»), walked by the plugin
 * itself. Each check says pass, warn, fail or skip, what it saw, and what to do. */
#include "delivery/delivery.h"

#include <curl/curl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <uv.h>

#include "common/internal.h"
#include "net/protocol.h"
#include "order/json.h"
#include "order/values.h"
#include "print/print.h"
#include "runtime/doctor.h"
#include "store/store.h"

typedef struct report {
    cJSON *checks;
    int failed;
} report;

static void add(report *r, const char *name, const char *result, const char *detail,
                const char *advice)
{
    cJSON *c = cJSON_CreateObject();
    if (!c)
        return;
    dlv__jput_string(c, "name", name);
    dlv__jput_string(c, "result", result);
    dlv__jput_string(c, "detail", detail);
    if (advice)
        dlv__jput_string(c, "advice", advice);
    dlv__jattach(r->checks, NULL, c);
    if (strcmp(result, "fail") == 0)
        r->failed++;
}

typedef struct body {
    char data[65536];
    size_t len;
} body;

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    body *b = arg;
    size_t len = size * n;
    size_t room = sizeof b->data - 1 - b->len;
    size_t take = len < room ? len : room;
    memcpy(b->data + b->len, p, take);
    b->len += take;
    b->data[b->len] = '\0';
    return len;
}

/* One bounded HTTP call with the terminal's headers. Returns the CURLcode. */
static CURLcode call(const char *method, const char *url, const char *terminal, const char *token,
                     const char *payload, long timeout_ms, const char *ca_file, long *status,
                     body *b)
{
    CURL *h = curl_easy_init();
    if (!h)
        return CURLE_OUT_OF_MEMORY;
    dlv__proto_headers hd;
    struct curl_slist *list = NULL;
    if (dlv__proto_headers_init(&hd, terminal, token, payload != NULL) == DLV_OK)
        for (int i = 0; hd.list[i]; i++)
            list = curl_slist_append(list, hd.list[i]);
    b->len = 0;
    b->data[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
    if (payload)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
    CURLcode rc = curl_easy_perform(h);
    *status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(list);
    curl_easy_cleanup(h);
    return rc;
}

static void check_network(report *r, const dlv_config *cfg, long timeout_ms, char *server_time,
                          size_t server_time_len)
{
    const char *url = dlv_config_server_url(cfg);
    const char *terminal = dlv_config_terminal_id(cfg);
    const char *ca = dlv_config_trusted_ca_file(cfg);
    char detail[512], advice[512];

    /* 1. the name resolves */
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *scheme = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_HOST, &host, 0);
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    }
    struct addrinfo *ai = NULL;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    if (!host || getaddrinfo(host, port, &hints, &ai) != 0) {
        snprintf(detail, sizeof detail, "cannot resolve %s", host ? host : url);
        add(r, "resolve", "fail", detail,
            "check serverUrl in deliveryPluginConfig.xml: it must name the chain's call-center");
        add(r, "connect", "skip", "the name does not resolve", NULL);
        curl_free(host);
        curl_free(port);
        curl_free(scheme);
        curl_url_cleanup(u);
        return;
    }
    freeaddrinfo(ai);
    snprintf(detail, sizeof detail, "%s resolves", host);
    add(r, "resolve", "pass", detail, NULL);

    /* 2. it connects, 3. TLS is trusted, 4. it speaks the protocol, 5. we are registered */
    body *b = dlv__calloc(1, sizeof *b);
    long status = 0;
    char reg[256];
    snprintf(reg, sizeof reg,
             "{\"terminalId\":\"%s\",\"name\":\"delivery-doctor\","
             "\"pluginVersion\":\"%s\",\"protocolVersion\":1}",
             terminal ? terminal : "", dlv_version_string());
    char *reg_url = dlv__proto_url(url, "/delivery/v1/register");
    CURLcode rc = b && reg_url ? call("POST", reg_url, terminal ? terminal : "", NULL, reg,
                                      timeout_ms, ca, &status, b)
                               : CURLE_OUT_OF_MEMORY;
    bool tls = scheme && strcmp(scheme, "https") == 0;
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(detail, sizeof detail, "%s:%s: %s", host, port, curl_easy_strerror(rc));
        add(r, "connect", "fail", detail,
            "is the call-center running and reachable from this terminal (firewall, VPN)? is "
            "the port in serverUrl right?");
    } else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ||
               rc == CURLE_SSL_CACERT_BADFILE) {
        snprintf(detail, sizeof detail, "%s:%s accepts connections", host, port);
        add(r, "connect", "pass", detail, NULL);
        snprintf(detail, sizeof detail, "%s", curl_easy_strerror(rc));
        add(r, "tls", "fail", detail,
            "the call-center's certificate is not trusted: install its CA in the system store or "
            "name it in <trustedCaFile>");
    } else if (rc != CURLE_OK) {
        snprintf(detail, sizeof detail, "%s", curl_easy_strerror(rc));
        add(r, "connect", "fail", detail, "check serverUrl and the network");
    } else {
        snprintf(detail, sizeof detail, "%s:%s accepts connections", host, port);
        add(r, "connect", "pass", detail, NULL);
        add(r, "tls", tls ? "pass" : "skip",
            tls ? "certificate verified" : "serverUrl is plain http: nothing to verify", NULL);
        cJSON *j = cJSON_ParseWithLength(b->data, b->len);
        const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error"));
        const char *token =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "sessionToken"));
        const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "serverTime"));
        if (!cJSON_IsObject(j) || (!code && !token)) {
            snprintf(detail, sizeof detail,
                     "%s answers HTTP %ld without the protocol's JSON (%.60s…)", reg_url, status,
                     b->data);
            add(r, "protocol", "fail", detail,
                "serverUrl does not point at the delivery call-center: it may be the point's own "
                "local server. Use the call-center's address, e.g. http://callcenter:8080/resto");
            add(r, "registered", "skip", "the server does not speak the protocol", NULL);
        } else {
            add(r, "protocol", "pass", "the server speaks the delivery protocol v1", NULL);
            if (!terminal) {
                add(r, "registered", "warn", "no terminalId in the config yet",
                    "start the plugin once: it generates terminalId and writes it into the "
                    "config; then register that id at the call-center");
            } else if (code && strcmp(code, "TerminalNotRegistered") == 0) {
                snprintf(detail, sizeof detail,
                         "terminal %s is not a delivery terminal at the "
                         "call-center",
                         terminal);
                add(r, "registered", "fail", detail,
                    "register this terminal in the call-center, or remove terminalId from "
                    "deliveryPluginConfig.xml to re-register");
            } else if (token) {
                add(r, "registered", "pass", "the call-center accepted the terminal", NULL);
                if (st)
                    snprintf(server_time, server_time_len, "%s", st);
                /* 6. the clock, 7. the long poll */
                dlv__time server = 0;
                if (st && !dlv__time_parse(st, &server)) {
                    long skew = (long)((dlv__time)time(NULL) - server);
                    snprintf(detail, sizeof detail, "local clock is %+ld s from the server's",
                             skew);
                    long a = skew < 0 ? -skew : skew;
                    add(r, "clock",
                        a > 600  ? "fail"
                        : a > 60 ? "warn"
                                 : "pass",
                        detail,
                        a > 60 ? "set the terminal's clock (NTP): due times and cooking lead "
                                 "times depend on it"
                               : NULL);
                }
                char *poll_url = dlv__proto_url(url, "/delivery/v1/orders?sinceRevision=0"
                                                     "&waitSeconds=1");
                rc =
                    call("GET", poll_url, terminal, token, NULL, timeout_ms + 1000, ca, &status, b);
                cJSON *o = cJSON_ParseWithLength(b->data, b->len);
                const cJSON *orders = cJSON_GetObjectItemCaseSensitive(o, "orders");
                if (rc == CURLE_OK && status == 200 && cJSON_IsArray(orders)) {
                    snprintf(detail, sizeof detail, "the long poll answers: %d live order(s)",
                             cJSON_GetArraySize(orders));
                    add(r, "long poll", "pass", detail, NULL);
                } else {
                    snprintf(detail, sizeof detail, "orders answer: %s, HTTP %ld",
                             curl_easy_strerror(rc), status);
                    add(r, "long poll", "fail", detail,
                        "the call-center does not serve this terminal's orders: check its logs");
                }
                cJSON_Delete(o);
                dlv__free(poll_url);
            } else {
                snprintf(detail, sizeof detail, "registration answered HTTP %ld %s", status,
                         code ? code : "");
                snprintf(advice, sizeof advice,
                         "the call-center refused the terminal: see its "
                         "logs");
                add(r, "registered", "fail", detail, advice);
            }
        }
        cJSON_Delete(j);
    }
    dlv__free(reg_url);
    dlv__free(b);
    curl_free(host);
    curl_free(port);
    curl_free(scheme);
    curl_url_cleanup(u);
}

void dlv__doctor_outbox(void *rp, long pending, int64_t oldest_at, long held, const char *why)
{
    report *r = rp;
    char detail[256];
    long age = oldest_at ? (long)((int64_t)time(NULL) - oldest_at) : 0;
    snprintf(detail, sizeof detail, "%ld command(s) waiting%s", pending,
             pending ? ", the oldest for " : "");
    if (pending)
        snprintf(detail + strlen(detail), sizeof detail - strlen(detail), "%ld s", age);
    add(r, "outbox", pending && age > 300 ? "warn" : "pass", detail,
        pending && age > 300 ? "changes are not reaching the call-center: see the checks above "
                               "(connect, registered)"
                             : NULL);
    snprintf(detail, sizeof detail, "%ld print job(s) held%s%s", held, why ? ": " : "",
             why ? why : "");
    add(r, "print jobs", held ? "warn" : "pass", detail,
        held ? "check the printer (paper, power, cable) or reprint by hand" : NULL);
}

static void check_store(report *r, const char *data_dir)
{
    dlv__store *st = NULL;
    dlv_error err = {0};
    int rc = dlv__store_open(data_dir, NULL, &st, &err);
    if (rc == DLV_EBUSY) {
        add(r, "outbox", "skip", "the terminal is running and holds its database",
            "ask the running host instead ({\"cmd\":\"doctor\"} on delivery-host)");
        return;
    }
    if (rc != DLV_OK) {
        add(r, "outbox", "fail", err.message, "see docs/store.md, Corruption");
        return;
    }
    long pending = 0;
    int64_t oldest = 0;
    dlv__store_outbox_stats(st, &pending, &oldest, NULL);
    dlv__print_job *due = NULL, *offers = NULL;
    size_t n_due = 0, n_offers = 0;
    dlv__store_print_due(st, &due, &n_due, NULL);
    dlv__store_print_offers(st, &offers, &n_offers, NULL);
    const char *why = n_due && due[0].last_error ? due[0].last_error
                      : n_offers                 ? "interrupted while printing: reprint offered"
                                                 : NULL;
    dlv__doctor_outbox(r, pending, oldest / 1000, (long)(n_due + n_offers), why);
    dlv__store_print_jobs_free(due, n_due);
    dlv__store_print_jobs_free(offers, n_offers);
    dlv__store_close(st);
}

typedef struct query_wait {
    bool done;
    int status;
    unsigned flags;
    char message[256];
} query_wait;

static void on_query(void *arg, int status, unsigned flags, const char *message)
{
    query_wait *q = arg;
    q->done = true;
    q->status = status;
    q->flags = flags;
    snprintf(q->message, sizeof q->message, "%s", message ? message : "");
}

static void closed_noop(void *arg)
{
    (void)arg;
}

static void check_printer(report *r, const char *role, const char *uri)
{
    char name[32], detail[400];
    snprintf(name, sizeof name, "printer %s", role);
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0)
        return;
    dlv_printer *p = NULL;
    dlv_error err = {0};
    if (dlv__printer_open(&loop, uri, &p, &err) != DLV_OK) {
        add(r, name, "fail", err.message, "fix the printer URI (docs/printers.md)");
    } else {
        query_wait q = {0};
        int rc = dlv__printer_query(p, on_query, &q, &err);
        if (rc == DLV_ENOTSUP) {
            snprintf(detail, sizeof detail, "%s: a one-way link, its state cannot be asked", uri);
            add(r, name, "skip", detail, NULL);
        } else if (rc != DLV_OK) {
            add(r, name, "fail", err.message, "check the printer's power and cable");
        } else {
            while (!q.done && uv_run(&loop, UV_RUN_ONCE))
                ;
            bool ok = q.status == DLV_OK &&
                      !(q.flags & (DLV_PRINTER_STATUS_OFFLINE | DLV_PRINTER_STATUS_PAPER_OUT |
                                   DLV_PRINTER_STATUS_COVER_OPEN));
            snprintf(detail, sizeof detail, "%s: %s%s%s%s", uri, q.status ? q.message : "online",
                     q.flags & DLV_PRINTER_STATUS_PAPER_OUT ? ", paper out" : "",
                     q.flags & DLV_PRINTER_STATUS_COVER_OPEN ? ", cover open" : "",
                     q.flags & DLV_PRINTER_STATUS_PAPER_LOW ? ", paper low" : "");
            add(r, name, ok ? "pass" : "fail", detail,
                ok ? NULL
                   : "load paper, close the cover, switch the printer on: held jobs print "
                     "then by themselves");
        }
        dlv__printer_close(p, closed_noop, NULL);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

int dlv__doctor(const dlv_doctor_options *opts, const dlv_config *loaded,
                const dlv__doctor_outbox_fn outbox, void *outbox_arg, char **out, dlv_error *err)
{
    report r = {cJSON_CreateArray(), 0};
    cJSON *root = cJSON_CreateObject();
    if (!r.checks || !root) {
        cJSON_Delete(r.checks);
        cJSON_Delete(root);
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    }
    dlv_config *owned = NULL;
    const dlv_config *cfg = loaded;
    dlv_error cerr = {0};
    char detail[600];
    if (!cfg && dlv_config_load(opts->config_path, DLV_CONFIG_READ_ONLY, &owned, &cerr) == DLV_OK)
        cfg = owned;
    if (!cfg) {
        add(&r, "config", "fail", cerr.message,
            "fix deliveryPluginConfig.xml at the line named (see deliveryPluginConfig.xml.sample)");
    } else {
        snprintf(detail, sizeof detail, "%s: serverUrl %s, terminalId %s", dlv_config_path(cfg),
                 dlv_config_server_url(cfg),
                 dlv_config_terminal_id(cfg) ? dlv_config_terminal_id(cfg) : "(not yet)");
        add(&r, "config", dlv_config_warning_count(cfg) ? "warn" : "pass", detail,
            dlv_config_warning_count(cfg) ? dlv_config_warning(cfg, 0) : NULL);
    }
    if (opts->front_config_path && !loaded) {
        dlv_front_config *fc = NULL;
        if (dlv_front_config_load(opts->front_config_path, &fc, &cerr) != DLV_OK)
            add(&r, "front config", "fail", cerr.message, "fix config.xml at the line named");
        else
            add(&r, "front config", "pass", opts->front_config_path, NULL);
        dlv_front_config_free(fc);
    }
    char server_time[40] = "";
    if (cfg) {
        long timeout = opts->timeout_ms ? opts->timeout_ms : dlv_config_service_timeout_ms(cfg);
        check_network(&r, cfg, timeout, server_time, sizeof server_time);
        dlv__jput_string(root, "terminalId", dlv_config_terminal_id(cfg));
    }
    if (outbox) {
        outbox(outbox_arg, &r);
    } else {
        char *dir = NULL;
        if (opts->data_dir)
            dir = dlv__strdup(opts->data_dir);
        else if (cfg) {
            const char *path = dlv_config_path(cfg);
            const char *slash = strrchr(path, '/');
            dir = slash ? dlv__strndup(path, (size_t)(slash - path)) : dlv__strdup(".");
        }
        if (dir)
            check_store(&r, dir);
        dlv__free(dir);
    }
    if (opts->receipt_printer)
        check_printer(&r, "receipt", opts->receipt_printer);
    if (opts->a4_printer)
        check_printer(&r, "a4", opts->a4_printer);
    dlv_config_free(owned);
    dlv__jput_bool(root, "ok", r.failed == 0);
    dlv__jattach(root, "checks", r.checks);
    *out = dlv__json_print(root);
    cJSON_Delete(root);
    return *out ? r.failed : dlv__error_set(err, DLV_ENOMEM, "out of memory");
}

int dlv_doctor_run(const dlv_doctor_options *opts, char **report_out, dlv_error *err)
{
    if (!opts || !report_out || opts->version != DLV_DOCTOR_OPTIONS_VERSION)
        return dlv__error_set(err, DLV_EINVAL,
                              "dlv_doctor_run: options (version %d) and report "
                              "are required",
                              DLV_DOCTOR_OPTIONS_VERSION);
    return dlv__doctor(opts, NULL, NULL, NULL, report_out, err);
}

char *dlv_doctor_format(const char *report_json)
{
    cJSON *j = report_json ? cJSON_Parse(report_json) : NULL;
    const cJSON *checks = cJSON_GetObjectItemCaseSensitive(j, "checks");
    if (!cJSON_IsArray(checks)) {
        cJSON_Delete(j);
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *out = dlv__malloc(cap);
    const cJSON *c;
    cJSON_ArrayForEach(c, checks)
    {
        const char *result = cJSON_GetStringValue(cJSON_GetObjectItem(c, "result"));
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
        const char *detail = cJSON_GetStringValue(cJSON_GetObjectItem(c, "detail"));
        const char *advice = cJSON_GetStringValue(cJSON_GetObjectItem(c, "advice"));
        char upper[8] = "";
        for (int i = 0; result && result[i] && i < 6; i++)
            upper[i] = (char)(result[i] >= 'a' ? result[i] - 32 : result[i]);
        char line[1600];
        int n = snprintf(line, sizeof line, "%-5s %-12s %s\n", upper, name ? name : "",
                         detail ? detail : "");
        if (advice)
            n += snprintf(line + n, sizeof line - (size_t)n, "      -> %s\n", advice);
        if (out && len + (size_t)n + 64 > cap) {
            cap = (len + (size_t)n + 64) * 2;
            char *grown = dlv__realloc(out, cap);
            if (!grown) {
                dlv__free(out);
                out = NULL;
            }
            out = grown;
        }
        if (out) {
            memcpy(out + len, line, (size_t)n);
            len += (size_t)n;
        }
    }
    if (out) {
        bool ok = cJSON_IsTrue(cJSON_GetObjectItem(j, "ok"));
        len +=
            (size_t)snprintf(out + len, cap - len, "%s\n",
                             ok ? "all checks passed" : "some checks failed: see the advice above");
    }
    cJSON_Delete(j);
    return out;
}
