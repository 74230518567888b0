/* Print jobs: one trigger, one document. A job is recorded in the durable ledger before any byte
 * goes out; a job whose printer is down stays in the ledger and is retried; a job fully sent is
 * never sent again by itself; a job whose fate a crash made unknown is offered as a reprint.
 * The printing state (the open printers, the retry timer, the job in flight) is struct
 * rt_printing, private to this file. */
#include "runtime/printing.h"

#include <string.h>

#include "order/json.h"
#include "print/print.h"
#include "store/store.h"

#define PRINT_RETRY_MS 5000
/* A printer that refused a job is tried again after 2 s, then 4, 8, ... up to a minute: a printer
 * out of paper is not asked a thousand times a second (docs/reliability.md). */
#define PRINT_BACKOFF_FIRST_MS 2000
#define PRINT_BACKOFF_MAX_MS 60000

/* What the runtime knows of one printer's trouble. */
typedef struct rt_printer_state {
    int failures;      /* refusals in a row */
    uint64_t retry_at; /* loop time before which it is not asked again */
    bool failing;      /* the host was told printFailed and not yet printed */
    char message[128]; /* what it said last */
} rt_printer_state;

struct rt_printing {
    struct dlv_printer *receipt, *a4;
    rt_printer_state state[2]; /* receipt, a4 */
    uv_timer_t timer;          /* retries, and the next loop turn for a new job */
    bool timer_open;
    bool busy;          /* one job in flight at a time */
    int failed_waiting; /* a failed job waits for the retry timer */
};

int dlv__rt_printing_init(dlv_ctx *ctx)
{
    ctx->printing = dlv__calloc(1, sizeof *ctx->printing);
    return ctx->printing ? DLV_OK : DLV_ENOMEM;
}

void dlv__rt_printing_free(dlv_ctx *ctx)
{
    dlv__free(ctx->printing);
    ctx->printing = NULL;
}

static const char *doc_name(dlv__document d)
{
    return d == DLV__DOCUMENT_INVOICE ? "Invoice" : "ServiceCheck";
}

static void on_print_retry(uv_timer_t *t);

/* The trigger of an invoice for a new courier, or false when none is due: no invoice of the
 * order was printed yet (the pending one will carry the current courier when it goes out), or the
 * last one already names this courier. The trigger names the courier and the number of invoices
 * so far, so every change prints once, also back to an earlier courier. */
static bool courier_change_trigger(dlv_ctx *ctx, rt_order *o, char *trigger, size_t size)
{
    const dlv__order *v = dlv__rt_view(ctx, o);
    if (!v)
        return false;
    const dlv__order_courier *c = v->courier;
    const char *courier = c && c->id && *c->id ? c->id : "none";
    dlv__print_job *jobs = NULL;
    size_t n = 0, invoices = 0;
    bool printed = false;
    const char *last = NULL;
    int64_t last_id = 0;
    if (dlv__store_print_for_order(ctx->store, o->id, &jobs, &n, NULL) != DLV_OK)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(jobs[i].document, doc_name(DLV__DOCUMENT_INVOICE)) != 0)
            continue;
        invoices++;
        printed |= jobs[i].state == DLV__PRINT_SENT;
        if (jobs[i].id > last_id && jobs[i].trigger) {
            last_id = jobs[i].id;
            last = jobs[i].trigger;
        }
    }
    char prefix[64];
    snprintf(prefix, sizeof prefix, "Invoice/Courier/%.36s/", courier);
    bool due = printed && !(last && strncmp(last, prefix, strlen(prefix)) == 0);
    if (due)
        snprintf(trigger, size, "%s%zu", prefix, invoices);
    dlv__store_print_jobs_free(jobs, n);
    return due;
}

