/* An event's fields as `log --json` shows them, from the codec's table (crdt_event_fields,
 * node/render/event_json.c): names, order, what is hidden, how each value is written. The
 * events are some of tests/crdt_codec_test.c's, as bytes. */
#include "crdt/error.h"
#include "crdt/event.h"
#include "node/render/cert.h"
#include "node/render/event_json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef struct shown {
    const char *name, *hex, *json;
} shown;

static const shown cases[] = {
    {"scan_min",
     "9305018601c40801080f161d242b3202a13103c410020910171e252c333a41484f565d646b050006000701",
     "{\"venue\":\"01080f161d242b32\",\"unit\":\"1\",\"person\":"
     "\"020910171e252c333a41484f565d646b\",\"mask"
     "ed\":\"\",\"direction\":\"in\",\"at\":\"1970-01-01T07:00:00+07:00\",\"method\":\"self\"}"},
    {"venue_full",
     "9301cf0001234567890abc8801c40801080f161d242b3202a5323233333303b24368e1bba32042e1babf6e20"
     "5468c3a06e6804ccc805a6e1baa470203306aa3039313233343536373807cd05a008c410040b121920272e35"
     "3c434a51585f666d",
     "{\"venue\":\"01080f161d242b32\",\"unit\":\"22333\",\"name\":\"Chợ Bến "
     "Thành\",\"category\":200,\"villag"
     "e\":\"Ấp 3\",\"owner_phone\":\"0912345678\",\"closes\":\"23:59\"}"},
    {"reminder_note",
     "9304cf0001234567890abc8401c40801080f161d242b3202a5323233333303b04e68e1baaf63207175c3a974"
     "206dc3a30400",
     "{\"venue\":\"01080f161d242b32\",\"unit\":\"22333\",\"note\":\"Nhắc quét "
     "mã\",\"action\":\"remind\"}"},
    {"person_min",
     "930acf0001234567890abc8401c410020910171e252c333a41484f565d646b02a5323233333304aa30392a2a"
     "2a2a2a2a3738069192c420030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dcc4"
     "0108",
     "{\"person\":\"020910171e252c333a41484f565d646b\",\"unit\":\"22333\",\"id_masked\":\"09******"
     "78\",\"se"
     "aled_to\":[\"030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dc\"]}"},
    {"case_f0",
     "9307cf0001234567890abc8601c410020910171e252c333a41484f565d646b02a53232333333030004cf0000"
     "017c36628a0005cf0000017c3c586b0006cf0000017c424e4c00",
     "{\"person\":\"020910171e252c333a41484f565d646b\",\"unit\":\"22333\",\"status\":\"F0\","
     "\"onset\":\"2021-"
     "09-30T18:06:40+07:00\",\"sampled\":\"2021-10-01T21:53:20+07:00\",\"at\":\"2021-10-03T01:40:"
     "00+07"
     ":00\"}"},
    {"grant",
     "930dcf0001234567890abc8301c420030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7"
     "ced5dc02a5323233333303c4500910171e252c333a41484f565d646b727980878e959ca3aab1b8bfc6cdd4db"
     "e2e9f0f7fe050c131a21282f363d444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa01080f"
     "161d242b32",
     "{\"subject\":\"030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dc\",\"unit\":"
     "\"22"
     "333\"}"},
    {"checkpoint_copy",
     "9310cf0001234567890abc8203c42b9305018601c40801080f161d242b3202a13103c410020910171e252c33"
     "3a41484f565d646b05000600070104cd1092",
     "{\"event\":\"9305018601c40801080f161d242b3202a13103c410020910171e252c333a41484f565d646b0500"
     "06000701\",\"copy_of\":4242}"},
    {"exposure",
     "9312cf0001234567890abc8301c40801080f161d242b3202cf0000017c531d468003cf0000017c532b0220",
     "{\"venue\":\"01080f161d242b32\",\"from\":\"2021-10-06T08:00:00+07:00\",\"to\":\"2021-10-"
     "06T08:15:00"
     "+07:00\"}"},
    {"cert_plain", "9308cf0001234567890abc8101c4140c131a21282f363d444b525960676e757c838a91",
     "{\"error\":\"malformed message\",\"cert\":\"0c131a21282f363d444b525960676e757c838a91\"}"},
    {"hold",
     "9311cf0001234567890abc8301c410020910171e252c333a41484f565d646b02b1c491616e6720c49169e1bb"
     "8175207472610301",
     "{\"person\":\"020910171e252c333a41484f565d646b\",\"reason\":\"đang điều "
     "tra\",\"action\":\"lift\"}"},
};

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
    size_t n = strlen(hex) / 2;
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned x;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &x), 1);
        out[i] = (uint8_t)x;
    }
    return n;
}

/* Renders the fields of the event in hex as one JSON object. */
static char *render(const char *hex, crdt_cert *scratch)
{
    static uint8_t buf[4096];
    size_t n = unhex(buf, sizeof buf, hex);
    crdt_event ev;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    assert_int_equal(crdt_event_decode(&ev, &up, buf, n), TV_OK);
    assert_true(ev.known);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_non_null(f);
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_event_fields_json(&j, &ev, scratch, tv_render_cert_fields_json);
    tv_json_object_end(&j);
    assert_int_equal(tv_json_line_end(&j), 0);
    assert_int_equal(fclose(f), 0);
    msgpack_unpacked_destroy(&up);
    return out;
}

static void test_fields_as_shown(void **state)
{
    (void)state;
    crdt_cert *scratch = calloc(1, sizeof *scratch);
    assert_non_null(scratch);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = render(cases[i].hex, scratch);
        size_t len = strlen(got);
        assert_true(len > 0 && got[len - 1] == '\n'); /* one JSON Lines line */
        got[len - 1] = '\0';
        if (strcmp(got, cases[i].json) != 0)
            fail_msg("%s: shown as\n%s\nnot\n%s", cases[i].name, got, cases[i].json);
        free(got);
    }
    free(scratch);
}

/* A field the table marks never shown stays out, whatever the event holds: a venue's
 * registration nonce, a grant's box, a sealed event's nonce and box bytes. */
static void test_hidden_fields(void **state)
{
    (void)state;
    crdt_cert *scratch = calloc(1, sizeof *scratch);
    assert_non_null(scratch);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = render(cases[i].hex, scratch);
        assert_null(strstr(got, "\"nonce\""));
        assert_null(strstr(got, "\"box\""));
        assert_null(strstr(got, "consent"));
        free(got);
    }
    free(scratch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_as_shown),
        cmocka_unit_test(test_hidden_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
