/* A receipt printer's answer to DLE EOT 1, 2, 4: three status bytes read by
 * dlv_printer_escpos_status (its contract takes exactly three). Longer inputs are read as
 * consecutive answers, as a TCP printer's stream of status replies would be. Every answer is
 * either refused or mapped to known flags, and the same bytes always give the same result. */
#include <string.h>

#include "delivery/printer.h"
#include "fuzz_common.h"

#define KNOWN_FLAGS                                                                                \
    (DLV_PRINTER_STATUS_KNOWN | DLV_PRINTER_STATUS_OFFLINE | DLV_PRINTER_STATUS_COVER_OPEN |       \
     DLV_PRINTER_STATUS_PAPER_OUT | DLV_PRINTER_STATUS_PAPER_LOW | DLV_PRINTER_STATUS_ERROR)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t off = 0; off + 3 <= size; off += 3) {
        unsigned char bytes[3];
        memcpy(bytes, data + off, 3);
        unsigned flags = 0xdeadbeefu, again = 0;
        int rc = dlv_printer_escpos_status(bytes, &flags);
        FUZZ_CHECK(rc == DLV_OK || rc == DLV_EPRINTER);
        FUZZ_CHECK(memcmp(bytes, data + off, 3) == 0); /* the answer is only read */
        if (rc == DLV_OK) {
            FUZZ_CHECK(dlv_printer_escpos_status(bytes, &again) == DLV_OK && again == flags);
            FUZZ_CHECK((flags & DLV_PRINTER_STATUS_KNOWN) != 0);
            FUZZ_CHECK((flags & ~KNOWN_FLAGS) == 0);
            const char *message = NULL;
            int verdict = dlv_printer_status_error(flags, &message);
            bool trouble = (flags & (DLV_PRINTER_STATUS_OFFLINE | DLV_PRINTER_STATUS_COVER_OPEN |
                                     DLV_PRINTER_STATUS_PAPER_OUT | DLV_PRINTER_STATUS_ERROR)) != 0;
            FUZZ_CHECK((verdict != DLV_OK) == trouble);
            FUZZ_CHECK((message != NULL) == trouble);
        }
    }
    return 0;
}
