/* deliveryPluginConfig.xml: the plugin's own configuration file. */
#include "delivery/config.h"

#include <ctype.h>
#include <errno.h>
#include <libxml/uri.h>
#include <libxml/xmlsave.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/fsutil.h"
#include "common/xml.h"

#define FILE_NAME "deliveryPluginConfig.xml"
#define PLUGIN_FOLDER "iiko/CashServer/PluginConfigs/Resto.Front.Api.Delivery"

struct dlv_config {
    char *path;
    char *server_url;
    char *terminal_id;
    char *ca_file;
    char *backend; /* NULL: the default, the native protocol */
    char *api_login, *organization_id, *terminal_group_id; /* iikoCloud */
    long poll_interval_s;
    long timeout_ms;
    long connect_delay_s;
    int terminal_id_generated;
    int created; /* this load wrote the file (the first start) */
    char **warnings;
    size_t warning_count;
};

enum field {
    F_TIMEOUT,
    F_SERVER_URL,
    F_TERMINAL_ID,
    F_CONNECT_DELAY,
    F_CA_FILE,
    F_BACKEND,
    F_API_LOGIN,
    F_ORGANIZATION,
    F_TERMINAL_GROUP,
    F_POLL_INTERVAL,
    F_COUNT
};

static const char *const field_names[F_COUNT] = {
    [F_TIMEOUT] = "serviceMethodTimeoutMilliseconds",
    [F_SERVER_URL] = "serverUrl",
    [F_TERMINAL_ID] = "terminalId",
    [F_CONNECT_DELAY] = "connectToServerDelayInSeconds",
    [F_CA_FILE] = "trustedCaFile",
    [F_BACKEND] = "backend",
    [F_API_LOGIN] = "apiLogin",
    [F_ORGANIZATION] = "organizationId",
    [F_TERMINAL_GROUP] = "terminalGroupId",
    [F_POLL_INTERVAL] = "pollIntervalSeconds",
};

/* The call-center backends the library has (lib/net/backend.c registers each under this name;
 * test_runtime_sync checks the two lists agree). The first is the default. */
static const char *const backend_names[] = {"native", "iikoCloud"};

void dlv_config_free(dlv_config *cfg)
{
    if (!cfg)
        return;
    dlv__free(cfg->path);
    dlv__free(cfg->server_url);
    dlv__free(cfg->terminal_id);
    dlv__free(cfg->ca_file);
    dlv__free(cfg->backend);
    dlv__free(cfg->api_login);
    dlv__free(cfg->organization_id);
    dlv__free(cfg->terminal_group_id);
    for (size_t i = 0; i < cfg->warning_count; i++)
        dlv__free(cfg->warnings[i]);
    dlv__free(cfg->warnings);
    dlv__free(cfg);
}

static int add_warning(dlv_config *cfg, char *text, dlv_error *err)
{
    char **grown =
        text ? dlv__realloc(cfg->warnings, (cfg->warning_count + 1) * sizeof *grown) : NULL;
    if (!grown) {
        dlv__free(text);
        return dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", cfg->path);
    }
    cfg->warnings = grown;
    cfg->warnings[cfg->warning_count++] = text;
    return DLV_OK;
}

#define XSI_NS ((const xmlChar *)"http://www.w3.org/2001/XMLSchema-instance")

static bool is_nil(xmlNodePtr node)
{
    xmlChar *nil = xmlGetNsProp(node, (const xmlChar *)"nil", XSI_NS);
    bool yes = nil && strcmp((const char *)nil, "true") == 0;
    xmlFree(nil);
    return yes;
}

/* Gives an empty or nil <terminalId> its generated id: the nil mark goes, or the next start
 * would read the id as absent and generate another. */
static void fill_terminal_id(xmlNodePtr node, const char *id)
{
    xmlAttrPtr nil = xmlHasNsProp(node, (const xmlChar *)"nil", XSI_NS);
    if (nil)
        xmlRemoveProp(nil);
    xmlNodeSetContent(node, (const xmlChar *)id);
}

