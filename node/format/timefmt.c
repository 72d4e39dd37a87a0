/* ISO 8601 times and calendar dates by pure arithmetic (see timefmt.h). */
#include "node/format/timefmt.h"
#include "crdt/error.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MS_PER_MIN INT64_C(60000)
#define MS_PER_DAY INT64_C(86400000)
#define MIN_PER_DAY 1440
#define YEAR_MIN 1970
#define YEAR_MAX 9999

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Hinnant's
 * days_from_civil): years are counted from March so that the leap day ends a year, and
 * 400-year eras repeat exactly. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);                       /* [0, 399] */
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads exactly n ASCII digits at s into *v. Stops at the first non-digit, so it never
 * reads past a NUL. */
static int read_digits(const char *s, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i])) return 0;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 1;
}

/* Reads "YYYY-MM-DD" at *p, checks it is a real date in YEAR_MIN..YEAR_MAX, and advances
 * *p past it. */
static int read_date(const char **p, int64_t *days)
{
    const char *s = *p;
    int y, m, d;
    if (!read_digits(s, 4, &y) || s[4] != '-' || !read_digits(s + 5, 2, &m) || s[7] != '-' ||
        !read_digits(s + 8, 2, &d))
        return 0;
    if (y < YEAR_MIN || y > YEAR_MAX || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return 0;
    *days = days_from_civil(y, (unsigned)m, (unsigned)d);
    *p = s + 10;
    return 1;
}

/* Reads a UTC offset "Z", "+HH:MM", "+HHMM" or "+HH" (or '-') at *p into minutes east. */
static int read_offset(const char **p, int *offset_min)
{
    const char *s = *p;
    if (*s == 'Z' || *s == 'z') {
        *offset_min = 0;
        *p = s + 1;
        return 1;
    }
    if (*s != '+' && *s != '-') return 0;
    int sign = *s == '-' ? -1 : 1, h, m = 0;
    if (!read_digits(s + 1, 2, &h)) return 0;
    s += 3;
    if (*s == ':') {
        if (!read_digits(s + 1, 2, &m)) return 0;
        s += 3;
    } else if (is_digit(*s)) {
        if (!read_digits(s, 2, &m)) return 0;
        s += 2;
    }
    if (h > 23 || m > 59) return 0;
    *offset_min = sign * (h * 60 + m);
    *p = s;
    return 1;
}

/* Splits ms into whole days and the milliseconds into the day, rounding towards the past
 * so that instants before the epoch fall on the right day; never overflows. */
static int64_t split_days(int64_t ms, int64_t *ms_of_day)
{
    int64_t days = ms / MS_PER_DAY, rem = ms % MS_PER_DAY;
    if (rem < 0) {
        rem += MS_PER_DAY;
        days--;
    }
    *ms_of_day = rem;
    return days;
}

/* The local day and millisecond of day at offset_min; no overflow for any ms. */
static int64_t local_days(int64_t ms, int offset_min, int64_t *ms_of_day)
{
    int64_t days = split_days(ms, ms_of_day);
    *ms_of_day += offset_min * MS_PER_MIN;
    if (*ms_of_day < 0) {
        *ms_of_day += MS_PER_DAY;
        days--;
    } else if (*ms_of_day >= MS_PER_DAY) {
        *ms_of_day -= MS_PER_DAY;
        days++;
    }
    return days;
}

int tv_time_parse(const char *s, int64_t *ms)
{
    assert(s && ms);
    *ms = 0;
    const char *p = s;
    int64_t days;
    int h, mi, sec = 0, frac_ms = 0, offset_min;
    if (!read_date(&p, &days)) return TV_EINVAL;
    if (*p != 'T' && *p != 't' && *p != ' ') return TV_EINVAL;
    p++;
    if (!read_digits(p, 2, &h) || p[2] != ':' || !read_digits(p + 3, 2, &mi)) return TV_EINVAL;
    p += 5;
    if (*p == ':') {
        if (!read_digits(p + 1, 2, &sec)) return TV_EINVAL;
        p += 3;
        if (*p == '.') {
            int nd = 0;
            for (p++; is_digit(*p); p++, nd++) {
                if (nd == 9) return TV_EINVAL; /* beyond nanoseconds is not a time */
                if (nd < 3) frac_ms = frac_ms * 10 + (*p - '0');
            }
            if (nd == 0) return TV_EINVAL;
            for (; nd < 3; nd++)
                frac_ms *= 10;
        }
    }
    if (!read_offset(&p, &offset_min) || *p != '\0') return TV_EINVAL;
    if (h > 23 || mi > 59 || sec > 60) return TV_EINVAL;

    int64_t utc_min = days * MIN_PER_DAY + h * 60 + mi - offset_min;
    if (sec == 60) {
        /* Leap seconds are inserted at the end of a UTC day only. */
        int64_t min_of_day = utc_min % MIN_PER_DAY;
        if (min_of_day < 0) min_of_day += MIN_PER_DAY;
        if (min_of_day != MIN_PER_DAY - 1) return TV_EINVAL;
        sec = 59;
        frac_ms = 999;
    }
    int64_t t = utc_min * MS_PER_MIN + sec * 1000 + frac_ms;
    if (t < TV_TIME_MS_MIN || t > TV_TIME_MS_MAX) return TV_EINVAL;
    *ms = t;
    return TV_OK;
}

void tv_time_format(char *out, size_t cap, int64_t ms, int offset_min)
{
    assert(out || cap == 0);
    assert(offset_min >= -TV_TIME_OFFSET_MIN_MAX && offset_min <= TV_TIME_OFFSET_MIN_MAX);
    int64_t ms_of_day, y;
    unsigned m, d;
    civil_from_days(local_days(ms, offset_min, &ms_of_day), &y, &m, &d);
    int sec_of_day = (int)(ms_of_day / 1000);
    int hh = sec_of_day / 3600, mm = sec_of_day / 60 % 60, ss = sec_of_day % 60;
    if (offset_min == 0) {
        snprintf(out, cap, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02dZ", y, m, d, hh, mm, ss);
    } else {
        int a = offset_min < 0 ? -offset_min : offset_min;
        snprintf(out, cap, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d%c%02d:%02d", y, m, d, hh, mm, ss,
                 offset_min < 0 ? '-' : '+', a / 60, a % 60);
    }
}

void tv_time_format_vn(char *out, size_t cap, int64_t ms)
{
    tv_time_format(out, cap, ms, TV_TIME_VN_OFFSET_MIN);
}

int tv_date_parse(const char *s, int32_t *day)
{
    assert(s && day);
    *day = 0;
    const char *p = s;
    int64_t days;
    if (!read_date(&p, &days) || *p != '\0') return TV_EINVAL;
    *day = (int32_t)days; /* at most 2932896 for 9999-12-31 */
    return TV_OK;
}

void tv_date_format(char *out, size_t cap, int32_t day)
{
    assert(out || cap == 0);
    int64_t y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(out, cap, "%04" PRId64 "-%02u-%02u", y, m, d);
}

int32_t tv_time_day(int64_t ms, int offset_min)
{
    assert(offset_min >= -TV_TIME_OFFSET_MIN_MAX && offset_min <= TV_TIME_OFFSET_MIN_MAX);
    int64_t ms_of_day, days = local_days(ms, offset_min, &ms_of_day);
    if (days < INT32_MIN) return INT32_MIN;
    if (days > INT32_MAX) return INT32_MAX;
    return (int32_t)days;
}

int64_t tv_date_start_ms(int32_t day, int offset_min)
{
    assert(offset_min >= -TV_TIME_OFFSET_MIN_MAX && offset_min <= TV_TIME_OFFSET_MIN_MAX);
    return (int64_t)day * MS_PER_DAY - offset_min * MS_PER_MIN;
}

/* Reads 1 to max digits at *p (advanced); -1 when there is none. */
static int dmy_num(const char **p, int max)
{
    int v = 0, n = 0;
    while (n < max && **p >= '0' && **p <= '9') {
        v = v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    return n ? v : -1;
}

int tv_time_parse_vn_dmy(const char *s, int64_t *ms)
{
    *ms = 0;
    const char *p = s;
    int d = dmy_num(&p, 2);
    if (d < 0 || *p++ != '/') return TV_EINVAL;
    int mo = dmy_num(&p, 2);
    if (mo < 0 || *p++ != '/') return TV_EINVAL;
    const char *y0 = p;
    int y = dmy_num(&p, 4);
    if (y < 0 || p - y0 != 4 || *p++ != ' ') return TV_EINVAL;
    int h = dmy_num(&p, 2);
    if (h < 0 || *p++ != ':') return TV_EINVAL;
    const char *m0 = p;
    int mi = dmy_num(&p, 2), sec = 0;
    if (mi < 0 || p - m0 != 2) return TV_EINVAL;
    if (*p == ':') {
        p++;
        const char *s0 = p;
        sec = dmy_num(&p, 2);
        if (sec < 0 || p - s0 != 2) return TV_EINVAL;
    }
    if (*p) return TV_EINVAL;
    /* the ISO form, which tv_time_parse checks */
    char iso[40];
    snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02d+07:00", y, mo, d, h, mi, sec);
    return tv_time_parse(iso, ms);
}

int tv_when_parse(const char *s, int64_t now_ms, int64_t *ms)
{
    int32_t day;
    if (strcmp(s, "today") == 0) {
        *ms = tv_date_start_ms(tv_time_day(now_ms, TV_TIME_VN_OFFSET_MIN), TV_TIME_VN_OFFSET_MIN);
        return 0;
    }
    if (strlen(s) == 10 && tv_date_parse(s, &day) == 0) {
        *ms = tv_date_start_ms(day, TV_TIME_VN_OFFSET_MIN);
        return 0;
    }
    return tv_time_parse(s, ms);
}
