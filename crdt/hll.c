/* HyperLogLog (see hll.h). */
#include "crdt/hll.h"

#include <math.h>

_Static_assert((CRDT_HLL_REGS & (CRDT_HLL_REGS - 1)) == 0, "a power of two registers");
_Static_assert(TV_PERSON_REF_BYTES >= 9, "a register byte and eight rank bytes");

void crdt_hll_add(uint8_t regs[CRDT_HLL_REGS], const uint8_t ref[TV_PERSON_REF_BYTES])
{
    uint64_t w = 0;
    for (int i = 1; i <= 8; i++)
        w = w << 8 | ref[i];
    /* the position of the first 1 bit, from 1; 65 when there is none */
    uint8_t rank = w ? (uint8_t)(__builtin_clzll(w) + 1) : 65;
    uint8_t *r = &regs[ref[0] & (CRDT_HLL_REGS - 1)];
    if (rank > *r) *r = rank;
}

void crdt_hll_merge(uint8_t regs[CRDT_HLL_REGS], const uint8_t other[CRDT_HLL_REGS])
{
    for (int i = 0; i < CRDT_HLL_REGS; i++)
        if (other[i] > regs[i]) regs[i] = other[i];
}

uint64_t crdt_hll_estimate(const uint8_t regs[CRDT_HLL_REGS])
{
    const double m = CRDT_HLL_REGS;
    double sum = 0;
    unsigned zeros = 0;
    for (int i = 0; i < CRDT_HLL_REGS; i++) {
        sum += ldexp(1.0, -(int)regs[i]);
        zeros += regs[i] == 0;
    }
    if (zeros == CRDT_HLL_REGS) return 0;
    /* Small-range correction: while registers are still empty, linear counting (the
     * expected number of distinct refs that leave that many registers empty) is the
     * better estimate up to 5/2 m. The choice is made on linear counting's own figure, not
     * on the raw estimate: the raw estimate is biased upwards below about 5 m, so choosing
     * on it (as the paper does) gave up linear counting too early (300 people were read
     * as 333 to 343 in 128 registers). */
    if (zeros) {
        double lc = m * log(m / zeros);
        if (lc <= 2.5 * m) return (uint64_t)(lc + 0.5);
    }
    double e = 0.7213 / (1.0 + 1.079 / m) * m * m / sum;
    return (uint64_t)(e + 0.5);
}
