/* dlv_ctx: lifecycle, the loop (own thread or the host's), the host queue (struct rt_host, only
 * this file touches it) and the health figures. The group commit is commit.c's. */
#include "runtime/rt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/tz.h"
#include "order/json.h"
#include "print/print.h"
#include "store/store.h"
#include "runtime/printing.h"

dlv__time dlv__rt_now(dlv_ctx *ctx)
{
    if (ctx->clock)
        return ctx->clock(ctx->clock_arg);
    return (dlv__time)time(NULL);
}

void dlv__rt_emit(dlv_ctx *ctx, char *json)
{
    if (!json)
        return;
    if (ctx->batch.holding) {
        dlv__rt_hold_event(ctx, json); /* told after the commit that makes it true */
        return;
    }
    if (ctx->on_event)
        ctx->on_event(ctx->event_arg, json);
    dlv__free(json);
}

void dlv__rt_set_error(dlv_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    uv_mutex_lock(&ctx->lock);
    vsnprintf(ctx->last_error, sizeof ctx->last_error, fmt, ap);
    uv_mutex_unlock(&ctx->lock);
    va_end(ap);
}

const char *dlv_last_error(const dlv_ctx *ctx)
{
    return ctx ? ctx->last_error : "no context";
}

const char *dlv_ctx_terminal_id(const dlv_ctx *ctx)
{
    return ctx ? dlv_config_terminal_id(ctx->config) : NULL;
}

void dlv__rt_health_update(dlv_ctx *ctx)
{
    long pending = 0;
    int64_t oldest_ms = 0;
    dlv__store_outbox_stats(ctx->store, &pending, &oldest_ms, NULL);
    uv_mutex_lock(&ctx->lock);
    ctx->health.pending_commands = pending;
    ctx->health.oldest_pending_at = oldest_ms / 1000; /* the store counts ms, health seconds */
    ctx->health.registered = dlv__sync_registered(ctx);
    uv_mutex_unlock(&ctx->lock);
}

void dlv__rt_health_get(dlv_ctx *ctx, rt_health *out)
{
    uv_mutex_lock(&ctx->lock);
    *out = ctx->health;
    uv_mutex_unlock(&ctx->lock);
}

void dlv__rt_health_set_held_prints(dlv_ctx *ctx, long held)
{
    uv_mutex_lock(&ctx->lock);
    ctx->health.held_print_jobs = held;
    uv_mutex_unlock(&ctx->lock);
}

bool dlv__rt_health_note_link(dlv_ctx *ctx, bool online, const char *error, double rtt_ms)
{
    uv_mutex_lock(&ctx->lock);
    bool was = ctx->health.online;
    ctx->health.online = online;
    if (error)
        snprintf(ctx->health.last_error, sizeof ctx->health.last_error, "%s", error);
    if (rtt_ms > 0) {
        ctx->health.rtt_last_ms = rtt_ms;
        if (rtt_ms > ctx->health.rtt_max_ms)
            ctx->health.rtt_max_ms = rtt_ms;
    }
    if (!online)
        ctx->health.retries++;
    uv_mutex_unlock(&ctx->lock);
    return was != online;
}

void dlv__rt_health_note_sync(dlv_ctx *ctx)
{
    dlv__time now = dlv__rt_now(ctx);
    uv_mutex_lock(&ctx->lock);
    ctx->health.last_sync = now;
    uv_mutex_unlock(&ctx->lock);
}

long dlv__rt_health_pending(dlv_ctx *ctx)
{
    uv_mutex_lock(&ctx->lock);
    long pending = ctx->health.pending_commands;
    uv_mutex_unlock(&ctx->lock);
    return pending;
}

