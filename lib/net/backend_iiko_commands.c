/* The iikoCloud sender: one library command → one endpoint → one correlationId followed with
 * commands/status until Success or Error. iikoCloud has no idempotency key, so exactly-once is
 * kept by the journal and reconciliation (docs/iikocloud.md, "Exactly once"):
 *   - before the request goes out the journal holds "sent:<ms>" for the command (durable);
 *   - once the correlationId is known it holds "corr:<uuid>";
 *   - the outcome (Applied/Rejected) deletes it, once the runtime has stored it.
 * A command found in the journal has an unknown outcome (timeout, lost answer, crash): with a
 * correlation the terminal asks commands/status; without one it reads the order
 * (deliveries/by_id) and sends again only when the order does not show the command's effect. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "net/http.h"
#include "net/iiko.h"

#define STATUS_POLL_FIRST_MS 200
#define STATUS_POLL_MAX_MS 1000
#define STATUS_WAIT_MAX_MS 30000
#define JOURNAL_VALUE_MAX 128

enum phase { PH_READ_BEFORE, PH_POST, PH_STATUS, PH_READ_RECONCILE, PH_READ_OUTCOME };

struct dlv__iiko_send {
    dlv__iiko *k;
    dlv__iiko_plan plan;
    dlv__backend_cb cb;
    void *arg;
    enum phase phase;
    char corr[64];
    unsigned status_polls;
    uint64_t status_since;
    bool success;         /* commands/status said Success (PH_READ_OUTCOME) */
    char error_text[300]; /* commands/status said Error: its text */
    double total_ms;
    bool timer_pending; /* waiting on send_timer */
    void (*timer_then)(dlv__iiko_send *s);
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the journal ---- */

static char *journal_get(dlv__iiko *k, const char *id)
{
    char *v = NULL;
    if (k->journal.get && k->journal.get(k->journal.arg, id, &v) != DLV_OK)
        v = NULL;
    return v;
}

static int journal_put(dlv__iiko *k, const char *id, const char *value)
{
    return k->journal.put ? k->journal.put(k->journal.arg, id, value) : DLV_OK;
}

static void journal_del(dlv__iiko *k, const char *id)
{
    if (k->journal.del && k->journal.del(k->journal.arg, id) != DLV_OK)
        DLV__LOGW(k->base.log, "iikoCloud: cannot clear the journal entry of command %s", id);
}

/* ---- endings ---- */

static void send_end(dlv__iiko_send *s, dlv__backend_result *res)
{
    dlv__iiko *k = s->k;
    if (k->send == s)
        k->send = NULL;
    dlv__backend_cb cb = s->cb;
    void *arg = s->arg;
    res->total_ms = s->total_ms;
    char id[sizeof s->plan.id];
    snprintf(id, sizeof id, "%s", s->plan.id);
    bool final = res->err == DLV_OK && res->commands;
    dlv__iiko_plan_free(&s->plan);
    dlv__free(s);
    cb(arg, res);
    dlv__backend_result_clear(res);
    /* Only once the runtime has stored the outcome (its outbox row is gone): a crash before
     * this leaves an entry that is reconciled, never a pending command without one. */
    if (final && id[0])
        journal_del(k, id);
}

static void send_error(dlv__iiko_send *s, int err, bool retryable, long retry_after_s,
                       const char *message)
{
    dlv__backend_result res = {.err = err, .retryable = retryable, .retry_after_s = retry_after_s};
    snprintf(res.message, sizeof res.message, "iikoCloud %.31s: %.300s", s->plan.type, message);
    send_end(s, &res);
}

static int64_t revision_of(const cJSON *info)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(info, "timestamp");
    return cJSON_IsNumber(t) && t->valuedouble >= 0 ? (int64_t)t->valuedouble : -1;
}

static int status_of(const cJSON *info)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(info, "order");
    const cJSON *st = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, "status") : NULL;
    for (int i = 0; cJSON_IsString(st) && i < DLV_STATUS_COUNT; i++)
        if (strcmp(dlv__status_names[i], st->valuestring) == 0)
            return i;
    return -1;
}

