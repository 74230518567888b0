/* The status machine: what an actor with a set of rights may do to an order, as a static table
 * of operations (the requests that run them: docs/api.md), and the change each operation makes.
 *
 * A refused operation returns DLV_EINVALIDTRANSITION (not possible from this status or for this
 * service type), DLV_EMISSINGRIGHT (message names every missing right: "missing right D_CAD,D_MD
 * to cancel ..."; where either of two rights will do: "missing right D_MD or D_ED to ...") or
 * DLV_ERULE (a delivery rule: unpaid, no courier, unknown cancel cause, ...). Checks run in that
 * order, so a user without the right never learns about rules. */
#ifndef DLV__ORDER_MACHINE_H
#define DLV__ORDER_MACHINE_H

#include "common/i18n.h"
#include "order/model.h"

typedef enum dlv__op {
    DLV__OP_CONFIRM = 0,       /* Unconfirmed → WaitCooking, or ReadyForCooking if due; D_CND */
    DLV__OP_LEAD_TIME_REACHED, /* timer: WaitCooking → ReadyForCooking once due; no actor */
    DLV__OP_START_COOKING, /* «Готовить»: WaitCooking/ReadyForCooking → CookingStarted; D_MD */
    DLV__OP_AUTO_START_COOKING, /* the same in Automatic mode once due; no actor */
    DLV__OP_COOKING_COMPLETED,  /* CookingStarted → CookingCompleted; D_MD */
    DLV__OP_READY_TO_SEND,  /* CookingCompleted → Waiting; D_MD; paid first if BeforeSending */
    DLV__OP_TAKE_PAYMENT,   /* any non-final status; F_CASH */
    DLV__OP_ASSIGN_COURIER, /* courier orders before OnWay; D_MD or D_ED (+D_ACDMM over the
                               debt) */
    DLV__OP_SEND,           /* Waiting → OnWay, courier orders with a courier; D_MD */
    DLV__OP_MARK_DELIVERED, /* «Доставл.»: OnWay → Delivered; D_SADT (with or without a time) */
    DLV__OP_PICKUP_HANDED_OVER, /* Waiting → Closed, pickup orders, fully paid; D_CD */
    DLV__OP_CLOSE,              /* Delivered → Closed, fully paid; D_CD */
    DLV__OP_UNDO,               /* Delivered → OnWay, OnWay → Waiting; D_MD */
    DLV__OP_CANCEL, /* → Cancelled with a cause; D_CAD (+D_MD late, +D_DEP external) */
    DLV__OP_EDIT,   /* EditOrder: non-final; D_ED. req.changes names the fields: "items" until
                       Closed while no non-cash payment was taken; "address", "comment",
                       "completeBefore", "phone", "customer", "personsCount" until OnWay */
    DLV__OP_PRINT_INVOICE,  /* print the invoice by hand, not cancelled; D_MD */
    DLV__OP_REMOVE_PAYMENT, /* RemovePayment req.payment_id: non-final; F_CASH for a cash or card
                               payment, D_DEP for an external (online) one */
    DLV__OP_REPRINT, /* a copy («КОПИЯ») of a printed document, any status; F_PA or D_MD.
                        Whether the document was printed is the print ledger's business */
    DLV__OP_COUNT
} dlv__op;

/* What the actor asks for. Fields an operation does not use are ignored. */
typedef struct dlv__op_request {
    dlv__op op;
    dlv_rights rights;            /* the actor's; ignored by the actorless timer/automatic ops */
    const char *courier_id;       /* ASSIGN_COURIER: one of the settings' couriers */
    const char *cancel_cause_id;  /* CANCEL: one of the settings' cancel causes */
    const char *comment;          /* CANCEL: optional */
    dlv__time actual_time;        /* MARK_DELIVERED: DLV__TIME_NONE means now; a given time needs
                                    D_SADT */
    const dlv__payment *payments; /* TAKE_PAYMENT: at least one; a payment without an id gets a
                                     fresh UUID v4 in the order (dlv__op_apply) */
    size_t payment_count;
    const cJSON *changes;   /* EDIT: the EditOrder "changes" object (protocol 1.1 shape) */
    const char *payment_id; /* REMOVE_PAYMENT: the payment's id */
    dlv__locale locale;     /* the language of the error message (the context's; 0: English) */
} dlv__op_request;

/* A request for `op` by an actor with `rights`, every optional field empty. */
dlv__op_request dlv__op_request_make(dlv__op op, dlv_rights rights);

/* The operation's name as used in messages ("cancel"). */
const char *dlv__op_name(dlv__op op);
/* The same in the staff's language ("отменить заказ" in Russian). */
const char *dlv__op_title(dlv__op op, dlv__locale locale);

