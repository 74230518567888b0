/* A scriptable call-center backend for unit tests of the runtime (lib/net/backend.h): every call
 * the runtime makes is recorded and stays pending until the test completes it with the answer it
 * wants (decoded from JSON text, or an error classification). Loop thread only. */
#ifndef DLV_TEST_FAKEBACKEND_H
#define DLV_TEST_FAKEBACKEND_H

#include "net/backend.h"

typedef enum fake_op { FAKE_REGISTER, FAKE_POLL, FAKE_SEND, FAKE_HEARTBEAT } fake_op;

typedef struct fake_call {
    fake_op op;
    int64_t since_revision; /* poll */
    char **commands;        /* send: copies of the command objects */
    size_t command_count;
    long pending_commands; /* heartbeat */
    dlv__backend_cb cb;
    void *arg;
    struct fake_call *next;
} fake_call;

/* What the fake saw, over every backend it opened since fake_backend_reset. */
typedef struct fake_stats {
    int opens, closes;
    int calls[4]; /* by fake_op */
} fake_stats;

extern const dlv__backend_methods fake_backend_methods;

/* Registers the fake as the default backend (and clears the stats); uninstall restores. */
void fake_backend_install(void);
void fake_backend_uninstall(void);
const fake_stats *fake_backend_stats(void);

/* The oldest pending call of this kind, or NULL. */
fake_call *fake_pending(fake_op op);
/* Runs `loop` (UV_RUN_NOWAIT turns, sleeping 1 ms between) until a call of this kind is
 * pending or `ms` pass. */
fake_call *fake_wait(void *loop, fake_op op, int ms);

/* Completions: each runs the call's callback and frees the call. `json` NULL for a heartbeat. */
void fake_complete_ok(fake_call *c, const char *json);
void fake_complete_error(fake_call *c, int err, bool retryable, long retry_after_s,
                         const char *message);
/* The id ("id":"…") of the n-th command of a send call, in a static buffer. */
const char *fake_command_id(const fake_call *c, size_t n);

#endif
