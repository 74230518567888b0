/* The call-center's answers: orders (sync), commands and register. */
#include "order/model.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* No count of its own: one answer is bounded by its size (DLV__RESPONSE_JSON_MAX and the HTTP
 * client's response cap), and a 1.1 server pages a large snapshot (docs/protocol.md). */
#define MAX_ORDERS SIZE_MAX
/* The protocol allows 500 commands per request, so never more results. */
#define MAX_RESULTS 500

static int parse_root(const char *json, size_t len, unsigned opts, cJSON **root, dlv_error *err)
{
    DLV__TRY(dlv__json_parse_opts(json, len, DLV__RESPONSE_JSON_MAX, opts, root, err));
    if (!cJSON_IsObject(*root)) {
        cJSON_Delete(*root);
        *root = NULL;
        return dlv__error_set(err, DLV_EJSON, "not an object");
    }
    return DLV_OK;
}

void dlv__orders_response_free(dlv__orders_response *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->orders && i < r->order_count; i++)
        dlv__order_free(r->orders[i]);
    dlv__free(r->orders);
    for (size_t i = 0; r->removed_ids && i < r->removed_count; i++)
        dlv__free(r->removed_ids[i]);
    dlv__free(r->removed_ids);
    dlv__settings_free(r->settings);
    dlv__free(r->invalid);
    dlv__free(r->warnings);
    dlv__free(r);
}

/* Lenient mode keeps going past an invalid order: one bad order from the server must not stop
 * every other order from reaching the terminal. */
static int note_invalid(dlv__orders_response *r, const cJSON *node, const dlv_error *why)
{
    dlv_error *grown = dlv__realloc(r->invalid, (r->invalid_count + 1) * sizeof *grown);
    if (!grown)
        return DLV_ENOMEM;
    r->invalid = grown;
    const cJSON *id = cJSON_IsObject(node) ? cJSON_GetObjectItemCaseSensitive(node, "id") : NULL;
    const cJSON *rev =
        cJSON_IsObject(node) ? cJSON_GetObjectItemCaseSensitive(node, "revision") : NULL;
    dlv_error *e = &r->invalid[r->invalid_count++];
    e->code = why->code;
    /* The revision (when readable) lets the runtime report each broken version once. */
    char at[40] = "";
    if (cJSON_IsNumber(rev))
        snprintf(at, sizeof at, " (revision %.0f)", rev->valuedouble);
    snprintf(e->message, sizeof e->message, "order %.40s%s: %.400s",
             cJSON_IsString(id) ? id->valuestring : "(no id)", at, why->message);
    return DLV_OK;
}

static int note_duplicate(dlv__orders_response *r, size_t gone, size_t kept)
{
    dlv_error *grown = dlv__realloc(r->invalid, (r->invalid_count + 1) * sizeof *grown);
    if (!grown)
        return DLV_ENOMEM;
    r->invalid = grown;
    dlv_error *e = &r->invalid[r->invalid_count++];
    e->code = DLV_EJSON;
    snprintf(e->message, sizeof e->message,
             "order %.40s: orders[%zu]: duplicate of orders[%zu] (revision %lld; kept revision "
             "%lld)",
             r->orders[gone]->id, gone, kept, (long long)r->orders[gone]->revision,
             (long long)r->orders[kept]->revision);
    dlv__order_free(r->orders[gone]);
    r->orders[gone] = NULL;
    return DLV_OK;
}

/* Keeps one order per id: the highest revision, the later one in the answer on a tie; notes the
 * others in r->invalid. Sorting indexes keeps it O(n log n) for a page of 5000. */
