/* Document templates (<config folder>/templates/invoice.xml, service-check.xml): parsed from
 * memory with dlv__tpl_parse, then every copy built against the fixture orders and laid out at
 * the three receipt widths as ESC/POS and as the text preview, the way dlv__print_render does
 * (PDF is left out: cairo and fontconfig make it too slow to fuzz).
 * A parsed template always renders; the preview is valid UTF-8, holds no control character but
 * the line feed, and no line is wider than the receipt. */
#include <string.h>

#include "fuzz_common.h"
#include "print/doc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_libxml();
    return 0;
}

static void check_preview(const dlv__print_out *out, int width)
{
    FUZZ_CHECK(dlv__utf8_valid((const char *)out->data, out->len));
    size_t columns = 0;
    for (size_t i = 0; i < out->len; i++) {
        unsigned char c = out->data[i];
        if (c == '\n') {
            FUZZ_CHECK(columns <= (size_t)width);
            columns = 0;
            continue;
        }
        FUZZ_CHECK(c >= 0x20 && c != 0x7f);
        if ((c & 0xC0) != 0x80) /* count code points, not bytes */
            columns++;
    }
}

static void render(const dlv__tpl *tpl, const dlv__order *order, bool is_copy, int copies)
{
    dlv__print_context ctx = {.is_copy = is_copy,
                              .copies = copies,
                              .now = 1795955000,
                              .tz_offset_minutes = 180,
                              .courier_name = is_copy ? "Пётр" : NULL,
                              .restaurant = is_copy ? "Пиццерия «Север»" : NULL};
    static const int widths[] = {32, 42, 48};
    for (int c = 0; c < copies; c++) {
        dlv__doc_input in = {.order = order, .ctx = &ctx, .copy_number = c + 1, .copies = copies};
        for (size_t w = 0; w < DLV__ARRAY_SIZE(widths); w++) {
            /* Layout works in the document's arena, so each width gets a fresh build. */
            dlv__doc *doc = NULL;
            dlv_error err = {0};
            int rc = dlv__doc_build(tpl, &in, &doc, &err);
            FUZZ_CHECK_MSG(rc == DLV_OK, err.message);
            dlv__mlines lines;
            rc = dlv__layout(doc, widths[w], &lines, &err);
            FUZZ_CHECK_MSG(rc == DLV_OK, err.message);
            dlv__print_profile profile = {DLV__PRINT_DEFAULT_CODEPAGE, widths[w], w != 1};
            dlv__print_out escpos = {0}, text = {0};
            rc = dlv__escpos_begin(&profile, &escpos, &err);
            if (rc == DLV_OK)
                rc = dlv__escpos_copy(&lines, &profile, &escpos, &err);
            FUZZ_CHECK_MSG(rc == DLV_OK, err.message);
            rc = dlv__text_copy(&lines, widths[w], &text, &err);
            FUZZ_CHECK_MSG(rc == DLV_OK, err.message);
            check_preview(&text, widths[w]);
            dlv__print_out_free(&escpos);
            dlv__print_out_free(&text);
            dlv__doc_free(doc);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dlv__tpl *tpl = (dlv__tpl *)1;
    dlv_error err = {0};
    int rc = dlv__tpl_parse("fuzz.xml", (const char *)data, size, &tpl, &err);
    if (rc != DLV_OK) {
        FUZZ_CHECK(tpl == NULL);
        FUZZ_CHECK(rc == DLV_ETEMPLATE || rc == DLV_ETOOLARGE);
        FUZZ_CHECK(err.code == rc && strstr(err.message, "fuzz.xml") != NULL);
        return 0;
    }
    render(tpl, fuzz_order(0), false, 1);
    render(tpl, fuzz_order(1), true, 2);
    render(tpl, fuzz_order(2), false, 1);
    dlv__tpl_free(tpl);
    return 0;
}
