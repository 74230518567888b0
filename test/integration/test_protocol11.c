/* Protocol 1.1 end to end, terminal against the call-center emulator: a large snapshot synced in
 * pages (every order exactly once), tolerant reading (a cancellation with a non-UUID cause, an
 * order with a malformed field), delivery numbers from blocks with two terminals creating orders
 * at once, online and offline, and a whole small shift against a 1.0 server. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ccproc.h"
#include "hostsim.h"
#include "testlib.h"

#define TID "e49d3632-b06a-4a9a-8c76-ae816c4404ad"
#define TID2 "5f2c9a10-3b4d-4e6f-8a9b-0c1d2e3f4a5b"
#define LOGIN                                                                                      \
    "{\"cmd\":\"login\",\"userId\":\"00000000-0000-4000-8000-0000000000aa\","                      \
    "\"name\":\"Менеджер\",\"rights\":[\"D_CND\",\"D_MD\",\"D_CD\",\"D_CAD\",\"F_CASH\","  \
    "\"D_ED\",\"D_SADT\"]}"
/* The host's regular order numbers in these tests: delivery numbers must stay out of them. */
#define REGULAR_FIRST 1
#define REGULAR_LAST 99999

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

static void start_cc(const char *db_name, const char *const *extra)
{
    char db[600];
    snprintf(db, sizeof db, "%s/%s", dir, db_name);
    const char *args[12] = {"--terminal", TID, "--terminal", TID2};
    int n = 4;
    for (int i = 0; extra && extra[i] && n < 11; i++)
        args[n++] = extra[i];
    CU_ASSERT_EQUAL_FATAL(cc_proc_start(&cc, db, args), 0);
}

static hostsim *start_host(const char *d, const char *terminal)
{
    hostsim_config cfg = {.dir = d,
                          .server_url = cc.base,
                          .terminal_id = terminal,
                          .regular_first = REGULAR_FIRST,
                          .regular_last = REGULAR_LAST};
    return hostsim_start(&cfg);
}

static cJSON *admin_json(const char *method, const char *path, const char *body)
{
    http_result r;
    cc_admin(&cc, method, path, body, &r);
    cJSON *j = r.json;
    r.json = NULL;
    http_result_free(&r);
    return j;
}

static char *new_order(const char *body)
{
    cJSON *o = admin_json("POST", "orders", body);
    const cJSON *id = cJSON_GetObjectItem(o, "id");
    char *copy = cJSON_IsString(id) ? strdup(id->valuestring) : NULL;
    cJSON_Delete(o);
    return copy;
}

