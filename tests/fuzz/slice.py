#!/usr/bin/env python3
"""Slices truyvet's real outputs into seeds for the fuzz harnesses (make_corpus.sh).

  slice.py bundle FILE OUTDIR   a bundle -> OUTDIR/{crdt_batch,apply_raw,crdt_event_decode,
                                apply_signed,crdt_vv}/: its batches, their events, bodies of
                                events for apply_signed (a signer byte first, a nil between
                                batches), version vectors of the batches' origins
  slice.py certs FILE OUTDIR    the certificates of a certificate file -> OUTDIR/crdt_cert/
"""
import hashlib
import os
import struct
import sys


def skip(b, i, depth=0):
    """Offset just past the msgpack object at b[i] (a minimal reader: truyvet's own
    output only)."""
    t = b[i]
    if t <= 0x7F or t >= 0xE0 or t in (0xC0, 0xC2, 0xC3):
        return i + 1
    if 0x80 <= t <= 0x8F:
        n, i = (t & 0x0F) * 2, i + 1
    elif 0x90 <= t <= 0x9F:
        n, i = t & 0x0F, i + 1
    elif 0xA0 <= t <= 0xBF:
        return i + 1 + (t & 0x1F)
    elif t in (0xC4, 0xD9):
        return i + 2 + b[i + 1]
    elif t in (0xC5, 0xDA):
        return i + 3 + struct.unpack(">H", b[i + 1:i + 3])[0]
    elif t in (0xC6, 0xDB):
        return i + 5 + struct.unpack(">I", b[i + 1:i + 5])[0]
    elif t in (0xCC, 0xD0):
        return i + 2
    elif t in (0xCD, 0xD1):
        return i + 3
    elif t in (0xCA, 0xCE, 0xD2):
        return i + 5
    elif t in (0xCB, 0xCF, 0xD3):
        return i + 9
    elif t == 0xDC:
        n, i = struct.unpack(">H", b[i + 1:i + 3])[0], i + 3
    elif t == 0xDD:
        n, i = struct.unpack(">I", b[i + 1:i + 5])[0], i + 5
    elif t == 0xDE:
        n, i = 2 * struct.unpack(">H", b[i + 1:i + 3])[0], i + 3
    elif t == 0xDF:
        n, i = 2 * struct.unpack(">I", b[i + 1:i + 5])[0], i + 5
    else:
        raise ValueError("msgpack type %#x not expected here" % t)
    for _ in range(n):
        i = skip(b, i, depth + 1)
    return i


def bin_at(b, i):
    """(bytes, next offset) of the bin object at b[i]."""
    end = skip(b, i)
    hl = {0xC4: 2, 0xC5: 3, 0xC6: 5}[b[i]]
    return b[i + hl:end], end


def array_items(b, i):
    """(offset of the first element, count) of the array at b[i]."""
    t = b[i]
    if 0x90 <= t <= 0x9F:
        return i + 1, t & 0x0F
    if t == 0xDC:
        return i + 3, struct.unpack(">H", b[i + 1:i + 3])[0]
    return i + 5, struct.unpack(">I", b[i + 1:i + 5])[0]


def uint_at(b, i):
    """(value, next offset) of the unsigned integer at b[i]."""
    t = b[i]
    if t <= 0x7F:
        return t, i + 1
    n = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}[t]
    return int.from_bytes(b[i + 1:i + 1 + n], "big"), i + 1 + n


def bundle_batches(data):
    i = 8
    while i + 28 <= len(data):
        kind = data[i + 8]
        length = struct.unpack(">I", data[i + 16:i + 20])[0]
        if kind == 1:
            yield data[i + 28:i + 28 + length]
        i += 28 + length


def put(outdir, harness, name, data):
    os.makedirs(os.path.join(outdir, harness), exist_ok=True)
    with open(os.path.join(outdir, harness, name), "wb") as f:
        f.write(data)


def pack_bin(x):
    return (b"\xc4" + bytes([len(x)]) if len(x) < 256 else b"\xc5" + struct.pack(">H", len(x))) + x


def cmd_bundle(path, outdir):
    data = open(path, "rb").read()
    vv = {}
    bodies = []
    for k, batch in enumerate(bundle_batches(data)):
        put(outdir, "crdt_batch", "batch-%03d" % k, batch)
        put(outdir, "apply_raw", "batch-%03d" % k, batch)
        i, _ = array_items(batch, 0)
        header, i = bin_at(batch, i)
        _, i = bin_at(batch, i)
        body, _ = bin_at(batch, i)
        # the header: [version, origin, first_seq, count, ...]
        h, _ = array_items(header, 0)
        h = skip(header, h)
        origin, h = bin_at(header, h)
        seq, _ = uint_at(header, h)
        j, count = array_items(body, 0)
        events = []
        for e in range(count):
            end = skip(body, j)
            events.append(body[j:end])
            if len(events) <= 8:
                put(outdir, "crdt_event_decode", "event-%03d-%03d" % (k, e), body[j:end])
            j = end
        bodies.append(b"".join(events[:64]))
        vv[origin] = (seq + count - 1, hashlib.blake2b(header, digest_size=32).digest())
    for s in range(4):  # the signers of apply_signed: C, C2, P, a stranger
        put(outdir, "apply_signed", "bodies-%d" % s, bytes([s]) + b"\xc0".join(bodies[:3]))
    entries = sorted(vv.items())
    packed = bytes([0x90 | len(entries)]) if len(entries) < 16 else b"\xdc" + struct.pack(">H", len(entries))
    for origin, (last, h) in entries:
        packed += b"\x93" + pack_bin(origin) + b"\xcf" + struct.pack(">Q", last) + pack_bin(h)
    put(outdir, "crdt_vv", "vv-bundle", packed)


def cmd_certs(path, outdir):
    for k, line in enumerate(l for l in open(path) if l.startswith("cert")):
        put(outdir, "crdt_cert", "%s-%d" % (os.path.basename(path), k),
            bytes.fromhex(line.split()[-1]))


if __name__ == "__main__":
    {"bundle": cmd_bundle, "certs": cmd_certs}[sys.argv[1]](sys.argv[2], sys.argv[3])
