/* 4. Idle cost: a registered terminal with its long poll open (long_poll_seconds 25) and nothing
 * happening, for DLV_BENCH_IDLE_SECONDS (default 60): CPU time of the whole process (getrusage)
 * and the loop's wake-ups.
 *
 * The context is attached to a libuv loop this program runs on its own thread (dlv_options.loop,
 * the integrator's mode; the library's code is the same as with its own thread), so a uv_prepare
 * handle counts every loop iteration, i.e. every return from epoll_wait, with its time. Wake-ups
 * closer than 100 ms belong to one cluster (one poll answer takes several iterations). The loop
 * thread's voluntary context switches (/proc) are a second count from the kernel's side. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include "bench.h"
#include "ccproc.h"

#define TID "1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b"
#define MAX_WAKES 100000

static bench_latch registered;
static uv_loop_t loop;
static uv_prepare_t counter;
static uv_async_t quit;
static volatile bool recording;
static uint64_t wakes[MAX_WAKES];
static volatile long wake_count;
static pid_t loop_tid;

static void on_event(void *arg, const char *json)
{
    (void)arg;
    if (strstr(json, "\"event\":\"registered\""))
        bench_latch_add(&registered, 1);
}

/* Every timer of the loop, seen from outside: a timer whose due time has come and changed (or
 * that stopped) since the last iteration has fired. */
typedef struct timer_seen {
    uv_timer_t *t;
    uint64_t due; /* loop time it is due at; 0: inactive */
    long fired;
    long bursts; /* firings more than 100 ms after the previous one */
    uint64_t last_fired, burst_start, min_interval; /* between burst starts, ms */
} timer_seen;

static timer_seen timers[64];
static int timer_count;

static void look_at_timer(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (h->type != UV_TIMER || uv_is_closing(h))
        return;
    uv_timer_t *t = (uv_timer_t *)h;
    timer_seen *ts = NULL;
    for (int i = 0; i < timer_count && !ts; i++)
        if (timers[i].t == t)
            ts = &timers[i];
    if (!ts && timer_count < 64) {
        ts = &timers[timer_count++];
        memset(ts, 0, sizeof *ts);
        ts->t = t;
    }
    if (!ts)
        return;
    uint64_t now = uv_now(h->loop);
    uint64_t due = uv_is_active(h) ? now + uv_timer_get_due_in(t) : 0;
    if (recording && ts->due && ts->due <= now && due != ts->due) {
        /* libcurl re-arms its timer at 0-1 ms to finish what the expiry started: those belong
         * to the same burst. A timer repeating faster than 100 ms shows as fired >> bursts. */
        if (!ts->fired || now - ts->last_fired > 100) {
            if (ts->bursts && (ts->min_interval == 0 || now - ts->burst_start < ts->min_interval))
                ts->min_interval = now - ts->burst_start;
            ts->bursts++;
            ts->burst_start = now;
        }
        ts->fired++;
        ts->last_fired = now;
        if (getenv("DLV_BENCH_VERBOSE"))
            fprintf(stderr,
                    "idle: timer %p fired at loop time %llu (was due %llu; now due in %lld ms)\n",
                    (void *)t, (unsigned long long)now, (unsigned long long)ts->due,
                    due ? (long long)(due - now) : -1LL);
    }
    ts->due = due;
}

static void on_prepare(uv_prepare_t *p)
{
    if (recording && wake_count < MAX_WAKES)
        wakes[wake_count++] = bench_now_ns();
    uv_walk(p->loop, look_at_timer, NULL);
}

static void on_quit(uv_async_t *a)
{
    uv_close((uv_handle_t *)a, NULL);
    uv_close((uv_handle_t *)&counter, NULL);
}

static void loop_main(void *arg)
{
    (void)arg;
    loop_tid = (pid_t)syscall(SYS_gettid);
    uv_run(&loop, UV_RUN_DEFAULT);
}

static long ctxt_switches(pid_t tid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
    FILE *f = fopen(path, "r");
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1)
            break;
    if (f)
        fclose(f);
    return v;
}

typedef struct idle_result {
    double secs, cpu_ms, cpu_per_min;
    long wakes, clusters, switches;
    long timer_fires;          /* every timer of the loop, library's and libcurl's */
    long timer_bursts;         /* the same, firings within 100 ms of the previous one merged */
    double min_timer_interval; /* shortest time between two firings of one timer, s; 0: none */
    int timers_fired;
    char times[1024];
    bool ok;
} idle_result;

/* One idle period against a fresh emulator. `seasoned`: the call-center's revision is past 0, as
 * in any call-center in service; otherwise a brand-new one (revision 0). */