/* The moment cooking should start (the order is due for cooking, «Пора готовить»):
 * - pickup: completeBefore - pickupCookingLeadMinutes;
 * - courier (protocol 1.1): dlv__kitchen_deadline - courierCookingMinutes.
 * With a 1.0 server's settings (courierDeliveryMinutes 45, courierCookingMinutes = the pickup
 * lead), a courier order is due 45 minutes earlier than a pickup with the same completeBefore. */
dlv__time dlv__cooking_due_at(const dlv__order *order, const dlv__settings *settings);

/* When the kitchen must be done (the service check's «К сроку»): for a courier order its
 * predictedCookingCompleteTime, else completeBefore - courierDeliveryMinutes; for a pickup,
 * completeBefore. */
dlv__time dlv__kitchen_deadline(const dlv__order *order, const dlv__settings *settings);

/* Decides whether the request is allowed at time `now` and, if so, sets *to (optional) to the
 * status the order will have (unchanged for TAKE_PAYMENT, ASSIGN_COURIER, EDIT, PRINT_INVOICE).
 * Pure: does not touch the order. */
int dlv__op_check(const dlv__order *order, const dlv__settings *settings,
                  const dlv__op_request *req, dlv__time now, dlv_status *to, dlv_error *err);

/* Checks, then applies the change to `order`: status, courier, payments, cancel info and the
 * local history times (whenConfirmed, whenBilled once fully paid, whenSent, actualDeliveryTime;
 * undo clears the time of the step it undoes). EDIT replaces only the fields named in
 * req->changes (strictly decoded, DLV_EJSON naming the field) and recomputes the item sums,
 * fullSum and resultSum from the items (the terminal's view until the server answers);
 * REMOVE_PAYMENT removes the payment by id. On any error the order is unchanged. */
int dlv__op_apply(dlv__order *order, const dlv__settings *settings, const dlv__op_request *req,
                  dlv__time now, dlv_error *err);

/* Creating an order at the terminal needs D_ED (not an operation on an order, so not in the
 * table): DLV_OK or DLV_EMISSINGRIGHT "missing right D_ED to create an order". */
int dlv__create_check(dlv_rights rights, dlv__locale locale, dlv_error *err);

/* Maps the host's generic "set status `to`" to the operation that does it for this order
 * (Unconfirmed → WaitCooking/ReadyForCooking is CONFIRM, OnWay → Waiting is UNDO, any → Cancelled
 * is CANCEL, ...). Never an actorless operation. DLV_EINVALIDTRANSITION when no operation leads
 * there, with the reason ("pickup orders skip OnWay"). */
int dlv__op_for_status(const dlv__order *order, dlv_status to, dlv__locale locale, dlv__op *op,
                       dlv_error *err);

/* What the host may ask for an order, by the names a UI shows as buttons (docs/api.md "Actions"):
 * each setStatus target by its status name, and the other requests by name. */
typedef enum dlv__action {
    DLV__ACTION_CONFIRM = 0,       /* "Confirm": confirm */
    DLV__ACTION_COOKING_STARTED,   /* "CookingStarted": setStatus CookingStarted */
    DLV__ACTION_COOKING_COMPLETED, /* "CookingCompleted": setStatus CookingCompleted */
    DLV__ACTION_WAITING,           /* "Waiting": setStatus Waiting (ready, or undo a send) */
    DLV__ACTION_ON_WAY,            /* "OnWay": setStatus OnWay (send, or undo a delivery) */
    DLV__ACTION_DELIVERED,         /* "Delivered": setStatus Delivered */
    DLV__ACTION_CLOSED,            /* "Closed": setStatus Closed (close, or hand over) */
    DLV__ACTION_CANCEL,            /* "Cancel": cancel, with some cause of the settings */
    DLV__ACTION_ASSIGN_COURIER,    /* "AssignCourier": with some courier of the settings */
    DLV__ACTION_PAY,               /* "Pay": pay */
    DLV__ACTION_PRINT_INVOICE,     /* "PrintInvoice": printInvoice */
    DLV__ACTION_EDIT_ORDER,        /* "EditOrder": editOrder, some field editable now */
    DLV__ACTION_REMOVE_PAYMENT,    /* "RemovePayment": removePayment, some payment of it */
    DLV__ACTION_COUNT
} dlv__action;

/* A set of actions: bit (1u << action). */
typedef unsigned dlv__action_set;

/* The action's wire name ("CookingStarted"); "" outside the enum. */
const char *dlv__action_name(dlv__action action);

/* What a user with `rights` may do to the order at `now` (the buttons a UI shows): every action
 * whose request would pass dlv__op_check now, decided by a dry run of that same check, so the list
 * never disagrees with the reply a request would get. An action that takes an argument is listed
 * when some argument would do: a cancel cause or courier of the settings, a payment of the order,
 * a field EditOrder may change now, a cash payment (Pay). Reprint is per print job, not listed.
 * Pure; rights 0 (nobody logged in) gives the empty set. */
dlv__action_set dlv__order_actions(const dlv__order *order, const dlv__settings *settings,
                                   dlv_rights rights, dlv__time now);

#endif
