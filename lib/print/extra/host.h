/* Inside libdelivery_print_extra.so: the library's internal functions the renderer and the cups
 * backend call, redirected to the table the library lent at load (lib/print/extra.h). Include
 * after every other header: the names are macros from here on. */
#ifndef DLV__PRINT_EXTRA_HOST_H
#define DLV__PRINT_EXTRA_HOST_H

#include "print/extra.h"

extern const dlv__print_extra_host *dlv__pe_host;

#define dlv__malloc(n) (dlv__pe_host->malloc(n))
#define dlv__free(ptr) (dlv__pe_host->free(ptr))
#define dlv__error_set(...) (dlv__pe_host->error_set(__VA_ARGS__))
#define dlv__out_append(o, d, n) (dlv__pe_host->out_append((o), (d), (n)))
#define dlv__column_widths(b, w, ws) (dlv__pe_host->column_widths((b), (w), (ws)))
#define dlv__printer_timeout_ms(p, d) (dlv__pe_host->printer_timeout_ms((p), (d)))
#define dlv_printer_uri(p) (dlv__pe_host->printer_uri(p))
#define dlv_printer_target(p) (dlv__pe_host->printer_target(p))
#define dlv_printer_option(p, name) (dlv__pe_host->printer_option((p), (name)))
#define dlv_printer_job_data(j, len) (dlv__pe_host->job_data((j), (len)))
#define dlv_printer_job_format(j) (dlv__pe_host->job_format(j))
#define dlv_printer_job_title(j) (dlv__pe_host->job_title(j))
#define dlv_printer_job_done(j, st, fl, msg) (dlv__pe_host->job_done((j), (st), (fl), (msg)))

/* The module's two halves (lib/print/extra/pdf.c, lib/print/extra/printer_cups.c). */
int dlv__pe_pdf_render(dlv__doc *const *docs, size_t count, int width, const char *title,
                       dlv__print_out *out, dlv_error *err);
extern const dlv_printer_methods dlv__pe_cups_methods;

#endif
