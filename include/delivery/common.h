/* Export macro and small shared declarations of the public API. */
#ifndef DELIVERY_COMMON_H
#define DELIVERY_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#if defined(DLV_BUILDING_SHARED)
#define DLV_EXTERN __declspec(dllexport)
#elif defined(DLV_USING_SHARED)
#define DLV_EXTERN __declspec(dllimport)
#else
#define DLV_EXTERN
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define DLV_EXTERN __attribute__((visibility("default")))
#else
#define DLV_EXTERN
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Frees any string or buffer the library handed to the caller (error messages, JSON text).
 * dlv_free(NULL) does nothing. Any thread. */
DLV_EXTERN void dlv_free(void *ptr);

/* Release as "MAJOR.MINOR.PATCH". Static storage; any thread. */
DLV_EXTERN const char *dlv_version_string(void);

/* DLV_VERSION_HEX of the library actually loaded (may differ from the header compiled against). */
DLV_EXTERN unsigned dlv_version_hex(void);

#ifdef __cplusplus
}
#endif
#endif
