/* The JSON writer of jwrite.h. */
#include "order/jwrite.h"

#include <string.h>

#include "order/values.h"

void dlv__jw_init(dlv__jw *w, size_t max_bytes)
{
    memset(w, 0, sizeof *w);
    dlv__dynbuf_init(&w->buf, max_bytes);
}

static void flush(dlv__jw *w)
{
    if (w->pending) {
        dlv__dynbuf_add(&w->buf, w->stage, w->pending);
        w->pending = 0;
    }
}

static void emit(dlv__jw *w, const void *p, size_t n)
{
    if (n > sizeof w->stage - w->pending) {
        flush(w);
        if (n > sizeof w->stage) {
            dlv__dynbuf_add(&w->buf, p, n);
            return;
        }
    }
    memcpy(w->stage + w->pending, p, n);
    w->pending += n;
}

static void emitc(dlv__jw *w, char c)
{
    if (w->pending == sizeof w->stage)
        flush(w);
    w->stage[w->pending++] = c;
}

/* The comma before a member, when its container already holds one. */
static void sep(dlv__jw *w)
{
    if (w->depth == 0)
        return;
    uint64_t bit = (uint64_t)1 << (w->depth - 1);
    if (w->later & bit)
        emitc(w, ',');
    w->later |= bit;
}

/* Bytes cJSON escapes in a string: below 0x20, the quote and the backslash. */
static const bool escaped[256] = {
    [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1, [0x06] = 1,
    [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1, [0x0c] = 1, [0x0d] = 1,
    [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1, [0x14] = 1,
    [0x15] = 1, [0x16] = 1, [0x17] = 1, [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1,
    [0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1, ['"'] = 1,  ['\\'] = 1};

/* A string as cJSON prints it: quote, backslash and bytes below 0x20 escaped, the rest as is. */
static void quoted(dlv__jw *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    emitc(w, '"');
    const unsigned char *p = (const unsigned char *)s, *run = p;
    for (; *p; p++) {
        unsigned char c = *p;
        if (!escaped[c])
            continue;
        emit(w, run, (size_t)(p - run));
        char esc[6] = {'\\', 0};
        size_t n = 2;
        switch (c) {
        case '"':
        case '\\':
            esc[1] = (char)c;
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
            break;
        }
        emit(w, esc, n);
        run = p + 1;
    }
    emit(w, run, (size_t)(p - run));
    emitc(w, '"');
}

/* Keys are the library's own member names (plain ASCII, nothing to escape). */
static void key_of(dlv__jw *w, const char *key)
{
    sep(w);
    if (key) {
        emitc(w, '"');
        emit(w, key, strlen(key));
        emit(w, "\":", 2);
    }
}

static void open_container(dlv__jw *w, const char *key, char bracket)
{
    key_of(w, key);
    if (w->depth == 64) {
        w->failed = true;
        return;
    }
    uint64_t bit = (uint64_t)1 << w->depth;
    w->depth++;
    w->later &= ~bit;
    w->kinds = bracket == '{' ? w->kinds | bit : w->kinds & ~bit;
    emitc(w, bracket);
}

void dlv__jw_object(dlv__jw *w, const char *key)
{
    open_container(w, key, '{');
}

void dlv__jw_array(dlv__jw *w, const char *key)
{
    open_container(w, key, '[');
}

void dlv__jw_end(dlv__jw *w)
{
    if (w->depth == 0) {
        w->failed = true;
        return;
    }
    w->depth--;
    emitc(w, w->kinds >> w->depth & 1 ? '}' : ']');
}

void dlv__jw_string(dlv__jw *w, const char *key, const char *value)
{
    key_of(w, key);
    if (value)
        quoted(w, value);
    else
        emit(w, "null", 4);
}

void dlv__jw_decimal(dlv__jw *w, const char *key, int64_t value, int scale, bool fixed)
{
    char text[32];
    dlv__decimal_format(value, scale, fixed, text);
    key_of(w, key);
    emit(w, text, strlen(text));
}

void dlv__jw_time(dlv__jw *w, const char *key, int64_t value)
{
    char text[21];
    if (value == DLV__TIME_NONE || !dlv__time_format(value, text)) {
        dlv__jw_null(w, key);
        return;
    }
    key_of(w, key);
    emitc(w, '"');
    emit(w, text, 20);
    emitc(w, '"');
}

void dlv__jw_bool(dlv__jw *w, const char *key, bool value)
{
    key_of(w, key);
    emit(w, value ? "true" : "false", value ? 4 : 5);
}

void dlv__jw_null(dlv__jw *w, const char *key)
{
    key_of(w, key);
    emit(w, "null", 4);
}

char *dlv__jw_finish(dlv__jw *w)
{
    flush(w);
    bool ok = !w->failed && w->depth == 0 && dlv__dynbuf_error(&w->buf) == DLV_OK;
    char *text = ok ? dlv__dynbuf_take(&w->buf, NULL) : NULL;
    dlv__dynbuf_free(&w->buf);
    w->depth = 0;
    w->later = w->kinds = 0;
    w->failed = false;
    w->pending = 0;
    return text;
}
