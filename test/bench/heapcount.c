/* The counting allocator of heapcount.h. */
#define _GNU_SOURCE
#include "heapcount.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static atomic_long heap_live, heap_blocks, heap_peak;
static atomic_bool counting = true;

static void count_add(void *p)
{
    if (!p || !atomic_load(&counting))
        return;
    long size = (long)malloc_usable_size(p);
    long now = atomic_fetch_add(&heap_live, size) + size;
    atomic_fetch_add(&heap_blocks, 1);
    long peak = atomic_load(&heap_peak);
    while (now > peak && !atomic_compare_exchange_weak(&heap_peak, &peak, now))
        ;
}

static void count_sub(void *p)
{
    if (!p || !atomic_load(&counting))
        return;
    atomic_fetch_sub(&heap_live, (long)malloc_usable_size(p));
    atomic_fetch_sub(&heap_blocks, 1);
}

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    count_add(p);
    return p;
}

void *calloc(size_t n, size_t size)
{
    void *p = __libc_calloc(n, size);
    count_add(p);
    return p;
}

void *realloc(void *old, size_t n)
{
    count_sub(old);
    void *p = __libc_realloc(old, n);
    if (p)
        count_add(p);
    else if (old && n)
        count_add(old); /* failed: the old block stays */
    return p;
}

void free(void *p)
{
    count_sub(p);
    __libc_free(p);
}

void *memalign(size_t align, size_t n)
{
    void *p = __libc_memalign(align, n);
    count_add(p);
    return p;
}

void *aligned_alloc(size_t align, size_t n)
{
    return memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    void *p = memalign(align, n);
    if (!p)
        return 12; /* ENOMEM */
    *out = p;
    return 0;
}

long bench_heap_live(void)
{
    return atomic_load(&heap_live);
}

long bench_heap_blocks(void)
{
    return atomic_load(&heap_blocks);
}

long bench_heap_peak(void)
{
    return atomic_load(&heap_peak);
}

long bench_heap_mark(void)
{
    long live = atomic_load(&heap_live);
    atomic_store(&heap_peak, live);
    return live;
}

void bench_heap_counting(bool on)
{
    atomic_store(&counting, on);
}
