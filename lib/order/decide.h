/* Consequences as pure decisions: given an order, the settings, the time and what just happened,
 * what must happen next (an automatic status step, documents to print, the overdue flag, the next
 * moment to look again). The runtime applies them; nothing here reads a clock or does I/O. */
#ifndef DLV__ORDER_DECIDE_H
#define DLV__ORDER_DECIDE_H

#include "order/machine.h"

typedef enum dlv__trigger {
    DLV__TRIGGER_ARRIVED = 0,    /* a new order: from the server or created on the terminal */
    DLV__TRIGGER_STATUS_CHANGED, /* the status went from event.from to order->status (any origin) */
    DLV__TRIGGER_PAID,           /* a payment was taken */
    DLV__TRIGGER_COURIER_ASSIGNED, /* a courier was assigned or changed */
    DLV__TRIGGER_PRINT_REQUESTED,  /* someone asked for the invoice by hand (checked: PRINT_INVOICE)
                                    */
    DLV__TRIGGER_TICK              /* the timer fired or the runtime looks again */
} dlv__trigger;

typedef struct dlv__event {
    dlv__trigger trigger;
    dlv_status from; /* STATUS_CHANGED only */
} dlv__event;

typedef enum dlv__document {
    DLV__DOCUMENT_SERVICE_CHECK = 0, /* kitchen ticket, on the main cash register's printer */
    DLV__DOCUMENT_INVOICE = 1        /* «накладная», receipt printer or A4 */
} dlv__document;

typedef struct dlv__print_task {
    dlv__document document;
    int copies;
    bool a4;         /* invoice on the A4 system printer (front config a4DeliveryInvoiceFormat) */
    bool by_hand;    /* an explicit request: never deduplicated */
    const char *key; /* the trigger, stable across restarts: with the order id it identifies the
                        job ("ServiceCheck", "Invoice/OnSend"), so a repeated trigger (undo and
                        redo) prints nothing new. Static storage. */
    /* The invoice again for a new courier ("Invoice/CourierChanged"): only when an invoice of the
     * order was already printed (the print ledger knows, the runtime checks), and once per
     * courier change (the runtime makes the trigger name the courier). */
    bool after_invoice;
} dlv__print_task;

typedef struct dlv__decision {
    bool has_op;
    dlv__op op; /* an actorless step due now: LEAD_TIME_REACHED or AUTO_START_COOKING */
    size_t print_count;
    dlv__print_task prints[3];
    bool overdue_cooking; /* flag and tell the operator (notifyOverdueCooking is on) */
    dlv__time next_due;   /* the next moment a decision about this order changes, or NONE */
} dlv__decision;

/* Decides the consequences of `event` for `order` at `now`. a4_invoice is the front config's
 * a4DeliveryInvoiceFormat. Service check: on a STATUS_CHANGED into CookingStarted only; an order
 * that ARRIVES in CookingStarted or later prints none (the kitchen has it, see decide.c). Invoice:
 * at the settings' moment (OnBill: a payment that makes the order FULLY paid; OnCookingCompleted;
 * OnCourierAssigned; OnSend: entering OnWay; Manual: never automatically) in the configured number
 * of copies; a pickup order, which never gets a courier nor goes OnWay, prints at those two
 * moments when it enters Waiting; a courier assignment also asks for the invoice again
 * (after_invoice: the runtime prints it only when one was already printed); PRINT_REQUESTED
 * prints one copy by hand. Automatic steps come with every trigger whenever they are due. */
void dlv__decide(const dlv__order *order, const dlv__settings *settings, dlv__time now,
                 const dlv__event *event, bool a4_invoice, dlv__decision *out);

/* The actorless step due now, if any: in Automatic mode WaitCooking/ReadyForCooking go to
 * CookingStarted once due; in Manual mode WaitCooking goes to ReadyForCooking once due. */
bool dlv__due_op(const dlv__order *order, const dlv__settings *settings, dlv__time now,
                 dlv__op *op);