/* Whole number in [lo, hi]; the message names the element and what was wrong with the value. */
static int parse_long(const char *path, long line, const char *name, const char *text, long lo,
                      long hi, long *out, dlv_error *err)
{
    const char *p = text;
    if (*p == '-' || *p == '+')
        p++;
    bool digits = *p != '\0';
    for (; *p; p++)
        digits = digits && isdigit((unsigned char)*p);
    if (!digits)
        return dlv__error_set(err, DLV_ECONFIG, "%s:%ld: <%s>: '%s' is not a whole number", path,
                              line, name, text);
    errno = 0;
    long v = strtol(text, NULL, 10);
    if (errno == ERANGE || v < lo || v > hi)
        return dlv__error_set(err, DLV_ECONFIG, "%s:%ld: <%s>: %s is out of range %ld..%ld", path,
                              line, name, text, lo, hi);
    *out = v;
    return DLV_OK;
}

static int parse_server_url(const char *path, long line, const char *text, char **out,
                            dlv_error *err)
{
    for (const char *p = text; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return dlv__error_set(err, DLV_ECONFIG,
                                  "%s:%ld: <serverUrl>: '%s' contains spaces or control characters",
                                  path, line, text);
    }
    xmlURIPtr uri = xmlParseURI(text);
    bool http = uri && uri->scheme &&
                (strcasecmp(uri->scheme, "http") == 0 || strcasecmp(uri->scheme, "https") == 0);
    bool host = uri && uri->server && uri->server[0];
    xmlFreeURI(uri);
    if (!http || !host)
        return dlv__error_set(err, DLV_ECONFIG,
                              "%s:%ld: <serverUrl>: '%s' is not an http:// or https:// address of "
                              "the call-center (e.g. http://callcenter:8080/resto)",
                              path, line, text);
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '/')
        n--; /* protocol paths are appended with their own leading slash */
    *out = dlv__strndup(text, n);
    return *out ? DLV_OK : dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", path);
}

/* One of backend_names; an unknown value names the element, the line and what is allowed. */
static int parse_backend(const char *path, long line, char *text, char **out, dlv_error *err)
{
    char allowed[128] = "";
    for (size_t i = 0; i < sizeof backend_names / sizeof backend_names[0]; i++) {
        if (strcmp(text, backend_names[i]) == 0) {
            *out = text;
            return DLV_OK;
        }
        size_t used = strlen(allowed);
        snprintf(allowed + used, sizeof allowed - used, "%s%s", i ? ", " : "", backend_names[i]);
    }
    return dlv__error_set(err, DLV_ECONFIG,
                          "%s:%ld: <backend>: '%s' is not a call-center backend (allowed: %s)",
                          path, line, text, allowed);
}

/* Appends <terminalId> as the root's last element, indented like its first element. */
static int insert_terminal_id(xmlNodePtr root, const char *id)
{
    xmlNodePtr first = NULL, last = NULL;
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE) {
            if (!first)
                first = n;
            last = n;
        }
    }
    xmlChar *indent = NULL;
    if (first && first->prev && first->prev->type == XML_TEXT_NODE)
        indent = xmlNodeGetContent(first->prev);
    xmlNodePtr elem =
        xmlNewDocNode(root->doc, NULL, (const xmlChar *)"terminalId", (const xmlChar *)id);
    if (!elem)
        goto fail;
    if (last) {
        if (indent) {
            xmlNodePtr ws = xmlNewDocText(root->doc, indent);
            if (!ws || !xmlAddNextSibling(last, ws)) {
                xmlFreeNode(ws);
                goto fail;
            }
            last = ws;
        }
        if (!xmlAddNextSibling(last, elem))
            goto fail;
    } else if (!xmlAddChild(root, elem)) {
        goto fail;
    }
    xmlFree(indent);
    return DLV_OK;

