/* lib/common/tz.c: offsets from the system's time zone database with daylight saving (the table
 * and, beyond it, the footer's POSIX rule), local times read back, names and files refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/internal.h"
#include "common/tz.h"
#include "testlib.h"

/* UTC instants (date -u -d ... +%s). */
#define SPRING_2026_BEFORE INT64_C(1774745999) /* 2026-03-29 00:59:59Z */
#define SPRING_2026 INT64_C(1774746000)        /* 2026-03-29 01:00:00Z */
#define AUTUMN_2026_BEFORE INT64_C(1792889999) /* 2026-10-25 00:59:59Z */
#define AUTUMN_2026 INT64_C(1792890000)        /* 2026-10-25 01:00:00Z */

static dlv__tz *load(const char *name)
{
    dlv__tz *tz = NULL;
    dlv_error err = {0};
    int rc = dlv__tz_load(name, &tz, &err);
    if (rc != DLV_OK)
        fprintf(stderr, "%s: %s\n", name, err.message);
    CU_ASSERT_EQUAL_FATAL(rc, DLV_OK);
    return tz;
}

static void berlin_across_both_2026_changes(void)
{
    dlv__tz *tz = load("Europe/Berlin");
    CU_ASSERT_STRING_EQUAL(dlv__tz_name(tz), "Europe/Berlin");
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, SPRING_2026_BEFORE), 60);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, SPRING_2026), 120);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, AUTUMN_2026_BEFORE), 120);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, AUTUMN_2026), 60);
    /* Before the first transition: local mean time (+0:53:28) counts as +53 minutes. */
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(-4000000000)), 53);
    dlv__tz_free(tz);
}

static void berlin_far_beyond_the_table(void)
{
    /* 2045: past any table the database ships (2037 for "fat" files): the footer rule
     * CET-1CEST,M3.5.0,M10.5.0/3 decides. */
    dlv__tz *tz = load("Europe/Berlin");
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(2374102799)), 60);  /* 2045-03-26 00:59:59Z */
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(2374102800)), 120); /* 01:00:00Z */
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(2392851599)), 120); /* 2045-10-29 00:59:59Z */
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(2392851600)), 60);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(2366841600)), 60); /* 2045-01-01 */
    dlv__tz_free(tz);
}

static void moscow_new_york_utc(void)
{
    dlv__tz *tz = load("Europe/Moscow");
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, SPRING_2026), 180);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, AUTUMN_2026), 180);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(2374102800)), 180);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(1356998400)), 240); /* 2013: "permanent DST" */
    dlv__tz_free(tz);

    tz = load("America/New_York");
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(1772953199)), -300); /* 2026-03-08 06:59:59Z */
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(1772953200)), -240);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(1793512799)), -240); /* 2026-11-01 05:59:59Z */
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(1793512800)), -300);
    dlv__tz_free(tz);

    tz = load("UTC");
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, SPRING_2026), 0);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(4000000000)), 0);
    dlv__tz_free(tz);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(NULL, SPRING_2026), 0);
}

static void names_refused(void)
{
    dlv__tz *tz = (dlv__tz *)1;
    dlv_error err = {0};
    CU_ASSERT_EQUAL(dlv__tz_load("Mars/Olympus_Mons", &tz, &err), DLV_ENOTFOUND);
    CU_ASSERT_PTR_NULL(tz);
    DLV_ASSERT_CONTAINS(err.message, "Mars/Olympus_Mons");
    const char *bad[] = {"../../etc/passwd",
                         "/etc/localtime",
                         "Europe/../../../etc/passwd",
                         "",
                         "Europe/Berlin;rm",
                         "Europe\\Berlin",
                         "..",
                         "Europe/.."};
    for (size_t i = 0; i < DLV__ARRAY_SIZE(bad); i++) {
        CU_ASSERT_EQUAL(dlv__tz_load(bad[i], &tz, &err), DLV_EINVAL);
        CU_ASSERT_PTR_NULL(tz);
    }
    CU_ASSERT_EQUAL(dlv__tz_load(NULL, &tz, &err), DLV_EINVAL);
    /* A folder is not a zone. */
    CU_ASSERT_NOT_EQUAL(dlv__tz_load("Europe", &tz, &err), DLV_OK);
    CU_ASSERT_PTR_NULL(tz);
}

