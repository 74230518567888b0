/* delivery-doctor against real failures: each check of the troubleshooting list produced for real
 * and named, with its advice; all green exits 0. Also the running host's {"cmd":"doctor"}. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ccproc.h"
#include "faultserver.h"
#include "hostsim.h"
#include "printer_emulator.h"
#include "testlib.h"

#define TID "e49d3632-b06a-4a9a-8c76-ae816c4404ad"
#define STRANGER "11111111-2222-4333-8444-555555555555"

static const char *doctor_bin;
static char *dir;
static cc_proc cc;
static int n_dirs;

static char *config_dir(const char *url, const char *terminal)
{
    char *d = NULL;
    if (asprintf(&d, "%s/d%d", dir, ++n_dirs) < 0 || mkdir(d, 0755))
        return NULL;
    char path[600];
    snprintf(path, sizeof path, "%s/deliveryPluginConfig.xml", d);
    FILE *f = fopen(path, "w");
    fprintf(f, "<config>\n<serverUrl>%s</serverUrl>\n", url);
    if (terminal)
        fprintf(f, "<terminalId>%s</terminalId>\n", terminal);
    fprintf(f, "<connectToServerDelayInSeconds>0</connectToServerDelayInSeconds>\n"
               "<serviceMethodTimeoutMilliseconds>1500</serviceMethodTimeoutMilliseconds>\n"
               "</config>\n");
    fclose(f);
    return d;
}

/* Runs the doctor; returns its exit code and its stdout in *out (caller frees). */
static int run_doctor(const char *d, const char *extra, char **out)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s --config %s/deliveryPluginConfig.xml --data-dir %s %s 2>&1",
             doctor_bin, d, d, extra ? extra : "");
    FILE *p = popen(cmd, "r");
    size_t cap = 65536, len = 0;
    *out = calloc(1, cap);
    size_t got;
    while ((got = fread(*out + len, 1, cap - 1 - len, p)) > 0)
        len += got;
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void all_green(void)
{
    char *d = config_dir(cc.base, TID);
    printer_emulator *pe = printer_emulator_start();
    char extra[128];
    snprintf(extra, sizeof extra, "--printer receipt=tcp://127.0.0.1:%d",
             printer_emulator_port(pe));
    char *out;
    int rc = run_doctor(d, extra, &out);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc != 0)
        fprintf(stderr, "\n%s\n", out);
    DLV_ASSERT_CONTAINS(out, "PASS  config");
    DLV_ASSERT_CONTAINS(out, "PASS  protocol");
    DLV_ASSERT_CONTAINS(out, "PASS  registered");
    DLV_ASSERT_CONTAINS(out, "PASS  long poll");
    DLV_ASSERT_CONTAINS(out, "PASS  outbox");
    DLV_ASSERT_CONTAINS(out, "PASS  printer receipt");
    DLV_ASSERT_CONTAINS(out, "all checks passed");
    free(out);
    printer_emulator_stop(pe);
    free(d);
}

static void wrong_port(void)
{
    fault_server *gone = fault_server_start();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/resto", fault_server_port(gone));
    fault_server_stop(gone);
    char *d = config_dir(url, TID), *out;
    CU_ASSERT_EQUAL(run_doctor(d, NULL, &out), 1);
    DLV_ASSERT_CONTAINS(out, "FAIL  connect");
    DLV_ASSERT_CONTAINS(out, "запущен ли колл-центр");
    free(out);
    free(d);
}

static void unknown_terminal(void)
{
    char *d = config_dir(cc.base, STRANGER), *out;
    CU_ASSERT_EQUAL(run_doctor(d, NULL, &out), 1);
    DLV_ASSERT_CONTAINS(out, "PASS  protocol");
    DLV_ASSERT_CONTAINS(out, "FAIL  registered");
    DLV_ASSERT_CONTAINS(out, "зарегистрируйте терминал в колл-центре");
    DLV_ASSERT_CONTAINS(out, "удалите terminalId");
    free(out);
    free(d);
}

