/* 1. Order propagation: the emulator accepts an order (admin POST orders) -> the host's `order`
 * event fires; beside the loopback HTTP round trip to the same emulator (GET admin/settings on a
 * kept-alive connection) and the disk's fdatasync, same run.
 *
 * Isolated orders (the goal's row): one at a time, the next DLV_BENCH_ORDER_GAP_MS (default 10)
 * after the previous one's event, so the terminal has finished with it. A burst: orders back to
 * back, each sent the moment the previous one's event fired (the terminal may still be busy with
 * the previous order's aftermath). The latency is taken from the moment the admin POST is sent,
 * so it includes the emulator's own work to create and commit the order (its "accept"). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "ccproc.h"

#define TID "7d3c8a52-0f4e-4b6a-9c1d-2e3f4a5b6c7d"

static bench_latch registered, arrived;
static pthread_mutex_t expect_lock = PTHREAD_MUTEX_INITIALIZER;
static char expected[37];
static uint64_t arrived_at;

static void on_event(void *arg, const char *json)
{
    (void)arg;
    char id[37];
    if (bench_order_event_id(json, id)) {
        uint64_t now = bench_now_ns();
        pthread_mutex_lock(&expect_lock);
        bool match = strcmp(id, expected) == 0;
        if (match)
            arrived_at = now;
        pthread_mutex_unlock(&expect_lock);
        if (match)
            bench_latch_add(&arrived, 1);
    } else if (strstr(json, "\"event\":\"registered\"")) {
        bench_latch_add(&registered, 1);
    }
}

/* Sends `count` orders one at a time, `gap_ms` after the previous one's event; adds latencies
 * (POST sent -> event: an upper bound), the emulator's accept times, and (if not NULL) the time
 * from the admin answer to the event (a lower bound: the order was committed before the
 * answer). Returns how many never arrived. */
