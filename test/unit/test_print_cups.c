/* A4 through a real CUPS: the test starts a private cupsd (its own folders, 127.0.0.1 on a free
 * port, no system queues touched) with a cups-pdf virtual printer and a raw queue that forwards
 * to the ESC/POS emulator, sends an A4 invoice through libcups and reads the PDF cups-pdf
 * produced back with pdftotext.
 *
 * Needs root (cupsd runs the cups-pdf backend as root) and the Debian packages cups,
 * printer-driver-cups-pdf and poppler-utils. cups-pdf reads its output folder only from
 * /etc/cups/cups-pdf-<name>.conf, so the test writes one file there under a name of its own and
 * removes it at the end. When any of this is missing the test fails and says why: it never
 * passes without having printed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>

#include "order/model.h"
#include "print/print.h"
#include "printer_emulator.h"
#include "testlib.h"

#define DATA DLV_TEST_SOURCE_DIR "/test/unit/data/print/"
#define PPD "/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd"

static char *dir;
static char outdir[512], pdfconf[256], server[64];
static pid_t cupsd = -1;
static int port;
static printer_emulator *pe;

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    bind(s, (struct sockaddr *)&a, sizeof a);
    getsockname(s, (struct sockaddr *)&a, &al);
    close(s);
    return ntohs(a.sin_port);
}

static bool port_open(int p)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)p),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

static int run_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run_cmd(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    if (st != 0)
        fprintf(stderr, "  `%s` failed (%d)\n", cmd, st);
    return st;
}

static const char *cupsd_conf =
    "LogLevel info\n"
    "Listen 127.0.0.1:%d\n"
    "Browsing No\n"
    "WebInterface No\n"
    "DefaultAuthType None\n"
    "MaxJobTime 60\n"
    "<Location />\n  Order allow,deny\n  Allow from 127.0.0.1\n</Location>\n"
    "<Location /admin>\n  Order allow,deny\n  Allow from 127.0.0.1\n"
    "</Location>\n"
    "<Policy default>\n  <Limit All>\n    Order deny,allow\n"
    "  </Limit>\n</Policy>\n";

static const char *files_conf = "ServerRoot %1$s\n"
                                "RequestRoot %1$s/spool\n"
                                "CacheDir %1$s/cache\n"
                                "StateDir %1$s/state\n"
                                "TempDir %1$s/tmp\n"
                                "ErrorLog %1$s/log/error_log\n"
                                "AccessLog %1$s/log/access_log\n"
                                "PageLog %1$s/log/page_log\n"
                                "SystemGroup root\n";

static void stop_cupsd(void)
{
    if (cupsd > 0) {
        kill(cupsd, SIGTERM);
        for (int i = 0; i < 100; i++) {
            if (waitpid(cupsd, NULL, WNOHANG) == cupsd) {
                cupsd = -1;
                break;
            }
            usleep(50000);
        }
        if (cupsd > 0) {
            kill(cupsd, SIGKILL);
            waitpid(cupsd, NULL, 0);
            cupsd = -1;
        }
    }
    if (pdfconf[0])
        unlink(pdfconf);
}

/* A run killed before its cleanup (a ctest timeout) leaves its cups-pdf file behind: remove
 * those whose test process is gone. */
static void remove_stale_confs(void)
{
    DIR *d = opendir("/etc/cups");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        int pid;
        char tail[8];
        if (sscanf(e->d_name, "cups-pdf-dlvtest%d%7s", &pid, tail) == 2 &&
            strcmp(tail, ".conf") == 0 && pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) {
            char p[300];
            snprintf(p, sizeof p, "/etc/cups/%s", e->d_name);
            unlink(p);
        }
    }
    if (d)
        closedir(d);
}

