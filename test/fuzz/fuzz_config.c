/* deliveryPluginConfig.xml (dlv_config_load): the file is written to a scratch folder and
 * loaded read-only, as diagnostics do. When it loads and has no terminalId, it is loaded once
 * more the way the runtime does, which generates one and writes the file back; that file must
 * load again with the same settings and the generated id, or the write-back is refused and the
 * file left byte for byte as it was. */
#include <string.h>
#include <strings.h>

#include "delivery/config.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_libxml();
    return 0;
}

/* True when the file on disk holds exactly these bytes. */
static bool file_is(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    bool equal = true;
    for (size_t i = 0; i < size && equal; i++)
        equal = fgetc(f) == data[i];
    equal = equal && fgetc(f) == EOF;
    fclose(f);
    return equal;
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_loaded(const dlv_config *cfg)
{
    /* serverUrl may be unset (the first start leaves it empty, docs/configuration.md); when set
     * it is an http(s) address. */
    const char *url = dlv_config_server_url(cfg);
    FUZZ_CHECK(url == NULL || strncasecmp(url, "http", 4) == 0);
    long t = dlv_config_service_timeout_ms(cfg), d = dlv_config_connect_delay_s(cfg);
    FUZZ_CHECK(t >= DLV_CONFIG_TIMEOUT_MS_MIN && t <= DLV_CONFIG_TIMEOUT_MS_MAX);
    FUZZ_CHECK(d >= 0 && d <= DLV_CONFIG_CONNECT_DELAY_S_MAX);
    const char *id = dlv_config_terminal_id(cfg);
    FUZZ_CHECK(id == NULL || dlv__uuid_valid(id));
    for (size_t i = 0; i < dlv_config_warning_count(cfg); i++)
        FUZZ_CHECK(dlv_config_warning(cfg, i) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_scratch_file("deliveryPluginConfig.xml", data, size);
    dlv_config *cfg = (dlv_config *)1;
    dlv_error err = {0};
    int rc = dlv_config_load(path, DLV_CONFIG_READ_ONLY, &cfg, &err);
    if (rc != DLV_OK) {
        FUZZ_CHECK(cfg == NULL);
        FUZZ_CHECK(rc == DLV_ECONFIG);
        FUZZ_CHECK(err.code == rc && strstr(err.message, path) != NULL);
        return 0;
    }
    check_loaded(cfg);
    if (!dlv_config_terminal_id(cfg)) {
        dlv_config *written = NULL;
        rc = dlv_config_load(path, 0, &written, &err);
        if (rc != DLV_OK) {
            /* The id cannot be written back without changing the file (e.g. a UTF-7 file, the
             * bug fuzz_config found): refused with a message, the file left exactly as it was. */
            FUZZ_CHECK(written == NULL && rc == DLV_ECONFIG);
            FUZZ_CHECK(err.code == rc && strstr(err.message, path) != NULL);
            FUZZ_CHECK_MSG(file_is(path, data, size), "a refused write-back changed the file");
        } else {
            FUZZ_CHECK(dlv_config_terminal_id_generated(written));
            dlv_config *again = NULL;
            rc = dlv_config_load(path, DLV_CONFIG_READ_ONLY, &again, &err);
            FUZZ_CHECK_MSG(rc == DLV_OK, err.message); /* what was written loads again */
            check_loaded(again);
            FUZZ_CHECK(same(dlv_config_terminal_id(again), dlv_config_terminal_id(written)));
            FUZZ_CHECK(same(dlv_config_server_url(again), dlv_config_server_url(cfg)));
            FUZZ_CHECK(same(dlv_config_trusted_ca_file(again), dlv_config_trusted_ca_file(cfg)));
            FUZZ_CHECK(dlv_config_service_timeout_ms(again) == dlv_config_service_timeout_ms(cfg));
            FUZZ_CHECK(dlv_config_connect_delay_s(again) == dlv_config_connect_delay_s(cfg));
            FUZZ_CHECK(dlv_config_warning_count(again) == dlv_config_warning_count(cfg));
            dlv_config_free(again);
            dlv_config_free(written);
        }
    }
    dlv_config_free(cfg);
    return 0;
}
