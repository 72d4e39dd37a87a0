/* The console's sessions: who is logged in on which browser. Kept in memory only (a
 * restart of the server logs everyone out; nothing secret is written to disk); the
 * browser holds a random token in an HttpOnly, SameSite=Strict cookie and the table keeps
 * only its BLAKE2b hash. Each session has its own CSRF token, which every state-changing
 * request must carry in the X-CSRF-Token header. A session ends at logout, after
 * TV_SESSION_IDLE_MS without a request, after TV_SESSION_LIFE_MS in all, and when its
 * account is removed, changes its password or is locked (tv_session_end_user). */
#ifndef TV_NODE_WEB_SESSION_H
#define TV_NODE_WEB_SESSION_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define TV_SESSION_MAX 4096
#define TV_SESSION_IDLE_MS (INT64_C(12) * 3600 * 1000)
#define TV_SESSION_LIFE_MS (INT64_C(7) * 24 * 3600 * 1000)
#define TV_TOKEN_STR 44 /* 32 random bytes, base64url without padding, and a NUL */
#define TV_SESSION_USER_MAX 64
#define TV_SESSION_ROLE_MAX 16

/* What a request learns of its session. */
typedef struct tv_session_view {
    char user[TV_SESSION_USER_MAX]; /* "" when none */
    char role[TV_SESSION_ROLE_MAX];
    char csrf[TV_TOKEN_STR];
} tv_session_view;

typedef struct tv_session {
    uint8_t hash[32]; /* of the cookie's token */
    tv_session_view v;
    int64_t created_ms, last_ms;
    int used;
} tv_session;

typedef struct tv_session_table {
    pthread_mutex_t mu;
    tv_session *s; /* TV_SESSION_MAX slots */
    size_t high;   /* no slot at or above it is used: lookups read s[0..high) */
} tv_session_table;

int tv_session_table_init(tv_session_table *t);
void tv_session_table_free(tv_session_table *t);

/* A new random token (base64url). */
void tv_token_new(char out[TV_TOKEN_STR]);

/* Opens a session for user with role; token gets the cookie's value, *v the view (its
 * CSRF token). When the table is full the session idle longest is ended. Returns 0. */
int tv_session_new(tv_session_table *t, const char *user, const char *role, int64_t now_ms,
                   char token[TV_TOKEN_STR], tv_session_view *v);
/* Finds the live session of token and marks it used now. Returns 0 with *v, or
 * TV_ENOTFOUND (unknown, ended or expired). */
int tv_session_find(tv_session_table *t, const char *token, int64_t now_ms, tv_session_view *v);
/* Ends the session of token (logout). */
void tv_session_end(tv_session_table *t, const char *token);
/* Ends every session of user. Returns how many. */
size_t tv_session_end_user(tv_session_table *t, const char *user);

/* Compares two NUL-terminated tokens in time independent of where they differ. Returns 1
 * when equal (and both non-empty), else 0. */
int tv_token_equal(const char *a, const char *b);

#endif
