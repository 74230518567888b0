/* The library's release number at run time (dlv_version_string, dlv_version_hex). */
#include "delivery/version.h"
#include "internal.h"

#define DLV_STR_(x) #x
#define DLV_STR(x) DLV_STR_(x)

const char *dlv_version_string(void)
{
    return DLV_STR(DLV_VERSION_MAJOR) "." DLV_STR(DLV_VERSION_MINOR) "." DLV_STR(DLV_VERSION_PATCH);
}

unsigned dlv_version_hex(void)
{
    return DLV_VERSION_HEX;
}
