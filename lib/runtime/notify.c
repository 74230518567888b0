/* Customer notifications: the rules core decides which event a change calls for, the ledger keeps
 * each at most once, the template renders the text, and the host (event) and the notifier get it.
 */
#include "runtime/rt.h"

#include <stdio.h>
#include <string.h>

#include "common/xml.h"
#include "order/json.h"
#include "store/store.h"

/* The part: a template per event from the config folder (or none), the built-in texts in their
 * variants, and why a file was not used. */
struct rt_notify {
    dlv__template *custom[DLV__NOTIFY_COUNT]; /* notifications/<Event>.txt; NULL: built-in */
    dlv__template *builtin[DLV__NOTIFY_COUNT][DLV__NOTIFY_VARIANTS]; /* NULL: never sent */
    char *fallback[DLV__NOTIFY_COUNT]; /* "path:line:column: reason"; NULL: no fallback */
};

/* A template that cannot be read or compiled never stops the terminal: the event falls back to
 * the built-in text and the host hears why at start (dlv__rt_notify_warn). Only running out of
 * memory fails the load. */
static int load_custom(dlv_ctx *ctx, struct rt_notify *n, int e, dlv_error *err)
{
    char *path = dlv__asprintf("%s/notifications/%s.txt", ctx->config_dir,
                               dlv__notify_event_name((dlv__notify_event)e));
    char *text = NULL;
    size_t len = 0;
    dlv_error ferr = {0};
    int rc = path ? dlv__read_file(path, 64 * 1024, &text, &len, &ferr) : DLV_ENOMEM;
    if (rc == DLV_OK)
        rc = dlv__template_compile_named(path, text, len, &n->custom[e], &ferr);
    else if (rc != DLV_ENOMEM && rc != DLV_ENOTFOUND)
        dlv__error_set(&ferr, rc, "%s: %s", path, ferr.message);
    if (rc != DLV_OK && rc != DLV_ENOMEM && rc != DLV_ENOTFOUND) {
        n->fallback[e] = dlv__strdup(ferr.message);
        rc = n->fallback[e] ? DLV_OK : DLV_ENOMEM;
        DLV__LOGW(&ctx->log, "%s; the built-in text is used", ferr.message);
    }
    dlv__free(text);
    dlv__free(path);
    if (rc == DLV_ENOMEM)
        return dlv__error_set(err, rc, "out of memory loading message templates");
    return DLV_OK;
}

int dlv__rt_notify_load(dlv_ctx *ctx, dlv_error *err)
{
    struct rt_notify *n = dlv__calloc(1, sizeof *n);
    if (!n)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory loading message templates");
    ctx->notify = n;
    for (int e = 0; e < DLV__NOTIFY_COUNT; e++) {
        int rc = load_custom(ctx, n, e, err);
        for (unsigned v = 0; rc == DLV_OK && v < DLV__NOTIFY_VARIANTS; v++) {
            const char *text = dlv__notify_builtin_text((dlv__notify_event)e, v);
            dlv_error terr = {0};
            if (text)
                rc = dlv__template_compile(text, strlen(text), &n->builtin[e][v], &terr);
            DLV__ASSERT(rc == DLV_OK || rc == DLV_ENOMEM); /* test_order_notify compiles them */
            if (rc != DLV_OK)
                dlv__error_set(err, rc, "out of memory loading message templates");
        }
        if (rc != DLV_OK) {
            dlv__rt_notify_free(ctx);
            return rc;
        }
    }
    return DLV_OK;
}

void dlv__rt_notify_free(dlv_ctx *ctx)
{
    struct rt_notify *n = ctx->notify;
    if (!n)
        return;
    for (int e = 0; e < DLV__NOTIFY_COUNT; e++) {
        dlv__template_free(n->custom[e]);
        for (unsigned v = 0; v < DLV__NOTIFY_VARIANTS; v++)
            dlv__template_free(n->builtin[e][v]);
        dlv__free(n->fallback[e]);
    }
    dlv__free(n);
    ctx->notify = NULL;
}

void dlv__rt_notify_warn(dlv_ctx *ctx)
{
    for (int e = 0; ctx->notify && e < DLV__NOTIFY_COUNT; e++) {
        if (!ctx->notify->fallback[e])
            continue;
        char msg[DLV_ERROR_MESSAGE_MAX + 64];
        snprintf(msg, sizeof msg,
                 DLV__TR(ctx->locale, "%s; the built-in %s text is used",
                         "%s; используется встроенный текст %s"),
                 ctx->notify->fallback[e], dlv__notify_event_name((dlv__notify_event)e));
        dlv__rt_emit(ctx, dlv__ev_error("TemplateFallback", msg));
    }
}

