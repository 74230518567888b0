/* libdelivery: the terminal-side delivery plugin for restaurant POS front terminals.
 *
 * A dlv_ctx is one terminal: it reads deliveryPluginConfig.xml, keeps its durable state in a data
 * folder (SQLite), registers with the call-center, keeps the orders in sync over a long poll,
 * sends every local change as a durable command, and prints invoices and service checks.
 *
 * Threads. The context runs on one libuv loop: its own, on a thread it starts (a POS host that
 * knows nothing of libuv), or the host's (dlv_options.loop, for integrators with a libuv loop).
 * Every callback of the library runs on that loop's thread. Any thread may call the functions
 * marked "any thread"; the rest are called from the thread that created the context.
 *
 * Requests. Operations travel as small JSON objects, the same ones the reference host
 * (examples/host) reads on its stdin ({"cmd":"confirm","orderId":"…"}; DLV_REQUEST_MAP below names
 * them, docs/api.md gives their fields). Each request gets exactly one reply, delivered before any
 * event the request caused. A change is stored durably before its reply says ok, and reaches the
 * call-center exactly once. Events ({"event":"order",…}) are listed in DLV_EVENT_MAP. */
#ifndef DELIVERY_DELIVERY_H
#define DELIVERY_DELIVERY_H

#include "common.h"
#include "config.h"
#include "errors.h"
#include "order.h"
#include "printer.h"
#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dlv_ctx dlv_ctx;

/* The host vocabulary: every request ("cmd") the context answers and every event it emits, as
 * XX(id, name, description). The name is what travels in the JSON; ids are for C code that
 * generates tables from these lists (the library's request table is built from
 * DLV_REQUEST_MAP). Add-only, like the error codes; docs/api.md documents each one and a test
 * keeps the two in step. */
#define DLV_REQUEST_MAP(XX)                                                                        \
    XX(LOGIN, "login", "sets the acting user and their rights")                                    \
    XX(LOGOUT, "logout", "no user: every change is refused")                                       \
    XX(CONFIRM, "confirm", "confirms an unconfirmed order")                                        \
    XX(SET_STATUS, "setStatus", "moves an order to a status by the operation that leads there")    \
    XX(CANCEL, "cancel", "cancels an order with a cause from the settings")                        \
    XX(ASSIGN_COURIER, "assignCourier", "assigns or changes an order's courier")                   \
    XX(PAY, "pay", "records the payments the cashier took")                                        \
    XX(PRINT_INVOICE, "printInvoice", "prints an order's invoice by hand")                         \
    XX(CREATE_ORDER, "createOrder", "creates an order taken at the terminal")                      \
    XX(REPRINT, "reprint", "prints a document of a print event again")                             \
    XX(LIST, "list", "the live orders, overdue first, then by due time")                           \
    XX(HEALTH, "health", "the health snapshot (as dlv_ctx_health)")                                \
    XX(DOCTOR, "doctor", "runs the diagnostics (as dlv_doctor_run) with this context's outbox")    \
    XX(EDIT_ORDER, "editOrder", "changes an order's items, address, comment, time or customer")    \
    XX(REMOVE_PAYMENT, "removePayment", "removes a payment taken for an order")                    \
    XX(GET_ORDER, "getOrder", "the whole order with the logged-in user's actions")

#define DLV_EVENT_MAP(XX)                                                                          \
    XX(STARTED, "started", "the context started (first event)")                                    \
    XX(REGISTERED, "registered", "the call-center accepted the terminal; carries the settings")    \
    XX(REGISTRATION_FAILED, "registrationFailed", "registration refused or failed; retried")       \
    XX(CONNECTION, "connection", "the link to the call-center went online or offline")             \
    XX(ORDER, "order", "an order arrived or changed")                                              \
    XX(ORDER_REMOVED, "orderRemoved", "an order left this terminal")                               \
    XX(STATUS_CHANGED, "statusChanged", "an order's status changed, with its origin")              \
    XX(COMMAND_REJECTED, "commandRejected", "the call-center refused a stored local change")       \
    XX(SETTINGS_CHANGED, "settingsChanged", "the call-center sent new settings")                   \
    XX(PRINTED, "printed", "a document was printed")                                               \
    XX(PRINT_FAILED, "printFailed", "a document could not be printed (willRetry says if retried)") \
    XX(REPRINT_OFFERED, "reprintOffered", "a document may or may not have printed: reprint?")      \
    XX(OVERDUE_COOKING, "overdueCooking", "an order's cooking is overdue")                         \
    XX(SHOW_DELIVERY_LIST, "showDeliveryList", "open the delivery list (courier login)")           \
    XX(NOTIFICATION, "notification", "a customer message for an order, with its text")             \
    XX(ERROR, "error", "something the operator must know (code and message)")                      \
    XX(STOPPED, "stopped", "the context stopped (last event)")

