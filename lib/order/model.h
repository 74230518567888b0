/* The order and the delivery service settings as the library holds them, with their JSON codecs
 * (call-center protocol v1, ORDER object and settings) and the decoded server responses.
 *
 * Strings are UTF-8, owned by the struct and freed with it; optional strings are NULL when the
 * wire carried null or nothing. Money is dlv__money (kopecks), amounts dlv__amount (thousandths),
 * times dlv__time (UTC seconds, DLV__TIME_NONE when absent): see order/values.h. */
#ifndef DLV__ORDER_MODEL_H
#define DLV__ORDER_MODEL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/internal.h"
#include "delivery/order.h"
#include "order/json.h"
#include "order/values.h"

/* Limits of one order; more is refused as DLV_ETOOLARGE. */
#define DLV__ORDER_MAX_ITEMS 1000
#define DLV__ORDER_MAX_MODIFIERS 100
#define DLV__ORDER_MAX_PAYMENTS 50
#define DLV__ORDER_JSON_MAX ((size_t)1 << 20)
#define DLV__RESPONSE_JSON_MAX ((size_t)64 << 20)

typedef struct dlv__modifier {
    char *product_id; /* UUID */
    char *name;
    dlv__amount amount; /* for the whole item line */
    dlv__money price;   /* of one unit; the modifier costs price × amount */
} dlv__modifier;

typedef struct dlv__item {
    char *position_id; /* UUID */
    char *product_id;  /* UUID */
    char *name;
    dlv__amount amount; /* > 0 */
    dlv__money price;   /* of one unit */
    dlv__money sum;     /* price × amount, rounded to kopecks either way */
    char *comment;
    dlv__modifier *modifiers;
    size_t modifier_count;
} dlv__item;

typedef enum dlv__payment_kind {
    DLV__PAYMENT_CASH = 0,
    DLV__PAYMENT_CARD = 1,
    DLV__PAYMENT_EXTERNAL = 2 /* paid online: cancelling the order also needs D_DEP */
} dlv__payment_kind;

typedef struct dlv__payment {
    char *payment_type_id; /* UUID */
    char *name;            /* optional (a Pay command carries none) */
    dlv__payment_kind kind;
    dlv__money sum; /* > 0 */
    bool processed_externally;
    bool prepay;
    char *id; /* UUID (protocol 1.1), NULL when the wire had none: 1.0 servers, or a
                              payment the terminal has not yet given one (dlv__op_apply does) */
} dlv__payment;

typedef struct dlv__customer {
    char *id; /* UUID */
    char *name;
    char *surname, *comment, *blacklist_reason;
    bool in_blacklist;
} dlv__customer;

typedef struct dlv__address {
    char *city, *street, *house; /* street and house required */
    char *building, *flat, *entrance, *floor, *doorphone, *region, *comment;
} dlv__address;

/* The courier assigned to an order: {"id","name","phone"}. */
typedef struct dlv__order_courier {
    char *id; /* UUID */
    char *name;
    char *phone;
} dlv__order_courier;

/* {"whenCancelled","cause":{"id","name"},"comment"} as in iiko's cloud API. */
typedef struct dlv__cancel_info {
    char *cause_id; /* any non-empty string (protocol 1.1; a UUID in 1.0) */
    char *cause_name;
    char *comment;
    dlv__time when;
} dlv__cancel_info;

typedef struct dlv__order {
    char *id;         /* UUID */
    int64_t revision; /* server revision, >= 0 */
    int64_t number;   /* >= 1 */
    char *external_number, *source_key;
    dlv_status status;
    dlv_service_type service_type;
    dlv__time complete_before; /* the due time: delivered (or collected) by then */
    /* Protocol 1.1, optional (DLV__TIME_NONE when absent): when the kitchen must be done (the
     * call-center computes it from the zone's travel time) and when the courier should arrive. */
    dlv__time predicted_cooking_complete_time, predicted_delivery_time;
    dlv__time when_created;
    char *phone;             /* NULL only for an anonymous order */
    dlv__customer *customer; /* NULL: anonymous */
    dlv__address *address;   /* NULL: pickup */
    char *comment;
    int persons_count;
    bool split_between_persons;
    dlv__item *items;
    size_t item_count;
    dlv__payment *payments;
    size_t payment_count;
    dlv__money full_sum;     /* the items with their modifiers */
    dlv__money discount_sum; /* 0 <= discount <= full */
    dlv__money surcharge_sum; /* >= 0, «надбавка» (delivery fee, ...), protocol 1.1; 0 in 1.0 */
    dlv__money result_sum; /* full - discount + surcharge: what is due */
    dlv__order_courier *courier;
    dlv__cancel_info *cancel_info;
    bool has_problem;
    char *problem_description;
    char *operator_name; /* NULL when "operator" is null */
    /* Local history, optional extension fields on the wire (ignored by servers as unknown):
     * whenConfirmed, whenBilled, whenPrinted, whenSent, actualDeliveryTime. */
    dlv__time when_confirmed, when_billed, when_printed, when_sent, actual_delivery_time;
} dlv__order;

