/* A unit typed by a person: checks and recording (unit_input.h). */
#include "node/logic/unit_input.h"

#include "crdt/error.h"
#include "node/logic/units.h"

#include <string.h>

static int parent_input(const char *code, const char *parent, char parent_buf[TV_UNIT_CODE_MAX + 1],
                        tv_why *why)
{
    if (!parent) {
        tv_unit_parent(code, parent_buf);
        if (!parent_buf[0]) {
            tv_why_set(why, "parent_missing", "'%s' has no parent to default to: give --parent.",
                       "Đơn vị '%s' không có đơn vị cấp trên mặc định: hãy nhập đơn vị cấp trên.",
                       code);
            return TV_EINVAL;
        }
        return 0;
    }
    if (!crdt_unit_code_valid(parent, strlen(parent)) || strcmp(parent, code) == 0) {
        tv_why_set(why, "parent_invalid", "--parent takes another unit's code, not '%s'.",
                   "Đơn vị cấp trên phải là mã của một đơn vị khác, không phải '%s'.", parent);
        return TV_EINVAL;
    }
    snprintf(parent_buf, TV_UNIT_CODE_MAX + 1, "%s", parent);
    return 0;
}

int tv_unit_input(const char *code, const char *name, const char *parent,
                  char parent_buf[TV_UNIT_CODE_MAX + 1], crdt_unit *u, tv_why *why)
{
    memset(u, 0, sizeof *u);
    if (!code || !crdt_unit_code_valid(code, strlen(code))) {
        tv_why_set(why, "unit_invalid", "'%s' is not a unit code (a village is <commune>.<local>).",
                   "'%s' không phải mã đơn vị (thôn, ấp viết là <mã xã>.<mã thôn>).",
                   code ? code : "");
        return TV_EINVAL;
    }
    const tv_unit *official = tv_unit_find(code);
    if (!name && official) name = official->name; /* it keeps that name anyway */
    if (!name || !name[0]) {
        tv_why_set(why, "name_missing", "give --name, text of 1 to %d bytes.",
                   "Hãy nhập tên đơn vị (1 đến %d byte).", CRDT_TEXT_BYTES_MAX);
        return TV_EINVAL;
    }
    int rc = tv_why_text("unit name", name, CRDT_TEXT_BYTES_MAX, why);
    if (rc == 0) rc = parent_input(code, parent, parent_buf, why);
    if (rc) return rc;
    *u = (crdt_unit){.code = {code, (uint32_t)strlen(code)},
                     .name = {name, (uint32_t)strlen(name)},
                     .parent = {parent_buf, (uint32_t)strlen(parent_buf)}};
    return 0;
}

int tv_unit_record(tv_node *n, const crdt_unit *u, tv_why *why)
{
    uint64_t seq;
    int rc = tv_node_add_unit(n, u, NULL);
    if (rc == 0) rc = tv_node_commit(n, &seq);
    if (rc == 0) return 0;
    tv_node_discard(n);
    if (rc == TV_EPERM)
        tv_why_set(why, "not_enrolled", "this node is not enrolled: peers would refuse its units.",
                   "Nút này chưa được cấp chứng chỉ: các nút khác sẽ từ chối đơn vị của nó.");
    else if (rc == TV_ESCOPE)
        tv_why_set(why, "unit_scope",
                   "unit %.*s is outside this node's scope: peers would refuse it.",
                   "Đơn vị %.*s nằm ngoài phạm vi của nút này: các nút khác sẽ từ chối.",
                   (int)u->code.n, u->code.p);
    else
        tv_why_store(why, rc, "nothing was recorded", "chưa ghi được gì");
    return rc;
}
