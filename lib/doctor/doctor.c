/* The doctor: dlv_doctor_run and dlv_doctor_format, and dlv__doctor shared with the running
 * context's {"cmd":"doctor"}. It walks the troubleshooting list for "deliveries do not arrive"
 * («доставки не приходят») in the order of docs/real-callcenter.md, step 4: config, name,
 * connection, TLS, protocol, registration, clock, long poll, outbox, print jobs, printers. Each
 * check says pass, warn, fail or skip, what it saw, and what to do. */
#include "delivery/delivery.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <uv.h>

#include "common/dynbuf.h"
#include "common/i18n.h"
#include "common/internal.h"
#include "common/xml.h"
#include "net/probe.h"
#include "order/json.h"
#include "order/notify.h"
#include "order/values.h"
#include "print/print.h"
#include "doctor/doctor.h"
#include "store/store.h"

/* dlv_doctor_format's text has no cap of its own: it grows with the report the caller already
 * holds in memory (a few dozen bytes per check at most). */
#define REPORT_TEXT_MAX SIZE_MAX

typedef struct report {
    cJSON *checks;
    int failed;
    dlv__locale loc; /* the language of details and advice (names and results stay) */
} report;

#define TR(en, ru) DLV__TR(r->loc, en, ru)

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

/* The customer message templates of the config folder (notifications/<Event>.txt): each that
 * cannot be read or compiled is named with its line; the terminal sends the built-in text
 * instead (lib/runtime/notify.c), so this warns rather than fails. */
static void check_templates(report *r, const char *config_dir)
{
    dlv__dynbuf why;
    dlv__dynbuf_init(&why, 4096);
    int custom = 0, broken = 0;
    for (int e = 0; e < DLV__NOTIFY_COUNT; e++) {
        char *path = dlv__asprintf("%s/notifications/%s.txt", config_dir,
                                   dlv__notify_event_name((dlv__notify_event)e));
        char *text = NULL;
        size_t len = 0;
        dlv_error terr = {0};
        dlv__template *t = NULL;
        int rc = path ? dlv__read_file(path, 64 * 1024, &text, &len, &terr) : DLV_ENOMEM;
        if (rc == DLV_OK)
            rc = dlv__template_compile_named(path, text, len, &t, &terr);
        else if (rc != DLV_ENOTFOUND && path)
            dlv__error_set(&terr, rc, "%s: %s", path, terr.message);
        if (rc != DLV_ENOTFOUND)
            custom++;
        if (rc != DLV_OK && rc != DLV_ENOTFOUND) {
            (void)dlv__dynbuf_adds(&why, broken++ ? "; " : "");
            (void)dlv__dynbuf_adds(&why, terr.message);
        }
        dlv__template_free(t);
        dlv__free(text);
        dlv__free(path);
    }
    char *detail = dlv__dynbuf_take(&why, NULL);
    dlv__dynbuf_free(&why);
    if (broken) {
        add(r, "notification templates", "warn",
            detail ? detail : TR("out of memory", "недостаточно памяти"),
            TR("fix the template at the line named (docs/notifications.md); until then the "
               "built-in text of that event is sent",
               "исправьте шаблон в указанной строке (docs/notifications.md); до тех пор "
               "отправляется встроенный текст этого события"));
    } else {
        char line[160];
        snprintf(line, sizeof line,
                 TR("%d template(s) from %s/notifications, the rest built in",
                    "шаблонов: %d из %s/notifications, остальные встроенные"),
                 custom, config_dir);
        add(r, "notification templates", "pass", line, NULL);
    }
    dlv__free(detail);
}

/* iikoCloud (docs/iikocloud.md): the token, the organization and the terminal group, with the
 * same blocking probe as the native checks. Each step needs the one before. */