/* Details and advice follow --locale (Russian by default, above); check names and results are
 * machine codes and stay English in both. */
static void unknown_terminal_in_english(void)
{
    char *d = config_dir(cc.base, STRANGER), *out;
    CU_ASSERT_EQUAL(run_doctor(d, "--locale en", &out), 1);
    DLV_ASSERT_CONTAINS(out, "FAIL  registered");
    DLV_ASSERT_CONTAINS(out, "register this terminal in the call-center");
    DLV_ASSERT_CONTAINS(out, "remove terminalId");
    CU_ASSERT_PTR_NULL(strstr(out, "зарегистрируйте"));
    free(out);
    free(d);
}

static void not_the_call_center(void)
{
    fault_server *fs = fault_server_start();
    fault_server_set(fs, FAULT_HTML, 200, 0);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/resto", fault_server_port(fs));
    char *d = config_dir(url, TID), *out;
    CU_ASSERT_EQUAL(run_doctor(d, "--json", &out), 1);
    cJSON *j = cJSON_Parse(out);
    CU_ASSERT_PTR_NOT_NULL(j);
    CU_ASSERT_TRUE(cJSON_IsFalse(cJSON_GetObjectItem(j, "ok")));
    DLV_ASSERT_CONTAINS(out, "\"name\":\"protocol\",\"result\":\"fail\"");
    DLV_ASSERT_CONTAINS(out, "локальный сервер");
    cJSON_Delete(j);
    free(out);
    fault_server_stop(fs);
    free(d);
}

static void printer_down_and_paper_out(void)
{
    char *d = config_dir(cc.base, TID), *out;
    printer_emulator *pe = printer_emulator_start();
    printer_emulator_set_state(pe, PE_PAPER_OUT);
    char extra[160];
    snprintf(extra, sizeof extra, "--printer receipt=tcp://127.0.0.1:%d",
             printer_emulator_port(pe));
    CU_ASSERT_EQUAL(run_doctor(d, extra, &out), 1);
    DLV_ASSERT_CONTAINS(out, "FAIL  printer receipt");
    DLV_ASSERT_CONTAINS(out, "бумаг");
    free(out);
    int port = printer_emulator_port(pe);
    printer_emulator_stop(pe);
    snprintf(extra, sizeof extra, "--printer receipt=tcp://127.0.0.1:%d", port);
    CU_ASSERT_EQUAL(run_doctor(d, extra, &out), 1);
    DLV_ASSERT_CONTAINS(out, "FAIL  printer receipt");
    free(out);
    free(d);
}

static void bad_config(void)
{
    char *d = config_dir("ftp://x", TID), *out;
    CU_ASSERT_EQUAL(run_doctor(d, NULL, &out), 1);
    DLV_ASSERT_CONTAINS(out, "FAIL  config");
    DLV_ASSERT_CONTAINS(out, ":2: <serverUrl>");
    free(out);
    free(d);
}

/* Commands held by a failing call-center show up in the outbox check; the running host answers
 * {"cmd":"doctor"} with the same checks and its own outbox. */
