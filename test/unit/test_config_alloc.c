/* Allocation failure swept through lib/config (alloc_sweep.h): read-only and default-path
 * config loads, the terminalId write-back, invalid configs and the front config.
 * test_config.c already sweeps one write-back load. */
#define _GNU_SOURCE
#include <libxml/xmlerror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc_sweep.h"
#include "common/internal.h"
#include "delivery/config.h"
#include "testlib.h"

#define TID "e49d3632-b06a-4a9a-8c76-ae816c4404ad"

static char *dir;

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
        "<config>\n<terminalId>" TID "</terminalId>\n<backend>iikoCloud</backend></config>",
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
        DLV_TEST(config_read_only), DLV_TEST(config_write_back), DLV_TEST(config_default_path),
        DLV_TEST(config_errors),    DLV_TEST(front_config),      DLV_TEST_END,
    };
    int rc = dlv_test_main("config_alloc", cases);
    dlv_test_rmdir(dir);
    return rc;
}
