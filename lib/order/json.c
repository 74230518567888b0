/* Strict JSON reading and writing: field paths for error messages, UTF-8 checks, the number
 * pre-scan that keeps exact decimals (see json.h), typed getters and putters over cJSON. */
#include "order/json.h"

#include "common/dynbuf.h"
#include "order/values.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void dlv__jpath_init(dlv__jpath *path, const char *root)
{
    path->len = 0;
    path->text[0] = '\0';
    path->leaf = NULL;
    if (root && *root)
        dlv__jpath_key(path, root);
}

/* Appends n bytes, truncating at the buffer's end as snprintf would (paths are for messages). */
static size_t jpath_append(dlv__jpath *path, const char *s, size_t n)
{
    size_t before = path->len;
    size_t room = sizeof(path->text) - path->len;
    if (n >= room)
        n = room - 1;
    memcpy(path->text + path->len, s, n);
    path->len += n;
    path->text[path->len] = '\0';
    return before;
}

size_t dlv__jpath_key(dlv__jpath *path, const char *key)
{
    size_t before = path->len;
    if (path->len)
        jpath_append(path, ".", 1);
    jpath_append(path, key, strlen(key));
    return before;
}

size_t dlv__jpath_index(dlv__jpath *path, size_t index)
{
    char buf[24], *p = buf + sizeof buf;
    *--p = ']';
    do
        *--p = (char)('0' + index % 10);
    while ((index /= 10) != 0);
    *--p = '[';
    return jpath_append(path, p, (size_t)(buf + sizeof buf - p));
}

void dlv__jpath_restore(dlv__jpath *path, size_t len)
{
    path->len = len;
    path->text[len] = '\0';
}

