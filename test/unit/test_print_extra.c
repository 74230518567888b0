/* libdelivery_print_extra.so absent (lib/print/extra.c): ctest points DLV_PRINT_EXTRA at a file
 * that does not exist, so a PDF render and a cups: printer fail with DLV_ENOTSUP and a message
 * that names the module, and everything else in lib/print still works. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/tz.h"
#include "order/model.h"
#include "print/print.h"
#include "testlib.h"

static dlv__order *load_order(void)
{
    char *json =
        dlv_test_read_file(DLV_TEST_SOURCE_DIR "/test/unit/data/print/order_courier.json", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    dlv__order *o = NULL;
    dlv_error err = {0};
    CU_ASSERT_EQUAL_FATAL(dlv__order_from_json(json, strlen(json), 0, &o, &err), DLV_OK);
    free(json);
    return o;
}

static void pdf_without_module(void)
{
    dlv__order *o = load_order();
    dlv__print_context c = {0};
    dlv__time_parse("2026-11-29T12:40:00Z", &c.now);
    c.copies = 1;
    dlv__print_out out = {0};
    dlv_error err = {0};
    int rc = dlv__print_render(DLV__DOC_INVOICE, o, NULL, &c, DLV__FORMAT_PDF, NULL, &out, &err);
    CU_ASSERT_EQUAL(rc, DLV_ENOTSUP);
    CU_ASSERT_EQUAL(out.len, 0);
    DLV_ASSERT_CONTAINS(err.message, "PDF rendering is not installed: libdelivery_print_extra.so");
    /* ESC/POS needs no module. */
    rc = dlv__print_render(DLV__DOC_INVOICE, o, NULL, &c, DLV__FORMAT_ESCPOS, NULL, &out, &err);
    CU_ASSERT_EQUAL(rc, DLV_OK);
    CU_ASSERT(out.len > 100);
    dlv__print_out_free(&out);
    dlv__order_free(o);
}

static void closed(void *arg)
{
    *(bool *)arg = true;
}

static void cups_without_module(void)
{
    uv_loop_t loop;
    CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
    dlv_printer *p = NULL;
    dlv_error err = {0};
    int rc = dlv__printer_open(&loop, "cups:Kitchen", &p, &err);
    CU_ASSERT_EQUAL(rc, DLV_ENOTSUP);
    DLV_ASSERT_CONTAINS(err.message, "CUPS printing is not installed: libdelivery_print_extra.so");
    if (p) {
        bool done = false;
        dlv__printer_close(p, closed, &done);
        while (!done)
            uv_run(&loop, UV_RUN_ONCE);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
}

int main(void)
{
    static const dlv_test_case cases[] = {
        DLV_TEST(pdf_without_module),
        DLV_TEST(cups_without_module),
        DLV_TEST_END,
    };
    return dlv_test_main("print_extra", cases);
}
