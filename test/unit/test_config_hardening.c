/* Security and regressions of lib/config (issue 9):
 *  - XML external entities, external DTDs, parameter entities, XInclude and entity expansion
 *    bombs are refused in deliveryPluginConfig.xml and the front config.xml: nothing is fetched
 *    (a loopback listener sees no connection), no file content leaks into a value or a
 *    message, and a bomb is refused quickly; a DOCTYPE in UTF-16 too; predefined entities
 *    still work;
 *  - inputs the fuzzers (test/fuzz/) found, replayed through the same API so that the default
 *    build keeps them fixed.
 * Templates: test_print_hardening.c; allocation failure: test_config_alloc.c. */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/config.h"
#include "hostile.h"
#include "testlib.h"

#define TID "e49d3632-b06a-4a9a-8c76-ae816c4404ad"

static void config_refuses_entities(void)
{
    hostile docs[16];
    size_t n = hostile_documents("<config><serverUrl>http://h/resto</serverUrl><terminalId>" TID
                                 "</terminalId><x>",
                                 "</x></config>", docs);
    for (size_t i = 0; i < n; i++) {
        char *path = write_bytes("deliveryPluginConfig.xml", docs[i].text, strlen(docs[i].text));
        int before = fault_server_connections(listener);
        dlv_config *cfg = (dlv_config *)0x1;
        dlv_error err;
        double t0 = now_s();
        int rc = dlv_config_load(path, 0, &cfg, &err);
        if (rc != DLV_ECONFIG)
            fprintf(stderr, "\n  config, %s: %s\n", docs[i].what, dlv_err_name(rc));
        CU_ASSERT_EQUAL(rc, DLV_ECONFIG);
        CU_ASSERT_PTR_NULL(cfg);
        DLV_ASSERT_CONTAINS(err.message, path);
        refused_quickly_without_fetching(docs[i].what, t0, before, err.message);
        /* The refused file is left as it was: no terminalId written into it. */
        char *after = dlv_test_read_file(path, NULL);
        CU_ASSERT_STRING_EQUAL(after, docs[i].text);
        free(after);
        free(path);
    }
    free_hostile(docs, n);
}

static void front_config_refuses_entities(void)
{
    hostile docs[16];
    size_t n = hostile_documents("<config><cardReaderConfigured>true</cardReaderConfigured><x>",
                                 "</x></config>", docs);
    for (size_t i = 0; i < n; i++) {
        char *path = write_bytes("config.xml", docs[i].text, strlen(docs[i].text));
        int before = fault_server_connections(listener);
        dlv_front_config *fc = (dlv_front_config *)0x1;
        dlv_error err;
        double t0 = now_s();
        int rc = dlv_front_config_load(path, &fc, &err);
        if (rc != DLV_ECONFIG)
            fprintf(stderr, "\n  front config, %s: %s\n", docs[i].what, dlv_err_name(rc));
        CU_ASSERT_EQUAL(rc, DLV_ECONFIG);
        CU_ASSERT_PTR_NULL(fc);
        refused_quickly_without_fetching(docs[i].what, t0, before, err.message);
        free(path);
    }
    free_hostile(docs, n);
}

/* XInclude is never processed: in a config it is an unknown element (a warning); the included
 * file never shows up. (Templates: test_print_hardening.c.) */
static void xinclude_is_not_processed(void)
{
    char *text = NULL;
    CU_ASSERT_FATAL(asprintf(&text,
                             "<config xmlns:xi=\"http://www.w3.org/2001/XInclude\">"
                             "<serverUrl>http://h/resto</serverUrl><terminalId>" TID
                             "</terminalId><trustedCaFile><xi:include href=\"file://%s\" "
                             "parse=\"text\"/></trustedCaFile></config>",
                             secret_path) > 0);
    char *path = write_bytes("xinclude.xml", text, strlen(text));
    dlv_config *cfg = NULL;
    dlv_error err;
    int rc = dlv_config_load(path, DLV_CONFIG_READ_ONLY, &cfg, &err);
    CU_ASSERT_EQUAL(rc, DLV_ECONFIG); /* an element inside <trustedCaFile> */
    CU_ASSERT_FALSE(dlv_test_contains(err.message, SECRET));
    dlv_config_free(cfg);
    free(path);
    free(text);
    CU_ASSERT_FATAL(asprintf(&text,
                             "<config xmlns:xi=\"http://www.w3.org/2001/XInclude\">"
                             "<serverUrl>http://h/resto</serverUrl><terminalId>" TID
                             "</terminalId><xi:include href=\"file://%s\" parse=\"text\"/>"
                             "</config>",
                             secret_path) > 0);
    path = write_bytes("xinclude2.xml", text, strlen(text));
    cfg = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv_config_load(path, DLV_CONFIG_READ_ONLY, &cfg, &err), DLV_OK);
    CU_ASSERT_EQUAL(dlv_config_warning_count(cfg), 1);
    CU_ASSERT_FALSE(dlv_test_contains(dlv_config_warning(cfg, 0), SECRET));
    CU_ASSERT_PTR_NULL(dlv_config_trusted_ca_file(cfg));
    dlv_config_free(cfg);
    free(path);
    free(text);
}

