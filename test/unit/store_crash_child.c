/* Child process of test_store_crash: writes to the store as the runtime would, forever, until the
 * parent kills it with SIGKILL. Every write is announced on stdout before it starts (intent,
 * lower case or "T") and acknowledged after the call returned DLV_OK (upper case), one write(2)
 * per line so a line is never torn:
 *   R                      store opened
 *   T <b> <id>,<id>,...    adding batch b of commands          A <b>   stored
 *   x <id>,<id>,...        completing these commands           X       removed
 *   p <trigger>            recording a print job               P <trigger>
 *   s|d|f <trigger>        job to sending / sent / failed      S|D|F <trigger>
 *   g <b> <trigger>        batch b and job <trigger> share one group (both or neither)
 *   o <rev>                caching orders at revision rev      O <rev>
 *   n                      issuing a number                    N <number>
 *   E <message>            a store call failed (the parent fails the test)
 * usage: store_crash_child <dir> <seed> <round> */
#include "common/internal.h"
#include "store/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void say(const char *fmt, ...) DLV__PRINTF(1, 2);

static void say(const char *fmt, ...)
{
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line)
        abort();
    if (write(STDOUT_FILENO, line, (size_t)n) != n)
        _exit(4);
}

static void check(int rc, const dlv_error *err, const char *what)
{
    if (rc == DLV_OK)
        return;
    say("E %s: %s\n", what, err->message);
    _exit(2);
}

static void pause_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static dlv__store *st;
static char orders[4][37];
static long batch_no, job_no;
static int round_no;
static int64_t revision;

typedef struct batch {
    int n;
    char ids[20][37];
    char bodies[20][200];
    dlv__store_cmd cmds[20];
    char list[20 * 38 + 1];
} batch;

static void make_batch(batch *b)
{
    b->n = 1 + rand() % 20;
    b->list[0] = '\0';
    for (int i = 0; i < b->n; i++) {
        if (dlv__uuid_v4(b->ids[i]) != DLV_OK)
            _exit(5);
        const char *order = orders[rand() % 4];
        snprintf(b->bodies[i], sizeof b->bodies[i],
                 "{\"id\":\"%.36s\",\"type\":\"ChangeStatus\",\"orderId\":\"%.36s\"}", b->ids[i],
                 order);
        b->cmds[i] = (dlv__store_cmd){b->ids[i], order, "ChangeStatus", b->bodies[i]};
        strcat(b->list, i ? "," : "");
        strcat(b->list, b->ids[i]);
    }
}

static void add_batch(void)
{
    batch b;
    dlv_error err;
    make_batch(&b);
    long no = ++batch_no;
    say("T %ld %s\n", no, b.list);
    check(dlv__store_outbox_add(st, b.cmds, (size_t)b.n, &err), &err, "outbox_add");
    say("A %ld\n", no);
}

static void complete_some(void)
{
    dlv__store_cmd_row *rows;
    size_t n;
    dlv_error err;
    check(dlv__store_outbox_peek(st, (size_t)(1 + rand() % 30), false, &rows, &n, &err), &err,
          "outbox_peek");
    if (n == 0)
        return;
    dlv__store_outcome out[30];
    char list[30 * 38 + 1] = "";
    static const char *const outcomes[] = {"Applied", "Duplicate", "Rejected"};
    for (size_t i = 0; i < n; i++) {
        out[i] = (dlv__store_outcome){rows[i].id, outcomes[rand() % 3]};
        strcat(list, i ? "," : "");
        strcat(list, rows[i].id);
    }
    say("x %s\n", list);
    check(dlv__store_outbox_complete(st, out, n, NULL, &err), &err, "outbox_complete");
    say("X\n");
    dlv__store_cmd_rows_free(rows, n);
}

static void count_attempts(void)
{
    dlv__store_cmd_row *rows;
    size_t n;
    dlv_error err;
    check(dlv__store_outbox_peek(st, 10, true, &rows, &n, &err), &err, "outbox_peek");
    const char *ids[10];
    for (size_t i = 0; i < n; i++)
        ids[i] = rows[i].id;
    check(dlv__store_outbox_mark_attempt(st, ids, n, dlv__store_now(st), &err), &err,
          "mark_attempt");
    dlv__store_cmd_rows_free(rows, n);
}

