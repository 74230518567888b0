/* Orders taken at the terminal: a customer phoned the restaurant. */
#include "runtime/rt.h"

#include <string.h>

#include <stdio.h>
#include <stdlib.h>

#include "order/json.h"

#define RESERVE_TYPE "ReserveNumbers"
/* Numbers asked for at a time (docs/protocol.md, "Numbers for orders made at the terminal"). */
#define RESERVE_COUNT 1000

static bool number_taken(int64_t number, void *arg)
{
    dlv_ctx *ctx = arg;
    size_t n;
    rt_order **list = dlv__rt_order_list_all(ctx, &n);
    bool taken = false;
    for (size_t i = 0; list && i < n && !taken; i++)
        taken = list[i]->stored && list[i]->key.number == number;
    dlv__free(list);
    return taken;
}

/* Allocates the next delivery number (from the call-center's block when the terminal holds one,
 * else by the 1.0 rule) and stores the state before the number is used. */
static int next_number(dlv_ctx *ctx, int64_t *out, dlv_error *err)
{
    dlv__number_state state;
    int rc = dlv__store_number_state_load(ctx->store, &state, err);
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
    if (rc == DLV_ERANGE && state.has_block)
        return dlv__error_set(err, DLV_ERANGE,
                              "the delivery numbers reserved for this terminal are used up and "
                              "no new block has arrived from the call-center yet (%s)",
                              err ? err->message : "");
    if (rc == DLV_OK)
        rc = dlv__store_number_state_save(ctx->store, &state, err);
    return rc;
}

int dlv__rt_numbers_take_block(dlv_ctx *ctx, dlv__number_block block, const char *from)
{
    dlv__number_state state;
    dlv_error err = {0};
    int rc = dlv__store_number_state_load(ctx->store, &state, &err);
    if (rc != DLV_OK) {
        DLV__LOGE(&ctx->log, "cannot read the number state: %s", err.message);
        return rc;
    }
    /* The register answer names the current block again on every registration. */
    bool held =
        (state.has_block && state.block.first == block.first && state.block.last == block.last) ||
        (state.has_next && state.next.first == block.first && state.next.last == block.last);
    if (held)
        return DLV_OK;
    rc = dlv__number_add_block(&state, block, &err);
    if (rc == DLV_OK)
        rc = dlv__store_number_state_save(ctx->store, &state, &err);
    if (rc != DLV_OK) {
        DLV__LOGW(&ctx->log, "number block %lld..%lld from %s not taken: %s",
                  (long long)block.first, (long long)block.last, from, err.message);
        return rc;
    }
    DLV__LOGI(&ctx->log, "number block %lld..%lld from %s", (long long)block.first,
              (long long)block.last, from);
    return DLV_OK;
}

void dlv__rt_numbers_forget_blocks(dlv_ctx *ctx)
{
    dlv__number_state state;
    dlv_error err = {0};
    if (dlv__store_number_state_load(ctx->store, &state, &err) != DLV_OK ||
        (!state.has_block && !state.has_next))
        return;
    /* A 1.0 server: numbers by the 1.0 rule again, still above everything issued. */
    state.has_block = state.has_next = false;
    if (dlv__store_number_state_save(ctx->store, &state, &err) != DLV_OK)
        DLV__LOGE(&ctx->log, "cannot store the number state: %s", err.message);
    else
        DLV__LOGI(&ctx->log, "the call-center speaks protocol 1.0: number blocks dropped");
}

void dlv__rt_numbers_reserve_if_needed(dlv_ctx *ctx)
{
    dlv__number_state state;
    dlv_error err = {0};
    long pending = 0;
    if (dlv__store_number_state_load(ctx->store, &state, &err) != DLV_OK ||
        !dlv__number_needs_block(&state))
        return;
    /* One outstanding at a time: a ReserveNumbers still in the outbox will bring the block. */
    if (dlv__store_outbox_count_type(ctx->store, RESERVE_TYPE, &pending, &err) != DLV_OK ||
        pending > 0)
        return;
    char id[37], at[21];
    char *body = NULL;
    if (dlv__uuid_v4(id) == DLV_OK && dlv__time_format(dlv__rt_now(ctx), at))
        body = dlv__asprintf("{\"id\":\"%s\",\"type\":\"" RESERVE_TYPE "\",\"count\":%d,"
                             "\"at\":\"%s\"}",
                             id, RESERVE_COUNT, at);
    dlv__store_cmd cmd = {id, NULL, RESERVE_TYPE, body};
    if (!body || dlv__store_outbox_add(ctx->store, &cmd, 1, &err) != DLV_OK)
        DLV__LOGE(&ctx->log, "cannot queue ReserveNumbers: %s",
                  body ? err.message : "out of memory");
    else
        DLV__LOGI(&ctx->log, "asking the call-center for a new number block");
    dlv__free(body);
    dlv__sync_kick_sender(ctx);
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
    dlv__rt_numbers_reserve_if_needed(ctx);
}
