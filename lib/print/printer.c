/* The printer core: a registry of backends by URI scheme, the printer object the backend's
 * priv_size sizes, one job at a time per printer, completions delivered on the loop thread.
 *
 * Jobs complete through dlv_printer_job_done(), which any thread may call: the job goes onto a
 * mutex-protected list and a uv_async wakes the loop, which runs the callbacks (libuv coalesces
 * async sends, so the whole list is drained each time). Blocking backends run in the loop's
 * thread pool (uv_queue_work), one job at a time, and are never closed while one runs. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dynbuf.h"
#include "print/printer_impl.h"

/* ---- registry ---- */

static uv_once_t registry_once = UV_ONCE_INIT;
static uv_mutex_t registry_lock;
static const dlv_printer_methods **registry;
static size_t registry_count, registry_cap;

static int registry_put(const dlv_printer_methods *m)
{
    for (size_t i = 0; i < registry_count; i++) {
        if (strcmp(registry[i]->scheme, m->scheme) == 0) {
            registry[i] = m;
            return DLV_OK;
        }
    }
    if (DLV__DYNARR_RESERVE(registry, registry_cap, registry_count + 1, 8, DLV__DYNARR_NOLIMIT) !=
        DLV_OK)
        return DLV_ENOMEM;
    registry[registry_count++] = m;
    return DLV_OK;
}

static void registry_init(void)
{
    uv_mutex_init(&registry_lock);
    /* Built-ins first, so an integrator's registration of the same scheme replaces them. If
     * memory runs out here the scheme stays unknown (DLV_ENOTFOUND at open). */
    registry_put(&dlv__printer_tcp_methods);
    registry_put(&dlv__printer_file_methods);
    registry_put(&dlv__printer_dev_methods);
    registry_put(&dlv__printer_cups_methods);
    registry_put(&dlv__printer_null_methods);
}

static bool scheme_valid(const char *s)
{
    if (!s || !*s || !islower((unsigned char)*s))
        return false;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '+' && *s != '-' &&
            *s != '.')
            return false;
    return true;
}

DLV_EXTERN int dlv_printer_register(const dlv_printer_methods *m)
{
    if (!m || m->version < 1 || !scheme_valid(m->scheme) || m->priv_size < sizeof(dlv_printer) ||
        !m->open || !m->close || !m->submit)
        return DLV_EINVAL;
    uv_once(&registry_once, registry_init);
    uv_mutex_lock(&registry_lock);
    int rc = registry_put(m);
    uv_mutex_unlock(&registry_lock);
    return rc;
}

DLV_EXTERN int dlv_printer_unregister(const char *scheme)
{
    if (!scheme)
        return DLV_EINVAL;
    uv_once(&registry_once, registry_init);
    uv_mutex_lock(&registry_lock);
    int rc = DLV_ENOTFOUND;
    for (size_t i = 0; i < registry_count; i++) {
        if (strcmp(registry[i]->scheme, scheme) == 0) {
            memmove(&registry[i], &registry[i + 1], (registry_count - i - 1) * sizeof *registry);
            registry_count--;
            rc = DLV_OK;
            break;
        }
    }
    uv_mutex_unlock(&registry_lock);
    return rc;
}

DLV_EXTERN const dlv_printer_methods *dlv_printer_find(const char *scheme)
{
    if (!scheme)
        return NULL;
    uv_once(&registry_once, registry_init);
    uv_mutex_lock(&registry_lock);
    const dlv_printer_methods *m = NULL;
    for (size_t i = 0; i < registry_count; i++)
        if (strcmp(registry[i]->scheme, scheme) == 0)
            m = registry[i];
    uv_mutex_unlock(&registry_lock);
    return m;
}

/* ---- printer objects ---- */

typedef struct option {
    char *name, *value;
} option;

typedef struct core {
    dlv_printer *base; /* the backend's object, priv_size bytes */
    const dlv_printer_methods *m;
    uv_loop_t *loop;
    char *uri, *target;
    option *opts;
    size_t opt_count;
    uv_async_t async;
    bool async_ready;
    uv_mutex_t lock; /* guards done_head/done_tail */
    dlv_printer_job *done_head, *done_tail;
    dlv_printer_job *queue_head, *queue_tail; /* loop thread only */
    dlv_printer_job *current;
    uv_work_t work;
    bool worker_busy;
    bool closing, backend_close_called, backend_closed, async_closing, in_backend_close;
    bool open_failed;
    void (*closed_cb)(void *arg);
    void *closed_arg;
} core;

