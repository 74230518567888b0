#define _GNU_SOURCE
#include "hostsim.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_EVENTS 50000

struct hostsim {
    dlv_ctx *ctx;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char **events;
    int count;
    char *reply;
    bool replied;
    char *dump;
    char *returned;
};

static void record(hostsim *h, const char *json)
{
    pthread_mutex_lock(&h->lock);
    if (h->count < MAX_EVENTS)
        h->events[h->count++] = strdup(json);
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
}

static void on_event(void *arg, const char *json)
{
    record(arg, json);
}

static void on_reply(void *arg, const char *json)
{
    hostsim *h = arg;
    pthread_mutex_lock(&h->lock);
    free(h->reply);
    h->reply = strdup(json);
    h->replied = true;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
    record(h, json); /* replies interleave with events in the order the host saw them */
}

static void on_log(void *arg, dlv_log_level level, const char *line)
{
    (void)arg;
    if (getenv("DLV_TEST_VERBOSE") || level == DLV_LOG_ERROR)
        fprintf(stderr, "    [delivery %d] %s\n", (int)level, line);
}

hostsim *hostsim_start(const hostsim_config *cfg)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/deliveryPluginConfig.xml", cfg->dir);
    FILE *f = fopen(path, "r");
    if (!f && cfg->server_url) { /* no server_url: the library's first start writes the file */
        f = fopen(path, "w");
        if (!f)
            return NULL;
        fprintf(f,
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<config>\n"
                "  <serviceMethodTimeoutMilliseconds>%ld</serviceMethodTimeoutMilliseconds>\n"
                "  <serverUrl>%s</serverUrl>\n"
                "  <connectToServerDelayInSeconds>0</connectToServerDelayInSeconds>\n",
                cfg->timeout_ms ? cfg->timeout_ms : 2000, cfg->server_url);
        if (cfg->terminal_id)
            fprintf(f, "  <terminalId>%s</terminalId>\n", cfg->terminal_id);
        fprintf(f, "</config>\n");
    }
    if (f)
        fclose(f);
    hostsim *h = calloc(1, sizeof *h);
    h->events = calloc(MAX_EVENTS, sizeof *h->events);
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->cond, NULL);
    dlv_options opts = {
        .version = DLV_OPTIONS_VERSION,
        .config_path = path,
        .front_config_path = cfg->front_config,
        .data_dir = cfg->dir,
        .terminal_name = "test terminal",
        .loop = cfg->loop,
        .on_event = on_event,
        .event_arg = h,
        .on_log = on_log,
        .log_level = getenv("DLV_TEST_VERBOSE") ? DLV_LOG_DEBUG : DLV_LOG_ERROR,
        .receipt_printer = cfg->receipt_printer,
        .a4_printer = cfg->a4_printer,
        .long_poll_seconds = cfg->long_poll_seconds ? cfg->long_poll_seconds : 2,
        .utc_offset_minutes = cfg->time_zone ? 0 : 180,
        .time_zone = cfg->time_zone,
        .regular_numbers_first = cfg->regular_first,
        .regular_numbers_last = cfg->regular_last,
    };
    dlv_error err = {0};
    if (dlv_ctx_create(&opts, &h->ctx, &err) != DLV_OK) {
        fprintf(stderr, "hostsim: %s\n", err.message);
        free(h->events);
        free(h);
        return NULL;
    }
    if (dlv_ctx_start(h->ctx) != DLV_OK) {
        fprintf(stderr, "hostsim: start: %s\n", dlv_last_error(h->ctx));
        dlv_ctx_destroy(h->ctx);
        free(h->events);
        free(h);
        return NULL;
    }
    return h;
}

int hostsim_stop(hostsim *h, int flush_ms)
{
    if (!h)
        return -1;
    int rc = dlv_ctx_stop(h->ctx, flush_ms);
    dlv_ctx_destroy(h->ctx);
    hostsim_clear(h);
    free(h->events);
    free(h->reply);
    free(h->dump);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->cond);
    free(h);
    return rc;
}

dlv_ctx *hostsim_ctx(hostsim *h)
{
    return h->ctx;
}

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

const char *hostsim_request(hostsim *h, const char *json)
{
    pthread_mutex_lock(&h->lock);
    h->replied = false;
    pthread_mutex_unlock(&h->lock);
    if (dlv_ctx_request(h->ctx, json, on_reply, h) != DLV_OK)
        return NULL;
    struct timespec ts;
    deadline_in(&ts, 10000);
    pthread_mutex_lock(&h->lock);
    while (!h->replied && pthread_cond_timedwait(&h->cond, &h->lock, &ts) == 0)
        ;
    const char *r = h->replied ? h->reply : NULL;
    pthread_mutex_unlock(&h->lock);
    return r;
}

static bool matches(const char *event, const char *const *frags, int n)
{
    for (int i = 0; i < n; i++)
        if (!strstr(event, frags[i]))
            return false;
    return true;
}

const char *hostsim_wait(hostsim *h, int timeout_ms, const char *fragment, ...)
{
    const char *frags[8];
    int n = 0;
    va_list ap;
    va_start(ap, fragment);
    for (const char *f = fragment; f && n < 8; f = va_arg(ap, const char *))
        frags[n++] = f;
    va_end(ap);
    struct timespec ts;
    deadline_in(&ts, timeout_ms);
    pthread_mutex_lock(&h->lock);
    const char *found = NULL;
    int seen = 0;
    for (;;) {
        for (; seen < h->count && !found; seen++)
            if (matches(h->events[seen], frags, n))
                found = h->events[seen];
        if (found || pthread_cond_timedwait(&h->cond, &h->lock, &ts) != 0)
            break;
    }
    for (; !found && seen < h->count; seen++)
        if (matches(h->events[seen], frags, n))
            found = h->events[seen];
    pthread_mutex_unlock(&h->lock);
    return found;
}

int hostsim_count(hostsim *h, const char *fragment)
{
    pthread_mutex_lock(&h->lock);
    int n = 0;
    for (int i = 0; i < h->count; i++)
        n += strstr(h->events[i], fragment) != NULL;
    pthread_mutex_unlock(&h->lock);
    return n;
}

void hostsim_clear(hostsim *h)
{
    pthread_mutex_lock(&h->lock);
    for (int i = 0; i < h->count; i++)
        free(h->events[i]);
    h->count = 0;
    pthread_mutex_unlock(&h->lock);
}

const char *hostsim_dump(hostsim *h)
{
    pthread_mutex_lock(&h->lock);
    size_t len = 1;
    for (int i = 0; i < h->count; i++)
        len += strlen(h->events[i]) + 1;
    free(h->dump);
    h->dump = malloc(len);
    h->dump[0] = '\0';
    for (int i = 0; i < h->count; i++) {
        strcat(h->dump, h->events[i]);
        strcat(h->dump, "\n");
    }
    pthread_mutex_unlock(&h->lock);
    return h->dump;
}
