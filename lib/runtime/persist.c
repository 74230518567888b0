/* The runtime's persistence, mapped onto lib/store. */
#include "runtime/persist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

struct dlv__persist {
    dlv__store *st;
};

int dlv__persist_open(const char *data_dir, dlv__persist **out, dlv_error *err)
{
    *out = NULL;
    dlv__persist *p = dlv__calloc(1, sizeof *p);
    if (!p)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    int rc = dlv__store_open(data_dir, NULL, &p->st, err);
    if (rc != DLV_OK) {
        dlv__free(p);
        return rc;
    }
    *out = p;
    return DLV_OK;
}

void dlv__persist_close(dlv__persist *p)
{
    if (!p)
        return;
    dlv__store_close(p->st);
    dlv__free(p);
}

int dlv__persist_begin(dlv__persist *p, dlv_error *err)
{
    return dlv__store_begin(p->st, err);
}

int dlv__persist_commit(dlv__persist *p, dlv_error *err)
{
    return dlv__store_commit(p->st, err);
}

void dlv__persist_rollback(dlv__persist *p)
{
    dlv__store_rollback(p->st);
}

int dlv__persist_add_commands(dlv__persist *p, const dlv__persist_cmd *cmds, size_t count,
                              dlv_error *err)
{
    dlv__store_cmd *rows = dlv__calloc(count ? count : 1, sizeof *rows);
    if (!rows)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    for (size_t i = 0; i < count; i++)
        rows[i] = (dlv__store_cmd){cmds[i].id, cmds[i].order_id, cmds[i].type, cmds[i].body};
    int rc = dlv__store_outbox_add(p->st, rows, count, err);
    dlv__free(rows);
    return rc;
}

int dlv__persist_peek_commands(dlv__persist *p, size_t max, dlv__persist_row **out, size_t *count,
                               dlv_error *err)
{
    dlv__store_cmd_row *rows = NULL;
    size_t n = 0;
    *out = NULL;
    *count = 0;
    int rc = dlv__store_outbox_peek(p->st, max, false, &rows, &n, err);
    if (rc != DLV_OK || n == 0)
        return rc;
    dlv__persist_row *res = dlv__calloc(n, sizeof *res);
    if (!res) {
        dlv__store_cmd_rows_free(rows, n);
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        res[i].id = rows[i].id;
        res[i].order_id = rows[i].order_id;
        res[i].body = rows[i].body;
        res[i].attempts = rows[i].attempts;
        rows[i].id = rows[i].order_id = rows[i].body = NULL;
    }
    dlv__store_cmd_rows_free(rows, n);
    *out = res;
    *count = n;
    return DLV_OK;
}

void dlv__persist_rows_free(dlv__persist_row *rows, size_t count)
{
    for (size_t i = 0; rows && i < count; i++) {
        dlv__free(rows[i].id);
        dlv__free(rows[i].order_id);
        dlv__free(rows[i].body);
    }
    dlv__free(rows);
}

int dlv__persist_complete_command(dlv__persist *p, const char *id, const char *outcome,
                                  dlv_error *err)
{
    dlv__store_outcome o = {.id = id, .outcome = outcome};
    return dlv__store_outbox_complete(p->st, &o, 1, NULL, err);
}

int dlv__persist_command_attempts(dlv__persist *p, const dlv__persist_row *rows, size_t count,
                                  dlv_error *err)
{
    const char **ids = dlv__calloc(count ? count : 1, sizeof *ids);
    if (!ids)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    for (size_t i = 0; i < count; i++)
        ids[i] = rows[i].id;
    /* The runtime times its retries itself; the store keeps the count for diagnostics. */
    int rc = dlv__store_outbox_mark_attempt(p->st, ids, count, dlv__store_now(p->st), err);
    dlv__free(ids);
    return rc;
}

int dlv__persist_pending(dlv__persist *p, long *count, int64_t *oldest, dlv_error *err)
{
    int64_t oldest_ms = 0;
    long n = 0;
    int rc = dlv__store_outbox_stats(p->st, &n, &oldest_ms, err);
    if (count)
        *count = n;
    if (oldest)
        *oldest = oldest_ms / 1000;
    return rc;
}

