/* A4 PDF with cairo and pango (in libdelivery_print_extra.so, lib/print/extra.h): DejaVu Sans,
 * proper Cyrillic, proportional text. Column widths given in receipt characters become fractions of
 * the text width, so one template serves both. */
#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <string.h>

#include "print/doc.h"

/* Last: from here on the library's functions are calls through its table. */
#include "print/extra/host.h"

#define A4_WIDTH 595.276  /* points */
#define A4_HEIGHT 841.890 /* points */
#define MARGIN 42.5       /* 15 mm */
#define COLUMN_GAP 6.0
#define FONT_FAMILY "DejaVu Sans"

static const double font_sizes[3] = {10.0, 14.0, 18.0};

typedef struct pdf {
    cairo_t *cr;
    PangoLayout *layout;
    PangoFontDescription *fonts[3];
    double y;
    bool page_used, new_page;
    int width; /* receipt characters the text width stands for */
    bool oom;
} pdf;

static cairo_status_t write_out(void *closure, const unsigned char *data, unsigned int length)
{
    return dlv__out_append(closure, data, length) == DLV_OK ? CAIRO_STATUS_SUCCESS
                                                            : CAIRO_STATUS_NO_MEMORY;
}

static double area(void)
{
    return A4_WIDTH - 2 * MARGIN;
}

