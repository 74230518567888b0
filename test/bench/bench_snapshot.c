/* 8. The 100,000-order snapshot (issue 20): a terminal that starts against a call-center holding
 * DLV_BENCH_SNAPSHOT_ORDERS orders (default 100,000, all of them its own) takes them in through
 * protocol 1.1 paging. Beside it, in the same run, the same pages (limit=1000, following
 * `more`) fetched with libcurl on one kept-alive connection: what the transfer alone costs.
 *
 *  - time: `registered` -> the last `order` event (every page fetched, decoded, applied, cached
 *    in SQLite, announced), goal <= 2x the curl fetch;
 *  - the terminal's peak RSS growth (ru_maxrss, i.e. VmHWM, before the context starts and after
 *    the sync), goal <= 64 MB;
 *  - heap per cached order after the sync (live heap growth / orders), goal <= 1 KB.
 *
 * The terminal runs in a child process (this program again, `child` mode) so that its peak RSS
 * is its own; the program replaces malloc and friends for the whole process (as bench_ingest
 * does) to count the live heap, libdelivery, cJSON and SQLite included.
 *
 *   bench_snapshot                          coordinator (ROW lines)
 *   bench_snapshot child URL DIR COUNT      one context; prints "RESULT ..." on stdout */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "heapcount.h"
#include "ccproc.h"

#define TID "3b9e5f21-7c4d-4e8a-b1f0-6a2d8c4e9f13"
#define PAGE_LIMIT 1000 /* what the library asks (lib/net/protocol.h DLV__ORDERS_PAGE_LIMIT) */

/* ---- child: one terminal ---- */

static bench_latch registered, orders_in;
static uint64_t registered_at, last_order_at;
static atomic_long heap_at_registered;

static void on_event(void *arg, const char *json)
{
    (void)arg;
    char id[37];
    if (bench_order_event_id(json, id)) {
        last_order_at = bench_now_ns();
        bench_latch_add(&orders_in, 1);
    } else if (strstr(json, "\"event\":\"registered\"")) {
        registered_at = bench_now_ns();
        atomic_store(&heap_at_registered, bench_heap_live());
        bench_latch_add(&registered, 1);
    }
}

static int child(const char *url, const char *dir, long count)
{
    bench_latch_init(&registered);
    bench_latch_init(&orders_in);
    long rss0 = bench_maxrss_kib();
    long heap0 = bench_heap_live(), blocks0 = bench_heap_blocks();
    bench_host_config hc = {.dir = dir,
                            .server_url = url,
                            .terminal_id = TID,
                            .long_poll_seconds = 25,
                            .on_event = on_event};
    dlv_ctx *ctx = bench_host_start(&hc);
    bool ok = ctx && bench_latch_wait(&registered, 1, 20000) &&
              bench_latch_wait(&orders_in, count, 600000);
    bench_sleep_ms(500); /* let the last page's buffers go */
    long heap1 = bench_heap_live(), blocks1 = bench_heap_blocks();
    long rss1 = bench_maxrss_kib();
    printf("RESULT %d %.1f %ld %ld %ld %ld %ld %ld %ld\n", ok ? 1 : 0,
           (double)(last_order_at - registered_at) / 1e6, rss0, rss1, heap0,
           atomic_load(&heap_at_registered), heap1, bench_latch_get(&orders_in), blocks1 - blocks0);
    fflush(stdout);
    if (ctx) {
        dlv_ctx_stop(ctx, 0);
        dlv_ctx_destroy(ctx);
    }
    return ok ? 0 : 1;
}

/* ---- coordinator ---- */

/* The reference: the same pages with libcurl on one connection. Fills the summed transfer time
 * (curl_easy_perform only: following `more` needs the page's revision, read outside the clock),
 * pages, bytes and orders. Returns 0 or -1. */
static int curl_pages(const cc_proc *cc, double *ms, int *pages, size_t *bytes, long *orders)
{
    bench_http c;
    if (bench_http_init(&c) != 0)
        return -1;
    char url[256], auth[160];
    snprintf(url, sizeof url, "%s/delivery/v1/register", cc->base);
    const char *hdr[] = {"X-Terminal-Id: " TID, NULL, NULL};
    if (bench_http_call(&c, "POST", url, hdr,
                        "{\"terminalId\":\"" TID
                        "\",\"protocolVersion\":1,\"protocolMinor\":1}") != 0 ||
        c.status != 200) {
        bench_http_cleanup(&c);
        return -1;
    }
    cJSON *reg = cJSON_Parse(c.body);
    const cJSON *tok = cJSON_GetObjectItem(reg, "sessionToken");
    snprintf(auth, sizeof auth, "Authorization: Bearer %s",
             cJSON_IsString(tok) ? tok->valuestring : "");
    cJSON_Delete(reg);
    hdr[1] = auth;
    long long since = 0;
    bool more = true;
    *ms = 0;
    *pages = 0;
    *bytes = 0;
    *orders = 0;
    while (more) {
        snprintf(url, sizeof url, "%s/delivery/v1/orders?sinceRevision=%lld&limit=%d", cc->base,
                 since, PAGE_LIMIT);
        double t0 = bench_now_ms();
        int rc = bench_http_call(&c, "GET", url, hdr, NULL);
        *ms += bench_now_ms() - t0;
        if (rc != 0 || c.status != 200) {
            fprintf(stderr, "snapshot: curl page %d: rc %d HTTP %ld\n", *pages, rc, c.status);
            bench_http_cleanup(&c);
            return -1;
        }
        (*pages)++;
        *bytes += c.len;
        cJSON *page = cJSON_Parse(c.body);
        const cJSON *rev = cJSON_GetObjectItem(page, "revision");
        long long next = cJSON_IsNumber(rev) ? (long long)rev->valuedouble : since;
        more = cJSON_IsTrue(cJSON_GetObjectItem(page, "more")) && next > since;
        *orders += cJSON_GetArraySize(cJSON_GetObjectItem(page, "orders"));
        since = next;
        cJSON_Delete(page);
    }
    bench_http_cleanup(&c);
    return 0;
}

