/* Looking up the embedded static files (asset.h). */
#include "node/web/asset.h"

#include <string.h>

const tv_asset *tv_asset_find(const char *name)
{
    for (const tv_asset *a = tv_assets; a->name; a++)
        if (strcmp(a->name, name) == 0) return a;
    return NULL;
}

const char *tv_asset_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {{".html", "text/html; charset=utf-8"},
                 {".css", "text/css; charset=utf-8"},
                 {".js", "text/javascript; charset=utf-8"},
                 {".json", "application/json; charset=utf-8"},
                 {".svg", "image/svg+xml"},
                 {".png", "image/png"},
                 {".ico", "image/x-icon"}};
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0) return types[i].type;
    return "application/octet-stream";
}
