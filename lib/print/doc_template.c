/* Document templates: a small XML markup in the spirit of iikoFront's, checked whole at load so
 * that a bad layout is refused with its file and line before anything prints.
 *
 *   <doc> ... </doc>                  the root
 *   <center> <left> <right>           paragraph alignment of what is inside
 *   <f0> <f1> <f2>                    font size: normal, double height, double height and width
 *   <bold>                            bold text (may sit inside a paragraph)
 *   <line char="-"/>                  a separator across the width
 *   <np/>                             ends the paragraph; on its own, a blank line
 *   <pagecut/>                        cut the paper (a new page on A4)
 *   <pair left="..." right="..."/>    left text and right text on one line
 *   <columns><col width="N|*" align="left|center|right">...</col>...</columns>
 *   <foreach items="Order.Items|Item.Modifiers|Order.Payments"> ... </foreach>
 *   <if field="..."> ... </if>, <unless field="..."> ... </unless>
 *   {{Order.Number}}                  a field, in text and in pair's attributes
 * Nothing executes: fields are looked up in a fixed table, loops only walk the order's lists. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/tree.h>

#include "common/xml.h"
#include "print/doc.h"
#include "print_templates.h"

#define TEMPLATE_MAX_BYTES ((size_t)256 << 10)
#define TEMPLATE_MAX_DEPTH 32

/* ---- arena ---- */

struct dlv__arena_chunk {
    dlv__arena_chunk *next;
    size_t used, cap;
    max_align_t data[];
};

#define ARENA_CHUNK 8192

