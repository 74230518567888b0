/* 3. Ingest: a 10,000-order snapshot (the emulator's answer to GET orders?sinceRevision=0)
 * parsed, validated and decoded (dlv__orders_response_decode), beside raw cJSON_Parse of the
 * same bytes: time, peak heap and instruction counts; then the same snapshot taken in by a
 * running context (fetch, decode, apply, cache in SQLite, one event per order).
 *
 *   bench_ingest                 everything below, printing ROW lines
 *   bench_ingest fetch FILE      saves the snapshot and measures the runtime's ingest
 *   bench_ingest measure FILE    time and peak heap, in this process (counting allocator)
 *   bench_ingest rss MODE FILE   ru_maxrss before/after one MODE (cjson|decode), in KiB
 *   bench_ingest region MODE FILE  one MODE inside bench_region(), for callgrind's toggle
 *
 * The counting allocator replaces malloc/calloc/realloc/free (and the aligned variants) for the
 * whole process, libcjson included, forwarding to glibc's __libc_* and adding up
 * malloc_usable_size(); "peak" is the highest live total above the level when the operation
 * started. */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "heapcount.h"
#include "ccproc.h"
#include "order/model.h"

#define TID "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"

/* ---- the two operations ---- */

enum { OP_CJSON, OP_DECODE };

static size_t decoded_orders;

static int run_op(int op, const char *json, size_t len)
{
    if (op == OP_CJSON) {
        cJSON *root = cJSON_ParseWithLength(json, len);
        if (!root)
            return -1;
        cJSON_Delete(root);
        return 0;
    }
    dlv__orders_response *resp = NULL;
    dlv_error err = {0};
    if (dlv__orders_response_decode(json, len, &resp, &err) != DLV_OK) {
        fprintf(stderr, "ingest: decode: %s\n", err.message);
        return -1;
    }
    decoded_orders = resp->order_count;
    dlv__orders_response_free(resp);
    return 0;
}

/* The region callgrind collects (--toggle-collect=bench_region). */
__attribute__((noinline)) int bench_region(int op, const char *json, size_t len);
__attribute__((noinline)) int bench_region(int op, const char *json, size_t len)
{
    return run_op(op, json, len);
}

static int op_of(const char *name)
{
    return strcmp(name, "cjson") == 0 ? OP_CJSON : OP_DECODE;
}

/* ---- measure: time and peak heap in this process ---- */

typedef struct op_stats {
    double ms_median, ms_min;
    long peak_bytes;
    long held_bytes; /* decode only: the decoded orders, live after decoding */
} op_stats;

static op_stats measure_op(int op, const char *json, size_t len, int reps)
{
    op_stats s = {0};
    long base = bench_heap_mark();
    if (op == OP_CJSON) {
        cJSON *root = cJSON_ParseWithLength(json, len);
        s.peak_bytes = bench_heap_peak() - base;
        cJSON_Delete(root);
    } else {
        dlv__orders_response *resp = NULL;
        dlv_error err = {0};
        dlv__orders_response_decode(json, len, &resp, &err);
        s.peak_bytes = bench_heap_peak() - base;
        s.held_bytes = bench_heap_live() - base;
        decoded_orders = resp ? resp->order_count : 0;
        dlv__orders_response_free(resp);
    }
    bench_samples t = {0};
    bench_heap_counting(
        false); /* each run frees all it allocates: the count stays right without it */
    for (int i = 0; i < reps; i++) {
        double t0 = bench_now_ms();
        run_op(op, json, len);
        bench_samples_add(&t, bench_now_ms() - t0);
    }
    bench_heap_counting(true);
    s.ms_median = bench_samples_pct(&t, 50);
    s.ms_min = bench_samples_pct(&t, 0);
    bench_samples_free(&t);
    return s;
}

/* ---- helpers to run this program again ---- */

static char self[1024];

/* Runs a command, returning its stdout (caller frees). */
static char *capture(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    size_t n;
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 2)
            out = realloc(out, cap *= 2);
    }
    out[len] = '\0';
    pclose(p);
    return out;
}

static long rss_delta(const char *mode, const char *file)
{
    char cmd[2200];
    snprintf(cmd, sizeof cmd, "'%s' rss %s '%s'", self, mode, file);
    char *out = capture(cmd);
    long before = 0, after = 0;
    if (out)
        sscanf(out, "%ld %ld", &before, &after);
    free(out);
    return after - before;
}

/* Instructions inside bench_region under callgrind; 0 when valgrind is missing. */
static double callgrind_ir(const char *mode, const char *file, const char *dir)
{
    if (bench_env_long("DLV_BENCH_CALLGRIND", 1) == 0 ||
        system("command -v valgrind >/dev/null 2>&1") != 0)
        return 0;
    char out_file[700], cmd[3000];
    snprintf(out_file, sizeof out_file, "%s/callgrind.%s.out", dir, mode);
    snprintf(cmd, sizeof cmd,
             "valgrind --tool=callgrind --callgrind-out-file='%s' --collect-atstart=no "
             "--toggle-collect=bench_region '%s' region %s '%s' >/dev/null 2>&1",
             out_file, self, mode, file);
    if (system(cmd) != 0)
        return 0;
    char *text = bench_read_file(out_file, NULL);
    double ir = 0;
    const char *at = text ? strstr(text, "\nsummary: ") : NULL;
    if (!at && text)
        at = strstr(text, "\ntotals: ");
    if (at)
        ir = strtod(strchr(at, ':') + 1, NULL);
    free(text);
    return ir;
}

