/* The delivery vocabulary a host shares with the library: order statuses, the user rights the
 * library checks, and service types. Pure functions over static data: any thread, no allocation. */
#ifndef DELIVERY_ORDER_H
#define DELIVERY_ORDER_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ten delivery statuses of iiko's public cloud API, in their normal order. Values are stable
 * and may be stored. Closed and Cancelled are final. */
typedef enum dlv_status {
    DLV_STATUS_UNCONFIRMED = 0,       /* arrived from a site or aggregator, not yet confirmed */
    DLV_STATUS_WAIT_COOKING = 1,      /* confirmed, too early to cook */
    DLV_STATUS_READY_FOR_COOKING = 2, /* time to cook: the lead time before the due time began */
    DLV_STATUS_COOKING_STARTED = 3,   /* the service check went to the kitchen */
    DLV_STATUS_COOKING_COMPLETED = 4, /* every dish is cooked */
    DLV_STATUS_WAITING = 5,           /* cooked (and paid, when paid before sending) */
    DLV_STATUS_ON_WAY = 6,            /* sent with a courier */
    DLV_STATUS_DELIVERED = 7,         /* marked delivered */
    DLV_STATUS_CLOSED = 8,            /* closed (final) */
    DLV_STATUS_CANCELLED = 9,         /* cancelled with a cause (final) */
    DLV_STATUS_COUNT = 10             /* number of statuses; not a status */
} dlv_status;

/* The wire name ("WaitCooking"), or NULL for a value that is not a status. */
DLV_EXTERN const char *dlv_status_name(dlv_status status);

/* Looks up a wire name (exact, case-sensitive). Returns 0 and sets *out, or DLV_EINVAL for NULL
 * arguments or an unknown name (then *out is untouched). */
DLV_EXTERN int dlv_status_from_name(const char *name, dlv_status *out);

/* The Russian name shown to staff and printed on documents ("Ждёт отправки"), UTF-8; NULL for a
 * value that is not a status. */
DLV_EXTERN const char *dlv_status_russian_name(dlv_status status);

/* The coarse code of notification templates' @Model.Status: 0 unconfirmed, 1 new (WaitCooking
 * to CookingCompleted), 2 waiting, 3 on way, 4 closed, 5 delivered. -1 for Cancelled, which has
 * no code, and for a value that is not a status. */
DLV_EXTERN int dlv_status_coarse_code(dlv_status status);

/* True for Closed and Cancelled. */
DLV_EXTERN int dlv_status_is_final(dlv_status status);

/* The user rights the library checks, as bit flags of a dlv_rights set. Names are iiko's
 * ("D_CAD"). A user's other rights (B_ADM, F_ID, ...) are not the library's business. */
typedef enum dlv_right {
    DLV_RIGHT_D_CND = 1u << 0,   /* confirm deliveries */
    DLV_RIGHT_D_MD = 1u << 1,    /* manage deliveries: cook, courier, send, undo, invoice */
    DLV_RIGHT_D_CD = 1u << 2,    /* close deliveries, mark them delivered */
    DLV_RIGHT_D_CAD = 1u << 3,   /* cancel deliveries */
    DLV_RIGHT_D_DEP = 1u << 4,   /* delete external payments; cancel orders paid online */
    DLV_RIGHT_D_ED = 1u << 5,    /* edit deliveries */
    DLV_RIGHT_D_DCO = 1u << 6,   /* may be assigned as a courier */
    DLV_RIGHT_D_ACDMM = 1u << 7, /* assign a courier whose debt exceeds the maximum */
    DLV_RIGHT_D_SADT = 1u << 8,  /* set the actual delivery time by hand */
    DLV_RIGHT_F_CASH = 1u << 9,  /* take payments; remove the terminal's own payments */
    DLV_RIGHT_F_PA = 1u << 10    /* print copies of documents (reprint «КОПИЯ»); also D_MD */
} dlv_right;

/* A set of rights: bitwise OR of dlv_right values. */
typedef uint32_t dlv_rights;
#define DLV_RIGHTS_ALL ((dlv_rights)0x7FFu)

/* The name of one right ("D_CAD"), or NULL when `right` is not exactly one known flag. */
DLV_EXTERN const char *dlv_right_name(dlv_right right);

/* The flag of a right name (exact, case-sensitive), or 0 when the library does not know it. */
DLV_EXTERN dlv_right dlv_right_from_name(const char *name);

/* Parses a list of right names separated by commas and/or spaces ("D_CND, D_MD") into *out.
 * Names the library does not check are ignored. Returns 0, or DLV_EINVAL for NULL arguments. */
DLV_EXTERN int dlv_rights_parse(const char *list, dlv_rights *out);

/* Writes the names of the rights in `rights` as "D_CND,D_MD" (known flags only, in flag order)
 * into buf, NUL-terminated and truncated to size. Returns the length the full text needs. */
DLV_EXTERN size_t dlv_rights_format(dlv_rights rights, char *buf, size_t size);

/* How the order reaches the customer. */
typedef enum dlv_service_type {
    DLV_SERVICE_COURIER = 0, /* "DeliveryByCourier": delivered by a courier, has an address */
    DLV_SERVICE_PICKUP = 1   /* "DeliveryByClient": the customer collects it; skips OnWay */
} dlv_service_type;

/* The wire name ("DeliveryByCourier"), or NULL for a value that is not a service type. */
DLV_EXTERN const char *dlv_service_type_name(dlv_service_type type);

/* Looks up a wire name. Returns 0 and sets *out, or DLV_EINVAL (unknown name, NULL argument). */
DLV_EXTERN int dlv_service_type_from_name(const char *name, dlv_service_type *out);

#ifdef __cplusplus
}
#endif
#endif