int dlv__jerr(dlv_error *err, int code, const dlv__jpath *path, const char *fmt, ...)
{
    char msg[DLV_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (path && path->leaf) {
        /* The keyed readers name their member only here, when a message needs it. */
        dlv__jpath full = *path;
        full.leaf = NULL;
        dlv__jpath_key(&full, path->leaf);
        return dlv__error_set(err, code, "%s: %s", full.text, msg);
    }
    if (path && path->len)
        return dlv__error_set(err, code, "%s: %s", path->text, msg);
    return dlv__error_set(err, code, "%s", msg);
}

bool dlv__utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        uint64_t word;
        if (len - i >= sizeof word) {
            memcpy(&word, s + i, sizeof word);
            if (!(word & 0x8080808080808080u)) { /* eight ASCII bytes */
                i += sizeof word;
                continue;
            }
        }
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF && len - i > 1 && (s[i + 1] & 0xC0) == 0x80) {
            i += 2; /* a two-byte sequence (Cyrillic): always valid when well-formed */
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1, cp = c & 0x1F, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2, cp = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

/* ---- Parsing with exact number text ---- */

typedef struct scan {
    const char *text;
    char *nums; /* the number tokens' texts, in document order, each ending in a NUL */
    size_t num_bytes, num_cap;
    size_t count;             /* number tokens */
    bool tolerate_nul_escape; /* DLV__JSON_NUL_ESCAPE_INVALID */
    size_t *nuls;             /* offsets of the \u0000 escapes met when tolerated */
    size_t nul_count, nul_cap;
} scan;

static bool is_number_char(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* Eight bytes at a time (the classic "has a zero byte" / "has a byte below n" word tricks):
 * nonzero when one of the bytes of x is '"', '\\' or below 0x20, where a string scan must stop.
 * A byte of 0x80 or more never matches, so UTF-8 text is skipped too. */
static inline uint64_t string_stop(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t quote = x ^ (ones * '"'), backslash = x ^ (ones * '\\');
    return ((quote - ones) & ~quote & highs) | ((backslash - ones) & ~backslash & highs) |
           ((x - ones * 0x20) & ~x & highs);
}

/* The offset of the first byte at or after i where a string scan must stop, or the offset of the
 * last (fewer than eight) bytes, which the caller looks at one by one. */
static size_t string_skip(const char *t, size_t i, size_t len)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
    uint64_t word, stop;
    while (len - i >= sizeof word) {
        memcpy(&word, t + i, sizeof word);
        /* The lowest flag is exact (the tricks only err in bytes above a true match), and on a
         * little-endian machine it is the first byte. */
        if ((stop = string_stop(word)) != 0)
            return i + (size_t)__builtin_ctzll(stop) / 8;
        i += sizeof word;
    }
#else
    (void)t, (void)len;
#endif
    return i;
}

/* One pass over the bytes: records number tokens and refuses what cJSON would let through. */
static int prescan(scan *sc, size_t len, dlv_error *err)
{
    const char *t = sc->text;
    int depth = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)t[i];
        switch (c) {
        case '\0':
            return dlv__error_set(err, DLV_EJSON, "invalid JSON: NUL byte at offset %zu", i);
        case '"':
            for (i++; i < len; i++) {
                /* Most bytes of a document are inside strings: go to the next byte that
                 * matters a word at a time. */
                i = string_skip(t, i, len);
                if (i >= len)
                    break;
                unsigned char sc_c = (unsigned char)t[i];
                if (sc_c == '"')
                    break;
                if (sc_c == '\0')
                    return dlv__error_set(err, DLV_EJSON, "invalid JSON: NUL byte at offset %zu",
                                          i);
                if (sc_c < 0x20)
                    return dlv__error_set(err, DLV_EJSON,
                                          "invalid JSON: control character in a string at "
                                          "offset %zu",
                                          i);
                if (sc_c == '\\' && i + 1 < len) {
                    if (t[i + 1] == 'u' && len - i >= 6 && memcmp(t + i + 2, "0000", 4) == 0) {
                        if (!sc->tolerate_nul_escape)
                            return dlv__error_set(err, DLV_EJSON,
                                                  "invalid JSON: \\u0000 in a string at offset %zu",
                                                  i);
                        if (DLV__DYNARR_RESERVE(sc->nuls, sc->nul_cap, sc->nul_count + 1, 4,
                                                DLV__DYNARR_NOLIMIT) != DLV_OK)
                            return dlv__error_set(err, DLV_ENOMEM, "out of memory");
                        sc->nuls[sc->nul_count++] = i;
                    }
                    i++;
                }
            }
            i++;
            continue;
        case '{':
        case '[':
            if (++depth > DLV__JSON_MAX_DEPTH)
                return dlv__error_set(err, DLV_EJSON,
                                      "invalid JSON: nested deeper than %d levels at offset %zu",
                                      DLV__JSON_MAX_DEPTH, i);
            break;
        case '}':
        case ']':
            depth--;
            break;
        case '-':
        case '0':
        case '1':
        case '2':
        case '3':
        case '4':
        case '5':
        case '6':
        case '7':
        case '8':
        case '9': {
            size_t start = i;
            while (i < len && is_number_char(t[i]))
                i++;
            size_t n = i - start;
            if (DLV__DYNARR_RESERVE(sc->nums, sc->num_cap, sc->num_bytes + n + 1, 256,
                                    DLV__DYNARR_NOLIMIT) != DLV_OK)
                return dlv__error_set(err, DLV_ENOMEM, "out of memory");
            memcpy(sc->nums + sc->num_bytes, t + start, n);
            sc->nums[sc->num_bytes + n] = '\0';
            sc->num_bytes += n + 1;
            sc->count++;
            continue;
        }
        default:
            break;
        }
        i++;
    }
    return DLV_OK;
}

/* Points each number node at its text in the block (pre-order is document order). The nodes are
 * marked cJSON_IsReference, which makes cJSON_Delete leave their valuestring alone (a number has
 * no child, the flag's other effect); the block itself belongs to the root (see
 * dlv__json_parse_opts). */
static int attach_numbers(cJSON *node, const scan *sc, size_t *at, size_t *next)
{
    for (; node; node = node->next) {
        if ((node->type & 0xFF) == cJSON_Number) { /* cJSON_IsNumber, without a call per node */
            if (*next >= sc->count)
                return DLV_EJSON;
            node->valuestring = sc->nums + *at;
            node->type |= cJSON_IsReference;
            *at += strlen(node->valuestring) + 1;
            (*next)++;
        } else if (node->child) {
            int rc = attach_numbers(node->child, sc, at, next);
            if (rc)
                return rc;
        }
    }
    return DLV_OK;
}

int dlv__json_parse(const char *text, size_t len, size_t max_len, cJSON **out, dlv_error *err)
{
    return dlv__json_parse_opts(text, len, max_len, 0, out, err);
}

