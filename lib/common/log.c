/* Log lines to the host's callback or stderr, and masking of phones, names and secrets. */
#include "common/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void dlv__log(const dlv__logger *lg, dlv_log_level level, const char *fmt, ...)
{
    if (!lg || level > lg->level)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (lg->cb) {
        lg->cb(lg->arg, level, line);
        return;
    }
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
#if defined(_WIN32)
    gmtime_s(&tm, &now);
#else
    gmtime_r(&now, &tm);
#endif
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s %s %s: %s\n", stamp, lg->prefix ? lg->prefix : "delivery",
            level_names[level], line);
}

void dlv__mask_phone(const char *phone, char *out, size_t outlen)
{
    if (!phone || !*phone) {
        snprintf(out, outlen, "(none)");
        return;
    }
    char digits[32];
    size_t n = 0;
    for (const char *p = phone; *p && n < sizeof digits - 1; p++)
        if (*p >= '0' && *p <= '9')
            digits[n++] = *p;
    digits[n] = '\0';
    const char *last2 = n >= 2 ? digits + n - 2 : "**";
    if (phone[0] == '+' && n > 10)
        snprintf(out, outlen, "+%.*s *** ***-**-%s", (int)(n - 10), digits, last2);
    else
        snprintf(out, outlen, "*** ***-**-%s", last2);
}

void dlv__mask_name(const char *name, char *out, size_t outlen)
{
    if (!name || !*name) {
        snprintf(out, outlen, "(none)");
        return;
    }
    size_t len = 1;
    unsigned char c = (unsigned char)name[0];
    if (c >= 0xF0)
        len = 4;
    else if (c >= 0xE0)
        len = 3;
    else if (c >= 0xC0)
        len = 2;
    if (strlen(name) < len)
        len = 1;
    snprintf(out, outlen, "%.*s***", (int)len, name);
}

void dlv__mask_token(const char *secret, char *out, size_t outlen)
{
    if (!secret || !*secret)
        snprintf(out, outlen, "(none)");
    else
        snprintf(out, outlen, "%.4s…", secret);
}
