/* Following the scans of a log (follow.h). */
#include "node/logic/follow.h"

#include "crdt/batch.h"
#include "crdt/error.h"
#include "crdt/ids.h"
#include "node/logic/presence.h"
#include "node/logic/record.h"

#include <string.h>

int tv_follow_origin(store_txn *t, const uint8_t *origin, uint64_t *seq, uint64_t upto,
                     tv_follow_fn fn, void *arg)
{
    while (*seq < upto) {
        const uint8_t *buf;
        size_t len;
        int rc = store_batch_at(t, origin, *seq + 1, &buf, &len);
        if (rc) return rc == TV_ENOTFOUND ? TV_ECORRUPT : rc;
        crdt_batch b;
        /* the store verified this batch on apply: its header is enough here */
        if ((rc = crdt_batch_peek(&b, buf, len))) return TV_ECORRUPT;
        crdt_batch_iter it;
        crdt_batch_iter_init(&it, &b);
        crdt_event ev;
        uint64_t at = b.h.first_seq;
        while ((rc = crdt_batch_iter_next(&it, &ev)) == 1) {
            if (at > *seq && ev.known && ev.type == CRDT_EV_SCAN &&
                (rc = fn(arg, origin, at, &ev.u.scan)))
                break;
            at++;
        }
        crdt_batch_iter_release(&it);
        if (rc < 0) return rc;
        if (at <= *seq) return TV_ECORRUPT; /* no progress: the chain is not as stored */
        *seq = at - 1;
    }
    return 0;
}

int tv_scan_row_fill(tv_node *n, store_txn *t, tv_opened *o, const uint8_t *origin, uint64_t seq,
                     const crdt_scan *s, tv_scan_row *row)
{
    memset(row, 0, sizeof *row);
    tv_scan_key k = {.person = s->person,
                     .venue = s->venue,
                     .out = s->direction == CRDT_DIR_OUT,
                     .at_ms = s->at_ms,
                     .stored = 1,
                     .seq = seq};
    row->repeat = tv_scan_repeat(t, &k, TV_DEDUPE_WINDOW_MS_DEFAULT, NULL) == 1;
    int rc = tv_person_display_get(t, s->person, s->masked, row->person, sizeof row->person);
    if (rc) return rc;
    store_venue v;
    if (store_venue_get(t, s->venue, &v) == 0)
        snprintf(row->venue_name, sizeof row->venue_name, "%s", v.name);
    tv_event_id_format(row->id, origin, seq);
    tv_hex_encode(row->venue, s->venue, TV_VENUE_ID_BYTES);
    row->out = s->direction == CRDT_DIR_OUT;
    row->at_ms = s->at_ms;
    row->method = s->method;
    tv_gate_mark_get(n, t, o, s->person, &row->mark);
    return 0;
}
