"""MULTIAPPEND (RFC 3502) and REPLACE (RFC 8508) end to end with raw commands:
atomicity (a refused message, the quota, the per-message and per-command literal
limits leave the mailbox untouched), APPENDUID with a UID set, HIGHESTMODSEQ after
APPEND under CONDSTORE, and REPLACE / UID REPLACE with their responses in the order
the RFC's example shows."""

import re

import pytest

from conftest import finish_server, new_server
from test_imap_ext import Client, code, msg, untagged_code

PW = "secret"
USERS = ["ma%d@example.test" % i for i in range(30)]
LIMIT = 64 * 1024  # limits.message_size below


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin, config=["limits.message_size = 64K"], users=[(u, PW) for u in USERS])
    yield s
    finish_server(s)


_next = [0]


def fresh(srv):
    u = USERS[_next[0]]
    _next[0] += 1
    return Client(srv, u)


def status(c, box="INBOX"):
    u, _ = c.ok("STATUS %s (MESSAGES UIDNEXT)" % box)
    m = re.search(r"MESSAGES (\d+) UIDNEXT (\d+)", u[0])
    return int(m.group(1)), int(m.group(2))


def sync_literal(c, data):
    """Sends a synchronizing literal's bytes after the server's "+"."""
    line = c.line()
    assert line.startswith("+"), line
    c.send(data)


def test_capabilities(srv):
    c = fresh(srv)
    u, _ = c.ok("CAPABILITY")
    caps = u[0].split()
    assert "MULTIAPPEND" in caps and "APPENDLIMIT=%d" % LIMIT in caps