int dlv__json_parse_opts(const char *text, size_t len, size_t max_len, unsigned opts, cJSON **out,
                         dlv_error *err)
{
    char *copy = NULL;
    *out = NULL;
    if (!text)
        return dlv__error_set(err, DLV_EINVAL, "no document");
    if (len > max_len)
        return dlv__error_set(err, DLV_ETOOLARGE, "document of %zu bytes exceeds %zu bytes", len,
                              max_len);
    scan sc = {.text = text, .tolerate_nul_escape = (opts & DLV__JSON_NUL_ESCAPE_INVALID) != 0};
    cJSON *root = NULL;
    int rc = prescan(&sc, len, err);
    if (rc != DLV_OK)
        goto done;
    if (sc.nul_count) {
        /* cJSON would cut the string at the NUL. Six 0xFF bytes in place of the six characters
         * keep every offset (the number spans) and make that one string invalid UTF-8, which the
         * string readers refuse: only the field that holds it is lost. */
        if (!(copy = dlv__malloc(len ? len : 1))) {
            rc = dlv__error_set(err, DLV_ENOMEM, "out of memory");
            goto done;
        }
        memcpy(copy, text, len);
        for (size_t k = 0; k < sc.nul_count; k++)
            memset(copy + sc.nuls[k], 0xFF, 6);
        text = sc.text = copy;
    }
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!root) {
        size_t at = end && end >= text ? (size_t)(end - text) : 0;
        /* cJSON reports running out of memory the same way as a syntax error. */
        rc = at < len ? dlv__error_set(err, DLV_EJSON, "invalid JSON at offset %zu", at)
                      : dlv__error_set(err, DLV_EJSON, "invalid or truncated JSON");
        goto done;
    }
    for (size_t at = (size_t)(end - text); at < len; at++) {
        if (!strchr(" \t\r\n", text[at])) {
            rc = dlv__error_set(err, DLV_EJSON, "invalid JSON: trailing data at offset %zu", at);
            goto done;
        }
    }
    size_t next = 0, at = 0;
    rc = attach_numbers(root, &sc, &at, &next);
    if (rc == DLV_OK && next != sc.count)
        rc = DLV_EJSON;
    if (rc != DLV_OK) {
        rc = dlv__error_set(err, rc, "invalid JSON: number tokens mismatch");
        goto done;
    }
    if (sc.nums) {
        /* One block holds every number's text, freed with the tree: as the root's valuestring
         * (unused by an object or array, and its own text when the document is one number). */
        root->type &= ~cJSON_IsReference;
        if (!cJSON_IsNumber(root))
            root->valuestring = sc.nums;
        sc.nums = NULL;
    }

done:
    dlv__free(sc.nums);
    dlv__free(sc.nuls);
    dlv__free(copy);
    if (rc != DLV_OK) {
        cJSON_Delete(root);
        return rc;
    }
    *out = root;
    return DLV_OK;
}

/* ---- Exact decimals ---- */

/* The usual number, -?(0|[1-9][0-9]{0,14})(\.[0-9]{1,scale})?, converted directly: at most 18
 * digits cannot overflow. False for anything else, which the general path below decides. */
static bool decimal_fast(const char *p, int scale, int64_t *out)
{
    bool negative = *p == '-';
    if (negative)
        p++;
    const char *start = p;
    int64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (p - start == 15)
            return false;
        v = v * 10 + (*p - '0');
    }
    if (p == start || (*start == '0' && p - start > 1) || scale < 0 || scale > 3)
        return false;
    int decimals = 0;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, decimals++) {
            if (decimals == scale)
                return false;
            v = v * 10 + (*p - '0');
        }
        if (decimals == 0)
            return false;
    }
    if (*p)
        return false;
    for (; decimals < scale; decimals++)
        v *= 10;
    *out = negative ? -v : v;
    return true;
}

