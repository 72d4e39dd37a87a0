/* Error code descriptions. */
#include "crdt/error.h"

const char *tv_strerror(int err)
{
    switch (err) {
    case TV_OK:
        return "success";
    case TV_EINVAL:
        return "invalid argument";
    case TV_ENOMEM:
        return "out of memory";
    case TV_EDECODE:
        return "malformed message";
    case TV_ELIMIT:
        return "input exceeds a size limit";
    case TV_EVERSION:
        return "unsupported format version";
    case TV_ESIG:
        return "signature does not verify";
    case TV_EHASH:
        return "batch body does not match its signed hash";
    case TV_ECHAIN:
        return "batch does not continue its origin's hash chain";
    case TV_EGAP:
        return "batch starts after a gap in its origin's log";
    case TV_EFORK:
        return "conflicting batch for the same place in a log (fork)";
    case TV_ENOTFOUND:
        return "not found";
    case TV_EEXIST:
        return "already exists";
    case TV_EIO:
        return "input/output error";
    case TV_ENOSPC:
        return "disk full";
    case TV_ESTORE:
        return "database error";
    case TV_ECLOCK:
        return "remote clock too far ahead";
    case TV_ECORRUPT:
        return "stored data is corrupt";
    case TV_EBUSY:
        return "resource busy";
    case TV_EPERM:
        return "not permitted for this node";
    case TV_EUNTRUSTED:
        return "origin not enrolled under our root (certificate unknown)";
    case TV_ESCOPE:
        return "event outside its origin's scope";
    case TV_EREVOKED:
        return "origin's key has been revoked";
    case TV_EFROZEN:
        return "origin forked its log and is frozen until re-certified";
    case TV_EPARKED:
        return "batch parked: it waits for a venue's registration or for its time";
    case TV_ERESTORED:
        return "the node's store was restored or copied: sync once with a parent before "
               "recording";
    case TV_ELOCKED:
        return "the node's secrets are locked";
    case TV_EPASSPHRASE:
        return "the passphrase does not open the node's secrets";
    case TV_EPLAINKEY:
        return "the node's keys are stored in clear files";
    case TV_EACCLOCKED:
        return "the account is locked after repeated failed logins";
    }
    return "unknown error";
}
