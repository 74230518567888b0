#define _GNU_SOURCE
/* deliveryPluginConfig.xml and the front config.xml: defaults, ranges, write-back of a generated
 * terminalId, safe parsing and an error naming file, line and element for every bad input. */
#include "common/fsutil.h"
#include "common/xml.h"
#include "common/internal.h"
#include "delivery/config.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <libxml/xmlerror.h>

static char *dir;

#define TID "e49d3632-b06a-4a9a-8c76-ae816c4404ad"

static char *write_config(const char *text)
{
    static int counter;
    char name[64];
    snprintf(name, sizeof name, "cfg%d.xml", ++counter);
    return dlv_test_write_file(dir, name, text);
}

/* Loads `text` and expects failure with `code` and a message containing every fragment. */
static void expect_error(const char *text, int code, const char *fragment1, const char *fragment2)
{
    char *path = write_config(text);
    dlv_config *cfg = (dlv_config *)0x1;
    dlv_error err;
    int rc = dlv_config_load(path, 0, &cfg, &err);
    CU_ASSERT_EQUAL(rc, code);
    CU_ASSERT_EQUAL(err.code, code);
    CU_ASSERT_PTR_NULL(cfg);
    DLV_ASSERT_CONTAINS(err.message, path);
    DLV_ASSERT_CONTAINS(err.message, fragment1);
    if (fragment2)
        DLV_ASSERT_CONTAINS(err.message, fragment2);
    free(path);
}

static void full_file_is_read(void)
{
    char *path =
        write_config("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                     "<config xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n"
                     "        xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">\n"
                     "  <serviceMethodTimeoutMilliseconds>1000</serviceMethodTimeoutMilliseconds>\n"
                     "  <serverUrl>http://localhost:8080/resto/</serverUrl>\n"
                     "  <terminalId>" TID "</terminalId>\n"
                     "  <connectToServerDelayInSeconds>0</connectToServerDelayInSeconds>\n"
                     "</config>\n");
    char *before = dlv_test_read_file(path, NULL);
    dlv_config *cfg = NULL;
    dlv_error err;
    CU_ASSERT_EQUAL_FATAL(dlv_config_load(path, 0, &cfg, &err), DLV_OK);
    CU_ASSERT_STRING_EQUAL(dlv_config_server_url(cfg), "http://localhost:8080/resto");
    CU_ASSERT_STRING_EQUAL(dlv_config_terminal_id(cfg), TID);
    CU_ASSERT_EQUAL(dlv_config_terminal_id_generated(cfg), 0);
    CU_ASSERT_EQUAL(dlv_config_service_timeout_ms(cfg), 1000);
    CU_ASSERT_EQUAL(dlv_config_connect_delay_s(cfg), 0);
    CU_ASSERT_EQUAL(dlv_config_warning_count(cfg), 0);
    CU_ASSERT_PTR_NULL(dlv_config_trusted_ca_file(cfg));
    CU_ASSERT_STRING_EQUAL(dlv_config_path(cfg), path);
    char *after = dlv_test_read_file(path, NULL);
    CU_ASSERT_STRING_EQUAL(before, after); /* nothing to write back */
    dlv_config_free(cfg);
    free(before);
    free(after);
    free(path);
}

static void defaults_apply(void)
{
    char *path = write_config("<config><serverUrl>https://cc.example.ru/resto</serverUrl>"
                              "<terminalId>" TID "</terminalId></config>");
    dlv_config *cfg = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv_config_load(path, 0, &cfg, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv_config_service_timeout_ms(cfg), 30000);
    CU_ASSERT_EQUAL(dlv_config_connect_delay_s(cfg), 5);
    CU_ASSERT_STRING_EQUAL(dlv_config_server_url(cfg), "https://cc.example.ru/resto");
    dlv_config_free(cfg);
    free(path);
}

