/* Error codes shared by every layer of truyvet.
 *
 * Functions return int: 0 on success, a negative TV_E... code on failure. Each public
 * function's comment lists the codes it returns. tv_strerror() gives a short English
 * sentence; the CLI turns codes into messages for the person at the keyboard. */
#ifndef TV_CRDT_ERROR_H
#define TV_CRDT_ERROR_H

enum {
    TV_OK = 0,
    TV_EINVAL = -1,       /* a caller-supplied value is malformed or out of range */
    TV_ENOMEM = -2,       /* an allocation failed */
    TV_EDECODE = -3,      /* bytes are not a well-formed message of the expected shape */
    TV_ELIMIT = -4,       /* input exceeds a named limit */
    TV_EVERSION = -5,     /* a format version this build does not understand */
    TV_ESIG = -6,         /* a signature does not verify */
    TV_EHASH = -7,        /* a batch body does not match the hash its header signs */
    TV_ECHAIN = -8,       /* a batch does not continue its origin's hash chain */
    TV_EGAP = -9,         /* a batch starts after a gap in its origin's log */
    TV_EFORK = -10,       /* two different batches claim the same place in one log */
    TV_ENOTFOUND = -11,   /* no such record */
    TV_EEXIST = -12,      /* the record already exists */
    TV_EIO = -13,         /* an operating-system I/O call failed (see errno) */
    TV_ENOSPC = -14,      /* the disk is full; nothing was written */
    TV_ESTORE = -15,      /* the database reported an unexpected error */
    TV_ECLOCK = -16,      /* a remote clock is further ahead than allowed */
    TV_ECORRUPT = -17,    /* stored data fails its own checks */
    TV_EBUSY = -18,       /* another process holds what is needed */
    TV_EPERM = -19,       /* the node's role or scope does not allow this */
    TV_EUNTRUSTED = -20,  /* the origin's certificate does not chain to our root (yet) */
    TV_ESCOPE = -21,      /* an event lies outside its origin's scope */
    TV_EREVOKED = -22,    /* the origin's key has been revoked */
    TV_EFROZEN = -23,     /* the origin forked its log: frozen until re-certified */
    TV_EPARKED = -24,     /* lawful, but waits: for a venue's registration, or for its time */
    TV_ERESTORED = -25,   /* the node's store was restored or copied: sync before recording */
    TV_ELOCKED = -26,     /* the node's secrets are locked: unlock with the passphrase first */
    TV_EPASSPHRASE = -27, /* the passphrase (or kept key) does not open the node's secrets */
    TV_EPLAINKEY = -28,   /* the node's keys are in clear files: encrypt them (truyvet passwd) */
    TV_EACCLOCKED = -29,  /* a console account is locked after repeated failed logins */
};

/* Returns a static sentence describing err (never NULL). */
const char *tv_strerror(int err);

#endif
