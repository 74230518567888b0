/* The emulator's HTTP server. */
#ifndef CALLCENTER_HTTP_H
#define CALLCENTER_HTTP_H

#include <sys/socket.h>

#include "callcenter.h"

typedef struct cc_server cc_server;

/* A fault injected into a route (admin/faults). */
typedef struct cc_fault {
    char route[16]; /* commands | orders | register | heartbeat */
    char kind[16];  /* drop | status | delay | truncate | garbage | idle */
    int status;
    int retry_after;
    int delay_ms;
    int count;        /* requests it applies to; 0: until cleared */
    bool after_apply; /* drop: apply the request, then lose the answer */
    struct cc_fault *next;
} cc_fault;

cc_server *cc_server_start(cc_state *st, const struct sockaddr *addr, const char *base, char *err,
                           size_t errlen);
unsigned short cc_server_port(const cc_server *srv);
void cc_server_add_fault(cc_server *srv, const cc_fault *fault);
void cc_server_stop(cc_server *srv);

#endif
