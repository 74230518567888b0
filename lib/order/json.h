/* Strict JSON reading for documents that come from the network or the host.
 *
 * cJSON keeps numbers only as doubles, which cannot hold 150.10 exactly. dlv__json_parse therefore
 * scans the same bytes once more, collects the source text of every number token in document
 * order and attaches it to the matching cJSON number node (as its valuestring) during a pre-order
 * walk: cJSON builds its tree in document order, so the n-th number node of the walk is the n-th
 * number token of the text. Readers then convert that text exactly. The texts share one block,
 * owned by the root (its valuestring, which cJSON_Delete frees); the number nodes are flagged
 * cJSON_IsReference so cJSON_Delete does not free their part of it. So a number node must not
 * outlive its tree: cJSON_Duplicate it (which copies the text) rather than detach it.
 *
 * Readers name the failing field by its path ("items[2].amount: not a number"). */
#ifndef DLV__ORDER_JSON_H
#define DLV__ORDER_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/internal.h"

/* Deeper documents are refused before cJSON sees them (orders nest five levels). */
#define DLV__JSON_MAX_DEPTH 64
/* Longest text field accepted, in bytes. */
#define DLV__JSON_MAX_STRING 8192

/* The path of the value being read, for messages. Keys and indexes are appended and the previous
 * length restored when the reader returns. The keyed readers only name the member they read in
 * `leaf` while they read it: dlv__jerr appends it when a message needs it, so a document read
 * without an error never formats the path of its leaves. */
typedef struct dlv__jpath {
    char text[256];
    size_t len;
    const char *leaf; /* NULL, or the member being read (not yet in text) */
} dlv__jpath;

void dlv__jpath_init(dlv__jpath *path, const char *root);
/* Appends ".key" (or "key" at the root) and returns the length to restore. */
size_t dlv__jpath_key(dlv__jpath *path, const char *key);
/* Appends "[index]" and returns the length to restore. */
size_t dlv__jpath_index(dlv__jpath *path, size_t index);
void dlv__jpath_restore(dlv__jpath *path, size_t len);
/* Sets err to "path: message" (just "message" at the root) and returns code. */
int dlv__jerr(dlv_error *err, int code, const dlv__jpath *path, const char *fmt, ...)
    DLV__PRINTF(4, 5);

/* Parses `len` bytes (no NUL needed) into a tree whose number nodes carry their source text.
 * Refuses documents over max_len bytes (DLV_ETOOLARGE), NUL bytes, raw control characters and
 * \u0000 in strings, nesting deeper than DLV__JSON_MAX_DEPTH and trailing garbage (DLV_EJSON).
 * Free the tree with cJSON_Delete. */
int dlv__json_parse(const char *text, size_t len, size_t max_len, cJSON **out, dlv_error *err);
/* Options of dlv__json_parse_opts. */
enum {
    /* Accept \u0000 in strings, but turn each such escape into six 0xFF bytes, so the string is
     * invalid UTF-8 and the reader of that one field refuses it ("\u0000 in a string"): used for
     * the orders answer, where one bad string must cost a field, not the whole answer. */
    DLV__JSON_NUL_ESCAPE_INVALID = 1u << 0,
};
/* dlv__json_parse with options (0: the same as dlv__json_parse). */
int dlv__json_parse_opts(const char *text, size_t len, size_t max_len, unsigned opts, cJSON **out,
                         dlv_error *err);

/* True when the `len` bytes are well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool dlv__utf8_valid(const char *s, size_t len);

/* Exact decimal conversion of a JSON number's text: the value times 10^scale as an integer.
 * Returns 0 or a reason: "not a number", "more than N decimals", "out of range". */
const char *dlv__decimal_parse(const char *text, int scale, int64_t *out);

/* Flags for the readers below. */
enum {
    DLV__J_REQUIRED = 1u << 0, /* absence is an error */
    DLV__J_NULLABLE = 1u << 1, /* null allowed (reads as absent) */
    DLV__J_NONEMPTY = 1u << 2, /* strings: "" refused */
    DLV__J_UUID = 1u << 3,     /* strings: must be a canonical UUID */
    /* strings: move the node's text out instead of copying it (valuestring is left NULL), for a
     * tree that is the reader's to consume; cJSON allocates through dlv__malloc's allocator
     * (dlv__alloc_hook_libraries) or malloc, which dlv__free both frees */
    DLV__J_TAKE = 1u << 4,
};

/* The member `key` of object `obj`, or NULL when absent. A key that appears twice is an error. */
int dlv__jfind(const cJSON *obj, const char *key, dlv__jpath *path, const cJSON **out,
               dlv_error *err);

