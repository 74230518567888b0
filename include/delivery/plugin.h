/* The plugin ABI: what a POS host finds in libdelivery_plugin.so. The plugin exports exactly one
 * symbol, DLV_PLUGIN_ENTRY_NAME; the host calls it with the ABI version it was built for and
 * receives a const table of functions, or NULL and a message when the two do not fit. */
#ifndef DELIVERY_PLUGIN_H
#define DELIVERY_PLUGIN_H

#include "delivery.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped when the table changes incompatibly. Functions are only ever appended to the table
 * (`size` tells how many a plugin has), so a newer plugin serves an older host of the same ABI. */
#define DLV_PLUGIN_ABI_VERSION 1
#define DLV_PLUGIN_ENTRY_NAME "dlv_plugin_entry"

typedef struct dlv_plugin_api {
    unsigned abi_version; /* DLV_PLUGIN_ABI_VERSION of the plugin */
    size_t size;          /* sizeof(dlv_plugin_api) of the plugin */
    const char *(*version)(void);
    int (*create)(const dlv_options *opts, dlv_ctx **out, dlv_error *err);
    int (*start)(dlv_ctx *ctx);
    int (*request)(dlv_ctx *ctx, const char *json, dlv_reply_cb cb, void *arg);
    int (*stop)(dlv_ctx *ctx, int flush_ms);
    void (*destroy)(dlv_ctx *ctx);
    const char *(*terminal_id)(const dlv_ctx *ctx);
    char *(*health)(dlv_ctx *ctx);
    const char *(*last_error)(const dlv_ctx *ctx);
    void (*free)(void *ptr);
    const char *(*strerror)(int err);
    const char *(*err_name)(int err);
} dlv_plugin_api;

/* The entry point's type. `err` (errlen bytes) receives the reason when NULL is returned. */
typedef const dlv_plugin_api *(*dlv_plugin_entry_fn)(unsigned host_abi_version, char *err,
                                                     size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
