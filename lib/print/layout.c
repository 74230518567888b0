/* Monospace layout for receipt printers and the text preview: every code point is one column
 * (CP866 is a single-byte code page), paragraphs wrap at spaces, over-long words are split,
 * alignment is done with spaces so the result does not depend on the printer's own alignment. */
#include <string.h>

#include "common/dynbuf.h"
#include "print/doc.h"

typedef struct glyph {
    const char *p;
    unsigned char len;
    bool bold;
} glyph;

typedef struct gvec {
    glyph *g;
    size_t n, cap;
    bool oom;
} gvec;

static void gv_push(gvec *v, const char *p, size_t len, bool bold)
{
    if (v->oom)
        return;
    if (DLV__DYNARR_RESERVE(v->g, v->cap, v->n + 1, 64, DLV__DYNARR_NOLIMIT) != DLV_OK) {
        v->oom = true;
        return;
    }
    v->g[v->n++] = (glyph){p, (unsigned char)len, bold};
}

static void gv_para(gvec *v, const dlv__para *para)
{
    v->n = 0;
    for (size_t r = 0; r < para->count; r++) {
        const char *s = para->runs[r].text;
        size_t n = strlen(s);
        while (n > 0) {
            uint32_t cp;
            size_t k = dlv__utf8_decode(s, n, &cp);
            gv_push(v, s, k, para->runs[r].bold);
            s += k;
            n -= k;
        }
    }
}

static bool is_sp(const glyph *g)
{
    return g->len == 1 && g->p[0] == ' ';
}

/* A wrapped line: glyphs [start, end). */
typedef struct span {
    size_t start, end;
} span;

typedef struct spans {
    span *s;
    size_t n, cap;
    bool oom;
} spans;

static void sp_push(spans *v, size_t start, size_t end)
{
    if (v->oom)
        return;
    if (DLV__DYNARR_RESERVE(v->s, v->cap, v->n + 1, 16, DLV__DYNARR_NOLIMIT) != DLV_OK) {
        v->oom = true;
        return;
    }
    v->s[v->n++] = (span){start, end};
}

/* Word wrap of glyphs [0, n) at `width` columns. */
static void wrap(const gvec *v, size_t width, spans *out)
{
    out->n = 0;
    if (width == 0)
        return;
    size_t i = 0, n = v->n;
    while (i < n) {
        while (i < n && is_sp(&v->g[i]))
            i++;
        if (i >= n)
            break;
        if (n - i <= width) {
            sp_push(out, i, n);
            break;
        }
        size_t k = i + width;
        while (k > i && !is_sp(&v->g[k]))
            k--;
        if (k > i) {
            size_t e = k;
            while (e > i && is_sp(&v->g[e - 1]))
                e--;
            sp_push(out, i, e);
            i = k + 1;
        } else {
            sp_push(out, i, i + width);
            i += width;
        }
    }
}

/* ---- one output line ---- */

typedef struct lbuild {
    dlv__dynbuf text; /* the runs' bytes, back to back */
    struct lmark {
        size_t start;
        bool bold;
    } * marks;
    size_t nmarks, capmarks;
    size_t cols;
    bool oom; /* sticky: text or a mark could not be stored */
} lbuild;

static void lb_put(lbuild *b, const char *s, size_t n, bool bold)
{
    if (b->oom)
        return;
    if (b->nmarks == 0 || b->marks[b->nmarks - 1].bold != bold) {
        if (DLV__DYNARR_RESERVE(b->marks, b->capmarks, b->nmarks + 1, 8, DLV__DYNARR_NOLIMIT) !=
            DLV_OK) {
            b->oom = true;
            return;
        }
        b->marks[b->nmarks++] = (struct lmark){dlv__dynbuf_len(&b->text), bold};
    }
    if (dlv__dynbuf_add(&b->text, s, n) != DLV_OK)
        b->oom = true;
}

static void lb_spaces(lbuild *b, size_t n)
{
    static const char sp[] = "                                ";
    b->cols += n;
    while (n > 0) {
        size_t k = n < sizeof sp - 1 ? n : sizeof sp - 1;
        /* Padding keeps the current weight: a space looks the same and saves ESC E toggles. */
        lb_put(b, sp, k, b->nmarks ? b->marks[b->nmarks - 1].bold : false);
        n -= k;
    }
}

static void lb_glyphs(lbuild *b, const gvec *v, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        lb_put(b, v->g[i].p, v->g[i].len, v->g[i].bold);
    b->cols += to - from;
}

typedef struct layout {
    dlv__doc *doc;
    dlv__mlines *out;
    lbuild lb;
    int rc;
} layout;

