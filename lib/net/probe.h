/* Blocking, one-shot calls of the protocol for the doctor (lib/doctor): they run on a worker
 * thread or in the delivery-doctor tool, where no loop is turning, and they report the transport
 * failure finely enough to say which step broke (connect, TLS). */
#ifndef DLV__NET_PROBE_H
#define DLV__NET_PROBE_H

#include "net/protocol.h"

typedef enum dlv__probe_failure {
    DLV__PROBE_OK,      /* an HTTP answer arrived (any status) */
    DLV__PROBE_CONNECT, /* cannot connect, or timed out */
    DLV__PROBE_TLS,     /* the certificate is not trusted, or the handshake failed */
    DLV__PROBE_OTHER    /* anything else (out of memory, a bad address, ...) */
} dlv__probe_failure;

typedef struct dlv__probe_result {
    dlv__probe_failure failure;
    long status;      /* HTTP status, 0 when none arrived */
    char error[256];  /* the transport's text for the outcome ("No error" when none) */
    char body[65536]; /* the answer, cut at the buffer's size, NUL-terminated */
    size_t body_len;
} dlv__probe_result;

/* Runs `req` against `server_url` with the terminal's headers (`token` NULL: none) and waits for
 * the answer at most `timeout_ms`. */
void dlv__probe_call(const char *server_url, const dlv__proto_request *req, const char *terminal_id,
                     const char *token, long timeout_ms, const char *ca_file,
                     dlv__probe_result *out);

/* The parts of serverUrl the doctor names in its checks; NULL members when it does not parse.
 * `port` is the scheme's default when the URL has none. Free with dlv__probe_url_free. */
typedef struct dlv__probe_url {
    char *host, *port, *scheme;
} dlv__probe_url;
void dlv__probe_url_split(const char *url, dlv__probe_url *out);
void dlv__probe_url_free(dlv__probe_url *u);

#endif
