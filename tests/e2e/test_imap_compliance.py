"""IMAP compliance deviations found by Dovecot's imaptest (issue 16, items 4 to 8): each
test sends the exact commands and checks the exact answer, over plain IMAP on loopback
with the raw client of imapview.py."""

import re
import socket

import pytest

from conftest import finish_server, new_server
from helpers import UserPool
from imapview import ViewClient

PW = "secret"
USERS = ["cp%d@example.test" % i for i in range(30)]


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin, users=[(u, PW) for u in USERS])
    yield s
    finish_server(s)


fresh_user = UserPool(USERS)


def login(srv, mode="plain"):
    u = fresh_user()
    c = ViewClient(srv.host, srv.port("imap"), u, PW, mode=mode, name=u)
    c.connect()
    return c


def text(c):
    return [r.decode("utf-8", "replace") for r in c.last]


def msg(subject, cc=None, body="hi\r\n"):
    h = "From: a@remote.test\r\nTo: x@example.test\r\nSubject: %s\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n" % subject
    if cc is not None:
        h += "Cc: %s\r\n" % cc
    return (h + "\r\n" + body).encode()


def test_list_tilde_is_an_atom_char(srv):
    """Item 6: "~" is an ATOM-CHAR; only "~{" starts a literal8."""
    c = login(srv)
    typ, line = c.command('LIST "" ~foo')
    assert typ == "OK", line
    typ, line = c.command("CREATE ~bar")
    assert typ == "OK", line
    typ, line = c.command('LIST "" ~*')
    assert typ == "OK", line
    assert any(r.endswith(('"/" ~bar', '"/" "~bar"')) for r in text(c)), text(c)


def test_esearch_min_max_modseq_is_that_of_the_returned_messages(srv):
    """Item 8: RFC 4731 §3.2: with MIN/MAX only, MODSEQ is the highest of the messages
    returned, not of every match."""
    c = login(srv, "condstore")
    for i in range(3):
        c.command("APPEND INBOX () ", literal=msg("m%d" % i))
    c.select()
    c.command("STORE 2 +FLAGS (\\Flagged)")  # the middle one gets the highest MODSEQ
    ms = {x.uid: x.modseq for x in c.msgs}
    uids = [x.uid for x in c.msgs]
    assert ms[uids[1]] > ms[uids[0]] and ms[uids[1]] > ms[uids[2]]
    c.command("UID SEARCH RETURN (MIN) MODSEQ 1")
    assert any(re.search(r"MIN %d MODSEQ %d$" % (uids[0], ms[uids[0]]), r) for r in text(c)), text(c)
    c.command("UID SEARCH RETURN (MAX) MODSEQ 1")
    assert any(re.search(r"MAX %d MODSEQ %d$" % (uids[2], ms[uids[2]]), r) for r in text(c)), text(c)
    c.command("UID SEARCH RETURN (MIN MAX) MODSEQ 1")
    want = max(ms[uids[0]], ms[uids[2]])
    assert any(r.endswith("MODSEQ %d" % want) for r in text(c)), text(c)
    c.command("UID SEARCH RETURN (MIN COUNT) MODSEQ 1")  # with COUNT: of all matches
    assert any(r.endswith("MODSEQ %d" % ms[uids[1]]) for r in text(c)), text(c)


def test_sort_cc_group_address_sorts_by_group_name(srv):
    """Item 8: the CC key of "user2: blah@domain1.org;" is the group's name (the
    addr-mailbox of the ENVELOPE's group start), equal to that of user2@..."""
    c = login(srv)
    c.command("APPEND INBOX () ", literal=msg("g", "user2: zzz@domain1.org;"))
    c.command("APPEND INBOX () ", literal=msg("u", "user2@domain2.org"))
    c.command("APPEND INBOX () ", literal=msg("a", "user1@domain2.org"))
    c.command("APPEND INBOX () ", literal=msg("q", '"user3": aaa@domain1.org;'))
    c.select()
    typ, line = c.command("SORT (CC) UTF-8 ALL")
    assert typ == "OK", line
    assert "* SORT 3 1 2 4" in text(c), text(c)


def test_move_into_the_selected_mailbox(srv):
    """Item 8: MOVE into the selected mailbox works like COPY + EXPUNGE (RFC 6851)."""
    c = login(srv)
    c.command("APPEND INBOX (\\Flagged) ", literal=msg("m"))
    c.select()
    old = c.msgs[0].uid
    typ, line = c.command("MOVE 1 INBOX")
    assert typ == "OK", line
    assert any("COPYUID" in r for r in text(c)), text(c)
    c.complete()
    assert len(c.msgs) == 1 and c.msgs[0].uid != old and c.msgs[0].flags == {"\\Flagged"}, c.msgs