static bool iiko_probe(const dlv_config *cfg, long timeout_ms, const char *path, const char *body,
                       const char *token, dlv__probe_result *b, cJSON **json)
{
    dlv__proto_request req = {.method = "POST"};
    snprintf(req.path, sizeof req.path, "/api/1/%s", path);
    req.body = (char *)body;
    dlv__probe_call(dlv_config_server_url(cfg), &req, "", token, timeout_ms,
                    dlv_config_trusted_ca_file(cfg), b);
    *json = b->failure == DLV__PROBE_OK && b->status == 200 ? cJSON_Parse(b->body) : NULL;
    return *json != NULL;
}

static void check_iiko(report *r, const dlv_config *cfg, long timeout_ms)
{
    const char *org = dlv_config_organization_id(cfg), *group = dlv_config_terminal_group_id(cfg);
    dlv__probe_result *b = dlv__calloc(1, sizeof *b);
    cJSON *login = cJSON_CreateObject(), *json = NULL;
    char *body = login && dlv__jput_string(login, "apiLogin", dlv_config_api_login(cfg))
                     ? dlv__json_print(login)
                     : NULL;
    cJSON_Delete(login);
    char detail[512], token[600] = "";
    if (!b || !body) {
        add(r, "token", "fail", TR("Out of memory", "Недостаточно памяти"), NULL);
    } else if (!iiko_probe(cfg, timeout_ms, "access_token", body, NULL, b, &json)) {
        snprintf(detail, sizeof detail, "access_token: %s",
                 b->failure == DLV__PROBE_OK ? TR("refused", "отказ") : b->error);
        if (b->failure == DLV__PROBE_OK)
            snprintf(detail, sizeof detail,
                     TR("access_token answered HTTP %ld", "access_token ответил HTTP %ld"),
                     b->status);
        add(r, "token", "fail", detail,
            b->failure == DLV__PROBE_OK
                ? TR("check <apiLogin>: ask the chain's administrator",
                     "проверьте <apiLogin>: спросите администратора сети")
                : TR("check serverUrl and the network", "проверьте serverUrl и сеть"));
    } else {
        snprintf(token, sizeof token, "%s",
                 cJSON_GetStringValue(cJSON_GetObjectItem(json, "token"))
                     ? cJSON_GetStringValue(cJSON_GetObjectItem(json, "token"))
                     : "");
        add(r, "token", token[0] ? "pass" : "fail",
            token[0] ? TR("iikoCloud issued a token", "iikoCloud выдал токен")
                     : TR("no token in the answer", "в ответе нет токена"),
            NULL);
    }
    cJSON_Delete(json);
    json = NULL;
    dlv__free(body);
    char ids[200];
    snprintf(ids, sizeof ids, "{\"organizationIds\":[\"%s\"],\"terminalGroupIds\":[\"%s\"]}",
             org ? org : "", group ? group : "");
    bool org_ok = false;
    if (!token[0]) {
        add(r, "organization", "skip", TR("no token", "нет токена"), NULL);
    } else if (iiko_probe(cfg, timeout_ms, "organizations", ids, token, b, &json)) {
        const cJSON *o;
        cJSON_ArrayForEach(o, cJSON_GetObjectItem(json, "organizations"))
        {
            const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(o, "id"));
            org_ok = org_ok || (id && org && strcmp(id, org) == 0);
        }
    }
    if (token[0]) {
        snprintf(detail, sizeof detail, TR("organization %s %s", "организация %s %s"),
                 org ? org : "?",
                 org_ok ? TR("is visible to this apiLogin", "видна этому apiLogin")
                        : TR("is not visible to this apiLogin", "не видна этому apiLogin"));
        add(r, "organization", org_ok ? "pass" : "fail", detail,
            org_ok ? NULL : TR("check <organizationId>", "проверьте <organizationId>"));
    }
    cJSON_Delete(json);
    json = NULL;
    int alive = -1;
    if (!org_ok) {
        add(r, "terminal group", "skip", TR("no organization", "нет организации"), NULL);
    } else if (iiko_probe(cfg, timeout_ms, "terminal_groups/is_alive", ids, token, b, &json)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(json, "isAliveStatus"))
        {
            const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(e, "terminalGroupId"));
            if (id && group && strcmp(id, group) == 0)
                alive = cJSON_IsTrue(cJSON_GetObjectItem(e, "isAlive"));
        }
    }
    if (org_ok) {
        snprintf(detail, sizeof detail, TR("terminal group %s %s", "группа терминалов %s %s"),
                 group ? group : "?",
                 alive == 1   ? TR("is alive", "работает")
                 : alive == 0 ? TR("is not alive", "не работает")
                              : TR("is unknown", "неизвестна"));
        add(r, "terminal group",
            alive == 1   ? "pass"
            : alive == 0 ? "warn"
                         : "fail",
            detail,
            alive == 1   ? NULL
            : alive == 0 ? TR("start iikoFront on this point's terminal group",
                              "запустите iikoFront на группе терминалов этой точки")
                         : TR("check <terminalGroupId>", "проверьте <terminalGroupId>"));
    }
    cJSON_Delete(json);
    dlv__free(b);
}