fail:
    xmlFreeNode(elem); /* NULL, or not linked into the document */
    xmlFree(indent);
    return DLV_ENOMEM;
}

/* The new contents must read back as the same configuration with the new terminalId before they
 * replace the file: an exotic declared encoding (UTF-7) can serialise into something the next
 * start would refuse, and the file must never be destroyed by the write-back. */
static int verify_written(const char *path, const char *data, size_t len, xmlDocPtr original,
                          dlv_error *err)
{
    xmlDocPtr doc = NULL;
    dlv_error perr = {0};
    int rc = dlv__xml_read_memory(path, data, len, &doc, &perr);
    bool same = false;
    if (rc == DLV_OK) {
        xmlNodePtr root = xmlDocGetRootElement(doc);
        xmlNodePtr want = xmlDocGetRootElement(original);
        same = root && strcmp((const char *)root->name, "config") == 0;
        for (xmlNodePtr a = want->children, b = root ? root->children : NULL; same && (a || b);
             a = a ? a->next : NULL, b = b ? b->next : NULL) {
            same = a && b && a->type == b->type &&
                   (a->type != XML_ELEMENT_NODE ||
                    strcmp((const char *)a->name, (const char *)b->name) == 0);
            if (same && a->type == XML_ELEMENT_NODE) {
                char *ta = dlv__xml_text(a), *tb = dlv__xml_text(b);
                same = ta && tb && strcmp(ta, tb) == 0;
                dlv__free(ta);
                dlv__free(tb);
            }
        }
    }
    xmlFreeDoc(doc);
    if (rc == DLV_ENOMEM)
        return dlv__error_set(err, rc, "%s: out of memory checking the write-back", path);
    if (!same)
        return dlv__error_set(
            err, DLV_ECONFIG,
            "%s: cannot write terminalId back in the file's encoding (%s) without "
            "changing it; save the file as UTF-8, or add <terminalId> yourself",
            path, original->encoding ? (const char *)original->encoding : "?");
    return DLV_OK;
}

/* Serialises the document as it was read (declaration, encoding, comments, a UTF-8 BOM) and
 * replaces the file atomically. */
static int write_back(const char *path, xmlDocPtr doc, bool had_decl, bool had_bom, dlv_error *err)
{
    xmlBufferPtr buf = xmlBufferCreate();
    if (!buf)
        return dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", path);
    int options = XML_SAVE_AS_XML | (had_decl ? 0 : XML_SAVE_NO_DECL);
    const char *encoding = doc->encoding ? (const char *)doc->encoding : NULL;
    xmlSaveCtxtPtr save = xmlSaveToBuffer(buf, encoding, options);
    long saved = save ? xmlSaveDoc(save, doc) : -1;
    if (save)
        saved = xmlSaveClose(save) < 0 ? -1 : saved;
    int rc = DLV_OK;
    if (saved < 0) {
        rc = dlv__error_set(err, DLV_EIO,
                            "%s: cannot serialise the configuration to write back "
                            "terminalId",
                            path);
    } else {
        size_t len = (size_t)xmlBufferLength(buf);
        const char *content = (const char *)xmlBufferContent(buf);
        char *out = dlv__malloc(len + 3);
        if (!out) {
            rc = dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", path);
        } else {
            size_t off = 0;
            if (had_bom) {
                memcpy(out, "\xEF\xBB\xBF", 3);
                off = 3;
            }
            memcpy(out + off, content, len);
            rc = verify_written(path, out, len + off, doc, err);
            if (rc == DLV_OK)
                rc = dlv__write_file_atomic(path, out, len + off, err);
            dlv__free(out);
        }
    }
    xmlBufferFree(buf);
    return rc;
}