/* ---- fetch: the snapshot, and the runtime's ingest of it ---- */

static bench_latch registered, orders_in;
static uint64_t registered_at, last_order_at;

static void on_event(void *arg, const char *json)
{
    (void)arg;
    char id[37];
    if (bench_order_event_id(json, id)) {
        last_order_at = bench_now_ns();
        bench_latch_add(&orders_in, 1);
    } else if (strstr(json, "\"event\":\"registered\"")) {
        registered_at = bench_now_ns();
        bench_latch_add(&registered, 1);
    }
}

static long dir_bytes(const char *dir, const char *prefix)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "du -cb '%s'/%s* 2>/dev/null | tail -1", dir, prefix);
    char *out = capture(cmd);
    long n = out ? atol(out) : 0;
    free(out);
    return n;
}

static int fetch(const char *file, long count)
{
    char *dir = bench_mkdtemp("ingest");
    if (!dir)
        return 1;
    char db[600];
    snprintf(db, sizeof db, "%s/cc.db", dir);
    cc_proc cc;
    const char *args[] = {"--terminal", TID, NULL};
    if (cc_proc_start(&cc, db, args) != 0)
        return 1;
    char body[128];
    snprintf(body, sizeof body, "{\"count\":%ld,\"terminalId\":\"%s\"}", count, TID);
    http_result r;
    cc_admin(&cc, "POST", "orders/generate", body, &r);
    http_result_free(&r);
    char url[256], auth[128];
    snprintf(url, sizeof url, "%s/delivery/v1/register", cc.base);
    const char *hdr[] = {"X-Terminal-Id: " TID, NULL, NULL};
    http_call("POST", url, hdr, "{\"terminalId\":\"" TID "\",\"protocolVersion\":1}", 10000, &r);
    const cJSON *tok = cJSON_GetObjectItem(r.json, "sessionToken");
    snprintf(auth, sizeof auth, "Authorization: Bearer %s",
             cJSON_IsString(tok) ? tok->valuestring : "");
    http_result_free(&r);
    hdr[1] = auth;
    snprintf(url, sizeof url, "%s/delivery/v1/orders?sinceRevision=0", cc.base);
    bench_samples fetch_ms = {0};
    size_t bytes = 0;
    for (int i = 0; i < 3; i++) {
        http_call("GET", url, hdr, NULL, 60000, &r);
        bench_samples_add(&fetch_ms, r.seconds * 1000);
        if (i == 0) {
            bytes = strlen(r.body);
            if (r.status != 200 || bench_write_file(file, r.body, bytes) != 0) {
                fprintf(stderr, "ingest: snapshot: HTTP %ld\n", r.status);
                return 1;
            }
        }
        http_result_free(&r);
    }

    /* The runtime takes the same snapshot in: registered -> the last `order` event. */
    char data[700];
    snprintf(data, sizeof data, "%s/terminal", dir);
    mkdir(data, 0755);
    bench_latch_init(&registered);
    bench_latch_init(&orders_in);
    long rss0 = bench_maxrss_kib();
    long heap0 = bench_heap_live();
    bench_host_config hc = {.dir = data,
                            .server_url = cc.base,
                            .terminal_id = TID,
                            .long_poll_seconds = 25,
                            .on_event = on_event};
    dlv_ctx *ctx = bench_host_start(&hc);
    bool ok = ctx && bench_latch_wait(&registered, 1, 10000) &&
              bench_latch_wait(&orders_in, count, 300000);
    bench_sleep_ms(500); /* let the answer's buffers go */
    long heap1 = bench_heap_live();
    long rss1 = bench_maxrss_kib();
    double apply_ms = (double)(last_order_at - registered_at) / 1e6;
    long db_bytes = dir_bytes(data, "delivery");
    if (ctx) {
        dlv_ctx_stop(ctx, 0);
        dlv_ctx_destroy(ctx);
    }
    cc_proc_stop(&cc);
    const char *b = "3 ingest";
    if (!ok) {
        bench_row(b, "runtime ingest of the snapshot", "FAILED", NULL, NULL, bench_verdict(false));
        return 1;
    }
    double f50 = bench_samples_pct(&fetch_ms, 50);
    bench_row(b,
              bench_fmt("runtime: registered -> last of %ld `order` events (fetch, decode, "
                        "apply, SQLite cache, events)",
                        count),
              bench_fmt("%.0f ms", apply_ms),
              bench_fmt("the snapshot's fetch alone (emulator builds %.1f MB; curl): %.0f ms",
                        (double)bytes / 1e6, f50),
              NULL, bench_fmt("info (%.0f ms beyond the fetch)", apply_ms - f50));
    bench_row(b, "memory per cached order (runtime, after ingest)",
              bench_fmt("heap %.0f B/order; peak RSS +%.1f MB", (double)(heap1 - heap0) / count,
                        (double)(rss1 - rss0) / 1024),
              bench_fmt("SQLite cache on disk %.0f B/order; wire %.0f B/order",
                        (double)db_bytes / count, (double)bytes / count),
              NULL, "info");
    bench_samples_free(&fetch_ms);
    free(dir);
    return 0;
}

