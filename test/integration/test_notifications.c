/* Customer messages through a running terminal: templates from the config folder with
 * .ToString("fmt"), a broken template that falls back to the built-in text (the terminal starts,
 * the host is warned with file:line, the doctor names it). */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ccproc.h"
#include "hostsim.h"
#include "testlib.h"

#define TID "e49d3632-b06a-4a9a-8c76-ae816c4404ad"
#define LOGIN                                                                                      \
    "{\"cmd\":\"login\",\"userId\":\"00000000-0000-4000-8000-0000000000aa\","                      \
    "\"name\":\"Менеджер\",\"rights\":[\"D_CND\",\"D_MD\",\"D_CD\",\"D_CAD\",\"F_CASH\"]}"

static char *dir;
static cc_proc cc;
static int test_no;

static char *fresh_dir(void)
{
    char *d = NULL;
    if (asprintf(&d, "%s/t%d", dir, ++test_no) < 0 || mkdir(d, 0755) != 0)
        return NULL;
    return d;
}

static void write_template(const char *d, const char *event, const char *text)
{
    char path[600];
    snprintf(path, sizeof path, "%s/notifications", d);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/notifications/%s.txt", d, event);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static char *new_order(void)
{
    http_result r;
    cc_admin(&cc, "POST", "orders", "{\"serviceType\":\"DeliveryByCourier\"}", &r);
    const cJSON *id = cJSON_GetObjectItem(r.json, "id");
    char *copy = cJSON_IsString(id) ? strdup(id->valuestring) : NULL;
    http_result_free(&r);
    return copy;
}

static void templates_render_and_fall_back(void)
{
    char db[600];
    snprintf(db, sizeof db, "%s/cc.db", dir);
    const char *args[] = {"--terminal", TID, NULL};
    CU_ASSERT_EQUAL_FATAL(cc_proc_start(&cc, db, args), 0);
    char *d = fresh_dir();
    /* New: the form iiko users copy; Unconfirmed: a format the library cannot do, on line 2. */
    write_template(d, "New",
                   "Заказ @Model.Number.ToString(\"N0\") подтверждён, будет к "
                   "@Model.ExpectedDeliverTime.ToString(\"HH:mm\").");
    write_template(d, "Unconfirmed",
                   "Заказ @Model.Number\nпринят в @Model.CreateTime.ToString(\"hh tt\")");
    hostsim_config cfg = {.dir = d, .server_url = cc.base, .terminal_id = TID};
    hostsim *h = hostsim_start(&cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 5000, "\"event\":\"started\"", NULL));
    const char *warn = hostsim_wait(h, 5000, "\"event\":\"error\"", "TemplateFallback",
                                    "Unconfirmed.txt:2:", NULL);
    CU_ASSERT_PTR_NOT_NULL(warn);
    DLV_ASSERT_CONTAINS(warn, "unsupported format");
    CU_ASSERT_EQUAL(hostsim_count(h, "TemplateFallback"), 1);
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 15000, "\"event\":\"registered\"", NULL));
    char *id = new_order();
    CU_ASSERT_PTR_NOT_NULL_FATAL(id);
    /* The broken Unconfirmed template: the built-in text goes out instead. */
    const char *note =
        hostsim_wait(h, 5000, "\"event\":\"notification\"", "\"kind\":\"Unconfirmed\"", id, NULL);
    CU_ASSERT_PTR_NOT_NULL(note);
    DLV_ASSERT_CONTAINS(note, "принят, ожидает подтверждения");
    DLV_ASSERT_CONTAINS(note, "\"channel\":\"sms\"");
    hostsim_request(h, LOGIN);
    char req[300];
    snprintf(req, sizeof req, "{\"cmd\":\"confirm\",\"orderId\":\"%s\"}", id);
    DLV_ASSERT_CONTAINS(hostsim_request(h, req), "\"ok\":true");
    note = hostsim_wait(h, 5000, "\"event\":\"notification\"", "\"kind\":\"New\"", id, NULL);
    CU_ASSERT_PTR_NOT_NULL(note);
    DLV_ASSERT_CONTAINS(note, "подтверждён, будет к ");
    CU_ASSERT_PTR_NULL(note ? strstr(note, "ToString") : NULL);
    /* The doctor names the template and the line. */
    const char *r = hostsim_request(h, "{\"cmd\":\"doctor\"}");
    DLV_ASSERT_CONTAINS(r, "notification templates");
    DLV_ASSERT_CONTAINS(r, "Unconfirmed.txt:2:");
    free(id);
    CU_ASSERT_EQUAL(hostsim_stop(h, 2000), 0);
    cc_proc_stop(&cc);
    free(d);
}

