"""CATENATE (RFC 4469, issue 16): APPEND of a message joined from literals and URLs of
parts of the user's own messages; the cases of Dovecot's imaptest "catenate" test,
bad URLs (NO [BADURL]), another user's message, TOOBIG and MULTIAPPEND."""

import re

import pytest

from conftest import finish_server, new_server
from test_imap_ext import PW, Client

USERS = ["cat%d@example.test" % i for i in range(6)]


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin, config=["limits.message_size = 4K"], users=[(u, PW) for u in USERS])
    yield s
    finish_server(s)


_next = [0]


def client(srv):
    u = USERS[_next[0]]
    _next[0] += 1
    return Client(srv, u)


def lit(text):
    b = text.replace("\n", "\r\n").encode()
    return b"{%d+}\r\n" % len(b) + b


def cat(c, box, *parts, flags="(\\Seen \\Flagged) "):
    """APPEND box flags CATENATE (parts): a part is ("TEXT", str) or ("URL", str)."""
    t = c.tag()
    data = ("%s APPEND %s %sCATENATE (" % (t, box, flags)).encode()
    for i, (kind, val) in enumerate(parts):
        data += b" " if i else b""
        data += b"TEXT " + lit(val) if kind == "TEXT" else ('URL "%s"' % val).encode()
    c.send(data + b")\r\n")
    return c.read_tagged(t)


def body(c, box):
    c.ok("SELECT %s" % box)
    u, _ = c.ok("FETCH 1:* BODY.PEEK[]")
    return [l.split("}\r\n", 1)[1].replace("\r\n", "\n")[:-1] for l in u if " FETCH " in l]


def test_capability(srv):
    c = Client(srv)
    u, _ = c.ok("CAPABILITY")
    assert "CATENATE" in u[0].split(), u
    c.close()


def test_catenate_like_imaptest(srv):
    c = client(srv)
    c.ok("CREATE src")
    c.ok("CREATE dst")
    _, t = cat(c, "src", ("TEXT", "From: foo@example.com\n\nHello world body\n"))
    assert " OK" in t, t
    _, t = cat(c, "src", ("TEXT", "From: foo2@example.com\n\nLookslike: header\n\nAnother body\n"))
    assert " OK" in t, t
    u, _ = c.ok("SELECT src")
    uv = int(re.search(r"UIDVALIDITY (\d+)", " ".join(u)).group(1))
    u, _ = c.ok("FETCH 1:2 UID")
    uid, uid2 = [int(re.search(r"UID (\d+)", l).group(1)) for l in u if "FETCH" in l]
    ok = [
        [("URL", "/src/;uid=%d/;section=header" % uid), ("TEXT", "body1\n")],
        [("URL", "/src;uidvalidity=%d/;uid=%d/;section=header" % (uv, uid)), ("TEXT", "body2\n")],
        [("URL", "/src/;uid=%d/;section=text" % uid2), ("TEXT", "body3\n")],
        [("URL", "/src/;uid=%d/;section=1" % uid2), ("TEXT", "body4\n")],
        [("TEXT", "From: new@example.com\nSubject: test header\n\n"), ("URL", "/src/;uid=%d/;section=1" % uid),
         ("TEXT", "suffix\n")],
        [("TEXT", "From: hdr1@example.com\n"), ("TEXT", "Subject: hdr2\n\n"), ("TEXT", "body6\n")],
        [("URL", "/src/;uid=%d/;partial=100000.1" % uid2), ("TEXT", "Hdr: foo\n\nbody7\n")],
        [("URL", "imap://%s@localhost/src/;UID=%d" % (c.user.replace("@", "%40"), uid))],
        [("URL", "/src/;uid=%d/;section=HEADER.FIELDS%%20(From)" % uid2), ("TEXT", "body9\n")],
    ]
    for parts in ok:
        _, t = cat(c, "dst", *parts)
        assert " OK [APPENDUID" in t, (parts, t)
    bad = [
        [("URL", "/src;uidvalidity=12345/;uid=%d/;section=header" % uid), ("TEXT", "body\n\n")],
        [("TEXT", "hdr: 1\n\n"), ("URL", "/src;uidvalidity=12345/;uid=%d/;section=header" % uid),
         ("TEXT", "hdr: 2\n\n")],
        [("URL", "/src/;uid=%d/;section=header" % uid), ("URL", "/src/;uid=999/;section=header")],
        [("URL", "/nosuch/;uid=%d" % uid)],
        [("URL", "/src/;uid=%d/;section=7" % uid)],
        [("URL", "/src/;uid=%d/;urlauth=anonymous:internal:0123" % uid)],
        [("URL", "imap://someone.else%%40example.test@localhost/src/;uid=%d" % uid)],
    ]
    for parts in bad:
        _, t = cat(c, "dst", *parts)
        assert re.search(r" NO \[BADURL \"[^\"]+\"\]", t), (parts, t)
    assert body(c, "dst") == [
        "From: foo@example.com\n\nbody1\n",
        "From: foo@example.com\n\nbody2\n",
        "Lookslike: header\n\nAnother body\nbody3\n",
        "Lookslike: header\n\nAnother body\nbody4\n",
        "From: new@example.com\nSubject: test header\n\nHello world body\nsuffix\n",
        "From: hdr1@example.com\nSubject: hdr2\n\nbody6\n",
        "Hdr: foo\n\nbody7\n",
        "From: foo@example.com\n\nHello world body\n",
        "From: foo2@example.com\n\nbody9\n",
    ]
    # a missing target: TRYCREATE, nothing appended
    _, t = cat(c, "nosuchbox", ("URL", "/src/;uid=%d/;section=1" % uid), ("TEXT", "hello\n"))
    assert " NO [TRYCREATE]" in t, t
    c.close()


