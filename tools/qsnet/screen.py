"""A node's screen: QMP screendump writes a binary PPM (P6); read_ppm makes
it a Screen (what the tests look at), write_png saves one as PNG without
any library (`qsnet screenshot` when QEMU cannot write PNG itself)."""

import struct
import zlib

from .errors import QsnetError


class Screen:
    """A node's screen as RGB pixels: width, height, and rows[y], bytes
    with 3 per pixel."""

    def __init__(self, width, height, rows):
        self.width, self.height, self.rows = width, height, rows

    def pixel(self, x, y):
        """(r, g, b) at (x, y)."""
        return tuple(self.rows[y][3 * x:3 * x + 3])

    def span(self, x, y, n):
        """The n pixels from (x, y) rightwards, as bytes."""
        return self.rows[y][3 * x:3 * (x + n)]


def read_ppm(data):
    """A binary P6 PPM (bytes, maxval 255) as a Screen."""
    if not data.startswith(b"P6"):
        raise QsnetError("screendump: not a P6 PPM")
    fields, pos = [], 2
    while len(fields) < 3:  # width, height, maxval; skip blanks and comments
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        start = pos
        while data[pos:pos + 1].isdigit():
            pos += 1
        if pos == start:
            raise QsnetError("screendump: bad PPM header")
        fields.append(int(data[start:pos]))
    w, h, maxval = fields
    if maxval != 255:
        raise QsnetError("screendump: unsupported PPM maxval %d" % maxval)
    pos += 1  # the one blank after maxval
    stride = 3 * w
    if len(data) < pos + h * stride:
        raise QsnetError("screendump: PPM truncated")
    return Screen(w, h, [data[pos + y * stride:pos + (y + 1) * stride]
                         for y in range(h)])


def write_png(screen, png_path):
    """Save a Screen as an 8-bit RGB PNG."""
    raw = b"".join(b"\x00" + row for row in screen.rows)  # filter: none

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))

    with open(png_path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", screen.width,
                                           screen.height, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 6)))
        f.write(chunk(b"IEND", b""))


def ppm_to_png(ppm, png_path):
    """Convert a binary P6 PPM (bytes) to a PNG file."""
    write_png(read_ppm(ppm), png_path)
