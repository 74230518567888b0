/* Security of lib/print's document templates (issue 9): XML external entities, external DTDs,
 * parameter entities, XInclude and entity expansion bombs are refused, from memory and as the
 * config folder's replacement invoice (at start and at print time): nothing is fetched (a
 * loopback listener sees no connection), no file content leaks into a message, and a bomb is
 * refused quickly; predefined entities still work.
 * Configs: test_config_hardening.c; allocation failure: test_print_alloc.c. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hostile.h"
#include "order/model.h"
#include "print/doc.h"
#include "testlib.h"

static void document_templates_refuse_entities(void)
{
    hostile docs[16];
    size_t n = hostile_documents("<doc><center>", "</center></doc>", docs);
    char *tdir = NULL;
    CU_ASSERT_FATAL(asprintf(&tdir, "%s/templates", dir) > 0);
    mkdir(tdir, 0755);
    dlv_error err;
    dlv__order *order = NULL;
    char *fixture = NULL;
    CU_ASSERT_FATAL(
        asprintf(&fixture, "%s/test/unit/data/order/order_courier.json", DLV_TEST_SOURCE_DIR) > 0);
    char *json = dlv_test_read_file(fixture, NULL);
    CU_ASSERT_EQUAL_FATAL(dlv__order_from_json(json, strlen(json), 0, &order, &err), DLV_OK);
    for (size_t i = 0; i < n; i++) {
        /* From memory ... */
        int before = fault_server_connections(listener);
        dlv__tpl *tpl = (dlv__tpl *)0x1;
        double t0 = now_s();
        int rc = dlv__tpl_parse("invoice.xml", docs[i].text, strlen(docs[i].text), &tpl, &err);
        if (rc != DLV_ETEMPLATE)
            fprintf(stderr, "\n  template, %s: %s\n", docs[i].what, dlv_err_name(rc));
        CU_ASSERT_EQUAL(rc, DLV_ETEMPLATE);
        CU_ASSERT_PTR_NULL(tpl);
        refused_quickly_without_fetching(docs[i].what, t0, before, err.message);
        /* ... and as the config folder's replacement invoice, at start and at print time. */
        free(dlv_test_write_file(tdir, "invoice.xml", docs[i].text));
        CU_ASSERT_EQUAL(dlv__print_templates_check(tdir, &err), DLV_ETEMPLATE);
        DLV_ASSERT_CONTAINS(err.message, "invoice.xml");
        CU_ASSERT_FALSE(dlv_test_contains(err.message, SECRET));
        dlv__print_context ctx = {.templates_dir = tdir, .now = 1795955000};
        dlv__print_out out = {0};
        CU_ASSERT_EQUAL(dlv__print_render(DLV__DOC_INVOICE, order, NULL, &ctx, DLV__FORMAT_TEXT,
                                          NULL, &out, &err),
                        DLV_ETEMPLATE);
        CU_ASSERT_EQUAL(out.len, 0);
        dlv__print_out_free(&out);
        CU_ASSERT_EQUAL(fault_server_connections(listener), before);
    }
    dlv__order_free(order);
    free(json);
    free(fixture);
    free(tdir);
    free_hostile(docs, n);
}

/* XInclude is never processed: in a template it is an unknown element (refused); the included
 * file never shows up. (Configs: test_config_hardening.c.) */
static void xinclude_is_not_processed(void)
{
    char *text = NULL;
    dlv_error err;
    CU_ASSERT_FATAL(asprintf(&text,
                             "<doc xmlns:xi=\"http://www.w3.org/2001/XInclude\"><center>"
                             "<xi:include href=\"file://%s\" parse=\"text\"/></center></doc>",
                             secret_path) > 0);
    dlv__tpl *tpl = NULL;
    CU_ASSERT_EQUAL(dlv__tpl_parse("invoice.xml", text, strlen(text), &tpl, &err), DLV_ETEMPLATE);
    CU_ASSERT_FALSE(dlv_test_contains(err.message, SECRET));
    dlv__tpl_free(tpl);
    free(text);
}

/* What is allowed stays allowed: the five predefined entities and character references in a
 * template. (Configs: test_config_hardening.c.) */
static void predefined_entities_still_work(void)
{
    dlv__tpl *tpl = NULL;
    const char *t = "<doc><center>Tom &amp; Jerry &#x2116;{{Order.Number}}</center></doc>";
    CU_ASSERT_EQUAL(dlv__tpl_parse("invoice.xml", t, strlen(t), &tpl, NULL), DLV_OK);
    dlv__tpl_free(tpl);
}

int main(void)
{
    hostile_begin();
    static const dlv_test_case cases[] = {
        DLV_TEST(document_templates_refuse_entities),
        DLV_TEST(xinclude_is_not_processed),
        DLV_TEST(predefined_entities_still_work),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("print_hardening", cases);
    hostile_end();
    return rc;
}