char *dlv_ctx_health(dlv_ctx *ctx)
{
    if (!ctx)
        return NULL;
    rt_health h;
    dlv__rt_health_get(ctx, &h);
    cJSON *j = cJSON_CreateObject();
    dlv__time now = dlv__rt_now(ctx);
    char *text = NULL;
    if (j && dlv__jput_string(j, "state", h.online ? "online" : "offline") &&
        dlv__jput_bool(j, "registered", h.registered) &&
        dlv__jput_time(j, "lastSync", h.last_sync ? h.last_sync : DLV__TIME_NONE) &&
        cJSON_AddNumberToObject(j, "pendingCommands", (double)h.pending_commands) &&
        cJSON_AddNumberToObject(j, "oldestPendingSeconds",
                                h.oldest_pending_at ? (double)(now - h.oldest_pending_at) : 0) &&
        cJSON_AddNumberToObject(j, "retries", (double)h.retries) &&
        cJSON_AddNumberToObject(j, "heldPrintJobs", (double)h.held_print_jobs) &&
        cJSON_AddNumberToObject(j, "lastRoundTripMs", h.rtt_last_ms) &&
        cJSON_AddNumberToObject(j, "maxRoundTripMs", h.rtt_max_ms) &&
        dlv__jput_string(j, "lastError", h.last_error[0] ? h.last_error : NULL))
        text = dlv__json_print(j);
    cJSON_Delete(j);
    return text;
}

/* ---- creation ---- */

static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
#if defined(_WIN32)
    const char *back = strrchr(path, '\\');
    if (!slash || (back && back > slash))
        slash = back;
#endif
    return slash ? dlv__strndup(path, (size_t)(slash - path)) : dlv__strdup(".");
}

void dlv_ctx_destroy(dlv_ctx *ctx)
{
    if (!ctx)
        return;
    dlv__rt_batch_free(ctx);
    dlv__rt_orders_free(ctx);
    dlv__rt_printing_free(ctx);
    dlv__settings_free(ctx->settings);
    dlv__tz_free(ctx->zone.settings_tz);
    dlv__tz_free(ctx->zone.option_tz);
    dlv__tz_free(ctx->zone.os_tz);
    dlv__free(ctx->zone.settings_zone);
    dlv__free(ctx->zone.bad_zone);
    dlv__store_close(ctx->store);
    dlv_config_free(ctx->config);
    dlv_front_config_free(ctx->front);
    dlv__free(ctx->data_dir);
    dlv__free(ctx->config_dir);
    dlv__free(ctx->terminal_name);
    dlv__free(ctx->receipt_printer);
    dlv__free(ctx->a4_printer);
    dlv__free(ctx->cafe_address);
    dlv__free(ctx->restaurant_name);
    dlv__free(ctx->templates_dir);
    dlv__free(ctx->front_config_path);
    dlv__sync_free(ctx);
    dlv__rt_notify_free(ctx);
    while (ctx->host.head) {
        host_req *r = ctx->host.head;
        ctx->host.head = r->next;
        dlv__free(r->json);
        dlv__free(r);
    }
    uv_mutex_destroy(&ctx->lock);
    dlv__free(ctx);
}

