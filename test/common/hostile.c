/* Fixtures of the security suites (hostile.h), moved here from the former
 * test_hardening_security.c. */
#define _GNU_SOURCE
#include "hostile.h"

#include <libxml/xmlerror.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testlib.h"

char *dir;
char *secret_path;
fault_server *listener;
char listener_url[128];

static void silent_xml_errors(void *ctx, const char *fmt, ...)
{
    (void)ctx;
    (void)fmt;
}

void hostile_begin(void)
{
    signal(SIGPIPE, SIG_IGN);
    dir = dlv_test_mkdtemp();
    secret_path = dlv_test_write_file(dir, "secret.txt", SECRET "\n");
    xmlSetGenericErrorFunc(NULL, silent_xml_errors);
    listener = fault_server_start();
    fault_server_set(listener, FAULT_OK_JSON, 200, 0);
    snprintf(listener_url, sizeof listener_url, "http://127.0.0.1:%d", fault_server_port(listener));
}

void hostile_end(void)
{
    fault_server_stop(listener);
    free(secret_path);
    dlv_test_rmdir(dir);
}

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- hostile XML ---- */

/* A billion laughs: ten levels of ten references, 10^10 expansions of "lol". */
static char *billion_laughs(const char *root_open, const char *root_close)
{
    size_t cap = 8192, len = 0;
    char *s = malloc(cap);
    len += (size_t)snprintf(s + len, cap - len,
                            "<?xml version=\"1.0\"?>\n<!DOCTYPE x [\n"
                            " <!ENTITY l0 \"lol\">\n");
    for (int i = 1; i <= 10; i++) {
        len += (size_t)snprintf(s + len, cap - len, " <!ENTITY l%d \"", i);
        for (int k = 0; k < 10; k++)
            len += (size_t)snprintf(s + len, cap - len, "&l%d;", i - 1);
        len += (size_t)snprintf(s + len, cap - len, "\">\n");
    }
    snprintf(s + len, cap - len, "]>\n%s&l10;%s\n", root_open, root_close);
    return s;
}

/* Quadratic blowup: one 64 KiB entity referenced 8000 times (the file stays under 1 MiB). */
static char *quadratic_blowup(const char *root_open, const char *root_close)
{
    size_t big = 64 * 1024, refs = 8000;
    size_t cap = big + refs * 4 + 1024;
    char *s = malloc(cap);
    size_t len = (size_t)snprintf(s, cap, "<!DOCTYPE x [<!ENTITY a \"");
    memset(s + len, 'A', big);
    len += big;
    len += (size_t)snprintf(s + len, cap - len, "\">]>%s", root_open);
    for (size_t i = 0; i < refs; i++) {
        memcpy(s + len, "&a;", 3);
        len += 3;
    }
    snprintf(s + len, cap - len, "%s", root_close);
    return s;
}

/* The same attacks, wrapped in the root element of each kind of file. */
size_t hostile_documents(const char *root_open, const char *root_close, hostile *out)
{
    size_t n = 0;
    char *s;
#define ADD(label, ...)                                                                            \
    do {                                                                                           \
        CU_ASSERT_FATAL(asprintf(&s, __VA_ARGS__) > 0);                                            \
        out[n++] = (hostile){label, s};                                                            \
    } while (0)
    ADD("external entity (file)",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM \"file://%s\">]>\n%s&xxe;%s",
        secret_path, root_open, root_close);
    ADD("external entity (http)",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM \"%s/xxe\">]>\n%s&xxe;%s",
        listener_url, root_open, root_close);
    ADD("external DTD", "<?xml version=\"1.0\"?>\n<!DOCTYPE x SYSTEM \"%s/evil.dtd\">\n%s%s",
        listener_url, root_open, root_close);
    ADD("parameter entity",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY %% p SYSTEM \"%s/p.dtd\"> %%p;]>\n%s%s",
        listener_url, root_open, root_close);
    ADD("external entity in an attribute",
        "<!DOCTYPE x [<!ENTITY xxe SYSTEM \"file://%s\">]>\n%s<a v=\"&xxe;\"/>%s", secret_path,
        root_open, root_close);
    ADD("unused internal entity", "<!DOCTYPE x [<!ENTITY harmless \"x\">]>\n%s%s", root_open,
        root_close);
    out[n++] = (hostile){"billion laughs", billion_laughs(root_open, root_close)};
    out[n++] = (hostile){"quadratic blowup", quadratic_blowup(root_open, root_close)};
#undef ADD
    return n;
}

void free_hostile(hostile *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(h[i].text);
}

char *write_bytes(const char *name, const char *data, size_t len)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", dir, name) < 0)
        return NULL;
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, len, f);
    fclose(f);
    return path;
}

void refused_quickly_without_fetching(const char *what, double started, int connections,
                                      const char *message)
{
    double took = now_s() - started;
    if (took > 2.0)
        fprintf(stderr, "\n  %s: took %.2f s to refuse\n", what, took);
    CU_ASSERT(took < 2.0);
    CU_ASSERT_EQUAL(fault_server_connections(listener), connections); /* nothing fetched */
    if (dlv_test_contains(message, SECRET))
        fprintf(stderr, "\n  %s: the message shows the file: %s\n", what, message);
    CU_ASSERT_FALSE(dlv_test_contains(message, SECRET));
}
