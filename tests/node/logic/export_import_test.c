/* Tests of bundle export's selection and import's grouped apply (node/logic/export.c,
 * import.c) over a real commune node: everything, one origin by prefix, a prefix that
 * matches nothing, a bundle read back (every batch already held), and one cut short. */
#include "crdt/error.h"
#include "crdt/ids.h"
#include "node/logic/export.h"
#include "node/logic/import.h"
#include "node/logic/node.h"
#include "node/logic/venue.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

typedef struct told {
    int damaged, no_end, refused, progress;
} told;

static void on_damaged(void *ctx, const tv_import *im, const tv_bundle_rec *d)
{
    (void)im;
    told *t = ctx;
    t->damaged++;
    t->no_end += d->damage == TV_BUNDLE_DMG_NO_END;
}

static void on_refused(void *ctx, const tv_import *im, const tv_apply_item *it, uint32_t number)
{
    (void)im, (void)it, (void)number;
    ((told *)ctx)->refused++;
}

static void on_progress(void *ctx, const tv_import *im)
{
    (void)im;
    ((told *)ctx)->progress++;
}

/* Exports x from n into a temporary file, rewound. */
static FILE *export(tv_node *n, tv_export *x)
{
    FILE *fp = tmpfile();
    assert_non_null(fp);
    store_txn *t;
    assert_int_equal(store_read_begin(n->st, &t), 0);
    if (x->nsel) assert_int_equal(tv_export_resolve(x, t), 0);
    assert_int_equal(tv_export_write(x, t, fp), 0);
    store_read_end(t);
    tv_export_release(x);
    rewind(fp);
    return fp;
}

static void test_export_import(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    uint8_t id[TV_NODE_ID_BYTES];
    assert_int_equal(tv_node_create(dir, TV_ROLE_COMMUNE, "22333", "xa", TV_TEST_PASS, id), 0);
    tv_node n;
    assert_int_equal(tv_node_open(&n, dir, TV_NODE_WRITE), 0);
    for (int i = 0; i < 3; i++) { /* three commits: three batches of this node at least */
        crdt_venue_upsert v = {.fields = CRDT_VENUE_F_NAME | CRDT_VENUE_F_CATEGORY};
        v.name = (crdt_text){"Chợ", (uint32_t)strlen("Chợ")};
        v.category = tv_venue_category_parse("market")->code;
        assert_int_equal(tv_venue_register(&n, &v), 0);
    }
    store_txn *t;
    store_counts c;
    assert_int_equal(store_read_begin(n.st, &t), 0);
    assert_int_equal(store_counts_get(t, &c), 0);
    store_read_end(t);

    /* everything the node holds */
    tv_export all = {0};
    FILE *fp = export(&n, &all);
    assert_int_equal(all.batches, c.batches);
    assert_int_equal(all.events, c.events);
    assert_true(all.origins >= 1);
    assert_true(all.w.bytes > all.batches * 100);
    fclose(fp);

    /* this node's own log, by a prefix of its id */
    char hex[2 * TV_NODE_ID_BYTES + 1];
    tv_hex_encode(hex, id, TV_NODE_ID_BYTES);
    tv_export_origin sel[2] = {{.text = "own", .len = 12}, {.text = "none", .len = 12}};
    memcpy(sel[0].hex, hex, 12);
    memcpy(sel[1].hex, "ffffffffffff", 12);
    if (memcmp(hex, "ffffffffffff", 12) == 0) memcpy(sel[1].hex, "000000000000", 12);
    tv_export own = {.sel = sel, .nsel = 1};
    fp = export(&n, &own);
    assert_int_equal(sel[0].matches, 1);
    assert_memory_equal(sel[0].id, id, TV_NODE_ID_BYTES);
    assert_int_equal(own.origins, 1);
    assert_true(own.batches >= 3);
    assert_true(own.batches <= all.batches);

    /* read back into the node that wrote it: every batch already held */
    told seen = {0};
    tv_import_hooks hooks = {
        .progress = on_progress, .refused = on_refused, .damaged = on_damaged, .ctx = &seen};
    tv_bundle_reader *rd = malloc(sizeof *rd);
    assert_int_equal(tv_bundle_reader_init(rd, fp), 0);
    tv_import *im = calloc(1, sizeof *im);
    assert_int_equal(tv_import_init(im, &n, rd, &hooks), 0);
    assert_int_equal(tv_import_run(im), 0);
    assert_int_equal(im->records, own.batches);
    assert_int_equal(im->duplicates, own.batches);
    assert_int_equal(im->accepted, 0);
    assert_int_equal(im->refused, 0);
    assert_true(im->complete);
    assert_int_equal(seen.progress, 1); /* one group */
    assert_int_equal(seen.damaged, 0);
    tv_import_release(im);

    /* the same bundle cut short: the last batch's record and the end mark are gone */
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    rewind(fp);
    uint8_t *buf = malloc((size_t)len);
    assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    fp = tmpfile();
    assert_int_equal(fwrite(buf, 1, (size_t)len - 40, fp), (size_t)len - 40);
    rewind(fp);
    free(buf);
    seen = (told){0};
    assert_int_equal(tv_bundle_reader_init(rd, fp), 0);
    assert_int_equal(tv_import_init(im, &n, rd, &hooks), 0);
    assert_int_equal(tv_import_run(im), 0);
    assert_false(im->complete);
    assert_int_equal(im->duplicates, own.batches - 1);
    assert_int_equal(im->damaged, 1); /* the record cut inside */
    assert_int_equal(seen.no_end, 1);
    assert_int_equal(seen.damaged, 2);
    tv_import_release(im);
    free(im);
    free(rd);
    fclose(fp);

    /* a prefix of no origin held */
    tv_export none = {.sel = &sel[1], .nsel = 1};
    assert_int_equal(store_read_begin(n.st, &t), 0);
    assert_int_equal(tv_export_resolve(&none, t), 0);
    store_read_end(t);
    assert_int_equal(sel[1].matches, 0);
    tv_export_release(&none);

    (void)tv_node_forget_unlocked(&n);
    tv_node_close(&n);
    test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_export_import)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
