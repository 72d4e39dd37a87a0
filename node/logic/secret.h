/* The node's secrets at rest: one file, DIR/node.secret, encrypted under a passphrase, and
 * the kernel keyring entry that keeps a node unlocked between commands.
 *
 * The file (PROTOCOL.md §5.1) holds the node's Ed25519 seed and its pseudonym-key record
 * (kind, unit, key), encrypted with XChaCha20-Poly1305 under a key derived from the
 * passphrase with Argon2id (crypto_pwhash). Its header (magic, version, algorithms, the
 * Argon2id limits, salt, nonce and the node id) is in clear and is the AEAD's associated
 * data: the node id stays readable without the passphrase, and a header changed on disk
 * makes the file fail to open.
 *
 * Unlocking stores the derived file key (never the passphrase, never the secrets
 * themselves) in the kernel keyring as a "user" key named "truyvet:<node id hex>", readable
 * by the same uid only, optionally with a timeout; it is lost at power-off. The keyring is
 * the user keyring, or the one $TRUYVET_KEYRING names ("user", "session", "process"). */
#ifndef TV_NODE_SECRET_H
#define TV_NODE_SECRET_H

#include "crdt/ids.h"

#include <stddef.h>
#include <stdint.h>

#define TV_SECRET_FILE "node.secret"
#define TV_SECRET_MAGIC "TVSECRET" /* 8 bytes, no NUL in the file */
#define TV_SECRET_VERSION 1
#define TV_SECRET_KDF_ARGON2ID13 1
#define TV_SECRET_AEAD_XCHACHA20POLY1305 1
#define TV_SECRET_SALT_BYTES 16
#define TV_SECRET_NONCE_BYTES 24
#define TV_FILE_KEY_BYTES 32 /* the derived file key */
#define TV_SECRET_HEADER_BYTES 100
#define TV_TRACING_UNIT_BYTES 16 /* the unit of a pseudonym key, NUL-padded */
#define TV_SECRET_PLAIN_BYTES (TV_SEED_BYTES + 1 + TV_TRACING_UNIT_BYTES + TV_TRACING_KEY_BYTES)
#define TV_SECRET_TAG_BYTES 16
#define TV_SECRET_FILE_BYTES (TV_SECRET_HEADER_BYTES + TV_SECRET_PLAIN_BYTES + TV_SECRET_TAG_BYTES)
#define TV_PASSPHRASE_MAX 1024 /* bytes */

/* Kinds of the pseudonym key a node holds (PROTOCOL.md §1, §5.1). */
typedef enum tv_key_kind {
    TV_KEY_NONE = 0,     /* no key: a district without the health flag */
    TV_KEY_LOCAL = 1,    /* random, made at creation: pseudonyms of this node alone */
    TV_KEY_COMMUNE = 2,  /* K_c of tracing_unit, derived by the health authority */
    TV_KEY_PROVINCE = 3, /* K_p, the province-wide key: health nodes only */
} tv_key_kind;

/* Argon2id cost levels (crypto_pwhash limits), chosen per node at init or passwd and
 * recorded in the file's header: moderate (the default: 3 passes over 256 MiB, about
 * 0.5 s), interactive (2 passes, 64 MiB, about 0.08 s), sensitive (4 passes, 1 GiB,
 * several seconds) and min (1 pass, 8 KiB: for tests only, it slows a guesser down by
 * nothing). */
typedef enum tv_kdf_level {
    TV_KDF_MODERATE = 0,
    TV_KDF_INTERACTIVE,
    TV_KDF_SENSITIVE,
    TV_KDF_MIN,
} tv_kdf_level;

/* Parses "moderate", "interactive", "sensitive" or "min". Returns 0 or TV_EINVAL. */
int tv_kdf_level_parse(const char *s, tv_kdf_level *out);
/* The level $TRUYVET_KDF names, else TV_KDF_MODERATE; *bad is set when it names none. */
tv_kdf_level tv_kdf_level_default(int *bad);

typedef struct tv_secret_header {
    uint64_t opslimit, memlimit; /* Argon2id passes and memory in bytes */
    uint8_t salt[TV_SECRET_SALT_BYTES];
    uint8_t nonce[TV_SECRET_NONCE_BYTES];
    uint8_t node_id[TV_NODE_ID_BYTES];
} tv_secret_header;

/* What the file protects, in clear: keep it in locked memory and wipe it. */
typedef struct tv_secrets {
    uint8_t seed[TV_SEED_BYTES]; /* the Ed25519 seed of the node key */
    uint8_t tracing_kind;        /* TV_TRACING_* */
    char tracing_unit[TV_TRACING_UNIT_BYTES];
    uint8_t tracing_key[TV_TRACING_KEY_BYTES];
} tv_secrets;

/* A new header for node_id: fresh random salt and nonce, the limits of level. */
void tv_secret_header_new(tv_secret_header *h, const uint8_t node_id[TV_NODE_ID_BYTES],
                          tv_kdf_level level);

/* Derives the file key from a passphrase with the header's salt and limits. Returns 0 or
 * TV_ENOMEM (Argon2id could not get its memory). */
int tv_secret_derive(uint8_t key[TV_FILE_KEY_BYTES], const char *pass, size_t len,
                     const tv_secret_header *h);

/* Reads DIR/node.secret's header and sealed part (ct: TV_SECRET_FILE_BYTES -
 * TV_SECRET_HEADER_BYTES bytes). Returns 0, TV_ENOTFOUND, TV_EVERSION (a newer format),
 * TV_ECORRUPT (not such a file, or limits out of range) or TV_EIO. */
int tv_secret_read(const char *dir, tv_secret_header *h, uint8_t *ct);

/* Opens the sealed part with key. Returns 0, TV_EPASSPHRASE (the key does not open it: a
 * wrong passphrase, or the file was changed) or TV_ECORRUPT (it opens, but its contents
 * are malformed or the seed is not the header's node id). */
int tv_secret_open(const tv_secret_header *h, const uint8_t *ct,
                   const uint8_t key[TV_FILE_KEY_BYTES], tv_secrets *out);

/* Writes DIR/node.secret atomically (tv_file_write_atomic, mode 0600), sealing s under
 * key with a fresh nonce (stored into h). Returns 0, TV_EINVAL, TV_ENOSPC or TV_EIO. */
int tv_secret_write(const char *dir, tv_secret_header *h, const uint8_t key[TV_FILE_KEY_BYTES],
                    const tv_secrets *s);

/* The keyring entry of a node. put replaces any entry (timeout_s 0: until lock or
 * power-off); get returns 0 or TV_ENOTFOUND; forget returns 0 or TV_ENOTFOUND. Other
 * failures (no keyring in this kernel or container) are TV_EIO with errno set. */
int tv_keyring_put(const uint8_t node_id[TV_NODE_ID_BYTES], const uint8_t key[TV_FILE_KEY_BYTES],
                   unsigned timeout_s);
int tv_keyring_get(const uint8_t node_id[TV_NODE_ID_BYTES], uint8_t key[TV_FILE_KEY_BYTES]);
int tv_keyring_forget(const uint8_t node_id[TV_NODE_ID_BYTES]);

#endif