static int load_fields(dlv_config *cfg, xmlNodePtr root, xmlNodePtr *terminal_id_node,
                       dlv_error *err)
{
    const char *path = cfg->path;
    long seen_line[F_COUNT] = {0};
    for (xmlNodePtr node = root->children; node; node = node->next) {
        if (node->type != XML_ELEMENT_NODE)
            continue;
        long line = xmlGetLineNo(node);
        const char *name = (const char *)node->name;
        int field = -1;
        for (int f = 0; f < F_COUNT; f++) {
            if (strcmp(name, field_names[f]) == 0)
                field = f;
        }
        if (field < 0) {
            int rc = add_warning(cfg,
                                 dlv__asprintf("%s:%ld: unknown element <%s> ignored (kept in the "
                                               "file)",
                                               path, line, name),
                                 err);
            if (rc != DLV_OK)
                return rc;
            continue;
        }
        if (seen_line[field])
            return dlv__error_set(err, DLV_ECONFIG,
                                  "%s:%ld: <%s> appears twice (first at line %ld)", path, line,
                                  name, seen_line[field]);
        seen_line[field] = line;
        for (xmlNodePtr child = node->children; child; child = child->next) {
            if (child->type == XML_ELEMENT_NODE)
                return dlv__error_set(err, DLV_ECONFIG,
                                      "%s:%ld: <%s> must hold text only, found element <%s>", path,
                                      line, name, (const char *)child->name);
        }
        if (is_nil(node)) {
            if (field == F_TERMINAL_ID)
                *terminal_id_node = node; /* nil: generated like an absent one, filled in place */
            continue;
        }
        char *text = dlv__xml_text(node);
        if (!text)
            return dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", path);
        int rc = DLV_OK;
        switch (field) {
        case F_TIMEOUT:
            rc = parse_long(path, line, name, text, DLV_CONFIG_TIMEOUT_MS_MIN,
                            DLV_CONFIG_TIMEOUT_MS_MAX, &cfg->timeout_ms, err);
            break;
        case F_CONNECT_DELAY:
            rc = parse_long(path, line, name, text, 0, DLV_CONFIG_CONNECT_DELAY_S_MAX,
                            &cfg->connect_delay_s, err);
            break;
        case F_SERVER_URL:
            /* Empty (as the first start writes it): not set yet, like an absent element. */
            if (*text)
                rc = parse_server_url(path, line, text, &cfg->server_url, err);
            break;
        case F_TERMINAL_ID:
            if (!*text) {
                *terminal_id_node = node; /* empty: generated like an absent one */
            } else if (!dlv__uuid_valid(text)) {
                rc = dlv__error_set(err, DLV_ECONFIG,
                                    "%s:%ld: <terminalId>: '%s' is not a UUID (remove the element "
                                    "to have a new one generated)",
                                    path, line, text);
            } else {
                cfg->terminal_id = text;
                text = NULL;
            }
            break;
        case F_CA_FILE:
            if (*text) {
                cfg->ca_file = text;
                text = NULL;
            }
            break;
        case F_BACKEND:
            if (*text) /* empty: the default, like an absent one */
                rc = parse_backend(path, line, text, &cfg->backend, err);
            if (rc == DLV_OK && cfg->backend == text)
                text = NULL;
            break;
        case F_API_LOGIN:
            if (*text) {
                cfg->api_login = text;
                text = NULL;
            }
            break;
        case F_ORGANIZATION:
        case F_TERMINAL_GROUP:
            if (*text && !dlv__uuid_valid(text)) {
                rc = dlv__error_set(err, DLV_ECONFIG, "%s:%ld: <%s>: '%s' is not a UUID", path,
                                    line, name, text);
            } else if (*text) {
                *(field == F_ORGANIZATION ? &cfg->organization_id : &cfg->terminal_group_id) = text;
                text = NULL;
            }
            break;
        case F_POLL_INTERVAL:
            rc = parse_long(path, line, name, text, 1, 300, &cfg->poll_interval_s, err);
            break;
        }
        dlv__free(text);
        if (rc != DLV_OK)
            return rc;
    }
    if (cfg->backend && strcmp(cfg->backend, "iikoCloud") == 0) {
        /* iikoCloud: the public API address unless the file names another (a sandbox). */
        const char *need = !cfg->api_login         ? "apiLogin (the chain's API key for iikoCloud)"
                           : !cfg->organization_id ? "organizationId (the restaurant's UUID)"
                           : !cfg->terminal_group_id ? "terminalGroupId (this point's terminal "
                                                       "group UUID)"
                                                     : NULL;
        if (need)
            return dlv__error_set(err, DLV_ECONFIG, "%s: <%s> is required with <backend>iikoCloud",
                                  path, need);
        if (!cfg->server_url && !(cfg->server_url = dlv__strdup(DLV_CONFIG_IIKO_URL)))
            return dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", path);
    }
    /* No serverUrl (absent or empty) is not an error of the file: the terminal starts without
     * connecting and tells the operator to set it (dlv_config_server_url() is NULL then). */
    return DLV_OK;
}

