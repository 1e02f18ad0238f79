#!/usr/bin/python3
"""Server CPU per body read (issue 15 item 4): N POP3 RETR and N IMAP
FETCH 1 BODY.PEEK[] of one message of S bytes on one connection each, against a
fresh server (POSTAMT_BIN or --bin), over loopback. Server CPU is utime+stime from
/proc/PID/stat before and after each loop; prints one JSON line per binary.

  /usr/bin/python3 bench/body_cpu.py --bin build/postamt --bin /tmp/old/build/postamt
"""

import argparse
import json
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from conftest import finish_server, new_server  # noqa: E402

USER, PW = "bench@example.test", "secret"
TICK = os.sysconf("SC_CLK_TCK")


def cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def recv_until(sock, buf, marker):
    while marker not in buf:
        d = sock.recv(1 << 20)
        if not d:
            raise EOFError
        buf += d
    i = buf.index(marker) + len(marker)
    return buf[:i], buf[i:]


def run(binary, n, size):
    srv = new_server(binary, users=[(USER, PW)])
    try:
        line = b"x" * 76 + b"\r\n"
        msg = b"From: a@remote.test\r\nSubject: bench\r\n\r\n" + line * (size // len(line))
        s = socket.create_connection((srv.host, srv.port("imap")), timeout=60)
        buf = b""
        _, buf = recv_until(s, buf, b"\r\n")
        s.sendall(b"a LOGIN %s %s\r\n" % (USER.encode(), PW.encode()))
        _, buf = recv_until(s, buf, b"a OK")
        s.sendall(b"b APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
        _, buf = recv_until(s, buf, b"b OK")
        s.sendall(b"c EXAMINE INBOX\r\n")
        _, buf = recv_until(s, buf, b"c OK")
        _, buf = recv_until(s, buf, b"\r\n")
        pid = srv.proc.pid
        t0 = cpu(pid)
        for i in range(n):
            s.sendall(b"f%d FETCH 1 BODY.PEEK[]\r\n" % i)
            _, buf = recv_until(s, buf, b"f%d OK" % i)
        imap = cpu(pid) - t0
        s.close()
        p = socket.create_connection((srv.host, srv.port("pop3")), timeout=60)
        buf = b""
        _, buf = recv_until(p, buf, b"\r\n")
        p.sendall(b"USER %s\r\nPASS %s\r\n" % (USER.encode(), PW.encode()))
        _, buf = recv_until(p, buf, b"\r\n")
        _, buf = recv_until(p, buf, b"\r\n")
        t0 = cpu(pid)
        for _ in range(n):
            p.sendall(b"RETR 1\r\n")
            _, buf = recv_until(p, buf, b"\r\n.\r\n")
        pop3 = cpu(pid) - t0
        p.close()
        return {"bin": binary, "n": n, "size": len(msg), "imap_fetch_us": round(imap / n * 1e6, 1),
                "pop3_retr_us": round(pop3 / n * 1e6, 1)}
    finally:
        finish_server(srv)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", action="append", default=[])
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--size", type=int, default=100 * 1024)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    for b in a.bin or [os.environ["POSTAMT_BIN"]]:
        for _ in range(a.repeat):
            print(json.dumps(run(b, a.n, a.size)), flush=True)


if __name__ == "__main__":
    main()
