"""limits.message_memory: the message data that all connections together hold in memory
while they receive it (SMTP DATA/BDAT, IMAP APPEND literals, HTTP request bodies) is
bounded. With the budget taken, a new message gets a temporary refusal: SMTP
452 4.3.1, IMAP NO [UNAVAILABLE] before the literal's continuation (BYE for a
non-synchronizing literal, which cannot be refused in band), HTTP 503 with
Retry-After. Once the holder finishes, the same requests succeed.

The holder is an SMTP client in the middle of a BDAT transaction: the server's
"250 ... octets received" for its first chunk says the bytes are held, so the test
needs no timing."""

import base64
import imaplib

import pytest

from conftest import DOMAIN, finish_server, new_server

K = 1024
BUDGET = 1024 * K
HELD = 960 * K           # 15 of the 16 64-KiB steps of the budget
OTHER = 128 * K          # needs 2 steps: does not fit beside HELD
USER, PW = "mem@" + DOMAIN, "mem-pw"


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin, config=["limits.message_memory = 1M", "limits.message_size = 4M"],
                   users=[(USER, PW)])
    yield s
    finish_server(s)


def body(n, tag):
    head = ("From: <sender@example.org>\r\nTo: <%s>\r\nSubject: %s\r\n\r\n" % (USER, tag)).encode()
    line = b"x" * 78 + b"\r\n"
    text = head + line * ((n - len(head)) // len(line))
    pad = n - len(text)  # exactly n bytes: IMAP literals must match their size
    return text + (b"y" * (pad - 2) + b"\r\n" if pad >= 2 else b"")


def smtp_open(srv):
    c = srv.connect("smtp", timeout=30)
    assert c.readline().startswith("220")
    c.sendline("EHLO client.example.org")
    assert c.read_smtp_reply()[-1].startswith("250 ")
    return c


def smtp_txn(c):
    c.sendline("MAIL FROM:<sender@example.org>")
    assert c.readline().startswith("250")
    c.sendline("RCPT TO:<%s>" % USER)
    assert c.readline().startswith("250")


def smtp_data(c, data):
    c.sendline("DATA")
    assert c.readline().startswith("354")
    c.send(data + b".\r\n")
    return c.readline()


def smtp_bdat(c, data, last):
    c.send(b"BDAT %d%s\r\n" % (len(data), b" LAST" if last else b"") + data)
    return c.readline()


def imap_login(srv):
    c = srv.connect("imap", timeout=30)
    assert c.readline().startswith("* OK")
    c.sendline("a LOGIN %s %s" % (USER, PW))
    assert c.read_imap_tagged("a")[-1].startswith("a OK")
    return c


def https_post(srv, length):
    c = srv.tls_connect("https", timeout=30)
    auth = base64.b64encode(("%s:%s" % (USER, PW)).encode()).decode()
    c.send(("POST /jmap/upload/A1/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic %s\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % (auth, length)).encode())
    return c


def http_head(c):
    lines = []
    while True:
        line = c.readline()
        if line in ("", "\r"):
            return lines
        lines.append(line.rstrip("\r"))


def test_budget_shared_by_smtp_imap_http(srv):
    holder = smtp_open(srv)
    smtp_txn(holder)
    r = smtp_bdat(holder, body(HELD, "held"), last=False)
    assert r.startswith("250"), r
    since = srv.log_size()

    # SMTP DATA and BDAT: read to the end, then 452 4.3.1; the session goes on
    other = smtp_open(srv)
    smtp_txn(other)
    r = smtp_data(other, body(OTHER, "data-refused"))
    assert r.startswith("452 4.3.1"), r
    smtp_txn(other)
    r = smtp_bdat(other, body(OTHER, "bdat-refused"), last=True)
    assert r.startswith("452 4.3.1"), r
    other.sendline("NOOP")
    assert other.readline().startswith("250")
    assert srv.wait_log(r"event=message_memory_full", since=since)

    # IMAP: a synchronizing literal is refused before the "+"; the session goes on
    im = imap_login(srv)
    im.sendline("b APPEND INBOX {%d}" % OTHER)
    r = im.readline()
    assert r.startswith("b NO [UNAVAILABLE]"), r
    im.sendline("c NOOP")
    assert im.read_imap_tagged("c")[-1].startswith("c OK")
    # a non-synchronizing one cannot be refused in band: BYE, then close
    im2 = imap_login(srv)
    im2.send(b"d APPEND INBOX {%d+}\r\n" % OTHER + body(OTHER, "literal-plus") + b"\r\n")
    lines = im2.read_all(timeout=10)
    assert any(l.startswith("* BYE [UNAVAILABLE]") for l in lines), lines
    im2.close()

    # HTTP: 503 with Retry-After before the body is read
    h = https_post(srv, OTHER)
    head = http_head(h)
    assert head[0].startswith("HTTP/1.1 503"), head
    assert any(l.lower().startswith("retry-after:") for l in head), head
    h.close()

    # the holder finishes: its message is delivered, and the budget is free again
    r = smtp_bdat(holder, b"", last=True)
    assert r.startswith("250"), r
    holder.sendline("QUIT")
    holder.close()
    smtp_txn(other)
    r = smtp_data(other, body(OTHER, "data-accepted"))
    assert r.startswith("250"), r
    other.sendline("QUIT")
    other.close()
    im.sendline("e APPEND INBOX {%d}" % OTHER)
    assert im.readline().startswith("+")
    im.send(body(OTHER, "append-accepted") + b"\r\n")
    assert im.read_imap_tagged("e")[-1].startswith("e OK")
    im.sendline("f LOGOUT")
    im.close()
    h = https_post(srv, 3)
    h.send(b"abc")
    head = http_head(h)
    assert head[0].startswith("HTTP/1.1 201"), head
    h.close()

    # exactly the accepted messages are in the mailbox
    m = imaplib.IMAP4(srv.host, srv.port("imap"), timeout=10)
    m.login(USER, PW)
    m.select("INBOX", readonly=True)
    subjects = []
    typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    for item in data:
        if isinstance(item, tuple):
            subjects.append(item[1].decode().strip())
    m.logout()
    assert sorted(subjects) == ["Subject: append-accepted", "Subject: data-accepted", "Subject: held"], subjects