/* The command's outcome; the journal entry goes (the outcome is final). */
static void send_outcome(dlv__iiko_send *s, dlv__command_outcome outcome, int64_t revision,
                         const char *code, const char *description, int current_status)
{
    dlv__backend_result res = {.retry_after_s = -1};
    dlv__commands_response *cr = dlv__calloc(1, sizeof *cr);
    dlv__command_result *r = cr ? dlv__calloc(1, sizeof *r) : NULL;
    if (!r) {
        dlv__free(cr);
        send_error(s, DLV_ENOMEM, true, -1, "out of memory");
        return;
    }
    cr->results = r;
    cr->result_count = 1;
    cr->revision = revision;
    r->id = dlv__strdup(s->plan.id);
    r->outcome = outcome;
    r->revision = revision;
    r->current_status = current_status;
    if (outcome == DLV__OUTCOME_REJECTED) {
        r->error = dlv__strdup(code && *code ? code : "Rejected");
        r->description = description ? dlv__strdup(description) : NULL;
    }
    res.commands = cr;
    if (!r->id || (outcome == DLV__OUTCOME_REJECTED && !r->error)) {
        dlv__backend_result_clear(&res);
        send_error(s, DLV_ENOMEM, true, -1, "out of memory");
        return;
    }
    send_end(s, &res);
}

/* ---- steps ---- */

static void on_answer(dlv__iiko *k, void *arg, dlv__iiko_answer *a);

static void after_timer(uv_timer_t *t)
{
    dlv__iiko *k = t->data;
    dlv__iiko_send *s = k->send;
    if (!s || !s->timer_pending)
        return;
    s->timer_pending = false;
    s->timer_then(s);
}

static void later(dlv__iiko_send *s, uint64_t ms, void (*then)(dlv__iiko_send *s))
{
    s->timer_pending = true;
    s->timer_then = then;
    uv_timer_start(&s->k->send_timer, after_timer, ms, 0);
}

static void call_or_fail(dlv__iiko_send *s, enum phase phase, const char *path, const cJSON *body)
{
    s->phase = phase;
    int rc = body ? dlv__iiko_call(s->k, path, body, on_answer, s) : DLV_ENOMEM;
    if (rc != DLV_OK)
        send_error(s, rc, rc != DLV_ESTOPPED, -1, dlv_strerror(rc));
}

static void read_order(dlv__iiko_send *s, enum phase phase)
{
    if (!s->plan.order_id[0]) {
        /* Nothing to read (a create without an id cannot be found again): answer Applied only
         * from commands/status; without a correlation it is sent again. */
        dlv__iiko_answer none = {.err = DLV_OK, .retry_after_s = -1};
        s->phase = phase;
        on_answer(s->k, s, &none);
        return;
    }
    cJSON *b = cJSON_CreateObject();
    cJSON *ids = b ? cJSON_AddArrayToObject(b, "orderIds") : NULL;
    cJSON *id = cJSON_CreateString(s->plan.order_id);
    bool ok = ids && id && cJSON_AddItemToArray(ids, id) &&
              dlv__jput_string(b, "organizationId", s->k->organization_id);
    if (!ok && id && (!ids || !cJSON_GetArraySize(ids)))
        cJSON_Delete(id);
    call_or_fail(s, phase, "deliveries/by_id", ok ? b : NULL);
    cJSON_Delete(b);
}

static void post(dlv__iiko_send *s, const cJSON *info)
{
    char value[JOURNAL_VALUE_MAX];
    snprintf(value, sizeof value, "sent:%lld", (long long)wall_ms());
    /* Durable before the first byte: a crash from here on leaves an entry to reconcile. */
    if (journal_put(s->k, s->plan.id, value) != DLV_OK) {
        send_error(s, DLV_ESTORE, true, -1, "cannot record the command in the journal");
        return;
    }
    cJSON *merged = s->plan.merge_payments ? dlv__iiko_pay_body(&s->plan, info) : NULL;
    call_or_fail(s, PH_POST, s->plan.endpoint, s->plan.merge_payments ? merged : s->plan.body);
    cJSON_Delete(merged);
}

static void ask_status(dlv__iiko_send *s)
{
    cJSON *b = cJSON_CreateObject();
    bool ok = b && dlv__jput_string(b, "organizationId", s->k->organization_id) &&
              dlv__jput_string(b, "correlationId", s->corr);
    call_or_fail(s, PH_STATUS, "commands/status", ok ? b : NULL);
    cJSON_Delete(b);
}

static void reconcile_now(dlv__iiko_send *s)
{
    read_order(s, PH_READ_RECONCILE);
}

static const cJSON *first_order(const cJSON *json)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(json, "orders"), 0);
}