static void outbox_held(void)
{
    char *d = config_dir(cc.base, TID);
    hostsim_config hc = {.dir = d, .server_url = cc.base, .terminal_id = TID};
    hostsim *h = hostsim_start(&hc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 15000, "\"event\":\"registered\"", NULL));
    http_result r;
    cc_admin(&cc, "POST", "orders", "{\"terminalId\":\"" TID "\"}", &r);
    char id[64];
    snprintf(id, sizeof id, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(r.json, "id")));
    http_result_free(&r);
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 5000, "\"event\":\"order\"", id, NULL));
    cc_admin(&cc, "POST", "faults",
             "{\"route\":\"commands\",\"fault\":\"status\",\"status\":503,\"count\":0}", &r);
    http_result_free(&r);
    hostsim_request(h, "{\"cmd\":\"login\",\"userId\":\"00000000-0000-4000-8000-000000000001\","
                       "\"name\":\"m\",\"rights\":[\"D_CND\"]}");
    char req[160];
    snprintf(req, sizeof req, "{\"cmd\":\"confirm\",\"orderId\":\"%s\"}", id);
    DLV_ASSERT_CONTAINS(hostsim_request(h, req), "\"ok\":true");
    const char *rep = hostsim_request(h, "{\"cmd\":\"doctor\"}");
    DLV_ASSERT_CONTAINS(rep, "\"reply\":\"doctor\",\"ok\":true");
    DLV_ASSERT_CONTAINS(rep, "команд в ожидании: 1");
    DLV_ASSERT_CONTAINS(rep, "\"name\":\"registered\",\"result\":\"pass\"");
    hostsim_stop(h, 200);
    char *out;
    run_doctor(d, NULL, &out); /* stopped: the doctor reads the database itself */
    DLV_ASSERT_CONTAINS(out, "команд в ожидании: 1");
    free(out);
    cc_admin(&cc, "DELETE", "faults", NULL, &r);
    http_result_free(&r);
    free(d);
}

/* A deleted delivery.db beside its delivery.db.id is refused (the outbox check fails naming the
 * flag); delivery-doctor --accept-store-loss opens it fresh, renews the marker, and the checks
 * pass again (docs/store.md). */
static void accept_store_loss(void)
{
    char *d = config_dir(cc.base, TID);
    char *out;
    run_doctor(d, NULL, &out); /* first start: creates delivery.db and delivery.db.id */
    free(out);
    char db[700], marker[700];
    snprintf(db, sizeof db, "%s/delivery.db", d);
    snprintf(marker, sizeof marker, "%s/delivery.db.id", d);
    char *id_before = dlv_test_read_file(marker, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(id_before);
    CU_ASSERT_EQUAL(unlink(db), 0);
    int rc = run_doctor(d, NULL, &out);
    CU_ASSERT_NOT_EQUAL(rc, 0);
    DLV_ASSERT_CONTAINS(out, "accept-store-loss");
    free(out);
    rc = run_doctor(d, "--accept-store-loss", &out);
    DLV_ASSERT_CONTAINS(out, "the loss is accepted");
    CU_ASSERT_PTR_NULL(strstr(out, "FAIL  outbox"));
    free(out);
    char *id_after = dlv_test_read_file(marker, NULL);
    CU_ASSERT_PTR_NOT_NULL(id_after);
    if (id_after)
        CU_ASSERT_STRING_NOT_EQUAL(id_before, id_after);
    rc = run_doctor(d, NULL, &out); /* accepted once: later runs are normal */
    CU_ASSERT_PTR_NULL(strstr(out, "FAIL  outbox"));
    free(out);
    free(id_before);
    free(id_after);
    free(d);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_doctor PATH/delivery-doctor\n");
        return 2;
    }
    doctor_bin = argv[1];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    dir = dlv_test_mkdtemp();
    char db[600];
    snprintf(db, sizeof db, "%s/cc.db", dir);
    const char *args[] = {"--terminal", TID, NULL};
    if (cc_proc_start(&cc, db, args) != 0)
        return 1;
    static const dlv_test_case cases[] = {
        DLV_TEST(all_green),           DLV_TEST(wrong_port),
        DLV_TEST(unknown_terminal),    DLV_TEST(unknown_terminal_in_english),
        DLV_TEST(not_the_call_center), DLV_TEST(printer_down_and_paper_out),
        DLV_TEST(bad_config),          DLV_TEST(outbox_held),
        DLV_TEST(accept_store_loss),   DLV_TEST_END,
    };
    int rc = dlv_test_main("doctor", cases);
    cc_proc_stop(&cc);
    dlv_test_rmdir(dir);
    curl_global_cleanup();
    return rc;
}