const char *dlv__decimal_parse(const char *text, int scale, int64_t *out)
{
    static const char *const too_precise[] = {"not an integer", "more than 1 decimal",
                                              "more than 2 decimals", "more than 3 decimals"};
    const char *p = text;
    bool negative = false;
    if (!p)
        return "not a number";
    if (decimal_fast(p, scale, out))
        return NULL;
    if (*p == '-')
        negative = true, p++;
    /* JSON grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
    const char *int_start = p;
    while (*p >= '0' && *p <= '9')
        p++;
    const char *int_end = p;
    if (int_end == int_start || (*int_start == '0' && int_end - int_start > 1))
        return "not a number";
    const char *frac_start = int_end, *frac_end = int_end;
    if (*p == '.') {
        frac_start = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        frac_end = p;
        if (frac_end == frac_start)
            return "not a number";
    }
    int64_t exponent = 0;
    if (*p == 'e' || *p == 'E') {
        bool exp_negative = false;
        p++;
        if (*p == '+' || *p == '-')
            exp_negative = *p++ == '-';
        if (!(*p >= '0' && *p <= '9'))
            return "not a number";
        while (*p >= '0' && *p <= '9') {
            if (exponent < 100000) /* saturate: such exponents are out of range anyway */
                exponent = exponent * 10 + (*p - '0');
            p++;
        }
        if (exp_negative)
            exponent = -exponent;
    }
    if (*p)
        return "not a number";

    /* The significant digits D and a power k with value × 10^scale = D × 10^k. */
    char sig[64];
    size_t n = 0;
    int64_t k = exponent + scale - (int64_t)(frac_end - frac_start);
    bool too_many = false;
    for (const char *q = int_start; q < frac_end; q++) {
        if (q == int_end) {
            q = frac_start - 1;
            continue;
        }
        if (n == 0 && *q == '0')
            continue; /* leading zero */
        if (n < sizeof sig)
            sig[n++] = *q;
        else if (*q != '0')
            too_many = true;
        else
            k++; /* a dropped trailing zero still counts */
    }
    while (n > 0 && sig[n - 1] == '0')
        n--, k++;
    if (n == 0) {
        *out = 0;
        return NULL;
    }
    if (k < 0)
        return scale >= 0 && scale <= 3 ? too_precise[scale] : "too many decimals";
    if (too_many || n + (size_t)(k > 30 ? 30 : k) > 19)
        return "out of range";
    int64_t v = 0;
    for (size_t i = 0; i < n + (size_t)k; i++) {
        int digit = i < n ? sig[i] - '0' : 0;
        if (v > (INT64_MAX - digit) / 10)
            return "out of range";
        v = v * 10 + digit;
    }
    *out = negative ? -v : v;
    return NULL;
}

/* ---- Readers ---- */

int dlv__jfind(const cJSON *obj, const char *key, dlv__jpath *path, const cJSON **out,
               dlv_error *err)
{
    *out = NULL;
    for (const cJSON *c = obj ? obj->child : NULL; c; c = c->next) {
        if (!c->string || strcmp(c->string, key) != 0)
            continue;
        if (*out) {
            size_t mark = dlv__jpath_key(path, key);
            int rc = dlv__jerr(err, DLV_EJSON, path, "duplicate key");
            dlv__jpath_restore(path, mark);
            return rc;
        }
        *out = c;
    }
    return DLV_OK;
}

/* A node's type, as cJSON_Is* test it, without a call into the library per field. */
static inline int jtype(const cJSON *node)
{
    return node->type & 0xFF;
}

/* Common presence rules: 1 = absent or null and allowed, 0 = a value to read, <0 = error. */
static inline int presence(const cJSON *node, unsigned flags, dlv__jpath *path, dlv_error *err)
{
    if (!node) {
        if (flags & DLV__J_REQUIRED)
            return dlv__jerr(err, DLV_EJSON, path, "missing");
        return 1;
    }
    if (jtype(node) == cJSON_NULL) {
        if (flags & DLV__J_NULLABLE)
            return 1;
        return dlv__jerr(err, DLV_EJSON, path, "must not be null");
    }
    return 0;
}

int dlv__jnode_string(const cJSON *node, unsigned flags, dlv__jpath *path, char **out,
                      dlv_error *err)
{
    int rc = presence(node, flags, path, err);
    if (rc)
        return rc > 0 ? DLV_OK : rc;
    if (jtype(node) != cJSON_String || !node->valuestring)
        return dlv__jerr(err, DLV_EJSON, path, "not a string");
    const char *s = node->valuestring;
    size_t len = strlen(s);
    if (len > DLV__JSON_MAX_STRING)
        return dlv__jerr(err, DLV_EJSON, path, "longer than %d bytes", DLV__JSON_MAX_STRING);
    if (!dlv__utf8_valid(s, len))
        return dlv__jerr(err, DLV_EJSON, path,
                         strstr(s, "\xff\xff\xff\xff\xff\xff") ? "\\u0000 in a string"
                                                               : "invalid UTF-8");
    if ((flags & DLV__J_NONEMPTY) && len == 0)
        return dlv__jerr(err, DLV_EJSON, path, "must not be empty");
    if ((flags & DLV__J_UUID) && !dlv__uuid_valid(s))
        return dlv__jerr(err, DLV_EJSON, path, "not a UUID");
    char *copy;
    if (flags & DLV__J_TAKE) {
        copy = node->valuestring;
        ((cJSON *)node)->valuestring = NULL; /* the caller's tree (DLV__J_TAKE) */
    } else {
        if (!(copy = dlv__malloc(len + 1)))
            return dlv__error_set(err, DLV_ENOMEM, "out of memory");
        memcpy(copy, s, len + 1);
    }
    dlv__free(*out);
    *out = copy;
    return DLV_OK;
}

