/* Growable storage shared by the whole library: dlv__dynbuf, a NUL-terminated byte buffer with a
 * size cap (modelled on curl's lib/dynbuf.c), and dlv__dynarr_reserve, the doubling step for
 * arrays of any element type. Every allocation goes through dlv__realloc, so the allocator's
 * failure injection reaches them. */
#ifndef DLV__COMMON_DYNBUF_H
#define DLV__COMMON_DYNBUF_H

#include "common/internal.h"

/* A byte buffer that grows by doubling and always keeps a NUL after its content, so it can hold
 * text and binary data (embedded NULs) alike. Fields are private: use the functions.
 *
 * Failure follows curl's Curl_dyn_addn: an add that would reach the cap (DLV_ETOOLARGE) or cannot
 * allocate (DLV_ENOMEM) frees the content. The buffer then stays failed: every later add returns
 * the same code and does nothing, ptr/len read "" and 0, take returns NULL, until reset or free.
 * A run of adds may therefore be checked once, at the end, with dlv__dynbuf_error. */
typedef struct dlv__dynbuf {
    char *bufr;    /* NULL until the first byte is added */
    size_t leng;   /* bytes held, NUL not counted */
    size_t allc;   /* bytes allocated */
    size_t toobig; /* the content plus its NUL never takes more than this many bytes */
    int error;     /* DLV_OK, or the code of the add that failed */
} dlv__dynbuf;

/* Prepares an empty buffer whose content plus NUL may take at most `toobig` bytes (so at most
 * toobig - 1 bytes of content), as curl's Curl_dyn_init. Allocates nothing. */
void dlv__dynbuf_init(dlv__dynbuf *b, size_t toobig);
/* Frees the content and makes the buffer empty again (same cap, error cleared). */
void dlv__dynbuf_free(dlv__dynbuf *b);
/* Empties the buffer but keeps its allocation for reuse; clears a failed state. */
void dlv__dynbuf_reset(dlv__dynbuf *b);

/* Appends `len` bytes (NULs allowed). DLV_OK, DLV_ETOOLARGE or DLV_ENOMEM (see above). */
int dlv__dynbuf_add(dlv__dynbuf *b, const void *mem, size_t len);
/* Appends a NUL-terminated string (NULL appends nothing). */
int dlv__dynbuf_adds(dlv__dynbuf *b, const char *s);
/* Appends one byte. */
int dlv__dynbuf_addc(dlv__dynbuf *b, char c);
/* Appends printf-style text. */
int dlv__dynbuf_addf(dlv__dynbuf *b, const char *fmt, ...) DLV__PRINTF(2, 3);
int dlv__dynbuf_vaddf(dlv__dynbuf *b, const char *fmt, va_list ap);

/* Shortens the content to `len` bytes (no-op when it is not longer). */
void dlv__dynbuf_truncate(dlv__dynbuf *b, size_t len);

/* Hands over the NUL-terminated content (an empty string when nothing was added; free it with
 * dlv__free) and leaves the buffer empty with the same cap. `len` (may be NULL) gets the length.
 * NULL when the buffer has failed or the empty string cannot be allocated. */
char *dlv__dynbuf_take(dlv__dynbuf *b, size_t *len);

/* The content, NUL-terminated; "" while empty or failed. Valid until the next add/reset/free. */
const char *dlv__dynbuf_ptr(const dlv__dynbuf *b);
/* Bytes held, NUL not counted. */
size_t dlv__dynbuf_len(const dlv__dynbuf *b);
/* DLV_OK, or the code of the add that failed since the last reset. */
int dlv__dynbuf_error(const dlv__dynbuf *b);

/* No cap on an array's element count beyond what size_t can address. */
#define DLV__DYNARR_NOLIMIT ((size_t)-1)

/* Makes room for `need` elements in the array whose address is `itemsp` (a pointer to any
 * `T *`, NULL while nothing is allocated) holding `*cap` elements of `elem_size` bytes. When it
 * is too small the capacity doubles, starting from `first`, and never exceeds `max` elements.
 * DLV_OK; DLV_ETOOLARGE when `need` exceeds `max` (or the byte size overflows); DLV_ENOMEM.
 * Unlike dlv__dynbuf, a failure leaves the array and `*cap` untouched: its elements may own
 * memory that only the caller knows how to free. */
int dlv__dynarr_reserve(void *itemsp, size_t *cap, size_t need, size_t elem_size, size_t first,
                        size_t max);
/* The same for a typed pointer lvalue `items`: DLV__DYNARR_RESERVE(list, cap, n + 1, 8, max). */
#define DLV__DYNARR_RESERVE(items, cap, need, first, max)                                          \
    dlv__dynarr_reserve(&(items), &(cap), (need), sizeof *(items), (first), (max))

#endif