static void terminal_id_generated_and_written_back(void)
{
    const char *text =
        "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        "<!-- terminal 3, kitchen side -->\n"
        "<config xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
        "  <!-- 30 s over the 3G link -->\n"
        "  <serviceMethodTimeoutMilliseconds>30000</serviceMethodTimeoutMilliseconds>\n"
        "  <serverUrl>http://localhost:8080/resto</serverUrl>\n"
        "  <vendorExtra a=\"1\">keep me</vendorExtra>\n"
        "</config>\n";
    char *path = write_config(text);
    dlv_config *cfg = NULL;
    dlv_error err;
    CU_ASSERT_EQUAL_FATAL(dlv_config_load(path, 0, &cfg, &err), DLV_OK);
    const char *id = dlv_config_terminal_id(cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(id);
    CU_ASSERT_TRUE(dlv__uuid_valid(id));
    CU_ASSERT_EQUAL(id[14], '4');
    CU_ASSERT_EQUAL(dlv_config_terminal_id_generated(cfg), 1);
    CU_ASSERT_EQUAL(dlv_config_warning_count(cfg), 1);
    DLV_ASSERT_CONTAINS(dlv_config_warning(cfg, 0), "<vendorExtra>");
    DLV_ASSERT_CONTAINS(dlv_config_warning(cfg, 0), ":7:");

    char *after = dlv_test_read_file(path, NULL);
    CU_ASSERT_EQUAL(memcmp(after, "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>", 41), 0);
    DLV_ASSERT_CONTAINS(after, "<!-- terminal 3, kitchen side -->");
    DLV_ASSERT_CONTAINS(after, "<!-- 30 s over the 3G link -->");
    DLV_ASSERT_CONTAINS(after, "<vendorExtra a=\"1\">keep me</vendorExtra>");
    DLV_ASSERT_CONTAINS(after, "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"");
    char expect[96];
    snprintf(expect, sizeof expect, "\n  <terminalId>%s</terminalId>\n</config>", id);
    DLV_ASSERT_CONTAINS(after, expect);

    /* A second load reads the same id and leaves the file as it is. */
    dlv_config *again = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv_config_load(path, 0, &again, NULL), DLV_OK);
    CU_ASSERT_STRING_EQUAL(dlv_config_terminal_id(again), id);
    CU_ASSERT_EQUAL(dlv_config_terminal_id_generated(again), 0);
    char *third = dlv_test_read_file(path, NULL);
    CU_ASSERT_STRING_EQUAL(after, third);
    dlv_config_free(again);
    dlv_config_free(cfg);
    free(after);
    free(third);
    free(path);
}

static void empty_terminal_id_is_filled_in_place(void)
{
    char *path = write_config("<config>\n\t<terminalId></terminalId>\n"
                              "\t<serverUrl>http://h/resto</serverUrl>\n</config>");
    dlv_config *cfg = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv_config_load(path, 0, &cfg, NULL), DLV_OK);
    char *after = dlv_test_read_file(path, NULL);
    CU_ASSERT_EQUAL(strncmp(after, "<?xml", 5) != 0, 1); /* no declaration was added */
    char expect[96];
    snprintf(expect, sizeof expect, "<config>\n\t<terminalId>%s</terminalId>\n\t<serverUrl>",
             dlv_config_terminal_id(cfg));
    DLV_ASSERT_CONTAINS(after, expect);
    dlv_config_free(cfg);
    free(after);
    free(path);
}

static int count_files(void)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void failed_write_back_keeps_original(void)
{
    const char *text = "<config><serverUrl>http://h/resto</serverUrl></config>\n";
    static const char *const steps[] = {NULL, "temporary file", "write", "flush", "replace"};
    for (int step = 1; step <= 4; step++) {
        char *path = write_config(text);
        int files = count_files();
        dlv__fs_inject_failure(step);
        dlv_config *cfg = (dlv_config *)0x1;
        dlv_error err;
        int rc = dlv_config_load(path, 0, &cfg, &err);
        dlv__fs_inject_failure(0);
        CU_ASSERT_EQUAL(rc, DLV_EIO);
        CU_ASSERT_PTR_NULL(cfg);
        DLV_ASSERT_CONTAINS(err.message, path);
        DLV_ASSERT_CONTAINS(err.message, steps[step]);
        char *after = dlv_test_read_file(path, NULL);
        CU_ASSERT_STRING_EQUAL(after, text);
        CU_ASSERT_EQUAL(count_files(), files); /* no temporary file left behind */
        free(after);
        free(path);
    }
}

static void read_only_load_never_writes(void)
{
    const char *text = "<config><serverUrl>http://h/resto</serverUrl></config>";
    char *path = write_config(text);
    dlv_config *cfg = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv_config_load(path, DLV_CONFIG_READ_ONLY, &cfg, NULL), DLV_OK);
    CU_ASSERT_PTR_NULL(dlv_config_terminal_id(cfg));
    char *after = dlv_test_read_file(path, NULL);
    CU_ASSERT_STRING_EQUAL(after, text);
    dlv_config_free(cfg);
    free(after);
    free(path);
}

