/* The terminal's configuration files: the plugin's own deliveryPluginConfig.xml and the front
 * terminal's config.xml (read-only). */
#ifndef DELIVERY_CONFIG_H
#define DELIVERY_CONFIG_H

#include "common.h"
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dlv_config dlv_config;
typedef struct dlv_front_config dlv_front_config;

/* Defaults and accepted ranges of deliveryPluginConfig.xml's numeric elements. */
#define DLV_CONFIG_TIMEOUT_MS_DEFAULT 30000
#define DLV_CONFIG_TIMEOUT_MS_MIN 100
#define DLV_CONFIG_TIMEOUT_MS_MAX 600000
#define DLV_CONFIG_CONNECT_DELAY_S_DEFAULT 5
#define DLV_CONFIG_CONNECT_DELAY_S_MAX 3600
/* iikoCloud: the public API (serverUrl's default) and the poll interval (1..300 s). */
#define DLV_CONFIG_IIKO_URL "https://api-ru.iiko.services"
#define DLV_CONFIG_POLL_INTERVAL_S_DEFAULT 5
/* Larger configuration files are refused unread. */
#define DLV_CONFIG_MAX_FILE_BYTES (1024 * 1024)

/* Flags for dlv_config_load(). */
enum {
    /* Do not generate a missing terminalId nor touch the file (diagnostics read a config as is;
     * dlv_config_terminal_id() then returns NULL when the file has none). */
    DLV_CONFIG_READ_ONLY = 1u << 0,
};

/* Loads deliveryPluginConfig.xml from `path`, or from dlv_config_default_path() when `path` is
 * NULL. When the file has no terminalId, a random UUID v4 is generated and written back into the
 * file atomically, keeping every other element, comment and the XML declaration. When the file
 * does not exist (the first start; not with DLV_CONFIG_READ_ONLY), it is created atomically with
 * every element, its default, a comment in Russian, a new terminalId and an empty serverUrl.
 * An empty or absent serverUrl is accepted as "not set": dlv_config_server_url() returns NULL
 * and a context made from it starts without connecting (an `error` event ServerUrlMissing).
 * Returns 0 and sets *out (free with dlv_config_free()), or an error code with `err` naming the
 * file, line and element that were wrong; nothing is returned half-configured and a failed
 * write-back leaves the original file intact. Any thread; no shared state. */
DLV_EXTERN int dlv_config_load(const char *path, unsigned flags, dlv_config **out, dlv_error *err);

/* Frees a configuration; NULL does nothing. */
DLV_EXTERN void dlv_config_free(dlv_config *cfg);

/* Accessors. Strings stay valid until dlv_config_free(). */
DLV_EXTERN const char *dlv_config_path(const dlv_config *cfg);
/* The call-center's address, or NULL when the file does not set it (empty or absent serverUrl
 * with the native backend). */
DLV_EXTERN const char *dlv_config_server_url(const dlv_config *cfg);
DLV_EXTERN const char *dlv_config_terminal_id(const dlv_config *cfg);
/* 1 when this load generated the terminalId (the terminal will register anew). */
DLV_EXTERN int dlv_config_terminal_id_generated(const dlv_config *cfg);
/* 1 when this load created the file (the first start: it did not exist). */
DLV_EXTERN int dlv_config_created(const dlv_config *cfg);
DLV_EXTERN long dlv_config_service_timeout_ms(const dlv_config *cfg);
DLV_EXTERN long dlv_config_connect_delay_s(const dlv_config *cfg);
/* Optional PEM bundle trusted for a private call-center's TLS certificate (element
 * trustedCaFile), or NULL: the system's trust store. */
DLV_EXTERN const char *dlv_config_trusted_ca_file(const dlv_config *cfg);
/* The call-center backend (element backend): its name, or NULL when the element is absent (the
 * default, "native": the call-center protocol of docs/protocol.md). */
DLV_EXTERN const char *dlv_config_backend(const dlv_config *cfg);
/* iikoCloud (docs/iikocloud.md): apiLogin (a secret: never log it whole), organizationId and
 * terminalGroupId (NULL when absent; required with <backend>iikoCloud), pollIntervalSeconds. */
DLV_EXTERN const char *dlv_config_api_login(const dlv_config *cfg);
DLV_EXTERN const char *dlv_config_organization_id(const dlv_config *cfg);
DLV_EXTERN const char *dlv_config_terminal_group_id(const dlv_config *cfg);
DLV_EXTERN long dlv_config_poll_interval_s(const dlv_config *cfg);

/* Warnings the load produced (unknown elements, kept in the file untouched). */
DLV_EXTERN size_t dlv_config_warning_count(const dlv_config *cfg);
DLV_EXTERN const char *dlv_config_warning(const dlv_config *cfg, size_t index);

/* The default location of deliveryPluginConfig.xml:
 * %APPDATA%\iiko\CashServer\PluginConfigs\Resto.Front.Api.Delivery\ on Windows,
 * $XDG_CONFIG_HOME/iiko/CashServer/PluginConfigs/Resto.Front.Api.Delivery/ elsewhere
 * ($HOME/.config when XDG_CONFIG_HOME is unset). Free with dlv_free(); NULL when neither
 * variable is set or memory ran out. */
DLV_EXTERN char *dlv_config_default_path(void);

/* The default location of the front terminal's config.xml (%APPDATA%\iiko\CashServer\config.xml,
 * or the XDG equivalent). Free with dlv_free(). */
DLV_EXTERN char *dlv_front_config_default_path(void);

/* The front terminal's flags the plugin reads. */
typedef enum dlv_front_flag {
    DLV_FRONT_SHOW_DELIVERY_LIST_ON_LOGIN = 0, /* showDeliveryListOnLogin: courier terminal */
    DLV_FRONT_ALLOW_HAND_CARD_ROLL = 1,        /* AllowHandCardRoll: PIN login */
    DLV_FRONT_CARD_READER_CONFIGURED = 2,      /* cardReaderConfigured */
    DLV_FRONT_A4_DELIVERY_INVOICE_FORMAT = 3,  /* a4DeliveryInvoiceFormat: invoice on A4 */
} dlv_front_flag;

/* Loads the front terminal's config.xml (never written). Absent flags are false; other
 * elements of the host's file are ignored. Errors name the file, line and element. */
DLV_EXTERN int dlv_front_config_load(const char *path, dlv_front_config **out, dlv_error *err);
DLV_EXTERN void dlv_front_config_free(dlv_front_config *fc);
/* 1 when the flag is set, 0 otherwise (also for a NULL config or unknown flag). */
DLV_EXTERN int dlv_front_config_flag(const dlv_front_config *fc, dlv_front_flag flag);

#ifdef __cplusplus
}
#endif
#endif
