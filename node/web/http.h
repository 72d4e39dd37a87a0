/* What a handler of the console sees: the request, the response it fills, the server it
 * runs in. Nothing here depends on libmicrohttpd (server.c adapts it), so handlers and
 * their tests see only these types.
 *
 * A handler fills the response: a JSON body through tv_resp_json (a FILE* for the
 * renderers of node/render/), an error through tv_resp_error or tv_resp_why, a file
 * through tv_resp_file, or a stream through tv_resp_stream. The dispatcher (route.c) has
 * checked the session, the role, the CSRF token and the origin before the handler runs. */
#ifndef TV_NODE_WEB_HTTP_H
#define TV_NODE_WEB_HTTP_H

#include "node/logic/node.h"
#include "node/web/session.h"
#include "node/web/web.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TV_REQ_PARAMS_MAX 64   /* query and form fields, each */
#define TV_REQ_CAPTURES_MAX 4  /* {} segments of a route */
#define TV_REQ_FORM_MAX 65536  /* a form's body, at most */
#define TV_REQ_FILE_MAX 262144 /* an uploaded file (application/octet-stream), at most */
#define TV_RESP_HEADERS_MAX 6

typedef struct tv_kv {
    char *key, *val; /* decoded, NUL-terminated; owned by the request */
} tv_kv;

typedef struct tv_req {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* the URL's path, without the query */
    tv_kv query[TV_REQ_PARAMS_MAX];
    size_t nquery;
    tv_kv form[TV_REQ_PARAMS_MAX]; /* the body, when application/x-www-form-urlencoded */
    size_t nform;
    char *body; /* the raw body (NUL-terminated), body_len bytes */
    size_t body_len;
    const char *content_type, *host, *origin, *sec_fetch_site, *csrf; /* headers, or NULL */
    const char *forwarded_proto; /* X-Forwarded-Proto (a TLS proxy in front says https) */
    const char *last_event_id;   /* Last-Event-ID: a live list's browser reconnecting */
    const char *cookie_session, *cookie_csrf; /* cookies, or NULL */
    char remote[64];                          /* the client's address */
    const char *cap[TV_REQ_CAPTURES_MAX];     /* the route's {} segments, decoded */
    size_t ncap;
    tv_session_view who; /* the session's account (who.user[0] == 0: none) */
} tv_req;

typedef enum tv_resp_kind { TV_RESP_BUFFER, TV_RESP_STATIC, TV_RESP_STREAM } tv_resp_kind;

/* A stream's producer (Server-Sent Events): writes up to max bytes into buf and returns
 * how many, 0 to be called again (it may block a while), or -1 at the end. Runs on the
 * connection's own thread; free_fn(arg) is called once the connection is done. */
typedef long (*tv_stream_fn)(void *arg, char *buf, size_t max);

typedef struct tv_resp {
    int status;
    char type[96];
    tv_resp_kind kind;
    char *body; /* TV_RESP_BUFFER: malloc'd */
    size_t len;
    const unsigned char *static_body; /* TV_RESP_STATIC: not freed */
    FILE *f;                          /* open while a handler writes the body */
    tv_stream_fn stream;
    void *stream_arg;
    void (*stream_free)(void *arg);
    struct {
        char name[32];
        char value[256];
    } hdr[TV_RESP_HEADERS_MAX];
    size_t nhdr;
    int cacheable;   /* static files: may be kept a few minutes */
    const char *csp; /* a Content-Security-Policy of its own (static), else the console's */
} tv_resp;

/* The server, as handlers see it. */
struct tv_web {
    tv_node *n;
    pthread_mutex_t *mu; /* held around every use of n */
    tv_session_table sessions;
    int verbose;
    char url[TV_WEB_URL_MAX];
    void *daemon;             /* server.c's */
    struct tv_web_gate *gate; /* the scans' writer (gate.c) */
    struct tv_web_live *live; /* the live lists (live.c) */
};

/* The value of form field (else query parameter) name, or NULL. */
const char *tv_req_arg(const tv_req *q, const char *name);
/* The value of query parameter name only, or NULL. */
const char *tv_req_query(const tv_req *q, const char *name);

/* Starts a body of the given status and type; returns the FILE* to write it to (NULL:
 * out of memory, the response is then a 500). */
FILE *tv_resp_open(tv_resp *r, int status, const char *type);
/* tv_resp_open with JSON. */
FILE *tv_resp_json(tv_resp *r, int status);
/* Adds a header (a name and value that fit; longer ones are cut). */
void tv_resp_header(tv_resp *r, const char *name, const char *value);
/* An error: {"error": code, "message": en, "message_vi": vi}. */
void tv_resp_error(tv_resp *r, int status, const char *code, const char *en, const char *vi);
/* An error from a TV_E... code of the store or the node (busy, disk full, ...), with what
 * was being done ("cannot register the venue", "không đăng ký được địa điểm"). */
void tv_resp_fail(tv_resp *r, int rc, const char *what_en, const char *what_vi);
/* A download: the body already written through tv_resp_open, named filename. */
void tv_resp_attachment(tv_resp *r, const char *filename);

/* Closes the body's FILE* (server.c calls it after the handler). Returns 0 or TV_ENOMEM. */
int tv_resp_finish(tv_resp *r);
void tv_resp_free(tv_resp *r);

/* Decodes application/x-www-form-urlencoded text s (modified in place: '+' and %XX) into
 * at most max pairs. Returns the number of pairs, or -1 when s is malformed (bad %XX, a
 * NUL byte, more than max pairs). */
int tv_form_parse(char *s, tv_kv *kv, size_t max);

#endif