/* Channels per event from the call-center's settings ("notifications"): SMS only, push only,
 * both (two messages), none (no message, no mark). */
static void channels_from_settings(void)
{
    char db[600];
    snprintf(db, sizeof db, "%s/cc2.db", dir);
    const char *args[] = {"--terminal", TID, NULL};
    CU_ASSERT_EQUAL_FATAL(cc_proc_start(&cc, db, args), 0);
    http_result r;
    cc_admin(&cc, "GET", "settings", NULL, &r);
    cJSON *settings = cJSON_Duplicate(r.json, true);
    http_result_free(&r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(settings);
    cJSON_DeleteItemFromObject(settings, "notifications");
    cJSON *n = cJSON_Parse("{\"Unconfirmed\":{\"sms\":false,\"push\":true},"
                           "\"New\":{\"sms\":true,\"push\":true},"
                           "\"Cooking\":{\"sms\":false,\"push\":false}}");
    cJSON_AddItemToObject(settings, "notifications", n);
    char *body = cJSON_PrintUnformatted(settings);
    cc_admin(&cc, "PUT", "settings", body, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    http_result_free(&r);
    free(body);
    cJSON_Delete(settings);
    char *d = fresh_dir();
    hostsim_config cfg = {.dir = d, .server_url = cc.base, .terminal_id = TID};
    hostsim *h = hostsim_start(&cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 15000, "\"event\":\"registered\"", NULL));
    char *id = new_order();
    CU_ASSERT_PTR_NOT_NULL_FATAL(id);
    /* Unconfirmed: push only. */
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 5000, "\"event\":\"notification\"",
                                        "\"kind\":\"Unconfirmed\"", "\"channel\":\"push\"", id,
                                        NULL));
    hostsim_request(h, LOGIN);
    char req[300];
    snprintf(req, sizeof req, "{\"cmd\":\"confirm\",\"orderId\":\"%s\"}", id);
    DLV_ASSERT_CONTAINS(hostsim_request(h, req), "\"ok\":true");
    /* New: SMS and push, one message each. */
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 5000, "\"event\":\"notification\"", "\"kind\":\"New\"",
                                        "\"channel\":\"push\"", id, NULL));
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 5000, "\"event\":\"notification\"", "\"kind\":\"New\"",
                                        "\"channel\":\"sms\"", id, NULL));
    snprintf(req, sizeof req,
             "{\"cmd\":\"setStatus\",\"orderId\":\"%s\",\"status\":\"CookingStarted\"}", id);
    const char *reply = hostsim_request(h, req);
    (void)reply; /* the order may already be cooking by itself (automatic mode) */
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 5000, "\"event\":\"statusChanged\"",
                                        "\"to\":\"CookingStarted\"", id, NULL));
    /* Cooking: neither channel, no message. */
    CU_ASSERT_EQUAL(hostsim_count(h, "\"kind\":\"Cooking\""), 0);
    CU_ASSERT_EQUAL(hostsim_count(h, "\"kind\":\"Unconfirmed\",\"channel\":\"sms\""), 0);
    CU_ASSERT_EQUAL(hostsim_count(h, "\"kind\":\"New\""), 2);
    free(id);
    CU_ASSERT_EQUAL(hostsim_stop(h, 2000), 0);
    cc_proc_stop(&cc);
    free(d);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    dir = dlv_test_mkdtemp();
    static const dlv_test_case cases[] = {
        DLV_TEST(templates_render_and_fall_back),
        DLV_TEST(channels_from_settings),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("notifications", cases);
    dlv_test_rmdir(dir);
    curl_global_cleanup();
    return rc;
}
