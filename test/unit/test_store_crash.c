/* Crash tests: a child process (store_crash_child) writes commands, print jobs, order syncs and
 * numbers and is killed with SIGKILL at many points of the write path: at random times, right
 * after it announced a write (often inside outbox_add's commit), while a print job is 'sending',
 * and while it is still opening the store. After every kill the parent reopens the store and
 * checks it against what the child acknowledged:
 *   - every acknowledged command is present exactly once and in order, and a batch whose
 *     acknowledgement was lost is there whole or not at all (so is a group);
 *   - no acknowledged print job is lost; a job acknowledged as 'sending' comes back 'unknown'
 *     (offered as a reprint, never due); the child only ever sends pending or failed jobs;
 *   - the sync revision matches the cached orders; numbers only grow. */
#define _GNU_SOURCE
#include "common/internal.h"
#include "store/store.h"
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef STORE_CRASH_CHILD
#error "STORE_CRASH_CHILD must name the child binary"
#endif

/* At least 50 kills; STORE_CRASH_ROUNDS asks for more (soak runs). */
#define ROUNDS 65
#define NONE (-1)

typedef struct mjob {
    char trigger[64];
    int acked;  /* dlv__print_state acknowledged, NONE before the first */
    int intent; /* announced, not yet acknowledged; NONE */
} mjob;

typedef struct model {
    /* outbox as it must be, in order */
    char (*ids)[37];
    size_t nids, capids;
    /* a batch announced and not acknowledged */
    bool add_inflight;
    long add_batch;
    char add_ids[20][37];
    int nadd;
    /* a completion announced and not acknowledged */
    bool done_inflight;
    char done_ids[30][37];
    int ndone;
    bool group_inflight;
    bool group_batch_acked; /* its batch's 'A' arrived: the batch is stored */
    long group_batch;
    char group_trigger[64];
    mjob *jobs;
    size_t njobs, capjobs;
    int64_t rev_acked, rev_intent;
    int64_t number_max;
    bool number_inflight;
    bool ready;
    long next_batch_seen;
    /* what the kills hit */
    int kills, kills_in_add, add_committed_unacked, kills_in_group, kills_while_sending;
    int unknown_seen, completions_inflight, lines;
    bool failed;
} model;

static void fail(model *m, const char *fmt, ...) DLV__PRINTF(2, 3);

static void fail(model *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "\n  crash test: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    m->failed = true;
}

static mjob *find_job(model *m, const char *trigger)
{
    for (size_t i = 0; i < m->njobs; i++)
        if (strcmp(m->jobs[i].trigger, trigger) == 0)
            return &m->jobs[i];
    return NULL;
}

static size_t split_ids(char *list, char out[][37], size_t max)
{
    size_t n = 0;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok && n < max;
         tok = strtok_r(NULL, ",", &save))
        snprintf(out[n++], 37, "%s", tok);
    return n;
}

static void append_ids(model *m, char ids[][37], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (m->nids == m->capids) {
            m->capids = m->capids ? m->capids * 2 : 256;
            m->ids = realloc(m->ids, m->capids * sizeof *m->ids);
        }
        memcpy(m->ids[m->nids++], ids[i], 37);
    }
}

static bool remove_id(model *m, const char *id)
{
    for (size_t i = 0; i < m->nids; i++) {
        if (strcmp(m->ids[i], id) == 0) {
            memmove(&m->ids[i], &m->ids[i + 1], (m->nids - i - 1) * sizeof *m->ids);
            m->nids--;
            return true;
        }
    }
    return false;
}

static const int job_state_of[128] = {
    ['p'] = DLV__PRINT_PENDING, ['P'] = DLV__PRINT_PENDING, ['s'] = DLV__PRINT_SENDING,
    ['S'] = DLV__PRINT_SENDING, ['d'] = DLV__PRINT_SENT,    ['D'] = DLV__PRINT_SENT,
    ['f'] = DLV__PRINT_FAILED,  ['F'] = DLV__PRINT_FAILED,
};

