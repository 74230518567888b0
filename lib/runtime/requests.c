/* The host's requests: one JSON object each ({"cmd":"confirm","orderId":"…"}), one reply each.
 * The requests are the rows of one table (`requests` below, curl's Curl_handler style), named by
 * DLV_REQUEST_MAP in include/delivery/delivery.h: what a request needs before it runs (a user, an
 * order) is a flag in its row and checked in one place. */
#include "runtime/rt.h"

#include <string.h>

#include "order/json.h"
#include "doctor/doctor.h"
#include "runtime/printing.h"

/* REQUEST_LOGIN, … in the order of DLV_REQUEST_MAP; the index of each request's row. */
enum request_id {
#define REQUEST_ID(id, name, text) REQUEST_##id,
    DLV_REQUEST_MAP(REQUEST_ID)
#undef REQUEST_ID
        REQUEST_COUNT
};

static const char *const request_names[REQUEST_COUNT] = {
#define REQUEST_NAME(id, name, text) name,
    DLV_REQUEST_MAP(REQUEST_NAME)
#undef REQUEST_NAME
};

struct request_handler;

typedef struct req_ctx {
    dlv_ctx *ctx;
    host_req *req;
    const cJSON *json;
    const char *cmd;
    const struct request_handler *handler;
    rt_order *order; /* the order "orderId" names, for rows with NEEDS_ORDER */
} req_ctx;

/* What a request needs before its handler runs, checked in this order, so every request is
 * refused the same way: the user first, then the order. */
enum {
    NEEDS_LOGIN = 1u << 0, /* a logged-in user, else MissingRight */
    NEEDS_ORDER = 1u << 1, /* "orderId" naming a known order, else BadCommand or UnknownOrder */
    /* Changes an order: goes through the rules and the group commit, so its reply comes after the
     * commit (orders.c) rather than at once. Says what the row is; nothing branches on it. */
    CHANGES_ORDER = 1u << 2
};

typedef struct request_handler {
    void (*handle)(req_ctx *r);
    unsigned flags; /* NEEDS_*, CHANGES_ORDER */
    dlv__op op;     /* the operation of the rows handled by do_op */
} request_handler;

static void reply_now(req_ctx *r, char *json)
{
    rt_staged *s = dlv__rt_staged_new(r->ctx, r->cmd, r->req->cb, r->req->arg);
    if (!s) {
        dlv__free(json);
        return;
    }
    s->reply = json;
}

/* A text in the context's language (common/i18n.h): TR("English", "Русский"). */
#define TR(en, ru) DLV__TR(r->ctx->locale, en, ru)

