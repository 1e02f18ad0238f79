#!/usr/bin/env python3
"""IMAP SEARCH BODY on a big mailbox, and what it costs the other sessions of its loop.

    bench/imap_search_bench.py                       build/postamt, 10,000 messages
    BENCH_POSTAMT=/path/postamt BENCH_N=10000 BENCH_RUNS=5 bench/imap_search_bench.py

Python standard library only. Starts postamt (a scratch DIR under /tmp: `init --port-offset N
--bind 127.0.0.1`, `workers = 1` so that every session shares one loop, one user, `serve`),
fills INBOX with BENCH_N messages of ~16 KB text (MULTIAPPEND, 500 a command; two of them hold
the needle), then BENCH_RUNS times:
  search  time from sending `SEARCH BODY needle` to its tagged OK (every message file is read);
  other   a second session sends NOOP right after the first sent its SEARCH: the time until its
          OK, and whether it came before the SEARCH's answer.
Prints the medians. The server is stopped by PID at the end and the scratch folder removed.
"""

import os
import random
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("BENCH_POSTAMT", os.path.join(ROOT, "build", "postamt"))
N = int(os.environ.get("BENCH_N", "10000"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
USER, PW, NEEDLE = "bench@example.test", "secret", "zebra-quartz-needle"


class Client:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=300)
        self.buf = b""
        self.line()
        self.cmd("l", "LOGIN %s %s" % (USER, PW))

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise EOFError("closed")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line.decode()

    def tagged(self, tag):
        while True:
            line = self.line()
            if line.startswith(tag + " "):
                if " OK" not in line:
                    raise RuntimeError(line)
                return line

    def cmd(self, tag, text):
        self.s.sendall(("%s %s\r\n" % (tag, text)).encode())
        return self.tagged(tag)


def main():
    tmp = tempfile.mkdtemp(prefix="postamt-bench-search-")
    data = os.path.join(tmp, "data")
    offset = random.randrange(20000, 40000)
    subprocess.run([BIN, "-d", data, "init", "--domain", "example.test", "--hostname", "localhost",
                    "--port-offset", str(offset), "--bind", "127.0.0.1"], check=True, capture_output=True)
    with open(os.path.join(data, "postamt.conf"), "a") as f:
        f.write("workers = 1\n")
    subprocess.run([BIN, "-d", data, "user", "add", USER], input=PW + "\n", text=True, check=True,
                   capture_output=True)
    log = open(os.path.join(tmp, "serve.log"), "w")
    srv = subprocess.Popen([BIN, "-d", data, "serve"], stderr=log, stdout=log)
    port = 143 + offset
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        a = Client(port)
        line = "line %d of message %d: the quick brown fox jumps over the lazy dog\r\n"
        for start in range(0, N, 500):
            parts = [b"f%d APPEND INBOX" % start]
            for i in range(start + 1, min(start + 500, N) + 1):
                body = "".join(line % (k, i) for k in range(240))
                if i in (7, N):
                    body += "the %s is here\r\n" % NEEDLE
                m = ("From: a@remote.test\r\nTo: %s\r\nSubject: m%d\r\n\r\n%s" % (USER, i, body)).encode()
                parts.append(b" {%d+}\r\n" % len(m) + m)
            a.s.sendall(b"".join(parts) + b"\r\n")
            a.tagged("f%d" % start)
        a.cmd("s", "SELECT INBOX")
        b = Client(port)
        b.cmd("s", "SELECT INBOX")
        searches, others, before = [], [], 0
        for r in range(RUNS):
            t0 = time.monotonic()
            a.s.sendall(b"x%d SEARCH BODY %s\r\n" % (r, NEEDLE.encode()))
            b.s.sendall(b"n%d NOOP\r\n" % r)
            b.tagged("n%d" % r)
            t1 = time.monotonic()
            if not a.buf and not select.select([a.s], [], [], 0)[0]:
                before += 1  # nothing of the SEARCH's answer had arrived yet
            a.tagged("x%d" % r)
            t2 = time.monotonic()
            searches.append(t2 - t0)
            others.append(t1 - t0)
        print("postamt %s, %d messages, %d runs (medians)" % (BIN, N, RUNS))
        print("SEARCH BODY: %.0f ms" % (statistics.median(searches) * 1000))
        print("NOOP of another session on the same loop meanwhile: %.1f ms (before the SEARCH answer "
              "%d of %d times)" % (statistics.median(others) * 1000, before, RUNS))
    finally:
        srv.terminate()
        srv.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
