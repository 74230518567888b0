/* delivery-host: the reference POS host. It loads libdelivery_plugin.so with dlopen exactly as a
 * cash server would and drives it from the command line: JSON commands on stdin, one JSON object
 * per line on stdout (events and replies), human-readable logs on stderr.
 *
 *   delivery-host --plugin PATH/libdelivery_plugin.so --config PATH/deliveryPluginConfig.xml
 *                 [--front-config PATH/config.xml] [--data-dir DIR]
 *                 [--printer receipt=URI] [--printer a4=URI] [--user-rights D_CND,D_MD,...]
 *                 [--regular-numbers FIRST-LAST]
 */
#include <cjson/cJSON.h>
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/plugin.h"
#include "screen.h"

/* Under sanitizers the plugin stays mapped after dlclose, so a leak report names real code rather
 * than an unloaded module; valgrind runs cover the real unload. */
#ifdef DLV_SANITIZER_BUILD
#define DLV_DLOPEN_FLAGS (RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)
#else
#define DLV_DLOPEN_FLAGS (RTLD_NOW | RTLD_LOCAL)
#endif

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static long replies_pending;

/* Events and replies come from the plugin's thread; one line each, never interleaved. */
static void print_line(const char *json)
{
    pthread_mutex_lock(&out_lock);
    fputs(json, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
}

/* The delivery screen (--http), when served: it gets every event too (screen.c). */
static screen *the_screen;

static void on_event(void *arg, const char *json)
{
    (void)arg;
    print_line(json);
    screen_event(the_screen, json);
}

static void on_reply(void *arg, const char *json)
{
    (void)arg;
    print_line(json);
    pthread_mutex_lock(&done_lock);
    replies_pending--;
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&done_lock);
}

static void on_log(void *arg, dlv_log_level level, const char *line)
{
    (void)arg;
    static const char *const names[] = {"error", "warn", "info", "debug"};
    fprintf(stderr, "delivery %s: %s\n", names[level], line);
}

static void usage(FILE *to)
{
    fprintf(to, "usage: delivery-host --plugin PATH/libdelivery_plugin.so --config PATH/"
                "deliveryPluginConfig.xml\n"
                "                     [--front-config PATH/config.xml] [--data-dir DIR]\n"
                "                     [--printer receipt=URI] [--printer a4=URI] "
                "[--user-rights D_CND,D_MD,...]\n"
                "Reads one JSON command per line on stdin, writes events and replies as JSON lines "
                "on stdout.\n");
}

static const char host_help[] =
    "usage: delivery-host --plugin PATH/libdelivery_plugin.so --config PATH/"
    "deliveryPluginConfig.xml [OPTION]...\n"
    "Loads the delivery plugin as a POS cash server would: reads one JSON command per line on\n"
    "stdin, writes events and replies as JSON lines on stdout, logs on stderr.\n"
    "\n"
    "  --plugin PATH             the plugin to load (libdelivery_plugin.so); required\n"
    "  --config PATH             deliveryPluginConfig.xml; required\n"
    "  --front-config PATH       the front terminal's config.xml\n"
    "  --data-dir DIR            durable state (default: the config file's folder)\n"
    "  --printer receipt=URI     receipt printer (file:PATH, tcp://HOST:9100, cups:QUEUE, null:)\n"
    "  --printer a4=URI          A4 printer for invoices\n"
    "  --user-rights LIST        log a cashier in at start with these rights (D_CND,D_MD,...)\n"
    "  --log-level N             0 error, 1 warn, 2 info (default), 3 debug\n"
    "  --long-poll-seconds N     long-poll wait, 1..60 (default 25)\n"
    "  --time-zone NAME          the restaurant's zone (Europe/Moscow) when the call-center\n"
    "                            sends none (default: the OS zone)\n"
    "  --locale ru|en            the language of messages for the staff (default ru)\n"
    "  --regular-numbers FIRST-LAST  the host's own regular order numbers: orders created at\n"
    "                            the terminal never get one of them\n"
    "  --http HOST:PORT          also serve the delivery screen there (127.0.0.1:8088;\n"
    "                            another address than loopback needs --http-token)\n"
    "  --http-token TOKEN        the screen's pages must send this token\n"
    "  --users FILE              who may log in on the screen: JSON {\"users\":[...]}\n"
    "  --restaurant-name TEXT    the restaurant's name at the top of the delivery invoice\n"
    "  --cafe-address TEXT       the restaurant's address: under its name on the invoice, and\n"
    "                            @Model.CafeAddress in customer messages\n"
    "  --no-stdin                read no commands: run until SIGTERM or SIGINT (a service)\n"
    "  --accept-store-loss       start although the terminal database is missing, empty or\n"
    "                            damaged beyond repair (pending commands lost; docs/store.md)\n"
    "  -h, --help                show this help and exit\n"
    "  --version                 show the version and exit\n"
    "\n"
    "See delivery-host(1).\n";