static void on_status(dlv__iiko_send *s, dlv__iiko_answer *a)
{
    if (a->err == DLV_EINVAL) {
        /* iikoCloud no longer knows the correlation: decide from the order instead. */
        DLV__LOGW(s->k->base.log, "iikoCloud: command %s: %s; reading the order", s->plan.id,
                  a->message);
        reconcile_now(s);
        return;
    }
    if (a->err != DLV_OK) {
        send_error(s, a->err, a->retryable, a->retry_after_s, a->message);
        return;
    }
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(a->json, "state");
    const char *st = cJSON_IsString(state) ? state->valuestring : "";
    if (strcmp(st, "Success") == 0) {
        s->success = true;
        read_order(s, PH_READ_OUTCOME);
        return;
    }
    if (strcmp(st, "Error") == 0) {
        const cJSON *exc = cJSON_GetObjectItemCaseSensitive(a->json, "exception");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(exc, "message");
        snprintf(s->error_text, sizeof s->error_text, "%s",
                 cJSON_IsString(msg) ? msg->valuestring : "iikoCloud reported an error");
        read_order(s, PH_READ_OUTCOME);
        return;
    }
    /* InProgress: ask again, a little later each time, within a bound. */
    uint64_t now = uv_now(s->k->base.loop);
    if (s->status_polls == 0)
        s->status_since = now;
    if (now - s->status_since >= STATUS_WAIT_MAX_MS) {
        send_error(s, DLV_ETIMEDOUT, true, -1,
                   "still InProgress at iikoCloud; its status is asked again later");
        return;
    }
    uint64_t delay = STATUS_POLL_FIRST_MS << (s->status_polls < 3 ? s->status_polls : 3);
    s->status_polls++;
    later(s, delay > STATUS_POLL_MAX_MS ? STATUS_POLL_MAX_MS : delay, ask_status);
}

static void on_answer(dlv__iiko *k, void *arg, dlv__iiko_answer *a)
{
    dlv__iiko_send *s = arg;
    s->total_ms += a->total_ms;
    const cJSON *info = a->err == DLV_OK ? first_order(a->json) : NULL;
    switch (s->phase) {
    case PH_READ_BEFORE:
        if (a->err != DLV_OK) {
            send_error(s, a->err, a->retryable, a->retry_after_s, a->message);
            return;
        }
        post(s, info);
        return;
    case PH_POST: {
        if (a->err != DLV_OK) {
            if (a->err == DLV_EINVAL) {
                /* A 400 creates no command at iikoCloud: the request itself was refused. */
                send_outcome(s, DLV__OUTCOME_REJECTED, -1, a->code[0] ? a->code : "BadRequest",
                             a->message, -1);
                return;
            }
            /* Unknown outcome: the journal keeps "sent"; the next attempt reconciles. */
            send_error(s, a->err, a->retryable, a->retry_after_s, a->message);
            return;
        }
        const cJSON *corr = cJSON_GetObjectItemCaseSensitive(a->json, "correlationId");
        if (!cJSON_IsString(corr) || strlen(corr->valuestring) >= sizeof s->corr) {
            send_error(s, DLV_EPROTOCOL, true, -1, "the answer carries no correlationId");
            return;
        }
        snprintf(s->corr, sizeof s->corr, "%s", corr->valuestring);
        char value[JOURNAL_VALUE_MAX];
        snprintf(value, sizeof value, "corr:%s", s->corr);
        if (journal_put(k, s->plan.id, value) != DLV_OK)
            DLV__LOGW(k->base.log,
                      "iikoCloud: cannot record the correlation of command %s "
                      "(it is reconciled from the order instead)",
                      s->plan.id);
        ask_status(s);
        return;
    }
    case PH_STATUS:
        on_status(s, a);
        return;
    case PH_READ_RECONCILE:
        if (a->err != DLV_OK) {
            send_error(s, a->err, a->retryable, a->retry_after_s, a->message);
            return;
        }
        if (dlv__iiko_effect_present(&s->plan, info)) {
            DLV__LOGI(k->base.log, "iikoCloud: command %s (%s) is already applied: not sent again",
                      s->plan.id, s->plan.type);
            send_outcome(s, DLV__OUTCOME_DUPLICATE, revision_of(info), NULL, NULL, -1);
            return;
        }
        DLV__LOGI(k->base.log, "iikoCloud: command %s (%s) did not happen: sending it again",
                  s->plan.id, s->plan.type);
        post(s, info);
        return;
    case PH_READ_OUTCOME: {
        int64_t rev = a->err == DLV_OK ? revision_of(info) : -1;
        if (s->success) {
            send_outcome(s, DLV__OUTCOME_APPLIED, rev, NULL, NULL, -1);
            return;
        }
        /* Error: someone else may have made the same change first (the order was moved to
         * OnWay by the operator); the effect is there, so the command is not lost. */
        if (a->err == DLV_OK && dlv__iiko_effect_present(&s->plan, info)) {
            send_outcome(s, DLV__OUTCOME_DUPLICATE, rev, NULL, NULL, -1);
            return;
        }
        send_outcome(s, DLV__OUTCOME_REJECTED, rev, "CommandFailed", s->error_text,
                     a->err == DLV_OK ? status_of(info) : -1);
        return;
    }
    }
}