def test_catenate_limits_syntax_and_multiappend(srv):
    c = client(srv)
    c.ok("CREATE src")
    _, t = cat(c, "src", ("TEXT", "Subject: big\n\n" + "x" * 3000 + "\n"))
    assert " OK" in t, t
    c.ok("SELECT src")
    u, _ = c.ok("FETCH 1 UID")
    uid = int(re.search(r"UID (\d+)", u[0]).group(1))
    # limits.message_size = 4K: two copies are too big together
    _, t = cat(c, "src", ("URL", "/src/;uid=%d" % uid), ("URL", "/src/;uid=%d" % uid))
    assert " NO [TOOBIG]" in t, t
    # 25 copies in one MULTIAPPEND pass what its literals could carry together (2 x 4K +
    # limits.imap_command): TOOBIG, nothing appended
    _, t = c.cmd("APPEND src" + " CATENATE (URL \"/src/;uid=%d\")" % uid * 25)
    assert " NO [TOOBIG]" in t, t
    u, _ = c.ok("STATUS src (MESSAGES)")
    assert u == ['* STATUS "src" (MESSAGES 1)'], u
    for bad in ("CATENATE ()", "CATENATE (FOO \"x\")", "CATENATE (URL)", "CATENATE TEXT"):
        _, t = c.cmd("APPEND src %s" % bad)
        assert " BAD " in t, (bad, t)
    # MULTIAPPEND: a CATENATE message and a plain literal in one command
    t = c.tag()
    c.send(("%s APPEND src CATENATE (URL \"/src/;uid=%d/;section=header\" TEXT " % (t, uid)).encode()
           + lit("one\n") + b") " + lit("Subject: two\n\ntwo\n") + b"\r\n")
    _, r = c.read_tagged(t)
    m = re.search(r"APPENDUID \d+ (\d+):(\d+)", r)
    assert m and int(m.group(2)) == int(m.group(1)) + 1, r
    u, _ = c.ok("UID FETCH %s BODY.PEEK[]" % m.group(1))
    assert u[0].endswith("Subject: big\r\n\r\none\r\n)"), u
    c.close()
