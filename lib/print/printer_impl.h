/* Inside lib/print: what the printer core shares with the built-in backends. */
#ifndef DLV__PRINT_PRINTER_IMPL_H
#define DLV__PRINT_PRINTER_IMPL_H

#include "print/print.h"

extern const dlv_printer_methods dlv__printer_tcp_methods;
extern const dlv_printer_methods dlv__printer_file_methods;
extern const dlv_printer_methods dlv__printer_dev_methods;
extern const dlv_printer_methods dlv__printer_cups_methods;
extern const dlv_printer_methods dlv__printer_null_methods;

#define DLV__PRINTER_DEFAULT_TIMEOUT_MS 10000L

/* The timeout= option (checked at open), or `dflt`. */
long dlv__printer_timeout_ms(const dlv_printer *p, long dflt);
/* A 0/1 option (checked at open), or `dflt`. */
bool dlv__printer_flag(const dlv_printer *p, const char *name, bool dflt);

/* Writes the whole buffer to a file descriptor opened O_NONBLOCK, waiting at most timeout_ms
 * for each step of progress. Returns 0 or -errno (-ETIMEDOUT); *written says how far it got.
 * For the blocking backends (file, device). */
int dlv__fd_write_all(int fd, const unsigned char *data, size_t len, long timeout_ms,
                      size_t *written);

#endif
