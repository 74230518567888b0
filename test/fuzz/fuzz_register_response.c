/* The answer to POST /delivery/v1/register (dlv__register_response_decode): a decoded answer
 * carries a session token that can be sent as a header, a bounded lifetime and settings. */
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dlv__register_response *r = (dlv__register_response *)1;
    dlv_error err = {0};
    int rc = dlv__register_response_decode((const char *)data, size, &r, &err);
    if (rc != DLV_OK) {
        FUZZ_CHECK(r == NULL);
        FUZZ_CHECK(rc == DLV_EJSON || rc == DLV_ETOOLARGE);
        FUZZ_CHECK(err.code == rc && err.message[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(r->session_token != NULL && r->session_token[0] != '\0');
    FUZZ_CHECK(r->expires_in_seconds >= 1 && r->expires_in_seconds <= 366LL * 24 * 3600);
    FUZZ_CHECK(r->settings != NULL);
    dlv__register_response_free(r);
    return 0;
}
