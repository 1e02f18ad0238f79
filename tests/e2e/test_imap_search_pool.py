"""IMAP SEARCH on the worker pool (issue 15 item 5): the loop that runs the session is
free while a big BODY search reads every message file, a pipelined command waits for
the search's answer, and the answer is numbered by the session's view.

The server runs one worker loop (workers = 1), so both connections of a test share
it: with the search on the loop, the second connection would get nothing until the
search ended. The tests assert the order of events, never durations: the first
connection's SEARCH carries a MODSEQ key, so the server answers "* OK [HIGHESTMODSEQ
n]" (CONDSTORE enabled, RFC 7162 §3.1.2.1) once it has parsed the command and before
the search starts; only then does the second connection speak."""

import select

import pytest

from conftest import finish_server, new_server

PW = "secret"
USER = "big@example.test"
OTHER = "small@example.test"
MESSAGES = 3000
BATCH = 500              # messages per MULTIAPPEND
NEEDLE = "zebra-quartz-needle"


def filler(i):
    # ~16 KB of text that does not contain the needle, different per message
    line = "line %d of message %d: the quick brown fox jumps over the lazy dog\r\n"
    return "".join(line % (k, i) for k in range(240))


def message(i, body):
    return ("From: a@remote.test\r\nTo: %s\r\nSubject: m%d\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n%s"
            % (USER, i, body)).encode()


def raw(srv, user):
    c = srv.connect("imap", timeout=60)
    assert c.readline().startswith("* OK")
    c.sendline("l1 LOGIN %s %s" % (user, PW))
    _, t = c.read_imap_tagged("l1")
    assert t.startswith("l1 OK"), t
    return c


def cmd(c, tag, line, timeout=60):
    c.sendline("%s %s" % (tag, line))
    return c.read_imap_tagged(tag, timeout)


def multiappend(c, tag, msgs):
    """One MULTIAPPEND (RFC 3502) with LITERAL+ literals."""
    parts = [("%s APPEND INBOX" % tag).encode()]
    for m in msgs:
        parts.append(b" {%d+}\r\n" % len(m) + m)
    c.send(b"".join(parts) + b"\r\n")
    _, t = c.read_imap_tagged(tag, 120)
    assert t.startswith(tag + " OK"), t


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin, config=["workers = 1"], users=[(USER, PW), (OTHER, PW)])
    c = raw(s, USER)
    try:
        for start in range(0, MESSAGES, BATCH):
            msgs = []
            for i in range(start + 1, start + BATCH + 1):
                body = filler(i)
                if i in (7, MESSAGES):
                    body += "the %s is here\r\n" % NEEDLE
                msgs.append(message(i, body))
            multiappend(c, "a%d" % start, msgs)
    finally:
        c.close()
    yield s
    finish_server(s)


def readable(c):
    """True when c has a line buffered or bytes waiting on its socket (no waiting)."""
    if b"\n" in c.buf:
        return True
    r, _, _ = select.select([c.sock], [], [], 0)
    return bool(r)


def test_other_session_answered_during_body_search(srv):
    a = raw(srv, USER)
    b = raw(srv, OTHER)
    try:
        untagged, t = cmd(a, "s", "SELECT INBOX")
        assert "* %d EXISTS" % MESSAGES in untagged, untagged
        _, t = cmd(b, "s", "SELECT INBOX")
        assert t.startswith("s OK"), t
        a.sendline("x SEARCH MODSEQ 1 BODY %s" % NEEDLE)
        # the server parsed the SEARCH: CONDSTORE is on, the search is under way
        assert a.readline().startswith("* OK [HIGHESTMODSEQ "), "no HIGHESTMODSEQ before the search"
        for tag, line in (("n", "NOOP"), ("c", "CAPABILITY")):
            _, t = cmd(b, tag, line)
            assert t.startswith(tag + " OK"), t
            # the other session's answer came while the search was still running
            assert not readable(a), "the SEARCH was answered before the other session's %s" % line
        untagged, t = a.read_imap_tagged("x", 120)
        assert t.startswith("x OK"), t
        assert [u for u in untagged if u.startswith("* SEARCH")][0].split("(")[0].split()[2:] == \
            ["7", str(MESSAGES)], untagged
    finally:
        a.close()
        b.close()


def test_pipelined_command_waits_for_search(srv):
    a = raw(srv, USER)
    try:
        cmd(a, "s", "EXAMINE INBOX")
        a.send("x1 SEARCH RETURN (SAVE) BODY %s\r\nx2 UID SEARCH RETURN (COUNT ALL) TEXT %s\r\n"
               "x3 FETCH $ (UID)\r\nx4 NOOP\r\n" % (NEEDLE, NEEDLE))
        lines = []
        while not (lines and lines[-1].startswith("x4 ")):
            lines.append(a.readline(120))
        tagged = [l.split()[0] for l in lines if l.startswith("x")]
        assert tagged == ["x1", "x2", "x3", "x4"], lines
        assert all(l.split()[1] == "OK" for l in lines if l.startswith("x")), lines
        esearch = [l for l in lines if l.startswith("* ESEARCH")]
        assert esearch == ['* ESEARCH (TAG "x2") UID ALL 7,%d COUNT 2' % MESSAGES], lines
        # SAVE happened before x3 ran: "$" is the saved result
        fetched = sorted(l.split()[1] for l in lines if " FETCH (" in l)
        assert fetched == sorted(["7", str(MESSAGES)]), lines
    finally:
        a.close()


def test_search_numbers_follow_the_sessions_view(srv):
    """A message another session expunged stays in this session's sequence map until
    it is told (no EXPUNGE during SEARCH, RFC 9051 §7.5.1): the search answers in
    those numbers and leaves the expunged message out."""
    a = raw(srv, USER)
    b = raw(srv, USER)
    try:
        cmd(a, "s", "SELECT INBOX")
        cmd(b, "s", "SELECT INBOX")
        _, t = cmd(b, "d", "STORE 7 +FLAGS.SILENT (\\Deleted)")
        assert t.startswith("d OK"), t
        _, t = cmd(b, "e", "EXPUNGE")
        assert t.startswith("e OK"), t
        untagged, t = cmd(a, "x", "SEARCH BODY %s" % NEEDLE)
        assert t.startswith("x OK"), t
        assert not any("EXPUNGE" in u for u in untagged), untagged
        assert "* SEARCH %d" % MESSAGES in untagged, untagged   # still numbered as before
        untagged, t = cmd(a, "n", "NOOP")
        assert "* 7 EXPUNGE" in untagged, untagged
        untagged, t = cmd(a, "y", "SEARCH BODY %s" % NEEDLE)
        assert "* SEARCH %d" % (MESSAGES - 1) in untagged, untagged
    finally:
        a.close()
        b.close()
