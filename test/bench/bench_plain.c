/* A library that needs only libc: bench_startup's baseline for a dlopen. */
#include <string.h>

size_t dlv_bench_plain(const char *s);

size_t dlv_bench_plain(const char *s)
{
    return strlen(s);
}