def test_multiappend_rfc3502_example(srv):
    """RFC 3502 section 6.3.11's example: two messages, synchronizing literals; the
    UIDs come back as a set."""
    c = fresh(srv)
    m1 = msg("Afternoon meeting").encode()
    m2 = msg("Afternoon meeting (2)", body="second\r\n").encode()
    t = c.tag()
    c.send('%s APPEND INBOX (\\Seen) " 7-Feb-1994 21:52:25 -0800" {%d}\r\n' % (t, len(m1)))
    sync_literal(c, m1 + b' (\\Seen) " 7-Feb-1994 22:43:04 -0800" {%d}\r\n' % len(m2))
    sync_literal(c, m2 + b"\r\n")
    u, r = c.read_tagged(t)
    assert r.startswith(t + " OK"), r
    uv, uids = code(r, "APPENDUID").split()
    assert uids == "1:2", r
    u, _ = c.ok("SELECT INBOX")
    assert "* 2 EXISTS" in u
    assert code([l for l in u if "UIDVALIDITY" in l][0], "UIDVALIDITY") == uv
    u, _ = c.ok("FETCH 1:2 (FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert '7-Feb-1994 21:52:25 -0800' in u[0] and "\\Seen" in u[0] and "Afternoon meeting\r\n" in u[0]
    assert '7-Feb-1994 22:43:04 -0800' in u[1] and "(2)" in u[1]


def test_multiappend_mixed_forms(srv):
    """Non-synchronizing literals, literal8 with a NUL, the UTF8 form, keywords: five
    messages in one command."""
    c = fresh(srv)
    c.ok("ENABLE UTF8=ACCEPT")
    parts = []
    for i in range(3):
        m = msg("plain %d" % i).encode()
        parts.append(b" ($Work) {%d+}\r\n" % len(m) + m)
    bin_m = msg("binary", body="a\x00b\r\n").encode()
    parts.append(b" ~{%d+}\r\n" % len(bin_m) + bin_m)
    u8 = msg("caf\u00e9").encode()
    parts.append(b" UTF8 (~{%d+}\r\n" % len(u8) + u8 + b")")
    t = c.tag()
    c.send(t.encode() + b" APPEND INBOX" + b"".join(parts) + b"\r\n")
    u, r = c.read_tagged(t)
    assert r.startswith(t + " OK [APPENDUID ") and r.split()[4] == "1:5]", r
    c.ok("SELECT INBOX")
    u, _ = c.ok("FETCH 1:5 (FLAGS RFC822.SIZE)")
    assert sum("$Work" in l for l in u) == 3
    assert status(c)[0] == 5


def test_multiappend_atomic_on_refused_message(srv):
    """A bad flag, an empty message or a NUL in a plain literal in the third message:
    the command fails and nothing is appended."""
    c = fresh(srv)
    m = msg("ok").encode()
    for third, want in ((b" (\\Bogus) {%d+}\r\n" % len(m) + m, " BAD"), (b" {0+}\r\n", " NO"),
                        (b" {5+}\r\na\x00b\r\n", " NO [CANNOT]")):
        t = c.tag()
        c.send(t.encode() + b" APPEND INBOX" + (b" {%d+}\r\n" % len(m) + m) * 2 + third + b"\r\n")
        u, r = c.read_tagged(t)
        assert r.startswith(t + want), r
        assert status(c) == (0, 1)
    # a syntax error after the messages
    t = c.tag()
    c.send(t.encode() + b" APPEND INBOX {%d+}\r\n" % len(m) + m + b" junk\r\n")
    u, r = c.read_tagged(t)
    assert r.startswith(t + " BAD"), r
    assert status(c) == (0, 1)


def test_multiappend_quota(srv):
    """The first message fits the quota, the second does not: NO [OVERQUOTA], nothing
    appended, the usage unchanged."""
    c = fresh(srv)
    m = msg("q", body="x" * 3000 + "\r\n").encode()
    srv.run("user", "quota", c.user, str(len(m) + len(m) // 2))
    t = c.tag()
    c.send(t.encode() + b" APPEND INBOX" + (b" {%d+}\r\n" % len(m) + m) * 2 + b"\r\n")
    u, r = c.read_tagged(t)
    assert r.startswith(t + " NO [OVERQUOTA]"), r
    assert status(c) == (0, 1)
    u, _ = c.ok("GETQUOTAROOT INBOX")
    assert re.search(r"STORAGE 0 ", " ".join(u)), u
    c.append("INBOX", m)  # one alone fits
    assert status(c) == (1, 2)


def test_multiappend_literal_limits(srv):
    """Each literal is limited by APPENDLIMIT: a synchronizing one over it gets NO
    [TOOBIG] instead of "+" (also as the second message, after the first was sent); all
    literals of the command together are limited too. Nothing is appended and the
    connection stays usable."""
    c = fresh(srv)
    m = msg("small").encode()
    t = c.tag()
    c.send(t.encode() + b" APPEND INBOX {%d+}\r\n" % len(m) + m + b" {%d}\r\n" % (LIMIT + 1))
    r = c.line()
    assert r.startswith(t + " NO [TOOBIG]"), r
    assert status(c) == (0, 1)
    # together: each literal fits, the fourth passes twice APPENDLIMIT plus the command limit
    big = msg("big", body=("y" * 76 + "\r\n") * ((LIMIT - 200) // 78)).encode()
    assert len(big) <= LIMIT
    t = c.tag()
    c.send(t.encode() + b" APPEND INBOX {%d}\r\n" % len(big))
    refused = False
    for i in range(8):
        line = c.line()
        if line.startswith(t + " NO"):
            assert "[TOOBIG]" in line, line
            refused = True
            break
        assert line.startswith("+"), line
        c.send(big + b" {%d}\r\n" % len(big))
    assert refused and i >= 2
    assert status(c) == (0, 1)
    c.ok("NOOP")


def test_append_condstore_highestmodseq(srv):
    """With CONDSTORE enabled and the target selected, EXISTS and the new HIGHESTMODSEQ
    come before the tagged OK (RFC 7162 section 3.1.2.1 response code)."""
    c = fresh(srv)
    c.ok("ENABLE CONDSTORE")
    u, _ = c.ok("SELECT INBOX")
    before = int(untagged_code(u, "HIGHESTMODSEQ"))
    m = msg("cs").encode()
    t = c.tag()
    c.send(t.encode() + b" APPEND INBOX" + (b" {%d+}\r\n" % len(m) + m) * 2 + b"\r\n")
    u, r = c.read_tagged(t)
    assert r.startswith(t + " OK [APPENDUID "), r
    assert "* 2 EXISTS" in u
    hms = int(untagged_code(u, "HIGHESTMODSEQ"))
    assert hms > before
    u, _ = c.ok("FETCH 1:* (MODSEQ)")
    assert max(int(re.search(r"MODSEQ \((\d+)\)", l).group(1)) for l in u if "FETCH" in l) == hms
    # to another mailbox: no HIGHESTMODSEQ of it
    t = c.tag()
    c.send(t.encode() + b" APPEND Drafts {%d+}\r\n" % len(m) + m + b"\r\n")
    u, r = c.read_tagged(t)
    assert r.startswith(t + " OK") and untagged_code(u, "HIGHESTMODSEQ") is None, (u, r)
