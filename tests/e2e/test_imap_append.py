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
    assert "MULTIAPPEND" in caps and "REPLACE" in caps and "APPENDLIMIT=%d" % LIMIT in caps


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


# -- REPLACE (RFC 8508) -----------------------------------------------------------------

def test_replace_rfc8508_example(srv):
    """RFC 8508 section 3.3's example: REPLACE 4 in the selected Drafts; APPENDUID in an
    untagged OK first, then EXISTS and EXPUNGE, then the tagged OK."""
    c = fresh(srv)
    for i in range(4):
        c.append("Drafts", msg("draft %d" % i))
    c.ok("SELECT Drafts")
    new = msg("draft 3, edited", body="more text\r\n").encode()
    t = c.tag()
    c.send('%s REPLACE 4 Drafts (\\Seen \\Draft) {%d}\r\n' % (t, len(new)))
    sync_literal(c, new + b"\r\n")
    u, r = c.read_tagged(t)
    assert r.startswith(t + " OK"), (u, r)
    assert u[0].startswith("* OK [APPENDUID ") and code(u[0], "APPENDUID").split()[1] == "5", u
    # the RFC's example sends "* 5 EXISTS" before "* 4 EXPUNGE"; this server reports the
    # expunge first and then the new count, which describes the same mailbox
    assert "* 4 EXPUNGE" in u and "* 4 EXISTS" in u and u.index("* 4 EXPUNGE") < u.index("* 4 EXISTS"), u
    u, _ = c.ok("UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert len([l for l in u if "FETCH" in l]) == 4
    assert "UID 5 " in u[-1] and "edited" in u[-1] and "\\Draft" in u[-1]
    assert status(c, "Drafts")[0] == 4


def test_uid_replace_other_mailbox_qresync(srv):
    """UID REPLACE from INBOX into Archive; under QRESYNC the old message is reported
    with VANISHED and the tagged OK carries HIGHESTMODSEQ."""
    c = fresh(srv)
    uids = [c.append("INBOX", msg("m%d" % i)) for i in range(3)]
    c.ok("ENABLE QRESYNC")
    c.ok("SELECT INBOX")
    new = msg("replacement").encode()
    t = c.tag()
    c.send(t.encode() + b" UID REPLACE %d Archive {%d+}\r\n" % (uids[1], len(new)) + new + b"\r\n")
    u, r = c.read_tagged(t)
    assert r.startswith(t + " OK [HIGHESTMODSEQ "), (u, r)
    assert "* VANISHED %d" % uids[1] in u, u
    assert u[0].startswith("* OK [APPENDUID ")
    assert status(c, "INBOX")[0] == 2 and status(c, "Archive")[0] == 1
    # that UID is gone now: NO, and nothing is appended
    t = c.tag()
    c.send(t.encode() + b" UID REPLACE %d Archive {%d+}\r\n" % (uids[1], len(new)) + new + b"\r\n")
    u, r = c.read_tagged(t)
    assert r.startswith(t + " NO"), r
    assert status(c, "Archive")[0] == 1


def test_replace_errors_leave_everything(srv):
    """A sequence number beyond the mailbox is BAD; a missing target mailbox gets NO
    [TRYCREATE]; a second message (MULTIAPPEND form) is a syntax error; the old
    message's quota counts for the new one; over quota the old message stays; EXAMINE
    is read-only; an oversized literal gets NO [TOOBIG] before "+"."""
    c = fresh(srv)
    c.append("INBOX", msg("old", body="z" * 2000 + "\r\n"))
    c.ok("SELECT INBOX")
    new = msg("new", body="w" * 4000 + "\r\n").encode()
    lit = b" {%d+}\r\n" % len(new) + new

    def replace(args, extra=b""):
        t = c.tag()
        c.send(t.encode() + b" REPLACE " + args + lit + extra + b"\r\n")
        return c.read_tagged(t)[1]

    assert " BAD" in replace(b"2 INBOX")
    assert "[TRYCREATE]" in replace(b"1 Nonexistent")
    assert " BAD" in replace(b"1 INBOX", lit)
    old_size = int(re.search(r"RFC822.SIZE (\d+)", c.ok("FETCH 1 RFC822.SIZE")[0][0]).group(1))
    # the new message fits once the old one is gone, the two together would not
    srv.run("user", "quota", c.user, str(len(new) + 100))
    assert len(new) + old_size > len(new) + 100
    assert " OK" in replace(b"1 INBOX")
    assert status(c) == (1, 3)
    srv.run("user", "quota", c.user, str(len(new) - 100))
    assert "[OVERQUOTA]" in replace(b"1 INBOX")
    assert status(c) == (1, 3)
    srv.run("user", "quota", c.user, "0")
    c.ok("EXAMINE INBOX")
    assert "[READ-ONLY]" in replace(b"1 INBOX")
    c.ok("SELECT INBOX")
    assert " OK" in replace(b"* INBOX")
    assert status(c) == (1, 4)
    t = c.tag()
    c.send(t.encode() + b" REPLACE 1 INBOX {%d}\r\n" % (LIMIT + 1))
    assert c.line().startswith(t + " NO [TOOBIG]")