/* The first start: an absent file is created with every element, a comment each, a new
 * terminalId and an empty serverUrl ("not set"); the second start reads the same terminalId. A
 * read-only load (the doctor) still reports the file missing and creates nothing. */
static void missing_file_is_created_on_first_start(void)
{
    char *path = NULL;
    if (asprintf(&path, "%s/absent.xml", dir) < 0)
        return;
    dlv_config *cfg = NULL;
    dlv_error err;
    CU_ASSERT_EQUAL(dlv_config_load(path, DLV_CONFIG_READ_ONLY, &cfg, &err), DLV_ENOTFOUND);
    DLV_ASSERT_CONTAINS(err.message, path);
    DLV_ASSERT_CONTAINS(err.message, "No such file");
    struct stat st;
    CU_ASSERT_NOT_EQUAL(stat(path, &st), 0);

    CU_ASSERT_EQUAL_FATAL(dlv_config_load(path, 0, &cfg, &err), DLV_OK);
    CU_ASSERT_TRUE(dlv_config_created(cfg));
    CU_ASSERT_TRUE(dlv_config_terminal_id_generated(cfg));
    CU_ASSERT_PTR_NULL(dlv_config_server_url(cfg));
    CU_ASSERT_EQUAL(dlv_config_service_timeout_ms(cfg), 30000);
    CU_ASSERT_EQUAL(dlv_config_connect_delay_s(cfg), 5);
    CU_ASSERT_STRING_EQUAL(dlv_config_backend(cfg), "native");
    CU_ASSERT_EQUAL(dlv_config_warning_count(cfg), 0);
    char id[40];
    snprintf(id, sizeof id, "%s", dlv_config_terminal_id(cfg));
    CU_ASSERT_EQUAL(strlen(id), 36);
    dlv_config_free(cfg);

    char *text = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(dlv__read_file(path, 1 << 20, &text, &len, NULL), DLV_OK);
    static const char *const elements[] = {"<serverUrl></serverUrl>",
                                           "serviceMethodTimeoutMilliseconds>30000<",
                                           "connectToServerDelayInSeconds>5<",
                                           "<trustedCaFile>",
                                           "<backend>native</backend>",
                                           "<apiLogin>",
                                           "<organizationId>",
                                           "<terminalGroupId>",
                                           "<pollIntervalSeconds>5<",
                                           "Адрес сервера колл-центра"};
    for (size_t i = 0; i < sizeof elements / sizeof elements[0]; i++)
        DLV_ASSERT_CONTAINS(text, elements[i]);
    DLV_ASSERT_CONTAINS(text, id);
    size_t comments = 0;
    for (const char *c = text; (c = strstr(c, "<!--")) != NULL; c++)
        comments++;
    CU_ASSERT_TRUE(comments >= 10); /* the header and one per element */
    dlv__free(text);

    CU_ASSERT_EQUAL_FATAL(dlv_config_load(path, 0, &cfg, &err), DLV_OK);
    CU_ASSERT_FALSE(dlv_config_created(cfg));
    CU_ASSERT_FALSE(dlv_config_terminal_id_generated(cfg));
    CU_ASSERT_STRING_EQUAL(dlv_config_terminal_id(cfg), id);
    dlv_config_free(cfg);
    free(path);
}

/* serverUrl empty (as the first start writes it) or absent: "not set", not a config error; the
 * context then starts without connecting (test_runtime_sync). */
static void server_url_empty_or_absent_is_not_set(void)
{
    static const char *const texts[] = {
        "<config>\n<terminalId>" TID "</terminalId>\n</config>",
        "<config><serverUrl></serverUrl><terminalId>" TID "</terminalId></config>",
        "<config><serverUrl>  </serverUrl><terminalId>" TID "</terminalId></config>",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char *path = write_config(texts[i]);
        dlv_config *cfg = NULL;
        CU_ASSERT_EQUAL(dlv_config_load(path, 0, &cfg, NULL), DLV_OK);
        CU_ASSERT_PTR_NULL(dlv_config_server_url(cfg));
        CU_ASSERT_FALSE(dlv_config_created(cfg));
        dlv_config_free(cfg);
        free(path);
    }
}

#define URL "<serverUrl>http://h/resto</serverUrl>"