static int drop_duplicates(dlv__orders_response *r)
{
    size_t n = 0, *idx = r->order_count ? dlv__malloc(r->order_count * sizeof *idx) : NULL;
    if (r->order_count && !idx)
        return DLV_ENOMEM;
    for (size_t i = 0; i < r->order_count; i++)
        if (r->orders[i])
            idx[n++] = i;
    int rc = DLV_OK;
    if (n > 1) {
        /* A stable bottom-up merge sort by id (qsort has no argument pointer and is not stable;
         * the decoder may run on several threads, so no global for the comparison). */
        size_t *tmp = dlv__malloc(n * sizeof *tmp);
        if (!tmp) {
            dlv__free(idx);
            return DLV_ENOMEM;
        }
        for (size_t width = 1; width < n; width *= 2) {
            for (size_t lo = 0; lo < n; lo += 2 * width) {
                size_t mid = lo + width < n ? lo + width : n,
                       hi = lo + 2 * width < n ? lo + 2 * width : n;
                size_t a = lo, b = mid, k = lo;
                while (a < mid && b < hi)
                    tmp[k++] = strcasecmp(r->orders[idx[a]]->id, r->orders[idx[b]]->id) <= 0
                                   ? idx[a++]
                                   : idx[b++];
                while (a < mid)
                    tmp[k++] = idx[a++];
                while (b < hi)
                    tmp[k++] = idx[b++];
            }
            memcpy(idx, tmp, n * sizeof *idx);
        }
        dlv__free(tmp);
    }
    /* Stable: within one id, indexes are in answer order. */
    for (size_t g = 0; g < n && !rc;) {
        size_t end = g + 1;
        while (end < n && strcasecmp(r->orders[idx[g]]->id, r->orders[idx[end]]->id) == 0)
            end++;
        size_t best = idx[g];
        for (size_t k = g + 1; k < end; k++)
            if (r->orders[idx[k]]->revision >= r->orders[best]->revision)
                best = idx[k];
        for (size_t k = g; k < end && !rc; k++)
            if (idx[k] != best)
                rc = note_duplicate(r, idx[k], best);
        g = end;
    }
    dlv__free(idx);
    return rc;
}

static int decode_orders(const cJSON *root, dlv__jpath *p, dlv__orders_response *r, bool lenient,
                         dlv_error *err)
{
    const cJSON *arr, *node;
    size_t n, i = 0;
    dlv__order_warnings warnings = {0};
    DLV__TRY(dlv__jget_decimal(root, "revision", DLV__J_REQUIRED, 0, 0, INT64_MAX, p, &r->revision,
                               NULL, err));
    DLV__TRY(dlv__jget_bool(root, "more", DLV__J_NULLABLE, p, &r->more, err));
    DLV__TRY(dlv__jget_array(root, "orders", DLV__J_REQUIRED, MAX_ORDERS, p, &arr, &n, err));
    if (n && !(r->orders = dlv__calloc(n, sizeof *r->orders)))
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    r->order_count = n;
    size_t key_mark = dlv__jpath_key(p, "orders");
    for (const cJSON *c = arr ? arr->child : NULL; c; c = c->next, i++) {
        size_t mark = dlv__jpath_index(p, i);
        /* The tree was parsed for this answer alone: the orders take its strings. */
        int rc = dlv__order_from_cjson_warn(
            c, (lenient ? DLV__ORDER_LENIENT : 0) | DLV__ORDER_TAKE_STRINGS, p, &warnings,
            &r->orders[i], err);
        dlv__jpath_restore(p, mark);
        if (rc && rc != DLV_ENOMEM && lenient) {
            rc = note_invalid(r, c, err);
            if (rc)
                dlv__error_set(err, rc, "out of memory noting an invalid order");
        }
        if (rc) {
            dlv__jpath_restore(p, key_mark);
            dlv__free(warnings.items);
            return rc;
        }
    }
    dlv__jpath_restore(p, key_mark);
    r->warnings = warnings.items;
    r->warning_count = warnings.count;
    if (lenient && drop_duplicates(r))
        return dlv__error_set(err, DLV_ENOMEM, "out of memory noting a duplicate order");
    size_t kept = 0; /* invalid orders leave holes: close them */
    for (size_t k = 0; k < r->order_count; k++)
        if (r->orders[k])
            r->orders[kept++] = r->orders[k];
    r->order_count = kept;
    DLV__TRY(
        dlv__jget_array(root, "removedOrderIds", DLV__J_NULLABLE, MAX_ORDERS, p, &arr, &n, err));
    if (n && !(r->removed_ids = dlv__calloc(n, sizeof *r->removed_ids)))
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    r->removed_count = n;
    key_mark = dlv__jpath_key(p, "removedOrderIds");
    i = 0;
    for (const cJSON *c = arr ? arr->child : NULL; c; c = c->next, i++) {
        size_t mark = dlv__jpath_index(p, i);
        int rc = dlv__jnode_string(c, DLV__J_REQUIRED | DLV__J_UUID, p, &r->removed_ids[i], err);
        dlv__jpath_restore(p, mark);
        if (rc) {
            dlv__jpath_restore(p, key_mark);
            return rc;
        }
    }
    dlv__jpath_restore(p, key_mark);
    DLV__TRY(dlv__jfind(root, "settings", p, &node, err));
    if (node && !cJSON_IsNull(node)) {
        key_mark = dlv__jpath_key(p, "settings");
        int rc = dlv__settings_from_cjson(node, p, &r->settings, err);
        dlv__jpath_restore(p, key_mark);
        DLV__TRY(rc);
    }
    return DLV_OK;
}

