/* An ESC/POS receipt printer for tests: on loopback TCP (like a JetDirect port 9100) or on a
 * file descriptor (the master side of a pty standing in for a serial printer). It answers the
 * real-time status request DLE EOT n with the bytes of the state it is set to, records every
 * other byte it receives as job bytes, and can be told to fall silent or to close the connection
 * after N job bytes. Runs on its own thread; every function may be called from the test's. */
#ifndef DLV_TEST_PRINTER_EMULATOR_H
#define DLV_TEST_PRINTER_EMULATOR_H

#include <stddef.h>

typedef enum pe_state {
    PE_ONLINE,     /* ready: 0x12 to every DLE EOT n */
    PE_PAPER_OUT,  /* offline, "printing stopped by paper end", roll paper end */
    PE_COVER_OPEN, /* offline, cover open */
    PE_OFFLINE,    /* offline without a cause given */
    PE_SILENT,     /* never answers DLE EOT */
    PE_GARBAGE     /* answers 0xFF, which no ESC/POS printer sends */
} pe_state;

typedef struct printer_emulator printer_emulator;

/* Listens on 127.0.0.1 at a free port. NULL on failure. */
printer_emulator *printer_emulator_start(void);
/* Serves one already open descriptor (taken over: closed at stop). */
printer_emulator *printer_emulator_start_fd(int fd);
int printer_emulator_port(const printer_emulator *pe);

void printer_emulator_set_state(printer_emulator *pe, pe_state state);
/* Closes each connection once it has received `job_bytes` job bytes; -1: never. */
void printer_emulator_close_after(printer_emulator *pe, long job_bytes);

/* Job bytes received so far (everything but DLE EOT n requests), all connections in order.
 * With `copy`, *copy gets a malloc'd copy (free it). */
size_t printer_emulator_job_bytes(printer_emulator *pe, unsigned char **copy);
/* DLE EOT requests seen, and connections accepted (TCP). */
unsigned printer_emulator_status_queries(printer_emulator *pe);
unsigned printer_emulator_connections(printer_emulator *pe);
/* Forgets received bytes and counters; state and close_after stay. */
void printer_emulator_reset(printer_emulator *pe);
/* Stops the thread, closes every descriptor, frees. NULL does nothing. */
void printer_emulator_stop(printer_emulator *pe);

#endif
