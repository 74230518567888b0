/* Exact money, amounts and times: integers all the way, no binary floating point. */
#ifndef DLV__ORDER_VALUES_H
#define DLV__ORDER_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Money in kopecks (minor units): 590.00 is 59000. */
typedef int64_t dlv__money;
/* Amounts of an item in thousandths of its unit: 1 piece is 1000, 0.5 kg is 500. Three decimals
 * cover grams and millilitres, the finest unit a restaurant sells by. */
typedef int64_t dlv__amount;
/* UTC seconds since 1970-01-01T00:00:00Z. */
typedef int64_t dlv__time;

#define DLV__MONEY_SCALE 2
#define DLV__AMOUNT_SCALE 3
#define DLV__AMOUNT_ONE 1000
/* 999 999 999 999.99: far above any order, far below int64 overflow when summed. */
#define DLV__MONEY_MAX (INT64_C(100000000000000) - 1)
/* 999 999.999 units. */
#define DLV__AMOUNT_MAX (INT64_C(1000000000) - 1)
/* An absent time (a null or missing field). */
#define DLV__TIME_NONE INT64_MIN
/* 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, what RFC 3339 can write. */
#define DLV__TIME_MIN INT64_C(-62135596800)
#define DLV__TIME_MAX INT64_C(253402300799)

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil), so no
 * timegm()/time zone database is needed. */
int64_t dlv__days_from_civil(int64_t year, unsigned month, unsigned day);
void dlv__civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day);

/* Parses an RFC 3339 date-time with a "Z" or "+hh:mm" offset into UTC seconds; fractional seconds
 * are accepted and dropped. Returns NULL or the reason it was refused. */
const char *dlv__time_parse(const char *text, dlv__time *out);
/* Writes "YYYY-MM-DDTHH:MM:SSZ" (21 bytes with the NUL). False when out of DLV__TIME_MIN..MAX. */
bool dlv__time_format(dlv__time t, char out[21]);
/* Breaks a time shifted by `offset_minutes` into its local fields. */
void dlv__time_fields(dlv__time t, int offset_minutes, int64_t *year, unsigned *month, unsigned *day,
                      unsigned *hour, unsigned *minute, unsigned *second);

/* Writes value / 10^scale in decimal. fixed: exactly `scale` decimals ("590.00"); otherwise
 * trailing zeros and a bare point are dropped ("0.5", "2"). `out` needs 32 bytes. */
void dlv__decimal_format(int64_t value, int scale, bool fixed, char out[32]);

/* price × amount / 1000 as kopecks: *low and *high are the floor and ceiling (equal when exact).
 * False when the product overflows. price and amount must not be negative. */
bool dlv__money_times_amount(dlv__money price, dlv__amount amount, dlv__money *low, dlv__money *high);

#endif
