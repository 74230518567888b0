/* Inside lib/print: the parsed template, the document it produces for one order, and the
 * monospace layout shared by the ESC/POS and text renderers.
 *
 * template (XML) --dlv__tpl_load--> dlv__tpl --dlv__doc_build(order)--> dlv__doc (blocks of
 * styled runs, format-free) --dlv__layout--> lines of W characters --> ESC/POS or text;
 * dlv__doc --dlv__pdf_render--> A4 pages. */
#ifndef DLV__PRINT_DOC_H
#define DLV__PRINT_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/internal.h"
#include "print/print.h"

/* ---- Arena: every piece of a template or a document is freed at once ---- */

typedef struct dlv__arena_chunk dlv__arena_chunk;
typedef struct dlv__arena {
    dlv__arena_chunk *head;
    bool failed; /* an allocation failed: the result is incomplete */
} dlv__arena;

void *dlv__arena_alloc(dlv__arena *a, size_t size);
char *dlv__arena_strndup(dlv__arena *a, const char *s, size_t n);
char *dlv__arena_strdup(dlv__arena *a, const char *s);
char *dlv__arena_printf(dlv__arena *a, const char *fmt, ...) DLV__PRINTF(2, 3);
void dlv__arena_free(dlv__arena *a);

/* ---- Text ---- */

/* Decodes one UTF-8 code point at s (n bytes left); invalid or truncated sequences read as one
 * byte of U+FFFD. Returns the bytes consumed (>= 1 when n >= 1). */
size_t dlv__utf8_decode(const char *s, size_t n, uint32_t *cp);
/* Encodes cp into out (4 bytes); returns the length. */
size_t dlv__utf8_encode(uint32_t cp, char out[4]);

/* ---- Templates ---- */

/* Fields a template may name: {{Order.Number}} in text and attributes, <foreach items=>,
 * <if field=>. The scope says inside which <foreach> a field is valid. */
typedef enum dlv__field_scope {
    DLV__SCOPE_ORDER = 0,
    DLV__SCOPE_ITEM = 1,
    DLV__SCOPE_MODIFIER = 2,
    DLV__SCOPE_PAYMENT = 3
} dlv__field_scope;

typedef struct dlv__field_def {
    const char *name;
    dlv__field_scope scope;     /* where it is valid (ORDER: everywhere) */
    dlv__field_scope list_item; /* a list: the scope of its elements; else DLV__SCOPE_ORDER */
    bool is_list;
} dlv__field_def;

extern const dlv__field_def dlv__fields[];
extern const size_t dlv__field_count;
/* The field named `name` (exact), or -1. */
int dlv__field_find(const char *name, size_t len);
/* The index of Doc.IsCopy, which decides whether a template marks copies itself. */
int dlv__field_is_copy(void);

typedef enum dlv__tnode_kind {
    DLV__T_TEXT,    /* text with {{fields}} */
    DLV__T_BLOCK,   /* center/left/right/f0/f1/f2: a paragraph style for what is inside */
    DLV__T_BOLD,    /* bold for what is inside, within a paragraph */
    DLV__T_LINE,    /* separator across the width */
    DLV__T_NP,      /* ends the paragraph; on its own a blank line */
    DLV__T_CUT,     /* pagecut */
    DLV__T_PAIR,    /* left text, right text on one line */
    DLV__T_COLUMNS, /* a row of <col> cells */
    DLV__T_COL,
    DLV__T_FOREACH, /* children once per element of a list field */
    DLV__T_IF,      /* children when the field is set (non-empty, non-zero, true) */
    DLV__T_UNLESS   /* children when it is not */
} dlv__tnode_kind;

typedef enum dlv__align {
    DLV__ALIGN_LEFT = 0,
    DLV__ALIGN_CENTER = 1,
    DLV__ALIGN_RIGHT = 2
} dlv__align;

/* Compiled text: literal pieces and field references in order. */
typedef struct dlv__tpart {
    int field;        /* -1: literal */
    const char *text; /* the literal */
} dlv__tpart;

typedef struct dlv__ttext {
    dlv__tpart *parts;
    size_t count;
} dlv__ttext;

typedef struct dlv__tnode {
    dlv__tnode_kind kind;
    int line;
    int size;         /* BLOCK f0/f1/f2: 0..2; -1 keeps the outer size */
    int align;        /* BLOCK/COL alignment; -1 keeps the outer one */
    int width;        /* COL: characters, 0 for "*" */
    int field;        /* FOREACH/IF/UNLESS */
    const char *sep;  /* LINE: the character (UTF-8) */
    dlv__ttext text;  /* TEXT; PAIR left */
    dlv__ttext right; /* PAIR right */
    struct dlv__tnode *first, *last, *next;
} dlv__tnode;

