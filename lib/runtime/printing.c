/* Print jobs: one trigger, one document. A job is recorded in the durable ledger before any byte
 * goes out; a job whose printer is down stays in the ledger and is retried; a job fully sent is
 * never sent again by itself; a job whose fate a crash made unknown is offered as a reprint. */
#include "runtime/printing.h"

#include <string.h>

#include "order/json.h"
#include "store/store.h"

#define PRINT_RETRY_MS 5000

static const char *doc_name(dlv_document d)
{
    return d == DLV_DOC_INVOICE ? "Invoice" : "ServiceCheck";
}

void dlv__rt_print(dlv_ctx *ctx, rt_order *o, const dlv_print_job *job)
{
    dlv__store *st = dlv__persist_store(ctx->persist);
    char trigger[64];
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
    } else {
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
        DLV_LOGE(&ctx->log, "print job for order %lld not recorded: %s", (long long)o->view->number,
                 err.message);
        cJSON *j = cJSON_CreateObject();
        if (j && dlv__jput_string(j, "event", "printFailed") &&
            dlv__jput_string(j, "orderId", o->id) &&
            dlv__jput_string(j, "document", doc_name(job->document)) &&
            dlv__jput_string(j, "error", err.message) && dlv__jput_bool(j, "willRetry", false))
            dlv__rt_emit(ctx, dlv__json_print(j));
        cJSON_Delete(j);
        return;
    }
    if (!created)
        return; /* the same trigger again (an undo and redo): the document exists already */
    dlv__rt_print_pump(ctx);
}

static void print_failed(dlv_ctx *ctx, const dlv__print_job *job, const char *error, bool retry)
{
    cJSON *j = cJSON_CreateObject();
    if (j && dlv__jput_string(j, "event", "printFailed") &&
        dlv__jput_string(j, "orderId", job->order_id) &&
        dlv__jput_string(j, "document", job->document) && dlv__jput_string(j, "error", error) &&
        dlv__jput_bool(j, "willRetry", retry))
        dlv__rt_emit(ctx, dlv__json_print(j));
    cJSON_Delete(j);
}

/* Sends every job that is due, one at a time per printer. */
void dlv__rt_print_pump(dlv_ctx *ctx)
{
    dlv__store *st = dlv__persist_store(ctx->persist);
    dlv__print_job *jobs = NULL;
    size_t n = 0;
    if (dlv__store_print_due(st, &jobs, &n, NULL) != DLV_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        const char *uri = strcmp(jobs[i].printer ? jobs[i].printer : "", "a4") == 0 &&
                                  ctx->a4_printer
                              ? ctx->a4_printer
                              : ctx->receipt_printer;
        if (!uri) {
            /* Held, not lost: it prints once a printer is configured. */
            dlv__store_print_set_state(st, jobs[i].id, DLV__PRINT_SENDING, NULL, 0, NULL);
            dlv__store_print_set_state(st, jobs[i].id, DLV__PRINT_FAILED,
                                       "no printer configured", dlv__store_now(st) + 3600000,
                                       NULL);
            print_failed(ctx, &jobs[i], "no printer configured for this document", true);
        }
    }
    dlv__store_print_jobs_free(jobs, n);
    uv_mutex_lock(&ctx->lock);
    ctx->health.held_print_jobs = 0;
    uv_mutex_unlock(&ctx->lock);
}

int dlv__rt_printing_start(dlv_ctx *ctx, dlv_error *err)
{
    (void)err;
    dlv__rt_print_pump(ctx);
    return DLV_OK;
}

void dlv__rt_printing_stop(dlv_ctx *ctx)
{
    (void)ctx;
}
