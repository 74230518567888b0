/* 6. Print rendering (lib/print): invoices of a fixed courier order rendered to ESC/POS and to
 * an A4 PDF with the built-in templates, as many as fit in DLV_BENCH_PRINT_MS (default 2000 ms)
 * per format; the first PDF (fontconfig and pango warming up) is shown apart. Instructions per
 * document from callgrind (one render inside bench_region, after a warm-up render) are the
 * figure that does not move with the machine's load.
 *
 *   bench_print                       everything, printing ROW lines
 *   bench_print region escpos|pdf     warm up, then one render inside bench_region() */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "order/model.h"
#include "print/print.h"

#define DATA DLV_TEST_SOURCE_DIR "/test/unit/data/order/"

static dlv__order *order;
static dlv__settings *settings;
static dlv__print_context pctx;

static int load(void)
{
    char *json = bench_read_file(DATA "order_courier.json", NULL);
    char *sj = bench_read_file(DATA "settings.json", NULL);
    dlv_error err = {0};
    if (!json || dlv__order_from_json(json, strlen(json), 0, &order, &err) != DLV_OK ||
        (sj && dlv__settings_from_json(sj, strlen(sj), &settings, &err) != DLV_OK)) {
        fprintf(stderr, "print: fixture: %s\n", err.message);
        return -1;
    }
    free(json);
    free(sj);
    dlv__time_parse("2026-11-29T12:40:00Z", &pctx.now);
    pctx.tz_offset_minutes = 180;
    pctx.copies = 1;
    pctx.restaurant = "Пиццерия на Тверской";
    return 0;
}

static int render(dlv__print_format format, size_t *bytes)
{
    dlv__print_out out = {0};
    dlv_error err = {0};
    int rc = dlv__print_render(DLV__DOC_INVOICE, order, settings, &pctx, format, NULL, &out, &err);
    if (rc != DLV_OK)
        fprintf(stderr, "print: render: %s\n", err.message);
    if (bytes)
        *bytes = out.len;
    dlv__print_out_free(&out);
    return rc;
}

__attribute__((noinline)) int bench_region(dlv__print_format format);
__attribute__((noinline)) int bench_region(dlv__print_format format)
{
    return render(format, NULL);
}

typedef struct rate {
    double per_s, ms_each, first_ms;
    long done;
    size_t bytes;
    bool ok;
} rate;

static rate measure(dlv__print_format format, double budget_ms)
{
    rate r = {0};
    double t0 = bench_now_ms();
    if (render(format, &r.bytes) != DLV_OK)
        return r;
    r.first_ms = bench_now_ms() - t0;
    t0 = bench_now_ms();
    double t = t0;
    while (t - t0 < budget_ms) {
        if (render(format, NULL) != DLV_OK)
            return r;
        r.done++;
        t = bench_now_ms();
    }
    r.per_s = (double)r.done / ((t - t0) / 1000.0);
    r.ms_each = (t - t0) / (double)r.done;
    r.ok = true;
    return r;
}

static double callgrind_ir(const char *self, const char *format)
{
    if (bench_env_long("DLV_BENCH_CALLGRIND", 1) == 0 ||
        system("command -v valgrind >/dev/null 2>&1") != 0)
        return 0;
    char *dir = bench_mkdtemp("print");
    char out_file[700], cmd[3000];
    snprintf(out_file, sizeof out_file, "%s/callgrind.%s.out", dir, format);
    snprintf(cmd, sizeof cmd,
             "valgrind --tool=callgrind --callgrind-out-file='%s' --collect-atstart=no "
             "--toggle-collect=bench_region '%s' region %s >/dev/null 2>&1",
             out_file, self, format);
    double ir = 0;
    if (system(cmd) == 0) {
        char *text = bench_read_file(out_file, NULL);
        const char *at = text ? strstr(text, "\nsummary: ") : NULL;
        if (!at && text)
            at = strstr(text, "\ntotals: ");
        if (at)
            ir = strtod(strchr(at, ':') + 1, NULL);
        free(text);
    }
    free(dir);
    return ir;
}

int main(int argc, char **argv)
{
    if (load() != 0)
        return 1;
    if (argc == 3 && strcmp(argv[1], "region") == 0) {
        dlv__print_format f = strcmp(argv[2], "pdf") == 0 ? DLV__FORMAT_PDF : DLV__FORMAT_ESCPOS;
        render(f, NULL); /* warm-up: fonts, caches */
        return bench_region(f) == DLV_OK ? 0 : 1;
    }
    char self[1024];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    double budget = (double)bench_env_long("DLV_BENCH_PRINT_MS", 2000);
    const char *b = "6 print";
    rate e = measure(DLV__FORMAT_ESCPOS, budget);
    rate p = measure(DLV__FORMAT_PDF, budget);
    double ir_e = callgrind_ir(self, "escpos"), ir_p = callgrind_ir(self, "pdf");
    if (!e.ok || !p.ok) {
        bench_row(b, "invoice rendering", "FAILED", NULL, NULL, bench_verdict(false));
        return 1;
    }
    bench_row(b, bench_fmt("invoice -> ESC/POS (%zu bytes), %ld renders", e.bytes, e.done),
              bench_fmt("%.0f invoices/s (%.3f ms each)", e.per_s, e.ms_each),
              ir_e > 0 ? bench_fmt("callgrind: %.2f M instructions per invoice", ir_e / 1e6) : NULL,
              NULL, "info");
    bench_row(b, bench_fmt("invoice -> A4 PDF (%zu bytes), %ld renders", p.bytes, p.done),
              bench_fmt("%.0f invoices/s (%.2f ms each); first one %.0f ms", p.per_s, p.ms_each,
                        p.first_ms),
              ir_p > 0 ? bench_fmt("callgrind: %.1f M instructions per invoice", ir_p / 1e6) : NULL,
              NULL, "info");
    dlv__order_free(order);
    dlv__settings_free(settings);
    return 0;
}
