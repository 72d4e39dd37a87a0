/* Parsing and printing of ISO 8601 times and calendar dates, by pure arithmetic.
 *
 * Nothing here reads the TZ variable, the C library's time-zone state or the clock:
 * check-ins are recorded in milliseconds since the Unix epoch (UTC), and every text form
 * carries its UTC offset explicitly, so a node set to the wrong zone cannot shift a
 * timestamp. Vietnam (Asia/Ho_Chi_Minh) has kept UTC+7 without daylight saving since
 * 13 June 1975, so its local time is a fixed offset, TV_TIME_VN_OFFSET_MIN, for every
 * instant this program handles.
 *
 * Calendar conversion uses the days-from-civil algorithm (proleptic Gregorian calendar;
 * H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"). */
#ifndef TV_NODE_TIMEFMT_H
#define TV_NODE_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define TV_TIME_VN_OFFSET_MIN 420 /* UTC+7, Asia/Ho_Chi_Minh */
/* Largest offset accepted or printed: +-23:59, the most ISO 8601 can write. */
#define TV_TIME_OFFSET_MIN_MAX (23 * 60 + 59)
/* The instants tv_time_parse accepts: 1970-01-01T00:00:00Z ... 9999-12-31T23:59:59.999Z. */
#define TV_TIME_MS_MIN INT64_C(0)
#define TV_TIME_MS_MAX INT64_C(253402300799999)
/* Buffer sizes that hold any output with its NUL, whatever the argument: a time such as
 * "2021-10-06T08:00:00+07:00" needs 26 bytes, an extreme int64_t a longer year. */
#define TV_TIME_STR_BYTES 32
#define TV_DATE_STR_BYTES 16

/* Parses "YYYY-MM-DDTHH:MM[:SS[.fff]]" followed by a required UTC offset: "Z", "+07:00",
 * "+0700" or "+07" (either sign). Also accepted: ' ' or 't' instead of 'T', 'z' for 'Z'
 * (RFC 3339 allows both), and 1 to 9 fraction digits, truncated to milliseconds. Nothing
 * may precede or follow; the caller trims whitespace.
 *
 * Checked: month 1-12, the day within its month (29 February only in leap years), hour
 * 0-23, minute 0-59, second 0-59, offset at most 23:59, and the instant within
 * TV_TIME_MS_MIN..TV_TIME_MS_MAX. A leap second (second 60) is accepted only where one can
 * fall, at 23:59 UTC, and is read as the last millisecond of that minute (23:59:59.999Z),
 * because Unix time has no leap seconds and order must be kept.
 * A time without an offset is refused rather than guessed: a clerk's "08:00" in a file
 * from a server set to UTC would otherwise shift every check-in by seven hours.
 *
 * Stores milliseconds since 1970-01-01T00:00:00Z in *ms and returns 0; otherwise sets *ms
 * to 0 and returns TV_EINVAL. */
int tv_time_parse(const char *s, int64_t *ms) __attribute__((warn_unused_result));

/* Parses a time as a spreadsheet in a Vietnamese locale writes it: "dd/mm/yyyy HH:MM"
 * or "dd/mm/yyyy HH:MM:SS" (day and month of 1 or 2 digits, hour of 1 or 2: "7/10/2021
 * 8:00"), Vietnam local time (UTC+7, TV_TIME_VN_OFFSET_MIN): 07/10/2021 08:00 is
 * 2021-10-07T08:00:00+07:00. Day first, never month first. Checked as tv_time_parse
 * (year 1970-9999, valid day of month, hour 0-23, minute and second 0-59). Stores
 * milliseconds since the epoch in *ms and returns 0; otherwise sets *ms to 0 and returns
 * TV_EINVAL. */
int tv_time_parse_vn_dmy(const char *s, int64_t *ms) __attribute__((warn_unused_result));

/* Writes ms (milliseconds since the epoch, UTC) as local time at offset_min minutes east of
 * UTC: "YYYY-MM-DDTHH:MM:SS+HH:MM", or "...Z" when offset_min is 0. Milliseconds are
 * dropped (rounded towards the past), so parsing the text gives ms - ms mod 1000. Years
 * outside 0000-9999 print with as many digits as they need. Output longer than cap is cut
 * short, like snprintf; cap >= TV_TIME_STR_BYTES is always enough.
 * |offset_min| <= TV_TIME_OFFSET_MIN_MAX (asserted). */
void tv_time_format(char *out, size_t cap, int64_t ms, int offset_min);

/* tv_time_format at Vietnam time: "2021-10-06T08:00:00+07:00". */
void tv_time_format_vn(char *out, size_t cap, int64_t ms);

/* Parses a calendar date "YYYY-MM-DD" (year 1970-9999, valid day of month) into the
 * number of days since 1970-01-01. The date names a day of the calendar, not an instant;
 * tv_date_start_ms turns it into one at a given offset (Vietnam's, in practice).
 * Returns 0, or TV_EINVAL (then *day is 0). */
int tv_date_parse(const char *s, int32_t *day) __attribute__((warn_unused_result));

/* Writes day (days since 1970-01-01) as "YYYY-MM-DD", cut short like snprintf beyond cap;
 * cap >= TV_DATE_STR_BYTES is always enough. */
void tv_date_format(char *out, size_t cap, int32_t day);

/* Returns the calendar day (days since 1970-01-01) on which instant ms falls at
 * offset_min minutes east of UTC; e.g. 2021-10-05T20:00:00Z is on 2021-10-06 in Vietnam.
 * Instants before the epoch give negative days; those too far out for int32_t (beyond
 * about 5.8 million years) give INT32_MIN or INT32_MAX.
 * |offset_min| <= TV_TIME_OFFSET_MIN_MAX (asserted). */
int32_t tv_time_day(int64_t ms, int offset_min);

/* Returns the instant at which calendar day `day` begins (00:00 local) at offset_min
 * minutes east of UTC; the day ends just before tv_date_start_ms(day + 1, offset_min).
 * |offset_min| <= TV_TIME_OFFSET_MIN_MAX (asserted). */
int64_t tv_date_start_ms(int32_t day, int offset_min);

/* Reads an instant as the commands and the console take one: "today" (the start of the day
 * in Vietnam on which now_ms falls), a date "YYYY-MM-DD" (its midnight in Vietnam), or a
 * time with its offset (tv_time_parse). Stores it in *ms and returns 0, or returns
 * TV_EINVAL (*ms then 0). */
int tv_when_parse(const char *s, int64_t now_ms, int64_t *ms) __attribute__((warn_unused_result));

#endif
