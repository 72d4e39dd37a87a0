/* Station benchmark: the gate's whole pipeline, as the real `truyvet station` process runs
 * it (read a line, parse the card, pseudonym, seal the details the first time a person is
 * seen, durable commit, answer), in bulk from a pipe and one scan at a time. A share of
 * the people are confirmed cases, set at the province and sent down to the commune before
 * the timed runs, so the gate's lookup of each person's status finds some and answers
 * them with a stop; the stops are counted and checked. */
#define BENCH_NAME "station"
#define BENCH_PROGRESS_BREAK "\n"
#include "bench_util.h"

#include <fcntl.h>
#include <sys/wait.h>

static const char usage[] =
    "Usage: station [--truyvet PATH] [--scans N] [--persons N] [--acks N] [--cases N]\n"
    "               [--dir PATH] [--seed N]\n"
    "\n"
    "Creates a province (the health authority) and a commune enrolled under it with one\n"
    "venue, then pipes --scans chip ID card (CCCD) payloads of --persons people into\n"
    "`truyvet station` and times them from the first line written to the last answer\n"
    "read: parsing, pseudonyms, sealing each new person's details, durable commits and\n"
    "answers. Then it writes --acks payloads one at a time, each after the previous\n"
    "answer, and times each answer.\n"
    "Before the timed runs, --cases of the people are recorded once, shipped to the\n"
    "province, declared F0 there (and the commune's unit put at risk level 3), and the\n"
    "province's log shipped back: the gate answers their scans with a stop (DỪNG), and\n"
    "the stops are counted and checked against the scans of those people.\n"
    "\n"
    "  --truyvet PATH  the truyvet binary (default: ../truyvet next to this program)\n"
    "  --scans N       scans in the bulk run (default 200000)\n"
    "  --persons N     distinct people in it (default 50000)\n"
    "  --acks N        single scans to time (default 2000)\n"
    "  --cases N       people declared F0 (default 50, at most half of --persons)\n"
    "  --dir PATH      working directory (default: a new one under $TMPDIR or /tmp)\n"
    "  --seed N        seed of the generator (default 1)\n"
    "\n"
    "The last line of output holds the figures as key=value pairs.\n";

static char tv_path[PATH_MAX];

/* Runs truyvet with args; its stdout into out (cap bytes) when out is not NULL. */
static void tv_run(char *out, size_t cap, const char *const *args)
{
    int p[2];
    if (pipe(p)) bench_die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) bench_die("fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(p[1], STDOUT_FILENO);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, STDERR_FILENO);
        close(p[0]);
        const char *argv[32] = {tv_path};
        for (int i = 0; args[i] && i < 30; i++)
            argv[i + 1] = args[i];
        execv(tv_path, (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    size_t n = 0;
    char sink[4096];
    for (;;) {
        ssize_t r = read(p[0], out ? out + n : sink, out ? cap - 1 - n : sizeof sink);
        if (r <= 0) break;
        if (out) n += (size_t)r;
        if (out && n + 1 >= cap) break;
    }
    close(p[0]);
    if (out) out[n] = '\0';
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) bench_die("truyvet %s %s failed", args[2], args[3]);
}

typedef struct station_proc {
    pid_t pid;
    int in, out; /* our ends: write lines, read answers */
} station_proc;

static station_proc station_start(const char *node, const char *venue)
{
    int a[2], b[2];
    if (pipe(a) || pipe(b)) bench_die("pipe: %s", strerror(errno));
    station_proc s;
    s.pid = fork();
    if (s.pid < 0) bench_die("fork: %s", strerror(errno));
    if (s.pid == 0) {
        dup2(a[0], STDIN_FILENO);
        dup2(b[1], STDOUT_FILENO);
        close(a[1]);
        close(b[0]);
        execl(tv_path, tv_path, "-d", node, "station", "--venue", venue, (char *)NULL);
        _exit(127);
    }
    close(a[0]);
    close(b[1]);
    s.in = a[1];
    s.out = b[0];
    return s;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) bench_die("writing to the station: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
}

/* Reads answers until `lines` newlines have come; counts the recorded ones (OK, ĐÃ VÀO
 * RỒI: a repeat within the window is recorded too, DỪNG: a stopped person is recorded
 * too) and among them the stops. */
static uint64_t read_answers(int fd, uint64_t lines, uint64_t *ok, uint64_t *stops)
{
    static const char *const recorded[] = {"OK  ", "ĐÃ VÀO RỒI  ", "DỪNG — KHÔNG VÀO  "};
    static char buf[1 << 16];
    static char head[32]; /* the start of the current line */
    static size_t nhead;
    uint64_t got = 0;
    while (got < lines) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) bench_die("the station ended early (%" PRIu64 " answers)", got);
        for (ssize_t i = 0; i < r; i++) {
            if (buf[i] != '\n') {
                if (nhead < sizeof head) head[nhead++] = buf[i];
                continue;
            }
            for (size_t k = 0; k < 3; k++) {
                size_t n = strlen(recorded[k]);
                if (nhead >= n && memcmp(head, recorded[k], n) == 0) {
                    (*ok)++;
                    *stops += k == 2;
                }
            }
            nhead = 0;
            got++;
        }
    }
    return got;
}

