/* Orders taken at the terminal: a customer phoned the restaurant. */
#include "runtime/rt.h"

#include <string.h>

#include <stdio.h>
#include <stdlib.h>

#include "order/json.h"

/* The last delivery number issued, kept in the store's meta values. */
#define NUMBER_KEY "numbers.lastIssued"

static bool number_taken(int64_t number, void *arg)
{
    dlv_ctx *ctx = arg;
    size_t n;
    rt_order **list = dlv__rt_order_list_all(ctx, &n);
    bool taken = false;
    for (size_t i = 0; list && i < n && !taken; i++)
        taken = list[i]->view && list[i]->view->number == number;
    dlv__free(list);
    return taken;
}

/* Allocates the next delivery number and stores it before it is used. */
static int next_number(dlv_ctx *ctx, int64_t *out, dlv_error *err)
{
    dlv__number_state state = {0};
    char *last = NULL;
    int rc = dlv__store_meta_get(ctx->store, NUMBER_KEY, &last, err);
    state.last_issued = last ? strtoll(last, NULL, 10) : 0;
    dlv__free(last);
    if (rc != DLV_OK)
        return rc;
    dlv__number_policy policy = {.regular_first = ctx->regular_first,
                                 .regular_last = ctx->regular_last,
                                 .start = 1,
                                 .taken = number_taken,
                                 .arg = ctx};
    if (ctx->regular_first == 0 && ctx->regular_last == 0)
        policy.regular_last = -1; /* none declared */
    rc = dlv__number_next(&state, &policy, out, err);
    if (rc == DLV_OK) {
        char text[32];
        snprintf(text, sizeof text, "%lld", (long long)state.last_issued);
        rc = dlv__store_meta_set(ctx->store, NUMBER_KEY, text, err);
    }
    return rc;
}

void dlv__rt_create_order(dlv_ctx *ctx, const cJSON *json, const char *cmd, dlv_reply_cb cb,
                          void *arg)
{
    rt_staged *s = dlv__rt_staged_new(ctx, cmd, cb, arg);
    if (!s)
        return;
    dlv_error err = {0};
    if (!ctx->settings) {
        dlv__rt_staged_error(s, DLV_ERULE,
                             "the delivery settings have not arrived from the "
                             "call-center yet");
        return;
    }
    if (!cJSON_IsObject(json)) {
        dlv__rt_staged_error(s, DLV_EINVAL, "order must be an ORDER object");
        return;
    }
    dlv__jpath path;
    dlv__jpath_init(&path, "order");
    dlv__order *o = NULL;
    int rc = dlv__order_from_cjson(json, DLV__ORDER_DRAFT, &path, &o, &err);
    if (rc != DLV_OK) {
        dlv__rt_staged_error(s, rc == DLV_EJSON ? DLV_EINVAL : rc, err.message);
        return;
    }
    char id[37];
    dlv__time now = dlv__rt_now(ctx);
    rc = dlv__uuid_v4(id);
    if (rc == DLV_OK && !o->id && !(o->id = dlv__strdup(id)))
        rc = DLV_ENOMEM;
    if (rc == DLV_OK && o->customer && !o->customer->id) {
        rc = dlv__uuid_v4(id);
        if (rc == DLV_OK && !(o->customer->id = dlv__strdup(id)))
            rc = DLV_ENOMEM;
    }
    if (rc == DLV_OK && o->address && !o->address->city && ctx->settings->default_city_id) {
        for (size_t i = 0; i < ctx->settings->city_count; i++)
            if (strcmp(ctx->settings->cities[i].id, ctx->settings->default_city_id) == 0)
                o->address->city = dlv__strdup(ctx->settings->cities[i].name);
    }
    if (rc == DLV_OK && dlv__rt_order_find(ctx, o->id))
        rc = dlv__error_set(&err, DLV_EEXIST, "an order %s already exists", o->id);
    if (rc == DLV_OK)
        rc = dlv__order_check_settings(o, ctx->settings, &err);
    if (rc == DLV_OK) {
        o->when_created = now;
        o->when_confirmed = now;
        /* Taken by the restaurant itself: confirmed at once, ready for cooking if due. */
        dlv__time due = dlv__cooking_due_at(o, ctx->settings);
        o->status = due != DLV__TIME_NONE && due <= now ? DLV_STATUS_READY_FOR_COOKING
                                                        : DLV_STATUS_WAIT_COOKING;
        if (!o->operator_name)
            o->operator_name = dlv__strdup(dlv__rt_actor_name(ctx));
        rc = dlv__order_validate(o, 0, &err);
    }
    if (rc == DLV_OK)
        rc = next_number(ctx, &o->number, &err);
    cJSON *command = NULL;
    if (rc == DLV_OK) {
        char at[21];
        cJSON *order_json = dlv__order_to_cjson(o);
        command = cJSON_CreateObject();
        cJSON *actor = dlv__rt_actor_json(ctx);
        bool ok = order_json && command && actor && dlv__time_format(now, at) &&
                  dlv__uuid_v4(id) == DLV_OK && dlv__jput_string(command, "id", id) &&
                  dlv__jput_string(command, "type", "CreateOrder") &&
                  dlv__jattach(command, "order", order_json) && dlv__jput_string(command, "at", at);
        order_json = NULL;
        if (ok) {
            ok = dlv__jattach(command, "actor", actor);
            actor = NULL;
        }
        cJSON_Delete(actor);
        if (!ok) {
            cJSON_Delete(command);
            command = NULL;
            rc = dlv__error_set(&err, DLV_ENOMEM, "out of memory");
        }
    }
    rt_order *entry = NULL;
    if (rc == DLV_OK && !(entry = dlv__rt_order_add(ctx, o->id))) {
        cJSON_Delete(command);
        rc = dlv__error_set(&err, DLV_ENOMEM, "out of memory");
    }
    if (rc == DLV_OK)
        rc = dlv__rt_batch_add(ctx, o->id, command, &err);
    if (rc != DLV_OK) {
        if (entry)
            dlv__rt_order_remove(ctx, o->id);
        dlv__order_free(o);
        dlv__rt_staged_error(s, rc, err.message[0] ? err.message : dlv_strerror(rc));
        return;
    }
    entry->view = NULL;
    s->order = entry;
    s->new_view = o;
    s->from = o->status;
    s->commands = 1;
    s->created = true;
    s->trigger = DLV__TRIGGER_ARRIVED;
    s->trigger_set = true;
    cJSON *extra = cJSON_CreateObject();
    if (extra) {
        dlv__jput_string(extra, "orderId", o->id);
        cJSON_AddNumberToObject(extra, "number", (double)o->number);
    }
    s->reply = dlv__reply_ok(cmd, extra);
    dlv__rt_staged_event(s, dlv__ev_order(ctx, o));
}
