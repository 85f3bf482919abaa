#!/usr/bin/env python3
"""A faulty HTTP proxy in front of an S3 endpoint, for tests/e2e/s3_store.sh.

    s3_fault_proxy.py [--faults] [--record FILE] LISTEN_PORT UPSTREAM_PORT STATS_FILE

Forwards each request to 127.0.0.1:UPSTREAM_PORT, one connection per
request (Connection: close). With --faults it
  - answers every 3rd request with 503 SlowDown (the body is read first), and
  - cuts the first UploadPart over 1 MiB mid-body: reads half of it, then
    closes the connection without an answer.
With --record, each request's head and the SHA-256 of its body go to FILE
(one JSON object a line) for s3_sigv4_check.py.
STATS_FILE holds the counts ("requests N", "503 N", "cut N") after each.
"""
import argparse
import hashlib
import json
import os
import socket
import socketserver
import threading

ap = argparse.ArgumentParser()
ap.add_argument("--faults", action="store_true")
ap.add_argument("--record")
ap.add_argument("listen", type=int)
ap.add_argument("upstream", type=int)
ap.add_argument("stats")
args = ap.parse_args()
LISTEN, UPSTREAM, STATS = args.listen, args.upstream, args.stats
lock = threading.Lock()
counts = {"requests": 0, "503": 0, "cut": 0}

SLOWDOWN = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
            b'<Message>Please reduce your request rate.</Message></Error>')


def save():
    with open(STATS + ".tmp", "w") as f:
        for k, v in counts.items():
            f.write(f"{k} {v}\n")
    os.replace(STATS + ".tmp", STATS)


def read_exact(sock, n):
    out = bytearray()
    while len(out) < n:
        b = sock.recv(min(1 << 20, n - len(out)))
        if not b:
            raise ConnectionError("client closed mid-body")
        out += b
    return bytes(out)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        c = self.request
        head = b""
        while b"\r\n\r\n" not in head:
            b = c.recv(65536)
            if not b:
                return
            head += b
            if len(head) > 1 << 16:
                return
        head, rest = head.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        method, target = lines[0].split(b" ")[:2]
        headers = [l for l in lines[1:] if not l.lower().startswith(b"connection:")]
        length = 0
        for l in headers:
            if l.lower().startswith(b"content-length:"):
                length = int(l.split(b":", 1)[1])
        with lock:
            counts["requests"] += 1
            n = counts["requests"]
            cut = (args.faults and method == b"PUT" and b"partNumber=" in target and length > 1 << 20
                   and counts["cut"] == 0)
            if cut:
                counts["cut"] += 1
            slow = args.faults and not cut and n % 3 == 0
            if slow:
                counts["503"] += 1
            save()
        if cut:
            read_exact(c, max(0, length // 2 - len(rest)))
            c.shutdown(socket.SHUT_RDWR)
            return
        body = rest + read_exact(c, max(0, length - len(rest)))
        if args.record:
            with lock, open(args.record, "a") as f:
                f.write(json.dumps({"head": head.decode("latin-1"),
                                    "sha256": hashlib.sha256(body).hexdigest()}) + "\n")
        if slow:
            c.sendall(b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n"
                      b"Content-Length: " + str(len(SLOWDOWN)).encode() +
                      b"\r\nConnection: close\r\n\r\n" + SLOWDOWN)
            return
        u = socket.create_connection(("127.0.0.1", UPSTREAM))
        u.sendall(b"\r\n".join([lines[0]] + headers + [b"Connection: close", b"", b""]) + body)
        while True:
            b = u.recv(1 << 20)
            if not b:
                break
            c.sendall(b)
        u.close()


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


save()
Server(("127.0.0.1", LISTEN), Handler).serve_forever()
