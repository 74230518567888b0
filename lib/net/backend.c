/* The backend core: the registry (sqlite3_vfs_find) and the wrappers every caller goes through,
 * which own the allocation and the close accounting so that backends only fill their table. */
#include "net/backend.h"

#include <string.h>

#define REGISTRY_MAX 8

static const dlv__backend_methods *registry[REGISTRY_MAX] = {&dlv__backend_native,
                                                             &dlv__backend_iiko};
static const dlv__backend_methods *default_backend = &dlv__backend_native;

const dlv__backend_methods *dlv__backend_find(const char *name)
{
    if (!name)
        return default_backend;
    for (size_t i = 0; i < REGISTRY_MAX; i++)
        if (registry[i] && strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

int dlv__backend_register(const dlv__backend_methods *m, bool make_default)
{
    if (!m || !m->name || m->version < 1 || m->priv_size < sizeof(dlv__backend))
        return DLV_EINVAL;
    size_t free_slot = REGISTRY_MAX;
    for (size_t i = 0; i < REGISTRY_MAX; i++) {
        if (registry[i] == m)
            free_slot = i; /* already there: just the default flag */
        else if (!registry[i] && free_slot == REGISTRY_MAX)
            free_slot = i;
    }
    if (free_slot == REGISTRY_MAX)
        return DLV_EBUSY;
    registry[free_slot] = m;
    if (make_default)
        default_backend = m;
    return DLV_OK;
}

void dlv__backend_unregister(const dlv__backend_methods *m)
{
    if (!m || m == &dlv__backend_native)
        return;
    for (size_t i = 0; i < REGISTRY_MAX; i++)
        if (registry[i] == m)
            registry[i] = NULL;
    if (default_backend == m)
        default_backend = &dlv__backend_native;
}

int dlv__backend_open(const dlv__backend_methods *m, const dlv__backend_options *opts,
                      dlv__backend **out, dlv_error *err)
{
    DLV__ASSERT(opts && out);
    *out = NULL;
    if (!m || m->version < 1 || m->priv_size < sizeof(dlv__backend) || !m->open || !m->close)
        return dlv__error_set(err, DLV_EINVAL, "backend %s: incomplete operations table",
                              m && m->name ? m->name : "?");
    dlv__backend *b = dlv__calloc(1, m->priv_size);
    if (!b)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    b->methods = m;
    b->loop = opts->loop;
    b->log = opts->log;
    *out = b;
    return m->open(b, opts, err);
}

static void close_done(dlv__backend *b)
{
    void (*closed)(void *) = b->closed;
    void *arg = b->closed_arg;
    dlv__free(b);
    if (closed)
        closed(arg);
}

void dlv__backend_close(dlv__backend *b, void (*closed)(void *arg), void *arg)
{
    if (!b) {
        if (closed)
            closed(arg);
        return;
    }
    DLV__ASSERT(b->methods && b->methods->close); /* checked by dlv__backend_open */
    b->closed = closed;
    b->closed_arg = arg;
    b->methods->close(b, close_done);
}

int dlv__backend_register_terminal(dlv__backend *b, dlv__backend_cb cb, void *arg)
{
    if (!b->methods->register_terminal)
        return DLV_ENOTSUP;
    return b->methods->register_terminal(b, cb, arg);
}

int dlv__backend_poll_orders(dlv__backend *b, int64_t since_revision, dlv__backend_cb cb, void *arg)
{
    if (!b->methods->poll_orders)
        return DLV_ENOTSUP;
    return b->methods->poll_orders(b, since_revision, cb, arg);
}

int dlv__backend_send_commands(dlv__backend *b, const char *const *commands, size_t count,
                               dlv__backend_cb cb, void *arg)
{
    if (!b->methods->send_commands)
        return DLV_ENOTSUP;
    return b->methods->send_commands(b, commands, count, cb, arg);
}

int dlv__backend_heartbeat(dlv__backend *b, long pending_commands, int64_t last_revision,
                           dlv__backend_cb cb, void *arg)
{
    if (!b->methods->heartbeat)
        return DLV_ENOTSUP;
    return b->methods->heartbeat(b, pending_commands, last_revision, cb, arg);
}

int dlv__backend_ctl(dlv__backend *b, int op, void *arg)
{
    if (!b->methods->ctl)
        return DLV_ENOTSUP;
    return b->methods->ctl(b, op, arg);
}

void dlv__backend_result_clear(dlv__backend_result *res)
{
    dlv__register_response_free(res->reg);
    dlv__orders_response_free(res->orders);
    dlv__commands_response_free(res->commands);
    res->reg = NULL;
    res->orders = NULL;
    res->commands = NULL;
}