/* An event for the host: `json` is one object such as {"event":"order","order":{…}} (the
 * reference host prints it as a line). Valid during the callback only. */
typedef void (*dlv_event_cb)(void *arg, const char *json);

/* The reply to a request: {"reply":"confirm","ok":true,…} or
 * {"reply":"confirm","ok":false,"error":"MissingRight","message":"…"}. Valid during the
 * callback only; runs exactly once per accepted request, on the loop thread. */
typedef void (*dlv_reply_cb)(void *arg, const char *json);

typedef enum dlv_log_level {
    DLV_LOG_ERROR = 0,
    DLV_LOG_WARN = 1,
    DLV_LOG_INFO = 2,
    DLV_LOG_DEBUG = 3
} dlv_log_level;

/* One log line, without a newline; secrets and personal data are already masked. Runs on the
 * thread that logs (normally the loop thread). Default: stderr. */
typedef void (*dlv_log_cb)(void *arg, dlv_log_level level, const char *line);

/* A customer message to deliver (SMS or push), in addition to the "notification" event.
 * `channel` is "sms"; `to` the customer's phone; `text` rendered from the event's template.
 * Runs on the loop thread; return 0 when accepted for delivery. */
typedef int (*dlv_notify_cb)(void *arg, const char *order_id, const char *event,
                             const char *channel, const char *to, const char *text);

/* 2 added time_zone, 3 accept_store_loss, 4 locale, 5 restaurant_name; older structs (without
 * them) are still accepted. */
#define DLV_OPTIONS_VERSION 5

typedef struct dlv_options {
    int version;                   /* DLV_OPTIONS_VERSION */
    const char *config_path;       /* deliveryPluginConfig.xml; NULL: the default location */
    const char *front_config_path; /* the front terminal's config.xml; NULL: none (all false) */
    const char *data_dir;          /* durable state; NULL: the config file's folder */
    const char *terminal_name;     /* shown at the call-center; NULL: "Delivery terminal" */
    void *loop;                    /* a uv_loop_t * to attach to; NULL: the context's own thread */
    dlv_event_cb on_event;
    void *event_arg;
    dlv_log_cb on_log;
    void *log_arg;
    dlv_log_level log_level; /* lines above it are dropped; default (0) ERROR … use INFO */
    /* Printers by URI (file:PATH, tcp://HOST:9100, cups:QUEUE, null:). NULL receipt: printing is
     * held until one is set; NULL a4: invoices go to the receipt printer. */
    const char *receipt_printer;
    const char *a4_printer;
    /* The host's regular order numbers, inclusive: delivery numbers never fall in this range.
     * Both 0: none declared. */
    int64_t regular_numbers_first, regular_numbers_last;
    /* Long-poll wait in seconds (1..60); 0: 25. */
    int long_poll_seconds;
    /* A fixed UTC offset in minutes for times on documents and messages (+180 Moscow), without
     * daylight saving: when non-zero it overrides every time zone (see time_zone). */
    int utc_offset_minutes;
    /* Customer messages: the notifier (NULL: only the "notification" event), and the
     * restaurant's address for @Model.CafeAddress. Message templates are read from
     * <config folder>/notifications/<Event>.txt (Unconfirmed, New, Cooking, Ready, Waiting,
     * OnWay, Delivered, Cancelled, SumChanged); built-in Russian texts otherwise. */
    dlv_notify_cb on_notify;
    void *notify_arg;
    const char *cafe_address;
    /* Since version 2. The restaurant's time zone ("Europe/Moscow", from the system's zone
     * database, daylight saving included) when the call-center's settings name none or one this
     * system does not know; NULL: the operating system's zone. An unknown name fails
     * dlv_ctx_create (DLV_EINVAL or DLV_ENOTFOUND). Copied. */
    const char *time_zone;
    /* Since version 3. Nonzero: start even though the terminal database is missing or empty
     * although this terminal had one (pending commands and ledgers lost), or a damaged one could
     * not be read whole. Only on an operator's explicit decision (docs/store.md); otherwise such a
     * start fails with DLV_ECORRUPT naming the database. */
    int accept_store_loss;
    /* Since version 4. The language of what the staff reads (reply messages, status names in
     * them, the texts of error events, the doctor's advice): "ru" (NULL: the default) or "en".
     * Machine codes (MissingRight, event names, JSON keys) are the same in both. Anything else
     * fails dlv_ctx_create with DLV_EINVAL. */
    const char *locale;
    /* Since version 5. The restaurant's name, printed at the top of the delivery invoice with
     * cafe_address under it; NULL: none. Copied. */
    const char *restaurant_name;
} dlv_options;

