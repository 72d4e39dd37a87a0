/* The console's venue changes, a clerk's work at a commune node: registering and editing
 * venues, their controllers (with the PIN a controller logs in with), reminders and
 * reinstatement. The input is checked by the same functions as `truyvet venue ...`
 * (node/logic/venue_input.h), so a refusal carries the same sentence; nothing is written
 * when one is refused. Each change takes the node's writer lock for its commit. */
#include "node/web/api.h"

#include "crdt/error.h"
#include "crdt/ids.h"
#include "node/format/payload.h"
#include "node/logic/account.h"
#include "node/logic/venue.h"
#include "node/logic/venue_input.h"
#include "node/render/venue.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* The fields of a form as a venue's input. */
static tv_venue_input form_input(const tv_req *q)
{
    return (tv_venue_input){.name = tv_req_arg(q, "name"),
                            .category = tv_req_arg(q, "category"),
                            .village = tv_req_arg(q, "village"),
                            .owner_phone = tv_req_arg(q, "owner_phone"),
                            .closes = tv_req_arg(q, "closes")};
}

/* Answers 201 with the new venue's id and short code. */
static void created(tv_resp *r, const uint8_t id[TV_VENUE_ID_BYTES])
{
    char hex[2 * TV_VENUE_ID_BYTES + 1], code[TV_SHORT_CODE_STR];
    tv_hex_encode(hex, id, TV_VENUE_ID_BYTES);
    tv_short_code(code, id);
    FILE *f = tv_resp_json(r, 201);
    if (f) fprintf(f, "{\"id\":\"%s\",\"short_code\":\"%s\"}\n", hex, code);
}

int tv_api_venue_add(tv_web *w, tv_req *q, tv_resp *r)
{
    tv_venue_input in = form_input(q);
    crdt_venue_upsert v = {0};
    char phone[TV_PERSON_NORM_MAX];
    tv_why why = {0};
    const char *force = tv_req_arg(q, "force");
    int rc = tv_venue_input_new(&in, &v, phone, &why);
    if (rc == 0) rc = tv_venue_require_commune(w->n, &why);
    if (rc) {
        tv_resp_why(r, rc, &why);
        tv_venue_input_free(&in);
        return 0;
    }
    int took = tv_api_write_begin(w, r);
    if (took >= 0) {
        store_venue found;
        if (!(force && strcmp(force, "1") == 0) &&
            (rc = tv_venue_duplicate_check(w->n, &v, &found, &why)))
            tv_resp_why(r, rc, &why);
        else if ((rc = tv_venue_register(w->n, &v)))
            tv_resp_fail(r, rc, "cannot register the venue", "không đăng ký được địa điểm");
        else
            created(r, v.venue);
        tv_api_write_end(w, took);
    }
    tv_venue_input_free(&in);
    return 0;
}

/* Answers the venue as it is now (`venue show --json`). */
static void venue_now(tv_web *w, const uint8_t id[TV_VENUE_ID_BYTES], tv_resp *r)
{
    store_venue v;
    store_txn *t;
    int rc = store_read_begin(w->n->st, &t);
    if (rc == 0) {
        rc = store_venue_get(t, id, &v);
        store_read_end(t);
    }
    tv_venue_detail d;
    if (rc == 0) rc = tv_venue_detail_get(w->n, id, 1, &d);
    FILE *f = rc ? NULL : tv_resp_json(r, 200);
    if (f) rc = tv_render_venue_show_json(f, &v, &d);
    if (rc)
        tv_resp_fail(r, rc, "recorded, but cannot read the venue back",
                     "đã ghi, nhưng không đọc lại được địa điểm");
    if (f || rc == 0) tv_venue_detail_free(&d);
}

int tv_api_venue_edit(tv_web *w, tv_req *q, tv_resp *r)
{
    tv_venue_input in = form_input(q);
    crdt_venue_upsert v = {0};
    char phone[TV_PERSON_NORM_MAX];
    tv_why why = {0};
    store_venue sv;
    int rc = tv_venue_input_edit(&in, &v, phone, &why);
    if (rc == 0) rc = tv_venue_own(w->n, q->cap[0], &sv, &why);
    if (rc) {
        tv_resp_why(r, rc, &why);
        tv_venue_input_free(&in);
        return 0;
    }
    int took = tv_api_write_begin(w, r);
    if (took >= 0) {
        if ((rc = tv_venue_edit(w->n, sv.id, &v)))
            tv_resp_fail(r, rc, "cannot change the venue", "không sửa được địa điểm");
        else
            venue_now(w, sv.id, r);
        tv_api_write_end(w, took);
    }
    tv_venue_input_free(&in);
    return 0;
}

/* Sets the controller's login PIN (adds its account, or changes its PIN). */
static int controller_pin(tv_web *w, const tv_req *q, const char *phone, const char *pin,
                          tv_resp *r)
{
    tv_account_role role = 0;
    (void)tv_account_role_parse(q->who.role, &role);
    tv_account_actor by = {.name = q->who.user, .role = (int)role, .remote = q->remote};
    const char *why = NULL;
    tv_account a;
    int rc = tv_account_get(w->n, phone, &a);
    if (rc == 0)
        rc = tv_account_passwd(w->n, &by, phone, pin, strlen(pin), tv_wall_ms(), &why);
    else if (rc == TV_ENOTFOUND)
        rc = tv_account_add(w->n, &by, phone, TV_ACCOUNT_CONTROLLER, pin, strlen(pin), tv_wall_ms(),
                            &why);
    if (rc == 0) tv_session_end_user(&w->sessions, phone);
    if (rc)
        tv_resp_fail(r, rc, "the controller was added, but not its PIN",
                     "đã thêm người quét, nhưng chưa đặt được mã PIN");
    return rc;
}

