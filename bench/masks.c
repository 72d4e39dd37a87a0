/* Masks benchmark: what each masked form of a phone or ID number leaves to guess, and how
 * long a brute force of a pseudonym takes from it for whoever holds the pseudonym key.
 *
 * For each form, old (the masks before this version, with the birth year stored beside
 * them) and current (node/logic/person.c, node/logic/idcard.c), it counts the identifiers of the
 * real space that the form is consistent with:
 *   - phone: '0' and 9 digits, each 3-digit prefix the phone validation takes
 *     (tv_person_parse_typed);
 *   - CCCD: 12 digits: a province code ('0' and a province of the official unit list,
 *     node/units/), a century-and-sex digit (0/1 born 1900-1999, 2/3 2000-2099, and so
 *     on, male/female), two digits of the birth year (no later than --year), six more;
 *   - CMND: 9 digits, no documented structure;
 *   - BHYT: the pseudonym is of the card's 10-digit social-insurance number, no
 *     documented structure.
 * Then it measures the rate of keyed BLAKE2b-128 on one core by brute-forcing, for real,
 * the pseudonym of a random phone number from its current masked form under a random key
 * (the candidates built in place, as an attacker would), and gives each count's time at
 * that rate. It opens no store and writes no file. */
#include "crdt/error.h"
#include "node/logic/idcard.h"
#include "node/logic/person.h"
#include "node/logic/units.h"

#define BENCH_NAME "masks"
#include "bench_util.h"

#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROVINCES_MAX 100
#define NUMBER_MAX 16

static const char usage[] =
    "Usage: masks [--rounds N] [--year N] [--seed N]\n"
    "\n"
    "Masks benchmark. For each masked form of a phone, CCCD, CMND or BHYT number, old\n"
    "(before this version: 09****5678, 056*******46 with the birth year beside it,\n"
    "12*****89, HS***********89) and current, counts the identifiers of the real space\n"
    "consistent with it: phones as the phone validation takes them ('0' and 9 digits);\n"
    "CCCD numbers whose first 3 digits are a province of the official unit list, the 4th\n"
    "the century and sex of a birth year from 1900 to --year, the 5th and 6th that year;\n"
    "CMND numbers of 9 digits; BHYT social-insurance numbers of 10 digits. Then measures\n"
    "keyed BLAKE2b-128 on one core by brute-forcing the pseudonym of a random phone\n"
    "number from its current masked form (10^6 candidates a round; the thread's CPU\n"
    "time, so other work on the machine does not slow it), and gives the time\n"
    "each count takes at that rate: the time a brute force takes for whoever holds the\n"
    "pseudonym key.\n"
    "\n"
    "  --rounds N  brute forces timed (default 3)\n"
    "  --year N    the latest birth year (default this year)\n"
    "  --seed N    the key and the phone numbers brute-forced (default 1)\n"
    "\n"
    "The last line holds the figures as key=value pairs.\n";

typedef struct opts {
    uint64_t rounds, year, seed;
} opts;

static void parse_opts(int argc, char **argv, opts *o)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    *o = (opts){.rounds = 3, .year = (uint64_t)tm.tm_year + 1900, .seed = 1};
    const bench_opt table[] = {{"rounds", BENCH_OPT_U64, &o->rounds, 1, 1000},
                               {"year", BENCH_OPT_U64, &o->year, 2000, 2099},
                               BENCH_OPT_SEED(&o->seed),
                               {0}};
    bench_parse_opts(argc, argv, table, usage);
}

/* --- the identifier spaces ---------------------------------------------------------------- */

/* A space of numbers of len digits: each of the nprefix prefixes (plen digits each) followed
 * by every string of len - plen digits. */
typedef struct space {
    const char *name;
    size_t len, plen, nprefix;
    char (*prefix)[8];
} space;

static int consistent(const char *mask, const char *digits, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (mask[i] != '*' && mask[i] != digits[i]) return 0;
    return 1;
}

/* How many numbers of s the mask (len characters: digits shown, '*' hidden) is consistent
 * with. */
static double count(const space *s, const char *mask)
{
    if (strlen(mask) != s->len) bench_die("the mask %s does not fit the %s space", mask, s->name);
    double free = 1;
    for (size_t i = s->plen; i < s->len; i++)
        if (mask[i] == '*') free *= 10;
    size_t prefixes = 0;
    for (size_t i = 0; i < s->nprefix; i++)
        prefixes += (size_t)consistent(mask, s->prefix[i], s->plen);
    return (double)prefixes * free;
}