static void reply_error(req_ctx *r, int code, const char *message)
{
    reply_now(r, dlv__reply_error(r->cmd, dlv__reply_code(code), message));
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The request's "id" (a string or an integer) as JSON text, or NULL when it has none. */
static char *request_id_text(const cJSON *json)
{
    const cJSON *id = cJSON_IsObject(json) ? cJSON_GetObjectItemCaseSensitive(json, "id") : NULL;
    if (!cJSON_IsString(id) && !cJSON_IsNumber(id))
        return NULL;
    return dlv__json_print(id);
}

/* The order a request names, or a reply with UnknownOrder. */
static rt_order *find_order(req_ctx *r)
{
    const char *id = str(r->json, "orderId");
    if (!id) {
        reply_error(r, DLV_EINVAL, TR("orderId is required", "не указан orderId"));
        return NULL;
    }
    rt_order *o = dlv__rt_order_find(r->ctx, id);
    if (o && o->stored && !dlv__rt_view(r->ctx, o)) {
        reply_error(r, DLV_ESTORE,
                    TR("the order cannot be read from the terminal's database",
                       "заказ не удалось прочитать из базы терминала"));
        return NULL;
    }
    if (!o || !o->stored) {
        char msg[128];
        snprintf(msg, sizeof msg,
                 TR("no order %.40s on this terminal", "на этом терминале нет заказа %.40s"), id);
        reply_error(r, DLV_EUNKNOWNORDER, msg);
        return NULL;
    }
    return o;
}

static bool need_login(req_ctx *r)
{
    if (r->ctx->login.logged_in)
        return true;
    reply_error(r, DLV_EMISSINGRIGHT,
                TR("no user is logged in (send login with the user's rights)",
                   "пользователь не вошёл в систему (отправьте login с правами пользователя)"));
    return false;
}

/* Stages `op` on the request's order with the request's arguments. */
static void stage_op(req_ctx *r, dlv__op op)
{
    rt_order *o = r->order;
    dlv__op_request req = dlv__op_request_make(op, r->ctx->login.rights);
    req.courier_id = str(r->json, "courierId");
    req.cancel_cause_id = str(r->json, "cancelCauseId");
    req.comment = str(r->json, "comment");
    const char *actual = str(r->json, "actualTime");
    if (actual) {
        const char *why = dlv__time_parse(actual, &req.actual_time);
        if (why) {
            char msg[160];
            snprintf(msg, sizeof msg, "actualTime: %s", why);
            reply_error(r, DLV_EINVAL, msg);
            return;
        }
    }
    rt_staged *s = dlv__rt_stage_op(r->ctx, o, &req, r->cmd, "local", r->req->cb, r->req->arg);
    if (s && s->new_view && op == DLV__OP_PRINT_INVOICE)
        s->print_invoice = true;
}

static void do_op(req_ctx *r)
{
    stage_op(r, r->handler->op);
}

static void do_set_status(req_ctx *r)
{
    rt_order *o = r->order;
    const char *name = str(r->json, "status");
    dlv_status to;
    if (!name || dlv_status_from_name(name, &to) != DLV_OK) {
        reply_error(r, DLV_EINVAL,
                    TR("status must be one of the ten delivery statuses",
                       "status должен быть одним из десяти статусов доставки"));
        return;
    }
    dlv__op op;
    dlv_error err = {0};
    if (dlv__op_for_status(dlv__rt_working_view(r->ctx, o), to, r->ctx->locale, &op, &err) !=
        DLV_OK) {
        reply_error(r, err.code ? err.code : DLV_EINVALIDTRANSITION, err.message);
        return;
    }
    stage_op(r, op);
}

static void do_pay(req_ctx *r)
{
    rt_order *o = r->order;
    dlv__jpath path;
    dlv__jpath_init(&path, NULL);
    const cJSON *list = NULL;
    size_t count = 0;
    dlv_error err = {0};
    int rc = dlv__jget_array(r->json, "payments", DLV__J_REQUIRED, DLV__ORDER_MAX_PAYMENTS, &path,
                             &list, &count, &err);
    dlv__payment *payments = rc == DLV_OK ? dlv__calloc(count ? count : 1, sizeof *payments) : NULL;
    if (rc == DLV_OK && !payments)
        rc = dlv__error_set(&err, DLV_ENOMEM, "out of memory");
    for (size_t i = 0; rc == DLV_OK && i < count; i++) {
        const cJSON *p = cJSON_GetArrayItem(list, (int)i);
        size_t at = dlv__jpath_key(&path, "payments");
        dlv__jpath_index(&path, i);
        int kind = 0;
        rc = dlv__jget_string(p, "paymentTypeId", DLV__J_REQUIRED | DLV__J_UUID, &path,
                              &payments[i].payment_type_id, &err);
        if (rc == DLV_OK)
            rc = dlv__jget_enum(p, "kind", DLV__J_REQUIRED, dlv__payment_kind_names, 3, &path,
                                &kind, &err);
        if (rc == DLV_OK)
            rc = dlv__jget_decimal(p, "sum", DLV__J_REQUIRED, DLV__MONEY_SCALE, 1, DLV__MONEY_MAX,
                                   &path, &payments[i].sum, NULL, &err);
        payments[i].kind = (dlv__payment_kind)kind;
        dlv__jpath_restore(&path, at);
    }
    if (rc == DLV_OK && count == 0)
        rc = dlv__error_set(&err, DLV_EINVAL, "payments must not be empty");
    if (rc != DLV_OK) {
        reply_error(r, rc == DLV_EJSON ? DLV_EINVAL : rc, err.message);
    } else {
        dlv__op_request req = dlv__op_request_make(DLV__OP_TAKE_PAYMENT, r->ctx->login.rights);
        req.payments = payments;
        req.payment_count = count;
        dlv__rt_stage_op(r->ctx, o, &req, r->cmd, "local", r->req->cb, r->req->arg);
    }
    for (size_t i = 0; payments && i < count; i++)
        dlv__free(payments[i].payment_type_id);
    dlv__free(payments);
}

/* {"cmd":"editOrder","orderId","changes":{…}}: the named fields replace the order's (the rules
 * say which may change now); the durable command is EditOrder (orders.c). */
static void do_edit_order(req_ctx *r)
{
    const cJSON *changes = cJSON_GetObjectItemCaseSensitive(r->json, "changes");
    if (!cJSON_IsObject(changes) || !changes->child) {
        reply_error(r, DLV_EINVAL,
                    TR("changes must be an object naming the fields to change",
                       "changes должен быть объектом с изменяемыми полями"));
        return;
    }
    dlv__op_request req = dlv__op_request_make(DLV__OP_EDIT, r->ctx->login.rights);
    req.changes = changes; /* from dlv__json_parse: its numbers keep their exact text */
    dlv__rt_stage_op(r->ctx, r->order, &req, r->cmd, "local", r->req->cb, r->req->arg);
}

/* {"cmd":"removePayment","orderId","paymentId"}: F_CASH for the terminal's own (cash or card)
 * payments, D_DEP for an external one (the rules decide by the payment's kind). */
static void do_remove_payment(req_ctx *r)
{
    const char *payment = str(r->json, "paymentId");
    if (!payment) {
        reply_error(r, DLV_EINVAL, TR("paymentId is required", "не указан paymentId"));
        return;
    }
    dlv__op_request req = dlv__op_request_make(DLV__OP_REMOVE_PAYMENT, r->ctx->login.rights);
    req.payment_id = payment;
    dlv__rt_stage_op(r->ctx, r->order, &req, r->cmd, "local", r->req->cb, r->req->arg);
}

static void do_login(req_ctx *r)
{
    dlv_ctx *ctx = r->ctx;
    const char *user = str(r->json, "userId");
    const char *name = str(r->json, "name");
    const cJSON *rights = cJSON_GetObjectItemCaseSensitive(r->json, "rights");
    if (!cJSON_IsArray(rights)) {
        reply_error(r, DLV_EINVAL, "rights must be an array of right names");
        return;
    }
    dlv_rights set = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, rights)
    {
        if (!cJSON_IsString(it)) {
            reply_error(r, DLV_EINVAL, "rights must be an array of right names");
            return;
        }
        set |= dlv_right_from_name(it->valuestring);
    }
    snprintf(ctx->login.actor_id, sizeof ctx->login.actor_id, "%s",
             user && dlv__uuid_valid(user) ? user : "");
    snprintf(ctx->login.actor_name, sizeof ctx->login.actor_name, "%s", name ? name : "");
    ctx->login.rights = set;
    ctx->login.logged_in = true;
    reply_now(r, dlv__reply_ok(r->cmd, NULL));
    if (dlv__open_list_on_login(
            dlv_front_config_flag(ctx->front, DLV_FRONT_SHOW_DELIVERY_LIST_ON_LOGIN) != 0))
        dlv__rt_staged_event(dlv__rt_staged_last(ctx),
                             dlv__ev_show_delivery_list(dlv__rt_order_list(ctx)));
}

