"""NOTIFY (RFC 5465, issue 16): one connection watches every folder. A NOTIFY session
gets, without sending a command, STATUS for deliveries and changes in other mailboxes,
the selected mailbox's EXISTS/FETCH/EXPUNGE, and LIST for mailbox names and
subscriptions, as another session of the same user makes them. Waiting is bounded by
the socket timeout (no timing asserts)."""

import re

import pytest

from conftest import finish_server, new_server
from test_imap_ext import PW, Client, msg

USERS = ["nfy%d@example.test" % i for i in range(12)]


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin, users=[(u, PW) for u in USERS])
    yield s
    finish_server(s)


_next = [0]


def pair(srv):
    u = USERS[_next[0]]
    _next[0] += 1
    a, b = Client(srv, u), Client(srv, u)
    for box in ("other", "work", "work/sub"):
        b.ok("CREATE %s" % box)
    a.ok("SELECT INBOX")
    return a, b


def expect(c, pattern):
    """Reads unsolicited lines until one matches; returns the lines read."""
    got = []
    while True:
        line = c.line()  # raises socket.timeout after the client's timeout
        got.append(line)
        if re.search(pattern, line):
            return got


ALL = ("NOTIFY SET (selected (MessageNew (UID FLAGS RFC822.SIZE) MessageExpunge FlagChange)) "
       "(personal (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange))")


def test_capability(srv):
    c = Client(srv)
    u, _ = c.ok("CAPABILITY")
    assert "NOTIFY" in u[0].split(), u
    c.close()


def test_status_for_other_mailbox_without_a_command(srv):
    a, b = pair(srv)
    a.ok(ALL)
    uid = b.append("other", msg("hello"))
    got = expect(a, r"^\* STATUS \"other\" ")
    m = re.search(r"^\* STATUS \"other\" \(MESSAGES 1 UIDNEXT (\d+) UIDVALIDITY \d+ UNSEEN 1\)$", got[-1])
    assert m and int(m.group(1)) == uid + 1, got
    # flags: UNSEEN only
    b.ok("SELECT other")
    b.ok("STORE 1 +FLAGS (\\Seen)")
    got = expect(a, r"^\* STATUS \"other\" ")
    assert got[-1] == '* STATUS "other" (UNSEEN 0)', got
    # expunge: the counts again
    b.ok("STORE 1 +FLAGS (\\Deleted)")
    b.ok("EXPUNGE")
    got = expect(a, r"^\* STATUS \"other\" \(MESSAGES 0 ")
    # a subtree delivery under CONDSTORE carries HIGHESTMODSEQ
    a.ok("ENABLE CONDSTORE")
    b.append("work/sub", msg("deep"))
    got = expect(a, r"^\* STATUS \"work/sub\" ")
    assert re.search(r"\(MESSAGES 1 UIDNEXT \d+ UIDVALIDITY \d+ UNSEEN 1 HIGHESTMODSEQ \d+\)$", got[-1]), got
    # the session still works: a command gets its answer
    a.ok("NOOP")
    a.close()
    b.close()


def test_selected_mailbox_events_pushed(srv):
    a, b = pair(srv)
    a.ok(ALL)
    uid = b.append("INBOX", msg("new"))
    got = expect(a, r"^\* 1 FETCH ")
    assert "* 1 EXISTS" in got, got
    assert re.fullmatch(r"\* 1 FETCH \(UID %d FLAGS \(.*\) RFC822.SIZE \d+\)" % uid, got[-1]), got
    b.ok("SELECT INBOX")
    b.ok("STORE 1 +FLAGS (\\Flagged)")
    got = expect(a, r"^\* 1 FETCH ")
    assert "\\Flagged" in got[-1], got
    b.ok("STORE 1 +FLAGS (\\Deleted)")
    b.ok("EXPUNGE")
    expect(a, r"^\* 1 EXPUNGE$")
    a.ok("NOOP")
    a.close()
    b.close()


def test_selected_delayed_keeps_expunge_for_a_command(srv):
    a, b = pair(srv)
    b.append("INBOX", msg("one"))
    b.append("INBOX", msg("two"))
    a.ok("NOOP")
    a.ok("NOTIFY SET (selected-delayed (MessageNew MessageExpunge FlagChange)) (mailboxes other (MessageNew MessageExpunge))")
    b.ok("SELECT INBOX")
    b.ok("STORE 1 +FLAGS (\\Deleted)")
    b.ok("EXPUNGE")
    # a later event in another mailbox arrives; the expunge did not come before it
    b.append("other", msg("x"))
    got = expect(a, r"^\* STATUS \"other\" ")
    assert not any("EXPUNGE" in l for l in got), got
    u, _ = a.ok("NOOP")
    assert "* 1 EXPUNGE" in u, u
    a.close()
    b.close()


def test_mailbox_name_and_subscription(srv):
    a, b = pair(srv)
    a.ok(ALL)
    b.ok("CREATE fresh")
    got = expect(a, r"^\* LIST ")
    # CREATE subscribes the new mailbox
    assert got[-1] == '* LIST (\\Subscribed) "/" "fresh"', got
    b.ok("RENAME fresh renamed")
    got = expect(a, r"^\* LIST ")
    assert got[-1] == '* LIST () "/" "renamed" ("OLDNAME" ("fresh"))', got
    b.ok("UNSUBSCRIBE renamed")
    got = expect(a, r"^\* LIST ")
    assert got[-1] == '* LIST () "/" "renamed"', got
    b.ok("SUBSCRIBE renamed")
    got = expect(a, r"^\* LIST ")
    assert got[-1] == '* LIST (\\Subscribed) "/" "renamed"', got
    b.ok("DELETE renamed")
    got = expect(a, r"^\* LIST ")
    assert got[-1] == '* LIST (\\NonExistent) "/" "renamed"', got
    a.close()
    b.close()


def test_filters_status_indicator_none_and_errors(srv):
    a, b = pair(srv)
    u, _ = a.ok("NOTIFY SET STATUS (subtree work (MessageNew MessageExpunge)) (inboxes (MessageNew MessageExpunge))")
    st = sorted(l for l in u if l.startswith("* STATUS"))
    assert [l.split()[2] for l in st] == ['"work"', '"work/sub"'], u  # INBOX is selected: no STATUS
    # "other" is not watched: a delivery there, then one to "work"; only work's comes
    b.append("other", msg("unwatched"))
    b.append("work", msg("watched"))
    got = expect(a, r"^\* STATUS \"work\" ")
    assert not any('STATUS "other"' in l for l in got), got
    # unsupported events: BADEVENT; syntax errors: BAD
    _, t = a.cmd("NOTIFY SET (personal (MessageNew MessageExpunge MailboxMetadataChange))")
    assert " NO [BADEVENT (" in t, t
    for bad in ("NOTIFY SET (personal (Bogus))", "NOTIFY SET (nowhere (MessageNew))", "NOTIFY SET",
                "NOTIFY SET (selected (MessageNew (BODY.PEEK[])))", "NOTIFY FOO"):
        _, t = a.cmd(bad)
        assert " BAD " in t, (bad, t)
    # NOTIFY NONE: nothing more (a NOOP reads the store; the STATUS would come before its OK)
    a.ok("NOTIFY NONE")
    b.append("work", msg("after none"))
    b.ok("NOOP")
    u, _ = a.ok("NOOP")
    assert not any(l.startswith("* STATUS") for l in u), u
    a.close()
    b.close()