int dlv_ctx_create(const dlv_options *opts, dlv_ctx **out, dlv_error *err)
{
    if (!opts || !out)
        return dlv__error_set(err, DLV_EINVAL, "dlv_ctx_create: options and out are required");
    *out = NULL;
    /* Older versions ended earlier: their fields are read, the newer ones taken as unset. */
    if (opts->version < 1 || opts->version > DLV_OPTIONS_VERSION)
        return dlv__error_set(err, DLV_EABI, "dlv_options version %d, this library takes %d",
                              opts->version, DLV_OPTIONS_VERSION);
    if (opts->long_poll_seconds < 0 || opts->long_poll_seconds > 60)
        return dlv__error_set(err, DLV_EINVAL, "long_poll_seconds must be 1..60 (0: default)");
    dlv__locale locale = DLV__LOCALE_RU;
    if (dlv__locale_parse(opts->version >= 4 ? opts->locale : NULL, &locale) != 0)
        return dlv__error_set(err, DLV_EINVAL, "locale must be \"ru\" or \"en\", not \"%.20s\"",
                              opts->locale);
    dlv_ctx *ctx = dlv__calloc(1, sizeof *ctx);
    if (!ctx)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    if (uv_mutex_init(&ctx->lock) != 0) {
        dlv__free(ctx);
        return dlv__error_set(err, DLV_ENOMEM, "cannot create a mutex");
    }
    ctx->log.cb = opts->on_log;
    ctx->log.arg = opts->log_arg;
    ctx->log.level = opts->log_level;
    ctx->log.prefix = "delivery";
    ctx->on_event = opts->on_event;
    ctx->event_arg = opts->event_arg;
    ctx->loop = opts->loop;
    ctx->long_poll_seconds = opts->long_poll_seconds ? opts->long_poll_seconds : 25;
    ctx->utc_offset_minutes = opts->utc_offset_minutes;
    ctx->locale = locale;
    ctx->regular_first = opts->regular_numbers_first;
    ctx->regular_last = opts->regular_numbers_last;
    ctx->on_notify = opts->on_notify;
    ctx->notify_arg = opts->notify_arg;

    int rc = DLV_OK;
    if (opts->version >= 2 && opts->time_zone)
        rc = dlv__tz_load(opts->time_zone, &ctx->zone.option_tz, err);
    if (rc == DLV_OK)
        rc = dlv_config_load(opts->config_path, 0, &ctx->config, err);
    if (rc == DLV_OK && opts->front_config_path)
        rc = dlv_front_config_load(opts->front_config_path, &ctx->front, err);
    if (rc == DLV_OK) {
        ctx->config_dir = folder_of(dlv_config_path(ctx->config));
        ctx->data_dir = opts->data_dir ? dlv__strdup(opts->data_dir) : dlv__strdup(ctx->config_dir);
        ctx->terminal_name =
            dlv__strdup(opts->terminal_name ? opts->terminal_name : "Delivery terminal");
        ctx->receipt_printer = opts->receipt_printer ? dlv__strdup(opts->receipt_printer) : NULL;
        ctx->a4_printer = opts->a4_printer ? dlv__strdup(opts->a4_printer) : NULL;
        ctx->cafe_address = opts->cafe_address ? dlv__strdup(opts->cafe_address) : NULL;
        if (opts->version >= 5 && opts->restaurant_name)
            ctx->restaurant_name = dlv__strdup(opts->restaurant_name);
        ctx->front_config_path =
            opts->front_config_path ? dlv__strdup(opts->front_config_path) : NULL;
        if (!ctx->config_dir || !ctx->data_dir || !ctx->terminal_name ||
            (opts->receipt_printer && !ctx->receipt_printer) ||
            (opts->a4_printer && !ctx->a4_printer) || (opts->cafe_address && !ctx->cafe_address) ||
            (opts->version >= 5 && opts->restaurant_name && !ctx->restaurant_name))
            rc = dlv__error_set(err, DLV_ENOMEM, "out of memory");
    }
    /* The operator's acceptance of a lost database (version 2 of the options). */
    dlv__store_options store_opts = {0};
    if (opts->version >= 3 && opts->accept_store_loss)
        store_opts.flags |= DLV__STORE_ACCEPT_LOSS;
    if (rc == DLV_OK &&
        (dlv__rt_orders_init(ctx) != DLV_OK || dlv__rt_printing_init(ctx) != DLV_OK))
        rc = dlv__error_set(err, DLV_ENOMEM, "out of memory");
    if (rc == DLV_OK && !(ctx->templates_dir = dlv__asprintf("%s/templates", ctx->config_dir)))
        rc = dlv__error_set(err, DLV_ENOMEM, "out of memory");
    /* A bad document template is refused now, with its file and line, not at the first print. */
    if (rc == DLV_OK)
        rc = dlv__print_templates_check(ctx->templates_dir, err);
    if (rc == DLV_OK)
        rc = dlv__rt_notify_load(ctx, err);
    if (rc == DLV_OK)
        rc = dlv__store_open(ctx->data_dir, &store_opts, &ctx->store, err);
    if (rc == DLV_OK)
        rc = dlv__rt_load_cache(ctx, err);
    if (rc != DLV_OK) {
        dlv_ctx_destroy(ctx);
        return rc;
    }
    for (size_t i = 0; i < dlv_config_warning_count(ctx->config); i++)
        DLV__LOGW(&ctx->log, "%s", dlv_config_warning(ctx->config, i));
    dlv__rt_health_update(ctx);
    ctx->host.state = RT_CREATED;
    *out = ctx;
    return DLV_OK;
}