/* Starts the private cupsd and its two queues; NULL or why not. */
static const char *start_cupsd(void)
{
    if (geteuid() != 0)
        return "not root: cupsd must run the cups-pdf backend as root";
    if (access("/usr/sbin/cupsd", X_OK) != 0 || access("/usr/sbin/lpadmin", X_OK) != 0)
        return "cupsd/lpadmin missing: apt-get install cups";
    if (access("/usr/lib/cups/backend/cups-pdf", F_OK) != 0 || access(PPD, R_OK) != 0)
        return "cups-pdf missing: apt-get install printer-driver-cups-pdf";
    if (run_cmd("command -v pdftotext >/dev/null") != 0)
        return "pdftotext missing: apt-get install poppler-utils";
    dir = dlv_test_mkdtemp();
    chmod(dir, 0755); /* cupsd's filters run as lp */
    const char *subs[] = {"spool", "cache", "state", "tmp", "log", "out"};
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, subs[i]);
        mkdir(p, 0755);
        if (strcmp(subs[i], "tmp") == 0)
            chmod(p, 01777);
    }
    snprintf(outdir, sizeof outdir, "%s/out", dir);
    port = free_port();
    snprintf(server, sizeof server, "127.0.0.1:%d", port);
    char text[2048];
    snprintf(text, sizeof text, cupsd_conf, port);
    free(dlv_test_write_file(dir, "cupsd.conf", text));
    snprintf(text, sizeof text, files_conf, dir);
    free(dlv_test_write_file(dir, "cups-files.conf", text));
    remove_stale_confs();
    snprintf(pdfconf, sizeof pdfconf, "/etc/cups/cups-pdf-dlvtest%d.conf", (int)getpid());
    FILE *f = fopen(pdfconf, "w");
    if (!f)
        return "cannot write /etc/cups/cups-pdf-<name>.conf (is /etc/cups there?)";
    fprintf(f, "Out %s\nAnonDirName %s\nSpool %s/cups-pdf-spool\n", outdir, outdir, dir);
    fclose(f);

    cupsd = fork();
    if (cupsd == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the test */
        char conf[600], files[600], log[600];
        snprintf(conf, sizeof conf, "%s/cupsd.conf", dir);
        snprintf(files, sizeof files, "%s/cups-files.conf", dir);
        snprintf(log, sizeof log, "%s/log/cupsd.out", dir);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execl("/usr/sbin/cupsd", "cupsd", "-f", "-c", conf, "-s", files, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200 && !port_open(port); i++) {
        if (waitpid(cupsd, NULL, WNOHANG) == cupsd) {
            cupsd = -1;
            return "cupsd exited at start (see its log in the test folder)";
        }
        usleep(50000);
    }
    if (!port_open(port))
        return "cupsd did not listen within 10 s";
    /* pdftocairo turns the PDF into PostScript with fonts that keep their Unicode names, so the
     * PDF cups-pdf makes again can be read back with pdftotext (the default renderer draws
     * glyphs as outlines). A queue setting, as an administrator would choose it. */
    if (run_cmd("lpadmin -h %s -p dlvpdf -E -v cups-pdf:/dlvtest%d -P %s "
                "-o pdftops-renderer-default=pdftocairo 2>/dev/null",
                server, (int)getpid(), PPD) != 0)
        return "lpadmin could not create the cups-pdf queue";
    if (run_cmd("lpadmin -h %s -p dlvraw -E -v socket://127.0.0.1:%d -m raw 2>/dev/null", server,
                printer_emulator_port(pe)) != 0)
        return "lpadmin could not create the raw queue";
    return NULL;
}

