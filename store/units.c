/* The view of unit events: one row per code, the event with the largest (hlc, origin)
 * standing, so the view is the same whatever the order of arrival. */
#include "crdt/error.h"
#include "store/internal.h"

#include <stdio.h>
#include <string.h>

#define UNIT_VAL_BYTES (8 + TV_NODE_ID_BYTES + UNIT_KEY_BYTES) /* then the name */

int store_unit_apply_(store_txn *t, const crdt_event *ev, const uint8_t origin[TV_NODE_ID_BYTES])
{
    const crdt_unit *u = &ev->u.unit;
    uint8_t k[UNIT_KEY_BYTES], v[UNIT_VAL_BYTES + CRDT_TEXT_BYTES_MAX];
    store_unit_key_(k, u->code.p, u->code.n);
    MDB_val held;
    int rc = store_get_(t, T_UNITS, k, sizeof k, &held);
    if (rc == TV_OK && held.mv_size >= UNIT_VAL_BYTES) {
        const uint8_t *p = held.mv_data;
        uint64_t h = store_get64_(p);
        if (h > ev->hlc || (h == ev->hlc && memcmp(p + 8, origin, TV_NODE_ID_BYTES) >= 0))
            return TV_OK; /* the held event is the later one */
    } else if (rc != TV_ENOTFOUND) {
        return rc ? rc : TV_ECORRUPT;
    }
    store_be64_(v, ev->hlc);
    memcpy(v + 8, origin, TV_NODE_ID_BYTES);
    store_unit_key_(v + 8 + TV_NODE_ID_BYTES, u->parent.p, u->parent.n);
    memcpy(v + UNIT_VAL_BYTES, u->name.p, u->name.n);
    return store_put_(t, T_UNITS, k, sizeof k, v, UNIT_VAL_BYTES + (size_t)u->name.n);
}

static int unit_decode(const MDB_val *k, const MDB_val *v, store_unit *u)
{
    const uint8_t *p = v->mv_data;
    if (k->mv_size != UNIT_KEY_BYTES || v->mv_size < UNIT_VAL_BYTES ||
        v->mv_size > UNIT_VAL_BYTES + CRDT_TEXT_BYTES_MAX)
        return TV_ECORRUPT;
    snprintf(u->code, sizeof u->code, "%.*s", TV_UNIT_CODE_MAX, (const char *)k->mv_data);
    u->hlc = store_get64_(p);
    memcpy(u->origin, p + 8, TV_NODE_ID_BYTES);
    snprintf(u->parent, sizeof u->parent, "%.*s", TV_UNIT_CODE_MAX,
             (const char *)p + 8 + TV_NODE_ID_BYTES);
    size_t n = v->mv_size - UNIT_VAL_BYTES;
    memcpy(u->name, p + UNIT_VAL_BYTES, n);
    u->name[n] = '\0';
    return TV_OK;
}

int store_unit_get(store_txn *t, const char *code, store_unit *u)
{
    uint8_t k[UNIT_KEY_BYTES];
    store_unit_key_(k, code, strlen(code));
    MDB_val key = {sizeof k, k}, val;
    int rc = store_get_(t, T_UNITS, k, sizeof k, &val);
    return rc ? rc : unit_decode(&key, &val, u);
}

typedef struct unit_ctx {
    store_unit_fn fn;
    void *ctx;
} unit_ctx;

static int unit_row(const MDB_val *k, const MDB_val *v, void *arg)
{
    unit_ctx *c = arg;
    store_unit u;
    int rc = unit_decode(k, v, &u);
    return rc ? rc : c->fn(&u, c->ctx);
}

int store_units_foreach(store_txn *t, store_unit_fn fn, void *ctx)
{
    unit_ctx c = {fn, ctx};
    return store_prefix_foreach_(t, T_UNITS, NULL, 0, unit_row, &c);
}