typedef struct dlv__named {
    char *id; /* UUID */
    char *name;
} dlv__named;

typedef struct dlv__courier {
    char *id; /* UUID */
    char *name;
    char *phone;
    dlv__money debt;     /* may be negative: the restaurant owes the courier */
    bool can_be_courier; /* holds D_DCO */
} dlv__courier;

typedef enum dlv__delivery_service_type {
    DLV__DELIVERY_COURIER_AND_PICKUP = 0,
    DLV__DELIVERY_COURIER_ONLY = 1,
    DLV__DELIVERY_PICKUP_ONLY = 2
} dlv__delivery_service_type;

typedef enum dlv__invoice_moment {
    DLV__INVOICE_ON_BILL = 0, /* when the payment is taken */
    DLV__INVOICE_ON_COOKING_COMPLETED = 1,
    DLV__INVOICE_ON_COURIER_ASSIGNED = 2,
    DLV__INVOICE_ON_SEND = 3,
    DLV__INVOICE_MANUAL = 4
} dlv__invoice_moment;

typedef enum dlv__payment_moment {
    DLV__PAY_BEFORE_SENDING = 0,
    DLV__PAY_BEFORE_CLOSING = 1
} dlv__payment_moment;

typedef enum dlv__cooking_start_mode {
    DLV__COOKING_AUTOMATIC = 0,
    DLV__COOKING_MANUAL = 1
} dlv__cooking_start_mode;

/* Customer-notification events (order/notify.h has their rules); also the keys of the settings'
 * "notifications" object. */
typedef enum dlv__notify_event {
    DLV__NOTIFY_UNCONFIRMED = 0, /* accepted (from a site) and assigned to this point */
    DLV__NOTIFY_NEW,             /* confirmed: WaitCooking or ReadyForCooking */
    DLV__NOTIFY_COOKING,         /* CookingStarted */
    DLV__NOTIFY_READY,           /* CookingCompleted */
    DLV__NOTIFY_WAITING,         /* Waiting */
    DLV__NOTIFY_ON_WAY,          /* OnWay */
    DLV__NOTIFY_DELIVERED,       /* Delivered */
    DLV__NOTIFY_CANCELLED,       /* Cancelled */
    DLV__NOTIFY_SUM_CHANGED,     /* the sum to pay changed before the order was sent out */
    DLV__NOTIFY_COUNT
} dlv__notify_event;

/* Per event, the channels the call-center wants (settings "notifications", protocol 1.1). */
typedef struct dlv__notify_channels {
    bool sms, push;
} dlv__notify_channels;

/* Delivery service settings, as the call-center sends them (docs/protocol.md). Absent fields take
 * the defaults that dlv__settings_defaults() sets. */
