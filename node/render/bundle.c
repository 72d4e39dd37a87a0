/* What a bundle export or import came to, as text and JSON (bundle.h). */
#include "node/render/bundle.h"

#include "node/render/json.h"

#include <inttypes.h>

void tv_render_export_text(FILE *f, const tv_export *x, const char *path)
{
    fprintf(f,
            "exported %" PRIu64 " batch%s (%" PRIu64 " events from %" PRIu64
            " origin%s) to %s, %" PRIu64 " bytes\n",
            x->batches, x->batches == 1 ? "" : "es", x->events, x->origins,
            x->origins == 1 ? "" : "s", path, x->w.bytes);
}

int tv_render_export_json(FILE *f, const tv_export *x, const char *path)
{
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_json_key(&j, "file");
    tv_json_string(&j, path);
    tv_json_key(&j, "batches");
    tv_json_u64(&j, x->batches);
    tv_json_key(&j, "events");
    tv_json_u64(&j, x->events);
    tv_json_key(&j, "origins");
    tv_json_u64(&j, x->origins);
    tv_json_key(&j, "bytes");
    tv_json_u64(&j, x->w.bytes);
    tv_json_object_end(&j);
    return tv_json_line_end(&j);
}

void tv_render_import_text(FILE *f, const tv_import *im, const char *path)
{
    fprintf(f,
            "%s: %" PRIu64 " batch%s accepted (%" PRIu64 " events), %" PRIu64
            " already held, %" PRIu64 " refused (%" PRIu64 " after a gap); %" PRIu64
            " damaged part%s of the file skipped, %" PRIu64 " record%s unread%s\n",
            path, im->accepted, im->accepted == 1 ? "" : "es", im->events, im->duplicates,
            im->refused, im->gaps, im->damaged, im->damaged == 1 ? "" : "s", im->missing,
            im->missing == 1 ? "" : "s", im->complete ? "" : "; the end of the file is missing");
    if (im->unknown)
        fprintf(f, "%s: %" PRIu64 " record%s of a kind this version does not know were skipped\n",
                path, im->unknown, im->unknown == 1 ? "" : "s");
}

int tv_render_import_json(FILE *f, const tv_import *im, int failed)
{
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_json_key(&j, "records");
    tv_json_u64(&j, im->records);
    tv_json_key(&j, "accepted");
    tv_json_u64(&j, im->accepted);
    tv_json_key(&j, "events");
    tv_json_u64(&j, im->events);
    tv_json_key(&j, "duplicates");
    tv_json_u64(&j, im->duplicates);
    tv_json_key(&j, "refused");
    tv_json_u64(&j, im->refused);
    tv_json_key(&j, "gaps");
    tv_json_u64(&j, im->gaps);
    tv_json_key(&j, "damaged");
    tv_json_u64(&j, im->damaged);
    tv_json_key(&j, "missing_records");
    tv_json_u64(&j, im->missing);
    tv_json_key(&j, "complete");
    tv_json_bool(&j, !failed && im->complete);
    tv_json_object_end(&j);
    return tv_json_line_end(&j);
}