struct dlv_printer_job {
    dlv_printer_job *next;
    core *c;
    bool query;
    unsigned char *data;
    size_t len;
    dlv_print_format format;
    char *title;
    dlv__printer_cb cb;
    void *arg;
    int status;
    unsigned flags;
    bool done;
    char message[DLV_ERROR_MESSAGE_MAX];
};

static core *core_of(const dlv_printer *p)
{
    return p ? (core *)p->core_ : NULL;
}

static void job_free(dlv_printer_job *j)
{
    if (!j)
        return;
    dlv__free(j->data);
    dlv__free(j->title);
    dlv__free(j);
}

static void core_free(core *c)
{
    for (size_t i = 0; i < c->opt_count; i++) {
        dlv__free(c->opts[i].name);
        dlv__free(c->opts[i].value);
    }
    dlv__free(c->opts);
    dlv__free(c->uri);
    dlv__free(c->target);
    dlv__free(c->base);
    uv_mutex_destroy(&c->lock);
    dlv__free(c);
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into a fresh string; NULL on a bad escape, %00 or no memory. */
static char *pct_decode(const char *s, size_t n, bool *bad)
{
    char *out = dlv__malloc(n + 1);
    if (!out)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int a = i + 2 < n ? hexval(s[i + 1]) : -1, b = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (a < 0 || b < 0 || (a == 0 && b == 0)) {
                *bad = true;
                dlv__free(out);
                return NULL;
            }
            out[k++] = (char)(a << 4 | b);
            i += 2;
        } else {
            out[k++] = s[i];
        }
    }
    out[k] = '\0';
    return out;
}

static const char *opt_get(const core *c, const char *name)
{
    for (size_t i = 0; i < c->opt_count; i++)
        if (strcmp(c->opts[i].name, name) == 0)
            return c->opts[i].value;
    return NULL;
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Splits "scheme:[//]target[?a=b&c=d]" into the core; checks the options the core knows. */
static int parse_uri(core *c, const char *uri, char *scheme, size_t scheme_size, dlv_error *err)
{
    const char *colon = strchr(uri, ':');
    size_t sl = colon ? (size_t)(colon - uri) : 0;
    if (!colon || sl == 0 || sl >= scheme_size)
        return dlv__error_set(err, DLV_EINVAL,
                              "printer URI \"%.200s\": expected scheme:target, e.g. "
                              "tcp://192.168.0.50:9100, file:/path, cups:QUEUE, null:",
                              uri);
    for (size_t i = 0; i < sl; i++)
        scheme[i] = (char)tolower((unsigned char)uri[i]);
    scheme[sl] = '\0';
    if (!scheme_valid(scheme))
        return dlv__error_set(err, DLV_EINVAL, "printer URI \"%.200s\": bad scheme", uri);
    const char *rest = colon + 1;
    if (rest[0] == '/' && rest[1] == '/')
        rest += 2;
    const char *q = strchr(rest, '?');
    size_t tl = q ? (size_t)(q - rest) : strlen(rest);
    bool bad = false;
    c->target = pct_decode(rest, tl, &bad);
    if (!c->target)
        return bad ? dlv__error_set(err, DLV_EINVAL, "printer URI \"%.200s\": bad %%-escape", uri)
                   : dlv__error_set(err, DLV_ENOMEM, "out of memory");
    if (!q)
        return DLV_OK;
    for (const char *p = q + 1; *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n > 0) {
            const char *eq = memchr(p, '=', n);
            size_t kl = eq ? (size_t)(eq - p) : n;
            option *o = dlv__realloc(c->opts, (c->opt_count + 1) * sizeof *o);
            if (!o)
                return dlv__error_set(err, DLV_ENOMEM, "out of memory");
            c->opts = o;
            o = &c->opts[c->opt_count];
            o->name = pct_decode(p, kl, &bad);
            o->value = o->name ? pct_decode(eq ? eq + 1 : p + n, eq ? n - kl - 1 : 0, &bad) : NULL;
            if (!o->name || !o->value) {
                dlv__free(o->name);
                return bad ? dlv__error_set(err, DLV_EINVAL,
                                            "printer URI \"%.200s\": bad %%-escape", uri)
                           : dlv__error_set(err, DLV_ENOMEM, "out of memory");
            }
            c->opt_count++;
        }
        p += n + (amp ? 1 : 0);
    }
    static const struct {
        const char *name;
        long lo, hi;
        const char *hint;
    } known[] = {
        {"codepage", 0, 255, "the ESC t number of CP866 (17 on Epson)"},
        {"width", 16, 128, "characters per line: 32, 42 or 48"},
        {"cut", 0, 1, "0 or 1"},
        {"status", 0, 1, "0 or 1"},
        {"timeout", 1, 600000, "milliseconds 1..600000"},
    };
    for (size_t i = 0; i < DLV__ARRAY_SIZE(known); i++) {
        const char *v = opt_get(c, known[i].name);
        long x;
        if (v && !parse_long(v, known[i].lo, known[i].hi, &x))
            return dlv__error_set(err, DLV_EINVAL, "printer URI \"%.200s\": %s=%.40s: expected %s",
                                  uri, known[i].name, v, known[i].hint);
    }
    return DLV_OK;
}

