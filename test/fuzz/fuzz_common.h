/* Shared by the libFuzzer targets: the entry points' prototypes, a scratch file for APIs that
 * read files, the fixed orders that templates are rendered against, and a check that aborts
 * (so libFuzzer keeps the input) when a decoded value breaks an invariant. */
#ifndef DLV_FUZZ_COMMON_H
#define DLV_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "order/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Writes `size` bytes to <this process's scratch folder>/<name> and returns the path (static
 * storage, valid until the next call with the same name). */
const char *fuzz_scratch_file(const char *name, const uint8_t *data, size_t size);

/* The fixture orders templates are rendered against: a courier order with everything, a
 * pickup order and an anonymous one (no customer, no address). Decoded once; aborts if a
 * fixture does not decode. */
#define FUZZ_ORDER_COUNT 3
const dlv__order *fuzz_order(size_t index);

/* libxml2 prints nothing (its errors are reported through dlv_error). */
void fuzz_quiet_libxml(void);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "invariant broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Like FUZZ_CHECK, printing an error message that explains the failure. */
#define FUZZ_CHECK_MSG(cond, msg)                                                                  \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "invariant broken: %s (%s:%d): %s\n", #cond, __FILE__, __LINE__,       \
                    (msg));                                                                        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
