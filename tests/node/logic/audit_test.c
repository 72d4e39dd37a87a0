/* Tests of the audit of full views as the CLI and a web console read it
 * (node/logic/audit.c), over a real province node that is its own health root, and of its
 * lines (node/render/audit.c). */
#include "crdt/error.h"
#include "node/logic/audit.h"
#include "node/logic/enroll.h"
#include "node/logic/node.h"
#include "node/render/audit.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

typedef test_node fixture;

static void reveal(tv_node *n, uint8_t tag, const char *why)
{
    crdt_reveal r;
    memset(r.person, tag, sizeof r.person);
    r.reason = (crdt_text){why, (uint32_t)strlen(why)};
    uint64_t hlc;
    assert_int_equal(tv_node_add_reveal(n, &r, &hlc), 0);
    uint64_t seq;
    assert_int_equal(tv_node_commit(n, &seq), 0);
}

static char *lines(const tv_audit_row *r, int json)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    if (json)
        assert_int_equal(tv_render_audit_row_json(m, r), 0);
    else
        tv_render_audit_row_text(m, r);
    fclose(m);
    return buf;
}

static void test_audit(void **state)
{
    fixture *f = *state;
    tv_audit a;
    assert_int_equal(tv_audit_get(&f->n, &a), 0);
    assert_int_equal(a.n, 0);
    tv_audit_free(&a);

    assert_int_equal(tv_enroll_make_root(&f->n, 1, NULL), 0);
    /* opened again as the health node it now is: its store opens the reveals it applies */
    tv_node_close(&f->n);
    assert_int_equal(tv_node_open(&f->n, f->dir, TV_NODE_WRITE), 0);
    reveal(&f->n, 0xab, "ca F0 số 3");
    reveal(&f->n, 0x01, "tra cứu");
    assert_int_equal(tv_audit_get(&f->n, &a), 0);
    assert_int_equal(a.n, 2);
    for (size_t i = 0; i < a.n; i++) {
        assert_memory_equal(a.rows[i].origin, f->n.id.pk, TV_NODE_ID_BYTES);
        assert_string_equal(a.rows[i].unit, "56"); /* its own certificate is held */
        assert_true(a.rows[i].hlc > 0);
    }
    const tv_audit_row *first = a.rows[0].person[0] == 0xab ? &a.rows[0] : &a.rows[1];
    const tv_audit_row *other = first == &a.rows[0] ? &a.rows[1] : &a.rows[0];
    assert_string_equal(first->reason, "ca F0 số 3");
    assert_string_equal(other->reason, "tra cứu");

    char *s = lines(first, 1);
    assert_non_null(strstr(s, ",\"unit\":\"56\",\"ref\":\"abababababababababababababababab\","
                              "\"reason\":\"ca F0 số 3\"}\n"));
    free(s);
    /* stored text reaches a terminal escaped; an unknown unit shows as "?" */
    tv_audit_row r = *other;
    r.unit[0] = '\0';
    snprintf(r.reason, sizeof r.reason, "bad\x1b[2Jreason"); /* as a hostile node wrote it */
    s = lines(&r, 0);
    assert_non_null(strstr(s, " (unit ?)  person 01010101010101010101010101010101  reason: "
                              "bad\\x1b[2Jreason\n"));
    free(s);
    tv_audit_free(&a);
    tv_audit_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_audit, test_province_setup, test_node_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
