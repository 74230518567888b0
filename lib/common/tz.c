/* Time zones from the system's database: the TZif reader (RFC 8536, versions 1 to 3), the POSIX
 * TZ rule of its footer, UTC offsets at an instant and local times read back into UTC. */
#include "common/tz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECS_PER_DAY INT64_C(86400)

/* One end of daylight saving in a POSIX rule: Jn (julian, no Feb 29), n (0-based, with Feb 29)
 * or Mm.w.d (day d of week w of month m, w 5 = the last), at `time` seconds local. */
typedef struct tz_date {
    char kind; /* 'J', 'N' or 'M' */
    int day, week, month;
    int32_t time;
} tz_date;

typedef struct tz_rule {
    int32_t std_off, dst_off; /* seconds east of UTC */
    int has_dst;
    tz_date start, end;
} tz_rule;

struct dlv__tz {
    char *name;
    size_t trans_count;
    int64_t *trans; /* UTC instants, ascending */
    uint8_t *trans_type;
    size_t type_count;
    int32_t *type_off; /* seconds east of UTC */
    int has_rule;      /* the footer held a rule for times after the last transition */
    tz_rule rule;
};

/* ---- calendar (proleptic Gregorian, Hinnant's algorithms; lib/common stands alone) ---- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t year_of_days(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    return yoe + era * 400 + (m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Seconds since 1970 of the rule date's local midnight in year `y`, plus its time. */
static int64_t rule_local(const tz_date *r, int64_t y)
{
    int64_t days;
    if (r->kind == 'J') {
        days = days_from_civil(y, 1, 1) + r->day - 1;
        if (is_leap(y) && r->day >= 60)
            days++; /* J60 is always March 1st */
    } else if (r->kind == 'N') {
        days = days_from_civil(y, 1, 1) + r->day;
    } else {
        int64_t first = days_from_civil(y, r->month, 1);
        int wday_first = (int)((first % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
        int mday = 1 + (r->day - wday_first + 7) % 7 + (r->week - 1) * 7;
        while (mday > month_days(y, r->month))
            mday -= 7;
        days = first + mday - 1;
    }
    return days * SECS_PER_DAY + r->time;
}

static int32_t rule_offset_at(const tz_rule *r, int64_t utc)
{
    if (!r->has_dst)
        return r->std_off;
    int64_t y = year_of_days(floor_div(utc + r->std_off, SECS_PER_DAY));
    /* Start is read in standard time, end in daylight time (POSIX). */
    int64_t start = rule_local(&r->start, y) - r->std_off;
    int64_t end = rule_local(&r->end, y) - r->dst_off;
    int in_dst = start <= end ? (utc >= start && utc < end) : !(utc >= end && utc < start);
    return in_dst ? r->dst_off : r->std_off;
}

/* ---- the POSIX TZ rule ---- */

static const char *parse_name(const char *s)
{
    if (*s == '<') {
        const char *e = strchr(s, '>');
        return e && e - s >= 2 ? e + 1 : NULL;
    }
    const char *b = s;
    while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
        s++;
    return s - b >= 3 ? s : NULL;
}

static int parse_num(const char **s, int max, int *out)
{
    const char *p = *s;
    int v = 0;
    if (*p < '0' || *p > '9')
        return 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
        if (v > max)
            return 0;
    }
    *s = p;
    *out = v;
    return 1;
}

/* [+-]hh[:mm[:ss]] with hours up to `max_hours` (24 for offsets, 167 for rule times). */
static const char *parse_hms(const char *s, int max_hours, int32_t *out)
{
    int sign = 1, h, m = 0, sec = 0;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    if (!parse_num(&s, max_hours, &h))
        return NULL;
    if (*s == ':' && (s++, !parse_num(&s, 59, &m)))
        return NULL;
    if (*s == ':' && (s++, !parse_num(&s, 59, &sec)))
        return NULL;
    *out = sign * (h * 3600 + m * 60 + sec);
    return s;
}

static const char *parse_date(const char *s, tz_date *d)
{
    d->time = 7200; /* 02:00 unless said */
    if (*s == 'M') {
        s++;
        d->kind = 'M';
        if (!parse_num(&s, 12, &d->month) || d->month < 1 || *s++ != '.' ||
            !parse_num(&s, 5, &d->week) || d->week < 1 || *s++ != '.' || !parse_num(&s, 6, &d->day))
            return NULL;
    } else if (*s == 'J') {
        s++;
        d->kind = 'J';
        if (!parse_num(&s, 365, &d->day) || d->day < 1)
            return NULL;
    } else {
        d->kind = 'N';
        if (!parse_num(&s, 365, &d->day))
            return NULL;
    }
    if (*s == '/')
        s = parse_hms(s + 1, 167, &d->time);
    return s;
}

/* "std offset [dst [offset] [,start[/time],end[/time]]]"; POSIX offsets count west of UTC. */
static int parse_rule(const char *s, tz_rule *r)
{
    int32_t off;
    memset(r, 0, sizeof *r);
    if (!(s = parse_name(s)) || !(s = parse_hms(s, 24, &off)))
        return 0;
    r->std_off = -off;
    if (!*s)
        return 1;
    if (!(s = parse_name(s)))
        return 0;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*s && *s != ',') {
        if (!(s = parse_hms(s, 24, &off)))
            return 0;
        r->dst_off = -off;
    }
    if (!*s) { /* no dates: the US rule POSIX implies */
        r->start = (tz_date){'M', 0, 2, 3, 7200};
        r->end = (tz_date){'M', 0, 1, 11, 7200};
        return 1;
    }
    if (*s++ != ',' || !(s = parse_date(s, &r->start)) || *s++ != ',' ||
        !(s = parse_date(s, &r->end)))
        return 0;
    return *s == '\0';
}

