/* A hostile or outdated node's text, for tests/insider/08_control_chars.sh.
 *
 *   insider_forge_text DIR bundle OUT KIND TEXT
 *       Signs, with the key of the node in DIR, one batch at the next seq of its log (chained
 *       to its last batch) holding one event whose text field is TEXT verbatim -- control
 *       characters included, which the CLI refuses to write -- and writes it as the bundle
 *       OUT, as a node whose key was taken could. KIND: venue-name (a new venue of the
 *       node's unit), unit-name (a village of the node's unit), scan-device (a scan at the
 *       venue whose id is in $VENUE), scan-key32 (a scan at $VENUE whose map carries the
 *       unknown key 32 twice when TEXT is "twice", once otherwise: tests/insider/09). The
 *       node's own store is not changed. Prints the seq.
 *   insider_forge_text DIR store-venue VENUE TEXT
 *       Writes TEXT as the name of venue VENUE (16 hex digits) straight into the venue view
 *       of the node in DIR, bypassing the decoder, as a store written before text fields
 *       were checked may hold it.
 * Exits 0, or 1 with a message. */
#include "crdt/batch.h"
#include "crdt/error.h"
#include "node/format/bundle.h"
#include "node/logic/node.h"
#include "store/internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The nodes of the tests are unlocked with the passphrase tests/lib.sh gives as a
 * credential ($CREDENTIALS_DIRECTORY/passphrase, first line). */
static int unlock_node(tv_node *n)
{
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    char path[4200], pass[1100];
    if (n->unlocked) return TV_OK;
    if (!dir) return TV_ELOCKED;
    snprintf(path, sizeof path, "%s/passphrase", dir);
    FILE *f = fopen(path, "r");
    if (!f) return TV_ELOCKED;
    int ok = fgets(pass, sizeof pass, f) != NULL;
    fclose(f);
    if (!ok) return TV_ELOCKED;
    pass[strcspn(pass, "\r\n")] = '\0';
    return tv_node_unlock(n, pass, strlen(pass));
}

static int die(const char *what, int rc)
{
    fprintf(stderr, "insider_forge_text: %s: %s\n", what, tv_strerror(rc));
    return 1;
}

static int hex_id(uint8_t out[TV_VENUE_ID_BYTES], const char *s)
{
    if (strlen(s) != 2 * TV_VENUE_ID_BYTES) return TV_EINVAL;
    for (int i = 0; i < TV_VENUE_ID_BYTES; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) return TV_EINVAL;
        out[i] = (uint8_t)v;
    }
    return TV_OK;
}

