/* Venues of a node: what `truyvet venue` and a web console read and record (venue.h). */
#include "node/logic/venue.h"

#include "crdt/error.h"
#include "crdt/ids.h"
#include "node/format/text.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- values --------------------------------------------------------------------------- */

const tv_category *tv_venue_category_parse(const char *s)
{
    const tv_category *c = tv_category_find(s);
    if (c) return c;
    char *end;
    long code = strtol(s, &end, 10);
    if (*s && *end == '\0' && code > 0 && code < 256) return tv_category_by_code((unsigned)code);
    return NULL;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int tv_venue_closes_parse(const char *s, uint32_t *closes)
{
    if (strcmp(s, "none") == 0) {
        *closes = CRDT_CLOSES_NONE;
        return 0;
    }
    unsigned h = 0, m = 0;
    size_t i = 0;
    while (is_digit(s[i]) && i < 2)
        h = h * 10 + (unsigned)(s[i++] - '0');
    if (i == 0 || (s[i] != ':' && s[i] != 'h' && s[i] != 'H')) return TV_EINVAL;
    int colon = s[i++] == ':';
    if (s[i] == '\0' && !colon) {
        m = 0; /* "22h" */
    } else {
        if (!is_digit(s[i]) || !is_digit(s[i + 1]) || s[i + 2] != '\0') return TV_EINVAL;
        m = (unsigned)(s[i] - '0') * 10 + (unsigned)(s[i + 1] - '0');
    }
    if (h > 23 || m > 59) return TV_EINVAL;
    *closes = h * 60 + m + 1;
    return 0;
}

void tv_venue_closes_format(char out[8], uint32_t closes)
{
    uint32_t min = closes - 1;
    snprintf(out, 8, "%02u:%02u", (min / 60) % 24, min % 60);
}

/* --- scope and lists ------------------------------------------------------------------ */

int tv_venue_scope_init(tv_node *n, const char *under, tv_venue_scope *s)
{
    memset(s, 0, sizeof *s);
    s->under = under;
    if (!under) return 0;
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    rc = tv_tree_load(t, &s->tr);
    store_read_end(t);
    if (rc) return rc;
    s->loaded = 1;
    if (!tv_tree_find(&s->tr, under)) {
        tv_venue_scope_release(s);
        return TV_ENOTFOUND;
    }
    return 0;
}

void tv_venue_scope_release(tv_venue_scope *s)
{
    if (s->loaded) tv_tree_free(&s->tr);
    s->loaded = 0;
}

int tv_venue_scope_has(const tv_venue_scope *s, const char *unit)
{
    if (!s || !s->under) return 1;
    char code[TV_UNIT_CODE_MAX + 1];
    snprintf(code, sizeof code, "%s", unit);
    for (int depth = 0; depth < 64 && code[0]; depth++) { /* a bound: the tree may loop */
        if (strcmp(code, s->under) == 0) return 1;
        const tv_tree_unit *u = tv_tree_find(&s->tr, code);
        char up[TV_UNIT_CODE_MAX + 1];
        if (u)
            snprintf(up, sizeof up, "%s", u->parent);
        else
            tv_unit_parent(code, up);
        memcpy(code, up, sizeof code);
    }
    return 0;
}

/* Makes room for one more item of size bytes in *p (n used of *cap). */
static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) return 0;
    size_t c = *cap ? 2 * *cap : 16;
    void *q = realloc(*p, c * size);
    if (!q) return TV_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

typedef struct each_ctx {
    const tv_venue_scope *s;
    tv_venue_fn fn;
    void *ctx;
} each_ctx;

static int each_one(const store_venue *v, void *arg)
{
    each_ctx *x = arg;
    return tv_venue_scope_has(x->s, v->unit) ? x->fn(v, x->ctx) : 0;
}

int tv_venue_each(tv_node *n, const tv_venue_scope *s, tv_venue_fn fn, void *ctx)
{
    each_ctx x = {s, fn, ctx};
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    rc = store_venue_foreach(t, each_one, &x);
    store_read_end(t);
    return rc;
}

static int list_one(const store_venue *v, void *arg)
{
    tv_venue_list *l = arg;
    int rc = grow((void **)&l->v, &l->cap, l->n, sizeof *l->v);
    if (rc) return rc;
    l->v[l->n++] = *v;
    return 0;
}

int tv_venue_list_get(tv_node *n, const tv_venue_scope *s, tv_venue_list *out)
{
    memset(out, 0, sizeof *out);
    return tv_venue_each(n, s, list_one, out);
}