int dlv__jnode_decimal(const cJSON *node, unsigned flags, int scale, int64_t min, int64_t max,
                       dlv__jpath *path, int64_t *out, bool *present, dlv_error *err)
{
    if (present)
        *present = false;
    int rc = presence(node, flags, path, err);
    if (rc)
        return rc > 0 ? DLV_OK : rc;
    /* Raw nodes come from our own writer, which only ever puts numbers there. */
    if (jtype(node) != cJSON_Number && jtype(node) != cJSON_Raw)
        return dlv__jerr(err, DLV_EJSON, path, "not a number");
    if (!node->valuestring)
        return dlv__jerr(err, DLV_EJSON, path, "number without its source text");
    int64_t v;
    const char *reason = dlv__decimal_parse(node->valuestring, scale, &v);
    if (reason)
        return dlv__jerr(err, DLV_EJSON, path, "%s", reason);
    if (v < min && min == 0)
        return dlv__jerr(err, DLV_EJSON, path, "must not be negative");
    if (v < min && min == 1)
        return dlv__jerr(err, DLV_EJSON, path, "must be positive");
    if (v < min || v > max)
        return dlv__jerr(err, DLV_EJSON, path, "out of range");
    *out = v;
    if (present)
        *present = true;
    return DLV_OK;
}

/* A keyed read: the member named by `leaf` while `body` reads it (see dlv__jpath). */
#define WITH_NODE(find, key, path, body)                                                           \
    do {                                                                                           \
        const cJSON *node_;                                                                        \
        int rc_ = (find);                                                                          \
        if (rc_)                                                                                   \
            return rc_;                                                                            \
        const char *outer_ = (path)->leaf;                                                         \
        (path)->leaf = (key);                                                                      \
        rc_ = (body);                                                                              \
        (path)->leaf = outer_;                                                                     \
        return rc_;                                                                                \
    } while (0)
#define WITH_KEY(obj, key, path, body)                                                             \
    WITH_NODE(dlv__jfind(obj, key, path, &node_, err), key, path, body)
#define WITH_MEMBER(m, k, path, body)                                                              \
    WITH_NODE(dlv__jm_find(m, k, path, &node_, err), (m)->keys[k], path, body)

int dlv__jget_string(const cJSON *obj, const char *key, unsigned flags, dlv__jpath *path,
                     char **out, dlv_error *err)
{
    WITH_KEY(obj, key, path, dlv__jnode_string(node_, flags, path, out, err));
}

int dlv__jget_decimal(const cJSON *obj, const char *key, unsigned flags, int scale, int64_t min,
                      int64_t max, dlv__jpath *path, int64_t *out, bool *present, dlv_error *err)
{
    WITH_KEY(obj, key, path,
             dlv__jnode_decimal(node_, flags, scale, min, max, path, out, present, err));
}

static int node_bool(const cJSON *node, unsigned flags, dlv__jpath *path, bool *out, dlv_error *err)
{
    int rc = presence(node, flags, path, err);
    if (rc)
        return rc > 0 ? DLV_OK : rc;
    if (jtype(node) != cJSON_True && jtype(node) != cJSON_False)
        return dlv__jerr(err, DLV_EJSON, path, "not a boolean");
    *out = jtype(node) == cJSON_True;
    return DLV_OK;
}

int dlv__jget_bool(const cJSON *obj, const char *key, unsigned flags, dlv__jpath *path, bool *out,
                   dlv_error *err)
{
    WITH_KEY(obj, key, path, node_bool(node_, flags, path, out, err));
}