static dlv__mline *new_line(layout *L, int size)
{
    dlv__mlines *o = L->out;
    if (o->count == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 64;
        dlv__mline *nl = dlv__arena_alloc(&L->doc->arena, cap * sizeof *nl);
        if (!nl) {
            L->rc = DLV_ENOMEM;
            return NULL;
        }
        if (o->count)
            memcpy(nl, o->lines, o->count * sizeof *nl);
        o->lines = nl;
        o->cap = cap;
    }
    dlv__mline *l = &o->lines[o->count++];
    memset(l, 0, sizeof *l);
    l->size = size;
    return l;
}

/* Ends the line being built: trailing spaces dropped, runs copied into the arena. */
static void lb_finish(layout *L, int size)
{
    lbuild *b = &L->lb;
    if (b->oom) {
        L->rc = DLV_ENOMEM;
        return;
    }
    const char *text = dlv__dynbuf_ptr(&b->text);
    size_t len = dlv__dynbuf_len(&b->text);
    while (len > 0 && text[len - 1] == ' ')
        len--;
    dlv__dynbuf_truncate(&b->text, len);
    while (b->nmarks > 0 && b->marks[b->nmarks - 1].start >= len)
        b->nmarks--;
    dlv__mline *l = new_line(L, size);
    if (l && b->nmarks > 0) {
        l->runs = dlv__arena_alloc(&L->doc->arena, b->nmarks * sizeof *l->runs);
        if (!l->runs)
            L->rc = DLV_ENOMEM;
        for (size_t i = 0; l->runs && i < b->nmarks; i++) {
            size_t end = i + 1 < b->nmarks ? b->marks[i + 1].start : len;
            DLV__ASSERT(b->marks[i].start <= end && end <= len);
            const char *t = dlv__arena_strndup(&L->doc->arena, text + b->marks[i].start,
                                               end - b->marks[i].start);
            if (!t) {
                L->rc = DLV_ENOMEM;
                break;
            }
            l->runs[l->count++] = (dlv__run){t, b->marks[i].bold};
        }
    }
    dlv__dynbuf_reset(&b->text);
    b->nmarks = 0;
    b->cols = 0;
}

static size_t pad_before(int align, size_t width, size_t used)
{
    if (used >= width)
        return 0;
    if (align == DLV__ALIGN_CENTER)
        return (width - used) / 2;
    if (align == DLV__ALIGN_RIGHT)
        return width - used;
    return 0;
}

static void emit_wrapped(layout *L, const gvec *v, const spans *s, int align, size_t width,
                         int size)
{
    for (size_t i = 0; i < s->n && L->rc == DLV_OK; i++) {
        lb_spaces(&L->lb, pad_before(align, width, s->s[i].end - s->s[i].start));
        lb_glyphs(&L->lb, v, s->s[i].start, s->s[i].end);
        lb_finish(L, size);
    }
}

typedef struct scratch {
    gvec a, b;
    spans sa, sb;
} scratch;

static void block_pair(layout *L, scratch *S, const dlv__block *blk, size_t w)
{
    gv_para(&S->a, &blk->text);
    gv_para(&S->b, &blk->right);
    wrap(&S->a, w, &S->sa);
    wrap(&S->b, w, &S->sb);
    if (S->a.oom || S->b.oom || S->sa.oom || S->sb.oom) {
        L->rc = DLV_ENOMEM;
        return;
    }
    size_t r = S->b.n;
    if (S->sb.n == 0) {
        emit_wrapped(L, &S->a, &S->sa, DLV__ALIGN_LEFT, w, blk->size);
        return;
    }
    if (S->sa.n > 0) {
        span last = S->sa.s[S->sa.n - 1];
        size_t llen = last.end - last.start;
        if (S->sb.n == 1 && llen + 1 + r <= w) {
            S->sa.n--;
            emit_wrapped(L, &S->a, &S->sa, DLV__ALIGN_LEFT, w, blk->size);
            lb_glyphs(&L->lb, &S->a, last.start, last.end);
            lb_spaces(&L->lb, w - llen - r);
            lb_glyphs(&L->lb, &S->b, S->sb.s[0].start, S->sb.s[0].end);
            lb_finish(L, blk->size);
            return;
        }
        emit_wrapped(L, &S->a, &S->sa, DLV__ALIGN_LEFT, w, blk->size);
    }
    emit_wrapped(L, &S->b, &S->sb, DLV__ALIGN_RIGHT, w, blk->size);
}

/* Column widths in characters: fixed ones as given (cut to what is left), "*" ones share the
 * rest. */