static int orders_response_decode(const char *json, size_t len, bool lenient,
                                  dlv__orders_response **out, dlv_error *err)
{
    cJSON *root;
    dlv__jpath p;
    *out = NULL;
    DLV__TRY(parse_root(json, len, lenient ? DLV__JSON_NUL_ESCAPE_INVALID : 0, &root, err));
    dlv__orders_response *r = dlv__calloc(1, sizeof *r);
    int rc = r ? DLV_OK : dlv__error_set(err, DLV_ENOMEM, "out of memory");
    dlv__jpath_init(&p, NULL);
    if (!rc)
        rc = decode_orders(root, &p, r, lenient, err);
    cJSON_Delete(root);
    if (rc) {
        dlv__orders_response_free(r);
        return rc;
    }
    *out = r;
    return DLV_OK;
}

int dlv__orders_response_decode(const char *json, size_t len, dlv__orders_response **out,
                                dlv_error *err)
{
    return orders_response_decode(json, len, false, out, err);
}

int dlv__orders_response_decode_lenient(const char *json, size_t len, dlv__orders_response **out,
                                        dlv_error *err)
{
    return orders_response_decode(json, len, true, out, err);
}

void dlv__commands_response_free(dlv__commands_response *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->results && i < r->result_count; i++) {
        dlv__free(r->results[i].id);
        dlv__free(r->results[i].error);
        dlv__free(r->results[i].description);
    }
    dlv__free(r->results);
    dlv__free(r);
}

/* "numberBlock": {"first","last"} (protocol 1.1), optional. */
static int decode_number_block(const cJSON *obj, dlv__jpath *p, bool *has, dlv__number_block *out,
                               dlv_error *err)
{
    const cJSON *n;
    *has = false;
    DLV__TRY(dlv__jget_object(obj, "numberBlock", DLV__J_NULLABLE, p, &n, err));
    if (!n)
        return DLV_OK;
    size_t mark = dlv__jpath_key(p, "numberBlock");
    const int64_t max = INT64_C(999999999999999);
    int rc = dlv__jget_decimal(n, "first", DLV__J_REQUIRED, 0, 1, max, p, &out->first, NULL, err);
    if (!rc)
        rc = dlv__jget_decimal(n, "last", DLV__J_REQUIRED, 0, 1, max, p, &out->last, NULL, err);
    if (!rc && out->last < out->first)
        rc = dlv__jerr(err, DLV_EJSON, p, "last is below first");
    dlv__jpath_restore(p, mark);
    *has = rc == DLV_OK;
    return rc;
}

static const char *const outcome_names[] = {"Applied", "Duplicate", "Rejected"};

static int decode_result(const cJSON *c, dlv__jpath *p, dlv__command_result *res, dlv_error *err)
{
    int outcome = 0;
    bool has_revision;
    res->revision = -1;
    res->current_status = -1;
    if (!cJSON_IsObject(c))
        return dlv__jerr(err, DLV_EJSON, p, "not an object");
    DLV__TRY(dlv__jget_string(c, "id", DLV__J_REQUIRED | DLV__J_UUID, p, &res->id, err));
    DLV__TRY(dlv__jget_enum(c, "outcome", DLV__J_REQUIRED, outcome_names, 3, p, &outcome, err));
    res->outcome = (dlv__command_outcome)outcome;
    bool rejected = res->outcome == DLV__OUTCOME_REJECTED;
    DLV__TRY(dlv__jget_decimal(c, "revision", rejected ? DLV__J_NULLABLE : DLV__J_REQUIRED, 0, 0,
                               INT64_MAX, p, &res->revision, &has_revision, err));
    DLV__TRY(dlv__jget_string(c, "error",
                              rejected ? DLV__J_REQUIRED | DLV__J_NONEMPTY : DLV__J_NULLABLE, p,
                              &res->error, err));
    DLV__TRY(dlv__jget_string(c, "description", DLV__J_NULLABLE, p, &res->description, err));
    DLV__TRY(dlv__jget_enum(c, "currentStatus", DLV__J_NULLABLE, dlv__status_names,
                            DLV_STATUS_COUNT, p, &res->current_status, err));
    return decode_number_block(c, p, &res->has_number_block, &res->number_block, err);
}

