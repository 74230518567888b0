/* delivery-doctor: "why don't deliveries arrive?" answered by the plugin itself.
 *
 *   delivery-doctor --config PATH [--front-config PATH] [--data-dir DIR] [--json]
 *                   [--printer receipt=URI] [--printer a4=URI] [--timeout-ms N]
 *
 * Walks the checks in order and says which failed and what to do. Exit code 0 only when every
 * check passed (warnings allowed), 1 when one failed, 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <delivery/delivery.h>

int main(int argc, char **argv)
{
    dlv_doctor_options o = {.version = DLV_DOCTOR_OPTIONS_VERSION};
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            json = 1;
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
        else if (strcmp(a, "--printer") == 0 && strncmp(v, "receipt=", 8) == 0)
            o.receipt_printer = v + 8;
        else if (strcmp(a, "--printer") == 0 && strncmp(v, "a4=", 3) == 0)
            o.a4_printer = v + 3;
        else {
            fprintf(stderr,
                    "usage: delivery-doctor --config PATH [--front-config PATH] "
                    "[--data-dir DIR] [--json] [--printer receipt=URI] [--printer a4=URI]\n");
            return 2;
        }
    }
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
