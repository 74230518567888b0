#define _GNU_SOURCE
#include "fakebackend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fake {
    dlv__backend base;
    fake_call *head;
} fake;

static fake *current; /* the backend the runtime has open (one at a time) */
static fake_stats stats;

static int add(fake *f, fake_call *c)
{
    fake_call **p = &f->head;
    while (*p)
        p = &(*p)->next;
    *p = c;
    stats.calls[c->op]++;
    return DLV_OK;
}

static fake_call *new_call(fake_op op, dlv__backend_cb cb, void *arg)
{
    fake_call *c = calloc(1, sizeof *c);
    if (c) {
        c->op = op;
        c->cb = cb;
        c->arg = arg;
    }
    return c;
}

static void unlink_call(fake_call *c)
{
    if (!current)
        return;
    for (fake_call **p = &current->head; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            return;
        }
    }
}

static void free_call(fake_call *c)
{
    for (size_t i = 0; i < c->command_count; i++)
        free(c->commands[i]);
    free(c->commands);
    free(c);
}

static void finish(fake_call *c, dlv__backend_result *res)
{
    unlink_call(c);
    c->cb(c->arg, res);
    dlv__backend_result_clear(res);
    free_call(c);
}

static int fake_open(dlv__backend *b, const dlv__backend_options *opts, dlv_error *err)
{
    (void)opts;
    (void)err;
    current = (fake *)b;
    stats.opens++;
    return DLV_OK;
}

static void fake_close(dlv__backend *b, void (*done)(dlv__backend *b))
{
    fake *f = (fake *)b;
    while (f->head) {
        dlv__backend_result res = {.err = DLV_ESTOPPED, .retry_after_s = -1};
        snprintf(res.message, sizeof res.message, "closed");
        finish(f->head, &res);
    }
    if (current == f)
        current = NULL;
    stats.closes++;
    done(b);
}

static int fake_register(dlv__backend *b, dlv__backend_cb cb, void *arg)
{
    fake_call *c = new_call(FAKE_REGISTER, cb, arg);
    return c ? add((fake *)b, c) : DLV_ENOMEM;
}

static int fake_poll(dlv__backend *b, int64_t since, dlv__backend_cb cb, void *arg)
{
    fake_call *c = new_call(FAKE_POLL, cb, arg);
    if (!c)
        return DLV_ENOMEM;
    c->since_revision = since;
    return add((fake *)b, c);
}

static int fake_send(dlv__backend *b, const char *const *commands, size_t count, dlv__backend_cb cb,
                     void *arg)
{
    fake_call *c = new_call(FAKE_SEND, cb, arg);
    if (!c)
        return DLV_ENOMEM;
    c->commands = calloc(count, sizeof *c->commands);
    for (size_t i = 0; c->commands && i < count; i++)
        c->commands[i] = strdup(commands[i]);
    c->command_count = count;
    return add((fake *)b, c);
}

static int fake_heartbeat(dlv__backend *b, long pending, int64_t revision, dlv__backend_cb cb,
                          void *arg)
{
    (void)revision;
    fake_call *c = new_call(FAKE_HEARTBEAT, cb, arg);
    if (!c)
        return DLV_ENOMEM;
    c->pending_commands = pending;
    return add((fake *)b, c);
}

const dlv__backend_methods fake_backend_methods = {
    DLV__BACKEND_METHODS_VERSION,
    "fake",         /* name */
    sizeof(fake),   /* priv_size */
    50,             /* max_commands */
    fake_open,      /* open */
    fake_close,     /* close */
    fake_register,  /* register_terminal */
    fake_poll,      /* poll_orders */
    fake_send,      /* send_commands */
    fake_heartbeat, /* heartbeat */
    NULL,           /* ctl */
};

void fake_backend_install(void)
{
    memset(&stats, 0, sizeof stats);
    dlv__backend_register(&fake_backend_methods, true);
}

void fake_backend_uninstall(void)
{
    dlv__backend_unregister(&fake_backend_methods);
}

const fake_stats *fake_backend_stats(void)
{
    return &stats;
}

fake_call *fake_pending(fake_op op)
{
    for (fake_call *c = current ? current->head : NULL; c; c = c->next)
        if (c->op == op)
            return c;
    return NULL;
}

fake_call *fake_wait(void *loop, fake_op op, int ms)
{
    fake_call *c = NULL;
    for (int waited = 0; !(c = fake_pending(op)) && waited < ms; waited++) {
        uv_run(loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    return c;
}

void fake_complete_ok(fake_call *c, const char *json)
{
    dlv__backend_result res = {.err = DLV_OK, .retry_after_s = -1, .total_ms = 5};
    dlv_error err = {0};
    size_t len = json ? strlen(json) : 0;
    int rc = DLV_OK;
    switch (c->op) {
    case FAKE_REGISTER:
        rc = dlv__register_response_decode(json, len, &res.reg, &err);
        break;
    case FAKE_POLL:
        rc = dlv__orders_response_decode_lenient(json, len, &res.orders, &err);
        break;
    case FAKE_SEND:
        rc = dlv__commands_response_decode(json, len, &res.commands, &err);
        break;
    case FAKE_HEARTBEAT:
        break;
    }
    if (rc != DLV_OK) {
        fprintf(stderr, "fakebackend: the test's answer does not decode: %s\n", err.message);
        abort();
    }
    finish(c, &res);
}

void fake_complete_error(fake_call *c, int err, bool retryable, long retry_after_s,
                         const char *message)
{
    dlv__backend_result res = {.err = err, .retryable = retryable, .retry_after_s = retry_after_s};
    snprintf(res.message, sizeof res.message, "%s", message ? message : dlv_strerror(err));
    finish(c, &res);
}

const char *fake_command_id(const fake_call *c, size_t n)
{
    static char id[64];
    id[0] = '\0';
    const char *p = n < c->command_count ? strstr(c->commands[n], "\"id\":\"") : NULL;
    if (p)
        snprintf(id, sizeof id, "%.36s", p + 6);
    return id;
}
