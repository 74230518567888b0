/* Printing for the runtime: documents rendered from templates, and printers found by URI.
 *
 * Two independent halves the runtime composes:
 *  - dlv__print_render(): an order becomes bytes (ESC/POS for a receipt printer, a PDF for an A4
 *    printer, or UTF-8 text for logs and the demo). Pure: no I/O except reading a replacement
 *    template file from the config folder; no clock (the context carries `now`).
 *  - dlv__printer_*(): a printer opened from its URI sends those bytes asynchronously on a libuv
 *    loop; a slow or dead printer never blocks the loop.
 * The durable print ledger and the decision of what to print are the runtime's and the store's. */
#ifndef DLV__PRINT_PRINT_H
#define DLV__PRINT_PRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "common/internal.h"
#include "delivery/printer.h"
#include "order/model.h"

/* ---- Documents ---- */

typedef enum dlv__doc_kind {
    DLV__DOC_INVOICE = 0, /* «накладная»: templates/invoice.xml */
    DLV__DOC_SERVICE_CHECK =
        1 /* «сервисный чек», the kitchen ticket: templates/service-check.xml */
} dlv__doc_kind;

typedef enum dlv__print_format {
    DLV__FORMAT_ESCPOS = 0, /* receipt printer bytes: CP866 text, never raw UTF-8 */
    DLV__FORMAT_TEXT = 1,   /* UTF-8 preview: exactly what the receipt shows, for logs, demo */
    DLV__FORMAT_PDF = 2     /* A4 pages (cairo + pango, DejaVu Sans) */
} dlv__print_format;

/* What a receipt printer can do; from its URI (see dlv__printer_profile) or set by hand. */
typedef struct dlv__print_profile {
    int codepage; /* the `ESC t n` number of CP866 on this model; default 17 (Epson) */
    int width;    /* characters per line of font A: 32, 42 or 48; default 42 */
    bool cut;     /* the printer has a cutter: `GS V` after each copy; default true */
} dlv__print_profile;

#define DLV__PRINT_DEFAULT_CODEPAGE 17
#define DLV__PRINT_DEFAULT_WIDTH 42

/* Everything about one print that is not in the order. */
typedef struct dlv__print_context {
    const char *templates_dir; /* config folder's templates/ (NULL: built-in layouts only) */
    bool is_copy;              /* a manual reprint: the document says «КОПИЯ» */
    int copies;                /* 1..5; 0 takes settings->invoice_copies for an invoice, else 1 */
    dlv__time now;             /* printed as the print time */
    int tz_offset_minutes;     /* local time = UTC + offset, for the times on the document */
    /* The restaurant's offset at each time printed (daylight saving); NULL: tz_offset_minutes
     * for every time. Called with utc_offset_arg and UTC seconds; returns minutes east of UTC. */
    int (*utc_offset_at)(void *arg, int64_t utc);
    void *utc_offset_arg;
    const char *courier_name;       /* overrides the order's courier (NULL: the order's) */
    const char *restaurant;         /* the restaurant's name, the invoice's header (NULL: none) */
    const char *restaurant_address; /* the restaurant's address under its name (NULL: none) */
} dlv__print_context;

/* A growing byte buffer; release with dlv__print_out_free. */
typedef struct dlv__print_out {
    unsigned char *data;
    size_t len, cap;
} dlv__print_out;

void dlv__print_out_free(dlv__print_out *out);
/* Appends bytes; DLV_ENOMEM. */
int dlv__out_append(dlv__print_out *out, const void *data, size_t len);

/* Renders the document `kind` of `order` into `out` (appended; start from a zeroed buffer) in
 * `format`, all copies included (each ESC/POS copy ends with a cut, each PDF copy starts a new
 * page). `settings` may be NULL. `profile` may be NULL for the defaults; PDF ignores it.
 * The template is <templates_dir>/invoice.xml or service-check.xml when that file exists, else
 * the built-in one. Errors: DLV_ETEMPLATE (a bad template, the message names file:line),
 * DLV_EINVAL, DLV_EIO, DLV_ENOMEM. On error `out` is left as it was. Any thread, several at
 * once (pango keeps a font map per thread; fontconfig locks its own state). */
int dlv__print_render(dlv__doc_kind kind, const dlv__order *order, const dlv__settings *settings,
                      const dlv__print_context *ctx, dlv__print_format format,
                      const dlv__print_profile *profile, dlv__print_out *out, dlv_error *err);

/* The same for a given printer: a4 chooses a PDF, otherwise ESC/POS with the printer's profile
 * (codepage, width, cut from its URI). *format tells which, for dlv__printer_submit. */
