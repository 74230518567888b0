/* Reading whole files with a size cap, and safe libxml2 parsing of configuration and template
 * files (no network, no DTD, no entities). */
#include "common/xml.h"

#include "common/dynbuf.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <stdio.h>
#include <string.h>

int dlv__read_file(const char *path, size_t max_bytes, char **out, size_t *len, dlv_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return dlv__error_set(err, e == ENOENT ? DLV_ENOTFOUND : DLV_EIO, "%s: cannot open: %s",
                              path, strerror(e));
    }
    dlv__dynbuf buf;
    /* One byte more than allowed: a file of exactly max_bytes still fits with its NUL. */
    dlv__dynbuf_init(&buf, max_bytes < SIZE_MAX ? max_bytes + 1 : SIZE_MAX);
    char chunk[4096];
    int rc = DLV_OK;
    for (;;) {
        size_t got = fread(chunk, 1, sizeof chunk, f);
        if (got == 0) {
            if (ferror(f))
                rc = dlv__error_set(err, DLV_EIO, "%s: read error", path);
            break;
        }
        rc = dlv__dynbuf_add(&buf, chunk, got);
        if (rc == DLV_ETOOLARGE) {
            rc = dlv__error_set(err, DLV_ETOOLARGE, "%s: file is larger than %zu bytes", path,
                                max_bytes);
            break;
        }
        if (rc != DLV_OK) {
            rc = dlv__error_set(err, DLV_ENOMEM, "%s: out of memory reading the file", path);
            break;
        }
    }
    fclose(f);
    size_t n = 0;
    char *data = rc == DLV_OK ? dlv__dynbuf_take(&buf, &n) : NULL;
    if (rc == DLV_OK && !data)
        rc = dlv__error_set(err, DLV_ENOMEM, "%s: out of memory reading the file", path);
    dlv__dynbuf_free(&buf);
    if (rc != DLV_OK)
        return rc;
    *out = data;
    if (len)
        *len = n;
    return DLV_OK;
}

int dlv__xml_read_memory(const char *name, const char *data, size_t len, xmlDocPtr *out,
                         dlv_error *err)
{
    *out = NULL;
    if (len > INT32_MAX)
        return dlv__error_set(err, DLV_ETOOLARGE, "%s: document too large", name);
    /* Idempotent; sets up libxml2's per-thread state so that a worker thread's is freed when
     * the thread ends (the doctor parses on a libuv pool thread). */
    xmlInitParser();
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", name);
    /* No XML_PARSE_NOENT (entities stay unexpanded), no DTDLOAD, no network. */
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, data, (int)len, name, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    int rc = DLV_OK;
    if (!doc || !ctxt->wellFormed) {
        xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
        if (e && e->code == XML_ERR_NO_MEMORY) {
            rc = dlv__error_set(err, DLV_ENOMEM, "%s: out of memory parsing XML", name);
        } else if (e && e->message) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", e->message);
            size_t mlen = strlen(msg);
            while (mlen > 0 && (msg[mlen - 1] == '\n' || msg[mlen - 1] == ' '))
                msg[--mlen] = '\0';
            rc = dlv__error_set(err, DLV_EXML, "%s:%d: malformed XML: %s", name, e->line, msg);
        } else {
            rc = dlv__error_set(err, DLV_EXML, "%s: malformed XML", name);
        }
    } else if (doc->intSubset || doc->extSubset) {
        xmlNodePtr dtd = (xmlNodePtr)(doc->intSubset ? doc->intSubset : doc->extSubset);
        rc = dlv__error_set(err, DLV_EXML,
                            "%s:%ld: a DOCTYPE is not allowed (no DTDs or entities are accepted)",
                            name, xmlGetLineNo(dtd) > 0 ? xmlGetLineNo(dtd) : 1L);
    } else if (!xmlDocGetRootElement(doc)) {
        rc = dlv__error_set(err, DLV_EXML, "%s: malformed XML: no root element", name);
    }
    xmlFreeParserCtxt(ctxt);
    if (rc != DLV_OK) {
        xmlFreeDoc(doc);
        return rc;
    }
    *out = doc;
    return DLV_OK;
}

int dlv__xml_read_file(const char *path, size_t max_bytes, xmlDocPtr *out, dlv_error *err)
{
    char *data;
    size_t len;
    *out = NULL;
    int rc = dlv__read_file(path, max_bytes, &data, &len, err);
    if (rc != DLV_OK)
        return rc;
    if (len == 0) {
        dlv__free(data);
        return dlv__error_set(err, DLV_EXML, "%s: file is empty", path);
    }
    rc = dlv__xml_read_memory(path, data, len, out, err);
    dlv__free(data);
    return rc;
}

char *dlv__xml_text(xmlNodePtr node)
{
    xmlChar *raw = xmlNodeGetContent(node);
    if (!raw)
        return NULL;
    const char *s = (const char *)raw;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    char *copy = dlv__strndup(s, n);
    xmlFree(raw);
    return copy;
}
