/* Safe reading of the XML files the library accepts (configuration, document templates). */
#ifndef DLV__COMMON_XML_H
#define DLV__COMMON_XML_H

#include <libxml/tree.h>

#include "common/internal.h"

/* Reads and parses `path` with no network, no DTD loading, no entity substitution and a size
 * cap; a document carrying a DTD (where entity bombs and external entities live) is refused.
 * Errors name the file and line: DLV_ENOTFOUND / DLV_EIO (cannot read), DLV_ETOOLARGE,
 * DLV_EXML (malformed or DTD). Free *out with xmlFreeDoc(). */
int dlv__xml_read_file(const char *path, size_t max_bytes, xmlDocPtr *out, dlv_error *err);

/* The same for a document in memory; `name` is used in messages. */
int dlv__xml_read_memory(const char *name, const char *data, size_t len, xmlDocPtr *out,
                         dlv_error *err);

/* Reads a whole file (at most max_bytes) into a fresh NUL-terminated buffer. */
int dlv__read_file(const char *path, size_t max_bytes, char **out, size_t *len, dlv_error *err);

/* The element's text with surrounding white space trimmed (fresh allocation), or NULL. */
char *dlv__xml_text(xmlNodePtr node);

#endif
