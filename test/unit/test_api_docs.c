/* The host contract in one place: docs/api.md, the name lists of include/delivery/delivery.h
 * (DLV_REQUEST_MAP, DLV_EVENT_MAP), the request table of lib/runtime/requests.c and the event
 * builders of lib/runtime/events.c must name the same requests and events. A request or event
 * added to one and not the others fails here, naming it. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/internal.h"
#include "delivery/delivery.h"
#include "runtime/events.h"
#include "runtime/rt.h"
#include "store/store.h"
#include "testlib.h"

#define MAX_NAMES 64

typedef struct name_list {
    size_t count;
    char names[MAX_NAMES][48];
} name_list;

static const char *const request_map[] = {
#define REQUEST_NAME(id, name, text) name,
    DLV_REQUEST_MAP(REQUEST_NAME)
#undef REQUEST_NAME
};
static const char *const event_map[] = {
#define EVENT_NAME(id, name, text) name,
    DLV_EVENT_MAP(EVENT_NAME)
#undef EVENT_NAME
};
#define COUNT(a) (sizeof(a) / sizeof *(a))

static name_list doc_requests, doc_events;
static char *doc;

static bool in_list(const name_list *l, const char *name)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->names[i], name) == 0)
            return true;
    return false;
}

static bool in_map(const char *const *map, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(map[i], name) == 0)
            return true;
    return false;
}

static void add(name_list *l, const char *start, size_t len)
{
    if (l->count < MAX_NAMES && len > 0 && len < sizeof l->names[0]) {
        memcpy(l->names[l->count], start, len);
        l->names[l->count][len] = '\0';
        l->count++;
    }
}

/* The text of the section under `heading` ("## Events"), up to the next "## " heading. */
static const char *section(const char *heading, const char **end)
{
    const char *at = doc ? strstr(doc, heading) : NULL;
    if (!at)
        return NULL;
    at += strlen(heading);
    const char *next = strstr(at, "\n## ");
    *end = next ? next : at + strlen(at);
    return at;
}

/* The rows of a markdown table in [from, end): calls `take` on each line starting with "| "
 * that is not the header or the separator (the header row is the first of each table). */
static void table_rows(const char *from, const char *end, name_list *out,
                       void (*take)(const char *line, const char *eol, name_list *out))
{
    bool in_table = false;
    for (const char *line = from; line && line < end;) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol)
            eol = end;
        if (line[0] == '|') {
            if (in_table && strncmp(line, "|---", 4) != 0)
                take(line, eol, out);
            in_table = true;
        } else {
            in_table = false;
        }
        line = eol < end ? eol + 1 : end;
    }
}

/* A request row: | `{"cmd":"name",…}` | does | extras | */
static void take_request(const char *line, const char *eol, name_list *out)
{
    const char *cmd = strstr(line, "\"cmd\":\"");
    if (!cmd || cmd > eol) {
        fprintf(stderr, "\n  docs/api.md: a request row without \"cmd\": %.*s\n", (int)(eol - line),
                line);
        CU_FAIL("request row without \"cmd\"");
        return;
    }
    cmd += strlen("\"cmd\":\"");
    const char *q = memchr(cmd, '"', (size_t)(eol - cmd));
    if (q)
        add(out, cmd, (size_t)(q - cmd));
}

/* An event row: | `name` | when | members | */
static void take_event(const char *line, const char *eol, name_list *out)
{
    const char *open = line + 1;
    while (open < eol && *open == ' ')
        open++;
    const char *close = *open == '`' ? memchr(open + 1, '`', (size_t)(eol - open - 1)) : NULL;
    if (!close) {
        fprintf(stderr, "\n  docs/api.md: an event row without a `name` first: %.*s\n",
                (int)(eol - line), line);
        CU_FAIL("event row without a name");
        return;
    }
    add(out, open + 1, (size_t)(close - open - 1));
}

static void read_doc(void)
{
    if (doc)
        return;
    const char *path = getenv("DLV_API_DOC");
    char fallback[1024];
    if (!path) {
        snprintf(fallback, sizeof fallback, "%s/docs/api.md", DLV_TEST_SOURCE_DIR);
        path = fallback;
    }
    doc = dlv_test_read_file(path, NULL);
    if (!doc) {
        fprintf(stderr, "\n  cannot read %s\n", path);
        return;
    }
    const char *end;
    const char *s = section("\n## Requests and replies", &end);
    if (s)
        table_rows(s, end, &doc_requests, take_request);
    s = section("\n## Events", &end);
    if (s)
        table_rows(s, end, &doc_events, take_event);
}

/* Both directions between a map and the names a document lists; `what` names the kind. */
static void compare(const char *what, const char *const *map, size_t n, const name_list *docs)
{
    CU_ASSERT_FATAL(doc != NULL);
    CU_ASSERT(docs->count > 0);
    for (size_t i = 0; i < n; i++) {
        if (!in_list(docs, map[i])) {
            fprintf(stderr, "\n  %s \"%s\" is in delivery.h but not in docs/api.md\n", what,
                    map[i]);
            CU_FAIL("undocumented name");
        }
    }
    for (size_t i = 0; i < docs->count; i++) {
        if (!in_map(map, n, docs->names[i])) {
            fprintf(stderr, "\n  %s \"%s\" is in docs/api.md but not in delivery.h\n", what,
                    docs->names[i]);
            CU_FAIL("documented name the library does not have");
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(docs->names[k], docs->names[i]) == 0) {
                fprintf(stderr, "\n  %s \"%s\" is documented twice\n", what, docs->names[i]);
                CU_FAIL("name documented twice");
            }
        }
    }
}

