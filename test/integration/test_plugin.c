/* The plugin as a cash server loads it: one exported entry, the ABI checked both ways, and
 * loading, starting, stopping and unloading again and again leaves no thread and no leak. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccproc.h"
#include "delivery/plugin.h"

/* Under sanitizers the plugin stays mapped after dlclose, so a leak report names real code rather
 * than an unloaded module; valgrind runs cover the real unload. */
#ifdef DLV_SANITIZER_BUILD
#define DLV_DLOPEN_FLAGS (RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)
#else
#define DLV_DLOPEN_FLAGS (RTLD_NOW | RTLD_LOCAL)
#endif
#include "testlib.h"

#define TID "e49d3632-b06a-4a9a-8c76-ae816c4404ad"

static const char *plugin_path;
static char *dir;

static int thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void abi_is_checked(void)
{
    void *so = dlopen(plugin_path, DLV_DLOPEN_FLAGS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(so);
    dlv_plugin_entry_fn entry;
    *(void **)&entry = dlsym(so, DLV_PLUGIN_ENTRY_NAME);
    CU_ASSERT_PTR_NOT_NULL_FATAL(entry);
    char why[256] = "";
    CU_ASSERT_PTR_NULL(entry(DLV_PLUGIN_ABI_VERSION + 1, why, sizeof why));
    DLV_ASSERT_CONTAINS(why, "incompatible plugin");
    const dlv_plugin_api *api = entry(DLV_PLUGIN_ABI_VERSION, why, sizeof why);
    CU_ASSERT_PTR_NOT_NULL_FATAL(api);
    CU_ASSERT_EQUAL(api->abi_version, DLV_PLUGIN_ABI_VERSION);
    CU_ASSERT_TRUE(api->size >= sizeof(dlv_plugin_api));
    CU_ASSERT_STRING_EQUAL(api->err_name(DLV_ECONFIG), "ECONFIG");
    /* Nothing but the entry is visible. */
    CU_ASSERT_PTR_NULL(dlsym(so, "dlv_ctx_create"));
    CU_ASSERT_PTR_NULL(dlsym(so, "dlv__malloc"));
    /* An options struct from another version is refused clearly. */
    dlv_options bad = {.version = DLV_OPTIONS_VERSION + 7};
    dlv_ctx *ctx = NULL;
    dlv_error err;
    CU_ASSERT_EQUAL(api->create(&bad, &ctx, &err), DLV_EABI);
    DLV_ASSERT_CONTAINS(err.message, "version");
    dlclose(so);
}

static void on_event(void *arg, const char *json)
{
    int *registered = arg;
    if (strstr(json, "\"event\":\"registered\""))
        __atomic_add_fetch(registered, 1, __ATOMIC_SEQ_CST);
}

static void load_unload_loop(void)
{
    char db[600];
    snprintf(db, sizeof db, "%s/cc.db", dir);
    cc_proc cc;
    const char *args[] = {"--terminal", TID, NULL};
    CU_ASSERT_EQUAL_FATAL(cc_proc_start(&cc, db, args), 0);
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s/deliveryPluginConfig.xml", dir);
    FILE *f = fopen(cfg, "w");
    fprintf(f,
            "<config><serverUrl>%s</serverUrl><terminalId>" TID "</terminalId>"
            "<connectToServerDelayInSeconds>0</connectToServerDelayInSeconds>"
            "<serviceMethodTimeoutMilliseconds>2000</serviceMethodTimeoutMilliseconds>"
            "</config>",
            cc.base);
    fclose(f);
    int before = thread_count();
    int rounds = getenv("DLV_PLUGIN_ROUNDS") ? atoi(getenv("DLV_PLUGIN_ROUNDS")) : 5;
    for (int i = 0; i < rounds; i++) {
        void *so = dlopen(plugin_path, DLV_DLOPEN_FLAGS);
        CU_ASSERT_PTR_NOT_NULL_FATAL(so);
        dlv_plugin_entry_fn entry;
        *(void **)&entry = dlsym(so, DLV_PLUGIN_ENTRY_NAME);
        const dlv_plugin_api *api = entry(DLV_PLUGIN_ABI_VERSION, NULL, 0);
        int registered = 0;
        dlv_options opts = {.version = DLV_OPTIONS_VERSION,
                            .config_path = cfg,
                            .data_dir = dir,
                            .on_event = on_event,
                            .event_arg = &registered,
                            .long_poll_seconds = 1};
        dlv_ctx *ctx = NULL;
        dlv_error err;
        CU_ASSERT_EQUAL_FATAL(api->create(&opts, &ctx, &err), DLV_OK);
        CU_ASSERT_EQUAL(api->start(ctx), DLV_OK);
        CU_ASSERT_EQUAL(thread_count(), before + 1); /* the plugin's own loop thread */
        for (int w = 0; w < 300 && !__atomic_load_n(&registered, __ATOMIC_SEQ_CST); w++)
            usleep(10000);
        CU_ASSERT_EQUAL(registered, 1);
        CU_ASSERT_EQUAL(api->stop(ctx, 500), DLV_OK);
        api->destroy(ctx);
        CU_ASSERT_EQUAL(dlclose(so), 0);
        CU_ASSERT_EQUAL(thread_count(), before);
    }
    cc_proc_stop(&cc);
}

int main(int argc, char **argv)
{
    plugin_path = argc > 1 ? argv[1] : getenv("DLV_PLUGIN");
    if (!plugin_path) {
        fprintf(stderr, "usage: test_plugin PATH/libdelivery_plugin.so\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    dir = dlv_test_mkdtemp();
    static const dlv_test_case cases[] = {
        DLV_TEST(abi_is_checked),
        DLV_TEST(load_unload_loop),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("plugin", cases);
    dlv_test_rmdir(dir);
    curl_global_cleanup();
    return rc;
}