def test_long_command_line_after_login_only(srv):
    """Item 8: a 31 KB ID line works once logged in (limits.imap_command); before login
    the line limit stays at limits.line_length."""
    c = login(srv)
    params = " ".join('"k%d" "%s"' % (i, "v" * 1000) for i in range(30))
    typ, line = c.command("ID (%s)" % params)
    assert typ == "OK", line
    s = socket.create_connection((srv.host, srv.port("imap")), timeout=10)
    try:
        f = s.makefile("rb")
        f.readline()
        try:
            s.sendall(("a ID (%s)\r\n" % params).encode())
            first = f.readline()
        except (ConnectionResetError, BrokenPipeError):
            first = b"(reset)"  # closed while the line was still arriving
        assert first.startswith(b"* BYE") or first in (b"", b"(reset)"), first
    finally:
        s.close()


def binary_message(body):
    return (b"From: a@remote.test\r\nSubject: bin\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
            b"--XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n"
            + body + b"\r\n--XX--\r\n")


def test_binary_append_keeps_bare_lf(srv):
    """Item 5: a literal8 APPEND is binary: its bare LFs stay (BINARY.SIZE 7, not 9)."""
    c = login(srv)
    typ, line = c.command("APPEND INBOX ", literal=binary_message(b"ab\ncd\nx"), literal8=True)
    assert typ == "OK", line
    c.select()
    c.command("FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2])")
    got = b"".join(c.last)
    assert b"BINARY.SIZE[2] 7" in got, got
    assert b"ab\ncd\nx" in got, got


def test_body_with_nul_is_not_in_a_plain_literal(srv):
    """Item 5: NUL never goes out in a {n} literal: BODY has it as 0x80 (as Dovecot),
    BINARY sends the real bytes in a literal8."""
    c = login(srv)
    typ, line = c.command("APPEND INBOX ", literal=binary_message(b"a\x00b"), literal8=True)
    assert typ == "OK", line
    c.select()
    c.command("FETCH 1 (BODY.PEEK[2])")
    got = b"".join(c.last)
    assert b"BODY[2] {3}\r\na\x80b" in got, got
    c.command("FETCH 1 (BODY.PEEK[])")
    got = b"".join(c.last)
    assert b"\x00" not in got, got
    c.command("FETCH 1 (BINARY.PEEK[2])")
    got = b"".join(c.last)
    assert b"BINARY[2] ~{3}\r\na\x00b" in got, got


def named(r, name):
    return r.endswith((" " + name, ' "%s"' % name))


def test_subscription_survives_delete(srv):
    """Item 4: DELETE keeps the subscription (RFC 3501 MUST NOT remove it): LIST
    (SUBSCRIBED) shows \\Subscribed \\NonExistent; a parent that is not subscribed gets
    CHILDINFO under RECURSIVEMATCH, and \\Noselect in LSUB "%"; UNSUBSCRIBE removes the
    name; CREATE under the name again finds it subscribed."""
    c = login(srv)
    for cmd in ("CREATE p", "CREATE p/c", "UNSUBSCRIBE p", "SUBSCRIBE p/c", "DELETE p/c"):
        typ, line = c.command(cmd)
        assert typ == "OK", (cmd, line)
    c.command('LIST (SUBSCRIBED) "" "*"')
    assert any(r.startswith("* LIST (") and "\\NonExistent" in r and "\\Subscribed" in r and named(r, "p/c")
               for r in text(c)), text(c)
    c.command('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')
    assert any(r.endswith(('"/" p ("CHILDINFO" ("SUBSCRIBED"))', '"/" "p" ("CHILDINFO" ("SUBSCRIBED"))')) for r in text(c)), text(c)
    c.command('LSUB "" "%"')
    assert any(r.startswith("* LSUB (\\Noselect)") and named(r, "p") for r in text(c)), text(c)
    c.command('LSUB "" "*"')
    assert any(named(r, "p/c") for r in text(c)), text(c)
    c.command('LIST "" "*"')  # a plain LIST shows only mailboxes
    assert not any(named(r, "p/c") for r in text(c)), text(c)
    # created again: subscribed again
    c.command("CREATE p/c")
    c.command('LIST (SUBSCRIBED) "" "p/*"')
    assert any("\\Subscribed" in r and "\\NonExistent" not in r and named(r, "p/c") for r in text(c)), text(c)
    # UNSUBSCRIBE of a deleted name forgets it
    c.command("DELETE p/c")
    typ, line = c.command("UNSUBSCRIBE p/c")
    assert typ == "OK", line
    c.command('LIST (SUBSCRIBED) "" "*"')
    assert not any(named(r, "p/c") for r in text(c)), text(c)