static char req[1024];
static const char *cmd_for(const char *cmd, const char *order_id, const char *extra)
{
    snprintf(req, sizeof req, "{\"cmd\":\"%s\",\"orderId\":\"%s\"%s%s}", cmd, order_id,
             extra ? "," : "", extra ? extra : "");
    return req;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static long pending_commands(hostsim *h)
{
    char *health = dlv_ctx_health(hostsim_ctx(h));
    const char *p = health ? strstr(health, "\"pendingCommands\":") : NULL;
    long n = p ? strtol(p + strlen("\"pendingCommands\":"), NULL, 10) : -1;
    dlv_free(health);
    return n;
}

static void wait_idle(hostsim *h, int ms)
{
    for (int waited = 0; pending_commands(h) != 0 && waited < ms; waited += 50)
        usleep(50000);
    CU_ASSERT_EQUAL(pending_commands(h), 0);
}

/* ---- a snapshot in pages ---- */

static void snapshot_arrives_once_through_pages(void)
{
    const char *env = getenv("DLV_P11_SNAPSHOT_ORDERS");
    int count = env ? atoi(env) : 20000;
    start_cc("snapshot.db", NULL);
    char body[160];
    snprintf(body, sizeof body, "{\"count\":%d,\"terminalId\":\"%s\"}", count, TID);
    cJSON_Delete(admin_json("POST", "orders/generate", body));
    char *d = fresh_dir();
    hostsim *h = start_host(d, TID);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    for (int waited = 0; hostsim_count(h, "\"event\":\"order\"") < count && waited < 120000;
         waited += 100)
        usleep(100000);
    usleep(300000); /* anything more would be a duplicate */
    CU_ASSERT_EQUAL(hostsim_count(h, "\"event\":\"order\""), count);
    /* Every order exactly once: as many distinct ids as order events. */
    const char *dump = hostsim_dump(h);
    char **ids = calloc((size_t)count + 1, sizeof *ids);
    int n = 0;
    for (const char *p = dump; (p = strstr(p, "\"event\":\"order\"")) && n <= count;) {
        const char *id = strstr(p, "\"id\":\"");
        if (!id)
            break;
        ids[n++] = strndup(id + 6, 36);
        p = id + 6;
    }
    qsort(ids, (size_t)n, sizeof *ids, cmp_str);
    int distinct = n > 0;
    for (int i = 1; i < n; i++)
        distinct += strcmp(ids[i], ids[i - 1]) != 0;
    CU_ASSERT_EQUAL(n, count);
    CU_ASSERT_EQUAL(distinct, count);
    for (int i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    CU_ASSERT_EQUAL(hostsim_stop(h, 0), DLV_OK);
    cc_proc_stop(&cc);
    free(d);
}

/* ---- tolerant reading ---- */

static void broken_orders_still_reach_the_host(void)
{
    start_cc("tolerant.db", NULL);
    char *d = fresh_dir();
    hostsim *h = start_host(d, TID);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 15000, "\"event\":\"registered\"", NULL));
    /* A malformed non-essential field: the order is kept. */
    char *odd = new_order("{\"serviceType\":\"DeliveryByClient\",\"terminalId\":\"" TID "\","
                          "\"customer\":{\"name\":42}}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(odd);
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 5000, "\"event\":\"order\"", odd, NULL));
    /* The call-center cancels with a cause id that is no UUID: still a status change. */
    char *id = new_order("{\"serviceType\":\"DeliveryByCourier\",\"terminalId\":\"" TID "\"}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(id);
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 5000, "\"event\":\"order\"", id, NULL));
    char path[128];
    snprintf(path, sizeof path, "orders/%s", id);
    cJSON_Delete(admin_json("POST", path,
                            "{\"cancelCause\":{\"id\":\"client-refused\",\"name\":\"Отказ\"},"
                            "\"customer\":{\"name\":42}}"));
    CU_ASSERT_PTR_NOT_NULL(
        hostsim_wait(h, 5000, "\"event\":\"statusChanged\"", id, "\"to\":\"Cancelled\"", NULL));
    snprintf(path, sizeof path, "orders/%s", odd);
    cJSON_Delete(admin_json("POST", path, "{\"cancelCause\":{\"id\":\"x\",\"name\":\"y\"}}"));
    CU_ASSERT_PTR_NOT_NULL(
        hostsim_wait(h, 5000, "\"event\":\"statusChanged\"", odd, "\"to\":\"Cancelled\"", NULL));
    CU_ASSERT_EQUAL(hostsim_count(h, "InvalidOrder"), 0);
    CU_ASSERT_EQUAL(hostsim_stop(h, 0), DLV_OK);
    cc_proc_stop(&cc);
    free(odd);
    free(id);
    free(d);
}

/* ---- numbers from blocks, two terminals at once ---- */

#define CREATE_ORDER                                                                               \
    "{\"cmd\":\"createOrder\",\"order\":{\"serviceType\":\"DeliveryByClient\","                    \
    "\"completeBefore\":\"2099-01-01T12:00:00Z\",\"phone\":\"+79990000000\","                      \
    "\"customer\":{\"name\":\"Анна\",\"inBlacklist\":false},\"personsCount\":1,"               \
    "\"splitBetweenPersons\":false,\"items\":[{\"positionId\":"                                    \
    "\"10000000-0000-4000-8000-000000000001\",\"productId\":"                                      \
    "\"20000000-0000-4000-8000-000000000001\",\"name\":\"Чай\",\"amount\":1,\"price\":100,"     \
    "\"sum\":100,\"modifiers\":[]}],\"payments\":[],\"fullSum\":100,\"discountSum\":0,"            \
    "\"resultSum\":100}}"

