/* Customer notification templates (<config folder>/notifications/<Event>.txt): compiled with
 * dlv__template_compile, then rendered against the fixture orders (with and without a customer,
 * an address, a courier) under default and explicit options. A compiled template always renders,
 * and renders valid UTF-8. */
#include <string.h>

#include "fuzz_common.h"
#include "order/notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dlv__template *t = (dlv__template *)1;
    dlv_error err = {0};
    int rc = dlv__template_compile((const char *)data, size, &t, &err);
    if (rc != DLV_OK) {
        FUZZ_CHECK(t == NULL);
        FUZZ_CHECK(rc == DLV_ETEMPLATE || rc == DLV_ETOOLARGE);
        FUZZ_CHECK(err.code == rc && err.message[0] != '\0');
        return 0;
    }
    const dlv__render_options options[] = {
        {0},
        {.utc_offset_minutes = 180,
         .date_format = "yyyy-MM-dd HH:mm:ss yy",
         .cafe_address = "Москва, Тверская 7",
         .decimal_separator = '.'},
        {.utc_offset_minutes = -720, .date_format = "", .cafe_address = ""},
    };
    for (size_t i = 0; i < FUZZ_ORDER_COUNT; i++) {
        for (size_t k = 0; k < DLV__ARRAY_SIZE(options); k++) {
            char *out = NULL;
            rc = dlv__template_render(t, fuzz_order(i), k ? &options[k] : NULL, &out, &err);
            FUZZ_CHECK_MSG(rc == DLV_OK, err.message);
            FUZZ_CHECK(out != NULL && dlv__utf8_valid(out, strlen(out)));
            free(out);
        }
    }
    dlv__template_free(t);
    return 0;
}