typedef struct dlv__tpl {
    dlv__arena arena;
    dlv__tnode *root; /* the <doc> element's children */
    bool marks_copy;  /* names Doc.IsCopy somewhere */
    const char *name; /* file name for messages */
} dlv__tpl;

/* Parses a template from memory; `name` appears in messages ("invoice.xml:12: ..."). DLV_ETEMPLATE
 * naming the line, DLV_ENOMEM. Free with dlv__tpl_free. */
int dlv__tpl_parse(const char *name, const char *data, size_t len, dlv__tpl **out, dlv_error *err);
/* Loads <dir>/<file> for `kind` when dir is set and the file exists, else the built-in one. */
int dlv__tpl_load(dlv__doc_kind kind, const char *dir, dlv__tpl **out, dlv_error *err);
void dlv__tpl_free(dlv__tpl *tpl);

/* ---- Documents ---- */

typedef struct dlv__run {
    const char *text; /* sanitized UTF-8: no control characters */
    bool bold;
} dlv__run;

typedef struct dlv__para {
    dlv__run *runs;
    size_t count;
} dlv__para;

typedef enum dlv__block_kind {
    DLV__B_TEXT,
    DLV__B_PAIR,
    DLV__B_LINE,
    DLV__B_BLANK,
    DLV__B_CUT,
    DLV__B_COLUMNS
} dlv__block_kind;

typedef struct dlv__cell {
    dlv__para para;
    int width; /* characters of the receipt width; 0 for "*" */
    int align;
} dlv__cell;

typedef struct dlv__block {
    dlv__block_kind kind;
    int size;         /* 0 normal, 1 double height, 2 double height and width */
    int align;        /* TEXT */
    dlv__para text;   /* TEXT; PAIR left */
    dlv__para right;  /* PAIR */
    const char *sep;  /* LINE */
    dlv__cell *cells; /* COLUMNS */
    size_t cell_count;
} dlv__block;

typedef struct dlv__doc {
    dlv__arena arena;
    dlv__block *blocks;
    size_t count, cap;
} dlv__doc;

/* Values a document needs besides the order. */
typedef struct dlv__doc_input {
    const dlv__order *order;
    const dlv__print_context *ctx;
    int copy_number, copies;       /* this copy, 1-based, of how many */
    const dlv__settings *settings; /* for the kitchen's deadline; NULL: the defaults */
} dlv__doc_input;

/* Builds the document of one copy. DLV_ENOMEM. Free with dlv__doc_free. */
int dlv__doc_build(const dlv__tpl *tpl, const dlv__doc_input *in, dlv__doc **out, dlv_error *err);
void dlv__doc_free(dlv__doc *doc);

/* A field's value for the current elements (NULL elements outside their loops): the text (arena
 * or static storage; "" when absent) and whether an <if> sees it as set. */
typedef struct dlv__eval {
    const dlv__doc_input *in;
    const dlv__item *item;
    const dlv__modifier *modifier;
    const dlv__payment *payment;
    size_t item_index;
} dlv__eval;

bool dlv__field_value(const dlv__eval *ev, int field, dlv__arena *arena, const char **text);
/* Number of elements of a list field. */
size_t dlv__field_list_count(const dlv__eval *ev, int field);
/* Selects element `i` of list field `field` into ev. */
void dlv__field_list_select(dlv__eval *ev, int field, size_t i);

/* ---- Monospace layout (ESC/POS and text) ---- */

typedef struct dlv__mline {
    int size; /* as the block's */
    bool cut; /* a cut instead of text */
    dlv__run *runs;
    size_t count; /* runs already padded for alignment; no trailing spaces */
} dlv__mline;

typedef struct dlv__mlines {
    dlv__mline *lines;
    size_t count, cap;
} dlv__mlines;

/* Column widths in characters of a line `w` wide: fixed ones as given (cut to what is left), "*"
 * ones share the rest. `widths` has cell_count entries (at most DLV__MAX_COLUMNS). */
#define DLV__MAX_COLUMNS 16
void dlv__column_widths(const dlv__block *blk, size_t w, size_t *widths);

/* Lays `doc` out in lines of `width` characters (half as many for size 2), in doc's arena. */
int dlv__layout(dlv__doc *doc, int width, dlv__mlines *out, dlv_error *err);

/* ---- Renderers ---- */

/* ESC/POS bytes of one copy (without the printer init, which the caller writes once). */
int dlv__escpos_begin(const dlv__print_profile *profile, dlv__print_out *out, dlv_error *err);
int dlv__escpos_copy(const dlv__mlines *lines, const dlv__print_profile *profile,
                     dlv__print_out *out, dlv_error *err);
int dlv__text_copy(const dlv__mlines *lines, int width, dlv__print_out *out, dlv_error *err);

/* A4 PDF of the copies' documents, each copy from a new page. */
int dlv__pdf_render(dlv__doc *const *docs, size_t count, int width, const char *title,
                    dlv__print_out *out, dlv_error *err);

#endif
