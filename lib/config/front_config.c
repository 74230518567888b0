/* The front terminal's config.xml: read-only, only the flags the plugin acts on. */
#include "delivery/config.h"

#include <string.h>
#include <strings.h>

#include "common/xml.h"

#define FRONT_FLAG_COUNT 4

struct dlv_front_config {
    int flags[FRONT_FLAG_COUNT];
};

static const char *const flag_names[FRONT_FLAG_COUNT] = {
    [DLV_FRONT_SHOW_DELIVERY_LIST_ON_LOGIN] = "showDeliveryListOnLogin",
    [DLV_FRONT_ALLOW_HAND_CARD_ROLL] = "AllowHandCardRoll",
    [DLV_FRONT_CARD_READER_CONFIGURED] = "cardReaderConfigured",
    [DLV_FRONT_A4_DELIVERY_INVOICE_FORMAT] = "a4DeliveryInvoiceFormat",
};

static int parse_bool(const char *text, int *out)
{
    if (strcasecmp(text, "true") == 0 || strcmp(text, "1") == 0)
        *out = 1;
    else if (strcasecmp(text, "false") == 0 || strcmp(text, "0") == 0 || !*text)
        *out = 0;
    else
        return -1;
    return 0;
}

int dlv_front_config_load(const char *path, dlv_front_config **out, dlv_error *err)
{
    if (!out || !path)
        return dlv__error_set(err, DLV_EINVAL, "dlv_front_config_load: path and out are required");
    *out = NULL;
    dlv__error_clear(err);
    xmlDocPtr doc;
    int rc = dlv__xml_read_file(path, DLV_CONFIG_MAX_FILE_BYTES, &doc, err);
    if (rc != DLV_OK) {
        if (rc == DLV_EXML || rc == DLV_ETOOLARGE) {
            if (err)
                err->code = DLV_ECONFIG;
            rc = DLV_ECONFIG;
        }
        return rc;
    }
    dlv_front_config *fc = dlv__calloc(1, sizeof *fc);
    if (!fc) {
        xmlFreeDoc(doc);
        return dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", path);
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    long seen[FRONT_FLAG_COUNT] = {0};
    for (xmlNodePtr node = root->children; node && rc == DLV_OK; node = node->next) {
        if (node->type != XML_ELEMENT_NODE)
            continue;
        for (int f = 0; f < FRONT_FLAG_COUNT; f++) {
            if (strcmp((const char *)node->name, flag_names[f]) != 0)
                continue;
            long line = xmlGetLineNo(node);
            if (seen[f]) {
                rc = dlv__error_set(err, DLV_ECONFIG,
                                    "%s:%ld: <%s> appears twice (first at line "
                                    "%ld)",
                                    path, line, flag_names[f], seen[f]);
                break;
            }
            seen[f] = line;
            char *text = dlv__xml_text(node);
            if (!text)
                rc = dlv__error_set(err, DLV_ENOMEM, "%s: out of memory", path);
            else if (parse_bool(text, &fc->flags[f]) != 0)
                rc = dlv__error_set(err, DLV_ECONFIG,
                                    "%s:%ld: <%s>: '%s' is not a boolean (true or false)", path,
                                    line, flag_names[f], text);
            dlv__free(text);
        }
    }
    xmlFreeDoc(doc);
    if (rc != DLV_OK) {
        dlv__free(fc);
        return rc;
    }
    *out = fc;
    return DLV_OK;
}

void dlv_front_config_free(dlv_front_config *fc)
{
    dlv__free(fc);
}

int dlv_front_config_flag(const dlv_front_config *fc, dlv_front_flag flag)
{
    if (!fc || (int)flag < 0 || (int)flag >= FRONT_FLAG_COUNT)
        return 0;
    return fc->flags[flag];
}
