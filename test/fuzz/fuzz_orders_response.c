/* The answer to GET /delivery/v1/orders, decoded strictly and leniently (the runtime's way: an
 * invalid order is left out and named, a malformed non-essential field becomes a warning, a
 * duplicate id keeps one order and names the others). Whatever the strict decoder accepts, the
 * lenient one accepts with no warning and nothing left out but duplicates; every order either
 * decoder returns re-encodes and decodes again (tolerantly for the lenient one's, as the cache
 * does). */
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"

static void check_orders(const dlv__orders_response *r, unsigned flags)
{
    FUZZ_CHECK(r->revision >= 0);
    for (size_t i = 0; i < r->order_count; i++) {
        char *text = dlv__order_to_json(r->orders[i]);
        FUZZ_CHECK(text != NULL);
        dlv__order *again = NULL;
        dlv_error err = {0};
        int rc = dlv__order_from_json(text, strlen(text), flags, &again, &err);
        FUZZ_CHECK_MSG(rc == DLV_OK, err.message);
        dlv__order_free(again);
        free(text);
    }
    for (size_t i = 0; i < r->removed_count; i++)
        FUZZ_CHECK(r->removed_ids[i] != NULL && dlv__uuid_valid(r->removed_ids[i]));
    for (size_t i = 0; i < r->invalid_count; i++)
        FUZZ_CHECK(r->invalid[i].code != DLV_OK && r->invalid[i].message[0] != '\0');
    for (size_t i = 0; i < r->warning_count; i++)
        FUZZ_CHECK(r->warnings[i].order_id[0] != '\0');
    for (size_t i = 0; i + 1 < r->order_count; i++)
        for (size_t k = i + 1; flags && k < r->order_count && k < i + 64; k++)
            FUZZ_CHECK(strcasecmp(r->orders[i]->id, r->orders[k]->id) != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dlv__orders_response *strict = (dlv__orders_response *)1, *lenient = (dlv__orders_response *)1;
    dlv_error err = {0}, lerr = {0};
    int rc = dlv__orders_response_decode((const char *)data, size, &strict, &err);
    int lrc = dlv__orders_response_decode_lenient((const char *)data, size, &lenient, &lerr);
    if (rc != DLV_OK) {
        FUZZ_CHECK(strict == NULL);
        FUZZ_CHECK(rc == DLV_EJSON || rc == DLV_ETOOLARGE);
        FUZZ_CHECK(err.code == rc && err.message[0] != '\0');
    } else {
        check_orders(strict, 0);
        FUZZ_CHECK(strict->invalid_count == 0);
        FUZZ_CHECK_MSG(lrc == DLV_OK, lerr.message);
        /* Only duplicates are left out of an answer the strict decoder takes. */
        FUZZ_CHECK(lenient->order_count + lenient->invalid_count == strict->order_count);
        for (size_t i = 0; i < lenient->invalid_count; i++)
            FUZZ_CHECK(strstr(lenient->invalid[i].message, "duplicate") != NULL);
        FUZZ_CHECK(lenient->warning_count == 0);
        FUZZ_CHECK(lenient->more == strict->more);
        FUZZ_CHECK(lenient->removed_count == strict->removed_count);
        FUZZ_CHECK(lenient->revision == strict->revision);
        FUZZ_CHECK((lenient->settings == NULL) == (strict->settings == NULL));
    }
    if (lrc != DLV_OK) {
        FUZZ_CHECK(lenient == NULL);
        FUZZ_CHECK(lrc == DLV_EJSON || lrc == DLV_ETOOLARGE);
        FUZZ_CHECK(lerr.code == lrc && lerr.message[0] != '\0');
    } else {
        check_orders(lenient, DLV__ORDER_LENIENT);
    }
    dlv__orders_response_free(strict == (dlv__orders_response *)1 ? NULL : strict);
    dlv__orders_response_free(lenient == (dlv__orders_response *)1 ? NULL : lenient);
    return 0;
}
