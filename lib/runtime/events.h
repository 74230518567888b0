/* Builders of the events the host receives (lib/runtime/events.c). Each returns the event's JSON
 * text (free with dlv__free; dlv__rt_emit and dlv__rt_staged_event take it), or NULL when memory
 * ran out: an event that cannot be built is dropped, never sent half-built. Every event name
 * comes from DLV_EVENT_MAP in include/delivery/delivery.h, so a name is spelled once. */
#ifndef DLV__RUNTIME_EVENTS_H
#define DLV__RUNTIME_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "delivery/delivery.h"

struct dlv__print_job;
struct dlv__order;

/* DLV__EV_STARTED, … in the order of DLV_EVENT_MAP. */
typedef enum dlv__event_id {
#define DLV__EV_ENUM_(id, name, text) DLV__EV_##id,
    DLV_EVENT_MAP(DLV__EV_ENUM_)
#undef DLV__EV_ENUM_
        DLV__EV_COUNT_
} dlv__event_id;

/* The event's wire name ("statusChanged"); "" for an id outside the map. */
const char *dlv__event_name(dlv__event_id id);

/* {"event":"started","terminalId"} */
char *dlv__ev_started(const char *terminal_id);
/* {"event":"stopped","pendingCommands"} */
char *dlv__ev_stopped(long pending_commands);
/* {"event":"error","code","message"}: what the operator must know ("StoreRecovered"). */
char *dlv__ev_error(const char *code, const char *message);
/* {"event":"settingsChanged"} */
char *dlv__ev_settings_changed(void);
/* {"event":"orderRemoved","orderId"} */
char *dlv__ev_order_removed(const char *order_id);
/* {"event":"overdueCooking","orderId"} */
char *dlv__ev_overdue_cooking(const char *order_id);
/* {"event":"showDeliveryList","orders"}: takes `orders` (an array, deleted on failure too). */
char *dlv__ev_show_delivery_list(cJSON *orders);
/* {"event":"notification","orderId","kind","channel","to","text"} */
char *dlv__ev_notification(const char *order_id, const char *kind, const char *channel,
                           const char *to, const char *text);

/* The print events carry the job as the ledger holds it: orderId, document, copies, printer,
 * jobId (what "reprint" takes) and copy when it is one. */
/* {"event":"printed",…} */
char *dlv__ev_printed(const struct dlv__print_job *job);
/* {"event":"printFailed",…,"error","willRetry"} */
char *dlv__ev_print_failed(const struct dlv__print_job *job, const char *error, bool will_retry);
/* {"event":"reprintOffered",…,"error"}: the document may have printed; the operator decides. */
char *dlv__ev_reprint_offered(const struct dlv__print_job *job, const char *reason);
/* {"event":"printFailed","orderId","document","error","willRetry":false}: the job could not even
 * be recorded, so it has no id. */
char *dlv__ev_print_not_recorded(const char *order_id, const char *document, const char *error);

/* {"event":"statusChanged","orderId","from","to","origin"} for the order `o` now is; into
 * Cancelled it also carries "payments":[{"id","kind","sum","paymentTypeId","name"}], what was
 * taken (empty when nothing was), whoever cancelled. */
char *dlv__ev_status_changed_of(const struct dlv__order *o, dlv_status from, const char *origin);

/* The sync's events (sync.c). */
/* {"event":"connection","state","reason"}: reason only when offline. */
char *dlv__ev_connection(bool online, const char *reason);
/* {"event":"registrationFailed","error","description","retryInSeconds"}; `retry_in_seconds` < 0:
 * none announced. */
char *dlv__ev_registration_failed(const char *error, const char *description,
                                  long retry_in_seconds);
/* {"event":"registered","terminalId","settings"}; NULL when `settings_json` is not JSON. */
char *dlv__ev_registered(const char *terminal_id, const char *settings_json);
/* {"event":"commandRejected","orderId","commandId","error","description"} */
char *dlv__ev_command_rejected(const char *order_id, const char *command_id, const char *error,
                               const char *description);

#endif
