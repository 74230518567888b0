/* delivery-doctor: "why don't deliveries arrive?" answered by the plugin itself.
 *
 *   delivery-doctor --config PATH [--front-config PATH] [--data-dir DIR] [--json]
 *                   [--printer receipt=URI] [--printer a4=URI] [--timeout-ms N]
 *                   [--locale ru|en]
 *                   [--accept-store-loss]
 *
 * Walks the checks in order and says which failed and what to do. Exit code 0 only when every
 * check passed (warnings allowed), 1 when one failed, 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <delivery/delivery.h>

static const char doctor_help[] =
    "usage: delivery-doctor --config PATH [OPTION]...\n"
    "Walks the checks of \"why don't deliveries arrive?\" in order and says which failed and\n"
    "what to do. Exit status: 0 when every check passed (warnings allowed), 1 when one failed,\n"
    "2 on bad usage or when no report could be made.\n"
    "\n"
    "  --config PATH             deliveryPluginConfig.xml (default: the default location)\n"
    "  --front-config PATH       the front terminal's config.xml\n"
    "  --data-dir DIR            the terminal's durable state (default: the config's folder)\n"
    "  --printer receipt=URI     check this receipt printer\n"
    "  --printer a4=URI          check this A4 printer\n"
    "  --timeout-ms N            per network check (default: the config's timeout)\n"
    "  --locale ru|en            the language of details and advice (default: ru)\n"
    "  --json                    print the report as JSON\n"
    "  --accept-store-loss       first accept the loss of a missing, empty or damaged terminal\n"
    "                            database: open it fresh and renew delivery.db.id (docs/store.md)\n"
    "  -h, --help                show this help and exit\n"
    "  --version                 show the version and exit\n"
    "\n"
    "See delivery-doctor(1).\n";

/* --help and --version; the option list above is the man page's (man/delivery-doctor.1, kept in
 * step by the man_options test). */
static int help_or_version(const char *arg)
{
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        fputs(doctor_help, stdout);
        return 1;
    }
    if (strcmp(arg, "--version") == 0) {
        printf("delivery-doctor %s\n", dlv_version_string());
        return 1;
    }
    return 0;
}

/* --accept-store-loss: opens the terminal's store once as delivery-host --accept-store-loss would
 * (dlv_options.accept_store_loss), so a refused lost database starts fresh and its marker,
 * delivery.db.id, names the new store; then the checks run on it. 0 on success. */
static int accept_store_loss(const dlv_doctor_options *o)
{
    dlv_options opts = {.version = DLV_OPTIONS_VERSION,
                        .config_path = o->config_path,
                        .data_dir = o->data_dir,
                        .accept_store_loss = 1,
                        .terminal_name = "delivery-doctor"};
    dlv_ctx *ctx = NULL;
    dlv_error err = {0};
    if (dlv_ctx_create(&opts, &ctx, &err) != DLV_OK) {
        fprintf(stderr, "delivery-doctor: cannot open the store accepting the loss: %s\n",
                err.message);
        return -1;
    }
    dlv_ctx_destroy(ctx);
    printf("store: the loss is accepted; the terminal database starts fresh\n");
    return 0;
}

int main(int argc, char **argv)
{
    dlv_doctor_options o = {.version = DLV_DOCTOR_OPTIONS_VERSION};
    int json = 0, accept_loss = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (help_or_version(a))
            return 0;
        if (strcmp(a, "--json") == 0) {
            json = 1;
            continue;
        }
        if (strcmp(a, "--accept-store-loss") == 0) {
            accept_loss = 1;
            continue;
        }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (!v) {
            fprintf(stderr, "delivery-doctor: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--config") == 0)
            o.config_path = v;
        else if (strcmp(a, "--front-config") == 0)
            o.front_config_path = v;
        else if (strcmp(a, "--data-dir") == 0)
            o.data_dir = v;
        else if (strcmp(a, "--timeout-ms") == 0)
            o.timeout_ms = atol(v);
        else if (strcmp(a, "--locale") == 0)
            o.locale = v;
        else if (strcmp(a, "--printer") == 0 && strncmp(v, "receipt=", 8) == 0)
            o.receipt_printer = v + 8;
        else if (strcmp(a, "--printer") == 0 && strncmp(v, "a4=", 3) == 0)
            o.a4_printer = v + 3;
        else {
            fprintf(stderr, "usage: delivery-doctor --config PATH [--front-config PATH] "
                            "[--data-dir DIR] [--json] [--printer receipt=URI] [--printer a4=URI] "
                            "[--accept-store-loss]\n");
            return 2;
        }
    }
    if (accept_loss && accept_store_loss(&o) != 0)
        return 2;
    char *report = NULL;
    dlv_error err;
    int failed = dlv_doctor_run(&o, &report, &err);
    if (failed < 0) {
        fprintf(stderr, "delivery-doctor: %s\n", err.message);
        return 2;
    }
    if (json) {
        printf("%s\n", report);
    } else {
        char *text = dlv_doctor_format(report);
        fputs(text ? text : report, stdout);
        dlv_free(text);
    }
    dlv_free(report);
    return failed == 0 ? 0 : 1;
}
