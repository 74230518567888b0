/* From a template and an order to a document: paragraphs of styled runs, pairs, separators,
 * columns and cuts, with white space collapsed as in HTML and every control character of the
 * order's text turned into a space (a name must never smuggle printer commands). */
#include <string.h>

#include "common/dynbuf.h"
#include "print/doc.h"

/* ---- paragraph builder ---- */

typedef struct mark {
    size_t start;
    bool bold;
} mark;

typedef struct pbuild {
    dlv__dynbuf text; /* the runs' text, back to back */
    mark *marks;      /* where each run starts in `text` */
    size_t nmarks, capmarks;
    bool pending_space;
    bool oom; /* sticky: text or a mark could not be stored */
} pbuild;

static void pb_init(pbuild *b)
{
    memset(b, 0, sizeof *b);
    dlv__dynbuf_init(&b->text, SIZE_MAX);
}

static void pb_free(pbuild *b)
{
    dlv__dynbuf_free(&b->text);
    dlv__free(b->marks);
    memset(b, 0, sizeof *b);
}

static void pb_reset(pbuild *b)
{
    dlv__dynbuf_reset(&b->text);
    b->nmarks = 0;
    b->pending_space = false;
}

static void pb_put(pbuild *b, const char *s, size_t n, bool bold)
{
    if (b->oom)
        return;
    size_t len = dlv__dynbuf_len(&b->text);
    if (b->nmarks == 0 || b->marks[b->nmarks - 1].bold != bold) {
        if (b->nmarks && b->marks[b->nmarks - 1].start == len) {
            b->marks[b->nmarks - 1].bold = bold; /* an empty run: restyle it */
        } else {
            if (DLV__DYNARR_RESERVE(b->marks, b->capmarks, b->nmarks + 1, 8, DLV__DYNARR_NOLIMIT) !=
                DLV_OK) {
                b->oom = true;
                return;
            }
            b->marks[b->nmarks++] = (mark){len, bold};
        }
    }
    if (dlv__dynbuf_add(&b->text, s, n) != DLV_OK)
        b->oom = true;
}

