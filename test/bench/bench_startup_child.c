/* One start for bench_startup: dlopen the plugin, create, start, wait for `registered`; prints
 * "dlopen_ms create_ms start_to_registered_ms objects_loaded_by_dlopen". Links only libc, libdl
 * and pthreads, so the loader brings in every dependency of the plugin as it would in a POS host.
 * With --load, only the dlopen of LIB.so: "dlopen_ms objects_loaded_by_dlopen" (the baseline of
 * a plain libc-only library).
 *
 *   bench_startup_child PLUGIN.so SERVER_URL DATA_DIR TERMINAL_ID
 *   bench_startup_child --load LIB.so */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "delivery/plugin.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static struct timespec registered_at;
static int registered;

static double ms_between(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static void on_event(void *arg, const char *json)
{
    (void)arg;
    if (!strstr(json, "\"event\":\"registered\""))
        return;
    pthread_mutex_lock(&lock);
    clock_gettime(CLOCK_MONOTONIC, &registered_at);
    registered = 1;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

static int count_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)info;
    (void)size;
    ++*(int *)arg;
    return 0;
}

/* Objects mapped in the process now (dl_iterate_phdr: the program, vdso, every library). */
static int loaded_objects(void)
{
    int n = 0;
    dl_iterate_phdr(count_object, &n);
    return n;
}

int main(int argc, char **argv)
{
    int before = loaded_objects();
    if (argc == 3 && strcmp(argv[1], "--load") == 0) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        void *so = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (!so)
            return 1;
        printf("%.3f %d\n", ms_between(&a, &b), loaded_objects() - before);
        return 0;
    }
    if (argc != 5)
        return 2;
    char config[1024];
    snprintf(config, sizeof config, "%s/deliveryPluginConfig.xml", argv[3]);
    FILE *f = fopen(config, "w");
    if (!f)
        return 1;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<config>\n"
            "  <serviceMethodTimeoutMilliseconds>5000</serviceMethodTimeoutMilliseconds>\n"
            "  <serverUrl>%s</serverUrl>\n"
            "  <connectToServerDelayInSeconds>0</connectToServerDelayInSeconds>\n"
            "  <terminalId>%s</terminalId>\n</config>\n",
            argv[2], argv[4]);
    fclose(f);
    struct timespec t0, t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    void *so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!so) {
        fprintf(stderr, "startup: %s\n", dlerror());
        return 1;
    }
    dlv_plugin_entry_fn entry = (dlv_plugin_entry_fn)dlsym(so, DLV_PLUGIN_ENTRY_NAME);
    char why[256];
    const dlv_plugin_api *api = entry ? entry(DLV_PLUGIN_ABI_VERSION, why, sizeof why) : NULL;
    if (!api)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int objects = loaded_objects() - before;
    dlv_options opts = {.version = DLV_OPTIONS_VERSION,
                        .config_path = config,
                        .data_dir = argv[3],
                        .on_event = on_event,
                        .long_poll_seconds = 25};
    dlv_ctx *ctx = NULL;
    dlv_error err = {0};
    if (api->create(&opts, &ctx, &err) != DLV_OK) {
        fprintf(stderr, "startup: create: %s\n", err.message);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t2);
    if (api->start(ctx) != DLV_OK)
        return 1;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&lock);
    while (!registered && pthread_cond_timedwait(&cond, &lock, &deadline) == 0)
        ;
    int ok = registered;
    pthread_mutex_unlock(&lock);
    if (ok)
        printf("%.3f %.3f %.3f %d\n", ms_between(&t0, &t1), ms_between(&t1, &t2),
               ms_between(&t2, &registered_at), objects);
    fflush(stdout);
    api->stop(ctx, 0);
    api->destroy(ctx);
    return ok ? 0 : 1;
}