static void check_network(report *r, const dlv_config *cfg, long timeout_ms, char *server_time,
                          size_t server_time_len)
{
    const char *url = dlv_config_server_url(cfg);
    const char *terminal = dlv_config_terminal_id(cfg);
    const char *ca = dlv_config_trusted_ca_file(cfg);
    char detail[512], advice[512];

    /* 1. the name resolves */
    dlv__probe_url u;
    dlv__probe_url_split(url, &u);
    const char *host = u.host, *port = u.port, *scheme = u.scheme;
    struct addrinfo *ai = NULL;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    if (!host || getaddrinfo(host, port, &hints, &ai) != 0) {
        snprintf(detail, sizeof detail, TR("cannot resolve %s", "не удаётся разрешить имя %s"),
                 host ? host : url);
        add(r, "resolve", "fail", detail,
            TR("check serverUrl in deliveryPluginConfig.xml: it must name the chain's call-center",
               "проверьте serverUrl в deliveryPluginConfig.xml: он должен указывать на "
               "колл-центр сети"));
        add(r, "connect", "skip", TR("the name does not resolve", "имя не разрешается"), NULL);
        dlv__probe_url_free(&u);
        return;
    }
    freeaddrinfo(ai);
    snprintf(detail, sizeof detail, TR("%s resolves", "%s разрешается"), host);
    add(r, "resolve", "pass", detail, NULL);
    const char *backend = dlv_config_backend(cfg);
    if (backend && strcmp(backend, "iikoCloud") == 0) {
        (void)server_time;
        (void)server_time_len;
        check_iiko(r, cfg, timeout_ms);
        dlv__probe_url_free(&u);
        return;
    }

    /* 2. it connects, 3. TLS is trusted, 4. it speaks the protocol, 5. we are registered: the
     * same registration the runtime makes (lib/net/protocol.c), under the doctor's name. */
    dlv__probe_result *b = dlv__calloc(1, sizeof *b);
    dlv__proto_request reg;
    bool built =
        dlv__proto_register_request(&reg, terminal ? terminal : "", "delivery-doctor") == DLV_OK;
    char *reg_url = dlv__proto_url(url, reg.path);
    if (b && built && reg_url) {
        dlv__probe_call(url, &reg, terminal ? terminal : "", NULL, timeout_ms, ca, b);
    } else if (b) {
        b->failure = DLV__PROBE_OTHER;
        snprintf(b->error, sizeof b->error, "%s", TR("Out of memory", "Недостаточно памяти"));
    }
    dlv__proto_request_free(&reg);
    bool tls = scheme && strcmp(scheme, "https") == 0;
    if (!b) {
        add(r, "connect", "fail", TR("Out of memory", "Недостаточно памяти"),
            TR("check serverUrl and the network", "проверьте serverUrl и сеть"));
    } else if (b->failure == DLV__PROBE_CONNECT) {
        snprintf(detail, sizeof detail, "%s:%s: %s", host, port, b->error);
        add(r, "connect", "fail", detail,
            TR("is the call-center running and reachable from this terminal (firewall, VPN)? is "
               "the port in serverUrl right?",
               "запущен ли колл-центр и доступен ли он с этого терминала (файрвол, VPN)? "
               "верен ли порт в serverUrl?"));
    } else if (b->failure == DLV__PROBE_TLS) {
        snprintf(detail, sizeof detail,
                 TR("%s:%s accepts connections", "%s:%s принимает соединения"), host, port);
        add(r, "connect", "pass", detail, NULL);
        snprintf(detail, sizeof detail, "%s", b->error);
        add(r, "tls", "fail", detail,
            TR("the call-center's certificate is not trusted: install its CA in the system store "
               "or "
               "name it in <trustedCaFile>",
               "сертификат колл-центра не доверенный: установите его CA в системное хранилище "
               "или укажите его в <trustedCaFile>"));
    } else if (b->failure != DLV__PROBE_OK) {
        snprintf(detail, sizeof detail, "%s", b->error);
        add(r, "connect", "fail", detail,
            TR("check serverUrl and the network", "проверьте serverUrl и сеть"));
    } else {
        long status = b->status;
        snprintf(detail, sizeof detail,
                 TR("%s:%s accepts connections", "%s:%s принимает соединения"), host, port);
        add(r, "connect", "pass", detail, NULL);
        add(r, "tls", tls ? "pass" : "skip",
            tls ? TR("certificate verified", "сертификат проверен")
                : TR("serverUrl is plain http: nothing to verify",
                     "serverUrl — обычный http: проверять нечего"),
            NULL);
        cJSON *j = cJSON_ParseWithLength(b->body, b->body_len);
        const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error"));
        const char *token =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "sessionToken"));
        const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "serverTime"));
        if (!cJSON_IsObject(j) || (!code && !token)) {
            snprintf(detail, sizeof detail,
                     TR("%s answers HTTP %ld without the protocol's JSON (%.60s…)",
                        "%s отвечает HTTP %ld без JSON протокола (%.60s…)"),
                     reg_url, status, b->body);
            add(r, "protocol", "fail", detail,
                TR("serverUrl does not point at the delivery call-center: it may be the point's "
                   "own "
                   "local server. Use the call-center's address, e.g. http://callcenter:8080/resto",
                   "serverUrl указывает не на колл-центр доставки: возможно, это локальный "
                   "сервер самой точки. Укажите адрес колл-центра, например "
                   "http://callcenter:8080/resto"));
            add(r, "registered", "skip",
                TR("the server does not speak the protocol", "сервер не говорит на протоколе"),
                NULL);
        } else {
            add(r, "protocol", "pass",
                TR("the server speaks the delivery protocol v1",
                   "сервер говорит на протоколе доставки v1"),
                NULL);
            if (!terminal) {
                add(r, "registered", "warn",
                    TR("no terminalId in the config yet", "в конфигурации ещё нет terminalId"),
                    TR("start the plugin once: it generates terminalId and writes it into the "
                       "config; then register that id at the call-center",
                       "запустите плагин один раз: он создаст terminalId и запишет его в "
                       "конфигурацию; затем зарегистрируйте этот id в колл-центре"));
            } else if (code && strcmp(code, "TerminalNotRegistered") == 0) {
                snprintf(detail, sizeof detail,
                         TR("terminal %s is not a delivery terminal at the call-center",
                            "терминал %s не является терминалом доставки в колл-центре"),
                         terminal);
                add(r, "registered", "fail", detail,
                    TR("register this terminal in the call-center, or remove terminalId from "
                       "deliveryPluginConfig.xml to re-register",
                       "зарегистрируйте терминал в колл-центре или удалите terminalId из "
                       "deliveryPluginConfig.xml для повторной регистрации"));
            } else if (token) {
                add(r, "registered", "pass",
                    TR("the call-center accepted the terminal", "колл-центр принял терминал"),
                    NULL);
                if (st)
                    snprintf(server_time, server_time_len, "%s", st);
                /* 6. the clock, 7. the long poll */
                dlv__time server = 0;
                if (st && !dlv__time_parse(st, &server)) {
                    long skew = (long)((dlv__time)time(NULL) - server);
                    snprintf(detail, sizeof detail,
                             TR("local clock is %+ld s from the server's",
                                "местные часы расходятся с серверными на %+ld с"),
                             skew);
                    long a = skew < 0 ? -skew : skew;
                    add(r, "clock",
                        a > 600  ? "fail"
                        : a > 60 ? "warn"
                                 : "pass",
                        detail,
                        a > 60 ? TR("set the terminal's clock (NTP): due times and cooking lead "
                                    "times depend on it",
                                    "настройте часы терминала (NTP): от них зависят сроки "
                                    "доставки и время приготовления")
                               : NULL);
                }
                dlv__proto_request poll;
                dlv__proto_orders_request(&poll, 0, 1);
                dlv__probe_call(url, &poll, terminal, token, timeout_ms + 1000, ca, b);
                dlv__proto_request_free(&poll);
                cJSON *o = cJSON_ParseWithLength(b->body, b->body_len);
                const cJSON *orders = cJSON_GetObjectItemCaseSensitive(o, "orders");
                if (b->failure == DLV__PROBE_OK && b->status == 200 && cJSON_IsArray(orders)) {
                    snprintf(detail, sizeof detail,
                             TR("the long poll answers: %d live order(s)",
                                "длинный опрос отвечает: активных заказов %d"),
                             cJSON_GetArraySize(orders));
                    add(r, "long poll", "pass", detail, NULL);
                } else {
                    snprintf(detail, sizeof detail,
                             TR("orders answer: %s, HTTP %ld", "ответ orders: %s, HTTP %ld"),
                             b->error, b->status);
                    add(r, "long poll", "fail", detail,
                        TR("the call-center does not serve this terminal's orders: check its logs",
                           "колл-центр не отдаёт заказы этого терминала: смотрите его журналы"));
                }
                cJSON_Delete(o);
            } else {
                snprintf(
                    detail, sizeof detail,
                    TR("registration answered HTTP %ld %s", "регистрация ответила HTTP %ld %s"),
                    status, code ? code : "");
                snprintf(advice, sizeof advice,
                         TR("the call-center refused the terminal: see its logs",
                            "колл-центр отказал терминалу: смотрите его журналы"));
                add(r, "registered", "fail", detail, advice);
            }
        }
        cJSON_Delete(j);
    }
    dlv__free(reg_url);
    dlv__free(b);
    dlv__probe_url_free(&u);
}

