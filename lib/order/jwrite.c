/* The JSON writer of jwrite.h. */
#include "order/jwrite.h"

#include <string.h>

#include "order/values.h"

void dlv__jw_init(dlv__jw *w, size_t max_bytes)
{
    memset(w, 0, sizeof *w);
    dlv__dynbuf_init(&w->buf, max_bytes);
}

/* The comma before a member, when its container already holds one. */
static void sep(dlv__jw *w)
{
    if (w->depth == 0)
        return;
    uint64_t bit = (uint64_t)1 << (w->depth - 1);
    if (w->later & bit)
        dlv__dynbuf_addc(&w->buf, ',');
    w->later |= bit;
}

/* A string as cJSON prints it: quote, backslash and bytes below 0x20 escaped, the rest as is. */
static void quoted(dlv__jw *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    dlv__dynbuf_addc(&w->buf, '"');
    const unsigned char *p = (const unsigned char *)s, *run = p;
    for (; *p; p++) {
        unsigned char c = *p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        dlv__dynbuf_add(&w->buf, run, (size_t)(p - run));
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
        dlv__dynbuf_add(&w->buf, esc, n);
        run = p + 1;
    }
    dlv__dynbuf_add(&w->buf, run, (size_t)(p - run));
    dlv__dynbuf_addc(&w->buf, '"');
}

static void key_of(dlv__jw *w, const char *key)
{
    sep(w);
    if (key) {
        quoted(w, key);
        dlv__dynbuf_addc(&w->buf, ':');
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
    dlv__dynbuf_addc(&w->buf, bracket);
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
    dlv__dynbuf_addc(&w->buf, w->kinds >> w->depth & 1 ? '}' : ']');
}

void dlv__jw_string(dlv__jw *w, const char *key, const char *value)
{
    key_of(w, key);
    if (value)
        quoted(w, value);
    else
        dlv__dynbuf_add(&w->buf, "null", 4);
}

void dlv__jw_decimal(dlv__jw *w, const char *key, int64_t value, int scale, bool fixed)
{
    char text[32];
    dlv__decimal_format(value, scale, fixed, text);
    key_of(w, key);
    dlv__dynbuf_adds(&w->buf, text);
}

void dlv__jw_time(dlv__jw *w, const char *key, int64_t value)
{
    char text[21];
    if (value == DLV__TIME_NONE || !dlv__time_format(value, text)) {
        dlv__jw_null(w, key);
        return;
    }
    key_of(w, key);
    dlv__dynbuf_addc(&w->buf, '"');
    dlv__dynbuf_add(&w->buf, text, 20);
    dlv__dynbuf_addc(&w->buf, '"');
}

void dlv__jw_bool(dlv__jw *w, const char *key, bool value)
{
    key_of(w, key);
    dlv__dynbuf_adds(&w->buf, value ? "true" : "false");
}

void dlv__jw_null(dlv__jw *w, const char *key)
{
    key_of(w, key);
    dlv__dynbuf_add(&w->buf, "null", 4);
}

char *dlv__jw_finish(dlv__jw *w)
{
    bool ok = !w->failed && w->depth == 0 && dlv__dynbuf_error(&w->buf) == DLV_OK;
    char *text = ok ? dlv__dynbuf_take(&w->buf, NULL) : NULL;
    dlv__dynbuf_free(&w->buf);
    w->depth = 0;
    w->later = w->kinds = 0;
    w->failed = false;
    return text;
}
