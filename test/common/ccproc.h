/* Test helpers around the call-center emulator: start it as a child process on a free loopback
 * port, talk HTTP to it, stop it. */
#ifndef DLV_TEST_CCPROC_H
#define DLV_TEST_CCPROC_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct cc_proc {
    pid_t pid;
    int port;
    char base[128]; /* http://127.0.0.1:PORT/resto */
    char db[512];
} cc_proc;

/* Starts delivery-callcenter (path from $DLV_CALLCENTER, else the build tree) with its database at
 * `db` and extra arguments (NULL-terminated, may be NULL). Waits until it listens (bounded).
 * Returns 0 on success. */
int cc_proc_start(cc_proc *cc, const char *db, const char *const *extra_args);
/* The emulator binary the tests use. */
const char *cc_proc_binary(void);
/* SIGTERM, then SIGKILL after a bound; returns the exit status (or -1 if it was killed). */
int cc_proc_stop(cc_proc *cc);

typedef struct http_result {
    long status;
    char *body;  /* NUL-terminated; free with http_result_free */
    cJSON *json; /* parsed body or NULL */
    char retry_after[16];
    double seconds; /* total time of the call */
    int curl_code;  /* CURLcode, 0 on a complete transfer */
} http_result;

/* One HTTP call. `headers` is a NULL-terminated list of "Name: value" lines. A body, when given,
 * is sent with Content-Type: application/json unless a Content-Type header is in `headers`. */
int http_call(const char *method, const char *url, const char *const *headers, const char *body,
              long timeout_ms, http_result *out);
void http_result_free(http_result *r);

/* Convenience: admin call on the emulator (`path` under {base}/admin/). */
int cc_admin(const cc_proc *cc, const char *method, const char *path, const char *body,
             http_result *out);

#endif
