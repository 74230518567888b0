/* Allocation failure everywhere the terminal reads outside input: every allocation of a call is
 * failed in turn (N = 0, 1, ... until a run completes with nothing failed). Each failed run must
 * return an error that says so (or, when the code recovered by itself, the right result), never
 * crash, and leave nothing allocated; valgrind and ASan check the last part.
 *
 * test_config.c and test_order_hostile.c already sweep a write-back config load, one ORDER, a
 * strict orders answer, a register answer, encoding and one notification template; this suite
 * covers the rest: read-only and default-path config loads, invalid configs, the front config,
 * settings, the commands answer, the lenient orders answer, drafts and invalid orders, every
 * notification field on every kind of order, document templates from memory and from the
 * config folder, and the terminal context's start-up (config, templates, cached orders). */
#define _GNU_SOURCE
#include <libxml/xmlerror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/internal.h"
#include "delivery/config.h"
#include "delivery/delivery.h"
#include "order/notify.h"
#include "print/doc.h"
#include "runtime/rt.h"
#include "test_order_common.h"
#include "testlib.h"

#define TID "e49d3632-b06a-4a9a-8c76-ae816c4404ad"
#define SWEEP_MAX 200000
/* A sweep's own result check failed: the call returned success with a wrong result. */
#define WRONG_RESULT (-1000)

static char *dir;

typedef int (*attempt_fn)(void *arg, dlv_error *err);

/* A sweep's function calls this between the call under test and its own checks of the result,
 * so that the checks' allocations neither fail nor count. */
static bool checking;
static unsigned long checks_began_at;

static void checks_begin(void)
{
    if (!checking) {
        checks_began_at = dlv__alloc_count();
        checking = true;
        dlv__alloc_fail_after(-1);
    }
}

static bool allowed_code(int rc, const int *allowed)
{
    for (; *allowed; allowed++)
        if (rc == *allowed)
            return true;
    return false;
}

/* Runs `fn` with allocation N failing for N = 0, 1, ... until a run makes no more than N
 * allocations, i.e. none failed; that complete run must return `final`. A run in which an
 * allocation failed must return one of `allowed` (0-terminated list of error codes) with a
 * message, or DLV_OK when `ok_after_failure` (the code may recover, e.g. libxml2 does) — fn
 * then checks its result itself and returns WRONG_RESULT when it is wrong. Returns the number
 * of failed runs. */
static long sweep(const char *what, attempt_fn fn, void *arg, int final, const int *allowed,
                  bool ok_after_failure)
{
    long n;
    long codes[40] = {0};
    for (n = 0; n < SWEEP_MAX; n++) {
        dlv_error err;
        memset(&err, 0, sizeof err);
        unsigned long before = dlv__alloc_count();
        checking = false;
        dlv__alloc_fail_after(n);
        int rc = fn(arg, &err);
        dlv__alloc_fail_after(-1);
        unsigned long made = (checking ? checks_began_at : dlv__alloc_count()) - before;
        checking = false;
        if (made <= (unsigned long)n) {
            if (rc != final)
                fprintf(stderr, "\n  %s: complete run returned %s (%s), expected %s\n", what,
                        dlv_err_name(rc), err.message, dlv_err_name(final));
            CU_ASSERT_EQUAL(rc, final);
            break;
        }
        bool ok = rc == DLV_OK ? ok_after_failure : allowed_code(rc, allowed);
        if (rc != DLV_OK && rc != WRONG_RESULT && (err.code != rc || err.message[0] == '\0')) {
            fprintf(stderr, "\n  %s: allocation %ld failed: %s without a message\n", what, n,
                    dlv_err_name(rc));
            ok = false;
        }
        if (!ok)
            fprintf(stderr, "\n  %s: allocation %ld failed: returned %s: %s\n", what, n,
                    rc == WRONG_RESULT ? "a wrong result" : dlv_err_name(rc), err.message);
        CU_ASSERT(ok);
        if (rc <= 0 && rc > -40)
            codes[-rc]++;
    }
    CU_ASSERT(n < SWEEP_MAX);
    if (n < 3)
        fprintf(stderr, "\n  %s: completed after only %ld failures\n", what, n);
    CU_ASSERT(n >= 3); /* the sweep really exercised failures */
    if (getenv("DLV_TEST_VERBOSE")) {
        fprintf(stderr, "\n  %s: %ld allocations;", what, n);
        for (int c = 0; c < 40; c++)
            if (codes[c])
                fprintf(stderr, " %s×%ld", dlv_err_name(-c), codes[c]);
        fprintf(stderr, "\n");
    }
    return n;
}