int dlv__persist_pending_for_order(dlv__persist *p, const char *order_id, long *count,
                                   dlv_error *err)
{
    dlv__store_cmd_row *rows = NULL;
    size_t n = 0;
    int rc = dlv__store_outbox_for_order(p->st, order_id, &rows, &n, err);
    long changes = 0;
    for (size_t i = 0; rc == DLV_OK && i < n; i++)
        changes += !rows[i].type || strcmp(rows[i].type, "DocumentPrinted") != 0;
    dlv__store_cmd_rows_free(rows, n);
    *count = changes;
    return rc;
}

int dlv__persist_put_orders(dlv__persist *p, const dlv__persist_order *orders, size_t count,
                            const char *const *removed, size_t removed_count, int64_t revision,
                            dlv_error *err)
{
    dlv__store_order *rows = dlv__calloc(count ? count : 1, sizeof *rows);
    if (!rows)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    for (size_t i = 0; i < count; i++)
        rows[i] = (dlv__store_order){orders[i].id, orders[i].revision, orders[i].status,
                                     orders[i].number, orders[i].json};
    int rc = dlv__store_orders_sync(p->st, rows, count, removed, removed_count, revision, err);
    dlv__free(rows);
    return rc;
}

typedef struct load_ctx {
    void (*each)(void *arg, const char *id, const char *json);
    void *arg;
    char **ids, **jsons;
    size_t count, cap;
} load_ctx;

/* The store's iteration must not call back into the store: collect first, then hand out. */
static int collect(void *arg, const dlv__store_order_row *row)
{
    load_ctx *l = arg;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **ids = dlv__realloc(l->ids, cap * sizeof *ids);
        if (!ids)
            return DLV_ENOMEM;
        l->ids = ids;
        char **jsons = dlv__realloc(l->jsons, cap * sizeof *jsons);
        if (!jsons)
            return DLV_ENOMEM;
        l->jsons = jsons;
        l->cap = cap;
    }
    l->ids[l->count] = dlv__strdup(row->id);
    l->jsons[l->count] = dlv__strdup(row->json);
    l->count++;
    /* A row skipped for lack of memory would be an order silently missing. */
    return l->ids[l->count - 1] && l->jsons[l->count - 1] ? DLV_OK : DLV_ENOMEM;
}

int dlv__persist_load_orders(dlv__persist *p,
                             void (*each)(void *arg, const char *id, const char *json), void *arg,
                             dlv_error *err)
{
    load_ctx l = {each, arg, NULL, NULL, 0, 0};
    int rc = dlv__store_orders_each(p->st, collect, &l, err);
    for (size_t i = 0; i < l.count; i++) {
        if (rc == DLV_OK && l.ids[i] && l.jsons[i])
            each(arg, l.ids[i], l.jsons[i]);
        dlv__free(l.ids[i]);
        dlv__free(l.jsons[i]);
    }
    dlv__free(l.ids);
    dlv__free(l.jsons);
    return rc;
}

int64_t dlv__persist_revision(dlv__persist *p)
{
    int64_t r = 0;
    dlv__store_revision(p->st, &r, NULL);
    return r;
}

int dlv__persist_meta_get(dlv__persist *p, const char *key, char **value, dlv_error *err)
{
    return dlv__store_meta_get(p->st, key, value, err);
}

int dlv__persist_meta_set(dlv__persist *p, const char *key, const char *value, dlv_error *err)
{
    return dlv__store_meta_set(p->st, key, value, err);
}

int dlv__persist_notify_mark(dlv__persist *p, const char *order_id, const char *event, bool *newly,
                             dlv_error *err)
{
    return dlv__store_notify_mark(p->st, order_id, event, newly, err);
}

#define NUMBER_KEY "numbers.lastIssued"

int dlv__persist_number_last(dlv__persist *p, int64_t *last, dlv_error *err)
{
    char *v = NULL;
    int rc = dlv__store_meta_get(p->st, NUMBER_KEY, &v, err);
    *last = v ? strtoll(v, NULL, 10) : 0;
    dlv__free(v);
    return rc;
}

int dlv__persist_number_save(dlv__persist *p, int64_t last, dlv_error *err)
{
    char v[32];
    snprintf(v, sizeof v, "%lld", (long long)last);
    return dlv__store_meta_set(p->st, NUMBER_KEY, v, err);
}

dlv__store *dlv__persist_store(dlv__persist *p)
{
    return p->st;
}
