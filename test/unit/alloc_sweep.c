/* The allocation-failure sweep (alloc_sweep.h), moved here from the former
 * test_hardening_alloc.c so that each module's suite can run it. */
#include "alloc_sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/internal.h"
#include "testlib.h"

static bool checking;
static unsigned long checks_began_at;

void checks_begin(void)
{
    if (!checking) {
        checks_began_at = dlv__alloc_count();
        checking = true;
        dlv__alloc_fail_after(-1);
    }
}

static bool allowed_code(int rc, const int *allowed)
{
    for (; *allowed; allowed++)
        if (rc == *allowed)
            return true;
    return false;
}

long sweep(const char *what, attempt_fn fn, void *arg, int final, const int *allowed,
           bool ok_after_failure)
{
    long n;
    long codes[40] = {0};
    for (n = 0; n < SWEEP_MAX; n++) {
        dlv_error err;
        memset(&err, 0, sizeof err);
        unsigned long before = dlv__alloc_count();
        checking = false;
        dlv__alloc_fail_after(n);
        int rc = fn(arg, &err);
        dlv__alloc_fail_after(-1);
        unsigned long made = (checking ? checks_began_at : dlv__alloc_count()) - before;
        checking = false;
        if (made <= (unsigned long)n) {
            if (rc != final)
                fprintf(stderr, "\n  %s: complete run returned %s (%s), expected %s\n", what,
                        dlv_err_name(rc), err.message, dlv_err_name(final));
            CU_ASSERT_EQUAL(rc, final);
            break;
        }
        bool ok = rc == DLV_OK ? ok_after_failure : allowed_code(rc, allowed);
        if (rc != DLV_OK && rc != WRONG_RESULT && (err.code != rc || err.message[0] == '\0')) {
            fprintf(stderr, "\n  %s: allocation %ld failed: %s without a message\n", what, n,
                    dlv_err_name(rc));
            ok = false;
        }
        if (!ok)
            fprintf(stderr, "\n  %s: allocation %ld failed: returned %s: %s\n", what, n,
                    rc == WRONG_RESULT ? "a wrong result" : dlv_err_name(rc), err.message);
        CU_ASSERT(ok);
        if (rc <= 0 && rc > -40)
            codes[-rc]++;
    }
    CU_ASSERT(n < SWEEP_MAX);
    if (n < 3)
        fprintf(stderr, "\n  %s: completed after only %ld failures\n", what, n);
    CU_ASSERT(n >= 3); /* the sweep really exercised failures */
    if (getenv("DLV_TEST_VERBOSE")) {
        fprintf(stderr, "\n  %s: %ld allocations;", what, n);
        for (int c = 0; c < 40; c++)
            if (codes[c])
                fprintf(stderr, " %s×%ld", dlv_err_name(-c), codes[c]);
        fprintf(stderr, "\n");
    }
    return n;
}

const int ENOMEM_ONLY[] = {DLV_ENOMEM, 0};
const int JSON_OOM[] = {DLV_ENOMEM, DLV_EJSON, 0};

bool known_bugs(void)
{
    return getenv("DLV_TEST_KNOWN_BUGS") != NULL;
}

const int *config_oom(void)
{
    static const int strict[] = {DLV_ENOMEM, 0};
    static const int tolerated[] = {DLV_ENOMEM, DLV_ECONFIG, DLV_EIO, 0};
    return known_bugs() ? strict : tolerated;
}

const int *template_oom(void)
{
    static const int strict[] = {DLV_ENOMEM, 0};
    static const int tolerated[] = {DLV_ENOMEM, DLV_ETEMPLATE, 0};
    return known_bugs() ? strict : tolerated;
}