static void do_logout(req_ctx *r)
{
    r->ctx->login.logged_in = false;
    r->ctx->login.rights = 0;
    reply_now(r, dlv__reply_ok(r->cmd, NULL));
}

static void do_create_order(req_ctx *r)
{
    dlv_error err = {0};
    if (dlv__create_check(r->ctx->login.rights, r->ctx->locale, &err) != DLV_OK) {
        reply_error(r, err.code, err.message);
        return;
    }
    dlv__rt_create_order(r->ctx, cJSON_GetObjectItemCaseSensitive(r->json, "order"), r->cmd,
                         r->req->cb, r->req->arg);
}

static void do_reprint(req_ctx *r)
{
    const cJSON *job = cJSON_GetObjectItemCaseSensitive(r->json, "jobId");
    dlv_error err = {0};
    /* The rule of DLV__OP_REPRINT (lib/order/machine.c), checked here: a job, not an order. */
    if (!(r->ctx->login.rights & (DLV_RIGHT_F_PA | DLV_RIGHT_D_MD)))
        reply_error(r, DLV_EMISSINGRIGHT,
                    TR("missing right F_PA or D_MD to reprint a document",
                       "нет права F_PA или D_MD: повторная печать документа"));
    else if (!cJSON_IsNumber(job))
        reply_error(r, DLV_EINVAL,
                    TR("jobId (a number from a print event) is required",
                       "не указан jobId (номер из события печати)"));
    else if (dlv__rt_reprint(r->ctx, (int64_t)job->valuedouble, &err) != DLV_OK)
        reply_error(r, err.code ? err.code : DLV_EINVAL, err.message);
    else
        reply_now(r, dlv__reply_ok(r->cmd, NULL));
}

