/* Helpers shared by the benchmarks: messages and exit statuses, a working directory removed
 * at the end or on SIGINT/SIGTERM, option parsing, timing, progress lines, percentiles (the seeded
 * generator is tests/fixture/rng.h's). */
#ifndef TV_BENCH_BENCH_UTIL_H
#define TV_BENCH_BENCH_UTIL_H

/* A benchmark defines BENCH_NAME, its program name ("ingest"), before including this file:
 * every message starts with it and it names the default working directory. */
#ifndef BENCH_NAME
#error "define BENCH_NAME before including bench/bench_util.h"
#endif

/* What goes to stderr before a message while a progress line shows: by default the line is
 * erased; a benchmark may define "\n" to keep it in view above the message. */
#ifndef BENCH_PROGRESS_BREAK
#define BENCH_PROGRESS_BREAK "\r\033[K"
#endif

/* The bench node's passphrase: its directory is the benchmark's, not a secret. */
#define BENCH_PASS_TEXT "bench passphrase"
#define BENCH_PASS BENCH_PASS_TEXT, sizeof BENCH_PASS_TEXT - 1, TV_KDF_MIN

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/vfs.h>
#endif

#include "tests/fixture/rng.h" /* fx_splitmix64: the seeded generator */

#define BENCH_SUB_DIRS_MAX 4 /* sub-directories of the working directory, at the most */

static volatile sig_atomic_t bench_interrupted; /* set on SIGINT or SIGTERM */
static int bench_progress_on;                   /* stderr is a terminal: progress is shown */

/* The working directory and its sub-directories. Only what the benchmark made (the *_made
 * flags) is removed by bench_cleanup(): a --dir that already existed stays. */
static char bench_work_dir[PATH_MAX], bench_sub_dir[BENCH_SUB_DIRS_MAX][PATH_MAX];
static int bench_work_made, bench_sub_made[BENCH_SUB_DIRS_MAX];

