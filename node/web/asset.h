/* The console's static files (node/web/static/), embedded in the program by CMakeLists.txt
 * as byte arrays: nothing is read from disk or loaded from elsewhere at run time. */
#ifndef TV_NODE_WEB_ASSET_H
#define TV_NODE_WEB_ASSET_H

#include <stddef.h>

typedef struct tv_asset {
    const char *name; /* the file's name in node/web/static/ ("app.js") */
    const unsigned char *data;
    size_t len;
} tv_asset;

/* Every file, then one with name NULL. */
extern const tv_asset tv_assets[];

/* The file called name, or NULL. */
const tv_asset *tv_asset_find(const char *name);

/* Its media type by its extension (text types with charset=utf-8). */
const char *tv_asset_type(const char *name);

#endif