/* ---- the restaurant's clock ---- */

/* The call-center's zone when it names one that loads, reloaded when the name changes (settings
 * arrive in orders.c and sync.c; the clock notices here, lazily). */
static const dlv__tz *settings_zone(dlv_ctx *ctx)
{
    rt_zone *c = &ctx->zone;
    const char *name = ctx->settings ? ctx->settings->time_zone : NULL;
    if (!name || (c->bad_zone && strcmp(name, c->bad_zone) == 0))
        return NULL;
    if (c->settings_zone && strcmp(name, c->settings_zone) == 0)
        return c->settings_tz;
    dlv__tz_free(c->settings_tz);
    c->settings_tz = NULL;
    dlv__free(c->settings_zone);
    c->settings_zone = dlv__strdup(name);
    dlv_error err = {0};
    if (!c->settings_zone || dlv__tz_load(name, &c->settings_tz, &err) == DLV_OK)
        return c->settings_tz;
    if (err.code == DLV_ENOMEM) {
        dlv__free(c->settings_zone); /* tried again at the next time */
        c->settings_zone = NULL;
        return NULL;
    }
    DLV__LOGW(&ctx->log, "%s: using %s instead", err.message,
              c->option_tz ? "the configured time zone" : "the system's time zone");
    dlv__free(c->bad_zone);
    c->bad_zone = dlv__strdup(name);
    return NULL;
}

int dlv__rt_utc_offset_at(void *arg, int64_t utc)
{
    dlv_ctx *ctx = arg;
    if (ctx->utc_offset_minutes != 0)
        return ctx->utc_offset_minutes;
    const dlv__tz *tz = settings_zone(ctx);
    if (!tz)
        tz = ctx->zone.option_tz;
    if (!tz) {
        if (!ctx->zone.os_loaded) {
            ctx->zone.os_tz = dlv__tz_local();
            ctx->zone.os_loaded = true;
        }
        tz = ctx->zone.os_tz;
    }
    return dlv__tz_offset_at(tz, utc);
}

/* ---- the host queue ---- */

static void drain_queue(uv_async_t *async);

int dlv_ctx_request(dlv_ctx *ctx, const char *json, dlv_reply_cb cb, void *arg)
{
    if (!ctx || !json)
        return DLV_EINVAL;
    host_req *r = dlv__calloc(1, sizeof *r);
    char *copy = dlv__strdup(json);
    if (!r || !copy) {
        dlv__free(r);
        dlv__free(copy);
        return DLV_ENOMEM;
    }
    r->json = copy;
    r->cb = cb;
    r->arg = arg;
    uv_mutex_lock(&ctx->lock);
    if (ctx->host.state != RT_RUNNING) {
        uv_mutex_unlock(&ctx->lock);
        dlv__free(copy);
        dlv__free(r);
        return DLV_ESTOPPED;
    }
    if (ctx->host.tail)
        ctx->host.tail->next = r;
    else
        ctx->host.head = r;
    ctx->host.tail = r;
    uv_mutex_unlock(&ctx->lock);
    uv_async_send(&ctx->host.wake); /* coalesces: the callback drains the queue */
    return DLV_OK;
}

static void begin_stop(dlv_ctx *ctx);

/* Requests per group commit. A busy host's backlog is committed in groups this size, with the
 * loop's I/O between them: replies start after the first group rather than after the whole
 * backlog, and the command sender's answers are read meanwhile (issue 20). One fdatasync costs
 * about what staging a few requests does, so a larger group would not be cheaper per request. */
#define DRAIN_GROUP 256