int dlv__print_render_for(dlv__doc_kind kind, const dlv__order *order,
                          const dlv__settings *settings, const dlv__print_context *ctx,
                          dlv_printer *printer, bool a4, dlv__print_out *out,
                          dlv__print_format *format, dlv_error *err);

/* Loads and checks the templates the config folder replaces (both kinds), so that a bad file is
 * reported at start with file:line rather than at the first print. DLV_ETEMPLATE. */
int dlv__print_templates_check(const char *templates_dir, dlv_error *err);

/* The built-in template text of `kind` (static storage), e.g. to write an editable copy. */
const char *dlv__print_builtin_template(dlv__doc_kind kind);
/* "invoice.xml" or "service-check.xml". */
const char *dlv__print_template_file_name(dlv__doc_kind kind);
/* "Invoice" or "ServiceCheck": the names the host's events use. */
const char *dlv__print_doc_name(dlv__doc_kind kind);

/* ---- Printers ---- */

/* Outcome of a job or a status query; `message` is valid only during the callback.
 * `status` is 0 (sent: the printer or spooler has every byte) or a dlv_err, and the rule is:
 *   DLV_EPRINTER  some of the job's bytes may have reached the printer ("connection closed
 *                 after N of M bytes"): its fate is unknown, the caller decides about a reprint;
 *                 this layer never resends anything by itself;
 *   anything else nothing was printed and a retry is safe: DLV_EPAPEROUT, DLV_ECOVEROPEN,
 *                 DLV_EOFFLINE (unreachable, refused, not ready), DLV_ETIMEDOUT (no answer
 *                 before any job byte went out), DLV_ENOTSUP (the printer does not answer status
 *                 queries: configure status=0), DLV_ENOTFOUND (no such CUPS queue), DLV_ESTOPPED
 *                 (closed before the job started), DLV_EIO (a file could not be written).
 * `printer_status` is the DLV_PRINTER_STATUS_* flags last seen (0 when the link cannot tell). */
typedef void (*dlv__printer_cb)(void *arg, int status, unsigned printer_status,
                                const char *message);

/* Opens the printer `uri` ("tcp://host:9100?codepage=17&width=42", "file:/path",
 * "dev:/dev/usb/lp0", "cups:QUEUE", "null:", or a registered scheme) on `loop`. Parses and checks
 * the URI only: no connection is made until a job is sent, so a printer that is off now can print
 * later. DLV_EINVAL (bad URI or option), DLV_ENOTFOUND (no backend for the scheme), DLV_ENOMEM, or
 * what the backend's open returns; then *out is NULL and nothing needs closing (the object may
 * still be released on a later loop turn). Loop thread only, as every call below. */
int dlv__printer_open(uv_loop_t *loop, const char *uri, dlv_printer **out, dlv_error *err);

/* Options for one job. */
typedef struct dlv__printer_job_options {
    dlv_print_format format; /* what the bytes are */
    const char *title; /* job name for spoolers and file names ("Накладная 100245") */
} dlv__printer_job_options;

/* Queues `len` bytes (copied) for printing; jobs of one printer go out one at a time in order.
 * Returns 0 and calls cb exactly once later on the loop thread, or an error (DLV_EINVAL,
 * DLV_ESTOPPED while closing, DLV_ENOMEM) and never calls it. */
int dlv__printer_submit(dlv_printer *printer, const void *data, size_t len,
                        const dlv__printer_job_options *options, dlv__printer_cb cb, void *arg,
                        dlv_error *err);

/* Asks the printer's state (queued behind pending jobs). cb gets 0 and the flags, or an error.
 * DLV_ENOTSUP at once (cb not called) when the link is one-way. */
int dlv__printer_query(dlv_printer *printer, dlv__printer_cb cb, void *arg, dlv_error *err);

/* Closes the printer: jobs not started fail with DLV_ESTOPPED, a job in flight is finished or
 * aborted by the backend; their callbacks run first, then closed_cb (may be NULL). The printer
 * is freed before closed_cb runs. NULL does nothing. */
void dlv__printer_close(dlv_printer *printer, void (*closed_cb)(void *arg), void *arg);

/* The backend's ctl() (DLV_PRINTER_CTL_COUNTERS, DLV_PRINTER_CTL_SET_TIMEOUT, ...), or
 * DLV_ENOTSUP. */
int dlv__printer_ctl(dlv_printer *printer, int op, void *arg);

/* True when a job that ended with `status` may have been (partly) printed. */
static inline bool dlv__print_maybe_printed(int status)
{
    return status == DLV_OK || status == DLV_EPRINTER;
}

/* The receipt profile from the URI's codepage=, width= and cut= options. */
void dlv__printer_profile(dlv_printer *printer, dlv__print_profile *profile);

/* The printer's URI as opened (static for the printer's life). */
const char *dlv__printer_uri(dlv_printer *printer);

#endif
