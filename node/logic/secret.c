/* The encrypted secret file of a node, and its kernel keyring entry. */
#include "node/logic/secret.h"
#include "crdt/error.h"
#include "node/format/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/keyctl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SECRET_MEMLIMIT_MAX (4ull << 30) /* refuse a header that asks for more than 4 GiB */

_Static_assert(TV_SECRET_SALT_BYTES == crypto_pwhash_SALTBYTES, "salt size");
_Static_assert(TV_SECRET_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce");
_Static_assert(TV_FILE_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");
_Static_assert(TV_SECRET_TAG_BYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(TV_SECRET_HEADER_BYTES ==
                   8 + 4 + 8 + 8 + TV_SECRET_SALT_BYTES + TV_SECRET_NONCE_BYTES + TV_NODE_ID_BYTES,
               "header layout");
_Static_assert(TV_UNIT_CODE_MAX < TV_TRACING_UNIT_BYTES, "a unit code fits, NUL-padded");

int tv_kdf_level_parse(const char *s, tv_kdf_level *out)
{
    static const char *names[] = {"moderate", "interactive", "sensitive", "min"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (tv_kdf_level)i;
            return TV_OK;
        }
    return TV_EINVAL;
}

tv_kdf_level tv_kdf_level_default(int *bad)
{
    tv_kdf_level l = TV_KDF_MODERATE;
    const char *env = getenv("TRUYVET_KDF");
    *bad = 0;
    if (env && *env && tv_kdf_level_parse(env, &l)) {
        *bad = 1;
        l = TV_KDF_MODERATE;
    }
    return l;
}

void tv_secret_header_new(tv_secret_header *h, const uint8_t node_id[TV_NODE_ID_BYTES],
                          tv_kdf_level level)
{
    switch (level) {
    case TV_KDF_INTERACTIVE:
        h->opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        h->memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
        break;
    case TV_KDF_SENSITIVE:
        h->opslimit = crypto_pwhash_OPSLIMIT_SENSITIVE;
        h->memlimit = crypto_pwhash_MEMLIMIT_SENSITIVE;
        break;
    case TV_KDF_MIN:
        h->opslimit = crypto_pwhash_OPSLIMIT_MIN;
        h->memlimit = crypto_pwhash_MEMLIMIT_MIN;
        break;
    default:
        h->opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
        h->memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
        break;
    }
    randombytes_buf(h->salt, sizeof h->salt);
    randombytes_buf(h->nonce, sizeof h->nonce);
    memcpy(h->node_id, node_id, TV_NODE_ID_BYTES);
}

int tv_secret_derive(uint8_t key[TV_FILE_KEY_BYTES], const char *pass, size_t len,
                     const tv_secret_header *h)
{
    if (crypto_pwhash(key, TV_FILE_KEY_BYTES, pass, len, h->salt, h->opslimit, (size_t)h->memlimit,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        return TV_ENOMEM;
    return TV_OK;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void header_encode(uint8_t out[TV_SECRET_HEADER_BYTES], const tv_secret_header *h)
{
    uint8_t *p = out;
    memcpy(p, TV_SECRET_MAGIC, 8);
    p[8] = TV_SECRET_VERSION;
    p[9] = TV_SECRET_KDF_ARGON2ID13;
    p[10] = TV_SECRET_AEAD_XCHACHA20POLY1305;
    p[11] = 0;
    put_u64(p + 12, h->opslimit);
    put_u64(p + 20, h->memlimit);
    memcpy(p + 28, h->salt, TV_SECRET_SALT_BYTES);
    memcpy(p + 44, h->nonce, TV_SECRET_NONCE_BYTES);
    memcpy(p + 68, h->node_id, TV_NODE_ID_BYTES);
}

static int header_decode(tv_secret_header *h, const uint8_t in[TV_SECRET_HEADER_BYTES])
{
    if (memcmp(in, TV_SECRET_MAGIC, 8) != 0) return TV_ECORRUPT;
    if (in[8] != TV_SECRET_VERSION) return in[8] > TV_SECRET_VERSION ? TV_EVERSION : TV_ECORRUPT;
    if (in[9] != TV_SECRET_KDF_ARGON2ID13 || in[10] != TV_SECRET_AEAD_XCHACHA20POLY1305 ||
        in[11] != 0)
        return TV_ECORRUPT;
    h->opslimit = get_u64(in + 12);
    h->memlimit = get_u64(in + 20);
    if (h->opslimit < crypto_pwhash_OPSLIMIT_MIN || h->opslimit > crypto_pwhash_OPSLIMIT_MAX ||
        h->memlimit < crypto_pwhash_MEMLIMIT_MIN || h->memlimit > SECRET_MEMLIMIT_MAX)
        return TV_ECORRUPT;
    memcpy(h->salt, in + 28, TV_SECRET_SALT_BYTES);
    memcpy(h->nonce, in + 44, TV_SECRET_NONCE_BYTES);
    memcpy(h->node_id, in + 68, TV_NODE_ID_BYTES);
    return TV_OK;
}

int tv_secret_read(const char *dir, tv_secret_header *h, uint8_t *ct)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", dir, TV_SECRET_FILE);
    if (n < 0 || (size_t)n >= sizeof path) return TV_EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? TV_ENOTFOUND : TV_EIO;
    uint8_t buf[TV_SECRET_FILE_BYTES + 1];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof buf && (r = read(fd, buf + got, sizeof buf - got)) != 0) {
        if (r < 0) {
            if (errno == EINTR) continue;
            close(fd);
            return TV_EIO;
        }
        got += (size_t)r;
    }
    close(fd);
    int rc = got >= TV_SECRET_HEADER_BYTES ? header_decode(h, buf) : TV_ECORRUPT;
    if (rc == TV_OK && got != TV_SECRET_FILE_BYTES) rc = TV_ECORRUPT;
    if (rc == TV_OK) memcpy(ct, buf + TV_SECRET_HEADER_BYTES, got - TV_SECRET_HEADER_BYTES);
    return rc;
}

static void plain_encode(uint8_t out[TV_SECRET_PLAIN_BYTES], const tv_secrets *s)
{
    memcpy(out, s->seed, TV_SEED_BYTES);
    out[TV_SEED_BYTES] = s->tracing_kind;
    memset(out + TV_SEED_BYTES + 1, 0, TV_TRACING_UNIT_BYTES);
    size_t ul = strnlen(s->tracing_unit, TV_TRACING_UNIT_BYTES - 1);
    memcpy(out + TV_SEED_BYTES + 1, s->tracing_unit, ul);
    memcpy(out + TV_SEED_BYTES + 1 + TV_TRACING_UNIT_BYTES, s->tracing_key, TV_TRACING_KEY_BYTES);
}

int tv_secret_open(const tv_secret_header *h, const uint8_t *ct,
                   const uint8_t key[TV_FILE_KEY_BYTES], tv_secrets *out)
{
    uint8_t ad[TV_SECRET_HEADER_BYTES], plain[TV_SECRET_PLAIN_BYTES];
    header_encode(ad, h);
    unsigned long long plen;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &plen, NULL, ct,
                                                   TV_SECRET_PLAIN_BYTES + TV_SECRET_TAG_BYTES, ad,
                                                   sizeof ad, h->nonce, key) != 0)
        return TV_EPASSPHRASE;
    int rc = TV_OK;
    const uint8_t *unit = plain + TV_SEED_BYTES + 1;
    size_t ul = strnlen((const char *)unit, TV_TRACING_UNIT_BYTES);
    if (plen != TV_SECRET_PLAIN_BYTES || plain[TV_SEED_BYTES] > TV_KEY_PROVINCE ||
        ul == TV_TRACING_UNIT_BYTES)
        rc = TV_ECORRUPT;
    for (size_t i = ul; rc == TV_OK && i < TV_TRACING_UNIT_BYTES; i++)
        if (unit[i]) rc = TV_ECORRUPT; /* NUL-padded */
    if (rc == TV_OK) {
        uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
        crypto_sign_seed_keypair(pk, sk, plain);
        sodium_memzero(sk, sizeof sk);
        if (memcmp(pk, h->node_id, sizeof pk) != 0) rc = TV_ECORRUPT;
    }
    if (rc == TV_OK) {
        memcpy(out->seed, plain, TV_SEED_BYTES);
        out->tracing_kind = plain[TV_SEED_BYTES];
        memcpy(out->tracing_unit, unit, TV_TRACING_UNIT_BYTES);
        memcpy(out->tracing_key, unit + TV_TRACING_UNIT_BYTES, TV_TRACING_KEY_BYTES);
    }
    sodium_memzero(plain, sizeof plain);
    return rc;
}

int tv_secret_write(const char *dir, tv_secret_header *h, const uint8_t key[TV_FILE_KEY_BYTES],
                    const tv_secrets *s)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", dir, TV_SECRET_FILE);
    if (n < 0 || (size_t)n >= sizeof path) return TV_EINVAL;
    uint8_t file[TV_SECRET_FILE_BYTES], plain[TV_SECRET_PLAIN_BYTES];
    randombytes_buf(h->nonce, sizeof h->nonce); /* never one nonce twice under a key */
    header_encode(file, h);
    plain_encode(plain, s);
    unsigned long long clen;
    crypto_aead_xchacha20poly1305_ietf_encrypt(file + TV_SECRET_HEADER_BYTES, &clen, plain,
                                               sizeof plain, file, TV_SECRET_HEADER_BYTES, NULL,
                                               h->nonce, key);
    sodium_memzero(plain, sizeof plain);
    return tv_file_write_atomic(path, file, sizeof file, 0600);
}

/* The kernel keyring, through the raw system calls (no libkeyutils needed). */

static long key_spec(void)
{
    const char *env = getenv("TRUYVET_KEYRING");
    if (env && strcmp(env, "session") == 0) return KEY_SPEC_SESSION_KEYRING;
    if (env && strcmp(env, "process") == 0) return KEY_SPEC_PROCESS_KEYRING;
    return KEY_SPEC_USER_KEYRING;
}

static void key_desc(char out[9 + 2 * TV_NODE_ID_BYTES + 1],
                     const uint8_t node_id[TV_NODE_ID_BYTES])
{
    memcpy(out, "truyvet:", 8);
    sodium_bin2hex(out + 8, 2 * TV_NODE_ID_BYTES + 1, node_id, TV_NODE_ID_BYTES);
}

static long key_find(const uint8_t node_id[TV_NODE_ID_BYTES])
{
    char desc[9 + 2 * TV_NODE_ID_BYTES + 1];
    key_desc(desc, node_id);
    return syscall(SYS_keyctl, KEYCTL_SEARCH, key_spec(), "user", desc, 0);
}

/* Possessor and same uid: view, read, write, search, link, set attributes; nobody else. */
#define KEY_PERM_OWNER 0x3f3f0000u

int tv_keyring_put(const uint8_t node_id[TV_NODE_ID_BYTES], const uint8_t key[TV_FILE_KEY_BYTES],
                   unsigned timeout_s)
{
    char desc[9 + 2 * TV_NODE_ID_BYTES + 1];
    key_desc(desc, node_id);
    long id = syscall(SYS_add_key, "user", desc, key, (size_t)TV_FILE_KEY_BYTES, key_spec());
    if (id < 0) return TV_EIO;
    if (syscall(SYS_keyctl, KEYCTL_SETPERM, id, KEY_PERM_OWNER) != 0 ||
        syscall(SYS_keyctl, KEYCTL_SET_TIMEOUT, id, timeout_s) != 0) {
        int err = errno;
        (void)syscall(SYS_keyctl, KEYCTL_INVALIDATE, id);
        errno = err;
        return TV_EIO;
    }
    return TV_OK;
}

int tv_keyring_get(const uint8_t node_id[TV_NODE_ID_BYTES], uint8_t key[TV_FILE_KEY_BYTES])
{
    long id = key_find(node_id);
    if (id < 0)
        return errno == ENOKEY || errno == EKEYEXPIRED || errno == EKEYREVOKED ? TV_ENOTFOUND
                                                                               : TV_EIO;
    uint8_t buf[TV_FILE_KEY_BYTES + 1];
    long n = syscall(SYS_keyctl, KEYCTL_READ, id, buf, sizeof buf);
    int rc = n == TV_FILE_KEY_BYTES ? TV_OK : n < 0 ? TV_EIO : TV_ENOTFOUND;
    if (rc == TV_OK) memcpy(key, buf, TV_FILE_KEY_BYTES);
    sodium_memzero(buf, sizeof buf);
    return rc;
}

int tv_keyring_forget(const uint8_t node_id[TV_NODE_ID_BYTES])
{
    int found = 0;
    long id = -1;
    /* more than one keyring may be searched: forget every entry of the node */
    for (int i = 0; i < 8 && (id = key_find(node_id)) >= 0; i++) {
        if (syscall(SYS_keyctl, KEYCTL_INVALIDATE, id) != 0) return TV_EIO;
        found = 1;
    }
    if (id >= 0 || (errno != ENOKEY && errno != EKEYEXPIRED && errno != EKEYREVOKED))
        return found ? TV_OK : TV_EIO;
    return found ? TV_OK : TV_ENOTFOUND;
}