static dlv__order *load_order(void)
{
    char *json = dlv_test_read_file(DATA "order_courier.json", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    dlv__order *o = NULL;
    CU_ASSERT_EQUAL_FATAL(dlv__order_from_json(json, strlen(json), 0, &o, NULL), DLV_OK);
    free(json);
    return o;
}

typedef struct result {
    int calls, status;
    unsigned flags;
    char msg[DLV_ERROR_MESSAGE_MAX];
} result;

static void on_done(void *arg, int status, unsigned flags, const char *msg)
{
    result *r = arg;
    r->calls++;
    r->status = status;
    r->flags = flags;
    snprintf(r->msg, sizeof r->msg, "%s", msg);
}

static void on_guard(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

/* Opens `uri`, runs one job (or a status query when data is NULL), closes; the result. */
static result one_job(const char *uri, const void *data, size_t len, dlv_print_format format)
{
    result r = {0};
    uv_loop_t loop;
    uv_loop_init(&loop);
    dlv_printer *p = NULL;
    dlv_error err = {0};
    int rc = dlv__printer_open(&loop, uri, &p, &err);
    if (rc != DLV_OK)
        fprintf(stderr, "\n  %s: %s\n", uri, err.message);
    CU_ASSERT_EQUAL_FATAL(rc, DLV_OK);
    dlv__printer_job_options o = {format, "Накладная № 100245"};
    rc = data ? dlv__printer_submit(p, data, len, &o, on_done, &r, &err)
              : dlv__printer_query(p, on_done, &r, &err);
    CU_ASSERT_EQUAL_FATAL(rc, DLV_OK);
    uv_timer_t guard;
    bool fired = false;
    uv_timer_init(&loop, &guard);
    guard.data = &fired;
    uv_timer_start(&guard, on_guard, 30000, 0);
    while (!r.calls && !fired)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    dlv__printer_close(p, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
    CU_ASSERT_EQUAL(r.calls, 1);
    if (getenv("DLV_TEST_VERBOSE"))
        fprintf(stderr, "\n  %s: %s %s\n", uri, dlv_err_name(r.status), r.msg);
    return r;
}

/* The first *.pdf in the output folder once its size has held still for a while (cups-pdf
 * writes it in place), within `secs`; its path (free it) or NULL. */
static char *wait_pdf(int secs)
{
    off_t last = -1;
    int still = 0;
    for (int i = 0; i < secs * 10; i++) {
        DIR *d = opendir(outdir);
        struct dirent *e;
        char *found = NULL;
        off_t size = -1;
        while (d && !found && (e = readdir(d))) {
            size_t n = strlen(e->d_name);
            if (n > 4 && strcmp(e->d_name + n - 4, ".pdf") == 0) {
                char p[1024];
                snprintf(p, sizeof p, "%s/%s", outdir, e->d_name);
                struct stat st;
                if (stat(p, &st) == 0 && st.st_size > 0) {
                    found = strdup(p);
                    size = st.st_size;
                }
            }
        }
        if (d)
            closedir(d);
        still = found && size == last ? still + 1 : 0;
        last = size;
        if (found && still >= 3)
            return found;
        free(found);
        usleep(100000);
    }
    return NULL;
}

static char uri[256];

static void a4_invoice_lands_as_pdf(void)
{
    dlv__order *o = load_order();
    dlv__print_context c = {.copies = 1, .tz_offset_minutes = 180};
    dlv__time_parse("2026-11-29T12:40:00Z", &c.now);
    snprintf(uri, sizeof uri, "cups:dlvpdf?server=%s&timeout=10000", server);
    uv_loop_t loop;
    uv_loop_init(&loop);
    dlv_printer *p;
    CU_ASSERT_EQUAL_FATAL(dlv__printer_open(&loop, uri, &p, NULL), DLV_OK);
    dlv__print_out out = {0};
    dlv__print_format f;
    CU_ASSERT_EQUAL_FATAL(
        dlv__print_render_for(DLV__DOC_INVOICE, o, NULL, &c, p, true, &out, &f, NULL), DLV_OK);
    CU_ASSERT_EQUAL(f, DLV__FORMAT_PDF);
    dlv__printer_close(p, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);

    result r = one_job(uri, out.data, out.len, DLV_PRINT_PDF);
    if (r.status != DLV_OK)
        fprintf(stderr, "\n  cups: %s\n", r.msg);
    CU_ASSERT_EQUAL_FATAL(r.status, DLV_OK);
    DLV_ASSERT_CONTAINS(r.msg, "CUPS job dlvpdf-");
    char *pdf = wait_pdf(40);
    if (!pdf)
        fprintf(stderr, "\n  no PDF from cups-pdf in %s; cupsd log in %s/log\n", outdir, dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pdf);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "pdftotext -enc UTF-8 '%s' -", pdf);
    FILE *fp = popen(cmd, "r");
    char text[65536];
    size_t n = fp ? fread(text, 1, sizeof text - 1, fp) : 0;
    text[n] = '\0';
    if (fp)
        CU_ASSERT_EQUAL(pclose(fp), 0);
    const char *need[] = {"НАКЛАДНАЯ", "100245",  "Анна Петрова",
                          "Тверская",  "1233.00", "Иван Смирнов"};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
        DLV_ASSERT_CONTAINS(text, need[i]);
    free(pdf);
    dlv__print_out_free(&out);
    dlv__order_free(o);
}

static void queue_state_and_refusals(void)
{
    snprintf(uri, sizeof uri, "cups:dlvpdf?server=%s", server);
    result r = one_job(uri, NULL, 0, DLV_PRINT_PDF);
    CU_ASSERT_EQUAL(r.status, DLV_OK);
    CU_ASSERT(r.flags & DLV_PRINTER_STATUS_KNOWN);
    CU_ASSERT(!(r.flags & DLV_PRINTER_STATUS_OFFLINE));

    /* A queue that rejects jobs: offline, nothing sent. */
    CU_ASSERT_EQUAL(run_cmd("cupsreject -h %s dlvpdf", server), 0);
    r = one_job(uri, NULL, 0, DLV_PRINT_PDF);
    CU_ASSERT(r.flags & DLV_PRINTER_STATUS_OFFLINE);
    r = one_job(uri, "%PDF-1.4\n", 9, DLV_PRINT_PDF);
    CU_ASSERT_EQUAL(r.status, DLV_EOFFLINE);
    DLV_ASSERT_CONTAINS(r.msg, "nothing sent");
    CU_ASSERT_EQUAL(run_cmd("cupsaccept -h %s dlvpdf", server), 0);

    snprintf(uri, sizeof uri, "cups:no-such-queue?server=%s", server);
    r = one_job(uri, "x", 1, DLV_PRINT_RAW);
    CU_ASSERT_EQUAL(r.status, DLV_ENOTFOUND);

    snprintf(uri, sizeof uri, "cups:dlvpdf?server=127.0.0.1:%d&timeout=1000", free_port());
    r = one_job(uri, "x", 1, DLV_PRINT_RAW);
    CU_ASSERT_EQUAL(r.status, DLV_EOFFLINE);
    DLV_ASSERT_CONTAINS(r.msg, "cannot reach the CUPS server");
}

/* ESC/POS through a CUPS raw queue reaches the printer unchanged. */
static void raw_queue_passes_escpos(void)
{
    dlv__order *o = load_order();
    dlv__print_context c = {.copies = 1};
    dlv__print_out out = {0};
    CU_ASSERT_EQUAL_FATAL(dlv__print_render(DLV__DOC_SERVICE_CHECK, o, NULL, &c, DLV__FORMAT_ESCPOS,
                                            NULL, &out, NULL),
                          DLV_OK);
    printer_emulator_reset(pe);
    snprintf(uri, sizeof uri, "cups:dlvraw?server=%s", server);
    result r = one_job(uri, out.data, out.len, DLV_PRINT_RAW);
    CU_ASSERT_EQUAL(r.status, DLV_OK);
    for (int i = 0; i < 300 && printer_emulator_job_bytes(pe, NULL) < out.len; i++)
        usleep(100000);
    unsigned char *got;
    size_t n = printer_emulator_job_bytes(pe, &got);
    CU_ASSERT_EQUAL(n, out.len);
    CU_ASSERT(n == out.len && memcmp(got, out.data, n) == 0);
    free(got);
    dlv__print_out_free(&out);
    dlv__order_free(o);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    atexit(stop_cupsd); /* also when a fatal assertion ends the run early */
    pe = printer_emulator_start();
    const char *why = pe ? start_cupsd() : "cannot start the printer emulator";
    if (why) {
        fprintf(stderr, "test_print_cups: FAILED to set up a private cupsd: %s\n", why);
        stop_cupsd();
        printer_emulator_stop(pe);
        if (dir)
            dlv_test_rmdir(dir);
        return 1;
    }
    static const dlv_test_case cases[] = {
        DLV_TEST(a4_invoice_lands_as_pdf),
        DLV_TEST(queue_state_and_refusals),
        DLV_TEST(raw_queue_passes_escpos),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("print_cups", cases);
    pango_cairo_font_map_set_default(NULL); /* process-wide caches: see test_print_render.c */
    cairo_debug_reset_static_data();
    FcFini();
    stop_cupsd();
    printer_emulator_stop(pe);
    if (rc == 0 || !getenv("DLV_KEEP_CUPS"))
        dlv_test_rmdir(dir);
    else
        fprintf(stderr, "cupsd folder kept: %s\n", dir);
    return rc;
}
