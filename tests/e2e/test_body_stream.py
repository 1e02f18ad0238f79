"""One way to read a message body (issue 15 item 4): IMAP FETCH BODY[], BINARY[] and
partial fetches, POP3 RETR and JMAP downloads of a 50 MiB message stream it from the
file through a window. Each raises the server's peak memory (VmHWM, /proc/PID/status)
by less than 2 MiB, and a client that does not read makes the server hold no more
than a bounded output queue. The server is restarted after the APPEND so that the
APPEND's own buffers do not hide the peak of the read. The bytes are checked too."""

import base64
import http.client
import json
import hashlib
import re
import socket
import time

import pytest

from conftest import finish_server, new_server
from helpers import wait_indexed
from test_imap_stream import sanitized, vm_hwm_kib

PW = "secret"
USER = "big@example.test"
MIB = 1024 * 1024
LIMIT_KIB = 2048

# a multipart message of ~50 MiB: part 1 is 36 MiB of bytes (NUL and 8-bit among
# them) as base64 in 76-column lines, part 2 a short QP part
RAW = bytes((i * 7 + (i >> 11)) & 0xFF for i in range(36 * MIB))
B64 = base64.encodebytes(RAW).replace(b"\n", b"\r\n")
QP_TEXT = b"caf=C3=A9 soft=\r\nbreak\r\n"
MSG = (b"From: a@remote.test\r\nTo: " + USER.encode() + b"\r\nSubject: big\r\n"
       b"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
       b"Content-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n"
       b"--BB\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
       + B64 + b"\r\n--BB\r\nContent-Type: text/plain; charset=utf-8\r\n"
       b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + QP_TEXT + b"\r\n--BB--\r\n")


class Imap:
    def __init__(self, srv, timeout=120, rcvbuf=None):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((srv.host, srv.port("imap")))
        self.buf = bytearray()
        assert self.line().startswith(b"* OK")

    def fill(self):
        d = self.sock.recv(1 << 20)
        if not d:
            raise EOFError("closed")
        self.buf += d

    def line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return out
            self.fill()

    def exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def cmd(self, tag, text, literal=None):
        if literal is None:
            self.sock.sendall(b"%s %s\r\n" % (tag, text))
        else:
            self.sock.sendall(b"%s %s {%d+}\r\n" % (tag, text, len(literal)) + literal + b"\r\n")
        while True:
            ln = self.line()
            if ln.startswith(tag + b" "):
                assert ln.startswith(tag + b" OK"), ln
                return

    def fetch(self, tag, items):
        """The literals of one FETCH 1 response, in order, and the text around them."""
        self.sock.sendall(b"%s FETCH 1 (%s)\r\n" % (tag, items))
        lits, text = [], b""
        while True:
            ln = self.line()
            m = re.search(rb"~?\{(\d+)\}$", ln)
            text += ln
            if m:
                lits.append(self.exact(int(m.group(1))))
                continue
            if ln.startswith(tag + b" "):
                assert ln.startswith(tag + b" OK"), ln
                return lits, text


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin, config=["limits.message_size = 64M"], users=[(USER, PW)])
    c = Imap(s)
    c.cmd(b"a", b"LOGIN %s %s" % (USER.encode(), PW.encode()))
    c.cmd(b"b", b"APPEND INBOX", MSG)
    c.sock.close()
    s.stop()
    s.start()
    wait_indexed(s)  # the indexer's reading of the message is not what the tests measure
    yield s
    finish_server(s)