int main(int argc, char **argv)
{
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (argc == 4 && strcmp(argv[1], "region") == 0) {
        bench_heap_counting(false);
        size_t len;
        char *json = bench_read_file(argv[3], &len);
        return json && bench_region(op_of(argv[2]), json, len) == 0 ? 0 : 1;
    }
    if (argc == 4 && strcmp(argv[1], "rss") == 0) {
        size_t len;
        char *json = bench_read_file(argv[3], &len);
        if (!json)
            return 1;
        long before = bench_maxrss_kib();
        run_op(op_of(argv[2]), json, len);
        printf("%ld %ld\n", before, bench_maxrss_kib());
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "fetch") == 0)
        return fetch(argv[2], bench_env_long("DLV_BENCH_SNAPSHOT", 10000));

    /* Everything: fetch, then measure in separate processes where memory is concerned. */
    long count = bench_env_long("DLV_BENCH_SNAPSHOT", 10000);
    int reps = (int)bench_env_long("DLV_BENCH_INGEST_REPS", 7);
    char *dir = bench_mkdtemp("snapshot");
    char file[700];
    snprintf(file, sizeof file, "%s/snapshot.json", dir);
    if (fetch(file, count) != 0)
        return 1;
    size_t len;
    char *json = bench_read_file(file, &len);
    if (!json)
        return 1;
    op_stats raw = measure_op(OP_CJSON, json, len, reps);
    op_stats dec = measure_op(OP_DECODE, json, len, reps);
    free(json);
    const char *b = "3 ingest";
    if (decoded_orders != (size_t)count)
        bench_row(b, "orders decoded", bench_fmt("%zu of %ld", decoded_orders, count), NULL, NULL,
                  bench_verdict(false));
    double tr = dec.ms_median / raw.ms_median;
    bench_row(b,
              bench_fmt("decode+validate %ld orders (%.1f MB), median of %d", count,
                        (double)len / 1e6, reps),
              bench_fmt("%.1f ms", dec.ms_median),
              bench_fmt("raw cJSON_Parse of the same bytes: %.1f ms", raw.ms_median), "<= 1.5x",
              bench_fmt("%s (%.2fx)", bench_verdict(tr <= 1.5), tr));
    double ir_raw = callgrind_ir("cjson", file, dir), ir_dec = callgrind_ir("decode", file, dir);
    if (ir_raw > 0 && ir_dec > 0)
        bench_row(b, "decode+validate, instructions (callgrind)",
                  bench_fmt("%.0f M Ir (%.0f Ir/byte)", ir_dec / 1e6, ir_dec / (double)len),
                  bench_fmt("cJSON_Parse+Delete: %.0f M Ir (%.0f Ir/byte)", ir_raw / 1e6,
                            ir_raw / (double)len),
                  "<= 1.5x",
                  bench_fmt("%s (%.2fx)", bench_verdict(ir_dec / ir_raw <= 1.5), ir_dec / ir_raw));
    double mr = (double)dec.peak_bytes / (double)raw.peak_bytes;
    bench_row(
        b, "decode+validate, peak heap (counting allocator)",
        bench_fmt("%.1f MB", dec.peak_bytes / 1e6),
        bench_fmt("cJSON_Parse: %.1f MB (input %.1f MB)", raw.peak_bytes / 1e6, (double)len / 1e6),
        "<= 1.3x", bench_fmt("%s (%.2fx)", bench_verdict(mr <= 1.3), mr));
    long rss_raw = rss_delta("cjson", file), rss_dec = rss_delta("decode", file);
    if (rss_raw > 0)
        bench_row(b, "decode+validate, peak RSS growth (ru_maxrss, separate processes)",
                  bench_fmt("%.1f MB", rss_dec / 1024.0),
                  bench_fmt("cJSON_Parse: %.1f MB", rss_raw / 1024.0), "<= 1.3x",
                  bench_fmt("%s (%.2fx)", bench_verdict((double)rss_dec / rss_raw <= 1.3),
                            (double)rss_dec / rss_raw));
    bench_row(b, "decoded orders held (dlv__order structs)",
              bench_fmt("%.0f B/order", (double)dec.held_bytes / count),
              bench_fmt("cJSON tree %.0f B/order", (double)raw.peak_bytes / count), NULL, "info");
    free(dir);
    curl_global_cleanup();
    return 0;
}