/* Phones: '0' and 9 digits, each 3-digit prefix the validation takes. */
static void phone_space(space *s)
{
    *s = (space){.name = "phone", .len = 10, .plen = 3, .prefix = calloc(1000, 8)};
    if (!s->prefix) bench_die("out of memory");
    for (unsigned p = 0; p < 1000; p++) {
        char text[16];
        snprintf(text, sizeof text, "%03u0000000", p);
        tv_person_id id;
        const char *why;
        if (tv_person_parse_typed(text, &id, &why) == TV_OK && id.kind == TV_ID_PHONE &&
            strcmp(id.norm, text) == 0)
            memcpy(s->prefix[s->nprefix++], text, 3);
    }
}

/* The provinces of the official unit list. */
static size_t provinces(char codes[PROVINCES_MAX][4])
{
    size_t n = 0;
    for (size_t i = 0; i < tv_units_count(); i++) {
        const tv_unit *u = tv_unit_at(i);
        if (u->parent[0] || strlen(u->code) != 2) continue;
        if (n == PROVINCES_MAX) bench_die("more than %d provinces in the unit list", PROVINCES_MAX);
        snprintf(codes[n++], 4, "0%s", u->code);
    }
    if (n == 0) bench_die("the unit list holds no province");
    return n;
}

/* The year of birth a CCCD's 4th to 6th digits say. */
static unsigned cccd_year(unsigned d4, unsigned yy)
{
    return 1900 + 100 * (d4 / 2) + yy;
}

/* CCCD numbers: province, century and sex, year (1900 to last_year, or born only), six
 * digits. */
static void cccd_space(space *s, char codes[][4], size_t ncodes, unsigned last_year, unsigned born)
{
    *s = (space){.name = "CCCD", .len = 12, .plen = 6, .prefix = calloc(ncodes * 1000, 8)};
    if (!s->prefix) bench_die("out of memory");
    for (size_t p = 0; p < ncodes; p++)
        for (unsigned d4 = 0; d4 < 10; d4++)
            for (unsigned yy = 0; yy < 100; yy++) {
                unsigned y = cccd_year(d4, yy);
                if (y > last_year || (born && y != born)) continue;
                char *q = s->prefix[s->nprefix++];
                memcpy(q, codes[p], 3);
                q[3] = (char)('0' + d4);
                q[4] = (char)('0' + yy / 10);
                q[5] = (char)('0' + yy % 10);
                q[6] = '\0';
            }
}

/* The masks before this version: head and tail digits shown. */
static void old_mask(char *out, const char *digits, size_t head, size_t tail)
{
    size_t n = strlen(digits);
    for (size_t i = 0; i < n; i++)
        out[i] = i < head || i >= n - tail ? digits[i] : '*';
    out[n] = '\0';
}

static void current_mask(char *out, const char *text)
{
    tv_card c;
    const char *why;
    if (tv_card_parse(text, strlen(text), &c, &why)) bench_die("'%.40s' refused: %s", text, why);
    if (strlen(c.id.masked) >= NUMBER_MAX) bench_die("the mask %s is too long", c.id.masked);
    memcpy(out, c.id.masked, strlen(c.id.masked) + 1);
}

/* --- the brute force ---------------------------------------------------------------------- */

/* Finds the phone number whose pseudonym under key is ref among the 10^6 consistent with
 * mask (09******78: the six hidden digits), building each candidate in place. Returns how
 * many matched; *found gets the last, *tried the candidates hashed. */
static int brute_phone(const char *mask, const uint8_t key[TV_TRACING_KEY_BYTES],
                       const uint8_t ref[TV_PERSON_REF_BYTES], char found[NUMBER_MAX],
                       uint64_t *tried)
{
    char msg[32];
    int pre = snprintf(msg, sizeof msg, "phone:%s", mask);
    size_t hidden[10], nh = 0;
    for (size_t i = 0; mask[i]; i++)
        if (mask[i] == '*') hidden[nh++] = (size_t)pre - strlen(mask) + i;
    for (size_t i = 0; i < nh; i++)
        msg[hidden[i]] = '0';
    uint64_t total = 1;
    for (size_t i = 0; i < nh; i++)
        total *= 10;
    if (total > 100000000) bench_die("the phone mask %s hides too much for a round", mask);
    *tried = total;
    int matches = 0;
    uint8_t out[TV_PERSON_REF_BYTES];
    for (uint64_t c = 0; c < total; c++) {
        crypto_generichash(out, sizeof out, (const uint8_t *)msg, (size_t)pre, key,
                           TV_TRACING_KEY_BYTES);
        if (sodium_memcmp(out, ref, sizeof out) == 0) {
            matches++;
            memcpy(found, msg + 6, 10);
            found[10] = '\0';
        }
        for (size_t i = nh; i-- > 0;) { /* the next candidate: count in the hidden digits */
            if (msg[hidden[i]] != '9') {
                msg[hidden[i]]++;
                break;
            }
            msg[hidden[i]] = '0';
        }
        if ((c & 0xffff) == 0) bench_check_interrupt();
    }
    return matches;
}