static void bad_inputs_are_named(void)
{
    expect_error("", DLV_ECONFIG, "file is empty", NULL);
    expect_error("<config><serverUrl>http://h</serverUrl>", DLV_ECONFIG, "malformed XML", ":1:");
    expect_error("<config>\n<serverUrl>x</serverUr>\n</config>", DLV_ECONFIG,
                 ":2:", "malformed XML");
    expect_error("not xml at all", DLV_ECONFIG, "malformed XML", NULL);
    expect_error("<settings>" URL "</settings>", DLV_ECONFIG, "root element is <settings>",
                 "expected <config>");
    expect_error("<config>\n<serverUrl>ftp://h/resto</serverUrl></config>", DLV_ECONFIG,
                 ":2: <serverUrl>: 'ftp://h/resto'", "http:// or https://");
    expect_error("<config><serverUrl>localhost:8080</serverUrl></config>", DLV_ECONFIG,
                 "<serverUrl>: 'localhost:8080'", NULL);
    expect_error("<config><serverUrl>http:///resto</serverUrl></config>", DLV_ECONFIG,
                 "<serverUrl>: 'http:///resto'", NULL);
    expect_error("<config><serverUrl>http://h/a b</serverUrl></config>", DLV_ECONFIG, "<serverUrl>",
                 "spaces or control characters");
    expect_error("<config>" URL "\n\n<serviceMethodTimeoutMilliseconds>abc"
                 "</serviceMethodTimeoutMilliseconds></config>",
                 DLV_ECONFIG, ":3: <serviceMethodTimeoutMilliseconds>: 'abc' is not a whole number",
                 NULL);
    expect_error("<config>" URL "<serviceMethodTimeoutMilliseconds>99"
                 "</serviceMethodTimeoutMilliseconds></config>",
                 DLV_ECONFIG, "<serviceMethodTimeoutMilliseconds>: 99 is out of range 100..600000",
                 NULL);
    expect_error("<config>" URL "<serviceMethodTimeoutMilliseconds>600001"
                 "</serviceMethodTimeoutMilliseconds></config>",
                 DLV_ECONFIG, "600001 is out of range", NULL);
    expect_error("<config>" URL "<serviceMethodTimeoutMilliseconds>1.5"
                 "</serviceMethodTimeoutMilliseconds></config>",
                 DLV_ECONFIG, "'1.5' is not a whole number", NULL);
    expect_error("<config>" URL "<connectToServerDelayInSeconds>-1"
                 "</connectToServerDelayInSeconds></config>",
                 DLV_ECONFIG, "<connectToServerDelayInSeconds>: -1 is out of range 0..3600", NULL);
    expect_error("<config>" URL "<connectToServerDelayInSeconds>99999999999999999999999"
                 "</connectToServerDelayInSeconds></config>",
                 DLV_ECONFIG, "99999999999999999999999 is out of range", NULL);
    expect_error("<config>" URL "\n<terminalId>terminal-1</terminalId></config>", DLV_ECONFIG,
                 ":2: <terminalId>: 'terminal-1' is not a UUID", NULL);
    expect_error("<config>" URL "\n<serverUrl>http://other/resto</serverUrl></config>", DLV_ECONFIG,
                 ":2: <serverUrl> appears twice (first at line 1)", NULL);
    expect_error("<config><serverUrl><b>http://h</b></serverUrl></config>", DLV_ECONFIG,
                 "<serverUrl> must hold text only", "<b>");
    expect_error("<?xml version=\"1.0\"?>\n<!DOCTYPE config [<!ENTITY x SYSTEM "
                 "\"file:///etc/passwd\">]>\n<config><serverUrl>&x;</serverUrl></config>",
                 DLV_ECONFIG, "DOCTYPE is not allowed", NULL);
}

static void entity_bomb_is_refused(void)
{
    expect_error("<?xml version=\"1.0\"?>\n<!DOCTYPE config [\n"
                 " <!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">\n"
                 " <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
                 " <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
                 " <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
                 "]>\n<config><serverUrl>http://h/&d;</serverUrl></config>",
                 DLV_ECONFIG, "entity", NULL);
}

static void oversized_file_is_refused(void)
{
    size_t size = DLV_CONFIG_MAX_FILE_BYTES + 100;
    char *text = malloc(size + 1);
    memset(text, ' ', size);
    memcpy(text, "<config>", 8);
    memcpy(text + size - 9, "</config>", 9);
    text[size] = '\0';
    expect_error(text, DLV_ECONFIG, "larger than", NULL);
    free(text);
}

