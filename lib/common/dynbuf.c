/* dlv__dynbuf and dlv__dynarr_reserve: the library's one growable buffer and array (see
 * dynbuf.h for the failure rules). */
#include "common/dynbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The first allocation; most of our strings then need only one. */
#define DYNBUF_FIRST_ALLOC 32

void dlv__dynbuf_init(dlv__dynbuf *b, size_t toobig)
{
    DLV__ASSERT(b);
    DLV__ASSERT(toobig > 1);
    b->bufr = NULL;
    b->leng = 0;
    b->allc = 0;
    b->toobig = toobig;
    b->error = DLV_OK;
}

void dlv__dynbuf_free(dlv__dynbuf *b)
{
    DLV__ASSERT(b);
    dlv__free(b->bufr);
    b->bufr = NULL;
    b->leng = 0;
    b->allc = 0;
    b->error = DLV_OK;
}

void dlv__dynbuf_reset(dlv__dynbuf *b)
{
    DLV__ASSERT(b);
    b->leng = 0;
    if (b->bufr)
        b->bufr[0] = '\0';
    b->error = DLV_OK;
}

/* Frees the content and remembers `code` until the next reset (curl frees on failure too). */
static int fail(dlv__dynbuf *b, int code)
{
    dlv__free(b->bufr);
    b->bufr = NULL;
    b->leng = 0;
    b->allc = 0;
    b->error = code;
    return code;
}

/* Makes room for `extra` more bytes plus the NUL, within the cap. */
static int ensure(dlv__dynbuf *b, size_t extra)
{
    if (b->error)
        return b->error;
    DLV__ASSERT(b->leng < b->toobig && b->allc <= b->toobig);
    if (b->toobig == 0)
        return fail(b, DLV_EINVAL); /* never initialised: refuse rather than overrun */
    /* leng + extra + 1 <= toobig, written so that nothing overflows. */
    if (extra > b->toobig - b->leng - 1)
        return fail(b, DLV_ETOOLARGE);
    size_t fit = b->leng + extra + 1;
    if (fit <= b->allc)
        return DLV_OK;
    size_t a = b->allc ? b->allc : DYNBUF_FIRST_ALLOC;
    while (a < fit && a <= SIZE_MAX / 2)
        a *= 2;
    if (a < fit || a > b->toobig)
        a = b->toobig; /* fit <= toobig, so the cap is always enough */
    char *grown = dlv__realloc(b->bufr, a);
    if (!grown)
        return fail(b, DLV_ENOMEM);
    b->bufr = grown;
    b->allc = a;
    return DLV_OK;
}

int dlv__dynbuf_add(dlv__dynbuf *b, const void *mem, size_t len)
{
    DLV__ASSERT(b);
    DLV__ASSERT(mem || len == 0);
    int rc = ensure(b, len);
    if (rc != DLV_OK)
        return rc;
    if (len)
        memcpy(b->bufr + b->leng, mem, len);
    b->leng += len;
    b->bufr[b->leng] = '\0';
    return DLV_OK;
}

int dlv__dynbuf_adds(dlv__dynbuf *b, const char *s)
{
    return dlv__dynbuf_add(b, s, s ? strlen(s) : 0);
}

int dlv__dynbuf_addc(dlv__dynbuf *b, char c)
{
    return dlv__dynbuf_add(b, &c, 1);
}

int dlv__dynbuf_vaddf(dlv__dynbuf *b, const char *fmt, va_list ap)
{
    DLV__ASSERT(b && fmt);
    if (b->error)
        return b->error;
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return fail(b, DLV_EINVAL);
    int rc = ensure(b, (size_t)n);
    if (rc != DLV_OK)
        return rc;
    vsnprintf(b->bufr + b->leng, (size_t)n + 1, fmt, ap);
    b->leng += (size_t)n;
    return DLV_OK;
}

int dlv__dynbuf_addf(dlv__dynbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = dlv__dynbuf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void dlv__dynbuf_truncate(dlv__dynbuf *b, size_t len)
{
    DLV__ASSERT(b);
    if (len >= b->leng)
        return;
    b->leng = len;
    b->bufr[len] = '\0';
}

char *dlv__dynbuf_take(dlv__dynbuf *b, size_t *len)
{
    DLV__ASSERT(b);
    if (len)
        *len = 0;
    if (b->error)
        return NULL;
    char *out = b->bufr;
    size_t n = b->leng;
    if (!out && !(out = dlv__strdup("")))
        return NULL;
    b->bufr = NULL;
    b->leng = 0;
    b->allc = 0;
    if (len)
        *len = n;
    return out;
}

const char *dlv__dynbuf_ptr(const dlv__dynbuf *b)
{
    DLV__ASSERT(b);
    return b->bufr ? b->bufr : "";
}

size_t dlv__dynbuf_len(const dlv__dynbuf *b)
{
    DLV__ASSERT(b);
    return b->leng;
}

int dlv__dynbuf_error(const dlv__dynbuf *b)
{
    DLV__ASSERT(b);
    return b->error;
}

int dlv__dynarr_reserve(void *itemsp, size_t *cap, size_t need, size_t elem_size, size_t first,
                        size_t max)
{
    DLV__ASSERT(itemsp && cap && elem_size > 0 && first > 0);
    if (need <= *cap)
        return DLV_OK;
    if (max > SIZE_MAX / elem_size)
        max = SIZE_MAX / elem_size;
    if (need > max)
        return DLV_ETOOLARGE;
    size_t n = *cap ? *cap : first;
    while (n < need && n <= max / 2)
        n *= 2;
    if (n < need || n > max)
        n = max;
    /* The pointer is read and written through memcpy: `itemsp` may point to any `T *`. */
    void *items;
    memcpy(&items, itemsp, sizeof items);
    void *grown = dlv__realloc(items, n * elem_size);
    if (!grown)
        return DLV_ENOMEM;
    memcpy(itemsp, &grown, sizeof grown);
    *cap = n;
    return DLV_OK;
}