/* The same DOCTYPE in UTF-16 is still a DOCTYPE: the check is on the parsed document. */
static void utf16_doctype_is_refused(void)
{
    const char *ascii = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><!DOCTYPE config [<!ENTITY a "
                        "\"aaaaaaaa\">]><config><serverUrl>http://h/&a;</serverUrl></config>";
    size_t n = strlen(ascii);
    char *wide = malloc(2 * n + 2);
    wide[0] = (char)0xFF, wide[1] = (char)0xFE; /* UTF-16LE BOM */
    for (size_t i = 0; i < n; i++)
        wide[2 + 2 * i] = ascii[i], wide[3 + 2 * i] = 0;
    char *path = write_bytes("utf16.xml", wide, 2 * n + 2);
    dlv_config *cfg = NULL;
    dlv_error err;
    CU_ASSERT_EQUAL(dlv_config_load(path, DLV_CONFIG_READ_ONLY, &cfg, &err), DLV_ECONFIG);
    DLV_ASSERT_CONTAINS(err.message, "DOCTYPE");
    dlv_config_free(cfg);
    free(path);
    free(wide);
}

/* What is allowed stays allowed: the five predefined entities and character references
 * in a config. (Templates: test_print_hardening.c.) */
static void predefined_entities_still_work(void)
{
    const char *text = "<config><serverUrl>http://h/resto?a=1&amp;b=&#x32;</serverUrl>"
                       "<terminalId>" TID "</terminalId></config>";
    char *path = write_bytes("amp.xml", text, strlen(text));
    dlv_config *cfg = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv_config_load(path, DLV_CONFIG_READ_ONLY, &cfg, NULL), DLV_OK);
    CU_ASSERT_STRING_EQUAL(dlv_config_server_url(cfg), "http://h/resto?a=1&b=2");
    dlv_config_free(cfg);
    free(path);
}

/* ---- regressions found by fuzzing ---- */

/* fuzz_config, test/fuzz/corpus/config/regress-utf7-write-back.xml. A file declaring
 * encoding="utf-7" whose bytes are plain ASCII loads; the load that generates a terminalId
 * writes it back serialised in UTF-7 ("+ADw-config+AD4-..."), and the next start refuses the
 * file as malformed XML: the terminal's configuration is destroyed by the library itself. */
static void config_utf7_write_back(void)
{
    const char *text = "<?xml version=\"1.0\" encoding=\"utf-7\"?>\n"
                       "<config>\n  <serverUrl>http://localhost:8080/resto/</serverUrl>\n"
                       "</config>\n";
    char *path = dlv_test_write_file(dir, "deliveryPluginConfig.xml", text);
    dlv_config *cfg = NULL;
    dlv_error err;
    CU_ASSERT_EQUAL_FATAL(dlv_config_load(path, DLV_CONFIG_READ_ONLY, &cfg, &err), DLV_OK);
    dlv_config_free(cfg);
    cfg = NULL;
    int rc = dlv_config_load(path, 0, &cfg, &err);
    dlv_config_free(cfg);
    dlv_config *again = NULL;
    int rc2 = dlv_config_load(path, DLV_CONFIG_READ_ONLY, &again, &err);
    bool fine = (rc == DLV_OK && rc2 == DLV_OK) ||
                (rc != DLV_OK && rc2 == DLV_OK && dlv_config_terminal_id(again) == NULL);
    if (!fine) {
        char *after = dlv_test_read_file(path, NULL);
        fprintf(stderr, "\n  %s after write-back (%s): %.60s...\n", "unreadable", err.message,
                after ? after : "");
        free(after);
    }
    CU_ASSERT(fine); /* fixed: the write-back is verified before it replaces the file */
    dlv_config_free(again);
    free(path);
}

/* fuzz_config, test/fuzz/corpus/config/regress-nil-terminal-id.xml. A <terminalId xsi:nil="true"/>
 * counts as absent, but the write-back appended a second <terminalId> beside it, and the next
 * start refused the file ("<terminalId> appears twice"). Now the nil element is filled in place
 * and loses its nil mark, so the next start reads the same id. */