typedef struct dlv__settings {
    int pickup_cooking_lead_minutes; /* 0..1440, default 15 */
    dlv__delivery_service_type service_type;
    dlv__named *cities;
    size_t city_count;
    char *default_city_id; /* one of cities, or NULL */
    dlv__named *regions;
    size_t region_count;
    dlv__invoice_moment invoice_moment;         /* default Manual */
    int invoice_copies;                         /* 1..5, default 1 */
    dlv__payment_moment payment_moment;         /* default BeforeClosing */
    dlv__cooking_start_mode cooking_start_mode; /* default Manual */
    bool notify_overdue_cooking;
    bool allow_anonymous;
    dlv__named *cancel_causes;
    size_t cancel_cause_count;
    dlv__courier *couriers;
    size_t courier_count;
    bool has_max_courier_debt; /* false: no limit */
    dlv__money max_courier_debt;
    /* Protocol 1.1 (absent in 1.0: the defaults below). */
    char *time_zone;              /* IANA name ("Europe/Moscow"), NULL: the host's OS zone */
    int courier_delivery_minutes; /* 0..1440, default 45: travel time when an order has no
                                     predictedCookingCompleteTime */
    int courier_cooking_minutes;  /* 0..1440, default = pickupCookingLeadMinutes */
    int overdue_grace_minutes;    /* 0..1440, default 5 */
    dlv__notify_channels notifications[DLV__NOTIFY_COUNT]; /* default sms on, push off */
} dlv__settings;

/* Wire names, indexed by the enums above. */
extern const char *const dlv__status_names[DLV_STATUS_COUNT];
extern const char *const dlv__payment_kind_names[3];
extern const char *const dlv__delivery_service_type_names[3];
extern const char *const dlv__invoice_moment_names[5];
extern const char *const dlv__payment_moment_names[2];
extern const char *const dlv__cooking_start_mode_names[2];

/* ---- Orders ---- */

/* A field of an order from the server that was malformed and read as absent (tolerant reading,
 * protocol 1.1): the order was kept. Texts are truncated to fit. */
typedef struct dlv__order_warning {
    char order_id[40]; /* the order's id as read ("" if it had none) */
    char field[160];   /* path inside the order: "customer.phone", "items[2].comment" */
    char message[200]; /* what was wrong: "not a string", "invalid UTF-8", "\u0000 in a string" */
} dlv__order_warning;

/* A growing list of warnings (owned: free `items` with dlv__free). */
typedef struct dlv__order_warnings {
    dlv__order_warning *items;
    size_t count, cap;
} dlv__order_warnings;

/* Decode flags. */
enum {
    /* A terminal-created order (the host's createOrder): id, number, revision, status, customer
     * id and whenCreated may be absent or null (then NULL, 0, 0, Unconfirmed, NULL and
     * DLV__TIME_NONE) for the caller to fill in. */
    DLV__ORDER_DRAFT = 1u << 0,
    /* Tolerant reading as dlv__order_from_cjson_lenient, warnings discarded: for reading back
     * what the library itself wrote from such an order (dlv__order_clone, the order cache), where
     * a field read as absent from the server must not make the copy unreadable. */
    DLV__ORDER_LENIENT = 1u << 1,
    /* Item sums, fullSum and resultSum are recomputed from the items (dlv__order_recompute_sums)
     * instead of checked: the terminal's view of an edited order (DLV__OP_EDIT). */
    DLV__ORDER_RESUM = 1u << 2,
    /* The tree is the decoder's to consume (parsed for this decoding only and deleted after it):
     * the order takes its strings instead of copying them, leaving NULL in their nodes (all but
     * the order's "id", which a caller may still name a refused order by). */
    DLV__ORDER_TAKE_STRINGS = 1u << 3,
};

/* Decodes one ORDER document strictly (the terminal's own data: the host's createOrder, the
 * cache). Validates every field and the sums (item sums, fullSum,
 * resultSum = fullSum - discountSum + surchargeSum, non-cash payments within resultSum); the error
 * names the field path. DLV_EJSON (invalid), DLV_ETOOLARGE, DLV_ENOMEM. Free with dlv__order_free.
 */
int dlv__order_from_json(const char *json, size_t len, unsigned flags, dlv__order **out,
                         dlv_error *err);
/* The same from a tree made by dlv__json_parse (or dlv__order_to_cjson); `path` (NULL: none)
 * prefixes error messages. */
int dlv__order_from_cjson(const cJSON *node, unsigned flags, dlv__jpath *path, dlv__order **out,
                          dlv_error *err);
