/* Printers: the ESC/POS emulator on loopback TCP (online, paper out, cover open, offline, silent,
 * closing mid-job), a pty standing in for a serial printer, files, null:, the registry with
 * integrators' backends (async, blocking, completing from another thread, closing late), and
 * URIs. Every loop must close clean. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "print/print.h"
#include "print/printer_impl.h"
#include "printer_emulator.h"
#include "testlib.h"

typedef struct result {
    int calls;
    int status;
    unsigned flags;
    char msg[DLV_ERROR_MESSAGE_MAX];
    int order; /* position among completions */
} result;

static int completions;

static void on_done(void *arg, int status, unsigned flags, const char *msg)
{
    result *r = arg;
    r->calls++;
    r->status = status;
    r->flags = flags;
    r->order = ++completions;
    snprintf(r->msg, sizeof r->msg, "%s", msg ? msg : "");
}

static void on_guard(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

/* Runs the loop until *calls reaches want or guard_ms pass. */
static void run_until(uv_loop_t *loop, const int *calls, int want, int guard_ms)
{
    uv_timer_t guard;
    bool fired = false;
    uv_timer_init(loop, &guard);
    guard.data = &fired;
    uv_timer_start(&guard, on_guard, (uint64_t)guard_ms, 0);
    while (*calls < want && !fired)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

static void on_closed(void *arg)
{
    (*(int *)arg)++;
}

static void close_and_finish(uv_loop_t *loop, dlv_printer *p)
{
    int closed = 0;
    dlv__printer_close(p, on_closed, &closed);
    uv_run(loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(closed, 1);
    CU_ASSERT_EQUAL(uv_loop_close(loop), 0);
}

/* Job bytes with no DLE in them, like a rendered receipt. */
static unsigned char *job_bytes(size_t n, char seed)
{
    unsigned char *b = malloc(n);
    for (size_t i = 0; i < n; i++)
        b[i] = (i % 50 == 49) ? '\n' : (unsigned char)('A' + (seed + i) % 26);
    b[0] = 0x1B, b[1] = '@';
    return b;
}

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static dlv_printer *open_ok(uv_loop_t *loop, const char *uri)
{
    dlv_printer *p = NULL;
    dlv_error err = {0};
    int rc = dlv__printer_open(loop, uri, &p, &err);
    if (rc != DLV_OK)
        fprintf(stderr, "\n  open %s: %s\n", uri, err.message);
    CU_ASSERT_EQUAL_FATAL(rc, DLV_OK);
    return p;
}

static int submit(dlv_printer *p, const void *data, size_t len, result *r)
{
    dlv__printer_job_options o = {DLV_PRINT_RAW, "test job"};
    return dlv__printer_submit(p, data, len, &o, on_done, r, NULL);
}

/* ---- TCP ---- */

static printer_emulator *pe;
static char uri[256];

static void tcp_uri(const char *opts)
{
    snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d%s", printer_emulator_port(pe), opts);
    printer_emulator_reset(pe);
    printer_emulator_set_state(pe, PE_ONLINE);
    printer_emulator_close_after(pe, -1);
}

static void tcp_online_prints_once(void)
{
    tcp_uri("?timeout=3000");
    uv_loop_t loop;
    uv_loop_init(&loop);
    dlv_printer *p = open_ok(&loop, uri);
    size_t n = 30000;
    unsigned char *a = job_bytes(n, 0), *b = job_bytes(777, 5);
    result ra = {0}, rb = {0};
    CU_ASSERT_EQUAL(submit(p, a, n, &ra), DLV_OK);
    CU_ASSERT_EQUAL(submit(p, b, 777, &rb), DLV_OK);
    run_until(&loop, &rb.calls, 1, 5000);
    CU_ASSERT_EQUAL(ra.calls, 1);
    CU_ASSERT_EQUAL(rb.calls, 1);
    CU_ASSERT_EQUAL(ra.status, DLV_OK);
    CU_ASSERT_EQUAL(rb.status, DLV_OK);
    CU_ASSERT(ra.order < rb.order); /* in order, one at a time */
    CU_ASSERT(ra.flags & DLV_PRINTER_STATUS_KNOWN);
    DLV_ASSERT_CONTAINS(ra.msg, "confirmed");
    unsigned char *got;
    size_t len = printer_emulator_job_bytes(pe, &got);
    CU_ASSERT_EQUAL(len, n + 777); /* every byte exactly once */
    CU_ASSERT(len == n + 777 && memcmp(got, a, n) == 0 && memcmp(got + n, b, 777) == 0);
    CU_ASSERT_EQUAL(printer_emulator_connections(pe), 2);
    CU_ASSERT_EQUAL(printer_emulator_status_queries(pe), 8); /* 3 before and 1 after each */
    dlv_printer_counters cnt;
    CU_ASSERT_EQUAL(dlv__printer_ctl(p, DLV_PRINTER_CTL_COUNTERS, &cnt), DLV_OK);
    CU_ASSERT_EQUAL(cnt.jobs, 2);
    CU_ASSERT_EQUAL(cnt.bytes, n + 777);
    CU_ASSERT_EQUAL(dlv__printer_ctl(p, 4242, NULL), DLV_ENOTSUP);
    free(got);
    free(a);
    free(b);
    close_and_finish(&loop, p);
}

static void tcp_not_ready_sends_nothing(void)
{
    static const struct {
        pe_state state;
        int code;
        const char *says;
    } cases[] = {
        {PE_PAPER_OUT, DLV_EPAPEROUT, "out of paper"},
        {PE_COVER_OPEN, DLV_ECOVEROPEN, "cover is open"},
        {PE_OFFLINE, DLV_EOFFLINE, "offline"},
        {PE_GARBAGE, DLV_ENOTSUP, "status=0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tcp_uri("?timeout=3000");
        printer_emulator_set_state(pe, cases[i].state);
        uv_loop_t loop;
        uv_loop_init(&loop);
        dlv_printer *p = open_ok(&loop, uri);
        unsigned char *a = job_bytes(5000, 1);
        result r = {0};
        CU_ASSERT_EQUAL(submit(p, a, 5000, &r), DLV_OK);
        run_until(&loop, &r.calls, 1, 5000);
        CU_ASSERT_EQUAL(r.calls, 1);
        CU_ASSERT_EQUAL(r.status, cases[i].code);
        DLV_ASSERT_CONTAINS(r.msg, cases[i].says);
        CU_ASSERT(!dlv__print_maybe_printed(r.status));
        CU_ASSERT_EQUAL(printer_emulator_job_bytes(pe, NULL), 0); /* not a single job byte */
        CU_ASSERT_EQUAL(printer_emulator_status_queries(pe), 3);
        /* Held, not lost: once the printer is ready the same job prints. */
        printer_emulator_set_state(pe, PE_ONLINE);
        result r2 = {0};
        CU_ASSERT_EQUAL(submit(p, a, 5000, &r2), DLV_OK);
        run_until(&loop, &r2.calls, 1, 5000);
        CU_ASSERT_EQUAL(r2.status, DLV_OK);
        CU_ASSERT_EQUAL(printer_emulator_job_bytes(pe, NULL), 5000);
        free(a);
        close_and_finish(&loop, p);
    }
}

static void tcp_closed_mid_job(void)
{
    tcp_uri("?timeout=3000");
    printer_emulator_close_after(pe, 1000);
    uv_loop_t loop;
    uv_loop_init(&loop);
    dlv_printer *p = open_ok(&loop, uri);
    size_t n = 300000;
    unsigned char *a = job_bytes(n, 2);
    result r = {0};
    CU_ASSERT_EQUAL(submit(p, a, n, &r), DLV_OK);
    run_until(&loop, &r.calls, 1, 5000);
    CU_ASSERT_EQUAL(r.calls, 1);
    CU_ASSERT_EQUAL(r.status, DLV_EPRINTER);
    DLV_ASSERT_CONTAINS(r.msg, "connection closed after ");
    DLV_ASSERT_CONTAINS(r.msg, " of 300000 bytes");
    CU_ASSERT(dlv__print_maybe_printed(r.status));
    CU_ASSERT_EQUAL(printer_emulator_job_bytes(pe, NULL), 1000);
    CU_ASSERT_EQUAL(printer_emulator_connections(pe), 1); /* never resent by this layer */
    free(a);
    close_and_finish(&loop, p);
}

static void tcp_silent_times_out(void)
{
    tcp_uri("?timeout=300");
    printer_emulator_set_state(pe, PE_SILENT);
    uv_loop_t loop;
    uv_loop_init(&loop);
    dlv_printer *p = open_ok(&loop, uri);
    unsigned char *a = job_bytes(100, 3);
    result r = {0};
    long t0 = now_ms();
    CU_ASSERT_EQUAL(submit(p, a, 100, &r), DLV_OK);
    run_until(&loop, &r.calls, 1, 5000);
    long took = now_ms() - t0;
    CU_ASSERT_EQUAL(r.status, DLV_ETIMEDOUT);
    DLV_ASSERT_CONTAINS(r.msg, "nothing sent");
    CU_ASSERT(took >= 250 && took < 3000);
    CU_ASSERT_EQUAL(printer_emulator_job_bytes(pe, NULL), 0);
    free(a);
    close_and_finish(&loop, p);
}

static void tcp_refused_and_no_status(void)
{
    /* A port nobody listens on. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    bind(s, (struct sockaddr *)&a, sizeof a);
    getsockname(s, (struct sockaddr *)&a, &al);
    close(s);
    char u[128];
    snprintf(u, sizeof u, "tcp://127.0.0.1:%d?timeout=2000", ntohs(a.sin_port));
    uv_loop_t loop;
    uv_loop_init(&loop);
    dlv_printer *p = open_ok(&loop, u);
    result r = {0};
    CU_ASSERT_EQUAL(submit(p, "x", 1, &r), DLV_OK);
    run_until(&loop, &r.calls, 1, 5000);
    CU_ASSERT_EQUAL(r.status, DLV_EOFFLINE);
    DLV_ASSERT_CONTAINS(r.msg, "unreachable");
    close_and_finish(&loop, p);

    /* status=0: a one-way printer gets the bytes with no questions asked. */
    tcp_uri("?status=0&timeout=2000");
    uv_loop_init(&loop);
    p = open_ok(&loop, uri);
    unsigned char *b = job_bytes(4000, 4);
    result r2 = {0};
    CU_ASSERT_EQUAL(submit(p, b, 4000, &r2), DLV_OK);
    run_until(&loop, &r2.calls, 1, 5000);
    CU_ASSERT_EQUAL(r2.status, DLV_OK);
    CU_ASSERT_EQUAL(printer_emulator_status_queries(pe), 0);
    CU_ASSERT_EQUAL(printer_emulator_job_bytes(pe, NULL), 4000);
    free(b);
    close_and_finish(&loop, p);
}

static void tcp_query_status(void)
{
    tcp_uri("?timeout=2000");
    uv_loop_t loop;
    uv_loop_init(&loop);
    dlv_printer *p = open_ok(&loop, uri);
    result r = {0};
    CU_ASSERT_EQUAL(dlv__printer_query(p, on_done, &r, NULL), DLV_OK);
    run_until(&loop, &r.calls, 1, 5000);
    CU_ASSERT_EQUAL(r.status, DLV_OK);
    CU_ASSERT_EQUAL(r.flags, DLV_PRINTER_STATUS_KNOWN);
    printer_emulator_set_state(pe, PE_PAPER_OUT);
    result r2 = {0};
    CU_ASSERT_EQUAL(dlv__printer_query(p, on_done, &r2, NULL), DLV_OK);
    run_until(&loop, &r2.calls, 1, 5000);
    CU_ASSERT_EQUAL(r2.status, DLV_OK);
    CU_ASSERT_EQUAL(r2.flags, DLV_PRINTER_STATUS_KNOWN | DLV_PRINTER_STATUS_OFFLINE |
                                  DLV_PRINTER_STATUS_PAPER_OUT);
    CU_ASSERT_EQUAL(printer_emulator_job_bytes(pe, NULL), 0);
    close_and_finish(&loop, p);
}

/* Closing fails what has not started and aborts what has; callbacks come before closed_cb. */
static void tcp_close_with_jobs(void)
{
    tcp_uri("?timeout=2000");
    uv_loop_t loop;
    uv_loop_init(&loop);
    dlv_printer *p = open_ok(&loop, uri);
    result r[3] = {{0}};
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(submit(p, "abc", 3, &r[i]), DLV_OK);
    int closed = 0;
    dlv__printer_close(p, on_closed, &closed);
    CU_ASSERT_EQUAL(submit(p, "abc", 3, &r[0]), DLV_ESTOPPED); /* refused: no callback */
    uv_run(&loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(closed, 1);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(r[i].calls, 1);
        CU_ASSERT_EQUAL(r[i].status, DLV_ESTOPPED);
    }
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
    CU_ASSERT_EQUAL(printer_emulator_job_bytes(pe, NULL), 0);
}

/* ---- device: a pty stands in for a serial printer ---- */

static void device_pty(void)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    CU_ASSERT_FATAL(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
    char slave[128];
    snprintf(slave, sizeof slave, "%s", ptsname(master));
    int keep = open(slave, O_RDWR | O_NOCTTY);
    struct termios tio;
    tcgetattr(keep, &tio);
    cfmakeraw(&tio);
    tcsetattr(keep, TCSANOW, &tio);
    printer_emulator *dev = printer_emulator_start_fd(master);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dev);

    uv_loop_t loop;
    uv_loop_init(&loop);
    char u[256];
    snprintf(u, sizeof u, "dev:%s?status=1&timeout=1000", slave);
    dlv_printer *p = open_ok(&loop, u);
    unsigned char *a = job_bytes(3000, 6);
    result r = {0};
    CU_ASSERT_EQUAL(submit(p, a, 3000, &r), DLV_OK);
    run_until(&loop, &r.calls, 1, 5000);
    CU_ASSERT_EQUAL(r.status, DLV_OK);
    for (int i = 0; i < 200 && printer_emulator_job_bytes(dev, NULL) < 3000; i++)
        usleep(10000);
    unsigned char *got;
    CU_ASSERT_EQUAL(printer_emulator_job_bytes(dev, &got), 3000);
    CU_ASSERT(memcmp(got, a, 3000) == 0);
    free(got);

    printer_emulator_reset(dev);
    printer_emulator_set_state(dev, PE_COVER_OPEN);
    result r2 = {0};
    CU_ASSERT_EQUAL(submit(p, a, 3000, &r2), DLV_OK);
    run_until(&loop, &r2.calls, 1, 5000);
    CU_ASSERT_EQUAL(r2.status, DLV_ECOVEROPEN);
    usleep(50000);
    CU_ASSERT_EQUAL(printer_emulator_job_bytes(dev, NULL), 0);
    result r3 = {0};
    CU_ASSERT_EQUAL(dlv__printer_query(p, on_done, &r3, NULL), DLV_OK);
    run_until(&loop, &r3.calls, 1, 5000);
    CU_ASSERT_EQUAL(r3.status, DLV_OK);
    CU_ASSERT(r3.flags & DLV_PRINTER_STATUS_COVER_OPEN);
    close_and_finish(&loop, p);

    /* A device that is not there: nothing sent, worth retrying. */
    uv_loop_init(&loop);
    p = open_ok(&loop, "dev:/dev/usb/lp9-not-here?timeout=500");
    result r4 = {0};
    CU_ASSERT_EQUAL(submit(p, a, 10, &r4), DLV_OK);
    run_until(&loop, &r4.calls, 1, 5000);
    CU_ASSERT_EQUAL(r4.status, DLV_EOFFLINE);
    DLV_ASSERT_CONTAINS(r4.msg, "lp9-not-here");
    close_and_finish(&loop, p);
    free(a);
    printer_emulator_stop(dev);
    close(keep);
}

/* ---- files and null ---- */

static void file_raw_and_pdf(void)
{
    char *dir = dlv_test_mkdtemp();
    char u[600];
    uv_loop_t loop;
    uv_loop_init(&loop);
    snprintf(u, sizeof u, "file:%s/receipt.bin", dir);
    dlv_printer *p = open_ok(&loop, u);
    result r1 = {0}, r2 = {0};
    CU_ASSERT_EQUAL(submit(p, "abc", 3, &r1), DLV_OK);
    CU_ASSERT_EQUAL(submit(p, "def", 3, &r2), DLV_OK);
    run_until(&loop, &r2.calls, 1, 5000);
    CU_ASSERT_EQUAL(r1.status, DLV_OK);
    CU_ASSERT_EQUAL(r2.status, DLV_OK);
    snprintf(u, sizeof u, "%s/receipt.bin", dir);
    char *content = dlv_test_read_file(u, NULL);
    CU_ASSERT_STRING_EQUAL(content, "abcdef");
    free(content);
    result rq = {0};
    CU_ASSERT_EQUAL(dlv__printer_query(p, on_done, &rq, NULL), DLV_ENOTSUP);
    dlv_printer_counters cnt;
    CU_ASSERT_EQUAL(dlv__printer_ctl(p, DLV_PRINTER_CTL_COUNTERS, &cnt), DLV_OK);
    CU_ASSERT_EQUAL(cnt.jobs, 2);
    close_and_finish(&loop, p);
    CU_ASSERT_EQUAL(rq.calls, 0);

    /* PDF: one file per document in a folder, or exactly the named .pdf. */
    uv_loop_init(&loop);
    snprintf(u, sizeof u, "file://%s/a4", dir);
    p = open_ok(&loop, u);
    dlv__printer_job_options o = {DLV_PRINT_PDF, "Накладная № 7"};
    result a = {0}, b = {0};
    CU_ASSERT_EQUAL(dlv__printer_submit(p, "%PDF-1", 6, &o, on_done, &a, NULL), DLV_OK);
    CU_ASSERT_EQUAL(dlv__printer_submit(p, "%PDF-2", 6, &o, on_done, &b, NULL), DLV_OK);
    run_until(&loop, &b.calls, 1, 5000);
    CU_ASSERT_EQUAL(a.status, DLV_OK);
    CU_ASSERT_EQUAL(b.status, DLV_OK);
    DLV_ASSERT_CONTAINS(a.msg, "/a4/Накладная_№_7-1.pdf");
    DLV_ASSERT_CONTAINS(b.msg, "/a4/Накладная_№_7-2.pdf");
    snprintf(u, sizeof u, "%s/a4/Накладная_№_7-2.pdf", dir);
    content = dlv_test_read_file(u, NULL);
    CU_ASSERT_STRING_EQUAL(content, "%PDF-2");
    free(content);
    close_and_finish(&loop, p);

    uv_loop_init(&loop);
    snprintf(u, sizeof u, "file:%s/last.pdf", dir);
    p = open_ok(&loop, u);
    result c = {0};
    CU_ASSERT_EQUAL(dlv__printer_submit(p, "%PDF-3", 6, &o, on_done, &c, NULL), DLV_OK);
    run_until(&loop, &c.calls, 1, 5000);
    CU_ASSERT_EQUAL(c.status, DLV_OK);
    snprintf(u, sizeof u, "%s/last.pdf", dir);
    content = dlv_test_read_file(u, NULL);
    CU_ASSERT_STRING_EQUAL(content, "%PDF-3");
    free(content);
    close_and_finish(&loop, p);

    /* Cannot write: an error, not a hang. */
    uv_loop_init(&loop);
    p = open_ok(&loop, "file:/nonexistent-dir/x/receipt.bin");
    result d = {0};
    CU_ASSERT_EQUAL(submit(p, "x", 1, &d), DLV_OK);
    run_until(&loop, &d.calls, 1, 5000);
    CU_ASSERT_EQUAL(d.status, DLV_EIO);
    close_and_finish(&loop, p);
    dlv_test_rmdir(dir);
}

static void null_counts(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    dlv_printer *p = open_ok(&loop, "null:");
    result r = {0}, q = {0};
    CU_ASSERT_EQUAL(submit(p, "12345", 5, &r), DLV_OK);
    CU_ASSERT_EQUAL(r.calls, 0); /* never from inside submit */
    CU_ASSERT_EQUAL(dlv__printer_query(p, on_done, &q, NULL), DLV_OK);
    run_until(&loop, &q.calls, 1, 2000);
    CU_ASSERT_EQUAL(r.calls, 1);
    CU_ASSERT_EQUAL(r.status, DLV_OK);
    CU_ASSERT_EQUAL(q.flags, DLV_PRINTER_STATUS_KNOWN);
    dlv_printer_counters c;
    CU_ASSERT_EQUAL(dlv__printer_ctl(p, DLV_PRINTER_CTL_COUNTERS, &c), DLV_OK);
    CU_ASSERT_EQUAL(c.jobs, 1);
    CU_ASSERT_EQUAL(c.bytes, 5);
    close_and_finish(&loop, p);
}

/* ---- URIs and the registry ---- */

static void uris(void)
{
    static const struct {
        const char *uri;
        int code;
    } bad[] = {
        {"no-scheme-here", DLV_EINVAL},
        {":x", DLV_EINVAL},
        {"tcp://127.0.0.1:9100?codepage=300", DLV_EINVAL},
        {"tcp://127.0.0.1:9100?width=20x", DLV_EINVAL},
        {"tcp://127.0.0.1:9100?timeout=0", DLV_EINVAL},
        {"tcp://:9100", DLV_EINVAL},
        {"tcp://host:99999", DLV_EINVAL},
        {"tcp://[::1", DLV_EINVAL},
        {"file:", DLV_EINVAL},
        {"file:/tmp/x%zz", DLV_EINVAL},
        {"cups:", DLV_EINVAL},
        {"cups:a/b", DLV_EINVAL},
        {"zzz:whatever", DLV_ENOTFOUND},
    };
    uv_loop_t loop;
    uv_loop_init(&loop);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        dlv_printer *p = (dlv_printer *)&loop; /* must be reset to NULL */
        dlv_error err = {0};
        int rc = dlv__printer_open(&loop, bad[i].uri, &p, &err);
        if (rc != bad[i].code)
            fprintf(stderr, "\n  %s: %d %s\n", bad[i].uri, rc, err.message);
        CU_ASSERT_EQUAL(rc, bad[i].code);
        CU_ASSERT_PTR_NULL(p);
        CU_ASSERT(err.message[0] != '\0');
    }
    dlv_printer *p = open_ok(&loop, "NULL:?codepage=7&width=48&cut=0&x=%41b&flag");
    dlv__print_profile prof;
    dlv__printer_profile(p, &prof);
    CU_ASSERT_EQUAL(prof.codepage, 7);
    CU_ASSERT_EQUAL(prof.width, 48);
    CU_ASSERT_EQUAL(prof.cut, false);
    CU_ASSERT_STRING_EQUAL(dlv_printer_option(p, "x"), "Ab");
    CU_ASSERT_STRING_EQUAL(dlv_printer_option(p, "flag"), "");
    CU_ASSERT_PTR_NULL(dlv_printer_option(p, "y"));
    CU_ASSERT_STRING_EQUAL(dlv_printer_target(p), "");
    CU_ASSERT_STRING_EQUAL(dlv__printer_uri(p), "NULL:?codepage=7&width=48&cut=0&x=%41b&flag");
    dlv__printer_close(p, NULL, NULL);
    p = open_ok(&loop, "tcp://[::1]:9101/");
    CU_ASSERT_STRING_EQUAL(dlv_printer_target(p), "[::1]:9101/");
    dlv__printer_profile(p, &prof);
    CU_ASSERT_EQUAL(prof.codepage, 17); /* defaults */
    CU_ASSERT_EQUAL(prof.width, 42);
    CU_ASSERT_EQUAL(prof.cut, true);
    close_and_finish(&loop, p);
}

/* An integrator's backend: asynchronous, completing from its own thread. */
typedef struct mock_printer {
    dlv_printer base;
    pthread_t thread;
    bool thread_started;
    dlv_printer_job *job;
    int opened;
} mock_printer;

static int mock_closes;
static uv_thread_t loop_thread;
static int callbacks_off_loop;

static int mock_open(dlv_printer *p, dlv_error *err)
{
    if (strcmp(dlv_printer_target(p), "fail") == 0) {
        dlv__error_set(err, DLV_EPRINTER, "mock refuses \"fail\"");
        return DLV_EPRINTER;
    }
    ((mock_printer *)p)->opened = 1;
    return DLV_OK;
}

static void *mock_worker(void *arg)
{
    mock_printer *m = arg;
    usleep(20000);
    size_t len;
    dlv_printer_job_data(m->job, &len);
    char msg[64];
    snprintf(msg, sizeof msg, "mock printed %zu bytes of %s", len, dlv_printer_job_title(m->job));
    dlv_printer_job_done(m->job, DLV_OK, DLV_PRINTER_STATUS_KNOWN, msg);
    return NULL;
}

static int mock_submit(dlv_printer *p, dlv_printer_job *job)
{
    mock_printer *m = (mock_printer *)p;
    if (m->thread_started)
        pthread_join(m->thread, NULL);
    m->job = job;
    m->thread_started = pthread_create(&m->thread, NULL, mock_worker, m) == 0;
    return m->thread_started ? DLV_OK : DLV_EIO;
}

static int mock_close(dlv_printer *p)
{
    mock_printer *m = (mock_printer *)p;
    mock_closes++;
    if (m->thread_started)
        pthread_join(m->thread, NULL);
    return DLV_OK;
}

static int mock_ctl(dlv_printer *p, int op, void *arg)
{
    if (op == 1000) {
        *(int *)arg = ((mock_printer *)p)->opened;
        return DLV_OK;
    }
    return DLV_ENOTSUP;
}

static const dlv_printer_methods mock_methods = {
    1,                    /* version */
    "mock",               /* scheme */
    sizeof(mock_printer), /* priv_size */
    0,                    /* flags */
    mock_open,            /* open */
    mock_close,           /* close */
    mock_submit,          /* submit */
    NULL,                 /* query_status */
    mock_ctl,             /* ctl */
};

/* A blocking backend: the core runs it in the thread pool, one job at a time. */
static int slow_active, slow_max_active;
static uv_mutex_t slow_lock;

static int slow_open(dlv_printer *p, dlv_error *err)
{
    return DLV_OK;
}

static int slow_close(dlv_printer *p)
{
    return DLV_OK;
}

static int slow_submit(dlv_printer *p, dlv_printer_job *job)
{
    uv_mutex_lock(&slow_lock);
    if (++slow_active > slow_max_active)
        slow_max_active = slow_active;
    uv_mutex_unlock(&slow_lock);
    usleep(30000);
    uv_mutex_lock(&slow_lock);
    slow_active--;
    uv_mutex_unlock(&slow_lock);
    size_t len;
    const char *d = dlv_printer_job_data(job, &len);
    if (len == 4 && memcmp(d, "FAIL", 4) == 0)
        return DLV_EIO; /* returned, not completed: the core completes it */
    dlv_printer_job_done(job, DLV_OK, 0, NULL);
    return DLV_OK;
}

static const dlv_printer_methods slow_methods = {
    1,    "slow", sizeof(dlv_printer), DLV_PRINTER_BLOCKING, slow_open, slow_close, slow_submit,
    NULL, NULL,
};

/* A backend whose close finishes later (libuv handles of its own). */
typedef struct late_printer {
    dlv_printer base;
    uv_timer_t timer;
} late_printer;

static int late_open(dlv_printer *p, dlv_error *err)
{
    late_printer *l = (late_printer *)p;
    uv_timer_init(dlv_printer_loop(p), &l->timer);
    l->timer.data = p;
    return strcmp(dlv_printer_target(p), "fail") == 0 ? DLV_EIO : DLV_OK;
}

static void late_timer_closed(uv_handle_t *h)
{
    dlv_printer_closed(h->data);
}

static int late_close(dlv_printer *p)
{
    mock_closes++;
    uv_close((uv_handle_t *)&((late_printer *)p)->timer, late_timer_closed);
    return DLV_PRINTER_CLOSING;
}

static int late_submit(dlv_printer *p, dlv_printer_job *job)
{
    dlv_printer_job_done(job, DLV_OK, 0, NULL);
    return DLV_OK;
}

static const dlv_printer_methods late_methods = {
    1, "late", sizeof(late_printer), 0, late_open, late_close, late_submit, NULL, NULL,
};

static void on_done_check_thread(void *arg, int status, unsigned flags, const char *msg)
{
    uv_thread_t self = uv_thread_self();
    if (!uv_thread_equal(&self, &loop_thread))
        callbacks_off_loop++;
    on_done(arg, status, flags, msg);
}

static void registry(void)
{
    loop_thread = uv_thread_self();
    uv_mutex_init(&slow_lock);
    dlv_printer_methods bad = mock_methods;
    bad.version = 0;
    CU_ASSERT_EQUAL(dlv_printer_register(&bad), DLV_EINVAL);
    bad = mock_methods;
    bad.priv_size = 1;
    CU_ASSERT_EQUAL(dlv_printer_register(&bad), DLV_EINVAL);
    bad = mock_methods;
    bad.scheme = "Bad Scheme";
    CU_ASSERT_EQUAL(dlv_printer_register(&bad), DLV_EINVAL);
    bad = mock_methods;
    bad.submit = NULL;
    CU_ASSERT_EQUAL(dlv_printer_register(&bad), DLV_EINVAL);
    CU_ASSERT_EQUAL(dlv_printer_register(NULL), DLV_EINVAL);
    CU_ASSERT_EQUAL(dlv_printer_register(&mock_methods), DLV_OK);
    CU_ASSERT_EQUAL(dlv_printer_register(&slow_methods), DLV_OK);
    CU_ASSERT_EQUAL(dlv_printer_register(&late_methods), DLV_OK);
    CU_ASSERT_PTR_EQUAL(dlv_printer_find("mock"), &mock_methods);
    CU_ASSERT_PTR_NOT_NULL(dlv_printer_find("tcp"));
    CU_ASSERT_PTR_NULL(dlv_printer_find("nope"));

    uv_loop_t loop;
    uv_loop_init(&loop);
    /* A failed open: the core still closes the object, and the caller gets nothing to close. */
    mock_closes = 0;
    dlv_printer *p = (dlv_printer *)&loop;
    dlv_error err = {0};
    CU_ASSERT_EQUAL(dlv__printer_open(&loop, "mock:fail", &p, &err), DLV_EPRINTER);
    CU_ASSERT_PTR_NULL(p);
    DLV_ASSERT_CONTAINS(err.message, "mock refuses");
    CU_ASSERT_EQUAL(mock_closes, 1);
    CU_ASSERT_EQUAL(dlv__printer_open(&loop, "late:fail", &p, &err), DLV_EIO);
    CU_ASSERT_EQUAL(mock_closes, 2);
    uv_run(&loop, UV_RUN_DEFAULT); /* the late close finishes on the loop */

    /* Completion from another thread arrives on the loop thread. */
    p = open_ok(&loop, "mock://anything?k=v");
    int opened = 0;
    CU_ASSERT_EQUAL(dlv__printer_ctl(p, 1000, &opened), DLV_OK);
    CU_ASSERT_EQUAL(opened, 1);
    CU_ASSERT_EQUAL(dlv__printer_ctl(p, 1001, NULL), DLV_ENOTSUP);
    result r[2] = {{0}};
    dlv__printer_job_options o = {DLV_PRINT_RAW, "два"};
    for (int i = 0; i < 2; i++)
        CU_ASSERT_EQUAL(dlv__printer_submit(p, "hello", 5, &o, on_done_check_thread, &r[i], NULL),
                        DLV_OK);
    result q = {0};
    CU_ASSERT_EQUAL(dlv__printer_query(p, on_done, &q, &err), DLV_ENOTSUP);
    run_until(&loop, &r[1].calls, 1, 3000);
    CU_ASSERT_EQUAL(r[0].status, DLV_OK);
    CU_ASSERT_STRING_EQUAL(r[1].msg, "mock printed 5 bytes of два");
    CU_ASSERT(r[0].order < r[1].order);
    close_and_finish(&loop, p);

    /* A blocking backend never runs two jobs at once; a returned error completes the job. */
    uv_loop_init(&loop);
    p = open_ok(&loop, "slow:");
    result s[4] = {{0}};
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(dlv__printer_submit(p, i == 2 ? "FAIL" : "ok", i == 2 ? 4 : 2, &o,
                                            on_done_check_thread, &s[i], NULL),
                        DLV_OK);
    run_until(&loop, &s[3].calls, 1, 3000);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(s[i].status, i == 2 ? DLV_EIO : DLV_OK);
    CU_ASSERT_EQUAL(slow_max_active, 1);
    /* Closing with a job running in the pool waits for it. */
    result last = {0};
    CU_ASSERT_EQUAL(dlv__printer_submit(p, "ok", 2, &o, on_done, &last, NULL), DLV_OK);
    close_and_finish(&loop, p); /* started at submit: it finishes, then the printer closes */
    CU_ASSERT_EQUAL(last.calls, 1);
    CU_ASSERT_EQUAL(last.status, DLV_OK);

    /* A backend that closes later. */
    uv_loop_init(&loop);
    p = open_ok(&loop, "late:x");
    result l = {0};
    CU_ASSERT_EQUAL(dlv__printer_submit(p, "ok", 2, &o, on_done, &l, NULL), DLV_OK);
    close_and_finish(&loop, p);
    CU_ASSERT_EQUAL(l.status, DLV_OK);
    CU_ASSERT_EQUAL(callbacks_off_loop, 0);

    /* Replacing a built-in, and unregistering. */
    dlv_printer_methods fake_null = mock_methods;
    fake_null.scheme = "null";
    CU_ASSERT_EQUAL(dlv_printer_register(&fake_null), DLV_OK);
    CU_ASSERT_PTR_EQUAL(dlv_printer_find("null"), &fake_null);
    CU_ASSERT_EQUAL(dlv_printer_register(&dlv__printer_null_methods), DLV_OK);
    CU_ASSERT_EQUAL(dlv_printer_unregister("mock"), DLV_OK);
    CU_ASSERT_EQUAL(dlv_printer_unregister("mock"), DLV_ENOTFOUND);
    uv_loop_init(&loop);
    CU_ASSERT_EQUAL(dlv__printer_open(&loop, "mock:x", &p, NULL), DLV_ENOTFOUND);
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
    dlv_printer_unregister("slow");
    dlv_printer_unregister("late");
    uv_mutex_destroy(&slow_lock);
}

static void status_bytes(void)
{
    unsigned f;
    const char *why;
    CU_ASSERT_EQUAL(dlv_printer_escpos_status((const unsigned char[]){0x12, 0x12, 0x12}, &f), 0);
    CU_ASSERT_EQUAL(f, DLV_PRINTER_STATUS_KNOWN);
    CU_ASSERT_EQUAL(dlv_printer_status_error(f, &why), DLV_OK);
    CU_ASSERT_EQUAL(dlv_printer_escpos_status((const unsigned char[]){0x12, 0x12, 0x1E}, &f), 0);
    CU_ASSERT_EQUAL(f, DLV_PRINTER_STATUS_KNOWN | DLV_PRINTER_STATUS_PAPER_LOW);
    CU_ASSERT_EQUAL(dlv_printer_status_error(f, &why), DLV_OK); /* near end still prints */
    CU_ASSERT_EQUAL(dlv_printer_escpos_status((const unsigned char[]){0x1A, 0x32, 0x72}, &f), 0);
    CU_ASSERT_EQUAL(dlv_printer_status_error(f, &why), DLV_EPAPEROUT);
    CU_ASSERT_EQUAL(dlv_printer_escpos_status((const unsigned char[]){0x1A, 0x16, 0x12}, &f), 0);
    CU_ASSERT_EQUAL(dlv_printer_status_error(f, &why), DLV_ECOVEROPEN);
    CU_ASSERT_EQUAL(dlv_printer_escpos_status((const unsigned char[]){0x1A, 0x52, 0x12}, &f), 0);
    CU_ASSERT_EQUAL(dlv_printer_status_error(f, &why), DLV_EOFFLINE);
    DLV_ASSERT_CONTAINS(why, "error");
    CU_ASSERT_EQUAL(dlv_printer_escpos_status((const unsigned char[]){0x1A, 0x12, 0x12}, &f), 0);
    CU_ASSERT_EQUAL(dlv_printer_status_error(f, &why), DLV_EOFFLINE);
    CU_ASSERT_EQUAL(dlv_printer_escpos_status((const unsigned char[]){0x12, 0x12, 0x13}, &f),
                    DLV_EPRINTER);
    CU_ASSERT_EQUAL(dlv_printer_escpos_status((const unsigned char[]){0x92, 0x12, 0x12}, &f),
                    DLV_EPRINTER);
    CU_ASSERT_EQUAL(dlv_printer_escpos_status(NULL, &f), DLV_EINVAL);
}

int main(void)
{
    pe = printer_emulator_start();
    if (!pe) {
        fprintf(stderr, "cannot start the printer emulator\n");
        return 1;
    }
    static const dlv_test_case cases[] = {
        DLV_TEST(tcp_online_prints_once),
        DLV_TEST(tcp_not_ready_sends_nothing),
        DLV_TEST(tcp_closed_mid_job),
        DLV_TEST(tcp_silent_times_out),
        DLV_TEST(tcp_refused_and_no_status),
        DLV_TEST(tcp_query_status),
        DLV_TEST(tcp_close_with_jobs),
        DLV_TEST(device_pty),
        DLV_TEST(file_raw_and_pdf),
        DLV_TEST(null_counts),
        DLV_TEST(uris),
        DLV_TEST(registry),
        DLV_TEST(status_bytes),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("print_printer", cases);
    printer_emulator_stop(pe);
    return rc;
}
