/* What a bundle export or import came to (node/logic/export.h, import.h): the summary a
 * clerk reads, and one JSON object for a program or a web console. path is the bundle as
 * named to the reader ("standard input" for a pipe). */
#ifndef TV_NODE_RENDER_BUNDLE_H
#define TV_NODE_RENDER_BUNDLE_H

#include "node/logic/export.h"
#include "node/logic/import.h"

#include <stdio.h>

/* "exported N batches (E events from O origins) to PATH, B bytes". */
void tv_render_export_text(FILE *f, const tv_export *x, const char *path);
/* {file, batches, events, origins, bytes}. Returns what tv_json_line_end does. */
int tv_render_export_json(FILE *f, const tv_export *x, const char *path);

/* The counts of an import, and the records of unknown kinds skipped. */
void tv_render_import_text(FILE *f, const tv_import *im, const char *path);
/* {records, accepted, events, duplicates, refused, gaps, damaged, missing_records,
 * complete}; complete is false when the import failed (failed non-zero). Returns what
 * tv_json_line_end does. */
int tv_render_import_json(FILE *f, const tv_import *im, int failed);

#endif