void *dlv__arena_alloc(dlv__arena *a, size_t size)
{
    size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (size == 0)
        size = sizeof(max_align_t);
    dlv__arena_chunk *c = a->head;
    if (!c || c->cap - c->used < size) {
        size_t cap = size > ARENA_CHUNK ? size : ARENA_CHUNK;
        c = dlv__malloc(sizeof *c + cap);
        if (!c) {
            a->failed = true;
            return NULL;
        }
        c->cap = cap;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

char *dlv__arena_strndup(dlv__arena *a, const char *s, size_t n)
{
    char *p = dlv__arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *dlv__arena_strdup(dlv__arena *a, const char *s)
{
    return dlv__arena_strndup(a, s, strlen(s));
}

char *dlv__arena_printf(dlv__arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = dlv__arena_alloc(a, (size_t)n + 1);
    if (p) {
        va_start(ap, fmt);
        vsnprintf(p, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return p;
}

void dlv__arena_free(dlv__arena *a)
{
    dlv__arena_chunk *c = a->head;
    while (c) {
        dlv__arena_chunk *next = c->next;
        dlv__free(c);
        c = next;
    }
    a->head = NULL;
}

/* ---- UTF-8 ---- */

size_t dlv__utf8_decode(const char *str, size_t n, uint32_t *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    if (n == 0) {
        *cp = 0;
        return 0;
    }
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    if (n < len) {
        *cp = 0xFFFD;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = v << 6 | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = 0xFFFD;
        return 1;
    }
    *cp = v;
    return len;
}

size_t dlv__utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    } else if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    } else if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---- parsing ---- */

typedef struct parser {
    dlv__tpl *tpl;
    const char *src; /* the template's bytes, to locate errors inside text */
    size_t srclen;
    const char *name;
    dlv_error *err;
    int rc;
} parser;

static int fail(parser *p, long line, const char *fmt, ...) DLV__PRINTF(3, 4);
static int fail(parser *p, long line, const char *fmt, ...)
{
    if (p->rc != DLV_OK)
        return p->rc;
    char msg[DLV_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->rc = dlv__error_set(p->err, DLV_ETEMPLATE, "%s:%ld: %s", p->name, line, msg);
    return p->rc;
}

/* The line of the first occurrence of needle[0..n) in the source at or after line `from`, else
 * `from`. libxml2 numbers a text node by where its first parsed chunk ended, not where it
 * starts, so an error inside text is located in the source itself. */
static long source_line(const parser *p, long from, const char *needle, size_t n)
{
    long line = 1;
    const char *s = p->src, *end = p->src + p->srclen;
    while (s < end && line < from)
        line += *s++ == '\n';
    for (; n > 0 && s + n <= end; s++) {
        if (memcmp(s, needle, n) == 0)
            return line;
        line += *s == '\n';
    }
    return from;
}

static int oom(parser *p)
{
    if (p->rc == DLV_OK)
        p->rc = dlv__error_set(p->err, DLV_ENOMEM, "%s: out of memory", p->name);
    return p->rc;
}

/* The scopes open at a point of the template, as a bit set of 1 << dlv__field_scope. */
typedef unsigned scope_set;

static bool field_usable(int field, scope_set scopes)
{
    return (scopes >> dlv__fields[field].scope) & 1u;
}

/* Compiles "text {{Field}} text" into parts. `from` is the line the text cannot start before;
 * errors name the line of the offending placeholder. */
static int compile_text(parser *p, const char *s, long from, scope_set scopes, dlv__ttext *out)
{
    dlv__arena *a = &p->tpl->arena;
    size_t n = 0;
    for (const char *q = s; (q = strstr(q, "{{")); q += 2)
        n++;
    out->parts = dlv__arena_alloc(a, sizeof(dlv__tpart) * (2 * n + 1));
    if (!out->parts)
        return oom(p);
    out->count = 0;
    const char *q = s;
    while (*q) {
        const char *open = strstr(q, "{{");
        if (!open) {
            out->parts[out->count++] = (dlv__tpart){-1, dlv__arena_strdup(a, q)};
            break;
        }
        if (open > q)
            out->parts[out->count++] =
                (dlv__tpart){-1, dlv__arena_strndup(a, q, (size_t)(open - q))};
        const char *close = strstr(open + 2, "}}");
        if (!close) {
            size_t k = strcspn(open, "\n<");
            return fail(p, source_line(p, from, open, k < 24 ? k : 24), "'{{' without '}}'");
        }
        long at = 0;
        const char *b = open + 2, *e = close;
        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        int field = dlv__field_find(b, (size_t)(e - b));
        const dlv__field_def *def = field >= 0 ? &dlv__fields[field] : NULL;
        if (!def || def->is_list || !field_usable(field, scopes))
            at = source_line(p, from, open, (size_t)(close + 2 - open));
        if (!def)
            return fail(p, at, "unknown field {{%.*s}}", (int)(e - b < 80 ? e - b : 80), b);
        if (def->is_list)
            return fail(p, at, "{{%s}} is a list: walk it with <foreach items=\"%s\">", def->name,
                        def->name);
        if (!field_usable(field, scopes))
            return fail(p, at, "{{%s}} is only valid inside <foreach items=\"%s\">", def->name,
                        def->scope == DLV__SCOPE_MODIFIER  ? "Item.Modifiers"
                        : def->scope == DLV__SCOPE_PAYMENT ? "Order.Payments"
                                                           : "Order.Items");
        if (field == dlv__field_is_copy())
            p->tpl->marks_copy = true;
        out->parts[out->count++] = (dlv__tpart){field, NULL};
        q = close + 2;
    }
    for (size_t i = 0; i < out->count; i++)
        if (out->parts[i].field < 0 && !out->parts[i].text)
            return oom(p);
    return DLV_OK;
}

typedef enum ctx_kind {
    CTX_FLOW,    /* doc and block containers: everything */
    CTX_INLINE,  /* inside <col>: text, bold, if, unless */
    CTX_COLUMNS, /* inside <columns>: only <col> */
    CTX_EMPTY    /* <line/>, <np/>, <pagecut/>, <pair/>: nothing */
} ctx_kind;

static const struct element {
    const char *name;
    dlv__tnode_kind kind;
    int size, align;
    const char *attrs[3];
} elements[] = {
    {"center", DLV__T_BLOCK, -1, DLV__ALIGN_CENTER, {NULL}},
    {"left", DLV__T_BLOCK, -1, DLV__ALIGN_LEFT, {NULL}},
    {"right", DLV__T_BLOCK, -1, DLV__ALIGN_RIGHT, {NULL}},
    {"f0", DLV__T_BLOCK, 0, -1, {NULL}},
    {"f1", DLV__T_BLOCK, 1, -1, {NULL}},
    {"f2", DLV__T_BLOCK, 2, -1, {NULL}},
    {"bold", DLV__T_BOLD, -1, -1, {NULL}},
    {"line", DLV__T_LINE, -1, -1, {"char", NULL}},
    {"np", DLV__T_NP, -1, -1, {NULL}},
    {"pagecut", DLV__T_CUT, -1, -1, {NULL}},
    {"pair", DLV__T_PAIR, -1, -1, {"left", "right", NULL}},
    {"columns", DLV__T_COLUMNS, -1, -1, {NULL}},
    {"col", DLV__T_COL, -1, -1, {"width", "align", NULL}},
    {"foreach", DLV__T_FOREACH, -1, -1, {"items", NULL}},
    {"if", DLV__T_IF, -1, -1, {"field", NULL}},
    {"unless", DLV__T_UNLESS, -1, -1, {"field", NULL}},
};

static bool is_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

/* An attribute's value (fresh), or NULL when absent or out of memory (then p->rc is set). */
static char *attr(parser *p, xmlNodePtr n, const char *name)
{
    if (!xmlHasNsProp(n, (const xmlChar *)name, NULL))
        return NULL;
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    char *s = v ? dlv__strdup((const char *)v) : NULL;
    xmlFree(v);
    if (!s)
        oom(p);
    return s;
}

static dlv__tnode *new_node(parser *p, dlv__tnode *parent, dlv__tnode_kind kind, long line)
{
    dlv__tnode *t = dlv__arena_alloc(&p->tpl->arena, sizeof *t);
    if (!t) {
        oom(p);
        return NULL;
    }
    t->kind = kind;
    t->line = (int)line;
    t->size = -1;
    t->align = -1;
    t->field = -1;
    if (parent->last)
        parent->last->next = t;
    else
        parent->first = t;
    parent->last = t;
    return t;
}

static int parse_children(parser *p, xmlNodePtr x, dlv__tnode *parent, ctx_kind ctx,
                          scope_set scopes, int depth);

static int parse_field_attr(parser *p, xmlNodePtr x, const char *name, scope_set scopes,
                            bool want_list, int *field)
{
    long line = xmlGetLineNo(x);
    char *v = attr(p, x, name);
    if (p->rc != DLV_OK)
        return p->rc;
    if (!v)
        return fail(p, line, "<%s> needs %s=\"...\"", (const char *)x->name, name);
    int f = dlv__field_find(v, strlen(v));
    if (f < 0) {
        fail(p, line, "<%s %s=\"%.80s\">: unknown field", (const char *)x->name, name, v);
    } else if (want_list && !dlv__fields[f].is_list) {
        fail(p, line, "<%s %s=\"%s\">: not a list (Order.Items, Item.Modifiers, Order.Payments)",
             (const char *)x->name, name, v);
    } else if (!field_usable(f, scopes)) {
        fail(p, line, "<%s %s=\"%s\">: only valid inside <foreach items=\"%s\">",
             (const char *)x->name, name, v,
             dlv__fields[f].scope == DLV__SCOPE_PAYMENT ? "Order.Payments" : "Order.Items");
    }
    dlv__free(v);
    if (p->rc != DLV_OK)
        return p->rc;
    if (f == dlv__field_is_copy())
        p->tpl->marks_copy = true;
    *field = f;
    return DLV_OK;
}

static int parse_align(parser *p, xmlNodePtr x, int *align)
{
    char *v = attr(p, x, "align");
    if (!v)
        return p->rc;
    if (strcmp(v, "left") == 0)
        *align = DLV__ALIGN_LEFT;
    else if (strcmp(v, "center") == 0)
        *align = DLV__ALIGN_CENTER;
    else if (strcmp(v, "right") == 0)
        *align = DLV__ALIGN_RIGHT;
    else
        fail(p, xmlGetLineNo(x), "<%s align=\"%.40s\">: use left, center or right",
             (const char *)x->name, v);
    dlv__free(v);
    return p->rc;
}

static int parse_element(parser *p, xmlNodePtr x, dlv__tnode *parent, ctx_kind ctx,
                         scope_set scopes, int depth)
{
    long line = xmlGetLineNo(x);
    const char *name = (const char *)x->name;
    const struct element *el = NULL;
    if (!x->ns)
        for (size_t i = 0; i < DLV__ARRAY_SIZE(elements); i++)
            if (strcmp(elements[i].name, name) == 0)
                el = &elements[i];
    if (!el)
        return fail(p, line, "unknown element <%.60s>", name);
    if (depth > TEMPLATE_MAX_DEPTH)
        return fail(p, line, "elements nested deeper than %d", TEMPLATE_MAX_DEPTH);
    for (xmlAttrPtr at = x->properties; at; at = at->next) {
        bool known = false;
        for (size_t i = 0; el->attrs[i]; i++)
            known |= !at->ns && strcmp(el->attrs[i], (const char *)at->name) == 0;
        if (!known)
            return fail(p, line, "<%s>: unknown attribute %.60s", name, (const char *)at->name);
    }
    if (ctx == CTX_COLUMNS && el->kind != DLV__T_COL)
        return fail(p, line, "<columns> holds only <col> elements, not <%s>", name);
    if (ctx != CTX_COLUMNS && el->kind == DLV__T_COL)
        return fail(p, line, "<col> outside <columns>");
    if (ctx == CTX_INLINE && el->kind != DLV__T_BOLD && el->kind != DLV__T_IF &&
        el->kind != DLV__T_UNLESS)
        return fail(p, line, "<%s> is not allowed inside <col> (only text, <bold>, <if>, <unless>)",
                    name);

    dlv__tnode *t = new_node(p, parent, el->kind, line);
    if (!t)
        return p->rc;
    t->size = el->size;
    t->align = el->align;
    ctx_kind inner = ctx == CTX_INLINE ? CTX_INLINE : CTX_FLOW;
    switch (el->kind) {
    case DLV__T_LINE: {
        char *c = attr(p, x, "char");
        if (p->rc != DLV_OK)
            return p->rc;
        t->sep = "-";
        if (c) {
            uint32_t cp;
            size_t n = dlv__utf8_decode(c, strlen(c), &cp);
            if (n == 0 || c[n] != '\0' || cp < 0x20 || cp == 0xFFFD)
                fail(p, line, "<line char=\"%.20s\">: give exactly one printable character", c);
            else
                t->sep = dlv__arena_strdup(&p->tpl->arena, c);
            dlv__free(c);
            if (p->rc != DLV_OK)
                return p->rc;
            if (!t->sep)
                return oom(p);
        }
        inner = CTX_EMPTY;
        break;
    }
    case DLV__T_NP:
    case DLV__T_CUT:
        inner = CTX_EMPTY;
        break;
    case DLV__T_PAIR: {
        char *l = attr(p, x, "left"), *r = p->rc == DLV_OK ? attr(p, x, "right") : NULL;
        if (p->rc == DLV_OK)
            compile_text(p, l ? l : "", line, scopes, &t->text);
        if (p->rc == DLV_OK)
            compile_text(p, r ? r : "", line, scopes, &t->right);
        dlv__free(l);
        dlv__free(r);
        if (p->rc != DLV_OK)
            return p->rc;
        inner = CTX_EMPTY;
        break;
    }
    case DLV__T_COLUMNS: {
        size_t n = 0;
        for (xmlNodePtr c = x->children; c; c = c->next)
            n += c->type == XML_ELEMENT_NODE;
        if (n > DLV__MAX_COLUMNS)
            return fail(p, line, "<columns> with more than %d <col>", DLV__MAX_COLUMNS);
        inner = CTX_COLUMNS;
        break;
    }
    case DLV__T_COL: {
        char *w = attr(p, x, "width");
        if (p->rc != DLV_OK) {
            return p->rc;
        } else if (!w) {
            fail(p, line, "<col> needs width=\"N\" (characters) or width=\"*\" (the rest)");
        } else if (strcmp(w, "*") == 0) {
            t->width = 0;
        } else {
            char *end;
            errno = 0;
            long v = strtol(w, &end, 10);
            if (errno || *end || end == w || v < 1 || v > 200)
                fail(p, line, "<col width=\"%.20s\">: a number of characters 1..200 or *", w);
            t->width = (int)v;
        }
        dlv__free(w);
        t->align = DLV__ALIGN_LEFT;
        if (p->rc != DLV_OK || parse_align(p, x, &t->align) != DLV_OK)
            return p->rc;
        inner = CTX_INLINE;
        break;
    }
    case DLV__T_FOREACH: {
        if (parse_field_attr(p, x, "items", scopes, true, &t->field) != DLV_OK)
            return p->rc;
        scopes |= 1u << dlv__fields[t->field].list_item;
        break;
    }
    case DLV__T_IF:
    case DLV__T_UNLESS:
        if (parse_field_attr(p, x, "field", scopes, false, &t->field) != DLV_OK)
            return p->rc;
        break;
    default:
        break;
    }
    return parse_children(p, x, t, inner, scopes, depth + 1);
}

static int parse_children(parser *p, xmlNodePtr x, dlv__tnode *parent, ctx_kind ctx,
                          scope_set scopes, int depth)
{
    long from = xmlGetLineNo(x); /* text cannot start before its parent or previous element */
    for (xmlNodePtr c = x->children; c && p->rc == DLV_OK; c = c->next) {
        switch (c->type) {
        case XML_ELEMENT_NODE:
            if (ctx == CTX_EMPTY)
                return fail(p, xmlGetLineNo(c), "<%s> must be empty", (const char *)x->name);
            parse_element(p, c, parent, ctx, scopes, depth);
            if (xmlGetLineNo(c) > from)
                from = xmlGetLineNo(c);
            break;
        case XML_TEXT_NODE:
        case XML_CDATA_SECTION_NODE: {
            const char *s = (const char *)c->content;
            if (!s || is_blank(s)) {
                /* White space between elements still separates words in a paragraph. */
                if (s && *s && (ctx == CTX_FLOW || ctx == CTX_INLINE)) {
                    dlv__tnode *t = new_node(p, parent, DLV__T_TEXT, from);
                    if (t)
                        compile_text(p, " ", from, scopes, &t->text);
                }
                break;
            }
            if (ctx == CTX_EMPTY || ctx == CTX_COLUMNS) {
                const char *w = s + strspn(s, " \t\r\n");
                size_t k = strcspn(w, "\r\n");
                return fail(p, source_line(p, from, w, k < 16 ? k : 16),
                            "text is not allowed inside <%s>", (const char *)x->name);
            }
            dlv__tnode *t = new_node(p, parent, DLV__T_TEXT, from);
            if (t)
                compile_text(p, s, from, scopes, &t->text);
            break;
        }
        case XML_COMMENT_NODE:
        case XML_PI_NODE:
            break;
        default:
            return fail(p, xmlGetLineNo(c), "unexpected XML node inside <%s>",
                        (const char *)x->name);
        }
    }
    return p->rc;
}

int dlv__tpl_parse(const char *name, const char *data, size_t len, dlv__tpl **out, dlv_error *err)
{
    *out = NULL;
    xmlDocPtr xdoc = NULL;
    int rc = dlv__xml_read_memory(name, data, len, &xdoc, err);
    if (rc != DLV_OK) {
        /* Malformed XML is a bad template too; the message already names file:line. */
        if (rc == DLV_EXML && err)
            err->code = DLV_ETEMPLATE;
        return rc == DLV_EXML ? DLV_ETEMPLATE : rc;
    }
    dlv__tpl *tpl = dlv__calloc(1, sizeof *tpl);
    if (!tpl) {
        xmlFreeDoc(xdoc);
        return dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", name);
    }
    parser p = {.tpl = tpl, .src = data, .srclen = len, .name = name, .err = err, .rc = DLV_OK};
    tpl->name = dlv__arena_strdup(&tpl->arena, name);
    tpl->root = dlv__arena_alloc(&tpl->arena, sizeof *tpl->root);
    xmlNodePtr root = xmlDocGetRootElement(xdoc);
    if (!tpl->name || !tpl->root)
        oom(&p);
    else if (!root || root->ns || strcmp((const char *)root->name, "doc") != 0)
        fail(&p, root ? xmlGetLineNo(root) : 1, "the root element must be <doc>, not <%.60s>",
             root ? (const char *)root->name : "");
    else if (root->properties)
        fail(&p, xmlGetLineNo(root), "<doc>: unknown attribute %.60s",
             (const char *)root->properties->name);
    else
        parse_children(&p, root, tpl->root, CTX_FLOW, 1u << DLV__SCOPE_ORDER, 1);
    xmlFreeDoc(xdoc);
    if (p.rc == DLV_OK && tpl->arena.failed)
        oom(&p);
    if (p.rc != DLV_OK) {
        dlv__tpl_free(tpl);
        return p.rc;
    }
    *out = tpl;
    return DLV_OK;
}

void dlv__tpl_free(dlv__tpl *tpl)
{
    if (!tpl)
        return;
    dlv__arena_free(&tpl->arena);
    dlv__free(tpl);
}

const char *dlv__print_template_file_name(dlv__doc_kind kind)
{
    return kind == DLV__DOC_SERVICE_CHECK ? "service-check.xml" : "invoice.xml";
}

const char *dlv__print_doc_name(dlv__doc_kind kind)
{
    return kind == DLV__DOC_SERVICE_CHECK ? "ServiceCheck" : "Invoice";
}

const char *dlv__print_builtin_template(dlv__doc_kind kind)
{
    const char *file = dlv__print_template_file_name(kind);
    for (size_t i = 0; i < DLV__ARRAY_SIZE(dlv__print_builtin_templates); i++)
        if (strcmp(dlv__print_builtin_templates[i].name, file) == 0)
            return dlv__print_builtin_templates[i].data;
    return NULL;
}

int dlv__tpl_load(dlv__doc_kind kind, const char *dir, dlv__tpl **out, dlv_error *err)
{
    *out = NULL;
    const char *file = dlv__print_template_file_name(kind);
    if (dir && *dir) {
        char *path = dlv__asprintf("%s/%s", dir, file);
        if (!path)
            return dlv__error_set(err, DLV_ENOMEM, "out of memory");
        struct stat st;
        if (stat(path, &st) == 0) {
            char *data = NULL;
            size_t len = 0;
            int rc = dlv__read_file(path, TEMPLATE_MAX_BYTES, &data, &len, err);
            if (rc == DLV_OK)
                rc = dlv__tpl_parse(path, data, len, out, err);
            else if (rc == DLV_ETOOLARGE)
                rc = dlv__error_set(err, DLV_ETEMPLATE, "%s: larger than %zu bytes: not a layout",
                                    path, TEMPLATE_MAX_BYTES);
            dlv__free(data);
            dlv__free(path);
            return rc;
        }
        int e = errno;
        dlv__free(path);
        if (e != ENOENT && e != ENOTDIR)
            return dlv__error_set(err, DLV_EIO, "%s/%s: %s", dir, file, strerror(e));
    }
    const char *builtin = dlv__print_builtin_template(kind);
    if (!builtin)
        return dlv__error_set(err, DLV_ETEMPLATE, "no built-in template %s", file);
    char name[64];
    snprintf(name, sizeof name, "built-in %s", file);
    int rc = dlv__tpl_parse(name, builtin, strlen(builtin), out, err);
    if (rc == DLV_ETEMPLATE) {
        /* The built-in layouts are checked by the tests: failing to read one means libxml2 ran
         * out of memory, whatever it called the failure. */
        rc = dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", name);
    }
    return rc;
}

int dlv__print_templates_check(const char *templates_dir, dlv_error *err)
{
    for (int k = DLV__DOC_INVOICE; k <= DLV__DOC_SERVICE_CHECK; k++) {
        dlv__tpl *tpl;
        int rc = dlv__tpl_load((dlv__doc_kind)k, templates_dir, &tpl, err);
        if (rc != DLV_OK)
            return rc;
        dlv__tpl_free(tpl);
    }
    return DLV_OK;
}
