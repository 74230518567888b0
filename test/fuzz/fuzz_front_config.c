/* The front terminal's config.xml (dlv_front_config_load), read from a scratch file: a file
 * either loads with every flag 0 or 1, or is refused with a message naming it. */
#include <string.h>

#include "delivery/config.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_libxml();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_scratch_file("config.xml", data, size);
    dlv_front_config *fc = (dlv_front_config *)1;
    dlv_error err = {0};
    int rc = dlv_front_config_load(path, &fc, &err);
    if (rc != DLV_OK) {
        FUZZ_CHECK(fc == NULL);
        FUZZ_CHECK(rc == DLV_ECONFIG);
        FUZZ_CHECK(err.code == rc && strstr(err.message, path) != NULL);
        return 0;
    }
    for (int f = DLV_FRONT_SHOW_DELIVERY_LIST_ON_LOGIN; f <= DLV_FRONT_A4_DELIVERY_INVOICE_FORMAT;
         f++) {
        int v = dlv_front_config_flag(fc, (dlv_front_flag)f);
        FUZZ_CHECK(v == 0 || v == 1);
    }
    dlv_front_config_free(fc);
    return 0;
}
