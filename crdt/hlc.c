/* Hybrid logical clock: issuing local timestamps and merging remote ones (see hlc.h). */
#include "crdt/hlc.h"
#include "crdt/error.h"

/* The largest millisecond value a timestamp can hold (year 10889). Wall clocks beyond it
 * are clamped so that shifting the ms part left never loses bits. */
#define HLC_MS_MAX (UINT64_MAX >> CRDT_HLC_LOGICAL_BITS)

_Static_assert(CRDT_HLC_LOGICAL_MAX == (1u << CRDT_HLC_LOGICAL_BITS) - 1,
               "the logical counter fills exactly the low bits");

void crdt_hlc_init(crdt_hlc *c, uint64_t last)
{
    c->last = last;
}

/* Kulkarni's send rule on packed timestamps: a wall clock ahead of the clock starts a
 * fresh millisecond at logical 0; otherwise the next integer is taken, so a full logical
 * counter carries into the ms part by plain addition.
 *
 * Known limit: UINT64_MAX has no successor. Once the clock holds it (a wall clock or a
 * restart value at the very end of the range) every call returns UINT64_MAX rather than
 * wrapping to a small timestamp, which would reorder all history. */
uint64_t crdt_hlc_now(crdt_hlc *c, uint64_t wall_ms)
{
    if (wall_ms > HLC_MS_MAX) wall_ms = HLC_MS_MAX;
    if (wall_ms > crdt_hlc_ms(c->last))
        c->last = crdt_hlc_make(wall_ms, 0);
    else if (c->last != UINT64_MAX)
        c->last++;
    return c->last;
}

/* Kulkarni's receive rule sets the clock to max(local, remote, wall) and then counts one
 * event. Here the counting is left to the next crdt_hlc_now, which adds one to the same
 * maximum (or starts a later millisecond), so a receive that nobody timestamps spends no
 * logical value and the next local event still orders after the remote one. */
int crdt_hlc_observe(crdt_hlc *c, uint64_t remote, uint64_t wall_ms, uint64_t drift_max_ms)
{
    uint64_t remote_ms = crdt_hlc_ms(remote);

    /* Compared as a difference: wall_ms + drift_max_ms could overflow. */
    if (remote_ms > wall_ms && remote_ms - wall_ms > drift_max_ms) return TV_ECLOCK;
    if (remote > c->last) c->last = remote;
    return TV_OK;
}