static const int ENOMEM_ONLY[] = {DLV_ENOMEM, 0};
/* cJSON cannot tell "out of memory" from "malformed": its parser returns NULL for both. */
static const int JSON_OOM[] = {DLV_ENOMEM, DLV_EJSON, 0};

/* Known bug (reported): the XML readers report some allocation failures as a defect of a valid
 * file: libxml2 failing inside the parser reads as "malformed XML" (DLV_ECONFIG for the configs,
 * DLV_ETEMPLATE for document templates), xmlParseURI failing as "<serverUrl> is not an http://
 * address", the config write-back's serialiser as DLV_EIO. The operator is sent to fix a file
 * that is fine. Still an error each time, so tolerated unless DLV_TEST_KNOWN_BUGS=1. */
static bool known_bugs(void)
{
    return getenv("DLV_TEST_KNOWN_BUGS") != NULL;
}

static const int *config_oom(void)
{
    static const int strict[] = {DLV_ENOMEM, 0};
    static const int tolerated[] = {DLV_ENOMEM, DLV_ECONFIG, DLV_EIO, 0};
    return known_bugs() ? strict : tolerated;
}

static const int *template_oom(void)
{
    static const int strict[] = {DLV_ENOMEM, 0};
    static const int tolerated[] = {DLV_ENOMEM, DLV_ETEMPLATE, 0};
    return known_bugs() ? strict : tolerated;
}

static char *scratch(const char *name, const char *text)
{
    return dlv_test_write_file(dir, name, text);
}

/* ---- configuration ---- */

#define FULL_CONFIG                                                                                \
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"                                                 \
    "<!-- kitchen terminal -->\n"                                                                  \
    "<config xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"                           \
    "  <serviceMethodTimeoutMilliseconds>1500</serviceMethodTimeoutMilliseconds>\n"                \
    "  <serverUrl>https://cc.example.ru:8443/resto/</serverUrl>\n"                                 \
    "  <terminalId>" TID "</terminalId>\n"                                                         \
    "  <connectToServerDelayInSeconds xsi:nil=\"true\"/>\n"                                        \
    "  <trustedCaFile>/etc/ssl/private-cc.pem</trustedCaFile>\n"                                   \
    "  <vendorExtra a=\"1\"><nested/>keep</vendorExtra>\n"                                         \
    "  <anotherOne/>\n"                                                                            \
    "</config>\n"

static int load_full_read_only(void *arg, dlv_error *err)
{
    dlv_config *cfg = NULL;
    int rc = dlv_config_load(arg, DLV_CONFIG_READ_ONLY, &cfg, err);
    if (rc != DLV_OK) {
        if (cfg)
            return WRONG_RESULT;
        return rc;
    }
    bool right = strcmp(dlv_config_server_url(cfg), "https://cc.example.ru:8443/resto") == 0 &&
                 strcmp(dlv_config_terminal_id(cfg), TID) == 0 &&
                 dlv_config_service_timeout_ms(cfg) == 1500 &&
                 dlv_config_connect_delay_s(cfg) == DLV_CONFIG_CONNECT_DELAY_S_DEFAULT &&
                 strcmp(dlv_config_trusted_ca_file(cfg), "/etc/ssl/private-cc.pem") == 0 &&
                 dlv_config_warning_count(cfg) == 2 &&
                 strstr(dlv_config_warning(cfg, 0), "<vendorExtra>") != NULL;
    dlv_config_free(cfg);
    return right ? DLV_OK : WRONG_RESULT;
}

static void config_read_only(void)
{
    char *path = scratch("full.xml", FULL_CONFIG);
    sweep("config read-only", load_full_read_only, path, DLV_OK, config_oom(), true);
    char *after = dlv_test_read_file(path, NULL);
    CU_ASSERT_STRING_EQUAL(after, FULL_CONFIG); /* read-only never writes */
    free(after);
    free(path);
}

typedef struct write_back_case {
    const char *text;
    char *path;
} write_back_case;

/* The generated terminalId is written into the file: after a failed run the file is either
 * untouched or complete with an id, never half-written. */