/* The file the first start writes (docs/configuration.md, "First start"): every element with
 * its default and a comment for the operator, in Russian, and a new terminalId; serverUrl stays
 * empty until the operator sets it. */
static char *first_start_text(const char *terminal_id)
{
    return dlv__asprintf(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        "<!-- Настройки плагина доставки. Файл создан при первом запуске терминала:\n"
        "     укажите serverUrl и перезапустите терминал. -->\n"
        "<config>\n"
        "  <!-- Адрес сервера колл-центра, например http://callcenter:8080/resto.\n"
        "       Пока он пуст, терминал не подключается к колл-центру. -->\n"
        "  <serverUrl></serverUrl>\n"
        "  <!-- Время ожидания ответа сервера, в миллисекундах (%d..%d). -->\n"
        "  <serviceMethodTimeoutMilliseconds>%d</serviceMethodTimeoutMilliseconds>\n"
        "  <!-- Пауза перед первым подключением к серверу после запуска, в секундах (0..%d). -->\n"
        "  <connectToServerDelayInSeconds>%d</connectToServerDelayInSeconds>\n"
        "  <!-- Идентификатор этого терминала в колл-центре, создан автоматически.\n"
        "       Удалите его, чтобы терминал зарегистрировался заново. -->\n"
        "  <terminalId>%s</terminalId>\n"
        "  <!-- Файл PEM с сертификатом центра сертификации частного колл-центра (https);\n"
        "       пусто: системное хранилище сертификатов. -->\n"
        "  <trustedCaFile></trustedCaFile>\n"
        "  <!-- Протокол колл-центра: native (по умолчанию) или iikoCloud. -->\n"
        "  <backend>native</backend>\n"
        "  <!-- Только для iikoCloud: ключ API сети (apiLogin). -->\n"
        "  <apiLogin></apiLogin>\n"
        "  <!-- Только для iikoCloud: UUID организации (ресторана). -->\n"
        "  <organizationId></organizationId>\n"
        "  <!-- Только для iikoCloud: UUID группы терминалов этой точки. -->\n"
        "  <terminalGroupId></terminalGroupId>\n"
        "  <!-- Только для iikoCloud: как часто спрашивать новые заказы, в секундах (1..300). "
        "-->\n"
        "  <pollIntervalSeconds>%d</pollIntervalSeconds>\n"
        "</config>\n",
        DLV_CONFIG_TIMEOUT_MS_MIN, DLV_CONFIG_TIMEOUT_MS_MAX, DLV_CONFIG_TIMEOUT_MS_DEFAULT,
        DLV_CONFIG_CONNECT_DELAY_S_MAX, DLV_CONFIG_CONNECT_DELAY_S_DEFAULT, terminal_id,
        DLV_CONFIG_POLL_INTERVAL_S_DEFAULT);
}

/* The first start: `path` does not exist; it is created atomically (a crash leaves either no
 * file or the whole one). */