/* The CPU time of this thread in seconds: the rate of one core, whatever else runs. */
static double cpu_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Keyed BLAKE2b-128 per second of one core's time, brute-forcing rounds random phone
 * numbers from their current masks; each must be found, alone. */
static double measure_rate(const opts *o, uint64_t *hashes_out, double *secs_out)
{
    uint64_t rng = o->seed;
    uint8_t key[TV_TRACING_KEY_BYTES];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)fx_splitmix64(&rng);
    uint64_t hashes = 0;
    double secs = 0;
    for (uint64_t r = 0; r < o->rounds; r++) {
        char number[NUMBER_MAX];
        snprintf(number, sizeof number, "09%08" PRIu64, fx_splitmix64(&rng) % 100000000);
        tv_person_id id;
        const char *why;
        if (tv_person_parse_typed(number, &id, &why)) bench_die("%s refused: %s", number, why);
        uint8_t ref[TV_PERSON_REF_BYTES];
        tv_person_ref(&id, key, ref);
        char found[NUMBER_MAX] = "";
        uint64_t n;
        bench_progress("brute force", r, o->rounds);
        double t0 = cpu_now_s();
        int m = brute_phone(id.masked, key, ref, found, &n);
        secs += cpu_now_s() - t0;
        hashes += n;
        if (m != 1 || strcmp(found, number) != 0)
            bench_die("the brute force of %s found %d numbers (%s), not %s", id.masked, m, found,
                      number);
    }
    bench_progress_end();
    sodium_memzero(key, sizeof key);
    *hashes_out = hashes;
    *secs_out = secs;
    return (double)hashes / secs;
}

/* --- the table ---------------------------------------------------------------------------- */

static void duration(char *out, size_t cap, double s)
{
    if (s < 0.001)
        snprintf(out, cap, "< 1 ms");
    else if (s < 1)
        snprintf(out, cap, "%.0f ms", s * 1000);
    else if (s < 10)
        snprintf(out, cap, "%.1f s", s);
    else if (s < 120)
        snprintf(out, cap, "%.0f s", s);
    else if (s < 2 * 3600)
        snprintf(out, cap, "%.0f min", s / 60);
    else if (s < 2 * 86400)
        snprintf(out, cap, "%.1f h", s / 3600);
    else
        snprintf(out, cap, "%.0f days", s / 86400);
}

/* n as "2×10⁴" (or whole below 1,000). */
static void sci(char *out, size_t cap, double n)
{
    static const char *const sup[] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};
    if (n < 1000) {
        snprintf(out, cap, "%.0f", n);
        return;
    }
    int e = 0;
    while (n >= 10) {
        n /= 10;
        e++;
    }
    char m[16] = "";
    double r = (double)(long)(n * 10 + 0.5) / 10;
    if (r >= 10) { /* 9.96 rounds up to the next power */
        r = 1;
        e++;
    }
    if (r != 1) snprintf(m, sizeof m, "%.1f×", r);
    snprintf(out, cap, "%s10%s%s", m, e >= 10 ? sup[e / 10] : "", sup[e % 10]);
}

typedef struct row {
    const char *key, *what;
    char form[48];
    double n;
} row;

