/* Exact values: civil-date arithmetic, RFC 3339 time parsing (to UTC seconds) and formatting,
 * fixed-point decimal formatting and overflow-checked money arithmetic. */
#include "order/values.h"

#include <stdio.h>
#include <string.h>

int64_t dlv__days_from_civil(int64_t year, unsigned month, unsigned day)
{
    year -= month <= 2;
    const int64_t era = (year >= 0 ? year : year - 399) / 400;
    const int64_t yoe = year - era * 400;
    const int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void dlv__civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
    days += 719468;
    const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const int64_t doe = days - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (*month <= 2);
}

static bool digits(const char *s, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

static unsigned month_days(int64_t year, unsigned month)
{
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

const char *dlv__time_parse(const char *s, dlv__time *out)
{
    unsigned y, mo, d, h, mi, sec;
    if (!s)
        return "not a time";
    /* YYYY-MM-DDTHH:MM:SS is 19 fixed characters. */
    if (strlen(s) < 19 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &sec))
        return "not an RFC 3339 date-time";
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 ||
        sec > 60)
        return "date or time out of range";
    const char *p = s + 19;
    if (*p == '.') {
        const char *frac = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == frac)
            return "not an RFC 3339 date-time";
    }
    int offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        unsigned oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om))
            return "not an RFC 3339 date-time";
        if (oh > 23 || om > 59)
            return "time zone offset out of range";
        offset = (int)(oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return "missing time zone offset";
    }
    if (*p)
        return "not an RFC 3339 date-time";
    dlv__time t = dlv__days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    *out = t - (dlv__time)offset * 60;
    return NULL;
}

void dlv__time_fields(dlv__time t, int offset_minutes, int64_t *year, unsigned *month,
                      unsigned *day, unsigned *hour, unsigned *minute, unsigned *second)
{
    t += (dlv__time)offset_minutes * 60;
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t rem = t - days * 86400;
    dlv__civil_from_days(days, year, month, day);
    *hour = (unsigned)(rem / 3600);
    *minute = (unsigned)(rem % 3600 / 60);
    *second = (unsigned)(rem % 60);
}

bool dlv__time_format(dlv__time t, char out[21])
{
    if (t < DLV__TIME_MIN || t > DLV__TIME_MAX) {
        out[0] = '\0';
        return false;
    }
    int64_t y;
    unsigned mo, d, h, mi, s;
    dlv__time_fields(t, 0, &y, &mo, &d, &h, &mi, &s);
    /* "YYYY-MM-DDTHH:MM:SSZ" digit by digit: every time of every order and event comes here. */
    unsigned yy = (unsigned)y; /* 0..9999 within DLV__TIME_MIN..DLV__TIME_MAX */
    const unsigned parts[] = {mo, d, h, mi, s};
    const char seps[] = {'-', 'T', ':', ':', 'Z'};
    out[0] = (char)('0' + yy / 1000 % 10);
    out[1] = (char)('0' + yy / 100 % 10);
    out[2] = (char)('0' + yy / 10 % 10);
    out[3] = (char)('0' + yy % 10);
    out[4] = '-';
    for (int i = 0; i < 5; i++) {
        out[5 + 3 * i] = (char)('0' + parts[i] / 10 % 10);
        out[6 + 3 * i] = (char)('0' + parts[i] % 10);
        out[7 + 3 * i] = seps[i];
    }
    out[20] = '\0';
    return true;
}

void dlv__decimal_format(int64_t value, int scale, bool fixed, char out[32])
{
    /* Digits written backwards into a small buffer, no printf: every sum of every order and
     * event goes through here. Work on the magnitude as unsigned so INT64_MIN cannot overflow. */
    uint64_t mag = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    if (scale < 0)
        scale = 0;
    if (scale > 18)
        scale = 18;
    char digits[48];
    int n = 0;
    do {
        digits[n++] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag || n <= scale); /* at least one digit before the point */
    int frac = scale;            /* fraction digits kept: trailing zeros go unless fixed */
    if (!fixed)
        while (frac > 0 && digits[scale - frac] == '0')
            frac--;
    size_t k = 0;
    if (value < 0)
        out[k++] = '-';
    for (int i = n - 1; i >= scale; i--)
        out[k++] = digits[i];
    if (frac > 0) {
        out[k++] = '.';
        for (int i = scale - 1; i >= scale - frac; i--)
            out[k++] = digits[i];
    }
    out[k] = '\0';
}

bool dlv__money_times_amount(dlv__money price, dlv__amount amount, dlv__money *low,
                             dlv__money *high)
{
    if (price < 0 || amount < 0)
        return false;
    /* price × (whole units) + price × (thousandths) / 1000, each part checked. */
    int64_t whole = amount / DLV__AMOUNT_ONE, part = amount % DLV__AMOUNT_ONE;
    if (whole != 0 && price > INT64_MAX / whole)
        return false;
    int64_t a = price * whole;
    if (part != 0 && price > INT64_MAX / part)
        return false;
    int64_t b = price * part;
    int64_t q = b / DLV__AMOUNT_ONE, r = b % DLV__AMOUNT_ONE;
    if (a > INT64_MAX - q - 1)
        return false;
    *low = a + q;
    *high = *low + (r != 0);
    return true;
}