def logged_in(srv, **kw):
    c = Imap(srv, **kw)
    c.cmd(b"a", b"LOGIN %s %s" % (USER.encode(), PW.encode()))
    c.cmd(b"b", b"EXAMINE INBOX")
    return c


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def check_growth(srv, before, what):
    pid = srv.proc.pid
    grew = vm_hwm_kib(pid) - before
    print("%s: VmHWM grew %d KiB for a %d KiB message" % (what, grew, len(MSG) // 1024))
    if not sanitized(pid):
        assert grew < LIMIT_KIB, (what, grew)


def test_fetch_body_streams(srv):
    """FETCH 1 BODY[] of a 50 MiB message: the bytes as stored, VmHWM + < 2 MiB."""
    c = logged_in(srv)
    before = vm_hwm_kib(srv.proc.pid)
    lits, text = c.fetch(b"f", b"BODY.PEEK[]")
    assert len(lits) == 1 and hashlib.sha256(lits[0]).digest() == hashlib.sha256(MSG).digest()
    assert text.startswith(b"* 1 FETCH (BODY[] {%d}" % len(MSG)), text[:80]
    check_growth(srv, before, "BODY[]")


def test_fetch_binary_and_partial_stream(srv):
    """BINARY[1] (36 MiB decoded from base64, with NULs: literal8), BINARY.SIZE[1],
    BINARY[2] (QP), BODY[1]<start.count> and BINARY[1]<start.count> across window
    boundaries, in one response in the order asked."""
    c = logged_in(srv)
    before = vm_hwm_kib(srv.proc.pid)
    s, n = 65536 * 3 - 5, 200000
    lits, text = c.fetch(b"g", b"BINARY.SIZE[1] BINARY.PEEK[1] BINARY.PEEK[2] BODY.PEEK[1]<%d.%d> "
                         b"BINARY.PEEK[1]<%d.%d> BODY.PEEK[TEXT]<0.10>" % (s, n, s, n))
    assert b"BINARY.SIZE[1] %d" % len(RAW) in text, text[:200]
    assert b"BINARY[1] ~{%d}" % len(RAW) in text
    assert hashlib.sha256(lits[0]).digest() == hashlib.sha256(RAW).digest()
    assert lits[1] == "café soft=break\r\n".replace("soft=", "soft").encode()
    assert lits[2] == B64[s:s + n]
    assert lits[3] == RAW[s:s + n]
    assert lits[4] == MSG[MSG.index(b"\r\n\r\n") + 4:][:10]
    check_growth(srv, before, "BINARY[1]")


def test_slow_reader_bounded(srv):
    """A client that does not read: the server stops at its output bound (its
    resident memory, VmRSS, grows by less than 2 MiB while the FETCH waits), then
    sends the rest when the client reads."""
    c = logged_in(srv, rcvbuf=4096)
    pid = srv.proc.pid
    before = vm_rss_kib(pid)
    c.sock.sendall(b"s FETCH 1 (BODY.PEEK[])\r\n")
    grew = 0
    for _ in range(20):
        time.sleep(0.1)
        grew = max(grew, vm_rss_kib(pid) - before)
    print("stalled BODY[]: VmRSS grew %d KiB" % grew)
    if not sanitized(pid):
        assert grew < LIMIT_KIB, grew
    ln = c.line()
    assert ln.endswith(b"{%d}" % len(MSG)), ln[:80]
    assert c.exact(len(MSG)) == MSG
    assert c.line() == b")"
    assert c.line().startswith(b"s OK")


def test_pop3_retr_streams(srv):
    """POP3 RETR of the same message: dot-stuffed bytes, VmHWM + < 2 MiB."""
    sock = socket.create_connection((srv.host, srv.port("pop3")), timeout=120)
    f = sock.makefile("rb")
    assert f.readline().startswith(b"+OK")
    for line in (b"USER " + USER.encode(), b"PASS " + PW.encode()):
        sock.sendall(line + b"\r\n")
        assert f.readline().startswith(b"+OK")
    before = vm_hwm_kib(srv.proc.pid)
    sock.sendall(b"RETR 1\r\n")
    assert f.readline().startswith(b"+OK")
    h = hashlib.sha256()
    while True:
        ln = f.readline()
        if ln == b".\r\n":
            break
        h.update(ln[1:] if ln.startswith(b"..") else ln)
    assert h.digest() == hashlib.sha256(MSG).digest()
    check_growth(srv, before, "RETR")
    sock.close()


def test_jmap_download_streams(srv):
    """JMAP downloads of the whole message and of its base64 part (decoded): the
    bytes, Content-Length up front, VmHWM + < 2 MiB; the connection stays usable."""
    c = http.client.HTTPSConnection(srv.tls_name, srv.port("https"), context=srv.ssl_context(), timeout=120)
    auth = "Basic " + base64.b64encode(("%s:%s" % (USER, PW)).encode()).decode()
    c.request("GET", "/.well-known/jmap", headers={"Authorization": auth})
    r = c.getresponse()
    account = json.loads(r.read())["primaryAccounts"]["urn:ietf:params:jmap:mail"]
    calls = [["Email/query", {"accountId": account}, "q"],
             ["Email/get", {"accountId": account, "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
                            "properties": ["blobId", "attachments"]}, "g"]]
    body = json.dumps({"using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"], "methodCalls": calls})
    c.request("POST", "/jmap/api", body, {"Authorization": auth, "Content-Type": "application/json"})
    r = c.getresponse()
    email = json.loads(r.read())["methodResponses"][1][1]["list"][0]
    before = vm_hwm_kib(srv.proc.pid)
    for blob, want in ((email["blobId"], MSG), (email["attachments"][0]["blobId"], RAW)):
        c.request("GET", "/jmap/download/%s/%s/x.bin" % (account, blob), headers={"Authorization": auth})
        r = c.getresponse()
        assert r.status == 200
        assert int(r.getheader("Content-Length")) == len(want)
        h = hashlib.sha256()
        while True:
            d = r.read(1 << 20)
            if not d:
                break
            h.update(d)
        assert h.digest() == hashlib.sha256(want).digest()
    check_growth(srv, before, "JMAP download")
    c.request("HEAD", "/jmap/download/%s/%s/x.bin" % (account, email["blobId"]), headers={"Authorization": auth})
    r = c.getresponse()
    assert r.status == 200 and int(r.getheader("Content-Length")) == len(MSG) and r.read() == b""
    c.close()