static int create_first_start(const char *path, dlv_error *err)
{
    char id[37];
    if (dlv__uuid_v4(id) != DLV_OK)
        return dlv__error_set(err, DLV_EIO, "%s: cannot generate a terminalId: no random source",
                              path);
    char *text = first_start_text(id);
    if (!text)
        return dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", path);
    int rc = dlv__write_file_atomic(path, text, strlen(text), err);
    dlv__free(text);
    return rc;
}

int dlv_config_load(const char *path, unsigned flags, dlv_config **out, dlv_error *err)
{
    if (!out)
        return dlv__error_set(err, DLV_EINVAL, "dlv_config_load: out is NULL");
    *out = NULL;
    dlv__error_clear(err);
    char *default_path = NULL;
    if (!path) {
        path = default_path = dlv_config_default_path();
        if (!path)
            return dlv__error_set(err, DLV_ECONFIG,
                                  "no configuration path given and no default location (neither "
                                  "APPDATA, XDG_CONFIG_HOME nor HOME is set)");
    }
    dlv_config *cfg = dlv__calloc(1, sizeof *cfg);
    if (!cfg) {
        dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", path);
        dlv__free(default_path); /* `path` may be this very string: free after the message */
        return DLV_ENOMEM;
    }
    cfg->path = default_path ? default_path : dlv__strdup(path);
    cfg->timeout_ms = DLV_CONFIG_TIMEOUT_MS_DEFAULT;
    cfg->connect_delay_s = DLV_CONFIG_CONNECT_DELAY_S_DEFAULT;
    cfg->poll_interval_s = DLV_CONFIG_POLL_INTERVAL_S_DEFAULT;
    if (!cfg->path) {
        dlv__free(cfg);
        return dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", path);
    }

    char *raw = NULL;
    size_t len = 0;
    xmlDocPtr doc = NULL;
    int rc = dlv__read_file(cfg->path, DLV_CONFIG_MAX_FILE_BYTES, &raw, &len, err);
    bool created = false;
    if (rc == DLV_ENOTFOUND && !(flags & DLV_CONFIG_READ_ONLY)) {
        dlv__error_clear(err);
        rc = create_first_start(cfg->path, err);
        created = rc == DLV_OK;
        if (created)
            rc = dlv__read_file(cfg->path, DLV_CONFIG_MAX_FILE_BYTES, &raw, &len, err);
    }
    if (rc == DLV_OK && len == 0)
        rc = dlv__error_set(err, DLV_ECONFIG, "%s: file is empty", cfg->path);
    if (rc == DLV_OK)
        rc = dlv__xml_read_memory(cfg->path, raw, len, &doc, err);
    if (rc == DLV_EXML || rc == DLV_ETOOLARGE) {
        rc = DLV_ECONFIG; /* one code for every defect of the file; the message says which */
        if (err)
            err->code = rc;
    }
    bool had_bom = raw && len >= 3 && memcmp(raw, "\xEF\xBB\xBF", 3) == 0;
    bool had_decl = raw && strncmp(raw + (had_bom ? 3 : 0), "<?xml", 5) == 0;
    dlv__free(raw);

    xmlNodePtr terminal_id_node = NULL;
    if (rc == DLV_OK) {
        xmlNodePtr root = xmlDocGetRootElement(doc);
        if (strcmp((const char *)root->name, "config") != 0)
            rc = dlv__error_set(err, DLV_ECONFIG, "%s:%ld: root element is <%s>, expected <config>",
                                cfg->path, xmlGetLineNo(root), (const char *)root->name);
        else
            rc = load_fields(cfg, root, &terminal_id_node, err);
        if (rc == DLV_OK && !cfg->terminal_id && !(flags & DLV_CONFIG_READ_ONLY)) {
            char id[37];
            rc = dlv__uuid_v4(id);
            if (rc != DLV_OK) {
                dlv__error_set(err, rc, "%s: cannot generate a terminalId: no random source",
                               cfg->path);
            } else {
                int set = terminal_id_node ? (fill_terminal_id(terminal_id_node, id), DLV_OK)
                                           : insert_terminal_id(root, id);
                rc = set == DLV_OK ? write_back(cfg->path, doc, had_decl, had_bom, err)
                                   : dlv__error_set(err, set, "%s: out of memory", cfg->path);
                if (rc == DLV_OK) {
                    cfg->terminal_id = dlv__strdup(id);
                    cfg->terminal_id_generated = 1;
                    if (!cfg->terminal_id)
                        rc = dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", cfg->path);
                }
            }
        }
    }
    xmlFreeDoc(doc);
    if (rc == DLV_OK && created) {
        cfg->terminal_id_generated = 1;
        cfg->created = 1;
    }
    if (rc != DLV_OK) {
        dlv_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return DLV_OK;
}

const char *dlv_config_path(const dlv_config *cfg)
{
    return cfg ? cfg->path : NULL;
}

const char *dlv_config_server_url(const dlv_config *cfg)
{
    return cfg ? cfg->server_url : NULL;
}

const char *dlv_config_terminal_id(const dlv_config *cfg)
{
    return cfg ? cfg->terminal_id : NULL;
}

int dlv_config_terminal_id_generated(const dlv_config *cfg)
{
    return cfg ? cfg->terminal_id_generated : 0;
}

int dlv_config_created(const dlv_config *cfg)
{
    return cfg ? cfg->created : 0;
}

long dlv_config_service_timeout_ms(const dlv_config *cfg)
{
    return cfg ? cfg->timeout_ms : DLV_CONFIG_TIMEOUT_MS_DEFAULT;
}

long dlv_config_connect_delay_s(const dlv_config *cfg)
{
    return cfg ? cfg->connect_delay_s : DLV_CONFIG_CONNECT_DELAY_S_DEFAULT;
}

const char *dlv_config_trusted_ca_file(const dlv_config *cfg)
{
    return cfg ? cfg->ca_file : NULL;
}

const char *dlv_config_backend(const dlv_config *cfg)
{
    return cfg ? cfg->backend : NULL;
}

const char *dlv_config_api_login(const dlv_config *cfg)
{
    return cfg ? cfg->api_login : NULL;
}

const char *dlv_config_organization_id(const dlv_config *cfg)
{
    return cfg ? cfg->organization_id : NULL;
}

const char *dlv_config_terminal_group_id(const dlv_config *cfg)
{
    return cfg ? cfg->terminal_group_id : NULL;
}

long dlv_config_poll_interval_s(const dlv_config *cfg)
{
    return cfg ? cfg->poll_interval_s : DLV_CONFIG_POLL_INTERVAL_S_DEFAULT;
}

size_t dlv_config_warning_count(const dlv_config *cfg)
{
    return cfg ? cfg->warning_count : 0;
}

const char *dlv_config_warning(const dlv_config *cfg, size_t index)
{
    return cfg && index < cfg->warning_count ? cfg->warnings[index] : NULL;
}

/* <base>/<rest> where base is %APPDATA% on Windows, the XDG config folder elsewhere. */
static char *config_folder_path(const char *rest)
{
#if defined(_WIN32)
    const char *appdata = getenv("APPDATA");
    if (!appdata || !*appdata)
        return NULL;
    char *p = dlv__asprintf("%s\\%s", appdata, rest);
    for (char *c = p; c && *c; c++)
        if (*c == '/')
            *c = '\\';
    return p;
#else
    const char *xdg = getenv("XDG_CONFIG_HOME");
    if (xdg && *xdg)
        return dlv__asprintf("%s/%s", xdg, rest);
    const char *home = getenv("HOME");
    if (home && *home)
        return dlv__asprintf("%s/.config/%s", home, rest);
    return NULL;
#endif
}

char *dlv_config_default_path(void)
{
    return config_folder_path(PLUGIN_FOLDER "/" FILE_NAME);
}

char *dlv_front_config_default_path(void)
{
    return config_folder_path("iiko/CashServer/config.xml");
}
