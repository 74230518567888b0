/* Helpers shared by the order suites: fixtures, text surgery, ready-made orders and settings. */
#ifndef DLV_TEST_ORDER_COMMON_H
#define DLV_TEST_ORDER_COMMON_H

#include "order/model.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURE_DIR DLV_TEST_SOURCE_DIR "/test/unit/data/order/"

/* Ids used in settings.json. */
#define CAUSE_ID "40000000-0000-4000-8000-000000000004"
#define COURIER_OK "30000000-0000-4000-8000-000000000003"
#define COURIER_DEBTOR "d1000000-0000-4000-8000-000000000002"
#define COURIER_NOT "d1000000-0000-4000-8000-000000000003"
#define PAYTYPE_ID "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918"

static inline char *fixture(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", FIXTURE_DIR, name);
    char *text = dlv_test_read_file(path, NULL);
    if (!text)
        fprintf(stderr, "missing fixture %s\n", path);
    return text;
}

/* A copy of `src` with the first `from` replaced by `to` (abort if absent: a broken test). */
static inline char *replace_once(const char *src, const char *from, const char *to)
{
    const char *at = strstr(src, from);
    if (!at) {
        fprintf(stderr, "replace_once: \"%s\" not found\n", from);
        abort();
    }
    size_t head = (size_t)(at - src), flen = strlen(from), tlen = strlen(to);
    char *out = malloc(strlen(src) - flen + tlen + 1);
    memcpy(out, src, head);
    memcpy(out + head, to, tlen);
    strcpy(out + head + tlen, at + flen);
    return out;
}

static inline dlv__order *load_order(const char *name, unsigned flags)
{
    char *text = fixture(name);
    dlv__order *o = NULL;
    dlv_error err = {0};
    int rc = text ? dlv__order_from_json(text, strlen(text), flags, &o, &err) : DLV_EIO;
    if (rc)
        fprintf(stderr, "load_order %s: %s\n", name, err.message);
    free(text);
    return o;
}

static inline dlv__settings *load_settings(void)
{
    char *text = fixture("settings.json");
    dlv__settings *s = NULL;
    dlv_error err = {0};
    if (text && dlv__settings_from_json(text, strlen(text), &s, &err))
        fprintf(stderr, "load_settings: %s\n", err.message);
    free(text);
    return s;
}

#endif