static int node_time(const cJSON *node, unsigned flags, dlv__jpath *path, int64_t *out,
                     dlv_error *err)
{
    int rc = presence(node, flags, path, err);
    if (rc)
        return rc > 0 ? DLV_OK : rc;
    if (jtype(node) != cJSON_String || !node->valuestring)
        return dlv__jerr(err, DLV_EJSON, path, "not a string");
    const char *reason = dlv__time_parse(node->valuestring, out);
    if (reason)
        return dlv__jerr(err, DLV_EJSON, path, "%s", reason);
    return DLV_OK;
}

int dlv__jget_time(const cJSON *obj, const char *key, unsigned flags, dlv__jpath *path,
                   int64_t *out, dlv_error *err)
{
    WITH_KEY(obj, key, path, node_time(node_, flags, path, out, err));
}

static int node_enum(const cJSON *node, unsigned flags, const char *const *names, size_t count,
                     dlv__jpath *path, int *out, dlv_error *err)
{
    int rc = presence(node, flags, path, err);
    if (rc)
        return rc > 0 ? DLV_OK : rc;
    if (jtype(node) != cJSON_String || !node->valuestring)
        return dlv__jerr(err, DLV_EJSON, path, "not a string");
    for (size_t i = 0; i < count; i++) {
        if (names[i] && strcmp(node->valuestring, names[i]) == 0) {
            *out = (int)i;
            return DLV_OK;
        }
    }
    /* Echo the value only when it is short printable ASCII: it came from outside. */
    const char *v = node->valuestring;
    size_t len = strlen(v);
    bool printable = len <= 40;
    for (size_t i = 0; printable && i < len; i++)
        printable = v[i] >= 0x20 && v[i] < 0x7f && v[i] != '"';
    if (printable)
        return dlv__jerr(err, DLV_EJSON, path, "unknown value \"%s\"", v);
    return dlv__jerr(err, DLV_EJSON, path, "unknown value");
}

int dlv__jget_enum(const cJSON *obj, const char *key, unsigned flags, const char *const *names,
                   size_t count, dlv__jpath *path, int *out, dlv_error *err)
{
    WITH_KEY(obj, key, path, node_enum(node_, flags, names, count, path, out, err));
}

static int node_object(const cJSON *node, unsigned flags, dlv__jpath *path, const cJSON **out,
                       dlv_error *err)
{
    *out = NULL;
    int rc = presence(node, flags, path, err);
    if (rc)
        return rc > 0 ? DLV_OK : rc;
    if (jtype(node) != cJSON_Object)
        return dlv__jerr(err, DLV_EJSON, path, "not an object");
    *out = node;
    return DLV_OK;
}

int dlv__jget_object(const cJSON *obj, const char *key, unsigned flags, dlv__jpath *path,
                     const cJSON **out, dlv_error *err)
{
    WITH_KEY(obj, key, path, node_object(node_, flags, path, out, err));
}

static int node_array(const cJSON *node, unsigned flags, size_t max_count, dlv__jpath *path,
                      const cJSON **out, size_t *count, dlv_error *err)
{
    *out = NULL;
    *count = 0;
    int rc = presence(node, flags, path, err);
    if (rc)
        return rc > 0 ? DLV_OK : rc;
    if (jtype(node) != cJSON_Array)
        return dlv__jerr(err, DLV_EJSON, path, "not an array");
    size_t n = 0;
    for (const cJSON *c = node->child; c; c = c->next)
        n++;
    if (n > max_count)
        return dlv__jerr(err, DLV_ETOOLARGE, path, "more than %zu elements", max_count);
    *out = node;
    *count = n;
    return DLV_OK;
}

int dlv__jget_array(const cJSON *obj, const char *key, unsigned flags, size_t max_count,
                    dlv__jpath *path, const cJSON **out, size_t *count, dlv_error *err)
{
    WITH_KEY(obj, key, path, node_array(node_, flags, max_count, path, out, count, err));
}

/* ---- Readers over the members found in one walk ---- */

/* Stands for a member that appears twice. */
static const cJSON duplicate_member;

