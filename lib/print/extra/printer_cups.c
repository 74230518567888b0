/* cups:QUEUE[?server=HOST[:PORT]]: a CUPS queue through libcups, in the loop's thread pool.
 *
 * A PDF job goes as application/pdf (an A4 invoice to a system printer), a raw job as
 * application/vnd.cups-raw (a receipt printer behind a raw queue). The server is the one libcups
 * finds by itself (CUPS_SERVER, client.conf, the local socket) unless server= names one. A job
 * counts as sent once CUPS has answered the Print-Job request: from there CUPS's own queue keeps
 * it across printer trouble. Status queries read the queue's printer-state-reasons.
 * In libdelivery_print_extra.so (lib/print/extra.h); the library's stand-in forwards to it. */
#include <cups/cups.h>
#include <cups/ipp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "print/printer_impl.h"

/* Last: from here on the library's functions are calls through its table. */
#include "print/extra/host.h"

typedef struct cups_printer {
    dlv_printer base;
    char server[256]; /* "" : libcups's default */
    int port;
    long timeout_ms;
    uv_mutex_t lock;
    bool lock_init;
    dlv_printer_counters counters;
} cups_printer;

static int cups_open(dlv_printer *p, dlv_error *err)
{
    cups_printer *cp = (cups_printer *)p;
    const char *queue = dlv_printer_target(p);
    if (!queue || !*queue || strchr(queue, '/') || strlen(queue) > 127)
        return dlv__error_set(err, DLV_EINVAL, "%s: expected cups:QUEUE (a queue name)",
                              dlv_printer_uri(p));
    const char *server = dlv_printer_option(p, "server");
    cp->port = 0;
    if (server && *server) {
        snprintf(cp->server, sizeof cp->server, "%s", server);
        char *colon = server[0] == '/' ? NULL : strrchr(cp->server, ':');
        if (colon && !strchr(colon, ']')) {
            char *end;
            long port = strtol(colon + 1, &end, 10);
            if (*end || port < 1 || port > 65535)
                return dlv__error_set(err, DLV_EINVAL, "%s: bad port in server=%s",
                                      dlv_printer_uri(p), server);
            cp->port = (int)port;
            *colon = '\0';
        }
    }
    cp->timeout_ms = dlv__printer_timeout_ms(p, DLV__PRINTER_DEFAULT_TIMEOUT_MS);
    if (uv_mutex_init(&cp->lock) != 0)
        return dlv__error_set(err, DLV_ENOMEM, "cannot create a mutex");
    cp->lock_init = true;
    return DLV_OK;
}

static int cups_close(dlv_printer *p)
{
    cups_printer *cp = (cups_printer *)p;
    if (cp->lock_init)
        uv_mutex_destroy(&cp->lock);
    return DLV_OK;
}

static http_t *connect_server(cups_printer *cp, char *msg, size_t msz)
{
    const char *host = cp->server[0] ? cp->server : cupsServer();
    int port = cp->port ? cp->port : ippPort();
    http_t *http = httpConnect2(host, port, NULL, AF_UNSPEC, HTTP_ENCRYPTION_IF_REQUESTED, 1,
                                (int)cp->timeout_ms, NULL);
    if (!http) {
        snprintf(msg, msz, "cannot reach the CUPS server %s:%d: %s (nothing sent)", host, port,
                 cupsLastErrorString());
        return NULL;
    }
    httpSetTimeout(http, (double)cp->timeout_ms / 1000.0, NULL, NULL);
    return http;
}

/* A refused request: nothing was printed, so only a missing queue is not worth retrying. */
static int refused(ipp_status_t st)
{
    return st == IPP_STATUS_ERROR_NOT_FOUND ? DLV_ENOTFOUND : DLV_EOFFLINE;
}

static void printer_uri(const char *queue, char *uri, size_t size)
{
    /* cupsd goes by the resource path; the host part is only formal. */
    httpAssembleURIf(HTTP_URI_CODING_ALL, uri, (int)size, "ipp", NULL, "localhost", ippPort(),
                     "/printers/%s", queue);
}

/* One IPP Print-Job request with the document: CUPS creates the job only once the whole request
 * has arrived, so any failure before the answer means nothing will print. */
static int cups_submit(dlv_printer *p, dlv_printer_job *job)
{
    cups_printer *cp = (cups_printer *)p;
    const char *queue = dlv_printer_target(p);
    char msg[DLV_ERROR_MESSAGE_MAX];
    http_t *http = connect_server(cp, msg, sizeof msg);
    if (!http) {
        dlv_printer_job_done(job, DLV_EOFFLINE, 0, msg);
        return DLV_OK;
    }
    size_t len;
    const unsigned char *data = dlv_printer_job_data(job, &len);
    dlv_print_format f = dlv_printer_job_format(job);
    const char *format = f == DLV_PRINT_PDF    ? CUPS_FORMAT_PDF
                         : f == DLV_PRINT_TEXT ? CUPS_FORMAT_TEXT
                                               : CUPS_FORMAT_RAW;
    char uri[HTTP_MAX_URI], resource[256];
    printer_uri(queue, uri, sizeof uri);
    snprintf(resource, sizeof resource, "/printers/%s", queue);
    ipp_t *req = ippNewRequest(IPP_OP_PRINT_JOB);
    ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, uri);
    ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL, cupsUser());
    ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", NULL,
                 dlv_printer_job_title(job));
    ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", NULL, format);
    bool sent = false;
    /* The length covers the whole body: the encoded request and the document. */
    http_status_t hs = cupsSendRequest(http, req, resource, ippLength(req) + len);
    if (hs == HTTP_STATUS_CONTINUE) {
        hs = cupsWriteRequestData(http, (const char *)data, len);
        sent = hs == HTTP_STATUS_CONTINUE;
    }
    ipp_t *resp = cupsGetResponse(http, resource);
    ipp_status_t st = cupsLastError();
    int status = DLV_OK;
    if (resp && st <= IPP_STATUS_OK_EVENTS_COMPLETE) {
        ipp_attribute_t *id = ippFindAttribute(resp, "job-id", IPP_TAG_INTEGER);
        snprintf(msg, sizeof msg, "CUPS job %s-%d", queue, id ? ippGetInteger(id, 0) : 0);
        uv_mutex_lock(&cp->lock);
        cp->counters.jobs++;
        cp->counters.bytes += len;
        uv_mutex_unlock(&cp->lock);
    } else if (resp || !sent) {
        status = refused(st);
        snprintf(msg, sizeof msg, "CUPS queue %s refused the job: %s (nothing sent)", queue,
                 cupsLastErrorString());
    } else {
        /* Everything went out but no answer came back: CUPS may hold the job. */
        status = DLV_EPRINTER;
        snprintf(msg, sizeof msg, "CUPS queue %s: no answer after the whole job was sent (%s)",
                 queue, cupsLastErrorString());
    }
    ippDelete(resp);
    ippDelete(req);
    httpClose(http);
    dlv_printer_job_done(job, status, 0, msg);
    return DLV_OK;
}

