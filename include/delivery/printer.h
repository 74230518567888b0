/* Printer backends: how the library reaches a printer, and how an integrator adds one.
 *
 * A printer is named by a URI whose scheme selects a backend from a registry (SQLite's
 * sqlite3_vfs_find is the model). Built in:
 *   tcp://HOST[:PORT]   raw ESC/POS socket (port 9100 by default), two-way: status asked before
 *                       each job with DLE EOT
 *   file:PATH           appends raw bytes to PATH; a PDF job becomes one file per document
 *   dev:PATH            a serial or USB printer device (/dev/usb/lp0), written without blocking
 *   cups:QUEUE          a CUPS queue through libcups (raw bytes or PDF)
 *   null:               discards every job and counts it
 * Every URI may carry options after '?', separated by '&': codepage=N (the `ESC t n` number of
 * CP866, default 17), width=32|42|48 (columns, default 42), cut=0|1, timeout=MS (default 10000),
 * status=0|1 (ask the state before a job; tcp default 1, dev default 0), server=HOST[:PORT] (cups).
 * Options a backend does not know are ignored by it; see docs/printers.md.
 *
 * A backend is a `static const dlv_printer_methods` table: `version` first, methods only ever
 * appended in later versions, NULL for what it cannot do. The library allocates the printer
 * object with the backend's `priv_size`; the backend's own struct starts with a dlv_printer.
 * All methods are called on the library's loop thread unless the table sets
 * DLV_PRINTER_BLOCKING (see there). */
#ifndef DELIVERY_PRINTER_H
#define DELIVERY_PRINTER_H

#include "common.h"
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The version of dlv_printer_methods this header describes. */
#define DLV_PRINTER_METHODS_VERSION 1

/* What the bytes of a job are. */
typedef enum dlv_print_format {
    DLV_PRINT_RAW = 0, /* printer language as is (ESC/POS): send unchanged */
    DLV_PRINT_PDF = 1, /* an A4 PDF document */
    DLV_PRINT_TEXT = 2 /* UTF-8 plain text */
} dlv_print_format;

/* Printer state flags, as a job or a status query reports them. 0 means "unknown": the link
 * cannot tell (one-way) or was not asked. */
#define DLV_PRINTER_STATUS_KNOWN 0x01u      /* the printer answered */
#define DLV_PRINTER_STATUS_OFFLINE 0x02u    /* not ready to print (whatever the cause) */
#define DLV_PRINTER_STATUS_COVER_OPEN 0x04u /* cover open */
#define DLV_PRINTER_STATUS_PAPER_OUT 0x08u  /* roll paper end */
#define DLV_PRINTER_STATUS_PAPER_LOW 0x10u  /* roll paper near end: still prints */
#define DLV_PRINTER_STATUS_ERROR 0x20u      /* cutter jam, head overheated, other error */

/* Method table flags. */
/* submit and query_status run on a worker thread of the loop's pool and may block (a device
 * write, a spooler call); the library runs at most one at a time per printer, and never calls
 * close while one runs. Without the flag every method must return without blocking. */
#define DLV_PRINTER_BLOCKING 0x01u

/* close() returns this when it finishes later and will call dlv_printer_closed(). */
#define DLV_PRINTER_CLOSING 1

/* ctl() operations the built-in backends understand. Integrators' ops start at 1000. */
#define DLV_PRINTER_CTL_SET_TIMEOUT 1 /* arg: const long * milliseconds for connect and I/O */
#define DLV_PRINTER_CTL_COUNTERS 2    /* arg: dlv_printer_counters * (null: backend) */

typedef struct dlv_printer_counters {
    unsigned long jobs;
    unsigned long long bytes;
} dlv_printer_counters;

typedef struct dlv_printer dlv_printer;
typedef struct dlv_printer_job dlv_printer_job;
typedef struct dlv_printer_methods dlv_printer_methods;

/* The base of every printer object; a backend's struct starts with it. Read-only for backends. */
struct dlv_printer {
    const dlv_printer_methods *methods;
    void *core_; /* the library's; do not touch */
};

