/* 5. Start-up: dlopen of libdelivery_plugin.so -> the `registered` event, with
 * connectToServerDelayInSeconds = 0 (so nothing is subtracted), each start in a new process so
 * the loader does its whole work every time. First starts (a new data folder: the database is
 * created) and restarts (the folder of the previous start) are shown apart.
 *
 *   bench_startup PLUGIN.so    everything, printing ROW lines
 * Each start is bench_startup_child (a program that links nothing but libc, libdl and
 * pthreads, as a POS host that knows nothing of libcurl or libuv), run next to this one. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "ccproc.h"

#define TID "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

typedef struct start_times {
    bench_samples load, create, reg, total;
    int objects; /* shared objects the plugin's dlopen mapped (dl_iterate_phdr) */
} start_times;

static void one_start(const char *child, const char *plugin, const char *url, const char *dir,
                      start_times *st)
{
    char cmd[3000];
    snprintf(cmd, sizeof cmd, "'%s' '%s' '%s' '%s' '%s'", child, plugin, url, dir, TID);
    FILE *p = popen(cmd, "r");
    double a = 0, b = 0, c = 0;
    int objects = 0;
    if (p && fscanf(p, "%lf %lf %lf %d", &a, &b, &c, &objects) == 4) {
        st->objects = objects;
        bench_samples_add(&st->load, a);
        bench_samples_add(&st->create, b);
        bench_samples_add(&st->reg, c);
        bench_samples_add(&st->total, a + b + c);
    }
    if (p)
        pclose(p);
}

/* dlopen of a plain library that needs only libc, in a new process: the floor for any library. */
static void plain_load(const char *child, const char *lib, bench_samples *ms, int *objects)
{
    char cmd[3000];
    snprintf(cmd, sizeof cmd, "'%s' --load '%s'", child, lib);
    FILE *p = popen(cmd, "r");
    double a = 0;
    int n = 0;
    if (p && fscanf(p, "%lf %d", &a, &n) == 2) {
        bench_samples_add(ms, a);
        *objects = n;
    }
    if (p)
        pclose(p);
}

static const char *summary(start_times *st)
{
    return bench_fmt("p50 %.1f ms, max %.1f ms (dlopen %.1f + create %.1f + start->registered "
                     "%.1f, p50s)",
                     bench_samples_pct(&st->total, 50), bench_samples_pct(&st->total, 100),
                     bench_samples_pct(&st->load, 50), bench_samples_pct(&st->create, 50),
                     bench_samples_pct(&st->reg, 50));
}

int main(int argc, char **argv)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (argc != 2) {
        fprintf(stderr, "usage: bench_startup PLUGIN.so\n");
        return 2;
    }
    char self[1024];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 16);
    self[n > 0 ? n : 0] = '\0';
    strcat(self, "_child");
    int runs = (int)bench_env_long("DLV_BENCH_STARTS", 10);
    char *dir = bench_mkdtemp("startup");
    char db[600];
    snprintf(db, sizeof db, "%s/cc.db", dir);
    cc_proc cc;
    const char *args[] = {"--terminal", TID, NULL};
    if (cc_proc_start(&cc, db, args) != 0)
        return 1;
    bench_cc_bump_revision(&cc);
    /* Reference: the register call alone on a new connection, as the plugin's first call is. */
    char url[256];
    snprintf(url, sizeof url, "%s/delivery/v1/register", cc.base);
    const char *hdr[] = {"X-Terminal-Id: " TID, NULL};
    bench_samples reg_rtt = {0};
    for (int i = 0; i < 20; i++) {
        http_result r;
        http_call("POST", url, hdr, "{\"terminalId\":\"" TID "\",\"protocolVersion\":1}", 10000,
                  &r);
        bench_samples_add(&reg_rtt, r.seconds * 1000);
        http_result_free(&r);
    }
    start_times fresh = {0}, again = {0};
    char data[700];
    for (int i = 0; i < runs; i++) {
        snprintf(data, sizeof data, "%s/fresh%d", dir, i);
        mkdir(data, 0755);
        one_start(self, argv[1], cc.base, data, &fresh);
    }
    snprintf(data, sizeof data, "%s/fresh0", dir);
    for (int i = 0; i < runs; i++)
        one_start(self, argv[1], cc.base, data, &again);
    cc_proc_stop(&cc);
    /* The plain library is built next to this program (test/bench/CMakeLists.txt). */
    char plain[1100];
    snprintf(plain, sizeof plain, "%.*s/libdlv_bench_plain.so",
             (int)(strrchr(self, '/') ? strrchr(self, '/') - self : 1), self);
    bench_samples plain_ms = {0};
    int plain_objects = 0;
    for (int i = 0; i < runs; i++)
        plain_load(self, plain, &plain_ms, &plain_objects);
    const char *b = "5 start-up";
    const char *ref = bench_fmt("register call alone (curl, new connection): p50 %.2f ms",
                                bench_samples_pct(&reg_rtt, 50));
    if (fresh.total.n == 0 || again.total.n == 0) {
        bench_row(b, "plugin load -> registered", "FAILED", ref, "< 50 ms", bench_verdict(false));
        return 1;
    }
    bench_row(b, "shared objects mapped by the plugin's dlopen (dl_iterate_phdr, before/after)",
              bench_fmt("%d", fresh.objects),
              bench_fmt("plain libc-only library: %d; its dlopen p50 %.2f ms (plugin's: %.1f ms)",
                        plain_objects, bench_samples_pct(&plain_ms, 50),
                        bench_samples_pct(&fresh.load, 50)),
              "<= 25", bench_verdict(fresh.objects <= 25));
    /* Issue 20: p50 <= 10 ms on a quiet machine (and, as before, no run past 50 ms). */
    double worst = bench_samples_pct(&fresh.total, 100), p50 = bench_samples_pct(&fresh.total, 50);
    bench_row(
        b,
        bench_fmt("dlopen -> `registered`, first start (new data folder), %zu runs", fresh.total.n),
        summary(&fresh), ref, "p50 <= 10 ms (quiet machine), every run < 50 ms",
        bench_verdict(p50 <= 10 && worst < 50));
    worst = bench_samples_pct(&again.total, 100);
    p50 = bench_samples_pct(&again.total, 50);
    bench_row(b,
              bench_fmt("dlopen -> `registered`, restart (existing data folder), %zu runs",
                        again.total.n),
              summary(&again), "connectToServerDelayInSeconds = 0: nothing subtracted",
              "p50 <= 10 ms (quiet machine), every run < 50 ms",
              bench_verdict(p50 <= 10 && worst < 50));
    free(dir);
    curl_global_cleanup();
    return 0;
}
