/* Hybrid logical clock (Kulkarni et al., 2014).
 *
 * A timestamp is one uint64_t: the upper 48 bits are milliseconds since the Unix epoch,
 * the lower 16 bits a logical counter that orders events within one millisecond and
 * events whose wall clock ran backwards. Timestamps compare as plain integers.
 *
 * Pure: the wall clock is a parameter (`wall_ms`), never read here. */
#ifndef TV_CRDT_HLC_H
#define TV_CRDT_HLC_H

#include <stdint.h>

#define CRDT_HLC_LOGICAL_BITS 16
#define CRDT_HLC_LOGICAL_MAX 0xFFFFu
/* A remote timestamp further than this ahead of our wall clock is refused by default:
 * a device whose clock is a day ahead must not drag every node's clock with it. */
#define CRDT_HLC_DRIFT_MAX_MS (24u * 3600u * 1000u)
/* A batch written further than this ahead of a receiver's clock waits (is parked) until
 * the receiver's clock is within it, rather than being applied (PROTOCOL.md §3.3, C1). A
 * laptop without time service drifts by seconds a day; an hour or more is a clock set
 * wrong (a date, a time zone), whose events must not win every last-writer-wins view until
 * that time comes. Twice the simulator's largest device skew (20 min) fits within it. */
#define CRDT_HLC_AHEAD_MAX_MS (60u * 60u * 1000u)

typedef struct crdt_hlc {
    uint64_t last; /* the largest timestamp issued or observed */
} crdt_hlc;

static inline uint64_t crdt_hlc_ms(uint64_t ts)
{
    return ts >> CRDT_HLC_LOGICAL_BITS;
}
static inline uint32_t crdt_hlc_logical(uint64_t ts)
{
    return (uint32_t)(ts & CRDT_HLC_LOGICAL_MAX);
}
static inline uint64_t crdt_hlc_make(uint64_t ms, uint32_t logical)
{
    return (ms << CRDT_HLC_LOGICAL_BITS) | (logical & CRDT_HLC_LOGICAL_MAX);
}

/* Starts a clock that will never issue a timestamp <= last (0 for a new node; a node
 * that restarts passes the largest timestamp in its own log). */
void crdt_hlc_init(crdt_hlc *c, uint64_t last);

/* Issues a timestamp for a local event at wall time wall_ms. Strictly greater than every
 * timestamp issued or observed before, whatever wall_ms does (skew, steps backwards).
 * When the logical counter would overflow, the millisecond part advances by one. */
uint64_t crdt_hlc_now(crdt_hlc *c, uint64_t wall_ms);

/* Merges a timestamp received from a peer. Returns 0, or TV_ECLOCK (clock unchanged) when
 * remote's millisecond part is more than drift_max_ms ahead of wall_ms. */
int crdt_hlc_observe(crdt_hlc *c, uint64_t remote, uint64_t wall_ms, uint64_t drift_max_ms);

#endif