/* Sets the layout to a paragraph: its text, bold runs, size, width (points) and alignment. */
static void set_para(pdf *P, const dlv__para *para, int size, double width, int align)
{
    size_t n = 0;
    for (size_t i = 0; i < para->count; i++)
        n += strlen(para->runs[i].text);
    char *text = dlv__malloc(n + 1);
    if (!text)
        P->oom = true;
    PangoAttrList *attrs = pango_attr_list_new();
    size_t at = 0;
    if (text) {
        for (size_t i = 0; i < para->count; i++) {
            size_t k = strlen(para->runs[i].text);
            memcpy(text + at, para->runs[i].text, k);
            if (para->runs[i].bold) {
                PangoAttribute *a = pango_attr_weight_new(PANGO_WEIGHT_BOLD);
                a->start_index = (guint)at;
                a->end_index = (guint)(at + k);
                pango_attr_list_insert(attrs, a);
            }
            at += k;
        }
        text[at] = '\0';
    }
    pango_layout_set_font_description(P->layout, P->fonts[size]);
    pango_layout_set_text(P->layout, text ? text : "", -1);
    pango_layout_set_attributes(P->layout, attrs);
    pango_layout_set_width(P->layout, width > 0 ? pango_units_from_double(width) : -1);
    pango_layout_set_wrap(P->layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(P->layout, align == DLV__ALIGN_CENTER  ? PANGO_ALIGN_CENTER
                                          : align == DLV__ALIGN_RIGHT ? PANGO_ALIGN_RIGHT
                                                                      : PANGO_ALIGN_LEFT);
    pango_attr_list_unref(attrs);
    dlv__free(text);
}

static void layout_size(pdf *P, double *w, double *h)
{
    int pw, ph;
    pango_layout_get_size(P->layout, &pw, &ph);
    if (w)
        *w = pango_units_to_double(pw);
    if (h)
        *h = pango_units_to_double(ph);
}

static double line_height(int size)
{
    return font_sizes[size] * 1.25;
}

/* Starts a new page when asked to, or when `h` more points do not fit on this one. */
static void room_for(pdf *P, double h)
{
    bool overflow = P->y + h > A4_HEIGHT - MARGIN && P->page_used;
    if ((P->new_page && P->page_used) || overflow) {
        cairo_show_page(P->cr);
        P->y = MARGIN;
        P->page_used = false;
    }
    P->new_page = false;
}

static void draw_layout_at(pdf *P, double x, double y)
{
    cairo_move_to(P->cr, x, y);
    pango_cairo_show_layout(P->cr, P->layout);
}

static void block_text(pdf *P, const dlv__block *b)
{
    set_para(P, &b->text, b->size, area(), b->align);
    double h;
    layout_size(P, NULL, &h);
    room_for(P, h);
    draw_layout_at(P, MARGIN, P->y);
    P->y += h;
    P->page_used = true;
}

static void block_pair(pdf *P, const dlv__block *b)
{
    double rw = 0, rh = 0, lh = 0;
    if (b->right.count) {
        set_para(P, &b->right, b->size, -1, DLV__ALIGN_LEFT);
        layout_size(P, &rw, &rh);
        if (rw > area() * 0.6) {
            set_para(P, &b->right, b->size, area() * 0.6, DLV__ALIGN_RIGHT);
            layout_size(P, &rw, &rh);
            rw = area() * 0.6;
        }
    }
    double lw = area() - rw - (rw > 0 ? COLUMN_GAP : 0);
    set_para(P, &b->text, b->size, lw, DLV__ALIGN_LEFT);
    layout_size(P, NULL, &lh);
    double h = lh > rh ? lh : rh;
    room_for(P, h);
    draw_layout_at(P, MARGIN, P->y);
    if (b->right.count) {
        set_para(P, &b->right, b->size, rw, DLV__ALIGN_RIGHT);
        /* The right text sits on the left text's last line, as on the receipt. */
        draw_layout_at(P, MARGIN + area() - rw, P->y + (lh > rh ? lh - rh : 0));
    }
    P->y += h;
    P->page_used = true;
}

static void block_line(pdf *P, const dlv__block *b)
{
    double h = line_height(b->size) * 0.8;
    room_for(P, h);
    cairo_set_line_width(P->cr, 0.6);
    double mid = P->y + h / 2;
    int strokes = strcmp(b->sep, "=") == 0 ? 2 : 1;
    for (int i = 0; i < strokes; i++) {
        double y = strokes == 2 ? mid - 1.2 + 2.4 * i : mid;
        cairo_move_to(P->cr, MARGIN, y);
        cairo_line_to(P->cr, MARGIN + area(), y);
    }
    if (strcmp(b->sep, "-") != 0 && strcmp(b->sep, "=") != 0) {
        static const double dash[] = {2.0, 2.0};
        cairo_set_dash(P->cr, dash, 2, 0);
    }
    cairo_stroke(P->cr);
    cairo_set_dash(P->cr, NULL, 0, 0);
    P->y += h;
    P->page_used = true;
}

static void block_columns(pdf *P, const dlv__block *b)
{
    size_t widths[DLV__MAX_COLUMNS];
    dlv__column_widths(b, (size_t)P->width, widths);
    double unit = area() / P->width, h = 0;
    /* Measure first, so a row never splits over two pages. */
    for (int pass = 0; pass < 2; pass++) {
        double x = MARGIN;
        for (size_t i = 0; i < b->cell_count; i++) {
            double cw = (double)widths[i] * unit;
            double inner = cw - (i + 1 < b->cell_count ? COLUMN_GAP : 0);
            if (inner > 1 && b->cells[i].para.count) {
                set_para(P, &b->cells[i].para, b->size, inner, b->cells[i].align);
                double ch;
                layout_size(P, NULL, &ch);
                if (pass == 0 && ch > h)
                    h = ch;
                if (pass == 1)
                    draw_layout_at(P, x, P->y);
            }
            x += cw;
        }
        if (pass == 0)
            room_for(P, h);
    }
    P->y += h > 0 ? h : line_height(b->size);
    P->page_used = true;
}

int dlv__pe_pdf_render(dlv__doc *const *docs, size_t count, int width, const char *title,
                       dlv__print_out *out, dlv_error *err)
{
    size_t start = out->len;
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(write_out, out, A4_WIDTH, A4_HEIGHT);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return dlv__error_set(err, DLV_ENOMEM, "cannot create a PDF surface");
    }
    cairo_pdf_surface_restrict_to_version(s, CAIRO_PDF_VERSION_1_5);
    if (title)
        cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "libdelivery");
    pdf P = {.cr = cairo_create(s), .y = MARGIN, .width = width > 0 ? width : 48};
    P.layout = pango_cairo_create_layout(P.cr);
    for (int i = 0; i < 3; i++) {
        P.fonts[i] = pango_font_description_new();
        pango_font_description_set_family(P.fonts[i], FONT_FAMILY);
        pango_font_description_set_absolute_size(P.fonts[i], font_sizes[i] * PANGO_SCALE);
    }
    cairo_set_source_rgb(P.cr, 0, 0, 0);
    for (size_t c = 0; c < count; c++) {
        P.new_page = c > 0;
        const dlv__doc *d = docs[c];
        for (size_t i = 0; i < d->count; i++) {
            const dlv__block *b = &d->blocks[i];
            switch (b->kind) {
            case DLV__B_TEXT:
                block_text(&P, b);
                break;
            case DLV__B_PAIR:
                block_pair(&P, b);
                break;
            case DLV__B_LINE:
                block_line(&P, b);
                break;
            case DLV__B_BLANK:
                room_for(&P, line_height(b->size));
                P.y += line_height(b->size);
                break;
            case DLV__B_CUT:
                P.new_page = true; /* the next block starts a page; none is left empty */
                break;
            case DLV__B_COLUMNS:
                block_columns(&P, b);
                break;
            }
        }
    }
    for (int i = 0; i < 3; i++)
        pango_font_description_free(P.fonts[i]);
    g_object_unref(P.layout);
    cairo_status_t st = cairo_status(P.cr);
    cairo_destroy(P.cr);
    cairo_surface_finish(s);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    if (st == CAIRO_STATUS_SUCCESS && P.oom)
        st = CAIRO_STATUS_NO_MEMORY;
    if (st != CAIRO_STATUS_SUCCESS) {
        out->len = start;
        return dlv__error_set(err, st == CAIRO_STATUS_NO_MEMORY ? DLV_ENOMEM : DLV_EIO,
                              "PDF rendering failed: %s", cairo_status_to_string(st));
    }
    return DLV_OK;
}