/* Removes path and, if it is a directory, everything below it; errors are ignored. */
static inline void bench_rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            char sub[PATH_MAX];
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
                int n = snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                if (n > 0 && (size_t)n < sizeof sub) bench_rm_tree(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Removes the sub-directories the benchmark made, in order, then the working directory if
 * it made it. Safe to call more than once. */
static inline void bench_cleanup(void)
{
    for (int i = 0; i < BENCH_SUB_DIRS_MAX; i++)
        if (bench_sub_made[i]) bench_rm_tree(bench_sub_dir[i]);
    if (bench_work_made) rmdir(bench_work_dir);
    memset(bench_sub_made, 0, sizeof bench_sub_made);
    bench_work_made = 0;
}

/* Prints "NAME: message" on stderr, cleans up and exits with status 1. */
static inline void bench_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static inline void bench_die(const char *fmt, ...)
{
    va_list ap;
    if (bench_progress_on) fputs(BENCH_PROGRESS_BREAK, stderr);
    fputs(BENCH_NAME ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    bench_cleanup();
    exit(1);
}

/* Prints "NAME: message" and a pointer to --help on stderr and exits with status 2. Cleans
 * nothing up: the caller does when it has made something already. */
static inline void bench_usage_error(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
static inline void bench_usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs(BENCH_NAME ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry '" BENCH_NAME " --help'.\n", stderr);
    exit(2);
}

/* After SIGINT or SIGTERM: says so, cleans up and exits with status 130. */
static inline void bench_check_interrupt(void)
{
    if (!bench_interrupted) return;
    if (bench_progress_on) fputs(BENCH_PROGRESS_BREAK, stderr);
    fputs(BENCH_NAME ": interrupted\n", stderr);
    bench_cleanup();
    exit(130);
}

static inline void bench_on_signal(int sig)
{
    (void)sig;
    bench_interrupted = 1;
}

/* Shows progress when stderr is a terminal, and turns SIGINT and SIGTERM into
 * bench_interrupted, which the benchmark polls with bench_check_interrupt(). */
static inline void bench_start(void)
{
    bench_progress_on = isatty(STDERR_FILENO);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = bench_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* The value of option --name: a decimal whole number from min to max, or a usage error. */
static inline uint64_t bench_parse_u64(const char *name, const char *s, uint64_t min, uint64_t max)
{
    char *end;
    errno = 0;
    unsigned long long v = s[0] >= '0' && s[0] <= '9' ? strtoull(s, &end, 10) : 0;
    if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno == ERANGE || v < min || v > max)
        bench_usage_error("--%s takes a whole number from %" PRIu64 " to %" PRIu64 ", not '%s'.",
                          name, min, max, s);
    return (uint64_t)v;
}

/* What getopt_long (optstring ":h", opterr 0) returned that is not one of the benchmark's own
 * options: 'h' prints usage and exits 0; a missing value or an unknown option is a usage
 * error. */
static inline void bench_opt_other(int c, char **argv, const char *usage) __attribute__((noreturn));
static inline void bench_opt_other(int c, char **argv, const char *usage)
{
    if (c == 'h') {
        fputs(usage, stdout);
        exit(0);
    }
    if (c == ':') bench_usage_error("%s needs a value.", argv[optind - 1]);
    bench_usage_error("unknown option '%s'.", argv[optind - 1]);
}

/* An option of a benchmark, for bench_parse_opts: --name and what its value sets. */
typedef enum bench_opt_kind {
    BENCH_OPT_U64,  /* a whole number from min to max, into *(uint64_t *)out */
    BENCH_OPT_PATH, /* a non-empty path, into *(const char **)out (borrowed from argv) */
    BENCH_OPT_FLAG, /* no value: *(int *)out = 1 */
} bench_opt_kind;

typedef struct bench_opt {
    const char *name;
    bench_opt_kind kind;
    void *out;
    uint64_t min, max;
} bench_opt;

#define BENCH_OPTS_MAX 16

/* The options every benchmark that has them spells the same way. */
#define BENCH_OPT_DIR(p)                                                                           \
    {                                                                                              \
        "dir", BENCH_OPT_PATH, (p), 0, 0                                                           \
    }
#define BENCH_OPT_SEED(p)                                                                          \
    {                                                                                              \
        "seed", BENCH_OPT_U64, (p), 0, UINT64_MAX                                                  \
    }
#define BENCH_OPT_KEEP(p)                                                                          \
    {                                                                                              \
        "keep", BENCH_OPT_FLAG, (p), 0, 0                                                          \
    }
#define BENCH_OPT_REUSE(p)                                                                         \
    {                                                                                              \
        "reuse", BENCH_OPT_FLAG, (p), 0, 0                                                         \
    }

/* Parses the command line against table (ended by an entry whose name is NULL), over the
 * defaults the outputs hold: --help prints usage and exits 0; a value out of range, a
 * missing value, an unknown option or an argument is a usage error (exit 2). */
static inline void bench_parse_opts(int argc, char **argv, const bench_opt *table,
                                    const char *usage)
{
    struct option longopts[BENCH_OPTS_MAX + 2];
    int n = 0;
    for (; table[n].name; n++) {
        if (n == BENCH_OPTS_MAX) bench_die("too many options");
        longopts[n] = (struct option){
            table[n].name, table[n].kind == BENCH_OPT_FLAG ? no_argument : required_argument, NULL,
            256 + n};
    }
    longopts[n] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[n + 1] = (struct option){0, 0, 0, 0};
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c < 256 || c >= 256 + n) bench_opt_other(c, argv, usage);
        const bench_opt *o = &table[c - 256];
        switch (o->kind) {
        case BENCH_OPT_U64:
            *(uint64_t *)o->out = bench_parse_u64(o->name, optarg, o->min, o->max);
            break;
        case BENCH_OPT_PATH:
            if (optarg[0] == '\0')
                bench_usage_error("--%s takes a %s path.", o->name,
                                  strcmp(o->name, "dir") == 0 ? "directory" : "file");
            *(const char **)o->out = optarg;
            break;
        case BENCH_OPT_FLAG:
            *(int *)o->out = 1;
            break;
        }
    }
    if (optind < argc) bench_usage_error("unexpected argument '%s'.", argv[optind]);
}

/* The truyvet binary a benchmark runs, into out (PATH_MAX bytes): given (--truyvet), or
 * ../truyvet next to the benchmark's program. A usage error when it is not executable. */
static inline void bench_truyvet_path(const char *given, char *out)
{
    if (given) {
        snprintf(out, PATH_MAX, "%s", given);
    } else {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) bench_usage_error("cannot find this program's path; give --truyvet");
        self[n] = '\0';
        *strrchr(self, '/') = '\0';
        snprintf(out, PATH_MAX, "%.*s/../truyvet", PATH_MAX - 16, self);
    }
    if (access(out, X_OK)) bench_usage_error("%s is not an executable; give --truyvet", out);
}

/* --reuse (a store kept by an earlier run, in --dir) needs --dir and implies --keep. */
static inline void bench_reuse_check(const char *dir, int reuse, int *keep)
{
    if (reuse && !dir) bench_usage_error("--reuse needs --dir: the store to reuse.");
    if (reuse) *keep = 1;
}

/* The file system holding path ("ext4", "tmpfs", ...; its magic number in hex when not
 * known; "unknown" when it cannot be told). The text lives until the next call. */