void dlv__rt_print(dlv_ctx *ctx, rt_order *o, const dlv__print_task *job)
{
    dlv__store *st = ctx->store;
    char trigger[64];
    if (job->after_invoice && !courier_change_trigger(ctx, o, trigger, sizeof trigger))
        return;
    /* A by-hand print is its own trigger each time; its copy mark depends on whether the
     * document was already printed. */
    bool is_copy = false;
    if (job->by_hand) {
        dlv__print_job *jobs = NULL;
        size_t n = 0;
        if (dlv__store_print_for_order(st, o->id, &jobs, &n, NULL) == DLV_OK) {
            for (size_t i = 0; i < n; i++)
                is_copy |= strcmp(jobs[i].document, doc_name(job->document)) == 0 &&
                           jobs[i].state == DLV__PRINT_SENT;
        }
        dlv__store_print_jobs_free(jobs, n);
        char id[37];
        dlv__uuid_v4(id);
        snprintf(trigger, sizeof trigger, "Manual/%s", id);
    } else if (!job->after_invoice) {
        snprintf(trigger, sizeof trigger, "%s", job->key);
    }
    dlv__print_new rec = {.order_id = o->id,
                          .document = doc_name(job->document),
                          .trigger = trigger,
                          .copies = job->copies,
                          .printer = job->a4 ? "a4" : "receipt",
                          .is_copy = is_copy};
    int64_t id = 0;
    bool created = false;
    dlv_error err = {0};
    if (dlv__store_print_add(st, &rec, &id, &created, &err) != DLV_OK) {
        DLV__LOGE(&ctx->log, "print job for order %lld not recorded: %s", (long long)o->key.number,
                  err.message);
        dlv__rt_emit(ctx, dlv__ev_print_not_recorded(o->id, doc_name(job->document), err.message));
        return;
    }
    if (!created)
        return; /* the same trigger again (an undo and redo): the document exists already */
    /* Sent on the next loop turn: the job's row may sit in a transaction not committed yet, and
     * it must be durable before the first byte goes out. */
    rt_printing *p = ctx->printing;
    if (p->timer_open && !p->busy)
        uv_timer_start(&p->timer, on_print_retry, 0, 0);
}

static dlv_printer *printer_for(dlv_ctx *ctx, const dlv__print_job *job, bool *a4)
{
    bool wants_a4 = job->printer && strcmp(job->printer, "a4") == 0;
    *a4 = wants_a4 && ctx->printing->a4;
    /* Without an A4 printer the invoice goes to the receipt printer as a receipt. */
    return *a4 ? ctx->printing->a4 : ctx->printing->receipt;
}

static void update_held(dlv_ctx *ctx)
{
    dlv__print_job *jobs = NULL;
    size_t n = 0, offers = 0;
    dlv__store *st = ctx->store;
    dlv__store_print_due(st, &jobs, &n, NULL);
    dlv__store_print_jobs_free(jobs, n);
    dlv__print_job *unknown = NULL;
    dlv__store_print_offers(st, &unknown, &offers, NULL);
    dlv__store_print_jobs_free(unknown, offers);
    dlv__rt_health_set_held_prints(ctx, (long)(n + offers + ctx->printing->failed_waiting));
}

static void on_print_retry(uv_timer_t *t)
{
    dlv_ctx *ctx = t->data;
    ctx->printing->failed_waiting = 0;
    dlv__rt_print_pump(ctx);
}

static void schedule_retry(dlv_ctx *ctx)
{
    rt_printing *p = ctx->printing;
    p->failed_waiting = 1;
    if (p->timer_open && !uv_is_active((uv_handle_t *)&p->timer))
        uv_timer_start(&p->timer, on_print_retry, PRINT_RETRY_MS, 0);
}

/* A job the printer refused (paper out, offline, unreachable): due again after the printer's
 * backoff; the host hears printFailed when the printer's trouble is new or changed, not on every
 * attempt. */
