/* Inside lib/print: the interface between the library and libdelivery_print_extra.so, the
 * separately built module that holds the A4 PDF renderer (cairo, pango) and the CUPS printer
 * backend (libcups). The library loads it with dlopen on first use (lib/print/extra.c), so a host
 * that never prints a PDF nor uses a cups: printer never maps pango, cairo, fontconfig, libcups
 * and their dozens of dependencies.
 *
 * The library's internal symbols are hidden, so the module cannot link against them: it gets
 * them from the library in a table of functions at load (SQLite's sqlite3_api_routines for
 * loadable extensions is the model), and hands back its own table. Both are built from the same
 * tree and share the internal structures (dlv__doc, dlv_printer), so the module checks that the
 * library is the very same build (DLV__PRINT_EXTRA_ABI) and refuses otherwise. */
#ifndef DLV__PRINT_EXTRA_H
#define DLV__PRINT_EXTRA_H

#include "print/doc.h"
#include "delivery/version.h"
#include "print/print.h"

/* The module's file name, looked for next to the library (lib/print/extra.c says where). */
#define DLV__PRINT_EXTRA_FILE "libdelivery_print_extra.so"
/* The one symbol the module exports. */
#define DLV__PRINT_EXTRA_ENTRY "dlv_print_extra_init"
/* Changes whenever the tables or the shared structures change; with the release number it makes
 * the build identity the module checks. */
#define DLV__PRINT_EXTRA_LAYOUT 1
#define DLV__PRINT_EXTRA_ABI                                                                       \
    DLV__PE_STR(DLV_VERSION_MAJOR)                                                                 \
    "." DLV__PE_STR(DLV_VERSION_MINOR) "." DLV__PE_STR(DLV_VERSION_PATCH) "/" DLV__PE_STR(         \
        DLV__PRINT_EXTRA_LAYOUT)
#define DLV__PE_STR(x) DLV__PE_STR_(x)
#define DLV__PE_STR_(x) #x
/* The sizes of the structures both sides share, checked beside the ABI text. */
#define DLV__PRINT_EXTRA_SIZES                                                                     \
    (sizeof(dlv__doc) + 3 * sizeof(dlv__block) + 5 * sizeof(dlv__para) + 7 * sizeof(dlv_printer) + \
     11 * sizeof(dlv__print_out))

/* What the library lends the module. Methods are only ever appended. */
typedef struct dlv__print_extra_host {
    int version;     /* 1 */
    const char *abi; /* DLV__PRINT_EXTRA_ABI */
    size_t sizes;    /* DLV__PRINT_EXTRA_SIZES */
    void *(*malloc)(size_t size);
    void (*free)(void *ptr);
    int (*error_set)(dlv_error *err, int code, const char *fmt, ...) DLV__PRINTF(3, 4);
    int (*out_append)(dlv__print_out *out, const void *data, size_t len);
    void (*column_widths)(const dlv__block *blk, size_t w, size_t *widths);
    long (*printer_timeout_ms)(const dlv_printer *p, long dflt);
    const char *(*printer_uri)(const dlv_printer *p);
    const char *(*printer_target)(const dlv_printer *p);
    const char *(*printer_option)(const dlv_printer *p, const char *name);
    const void *(*job_data)(const dlv_printer_job *job, size_t *len);
    dlv_print_format (*job_format)(const dlv_printer_job *job);
    const char *(*job_title)(const dlv_printer_job *job);
    void (*job_done)(dlv_printer_job *job, int status, unsigned printer_status,
                     const char *message);
} dlv__print_extra_host;

/* What the module gives back. */
typedef struct dlv__print_extra_api {
    int version; /* 1 */
    /* dlv__pdf_render (lib/print/doc.h). */
    int (*pdf_render)(dlv__doc *const *docs, size_t count, int width, const char *title,
                      dlv__print_out *out, dlv_error *err);
    /* The cups: backend; the library's stand-in forwards to it (lib/print/extra.c). */
    const dlv_printer_methods *cups;
} dlv__print_extra_api;

/* The module's entry: NULL when `host` is not the same build (the message says why). */
typedef const dlv__print_extra_api *(*dlv__print_extra_init_fn)(const dlv__print_extra_host *host,
                                                                char *msg, size_t msg_size);

/* Loads the module once per process (any thread); NULL when it is absent or unusable, with the
 * reason in `err` (DLV_ENOTSUP, "<what> is not installed: libdelivery_print_extra.so (...)"). */
const dlv__print_extra_api *dlv__print_extra(const char *what, dlv_error *err);

#endif