static inline const char *bench_fs_name(const char *path)
{
#ifdef __linux__
    static char other[32];
    struct statfs sf;
    if (statfs(path, &sf) != 0) return "unknown";
    switch ((unsigned long)sf.f_type) {
    case 0xEF53:
        return "ext4";
    case 0x01021994:
        return "tmpfs";
    case 0x58465342:
        return "xfs";
    case 0x9123683E:
        return "btrfs";
    case 0x794C7630:
        return "overlayfs";
    case 0x2FC12FC1:
        return "zfs";
    }
    snprintf(other, sizeof other, "0x%lx", (unsigned long)sf.f_type);
    return other;
#else
    (void)path;
    return "unknown";
#endif
}

/* Sets bench_work_dir: dir (--dir), created if absent, or when dir is NULL a new directory
 * truyvet-NAME.XXXXXX under $TMPDIR or /tmp. */
static inline void bench_work_dir_make(const char *dir)
{
    int n;
    if (dir) {
        n = snprintf(bench_work_dir, sizeof bench_work_dir, "%s", dir);
        if (n < 0 || (size_t)n >= sizeof bench_work_dir)
            bench_usage_error("--dir path is too long.");
        if (mkdir(bench_work_dir, 0700) == 0)
            bench_work_made = 1;
        else if (errno != EEXIST)
            bench_usage_error("cannot create --dir %s: %s.", bench_work_dir, strerror(errno));
    } else {
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !*tmp) tmp = "/tmp";
        n = snprintf(bench_work_dir, sizeof bench_work_dir, "%s/truyvet-" BENCH_NAME ".XXXXXX",
                     tmp);
        if (n < 0 || (size_t)n >= sizeof bench_work_dir) bench_die("TMPDIR path is too long");
        if (!mkdtemp(bench_work_dir))
            bench_die("cannot create a directory under %s: %s", tmp, strerror(errno));
        bench_work_made = 1;
    }
}

/* Sets bench_sub_dir[i] to the working directory's names[i], for i below n (at the most
 * BENCH_SUB_DIRS_MAX). Returns the first i whose path exists already, or -1. */
static inline int bench_sub_dirs_set(const char *const *names, int n)
{
    struct stat st;
    for (int i = 0; i < n; i++) {
        int len =
            snprintf(bench_sub_dir[i], sizeof bench_sub_dir[i], "%s/%s", bench_work_dir, names[i]);
        if (len < 0 || (size_t)len >= sizeof bench_sub_dir[i])
            bench_die("working directory path is too long");
    }
    for (int i = 0; i < n; i++)
        if (lstat(bench_sub_dir[i], &st) == 0) return i;
    return -1;
}

/* Creates sub-directory i, to be removed by bench_cleanup(). */
static inline void bench_sub_dir_make(int i)
{
    if (mkdir(bench_sub_dir[i], 0700) != 0)
        bench_die("cannot create %s: %s", bench_sub_dir[i], strerror(errno));
    bench_sub_made[i] = 1;
}

/* Removes sub-directory i now, once the benchmark is done with it. */
static inline void bench_sub_dir_remove(int i)
{
    bench_rm_tree(bench_sub_dir[i]);
    bench_sub_made[i] = 0;
}

/* --- a store kept between runs (--dir D --keep, then --reuse) --------------------------
 *
 * The working directory holds the store (sub-directory slot BENCH_KEPT_STORE) and a
 * parameters file (slot BENCH_KEPT_PARAMS): a first line saying what the store was
 * generated from, then gen_s=SECONDS. The file is written once the store is complete, so
 * a store without it is an interrupted generation. */
enum { BENCH_KEPT_STORE, BENCH_KEPT_PARAMS, BENCH_KEPT_SLOTS };
#define BENCH_PARAMS_MAX 256

/* Reads the parameters file: its first line into line, the generation's seconds into
 * *gen_s. Returns 0, or -1 when it cannot be read or does not look right. */
static inline int bench_params_read(char *line, size_t cap, double *gen_s)
{
    FILE *f = fopen(bench_sub_dir[BENCH_KEPT_PARAMS], "r");
    if (!f) return -1;
    char second[BENCH_PARAMS_MAX];
    int ok = fgets(line, (int)cap, f) && fgets(second, sizeof second, f) &&
             sscanf(second, "gen_s=%lf", gen_s) == 1;
    fclose(f);
    return ok ? 0 : -1;
}

/* Writes the parameters file (a new file renamed over the old one): line, then gen_s. */
static inline void bench_params_write(const char *line, double gen_s)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", bench_sub_dir[BENCH_KEPT_PARAMS]);
    FILE *f = fopen(tmp, "w");
    if (!f) bench_die("cannot create %s: %s", tmp, strerror(errno));
    int bad =
        fprintf(f, "%sgen_s=%.3f\n", line, gen_s) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, bench_sub_dir[BENCH_KEPT_PARAMS]) != 0) {
        int e = errno;
        unlink(tmp);
        bench_die("cannot write %s: %s", bench_sub_dir[BENCH_KEPT_PARAMS], strerror(e));
    }
}

