"""IMAP output that must not grow with the result: FETCH 1:* BODY[] of many large
messages is streamed as the client reads (the server's peak memory stays far below the
result's size, the tagged OK comes after the last byte); IDLE sessions of one mailbox
all hear of a delivery."""

import os
import re
import socket
import time

import pytest

import helpers

from conftest import finish_server, new_server
from test_imap_ext import Client, msg

PW = "secret"
USERS = ["st%d@example.test" % i for i in range(4)]


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin, users=[(u, PW) for u in USERS])
    yield s
    finish_server(s)


def vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def sanitized(pid):
    """True for an AddressSanitizer/ThreadSanitizer build: its quarantine keeps freed
    memory resident, so peak-memory bounds mean nothing there."""
    with open("/proc/%d/maps" % pid) as f:
        maps = f.read()
    if "libasan" in maps or "libtsan" in maps:
        return True
    with open("/proc/%d/exe" % pid, "rb") as f:
        return b"AddressSanitizer" in f.read()


def big_message(i, size=100 * 1024):
    line = ("%06d " % i) + "x" * 68 + "\r\n"
    body = line * (size // len(line))
    return msg("big %d" % i, body=body).encode()


def test_fetch_streams_large_results(srv):
    """200 messages of 100 KiB (20 MiB): FETCH 1:* BODY.PEEK[] raises the server's
    VmHWM by far less than that; every literal arrives whole and in order, then the OK."""
    c = Client(srv, USERS[0], timeout=60)
    sizes = []
    for batch in range(100):  # MULTIAPPEND, 200 KiB per command
        parts = []
        for i in range(batch * 2, batch * 2 + 2):
            m = big_message(i)
            sizes.append(len(m))
            parts.append(b" {%d+}\r\n" % len(m) + m)
        t = c.tag()
        c.send(t.encode() + b" APPEND INBOX" + b"".join(parts) + b"\r\n")
        _, r = c.read_tagged(t)
        assert r.startswith(t + " OK"), r
    total = sum(sizes)
    assert total >= 200 * 100 * 1024
    c.ok("SELECT INBOX")
    helpers.wait_indexed(srv)  # the indexer reads new mail too: not while measuring
    pid = srv.proc.pid
    before = vm_hwm_kib(pid)
    t = c.tag()
    c.send("%s FETCH 1:* (BODY.PEEK[])\r\n" % t)
    # read raw and slowly at first, so that the server has to wait for the client
    time.sleep(1.0)
    seen = 0
    while True:
        line = c.line()
        if line.startswith(t + " "):
            break
        m = re.match(r"\* (\d+) FETCH \(BODY\[\] \{(\d+)\}\r\n", line)
        assert m, line[:100]
        seq, n = int(m.group(1)), int(m.group(2))
        assert seq == seen + 1 and n == sizes[seen], (seq, n)
        assert line.endswith(")") and ("%06d " % seen) in line
        seen += 1
    assert line.startswith(t + " OK"), line
    assert seen == 200
    after = vm_hwm_kib(pid)
    grew = after - before
    print("VmHWM before %d KiB, after %d KiB, grew %d KiB for a %d KiB result" % (before, after, grew, total // 1024))
    if not sanitized(pid):
        assert grew < total // 1024 // 4, (before, after)
    c.ok("NOOP")


def test_fetch_stream_client_gone(srv):
    """The client disconnects in the middle of a streamed FETCH: the server frees the
    command and keeps serving."""
    c = Client(srv, USERS[1], timeout=30)
    for batch in range(3):
        parts = b"".join(b" {%d+}\r\n" % len(m) + m for m in (big_message(i) for i in range(10)))
        t = c.tag()
        c.send(t.encode() + b" APPEND INBOX" + parts + b"\r\n")
        assert c.read_tagged(t)[1].startswith(t + " OK")
    c.ok("SELECT INBOX")
    c.send("x FETCH 1:* BODY.PEEK[]\r\n")
    c.line()
    c.close()
    d = Client(srv, USERS[1])
    u, _ = d.ok("STATUS INBOX (MESSAGES)")
    assert "MESSAGES 30" in u[0]