static void drain_queue(uv_async_t *async)
{
    dlv_ctx *ctx = async->data;
    uv_mutex_lock(&ctx->lock);
    host_req *list = ctx->host.head;
    bool stopping = ctx->host.state == RT_STOPPING;
    /* Take one group; the rest stays queued, in order, for the next turn. */
    host_req *last = list;
    for (int n = 1; last && last->next && (stopping || n < DRAIN_GROUP); n++)
        last = last->next;
    ctx->host.head = last ? last->next : NULL;
    if (!ctx->host.head)
        ctx->host.tail = NULL;
    if (last)
        last->next = NULL;
    bool more = ctx->host.head != NULL;
    uv_mutex_unlock(&ctx->lock);
    if (stopping)
        ctx->loop_state = RT_STOPPING;
    while (list) {
        host_req *r = list;
        list = r->next;
        dlv__rt_handle_request(ctx, r);
        dlv__free(r->json);
        dlv__free(r);
    }
    dlv__rt_commit(ctx);
    if (more)
        uv_async_send(&ctx->host.wake); /* the next group after this turn's I/O */
    if (stopping)
        begin_stop(ctx);
}

/* ---- start and stop ---- */

static void on_handle_closed(uv_handle_t *h)
{
    dlv_ctx *ctx = h->data;
    ctx->open_handles--;
}

static void close_handle(dlv_ctx *ctx, uv_handle_t *h)
{
    if (!uv_is_closing(h)) {
        h->data = ctx;
        uv_close(h, on_handle_closed);
    }
}

static void finish_stop(dlv_ctx *ctx)
{
    dlv__rt_printing_stop(ctx);
    dlv__sync_stop(ctx);
    uv_timer_stop(&ctx->due_timer);
    close_handle(ctx, (uv_handle_t *)&ctx->due_timer);
    close_handle(ctx, (uv_handle_t *)&ctx->host.wake);
    dlv__rt_health_update(ctx);
    dlv__rt_emit(ctx, dlv__ev_stopped(ctx->health.pending_commands));
    uv_mutex_lock(&ctx->lock);
    ctx->host.state = RT_STOPPED;
    uv_mutex_unlock(&ctx->lock);
    ctx->loop_state = RT_STOPPED;
}

static void on_flush_check(uv_timer_t *t);

/* Stop: refuse new requests, give pending commands until the deadline to reach the server. */
static void begin_stop(dlv_ctx *ctx)
{
    if (ctx->host.stop_deadline)
        return;
    ctx->host.stop_deadline =
        uv_now(ctx->loop) + (uint64_t)(ctx->host.flush_ms > 0 ? ctx->host.flush_ms : 0);
    uv_timer_stop(&ctx->due_timer);
    dlv__sync_kick_sender(ctx);
    on_flush_check(&ctx->due_timer);
}

static void on_flush_check(uv_timer_t *t)
{
    dlv_ctx *ctx = t->data;
    long pending = 0;
    int64_t oldest_ms = 0;
    dlv__store_outbox_stats(ctx->store, &pending, &oldest_ms, NULL);
    if ((pending == 0 || !dlv__sync_registered(ctx) ||
         uv_now(ctx->loop) >= ctx->host.stop_deadline) &&
        dlv__sync_idle(ctx)) {
        finish_stop(ctx);
        return;
    }
    if (uv_now(ctx->loop) >= ctx->host.stop_deadline) {
        finish_stop(ctx); /* the rest stays stored for the next start */
        return;
    }
    uv_timer_start(&ctx->due_timer, on_flush_check, 20, 0);
}

static void thread_main(void *arg)
{
    dlv_ctx *ctx = arg;
    uv_run(ctx->loop, UV_RUN_DEFAULT);
}

