/* The language of what a restaurant's staff reads (reply messages, status names, the doctor's
 * advice, host events' texts): Russian by default, English on request (the `locale` option,
 * docs/api.md). Machine codes (MissingRight, event names, JSON keys) are never translated.
 *
 * There is no global locale: the library is multi-context, so each context keeps its own and
 * passes it where a text is made (dlv__op_request.locale, the doctor's options). A text is an
 * {English, Russian} pair of format strings chosen with DLV__TR at the place it is formatted, so
 * the compiler still checks both formats against the arguments (-Wformat sees both arms of a
 * conditional between literals). */
#ifndef DLV_COMMON_I18N_H
#define DLV_COMMON_I18N_H

#include <stddef.h>

/* English is 0 so a zero-initialised request in the pure layers (and their unit tests) keeps
 * the historical English texts; contexts default to Russian (dlv__locale_parse(NULL)). */
typedef enum dlv__locale { DLV__LOCALE_EN = 0, DLV__LOCALE_RU = 1 } dlv__locale;

/* "ru" or "en" (case-insensitive); NULL or "" is the default, Russian. -1 for anything else. */
int dlv__locale_parse(const char *name, dlv__locale *out);

/* The text for `loc`: DLV__TR(loc, "missing right %s", "нет права %s"). */
#define DLV__TR(loc, en, ru) ((loc) == DLV__LOCALE_RU ? (ru) : (en))

#endif