static void on_async(uv_async_t *h);
static void maybe_finish_close(core *c);

int dlv__printer_open(uv_loop_t *loop, const char *uri, dlv_printer **out, dlv_error *err)
{
    if (out)
        *out = NULL;
    if (!loop || !uri || !out)
        return dlv__error_set(err, DLV_EINVAL, "dlv__printer_open: invalid argument");
    core *c = dlv__calloc(1, sizeof *c);
    if (!c)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    uv_mutex_init(&c->lock);
    c->loop = loop;
    char scheme[32];
    int rc = DLV_OK;
    c->uri = dlv__strdup(uri);
    if (!c->uri)
        rc = dlv__error_set(err, DLV_ENOMEM, "out of memory");
    if (rc == DLV_OK)
        rc = parse_uri(c, uri, scheme, sizeof scheme, err);
    if (rc == DLV_OK) {
        c->m = dlv_printer_find(scheme);
        if (!c->m)
            rc = dlv__error_set(err, DLV_ENOTFOUND,
                                "printer URI \"%.200s\": no printer backend for \"%s:\" (built in: "
                                "tcp, file, dev, cups, null)",
                                uri, scheme);
    }
    if (rc == DLV_OK) {
        c->base = dlv__calloc(1, c->m->priv_size);
        if (!c->base)
            rc = dlv__error_set(err, DLV_ENOMEM, "out of memory");
    }
    if (rc != DLV_OK) {
        core_free(c);
        return rc;
    }
    c->base->methods = c->m;
    c->base->core_ = c;
    dlv_error e = {0};
    rc = c->m->open(c->base, &e);
    if (rc == DLV_OK && uv_async_init(loop, &c->async, on_async) != 0)
        rc = dlv__error_set(&e, DLV_EIO, "cannot create the printer's wake-up handle");
    c->async.data = c;
    if (rc != DLV_OK) {
        if (e.code == 0)
            dlv__error_set(&e, rc, "%s", dlv_strerror(rc));
        if (err)
            dlv__error_set(err, rc, "printer %.200s: %s", uri, e.message);
        /* The core always closes what it opened, even after a failed open. */
        c->open_failed = true;
        c->backend_close_called = true;
        if (c->m->close(c->base) != DLV_PRINTER_CLOSING)
            core_free(c);
        return rc;
    }
    c->async_ready = true;
    *out = c->base;
    return DLV_OK;
}

static void enqueue(core *c, dlv_printer_job *j)
{
    j->next = NULL;
    if (c->queue_tail)
        c->queue_tail->next = j;
    else
        c->queue_head = j;
    c->queue_tail = j;
}

static void complete_now(dlv_printer_job *j, int status, const char *message)
{
    dlv_printer_job_done(j, status, 0, message);
}

static void work_run(uv_work_t *w)
{
    core *c = w->data;
    dlv_printer_job *j = c->current;
    int rc = j->query ? c->m->query_status(c->base, j) : c->m->submit(c->base, j);
    if (rc != DLV_OK)
        complete_now(j, rc, NULL);
}

static void drain(core *c);

static void work_after(uv_work_t *w, int status)
{
    core *c = w->data;
    c->worker_busy = false;
    dlv_printer_job *j = c->current;
    uv_mutex_lock(&c->lock);
    bool done = j && j->done;
    uv_mutex_unlock(&c->lock);
    if (j && !done)
        complete_now(j, status == UV_ECANCELED ? DLV_ESTOPPED : DLV_EPRINTER,
                     status == UV_ECANCELED ? "printer closed before the job started"
                                            : "the printer backend did not complete the job");
    drain(c);
}