/* --help and --version; the option list above is the man page's (man/delivery-host.1, kept in
 * step by the man_options test). */
static bool help_or_version(const char *arg)
{
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        fputs(host_help, stdout);
        return true;
    }
    if (strcmp(arg, "--version") == 0) {
        printf("delivery-host %d.%d.%d\n", DLV_VERSION_MAJOR, DLV_VERSION_MINOR, DLV_VERSION_PATCH);
        return true;
    }
    return false;
}

/* --no-stdin: the host runs as a service with no one on stdin and stops on SIGTERM/SIGINT. The
 * signals are blocked before the plugin starts its thread (threads inherit the mask), so only
 * the sigwait() below ever receives them. */
static bool no_stdin;
static sigset_t stop_signals;

static void use_no_stdin(void)
{
    no_stdin = true;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
}

static void wait_for_stop_signal(void)
{
    int sig = 0;
    sigwait(&stop_signals, &sig);
    fprintf(stderr, "delivery-host: stopping (signal %d)\n", sig);
}

static void print_bad_command(const char *message)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "reply", "");
    cJSON_AddBoolToObject(j, "ok", 0);
    cJSON_AddStringToObject(j, "error", "BadCommand");
    cJSON_AddStringToObject(j, "message", message);
    char *text = cJSON_PrintUnformatted(j);
    print_line(text);
    free(text);
    cJSON_Delete(j);
}

/* Sends a login for the --user-rights user, as if a cashier had logged in. */
static void initial_login(const dlv_plugin_api *api, dlv_ctx *ctx, const char *rights)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "cmd", "login");
    cJSON_AddStringToObject(j, "userId", "00000000-0000-4000-8000-000000000001");
    cJSON_AddStringToObject(j, "name", "Кассир");
    cJSON *list = cJSON_AddArrayToObject(j, "rights");
    char *copy = strdup(rights);
    for (char *tok = strtok(copy, ", "); tok; tok = strtok(NULL, ", "))
        cJSON_AddItemToArray(list, cJSON_CreateString(tok));
    free(copy);
    char *text = cJSON_PrintUnformatted(j);
    pthread_mutex_lock(&done_lock);
    replies_pending++;
    pthread_mutex_unlock(&done_lock);
    if (api->request(ctx, text, on_reply, NULL) != DLV_OK) {
        pthread_mutex_lock(&done_lock);
        replies_pending--;
        pthread_mutex_unlock(&done_lock);
    }
    free(text);
    cJSON_Delete(j);
}

/* "FIRST-LAST", 1 <= FIRST <= LAST. */
static bool parse_range(const char *v, int64_t *first, int64_t *last)
{
    char *end = NULL;
    long long f = strtoll(v, &end, 10);
    if (end == v || *end != '-')
        return false;
    const char *rest = end + 1;
    long long l = strtoll(rest, &end, 10);
    if (end == rest || *end || f < 1 || l < f)
        return false;
    *first = f;
    *last = l;
    return true;
}