static void payload(char *out, size_t cap, uint64_t person)
{
    static const char *const family[] = {"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ"};
    static const char *const middle[] = {"Văn", "Thị", "Đức", "Ngọc", "Minh"};
    static const char *const given[] = {"An", "Bình", "Chi", "Dũng", "Hà", "Khánh", "Lan"};
    snprintf(out, cap,
             "%03u%09" PRIu64 "||%s %s %s|%02u%02u19%02u|%s|Thôn %u, Xã Phước Đồng|01012022\n",
             (unsigned)(person % 96 + 1), person % 1000000000, family[person % 6],
             middle[person / 6 % 5], given[person / 30 % 7], (unsigned)(person % 28 + 1),
             (unsigned)(person % 12 + 1), (unsigned)(person % 80 + 20), person % 2 ? "Nam" : "Nữ",
             (unsigned)(person % 9 + 1));
}

/* The people declared F0: every stride-th, `cases` of them. */
static uint64_t case_stride, case_count;
static int is_case(uint64_t person)
{
    return case_count && person % case_stride == 0 && person / case_stride < case_count;
}

int main(int argc, char **argv)
{
    uint64_t scans = 200000, persons = 50000, acks = 2000, seed = 1, cases = 50;
    const char *dir = NULL, *tv = NULL;
    const bench_opt table[] = {{"truyvet", BENCH_OPT_PATH, &tv, 0, 0},
                               {"scans", BENCH_OPT_U64, &scans, 1, 100000000},
                               {"persons", BENCH_OPT_U64, &persons, 1, 100000000},
                               {"acks", BENCH_OPT_U64, &acks, 1, 1000000},
                               BENCH_OPT_DIR(&dir),
                               BENCH_OPT_SEED(&seed),
                               {"cases", BENCH_OPT_U64, &cases, 0, 100000000},
                               {0}};
    bench_parse_opts(argc, argv, table, usage);
    if (cases > persons / 2) cases = persons / 2;
    case_count = cases;
    case_stride = cases ? persons / cases : 1;
    bench_truyvet_path(tv, tv_path);
    bench_start();
    bench_work_dir_make(dir);
    static const char *const subs[] = {"province", "commune", "credentials"};
    if (bench_sub_dirs_set(subs, 3) >= 0)
        bench_usage_error("--dir %s already holds province/, commune/ or credentials/",
                          bench_work_dir);
    const char *p = bench_sub_dir[0], *cm = bench_sub_dir[1];
    char req[PATH_MAX], cert[PATH_MAX];
    snprintf(req, sizeof req, "%.*s/req", PATH_MAX - 8, bench_work_dir);
    snprintf(cert, sizeof cert, "%.*s/cert", PATH_MAX - 8, bench_work_dir);
    bench_sub_made[0] = bench_sub_made[1] = 1; /* init creates them; cleanup removes them */
    /* the nodes' passphrase, as a systemd service finds it ($CREDENTIALS_DIRECTORY): each
     * command unlocks from it once at start (the cheapest Argon2id: unlocking is not what
     * is measured) */
    const char *cred = bench_sub_dir[2];
    char pass[PATH_MAX];
    snprintf(pass, sizeof pass, "%.*s/passphrase", PATH_MAX - 16, cred);
    FILE *pf = NULL;
    bench_sub_made[2] = 1;
    if (mkdir(cred, 0700) || !(pf = fopen(pass, "w")) || fputs(BENCH_PASS_TEXT "\n", pf) == EOF ||
        fclose(pf))
        bench_die("cannot write %s", pass);
    if (setenv("CREDENTIALS_DIRECTORY", cred, 1) || setenv("TRUYVET_KDF", "min", 1) ||
        setenv("TRUYVET_KEYRING", "process", 1))
        bench_die("setenv");
    tv_run(NULL, 0,
           (const char *const[]){"-d", p, "init", "--role", "province", "--unit", "56", "--name",
                                 "Sở Y tế", NULL});
    tv_run(NULL, 0,
           (const char *const[]){"-d", cm, "init", "--role", "commune", "--unit", "22333", "--name",
                                 "Xã Phước Đồng", NULL});
    tv_run(NULL, 0, (const char *const[]){"-d", cm, "enroll", "request", "--out", req, NULL});
    tv_run(NULL, 0, (const char *const[]){"-d", p, "enroll", "issue", req, "--out", cert, NULL});
    tv_run(NULL, 0, (const char *const[]){"-d", cm, "enroll", "accept", cert, NULL});
    char venue[64];
    tv_run(venue, sizeof venue,
           (const char *const[]){"-d", cm, "venue", "add", "--name", "Chợ Phước Đồng", "--category",
                                 "market", NULL});
    venue[strcspn(venue, "\n")] = '\0';

    /* the cases: recorded at the commune once (the province learns who they are from the
     * commune's log), declared F0 at the province, and the status sent back down */
    char line[512];
    if (cases) {
        station_proc w = station_start(cm, venue);
        uint64_t ok0 = 0, stops0 = 0;
        for (uint64_t k = 0; k < cases; k++) {
            payload(line, sizeof line, k * case_stride);
            write_all(w.in, line, strlen(line));
        }
        close(w.in);
        read_answers(w.out, cases, &ok0, &stops0);
        waitpid(w.pid, NULL, 0);
        close(w.out);
        if (ok0 != cases) bench_die("the cases were not recorded");
        char bundle[PATH_MAX];
        snprintf(bundle, sizeof bundle, "%.*s/bundle", PATH_MAX - 8, bench_work_dir);
        tv_run(NULL, 0, (const char *const[]){"-d", cm, "bundle", "export", "--out", bundle, NULL});
        tv_run(NULL, 0, (const char *const[]){"-d", p, "bundle", "import", bundle, NULL});
        for (uint64_t k = 0; k < cases; k++) {
            payload(line, sizeof line, k * case_stride);
            line[strcspn(line, "\n")] = '\0';
            tv_run(NULL, 0,
                   (const char *const[]){"-d", p, "case", "add", "--payload", line, "--status",
                                         "F0", "--onset", "2021-10-08", NULL});
        }
        tv_run(NULL, 0,
               (const char *const[]){"-d", p, "risk", "set", "--unit", "22333", "--level", "3",
                                     "--from", "today", NULL});
        unlink(bundle);
        tv_run(NULL, 0, (const char *const[]){"-d", p, "bundle", "export", "--out", bundle, NULL});
        tv_run(NULL, 0, (const char *const[]){"-d", cm, "bundle", "import", bundle, NULL});
        unlink(bundle);
    }

    /* the bulk input, made before timing */
    uint64_t want_stops = 0;
    uint64_t rng = seed;
    size_t cap = (size_t)scans * 128, len = 0;
    char *input = malloc(cap);
    if (!input) bench_die("out of memory");
    for (uint64_t i = 0; i < scans; i++) {
        uint64_t who = i < persons ? i : fx_splitmix64(&rng) % persons;
        want_stops += is_case(who);
        payload(input + len, cap - len, who);
        len += strlen(input + len);
    }

    station_proc s = station_start(cm, venue);
    double t0 = bench_now_s();
    /* write and read at once: a writer that only writes would fill the answer pipe */
    pid_t writer = fork();
    if (writer == 0) {
        close(s.out);
        write_all(s.in, input, len);
        _exit(0);
    }
    uint64_t ok = 0, stops = 0;
    read_answers(s.out, scans, &ok, &stops);
    double bulk_s = bench_now_s() - t0;
    waitpid(writer, NULL, 0);
    if (ok != scans) bench_die("%" PRIu64 " of %" PRIu64 " scans recorded", ok, scans);
    if (stops != want_stops)
        bench_die("%" PRIu64 " stops answered, %" PRIu64 " expected", stops, want_stops);

    /* one at a time: new people (a seal each) and known ones, alternately */
    double *lat = malloc(acks * sizeof *lat);
    if (!lat) bench_die("out of memory");
    uint64_t ok1 = 0, stops1 = 0;
    for (uint64_t i = 0; i < acks; i++) {
        uint64_t who = i % 2 ? persons + i : fx_splitmix64(&rng) % persons;
        want_stops += is_case(who);
        payload(line, sizeof line, who);
        double a = bench_now_s();
        write_all(s.in, line, strlen(line));
        read_answers(s.out, 1, &ok1, &stops1);
        lat[i] = (bench_now_s() - a) * 1000.0;
    }
    stops += stops1;
    if (ok1 != acks || stops != want_stops)
        bench_die("one at a time: %" PRIu64 " of %" PRIu64 " recorded, %" PRIu64
                  " stops of %" PRIu64 " expected",
                  ok1, acks, stops, want_stops);
    close(s.in);
    int st;
    waitpid(s.pid, &st, 0);
    close(s.out);
    qsort(lat, acks, sizeof *lat, bench_cmp_double);
    double p50 = lat[acks / 2], p99 = lat[(acks * 99) / 100 < acks ? (acks * 99) / 100 : acks - 1];
    printf("bulk: %" PRIu64 " scans of %" PRIu64 " people in %.3f s\n", scans, persons, bulk_s);
    printf("one at a time: %" PRIu64 " scans, ack p50 %.3f ms, p99 %.3f ms\n", acks, p50, p99);
    printf("bench=station scans=%" PRIu64 " persons=%" PRIu64 " scans_per_s=%.0f ack_p50_ms=%.3f "
           "ack_p99_ms=%.3f acks=%" PRIu64 " cases=%" PRIu64 " stops=%" PRIu64 "\n",
           scans, persons, (double)scans / bulk_s, p50, p99, acks, cases, stops);
    free(lat);
    free(input);
    bench_cleanup();
    return 0;
}
