/* Shared helpers for the CUnit suites: one runner, scratch folders, small file utilities. */
#ifndef DLV_TESTLIB_H
#define DLV_TESTLIB_H

#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct dlv_test_case {
    const char *name;
    CU_TestFunc fn;
} dlv_test_case;

#define DLV_TEST(fn)                                                                               \
    {                                                                                              \
#fn, fn                                                                                    \
    }
#define DLV_TEST_END                                                                               \
    {                                                                                              \
        NULL, NULL                                                                                 \
    }

/* Runs one suite verbosely, prints CUnit's summary and returns the process exit code:
 * 0 only when at least one test ran and none failed. */
int dlv_test_main(const char *suite, const dlv_test_case *cases);

/* A fresh empty folder under $TMPDIR (or /tmp); the path stays valid until dlv_test_rmdir. */
char *dlv_test_mkdtemp(void);
/* Removes a folder made by dlv_test_mkdtemp and everything in it. */
void dlv_test_rmdir(char *dir);
/* Writes `text` to dir/name; returns the full path (caller frees). */
char *dlv_test_write_file(const char *dir, const char *name, const char *text);
/* Reads a whole file into a NUL-terminated buffer (caller frees); NULL if missing. */
char *dlv_test_read_file(const char *path, size_t *len);
/* True when `haystack` contains `needle` (NULL-safe). */
bool dlv_test_contains(const char *haystack, const char *needle);

/* CU_ASSERT that `haystack` contains `needle`, printing both on failure. */
#define DLV_ASSERT_CONTAINS(haystack, needle)                                                      \
    do {                                                                                           \
        const char *h_ = (haystack), *n_ = (needle);                                               \
        bool ok_ = dlv_test_contains(h_, n_);                                                      \
        if (!ok_)                                                                                  \
            fprintf(stderr, "\n  expected \"%s\" in \"%s\"\n", n_, h_ ? h_ : "(null)");            \
        CU_ASSERT(ok_);                                                                            \
    } while (0)

#endif