/* Starts the next queued job when nothing is in flight. */
static void pump(core *c)
{
    if (c->current || c->worker_busy || !c->queue_head || c->closing)
        return;
    dlv_printer_job *j = c->queue_head;
    c->queue_head = j->next;
    if (!c->queue_head)
        c->queue_tail = NULL;
    j->next = NULL;
    c->current = j;
    if (c->m->flags & DLV_PRINTER_BLOCKING) {
        c->work.data = c;
        c->worker_busy = true;
        if (uv_queue_work(c->loop, &c->work, work_run, work_after) != 0) {
            c->worker_busy = false;
            complete_now(j, DLV_EIO, "cannot start a worker for the printer");
        }
        return;
    }
    int rc = j->query ? c->m->query_status(c->base, j) : c->m->submit(c->base, j);
    if (rc != DLV_OK)
        complete_now(j, rc, NULL);
}

/* Runs the callbacks of completed jobs, then starts the next job or continues closing. */
static void drain(core *c)
{
    for (;;) {
        uv_mutex_lock(&c->lock);
        dlv_printer_job *j = c->done_head;
        if (j) {
            c->done_head = j->next;
            if (!c->done_head)
                c->done_tail = NULL;
        }
        uv_mutex_unlock(&c->lock);
        if (!j)
            break;
        if (j == c->current)
            c->current = NULL;
        if (j->cb)
            j->cb(j->arg, j->status, j->flags, j->message);
        job_free(j);
    }
    pump(c);
    maybe_finish_close(c);
}

static void on_async(uv_async_t *h)
{
    drain(h->data);
}

static dlv_printer_job *new_job(core *c, dlv__printer_cb cb, void *arg)
{
    dlv_printer_job *j = dlv__calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->c = c;
    j->cb = cb;
    j->arg = arg;
    return j;
}

int dlv__printer_submit(dlv_printer *printer, const void *data, size_t len,
                        const dlv__printer_job_options *options, dlv__printer_cb cb, void *arg,
                        dlv_error *err)
{
    core *c = core_of(printer);
    if (!c || (!data && len) || !cb)
        return dlv__error_set(err, DLV_EINVAL, "dlv__printer_submit: invalid argument");
    if (c->closing)
        return dlv__error_set(err, DLV_ESTOPPED, "the printer is closing");
    dlv_printer_job *j = new_job(c, cb, arg);
    if (!j)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    j->data = dlv__malloc(len);
    j->len = len;
    j->format = options ? options->format : DLV_PRINT_RAW;
    j->title = dlv__strdup(options && options->title ? options->title : "document");
    if (!j->data || !j->title) {
        job_free(j);
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    }
    if (len)
        memcpy(j->data, data, len);
    enqueue(c, j);
    pump(c);
    return DLV_OK;
}

int dlv__printer_query(dlv_printer *printer, dlv__printer_cb cb, void *arg, dlv_error *err)
{
    core *c = core_of(printer);
    if (!c || !cb)
        return dlv__error_set(err, DLV_EINVAL, "dlv__printer_query: invalid argument");
    if (!c->m->query_status)
        return dlv__error_set(err, DLV_ENOTSUP, "%s: this printer link cannot report its state",
                              c->uri);
    if (c->closing)
        return dlv__error_set(err, DLV_ESTOPPED, "the printer is closing");
    dlv_printer_job *j = new_job(c, cb, arg);
    if (!j)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    j->query = true;
    j->title = dlv__strdup("status");
    if (!j->title) {
        job_free(j);
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    }
    enqueue(c, j);
    pump(c);
    return DLV_OK;
}

static void on_async_closed(uv_handle_t *h)
{
    core *c = h->data;
    void (*cb)(void *) = c->closed_cb;
    void *arg = c->closed_arg;
    core_free(c);
    if (cb)
        cb(arg);
}

static void maybe_finish_close(core *c)
{
    if (!c->closing || c->async_closing || c->in_backend_close)
        return;
    if (c->worker_busy)
        return; /* a blocking job cannot be interrupted: close after it */
    if (!c->backend_close_called && (!c->current || !(c->m->flags & DLV_PRINTER_BLOCKING))) {
        /* Async backends finish or abort the job in flight themselves. */
        c->backend_close_called = true;
        c->in_backend_close = true;
        int rc = c->m->close(c->base);
        c->in_backend_close = false;
        if (rc != DLV_PRINTER_CLOSING)
            c->backend_closed = true;
    }
    uv_mutex_lock(&c->lock);
    bool idle = !c->current && !c->done_head && !c->queue_head;
    uv_mutex_unlock(&c->lock);
    if (!idle || !c->backend_closed)
        return;
    c->async_closing = true;
    uv_close((uv_handle_t *)&c->async, on_async_closed);
}

