/* TLS is always verified: against a local test CA (made by the openssl tool), a server signed by
 * it is accepted when the CA is trusted, and refused — before any request byte is sent — when the
 * certificate is self-signed, issued by an unknown CA, or names another host. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "faultserver.h"
#include "net/http.h"
#include "net/protocol.h"
#include "testlib.h"

static char *dir;

static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

/* A CA, a server certificate for `host` signed by it, and a self-signed one. */
static int make_certs(void)
{
    return sh("cd %s && "
              "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
              "-subj '/CN=Test Call-Center CA' >/dev/null 2>&1 && "
              "openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr "
              "-subj '/CN=127.0.0.1' >/dev/null 2>&1 && "
              "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext && "
              "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
              "-out srv.pem -days 2 -extfile san.ext >/dev/null 2>&1 && "
              "printf 'subjectAltName=DNS:wrong.example\\n' > wrong.ext && "
              "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
              "-out wrong.pem -days 2 -extfile wrong.ext >/dev/null 2>&1 && "
              "openssl req -x509 -newkey rsa:2048 -nodes -keyout self.key -out self.pem -days 2 "
              "-subj '/CN=127.0.0.1' -addext 'subjectAltName=IP:127.0.0.1' >/dev/null 2>&1",
              dir);
}

typedef struct tls_server {
    pid_t pid;
    int port;
    int stdin_w; /* s_server ends a session when its stdin ends: keep it open */
    char log[600];
} tls_server;

/* openssl s_server: with `www` it answers with a status page; without, it writes whatever the
 * client sends to its log (and never answers), which shows whether a request got through. */
static int server_start(tls_server *s, const char *cert, const char *key, bool www)
{
    fault_server *probe = fault_server_start(); /* a free port */
    s->port = fault_server_port(probe);
    fault_server_stop(probe);
    snprintf(s->log, sizeof s->log, "%s/s_server-%s.log", dir, cert);
    int in[2];
    if (pipe(in) != 0)
        return -1;
    s->pid = fork();
    if (s->pid == 0) {
        dup2(in[0], 0);
        close(in[1]);
        char c[600], k[600], p[16];
        snprintf(c, sizeof c, "%s/%s", dir, cert);
        snprintf(k, sizeof k, "%s/%s", dir, key);
        snprintf(p, sizeof p, "%d", s->port);
        FILE *log = freopen(s->log, "w", stdout);
        (void)log;
        if (www)
            execlp("openssl", "openssl", "s_server", "-accept", p, "-cert", c, "-key", k, "-www",
                   "-quiet", (char *)NULL);
        else
            execlp("openssl", "openssl", "s_server", "-accept", p, "-cert", c, "-key", k, "-quiet",
                   (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    s->stdin_w = in[1];
    usleep(400000);
    return 0;
}

static void server_stop(tls_server *s)
{
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    close(s->stdin_w);
}

typedef struct result {
    int calls;
    dlv__http_response r;
} result;

static void on_done(void *arg, const dlv__http_response *resp)
{
    result *o = arg;
    o->calls++;
    o->r = *resp;
    o->r.body = NULL;
}

static result get(int port, const char *ca_file, long timeout_ms)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    dlv__http *http;
    dlv__http_options opts = {.ca_file = ca_file, .connect_timeout_ms = 3000};
    dlv__http_create(&loop, &opts, &http, NULL);
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/resto/delivery/v1/orders?secret=1", port);
    result o = {0};
    dlv__http_request req = {.method = "GET", .url = url, .timeout_ms = timeout_ms};
    dlv__http_start(http, &req, on_done, &o, NULL, NULL);
    while (o.calls == 0 && uv_run(&loop, UV_RUN_ONCE))
        ;
    dlv__http_close(http, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
    return o;
}

static bool request_reached(const tls_server *s)
{
    char *log = dlv_test_read_file(s->log, NULL);
    bool seen = log && strstr(log, "secret=1") != NULL;
    free(log);
    return seen;
}

static void trusted_ca_accepted(void)
{
    tls_server s;
    server_start(&s, "srv.pem", "srv.key", true);
    char ca[600];
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    result o = get(s.port, ca, 5000);
    CU_ASSERT_EQUAL(o.r.err, DLV_OK);
    CU_ASSERT_EQUAL(o.r.status, 200);
    server_stop(&s);
    /* The control for the checks below: a trusted connection's request shows in the log. */
    server_start(&s, "srv.pem", "srv.key", false);
    o = get(s.port, ca, 800);
    CU_ASSERT_EQUAL(o.r.err, DLV_ETIMEDOUT);
    server_stop(&s);
    CU_ASSERT_TRUE(request_reached(&s));
}

static void unknown_ca_refused(void)
{
    tls_server s;
    server_start(&s, "srv.pem", "srv.key", false);
    result o = get(s.port, NULL, 3000); /* the system store does not know the test CA */
    CU_ASSERT_EQUAL(o.r.err, DLV_ETLS);
    CU_ASSERT_FALSE(request_reached(&s));
    dlv__proto_answer a;
    dlv__http_response resp = o.r;
    dlv__proto_classify(&resp, &a);
    CU_ASSERT_FALSE(a.retryable); /* a trust problem does not heal by retrying */
    server_stop(&s);
}

static void self_signed_refused(void)
{
    tls_server s;
    server_start(&s, "self.pem", "self.key", false);
    char ca[600];
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    result o = get(s.port, ca, 3000);
    CU_ASSERT_EQUAL(o.r.err, DLV_ETLS);
    CU_ASSERT_FALSE(request_reached(&s));
    server_stop(&s);
}

static void wrong_host_refused(void)
{
    tls_server s;
    server_start(&s, "wrong.pem", "srv.key", false);
    char ca[600];
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    result o = get(s.port, ca, 3000);
    CU_ASSERT_EQUAL(o.r.err, DLV_ETLS);
    DLV_ASSERT_CONTAINS(o.r.error_text, "SSL");
    CU_ASSERT_FALSE(request_reached(&s));
    server_stop(&s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    dir = dlv_test_mkdtemp();
    if (make_certs() != 0) {
        fprintf(stderr, "test_tls: cannot make test certificates with the openssl tool\n");
        return 1;
    }
    static const dlv_test_case cases[] = {
        DLV_TEST(trusted_ca_accepted),
        DLV_TEST(unknown_ca_refused),
        DLV_TEST(self_signed_refused),
        DLV_TEST(wrong_host_refused),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("tls", cases);
    dlv_test_rmdir(dir);
    curl_global_cleanup();
    return rc;
}