static char self[1024];

int main(int argc, char **argv)
{
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (argc == 5 && strcmp(argv[1], "child") == 0)
        return child(argv[2], argv[3], atol(argv[4]));

    long count = bench_env_long("DLV_BENCH_SNAPSHOT_ORDERS", 100000);
    const char *b = "8 snapshot";
    char *dir = bench_mkdtemp("snapshot");
    if (!dir)
        return 1;
    char db[600], data[700];
    snprintf(db, sizeof db, "%s/cc.db", dir);
    snprintf(data, sizeof data, "%s/terminal", dir);
    mkdir(data, 0755);
    cc_proc cc;
    const char *args[] = {"--terminal", TID, NULL};
    if (cc_proc_start(&cc, db, args) != 0)
        return 1;
    char body[128];
    snprintf(body, sizeof body, "{\"count\":%ld,\"terminalId\":\"%s\"}", count, TID);
    http_result r;
    double g0 = bench_now_ms();
    char gen_url[256];
    snprintf(gen_url, sizeof gen_url, "%s/admin/orders/generate", cc.base);
    http_call("POST", gen_url, NULL, body, 300000, &r); /* 100,000 take seconds */
    double gen_ms = bench_now_ms() - g0;
    long gen_status = r.status;
    http_result_free(&r);
    if (gen_status != 200 && gen_status != 201) {
        fprintf(stderr, "snapshot: generate: HTTP %ld\n", gen_status);
        cc_proc_stop(&cc);
        return 1;
    }
    fprintf(stderr, "snapshot: %ld orders generated in %.0f ms\n", count, gen_ms);

    /* The reference first, then the terminal, then the reference again: the median of two
     * brackets the terminal's run on a machine whose load drifts. */
    double curl_ms[2];
    int pages = 0;
    size_t bytes = 0;
    long curl_orders = 0;
    if (curl_pages(&cc, &curl_ms[0], &pages, &bytes, &curl_orders) != 0) {
        cc_proc_stop(&cc);
        return 1;
    }

    char cmd[2400];
    snprintf(cmd, sizeof cmd, "'%s' child '%s' '%s' %ld", self, cc.base, data, count);
    FILE *p = popen(cmd, "r");
    char line[512] = "";
    int ok = 0;
    double apply_ms = 0;
    long rss0 = 0, rss1 = 0, heap0 = 0, heap_reg = 0, heap1 = 0, got = 0, blocks = 0;
    while (p && fgets(line, sizeof line, p))
        if (strncmp(line, "RESULT ", 7) == 0)
            sscanf(line + 7, "%d %lf %ld %ld %ld %ld %ld %ld %ld", &ok, &apply_ms, &rss0, &rss1,
                   &heap0, &heap_reg, &heap1, &got, &blocks);
    if (p)
        pclose(p);
    if (curl_pages(&cc, &curl_ms[1], &pages, &bytes, &curl_orders) != 0)
        curl_ms[1] = curl_ms[0];
    cc_proc_stop(&cc);
    if (!ok) {
        bench_row(b, bench_fmt("terminal sync of %ld orders", count),
                  bench_fmt("FAILED (%ld of %ld order events)", got, count), NULL, NULL,
                  bench_verdict(false));
        return 1;
    }
    double ref = curl_ms[0] < curl_ms[1] ? curl_ms[0] : curl_ms[1];
    double tr = apply_ms / ref;
    bench_row(b,
              bench_fmt("terminal: registered -> last of %ld `order` events (%d pages of %d: "
                        "fetch, decode, apply, SQLite cache, events)",
                        count, pages, PAGE_LIMIT),
              bench_fmt("%.0f ms", apply_ms),
              bench_fmt("the same %d pages with libcurl, one connection (%.1f MB, %ld orders): "
                        "%.0f ms (runs before/after: %.0f / %.0f)",
                        pages, (double)bytes / 1e6, curl_orders, ref, curl_ms[0], curl_ms[1]),
              "<= 2x", bench_fmt("%s (%.2fx)", bench_verdict(tr <= 2), tr));
    double rss_mb = (double)(rss1 - rss0) / 1024;
    bench_row(b, "terminal: peak RSS growth over the sync (ru_maxrss of its process)",
              bench_fmt("%.1f MB", rss_mb),
              bench_fmt("peak before the context started: %.1f MB", rss0 / 1024.0), "<= 64 MB",
              bench_verdict(rss_mb <= 64));
    double per = (double)(heap1 - heap0) / (double)count;
    bench_row(b, "terminal: live heap per cached order after the sync (counting allocator)",
              bench_fmt("%.0f B/order in %.1f blocks/order", per, (double)blocks / (double)count),
              bench_fmt("context before the first page: %.1f MB; wire %.0f B/order",
                        (double)(heap_reg - heap0) / 1e6, (double)bytes / (double)count),
              "<= 1 KB", bench_verdict(per <= 1024));
    free(dir);
    curl_global_cleanup();
    return 0;
}
