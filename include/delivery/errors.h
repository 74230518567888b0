/* The library's one error enum. Add-only: a code is never renumbered or removed. 0 is success,
 * every error is negative. */
#ifndef DELIVERY_ERRORS_H
#define DELIVERY_ERRORS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* XX(name, value, description). Append new codes at the end only. */
#define DLV_ERRNO_MAP(XX)                                                                          \
    XX(EINVAL, -1, "invalid argument")                                                             \
    XX(ENOMEM, -2, "out of memory")                                                                \
    XX(EIO, -3, "input/output error")                                                              \
    XX(ENOTFOUND, -4, "not found")                                                                 \
    XX(ENOTSUP, -5, "operation not supported")                                                     \
    XX(ERANGE, -6, "value out of range")                                                           \
    XX(ECONFIG, -7, "invalid configuration")                                                       \
    XX(EXML, -8, "malformed XML")                                                                  \
    XX(EJSON, -9, "malformed or invalid JSON document")                                            \
    XX(EMISSINGRIGHT, -10, "the user lacks a required right")                                      \
    XX(EINVALIDTRANSITION, -11, "the status transition is not allowed")                            \
    XX(ECONFLICT, -12, "conflicts with the call-center's newer state")                             \
    XX(EUNKNOWNORDER, -13, "unknown order")                                                        \
    XX(ERULE, -14, "refused by a delivery rule")                                                   \
    XX(ESTORE, -15, "terminal database error")                                                     \
    XX(ECORRUPT, -16, "terminal database is corrupt")                                              \
    XX(EFULL, -17, "disk full")                                                                    \
    XX(ESCHEMA, -18, "database schema is newer than this library")                                 \
    XX(ENET, -19, "network error")                                                                 \
    XX(ETIMEDOUT, -20, "timed out")                                                                \
    XX(EUNAUTHORIZED, -21, "session expired or unknown")                                           \
    XX(ENOTREGISTERED, -22, "terminal is not registered at the call-center")                       \
    XX(EPROTOCOL, -23, "call-center answer violates the protocol")                                 \
    XX(ESERVER, -24, "call-center server error")                                                   \
    XX(EPRINTER, -25, "printer error")                                                             \
    XX(EPAPEROUT, -26, "printer is out of paper")                                                  \
    XX(EOFFLINE, -27, "printer is offline")                                                        \
    XX(ETEMPLATE, -28, "invalid document template")                                                \
    XX(EBUSY, -29, "resource busy")                                                                \
    XX(ESTOPPED, -30, "the context is stopped")                                                    \
    XX(EABI, -31, "incompatible plugin ABI")                                                       \
    XX(EEXIST, -32, "already exists")                                                              \
    XX(ETLS, -33, "TLS verification failed")                                                       \
    XX(ETOOLARGE, -34, "input too large")                                                          \
    XX(ECOVEROPEN, -35, "printer cover is open")                                                   \
    XX(ENOTIFY, -36, "notification could not be sent")                                             \
    XX(EPERM, -37, "permission denied")

typedef enum dlv_err {
    DLV_OK = 0,
#define DLV_ERR_ENUM_(name, value, text) DLV_##name = value,
    DLV_ERRNO_MAP(DLV_ERR_ENUM_)
#undef DLV_ERR_ENUM_
        DLV_ERR_LAST_ = -38 /* one below the last code; not an error itself */
} dlv_err;

/* Detail of a failed call that has no handle to keep it (loading a file, decoding a document):
 * the code and a message naming what was wrong ("deliveryPluginConfig.xml:7: <serverUrl>: ...").
 * Caller-owned; pass NULL where the detail is not wanted. */
#define DLV_ERROR_MESSAGE_MAX 512
typedef struct dlv_error {
    int code;
    char message[DLV_ERROR_MESSAGE_MAX];
} dlv_error;

/* Human-readable English description of an error code ("unknown error" for unknown values).
 * Static storage; any thread. */
DLV_EXTERN const char *dlv_strerror(int err);

/* The code's name without the prefix ("EMISSINGRIGHT"; "OK" for 0, "UNKNOWN" otherwise).
 * Static storage; any thread. */
DLV_EXTERN const char *dlv_err_name(int err);

#ifdef __cplusplus
}
#endif
#endif
