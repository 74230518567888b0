/* Logging: levels, a host callback (stderr by default), and masking of secrets and customers'
 * personal data so that no log line carries them in full. */
#ifndef DLV__COMMON_LOG_H
#define DLV__COMMON_LOG_H

#include "common/internal.h"
#include "delivery/delivery.h"

typedef struct dlv__logger {
    dlv_log_cb cb; /* NULL: stderr */
    void *arg;
    dlv_log_level level;
    const char *prefix; /* "delivery" */
} dlv__logger;

void dlv__log(const dlv__logger *lg, dlv_log_level level, const char *fmt, ...) DLV__PRINTF(3, 4);

#define DLV__LOGE(lg, ...) dlv__log((lg), DLV_LOG_ERROR, __VA_ARGS__)
#define DLV__LOGW(lg, ...) dlv__log((lg), DLV_LOG_WARN, __VA_ARGS__)
#define DLV__LOGI(lg, ...) dlv__log((lg), DLV_LOG_INFO, __VA_ARGS__)
#define DLV__LOGD(lg, ...) dlv__log((lg), DLV_LOG_DEBUG, __VA_ARGS__)

/* "+7 *** ***-**-67": the country code and the last two digits of a phone number. */
void dlv__mask_phone(const char *phone, char *out, size_t outlen);
/* "А***": the first letter (UTF-8 aware) of a name. */
void dlv__mask_name(const char *name, char *out, size_t outlen);
/* "e49d…": the first four characters of a token or id. */
void dlv__mask_token(const char *secret, char *out, size_t outlen);

#endif