static long send_orders(bench_http *http, const char *url, long count, int gap_ms,
                        bench_samples *lat, bench_samples *accept, bench_samples *after_answer)
{
    long lost = 0;
    for (long i = 0; i < count; i++) {
        char id[37], body[160];
        bench_uuid(id);
        snprintf(body, sizeof body, "{\"id\":\"%s\",\"terminalId\":\"%s\"}", id, TID);
        pthread_mutex_lock(&expect_lock);
        memcpy(expected, id, sizeof id);
        pthread_mutex_unlock(&expect_lock);
        long before = bench_latch_get(&arrived);
        if (gap_ms > 0)
            bench_sleep_ms(gap_ms);
        uint64_t t0 = bench_now_ns();
        if (bench_http_call(http, "POST", url, NULL, body) != 0 || http->status != 200) {
            fprintf(stderr, "propagation: POST admin/orders failed (%ld)\n", http->status);
            return count - i + lost;
        }
        uint64_t t1 = bench_now_ns();
        if (!bench_latch_wait(&arrived, before + 1, 5000)) {
            lost++;
            continue;
        }
        pthread_mutex_lock(&expect_lock);
        uint64_t t2 = arrived_at;
        pthread_mutex_unlock(&expect_lock);
        bench_samples_add(lat, (double)(t2 - t0) / 1e6);
        bench_samples_add(accept, (double)(t1 - t0) / 1e6);
        if (after_answer) /* negative when the event came before the admin answer */
            bench_samples_add(after_answer, ((double)t2 - (double)t1) / 1e6);
    }
    return lost;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    long orders = bench_env_long("DLV_BENCH_ORDERS", 1000);
    long rtts = bench_env_long("DLV_BENCH_RTTS", 1000);
    char *dir = bench_mkdtemp("propagation");
    if (!dir)
        return 1;
    char db[600];
    snprintf(db, sizeof db, "%s/cc.db", dir);
    cc_proc cc;
    const char *args[] = {"--terminal", TID, NULL};
    if (cc_proc_start(&cc, db, args) != 0) {
        fprintf(stderr, "propagation: cannot start the emulator (%s)\n", cc_proc_binary());
        return 1;
    }
    bench_cc_bump_revision(&cc); /* a call-center in service: see bench_cc_bump_revision */
    bench_latch_init(&registered);
    bench_latch_init(&arrived);
    bench_host_config hc = {.dir = dir,
                            .server_url = cc.base,
                            .terminal_id = TID,
                            .long_poll_seconds = 25,
                            .on_event = on_event};
    dlv_ctx *ctx = bench_host_start(&hc);
    if (!ctx || !bench_latch_wait(&registered, 1, 10000)) {
        fprintf(stderr, "propagation: the terminal did not register\n");
        cc_proc_stop(&cc);
        return 1;
    }
    bench_sleep_ms(300); /* the first (snapshot) answer is in; the long poll is held */

    bench_http http;
    bench_http_init(&http);
    char url[256];
    snprintf(url, sizeof url, "%s/admin/settings", cc.base);
    bench_samples rtt = {0};
    for (long i = 0; i < rtts + 50; i++) {
        double t0 = bench_now_ms();
        if (bench_http_call(&http, "GET", url, NULL, NULL) != 0 || http.status != 200) {
            fprintf(stderr, "propagation: GET admin/settings failed\n");
            return 1;
        }
        if (i >= 50) /* the first calls warm the connection and the caches */
            bench_samples_add(&rtt, bench_now_ms() - t0);
    }

    double fs50 = 0, fs99 = 0;
    bench_fsync_probe(dir, 200, &fs50, &fs99);
    snprintf(url, sizeof url, "%s/admin/orders", cc.base);
    int gap = (int)bench_env_long("DLV_BENCH_ORDER_GAP_MS", 10);
    bench_samples lat = {0}, accept = {0}, burst = {0}, burst_accept = {0}, low = {0};
    long lost = send_orders(&http, url, orders, gap, &lat, &accept, &low);
    lost += send_orders(&http, url, orders < 300 ? orders : 300, 0, &burst, &burst_accept, NULL);
    bench_http_cleanup(&http);

    double rtt50 = bench_samples_pct(&rtt, 50), rtt99 = bench_samples_pct(&rtt, 99);
    double p50 = bench_samples_pct(&lat, 50), p99 = bench_samples_pct(&lat, 99);
    const char *b = "1 propagation";
    bench_row(
        b,
        bench_fmt("order accepted -> `order` event, %zu isolated orders, from the admin POST "
                  "sent (upper bound)",
                  lat.n),
        bench_fmt("p50 %.2f ms, p99 %.2f ms, max %.2f ms", p50, p99, bench_samples_pct(&lat, 100)),
        bench_fmt("loopback RTT (GET admin/settings, keep-alive, %zu calls): p50 %.2f ms, "
                  "p99 %.2f ms; one fdatasync: p50 %.2f ms, p99 %.2f ms",
                  rtt.n, rtt50, rtt99, fs50, fs99),
        bench_fmt("p99 <= RTT p99 + 5 ms = %.2f ms", rtt99 + 5),
        bench_fmt("%s (%.2fx RTT p99)", bench_verdict(lost == 0 && p99 <= rtt99 + 5),
                  rtt99 > 0 ? p99 / rtt99 : 0));
    double l99 = bench_samples_pct(&low, 99);
    bench_row(b, "the same from the emulator's answer to the admin POST (lower bound)",
              bench_fmt("p50 %.2f ms, p99 %.2f ms, max %.2f ms", bench_samples_pct(&low, 50), l99,
                        bench_samples_pct(&low, 100)),
              bench_fmt("loopback RTT p99 %.2f ms", rtt99),
              bench_fmt("p99 <= RTT p99 + 5 ms = %.2f ms", rtt99 + 5),
              bench_verdict(lost == 0 && l99 <= rtt99 + 5));
    bench_row(b, "of which the emulator's accept (admin POST orders answered)",
              bench_fmt("p50 %.2f ms, p99 %.2f ms", bench_samples_pct(&accept, 50),
                        bench_samples_pct(&accept, 99)),
              NULL, NULL, "info");
    bench_row(b, bench_fmt("the same, %zu orders back to back (burst)", burst.n),
              bench_fmt("p50 %.2f ms, p99 %.2f ms, max %.2f ms", bench_samples_pct(&burst, 50),
                        bench_samples_pct(&burst, 99), bench_samples_pct(&burst, 100)),
              bench_fmt("accept p50 %.2f ms, p99 %.2f ms", bench_samples_pct(&burst_accept, 50),
                        bench_samples_pct(&burst_accept, 99)),
              NULL, "info");
    if (lost)
        bench_row(b, "orders whose event never came (5 s)", bench_fmt("%ld", lost), NULL, "0",
                  bench_verdict(false));
    dlv_ctx_stop(ctx, 0);
    dlv_ctx_destroy(ctx);
    cc_proc_stop(&cc);
    bench_samples_free(&rtt);
    bench_samples_free(&lat);
    bench_samples_free(&accept);
    bench_samples_free(&burst);
    bench_samples_free(&burst_accept);
    bench_samples_free(&low);
    free(dir);
    curl_global_cleanup();
    return 0;
}