/* Cooking should have started and has not: Unconfirmed, WaitCooking or ReadyForCooking at or
 * after the moment it became due (dlv__cooking_due_at) plus overdueGraceMinutes. */
bool dlv__cooking_overdue(const dlv__order *order, const dlv__settings *settings, dlv__time now);

/* Overdue for lists: cooking overdue, or not yet delivered after completeBefore. */
bool dlv__order_overdue(const dlv__order *order, const dlv__settings *settings, dlv__time now);

/* The next moment (> now) at which a decision about the order changes, or DLV__TIME_NONE. */
dlv__time dlv__order_next_due(const dlv__order *order, const dlv__settings *settings,
                              dlv__time now);
/* The earliest of dlv__order_next_due over `count` orders, so the runtime arms one timer. */
dlv__time dlv__orders_next_due(const dlv__order *const *orders, size_t count,
                               const dlv__settings *settings, dlv__time now);

/* Sorts a list for display: overdue orders first, then by due time (completeBefore), then by
 * number, then by original position (stable). DLV_ENOMEM leaves the list unchanged. */
int dlv__orders_sort(const dlv__order **orders, size_t count, const dlv__settings *settings,
                     dlv__time now);

/* Whether the host should open the delivery list when a user logs in (front config
 * showDeliveryListOnLogin: a courier terminal). */
bool dlv__open_list_on_login(bool show_delivery_list_on_login);

/* ---- Numbers for terminal-created orders (never reused; stored: docs/store.md) ---- */

/* What the store persists: the last number handed out (0: none yet) and, with a 1.1 server, the
 * blocks the call-center reserved for this terminal (register's and ReserveNumbers' numberBlock).
 * A zero state (no block) is the 1.0 behaviour. The store must persist the blocks too. */
typedef struct dlv__number_state {
    int64_t last_issued;
    bool has_block;          /* numbers come from `block` (then `next`), never from elsewhere */
    dlv__number_block block; /* the current block */
    bool has_next;           /* a block reserved in advance */
    dlv__number_block next;
} dlv__number_state;

#define DLV__NUMBER_MAX INT64_C(999999999999999)

typedef struct dlv__number_policy {
    /* The host's regular order numbers, inclusive; regular_last < regular_first: none. */
    int64_t regular_first, regular_last;
    /* The lowest delivery number to hand out (values below 1 mean 1). */
    int64_t start;
    /* Optional: true when a number is already used by a known order (e.g. one from the
     * call-center); such numbers are skipped. */
    bool (*taken)(int64_t number, void *arg);
    void *arg;
} dlv__number_policy;

/* Hands out the next delivery number. With a block (state->has_block): the smallest number of the
 * current block above the last one issued that is outside the regular range and not taken; when
 * the block is used up it moves on to the next block (DLV_ERANGE when there is none: ask for one
 * in time, see dlv__number_needs_block). Without a block (1.0 server): the smallest number above
 * both the last one issued and policy->start - 1 that is outside the regular range and not
 * taken. Numbers only grow, so a
 * number is never reused even when the host's range changes. Updates *state; the caller must
 * persist it before using the number. DLV_ERANGE when numbers are exhausted. */
int dlv__number_next(dlv__number_state *state, const dlv__number_policy *policy, int64_t *out,
                     dlv_error *err);

/* Takes a block from the call-center: the current one when the state has none (or the current
 * one is used up), else the next one. Numbers already issued are never handed out again: a block
 * wholly at or below last_issued is refused (DLV_EINVAL), one that starts below it is used from
 * last_issued + 1 on. DLV_EINVAL also for first < 1, last < first or last > DLV__NUMBER_MAX. */
int dlv__number_add_block(dlv__number_state *state, dlv__number_block block, dlv_error *err);

/* True when the runtime should send ReserveNumbers now: the state has a block, holds no next
 * block, and fewer than 20% of the current block's numbers are left (above last_issued). */
bool dlv__number_needs_block(const dlv__number_state *state);

#endif