const char *dlv__rt_actor_name(const dlv_ctx *ctx)
{
    return ctx->login.actor_name;
}

cJSON *dlv__rt_actor_json(const dlv_ctx *ctx)
{
    cJSON *a = cJSON_CreateObject();
    if (a && (!dlv__jput_string(a, "id", ctx->login.actor_id[0] ? ctx->login.actor_id : NULL) ||
              !dlv__jput_string(a, "name", ctx->login.actor_name))) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

cJSON *dlv__rt_order_list(dlv_ctx *ctx)
{
    size_t n;
    rt_order **all = dlv__rt_order_list_all(ctx, &n);
    /* Chosen and sorted on the keys (lib/order/decide.c needs no more); each view is read only
     * to write its entry, so a list of any length takes bounded memory besides its text. */
    dlv__order *keys = dlv__malloc((n ? n : 1) * sizeof *keys);
    const dlv__order **sorted = dlv__malloc((n ? n : 1) * sizeof *sorted);
    cJSON *arr = cJSON_CreateArray();
    if (!all || !keys || !sorted || !arr) {
        dlv__free(all);
        dlv__free(keys);
        dlv__free(sorted);
        cJSON_Delete(arr);
        return NULL;
    }
    size_t live = 0;
    for (size_t i = 0; i < n; i++) {
        if (!all[i]->stored || dlv_status_is_final(all[i]->key.status))
            continue;
        all[live] = all[i];
        dlv__rt_order_skeleton(all[i], &keys[live]);
        sorted[live] = &keys[live];
        live++;
    }
    if (ctx->settings)
        dlv__orders_sort(sorted, live, ctx->settings, dlv__rt_now(ctx));
    for (size_t i = 0; i < live; i++) {
        const dlv__order *v = dlv__rt_view(ctx, all[sorted[i] - keys]);
        if (v)
            dlv__jattach(arr, NULL, dlv__ev_order_json(ctx, v));
        dlv__rt_views_trim(ctx);
    }
    dlv__free(all);
    dlv__free(keys);
    dlv__free(sorted);
    return arr;
}

static void do_list(req_ctx *r)
{
    cJSON *extra = cJSON_CreateObject();
    cJSON *list = dlv__rt_order_list(r->ctx);
    if (!extra || !list || !dlv__jattach(extra, "orders", list)) {
        cJSON_Delete(extra);
        reply_error(r, DLV_ENOMEM, "out of memory");
        return;
    }
    reply_now(r, dlv__reply_ok(r->cmd, extra));
}

/* {"cmd":"getOrder","orderId"}: the whole order as the order event carries it. Needs no user:
 * without one, "actions" is empty (a screen may show orders before anyone logs in). */
static void do_get_order(req_ctx *r)
{
    cJSON *extra = cJSON_CreateObject();
    const dlv__order *v = dlv__rt_view(r->ctx, r->order);
    if (!extra || !v || !dlv__jattach(extra, "order", dlv__ev_order_json(r->ctx, v))) {
        cJSON_Delete(extra);
        reply_error(r, DLV_ENOMEM, "out of memory");
        return;
    }
    reply_now(r, dlv__reply_ok(r->cmd, extra));
}

static void do_health(req_ctx *r)
{
    char *h = dlv_ctx_health(r->ctx);
    cJSON *extra = cJSON_CreateObject();
    cJSON *hj = h ? cJSON_Parse(h) : NULL;
    dlv__free(h);
    if (!extra || !hj || !dlv__jattach(extra, "health", hj)) {
        cJSON_Delete(extra);
        reply_error(r, DLV_ENOMEM, "out of memory");
        return;
    }
    reply_now(r, dlv__reply_ok(r->cmd, extra));
}

/* {"cmd":"doctor"}: the checks run on a worker thread (they wait on the network); the reply comes
 * back on the loop thread. The outbox is reported from this context's own numbers. */
typedef struct doctor_job {
    uv_work_t work;
    dlv_ctx *ctx;
    const char *name; /* the request's, for the reply */
    dlv_reply_cb cb;
    void *arg;
    rt_health health;
    char *config_path, *front_path, *receipt, *a4;
    char *report;
    char *request_id; /* echoed in the reply */
    int failed;
    dlv_error err;
} doctor_job;

static void doctor_outbox(void *arg, void *r)
{
    doctor_job *j = arg;
    dlv__doctor_outbox(r, j->health.pending_commands, j->health.oldest_pending_at,
                       j->health.held_print_jobs, NULL);
}

static void doctor_work(uv_work_t *w)
{
    doctor_job *j = w->data;
    dlv_doctor_options o = {.version = DLV_DOCTOR_OPTIONS_VERSION,
                            .config_path = j->config_path,
                            .front_config_path = j->front_path,
                            .receipt_printer = j->receipt,
                            .a4_printer = j->a4,
                            .locale = j->ctx->locale == DLV__LOCALE_EN ? "en" : "ru"};
    j->failed = dlv__doctor(&o, j->ctx->config, doctor_outbox, j, &j->report, &j->err);
}

static void doctor_done(uv_work_t *w, int status)
{
    doctor_job *j = w->data;
    (void)status;
    char *reply = NULL;
    if (j->report) {
        cJSON *extra = cJSON_CreateObject();
        cJSON *rep = cJSON_Parse(j->report);
        if (extra && rep && dlv__jattach(extra, "doctor", rep))
            reply = dlv__reply_ok(j->name, extra);
        else
            cJSON_Delete(extra);
    } else {
        reply = dlv__reply_error(j->name, dlv__reply_code(j->err.code), j->err.message);
    }
    char no_memory[96];
    snprintf(no_memory, sizeof no_memory,
             "{\"reply\":\"%s\",\"ok\":false,\"error\":\"OutOfMemory\"}", j->name);
    reply = dlv__reply_with_id(reply, j->request_id);
    if (j->cb)
        j->cb(j->arg, reply ? reply : no_memory);
    dlv__free(j->request_id);
    dlv__free(reply);
    dlv__free(j->report);
    dlv__free(j->config_path);
    dlv__free(j->front_path);
    dlv__free(j->receipt);
    dlv__free(j->a4);
    dlv__free(j);
}

static void do_doctor(req_ctx *r)
{
    dlv_ctx *ctx = r->ctx;
    doctor_job *j = dlv__calloc(1, sizeof *j);
    if (!j) {
        reply_error(r, DLV_ENOMEM, "out of memory");
        return;
    }
    dlv__rt_health_update(ctx);
    dlv__rt_health_get(ctx, &j->health);
    j->ctx = ctx;
    j->name = request_names[REQUEST_DOCTOR];
    j->cb = r->req->cb;
    j->arg = r->req->arg;
    j->config_path = dlv__strdup(dlv_config_path(ctx->config));
    j->front_path = ctx->front_config_path ? dlv__strdup(ctx->front_config_path) : NULL;
    j->receipt = ctx->receipt_printer ? dlv__strdup(ctx->receipt_printer) : NULL;
    j->a4 = ctx->a4_printer ? dlv__strdup(ctx->a4_printer) : NULL;
    j->request_id = request_id_text(r->json);
    j->work.data = j;
    if (!j->config_path || uv_queue_work(ctx->loop, &j->work, doctor_work, doctor_done) != 0) {
        dlv__free(j->config_path);
        dlv__free(j->front_path);
        dlv__free(j->receipt);
        dlv__free(j->a4);
        dlv__free(j->request_id);
        dlv__free(j);
        reply_error(r, DLV_ENOMEM, "cannot start the checks");
    }
}

/* The op of a row whose handler does not take one from the table. */
#define NO_OP DLV__OP_COUNT

/* One row per request of DLV_REQUEST_MAP, at its id. A request in the map without a row here has
 * no handler and is answered as unknown; test_api_docs catches that. */
static const request_handler requests[REQUEST_COUNT] = {
    /* [request] = {handler, flags, op (NO_OP: the handler picks it)} */
    [REQUEST_LOGIN] = {do_login, 0, NO_OP},
    [REQUEST_LOGOUT] = {do_logout, 0, NO_OP},
    [REQUEST_CONFIRM] = {do_op, NEEDS_LOGIN | NEEDS_ORDER | CHANGES_ORDER, DLV__OP_CONFIRM},
    [REQUEST_SET_STATUS] = {do_set_status, NEEDS_LOGIN | NEEDS_ORDER | CHANGES_ORDER, NO_OP},
    [REQUEST_CANCEL] = {do_op, NEEDS_LOGIN | NEEDS_ORDER | CHANGES_ORDER, DLV__OP_CANCEL},
    [REQUEST_ASSIGN_COURIER] = {do_op, NEEDS_LOGIN | NEEDS_ORDER | CHANGES_ORDER,
                                DLV__OP_ASSIGN_COURIER},
    [REQUEST_PAY] = {do_pay, NEEDS_LOGIN | NEEDS_ORDER | CHANGES_ORDER, NO_OP},
    [REQUEST_PRINT_INVOICE] = {do_op, NEEDS_LOGIN | NEEDS_ORDER | CHANGES_ORDER,
                               DLV__OP_PRINT_INVOICE},
    [REQUEST_CREATE_ORDER] = {do_create_order, NEEDS_LOGIN | CHANGES_ORDER, NO_OP},
    [REQUEST_REPRINT] = {do_reprint, NEEDS_LOGIN, NO_OP},
    [REQUEST_LIST] = {do_list, 0, NO_OP},
    [REQUEST_HEALTH] = {do_health, 0, NO_OP},
    [REQUEST_DOCTOR] = {do_doctor, 0, NO_OP},
    [REQUEST_EDIT_ORDER] = {do_edit_order, NEEDS_LOGIN | NEEDS_ORDER | CHANGES_ORDER, DLV__OP_EDIT},
    [REQUEST_REMOVE_PAYMENT] = {do_remove_payment, NEEDS_LOGIN | NEEDS_ORDER | CHANGES_ORDER,
                                DLV__OP_REMOVE_PAYMENT},
    [REQUEST_GET_ORDER] = {do_get_order, NEEDS_ORDER, NO_OP},
};

/* The row of a request name, NULL for a name the library does not answer. */
static const request_handler *request_find(const char *name)
{
    for (int i = 0; i < REQUEST_COUNT; i++)
        if (requests[i].handle && strcmp(request_names[i], name) == 0)
            return &requests[i];
    return NULL;
}

bool dlv__request_known(const char *name)
{
    return name && request_find(name) != NULL;
}

/* Runs a known request once what its row needs is there; need_login and find_order send the
 * refusal themselves. */
static void run(req_ctx *r)
{
    if ((r->handler->flags & NEEDS_LOGIN) && !need_login(r))
        return;
    if ((r->handler->flags & NEEDS_ORDER) && !(r->order = find_order(r)))
        return;
    r->handler->handle(r);
}

/* Gives the replies this request staged (those after `before`) its "id" to echo. */
static void tag_replies(dlv_ctx *ctx, rt_staged *before, const cJSON *json)
{
    rt_staged *s = before ? before->next : ctx->batch.staged_head;
    for (; s; s = s->next)
        if (!s->request_id)
            s->request_id = request_id_text(json);
}

void dlv__rt_handle_request(dlv_ctx *ctx, host_req *hr)
{
    req_ctx r = {ctx, hr, NULL, "", NULL, NULL};
    rt_staged *before = dlv__rt_staged_last(ctx);
    cJSON *json = NULL;
    dlv_error err = {0};
    /* Exact numbers: money in a request is read from its text, never through a double. */
    int rc = dlv__json_parse(hr->json, strlen(hr->json), DLV__ORDER_JSON_MAX, &json, &err);
    r.json = json;
    const char *cmd = str(json, "cmd");
    r.cmd = cmd ? cmd : "";
    if (rc != DLV_OK) {
        char msg[DLV_ERROR_MESSAGE_MAX + 32];
        snprintf(msg, sizeof msg,
                 DLV__TR(ctx->locale, "unparsable request: %s", "запрос не разобран: %s"),
                 err.message);
        reply_error(&r, DLV_EINVAL, msg);
    } else if (!cJSON_IsObject(json) || !cmd) {
        reply_error(&r, DLV_EINVAL,
                    DLV__TR(ctx->locale, "expected a JSON object with \"cmd\"",
                            "ожидался JSON-объект с полем \"cmd\""));
    } else if (!(r.handler = request_find(cmd))) {
        char msg[128];
        snprintf(msg, sizeof msg,
                 DLV__TR(ctx->locale, "unknown command \"%.40s\"", "неизвестная команда \"%.40s\""),
                 cmd);
        reply_error(&r, DLV_EINVAL, msg);
    } else {
        run(&r);
    }
    tag_replies(ctx, before, json);
    cJSON_Delete(json);
}