/* Tolerant decoding of an ORDER from the call-center (protocol 1.1 "Tolerant reading"). Strict
 * only for what the order cannot be handled without: id, revision, number, status, serviceType,
 * completeBefore, the sums (fullSum, discountSum, surchargeSum, resultSum) and whatever carries a
 * sum (an item or modifier that is not an object or has a bad amount/price/sum; a payment that is
 * not an object or has a bad kind or sum; items/payments that are not arrays): those refuse the
 * order with DLV_EJSON, as dlv__order_from_cjson does. Any other malformed field (wrong type, bad
 * UUID, time or enum, out of range, invalid UTF-8, \u0000, a duplicate key, a nested object of
 * the wrong type) is read as absent (NULL, DLV__TIME_NONE, false, persons 1; a courier whose id
 * is bad is dropped whole) and a warning naming the order and the field is appended to
 * `warnings`; a courier order without an address or a customer without a phone is kept with a
 * warning too. On error, the warnings added for this order are removed again. DLV_ENOMEM. */
int dlv__order_from_cjson_lenient(const cJSON *node, dlv__jpath *path,
                                  dlv__order_warnings *warnings, dlv__order **out, dlv_error *err);
/* Either of the two: tolerant when flags hold DLV__ORDER_LENIENT, its warnings then appended to
 * `warnings` (NULL: discarded). */
int dlv__order_from_cjson_warn(const cJSON *node, unsigned flags, dlv__jpath *path,
                               dlv__order_warnings *warnings, dlv__order **out, dlv_error *err);
/* The ORDER document (compact). NULL on allocation failure; free with dlv__free. */
char *dlv__order_to_json(const dlv__order *order);
/* "address": the ORDER's address object (null for a pickup), as order/jwrite.h writes members;
 * the order hosts see (lib/runtime/events.c) carries the same. */
struct dlv__jw;
void dlv__order_write_address(struct dlv__jw *w, const dlv__address *address);
/* The ORDER as a cJSON tree (numbers are raw nodes with exact text), e.g. for a CreateOrder
 * command. NULL on allocation failure; free with cJSON_Delete. */
cJSON *dlv__order_to_cjson(const dlv__order *order);
/* A deep copy. DLV_ENOMEM. */
int dlv__order_clone(const dlv__order *order, dlv__order **out);
void dlv__order_free(dlv__order *order);

/* Recomputes item sums (price × amount, rounded half up), fullSum (items with modifiers) and
 * resultSum = fullSum - discountSum + surchargeSum after a local change of the items (EDIT);
 * a discount above the new fullSum is capped at it. */
void dlv__order_recompute_sums(dlv__order *order);
/* price × amount of an item or modifier line, rounded half up to kopecks (0 on overflow, which a
 * validated order cannot have). */
dlv__money dlv__order_line_sum(dlv__money price, dlv__amount amount);
/* The payment with this id (case-insensitive), or NULL. */
const dlv__payment *dlv__order_payment(const dlv__order *order, const char *payment_id);
/* True when a non-cash payment (card or external) was taken: items can no longer be edited. */
bool dlv__order_has_non_cash_payment(const dlv__order *order);
/* Sum of all payments / change to give back (payments beyond resultSum, else 0). */
dlv__money dlv__order_paid_sum(const dlv__order *order);
dlv__money dlv__order_change_sum(const dlv__order *order);
bool dlv__order_fully_paid(const dlv__order *order);
bool dlv__order_has_external_payment(const dlv__order *order);
/* Validates the order's cross-field rules after a change (sums, payments, pickup/courier,
 * anonymous). Used by the decoder and by dlv__op_apply. DLV_EJSON naming the field. With
 * DLV__ORDER_LENIENT, a courier order without an address or a customer without a phone passes. */
int dlv__order_validate(const dlv__order *order, unsigned flags, dlv_error *err);
/* Refuses what these settings forbid: a disabled service type, an anonymous order when
 * anonymous deliveries are off. DLV_ERULE. */
int dlv__order_check_settings(const dlv__order *order, const dlv__settings *settings,
                              dlv_error *err);

/* ---- Settings ---- */

void dlv__settings_defaults(dlv__settings *settings);
/* Decodes a settings object (register response, orders response, cache). DLV_EJSON naming the
 * field; free with dlv__settings_free. */
int dlv__settings_from_json(const char *json, size_t len, dlv__settings **out, dlv_error *err);
/* From a tree made by dlv__json_parse; `path` (NULL: none) prefixes error messages. */
int dlv__settings_from_cjson(const cJSON *node, dlv__jpath *path, dlv__settings **out,
                             dlv_error *err);
