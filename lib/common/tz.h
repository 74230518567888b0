/* The restaurant's clock: time zones from the system's time zone database (TZif files, RFC 8536)
 * with daylight saving, so documents and messages show local time as the staff read it.
 *
 * Zones come from $TZDIR or /usr/share/zoneinfo ("Europe/Moscow"); the transitions in the file are
 * used first and, beyond the last one, the POSIX TZ rule of the v2+ footer
 * ("CET-1CEST,M3.5.0,M10.5.0/3"), so far dates keep their daylight saving.
 *
 * Windows has no zoneinfo folder: there dlv__tz_load fails (DLV_ENOTFOUND) unless $TZDIR points
 * at a copy of the database, dlv__tz_local returns NULL, and only the fixed offset
 * (dlv_options.utc_offset_minutes) gives local time. The parser is the same on every system. */
#ifndef DLV__TZ_H
#define DLV__TZ_H

#include <stdint.h>

#include "common/internal.h"

typedef struct dlv__tz dlv__tz;

/* Files larger than this are refused as not a zone (real ones are under 4 KiB). */
#define DLV__TZ_FILE_MAX (256 * 1024)

/* Loads the zone `name` ("Europe/Berlin", "UTC") from $TZDIR or /usr/share/zoneinfo. A name that
 * is empty, absolute, holds ".." or characters outside [A-Za-z0-9/_+-.] is DLV_EINVAL; a zone
 * that does not exist is DLV_ENOTFOUND; an oversized, truncated or malformed file is DLV_EINVAL;
 * every message names the zone. Free with dlv__tz_free. */
int dlv__tz_load(const char *name, dlv__tz **out, dlv_error *err);

/* The operating system's zone: $TZ (":Area/City", "Area/City", an absolute file or a POSIX rule
 * such as "MSK-3") or else /etc/localtime. NULL when none can be read (UTC then) or out of
 * memory. Free with dlv__tz_free. */
dlv__tz *dlv__tz_local(void);

/* The zone's name as loaded ("Europe/Moscow", or "localtime" for the OS zone). */
const char *dlv__tz_name(const dlv__tz *tz);

/* Minutes east of UTC at the instant `utc` (seconds since 1970 UTC), daylight saving included.
 * NULL tz: 0 (UTC). */
int dlv__tz_offset_at(const dlv__tz *tz, int64_t utc);

/* Reads a local wall-clock time (`local` seconds: the local date and time counted as if UTC)
 * into UTC. A time that exists twice (the hour repeated when daylight saving ends) and a time
 * that never exists (the hour skipped when it starts) both take the EARLIER of the two instants
 * the two offsets give: for an order due time, early is the safe side. */
void dlv__tz_local_to_utc(const dlv__tz *tz, int64_t local, int64_t *utc);

void dlv__tz_free(dlv__tz *tz);

#endif
