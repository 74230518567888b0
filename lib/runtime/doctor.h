/* The doctor inside the library: shared by dlv_doctor_run and the running context's
 * {"cmd":"doctor"}, which reports its own outbox instead of opening the database. */
#ifndef DLV__RUNTIME_DOCTOR_H
#define DLV__RUNTIME_DOCTOR_H

#include "delivery/delivery.h"

/* Adds the outbox and print checks to the report `r` (opaque). */
typedef void (*dlv__doctor_outbox_fn)(void *arg, void *r);
void dlv__doctor_outbox(void *r, long pending, int64_t oldest_at, long held, const char *why);

/* `loaded` (may be NULL): the running context's configuration, used instead of parsing the file
 * again (the checks then run on a worker thread without touching libxml2). */
int dlv__doctor(const dlv_doctor_options *opts, const dlv_config *loaded,
                const dlv__doctor_outbox_fn outbox, void *outbox_arg, char **out, dlv_error *err);

#endif
