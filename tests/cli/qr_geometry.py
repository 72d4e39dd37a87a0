"""Physical geometry of a printed page image, for the QR tests.

    python3 tests/cli/qr_geometry.py FILE.png        # a PNG: its resolution from pHYs
    python3 tests/cli/qr_geometry.py FILE.pgm DPI    # a PGM rendered at DPI (pdftoppm -gray)

Prints "dpi=D width_mm=W height_mm=H qr_mm=S": the page's size, and the side of the QR
symbol, found as the tallest run of pixel rows that all hold a dark pixel (a QR symbol
has a dark module in every row; lines of text are separated by blank rows). Standard
library only: PNGs are decoded here (8-bit greyscale, RGB or RGBA, not interlaced)."""
import struct
import sys
import zlib


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("not a PNG")
    pos, idat, dpi = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"pHYs":
            px, py, unit = struct.unpack(">IIB", body)
            if unit == 1 and px == py:
                dpi = px * 0.0254
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    if depth != 8 or interlace or ctype not in (0, 2, 6):
        sys.exit("unsupported PNG layout")
    bpp = {0: 1, 2: 3, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pr) & 255
        rows.append(bytes(line[0::bpp]))  # the first channel is enough: black on white
        prev = line
    return w, h, rows, dpi


def read_pgm(path):
    data = open(path, "rb").read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    pos += 1
    if fields[0] != b"P5" or int(fields[3]) != 255:
        sys.exit("not an 8-bit binary PGM")
    w, h = int(fields[1]), int(fields[2])
    return w, h, [data[pos + y * w:pos + (y + 1) * w] for y in range(h)]


def main():
    path = sys.argv[1]
    if path.endswith(".png"):
        w, h, rows, dpi = read_png(path)
        if dpi is None:
            sys.exit("the PNG has no resolution (pHYs)")
    else:
        w, h, rows = read_pgm(path)
        dpi = float(sys.argv[2])
    dark = [any(v < 128 for v in r) for r in rows]
    best, run_start, best_at = 0, None, 0
    for y, d in enumerate(dark + [False]):
        if d and run_start is None:
            run_start = y
        elif not d and run_start is not None:
            if y - run_start > best:
                best, best_at = y - run_start, run_start
            run_start = None
    mm = lambda px: px / dpi * 25.4
    print("dpi=%d width_mm=%.1f height_mm=%.1f qr_mm=%.1f" % (round(dpi), mm(w), mm(h), mm(best)))


main()
