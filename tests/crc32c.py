#!/usr/bin/env python3
"""The tus Upload-Checksum value "crc32c BASE64" of a file (or stdin): CRC-32C
(Castagnoli, RFC 3720 B.4) computed bit by bit, its 4 bytes big-endian, in
base64. An oracle for the hub's and iep-send's crc32c, sharing no code with
them."""
import base64
import sys


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


if __name__ == "__main__":
    data = open(sys.argv[1], "rb").read() if len(sys.argv) > 1 else sys.stdin.buffer.read()
    print("crc32c " + base64.b64encode(crc32c(data).to_bytes(4, "big")).decode())