/* ---- the TZif file ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
} tzif_counts;

static size_t header_counts(const unsigned char *h, tzif_counts *c)
{
    c->isut = be32(h + 20);
    c->isstd = be32(h + 24);
    c->leap = be32(h + 28);
    c->time = be32(h + 32);
    c->type = be32(h + 36);
    c->chars = be32(h + 40);
    return 44;
}

static uint64_t data_size(const tzif_counts *c, unsigned tsize)
{
    return (uint64_t)c->time * tsize + c->time + (uint64_t)c->type * 6 + c->chars +
           (uint64_t)c->leap * (tsize + 4) + c->isstd + c->isut;
}

static int bad_file(dlv_error *err, const char *name, const char *why)
{
    return dlv__error_set(err, DLV_EINVAL, "time zone %s: %s", name, why);
}

/* Reads the newest data block of the file (the 64-bit one for v2+) and the footer rule. */
static int parse_tzif(dlv__tz *tz, const unsigned char *buf, size_t len, dlv_error *err)
{
    tzif_counts c;
    if (len < 44 || memcmp(buf, "TZif", 4) != 0)
        return bad_file(err, tz->name, "not a TZif file");
    int version = buf[4] == 0 ? 1 : buf[4] - '0';
    if (version < 1 || version > 9)
        return bad_file(err, tz->name, "unknown TZif version");
    size_t pos = header_counts(buf, &c);
    unsigned tsize = 4;
    if (version >= 2) {
        uint64_t skip = data_size(&c, 4);
        if (skip > len - pos || len - pos - skip < 44 || memcmp(buf + pos + skip, "TZif", 4) != 0)
            return bad_file(err, tz->name, "truncated file");
        pos += (size_t)skip;
        pos += header_counts(buf + pos, &c);
        tsize = 8;
    }
    if (c.type == 0 || c.type > 256 || c.chars == 0 || (c.isstd && c.isstd != c.type) ||
        (c.isut && c.isut != c.type))
        return bad_file(err, tz->name, "malformed header");
    uint64_t need = data_size(&c, tsize);
    if (need > len - pos)
        return bad_file(err, tz->name, "truncated file");
    tz->trans_count = c.time;
    tz->type_count = c.type;
    tz->trans = dlv__calloc(c.time ? c.time : 1, sizeof *tz->trans);
    tz->trans_type = dlv__calloc(c.time ? c.time : 1, 1);
    tz->type_off = dlv__calloc(c.type, sizeof *tz->type_off);
    if (!tz->trans || !tz->trans_type || !tz->type_off)
        return dlv__error_set(err, DLV_ENOMEM, "time zone %s: out of memory", tz->name);
    const unsigned char *p = buf + pos;
    for (size_t i = 0; i < c.time; i++, p += tsize) {
        tz->trans[i] = tsize == 8 ? be64(p) : (int64_t)(int32_t)be32(p);
        if (i && tz->trans[i] <= tz->trans[i - 1])
            return bad_file(err, tz->name, "transitions out of order");
    }
    for (size_t i = 0; i < c.time; i++, p++) {
        if (*p >= c.type)
            return bad_file(err, tz->name, "transition names an unknown type");
        tz->trans_type[i] = *p;
    }
    for (size_t i = 0; i < c.type; i++, p += 6) {
        int32_t off = (int32_t)be32(p);
        if (off < -25 * 3600 || off > 26 * 3600 || p[4] > 1 || p[5] >= c.chars)
            return bad_file(err, tz->name, "malformed local time type");
        tz->type_off[i] = off;
    }
    pos += (size_t)need;
    if (version >= 2) {
        /* The footer: "\n" rule "\n"; an empty rule means none. */
        if (pos >= len || buf[pos] != '\n')
            return bad_file(err, tz->name, "truncated footer");
        const unsigned char *nl = memchr(buf + pos + 1, '\n', len - pos - 1);
        if (!nl)
            return bad_file(err, tz->name, "truncated footer");
        size_t rlen = (size_t)(nl - (buf + pos + 1));
        if (rlen) {
            char rule[128];
            if (rlen >= sizeof rule)
                return bad_file(err, tz->name, "footer rule too long");
            memcpy(rule, buf + pos + 1, rlen);
            rule[rlen] = '\0';
            if (!parse_rule(rule, &tz->rule))
                return bad_file(err, tz->name, "malformed footer rule");
            tz->has_rule = 1;
        }
    }
    return DLV_OK;
}