struct dlv_printer_methods {
    int version;        /* DLV_PRINTER_METHODS_VERSION the table was written for */
    const char *scheme; /* URI scheme, lowercase, without ':' ("tcp") */
    size_t priv_size;   /* sizeof the backend's struct (>= sizeof(dlv_printer)), zero-filled */
    unsigned flags;     /* DLV_PRINTER_BLOCKING or 0 */
    /* Version 1 methods. */
    /* Checks the URI (dlv_printer_target, dlv_printer_option) and prepares; no I/O that may
     * block. Returns 0, or an error code with `err` filled. The library calls close() even
     * after a failed open, so leave the object safe to close. */
    int (*open)(dlv_printer *p, dlv_error *err);
    /* Releases everything. A job in flight must be completed first (dlv_printer_job_done, e.g.
     * DLV_ESTOPPED or DLV_EPRINTER). Returns 0 when done, or DLV_PRINTER_CLOSING and later
     * calls dlv_printer_closed() once (e.g. after libuv close callbacks). */
    int (*close)(dlv_printer *p);
    /* Sends one job (dlv_printer_job_data). Returns 0 and calls dlv_printer_job_done() exactly
     * once (now or later, any thread), or returns an error code and does not call it. */
    int (*submit)(dlv_printer *p, dlv_printer_job *job);
    /* Asks the printer's state; completes like submit, passing the flags to job_done. NULL: the
     * link is one-way. */
    int (*query_status)(dlv_printer *p, dlv_printer_job *job);
    /* Escape hatch (xFileControl): returns DLV_ENOTSUP for an op it does not know. May be NULL. */
    int (*ctl)(dlv_printer *p, int op, void *arg);
};

/* Adds a backend for methods->scheme, or replaces the one registered under that scheme (the
 * built-ins too). The table must stay valid for the life of the process. Returns 0, or
 * DLV_EINVAL (NULL, empty scheme, version < 1, priv_size < sizeof(dlv_printer), no open, close
 * or submit), DLV_ENOMEM. Any thread; printers already open keep their backend. */
DLV_EXTERN int dlv_printer_register(const dlv_printer_methods *methods);

/* Removes the backend registered for `scheme`. Returns 0 or DLV_ENOTFOUND. Any thread. */
DLV_EXTERN int dlv_printer_unregister(const char *scheme);

/* The backend registered for `scheme` (e.g. to wrap it), or NULL. Any thread. */
DLV_EXTERN const dlv_printer_methods *dlv_printer_find(const char *scheme);

/* ---- For backends: what the library gives them ---- */

/* The URI the printer was opened with. Valid for the printer's life. */
DLV_EXTERN const char *dlv_printer_uri(const dlv_printer *p);

/* The URI without its scheme, leading "//" and options ("10.0.0.5:9100", "/dev/usb/lp0",
 * "Kitchen"), percent-decoded. Valid for the printer's life. */
DLV_EXTERN const char *dlv_printer_target(const dlv_printer *p);

/* The value of option `name` from the URI's query ("17" for codepage=17; "" for a bare name),
 * percent-decoded, or NULL when absent. Valid for the printer's life. */
DLV_EXTERN const char *dlv_printer_option(const dlv_printer *p, const char *name);

/* The loop the printer runs on, as a `uv_loop_t *` (libuv), for backends that do asynchronous
 * I/O. Use it only from the loop thread. */
DLV_EXTERN void *dlv_printer_loop(const dlv_printer *p);

/* The job's bytes. Valid until dlv_printer_job_done() is called for it. */
DLV_EXTERN const void *dlv_printer_job_data(const dlv_printer_job *job, size_t *len);

/* The job's format and title (UTF-8, never NULL). Valid until dlv_printer_job_done(). */
DLV_EXTERN dlv_print_format dlv_printer_job_format(const dlv_printer_job *job);
DLV_EXTERN const char *dlv_printer_job_title(const dlv_printer_job *job);

/* Completes a job or a status query: `status` 0 or a dlv_err (DLV_EPAPEROUT, DLV_ECOVEROPEN,
 * DLV_EOFFLINE when nothing was sent; DLV_EPRINTER when the job may be partly printed;
 * DLV_ETIMEDOUT, DLV_EIO, ...), the DLV_PRINTER_STATUS_* flags seen, and a message for people
 * (NULL: the code's description). Exactly once per job; any thread. The job must not be used
 * afterwards. */
DLV_EXTERN void dlv_printer_job_done(dlv_printer_job *job, int status, unsigned printer_status,
                                     const char *message);

/* Tells the library that a close() which returned DLV_PRINTER_CLOSING has finished. Loop
 * thread. The object is freed right after. */
DLV_EXTERN void dlv_printer_closed(dlv_printer *p);

/* Reads the three ESC/POS status bytes answered to DLE EOT 1, 2 and 4 (in that order) into
 * DLV_PRINTER_STATUS_* flags. Returns 0, or DLV_EPRINTER when a byte is not a status byte
 * (its fixed bits are wrong). For backends of two-way ESC/POS links. Any thread. */
DLV_EXTERN int dlv_printer_escpos_status(const unsigned char bytes[3], unsigned *flags);

/* The error code a state means for a job that is about to be sent: 0 when ready, else
 * DLV_EPAPEROUT, DLV_ECOVEROPEN or DLV_EOFFLINE, with a sentence for people in *message
 * (static storage). Any thread. */
DLV_EXTERN int dlv_printer_status_error(unsigned flags, const char **message);

#ifdef __cplusplus
}
#endif
#endif
