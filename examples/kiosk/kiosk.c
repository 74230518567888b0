/* delivery-kiosk: how an integrator embeds libdelivery in a program that already runs a libuv
 * loop. The context attaches to the kiosk's loop (no extra thread), incoming orders are shown as
 * they arrive and confirmed by the kiosk's operator account, and documents go to a printer URI.
 *
 *   delivery-kiosk --config deliveryPluginConfig.xml [--data-dir DIR] [--printer URI]
 *                  [--run-seconds N]
 */
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include <delivery/delivery.h>

typedef struct kiosk {
    dlv_ctx *ctx;
    uv_signal_t sigint;
    uv_timer_t deadline;
    int orders_seen;
} kiosk;

static void show(const char *json)
{
    cJSON *j = cJSON_Parse(json);
    const char *ev = cJSON_GetStringValue(cJSON_GetObjectItem(j, "event"));
    if (ev && strcmp(ev, "order") == 0) {
        const cJSON *o = cJSON_GetObjectItem(j, "order");
        char *sum = cJSON_PrintUnformatted(cJSON_GetObjectItem(o, "resultSum"));
        printf("order №%.0f  %-16s  due %s  %s руб.\n",
               cJSON_GetNumberValue(cJSON_GetObjectItem(o, "number")),
               cJSON_GetStringValue(cJSON_GetObjectItem(o, "status")),
               cJSON_GetStringValue(cJSON_GetObjectItem(o, "completeBefore")), sum ? sum : "?");
        free(sum);
    } else if (ev) {
        printf("%s\n", json);
    }
    fflush(stdout);
    cJSON_Delete(j);
}

static void on_reply(void *arg, const char *json)
{
    (void)arg;
    printf("  -> %s\n", json);
}

/* Everything arrives on the kiosk's own loop thread: no locking needed here. */
static void on_event(void *arg, const char *json)
{
    kiosk *k = arg;
    show(json);
    cJSON *j = cJSON_Parse(json);
    const char *ev = cJSON_GetStringValue(cJSON_GetObjectItem(j, "event"));
    const cJSON *o = cJSON_GetObjectItem(j, "order");
    const char *status = cJSON_GetStringValue(cJSON_GetObjectItem(o, "status"));
    if (ev && strcmp(ev, "order") == 0 && status && strcmp(status, "Unconfirmed") == 0) {
        char req[160];
        snprintf(req, sizeof req, "{\"cmd\":\"confirm\",\"orderId\":\"%s\"}",
                 cJSON_GetStringValue(cJSON_GetObjectItem(o, "id")));
        dlv_ctx_request(k->ctx, req, on_reply, k);
        k->orders_seen++;
    }
    cJSON_Delete(j);
}

static void stop_kiosk(kiosk *k)
{
    uv_signal_stop(&k->sigint);
    uv_timer_stop(&k->deadline);
    uv_close((uv_handle_t *)&k->sigint, NULL);
    uv_close((uv_handle_t *)&k->deadline, NULL);
    dlv_ctx_stop(k->ctx, 2000); /* attached: returns now, the loop finishes the stop */
}

static void on_sigint(uv_signal_t *s, int signum)
{
    (void)signum;
    stop_kiosk(s->data);
}

static void on_deadline(uv_timer_t *t)
{
    stop_kiosk(t->data);
}

int main(int argc, char **argv)
{
    const char *config = NULL, *data_dir = NULL, *printer = "null:";
    long run_seconds = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--config") == 0)
            config = argv[i + 1];
        else if (strcmp(argv[i], "--data-dir") == 0)
            data_dir = argv[i + 1];
        else if (strcmp(argv[i], "--printer") == 0)
            printer = argv[i + 1];
        else if (strcmp(argv[i], "--run-seconds") == 0)
            run_seconds = atol(argv[i + 1]);
    }
    if (!config) {
        fprintf(stderr, "usage: delivery-kiosk --config deliveryPluginConfig.xml [--data-dir DIR]"
                        " [--printer URI] [--run-seconds N]\n");
        return 2;
    }
    uv_loop_t *loop = uv_default_loop();
    kiosk k = {0};
    dlv_options opts = {
        .version = DLV_OPTIONS_VERSION,
        .config_path = config,
        .data_dir = data_dir,
        .terminal_name = "kiosk",
        .loop = loop,
        .on_event = on_event,
        .event_arg = &k,
        .log_level = DLV_LOG_WARN,
        .receipt_printer = printer,
        .utc_offset_minutes = 180,
    };
    dlv_error err;
    if (dlv_ctx_create(&opts, &k.ctx, &err) != DLV_OK) {
        fprintf(stderr, "delivery-kiosk: %s\n", err.message);
        return 1;
    }
    /* The kiosk logs in its operator account once; every confirm below runs with these rights. */
    dlv_ctx_start(k.ctx);
    dlv_ctx_request(k.ctx,
                    "{\"cmd\":\"login\",\"userId\":\"00000000-0000-4000-8000-00000000c105\","
                    "\"name\":\"Киоск\",\"rights\":[\"D_CND\",\"D_MD\"]}",
                    on_reply, &k);
    uv_signal_init(loop, &k.sigint);
    k.sigint.data = &k;
    uv_signal_start(&k.sigint, on_sigint, SIGINT);
    uv_timer_init(loop, &k.deadline);
    k.deadline.data = &k;
    if (run_seconds > 0)
        uv_timer_start(&k.deadline, on_deadline, (uint64_t)run_seconds * 1000, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    dlv_ctx_destroy(k.ctx);
    int rc = uv_loop_close(loop);
    printf("kiosk: %d orders confirmed, loop closed %s\n", k.orders_seen,
           rc == 0 ? "cleanly" : "with handles left");
    return rc == 0 ? 0 : 1;
}