void tv_venue_list_free(tv_venue_list *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

typedef struct nc_ctx {
    store_txn *t;
    const tv_venue_scope *s;
    int64_t since_ms;
    tv_venue_nc *c;
} nc_ctx;

static int nc_collect(const store_venue *v, void *arg)
{
    nc_ctx *x = arg;
    tv_venue_nc *c = x->c;
    if (c->unit && strcmp(v->unit, c->unit) != 0) return 0;
    if (!tv_venue_scope_has(x->s, v->unit)) return 0;
    store_venue_status st;
    int rc = store_venue_status_get(x->t, v->id, &st);
    if (rc) return rc;
    if (!st.suspended && st.last_scan_ms != INT64_MIN && st.last_scan_ms >= x->since_ms) return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        tv_venue_nc_row *rows = realloc(c->rows, cap * sizeof *rows);
        if (!rows) return TV_ENOMEM;
        c->rows = rows;
        c->cap = cap;
    }
    c->rows[c->n++] = (tv_venue_nc_row){*v, st};
    return 0;
}

static int nc_cmp(const void *pa, const void *pb)
{
    const tv_venue_nc_row *a = pa, *b = pb;
    if (a->st.reminders != b->st.reminders) return a->st.reminders > b->st.reminders ? -1 : 1;
    if (a->st.last_scan_ms != b->st.last_scan_ms)
        return a->st.last_scan_ms < b->st.last_scan_ms ? -1 : 1;
    return memcmp(a->v.id, b->v.id, TV_VENUE_ID_BYTES);
}

int tv_venue_noncompliant(tv_node *n, const tv_venue_scope *s, int64_t since_ms, tv_venue_nc *out)
{
    memset(out, 0, sizeof *out);
    out->unit = n->role == TV_ROLE_COMMUNE ? n->unit : NULL;
    nc_ctx x = {.s = s, .since_ms = since_ms, .c = out};
    int rc = store_read_begin(n->st, &x.t);
    if (rc) return rc;
    rc = store_venue_foreach(x.t, nc_collect, &x);
    store_read_end(x.t);
    if (rc == 0 && out->n > 1) qsort(out->rows, out->n, sizeof *out->rows, nc_cmp);
    return rc;
}

void tv_venue_nc_free(tv_venue_nc *c)
{
    free(c->rows);
    c->rows = NULL;
    c->n = c->cap = 0;
}

/* --- one venue ------------------------------------------------------------------------ */

static int detail_ctrl(const char *phone, uint64_t hlc, void *arg)
{
    tv_venue_detail *d = arg;
    if (d->nctrl >= TV_VENUE_ITEMS_MAX) return TV_ELIMIT;
    int rc = grow((void **)&d->ctrl, &d->capctrl, d->nctrl, sizeof *d->ctrl);
    if (rc) return rc;
    tv_venue_ctrl *c = &d->ctrl[d->nctrl++];
    snprintf(c->phone, sizeof c->phone, "%s", phone);
    c->hlc = hlc;
    return 0;
}

static int detail_rem(uint64_t hlc, const uint8_t origin[TV_NODE_ID_BYTES], uint8_t action,
                      const char *note, size_t note_len, void *arg)
{
    (void)origin;
    tv_venue_detail *d = arg;
    if (d->nrem >= TV_VENUE_ITEMS_MAX) return TV_ELIMIT;
    int rc = grow((void **)&d->rem, &d->caprem, d->nrem, sizeof *d->rem);
    if (rc) return rc;
    tv_venue_rem *r = &d->rem[d->nrem++];
    r->hlc = hlc;
    r->action = action;
    if (note_len > CRDT_TEXT_BYTES_MAX) note_len = CRDT_TEXT_BYTES_MAX;
    memcpy(r->note, note, note_len);
    r->note[note_len] = '\0';
    return 0;
}

int tv_venue_detail_get(tv_node *n, const uint8_t id[TV_VENUE_ID_BYTES], int all,
                        tv_venue_detail *d)
{
    memset(d, 0, sizeof *d);
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    rc = store_controllers_foreach(t, id, detail_ctrl, d);
    if (rc == 0 && all) rc = store_reminders_foreach(t, id, detail_rem, d);
    if (rc == 0 && all) rc = store_venue_status_get(t, id, &d->st);
    store_read_end(t);
    return rc;
}

void tv_venue_detail_free(tv_venue_detail *d)
{
    free(d->ctrl);
    free(d->rem);
    memset(d, 0, sizeof *d);
}

int tv_venue_status_get(tv_node *n, const uint8_t id[TV_VENUE_ID_BYTES], store_venue_status *st)
{
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    rc = store_venue_status_get(t, id, st);
    store_read_end(t);
    return rc;
}

/* --- changes -------------------------------------------------------------------------- */

typedef struct dup_ctx {
    const char *unit;
    char name[TV_TEXT_FOLD_BYTES], village[TV_TEXT_FOLD_BYTES];
    uint32_t category;
    int found;
    store_venue v;
} dup_ctx;

static int dup_find(const store_venue *v, void *arg)
{
    dup_ctx *d = arg;
    char name[TV_TEXT_FOLD_BYTES], village[TV_TEXT_FOLD_BYTES];
    if (v->category != d->category || strcmp(v->unit, d->unit) != 0) return 0;
    if (tv_text_fold(v->name, name, sizeof name) || strcmp(name, d->name) != 0) return 0;
    if (tv_text_fold(v->village, village, sizeof village) || strcmp(village, d->village) != 0)
        return 0;
    d->found = 1;
    d->v = *v;
    return 1; /* stop */
}