static void xsi_nil_counts_as_absent(void)
{
    char *path = write_config("<config xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">" URL
                              "<terminalId>" TID "</terminalId>"
                              "<serviceMethodTimeoutMilliseconds xsi:nil=\"true\"/></config>");
    dlv_config *cfg = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv_config_load(path, 0, &cfg, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv_config_service_timeout_ms(cfg), 30000);
    dlv_config_free(cfg);
    free(path);
}

static void default_locations(void)
{
    char *saved_xdg = getenv("XDG_CONFIG_HOME") ? strdup(getenv("XDG_CONFIG_HOME")) : NULL;
    char *saved_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    setenv("XDG_CONFIG_HOME", "/srv/cfg", 1);
    char *p = dlv_config_default_path();
    CU_ASSERT_STRING_EQUAL(p, "/srv/cfg/iiko/CashServer/PluginConfigs/Resto.Front.Api.Delivery/"
                              "deliveryPluginConfig.xml");
    dlv_free(p);
    p = dlv_front_config_default_path();
    CU_ASSERT_STRING_EQUAL(p, "/srv/cfg/iiko/CashServer/config.xml");
    dlv_free(p);
    unsetenv("XDG_CONFIG_HOME");
    setenv("HOME", "/home/cashier", 1);
    p = dlv_config_default_path();
    CU_ASSERT_STRING_EQUAL(p, "/home/cashier/.config/iiko/CashServer/PluginConfigs/"
                              "Resto.Front.Api.Delivery/deliveryPluginConfig.xml");
    dlv_free(p);
    unsetenv("HOME");
    CU_ASSERT_PTR_NULL(dlv_config_default_path());
    dlv_config *cfg = NULL;
    dlv_error err;
    CU_ASSERT_EQUAL(dlv_config_load(NULL, 0, &cfg, &err), DLV_ECONFIG);
    DLV_ASSERT_CONTAINS(err.message, "no default location");

    /* With a path-less load the default file is read. */
    setenv("XDG_CONFIG_HOME", dir, 1);
    char *folder = NULL;
    if (asprintf(&folder, "%s/iiko/CashServer/PluginConfigs/Resto.Front.Api.Delivery", dir) > 0) {
        CU_ASSERT_EQUAL(dlv__mkdir_p(folder, NULL), DLV_OK);
        char *path =
            dlv_test_write_file(folder, "deliveryPluginConfig.xml",
                                "<config>" URL "<terminalId>" TID "</terminalId></config>");
        CU_ASSERT_EQUAL(dlv_config_load(NULL, 0, &cfg, &err), DLV_OK);
        CU_ASSERT_STRING_EQUAL(dlv_config_path(cfg), path);
        dlv_config_free(cfg);
        free(path);
    }
    free(folder);
    if (saved_xdg)
        setenv("XDG_CONFIG_HOME", saved_xdg, 1);
    else
        unsetenv("XDG_CONFIG_HOME");
    if (saved_home)
        setenv("HOME", saved_home, 1);
    free(saved_xdg);
    free(saved_home);
}

static void front_config_flags(void)
{
    char *path = dlv_test_write_file(dir, "config.xml",
                                     "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<config>\n"
                                     "  <showDeliveryListOnLogin>true</showDeliveryListOnLogin>\n"
                                     "  <AllowHandCardRoll>True</AllowHandCardRoll>\n"
                                     "  <cardReaderConfigured>false</cardReaderConfigured>\n"
                                     "  <somethingOfTheHost><x/></somethingOfTheHost>\n"
                                     "</config>\n");
    dlv_front_config *fc = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv_front_config_load(path, &fc, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv_front_config_flag(fc, DLV_FRONT_SHOW_DELIVERY_LIST_ON_LOGIN), 1);
    CU_ASSERT_EQUAL(dlv_front_config_flag(fc, DLV_FRONT_ALLOW_HAND_CARD_ROLL), 1);
    CU_ASSERT_EQUAL(dlv_front_config_flag(fc, DLV_FRONT_CARD_READER_CONFIGURED), 0);
    CU_ASSERT_EQUAL(dlv_front_config_flag(fc, DLV_FRONT_A4_DELIVERY_INVOICE_FORMAT), 0);
    CU_ASSERT_EQUAL(dlv_front_config_flag(fc, (dlv_front_flag)99), 0);
    CU_ASSERT_EQUAL(dlv_front_config_flag(NULL, DLV_FRONT_ALLOW_HAND_CARD_ROLL), 0);
    dlv_front_config_free(fc);
    free(path);
}