static void config_nil_terminal_id_write_back(void)
{
    const char *text = "<config xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
                       "  <terminalId xsi:nil=\"true\"/>\n"
                       "  <serverUrl>http://h/resto</serverUrl>\n</config>";
    char *path = dlv_test_write_file(dir, "deliveryPluginConfig.xml", text);
    dlv_config *cfg = NULL;
    dlv_error err;
    CU_ASSERT_EQUAL_FATAL(dlv_config_load(path, 0, &cfg, &err), DLV_OK);
    CU_ASSERT_EQUAL(dlv_config_terminal_id_generated(cfg), 1);
    char *after = dlv_test_read_file(path, NULL);
    char expect[128];
    snprintf(expect, sizeof expect, "\n  <terminalId>%s</terminalId>\n  <serverUrl>",
             dlv_config_terminal_id(cfg));
    DLV_ASSERT_CONTAINS(after, expect);
    CU_ASSERT_PTR_NULL(strstr(after, "nil"));
    dlv_config *again = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv_config_load(path, 0, &again, &err), DLV_OK);
    CU_ASSERT_STRING_EQUAL(dlv_config_terminal_id(again), dlv_config_terminal_id(cfg));
    CU_ASSERT_EQUAL(dlv_config_terminal_id_generated(again), 0);
    dlv_config_free(again);
    dlv_config_free(cfg);
    free(after);
    free(path);
}

/* ---- the terminalId write-back and the file it writes (issue 17) ---- */

static const char *config_without_id = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                                       "<config>\n  <serverUrl>http://localhost:8080/resto/"
                                       "</serverUrl>\n</config>\n";

/* A configuration reached through a symbolic link: the file the link points at gets the
 * terminalId, and the link stays a link (no second identity in a copy). */
static void write_back_follows_symlink(void)
{
    char *real = dlv_test_write_file(dir, "real-config.xml", config_without_id);
    char link[1024];
    snprintf(link, sizeof link, "%s/linked-config.xml", dir);
    unlink(link);
    CU_ASSERT_EQUAL_FATAL(symlink(real, link), 0);
    dlv_config *cfg = NULL;
    dlv_error err;
    CU_ASSERT_EQUAL_FATAL(dlv_config_load(link, 0, &cfg, &err), DLV_OK);
    const char *id = dlv_config_terminal_id(cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(id);
    struct stat st;
    CU_ASSERT_EQUAL(lstat(link, &st), 0);
    CU_ASSERT(S_ISLNK(st.st_mode));
    char *text = dlv_test_read_file(real, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, id));
    free(text);
    dlv_config_free(cfg);
    free(real);
}

/* The replaced file keeps its permissions (mkstemp makes 0600). */
static void write_back_keeps_mode(void)
{
    char *path = dlv_test_write_file(dir, "mode-config.xml", config_without_id);
    CU_ASSERT_EQUAL_FATAL(chmod(path, 0644), 0);
    dlv_config *cfg = NULL;
    dlv_error err;
    CU_ASSERT_EQUAL_FATAL(dlv_config_load(path, 0, &cfg, &err), DLV_OK);
    CU_ASSERT_PTR_NOT_NULL(dlv_config_terminal_id(cfg));
    struct stat st;
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 07777, 0644);
    dlv_config_free(cfg);
    free(path);
}

/* A file nobody may write is not replaced behind the operator's back (root included): the load
 * fails, naming the file and what to do, and the file is unchanged. */
static void write_back_refuses_read_only_file(void)
{
    char *path = dlv_test_write_file(dir, "ro-config.xml", config_without_id);
    CU_ASSERT_EQUAL_FATAL(chmod(path, 0444), 0);
    dlv_config *cfg = NULL;
    dlv_error err;
    int rc = dlv_config_load(path, 0, &cfg, &err);
    CU_ASSERT_EQUAL(rc, DLV_EPERM);
    CU_ASSERT_PTR_NULL(cfg);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, path));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "write permission"));
    char *text = dlv_test_read_file(path, NULL);
    CU_ASSERT_STRING_EQUAL(text, config_without_id);
    struct stat st;
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 07777, 0444);
    free(text);
    dlv_config_free(cfg);
    chmod(path, 0644);
    free(path);
}

int main(void)
{
    hostile_begin();
    static const dlv_test_case cases[] = {
        DLV_TEST(config_refuses_entities),
        DLV_TEST(front_config_refuses_entities),
        DLV_TEST(xinclude_is_not_processed),
        DLV_TEST(utf16_doctype_is_refused),
        DLV_TEST(predefined_entities_still_work),
        DLV_TEST(config_utf7_write_back),
        DLV_TEST(config_nil_terminal_id_write_back),
        DLV_TEST(write_back_follows_symlink),
        DLV_TEST(write_back_keeps_mode),
        DLV_TEST(write_back_refuses_read_only_file),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("config_hardening", cases);
    hostile_end();
    return rc;
}
