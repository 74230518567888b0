/* 2. Durable command throughput: N status changes (confirm) accepted by the host API, each
 * committed to SQLite before its reply, until all are Applied at the emulator; commands/s beside
 * wrk's request rate against the same emulator's commands route with a one-command body (fresh
 * command id per request, a real Applied status change), same run. Goals (issue 20): >= 5x wrk's
 * one-command rate; acceptance >= 20,000 commands/s or within 2x of the disk's group-commit
 * limit, measured beside it in the same data folder (group_commit_limit).
 *
 * A confirm may make more than one command: an order already due for the kitchen (the courier
 * cooking time) also goes ReadyForCooking and CookingStarted at once. The rate counts the commands
 * actually sent (the emulator's log for this terminal), until the outbox is empty (the health
 * request's pendingCommands, polled every 10 ms). The last confirmed order leaving Unconfirmed at
 * the emulator (GET admin/orders/{id}) is timed too: the library sends the outbox in creation
 * order, one request at a time, so every confirm before it is applied by then. */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "ccproc.h"

#define TID "3b9e1f20-5c6d-4e7f-8a9b-0c1d2e3f4a5b"
#define WRK_TID "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"

static bench_latch registered, orders_in, replies, replies_ok;

static void on_event(void *arg, const char *json)
{
    (void)arg;
    char id[37];
    if (bench_order_event_id(json, id))
        bench_latch_add(&orders_in, 1);
    else if (strstr(json, "\"event\":\"registered\""))
        bench_latch_add(&registered, 1);
}

static void on_reply(void *arg, const char *json)
{
    (void)arg;
    if (strstr(json, "\"ok\":true"))
        bench_latch_add(&replies_ok, 1);
    else if (bench_latch_get(&replies) < 3)
        fprintf(stderr, "commands: refused: %s\n", json);
    bench_latch_add(&replies, 1);
}

static cJSON *admin(const cc_proc *cc, const char *method, const char *path, const char *body)
{
    http_result r;
    cc_admin(cc, method, path, body, &r);
    cJSON *j = r.json;
    r.json = NULL;
    http_result_free(&r);
    return j;
}

static const char *server_status(const cc_proc *cc, const char *id, char *out, size_t outlen)
{
    char path[128];
    snprintf(path, sizeof path, "orders/%s", id);
    cJSON *o = admin(cc, "GET", path, NULL);
    const cJSON *s = cJSON_GetObjectItem(o, "status");
    snprintf(out, outlen, "%s", cJSON_IsString(s) ? s->valuestring : "");
    cJSON_Delete(o);
    return out;
}

/* The disk's group-commit limit: small transactions per second when each fdatasync carries
 * `group` of them. The store's shape (WAL, synchronous=FULL, exclusive locking); each transaction
 * a savepoint that adds an outbox-like row (a ~250-byte command) and replaces an order-cache-like
 * row (~1 KB), as a confirm's commit does; one BEGIN IMMEDIATE..COMMIT (one fdatasync) per group.
 * Measured for `seconds` in `dir`, the terminal's data folder. */
static double group_commit_limit(const char *dir, int group, double seconds, double *per_sync_ms)
{
    char path[700];
    snprintf(path, sizeof path, "%s/group_commit.probe", dir);
    sqlite3 *db = NULL;
    double rate = 0;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        goto done;
    sqlite3_exec(db,
                 "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                 "CREATE TABLE outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL"
                 " UNIQUE, order_id TEXT, type TEXT NOT NULL, body TEXT NOT NULL);"
                 "CREATE TABLE orders(id TEXT PRIMARY KEY, json TEXT NOT NULL);",
                 NULL, NULL, NULL);
    sqlite3_stmt *add = NULL, *put = NULL, *sp = NULL, *rel = NULL;
    sqlite3_prepare_v2(db, "INSERT INTO outbox(id, order_id, type, body) VALUES(?1, ?2, ?3, ?4)",
                       -1, &add, NULL);
    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO orders(id, json) VALUES(?1, ?2)", -1, &put,
                       NULL);
    sqlite3_prepare_v2(db, "SAVEPOINT s", -1, &sp, NULL);
    sqlite3_prepare_v2(db, "RELEASE s", -1, &rel, NULL);
    char body[256], order[1024];
    memset(body, 'c', sizeof body - 1);
    body[sizeof body - 1] = '\0';
    memset(order, 'o', sizeof order - 1);
    order[sizeof order - 1] = '\0';
    long done_tx = 0, syncs = 0;
    double t0 = bench_now_ms(), t = t0;
    while (add && put && sp && rel && t - t0 < seconds * 1000) {
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        for (int i = 0; i < group; i++) {
            char id[37], oid[37];
            bench_uuid(id);
            snprintf(oid, sizeof oid, "%036ld", (done_tx + i) % 10000);
            sqlite3_step(sp);
            sqlite3_reset(sp);
            sqlite3_bind_text(add, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_text(add, 2, oid, -1, SQLITE_STATIC);
            sqlite3_bind_text(add, 3, "ChangeStatus", -1, SQLITE_STATIC);
            sqlite3_bind_text(add, 4, body, -1, SQLITE_STATIC);
            sqlite3_step(add);
            sqlite3_reset(add);
            sqlite3_bind_text(put, 1, oid, -1, SQLITE_STATIC);
            sqlite3_bind_text(put, 2, order, -1, SQLITE_STATIC);
            sqlite3_step(put);
            sqlite3_reset(put);
            sqlite3_step(rel);
            sqlite3_reset(rel);
        }
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            break;
        done_tx += group;
        syncs++;
        t = bench_now_ms();
    }
    rate = t > t0 ? done_tx / ((t - t0) / 1000.0) : 0;
    *per_sync_ms = syncs ? (t - t0) / syncs : 0;
    sqlite3_finalize(add);
    sqlite3_finalize(put);
    sqlite3_finalize(sp);
    sqlite3_finalize(rel);
done:
    sqlite3_close(db);
    char extra[760];
    unlink(path);
    snprintf(extra, sizeof extra, "%s-wal", path);
    unlink(extra);
    snprintf(extra, sizeof extra, "%s-shm", path);
    unlink(extra);
    return rate;
}