static int load_writing_back(void *arg, dlv_error *err)
{
    write_back_case *c = arg;
    free(c->path);
    c->path = scratch("write-back.xml", c->text);
    dlv_config *cfg = NULL;
    int rc = dlv_config_load(c->path, 0, &cfg, err);
    checks_begin();
    char *after = dlv_test_read_file(c->path, NULL);
    bool file_ok = after && (strcmp(after, c->text) == 0 ||
                             (strstr(after, "<terminalId>") && strstr(after, "</terminalId>") &&
                              strstr(after, "<serverUrl>http://h/resto</serverUrl>")));
    if (rc == DLV_OK)
        file_ok = file_ok && cfg && strstr(after, dlv_config_terminal_id(cfg)) &&
                  dlv_config_terminal_id_generated(cfg);
    if (rc == DLV_OK && file_ok) {
        /* What was written loads again with the same id. */
        dlv_config *again = NULL;
        dlv_error e2;
        file_ok = dlv_config_load(c->path, DLV_CONFIG_READ_ONLY, &again, &e2) == DLV_OK &&
                  strcmp(dlv_config_terminal_id(again), dlv_config_terminal_id(cfg)) == 0;
        dlv_config_free(again);
    }
    if (rc != DLV_OK && cfg)
        file_ok = false;
    if (!file_ok)
        fprintf(stderr, "\n  write-back left: %s\n", after ? after : "(no file)");
    free(after);
    dlv_config_free(cfg);
    return file_ok ? rc : WRONG_RESULT;
}

static void config_write_back(void)
{
    write_back_case cases[] = {
        /* An empty element is filled in place; a BOM and the declaration are kept. */
        {"\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<config>\n"
         "  <terminalId></terminalId>\n  <serverUrl>http://h/resto</serverUrl>\n</config>\n",
         NULL},
        /* Known bug (reported): with an encoding in the declaration, write_back() passes it to
         * xmlSaveToBuffer(), which in libxml2 2.9.14 leaks its encoding handler (56 bytes and
         * 64 KiB of iconv state) when a later allocation inside it fails. Swept only with
         * DLV_TEST_KNOWN_BUGS=1, where valgrind shows the leak. */
        {"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<config>\n"
         "  <terminalId></terminalId>\n  <serverUrl>http://h/resto</serverUrl>\n</config>\n",
         NULL},
        /* No element: appended after the last one, indented like the first. */
        {"<config>\n\t<serverUrl>http://h/resto</serverUrl>\n\t<!-- c -->\n</config>", NULL},
        /* An element-less root other than whitespace. */
        {"<config><serverUrl>http://h/resto</serverUrl></config>", NULL},
    };
    for (size_t i = 0; i < DLV__ARRAY_SIZE(cases); i++) {
        if (i == 1 && !known_bugs())
            continue;
        sweep("config write-back", load_writing_back, &cases[i], DLV_OK, config_oom(), true);
        free(cases[i].path);
    }
}

static int load_default_path(void *arg, dlv_error *err)
{
    (void)arg;
    dlv_config *cfg = NULL;
    int rc = dlv_config_load(NULL, DLV_CONFIG_READ_ONLY, &cfg, err);
    bool right = rc != DLV_OK ? cfg == NULL
                              : strcmp(dlv_config_terminal_id(cfg), TID) == 0 &&
                                    strstr(dlv_config_path(cfg), "Resto.Front.Api.Delivery");
    dlv_config_free(cfg);
    return right ? rc : WRONG_RESULT;
}

static void config_default_path(void)
{
    char *xdg = NULL;
    CU_ASSERT_FATAL(asprintf(&xdg, "%s/xdg", dir) > 0);
    char *folder = NULL;
    CU_ASSERT_FATAL(
        asprintf(&folder, "%s/iiko/CashServer/PluginConfigs/Resto.Front.Api.Delivery", xdg) > 0);
    char *cmd = NULL;
    CU_ASSERT_FATAL(asprintf(&cmd, "mkdir -p '%s'", folder) > 0);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    free(dlv_test_write_file(folder, "deliveryPluginConfig.xml", FULL_CONFIG));
    char *saved = getenv("XDG_CONFIG_HOME") ? strdup(getenv("XDG_CONFIG_HOME")) : NULL;
    setenv("XDG_CONFIG_HOME", xdg, 1);
    /* Was a use-after-free (the default path freed, then formatted into the message): fixed. */
    sweep("config at the default path", load_default_path, NULL, DLV_OK, config_oom(), true);
    if (saved)
        setenv("XDG_CONFIG_HOME", saved, 1);
    else
        unsetenv("XDG_CONFIG_HOME");
    free(saved);
    free(cmd);
    free(folder);
    free(xdg);
}

static int load_bad_config(void *arg, dlv_error *err)
{
    dlv_config *cfg = (dlv_config *)0x1;
    int rc = dlv_config_load(arg, 0, &cfg, err);
    if (cfg || (rc == DLV_ECONFIG && !strstr(err->message, arg)))
        return WRONG_RESULT;
    return rc;
}