typedef struct creator {
    hostsim *h;
    int count;
    long long *numbers;
    int made;
} creator;

static void *create_orders(void *arg)
{
    creator *c = arg;
    for (int i = 0; i < c->count; i++) {
        const char *r = hostsim_request(c->h, CREATE_ORDER);
        const char *p = r ? strstr(r, "\"number\":") : NULL;
        if (!p) {
            fprintf(stderr, "\n  createOrder: %s\n", r ? r : "(no reply)");
            continue;
        }
        c->numbers[c->made++] = strtoll(p + strlen("\"number\":"), NULL, 10);
    }
    return NULL;
}

static void run_creators(creator *c, int per_round)
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        c[i].count = per_round;
        pthread_create(&t[i], NULL, create_orders, &c[i]);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static void two_terminals_never_collide(void)
{
    start_cc("numbers.db", NULL);
    char *d1 = fresh_dir(), *d2 = fresh_dir();
    hostsim *h[2] = {start_host(d1, TID), start_host(d2, TID2)};
    CU_ASSERT_PTR_NOT_NULL_FATAL(h[0]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h[1]);
    creator c[2];
    const int total = 900; /* beyond 80% of the first block of 1000: ReserveNumbers */
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h[i], 5000, "\"event\":\"registered\"", NULL));
        DLV_ASSERT_CONTAINS(hostsim_request(h[i], LOGIN), "\"ok\":true");
        c[i] = (creator){h[i], 0, calloc(total, sizeof(long long)), 0};
    }
    run_creators(c, 400);
    /* The call-center goes away: numbers keep coming from the block each terminal holds. */
    int port = cc.port;
    cc_proc_stop(&cc);
    run_creators(c, 100);
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    const char *again[] = {"--listen", listen, NULL};
    start_cc("numbers.db", again);
    CU_ASSERT_EQUAL(cc.port, port);
    run_creators(c, total - 500);
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL(c[i].made, total);
        wait_idle(h[i], 30000);
    }
    /* Distinct, outside the regular range, and each terminal's blocks are its own. */
    long long *all = calloc(2 * total, sizeof *all);
    int n = 0;
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < c[i].made; k++) {
            long long v = c[i].numbers[k];
            all[n++] = v;
            CU_ASSERT(v > REGULAR_LAST);
            CU_ASSERT(v >= 900000); /* the emulator's blocks */
            for (int m = 0; m < c[1 - i].made; m++)
                if ((c[1 - i].numbers[m] - 900000) / 1000 == (v - 900000) / 1000) {
                    CU_FAIL("two terminals numbered from one block");
                    m = c[1 - i].made;
                    k = c[i].made;
                }
        }
    qsort(all, (size_t)n, sizeof *all, cmp_ll);
    for (int k = 1; k < n; k++)
        if (all[k] == all[k - 1]) {
            fprintf(stderr, "\n  number %lld issued twice\n", all[k]);
            CU_FAIL("a number was issued twice");
            break;
        }
    /* Beyond 80% of the first block, each terminal asked for (and used) a second one. */
    for (int i = 0; i < 2; i++) {
        long long lo = c[i].numbers[0], hi = c[i].numbers[c[i].made - 1];
        CU_ASSERT((hi - 900000) / 1000 != (lo - 900000) / 1000 || c[i].made <= 1000);
    }
    free(all);
    for (int i = 0; i < 2; i++) {
        free(c[i].numbers);
        CU_ASSERT_EQUAL(hostsim_stop(h[i], 0), DLV_OK);
    }
    cc_proc_stop(&cc);
    free(d1);
    free(d2);
}

