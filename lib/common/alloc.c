/* The library's one allocator (dlv__malloc and friends) with the test hook that fails the N-th
 * allocation, and its installation as cJSON's and libxml2's allocator. */
#include "internal.h"

#include <cjson/cJSON.h>
#include <libxml/xmlmemory.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -1: never fail. Otherwise the number of allocations still allowed to succeed. */
static atomic_long fail_budget = -1;
static atomic_ulong alloc_count;

static bool should_fail(void)
{
    atomic_fetch_add(&alloc_count, 1);
    long budget = atomic_load(&fail_budget);
    while (budget >= 0) {
        if (budget == 0)
            return true;
        if (atomic_compare_exchange_weak(&fail_budget, &budget, budget - 1))
            return false;
    }
    return false;
}

void dlv__alloc_fail_after(long n)
{
    atomic_store(&fail_budget, n);
}

unsigned long dlv__alloc_count(void)
{
    return atomic_load(&alloc_count);
}

void *dlv__malloc(size_t size)
{
    if (should_fail())
        return NULL;
    return malloc(size ? size : 1);
}

void *dlv__calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *dlv__realloc(void *ptr, size_t size)
{
    if (should_fail())
        return NULL;
    return realloc(ptr, size ? size : 1);
}

void dlv__free(void *ptr)
{
    free(ptr);
}

void dlv_free(void *ptr)
{
    free(ptr);
}

char *dlv__strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    size_t len = strnlen(s, n);
    char *copy = dlv__malloc(len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

char *dlv__strdup(const char *s)
{
    return s ? dlv__strndup(s, strlen(s)) : NULL;
}

char *dlv__asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0)
        return NULL;
    char *out = dlv__malloc((size_t)len + 1);
    if (!out)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(out, (size_t)len + 1, fmt, ap);
    va_end(ap);
    return out;
}

static char *xml_strdup(const char *s)
{
    return dlv__strdup(s);
}

void dlv__alloc_hook_libraries(void)
{
    static cJSON_Hooks hooks = {dlv__malloc, dlv__free};
    cJSON_InitHooks(&hooks);
    xmlMemSetup(dlv__free, dlv__malloc, dlv__realloc, xml_strdup);
}