int tv_venue_duplicate(tv_node *n, const crdt_venue_upsert *v, store_venue *found)
{
    dup_ctx *d = calloc(1, sizeof *d);
    if (!d) return TV_ENOMEM;
    d->unit = n->unit;
    d->category = v->category;
    char name[CRDT_TEXT_BYTES_MAX + 1], village[CRDT_TEXT_BYTES_MAX + 1];
    snprintf(name, sizeof name, "%.*s", (int)v->name.n, v->name.n ? v->name.p : "");
    snprintf(village, sizeof village, "%.*s", (int)v->village.n, v->village.n ? v->village.p : "");
    (void)tv_text_fold(name, d->name, sizeof d->name);
    (void)tv_text_fold(village, d->village, sizeof d->village);
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc == 0) {
        rc = store_venue_foreach(t, dup_find, d);
        store_read_end(t);
        if (rc > 0) rc = 0;
    }
    if (rc == 0 && d->found) {
        *found = d->v;
        rc = 1;
    }
    free(d);
    return rc;
}

/* Commits the pending events durably. */
static int commit(tv_node *n)
{
    uint64_t seq;
    return tv_node_commit(n, &seq);
}

/* Records upsert v and commits it; a refused event leaves nothing pending. */
static int record(tv_node *n, const crdt_venue_upsert *v)
{
    int rc = tv_node_add_venue(n, v, NULL);
    if (rc) {
        tv_node_discard(n);
        return rc;
    }
    return commit(n);
}

int tv_venue_register(tv_node *n, crdt_venue_upsert *v)
{
    randombytes_buf(v->nonce, sizeof v->nonce);
    tv_venue_id_derive(v->venue, n->id.pk, v->nonce);
    v->registers = 1;
    v->fields |= CRDT_VENUE_F_UNIT;
    v->unit = (crdt_text){n->unit, (uint32_t)strlen(n->unit)};
    return record(n, v);
}

int tv_venue_edit(tv_node *n, const uint8_t id[TV_VENUE_ID_BYTES], crdt_venue_upsert *v)
{
    memcpy(v->venue, id, sizeof v->venue);
    v->fields |= CRDT_VENUE_F_UNIT; /* every upsert names its unit: peers judge it by that */
    v->unit = (crdt_text){n->unit, (uint32_t)strlen(n->unit)};
    return record(n, v);
}

int tv_venue_controller_tags(tv_node *n, const uint8_t id[TV_VENUE_ID_BYTES], const char *phone,
                             uint8_t *tags, uint32_t cap, uint32_t *ntags)
{
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    rc = store_controller_tags(t, id, phone, tags, cap, ntags);
    store_read_end(t);
    return rc;
}

int tv_venue_controller_add(tv_node *n, const uint8_t id[TV_VENUE_ID_BYTES], const char *phone)
{
    crdt_controller c = {.unit = {n->unit, (uint32_t)strlen(n->unit)},
                         .phone = {phone, (uint32_t)strlen(phone)}};
    memcpy(c.venue, id, sizeof c.venue);
    int rc = tv_node_add_controller(n, CRDT_EV_CONTROLLER_ADD, &c, NULL);
    if (rc) {
        tv_node_discard(n);
        return rc;
    }
    return commit(n);
}

int tv_venue_controller_remove(tv_node *n, const uint8_t id[TV_VENUE_ID_BYTES], const char *phone,
                               const uint8_t *tags, uint32_t ntags)
{
    int rc = 0;
    for (uint32_t i = 0; i < ntags && rc == 0; i += CRDT_TAGS_MAX) {
        uint32_t k = ntags - i < CRDT_TAGS_MAX ? ntags - i : CRDT_TAGS_MAX;
        crdt_controller c = {.unit = {n->unit, (uint32_t)strlen(n->unit)},
                             .phone = {phone, (uint32_t)strlen(phone)},
                             .tags = tags + (size_t)i * CRDT_TAG_BYTES,
                             .ntags = k};
        memcpy(c.venue, id, sizeof c.venue);
        rc = tv_node_add_controller(n, CRDT_EV_CONTROLLER_REMOVE, &c, NULL);
    }
    if (rc) {
        tv_node_discard(n);
        return rc;
    }
    return commit(n);
}

int tv_venue_remind(tv_node *n, const uint8_t id[TV_VENUE_ID_BYTES], uint8_t action,
                    const char *note)
{
    crdt_reminder r = {.unit = {n->unit, (uint32_t)strlen(n->unit)}, .action = action};
    if (note) r.note = (crdt_text){note, (uint32_t)strlen(note)};
    memcpy(r.venue, id, sizeof r.venue);
    int rc = tv_node_add_reminder(n, &r, NULL);
    if (rc) {
        tv_node_discard(n);
        return rc;
    }
    return commit(n);
}
