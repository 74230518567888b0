/* Fixtures of the security suites (test_config_hardening.c, test_print_hardening.c,
 * test_net_hardening.c): a scratch folder holding a secret file an attacker would like to read,
 * a loopback listener that counts the connections made to it, and hostile XML documents. */
#ifndef DLV_TEST_HOSTILE_H
#define DLV_TEST_HOSTILE_H

#include <stddef.h>

#include "faultserver.h"

#define SECRET "TOPSECRET-XXE-7f3a"

extern char *dir;
extern char *secret_path; /* a local file an attacker would like to read */
extern fault_server *listener;
extern char listener_url[128];

/* Makes the folder, the secret file and the listener, and silences libxml2's error output;
 * hostile_end() removes them. */
void hostile_begin(void);
void hostile_end(void);

double now_s(void);

typedef struct hostile {
    const char *what;
    char *text;
} hostile;

/* The same attacks, wrapped in the root element of each kind of file: external entities (file,
 * http, in an attribute), an external DTD, a parameter entity, an unused internal entity, a
 * billion laughs and a quadratic blowup. Returns how many were written to `out` (at most 16). */
size_t hostile_documents(const char *root_open, const char *root_close, hostile *out);
void free_hostile(hostile *h, size_t n);

/* Writes `text` (which may be in another encoding) with its exact length. */
char *write_bytes(const char *name, const char *data, size_t len);

/* CUnit checks: refused within 2 s, the listener saw no new connection (nothing fetched), and
 * the message does not show the secret. */
void refused_quickly_without_fetching(const char *what, double started, int connections,
                                      const char *message);

#endif