int main(int argc, char **argv)
{
    dlv_options opts = {.version = DLV_OPTIONS_VERSION, .log_level = DLV_LOG_INFO};
    const char *plugin = NULL, *rights = NULL;
    const char *http = NULL, *http_token = NULL, *users = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (help_or_version(a))
            return 0;
        if (strcmp(a, "--no-stdin") == 0) {
            use_no_stdin();
            continue;
        }
        if (strcmp(a, "--accept-store-loss") == 0) {
            opts.accept_store_loss = 1;
            continue;
        }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (!v) {
            fprintf(stderr, "delivery-host: %s needs a value\n", a);
            usage(stderr);
            return 2;
        }
        if (strcmp(a, "--plugin") == 0)
            plugin = v;
        else if (strcmp(a, "--config") == 0)
            opts.config_path = v;
        else if (strcmp(a, "--front-config") == 0)
            opts.front_config_path = v;
        else if (strcmp(a, "--data-dir") == 0)
            opts.data_dir = v;
        else if (strcmp(a, "--user-rights") == 0)
            rights = v;
        else if (strcmp(a, "--http") == 0)
            http = v;
        else if (strcmp(a, "--http-token") == 0)
            http_token = v;
        else if (strcmp(a, "--users") == 0)
            users = v;
        else if (strcmp(a, "--log-level") == 0)
            opts.log_level = (dlv_log_level)atoi(v);
        else if (strcmp(a, "--long-poll-seconds") == 0)
            opts.long_poll_seconds = atoi(v);
        else if (strcmp(a, "--time-zone") == 0)
            opts.time_zone = v;
        else if (strcmp(a, "--restaurant-name") == 0)
            opts.restaurant_name = v;
        else if (strcmp(a, "--cafe-address") == 0)
            opts.cafe_address = v;
        else if (strcmp(a, "--locale") == 0)
            opts.locale = v;
        else if (strcmp(a, "--regular-numbers") == 0) {
            if (!parse_range(v, &opts.regular_numbers_first, &opts.regular_numbers_last)) {
                fprintf(stderr, "delivery-host: --regular-numbers wants FIRST-LAST (1-99999)\n");
                return 2;
            }
        } else if (strcmp(a, "--printer") == 0 && strncmp(v, "receipt=", 8) == 0)
            opts.receipt_printer = v + 8;
        else if (strcmp(a, "--printer") == 0 && strncmp(v, "a4=", 3) == 0)
            opts.a4_printer = v + 3;
        else {
            fprintf(stderr, "delivery-host: unknown option %s %s\n", a, v);
            usage(stderr);
            return 2;
        }
    }
    if (!plugin || !opts.config_path) {
        fprintf(stderr, "delivery-host: --plugin and --config are required\n");
        usage(stderr);
        return 2;
    }
    void *so = dlopen(plugin, DLV_DLOPEN_FLAGS);
    if (!so) {
        fprintf(stderr, "delivery-host: cannot load the plugin: %s\n", dlerror());
        return 1;
    }
    dlv_plugin_entry_fn entry;
    *(void **)&entry = dlsym(so, DLV_PLUGIN_ENTRY_NAME);
    char why[256] = "";
    const dlv_plugin_api *api = entry ? entry(DLV_PLUGIN_ABI_VERSION, why, sizeof why) : NULL;
    if (!api) {
        fprintf(stderr, "delivery-host: %s: %s\n", plugin,
                entry ? why : "not a delivery plugin (no " DLV_PLUGIN_ENTRY_NAME ")");
        dlclose(so);
        return 1;
    }
    opts.on_event = on_event;
    opts.on_log = on_log;
    opts.terminal_name = "delivery-host";
    dlv_ctx *ctx = NULL;
    dlv_error err = {0};
    if (api->create(&opts, &ctx, &err) != DLV_OK) {
        fprintf(stderr, "delivery-host: %s\n", err.message);
        dlclose(so);
        return 1;
    }
    if (http && !(the_screen = screen_start(http, http_token, users, api, ctx, why, sizeof why))) {
        fprintf(stderr, "delivery-host: %s\n", why);
        api->destroy(ctx);
        dlclose(so);
        return 2;
    }
    if (api->start(ctx) != DLV_OK) {
        fprintf(stderr, "delivery-host: cannot start: %s\n", api->last_error(ctx));
        screen_stop(the_screen);
        api->destroy(ctx);
        dlclose(so);
        return 1;
    }
    if (rights)
        initial_login(api, ctx, rights);

    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    if (no_stdin)
        wait_for_stop_signal();
    while (!no_stdin && (len = getline(&line, &cap, stdin)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        cJSON *j = cJSON_Parse(line);
        const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(j, "cmd");
        bool quit = cJSON_IsString(cmd) && strcmp(cmd->valuestring, "quit") == 0;
        /* An unparsable line goes to the library too: it answers BadCommand in request order,
         * after the replies to the lines before it, which may still be queued there. */
        cJSON_Delete(j);
        if (quit) {
            print_line("{\"reply\":\"quit\",\"ok\":true}");
            break;
        }
        pthread_mutex_lock(&done_lock);
        replies_pending++;
        pthread_mutex_unlock(&done_lock);
        int rc = api->request(ctx, line, on_reply, NULL);
        if (rc != DLV_OK) {
            pthread_mutex_lock(&done_lock);
            replies_pending--;
            pthread_mutex_unlock(&done_lock);
            print_bad_command(api->strerror(rc));
        }
    }
    free(line);
    /* Every request answered before stopping, so no reply is lost. */
    pthread_mutex_lock(&done_lock);
    while (replies_pending > 0)
        pthread_cond_wait(&done_cond, &done_lock);
    pthread_mutex_unlock(&done_lock);
    int rc = api->stop(ctx, 5000);
    screen *gone = the_screen;
    the_screen = NULL; /* the stop's last event went out above */
    screen_stop(gone);
    api->destroy(ctx);
    dlclose(so);
    return rc == DLV_OK ? 0 : 1;
}
