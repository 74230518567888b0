/* A POS host in a test: runs a dlv_ctx on its own thread, records every event and reply, and
 * waits (bounded) for the ones a test expects. */
#ifndef DLV_TEST_HOSTSIM_H
#define DLV_TEST_HOSTSIM_H

#include <stdbool.h>

#include "delivery/delivery.h"

typedef struct hostsim hostsim;

typedef struct hostsim_config {
    const char *dir;          /* folder for deliveryPluginConfig.xml and the data */
    const char *server_url;   /* the call-center; NULL: no file written (a first start) */
    const char *terminal_id;  /* NULL: generated */
    const char *front_config; /* NULL: none */
    const char *receipt_printer, *a4_printer;
    long timeout_ms;                       /* serviceMethodTimeoutMilliseconds; 0: 2000 */
    int long_poll_seconds;                 /* 0: 2 */
    void *loop;                            /* attach to this uv_loop_t instead of a thread */
    long long regular_first, regular_last; /* the host's regular order numbers (0, 0: none) */
    const char *time_zone; /* dlv_options.time_zone, no fixed offset; NULL: a fixed +180 */
} hostsim_config;

/* Writes the config file and creates + starts the context. NULL on failure (message printed). */
hostsim *hostsim_start(const hostsim_config *cfg);
/* Stops (flushing up to flush_ms), destroys, frees; returns dlv_ctx_stop's code. */
int hostsim_stop(hostsim *h, int flush_ms);
dlv_ctx *hostsim_ctx(hostsim *h);

/* Sends a request and waits for its reply (bounded); returns the reply JSON (owned by h). */
const char *hostsim_request(hostsim *h, const char *json);
/* Waits until an event containing every fragment (NULL-terminated list) has arrived since the
 * last hostsim_clear; returns it (owned by h) or NULL after timeout_ms. */
const char *hostsim_wait(hostsim *h, int timeout_ms, const char *fragment, ...);
/* Counts recorded events containing the fragment. */
int hostsim_count(hostsim *h, const char *fragment);
/* Forgets recorded events. */
void hostsim_clear(hostsim *h);
/* Every event recorded so far, one per line (owned by h), for failure messages. */
const char *hostsim_dump(hostsim *h);

#endif