/* ---- a 1.1 terminal against a 1.0 server ---- */

static void a_shift_against_a_10_server(void)
{
    const char *old[] = {"--protocol-minor", "0", NULL};
    start_cc("v10.db", old);
    char *d = fresh_dir();
    hostsim *h = start_host(d, TID);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_PTR_NOT_NULL(hostsim_wait(h, 15000, "\"event\":\"registered\"", NULL));
    DLV_ASSERT_CONTAINS(hostsim_request(h, LOGIN), "\"ok\":true");
    char *id = new_order("{\"serviceType\":\"DeliveryByClient\",\"terminalId\":\"" TID "\","
                         "\"payments\":[]}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(id);
    const char *ev = hostsim_wait(h, 5000, "\"event\":\"order\"", id, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    DLV_ASSERT_CONTAINS(hostsim_request(h, cmd_for("confirm", id, NULL)), "\"ok\":true");
    DLV_ASSERT_CONTAINS(
        hostsim_request(h, cmd_for("setStatus", id, "\"status\":\"CookingStarted\"")),
        "\"ok\":true");
    DLV_ASSERT_CONTAINS(
        hostsim_request(h, cmd_for("setStatus", id, "\"status\":\"CookingCompleted\"")),
        "\"ok\":true");
    DLV_ASSERT_CONTAINS(hostsim_request(h, cmd_for("setStatus", id, "\"status\":\"Waiting\"")),
                        "\"ok\":true");
    /* Paid in cash at the counter, then handed over: the order closes. */
    char path[128];
    snprintf(path, sizeof path, "orders/%s", id);
    cJSON *o = admin_json("GET", path, NULL);
    const cJSON *sum = cJSON_GetObjectItem(o, "resultSum");
    CU_ASSERT(cJSON_IsNumber(sum));
    char pay[256];
    snprintf(pay, sizeof pay,
             "\"payments\":[{\"paymentTypeId\":\"7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918\","
             "\"kind\":\"Cash\",\"sum\":%.2f}]",
             cJSON_IsNumber(sum) ? sum->valuedouble : 0.0);
    cJSON_Delete(o);
    DLV_ASSERT_CONTAINS(hostsim_request(h, cmd_for("pay", id, pay)), "\"ok\":true");
    DLV_ASSERT_CONTAINS(hostsim_request(h, cmd_for("setStatus", id, "\"status\":\"Closed\"")),
                        "\"ok\":true");
    wait_idle(h, 10000);
    o = admin_json("GET", path, NULL);
    const cJSON *status = cJSON_GetObjectItem(o, "status");
    CU_ASSERT(cJSON_IsString(status) && strcmp(status->valuestring, "Closed") == 0);
    cJSON_Delete(o);
    /* Numbers by the 1.0 rule: the smallest above the regular range, no block, no
     * ReserveNumbers. */
    const char *r = hostsim_request(h, CREATE_ORDER);
    DLV_ASSERT_CONTAINS(r, "\"number\":100000");
    wait_idle(h, 10000);
    cJSON *log = admin_json("GET", "log", NULL);
    char *text = cJSON_PrintUnformatted(log);
    CU_ASSERT_PTR_NULL(strstr(text ? text : "", "ReserveNumbers"));
    free(text);
    cJSON_Delete(log);
    CU_ASSERT_EQUAL(hostsim_stop(h, 0), DLV_OK);
    cc_proc_stop(&cc);
    free(id);
    free(d);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    dir = dlv_test_mkdtemp();
    static const dlv_test_case cases[] = {
        DLV_TEST(broken_orders_still_reach_the_host),
        DLV_TEST(a_shift_against_a_10_server),
        DLV_TEST(two_terminals_never_collide),
        DLV_TEST(snapshot_arrives_once_through_pages),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("protocol11", cases);
    dlv_test_rmdir(dir);
    curl_global_cleanup();
    return rc;
}