/* The outbox's length, from the health request; -1 when unknown. */
static long pending_commands(dlv_ctx *ctx)
{
    char *reply = bench_request(ctx, "{\"cmd\":\"health\"}", 10000);
    const char *p = reply ? strstr(reply, "\"pendingCommands\":") : NULL;
    long n = p ? strtol(p + strlen("\"pendingCommands\":"), NULL, 10) : -1;
    free(reply);
    return n;
}

typedef struct wrk_result {
    double rps;
    long applied, rejected, other;
    long p50_us, p99_us;
    bool ran;
} wrk_result;

static wrk_result run_wrk(const cc_proc *cc, const char *dir, int connections, int seconds)
{
    wrk_result w = {0};
    /* A session for the wrk terminal, and its orders: Waiting, with a courier. */
    char url[256], body[256];
    snprintf(url, sizeof url, "%s/delivery/v1/register", cc->base);
    snprintf(body, sizeof body, "{\"terminalId\":\"%s\",\"protocolVersion\":1}", WRK_TID);
    const char *hdr[] = {"X-Terminal-Id: " WRK_TID, NULL};
    http_result r;
    http_call("POST", url, hdr, body, 10000, &r);
    const cJSON *tok = cJSON_GetObjectItem(r.json, "sessionToken");
    char token[80];
    snprintf(token, sizeof token, "%s", cJSON_IsString(tok) ? tok->valuestring : "");
    http_result_free(&r);
    cJSON *settings = admin(cc, "GET", "settings", NULL);
    const cJSON *courier = cJSON_GetArrayItem(cJSON_GetObjectItem(settings, "couriers"), 0);
    const cJSON *cid = cJSON_GetObjectItem(courier, "id");
    if (!token[0] || !cJSON_IsString(cid)) {
        fprintf(stderr, "commands: no session or courier for the wrk terminal\n");
        cJSON_Delete(settings);
        return w;
    }
    char ids_path[600];
    snprintf(ids_path, sizeof ids_path, "%s/wrk_orders.txt", dir);
    FILE *f = fopen(ids_path, "w");
    for (int i = 0; i < 64 && f; i++) {
        cJSON *o = admin(cc, "POST", "orders",
                         "{\"terminalId\":\"" WRK_TID "\",\"status\":\"Waiting\","
                         "\"serviceType\":\"DeliveryByCourier\"}");
        const cJSON *id = cJSON_GetObjectItem(o, "id");
        if (cJSON_IsString(id)) {
            char path[128], change[128];
            snprintf(path, sizeof path, "orders/%s", id->valuestring);
            snprintf(change, sizeof change, "{\"courierId\":\"%s\"}", cid->valuestring);
            cJSON_Delete(admin(cc, "POST", path, change));
            fprintf(f, "%s\n", id->valuestring);
        }
        cJSON_Delete(o);
    }
    cJSON_Delete(settings);
    if (f)
        fclose(f);
    char prefix[37];
    bench_uuid(prefix);
    prefix[8] = '\0';
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "wrk -t1 -c%d -d%ds --timeout 10s -s %s/wrk_commands.lua %s/delivery/v1/commands "
             "-- %s %s %s %s 2>&1",
             connections, seconds, DLV_BENCH_SOURCE_DIR, cc->base, WRK_TID, token, ids_path,
             prefix);
    FILE *p = popen(cmd, "r");
    if (!p)
        return w;
    char line[512];
    while (fgets(line, sizeof line, p)) {
        fprintf(stderr, "    wrk| %s", line);
        sscanf(line, " Requests/sec: %lf", &w.rps);
        sscanf(line, "WRK_OUTCOMES applied=%ld rejected=%ld other=%ld", &w.applied, &w.rejected,
               &w.other);
        sscanf(line, "WRK_LATENCY p50_us=%ld p99_us=%ld", &w.p50_us, &w.p99_us);
    }
    w.ran = pclose(p) == 0 && w.rps > 0;
    return w;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    long count = bench_env_long("DLV_BENCH_COMMANDS", 10000);
    int wrk_seconds = (int)bench_env_long("DLV_BENCH_WRK_SECONDS", 5);
    const char *b = "2 commands";
    char *dir = bench_mkdtemp("commands");
    if (!dir)
        return 1;
    char db[600];
    snprintf(db, sizeof db, "%s/cc.db", dir);
    cc_proc cc;
    const char *args[] = {"--terminal", TID, "--terminal", WRK_TID, NULL};
    if (cc_proc_start(&cc, db, args) != 0) {
        fprintf(stderr, "commands: cannot start the emulator\n");
        return 1;
    }
    bench_cc_bump_revision(&cc); /* a call-center in service: see bench_cc_bump_revision */
    bench_latch_init(&registered);
    bench_latch_init(&orders_in);
    bench_latch_init(&replies);
    bench_latch_init(&replies_ok);
    char *data = NULL;
    if (asprintf(&data, "%s/terminal", dir) < 0 || mkdir(data, 0755) != 0)
        return 1;
    double fsync_p50 = 0, fsync_p99 = 0, group_sync_ms = 0;
    bench_fsync_probe(data, 200, &fsync_p50, &fsync_p99);
    /* The group size the library commits a busy host's backlog in (lib/runtime/ctx.c). */
    const int group = 256;
    double group_limit =
        group_commit_limit(data, group, count >= 10000 ? 1.0 : 0.5, &group_sync_ms);

    bench_host_config hc = {.dir = data,
                            .server_url = cc.base,
                            .terminal_id = TID,
                            .long_poll_seconds = 25,
                            .on_event = on_event};
    dlv_ctx *ctx = bench_host_start(&hc);
    if (!ctx || !bench_latch_wait(&registered, 1, 10000)) {
        fprintf(stderr, "commands: the terminal did not register\n");
        cc_proc_stop(&cc);
        return 1;
    }
    char gen[128];
    snprintf(gen, sizeof gen, "{\"count\":%ld,\"terminalId\":\"%s\"}", count, TID);
    double g0 = bench_now_ms();
    cJSON *made = admin(&cc, "POST", "orders/generate", gen);
    const cJSON *ids = cJSON_GetObjectItem(made, "orderIds");
    if (cJSON_GetArraySize(ids) != count) {
        fprintf(stderr, "commands: generate answered %d orders\n", cJSON_GetArraySize(ids));
        return 1;
    }
    if (!bench_latch_wait(&orders_in, count, 300000)) {
        fprintf(stderr, "commands: only %ld of %ld orders reached the terminal\n",
                bench_latch_get(&orders_in), count);
        return 1;
    }
    double g1 = bench_now_ms();
    free(bench_request(ctx, BENCH_LOGIN, 10000));

    /* The measured part: every confirm submitted at once, as a busy host would. */
    char req[160];
    double t0 = bench_now_ms();
    const cJSON *id;
    cJSON_ArrayForEach(id, ids) /* not GetArrayItem(i): a walk from the start each time */
    {
        snprintf(req, sizeof req, "{\"cmd\":\"confirm\",\"orderId\":\"%s\"}", id->valuestring);
        if (dlv_ctx_request(ctx, req, on_reply, NULL) != DLV_OK) {
            fprintf(stderr, "commands: request refused\n");
            return 1;
        }
    }
    bool all_replied = bench_latch_wait(&replies, count, 300000);
    double t1 = bench_now_ms();
    const char *last = cJSON_GetArrayItem(ids, (int)count - 1)->valuestring;
    char status[32];
    double t2 = 0;
    for (double waited = 0; waited < 600000; waited = bench_now_ms() - t1) {
        /* Confirmed: WaitCooking, or further when the order was already due for the kitchen
         * (the courier cooking time can make a generated order due at once). */
        server_status(&cc, last, status, sizeof status);
        if (status[0] && strcmp(status, "Unconfirmed") != 0) {
            t2 = bench_now_ms();
            break;
        }
        bench_sleep_ms(10);
    }
    /* Every command the confirms made, out of the outbox (answered by the emulator). */
    double t3 = 0;
    for (double waited = 0; t2 > 0 && waited < 600000; waited = bench_now_ms() - t2) {
        if (pending_commands(ctx) == 0) {
            t3 = bench_now_ms();
            break;
        }
        bench_sleep_ms(10);
    }
    long ok = bench_latch_get(&replies_ok);
    /* Count what the emulator got from this terminal (outside the timing): the commands sent. */
    long sent = 0, applied = 0, applied_twice = 0;
    cJSON *log = admin(&cc, "GET", "log", NULL);
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(log, "commands"))
    {
        const cJSON *t = cJSON_GetObjectItem(e, "terminalId");
        const cJSON *o = cJSON_GetObjectItem(e, "outcome");
        if (!cJSON_IsString(t) || strcmp(t->valuestring, TID) != 0)
            continue;
        sent++;
        if (cJSON_IsString(o) && strcmp(o->valuestring, "Applied") == 0) {
            applied++;
            applied_twice += cJSON_GetObjectItem(e, "applied")->valueint != 1;
        }
    }
    cJSON_Delete(log);
    cJSON_Delete(made);
    dlv_ctx_stop(ctx, 1000);
    dlv_ctx_destroy(ctx);

    /* The emulator's own limit: wrk with one command per request, same emulator, ctx stopped. */
    bool have_wrk = system("command -v wrk >/dev/null 2>&1") == 0;
    wrk_result w1 = {0}, w4 = {0};
    if (have_wrk) {
        w1 = run_wrk(&cc, dir, 1, wrk_seconds);
        w4 = run_wrk(&cc, dir, 4, wrk_seconds);
    }
    wrk_result *w = w4.rps > w1.rps ? &w4 : &w1;
    int wc = w == &w4 ? 4 : 1;
    cc_proc_stop(&cc);

    double accepted_rate = all_replied ? (double)count / ((t1 - t0) / 1000.0) : 0;
    double confirmed_rate = t2 > 0 ? (double)count / ((t2 - t0) / 1000.0) : 0;
    double applied_rate = t3 > 0 ? (double)sent / ((t3 - t0) / 1000.0) : 0;
    bool accept_met =
        all_replied && ok == count && (accepted_rate >= 20000 || accepted_rate * 2 >= group_limit);
    bench_row(b, bench_fmt("%ld confirms accepted by the host API (durable replies)", count),
              bench_fmt("%.0f cmd/s (%.2f s, %ld ok)", accepted_rate, (t1 - t0) / 1000, ok),
              bench_fmt("disk group-commit limit: %.0f tx/s (%d per fdatasync, %.2f ms per "
                        "group); one fdatasync p50 %.3f ms (%.0f/s), p99 %.3f ms",
                        group_limit, group, group_sync_ms, fsync_p50,
                        fsync_p50 > 0 ? 1000 / fsync_p50 : 0, fsync_p99),
              ">= 20,000/s or >= 1/2 the group-commit limit",
              bench_fmt("%s (%.2fx the limit)", bench_verdict(accept_met),
                        group_limit > 0 ? accepted_rate / group_limit : 0));
    const char *ref = w->ran ? bench_fmt("wrk -t1 -c%d %ds, 1 command/request, fresh ids: "
                                         "%.0f req/s (%ld Applied, %ld Rejected, %ld other; "
                                         "p50 %.2f ms, p99 %.2f ms)%s",
                                         wc, wrk_seconds, w->rps, w->applied, w->rejected, w->other,
                                         w->p50_us / 1000.0, w->p99_us / 1000.0,
                                         w == &w4 ? bench_fmt("; -c1: %.0f req/s", w1.rps)
                                                  : bench_fmt("; -c4: %.0f req/s", w4.rps))
                             : "wrk not available";
    bool met = w->ran && applied_rate >= 5 * w->rps && applied == sent && sent >= count &&
               applied_twice == 0;
    bench_row(b,
              bench_fmt("%ld confirms (%ld commands sent) until all Applied at the emulator", count,
                        sent),
              bench_fmt("%.0f cmd/s (%.2f s; %ld Applied, %ld more than once; the last confirm "
                        "at %.2f s, %.0f confirms/s)",
                        applied_rate, (t3 - t0) / 1000, applied, applied_twice, (t2 - t0) / 1000,
                        confirmed_rate),
              ref, ">= 5x wrk req/s",
              w->ran ? bench_fmt("%s (%.2fx)", bench_verdict(met), applied_rate / w->rps)
                     : "not measured");
    bench_row(b, bench_fmt("%ld generated orders reached the terminal", count),
              bench_fmt("%.2f s (%.0f orders/s)", (g1 - g0) / 1000, count / ((g1 - g0) / 1000)),
              NULL, NULL, "info");
    free(data);
    free(dir);
    curl_global_cleanup();
    return 0;
}
