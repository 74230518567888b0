/* A JSON writer straight into a dlv__dynbuf, for the texts the library writes most (the cached
 * copy of every order): no tree, no allocation per value. Its output is byte for byte what
 * cJSON_PrintUnformatted gives for the same members (strings escaped as cJSON escapes them), so a
 * text may come from either. Errors are sticky: check once, with dlv__jw_finish. */
#ifndef DLV__ORDER_JWRITE_H
#define DLV__ORDER_JWRITE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/dynbuf.h"

typedef struct dlv__jw {
    dlv__dynbuf buf;
    uint64_t later; /* per open container, bit set once it holds a member (a comma is due) */
    uint64_t kinds; /* per open container, bit set for an object, clear for an array */
    int depth;      /* open containers, at most 64 */
    bool failed;
    size_t pending; /* bytes in `stage`, not yet in `buf`: one buffer call per stage, not per
                       value */
    char stage[512];
} dlv__jw;

void dlv__jw_init(dlv__jw *w, size_t max_bytes);
/* `key` is NULL for a member of an array (or the outermost value). */
void dlv__jw_object(dlv__jw *w, const char *key);
void dlv__jw_array(dlv__jw *w, const char *key);
void dlv__jw_end(dlv__jw *w); /* closes the innermost object or array */
void dlv__jw_string(dlv__jw *w, const char *key, const char *value); /* NULL: null */
void dlv__jw_decimal(dlv__jw *w, const char *key, int64_t value, int scale, bool fixed);
void dlv__jw_time(dlv__jw *w, const char *key, int64_t value); /* DLV__TIME_NONE: null */
void dlv__jw_bool(dlv__jw *w, const char *key, bool value);
void dlv__jw_null(dlv__jw *w, const char *key);
/* The text (free with dlv__free), or NULL when a write failed (out of memory, too large, too
 * deep) or containers are left open; the writer is empty afterwards either way. */
char *dlv__jw_finish(dlv__jw *w);

#endif