static char *read_berlin(size_t *len)
{
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/Europe/Berlin", dir && *dir ? dir : "/usr/share/zoneinfo");
    char *data = dlv_test_read_file(path, len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    return data;
}

static void write_bytes(const char *dir, const char *name, const void *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* A v1 file written by hand: CET until 2001-09-09 01:46:40Z, CEST after; no footer. */
static size_t make_v1(unsigned char *b)
{
    memset(b, 0, 44);
    memcpy(b, "TZif", 4);
    b[35] = 1; /* timecnt */
    b[39] = 2; /* typecnt */
    b[43] = 9; /* charcnt */
    unsigned char *p = b + 44;
    const unsigned char data[] = {0x3b, 0x9a, 0xca, 0x00,               /* 1000000000 */
                                  1,    0,    0,    0x0e, 0x10, 0,   0, /* +3600 CET */
                                  0,    0,    0x1c, 0x20, 1,    4,      /* +7200 CEST */
                                  'C',  'E',  'T',  0,    'C',  'E', 'S', 'T', 0};
    memcpy(p, data, sizeof data);
    return 44 + sizeof data;
}

static void files_refused_and_v1_read(void)
{
    size_t len;
    char *berlin = read_berlin(&len);
    char *dir = dlv_test_mkdtemp();
    const char *old = getenv("TZDIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("TZDIR", dir, 1);

    size_t cuts[] = {10, 44, 100, len / 2, len - 2};
    for (size_t i = 0; i < DLV__ARRAY_SIZE(cuts); i++) {
        write_bytes(dir, "Cut", berlin, cuts[i]);
        dlv__tz *tz = (dlv__tz *)1;
        dlv_error err = {0};
        CU_ASSERT_EQUAL(dlv__tz_load("Cut", &tz, &err), DLV_EINVAL);
        CU_ASSERT_PTR_NULL(tz);
        DLV_ASSERT_CONTAINS(err.message, "time zone Cut");
    }
    write_bytes(dir, "Text", "hello, world\n", 13);
    dlv__tz *tz = NULL;
    dlv_error err = {0};
    CU_ASSERT_EQUAL(dlv__tz_load("Text", &tz, &err), DLV_EINVAL);
    DLV_ASSERT_CONTAINS(err.message, "not a TZif file");

    char *big = calloc(1, DLV__TZ_FILE_MAX + 10);
    memcpy(big, berlin, len);
    write_bytes(dir, "Big", big, DLV__TZ_FILE_MAX + 10);
    free(big);
    CU_ASSERT_EQUAL(dlv__tz_load("Big", &tz, &err), DLV_EINVAL);
    DLV_ASSERT_CONTAINS(err.message, "too large");

    /* The whole copy reads as the original does. */
    write_bytes(dir, "Whole", berlin, len);
    CU_ASSERT_EQUAL_FATAL(dlv__tz_load("Whole", &tz, &err), DLV_OK);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, SPRING_2026), 120);
    dlv__tz_free(tz);

    unsigned char v1[128];
    write_bytes(dir, "V1", v1, make_v1(v1));
    CU_ASSERT_EQUAL_FATAL(dlv__tz_load("V1", &tz, &err), DLV_OK);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(999999999)), 60);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(1000000000)), 120);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, SPRING_2026), 120); /* v1: the last type stays */
    dlv__tz_free(tz);

    if (saved) {
        setenv("TZDIR", saved, 1);
        free(saved);
    } else {
        unsetenv("TZDIR");
    }
    free(berlin);
    dlv_test_rmdir(dir);
}

static void local_times_read_back(void)
{
    const char *zones[] = {"Europe/Berlin", "Europe/Moscow", "America/New_York", "UTC",
                           "Australia/Sydney"};
    const int64_t instants[] = {SPRING_2026_BEFORE, SPRING_2026,         AUTUMN_2026 - 7200,
                                AUTUMN_2026,        INT64_C(1780000000), INT64_C(2392851600),
                                INT64_C(0)};
    for (size_t z = 0; z < DLV__ARRAY_SIZE(zones); z++) {
        dlv__tz *tz = load(zones[z]);
        for (size_t i = 0; i < DLV__ARRAY_SIZE(instants); i++) {
            int64_t local = instants[i] + dlv__tz_offset_at(tz, instants[i]) * 60, utc = 0;
            dlv__tz_local_to_utc(tz, local, &utc);
            /* An hour repeated in autumn reads as its first occurrence. */
            if (utc != instants[i])
                CU_ASSERT_EQUAL(utc, instants[i] - 3600);
        }
        dlv__tz_free(tz);
    }
    dlv__tz *tz = load("Europe/Berlin");
    int64_t utc;
    /* 2026-03-29 02:30 never happens in Berlin: the earlier reading, 00:30Z (01:30 CET). */
    dlv__tz_local_to_utc(tz, SPRING_2026 + 5400, &utc);
    CU_ASSERT_EQUAL(utc, SPRING_2026 - 1800);
    /* 2026-10-25 02:30 happens twice (00:30Z CEST, 01:30Z CET): the first. */
    dlv__tz_local_to_utc(tz, AUTUMN_2026 + 5400, &utc);
    CU_ASSERT_EQUAL(utc, AUTUMN_2026 - 1800);
    /* An ordinary time: 2026-07-01 12:00 local is 10:00Z. */
    dlv__tz_local_to_utc(tz, INT64_C(1782907200), &utc);
    CU_ASSERT_EQUAL(utc, INT64_C(1782907200) - 7200);
    dlv__tz_free(tz);
}

