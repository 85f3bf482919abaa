#!/usr/bin/python3
"""Start a tus PATCH and stall in the middle of its body.

    slowpatch.py UPLOAD-URL FILE --token-file F [--offset N] --send BYTES --marker PATH

Sends `PATCH UPLOAD-URL` with Upload-Offset N (default 0) and Content-Length
the size of FILE after N, then only the next BYTES bytes of FILE; creates PATH once they are
written to the socket, and waits (without sending more) until the server
closes the connection or the process is killed. So a test can kill the
server while a PATCH is in flight. Exits 0 when the server closed the
connection, 1 on a connection error before BYTES were sent.
"""

import argparse
import os
import socket
import sys
from urllib.parse import urlsplit


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("file")
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--send", type=int, required=True)
    ap.add_argument("--marker", required=True)
    args = ap.parse_args()
    u = urlsplit(args.url)
    with open(args.token_file) as f:
        token = f.readline().strip()
    size = os.path.getsize(args.file) - args.offset
    head = (f"PATCH {u.path} HTTP/1.1\r\nHost: {u.netloc}\r\nTus-Resumable: 1.0.0\r\n"
            f"Authorization: Bearer {token}\r\n"
            "Content-Type: application/offset+octet-stream\r\n"
            f"Upload-Offset: {args.offset}\r\nContent-Length: {size}\r\n\r\n").encode()
    try:
        s = socket.create_connection((u.hostname, u.port or 80))
        s.sendall(head)
        with open(args.file, "rb") as f:
            f.seek(args.offset)
            s.sendall(f.read(min(args.send, size)))
    except OSError as e:
        sys.stderr.write(f"slowpatch: {e}\n")
        return 1
    with open(args.marker, "w") as f:
        f.write("sent\n")
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
