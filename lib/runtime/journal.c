/* The backends' durable journal (dlv__backend_journal in lib/net/backend.h) over the store's
 * meta table, and the local-time conversion the iikoCloud backend needs. Keys are
 * "journal.<backend>.<key>"; a put is durable when it returns (the store commits it unless a
 * transaction is open, which then commits before the loop sends anything). */
#include <string.h>
#include <time.h>

#include "runtime/rt.h"

static char *journal_key(dlv_ctx *ctx, const char *key)
{
    const char *backend = dlv_config_backend(ctx->config);
    return dlv__asprintf("journal.%s.%s", backend ? backend : "native", key);
}

static int journal_get(void *arg, const char *key, char **value)
{
    dlv_ctx *ctx = arg;
    char *k = journal_key(ctx, key);
    int rc = k ? dlv__store_meta_get(ctx->store, k, value, NULL) : DLV_ENOMEM;
    dlv__free(k);
    return rc;
}

static int journal_put(void *arg, const char *key, const char *value)
{
    dlv_ctx *ctx = arg;
    char *k = journal_key(ctx, key);
    int rc = k ? dlv__store_meta_set(ctx->store, k, value, NULL) : DLV_ENOMEM;
    dlv__free(k);
    return rc;
}

static int journal_del(void *arg, const char *key)
{
    return journal_put(arg, key, NULL);
}

void dlv__rt_journal(dlv_ctx *ctx, dlv__backend_journal *out)
{
    *out = (dlv__backend_journal){journal_get, journal_put, journal_del, ctx};
}

/* The host's utc_offset_minutes when it set one, else the OS's zone (localtime_r/mktime). */
int64_t dlv__rt_local_time(void *arg, int64_t t, bool to_utc)
{
    dlv_ctx *ctx = arg;
    if (ctx->utc_offset_minutes != 0)
        return to_utc ? t - (int64_t)ctx->utc_offset_minutes * 60
                      : t + (int64_t)ctx->utc_offset_minutes * 60;
    if (to_utc) {
        /* t is a local wall-clock time written as if it were UTC: let mktime find its zone. */
        int64_t y;
        unsigned mo, d, h, mi, s;
        dlv__time_fields(t, 0, &y, &mo, &d, &h, &mi, &s);
        struct tm tm = {.tm_year = (int)(y - 1900),
                        .tm_mon = (int)mo - 1,
                        .tm_mday = (int)d,
                        .tm_hour = (int)h,
                        .tm_min = (int)mi,
                        .tm_sec = (int)s,
                        .tm_isdst = -1};
        time_t u = mktime(&tm);
        return u == (time_t)-1 ? t : (int64_t)u;
    }
    time_t u = (time_t)t;
    struct tm tm;
    if (!localtime_r(&u, &tm))
        return t;
    return dlv__days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday) *
               86400 +
           tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}
