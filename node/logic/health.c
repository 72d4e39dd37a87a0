/* A person's case and infectious window from the case_status events held. */
#include "node/logic/health.h"
#include "crdt/error.h"
#include "crdt/hlc.h"

#include <string.h>
#include <strings.h>

typedef struct walk {
    tv_case *c;
    int any;
} walk;

/* Events come in (HLC, origin) order: the last is the status; an F0 opens a window, a
 * clearing after it closes it, a later F0 opens a new one. */
static int case_row(const store_case *sc, void *arg)
{
    walk *w = arg;
    tv_case *c = w->c;
    w->any = 1;
    c->current = *sc;
    if (sc->status == CRDT_CASE_F0) {
        int64_t start = sc->onset_ms >= 0 ? sc->onset_ms : sc->sampled_ms;
        c->has_window = 1;
        c->window_from = start - TV_INFECTIOUS_BEFORE_MS;
        c->window_to = TV_WINDOW_OPEN;
        c->declared_ms = (int64_t)crdt_hlc_ms(sc->hlc);
    } else if (sc->status == CRDT_CASE_CLEARED && c->has_window && c->window_to == TV_WINDOW_OPEN) {
        c->window_to = sc->at_ms >= 0 ? sc->at_ms : (int64_t)crdt_hlc_ms(sc->hlc);
    }
    return 0;
}

int tv_case_get(store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES], tv_case *out)
{
    memset(out, 0, sizeof *out);
    walk w = {out, 0};
    int rc = store_cases_foreach(t, ref, case_row, &w);
    if (rc) return rc;
    return w.any ? TV_OK : TV_ENOTFOUND;
}

int tv_case_from_rows(const store_case *rows, size_t n, tv_case *out)
{
    memset(out, 0, sizeof *out);
    walk w = {out, 0};
    for (size_t i = 0; i < n; i++)
        (void)case_row(&rows[i], &w);
    return w.any ? TV_OK : TV_ENOTFOUND;
}

typedef struct each_ctx {
    tv_case_person_fn fn;
    void *ctx;
    uint8_t last[TV_PERSON_REF_BYTES];
    int have_last;
} each_ctx;

/* Rows come by person: a person is done when the next one starts, or at the end. */
static int each_row(const store_case *sc, void *arg)
{
    each_ctx *e = arg;
    if (e->have_last && memcmp(e->last, sc->person, TV_PERSON_REF_BYTES) != 0) {
        int rc = e->fn(e->last, e->ctx);
        if (rc) return rc;
    }
    memcpy(e->last, sc->person, TV_PERSON_REF_BYTES);
    e->have_last = 1;
    return 0;
}

int tv_cases_each_person(store_txn *t, tv_case_person_fn fn, void *ctx)
{
    each_ctx e = {.fn = fn, .ctx = ctx};
    int rc = store_cases_foreach(t, NULL, each_row, &e);
    return rc == 0 && e.have_last ? fn(e.last, ctx) : rc;
}

const char *tv_case_colour(uint8_t status)
{
    switch (status) {
    case CRDT_CASE_F0:
        return "ĐỎ (red)";
    case CRDT_CASE_F1:
        return "CAM (orange)";
    case CRDT_CASE_F2:
        return "VÀNG (yellow)";
    default:
        return NULL;
    }
}

int tv_case_status_parse(const char *s)
{
    for (int i = 0; i <= CRDT_CASE_STATUS_MAX; i++)
        if (strcasecmp(s, crdt_case_status_name((uint32_t)i)) == 0) return i;
    return -1;
}
