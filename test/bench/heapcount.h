/* A counting allocator for a whole benchmark process (heapcount.c replaces malloc, calloc,
 * realloc, free and the aligned variants, forwarding to glibc's __libc_* and adding up
 * malloc_usable_size): the live heap, its peak and its block count, libraries included. Linked
 * into the programs that measure memory (bench_ingest, bench_snapshot). */
#ifndef DLV_BENCH_HEAPCOUNT_H
#define DLV_BENCH_HEAPCOUNT_H

#include <stdbool.h>

long bench_heap_live(void);   /* bytes held now */
long bench_heap_blocks(void); /* blocks held now */
long bench_heap_peak(void);   /* the highest bench_heap_live since the last mark */
/* Starts a new peak at the live heap, which it returns. */
long bench_heap_mark(void);
/* Off: nothing is counted (a stretch that frees all it allocates, measured for time only). */
void bench_heap_counting(bool on);

#endif