static idle_result idle_run(bool seasoned, int seconds, int cycle)
{
    idle_result res = {0};
    char *dir = bench_mkdtemp("idle");
    char db[600];
    snprintf(db, sizeof db, "%s/cc.db", dir);
    cc_proc cc;
    const char *args[] = {"--terminal", TID, NULL};
    if (cc_proc_start(&cc, db, args) != 0)
        return res;
    if (seasoned)
        bench_cc_bump_revision(&cc);
    bench_latch_init(&registered);
    wake_count = 0;
    timer_count = 0;
    uv_loop_init(&loop);
    uv_prepare_init(&loop, &counter);
    uv_prepare_start(&counter, on_prepare);
    uv_unref((uv_handle_t *)&counter);
    uv_async_init(&loop, &quit, on_quit);
    bench_host_config hc = {.dir = dir,
                            .server_url = cc.base,
                            .terminal_id = TID,
                            .long_poll_seconds = cycle,
                            .loop = &loop,
                            .on_event = on_event};
    /* Attached: created and started here, before the loop runs on its thread. */
    dlv_ctx *ctx = bench_host_start(&hc);
    uv_thread_t thread;
    uv_thread_create(&thread, loop_main, NULL);
    if (!ctx || !bench_latch_wait(&registered, 1, 10000)) {
        fprintf(stderr, "idle: the terminal did not register\n");
        return res;
    }
    bench_sleep_ms(1000); /* the snapshot answer is in; the long poll is held */

    long cs0 = ctxt_switches(loop_tid);
    double cpu0 = bench_cpu_ms();
    uint64_t t0 = bench_now_ns();
    recording = true;
    bench_sleep_ms(seconds * 1000);
    recording = false;
    uint64_t t1 = bench_now_ns();
    double cpu1 = bench_cpu_ms();
    res.switches = ctxt_switches(loop_tid) - cs0;

    /* Clusters of wake-ups, with their times: one poll answer takes a few iterations. */
    long n = wake_count;
    size_t tl = 0;
    for (long i = 0; i < n; i++) {
        double at = (double)(wakes[i] - t0) / 1e9;
        if (i == 0 || (double)(wakes[i] - wakes[i - 1]) / 1e6 > 100) {
            res.clusters++;
            if (tl < 200)
                tl += (size_t)snprintf(res.times + tl, sizeof res.times - tl, "%s%.1f",
                                       tl ? " " : "", at);
            else if (tl < 210)
                tl += (size_t)snprintf(res.times + tl, sizeof res.times - tl, " ...");
        }
    }
    for (int i = 0; i < timer_count; i++) {
        res.timer_fires += timers[i].fired;
        res.timer_bursts += timers[i].bursts;
        res.timers_fired += timers[i].fired > 0;
        double iv = (double)timers[i].min_interval / 1000.0;
        if (timers[i].min_interval && (res.min_timer_interval == 0 || iv < res.min_timer_interval))
            res.min_timer_interval = iv;
    }
    res.wakes = n;
    res.secs = (double)(t1 - t0) / 1e9;
    res.cpu_ms = cpu1 - cpu0;
    res.cpu_per_min = res.cpu_ms * 60.0 / res.secs;
    res.ok = true;
    dlv_ctx_stop(ctx, 0);
    uv_async_send(&quit);
    uv_thread_join(&thread);
    dlv_ctx_destroy(ctx);
    int rc = uv_loop_close(&loop);
    if (rc != 0)
        fprintf(stderr, "idle: the loop did not close cleanly: %s\n", uv_strerror(rc));
    cc_proc_stop(&cc);
    free(dir);
    return res;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int seconds = (int)bench_env_long("DLV_BENCH_IDLE_SECONDS", 60);
    int fresh_seconds = (int)bench_env_long("DLV_BENCH_IDLE_FRESH_SECONDS", 5);
    const int cycle = 25;
    const char *b = "4 idle";
    idle_result r = idle_run(true, seconds, cycle);
    if (!r.ok)
        return 1;
    bench_row(
        b, bench_fmt("CPU while idle, %.0f s, long poll %d s", r.secs, cycle),
        bench_fmt("%.1f ms CPU per minute (%.1f ms in %.0f s)", r.cpu_per_min, r.cpu_ms, r.secs),
        "getrusage(RUSAGE_SELF), whole process", "< 50 ms/min", bench_verdict(r.cpu_per_min < 50));
    bench_row(
        b, "wake-ups while idle",
        bench_fmt("%ld loop iterations (%ld clusters, at s: %s)", r.wakes, r.clusters, r.times),
        bench_fmt("loop thread voluntary context switches: %ld", r.switches), NULL, "info");
    /* A timer that fired twice must not have done so faster than the poll cycle (10% slack for
     * the poll answer's own jitter). */
    bool timers_ok = (r.min_timer_interval == 0 || r.min_timer_interval >= cycle * 0.9) &&
                     r.timer_fires <= 2 * r.timer_bursts + 2;
    bench_row(b, "timer firings while idle (uv_walk of every loop timer)",
              bench_fmt("%ld firings (%ld bursts) of %d timers; shortest interval between two "
                        "bursts of one timer: %s",
                        r.timer_fires, r.timer_bursts, r.timers_fired,
                        r.min_timer_interval > 0 ? bench_fmt("%.1f s", r.min_timer_interval)
                                                 : "none fired twice"),
              bench_fmt("long-poll cycle %d s", cycle), "no timer faster than the cycle",
              bench_verdict(timers_ok));
    if (fresh_seconds > 0) {
        idle_result f = idle_run(false, fresh_seconds, cycle);
        if (f.ok)
            bench_row(
                b, bench_fmt("idle against a brand-new call-center (revision 0), %.0f s", f.secs),
                bench_fmt("%.0f ms CPU per minute; %ld loop iterations (%.0f/s)", f.cpu_per_min,
                          f.wakes, f.wakes / f.secs),
                bench_fmt("loop thread voluntary context switches: %ld", f.switches), "< 50 ms/min",
                bench_verdict(f.cpu_per_min < 50));
    }
    curl_global_cleanup();
    return 0;
}