void dlv__printer_close(dlv_printer *printer, void (*closed_cb)(void *arg), void *arg)
{
    core *c = core_of(printer);
    if (!c || c->closing)
        return;
    c->closing = true;
    c->closed_cb = closed_cb;
    c->closed_arg = arg;
    /* Jobs not started never reach the printer. */
    while (c->queue_head) {
        dlv_printer_job *j = c->queue_head;
        c->queue_head = j->next;
        complete_now(j, DLV_ESTOPPED, "the printer was closed before the job was sent");
    }
    c->queue_tail = NULL;
    maybe_finish_close(c);
}

DLV_EXTERN void dlv_printer_closed(dlv_printer *p)
{
    core *c = core_of(p);
    if (!c)
        return;
    if (c->open_failed) {
        core_free(c);
        return;
    }
    c->backend_closed = true;
    if (!c->in_backend_close)
        maybe_finish_close(c);
}

DLV_EXTERN void dlv_printer_job_done(dlv_printer_job *j, int status, unsigned printer_status,
                                     const char *message)
{
    if (!j)
        return;
    core *c = j->c;
    j->status = status;
    j->flags = printer_status;
    snprintf(j->message, sizeof j->message, "%s",
             message  ? message
             : status ? dlv_strerror(status)
                      : "");
    /* The job's bytes are no longer the backend's to read. */
    uv_mutex_lock(&c->lock);
    j->done = true;
    j->next = NULL;
    if (c->done_tail)
        c->done_tail->next = j;
    else
        c->done_head = j;
    c->done_tail = j;
    uv_mutex_unlock(&c->lock);
    uv_async_send(&c->async);
}

/* ---- accessors ---- */

DLV_EXTERN const char *dlv_printer_uri(const dlv_printer *p)
{
    core *c = core_of(p);
    return c ? c->uri : NULL;
}

DLV_EXTERN const char *dlv_printer_target(const dlv_printer *p)
{
    core *c = core_of(p);
    return c ? c->target : NULL;
}

DLV_EXTERN const char *dlv_printer_option(const dlv_printer *p, const char *name)
{
    core *c = core_of(p);
    return c && name ? opt_get(c, name) : NULL;
}

DLV_EXTERN void *dlv_printer_loop(const dlv_printer *p)
{
    core *c = core_of(p);
    return c ? c->loop : NULL;
}

DLV_EXTERN const void *dlv_printer_job_data(const dlv_printer_job *job, size_t *len)
{
    if (len)
        *len = job ? job->len : 0;
    return job ? job->data : NULL;
}

DLV_EXTERN dlv_print_format dlv_printer_job_format(const dlv_printer_job *job)
{
    return job ? job->format : DLV_PRINT_RAW;
}

DLV_EXTERN const char *dlv_printer_job_title(const dlv_printer_job *job)
{
    return job && job->title ? job->title : "";
}

const char *dlv__printer_uri(dlv_printer *printer)
{
    return dlv_printer_uri(printer);
}

long dlv__printer_timeout_ms(const dlv_printer *p, long dflt)
{
    long v;
    return parse_long(dlv_printer_option(p, "timeout"), 1, 600000, &v) ? v : dflt;
}

bool dlv__printer_flag(const dlv_printer *p, const char *name, bool dflt)
{
    long v;
    return parse_long(dlv_printer_option(p, name), 0, 1, &v) ? v == 1 : dflt;
}

void dlv__printer_profile(dlv_printer *printer, dlv__print_profile *profile)
{
    long v;
    profile->codepage = parse_long(dlv_printer_option(printer, "codepage"), 0, 255, &v)
                            ? (int)v
                            : DLV__PRINT_DEFAULT_CODEPAGE;
    profile->width = parse_long(dlv_printer_option(printer, "width"), 16, 128, &v)
                         ? (int)v
                         : DLV__PRINT_DEFAULT_WIDTH;
    profile->cut = dlv__printer_flag(printer, "cut", true);
}

int dlv__printer_ctl(dlv_printer *p, int op, void *arg)
{
    core *c = core_of(p);
    if (!c || !c->m->ctl)
        return DLV_ENOTSUP;
    return c->m->ctl(p, op, arg);
}
