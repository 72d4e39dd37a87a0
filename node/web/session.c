/* The console's sessions, in memory (session.h). */
#include "node/web/session.h"

#include "crdt/error.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tv_session_table_init(tv_session_table *t)
{
    t->s = calloc(TV_SESSION_MAX, sizeof *t->s);
    t->high = 0;
    if (!t->s) return TV_ENOMEM;
    if (pthread_mutex_init(&t->mu, NULL)) {
        free(t->s);
        t->s = NULL;
        return TV_ENOMEM;
    }
    return TV_OK;
}

void tv_session_table_free(tv_session_table *t)
{
    if (!t->s) return;
    sodium_memzero(t->s, TV_SESSION_MAX * sizeof *t->s);
    free(t->s);
    t->s = NULL;
    pthread_mutex_destroy(&t->mu);
}

void tv_token_new(char out[TV_TOKEN_STR])
{
    uint8_t b[32];
    randombytes_buf(b, sizeof b);
    sodium_bin2base64(out, TV_TOKEN_STR, b, sizeof b, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(b, sizeof b);
}

static void token_hash(uint8_t h[32], const char *token)
{
    crypto_generichash(h, 32, (const uint8_t *)token, strlen(token), NULL, 0);
}

static int live(const tv_session *s, int64_t now_ms)
{
    return s->used && now_ms - s->last_ms < TV_SESSION_IDLE_MS &&
           now_ms - s->created_ms < TV_SESSION_LIFE_MS;
}

int tv_session_new(tv_session_table *t, const char *user, const char *role, int64_t now_ms,
                   char token[TV_TOKEN_STR], tv_session_view *v)
{
    tv_token_new(token);
    pthread_mutex_lock(&t->mu);
    tv_session *slot = NULL, *oldest = &t->s[0];
    for (size_t i = 0; i < TV_SESSION_MAX && !slot; i++) {
        tv_session *s = &t->s[i];
        if (!live(s, now_ms))
            slot = s;
        else if (s->last_ms < oldest->last_ms)
            oldest = s;
    }
    if (!slot) slot = oldest;
    if ((size_t)(slot - t->s) >= t->high) t->high = (size_t)(slot - t->s) + 1;
    memset(slot, 0, sizeof *slot);
    token_hash(slot->hash, token);
    snprintf(slot->v.user, sizeof slot->v.user, "%s", user);
    snprintf(slot->v.role, sizeof slot->v.role, "%s", role);
    tv_token_new(slot->v.csrf);
    slot->created_ms = slot->last_ms = now_ms;
    slot->used = 1;
    *v = slot->v;
    pthread_mutex_unlock(&t->mu);
    return TV_OK;
}

int tv_session_find(tv_session_table *t, const char *token, int64_t now_ms, tv_session_view *v)
{
    if (!token || strlen(token) != TV_TOKEN_STR - 1) return TV_ENOTFOUND;
    uint8_t h[32];
    token_hash(h, token);
    int rc = TV_ENOTFOUND;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->high; i++) {
        tv_session *s = &t->s[i];
        if (!s->used || sodium_memcmp(s->hash, h, sizeof h) != 0) continue;
        if (live(s, now_ms)) {
            s->last_ms = now_ms;
            *v = s->v;
            rc = TV_OK;
        } else {
            memset(s, 0, sizeof *s);
        }
        break;
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

void tv_session_end(tv_session_table *t, const char *token)
{
    if (!token) return;
    uint8_t h[32];
    token_hash(h, token);
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->high; i++)
        if (t->s[i].used && sodium_memcmp(t->s[i].hash, h, sizeof h) == 0)
            memset(&t->s[i], 0, sizeof t->s[i]);
    pthread_mutex_unlock(&t->mu);
}

size_t tv_session_end_user(tv_session_table *t, const char *user)
{
    size_t k = 0;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->high; i++)
        if (t->s[i].used && strcmp(t->s[i].v.user, user) == 0) {
            memset(&t->s[i], 0, sizeof t->s[i]);
            k++;
        }
    pthread_mutex_unlock(&t->mu);
    return k;
}

int tv_token_equal(const char *a, const char *b)
{
    if (!a || !b) return 0;
    size_t la = strlen(a), lb = strlen(b);
    if (la == 0 || la != lb) return 0;
    return sodium_memcmp(a, b, la) == 0;
}