static void front_config_errors(void)
{
    struct {
        const char *text, *fragment;
    } cases[] = {
        {"<config>\n<a4DeliveryInvoiceFormat>yes</a4DeliveryInvoiceFormat></config>",
         ":2: <a4DeliveryInvoiceFormat>: 'yes' is not a boolean"},
        {"<config><AllowHandCardRoll>true</AllowHandCardRoll>\n"
         "<AllowHandCardRoll>false</AllowHandCardRoll></config>",
         ":2: <AllowHandCardRoll> appears twice"},
        {"<config><showDeliveryListOnLogin>true</config>", "malformed XML"},
        {"<!DOCTYPE config SYSTEM \"http://evil/x.dtd\"><config/>", "DOCTYPE is not allowed"},
    };
    for (size_t i = 0; i < DLV__ARRAY_SIZE(cases); i++) {
        char *path = dlv_test_write_file(dir, "front.xml", cases[i].text);
        dlv_front_config *fc = (dlv_front_config *)0x1;
        dlv_error err;
        CU_ASSERT_EQUAL(dlv_front_config_load(path, &fc, &err), DLV_ECONFIG);
        CU_ASSERT_PTR_NULL(fc);
        DLV_ASSERT_CONTAINS(err.message, path);
        DLV_ASSERT_CONTAINS(err.message, cases[i].fragment);
        free(path);
    }
    dlv_front_config *fc = NULL;
    dlv_error err;
    CU_ASSERT_EQUAL(dlv_front_config_load("/nonexistent/config.xml", &fc, &err), DLV_ENOTFOUND);
    DLV_ASSERT_CONTAINS(err.message, "/nonexistent/config.xml");
}

static void silent_xml_errors(void *ctx, const char *fmt, ...)
{
    (void)ctx;
    (void)fmt;
}

/* Every allocation of a load, failed in turn: an error each time, never a crash or a leak, and
 * the file is never left half-written. */
static void allocation_failures(void)
{
    const char *text = "<?xml version=\"1.0\"?>\n<config><!-- c -->\n" URL
                       "\n<serviceMethodTimeoutMilliseconds>500</serviceMethodTimeoutMilliseconds>"
                       "<unknown/></config>\n";
    dlv__alloc_hook_libraries();
    xmlSetGenericErrorFunc(NULL, silent_xml_errors);
    int succeeded_at = -1;
    for (long n = 0; n < 5000 && succeeded_at < 0; n++) {
        char *path = write_config(text);
        dlv__alloc_fail_after(n);
        dlv_config *cfg = NULL;
        dlv_error err;
        int rc = dlv_config_load(path, 0, &cfg, &err);
        dlv__alloc_fail_after(-1);
        char *after = dlv_test_read_file(path, NULL);
        if (rc == DLV_OK) {
            succeeded_at = (int)n;
            CU_ASSERT_PTR_NOT_NULL(dlv_config_terminal_id(cfg));
            DLV_ASSERT_CONTAINS(after, dlv_config_terminal_id(cfg));
        } else {
            CU_ASSERT_PTR_NULL(cfg);
            CU_ASSERT_TRUE(err.code == rc && err.message[0] != '\0');
            CU_ASSERT_TRUE(strcmp(after, text) == 0 || strstr(after, "<terminalId>") != NULL);
        }
        dlv_config_free(cfg);
        free(after);
        free(path);
    }
    CU_ASSERT_TRUE(succeeded_at > 5);
}

int main(void)
{
    dir = dlv_test_mkdtemp();
    static const dlv_test_case cases[] = {
        DLV_TEST(full_file_is_read),
        DLV_TEST(defaults_apply),
        DLV_TEST(terminal_id_generated_and_written_back),
        DLV_TEST(empty_terminal_id_is_filled_in_place),
        DLV_TEST(failed_write_back_keeps_original),
        DLV_TEST(read_only_load_never_writes),
        DLV_TEST(missing_file_is_created_on_first_start),
        DLV_TEST(server_url_empty_or_absent_is_not_set),
        DLV_TEST(bad_inputs_are_named),
        DLV_TEST(entity_bomb_is_refused),
        DLV_TEST(oversized_file_is_refused),
        DLV_TEST(xsi_nil_counts_as_absent),
        DLV_TEST(default_locations),
        DLV_TEST(front_config_flags),
        DLV_TEST(front_config_errors),
        DLV_TEST(allocation_failures),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("config", cases);
    dlv_test_rmdir(dir);
    return rc;
}
