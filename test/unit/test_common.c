/* The shared basics: error names and texts, the allocator's failure hook, UUIDs, the growable
 * buffer and array. */
#include "common/dynbuf.h"
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

static void dynbuf_adds_and_takes(void)
{
    dlv__dynbuf b;
    dlv__dynbuf_init(&b, 1024);
    CU_ASSERT_STRING_EQUAL(dlv__dynbuf_ptr(&b), "");
    CU_ASSERT_EQUAL(dlv__dynbuf_len(&b), 0);
    CU_ASSERT_EQUAL(dlv__dynbuf_adds(&b, "abc"), DLV_OK);
    CU_ASSERT_EQUAL(dlv__dynbuf_addc(&b, '-'), DLV_OK);
    CU_ASSERT_EQUAL(dlv__dynbuf_addf(&b, "%d/%s", 42, "x"), DLV_OK);
    CU_ASSERT_EQUAL(dlv__dynbuf_adds(&b, NULL), DLV_OK);
    CU_ASSERT_STRING_EQUAL(dlv__dynbuf_ptr(&b), "abc-42/x");
    CU_ASSERT_EQUAL(dlv__dynbuf_len(&b), 8);
    /* Growth keeps the content, across several doublings. */
    for (int i = 0; i < 100; i++)
        CU_ASSERT_EQUAL(dlv__dynbuf_addc(&b, (char)('a' + i % 26)), DLV_OK);
    CU_ASSERT_EQUAL(dlv__dynbuf_len(&b), 108);
    CU_ASSERT_EQUAL(memcmp(dlv__dynbuf_ptr(&b), "abc-42/xabcdef", 14), 0);
    CU_ASSERT_EQUAL(dlv__dynbuf_ptr(&b)[108], '\0');
    dlv__dynbuf_truncate(&b, 3);
    CU_ASSERT_STRING_EQUAL(dlv__dynbuf_ptr(&b), "abc");
    dlv__dynbuf_truncate(&b, 10); /* longer: no-op */
    CU_ASSERT_EQUAL(dlv__dynbuf_len(&b), 3);
    size_t len = 99;
    char *s = dlv__dynbuf_take(&b, &len);
    CU_ASSERT_STRING_EQUAL(s, "abc");
    CU_ASSERT_EQUAL(len, 3);
    dlv__free(s);
    /* Taken: empty again, and usable with the same cap. */
    CU_ASSERT_EQUAL(dlv__dynbuf_len(&b), 0);
    s = dlv__dynbuf_take(&b, &len);
    CU_ASSERT_STRING_EQUAL(s, "");
    CU_ASSERT_EQUAL(len, 0);
    dlv__free(s);
    /* A long formatted add (longer than any first allocation). */
    CU_ASSERT_EQUAL(dlv__dynbuf_addf(&b, "%0300d", 7), DLV_OK);
    CU_ASSERT_EQUAL(dlv__dynbuf_len(&b), 300);
    CU_ASSERT_EQUAL(dlv__dynbuf_ptr(&b)[299], '7');
    dlv__dynbuf_reset(&b);
    CU_ASSERT_STRING_EQUAL(dlv__dynbuf_ptr(&b), "");
    CU_ASSERT_EQUAL(dlv__dynbuf_adds(&b, "again"), DLV_OK);
    CU_ASSERT_STRING_EQUAL(dlv__dynbuf_ptr(&b), "again");
    dlv__dynbuf_free(&b);
    dlv__dynbuf_free(&b); /* twice is harmless */
}

static void dynbuf_keeps_embedded_nuls(void)
{
    dlv__dynbuf b;
    dlv__dynbuf_init(&b, 64);
    CU_ASSERT_EQUAL(dlv__dynbuf_add(&b, "a\0b", 3), DLV_OK);
    CU_ASSERT_EQUAL(dlv__dynbuf_addc(&b, '\0'), DLV_OK);
    CU_ASSERT_EQUAL(dlv__dynbuf_len(&b), 4);
    CU_ASSERT_EQUAL(memcmp(dlv__dynbuf_ptr(&b), "a\0b\0", 5), 0);
    size_t len = 0;
    char *s = dlv__dynbuf_take(&b, &len);
    CU_ASSERT_EQUAL(len, 4);
    CU_ASSERT_EQUAL(memcmp(s, "a\0b\0", 5), 0);
    dlv__free(s);
}

static void dynbuf_cap_fails_and_sticks(void)
{
    dlv__dynbuf b;
    dlv__dynbuf_init(&b, 8); /* at most 7 bytes of content */
    CU_ASSERT_EQUAL(dlv__dynbuf_adds(&b, "1234567"), DLV_OK);
    CU_ASSERT_EQUAL(dlv__dynbuf_addc(&b, '8'), DLV_ETOOLARGE);
    /* curl's rule: the content is gone and the buffer stays failed until reset. */
    CU_ASSERT_EQUAL(dlv__dynbuf_error(&b), DLV_ETOOLARGE);
    CU_ASSERT_EQUAL(dlv__dynbuf_len(&b), 0);
    CU_ASSERT_STRING_EQUAL(dlv__dynbuf_ptr(&b), "");
    CU_ASSERT_EQUAL(dlv__dynbuf_addc(&b, 'x'), DLV_ETOOLARGE);
    CU_ASSERT_EQUAL(dlv__dynbuf_addf(&b, "%d", 1), DLV_ETOOLARGE);
    size_t len = 5;
    CU_ASSERT_PTR_NULL(dlv__dynbuf_take(&b, &len));
    CU_ASSERT_EQUAL(len, 0);
    dlv__dynbuf_reset(&b);
    CU_ASSERT_EQUAL(dlv__dynbuf_error(&b), DLV_OK);
    CU_ASSERT_EQUAL(dlv__dynbuf_adds(&b, "ok"), DLV_OK);
    /* A huge length cannot wrap the size check around. */
    CU_ASSERT_EQUAL(dlv__dynbuf_add(&b, "", (size_t)-1), DLV_ETOOLARGE);
    dlv__dynbuf_reset(&b);
    CU_ASSERT_EQUAL(dlv__dynbuf_addf(&b, "%s", "12345678"), DLV_ETOOLARGE);
    dlv__dynbuf_free(&b);
}