void dlv__doctor_outbox(void *rp, long pending, int64_t oldest_at, long held, const char *why)
{
    report *r = rp;
    char detail[256];
    long age = oldest_at ? (long)((int64_t)time(NULL) - oldest_at) : 0;
    snprintf(detail, sizeof detail, TR("%ld command(s) waiting%s", "команд в ожидании: %ld%s"),
             pending, pending ? TR(", the oldest for ", ", самая старая ждёт ") : "");
    if (pending)
        snprintf(detail + strlen(detail), sizeof detail - strlen(detail), TR("%ld s", "%ld с"),
                 age);
    add(r, "outbox", pending && age > 300 ? "warn" : "pass", detail,
        pending && age > 300 ? TR("changes are not reaching the call-center: see the checks above "
                                  "(connect, registered)",
                                  "изменения не доходят до колл-центра: смотрите проверки выше "
                                  "(connect, registered)")
                             : NULL);
    snprintf(detail, sizeof detail,
             TR("%ld print job(s) held%s%s", "задержано заданий печати: %ld%s%s"), held,
             why ? ": " : "", why ? why : "");
    add(r, "print jobs", held ? "warn" : "pass", detail,
        held ? TR("check the printer (paper, power, cable) or reprint by hand",
                  "проверьте принтер (бумага, питание, кабель) или перепечатайте вручную")
             : NULL);
}

