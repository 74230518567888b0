/* The delivery service settings object (dlv__settings_from_json): decoded settings must
 * survive encode -> decode -> encode unchanged, and lookups by every id must find them. */
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dlv__settings *s = (dlv__settings *)1;
    dlv_error err = {0};
    int rc = dlv__settings_from_json((const char *)data, size, &s, &err);
    if (rc != DLV_OK) {
        FUZZ_CHECK(s == NULL);
        FUZZ_CHECK(rc == DLV_EJSON || rc == DLV_ETOOLARGE);
        FUZZ_CHECK(err.code == rc && err.message[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(s->invoice_copies >= 1 && s->invoice_copies <= 5);
    for (size_t i = 0; i < s->courier_count; i++)
        FUZZ_CHECK(dlv__settings_courier(s, s->couriers[i].id) != NULL);
    for (size_t i = 0; i < s->cancel_cause_count; i++)
        FUZZ_CHECK(dlv__settings_cancel_cause(s, s->cancel_causes[i].id) != NULL);
    char *text = dlv__settings_to_json(s);
    FUZZ_CHECK(text != NULL);
    dlv__settings *again = NULL;
    rc = dlv__settings_from_json(text, strlen(text), &again, &err);
    if (rc != DLV_OK)
        fprintf(stderr, "re-encoded settings: %s\n", text);
    FUZZ_CHECK_MSG(rc == DLV_OK, err.message);
    char *text2 = dlv__settings_to_json(again);
    FUZZ_CHECK(text2 != NULL);
    if (strcmp(text, text2) != 0)
        fprintf(stderr, "first:  %s\nsecond: %s\n", text, text2);
    FUZZ_CHECK(strcmp(text, text2) == 0);
    free(text);
    free(text2);
    dlv__settings_free(again);
    dlv__settings_free(s);
    return 0;
}
