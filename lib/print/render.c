/* dlv__print_render: template + order -> ESC/POS, text or PDF, every copy included. */
#include <string.h>

#include "print/doc.h"

#define MAX_COPIES 5
#define PDF_WIDTH 48 /* receipt characters an A4 text line stands for in <col width=> */

static int check_profile(const dlv__print_profile *p, dlv_error *err)
{
    if (p->codepage < 0 || p->codepage > 255)
        return dlv__error_set(err, DLV_EINVAL, "code page table %d: must be 0..255", p->codepage);
    if (p->width < 16 || p->width > 128)
        return dlv__error_set(err, DLV_EINVAL, "line width %d: must be 16..128 (32, 42, 48)",
                              p->width);
    return DLV_OK;
}

int dlv__print_render(dlv__doc_kind kind, const dlv__order *order, const dlv__settings *settings,
                      const dlv__print_context *ctx, dlv__print_format format,
                      const dlv__print_profile *profile, dlv__print_out *out, dlv_error *err)
{
    if (!order || !ctx || !out || (kind != DLV__DOC_INVOICE && kind != DLV__DOC_SERVICE_CHECK) ||
        format < DLV__FORMAT_ESCPOS || format > DLV__FORMAT_PDF)
        return dlv__error_set(err, DLV_EINVAL, "dlv__print_render: invalid argument");
    dlv__print_profile prof = {DLV__PRINT_DEFAULT_CODEPAGE, DLV__PRINT_DEFAULT_WIDTH, true};
    if (profile)
        prof = *profile;
    int rc = check_profile(&prof, err);
    if (rc != DLV_OK)
        return rc;
    int copies = ctx->copies;
    if (copies == 0)
        copies = kind == DLV__DOC_INVOICE && settings ? settings->invoice_copies : 1;
    if (copies < 1 || copies > MAX_COPIES)
        return dlv__error_set(err, DLV_EINVAL, "%d copies: must be 1..%d", copies, MAX_COPIES);

    dlv__tpl *tpl;
    rc = dlv__tpl_load(kind, ctx->templates_dir, &tpl, err);
    if (rc != DLV_OK)
        return rc;
    size_t start = out->len;
    dlv__doc *docs[MAX_COPIES] = {NULL};
    for (int c = 0; c < copies && rc == DLV_OK; c++) {
        dlv__doc_input in = {.order = order,
                             .ctx = ctx,
                             .copy_number = c + 1,
                             .copies = copies,
                             .settings = settings};
        rc = dlv__doc_build(tpl, &in, &docs[c], err);
    }
    if (rc == DLV_OK && format == DLV__FORMAT_PDF) {
        char *title =
            dlv__asprintf("%s № %lld", kind == DLV__DOC_INVOICE ? "Накладная" : "Сервисный чек",
                          (long long)order->number);
        rc = title ? dlv__pdf_render(docs, (size_t)copies, PDF_WIDTH, title, out, err)
                   : dlv__error_set(err, DLV_ENOMEM, "out of memory");
        dlv__free(title);
    } else if (rc == DLV_OK) {
        if (format == DLV__FORMAT_ESCPOS)
            rc = dlv__escpos_begin(&prof, out, err);
        for (int c = 0; c < copies && rc == DLV_OK; c++) {
            dlv__mlines lines;
            rc = dlv__layout(docs[c], prof.width, &lines, err);
            if (rc == DLV_OK)
                rc = format == DLV__FORMAT_ESCPOS ? dlv__escpos_copy(&lines, &prof, out, err)
                                                  : dlv__text_copy(&lines, prof.width, out, err);
        }
    }
    for (int c = 0; c < copies; c++)
        dlv__doc_free(docs[c]);
    dlv__tpl_free(tpl);
    if (rc != DLV_OK)
        out->len = start;
    return rc;
}

int dlv__print_render_for(dlv__doc_kind kind, const dlv__order *order,
                          const dlv__settings *settings, const dlv__print_context *ctx,
                          dlv_printer *printer, bool a4, dlv__print_out *out,
                          dlv__print_format *format, dlv_error *err)
{
    if (!printer || !format)
        return dlv__error_set(err, DLV_EINVAL, "dlv__print_render_for: invalid argument");
    dlv__print_profile prof;
    dlv__printer_profile(printer, &prof);
    *format = a4 ? DLV__FORMAT_PDF : DLV__FORMAT_ESCPOS;
    return dlv__print_render(kind, order, settings, ctx, *format, &prof, out, err);
}