/* Creates a terminal context: loads the configuration (generating terminalId when absent), opens
 * the durable store and loads the cached orders; nothing touches the network yet. Errors name
 * the file, line and element (configuration) or the database. Free with dlv_ctx_destroy(). */
DLV_EXTERN int dlv_ctx_create(const dlv_options *opts, dlv_ctx **out, dlv_error *err);

/* Starts: on its own thread, or on the host's loop (then the host runs the loop). The first
 * connection comes after connectToServerDelayInSeconds. Events start with "started". */
DLV_EXTERN int dlv_ctx_start(dlv_ctx *ctx);

/* Submits a request (any thread). The reply callback runs once on the loop thread. Returns an
 * error (and never calls `cb`) when the context is not running or memory ran out. */
DLV_EXTERN int dlv_ctx_request(dlv_ctx *ctx, const char *json, dlv_reply_cb cb, void *arg);

/* Stops (any thread but the loop's): new requests are refused, pending commands get up to
 * `flush_ms` to reach the call-center, the rest stay stored for the next start, the printers and
 * the network are closed; "stopped" is the last event. With its own thread, returns once the
 * thread ended; attached to a host loop, returns at once and the loop finishes the stop. */
DLV_EXTERN int dlv_ctx_stop(dlv_ctx *ctx, int flush_ms);

/* Frees a stopped (or never started) context; NULL does nothing. */
DLV_EXTERN void dlv_ctx_destroy(dlv_ctx *ctx);

/* The terminal's id (valid while the context lives). Any thread. */
DLV_EXTERN const char *dlv_ctx_terminal_id(const dlv_ctx *ctx);

/* Health as JSON (connection state, last sync, pending commands and the oldest one's age, held
 * print jobs, retries, round-trip times). Free with dlv_free(). Any thread. */
DLV_EXTERN char *dlv_ctx_health(dlv_ctx *ctx);

/* The last error text of a failed call on this context. Any thread; valid until the next call. */
DLV_EXTERN const char *dlv_last_error(const dlv_ctx *ctx);

/* ---- diagnostics: "why don't deliveries arrive?" ---- */

/* 2 added locale; version 1 structs are still accepted. */
#define DLV_DOCTOR_OPTIONS_VERSION 2

typedef struct dlv_doctor_options {
    int version;                   /* DLV_DOCTOR_OPTIONS_VERSION */
    const char *config_path;       /* NULL: the default location */
    const char *front_config_path; /* optional */
    const char *data_dir;          /* NULL: the config file's folder */
    const char *receipt_printer;   /* printer URIs to check, optional */
    const char *a4_printer;
    long timeout_ms; /* per network check; 0: the config's timeout */
    /* Since version 2. The language of the checks' details and advice, as dlv_options.locale:
     * "ru" (NULL: the default) or "en"; anything else fails with DLV_EINVAL. The check names and
     * results (the JSON) are the same in both. */
    const char *locale;
} dlv_doctor_options;

/* Walks the troubleshooting checks (docs/real-callcenter.md), in order: the config file parses and
 * is complete; serverUrl resolves, connects and speaks the delivery protocol (not, say, the point's
 * local server); TLS is trusted; the terminal is registered as a delivery terminal; the clock
 * agrees with the server's; the long poll returns; the outbox (pending commands, the oldest one's
 * age) and held print jobs; the printers answer and have paper. Never changes the config file.
 * *report is JSON {"ok":bool,"checks":[{"name","result":"pass|warn|fail|skip","detail","advice"}]}
 * (free with dlv_free). Returns the number of failed checks (0: all passed), or a negative error
 * when the report could not be made. Blocks the calling thread (network checks are bounded). */
DLV_EXTERN int dlv_doctor_run(const dlv_doctor_options *opts, char **report, dlv_error *err);

/* The report as lines for a person ("PASS  config  …" / "FAIL  registered  … → advice").
 * Free with dlv_free(); NULL when `report` is not a doctor report. */
DLV_EXTERN char *dlv_doctor_format(const char *report);

#ifdef __cplusplus
}
#endif
#endif
