/* The allocation-failure sweep shared by the test_<module>_alloc.c suites: every allocation of a
 * call is failed in turn (N = 0, 1, ... until a run completes with nothing failed). Each failed
 * run must return an error that says so (or, when the code recovered by itself, the right
 * result), never crash, and leave nothing allocated; valgrind and ASan check the last part.
 * A suite's main() calls dlv__alloc_hook_libraries() so that cJSON and libxml2 allocate through
 * the library's allocator too. */
#ifndef DLV_TEST_ALLOC_SWEEP_H
#define DLV_TEST_ALLOC_SWEEP_H

#include <stdbool.h>

#include "delivery/errors.h"

#define SWEEP_MAX 200000
/* A sweep's own result check failed: the call returned success with a wrong result. */
#define WRONG_RESULT (-1000)

typedef int (*attempt_fn)(void *arg, dlv_error *err);

/* A sweep's function calls this between the call under test and its own checks of the result,
 * so that the checks' allocations neither fail nor count. */
void checks_begin(void);

/* Runs `fn` with allocation N failing for N = 0, 1, ... until a run makes no more than N
 * allocations, i.e. none failed; that complete run must return `final`. A run in which an
 * allocation failed must return one of `allowed` (0-terminated list of error codes) with a
 * message, or DLV_OK when `ok_after_failure` (the code may recover, e.g. libxml2 does) — fn
 * then checks its result itself and returns WRONG_RESULT when it is wrong. Returns the number
 * of failed runs. */
long sweep(const char *what, attempt_fn fn, void *arg, int final, const int *allowed,
           bool ok_after_failure);

extern const int ENOMEM_ONLY[];
/* cJSON cannot tell "out of memory" from "malformed": its parser returns NULL for both. */
extern const int JSON_OOM[];

/* Known bug (reported): the XML readers report some allocation failures as a defect of a valid
 * file: libxml2 failing inside the parser reads as "malformed XML" (DLV_ECONFIG for the configs,
 * DLV_ETEMPLATE for document templates), xmlParseURI failing as "<serverUrl> is not an http://
 * address", the config write-back's serialiser as DLV_EIO. The operator is sent to fix a file
 * that is fine. Still an error each time, so tolerated unless DLV_TEST_KNOWN_BUGS=1. */
bool known_bugs(void);
const int *config_oom(void);
const int *template_oom(void);

#endif