int tv_api_controller_add(tv_web *w, tv_req *q, tv_resp *r)
{
    tv_person_id pid;
    tv_why why = {0};
    store_venue sv;
    const char *phone = tv_req_arg(q, "phone"), *pin = tv_req_arg(q, "pin");
    if (pin && !pin[0]) pin = NULL;
    const char *pwhy = NULL;
    int rc = tv_venue_controller_phone(phone ? phone : "", &pid, &why);
    if (rc == 0 && pin && tv_account_pass_check(TV_ACCOUNT_CONTROLLER, pin, strlen(pin), &pwhy)) {
        tv_resp_error(r, 400, "pin_invalid", pwhy ? pwhy : "the PIN is 6 digits.",
                      "Mã PIN phải gồm đúng 6 chữ số.");
        return 0;
    }
    if (rc == 0) rc = tv_venue_own(w->n, q->cap[0], &sv, &why);
    if (rc) {
        tv_resp_why(r, rc, &why);
        return 0;
    }
    int took = tv_api_write_begin(w, r);
    if (took < 0) return 0;
    uint8_t tag[CRDT_TAG_BYTES];
    uint32_t have = 0;
    rc = tv_venue_controller_tags(w->n, sv.id, pid.norm, tag, 1, &have);
    if (rc == TV_ELIMIT) rc = 0, have = 1;
    if (rc == 0 && have == 0) rc = tv_venue_controller_add(w->n, sv.id, pid.norm);
    tv_api_write_end(w, took);
    if (rc) {
        tv_resp_fail(r, rc, "cannot add the controller", "không thêm được người quét");
        return 0;
    }
    if (pin && controller_pin(w, q, pid.norm, pin, r)) return 0;
    venue_now(w, sv.id, r);
    return 0;
}

int tv_api_controller_remove(tv_web *w, tv_req *q, tv_resp *r)
{
    tv_person_id pid;
    tv_why why = {0};
    store_venue sv;
    int rc = tv_venue_controller_phone(q->cap[1], &pid, &why);
    if (rc == 0) rc = tv_venue_own(w->n, q->cap[0], &sv, &why);
    if (rc) {
        tv_resp_why(r, rc, &why);
        return 0;
    }
    uint8_t *tags = malloc((size_t)TV_VENUE_REMOVE_TAGS_MAX * CRDT_TAG_BYTES);
    uint32_t ntags = 0;
    rc = tags ? tv_venue_controller_tags(w->n, sv.id, pid.norm, tags, TV_VENUE_REMOVE_TAGS_MAX,
                                         &ntags)
              : TV_ENOMEM;
    if (rc == 0 && (rc = tv_venue_controller_held(&sv, q->cap[0], pid.norm, ntags, &why))) {
        tv_resp_why(r, rc, &why);
    } else if (rc) {
        tv_resp_fail(r, rc, "cannot remove the controller", "không bỏ được người quét");
    } else {
        int took = tv_api_write_begin(w, r);
        if (took >= 0) {
            rc = tv_venue_controller_remove(w->n, sv.id, pid.norm, tags, ntags);
            tv_api_write_end(w, took);
            if (rc)
                tv_resp_fail(r, rc, "cannot remove the controller", "không bỏ được người quét");
            else
                venue_now(w, sv.id, r);
        }
    }
    free(tags);
    return 0;
}

/* POST /api/venues/{id}/remind and /reinstate. */
int tv_api_venue_remind(tv_web *w, tv_req *q, tv_resp *r)
{
    uint8_t action =
        strcmp(strrchr(q->path, '/') + 1, "remind") == 0 ? CRDT_REMIND : CRDT_REINSTATE;
    const char *note = tv_req_arg(q, "note");
    if (note && !note[0]) note = NULL;
    tv_why why = {0};
    store_venue sv;
    store_venue_status before, st;
    int rc = note ? tv_why_text("note", note, CRDT_TEXT_BYTES_MAX, &why) : 0;
    if (rc == 0) rc = tv_venue_own(w->n, q->cap[0], &sv, &why);
    if (rc) {
        tv_resp_why(r, rc, &why);
        return 0;
    }
    if ((rc = tv_venue_status_get(w->n, sv.id, &before))) {
        tv_resp_fail(r, rc, "cannot read the venue's reminders", "không đọc được các lần nhắc");
        return 0;
    }
    if (action == CRDT_REINSTATE &&
        (rc = tv_venue_reinstate_check(&sv, q->cap[0], &before, &why))) {
        tv_resp_why(r, rc, &why);
        return 0;
    }
    int took = tv_api_write_begin(w, r);
    if (took < 0) return 0;
    rc = tv_venue_remind(w->n, sv.id, action, note);
    tv_api_write_end(w, took);
    if (rc == 0) rc = tv_venue_status_get(w->n, sv.id, &st);
    FILE *f = rc ? NULL : tv_resp_json(r, 200);
    if (f) rc = tv_render_venue_status_line_json(f, &sv, &st);
    if (rc)
        tv_resp_fail(
            r, rc,
            action == CRDT_REMIND ? "cannot record the reminder" : "cannot reinstate the venue",
            action == CRDT_REMIND ? "không ghi được lần nhắc" : "không mở lại được địa điểm");
    return 0;
}