static void refused(dlv_ctx *ctx, const dlv__print_job *job, const char *message)
{
    rt_printing *p = ctx->printing;
    bool a4 = false;
    printer_for(ctx, job, &a4);
    rt_printer_state *ps = &p->state[a4];
    uint64_t delay = PRINT_BACKOFF_FIRST_MS;
    for (int i = 0; i < ps->failures && delay < PRINT_BACKOFF_MAX_MS; i++)
        delay *= 2;
    if (delay > PRINT_BACKOFF_MAX_MS)
        delay = PRINT_BACKOFF_MAX_MS;
    ps->failures++;
    ps->retry_at = uv_now(ctx->loop) + delay;
    dlv__store *st = ctx->store;
    /* Due at once by the ledger, so a restart tries it straight away; the pacing is the
     * printer's, in memory. */
    dlv__store_print_set_state(st, job->id, DLV__PRINT_FAILED, message, dlv__store_now(st), NULL);
    const char *msg = message ? message : "";
    if (!ps->failing || strcmp(ps->message, msg) != 0)
        dlv__rt_emit(ctx, dlv__ev_print_failed(job, msg, true));
    ps->failing = true;
    snprintf(ps->message, sizeof ps->message, "%s", msg);
    p->failed_waiting = 1;
    if (p->timer_open) {
        uint64_t left =
            uv_is_active((uv_handle_t *)&p->timer) ? uv_timer_get_due_in(&p->timer) : UINT64_MAX;
        if (delay < left)
            uv_timer_start(&p->timer, on_print_retry, delay, 0);
    }
}

typedef struct print_done {
    dlv_ctx *ctx;
    int64_t job_id;
} print_done;

static void on_printed(void *arg, int status, unsigned printer_status, const char *message)
{
    print_done *pd = arg;
    dlv_ctx *ctx = pd->ctx;
    int64_t id = pd->job_id;
    dlv__free(pd);
    (void)printer_status;
    ctx->printing->busy = false;
    dlv__store *st = ctx->store;
    dlv__print_job job = {0};
    if (dlv__store_print_get(st, id, &job, NULL) != DLV_OK)
        return;
    dlv_error err = {0};
    if (status == DLV_OK) {
        bool a4 = false;
        printer_for(ctx, &job, &a4);
        ctx->printing->state[a4] = (rt_printer_state){0};
        dlv__store_print_set_state(st, id, DLV__PRINT_SENT, NULL, 0, &err);
        dlv__rt_emit(ctx, dlv__ev_printed(&job));
        /* Tell the call-center, as a durable command like any other change. */
        char cid[37], at[21];
        cJSON *c = cJSON_CreateObject();
        if (c && dlv__uuid_v4(cid) == DLV_OK && dlv__time_format(dlv__rt_now(ctx), at) &&
            dlv__jput_string(c, "id", cid) && dlv__jput_string(c, "type", "DocumentPrinted") &&
            dlv__jput_string(c, "orderId", job.order_id) &&
            dlv__jput_string(c, "document", job.document) &&
            cJSON_AddNumberToObject(c, "copies", job.copies) && dlv__jput_string(c, "at", at) &&
            dlv__rt_staged_new(ctx, NULL, NULL, NULL)) {
            dlv__rt_batch_add(ctx, job.order_id, c, NULL);
            c = NULL;
        }
        cJSON_Delete(c);
        dlv__rt_commit(ctx);
    } else if (status == DLV_ESTOPPED) {
        /* Closed before it started: still pending in the ledger for the next start. */
        dlv__store_print_set_state(st, id, DLV__PRINT_FAILED, message, 0, NULL);
    } else if (dlv__print_maybe_printed(status)) {
        /* Never resent by itself: the operator decides (reprint offer). */
        dlv__store_print_set_state(st, id, DLV__PRINT_UNKNOWN, message, 0, &err);
        dlv__rt_emit(ctx, dlv__ev_print_failed(&job, message, false));
        dlv__rt_emit(ctx, dlv__ev_reprint_offered(&job, message));
    } else {
        refused(ctx, &job, message);
    }
    DLV__LOGI(&ctx->log, "print job %lld (%s): %s", (long long)id, job.document,
              status == DLV_OK ? "printed" : message);
    dlv__store_print_job_clear(&job);
    update_held(ctx);
    if (ctx->loop_state == RT_RUNNING)
        dlv__rt_print_pump(ctx);
}

