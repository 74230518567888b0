/* Print jobs of the runtime: every trigger goes through the durable print ledger, then to the
 * printer; the host hears "printed" or "printFailed". */
#ifndef DLV__RUNTIME_PRINTING_H
#define DLV__RUNTIME_PRINTING_H

#include "runtime/rt.h"

/* The printing part (struct rt_printing), made with the context and freed with it. */
int dlv__rt_printing_init(dlv_ctx *ctx);
void dlv__rt_printing_free(dlv_ctx *ctx);
/* A print the rules asked for (dlv__decide) or a by-hand invoice. */
void dlv__rt_print(dlv_ctx *ctx, rt_order *o, const dlv__print_task *job);
/* Sends what is due in the ledger. */
void dlv__rt_print_pump(dlv_ctx *ctx);
/* A manual reprint of a ledger job (marked «КОПИЯ»). */
int dlv__rt_reprint(dlv_ctx *ctx, int64_t job_id, dlv_error *err);
int dlv__rt_printing_start(dlv_ctx *ctx, dlv_error *err);
/* After start: what the ledger holds goes out. */
void dlv__rt_printing_resume(dlv_ctx *ctx);
void dlv__rt_printing_stop(dlv_ctx *ctx);

#endif