/* What the ledger already holds for the order, as the rules core's mask, and how many SumChanged
 * messages it records (each has its own mark: "SumChanged#1", "#2", ...). */
static dlv__notify_mask sent_mask(dlv_ctx *ctx, const char *order_id, unsigned *sum_changes)
{
    char **events = NULL;
    size_t n = 0;
    dlv__notify_mask mask = 0;
    const char *sum_changed = dlv__notify_event_name(DLV__NOTIFY_SUM_CHANGED);
    *sum_changes = 0;
    if (dlv__store_notify_sent(ctx->store, order_id, &events, &n, NULL) == DLV_OK) {
        for (size_t i = 0; i < n; i++) {
            if (strncmp(events[i], sum_changed, strlen(sum_changed)) == 0)
                ++*sum_changes;
            for (int e = 0; e < DLV__NOTIFY_COUNT; e++)
                if (strcmp(events[i], dlv__notify_event_name((dlv__notify_event)e)) == 0)
                    mask |= DLV__NOTIFY_BIT(e);
        }
    }
    dlv__store_strings_free(events, n);
    return mask;
}

/* The text of event `e` for the order: the config folder's template, else the built-in text
 * that fits (prepaid, pickup); NULL when there is none to send. *out is dlv__malloc'd. */
static char *message_text(dlv_ctx *ctx, int e, const dlv__order *v)
{
    struct rt_notify *n = ctx->notify;
    dlv__render_options ro = {.utc_offset_at = dlv__rt_utc_offset_at,
                              .utc_offset_arg = ctx,
                              .cafe_address = ctx->cafe_address};
    char *text = NULL;
    if (n->custom[e] && dlv__template_render(n->custom[e], v, &ro, &text, NULL) == DLV_OK)
        return text;
    const dlv__template *b = n->builtin[e][dlv__notify_variant(v)];
    if (b && dlv__template_render(b, v, &ro, &text, NULL) == DLV_OK)
        return text;
    return NULL;
}

void dlv__rt_notify(dlv_ctx *ctx, rt_order *o, const dlv__notify_before *before)
{
    const dlv__order *v = dlv__rt_view(ctx, o);
    if (!v || !v->phone || !ctx->notify)
        return; /* an anonymous order has nobody to tell */
    unsigned sum_changes = 0;
    dlv__notify_mask events = dlv__notify_decide(v, before, sent_mask(ctx, o->id, &sum_changes));
    /* The call-center's settings say per event: SMS, push, both or none (default SMS only). */
    /* Per event, the channels the call-center's settings name (default: SMS only). */
    dlv__notify_mask sms = ~(dlv__notify_mask)0, push = 0;
    if (ctx->settings) {
        sms = push = 0;
        for (int e = 0; e < DLV__NOTIFY_COUNT; e++) {
            sms |= ctx->settings->notifications[e].sms ? DLV__NOTIFY_BIT(e) : 0;
            push |= ctx->settings->notifications[e].push ? DLV__NOTIFY_BIT(e) : 0;
        }
    }
    for (int e = 0; e < DLV__NOTIFY_COUNT; e++) {
        dlv__notify_mask bit = DLV__NOTIFY_BIT(e);
        if (!(events & bit) || !((sms | push) & bit))
            continue; /* nothing sent, nothing marked */
        char *text = message_text(ctx, e, v);
        if (!text)
            continue;
        const char *name = dlv__notify_event_name((dlv__notify_event)e);
        char key[64];
        /* One mark per event and order, whatever the channels; SumChanged one per change. */
        if (e == DLV__NOTIFY_SUM_CHANGED)
            snprintf(key, sizeof key, "%s#%u", name, sum_changes + 1);
        else
            snprintf(key, sizeof key, "%s", name);
        bool newly = false;
        dlv_error err = {0};
        if (dlv__store_notify_mark(ctx->store, o->id, key, &newly, &err) != DLV_OK) {
            DLV__LOGE(&ctx->log, "notification %s for order %lld not recorded: %s", name,
                      (long long)v->number, err.message);
            newly = false;
        }
        static const char *const channels[] = {"sms", "push"};
        for (int c = 0; newly && c < 2; c++) {
            if (!((c ? push : sms) & bit))
                continue;
            dlv__rt_emit(ctx, dlv__ev_notification(o->id, name, channels[c], v->phone, text));
            if (ctx->on_notify &&
                ctx->on_notify(ctx->notify_arg, o->id, name, channels[c], v->phone, text) != 0)
                DLV__LOGW(&ctx->log, "notifier refused the %s %s message for order %lld", name,
                          channels[c], (long long)v->number);
        }
        dlv__free(text);
    }
}
