#!/usr/bin/python3
"""A loopback TCP proxy that cuts HTTP connections mid-body and counts bytes.

    cutproxy.py --target HOST:PORT --port-file FILE --stats FILE [--cut N]...
                [--reset-on REGEX [--reset-max N]] [--port N]

Listens on 127.0.0.1 (a free port, written to --port-file) and forwards each
connection to --target. In the client-to-server direction it follows the
HTTP/1.1 request framing (Content-Length or chunked) and counts the request
body bytes it forwards, over all connections. Each --cut N is a point in that
count: when the forwarded body bytes reach N, the connection carrying them is
reset (both sides, SO_LINGER 0) after exactly N body bytes went through,
wherever that falls inside a body. Cuts are taken in increasing order.
--reset-on REGEX resets, without forwarding it, every connection whose next
request line (e.g. "POST /v1/mailbox/ID/ack HTTP/1.1") matches REGEX, the
first N times with --reset-max N. --port listens on that port instead of a
free one.

--stats gets a JSON object, rewritten atomically after every connection and
on SIGTERM: body_bytes (request body bytes forwarded), up_bytes (all bytes
forwarded to the server), down_bytes, requests (request heads seen),
connections, cuts (how many were made), resets (by --reset-on), and
methods (count per method).
"""

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import struct
import sys

MAX_HEAD = 64 * 1024


class Stats:
    def __init__(self, path, cuts):
        self.path = path
        self.cuts = sorted(cuts)
        self.body_bytes = 0
        self.up_bytes = 0
        self.down_bytes = 0
        self.requests = 0
        self.connections = 0
        self.cuts_made = 0
        self.resets = 0
        self.reset_on = None
        self.reset_max = -1
        self.methods = {}

    def next_cut(self):
        while self.cuts and self.cuts[0] <= self.body_bytes:
            self.cuts.pop(0)  # passed while no body was flowing: skip
        return self.cuts[0] if self.cuts else None

    def write(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"body_bytes": self.body_bytes, "up_bytes": self.up_bytes,
                       "down_bytes": self.down_bytes, "requests": self.requests,
                       "connections": self.connections, "cuts": self.cuts_made, "resets": self.resets,
                       "methods": self.methods}, f)
        os.replace(tmp, self.path)


class RequestFramer:
    """Splits the client's byte stream into ('head'|'frame'|'body', bytes) pieces."""

    def __init__(self, stats):
        self.stats = stats
        self.state = "head"
        self.buf = b""
        self.left = 0          # body bytes left (content-length) or in this chunk
        self.chunked = False

    def feed(self, data):
        out = []
        self.buf += data
        while self.buf:
            if self.state == "head":
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(self.buf) > MAX_HEAD:
                        raise ValueError("request head too long")
                    break
                head, self.buf = self.buf[:end + 4], self.buf[end + 4:]
                first = head.split(b"\r\n", 1)[0].decode("latin-1")
                if (self.stats.reset_on is not None and self.stats.reset_on.search(first)
                        and (self.stats.reset_max < 0 or self.stats.resets < self.stats.reset_max)):
                    self.stats.resets += 1
                    raise ValueError("reset on " + first)
                out.append(("head", head))
                self._start(head)
            elif self.state == "body":
                n = min(self.left, len(self.buf))
                out.append(("body", self.buf[:n]))
                self.buf = self.buf[n:]
                self.left -= n
                if self.left == 0:
                    self.state = "chunk-crlf" if self.chunked else "head"
            elif self.state == "chunk-size":
                end = self.buf.find(b"\r\n")
                if end < 0:
                    break
                line, self.buf = self.buf[:end + 2], self.buf[end + 2:]
                out.append(("frame", line))
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.state = "trailer"
                else:
                    self.left = size
                    self.state = "body"
            elif self.state == "chunk-crlf":
                if len(self.buf) < 2:
                    break
                out.append(("frame", self.buf[:2]))
                self.buf = self.buf[2:]
                self.state = "chunk-size"
            elif self.state == "trailer":
                end = self.buf.find(b"\r\n")
                if end < 0:
                    break
                line, self.buf = self.buf[:end + 2], self.buf[end + 2:]
                out.append(("frame", line))
                if line == b"\r\n":
                    self.state = "head"
        return out

    def _start(self, head):
        self.stats.requests += 1
        lines = head.decode("latin-1").split("\r\n")
        method = lines[0].split(" ", 1)[0]
        self.stats.methods[method] = self.stats.methods.get(method, 0) + 1
        length = 0
        self.chunked = False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value.strip())
            elif name == "transfer-encoding" and "chunked" in value.lower():
                self.chunked = True
        if self.chunked:
            self.state = "chunk-size"
        elif length > 0:
            self.left = length
            self.state = "body"
        else:
            self.state = "head"


def reset(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


async def handle(client_r, client_w, target, stats):
    stats.connections += 1
    host, port = target
    try:
        server_r, server_w = await asyncio.open_connection(host, port)
    except OSError:
        reset(client_w)
        return
    cut = asyncio.Event()

    async def up():
        framer = RequestFramer(stats)
        try:
            while not cut.is_set():
                data = await client_r.read(65536)
                if not data:
                    break
                for kind, piece in framer.feed(data):
                    if kind == "body":
                        limit = stats.next_cut()
                        if limit is not None and stats.body_bytes + len(piece) >= limit:
                            n = limit - stats.body_bytes
                            server_w.write(piece[:n])
                            stats.body_bytes += n
                            stats.up_bytes += n
                            await server_w.drain()
                            stats.cuts.pop(0)
                            stats.cuts_made += 1
                            cut.set()
                            return
                        stats.body_bytes += len(piece)
                    server_w.write(piece)
                    stats.up_bytes += len(piece)
                await server_w.drain()
            if server_w.can_write_eof():
                server_w.write_eof()
        except (OSError, ValueError):
            cut.set()

    async def down():
        try:
            while not cut.is_set():
                data = await server_r.read(65536)
                if not data:
                    break
                client_w.write(data)
                stats.down_bytes += len(data)
                await client_w.drain()
        except OSError:
            pass
        cut.set()

    tasks = [asyncio.ensure_future(up()), asyncio.ensure_future(down())]
    await cut.wait()
    for t in tasks:
        t.cancel()
    reset(client_w)
    reset(server_w)
    stats.write()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--stats", required=True)
    ap.add_argument("--cut", type=int, action="append", default=[])
    ap.add_argument("--reset-on", default=None)
    ap.add_argument("--reset-max", type=int, default=-1)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    host, _, port = args.target.rpartition(":")
    stats = Stats(args.stats, args.cut)
    if args.reset_on:
        stats.reset_on = re.compile(args.reset_on)
    stats.reset_max = args.reset_max
    stats.write()
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, (host, int(port)), stats), "127.0.0.1", args.port, reuse_address=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    port_no = server.sockets[0].getsockname()[1]
    with open(args.port_file + ".tmp", "w") as f:
        f.write(f"{port_no}\n")
    os.replace(args.port_file + ".tmp", args.port_file)
    await stop.wait()
    server.close()
    stats.write()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
