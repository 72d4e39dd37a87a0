/* The console's printouts: a venue's check-in poster as PDF or PNG, the same poster
 * `truyvet qr venue` writes (node/print/poster.h), signed by this commune's node. The
 * drawing runs without the node's mutex: only the lookup and the signature need it. */
#include "node/web/api.h"

#include "crdt/error.h"
#include "node/format/fileio.h"
#include "node/format/payload.h"
#include "node/print/poster.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POSTER_FILE_MAX (16 * 1024 * 1024)

/* Signs the poster's payload of the venue of q: a venue of this commune. Returns 0 with
 * *v, the payload's text and the commune's name, else 1 after answering r. */
static int poster_payload(tv_web *w, tv_req *q, store_venue *v, char text[TV_VENUE_PAYLOAD_MAX],
                          char name[TV_NODE_NAME_MAX + 1], tv_resp *r)
{
    pthread_mutex_lock(w->mu);
    int refused = tv_api_venue_get(w, q, v, r), rc = 0;
    if (!refused && (strcmp(v->unit, w->n->unit) != 0 || w->n->role != TV_ROLE_COMMUNE)) {
        char en[200];
        snprintf(en, sizeof en,
                 "venue %s is registered in unit %s; only that commune's node signs its code.",
                 q->cap[0], v->unit);
        tv_resp_error(r, 403, "venue_not_own", en,
                      "Địa điểm này thuộc xã/phường khác; chỉ nút của xã/phường đó in được mã.");
        refused = 1;
    }
    if (!refused) {
        tv_venue_payload p;
        if ((rc = tv_venue_payload_sign(&p, v->id, v->unit, &w->n->id)) == 0) {
            tv_venue_payload_format(text, &p);
            snprintf(name, TV_NODE_NAME_MAX + 1, "%s", w->n->name);
        } else {
            tv_resp_fail(r, rc, "cannot sign the venue's code", "không ký được mã địa điểm");
            refused = 1;
        }
    }
    pthread_mutex_unlock(w->mu);
    return refused;
}

/* Draws the poster into a file of the given extension in a directory of its own, and
 * reads it back. Returns 0, TV_ENOMEM, TV_EIO or what tv_poster_write returns. */
static int draw(const tv_poster *po, const char *ext, char **buf, size_t *len)
{
    const char *tmp = getenv("TMPDIR");
    char dir[256], path[300];
    snprintf(dir, sizeof dir, "%s/truyvet-poster-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(dir)) return TV_EIO;
    snprintf(path, sizeof path, "%s/poster.%s", dir, ext);
    int rc = tv_poster_write(path, po);
    if (rc == 0) rc = tv_file_read(path, POSTER_FILE_MAX, buf, len);
    unlink(path);
    rmdir(dir);
    return rc;
}

static int poster(tv_web *w, tv_req *q, tv_resp *r, const char *ext, const char *type)
{
    store_venue v;
    char text[TV_VENUE_PAYLOAD_MAX], name[TV_NODE_NAME_MAX + 1], lines[TV_POSTER_TEXT_BYTES];
    if (poster_payload(w, q, &v, text, name, r)) return 0;
    tv_poster po;
    tv_poster_of_venue(&po, &v, name, text, lines);
    char *buf = NULL;
    size_t len = 0;
    int rc = draw(&po, ext, &buf, &len);
    if (rc) {
        tv_resp_fail(r, rc, "the poster was not written", "không in được áp phích");
        return 0;
    }
    r->status = 200;
    r->kind = TV_RESP_BUFFER;
    r->body = buf;
    r->len = len;
    snprintf(r->type, sizeof r->type, "%s", type);
    char code[TV_SHORT_CODE_STR], file[64];
    tv_short_code(code, v.id);
    snprintf(file, sizeof file, "ap-phich-%s.%s", code, ext);
    tv_resp_attachment(r, file);
    return 0;
}

int tv_api_poster_pdf(tv_web *w, tv_req *q, tv_resp *r)
{
    return poster(w, q, r, "pdf", "application/pdf");
}

int tv_api_poster_png(tv_web *w, tv_req *q, tv_resp *r)
{
    return poster(w, q, r, "png", "image/png");
}
