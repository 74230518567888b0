/* A scriptable loopback HTTP server for network fault tests (in the spirit of curl's sws):
 * each accepted connection gets the behaviour currently set. Runs on its own thread. */
#ifndef DLV_TEST_FAULTSERVER_H
#define DLV_TEST_FAULTSERVER_H

typedef enum fault_mode {
    FAULT_OK_JSON,  /* 200 with {"ok":true} */
    FAULT_HTML,     /* 200 text/html: not the call-center */
    FAULT_ENDLESS,  /* 200, no length, an endless body */
    FAULT_REDIRECT, /* 302 to ftp:// */
    FAULT_TRICKLE,  /* headers, then one byte every 2 s */
    FAULT_RESET,    /* read the request, then reset the connection */
    FAULT_EMPTY,    /* close without a byte */
    FAULT_IDLE,     /* accept and never answer */
    FAULT_SHORT,    /* Content-Length 100, 10 bytes, close */
    FAULT_STATUS,   /* the configured status with Retry-After */
} fault_mode;

typedef struct fault_server fault_server;

fault_server *fault_server_start(void);
int fault_server_port(const fault_server *fs);
void fault_server_set(fault_server *fs, fault_mode mode, int status, int retry_after);
/* Connections accepted so far. */
int fault_server_connections(const fault_server *fs);
void fault_server_stop(fault_server *fs);

#endif