static void check_store(report *r, const char *data_dir)
{
    dlv__store *st = NULL;
    dlv_error err = {0};
    int rc = dlv__store_open(data_dir, NULL, &st, &err);
    if (rc == DLV_EBUSY) {
        add(r, "outbox", "skip",
            TR("the terminal is running and holds its database",
               "терминал запущен и держит свою базу"),
            TR("ask the running host instead ({\"cmd\":\"doctor\"} on delivery-host)",
               "спросите запущенный хост ({\"cmd\":\"doctor\"} в delivery-host)"));
        return;
    }
    if (rc != DLV_OK) {
        add(r, "outbox", "fail", err.message,
            TR("see docs/store.md, Corruption", "смотрите docs/store.md, Corruption"));
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
                      : n_offers                 ? TR("interrupted while printing: reprint offered",
                                                      "прервано при печати: предложена перепечатка")
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
        add(r, name, "fail", err.message,
            TR("fix the printer URI (docs/printers.md)",
               "исправьте URI принтера (docs/printers.md)"));
    } else {
        query_wait q = {0};
        int rc = dlv__printer_query(p, on_query, &q, &err);
        if (rc == DLV_ENOTSUP) {
            snprintf(detail, sizeof detail,
                     TR("%s: a one-way link, its state cannot be asked",
                        "%s: односторонняя связь, состояние не запросить"),
                     uri);
            add(r, name, "skip", detail, NULL);
        } else if (rc != DLV_OK) {
            add(r, name, "fail", err.message,
                TR("check the printer's power and cable", "проверьте питание и кабель принтера"));
        } else {
            while (!q.done && uv_run(&loop, UV_RUN_ONCE))
                ;
            bool ok = q.status == DLV_OK &&
                      !(q.flags & (DLV_PRINTER_STATUS_OFFLINE | DLV_PRINTER_STATUS_PAPER_OUT |
                                   DLV_PRINTER_STATUS_COVER_OPEN));
            snprintf(
                detail, sizeof detail, "%s: %s%s%s%s", uri,
                q.status ? q.message : TR("online", "в сети"),
                q.flags & DLV_PRINTER_STATUS_PAPER_OUT ? TR(", paper out", ", нет бумаги") : "",
                q.flags & DLV_PRINTER_STATUS_COVER_OPEN ? TR(", cover open", ", крышка открыта")
                                                        : "",
                q.flags & DLV_PRINTER_STATUS_PAPER_LOW ? TR(", paper low", ", мало бумаги") : "");
            add(r, name, ok ? "pass" : "fail", detail,
                ok ? NULL
                   : TR("load paper, close the cover, switch the printer on: held jobs print "
                        "then by themselves",
                        "заправьте бумагу, закройте крышку, включите принтер: задержанные "
                        "задания напечатаются сами"));
        }
        dlv__printer_close(p, closed_noop, NULL);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

int dlv__doctor(const dlv_doctor_options *opts, const dlv_config *loaded,
                const dlv__doctor_outbox_fn outbox, void *outbox_arg, char **out, dlv_error *err)
{
    report r = {cJSON_CreateArray(), 0, DLV__LOCALE_RU};
    if (opts->version >= 2 && dlv__locale_parse(opts->locale, &r.loc) != 0) {
        cJSON_Delete(r.checks);
        return dlv__error_set(err, DLV_EINVAL, "dlv_doctor_options.locale: '%s' is not ru or en",
                              opts->locale);
    }
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
    report *rp = &r;
#define TRR(en, ru) DLV__TR(rp->loc, en, ru)
    if (!cfg) {
        add(&r, "config", "fail", cerr.message,
            cerr.code == DLV_ENOTFOUND
                ? TRR("start the terminal once: the first start creates deliveryPluginConfig.xml; "
                      "then set serverUrl in it",
                      "запустите терминал: при первом запуске создастся deliveryPluginConfig.xml; "
                      "затем укажите в нём serverUrl")
                : TRR("fix deliveryPluginConfig.xml at the line named (see "
                      "deliveryPluginConfig.xml.sample)",
                      "исправьте deliveryPluginConfig.xml в указанной строке (образец: "
                      "deliveryPluginConfig.xml.sample)"));
    } else if (!dlv_config_server_url(cfg)) {
        /* The first start's file, or one without serverUrl: nothing to connect to. */
        snprintf(detail, sizeof detail, TRR("%s: serverUrl is not set", "%s: serverUrl не задан"),
                 dlv_config_path(cfg));
        char advice[800];
        snprintf(advice, sizeof advice,
                 TRR("Set serverUrl, the call-center server's address, in %s and restart the "
                     "terminal",
                     "Укажите serverUrl — адрес сервера колл-центра — в файле %s и перезапустите "
                     "терминал"),
                 dlv_config_path(cfg));
        add(&r, "config", "fail", detail, advice);
    } else {
        snprintf(detail, sizeof detail, "%s: serverUrl %s, terminalId %s", dlv_config_path(cfg),
                 dlv_config_server_url(cfg),
                 dlv_config_terminal_id(cfg) ? dlv_config_terminal_id(cfg)
                                             : TRR("(not yet)", "(ещё нет)"));
        add(&r, "config", dlv_config_warning_count(cfg) ? "warn" : "pass", detail,
            dlv_config_warning_count(cfg) ? dlv_config_warning(cfg, 0) : NULL);
    }
    if (opts->front_config_path && !loaded) {
        dlv_front_config *fc = NULL;
        if (dlv_front_config_load(opts->front_config_path, &fc, &cerr) != DLV_OK)
            add(&r, "front config", "fail", cerr.message,
                TRR("fix config.xml at the line named", "исправьте config.xml в указанной строке"));
        else
            add(&r, "front config", "pass", opts->front_config_path, NULL);
        dlv_front_config_free(fc);
    }
    if (cfg) {
        const char *path = dlv_config_path(cfg);
        const char *slash = strrchr(path, '/');
        char *dir = slash ? dlv__strndup(path, (size_t)(slash - path)) : dlv__strdup(".");
        if (dir)
            check_templates(&r, dir);
        dlv__free(dir);
    }
    char server_time[40] = "";
    if (cfg && dlv_config_server_url(cfg)) {
        long timeout = opts->timeout_ms ? opts->timeout_ms : dlv_config_service_timeout_ms(cfg);
        check_network(&r, cfg, timeout, server_time, sizeof server_time);
    }
    if (cfg)
        dlv__jput_string(root, "terminalId", dlv_config_terminal_id(cfg));
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
    if (!opts || !report_out || opts->version < 1 || opts->version > DLV_DOCTOR_OPTIONS_VERSION)
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
    dlv__dynbuf out;
    dlv__dynbuf_init(&out, REPORT_TEXT_MAX);
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
        dlv__dynbuf_addf(&out, "%-5s %-12s %s\n", upper, name ? name : "", detail ? detail : "");
        if (advice)
            dlv__dynbuf_addf(&out, "      -> %s\n", advice);
    }
    bool ok = cJSON_IsTrue(cJSON_GetObjectItem(j, "ok"));
    dlv__dynbuf_addf(&out, "%s\n",
                     ok ? "all checks passed" : "some checks failed: see the advice above");
    cJSON_Delete(j);
    /* A failed add (out of memory) sticks to the buffer: take() then returns NULL. */
    return dlv__dynbuf_take(&out, NULL);
}