int dlv_ctx_start(dlv_ctx *ctx)
{
    if (!ctx)
        return DLV_EINVAL;
    if (ctx->host.state != RT_CREATED) {
        dlv__rt_set_error(ctx, "dlv_ctx_start: the context was already started");
        return DLV_EBUSY;
    }
    dlv_error err = {0};
    if (!ctx->loop) {
        if (uv_loop_init(&ctx->own_loop) != 0)
            return DLV_ENOMEM;
        ctx->loop = &ctx->own_loop;
        ctx->own_thread = true;
    }
    uv_async_init(ctx->loop, &ctx->host.wake, drain_queue);
    ctx->host.wake.data = ctx;
    uv_timer_init(ctx->loop, &ctx->due_timer);
    ctx->due_timer.data = ctx;
    ctx->open_handles = 2;
    int rc = dlv__rt_printing_start(ctx, &err);
    if (rc != DLV_OK)
        DLV__LOGW(&ctx->log, "printing: %s", err.message);
    uv_mutex_lock(&ctx->lock);
    ctx->host.state = RT_RUNNING;
    uv_mutex_unlock(&ctx->lock);
    ctx->loop_state = RT_RUNNING; /* before the loop thread exists */
    dlv__rt_emit(ctx, dlv__ev_started(dlv_config_terminal_id(ctx->config)));
    /* A damaged database was moved aside at open: the operator must know, support keeps it. */
    const dlv__store_recovery *rec = dlv__store_recovery_info(ctx->store);
    if (rec) {
        char msg[768];
        snprintf(
            msg, sizeof msg,
            DLV__TR(ctx->locale,
                    "the terminal database was damaged (%s) and moved to %s; %ld pending "
                    "command(s) and %ld print job(s) carried over%s; orders are fetched again",
                    "база терминала была повреждена (%s) и перемещена в %s; перенесено "
                    "команд в ожидании: %ld, заданий печати: %ld%s; заказы загружаются заново"),
            rec->reason ? rec->reason : DLV__TR(ctx->locale, "unreadable", "не читается"),
            rec->moved_to ? rec->moved_to : "?", rec->commands, rec->print_jobs,
            rec->complete
                ? ""
                : DLV__TR(ctx->locale, " (some could not be read: accepted by the operator)",
                          " (часть не прочиталась: оператор принял потерю)"));
        DLV__LOGE(&ctx->log, "%s", msg);
        dlv__rt_emit(ctx, dlv__ev_error("StoreRecovered", msg));
    }
    dlv__rt_notify_warn(ctx);
    /* Cached orders are the host's before the network is back. */
    size_t n;
    rt_order **list = dlv__rt_order_list_all(ctx, &n);
    for (size_t i = 0; list && i < n; i++) {
        const dlv__order *v = dlv__rt_view(ctx, list[i]);
        if (v)
            dlv__rt_emit(ctx, dlv__ev_order(ctx, v));
        dlv__rt_views_trim(ctx);
    }
    dlv__free(list);
    dlv__sync_start(ctx);
    dlv__rt_arm_due_timer(ctx);
    dlv__rt_printing_resume(ctx);
    if (ctx->own_thread && uv_thread_create(&ctx->thread, thread_main, ctx) != 0) {
        dlv__rt_set_error(ctx, "cannot start the plugin's thread");
        return DLV_ENOMEM;
    }
    return DLV_OK;
}

int dlv_ctx_stop(dlv_ctx *ctx, int flush_ms)
{
    if (!ctx)
        return DLV_EINVAL;
    uv_mutex_lock(&ctx->lock);
    if (ctx->host.state != RT_RUNNING) {
        uv_mutex_unlock(&ctx->lock);
        return ctx->host.state == RT_CREATED ? DLV_OK : DLV_ESTOPPED;
    }
    ctx->host.state = RT_STOPPING;
    ctx->host.flush_ms = flush_ms;
    uv_mutex_unlock(&ctx->lock);
    uv_async_send(&ctx->host.wake);
    if (ctx->own_thread) {
        uv_thread_join(&ctx->thread);
        uv_run(ctx->loop, UV_RUN_DEFAULT); /* close callbacks left over */
        int rc = uv_loop_close(ctx->loop);
        if (rc != 0)
            DLV__LOGE(&ctx->log, "loop did not close cleanly: %s", uv_strerror(rc));
    }
    return DLV_OK;
}
