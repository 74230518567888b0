/* Customer notifications: which event to send when (every event at most once per order, except
 * SumChanged, sent on each change of the sum to pay until the order is sent out; nothing for a
 * pickup order in Waiting, OnWay or Delivered), and the @Model.X templates of their texts. */
#ifndef DLV__ORDER_NOTIFY_H
#define DLV__ORDER_NOTIFY_H

#include "order/model.h"

/* dlv__notify_event is declared in order/model.h (the settings carry a channel set per event). */

/* A set of events: bit (1u << event). The store persists the set already sent per order. */
typedef uint32_t dlv__notify_mask;
#define DLV__NOTIFY_BIT(e) ((dlv__notify_mask)1u << (e))

/* "Unconfirmed", "New", ..., "SumChanged"; NULL for other values. */
const char *dlv__notify_event_name(dlv__notify_event event);
/* The event of entering `status`, or -1 (Closed has none). */
int dlv__notify_event_for_status(dlv_status status);

/* What the order looked like before the change being judged. */
typedef struct dlv__notify_before {
    bool is_new;           /* the order just arrived or was created: nothing before */
    dlv_status status;     /* the previous status (ignored when is_new) */
    dlv__money result_sum; /* the previous sum to pay (ignored when is_new) */
} dlv__notify_before;

/* The events to send now for `order` after a change from `before`, given the set `sent` already
 * sent for this order: the event of a newly entered status unless sent before (so a status set by
 * mistake and corrected does not repeat it); SumChanged whenever resultSum changed while the order
 * was not yet sent out (before OnWay); never anything for a pickup order in Waiting, OnWay or
 * Delivered. */
dlv__notify_mask dlv__notify_decide(const dlv__order *order, const dlv__notify_before *before,
                                    dlv__notify_mask sent);
/* The set to persist after sending `events`: SumChanged is not remembered, it may repeat. */
dlv__notify_mask dlv__notify_record(dlv__notify_mask sent, dlv__notify_mask events);

/* ---- Templates ---- */

typedef struct dlv__template dlv__template;

/* Compiles a Razor-style text: "@Model.X" and "@(Model.X)" insert a field, "@@" is a literal
 * "@", "@* ... *@" is a comment, an "@" right after a letter or digit is literal (an e-mail
 * address). Every field is resolved now, so an unknown field or any other Razor code (@if,
 * @Html...) is DLV_ETEMPLATE at load, naming line and column, never at send time. The longest
 * accepted text is 64 KiB of UTF-8. Free with dlv__template_free. */
int dlv__template_compile(const char *text, size_t len, dlv__template **out, dlv_error *err);
void dlv__template_free(dlv__template *tpl);

typedef struct dlv__render_options {
    int utc_offset_minutes;   /* the restaurant's local time: +180 for Moscow */
    const char *date_format;  /* NULL: "dd.MM.yyyy HH:mm"; tokens yyyy yy MM dd HH mm ss */
    const char *cafe_address; /* @Model.CafeAddress; NULL renders empty */
    char decimal_separator;   /* 0: ',' as in ru-RU */
} dlv__render_options;

/* Renders the template for an order: values are inserted as plain text and never interpreted
 * (an "@Model.Phone" inside a comment stays as it is). Fields without data render empty.
 * *out is dlv__malloc'd; DLV_ENOMEM. */
int dlv__template_render(const dlv__template *tpl, const dlv__order *order,
                         const dlv__render_options *options, char **out, dlv_error *err);

/* The fields a template may use, for documentation and tests ("Order.Items[].Product.Name" takes
 * an index). NULL past the end. */
const char *dlv__template_field(size_t index);

#endif
