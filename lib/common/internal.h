/* Declarations shared inside the library; never installed. */
#ifndef DLV__INTERNAL_H
#define DLV__INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "delivery/errors.h"

#if defined(__GNUC__) || defined(__clang__)
#define DLV__PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define DLV__PRINTF(fmt, args)
#endif

#define DLV__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* One allocator for the whole library so tests can fail the N-th allocation. */
void *dlv__malloc(size_t size);
void *dlv__calloc(size_t count, size_t size);
void *dlv__realloc(void *ptr, size_t size);
void dlv__free(void *ptr);
char *dlv__strdup(const char *s);
char *dlv__strndup(const char *s, size_t n);
/* printf into a fresh allocation; NULL on failure. */
char *dlv__asprintf(const char *fmt, ...) DLV__PRINTF(1, 2);

/* Test hook: the next `n` allocations succeed and every later one fails, until reset with -1.
 * Also counts allocations made so far (dlv__alloc_count) so a test can loop over every N. */
void dlv__alloc_fail_after(long n);
unsigned long dlv__alloc_count(void);
/* Install the allocator as cJSON's and libxml2's so their allocations can fail in tests too. */
void dlv__alloc_hook_libraries(void);

/* Fill `err` (may be NULL) and return `code`. */
int dlv__error_set(dlv_error *err, int code, const char *fmt, ...) DLV__PRINTF(3, 4);
int dlv__error_vset(dlv_error *err, int code, const char *fmt, va_list ap);
void dlv__error_clear(dlv_error *err);

/* Random UUID v4 from the operating system's random source, as 36 lowercase chars + NUL. */
int dlv__uuid_v4(char out[37]);
/* True when `s` is a canonical 8-4-4-4-12 hex UUID (any case). */
bool dlv__uuid_valid(const char *s);
/* Fill `buf` with `len` random bytes from the operating system. */
int dlv__random_bytes(void *buf, size_t len);

#endif
