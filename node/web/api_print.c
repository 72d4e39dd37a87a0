/* The console's printouts: a venue's check-in poster as PDF or PNG, the same poster
 * `truyvet qr venue` writes (node/print/poster.h), signed by this commune's node. The
 * drawing runs without the node's mutex: only the lookup and the signature need it. */
#include "node/web/api.h"

#include "crdt/error.h"
#include "node/format/fileio.h"
#include "node/format/payload.h"
#include "node/logic/card_issue.h"
#include "node/print/poster.h"

#include <sodium.h>

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

/* What is drawn: a poster, or cards. */
typedef struct drawing {
    const tv_poster *po;
    const tv_card_face *faces;
    size_t n;
    int sheet;
} drawing;

/* Draws d into a file of the given extension in a directory of its own (the printing
 * module writes files), and reads it back. Returns 0, TV_ENOMEM, TV_EIO or what the
 * drawing returns. */
static int draw(const drawing *d, const char *ext, char **buf, size_t *len)
{
    const char *tmp = getenv("TMPDIR");
    char dir[256], path[300];
    snprintf(dir, sizeof dir, "%s/truyvet-print-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(dir)) return TV_EIO;
    snprintf(path, sizeof path, "%s/print.%s", dir, ext);
    int rc = d->po ? tv_poster_write(path, d->po) : tv_cards_write(path, d->faces, d->n, d->sheet);
    if (rc == 0) rc = tv_file_read(path, POSTER_FILE_MAX, buf, len);
    unlink(path);
    rmdir(dir);
    return rc;
}

/* Answers the drawn file buf as a download named file. */
static void download(tv_resp *r, char *buf, size_t len, const char *type, const char *file)
{
    r->status = 200;
    r->kind = TV_RESP_BUFFER;
    r->body = buf;
    r->len = len;
    snprintf(r->type, sizeof r->type, "%s", type);
    tv_resp_attachment(r, file);
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
    int rc = draw(&(drawing){.po = &po}, ext, &buf, &len);
    if (rc) {
        tv_resp_fail(r, rc, "the poster was not written", "không in được áp phích");
        return 0;
    }
    char code[TV_SHORT_CODE_STR], file[64];
    tv_short_code(code, v.id);
    snprintf(file, sizeof file, "ap-phich-%s.%s", code, ext);
    download(r, buf, len, type, file);
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

/* The cards the form asks for: each `person` field a card, a `name` after it naming a
 * phone's person. Returns how many, or -1 after answering r. */
static int cards_read(const tv_req *q, tv_card *cards, tv_resp *r)
{
    int n = 0;
    tv_why why;
    for (size_t i = 0; i < q->nform; i++) {
        if (strcmp(q->form[i].key, "person") != 0 || !q->form[i].val[0]) continue;
        const char *name = NULL;
        if (i + 1 < q->nform && strcmp(q->form[i + 1].key, "name") == 0 && q->form[i + 1].val[0])
            name = q->form[i + 1].val;
        if (n == TV_CARDS_MAX) {
            tv_resp_error(r, 400, "cards_too_many", "at most 90 cards at a time.",
                          "Mỗi lần cấp tối đa 90 thẻ.");
            return -1;
        }
        if (tv_card_input(q->form[i].val, name, &cards[n], &why)) {
            tv_resp_why(r, TV_EINVAL, &why);
            return -1;
        }
        n++;
    }
    if (n == 0)
        tv_resp_error(r, 400, "person_missing", "whose card? Give --person TEXT.",
                      "Cấp thẻ cho ai? Hãy nhập số CCCD, số điện thoại hoặc quét mã của người đó.");
    return n ? n : -1;
}

/* Records and signs the cards of q under the node's mutex and writer lock. Returns 0, or
 * 1 after answering r. */
static int cards_sign(tv_web *w, const tv_card *cards, size_t n, tv_card_issued *is, tv_resp *r)
{
    pthread_mutex_lock(w->mu);
    int took = tv_api_write_begin(w, r), rc = 0;
    if (took >= 0) {
        rc = tv_cards_issue(w->n, cards, n, is);
        tv_api_write_end(w, took);
        if (rc == TV_EPERM)
            tv_resp_error(
                r, 403, "no_pseudonym_key",
                "this node holds no pseudonym key: a district without the health flag "
                "cannot issue personal cards; the commune or the health authority does.",
                "Nút này không có khóa định danh nên không cấp được thẻ cá nhân; xã/phường "
                "hoặc cơ quan y tế cấp.");
        else if (rc)
            tv_resp_fail(r, rc, "no card was issued", "chưa cấp được thẻ");
    }
    pthread_mutex_unlock(w->mu);
    return took < 0 || rc;
}

int tv_api_cards(tv_web *w, tv_req *q, tv_resp *r)
{
    tv_card *cards = calloc(TV_CARDS_MAX, sizeof *cards);
    tv_card_issued *is = calloc(TV_CARDS_MAX, sizeof *is);
    tv_card_face *faces = calloc(TV_CARDS_MAX, sizeof *faces);
    char name[TV_NODE_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s", w->n->name); /* fixed while the node is open */
    int n = cards && is && faces ? cards_read(q, cards, r) : -1;
    if (!cards || !is || !faces)
        tv_resp_fail(r, TV_ENOMEM, "no card was issued", "chưa cấp được thẻ");
    if (n > 0 && cards_sign(w, cards, (size_t)n, is, r) == 0) {
        for (int i = 0; i < n; i++)
            faces[i] = (tv_card_face){is[i].code, is[i].pc.display, name};
        const char *sheet = tv_req_arg(q, "sheet");
        char *buf = NULL;
        size_t len = 0;
        int rc =
            draw(&(drawing){.faces = faces, .n = (size_t)n, .sheet = !sheet || strcmp(sheet, "0")},
                 "pdf", &buf, &len);
        if (rc)
            tv_resp_fail(r, rc, "the cards were not written", "không in được thẻ");
        else
            download(r, buf, len, "application/pdf", "the-ca-nhan.pdf");
    }
    if (cards) sodium_memzero(cards, TV_CARDS_MAX * sizeof *cards);
    free(cards);
    free(is);
    free(faces);
    return 0;
}
