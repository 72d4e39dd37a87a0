/* A store's check written out, as `truyvet verify` shows it: a line per fault, then a
 * summary, as text or JSON Lines, from the result of node/logic/verify.h. A web console
 * writes the same JSON objects. The _json functions return what tv_json_line_end does
 * (0, TV_EIO or TV_EINVAL). */
#ifndef TV_NODE_RENDER_VERIFY_H
#define TV_NODE_RENDER_VERIFY_H

#include "node/logic/verify.h"

#include <stdio.h>

/* {fault, origin, seq}; or "FAULT origin HEX batch at seq N: WHAT". */
int tv_render_verify_fault_json(FILE *f, const tv_verify_fault *x);
void tv_render_verify_fault_text(FILE *f, const tv_verify_fault *x);

/* {batches, events, origins, faults}; or "verified N batches, N events from N origins:
 * no fault" (or FAULTS FOUND). */
int tv_render_verify_summary_json(FILE *f, const tv_verify *v);
void tv_render_verify_summary_text(FILE *f, const tv_verify *v);

#endif
