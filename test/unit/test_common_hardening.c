/* Security of lib/common (issue 9): the log masking helpers never return what they mask.
 * The whole-session log test is test_runtime_logs.c. */
#include <stdio.h>
#include <string.h>

#include "common/internal.h"
#include "common/log.h"
#include "testlib.h"

#define TID "e49d3632-b06a-4a9a-8c76-ae816c4404ad"

/* ---- masking ---- */

static void masking_never_returns_the_secret(void)
{
    char out[64];
    dlv__mask_phone("+79161234567", out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "+7 *** ***-**-67");
    dlv__mask_phone("+7 (916) 123-45-67", out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "+7 *** ***-**-67");
    dlv__mask_phone("89161234567", out, sizeof out);
    CU_ASSERT_FALSE(dlv_test_contains(out, "9161234567"));
    DLV_ASSERT_CONTAINS(out, "67");
    dlv__mask_name("Анна", out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "А***");
    dlv__mask_token("0123456789abcdef0123456789abcdef", out, sizeof out);
    CU_ASSERT_FALSE(dlv_test_contains(out, "456789abcdef"));
    dlv__mask_token(TID, out, sizeof out);
    CU_ASSERT_FALSE(dlv_test_contains(out, "3632-b06a"));
    /* Long inputs and odd ones: never the whole input back. */
    const char *phones[] = {"+380441234567", "+1 212 555 0100", "12345678901234567890123456789",
                            "tel:+79161234567"};
    for (size_t i = 0; i < DLV__ARRAY_SIZE(phones); i++) {
        dlv__mask_phone(phones[i], out, sizeof out);
        CU_ASSERT_FALSE(dlv_test_contains(out, phones[i]));
        char digits[64];
        size_t n = 0;
        for (const char *p = phones[i]; *p && n < sizeof digits - 1; p++)
            if (*p >= '0' && *p <= '9')
                digits[n++] = *p;
        digits[n] = '\0';
        CU_ASSERT_FALSE(dlv_test_contains(out, digits + 1));
    }
    const char *names[] = {"Зайцеворонкова", "O'Brien-Smith", "李小龍"};
    for (size_t i = 0; i < DLV__ARRAY_SIZE(names); i++) {
        dlv__mask_name(names[i], out, sizeof out);
        CU_ASSERT_FALSE(dlv_test_contains(out, names[i]));
    }
}

int main(void)
{
    static const dlv_test_case cases[] = {
        DLV_TEST(masking_never_returns_the_secret),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("common_hardening", cases);
    return rc;
}