/* Sends the oldest due job; one job in flight at a time, so the ledger's order is the paper's. */
void dlv__rt_print_pump(dlv_ctx *ctx)
{
    rt_printing *p = ctx->printing;
    if (p->busy || ctx->loop_state != RT_RUNNING)
        return;
    dlv__store *st = ctx->store;
    dlv__print_job *jobs = NULL;
    size_t n = 0;
    if (dlv__store_print_due(st, &jobs, &n, NULL) != DLV_OK)
        return;
    for (size_t i = 0; i < n && !p->busy; i++) {
        dlv__print_job *job = &jobs[i];
        bool a4 = false;
        dlv_printer *printer = printer_for(ctx, job, &a4);
        rt_order *o = dlv__rt_order_find(ctx, job->order_id);
        dlv_error err = {0};
        if (printer && p->state[a4].retry_at > uv_now(ctx->loop)) {
            /* Backing off: its jobs wait for the retry timer. */
            uint64_t left = p->state[a4].retry_at - uv_now(ctx->loop);
            p->failed_waiting = 1;
            if (p->timer_open &&
                (!uv_is_active((uv_handle_t *)&p->timer) || uv_timer_get_due_in(&p->timer) > left))
                uv_timer_start(&p->timer, on_print_retry, left, 0);
            continue;
        }
        if (!printer) {
            /* Held, not lost: it prints once a printer is configured. */
            if (dlv__store_print_set_state(st, job->id, DLV__PRINT_SENDING, NULL, 0, NULL) ==
                DLV_OK)
                dlv__store_print_set_state(st, job->id, DLV__PRINT_FAILED, "no printer configured",
                                           dlv__store_now(st) + 3600 * 1000, NULL);
            dlv__rt_emit(
                ctx, dlv__ev_print_failed(job, "no printer configured for this document", true));
            continue;
        }
        if (!o || !o->stored) {
            dlv__store_print_set_state(st, job->id, DLV__PRINT_DISMISSED,
                                       "the order is no longer on this terminal", 0, NULL);
            continue;
        }
        const dlv__order *view = dlv__rt_view(ctx, o);
        if (!view) {
            /* Kept, not dropped: the order is there, its copy could not be read just now. */
            const char *why = "the order cannot be read from the terminal's database";
            dlv__store_print_set_state(st, job->id, DLV__PRINT_SENDING, NULL, 0, NULL);
            dlv__store_print_set_state(st, job->id, DLV__PRINT_FAILED, why,
                                       dlv__store_now(st) + 60000, NULL);
            dlv__rt_emit(ctx, dlv__ev_print_failed(job, why, true));
            schedule_retry(ctx);
            continue;
        }
        dlv__print_context pc = {.templates_dir = ctx->templates_dir,
                                 .is_copy = job->is_copy,
                                 .copies = job->copies,
                                 .now = dlv__rt_now(ctx),
                                 .utc_offset_at = dlv__rt_utc_offset_at,
                                 .utc_offset_arg = ctx,
                                 .restaurant = ctx->restaurant_name,
                                 .restaurant_address = ctx->cafe_address};
        dlv__print_out out = {0};
        dlv__print_format format;
        dlv__doc_kind kind =
            strcmp(job->document, "Invoice") == 0 ? DLV__DOC_INVOICE : DLV__DOC_SERVICE_CHECK;
        int rc =
            dlv__print_render_for(kind, view, ctx->settings, &pc, printer, a4, &out, &format, &err);
        if (rc != DLV_OK) {
            dlv__store_print_set_state(st, job->id, DLV__PRINT_SENDING, NULL, 0, NULL);
            dlv__store_print_set_state(st, job->id, DLV__PRINT_FAILED, err.message,
                                       dlv__store_now(st) + 60000, NULL);
            dlv__rt_emit(ctx, dlv__ev_print_failed(job, err.message, true));
            schedule_retry(ctx);
            continue;
        }
        /* Recorded as going out before the first byte does. */
        if (dlv__store_print_set_state(st, job->id, DLV__PRINT_SENDING, NULL, 0, &err) != DLV_OK) {
            DLV__LOGE(&ctx->log, "print ledger: %s", err.message);
            dlv__print_out_free(&out);
            continue;
        }
        char title[64];
        snprintf(title, sizeof title, "%s %lld",
                 kind == DLV__DOC_INVOICE ? "Накладная" : "Сервисный чек", (long long)view->number);
        dlv__printer_job_options jo = {.format = format == DLV__FORMAT_PDF    ? DLV_PRINT_PDF
                                                 : format == DLV__FORMAT_TEXT ? DLV_PRINT_TEXT
                                                                              : DLV_PRINT_RAW,
                                       .title = title};
        print_done *pd = dlv__malloc(sizeof *pd);
        rc = pd ? DLV_OK : DLV_ENOMEM;
        if (pd) {
            pd->ctx = ctx;
            pd->job_id = job->id;
            p->busy = true;
            rc = dlv__printer_submit(printer, out.data, out.len, &jo, on_printed, pd, &err);
        }
        dlv__print_out_free(&out);
        if (rc != DLV_OK) {
            p->busy = false;
            dlv__free(pd);
            refused(ctx, job, err.message);
        }
    }
    dlv__store_print_jobs_free(jobs, n);
    update_held(ctx);
}