/* The members of one object found in a single walk over its children, for decoders that read
 * many keys of it (dlv__jfind walks all the children for each key). `keys` (at most
 * DLV__JMEMBERS_MAX, static storage) names the members read; the others are ignored. The
 * dlv__jm_* readers below then read member `k` (an index into keys) exactly as the dlv__jget_*
 * reader of the same name reads the key: the same messages, and a key that appears twice is the
 * same "duplicate key" error, when (and only when) that member is read. */
#define DLV__JMEMBERS_MAX 40
typedef struct dlv__jmembers {
    const char *const *keys;
    const cJSON *node[DLV__JMEMBERS_MAX]; /* NULL when absent */
} dlv__jmembers;

void dlv__jmembers_scan(dlv__jmembers *m, const cJSON *obj, const char *const *keys, size_t count);
/* Member k: *out is the node or NULL; "key: duplicate key" when it appears twice. */
int dlv__jm_find(const dlv__jmembers *m, size_t k, dlv__jpath *path, const cJSON **out,
                 dlv_error *err);
int dlv__jm_string(const dlv__jmembers *m, size_t k, unsigned flags, dlv__jpath *path, char **out,
                   dlv_error *err);
int dlv__jm_decimal(const dlv__jmembers *m, size_t k, unsigned flags, int scale, int64_t min,
                    int64_t max, dlv__jpath *path, int64_t *out, bool *present, dlv_error *err);
int dlv__jm_bool(const dlv__jmembers *m, size_t k, unsigned flags, dlv__jpath *path, bool *out,
                 dlv_error *err);
int dlv__jm_time(const dlv__jmembers *m, size_t k, unsigned flags, dlv__jpath *path, int64_t *out,
                 dlv_error *err);
int dlv__jm_enum(const dlv__jmembers *m, size_t k, unsigned flags, const char *const *names,
                 size_t count, dlv__jpath *path, int *out, dlv_error *err);
int dlv__jm_object(const dlv__jmembers *m, size_t k, unsigned flags, dlv__jpath *path,
                   const cJSON **out, dlv_error *err);
int dlv__jm_array(const dlv__jmembers *m, size_t k, unsigned flags, size_t max_count,
                  dlv__jpath *path, const cJSON **out, size_t *count, dlv_error *err);

/* Node readers: `node` may be NULL (absent). The path must already name the node. *out is left
 * untouched when the value is absent or null; *present (optional) tells which happened. */
int dlv__jnode_string(const cJSON *node, unsigned flags, dlv__jpath *path, char **out,
                      dlv_error *err);
int dlv__jnode_decimal(const cJSON *node, unsigned flags, int scale, int64_t min, int64_t max,
                       dlv__jpath *path, int64_t *out, bool *present, dlv_error *err);

/* Keyed readers: member `key` of `obj`, with the key appended to the path while reading. */
int dlv__jget_string(const cJSON *obj, const char *key, unsigned flags, dlv__jpath *path,
                     char **out, dlv_error *err);
/* Integers (scale 0), money (scale 2, kopecks) and amounts (scale 3, thousandths) in [min, max]. */
int dlv__jget_decimal(const cJSON *obj, const char *key, unsigned flags, int scale, int64_t min,
                      int64_t max, dlv__jpath *path, int64_t *out, bool *present, dlv_error *err);
int dlv__jget_bool(const cJSON *obj, const char *key, unsigned flags, dlv__jpath *path, bool *out,
                   dlv_error *err);
/* RFC 3339 time as UTC epoch seconds. */
int dlv__jget_time(const cJSON *obj, const char *key, unsigned flags, dlv__jpath *path,
                   int64_t *out, dlv_error *err);
/* One of `names` (exact match); *out is its index. */
int dlv__jget_enum(const cJSON *obj, const char *key, unsigned flags, const char *const *names,
                   size_t count, dlv__jpath *path, int *out, dlv_error *err);
/* An object (NULL when absent or null). */
int dlv__jget_object(const cJSON *obj, const char *key, unsigned flags, dlv__jpath *path,
                     const cJSON **out, dlv_error *err);
/* An array of at most max_count elements (NULL when absent or null); *count is its size. */
int dlv__jget_array(const cJSON *obj, const char *key, unsigned flags, size_t max_count,
                    dlv__jpath *path, const cJSON **out, size_t *count, dlv_error *err);

/* Writers: false on allocation failure. NULL strings and DLV__TIME_NONE are written as null. */
bool dlv__jput_string(cJSON *obj, const char *key, const char *value);
bool dlv__jput_decimal(cJSON *obj, const char *key, int64_t value, int scale, bool fixed);
bool dlv__jput_bool(cJSON *obj, const char *key, bool value);
bool dlv__jput_time(cJSON *obj, const char *key, int64_t value);
/* Appends `item` to an array or object (key may be NULL for arrays); deletes it on failure. */
bool dlv__jattach(cJSON *parent, const char *key, cJSON *item);
/* Prints compactly into a dlv__malloc'd string; NULL on allocation failure. */
char *dlv__json_print(const cJSON *node);

#endif