/* pending -> sending -> (the bytes go out) -> sent or failed */
static void print_job(int64_t id, const char *trigger)
{
    dlv_error err;
    say("s %s\n", trigger);
    check(dlv__store_print_set_state(st, id, DLV__PRINT_SENDING, NULL, 0, &err), &err, "sending");
    say("S %s\n", trigger);
    pause_us(rand() % 400);
    if (rand() % 5) {
        say("d %s\n", trigger);
        check(dlv__store_print_set_state(st, id, DLV__PRINT_SENT, NULL, 0, &err), &err, "sent");
        say("D %s\n", trigger);
    } else {
        say("f %s\n", trigger);
        check(dlv__store_print_set_state(st, id, DLV__PRINT_FAILED, "printer is offline",
                                         dlv__store_now(st), &err),
              &err, "failed");
        say("F %s\n", trigger);
    }
}

static void new_job(char *trigger, size_t len, dlv__print_new *job)
{
    snprintf(trigger, len, "t%d-%ld", round_no, ++job_no);
    *job = (dlv__print_new){orders[rand() % 4],
                            rand() % 2 ? "Invoice" : "ServiceCheck",
                            trigger,
                            1 + rand() % 5,
                            NULL,
                            false,
                            "ESC/POS bytes",
                            13};
}

static void print_new(void)
{
    char trigger[64];
    dlv__print_new job;
    int64_t id;
    dlv_error err;
    new_job(trigger, sizeof trigger, &job);
    say("p %s\n", trigger);
    check(dlv__store_print_add(st, &job, &id, NULL, &err), &err, "print_add");
    say("P %s\n", trigger);
    if (rand() % 4)
        print_job(id, trigger);
}

static void print_retry(void)
{
    dlv__print_job *jobs;
    size_t n;
    dlv_error err;
    check(dlv__store_print_due(st, &jobs, &n, &err), &err, "print_due");
    if (n > 0)
        print_job(jobs[0].id, jobs[0].trigger);
    dlv__store_print_jobs_free(jobs, n);
}

/* What one loop iteration of the runtime does: commands and a print job, one commit. */
static void group(void)
{
    batch b;
    char trigger[64];
    dlv__print_new job;
    dlv_error err;
    make_batch(&b);
    new_job(trigger, sizeof trigger, &job);
    long no = ++batch_no;
    say("T %ld %s\n", no, b.list);
    say("p %s\n", trigger);
    say("g %ld %s\n", no, trigger);
    check(dlv__store_begin(st, &err), &err, "begin");
    check(dlv__store_outbox_add(st, b.cmds, (size_t)b.n, &err), &err, "group outbox_add");
    check(dlv__store_print_add(st, &job, NULL, NULL, &err), &err, "group print_add");
    check(dlv__store_commit(st, &err), &err, "commit");
    say("A %ld\n", no);
    say("P %s\n", trigger);
}

static void sync_orders(void)
{
    dlv__store_order list[3];
    char ids[3][16], json[3][96];
    dlv_error err;
    int64_t rev = ++revision;
    for (int i = 0; i < 3; i++) {
        snprintf(ids[i], sizeof ids[i], "ord-%d", rand() % 10);
        snprintf(json[i], sizeof json[i], "{\"id\":\"%s\",\"revision\":%lld}", ids[i],
                 (long long)rev);
        list[i] = (dlv__store_order){ids[i], rev, "CookingStarted", rev, json[i]};
    }
    say("o %lld\n", (long long)rev);
    check(dlv__store_orders_sync(st, list, 3, NULL, 0, rev, &err), &err, "orders_sync");
    say("O %lld\n", (long long)rev);
}

static void issue_number(void)
{
    int64_t number;
    dlv_error err;
    say("n\n");
    check(dlv__store_number_next(st, 1, 1000000000, &number, &err), &err, "number_next");
    say("N %lld\n", (long long)number);
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return 64;
    srand((unsigned)strtoul(argv[2], NULL, 10));
    round_no = atoi(argv[3]);
    dlv_error err;
    check(dlv__store_open(argv[1], NULL, &st, &err), &err, "open");
    check(dlv__store_revision(st, &revision, &err), &err, "revision");
    for (int i = 0; i < 4; i++)
        if (dlv__uuid_v4(orders[i]) != DLV_OK)
            return 5;
    say("R\n");
    time_t give_up = time(NULL) + 30;
    while (time(NULL) < give_up) {
        switch (rand() % 12) {
        case 0:
        case 1:
        case 2:
        case 3:
            add_batch();
            break;
        case 4:
            complete_some();
            break;
        case 5:
            count_attempts();
            break;
        case 6:
        case 7:
            print_new();
            break;
        case 8:
            print_retry();
            break;
        case 9:
            group();
            break;
        case 10:
            sync_orders();
            break;
        default:
            issue_number();
            break;
        }
    }
    say("E never killed\n");
    dlv__store_close(st);
    return 3;
}
