/* libdelivery_plugin.so: the library behind one versioned entry table for POS hosts. */
#include <stdio.h>

#include "delivery/plugin.h"

static const dlv_plugin_api api = {
    /* abi_version */ DLV_PLUGIN_ABI_VERSION,
    /* size */ sizeof(dlv_plugin_api),
    /* version */ dlv_version_string,
    /* create */ dlv_ctx_create,
    /* start */ dlv_ctx_start,
    /* request */ dlv_ctx_request,
    /* stop */ dlv_ctx_stop,
    /* destroy */ dlv_ctx_destroy,
    /* terminal_id */ dlv_ctx_terminal_id,
    /* health */ dlv_ctx_health,
    /* last_error */ dlv_last_error,
    /* free */ dlv_free,
    /* strerror */ dlv_strerror,
    /* err_name */ dlv_err_name,
};

DLV_EXTERN const dlv_plugin_api *dlv_plugin_entry(unsigned host_abi_version, char *err,
                                                  size_t errlen);

const dlv_plugin_api *dlv_plugin_entry(unsigned host_abi_version, char *err, size_t errlen)
{
    if (host_abi_version != DLV_PLUGIN_ABI_VERSION) {
        if (err && errlen)
            snprintf(err, errlen,
                     "incompatible plugin: the host speaks plugin ABI %u, libdelivery_plugin %s "
                     "speaks ABI %u",
                     host_abi_version, dlv_version_string(), DLV_PLUGIN_ABI_VERSION);
        return NULL;
    }
    return &api;
}