static void unique(const char *what, const char *const *map, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < i; k++)
            if (strcmp(map[i], map[k]) == 0) {
                fprintf(stderr, "\n  %s \"%s\" is twice in delivery.h\n", what, map[i]);
                CU_FAIL("name twice in the map");
            }
}

static void requests_in_docs_match_the_header(void)
{
    read_doc();
    unique("request", request_map, COUNT(request_map));
    compare("request", request_map, COUNT(request_map), &doc_requests);
}

static void events_in_docs_match_the_header(void)
{
    read_doc();
    unique("event", event_map, COUNT(event_map));
    compare("event", event_map, COUNT(event_map), &doc_events);
}

/* Every request of the map has a row in the table; nothing else is answered. */
static void request_table_answers_the_map(void)
{
    for (size_t i = 0; i < COUNT(request_map); i++) {
        if (!dlv__request_known(request_map[i])) {
            fprintf(stderr, "\n  request \"%s\" has no row in requests.c\n", request_map[i]);
            CU_FAIL("request without a handler");
        }
    }
    /* quit is the reference host's own; the others are not requests at all. */
    CU_ASSERT(!dlv__request_known("quit"));
    CU_ASSERT(!dlv__request_known("fly"));
    CU_ASSERT(!dlv__request_known(""));
    CU_ASSERT(!dlv__request_known(NULL));
}

/* The "event" member of a builder's output, checked against the map; frees `json`. */
static void check_event(char *json, const char *expected)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    cJSON *j = cJSON_Parse(json);
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "event"));
    CU_ASSERT_PTR_NOT_NULL(name);
    if (name) {
        CU_ASSERT_STRING_EQUAL(name, expected);
        CU_ASSERT(in_map(event_map, COUNT(event_map), name));
    }
    cJSON_Delete(j);
    dlv__free(json);
}

/* The builders of events.c name their events from the map. */
static void builders_use_the_map(void)
{
    for (int i = 0; i < DLV__EV_COUNT_; i++)
        CU_ASSERT_STRING_EQUAL(dlv__event_name((dlv__event_id)i), event_map[i]);
    CU_ASSERT_STRING_EQUAL(dlv__event_name(DLV__EV_COUNT_), "");

    char order_id[] = "9a1b6f04-5d0e-4a55-8f3e-2d7c1c0b7a11", doc_name[] = "Invoice",
         printer[] = "a4";
    dlv__print_job job = {.id = 7,
                          .order_id = order_id,
                          .document = doc_name,
                          .copies = 2,
                          .printer = printer,
                          .is_copy = true};
    check_event(dlv__ev_started("t"), "started");
    check_event(dlv__ev_stopped(3), "stopped");
    check_event(dlv__ev_error("StoreRecovered", "moved"), "error");
    check_event(dlv__ev_settings_changed(), "settingsChanged");
    check_event(dlv__ev_order_removed(order_id), "orderRemoved");
    check_event(dlv__ev_overdue_cooking(order_id), "overdueCooking");
    check_event(dlv__ev_show_delivery_list(cJSON_CreateArray()), "showDeliveryList");
    check_event(dlv__ev_notification(order_id, "OnWay", "sms", "+7", "text"), "notification");
    check_event(dlv__ev_printed(&job), "printed");
    check_event(dlv__ev_print_failed(&job, "paper", true), "printFailed");
    check_event(dlv__ev_reprint_offered(&job, "lost"), "reprintOffered");
    check_event(dlv__ev_print_not_recorded(order_id, doc_name, "disk"), "printFailed");
    check_event(dlv__ev_status_changed(order_id, DLV_STATUS_WAIT_COOKING,
                                       DLV_STATUS_COOKING_STARTED, "local"),
                "statusChanged");
}

/* The members the print events have always carried, in their order (hosts read them). */
static void print_events_keep_their_members(void)
{
    char order_id[] = "o", doc_name[] = "Invoice";
    dlv__print_job job = {.id = 7, .order_id = order_id, .document = doc_name, .copies = 2};
    char *text = dlv__ev_print_failed(&job, "paper out", true);
    CU_ASSERT_STRING_EQUAL(text, "{\"event\":\"printFailed\",\"orderId\":\"o\",\"document\":"
                                 "\"Invoice\",\"copies\":2,\"printer\":\"receipt\",\"jobId\":7,"
                                 "\"error\":\"paper out\",\"willRetry\":true}");
    dlv__free(text);
    job.is_copy = true;
    text = dlv__ev_reprint_offered(&job, "lost");
    CU_ASSERT_STRING_EQUAL(text, "{\"event\":\"reprintOffered\",\"orderId\":\"o\",\"document\":"
                                 "\"Invoice\",\"copies\":2,\"printer\":\"receipt\",\"jobId\":7,"
                                 "\"copy\":true,\"error\":\"lost\"}");
    dlv__free(text);
    text = dlv__ev_stopped(0);
    CU_ASSERT_STRING_EQUAL(text, "{\"event\":\"stopped\",\"pendingCommands\":0}");
    dlv__free(text);
}

int main(void)
{
    static const dlv_test_case cases[] = {
        DLV_TEST(requests_in_docs_match_the_header), DLV_TEST(events_in_docs_match_the_header),
        DLV_TEST(request_table_answers_the_map),     DLV_TEST(builders_use_the_map),
        DLV_TEST(print_events_keep_their_members),   DLV_TEST_END,
    };
    int rc = dlv_test_main("api_docs", cases);
    free(doc);
    return rc;
}