void dlv__column_widths(const dlv__block *blk, size_t w, size_t *widths)
{
    size_t fixed = 0, stars = 0;
    for (size_t i = 0; i < blk->cell_count; i++) {
        if (blk->cells[i].width > 0)
            fixed += (size_t)blk->cells[i].width;
        else
            stars++;
    }
    size_t rest = fixed < w ? w - fixed : 0, left = w, star_seen = 0;
    for (size_t i = 0; i < blk->cell_count; i++) {
        size_t want;
        if (blk->cells[i].width > 0) {
            want = (size_t)blk->cells[i].width;
        } else {
            star_seen++;
            want = rest / stars + (star_seen == stars ? rest % stars : 0);
        }
        widths[i] = want < left ? want : left;
        left -= widths[i];
    }
}

static void block_columns(layout *L, const dlv__block *blk, size_t w)
{
    size_t n = blk->cell_count;
    size_t widths[DLV__MAX_COLUMNS];
    dlv__column_widths(blk, w, widths);
    /* Wrap every cell; keep the glyphs of each (one gvec and spans per cell). */
    gvec gv[DLV__MAX_COLUMNS];
    spans sv[DLV__MAX_COLUMNS];
    memset(gv, 0, sizeof gv);
    memset(sv, 0, sizeof sv);
    size_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        /* Every column but the last keeps its last character free, so neighbours never touch. */
        size_t cw = widths[i] - (i + 1 < n && widths[i] > 0 ? 1 : 0);
        gv_para(&gv[i], &blk->cells[i].para);
        wrap(&gv[i], cw, &sv[i]);
        if (gv[i].oom || sv[i].oom)
            L->rc = DLV_ENOMEM;
        if (sv[i].n > rows)
            rows = sv[i].n;
    }
    for (size_t r = 0; r < rows && L->rc == DLV_OK; r++) {
        size_t col = 0;
        for (size_t i = 0; i < n; i++) {
            size_t cw = widths[i] - (i + 1 < n && widths[i] > 0 ? 1 : 0);
            if (r < sv[i].n) {
                span s = sv[i].s[r];
                size_t used = s.end - s.start;
                size_t pad = pad_before(blk->cells[i].align, cw, used);
                lb_spaces(&L->lb, col + pad - L->lb.cols);
                lb_glyphs(&L->lb, &gv[i], s.start, s.end);
            }
            col += widths[i];
        }
        lb_finish(L, blk->size);
    }
    for (size_t i = 0; i < n; i++) {
        dlv__free(gv[i].g);
        dlv__free(sv[i].s);
    }
}

int dlv__layout(dlv__doc *doc, int width, dlv__mlines *out, dlv_error *err)
{
    memset(out, 0, sizeof *out);
    layout L = {.doc = doc, .out = out, .rc = DLV_OK};
    dlv__dynbuf_init(&L.lb.text, SIZE_MAX);
    scratch S;
    memset(&S, 0, sizeof S);
    if (width < 8)
        width = 8;
    for (size_t i = 0; i < doc->count && L.rc == DLV_OK; i++) {
        const dlv__block *blk = &doc->blocks[i];
        size_t w = (size_t)(blk->size == 2 ? width / 2 : width);
        switch (blk->kind) {
        case DLV__B_TEXT:
            gv_para(&S.a, &blk->text);
            wrap(&S.a, w, &S.sa);
            if (S.a.oom || S.sa.oom)
                L.rc = DLV_ENOMEM;
            else
                emit_wrapped(&L, &S.a, &S.sa, blk->align, w, blk->size);
            break;
        case DLV__B_PAIR:
            block_pair(&L, &S, blk, w);
            break;
        case DLV__B_LINE:
            for (size_t k = 0; k < w; k++)
                lb_put(&L.lb, blk->sep, strlen(blk->sep), false);
            lb_finish(&L, blk->size);
            break;
        case DLV__B_BLANK:
            lb_finish(&L, blk->size);
            break;
        case DLV__B_CUT: {
            dlv__mline *l = new_line(&L, 0);
            if (l)
                l->cut = true;
            break;
        }
        case DLV__B_COLUMNS:
            block_columns(&L, blk, w);
            break;
        }
    }
    dlv__free(S.a.g);
    dlv__free(S.b.g);
    dlv__free(S.sa.s);
    dlv__free(S.sb.s);
    dlv__dynbuf_free(&L.lb.text);
    dlv__free(L.lb.marks);
    if (L.rc != DLV_OK)
        return dlv__error_set(err, L.rc, "out of memory laying out the document");
    return DLV_OK;
}
