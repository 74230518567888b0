/* The sandbox's HTTP server: iikoCloud's /api/1/ routes, the admin API and injected faults. */
#ifndef IIKOCLOUD_HTTP_H
#define IIKOCLOUD_HTTP_H

#include <sys/socket.h>

#include "iikocloud.h"

typedef struct ik_server ik_server;

ik_server *ik_server_start(ik_state *st, const struct sockaddr *addr, char *err, size_t errlen);
unsigned short ik_server_port(const ik_server *srv);
void ik_server_stop(ik_server *srv);

#endif