void dlv__jmembers_scan(dlv__jmembers *m, const cJSON *obj, const char *const *keys, size_t count)
{
    assert(count <= DLV__JMEMBERS_MAX);
    m->keys = keys;
    memset(m->node, 0, count * sizeof m->node[0]);
    /* Writers put the members in one order: try the key after the last one found first. */
    size_t next = 0;
    for (const cJSON *c = obj ? obj->child : NULL; c; c = c->next) {
        const char *name = c->string;
        if (!name)
            continue;
        size_t k = next, tried = 0;
        for (; tried < count; tried++, k++) {
            if (k >= count)
                k = 0;
            if (keys[k][0] == name[0] && strcmp(keys[k], name) == 0)
                break;
        }
        if (tried == count)
            continue; /* a member no reader asks for */
        m->node[k] = m->node[k] ? &duplicate_member : c;
        next = k + 1;
    }
}

int dlv__jm_find(const dlv__jmembers *m, size_t k, dlv__jpath *path, const cJSON **out,
                 dlv_error *err)
{
    *out = m->node[k];
    if (*out != &duplicate_member)
        return DLV_OK;
    *out = NULL;
    size_t mark = dlv__jpath_key(path, m->keys[k]);
    int rc = dlv__jerr(err, DLV_EJSON, path, "duplicate key");
    dlv__jpath_restore(path, mark);
    return rc;
}

int dlv__jm_string(const dlv__jmembers *m, size_t k, unsigned flags, dlv__jpath *path, char **out,
                   dlv_error *err)
{
    WITH_MEMBER(m, k, path, dlv__jnode_string(node_, flags, path, out, err));
}

int dlv__jm_decimal(const dlv__jmembers *m, size_t k, unsigned flags, int scale, int64_t min,
                    int64_t max, dlv__jpath *path, int64_t *out, bool *present, dlv_error *err)
{
    WITH_MEMBER(m, k, path,
                dlv__jnode_decimal(node_, flags, scale, min, max, path, out, present, err));
}

int dlv__jm_bool(const dlv__jmembers *m, size_t k, unsigned flags, dlv__jpath *path, bool *out,
                 dlv_error *err)
{
    WITH_MEMBER(m, k, path, node_bool(node_, flags, path, out, err));
}

int dlv__jm_time(const dlv__jmembers *m, size_t k, unsigned flags, dlv__jpath *path, int64_t *out,
                 dlv_error *err)
{
    WITH_MEMBER(m, k, path, node_time(node_, flags, path, out, err));
}

int dlv__jm_enum(const dlv__jmembers *m, size_t k, unsigned flags, const char *const *names,
                 size_t count, dlv__jpath *path, int *out, dlv_error *err)
{
    WITH_MEMBER(m, k, path, node_enum(node_, flags, names, count, path, out, err));
}

int dlv__jm_object(const dlv__jmembers *m, size_t k, unsigned flags, dlv__jpath *path,
                   const cJSON **out, dlv_error *err)
{
    WITH_MEMBER(m, k, path, node_object(node_, flags, path, out, err));
}

int dlv__jm_array(const dlv__jmembers *m, size_t k, unsigned flags, size_t max_count,
                  dlv__jpath *path, const cJSON **out, size_t *count, dlv_error *err)
{
    WITH_MEMBER(m, k, path, node_array(node_, flags, max_count, path, out, count, err));
}

/* ---- Writers ---- */

bool dlv__jput_string(cJSON *obj, const char *key, const char *value)
{
    if (!value)
        return cJSON_AddNullToObject(obj, key) != NULL;
    return cJSON_AddStringToObject(obj, key, value) != NULL;
}

bool dlv__jput_decimal(cJSON *obj, const char *key, int64_t value, int scale, bool fixed)
{
    char text[32];
    dlv__decimal_format(value, scale, fixed, text);
    return cJSON_AddRawToObject(obj, key, text) != NULL;
}

bool dlv__jput_bool(cJSON *obj, const char *key, bool value)
{
    return cJSON_AddBoolToObject(obj, key, value) != NULL;
}

bool dlv__jput_time(cJSON *obj, const char *key, int64_t value)
{
    char text[21];
    if (value == DLV__TIME_NONE || !dlv__time_format(value, text))
        return cJSON_AddNullToObject(obj, key) != NULL;
    return cJSON_AddStringToObject(obj, key, text) != NULL;
}

bool dlv__jattach(cJSON *parent, const char *key, cJSON *item)
{
    if (!item)
        return false;
    bool ok = key ? cJSON_AddItemToObject(parent, key, item) : cJSON_AddItemToArray(parent, item);
    if (!ok)
        cJSON_Delete(item);
    return ok;
}

char *dlv__json_print(const cJSON *node)
{
    return node ? cJSON_PrintUnformatted(node) : NULL;
}
