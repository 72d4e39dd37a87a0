/* Units as JSON (units.h). */
#include "node/render/units.h"

void tv_render_unit_json(tv_json *j, const tv_tree_unit *u)
{
    tv_json_object_begin(j);
    tv_json_key(j, "code");
    tv_json_string(j, u->code);
    tv_json_key(j, "name");
    tv_json_string(j, u->name);
    tv_json_key(j, "parent");
    tv_json_string(j, u->parent);
    tv_json_key(j, "official");
    tv_json_bool(j, u->official);
    tv_json_object_end(j);
}