static void pack_text(msgpack_packer *pk, uint8_t key, const char *s)
{
    msgpack_pack_uint8(pk, key);
    msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* Packs a scan at the venue in $VENUE with its six required fields, in a map of `keys`
 * entries: the caller packs the others. */
static int pack_scan(msgpack_packer *pk, const tv_node *n, uint64_t hlc, int64_t now_ms,
                     uint32_t keys)
{
    uint8_t venue[TV_VENUE_ID_BYTES], person[TV_PERSON_REF_BYTES];
    const char *v = getenv("VENUE");
    if (!v || hex_id(venue, v)) return TV_EINVAL;
    randombytes_buf(person, sizeof person);
    msgpack_pack_array(pk, 3);
    msgpack_pack_uint32(pk, CRDT_EV_SCAN);
    msgpack_pack_uint64(pk, hlc);
    msgpack_pack_map(pk, keys);
    msgpack_pack_uint8(pk, 1);
    msgpack_pack_bin_with_body(pk, venue, sizeof venue);
    pack_text(pk, 2, n->unit);
    msgpack_pack_uint8(pk, 3);
    msgpack_pack_bin_with_body(pk, person, sizeof person);
    msgpack_pack_uint8(pk, 5);
    msgpack_pack_uint8(pk, CRDT_DIR_IN);
    msgpack_pack_uint8(pk, 6);
    msgpack_pack_int64(pk, now_ms);
    msgpack_pack_uint8(pk, 7);
    msgpack_pack_uint8(pk, CRDT_METHOD_STAFF);
    return TV_OK;
}

/* Packs the event by hand: crdt_event_pack_* refuses such text, as it should. */
static int pack_event(msgpack_packer *pk, const char *kind, const char *text, const tv_node *n,
                      uint64_t hlc, int64_t now_ms)
{
    if (strcmp(kind, "venue-name") == 0) {
        /* a new venue's registration: its id derived from the node's key (V1) */
        uint8_t venue[TV_VENUE_ID_BYTES], nonce[TV_VENUE_NONCE_BYTES];
        randombytes_buf(nonce, sizeof nonce);
        tv_venue_id_derive(venue, n->id.pk, nonce);
        msgpack_pack_array(pk, 3);
        msgpack_pack_uint32(pk, CRDT_EV_VENUE_UPSERT);
        msgpack_pack_uint64(pk, hlc);
        msgpack_pack_map(pk, 5);
        msgpack_pack_uint8(pk, 1);
        msgpack_pack_bin_with_body(pk, venue, sizeof venue);
        pack_text(pk, 2, n->unit);
        pack_text(pk, 3, text);
        msgpack_pack_uint8(pk, 4);
        msgpack_pack_uint8(pk, 1);
        msgpack_pack_uint8(pk, 8);
        msgpack_pack_bin_with_body(pk, nonce, sizeof nonce);
        return TV_OK;
    }
    if (strcmp(kind, "unit-name") == 0) {
        char code[sizeof n->unit + 4];
        snprintf(code, sizeof code, "%s.x9", n->unit);
        msgpack_pack_array(pk, 3);
        msgpack_pack_uint32(pk, CRDT_EV_UNIT);
        msgpack_pack_uint64(pk, hlc);
        msgpack_pack_map(pk, 3);
        pack_text(pk, 1, code);
        pack_text(pk, 2, text);
        pack_text(pk, 3, n->unit);
        return TV_OK;
    }
    if (strcmp(kind, "scan-key32") == 0) { /* a newer writer's key, once or twice */
        int twice = strcmp(text, "twice") == 0;
        int rc = pack_scan(pk, n, hlc, now_ms, twice ? 8 : 7);
        for (int i = 0; rc == TV_OK && i < 1 + twice; i++) {
            msgpack_pack_uint8(pk, 32);
            msgpack_pack_uint8(pk, (uint8_t)i);
        }
        return rc;
    }
    if (strcmp(kind, "scan-device") == 0) {
        int rc = pack_scan(pk, n, hlc, now_ms, 7);
        if (rc == TV_OK) pack_text(pk, 8, text);
        return rc;
    }
    return TV_EINVAL;
}

static int forge_bundle(tv_node *n, const char *out, const char *kind, const char *text)
{
    store_txn *t;
    store_frontier f;
    int rc = store_read_begin(n->st, &t);
    if (rc) return die("reading the store", rc);
    rc = store_frontier_get(t, n->id.pk, &f);
    store_read_end(t);
    if (rc && rc != TV_ENOTFOUND) return die("reading the node's frontier", rc);
    int64_t now = tv_wall_ms();
    uint64_t hlc = (uint64_t)now << 16;
    if (hlc <= f.hlc_max) hlc = f.hlc_max + 1;
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    if ((rc = pack_event(&b.pk, kind, text, n, hlc, now))) {
        crdt_batch_builder_release(&b);
        fprintf(stderr, "insider_forge_text: unknown kind '%s' (or VENUE unset)\n", kind);
        return 1;
    }
    crdt_batch_builder_note(&b, hlc);
    uint8_t *batch;
    size_t len;
    rc = crdt_batch_seal(&b, &n->id, f.seq + 1, f.seq ? f.hash : NULL, &batch, &len, NULL);
    crdt_batch_builder_release(&b);
    if (rc) return die("sealing the batch", rc);
    FILE *fp = fopen(out, "wb");
    tv_bundle_writer w;
    if (!fp || tv_bundle_write_begin(&w, fp) || tv_bundle_write_batch(&w, batch, len) ||
        tv_bundle_write_end(&w) || fclose(fp)) {
        free(batch);
        return die(out, TV_EIO);
    }
    free(batch);
    printf("%llu\n", (unsigned long long)(f.seq + 1));
    return 0;
}

typedef struct venue_ctx {
    crdt_venue_upsert v;
    const uint8_t *origin;
} venue_ctx;

static int put_venue(store_txn *t, void *arg)
{
    venue_ctx *c = arg;
    return store_venue_apply_(t, &c->v, (uint64_t)tv_wall_ms() << 16, c->origin);
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: insider_forge_text DIR bundle OUT KIND TEXT\n"
                        "       insider_forge_text DIR store-venue VENUE TEXT\n");
        return 2;
    }
    if (sodium_init() < 0) return 1;
    int store_mode = strcmp(argv[2], "store-venue") == 0;
    if (!store_mode && (strcmp(argv[2], "bundle") != 0 || argc != 6)) return 2;
    tv_node n;
    int rc = tv_node_open(&n, argv[1], store_mode ? TV_NODE_WRITE : 0);
    if (rc == 0 && (rc = unlock_node(&n))) tv_node_close(&n);
    if (rc) return die(argv[1], rc);
    int status;
    if (store_mode) {
        venue_ctx c = {
            .v = {.fields = CRDT_VENUE_F_NAME, .name = {argv[4], (uint32_t)strlen(argv[4])}},
            .origin = n.id.pk};
        if (hex_id(c.v.venue, argv[3]) || c.v.name.n > CRDT_TEXT_BYTES_MAX) {
            fprintf(stderr, "insider_forge_text: bad venue id or name\n");
            status = 1;
        } else {
            rc = store_write(n.st, put_venue, &c);
            status = rc ? die("writing the venue view", rc) : 0;
        }
    } else {
        status = forge_bundle(&n, argv[3], argv[4], argv[5]);
    }
    tv_node_close(&n);
    return status;
}