static void config_errors(void)
{
    static const char *const bad[] = {
        "<config><serverUrl>http://h</serverUrl>",
        "<config>\n<serverUrl>x</serverUr>\n</config>",
        "<settings><serverUrl>http://h/resto</serverUrl></settings>",
        "<config>\n<terminalId>" TID "</terminalId>\n</config>",
        "<config><serverUrl>ftp://h/resto</serverUrl></config>",
        "<config><serverUrl>http://h/a b</serverUrl><unknown/></config>",
        "<config><serverUrl>http://h/r</serverUrl><serviceMethodTimeoutMilliseconds>99"
        "</serviceMethodTimeoutMilliseconds></config>",
        "<config><serverUrl>http://h/r</serverUrl>\n<terminalId>terminal-1</terminalId></config>",
        "<config><serverUrl>http://h/r</serverUrl>\n<serverUrl>http://o/r</serverUrl></config>",
        "<config><serverUrl><b>http://h</b></serverUrl></config>",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE config [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
        "<config><serverUrl>&x;</serverUrl></config>",
        "",
    };
    static const int allowed[] = {DLV_ECONFIG, DLV_ENOMEM, 0};
    for (size_t i = 0; i < DLV__ARRAY_SIZE(bad); i++) {
        char *path = scratch("bad.xml", bad[i]);
        sweep("invalid config", load_bad_config, path, DLV_ECONFIG, allowed, false);
        free(path);
    }
}

static int load_front(void *arg, dlv_error *err)
{
    dlv_front_config *fc = (dlv_front_config *)0x1;
    int rc = dlv_front_config_load(arg, &fc, err);
    if (rc != DLV_OK)
        return fc ? WRONG_RESULT : rc;
    bool right = dlv_front_config_flag(fc, DLV_FRONT_SHOW_DELIVERY_LIST_ON_LOGIN) == 1 &&
                 dlv_front_config_flag(fc, DLV_FRONT_ALLOW_HAND_CARD_ROLL) == 0 &&
                 dlv_front_config_flag(fc, DLV_FRONT_CARD_READER_CONFIGURED) == 1 &&
                 dlv_front_config_flag(fc, DLV_FRONT_A4_DELIVERY_INVOICE_FORMAT) == 1;
    dlv_front_config_free(fc);
    return right ? DLV_OK : WRONG_RESULT;
}

static void front_config(void)
{
    char *path =
        scratch("front.xml", "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<config>\n"
                             "  <showDeliveryListOnLogin>true</showDeliveryListOnLogin>\n"
                             "  <AllowHandCardRoll>false</AllowHandCardRoll>\n"
                             "  <cardReaderConfigured>1</cardReaderConfigured>\n"
                             "  <hostStuff><deep a=\"b\">x</deep></hostStuff>\n"
                             "  <a4DeliveryInvoiceFormat> true </a4DeliveryInvoiceFormat>\n"
                             "</config>\n");
    sweep("front config", load_front, path, DLV_OK, config_oom(), true);
    free(path);
    static const int allowed[] = {DLV_ECONFIG, DLV_ENOMEM, 0};
    static const char *const bad[] = {
        "<config>\n<a4DeliveryInvoiceFormat>yes</a4DeliveryInvoiceFormat></config>",
        ("<config><AllowHandCardRoll>true</AllowHandCardRoll>\n"
         "<AllowHandCardRoll>false</AllowHandCardRoll></config>"),
        "<!DOCTYPE config SYSTEM \"http://evil/x.dtd\"><config/>",
    };
    for (size_t i = 0; i < DLV__ARRAY_SIZE(bad); i++) {
        path = scratch("front-bad.xml", bad[i]);
        sweep("invalid front config", load_front, path, DLV_ECONFIG, allowed, false);
        free(path);
    }
}

/* ---- call-center JSON ---- */

static int decode_settings(void *arg, dlv_error *err)
{
    dlv__settings *s = NULL;
    int rc = dlv__settings_from_json(arg, strlen(arg), &s, err);
    if (rc != DLV_OK)
        return s ? WRONG_RESULT : rc;
    char *text = dlv__settings_to_json(s);
    rc = text ? DLV_OK : dlv__error_set(err, DLV_ENOMEM, "settings_to_json: out of memory");
    dlv__settings *again = NULL;
    if (rc == DLV_OK)
        rc = dlv__settings_from_json(text, strlen(text), &again, err);
    if (rc == DLV_OK && (again->courier_count != s->courier_count ||
                         again->cancel_cause_count != s->cancel_cause_count ||
                         again->city_count != s->city_count || s->courier_count == 0))
        rc = WRONG_RESULT;
    free(text);
    dlv__settings_free(again);
    dlv__settings_free(s);
    return rc;
}

static void settings(void)
{
    char *text = fixture("settings.json");
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    sweep("settings", decode_settings, text, DLV_OK, JSON_OOM, false);
    free(text);
}

static int decode_commands(void *arg, dlv_error *err)
{
    dlv__commands_response *r = NULL;
    int rc = dlv__commands_response_decode(arg, strlen(arg), &r, err);
    if (rc != DLV_OK)
        return r ? WRONG_RESULT : rc;
    bool right = r->result_count == 3 && r->results[2].outcome == DLV__OUTCOME_REJECTED &&
                 r->results[2].error && strcmp(r->results[2].error, "StatusConflict") == 0;
    dlv__commands_response_free(r);
    return right ? DLV_OK : WRONG_RESULT;
}

static void commands_response(void)
{
    char *text = fixture("commands_response.json");
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    sweep("commands response", decode_commands, text, DLV_OK, JSON_OOM, false);
    free(text);
}

/* The runtime's way: an invalid order is left out and named, the rest flow. Under allocation
 * failure the whole answer must fail rather than quietly drop a valid order. */
static bool lenient_message_relaxed;

static int decode_lenient(void *arg, dlv_error *err)
{
    dlv__orders_response *r = NULL;
    int rc = dlv__orders_response_decode_lenient(arg, strlen(arg), &r, err);
    if (rc == DLV_ENOMEM && lenient_message_relaxed && err->code != rc) {
        char was[DLV_ERROR_MESSAGE_MAX];
        snprintf(was, sizeof was, "%s", err->message);
        dlv__error_set(err, rc, "(known bug) %.400s", was);
    }
    if (rc != DLV_OK)
        return r ? WRONG_RESULT : rc;
    bool right = r->order_count == 2 && r->invalid_count == 2 && r->removed_count == 1 &&
                 r->settings != NULL && r->revision == 12;
    if (!right)
        fprintf(stderr, "\n  lenient answer: %zu orders, %zu invalid (%s)\n", r->order_count,
                r->invalid_count, r->invalid_count ? r->invalid[0].message : "");
    dlv__orders_response_free(r);
    return right ? DLV_OK : WRONG_RESULT;
}

static void lenient_orders_response(void)
{
    char *a = fixture("order_courier.json"), *b = fixture("order_pickup.json");
    char *s = fixture("settings.json");
    CU_ASSERT_FATAL(a && b && s);
    char *bad = replace_once(a, "\"items\":[", "\"items\":{},\"x\":[");
    size_t len = strlen(a) + strlen(b) + strlen(s) + strlen(bad) + 300;
    char *resp = malloc(len);
    snprintf(resp, len,
             "{\"revision\":12,\"orders\":[%s,%s,%s,{\"id\":\"not-a-uuid\"}],"
             "\"removedOrderIds\":[\"ffffffff-0000-4000-8000-000000000001\"],\"settings\":%s}",
             a, bad, b, s);
    /* Was: DLV_ENOMEM returned with the invalid order's message still in err. Fixed. */
    lenient_message_relaxed = false;
    sweep("lenient orders response", decode_lenient, resp, DLV_OK, JSON_OOM, false);
    lenient_message_relaxed = false;
    free(resp);
    free(bad);
    free(a);
    free(b);
    free(s);
}

typedef struct order_case {
    const char *text;
    unsigned flags;
} order_case;

static int decode_order(void *arg, dlv_error *err)
{
    order_case *c = arg;
    dlv__order *o = (dlv__order *)0x1;
    int rc = dlv__order_from_json(c->text, strlen(c->text), c->flags, &o, err);
    if (rc != DLV_OK)
        return o ? WRONG_RESULT : rc;
    dlv__order_free(o);
    return DLV_OK;
}

static void orders_of_every_kind(void)
{
    char *pickup = fixture("order_pickup.json"), *anon = fixture("order_anonymous.json");
    char *courier = fixture("order_courier.json");
    CU_ASSERT_FATAL(pickup && anon && courier);
    /* A host-made draft: no id, number, revision or status yet. */
    char *d1 = replace_once(courier, "\"id\":\"6f0c8e5a-3b7d-4c2e-9a1f-0d2b4c6e8a10\",", "");
    char *d2 = replace_once(d1, "\"status\":\"Unconfirmed\"", "\"status\":null");
    order_case ok[] = {{pickup, 0}, {anon, 0}, {d2, DLV__ORDER_DRAFT}};
    for (size_t i = 0; i < DLV__ARRAY_SIZE(ok); i++)
        sweep("order", decode_order, &ok[i], DLV_OK, JSON_OOM, false);
    /* Invalid orders fail the same way whatever allocation fails. */
    char *b1 = replace_once(courier, "\"sum\":590.00", "\"sum\":591.00");
    char *b2 = replace_once(courier, "\"comment\":\"без лука\"", "\"comment\":\"\xC0\xAF\"");
    char *b3 =
        replace_once(courier, "\"resultSum\":680.00", "\"resultSum\":680.00,\"resultSum\":1");
    order_case bad[] = {{b1, 0}, {b2, 0}, {b3, 0}, {"[1,2,{\"a\":[[[[{}]]]]}]", 0}};
    for (size_t i = 0; i < DLV__ARRAY_SIZE(bad); i++)
        sweep("invalid order", decode_order, &bad[i], DLV_EJSON, JSON_OOM, false);
    free(b1);
    free(b2);
    free(b3);
    free(d1);
    free(d2);
    free(pickup);
    free(anon);
    free(courier);
}

/* ---- notification templates ---- */

static char *every_field_template(void)
{
    size_t cap = 8192, len = 0;
    char *text = malloc(cap);
    text[0] = '\0';
    for (size_t i = 0; dlv__template_field(i); i++) {
        const char *f = dlv__template_field(i);
        char piece[200];
        char name[160];
        snprintf(name, sizeof name, "%s", f);
        char *idx = strstr(name, "[]");
        if (idx) /* an indexed field: the first element */
            memmove(idx + 3, idx + 2, strlen(idx + 2) + 1), memcpy(idx, "[0]", 3);
        int n = snprintf(piece, sizeof piece, "%s=@(Model.%s); ", f, name);
        if (len + (size_t)n + 1 > cap)
            text = realloc(text, cap *= 2);
        memcpy(text + len, piece, (size_t)n + 1);
        len += (size_t)n;
    }
    return text;
}

typedef struct notify_case {
    const char *text;
    const dlv__order *orders[3];
} notify_case;

static int notify_roundtrip(void *arg, dlv_error *err)
{
    notify_case *c = arg;
    dlv__template *t = (dlv__template *)0x1;
    int rc = dlv__template_compile(c->text, strlen(c->text), &t, err);
    if (rc != DLV_OK)
        return t ? WRONG_RESULT : rc;
    const dlv__render_options opts = {.utc_offset_minutes = 180,
                                     .date_format = "dd.MM.yy HH:mm",
                                     .cafe_address = "Тверская, 7",
                                     .decimal_separator = '.'};
    for (size_t i = 0; i < 3 && rc == DLV_OK; i++) {
        char *out = (char *)0x1;
        rc = dlv__template_render(t, c->orders[i], i == 1 ? NULL : &opts, &out, err);
        if (rc != DLV_OK && out)
            rc = WRONG_RESULT;
        if (rc == DLV_OK)
            free(out);
    }
    dlv__template_free(t);
    return rc;
}

static void notification_every_field(void)
{
    char *text = every_field_template();
    notify_case c = {text,
                     {load_order("order_courier.json", 0), load_order("order_pickup.json", 0),
                      load_order("order_anonymous.json", 0)}};
    CU_ASSERT_FATAL(c.orders[0] && c.orders[1] && c.orders[2]);
    sweep("notification with every field", notify_roundtrip, &c, DLV_OK, ENOMEM_ONLY, false);
    static const int bad_allowed[] = {DLV_ETEMPLATE, DLV_ENOMEM, 0};
    notify_case bad = {"Здравствуйте, @Model.Customer.Name! @Model.Nope", {NULL}};
    sweep("invalid notification", notify_roundtrip, &bad, DLV_ETEMPLATE, bad_allowed, false);
    for (size_t i = 0; i < 3; i++)
        dlv__order_free((dlv__order *)c.orders[i]);
    free(text);
}

/* ---- document templates ---- */

typedef struct print_case {
    const char *text; /* a template from memory, or NULL: dlv__print_render from templates_dir */
    const char *templates_dir;
    const dlv__order *orders[3];
    const dlv__settings *settings;
} print_case;

static int print_from_memory(print_case *c, dlv_error *err)
{
    dlv__tpl *tpl = (dlv__tpl *)0x1;
    int rc = dlv__tpl_parse("custom.xml", c->text, strlen(c->text), &tpl, err);
    if (rc != DLV_OK)
        return tpl ? WRONG_RESULT : rc;
    dlv__print_context ctx = {
        .now = 1795955000, .tz_offset_minutes = 180, .copies = 1, .restaurant = "Север"};
    for (size_t i = 0; i < 3 && rc == DLV_OK; i++) {
        dlv__doc_input in = {.order = c->orders[i], .ctx = &ctx, .copy_number = 1, .copies = 1};
        dlv__doc *doc = NULL;
        rc = dlv__doc_build(tpl, &in, &doc, err);
        dlv__mlines lines;
        if (rc == DLV_OK)
            rc = dlv__layout(doc, 42, &lines, err);
        dlv__print_profile prof = {DLV__PRINT_DEFAULT_CODEPAGE, 42, true};
        dlv__print_out out = {0};
        if (rc == DLV_OK)
            rc = dlv__escpos_begin(&prof, &out, err);
        if (rc == DLV_OK)
            rc = dlv__escpos_copy(&lines, &prof, &out, err);
        if (rc == DLV_OK)
            rc = dlv__text_copy(&lines, 42, &out, err);
        dlv__print_out_free(&out);
        dlv__doc_free(doc);
    }
    dlv__tpl_free(tpl);
    return rc;
}

static int print_roundtrip(void *arg, dlv_error *err)
{
    print_case *c = arg;
    if (c->text)
        return print_from_memory(c, err);
    int rc = dlv__print_templates_check(c->templates_dir, err);
    dlv__print_context ctx = {.templates_dir = c->templates_dir,
                              .now = 1795955000,
                              .tz_offset_minutes = 180,
                              .is_copy = true};
    for (int kind = DLV__DOC_INVOICE; kind <= DLV__DOC_SERVICE_CHECK && rc == DLV_OK; kind++) {
        for (size_t i = 0; i < 3 && rc == DLV_OK; i++) {
            for (int f = DLV__FORMAT_ESCPOS; f <= DLV__FORMAT_TEXT && rc == DLV_OK; f++) {
                dlv__print_out out = {0};
                rc = dlv__print_render((dlv__doc_kind)kind, c->orders[i], c->settings, &ctx,
                                       (dlv__print_format)f, NULL, &out, err);
                if (rc == DLV_OK && out.len == 0)
                    rc = WRONG_RESULT;
                if (rc != DLV_OK && rc != WRONG_RESULT && out.len != 0)
                    rc = WRONG_RESULT; /* "on error out is left as it was" */
                dlv__print_out_free(&out);
            }
        }
    }
    return rc;
}

static void document_templates(void)
{
    print_case c = {.orders = {load_order("order_courier.json", 0),
                               load_order("order_pickup.json", 0),
                               load_order("order_anonymous.json", 0)},
                    .settings = load_settings()};
    CU_ASSERT_FATAL(c.orders[0] && c.orders[1] && c.orders[2] && c.settings);
    for (int kind = DLV__DOC_INVOICE; kind <= DLV__DOC_SERVICE_CHECK; kind++) {
        c.text = dlv__print_builtin_template((dlv__doc_kind)kind);
        CU_ASSERT_PTR_NOT_NULL_FATAL(c.text);
        sweep("built-in document template", print_roundtrip, &c, DLV_OK, template_oom(), false);
    }
    /* A replacement template from the config folder, read from its file. */
    char *tdir = NULL;
    CU_ASSERT_FATAL(asprintf(&tdir, "%s/templates", dir) > 0);
    mkdir(tdir, 0755);
    free(dlv_test_write_file(tdir, "invoice.xml",
                             "<?xml version=\"1.0\"?>\n<doc><f1>Накладная {{Order.Number}}</f1>"
                             "<foreach items=\"Order.Items\"><pair left=\"{{Item.Name}}\" "
                             "right=\"{{Item.Sum}}\"/></foreach><line/>"
                             "<if field=\"Address.Line\">{{Address.Line}}</if><np/></doc>\n"));
    c.text = NULL;
    c.templates_dir = tdir;
    sweep("documents from the config folder", print_roundtrip, &c, DLV_OK, template_oom(), false);
    static const int bad_allowed[] = {DLV_ETEMPLATE, DLV_ENOMEM, 0};
    print_case bad = c;
    bad.text = "<doc>\n<foreach items=\"Order.Items\">\n{{Modifier.Name}}</foreach></doc>";
    sweep("invalid document template", print_roundtrip, &bad, DLV_ETEMPLATE, bad_allowed, false);
    for (size_t i = 0; i < 3; i++)
        dlv__order_free((dlv__order *)c.orders[i]);
    dlv__settings_free((dlv__settings *)c.settings);
    free(tdir);
}

/* ---- the terminal's start-up ---- */

typedef struct ctx_case {
    char *config_path;
    char *data_dir;
    size_t cached_orders;
    int64_t cached_revision;
} ctx_case;

static void quiet_log(void *arg, dlv_log_level level, const char *line)
{
    (void)arg, (void)level, (void)line;
}

static int create_context(void *arg, dlv_error *err)
{
    ctx_case *c = arg;
    dlv_options opts = {.version = DLV_OPTIONS_VERSION,
                        .config_path = c->config_path,
                        .data_dir = c->data_dir,
                        .log_level = DLV_LOG_ERROR,
                        .on_log = quiet_log};
    dlv_ctx *ctx = (dlv_ctx *)0x1;
    int rc = dlv_ctx_create(&opts, &ctx, err);
    if (rc != DLV_OK)
        return ctx ? WRONG_RESULT : rc;
    /* A context that says it started either has every cached order and resumes the sync at the
     * cached revision, or syncs from revision 0 so the call-center sends the whole snapshot
     * again (also what happens when the revision itself could not be read). Settings left
     * unread are waited for from the call-center (registration brings them), which is allowed. */
    bool right = dlv__rt_revision(ctx) == 0 || (dlv__rt_order_count(ctx) == c->cached_orders &&
                                                dlv__rt_revision(ctx) == c->cached_revision);
    if (!right)
        fprintf(stderr,
                "\n  context created with %zu of %zu cached orders, resuming at revision %lld\n",
                dlv__rt_order_count(ctx), c->cached_orders, (long long)dlv__rt_revision(ctx));
    dlv_ctx_destroy(ctx);
    return right ? DLV_OK : WRONG_RESULT;
}

/* Was a bug (fixed): under allocation failure dlv_ctx_create could succeed without some of the
 * cached orders while keeping the cached revision, so the call-center never sent them again
 * (load_one dropped an order whose decode said DLV_EJSON, which is also cJSON running out of
 * memory; the cache load ignored rows it failed to copy, now dlv__store_orders_load fails). */
static void context_start_up(void)
{
    ctx_case c = {0};
    CU_ASSERT_FATAL(asprintf(&c.data_dir, "%s/ctxdata", dir) > 0);
    mkdir(c.data_dir, 0755);
    c.config_path = scratch("ctx.xml", "<config><serverUrl>http://127.0.0.1:9/resto</serverUrl>"
                                       "<terminalId>" TID "</terminalId></config>");
    /* Cache three orders and the settings the way the runtime does. */
    dlv__store *p = NULL;
    dlv_error err = {0};
    CU_ASSERT_EQUAL_FATAL(dlv__store_open(c.data_dir, NULL, &p, &err), DLV_OK);
    const char *names[] = {"order_courier.json", "order_pickup.json", "order_anonymous.json"};
    dlv__store_order rows[3];
    dlv__order *orders[3];
    char *texts[3];
    for (size_t i = 0; i < 3; i++) {
        orders[i] = load_order(names[i], 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(orders[i]);
        texts[i] = dlv__order_to_json(orders[i]);
        rows[i] =
            (dlv__store_order){orders[i]->id, orders[i]->revision,
                               dlv_status_name(orders[i]->status), orders[i]->number, texts[i]};
    }
    CU_ASSERT_EQUAL(dlv__store_orders_sync(p, rows, 3, NULL, 0, 1041, &err), DLV_OK);
    char *settings = fixture("settings.json");
    CU_ASSERT_EQUAL(dlv__store_meta_set(p, "settings", settings, &err), DLV_OK);
    dlv__store_close(p);
    c.cached_orders = 3;
    c.cached_revision = 1041;
    static const int strict[] = {DLV_ENOMEM, 0};
    static const int tolerated[] = {DLV_ENOMEM, DLV_ECONFIG, DLV_ETEMPLATE, DLV_EIO, 0};
    sweep("terminal context start-up", create_context, &c, DLV_OK,
          known_bugs() ? strict : tolerated, true);
    for (size_t i = 0; i < 3; i++) {
        dlv__order_free(orders[i]);
        free(texts[i]);
    }
    free(settings);
    free(c.config_path);
    free(c.data_dir);
}

static void silent_xml_errors(void *ctx, const char *fmt, ...)
{
    (void)ctx;
    (void)fmt;
}

int main(void)
{
    dir = dlv_test_mkdtemp();
    dlv__alloc_hook_libraries();
    xmlSetGenericErrorFunc(NULL, silent_xml_errors);
    static const dlv_test_case cases[] = {
        DLV_TEST(config_read_only),
        DLV_TEST(config_write_back),
        DLV_TEST(config_default_path),
        DLV_TEST(config_errors),
        DLV_TEST(front_config),
        DLV_TEST(settings),
        DLV_TEST(commands_response),
        DLV_TEST(lenient_orders_response),
        DLV_TEST(orders_of_every_kind),
        DLV_TEST(notification_every_field),
        DLV_TEST(document_templates),
        DLV_TEST(context_start_up),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("hardening_alloc", cases);
    dlv_test_rmdir(dir);
    return rc;
}
