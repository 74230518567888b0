/* Allocation failure swept through lib/print (alloc_sweep.h): the built-in document templates
 * and a replacement from the config folder, rendered for every kind of order in every format,
 * and an invalid template. */
#define _GNU_SOURCE
#include <libxml/xmlerror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc_sweep.h"
#include "common/internal.h"
#include "print/doc.h"
#include "test_order_common.h"
#include "testlib.h"

static char *dir;

/* ---- document templates ---- */

typedef struct print_case {
    const char *text; /* a template from memory, or NULL: dlv__print_render from templates_dir */
    const char *templates_dir;
    const dlv__order *orders[3];
    const dlv__settings *settings;
} print_case;

static int print_from_memory(print_case *c, dlv_error *err)
{
    dlv__tpl *tpl = (dlv__tpl *)0x1;
    int rc = dlv__tpl_parse("custom.xml", c->text, strlen(c->text), &tpl, err);
    if (rc != DLV_OK)
        return tpl ? WRONG_RESULT : rc;
    dlv__print_context ctx = {
        .now = 1795955000, .tz_offset_minutes = 180, .copies = 1, .restaurant = "Север"};
    for (size_t i = 0; i < 3 && rc == DLV_OK; i++) {
        dlv__doc_input in = {.order = c->orders[i], .ctx = &ctx, .copy_number = 1, .copies = 1};
        dlv__doc *doc = NULL;
        rc = dlv__doc_build(tpl, &in, &doc, err);
        dlv__mlines lines;
        if (rc == DLV_OK)
            rc = dlv__layout(doc, 42, &lines, err);
        dlv__print_profile prof = {DLV__PRINT_DEFAULT_CODEPAGE, 42, true};
        dlv__print_out out = {0};
        if (rc == DLV_OK)
            rc = dlv__escpos_begin(&prof, &out, err);
        if (rc == DLV_OK)
            rc = dlv__escpos_copy(&lines, &prof, &out, err);
        if (rc == DLV_OK)
            rc = dlv__text_copy(&lines, 42, &out, err);
        dlv__print_out_free(&out);
        dlv__doc_free(doc);
    }
    dlv__tpl_free(tpl);
    return rc;
}

static int print_roundtrip(void *arg, dlv_error *err)
{
    print_case *c = arg;
    if (c->text)
        return print_from_memory(c, err);
    int rc = dlv__print_templates_check(c->templates_dir, err);
    dlv__print_context ctx = {.templates_dir = c->templates_dir,
                              .now = 1795955000,
                              .tz_offset_minutes = 180,
                              .is_copy = true};
    for (int kind = DLV__DOC_INVOICE; kind <= DLV__DOC_SERVICE_CHECK && rc == DLV_OK; kind++) {
        for (size_t i = 0; i < 3 && rc == DLV_OK; i++) {
            for (int f = DLV__FORMAT_ESCPOS; f <= DLV__FORMAT_TEXT && rc == DLV_OK; f++) {
                dlv__print_out out = {0};
                rc = dlv__print_render((dlv__doc_kind)kind, c->orders[i], c->settings, &ctx,
                                       (dlv__print_format)f, NULL, &out, err);
                if (rc == DLV_OK && out.len == 0)
                    rc = WRONG_RESULT;
                if (rc != DLV_OK && rc != WRONG_RESULT && out.len != 0)
                    rc = WRONG_RESULT; /* "on error out is left as it was" */
                dlv__print_out_free(&out);
            }
        }
    }
    return rc;
}

static void document_templates(void)
{
    print_case c = {.orders = {load_order("order_courier.json", 0),
                               load_order("order_pickup.json", 0),
                               load_order("order_anonymous.json", 0)},
                    .settings = load_settings()};
    CU_ASSERT_FATAL(c.orders[0] && c.orders[1] && c.orders[2] && c.settings);
    for (int kind = DLV__DOC_INVOICE; kind <= DLV__DOC_SERVICE_CHECK; kind++) {
        c.text = dlv__print_builtin_template((dlv__doc_kind)kind);
        CU_ASSERT_PTR_NOT_NULL_FATAL(c.text);
        sweep("built-in document template", print_roundtrip, &c, DLV_OK, template_oom(), false);
    }
    /* A replacement template from the config folder, read from its file. */
    char *tdir = NULL;
    CU_ASSERT_FATAL(asprintf(&tdir, "%s/templates", dir) > 0);
    mkdir(tdir, 0755);
    free(dlv_test_write_file(tdir, "invoice.xml",
                             "<?xml version=\"1.0\"?>\n<doc><f1>Накладная {{Order.Number}}</f1>"
                             "<foreach items=\"Order.Items\"><pair left=\"{{Item.Name}}\" "
                             "right=\"{{Item.Sum}}\"/></foreach><line/>"
                             "<if field=\"Address.Line\">{{Address.Line}}</if><np/></doc>\n"));
    c.text = NULL;
    c.templates_dir = tdir;
    sweep("documents from the config folder", print_roundtrip, &c, DLV_OK, template_oom(), false);
    static const int bad_allowed[] = {DLV_ETEMPLATE, DLV_ENOMEM, 0};
    print_case bad = c;
    bad.text = "<doc>\n<foreach items=\"Order.Items\">\n{{Modifier.Name}}</foreach></doc>";
    sweep("invalid document template", print_roundtrip, &bad, DLV_ETEMPLATE, bad_allowed, false);
    for (size_t i = 0; i < 3; i++)
        dlv__order_free((dlv__order *)c.orders[i]);
    dlv__settings_free((dlv__settings *)c.settings);
    free(tdir);
}

static void silent_xml_errors(void *ctx, const char *fmt, ...)
{
    (void)ctx;
    (void)fmt;
}

int main(void)
{
    dir = dlv_test_mkdtemp();
    dlv__alloc_hook_libraries();
    xmlSetGenericErrorFunc(NULL, silent_xml_errors);
    static const dlv_test_case cases[] = {
        DLV_TEST(document_templates),
        DLV_TEST_END,
    };
    int rc = dlv_test_main("print_alloc", cases);
    dlv_test_rmdir(dir);
    return rc;
}
