/* Inputs the fuzzers (test/fuzz/) found, replayed through the same API as plain unit tests so
 * that the default build keeps them fixed. */
#define _GNU_SOURCE
#include <libxml/xmlerror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/config.h"
#include "testlib.h"

static char *dir;

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

static void silent_xml_errors(void *ctx, const char *fmt, ...)
{
    (void)ctx;
    (void)fmt;
}

int main(void)
{
    dir = dlv_test_mkdtemp();
    xmlSetGenericErrorFunc(NULL, silent_xml_errors);
    static const dlv_test_case cases[] = {
        DLV_TEST(config_utf7_write_back),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("hardening_regress", cases);
    dlv_test_rmdir(dir);
    return rc;
}
