/* The answer to POST /delivery/v1/commands (dlv__commands_response_decode): every result the
 * decoder returns has an id and the fields its outcome requires. */
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dlv__commands_response *r = (dlv__commands_response *)1;
    dlv_error err = {0};
    int rc = dlv__commands_response_decode((const char *)data, size, &r, &err);
    if (rc != DLV_OK) {
        FUZZ_CHECK(r == NULL);
        FUZZ_CHECK(rc == DLV_EJSON || rc == DLV_ETOOLARGE);
        FUZZ_CHECK(err.code == rc && err.message[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(r->revision >= 0);
    for (size_t i = 0; i < r->result_count; i++) {
        const dlv__command_result *c = &r->results[i];
        FUZZ_CHECK(c->id != NULL && dlv__uuid_valid(c->id));
        FUZZ_CHECK(c->outcome == DLV__OUTCOME_APPLIED || c->outcome == DLV__OUTCOME_DUPLICATE ||
                   c->outcome == DLV__OUTCOME_REJECTED);
        if (c->outcome == DLV__OUTCOME_REJECTED)
            FUZZ_CHECK(c->error != NULL);
        else
            FUZZ_CHECK(c->revision >= 0);
        FUZZ_CHECK(c->current_status >= -1 && c->current_status < DLV_STATUS_COUNT);
    }
    dlv__commands_response_free(r);
    return 0;
}
