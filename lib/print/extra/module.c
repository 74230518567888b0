/* libdelivery_print_extra.so's entry (lib/print/extra.h): checks that the library loading it is
 * the same build, keeps the table of the library's functions, and hands back its own. */
#include <stdio.h>
#include <string.h>

#include "print/extra/host.h"

const dlv__print_extra_host *dlv__pe_host;

static const dlv__print_extra_api api = {
    1,                     /* version */
    dlv__pe_pdf_render,    /* pdf_render */
    &dlv__pe_cups_methods, /* cups */
};

/* The only exported symbol (the rest is hidden by C_VISIBILITY_PRESET). */
__attribute__((visibility("default"))) const dlv__print_extra_api *
dlv_print_extra_init(const dlv__print_extra_host *host, char *msg, size_t msg_size);

const dlv__print_extra_api *dlv_print_extra_init(const dlv__print_extra_host *host, char *msg,
                                                 size_t msg_size)
{
    if (!host || host->version < 1 || !host->abi || strcmp(host->abi, DLV__PRINT_EXTRA_ABI) != 0 ||
        host->sizes != DLV__PRINT_EXTRA_SIZES) {
        snprintf(msg, msg_size, "built for libdelivery %s, loaded by %s", DLV__PRINT_EXTRA_ABI,
                 host && host->abi ? host->abi : "an unknown build");
        return NULL;
    }
    /* The last library to load the module serves it: one that was unloaded and loaded again
     * (a host dlclose()ing the plugin) hands over its new table here. */
    dlv__pe_host = host;
    return &api;
}
