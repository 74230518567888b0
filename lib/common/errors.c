/* Error codes to names and texts (from the DLV_ERRNO_MAP X-macro), filling dlv_error, and the
 * report of a failed DLV__ASSERT. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *dlv_strerror(int err)
{
    switch (err) {
    case DLV_OK:
        return "success";
#define DLV_ERR_TEXT_(name, value, text)                                                           \
    case DLV_##name:                                                                               \
        return text;
        DLV_ERRNO_MAP(DLV_ERR_TEXT_)
#undef DLV_ERR_TEXT_
    default:
        return "unknown error";
    }
}

const char *dlv_err_name(int err)
{
    switch (err) {
    case DLV_OK:
        return "OK";
#define DLV_ERR_NAME_(name, value, text)                                                           \
    case DLV_##name:                                                                               \
        return #name;
        DLV_ERRNO_MAP(DLV_ERR_NAME_)
#undef DLV_ERR_NAME_
    default:
        return "UNKNOWN";
    }
}

int dlv__error_vset(dlv_error *err, int code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
    }
    return code;
}

int dlv__error_set(dlv_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dlv__error_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

void dlv__error_clear(dlv_error *err)
{
    if (err) {
        err->code = DLV_OK;
        err->message[0] = '\0';
    }
}

void dlv__assert_fail(const char *cond, const char *file, int line, const char *func)
{
    fprintf(stderr, "libdelivery: %s:%d: %s: assertion failed: %s\n", file, line, func, cond);
    fflush(stderr);
    abort();
}
