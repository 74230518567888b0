/* The locale option's values (lib/common/i18n.h). */
#include "common/i18n.h"

#include <strings.h>

int dlv__locale_parse(const char *name, dlv__locale *out)
{
    if (!name || !*name || strcasecmp(name, "ru") == 0)
        *out = DLV__LOCALE_RU;
    else if (strcasecmp(name, "en") == 0)
        *out = DLV__LOCALE_EN;
    else
        return -1;
    return 0;
}