static void dynbuf_allocation_failure(void)
{
    dlv__dynbuf b;
    dlv__dynbuf_init(&b, 1 << 20);
    CU_ASSERT_EQUAL(dlv__dynbuf_adds(&b, "start"), DLV_OK);
    dlv__alloc_fail_after(0);
    char big[100];
    memset(big, 'x', sizeof big);
    int rc = dlv__dynbuf_add(&b, big, sizeof big); /* must grow: fails */
    int again = dlv__dynbuf_addc(&b, 'y');
    dlv__alloc_fail_after(-1);
    CU_ASSERT_EQUAL(rc, DLV_ENOMEM);
    CU_ASSERT_EQUAL(again, DLV_ENOMEM);
    CU_ASSERT_EQUAL(dlv__dynbuf_error(&b), DLV_ENOMEM);
    CU_ASSERT_EQUAL(dlv__dynbuf_len(&b), 0);
    CU_ASSERT_EQUAL(dlv__dynbuf_addc(&b, 'z'), DLV_ENOMEM); /* still failed after memory returns */
    dlv__dynbuf_reset(&b);
    CU_ASSERT_EQUAL(dlv__dynbuf_addc(&b, 'z'), DLV_OK);
    CU_ASSERT_STRING_EQUAL(dlv__dynbuf_ptr(&b), "z");
    dlv__dynbuf_free(&b);

    /* Taking an empty buffer allocates "", which can fail too. */
    dlv__dynbuf_init(&b, 16);
    dlv__alloc_fail_after(0);
    char *s = dlv__dynbuf_take(&b, NULL);
    dlv__alloc_fail_after(-1);
    CU_ASSERT_PTR_NULL(s);
    dlv__dynbuf_free(&b);
}

static void dynarr_grows_within_cap(void)
{
    int *items = NULL;
    size_t cap = 0;
    CU_ASSERT_EQUAL(DLV__DYNARR_RESERVE(items, cap, 1, 4, 10), DLV_OK);
    CU_ASSERT_EQUAL(cap, 4);
    for (int i = 0; i < 4; i++)
        items[i] = i;
    CU_ASSERT_EQUAL(DLV__DYNARR_RESERVE(items, cap, 3, 4, 10), DLV_OK); /* fits: nothing done */
    CU_ASSERT_EQUAL(cap, 4);
    CU_ASSERT_EQUAL(DLV__DYNARR_RESERVE(items, cap, 5, 4, 10), DLV_OK);
    CU_ASSERT_EQUAL(cap, 8);
    CU_ASSERT_EQUAL(items[3], 3);
    CU_ASSERT_EQUAL(DLV__DYNARR_RESERVE(items, cap, 9, 4, 10), DLV_OK);
    CU_ASSERT_EQUAL(cap, 10); /* doubling stops at the cap */
    CU_ASSERT_EQUAL(DLV__DYNARR_RESERVE(items, cap, 11, 4, 10), DLV_ETOOLARGE);
    CU_ASSERT_EQUAL(cap, 10);
    CU_ASSERT_EQUAL(items[2], 2);

    /* Out of memory leaves the array as it was. */
    int *before = items;
    dlv__alloc_fail_after(0);
    int rc = DLV__DYNARR_RESERVE(items, cap, 11, 4, DLV__DYNARR_NOLIMIT);
    dlv__alloc_fail_after(-1);
    CU_ASSERT_EQUAL(rc, DLV_ENOMEM);
    CU_ASSERT_PTR_EQUAL(items, before);
    CU_ASSERT_EQUAL(cap, 10);
    CU_ASSERT_EQUAL(items[1], 1);
    /* An element count whose byte size would overflow is refused, not wrapped. */
    CU_ASSERT_EQUAL(DLV__DYNARR_RESERVE(items, cap, (size_t)-1 / 2, 4, DLV__DYNARR_NOLIMIT),
                    DLV_ETOOLARGE);
    dlv__free(items);

    /* Works for arrays of pointers to const, such as a registry of ops tables. */
    const char **names = NULL;
    size_t ncap = 0;
    CU_ASSERT_EQUAL(DLV__DYNARR_RESERVE(names, ncap, 1, 8, DLV__DYNARR_NOLIMIT), DLV_OK);
    names[0] = "tcp";
    CU_ASSERT_STRING_EQUAL(names[0], "tcp");
    dlv__free((void *)names);
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
        DLV_TEST(dynbuf_adds_and_takes),
        DLV_TEST(dynbuf_keeps_embedded_nuls),
        DLV_TEST(dynbuf_cap_fails_and_sticks),
        DLV_TEST(dynbuf_allocation_failure),
        DLV_TEST(dynarr_grows_within_cap),
        DLV_TEST_END,
    };
    return dlv_test_main("common", cases);
}