int main(int argc, char **argv)
{
    opts o;
    parse_opts(argc, argv, &o);
    bench_start();
    if (sodium_init() < 0) bench_die("libsodium cannot start");

    static char codes[PROVINCES_MAX][4];
    size_t ncodes = provinces(codes);
    space phone, cccd, cccd_1999, cmnd = {.name = "CMND", .len = 9},
                                  bhyt = {.name = "BHYT", .len = 10};
    phone_space(&phone);
    cccd_space(&cccd, codes, ncodes, (unsigned)o.year, 0);
    cccd_space(&cccd_1999, codes, ncodes, (unsigned)o.year, 1999);
    char only[1][8] = {""};
    cmnd.nprefix = bhyt.nprefix = 1;
    cmnd.prefix = bhyt.prefix = only;
    printf("masks: provinces=%zu phone_prefixes=%zu latest_birth_year=%" PRIu64 "\n", ncodes,
           phone.nprefix, o.year);

    /* synthetic people: a phone, a CCCD of Khánh Hòa (056) born 1999, a CMND, a BHYT card */
    static const char ph[] = "0912345678", cc[] = "056099001246", cm[] = "123456789",
                      bh[] = "HS4560123456789";
    static const char bhyt_text[] =
        "HS4560123456789|4e677579e1bb856e2056c4836e20416e|15/03/1999|1|536f2031|56 - 001|"
        "01/01/2021|31/12/2021|01/01/2021|QL0123|4e677579e1bb856e2056c4836e20416e|4|01/01/"
        "2025|a1b2|$";
    row rows[12];
    size_t nr = 0;
    char m[NUMBER_MAX];
#define ROW(k, w, sp, mask, fmt, ...)                                                              \
    do {                                                                                           \
        rows[nr] = (row){.key = k, .what = w, .n = count(sp, mask)};                               \
        snprintf(rows[nr].form, sizeof rows[nr].form, fmt, __VA_ARGS__);                           \
        nr++;                                                                                      \
    } while (0)
    old_mask(m, ph, 2, 4);
    ROW("phone_old", "phone, old", &phone, m, "%s", m);
    current_mask(m, ph);
    ROW("phone_new", "phone, current", &phone, m, "%s", m);
    ROW("phone_space", "phone, every number", &phone, "**********", "%s", "**********");
    old_mask(m, cc, 3, 2);
    ROW("cccd_old", "CCCD, old, with the birth year", &cccd_1999, m, "%s + 1999", m);
    ROW("cccd_old_noyear", "CCCD, old, no birth year", &cccd, m, "%s", m);
    current_mask(m, cc);
    ROW("cccd_new_year", "CCCD, current, if the year stayed", &cccd_1999, m, "%s + 1999", m);
    ROW("cccd_new", "CCCD, current", &cccd, m, "%s", m);
    ROW("cccd_space", "CCCD, every number", &cccd, "************", "%s", "************");
    old_mask(m, cm, 2, 2);
    ROW("cmnd_old", "CMND, old", &cmnd, m, "%s", m);
    current_mask(m, cm);
    ROW("cmnd_new", "CMND, current", &cmnd, m, "%s", m);
    /* a BHYT pseudonym is of the social-insurance number: the card's last 10 characters */
    old_mask(m, bh, 2, 2);
    ROW("bhyt_old", "BHYT, old", &bhyt, m + 5, "%s", m);
    current_mask(m, bhyt_text);
    ROW("bhyt_new", "BHYT, current", &bhyt, m + 5, "%s", m);
#undef ROW

    uint64_t hashes;
    double secs, rate = measure_rate(&o, &hashes, &secs);
    printf("keyed BLAKE2b-128 on one core: %" PRIu64 " pseudonyms in %.2f s of CPU time, %.0f/s "
           "(brute forces of %" PRIu64 " phone numbers from their masks, each found)\n\n",
           hashes, secs, rate, o.rounds);
    char rs[32];
    sci(rs, sizeof rs, rate);
    printf("| form | shown | candidates | brute force at %s/s |\n| --- | --- | ---: | ---: |\n",
           rs);
    for (size_t i = 0; i < nr; i++) {
        char t[32], c[32];
        duration(t, sizeof t, rows[i].n / rate);
        sci(c, sizeof c, rows[i].n);
        printf("| %s | `%s` | %s | %s |\n", rows[i].what, rows[i].form, c, t);
    }
    printf("\nbench=masks rate_per_s=%.0f", rate);
    for (size_t i = 0; i < nr; i++)
        printf(" %s=%.0f", rows[i].key, rows[i].n);
    printf(" provinces=%zu latest_birth_year=%" PRIu64 " rounds=%" PRIu64 " seed=%" PRIu64 "\n",
           ncodes, o.year, o.rounds, o.seed);
    free(phone.prefix);
    free(cccd.prefix);
    free(cccd_1999.prefix);
    return 0;
}
