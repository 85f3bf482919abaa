#!/usr/bin/python3
"""flip-byte.py FILE OFFSET: inverts every bit of the byte at OFFSET of FILE
(a negative OFFSET counts from the end), in place. Unlike writing a fixed
byte, this always changes the file, whatever it held there."""
import sys

path, offset = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(offset, 0 if offset >= 0 else 2)
    at = f.tell()
    b = f.read(1)
    if len(b) != 1:
        sys.exit(f"flip-byte.py: {path}: no byte at offset {offset}")
    f.seek(at)
    f.write(bytes([b[0] ^ 0xFF]))
