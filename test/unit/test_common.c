/* The shared basics: error names and texts, the allocator's failure hook, UUIDs. */
#include "common/internal.h"
#include "common/log.h"
#include "delivery/version.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

static void error_names_and_texts(void)
{
    CU_ASSERT_STRING_EQUAL(dlv_err_name(DLV_OK), "OK");
    CU_ASSERT_STRING_EQUAL(dlv_err_name(DLV_EMISSINGRIGHT), "EMISSINGRIGHT");
    CU_ASSERT_STRING_EQUAL(dlv_strerror(DLV_ENOMEM), "out of memory");
    CU_ASSERT_STRING_EQUAL(dlv_err_name(12345), "UNKNOWN");
    CU_ASSERT_STRING_EQUAL(dlv_strerror(-9999), "unknown error");
    /* Codes are dense and every one has a distinct name. */
    for (int code = -1; code > DLV_ERR_LAST_; code--) {
        CU_ASSERT_STRING_NOT_EQUAL(dlv_err_name(code), "UNKNOWN");
        for (int other = code - 1; other > DLV_ERR_LAST_; other--)
            CU_ASSERT_STRING_NOT_EQUAL(dlv_err_name(code), dlv_err_name(other));
    }
}

static void error_set_formats_message(void)
{
    dlv_error err;
    CU_ASSERT_EQUAL(dlv__error_set(&err, DLV_ECONFIG, "%s:%d: bad", "f.xml", 7), DLV_ECONFIG);
    CU_ASSERT_EQUAL(err.code, DLV_ECONFIG);
    CU_ASSERT_STRING_EQUAL(err.message, "f.xml:7: bad");
    CU_ASSERT_EQUAL(dlv__error_set(NULL, DLV_EIO, "ignored"), DLV_EIO);
}

static void allocator_fails_on_demand(void)
{
    dlv__alloc_fail_after(2);
    void *a = dlv__malloc(8), *b = dlv__malloc(8), *c = dlv__malloc(8);
    dlv__alloc_fail_after(-1);
    CU_ASSERT_PTR_NOT_NULL(a);
    CU_ASSERT_PTR_NOT_NULL(b);
    CU_ASSERT_PTR_NULL(c);
    void *d = dlv__malloc(8);
    CU_ASSERT_PTR_NOT_NULL(d);
    dlv__free(a);
    dlv__free(b);
    dlv__free(d);
    char *s = dlv__asprintf("%d-%s", 42, "x");
    CU_ASSERT_STRING_EQUAL(s, "42-x");
    dlv__free(s);
}

static void uuid_v4_is_random_and_valid(void)
{
    char a[37], b[37];
    CU_ASSERT_EQUAL(dlv__uuid_v4(a), DLV_OK);
    CU_ASSERT_EQUAL(dlv__uuid_v4(b), DLV_OK);
    CU_ASSERT_TRUE(dlv__uuid_valid(a));
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
    CU_ASSERT_EQUAL(a[14], '4');
    CU_ASSERT_TRUE(strchr("89ab", a[19]) != NULL);
    CU_ASSERT_TRUE(dlv__uuid_valid("E49D3632-B06A-4A9A-8C76-AE816C4404AD"));
    CU_ASSERT_FALSE(dlv__uuid_valid("e49d3632b06a4a9a8c76ae816c4404ad"));
    CU_ASSERT_FALSE(dlv__uuid_valid("e49d3632-b06a-4a9a-8c76-ae816c4404a"));
    CU_ASSERT_FALSE(dlv__uuid_valid("g49d3632-b06a-4a9a-8c76-ae816c4404ad"));
    CU_ASSERT_FALSE(dlv__uuid_valid(NULL));
}

static void version_matches_header(void)
{
    CU_ASSERT_EQUAL(dlv_version_hex(), DLV_VERSION_HEX);
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", DLV_VERSION_MAJOR, DLV_VERSION_MINOR,
             DLV_VERSION_PATCH);
    CU_ASSERT_STRING_EQUAL(dlv_version_string(), expect);
}

static void masking(void)
{
    char out[64];
    dlv__mask_phone("+79161234567", out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "+7 *** ***-**-67");
    dlv__mask_phone("8 (916) 123-45-99", out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "*** ***-**-99");
    dlv__mask_phone(NULL, out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "(none)");
    dlv__mask_name("Анна", out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "А***");
    dlv__mask_name("Bob", out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "B***");
    dlv__mask_token("0123456789abcdef", out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "0123…");
}

static char last_line[256];
static void capture(void *arg, dlv_log_level level, const char *line)
{
    (void)arg;
    snprintf(last_line, sizeof last_line, "%d:%s", (int)level, line);
}

static void log_levels(void)
{
    dlv__logger lg = {capture, NULL, DLV_LOG_INFO, "t"};
    DLV__LOGD(&lg, "hidden %d", 1);
    CU_ASSERT_STRING_EQUAL(last_line, "");
    DLV__LOGI(&lg, "shown %d", 2);
    CU_ASSERT_STRING_EQUAL(last_line, "2:shown 2");
    DLV__LOGE(&lg, "bad");
    CU_ASSERT_STRING_EQUAL(last_line, "0:bad");
}

int main(void)
{
    static const dlv_test_case cases[] = {
        DLV_TEST(error_names_and_texts),
        DLV_TEST(error_set_formats_message),
        DLV_TEST(allocator_fails_on_demand),
        DLV_TEST(uuid_v4_is_random_and_valid),
        DLV_TEST(version_matches_header),
        DLV_TEST(masking),
        DLV_TEST(log_levels),
        DLV_TEST_END,
    };
    return dlv_test_main("common", cases);
}