int dlv__rt_reprint(dlv_ctx *ctx, int64_t job_id, dlv_error *err)
{
    int64_t new_id = 0;
    int rc = dlv__store_print_reprint(ctx->store, job_id, &new_id, err);
    if (rc == DLV_OK)
        dlv__rt_print_pump(ctx);
    return rc;
}

int dlv__rt_printing_start(dlv_ctx *ctx, dlv_error *err)
{
    rt_printing *p = ctx->printing;
    int rc = DLV_OK;
    if (ctx->receipt_printer &&
        (rc = dlv__printer_open(ctx->loop, ctx->receipt_printer, &p->receipt, err)) != DLV_OK)
        return rc;
    if (ctx->a4_printer &&
        (rc = dlv__printer_open(ctx->loop, ctx->a4_printer, &p->a4, err)) != DLV_OK)
        return rc;
    uv_timer_init(ctx->loop, &p->timer);
    p->timer.data = ctx;
    p->timer_open = true;
    ctx->open_handles++;
    /* Jobs a crash left half-sent are the operator's to decide: offer them once at start. */
    dlv__print_job *offers = NULL;
    size_t n = 0;
    dlv__store_print_offers(ctx->store, &offers, &n, NULL);
    for (size_t i = 0; i < n; i++)
        dlv__rt_emit(ctx, dlv__ev_reprint_offered(
                              &offers[i], "the terminal stopped while this document was printing"));
    dlv__store_print_jobs_free(offers, n);
    return DLV_OK;
}

static void on_print_closed(void *arg)
{
    dlv_ctx *ctx = arg;
    ctx->open_handles--;
}

static void on_print_timer_closed(uv_handle_t *h)
{
    dlv_ctx *ctx = h->data;
    ctx->open_handles--;
}

void dlv__rt_printing_resume(dlv_ctx *ctx)
{
    /* Jobs held before a restart print now, and those waiting for their retry time a little
     * later. */
    dlv__rt_print_pump(ctx);
    schedule_retry(ctx);
}

void dlv__rt_printing_stop(dlv_ctx *ctx)
{
    rt_printing *p = ctx->printing;
    if (p->timer_open) {
        uv_timer_stop(&p->timer);
        uv_close((uv_handle_t *)&p->timer, on_print_timer_closed);
        p->timer_open = false;
    }
    dlv_printer *printers[2] = {p->receipt, p->a4};
    p->receipt = p->a4 = NULL;
    for (int i = 0; i < 2; i++) {
        if (printers[i]) {
            ctx->open_handles++;
            dlv__printer_close(printers[i], on_print_closed, ctx);
        }
    }
}