static bool has_reason(ipp_attribute_t *reasons, const char *prefix)
{
    for (int i = 0; reasons && i < ippGetCount(reasons); i++) {
        const char *r = ippGetString(reasons, i, NULL);
        if (r && strncmp(r, prefix, strlen(prefix)) == 0)
            return true;
    }
    return false;
}

static int cups_query(dlv_printer *p, dlv_printer_job *job)
{
    cups_printer *cp = (cups_printer *)p;
    const char *queue = dlv_printer_target(p);
    char msg[DLV_ERROR_MESSAGE_MAX];
    http_t *http = connect_server(cp, msg, sizeof msg);
    if (!http) {
        dlv_printer_job_done(job, DLV_EOFFLINE, 0, msg);
        return DLV_OK;
    }
    static const char *const wanted[] = {"printer-state", "printer-state-reasons",
                                         "printer-is-accepting-jobs"};
    char uri[HTTP_MAX_URI];
    printer_uri(queue, uri, sizeof uri);
    ipp_t *req = ippNewRequest(IPP_OP_GET_PRINTER_ATTRIBUTES);
    ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, uri);
    ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
                  (int)(sizeof wanted / sizeof *wanted), NULL, wanted);
    ipp_t *resp = cupsDoRequest(http, req, "/");
    int status = DLV_OK;
    unsigned flags = 0;
    if (!resp || cupsLastError() > IPP_STATUS_OK_EVENTS_COMPLETE) {
        status = refused(cupsLastError());
        snprintf(msg, sizeof msg, "CUPS queue %s: %s", queue, cupsLastErrorString());
    } else {
        flags = DLV_PRINTER_STATUS_KNOWN;
        ipp_attribute_t *st = ippFindAttribute(resp, "printer-state", IPP_TAG_ENUM);
        ipp_attribute_t *acc = ippFindAttribute(resp, "printer-is-accepting-jobs", IPP_TAG_BOOLEAN);
        ipp_attribute_t *rs = ippFindAttribute(resp, "printer-state-reasons", IPP_TAG_KEYWORD);
        if ((st && ippGetInteger(st, 0) == IPP_PSTATE_STOPPED) || (acc && !ippGetBoolean(acc, 0)) ||
            has_reason(rs, "offline"))
            flags |= DLV_PRINTER_STATUS_OFFLINE;
        if (has_reason(rs, "media-empty") || has_reason(rs, "media-needed"))
            flags |= DLV_PRINTER_STATUS_PAPER_OUT;
        if (has_reason(rs, "media-low"))
            flags |= DLV_PRINTER_STATUS_PAPER_LOW;
        if (has_reason(rs, "cover-open") || has_reason(rs, "door-open"))
            flags |= DLV_PRINTER_STATUS_COVER_OPEN;
        snprintf(msg, sizeof msg, "CUPS queue %s: %s", queue,
                 st ? ippEnumString("printer-state", ippGetInteger(st, 0)) : "state unknown");
    }
    ippDelete(resp);
    httpClose(http);
    dlv_printer_job_done(job, status, flags, msg);
    return DLV_OK;
}

static int cups_ctl(dlv_printer *p, int op, void *arg)
{
    cups_printer *cp = (cups_printer *)p;
    switch (op) {
    case DLV_PRINTER_CTL_SET_TIMEOUT: {
        long ms = arg ? *(const long *)arg : 0;
        if (ms < 1 || ms > 600000)
            return DLV_EINVAL;
        cp->timeout_ms = ms;
        return DLV_OK;
    }
    case DLV_PRINTER_CTL_COUNTERS:
        if (!arg)
            return DLV_EINVAL;
        uv_mutex_lock(&cp->lock);
        *(dlv_printer_counters *)arg = cp->counters;
        uv_mutex_unlock(&cp->lock);
        return DLV_OK;
    default:
        return DLV_ENOTSUP;
    }
}

const dlv_printer_methods dlv__pe_cups_methods = {
    DLV_PRINTER_METHODS_VERSION, /* version */
    "cups",                      /* scheme */
    sizeof(cups_printer),        /* priv_size */
    DLV_PRINTER_BLOCKING,        /* flags */
    cups_open,                   /* open */
    cups_close,                  /* close */
    cups_submit,                 /* submit */
    cups_query,                  /* query_status */
    cups_ctl,                    /* ctl */
};