static void answer_locally(dlv__iiko_send *s)
{
    if (s->plan.action == DLV__IIKO_LOCAL_APPLIED)
        send_outcome(s, DLV__OUTCOME_APPLIED, -1, NULL, NULL, -1);
    else
        send_outcome(s, DLV__OUTCOME_REJECTED, -1, s->plan.code, s->plan.message, -1);
}

/* The first step, from the loop: the journal says whether this is a first attempt. */
static void begin(dlv__iiko_send *s)
{
    dlv__iiko *k = s->k;
    if (s->plan.action != DLV__IIKO_SEND) {
        answer_locally(s);
        return;
    }
    char *entry = journal_get(k, s->plan.id);
    if (!entry) {
        if (s->plan.merge_payments)
            read_order(s, PH_READ_BEFORE);
        else
            post(s, NULL);
    } else if (strncmp(entry, "corr:", 5) == 0) {
        snprintf(s->corr, sizeof s->corr, "%s", entry + 5);
        DLV__LOGI(k->base.log, "iikoCloud: command %s was sent before: following its correlation",
                  s->plan.id);
        ask_status(s);
    } else {
        /* Sent, outcome unknown. A request that left just now may still be applying: read the
         * order only once the server had the time to apply it (a timeout and then some). */
        long long at = 0;
        sscanf(entry, "sent:%lld", &at);
        int64_t age = wall_ms() - at;
        int64_t settle = k->timeout_ms + 2000;
        if (age >= 0 && age < settle)
            send_error(s, DLV_EBUSY, true, (long)((settle - age + 999) / 1000),
                       "an earlier attempt may still be applying: the order is read once it "
                       "settles");
        else
            reconcile_now(s);
    }
    dlv__free(entry);
}

int dlv__iiko_send_commands(dlv__backend *b, const char *const *commands, size_t count,
                            dlv__backend_cb cb, void *arg)
{
    dlv__iiko *k = (dlv__iiko *)b;
    if (k->closing)
        return DLV_ESTOPPED;
    if (k->send)
        return DLV_EBUSY;
    if (count != 1)
        return DLV_EINVAL; /* max_commands is 1 */
    dlv__iiko_send *s = dlv__calloc(1, sizeof *s);
    if (!s)
        return DLV_ENOMEM;
    s->k = k;
    s->cb = cb;
    s->arg = arg;
    dlv_error err = {0};
    int rc = dlv__iiko_plan_command(commands[0], k->organization_id, k->terminal_group_id,
                                    &k->clock, &s->plan, &err);
    if (rc != DLV_OK) {
        /* Not a command at all: answer it Rejected rather than block the outbox. */
        memset(&s->plan, 0, sizeof s->plan);
        cJSON *j = cJSON_Parse(commands[0]);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
        snprintf(s->plan.id, sizeof s->plan.id, "%s", cJSON_IsString(id) ? id->valuestring : "");
        cJSON_Delete(j);
        s->plan.action = DLV__IIKO_LOCAL_REJECTED;
        snprintf(s->plan.code, sizeof s->plan.code, "InvalidCommand");
        snprintf(s->plan.message, sizeof s->plan.message, "%.190s", err.message);
    }
    k->send = s;
    later(s, 0, begin); /* never call back from inside the call */
    return DLV_OK;
}

void dlv__iiko_send_stop(dlv__iiko *k)
{
    dlv__iiko_send *s = k->send;
    if (!s || !s->timer_pending)
        return; /* a call in flight ends with DLV_ESTOPPED when the HTTP client closes */
    uv_timer_stop(&k->send_timer);
    s->timer_pending = false;
    send_error(s, DLV_ESTOPPED, false, -1, "the backend is closing");
}