static bool is_space_cp(uint32_t cp)
{
    /* Control characters (C0, DEL, C1) read as white space; so do line and paragraph separators. */
    return cp <= 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

/* Appends text, collapsing white space runs to one space and dropping it at the start. */
static void pb_text(pbuild *b, const char *s, bool bold)
{
    size_t n = strlen(s);
    while (n > 0) {
        uint32_t cp;
        size_t k = dlv__utf8_decode(s, n, &cp);
        if (is_space_cp(cp)) {
            b->pending_space = dlv__dynbuf_len(&b->text) > 0;
        } else {
            if (b->pending_space)
                pb_put(b, " ", 1, bold);
            b->pending_space = false;
            if (cp == 0xFFFD && k == 1) {
                char rep[4];
                pb_put(b, rep, dlv__utf8_encode(0xFFFD, rep), bold);
            } else {
                pb_put(b, s, k, bold);
            }
        }
        s += k;
        n -= k;
    }
}

/* Copies the built paragraph into the arena (trailing space never stored: pending only). */
static int pb_take(pbuild *b, dlv__arena *a, dlv__para *out)
{
    memset(out, 0, sizeof *out);
    if (b->oom)
        return DLV_ENOMEM;
    const char *text = dlv__dynbuf_ptr(&b->text);
    size_t len = dlv__dynbuf_len(&b->text);
    size_t n = 0;
    for (size_t i = 0; i < b->nmarks; i++) {
        size_t end = i + 1 < b->nmarks ? b->marks[i + 1].start : len;
        n += end > b->marks[i].start;
    }
    if (n == 0)
        return DLV_OK;
    out->runs = dlv__arena_alloc(a, n * sizeof *out->runs);
    if (!out->runs)
        return DLV_ENOMEM;
    for (size_t i = 0; i < b->nmarks; i++) {
        size_t end = i + 1 < b->nmarks ? b->marks[i + 1].start : len;
        DLV__ASSERT(b->marks[i].start <= end && end <= len);
        if (end == b->marks[i].start)
            continue;
        const char *t = dlv__arena_strndup(a, text + b->marks[i].start, end - b->marks[i].start);
        if (!t)
            return DLV_ENOMEM;
        out->runs[out->count++] = (dlv__run){t, b->marks[i].bold};
    }
    pb_reset(b);
    return DLV_OK;
}

/* ---- document builder ---- */

typedef struct style {
    int size, align;
    bool bold;
} style;

typedef struct builder {
    dlv__doc *doc;
    dlv__eval ev;
    pbuild para;      /* the paragraph being filled */
    style para_style; /* its style (fixed: a style change ends it) */
    pbuild scratch;   /* for pairs and cells */
    int rc;
} builder;

static dlv__block *add_block(builder *b, dlv__block_kind kind, const style *st)
{
    dlv__doc *d = b->doc;
    if (d->count == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 32;
        dlv__block *nb = dlv__arena_alloc(&d->arena, cap * sizeof *nb);
        if (!nb) {
            b->rc = DLV_ENOMEM;
            return NULL;
        }
        if (d->count)
            memcpy(nb, d->blocks, d->count * sizeof *nb);
        d->blocks = nb;
        d->cap = cap;
    }
    dlv__block *blk = &d->blocks[d->count++];
    memset(blk, 0, sizeof *blk);
    blk->kind = kind;
    blk->size = st->size;
    blk->align = st->align;
    return blk;
}

static void flush(builder *b)
{
    if (b->rc != DLV_OK || dlv__dynbuf_len(&b->para.text) == 0) {
        pb_reset(&b->para);
        return;
    }
    dlv__block *blk = add_block(b, DLV__B_TEXT, &b->para_style);
    if (blk && pb_take(&b->para, &b->doc->arena, &blk->text) != DLV_OK)
        b->rc = DLV_ENOMEM;
}

/* Expands compiled text with the current elements' values into a builder. */
static void expand(builder *b, pbuild *pb, const dlv__ttext *t, bool bold)
{
    for (size_t i = 0; i < t->count; i++) {
        if (t->parts[i].field < 0) {
            pb_text(pb, t->parts[i].text, bold);
        } else {
            const char *v;
            dlv__field_value(&b->ev, t->parts[i].field, &b->doc->arena, &v);
            pb_text(pb, v, bold);
        }
    }
}

static void walk(builder *b, const dlv__tnode *first, style st);

static void walk_inline(builder *b, const dlv__tnode *first, pbuild *pb, bool bold)
{
    for (const dlv__tnode *t = first; t && b->rc == DLV_OK; t = t->next) {
        if (t->kind == DLV__T_TEXT) {
            expand(b, pb, &t->text, bold);
        } else if (t->kind == DLV__T_BOLD) {
            walk_inline(b, t->first, pb, true);
        } else if (t->kind == DLV__T_IF || t->kind == DLV__T_UNLESS) {
            const char *v;
            bool set = dlv__field_value(&b->ev, t->field, &b->doc->arena, &v);
            if (set == (t->kind == DLV__T_IF))
                walk_inline(b, t->first, pb, bold);
        }
    }
}

static void walk(builder *b, const dlv__tnode *first, style st)
{
    for (const dlv__tnode *t = first; t && b->rc == DLV_OK; t = t->next) {
        switch (t->kind) {
        case DLV__T_TEXT:
            if (dlv__dynbuf_len(&b->para.text) == 0)
                b->para_style = st;
            expand(b, &b->para, &t->text, st.bold);
            break;
        case DLV__T_BLOCK: {
            flush(b);
            style in = st;
            if (t->size >= 0)
                in.size = t->size;
            if (t->align >= 0)
                in.align = t->align;
            walk(b, t->first, in);
            flush(b);
            break;
        }
        case DLV__T_BOLD: {
            style in = st;
            in.bold = true;
            walk(b, t->first, in);
            break;
        }
        case DLV__T_NP:
            if (dlv__dynbuf_len(&b->para.text) > 0)
                flush(b);
            else
                add_block(b, DLV__B_BLANK, &st);
            break;
        case DLV__T_LINE: {
            flush(b);
            dlv__block *blk = add_block(b, DLV__B_LINE, &st);
            if (blk)
                blk->sep = t->sep;
            break;
        }
        case DLV__T_CUT:
            flush(b);
            add_block(b, DLV__B_CUT, &st);
            break;
        case DLV__T_PAIR: {
            flush(b);
            dlv__block *blk = add_block(b, DLV__B_PAIR, &st);
            if (!blk)
                break;
            expand(b, &b->scratch, &t->text, st.bold);
            if (pb_take(&b->scratch, &b->doc->arena, &blk->text) != DLV_OK)
                b->rc = DLV_ENOMEM;
            expand(b, &b->scratch, &t->right, st.bold);
            if (pb_take(&b->scratch, &b->doc->arena, &blk->right) != DLV_OK)
                b->rc = DLV_ENOMEM;
            break;
        }
        case DLV__T_COLUMNS: {
            flush(b);
            size_t n = 0;
            for (const dlv__tnode *c = t->first; c; c = c->next)
                n += c->kind == DLV__T_COL;
            if (n == 0)
                break;
            dlv__block *blk = add_block(b, DLV__B_COLUMNS, &st);
            if (!blk)
                break;
            blk->cells = dlv__arena_alloc(&b->doc->arena, n * sizeof *blk->cells);
            if (!blk->cells) {
                b->rc = DLV_ENOMEM;
                break;
            }
            for (const dlv__tnode *c = t->first; c && b->rc == DLV_OK; c = c->next) {
                if (c->kind != DLV__T_COL)
                    continue;
                dlv__cell *cell = &blk->cells[blk->cell_count++];
                cell->width = c->width;
                cell->align = c->align;
                walk_inline(b, c->first, &b->scratch, st.bold);
                if (pb_take(&b->scratch, &b->doc->arena, &cell->para) != DLV_OK)
                    b->rc = DLV_ENOMEM;
            }
            break;
        }
        case DLV__T_FOREACH: {
            dlv__eval saved = b->ev;
            size_t n = dlv__field_list_count(&b->ev, t->field);
            for (size_t i = 0; i < n && b->rc == DLV_OK; i++) {
                dlv__field_list_select(&b->ev, t->field, i);
                walk(b, t->first, st);
            }
            b->ev = saved;
            break;
        }
        case DLV__T_IF:
        case DLV__T_UNLESS: {
            const char *v;
            bool set = dlv__field_value(&b->ev, t->field, &b->doc->arena, &v);
            if (set == (t->kind == DLV__T_IF))
                walk(b, t->first, st);
            break;
        }
        case DLV__T_COL:
            break;
        }
    }
}

int dlv__doc_build(const dlv__tpl *tpl, const dlv__doc_input *in, dlv__doc **out, dlv_error *err)
{
    *out = NULL;
    dlv__doc *doc = dlv__calloc(1, sizeof *doc);
    if (!doc)
        return dlv__error_set(err, DLV_ENOMEM, "out of memory");
    builder b = {.doc = doc, .ev = {.in = in}, .rc = DLV_OK};
    pb_init(&b.para);
    pb_init(&b.scratch);
    style st = {0, DLV__ALIGN_LEFT, false};
    b.para_style = st;
    if (in->ctx->is_copy && !tpl->marks_copy) {
        /* A reprint is always marked, even by a template that forgot to. */
        style mark_style = {1, DLV__ALIGN_CENTER, true};
        b.para_style = mark_style;
        pb_text(&b.para, "КОПИЯ", true);
        flush(&b);
    }
    walk(&b, tpl->root->first, st);
    flush(&b);
    if (b.para.oom || b.scratch.oom || doc->arena.failed)
        b.rc = DLV_ENOMEM;
    pb_free(&b.para);
    pb_free(&b.scratch);
    if (b.rc != DLV_OK) {
        dlv__doc_free(doc);
        return dlv__error_set(err, b.rc, "out of memory building the document");
    }
    *out = doc;
    return DLV_OK;
}

void dlv__doc_free(dlv__doc *doc)
{
    if (!doc)
        return;
    dlv__arena_free(&doc->arena);
    dlv__free(doc);
}