static int zone_name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 255 || name[0] == '/' || strstr(name, ".."))
        return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              strchr("/_+-.", *c)))
            return 0;
    return 1;
}

/* Reads the whole file (at most DLV__TZ_FILE_MAX) and parses it into a new zone named `name`. */
static int load_file(const char *path, const char *name, dlv__tz **out, dlv_error *err)
{
    int rc = DLV_OK;
    unsigned char *buf = NULL;
    size_t len = 0;
    dlv__tz *tz = dlv__calloc(1, sizeof *tz);
    if (!tz || !(tz->name = dlv__strdup(name))) {
        rc = dlv__error_set(err, DLV_ENOMEM, "time zone %s: out of memory", name);
        goto fail;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        rc =
            errno == ENOENT || errno == ENOTDIR
                ? dlv__error_set(err, DLV_ENOTFOUND, "unknown time zone %s (no %s)", name, path)
                : dlv__error_set(err, DLV_EIO, "time zone %s: %s: %s", name, path, strerror(errno));
        goto fail;
    }
    if (!(buf = dlv__malloc(DLV__TZ_FILE_MAX + 1))) {
        fclose(f);
        rc = dlv__error_set(err, DLV_ENOMEM, "time zone %s: out of memory", name);
        goto fail;
    }
    len = fread(buf, 1, DLV__TZ_FILE_MAX + 1, f);
    int read_error = ferror(f);
    fclose(f);
    if (read_error)
        rc = dlv__error_set(err, DLV_EIO, "time zone %s: cannot read %s", name, path);
    else if (len > DLV__TZ_FILE_MAX)
        rc = bad_file(err, name, "file too large");
    else
        rc = parse_tzif(tz, buf, len, err);
    if (rc != DLV_OK)
        goto fail;
    dlv__free(buf);
    *out = tz;
    return DLV_OK;
fail:
    dlv__free(buf);
    dlv__tz_free(tz);
    return rc;
}