int dlv__commands_response_decode(const char *json, size_t len, dlv__commands_response **out,
                                  dlv_error *err)
{
    cJSON *root;
    dlv__jpath p;
    const cJSON *arr = NULL;
    size_t n = 0, i = 0;
    *out = NULL;
    DLV__TRY(parse_root(json, len, 0, &root, err));
    dlv__jpath_init(&p, NULL);
    dlv__commands_response *r = dlv__calloc(1, sizeof *r);
    int rc = r ? DLV_OK : dlv__error_set(err, DLV_ENOMEM, "out of memory");
    if (!rc)
        rc = dlv__jget_decimal(root, "revision", DLV__J_REQUIRED, 0, 0, INT64_MAX, &p, &r->revision,
                               NULL, err);
    if (!rc)
        rc = dlv__jget_array(root, "results", DLV__J_REQUIRED, MAX_RESULTS, &p, &arr, &n, err);
    if (!rc && n && !(r->results = dlv__calloc(n, sizeof *r->results)))
        rc = dlv__error_set(err, DLV_ENOMEM, "out of memory");
    if (!rc) {
        r->result_count = n;
        dlv__jpath_key(&p, "results");
        for (const cJSON *c = arr->child; !rc && c; c = c->next, i++) {
            size_t mark = dlv__jpath_index(&p, i);
            rc = decode_result(c, &p, &r->results[i], err);
            dlv__jpath_restore(&p, mark);
        }
    }
    cJSON_Delete(root);
    if (rc) {
        dlv__commands_response_free(r);
        return rc;
    }
    *out = r;
    return DLV_OK;
}

void dlv__register_response_free(dlv__register_response *r)
{
    if (!r)
        return;
    dlv__free(r->session_token);
    dlv__settings_free(r->settings);
    dlv__free(r);
}

static int decode_register(const cJSON *root, dlv__jpath *p, dlv__register_response *r,
                           dlv_error *err)
{
    const cJSON *node;
    DLV__TRY(dlv__jget_string(root, "sessionToken", DLV__J_REQUIRED | DLV__J_NONEMPTY, p,
                              &r->session_token, err));
    /* It goes back in an Authorization header: printable ASCII only, and short. */
    size_t len = strlen(r->session_token);
    bool printable = len <= 256;
    for (size_t i = 0; printable && i < len; i++)
        printable = r->session_token[i] > ' ' && r->session_token[i] < 0x7f;
    if (!printable) {
        size_t mark = dlv__jpath_key(p, "sessionToken");
        int rc = dlv__jerr(err, DLV_EJSON, p,
                           "must be at most 256 printable ASCII characters (it is sent back "
                           "in a header)");
        dlv__jpath_restore(p, mark);
        return rc;
    }
    DLV__TRY(dlv__jget_decimal(root, "expiresInSeconds", DLV__J_REQUIRED, 0, 1, 366 * 86400, p,
                               &r->expires_in_seconds, NULL, err));
    DLV__TRY(dlv__jget_time(root, "serverTime", DLV__J_REQUIRED, p, &r->server_time, err));
    int64_t minor = 0;
    DLV__TRY(dlv__jget_decimal(root, "protocolMinor", DLV__J_NULLABLE, 0, 0, 1000, p, &minor, NULL,
                               err));
    r->protocol_minor = (int)minor;
    DLV__TRY(decode_number_block(root, p, &r->has_number_block, &r->number_block, err));
    DLV__TRY(dlv__jget_object(root, "settings", DLV__J_REQUIRED, p, &node, err));
    size_t mark = dlv__jpath_key(p, "settings");
    int rc = dlv__settings_from_cjson(node, p, &r->settings, err);
    dlv__jpath_restore(p, mark);
    return rc;
}

int dlv__register_response_decode(const char *json, size_t len, dlv__register_response **out,
                                  dlv_error *err)
{
    cJSON *root;
    dlv__jpath p;
    *out = NULL;
    DLV__TRY(parse_root(json, len, 0, &root, err));
    dlv__jpath_init(&p, NULL);
    dlv__register_response *r = dlv__calloc(1, sizeof *r);
    int rc = r ? DLV_OK : dlv__error_set(err, DLV_ENOMEM, "out of memory");
    if (!rc)
        rc = decode_register(root, &p, r, err);
    cJSON_Delete(root);
    if (rc) {
        dlv__register_response_free(r);
        return rc;
    }
    *out = r;
    return DLV_OK;
}