/* Sets up the working directory dir (NULL: a new one) with the store's sub-directory
 * store_name and the parameters file params_name. Returns 1 when it holds a complete store
 * generated from the parameters line want and reuse is set (its generation's seconds in
 * *gen_s); 0 when the store is to be generated: made here when make_store, else left for
 * the benchmark to make; either way removed, with the parameters file, on failure. Stops
 * with a usage error on a directory that holds something else. */
static inline int bench_kept_dirs(const char *dir, const char *store_name, const char *params_name,
                                  int reuse, const char *want, int make_store, double *gen_s)
{
    const char *names[BENCH_KEPT_SLOTS] = {store_name, params_name};
    bench_work_dir_make(dir);
    int exists = bench_sub_dirs_set(names, BENCH_KEPT_SLOTS);
    struct stat st;
    int have_store = lstat(bench_sub_dir[BENCH_KEPT_STORE], &st) == 0;
    if (exists >= 0 && !reuse) {
        bench_cleanup();
        bench_usage_error("%s already holds %s/ or %s; give an empty directory, or --reuse.",
                          bench_work_dir, store_name, params_name);
    }
    if (have_store) {
        char have[BENCH_PARAMS_MAX];
        if (bench_params_read(have, sizeof have, gen_s) != 0)
            bench_usage_error("%s holds %s/ but no readable %s (a generation that did not "
                              "finish?); remove %s/ first.",
                              bench_work_dir, store_name, params_name, store_name);
        if (strcmp(want, have) != 0) {
            have[strcspn(have, "\n")] = '\0';
            bench_usage_error("%s holds a store generated with other parameters (%s); remove "
                              "%s/ and %s or give another --dir.",
                              bench_work_dir, have, store_name, params_name);
        }
        return 1;
    }
    if (make_store)
        bench_sub_dir_make(BENCH_KEPT_STORE);
    else
        bench_sub_made[BENCH_KEPT_STORE] = 1; /* the benchmark makes it */
    bench_sub_made[BENCH_KEPT_PARAMS] = 1;    /* removed on failure, whatever is left of it */
    return 0;
}

/* The monotonic clock in seconds, for timing. */
static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Shows "what done/total (percent)" on one line of stderr when it is a terminal. */
static inline void bench_progress(const char *what, uint64_t done, uint64_t total)
{
    if (bench_progress_on)
        fprintf(stderr, "\r%s %" PRIu64 "/%" PRIu64 " (%.0f%%)  ", what, done, total,
                100.0 * (double)done / (double)total);
}

/* Erases the progress line. */
static inline void bench_progress_end(void)
{
    if (bench_progress_on) fputs("\r\033[K", stderr);
}

/* A well-mixed number of a and b (splitmix64 of a * K ^ b), for what is fixed per commune,
 * day or person. */
static inline uint64_t bench_mix(uint64_t a, uint64_t b)
{
    uint64_t s = a * 0xD1B54A32D192ED03ULL ^ b;
    return fx_splitmix64(&s);
}

#define BENCH_MASKED_MAX 16 /* a masked phone or ID number and its NUL */

/* Person i of a population drawn from person_seed: a pseudonym that looks random (16
 * bytes) and a masked phone (85%) or CCCD number, so that nothing per person is kept in
 * memory; the same seed and i give the same person. */
static inline void bench_person_make(uint64_t person_seed, uint64_t i, uint8_t ref[16],
                                     char masked[BENCH_MASKED_MAX])
{
    static const char *const prefix[] = {"03", "05", "07", "08", "09"};
    uint64_t s = person_seed ^ (i * 0xD1B54A32D192ED03ULL);
    uint64_t a = fx_splitmix64(&s), b = fx_splitmix64(&s), c = fx_splitmix64(&s);
    for (int k = 0; k < 8; k++) {
        ref[k] = (uint8_t)(a >> (8 * k));
        ref[8 + k] = (uint8_t)(b >> (8 * k));
    }
    if (c % 100 < 85)
        snprintf(masked, BENCH_MASKED_MAX, "%s******%02u", prefix[(c >> 8) % 5],
                 (unsigned)((c >> 16) % 100));
    else
        snprintf(masked, BENCH_MASKED_MAX, "**********%02u", (unsigned)((c >> 16) % 100));
}

/* Orders doubles for qsort. */
static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile p (1..100) of n sorted samples (n > 0). */
static inline double bench_percentile(const double *v, size_t n, unsigned p)
{
    size_t rank = (p * n + 99) / 100;
    return v[rank ? rank - 1 : 0];
}

#endif
