/* One ORDER document as the call-center or the host sends it (dlv__order_from_json), strict and
 * as a draft. A decoded order must survive encode -> decode -> encode unchanged, clone
 * identically and pass its own validation. */
#include <string.h>

#include "fuzz_common.h"

static void check_roundtrip(const dlv__order *o, unsigned flags)
{
    char *text = dlv__order_to_json(o);
    FUZZ_CHECK(text != NULL);
    dlv_error err = {0};
    FUZZ_CHECK_MSG(dlv__order_validate(o, flags, &err) == DLV_OK, err.message);
    dlv__order *again = NULL;
    int rc = dlv__order_from_json(text, strlen(text), flags, &again, &err);
    if (rc != DLV_OK)
        fprintf(stderr, "re-encoded order: %s\n", text);
    FUZZ_CHECK_MSG(rc == DLV_OK, err.message);
    char *text2 = dlv__order_to_json(again);
    FUZZ_CHECK(text2 != NULL);
    if (strcmp(text, text2) != 0)
        fprintf(stderr, "first:  %s\nsecond: %s\n", text, text2);
    FUZZ_CHECK(strcmp(text, text2) == 0);
    dlv__order *copy = NULL;
    FUZZ_CHECK(dlv__order_clone(o, &copy) == DLV_OK);
    char *text3 = dlv__order_to_json(copy);
    FUZZ_CHECK(text3 != NULL && strcmp(text, text3) == 0);
    free(text);
    free(text2);
    free(text3);
    dlv__order_free(again);
    dlv__order_free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned flag_sets[] = {0, DLV__ORDER_DRAFT, DLV__ORDER_LENIENT};
    for (size_t i = 0; i < 3; i++) {
        dlv__order *o = (dlv__order *)1;
        dlv_error err = {0};
        int rc = dlv__order_from_json((const char *)data, size, flag_sets[i], &o, &err);
        if (rc != DLV_OK) {
            FUZZ_CHECK(o == NULL);
            FUZZ_CHECK(rc == DLV_EJSON || rc == DLV_ETOOLARGE);
            FUZZ_CHECK(err.code == rc && err.message[0] != '\0');
            continue;
        }
        check_roundtrip(o, flag_sets[i]);
        dlv__order_free(o);
    }
    return 0;
}
