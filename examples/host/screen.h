/* The delivery screen of the reference host (docs/screen.md): a small HTTP server
 * (libmicrohttpd, a thread per connection) serving one page compiled into the binary, the
 * library's events as Server-Sent Events, and the request API as POST /api/request. */
#ifndef DLV_HOST_SCREEN_H
#define DLV_HOST_SCREEN_H

#include <stddef.h>

#include "delivery/plugin.h"

typedef struct screen screen;

/* Starts serving on `addr` ("HOST:PORT", IPv4). `token` (may be NULL) is required on every API
 * call and event stream as the X-Delivery-Token header; a non-loopback address without a token is
 * refused. `users_path` (may be NULL) names the JSON file of users who may log in on the screen.
 * Returns NULL with the reason in `why`. */
screen *screen_start(const char *addr, const char *token, const char *users_path,
                     const dlv_plugin_api *api, dlv_ctx *ctx, char *why, size_t why_size);

/* Forwards one event line of the library to every connected page; any thread. */
void screen_event(screen *s, const char *json);

/* Ends every event stream, stops the server and frees it; NULL does nothing. */
void screen_stop(screen *s);

#endif