int dlv__tz_load(const char *name, dlv__tz **out, dlv_error *err)
{
    *out = NULL;
    if (!name || !zone_name_ok(name))
        return dlv__error_set(err, DLV_EINVAL, "time zone \"%s\": not a zone name",
                              name ? name : "");
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir)
        dir = "/usr/share/zoneinfo";
    char *path = dlv__asprintf("%s/%s", dir, name);
    if (!path)
        return dlv__error_set(err, DLV_ENOMEM, "time zone %s: out of memory", name);
    int rc = load_file(path, name, out, err);
    dlv__free(path);
    return rc;
}

/* A zone made only of a POSIX rule ("MSK-3", "EST5EDT,M3.2.0,M11.1.0"). */
static dlv__tz *rule_zone(const char *rule)
{
    tz_rule r;
    if (!parse_rule(rule, &r))
        return NULL;
    dlv__tz *tz = dlv__calloc(1, sizeof *tz);
    if (!tz || !(tz->name = dlv__strdup(rule)) ||
        !(tz->type_off = dlv__calloc(1, sizeof *tz->type_off))) {
        dlv__tz_free(tz);
        return NULL;
    }
    tz->type_count = 1;
    tz->type_off[0] = r.std_off;
    tz->rule = r;
    tz->has_rule = 1;
    return tz;
}

dlv__tz *dlv__tz_local(void)
{
#if defined(_WIN32)
    return NULL;
#else
    dlv__tz *tz = NULL;
    const char *env = getenv("TZ");
    if (!env)
        return load_file("/etc/localtime", "localtime", &tz, NULL) == DLV_OK ? tz : NULL;
    if (*env == ':')
        env++;
    if (!*env)
        return NULL; /* TZ set but empty: UTC */
    if (*env == '/')
        return load_file(env, env, &tz, NULL) == DLV_OK ? tz : NULL;
    if (zone_name_ok(env) && dlv__tz_load(env, &tz, NULL) == DLV_OK)
        return tz;
    return rule_zone(env);
#endif
}

const char *dlv__tz_name(const dlv__tz *tz)
{
    return tz ? tz->name : "UTC";
}

static int32_t offset_seconds(const dlv__tz *tz, int64_t utc)
{
    if (!tz)
        return 0;
    size_t n = tz->trans_count;
    if (n == 0 || utc >= tz->trans[n - 1]) {
        if (tz->has_rule && (n == 0 || utc >= tz->trans[n - 1]))
            return rule_offset_at(&tz->rule, utc);
        return tz->type_off[n ? tz->trans_type[n - 1] : 0];
    }
    if (utc < tz->trans[0])
        return tz->type_off[0]; /* RFC 8536: type 0 before the first transition */
    size_t lo = 0, hi = n - 1;  /* trans[lo] <= utc < trans[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= utc)
            lo = mid;
        else
            hi = mid;
    }
    return tz->type_off[tz->trans_type[lo]];
}

int dlv__tz_offset_at(const dlv__tz *tz, int64_t utc)
{
    return (int)floor_div(offset_seconds(tz, utc), 60);
}

void dlv__tz_local_to_utc(const dlv__tz *tz, int64_t local, int64_t *utc)
{
    /* The offsets a day before and after: no zone changes twice within two days, so the answer is
     * local minus one of them. Each reading is kept when the offset at its instant agrees. */
    int64_t a = local - offset_seconds(tz, local - SECS_PER_DAY);
    int64_t b = local - offset_seconds(tz, local + SECS_PER_DAY);
    int a_ok = local - a == offset_seconds(tz, a), b_ok = local - b == offset_seconds(tz, b);
    if (a_ok != b_ok)
        *utc = a_ok ? a : b;
    else /* both (an overlap) or neither (a gap): the earlier instant */
        *utc = a < b ? a : b;
}

void dlv__tz_free(dlv__tz *tz)
{
    if (!tz)
        return;
    dlv__free(tz->name);
    dlv__free(tz->trans);
    dlv__free(tz->trans_type);
    dlv__free(tz->type_off);
    dlv__free(tz);
}
