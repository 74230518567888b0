/* An application using an installed libdelivery: built with pkg-config and with CMake. */
#include <delivery/delivery.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    const char *v = dlv_version_string();
    printf("libdelivery %s\n", v);
    if (dlv_version_hex() != DLV_VERSION_HEX)
        return 1;
    return strcmp(dlv_err_name(DLV_ECONFIG), "ECONFIG") == 0 ? 0 : 1;
}