/* One line from the child; `intents` counts announced writes of the kind the round waits for. */
static void on_line(model *m, char *line, char wait_for, int *intents)
{
    m->lines++;
    char kind = line[0];
    char *arg = line[1] ? line + 2 : line + 1;
    if (wait_for && (kind == wait_for || (wait_for == '*' && strchr("Txpsdfgon", kind))))
        (*intents)++;
    switch (kind) {
    case 'R':
        m->ready = true;
        break;
    case 'T': {
        char *list = NULL;
        m->add_batch = strtol(arg, &list, 10);
        m->nadd = (int)split_ids(list + 1, m->add_ids, 20);
        m->add_inflight = true;
        break;
    }
    case 'A':
        if (!m->add_inflight || strtol(arg, NULL, 10) != m->add_batch)
            fail(m, "acknowledged batch %s was never announced", arg);
        append_ids(m, m->add_ids, (size_t)m->nadd);
        m->add_inflight = false;
        if (m->group_inflight && m->add_batch == m->group_batch)
            m->group_batch_acked = true;
        break;
    case 'x':
        m->ndone = (int)split_ids(arg, m->done_ids, 30);
        m->done_inflight = true;
        break;
    case 'X':
        for (int i = 0; i < m->ndone; i++)
            if (!remove_id(m, m->done_ids[i]))
                fail(m, "completed command %s was not expected in the outbox", m->done_ids[i]);
        m->done_inflight = false;
        break;
    case 'g':
        m->group_batch = strtol(arg, &arg, 10);
        snprintf(m->group_trigger, sizeof m->group_trigger, "%s", arg + 1);
        m->group_inflight = true;
        m->group_batch_acked = false;
        break;
    case 'p': {
        if (find_job(m, arg)) {
            fail(m, "print job %s announced twice", arg);
            break;
        }
        if (m->njobs == m->capjobs) {
            m->capjobs = m->capjobs ? m->capjobs * 2 : 64;
            m->jobs = realloc(m->jobs, m->capjobs * sizeof *m->jobs);
        }
        mjob *j = &m->jobs[m->njobs++];
        snprintf(j->trigger, sizeof j->trigger, "%s", arg);
        j->acked = NONE;
        j->intent = DLV__PRINT_PENDING;
        break;
    }
    case 's':
    case 'd':
    case 'f':
    case 'P':
    case 'S':
    case 'D':
    case 'F': {
        mjob *j = find_job(m, arg);
        if (!j) {
            fail(m, "line '%c' for unknown print job %s", kind, arg);
            break;
        }
        /* Never resent silently: the child may only start sending a pending or failed job. */
        if (kind == 's' && j->acked != DLV__PRINT_PENDING && j->acked != DLV__PRINT_FAILED)
            fail(m, "print job %s sent again from state %s", arg,
                 j->acked == NONE ? "none" : dlv__print_state_name((dlv__print_state)j->acked));
        if (kind >= 'a') {
            j->intent = job_state_of[(int)kind];
        } else {
            j->acked = job_state_of[(int)kind];
            j->intent = NONE;
            if (kind == 'P' && m->group_inflight && strcmp(arg, m->group_trigger) == 0)
                m->group_inflight = false;
        }
        break;
    }
    case 'o':
        m->rev_intent = strtoll(arg, NULL, 10);
        break;
    case 'O':
        m->rev_acked = strtoll(arg, NULL, 10);
        m->rev_intent = NONE;
        break;
    case 'n':
        m->number_inflight = true;
        break;
    case 'N': {
        int64_t n = strtoll(arg, NULL, 10);
        if (n <= m->number_max)
            fail(m, "number %lld issued after %lld", (long long)n, (long long)m->number_max);
        m->number_max = n;
        m->number_inflight = false;
        break;
    }
    case 'E':
        fail(m, "the child's store call failed: %s", arg);
        break;
    default:
        fail(m, "unexpected line from the child: %s", line);
    }
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void pause_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

typedef struct reader {
    int fd;
    char buf[65536];
    size_t len;
    bool eof;
} reader;

/* Reads what is there (waiting up to timeout_ms) and hands over complete lines. */
static void pump(model *m, reader *r, int timeout_ms, char wait_for, int *intents)
{
    struct pollfd p = {r->fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0)
        return;
    ssize_t got = read(r->fd, r->buf + r->len, sizeof r->buf - r->len - 1);
    if (got <= 0) {
        r->eof = got == 0 || errno != EINTR;
        return;
    }
    r->len += (size_t)got;
    char *start = r->buf, *nl;
    while ((nl = memchr(start, '\n', r->len - (size_t)(start - r->buf)))) {
        *nl = '\0';
        on_line(m, start, wait_for, intents);
        start = nl + 1;
    }
    r->len -= (size_t)(start - r->buf);
    memmove(r->buf, start, r->len);
}

static pid_t spawn(const char *dir, unsigned seed, int round, int *fd)
{
    int p[2];
    CU_ASSERT_FATAL(pipe2(p, O_CLOEXEC) == 0);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        dup2(p[1], STDOUT_FILENO);
        char seed_text[16], round_text[16];
        snprintf(seed_text, sizeof seed_text, "%u", seed);
        snprintf(round_text, sizeof round_text, "%d", round);
        execl(STORE_CRASH_CHILD, STORE_CRASH_CHILD, dir, seed_text, round_text, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    *fd = p[0];
    return pid;
}

static bool list_contains(char ids[][37], size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return true;
    return false;
}

static int after_restart(int state)
{
    return state == DLV__PRINT_SENDING ? DLV__PRINT_UNKNOWN : state;
}

/* Reopens the store and holds it against the model; then the model takes the stored truth for
 * what was in flight. */
static void verify(model *m, const char *dir)
{
    dlv__store *st = NULL;
    dlv_error err = {0};
    int rc = dlv__store_open(dir, NULL, &st, &err);
    if (rc != DLV_OK) {
        fail(m, "reopen after the kill failed: %s", err.message);
        return;
    }
    sqlite3 *db = dlv__store_sqlite(st);
    sqlite3_stmt *s = NULL;

    /* Outbox. */
    char(*stored)[37] = NULL;
    size_t nstored = 0;
    sqlite3_prepare_v2(db, "SELECT id FROM outbox ORDER BY seq", -1, &s, NULL);
    while (sqlite3_step(s) == SQLITE_ROW) {
        stored = realloc(stored, (nstored + 1) * sizeof *stored);
        snprintf(stored[nstored++], 37, "%s", (const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    bool batch_stored = false;
    if (m->add_inflight) {
        m->kills_in_add++;
        int present = 0;
        for (int i = 0; i < m->nadd; i++)
            present += list_contains(stored, nstored, m->add_ids[i]);
        if (present != 0 && present != m->nadd)
            fail(m, "batch %ld half stored: %d of %d commands", m->add_batch, present, m->nadd);
        if (present == m->nadd) {
            batch_stored = true;
            m->add_committed_unacked++;
            append_ids(m, m->add_ids, (size_t)m->nadd);
        }
        m->add_inflight = false;
    }
    if (m->done_inflight) {
        m->completions_inflight++;
        int gone = 0;
        for (int i = 0; i < m->ndone; i++)
            gone += !list_contains(stored, nstored, m->done_ids[i]);
        if (gone != 0 && gone != m->ndone)
            fail(m, "completion half applied: %d of %d removed", gone, m->ndone);
        if (gone == m->ndone)
            for (int i = 0; i < m->ndone; i++)
                remove_id(m, m->done_ids[i]);
        m->done_inflight = false;
    }
    if (nstored != m->nids)
        fail(m, "outbox holds %zu commands, %zu expected", nstored, m->nids);
    for (size_t i = 0; i < nstored && i < m->nids; i++) {
        if (strcmp(stored[i], m->ids[i]) != 0) {
            fail(m, "outbox position %zu: %s, expected %s", i, stored[i], m->ids[i]);
            break;
        }
    }
    free(stored);

    /* Print ledger. */
    size_t found = 0;
    int unknown = 0;
    for (size_t i = 0; i < m->njobs; i++) {
        mjob *j = &m->jobs[i];
        sqlite3_prepare_v2(db, "SELECT state FROM print_jobs WHERE trigger_key = ?1", -1, &s, NULL);
        sqlite3_bind_text(s, 1, j->trigger, -1, SQLITE_STATIC);
        int state = NONE;
        if (sqlite3_step(s) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(s, 0);
            for (int k = DLV__PRINT_PENDING; k <= DLV__PRINT_DISMISSED; k++)
                if (strcmp(name, dlv__print_state_name((dlv__print_state)k)) == 0)
                    state = k;
        }
        sqlite3_finalize(s);
        bool ok = state == after_restart(j->acked) ||
                  (j->intent != NONE && state == after_restart(j->intent)) ||
                  (state == NONE && j->acked == NONE);
        if (!ok)
            fail(m, "print job %s is %s after the restart; acknowledged %s, announced %s",
                 j->trigger,
                 state == NONE ? "missing" : dlv__print_state_name((dlv__print_state)state),
                 j->acked == NONE ? "nothing" : dlv__print_state_name((dlv__print_state)j->acked),
                 j->intent == NONE ? "nothing"
                                   : dlv__print_state_name((dlv__print_state)j->intent));
        if (j->acked == DLV__PRINT_SENDING && state == DLV__PRINT_UNKNOWN)
            m->kills_while_sending++;
        if (m->group_inflight && strcmp(j->trigger, m->group_trigger) == 0) {
            m->kills_in_group++;
            /* Killed between the batch's 'A' and the job's 'P': the batch is known stored. */
            bool group_stored = batch_stored || m->group_batch_acked;
            if ((state != NONE) != group_stored)
                fail(m, "group %ld split: batch %s, print job %s", m->group_batch,
                     group_stored ? "stored" : "lost", state != NONE ? "stored" : "lost");
        }
        j->acked = state;
        j->intent = NONE;
        found += state != NONE;
        unknown += state == DLV__PRINT_UNKNOWN;
    }
    m->group_inflight = false;
    int64_t total = -1;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM print_jobs", -1, &s, NULL);
    if (sqlite3_step(s) == SQLITE_ROW)
        total = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (total != (int64_t)found)
        fail(m, "%lld print jobs stored, %zu known", (long long)total, found);
    /* 'unknown' jobs are offered, never due. */
    dlv__print_job *jobs;
    size_t n;
    if (dlv__store_print_offers(st, &jobs, &n, NULL) == DLV_OK) {
        if ((int)n != unknown)
            fail(m, "%zu reprint offers, %d unknown jobs", n, unknown);
        dlv__store_print_jobs_free(jobs, n);
    }
    if (dlv__store_print_due(st, &jobs, &n, NULL) == DLV_OK) {
        for (size_t i = 0; i < n; i++)
            if (jobs[i].state != DLV__PRINT_PENDING && jobs[i].state != DLV__PRINT_FAILED)
                fail(m, "job %s due in state %s", jobs[i].trigger,
                     dlv__print_state_name(jobs[i].state));
        dlv__store_print_jobs_free(jobs, n);
    }
    m->unknown_seen = unknown;

    /* Revision and the cache it belongs to. */
    int64_t rev = 0, top = 0;
    dlv__store_revision(st, &rev, NULL);
    if (rev != m->rev_acked && rev != m->rev_intent)
        fail(m, "revision %lld; acknowledged %lld, announced %lld", (long long)rev,
             (long long)m->rev_acked, (long long)m->rev_intent);
    sqlite3_prepare_v2(db, "SELECT coalesce(max(revision), 0) FROM orders", -1, &s, NULL);
    if (sqlite3_step(s) == SQLITE_ROW)
        top = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (top != rev)
        fail(m, "orders cached up to revision %lld, sync revision %lld", (long long)top,
             (long long)rev);
    m->rev_acked = rev;
    m->rev_intent = NONE;

    /* Numbers. */
    int64_t last = 0;
    sqlite3_prepare_v2(db, "SELECT coalesce(max(last), 0) FROM numbers", -1, &s, NULL);
    if (sqlite3_step(s) == SQLITE_ROW)
        last = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (last != m->number_max && !(m->number_inflight && last == m->number_max + 1))
        fail(m, "last number %lld, acknowledged %lld", (long long)last, (long long)m->number_max);
    m->number_max = last;
    m->number_inflight = false;
    dlv__store_close(st);
}

static void sigkill_across_the_write_path(void)
{
    char *dir = dlv_test_mkdtemp();
    const char *env = getenv("STORE_CRASH_SEED");
    unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
    srand(seed);
    fprintf(stderr, "(seed %u) ", seed);
    const char *rounds_env = getenv("STORE_CRASH_ROUNDS");
    int rounds = rounds_env ? atoi(rounds_env) : ROUNDS;
    if (rounds < ROUNDS)
        rounds = ROUNDS;
    model m = {.rev_intent = NONE};
    static const char waits[] = {0, '*', 'T', 'S', 0};
    int64_t started = now_us();
    for (int round = 0; round < rounds && !m.failed; round++) {
        int mode = round % 5;
        int fd;
        pid_t pid = spawn(dir, seed + (unsigned)round, round, &fd);
        reader r = {.fd = fd};
        int intents = 0;
        m.ready = false;
        if (mode == 4) {
            pause_us(rand() % 6000); /* while opening: recovery of 'sending' jobs, migrations */
        } else {
            char wait_for = waits[mode];
            int want = mode == 1 ? 1 + rand() % 60 : mode == 2 ? 1 + rand() % 12 : 1 + rand() % 4;
            int64_t give_up = now_us() + 5000000;
            while (!r.eof && !m.failed && now_us() < give_up &&
                   (!m.ready || (wait_for && intents < want)))
                pump(&m, &r, 50, wait_for, &intents);
            pause_us(mode == 0 ? rand() % 15000 : rand() % 300);
        }
        kill(pid, SIGKILL);
        while (!r.eof)
            pump(&m, &r, 1000, 0, &intents);
        close(fd);
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
            fail(&m, "round %d: the child ended by itself (status %d)", round, status);
        if (r.len)
            fail(&m, "round %d: a torn line from the child", round);
        m.kills++;
        verify(&m, dir);
    }
    fprintf(stderr,
            "\n  %d kills in %.1f s: %d inside outbox_add (%d of them committed, unacknowledged),"
            " %d inside a completion, %d inside a group, %d while a job was sending; %zu "
            "commands pending, %zu print jobs (%d unknown), %d lines\n  ",
            m.kills, (double)(now_us() - started) / 1e6, m.kills_in_add, m.add_committed_unacked,
            m.completions_inflight, m.kills_in_group, m.kills_while_sending, m.nids, m.njobs,
            m.unknown_seen, m.lines);
    CU_ASSERT_FALSE(m.failed);
    CU_ASSERT_TRUE(m.kills >= 50);
    CU_ASSERT_TRUE(m.kills_in_add >= 5);
    CU_ASSERT_TRUE(m.kills_while_sending >= 1);
    free(m.ids);
    free(m.jobs);
    dlv_test_rmdir(dir);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    static const dlv_test_case cases[] = {
        DLV_TEST(sigkill_across_the_write_path),
        DLV_TEST_END,
    };
    return dlv_test_main("store_crash", cases);
}
