/* A HyperLogLog sketch of distinct people: how many different person refs were seen,
 * estimated in CRDT_HLL_REGS bytes whatever the count (Flajolet, Fusy, Gandouet and
 * Meunier, 2007). It is a state-based CRDT: two sketches merge by the maximum of each
 * register, so a unit's days sum to the sketch of the whole period in any order, and a
 * person seen twice changes nothing.
 *
 * Person refs are keyed BLAKE2b (crdt/ids.h), so their bytes are already uniform: the
 * first byte picks the register, the next eight give the rank. The standard error is
 * 1.04 / sqrt(CRDT_HLL_REGS), about 9 %. */
#ifndef TV_CRDT_HLL_H
#define TV_CRDT_HLL_H

#include "crdt/ids.h"

#include <stdint.h>

#define CRDT_HLL_REGS 128

/* Adds one person ref to the sketch regs. */
void crdt_hll_add(uint8_t regs[CRDT_HLL_REGS], const uint8_t ref[TV_PERSON_REF_BYTES]);

/* regs := the register-wise maximum of regs and other. */
void crdt_hll_merge(uint8_t regs[CRDT_HLL_REGS], const uint8_t other[CRDT_HLL_REGS]);

/* The estimated number of distinct refs added, rounded; 0 for an empty sketch. Small
 * counts use linear counting (m ln(m / empty registers)) whenever that figure is at most
 * 5/2 m = 320 and a register is empty; larger ones the raw HyperLogLog estimate. The
 * estimate is of the sketch alone: a caller that also counts the check-ins behind it
 * clamps it to them (node/logic/report.c). */
uint64_t crdt_hll_estimate(const uint8_t regs[CRDT_HLL_REGS]);

#endif