static void os_zone_and_posix_rules(void)
{
    const char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;

    setenv("TZ", ":Europe/Berlin", 1);
    dlv__tz *tz = dlv__tz_local();
    CU_ASSERT_PTR_NOT_NULL_FATAL(tz);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, SPRING_2026), 120);
    dlv__tz_free(tz);

    setenv("TZ", "MSK-3", 1);
    tz = dlv__tz_local();
    CU_ASSERT_PTR_NOT_NULL_FATAL(tz);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, SPRING_2026), 180);
    dlv__tz_free(tz);

    setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
    tz = dlv__tz_local();
    CU_ASSERT_PTR_NOT_NULL_FATAL(tz);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(1772953199)), -300);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(1772953200)), -240);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(1793512799)), -240);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(1793512800)), -300);
    dlv__tz_free(tz);

    /* Jn: J60 is March 1st every year; 02:00 CET is 01:00Z. */
    setenv("TZ", "<+01>-1<+02>,J60,J300/3", 1);
    tz = dlv__tz_local();
    CU_ASSERT_PTR_NOT_NULL_FATAL(tz);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(1772326799)), 60);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(1772326800)), 120);
    dlv__tz_free(tz);

    /* n (0-based, counting Feb 29): day 59 of 2028 is Feb 29; /0 is midnight CET = 23:00Z. */
    setenv("TZ", "CET-1CEST,59/0,299", 1);
    tz = dlv__tz_local();
    CU_ASSERT_PTR_NOT_NULL_FATAL(tz);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(1835391599)), 60);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(1835391600)), 120);
    dlv__tz_free(tz);

    /* Southern hemisphere: daylight saving spans the new year. */
    setenv("TZ", "AEST-10AEDT,M10.1.0,M4.1.0/3", 1);
    tz = dlv__tz_local();
    CU_ASSERT_PTR_NOT_NULL_FATAL(tz);
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(1767225600)), 660); /* 2026-01-01 */
    CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, INT64_C(1782907200)), 600); /* 2026-07-01 */
    dlv__tz_free(tz);

    setenv("TZ", "not a zone", 1);
    CU_ASSERT_PTR_NULL(dlv__tz_local());
    setenv("TZ", "", 1);
    CU_ASSERT_PTR_NULL(dlv__tz_local());

    if (saved) {
        setenv("TZ", saved, 1);
        free(saved);
    } else {
        unsetenv("TZ");
    }
    dlv__tz_free(dlv__tz_local()); /* /etc/localtime or nothing: no leak either way */
}

static void allocation_failures(void)
{
    int rc = DLV_ENOMEM;
    for (long n = 0; rc == DLV_ENOMEM && n < 100; n++) {
        dlv__tz *tz = (dlv__tz *)1;
        dlv_error err = {0};
        dlv__alloc_fail_after(n);
        rc = dlv__tz_load("Europe/Berlin", &tz, &err);
        dlv__alloc_fail_after(-1);
        if (rc == DLV_ENOMEM) {
            CU_ASSERT_PTR_NULL(tz);
            DLV_ASSERT_CONTAINS(err.message, "Europe/Berlin");
        } else {
            CU_ASSERT_EQUAL(rc, DLV_OK);
            CU_ASSERT_EQUAL(dlv__tz_offset_at(tz, SPRING_2026), 120);
            dlv__tz_free(tz);
        }
    }
    CU_ASSERT_EQUAL(rc, DLV_OK);
}

int main(void)
{
    static const dlv_test_case cases[] = {
        DLV_TEST(berlin_across_both_2026_changes),
        DLV_TEST(berlin_far_beyond_the_table),
        DLV_TEST(moscow_new_york_utc),
        DLV_TEST(names_refused),
        DLV_TEST(files_refused_and_v1_read),
        DLV_TEST(local_times_read_back),
        DLV_TEST(os_zone_and_posix_rules),
        DLV_TEST(allocation_failures),
        DLV_TEST_END,
    };
    return dlv_test_main("common_tz", cases);
}