char *dlv__settings_to_json(const dlv__settings *settings);
cJSON *dlv__settings_to_cjson(const dlv__settings *settings);
void dlv__settings_free(dlv__settings *settings);
/* Lookups by id; NULL when absent. */
const dlv__courier *dlv__settings_courier(const dlv__settings *settings, const char *id);
const dlv__named *dlv__settings_cancel_cause(const dlv__settings *settings, const char *id);

/* ---- Server responses ---- */

/* A range of delivery numbers reserved for this terminal (protocol 1.1), inclusive. */
typedef struct dlv__number_block {
    int64_t first, last; /* 1 <= first <= last <= DLV__NUMBER_MAX (order/decide.h) */
} dlv__number_block;

/* GET /delivery/v1/orders. */
typedef struct dlv__orders_response {
    int64_t revision;
    bool more; /* protocol 1.1 paging: ask again at once from `revision` (false in 1.0) */
    dlv__order **orders;
    size_t order_count;
    char **removed_ids;
    size_t removed_count;
    dlv__settings *settings; /* NULL: unchanged */
    dlv_error *invalid;      /* lenient decoding: the orders left out and why */
    size_t invalid_count;
    /* Lenient decoding: fields of kept orders that were malformed and read as absent (see
     * dlv__order_from_cjson_lenient), for the runtime to log. */
    dlv__order_warning *warnings;
    size_t warning_count;
} dlv__orders_response;

typedef enum dlv__command_outcome {
    DLV__OUTCOME_APPLIED = 0,
    DLV__OUTCOME_DUPLICATE = 1,
    DLV__OUTCOME_REJECTED = 2
} dlv__command_outcome;

typedef struct dlv__command_result {
    char *id; /* the command's UUID */
    dlv__command_outcome outcome;
    int64_t revision;      /* Applied/Duplicate: required; -1 when absent */
    char *error;           /* Rejected: required ("StatusConflict") */
    char *description;     /* optional */
    int current_status;    /* a dlv_status, or -1 when absent */
    bool has_number_block; /* ReserveNumbers (protocol 1.1): the block reserved */
    dlv__number_block number_block;
} dlv__command_result;

/* POST /delivery/v1/commands. */
typedef struct dlv__commands_response {
    int64_t revision;
    dlv__command_result *results;
    size_t result_count;
} dlv__commands_response;

/* POST /delivery/v1/register. */
typedef struct dlv__register_response {
    char *session_token;
    int64_t expires_in_seconds; /* 1 .. 1 year */
    dlv__time server_time;
    dlv__settings *settings;
    int protocol_minor;    /* the server's protocolMinor, 0 when absent (a 1.0 server) */
    bool has_number_block; /* protocol 1.1: this terminal's current block */
    dlv__number_block number_block;
} dlv__register_response;

/* Each decoder refuses the whole answer on the first invalid field, naming its path
 * ("orders[3].items[0].amount: not a number"). DLV_EJSON, DLV_ETOOLARGE, DLV_ENOMEM. */
int dlv__orders_response_decode(const char *json, size_t len, dlv__orders_response **out,
                                dlv_error *err);
/* The same, but tolerant (protocol 1.1 "Tolerant reading"): each order is read with
 * dlv__order_from_cjson_lenient, so malformed non-essential fields become resp->warnings and an
 * order whose strict fields are bad is left out and noted in resp->invalid instead of refusing
 * the whole answer (a \u0000 in a string costs that one field). Several orders with the same id
 * in one answer: the one with the highest revision is kept (the later one on a tie) and every
 * other one is noted in resp->invalid ("duplicate of orders[k]"), never silently dropped. The
 * runtime tells the host and keeps every other order flowing. */
int dlv__orders_response_decode_lenient(const char *json, size_t len, dlv__orders_response **out,
                                        dlv_error *err);
void dlv__orders_response_free(dlv__orders_response *resp);
int dlv__commands_response_decode(const char *json, size_t len, dlv__commands_response **out,
                                  dlv_error *err);
void dlv__commands_response_free(dlv__commands_response *resp);
int dlv__register_response_decode(const char *json, size_t len, dlv__register_response **out,
                                  dlv_error *err);
void dlv__register_response_free(dlv__register_response *resp);

#endif
