"""Training the junk filter through every door (docs/spam.md, "Training the filter"), with
real clients against a real `postamt serve`: imaplib's MOVE and COPY into Junk and out
of it, STORE +FLAGS ($Junk) and ($NotJunk), JMAP Email/set moving a message the way the
webmail's Spam / Not spam buttons do; the model's counts are read from the store after
the learner has drained every lesson. A 5,000-message MOVE into Junk returns at once,
another session's NOOP is answered while the learner is still at work (ordering, not
timing), and the learner works in batches of spam.learn_batch."""

import json
import os
import re
import socket
import sqlite3
import time

import imaplib
import pytest

from conftest import finish_server, new_server
from test_jmap import Client, PW

USER, OTHER = "anna@example.test", "bert@example.test"


@pytest.fixture(scope="module")
def srv(postamt_bin, tmp_path_factory):
    s = new_server(postamt_bin, tmp_path_factory, config=["log.level = debug", "spam.learn_batch = 200"],
                   users=[(USER, PW[USER]), (OTHER, PW[OTHER])])
    yield s
    finish_server(s)


def db(srv):
    c = sqlite3.connect("file:%s?mode=ro" % os.path.join(srv.dir, "db", "store.sqlite"), uri=True, timeout=10)
    return c


def account_id(srv, addr):
    with db(srv) as c:
        return c.execute("SELECT id FROM accounts WHERE address = ?", (addr,)).fetchone()[0]


def pending(srv):
    with db(srv) as c:
        return c.execute("SELECT COUNT(*) FROM junk_lessons").fetchone()[0]


def model(srv, addr, wait=60.0):
    """(spam, ham) messages the account's model has learned, once no lesson is pending."""
    deadline = time.monotonic() + wait
    while pending(srv) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pending(srv) == 0, "the learner did not drain the lessons"
    with db(srv) as c:
        row = c.execute("SELECT nspam, nham FROM junk_count WHERE account_id = ?", (account_id(srv, addr),)).fetchone()
    return tuple(row) if row else (0, 0)


def imap(srv, user=USER):
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    m.login(user, PW[user])
    return m


def append(m, subject, mailbox="INBOX", flags=None):
    msg = ("From: Seller <seller@shop.example>\r\nTo: %s\r\nSubject: %s\r\n\r\n"
           "Cheap watches, buy now: %s\r\n" % (USER, subject, subject)).encode()
    typ, data = m.append(mailbox, flags, None, msg)
    assert typ == "OK", data
    return int(re.search(rb"APPENDUID \d+ (\d+)", data[0]).group(1))


def uid_of(m, mailbox, subject):
    m.select(mailbox)
    typ, data = m.uid("SEARCH", "SUBJECT", '"%s"' % subject)
    assert typ == "OK" and data[0], (mailbox, subject, data)
    return data[0].split()[0].decode()


def test_imap_move_copy_and_keywords(srv):
    m = imap(srv)
    try:
        for i in range(4):
            append(m, "imap lesson %d" % i)
        assert model(srv, USER) == (0, 0)  # appending to INBOX teaches nothing
        m.select("INBOX")
        typ, data = m.uid("MOVE", uid_of(m, "INBOX", "imap lesson 0"), "Junk")
        assert typ == "OK", data
        assert model(srv, USER) == (1, 0)
        typ, data = m.uid("COPY", uid_of(m, "INBOX", "imap lesson 1"), "Junk")
        assert typ == "OK", data
        assert model(srv, USER) == (2, 0)
        # moving it again, or setting $Junk on the spam: the same lesson, nothing new
        m.uid("STORE", uid_of(m, "INBOX", "imap lesson 1"), "+FLAGS", "($Junk)")
        assert model(srv, USER) == (2, 0)
        # out of Junk into Archive: the spam lesson is undone, ham learned
        typ, data = m.uid("MOVE", uid_of(m, "Junk", "imap lesson 0"), "Archive")
        assert typ == "OK", data
        assert model(srv, USER) == (1, 1)
        # out of Junk into Trash: a deletion, no verdict
        typ, data = m.uid("MOVE", uid_of(m, "Junk", "imap lesson 1"), "Trash")
        assert typ == "OK", data
        assert model(srv, USER) == (1, 1)
        # the keywords Thunderbird and Apple Mail set
        uid = uid_of(m, "INBOX", "imap lesson 2")
        typ, data = m.uid("STORE", uid, "+FLAGS", "($Junk)")
        assert typ == "OK", data
        assert model(srv, USER) == (2, 1)
        typ, data = m.uid("STORE", uid, "+FLAGS", "($NotJunk)")
        assert typ == "OK", data
        assert model(srv, USER) == (1, 2)
        typ, data = m.uid("STORE", uid, "-FLAGS", "($NotJunk $Junk)")  # clearing teaches nothing
        assert typ == "OK", data
        assert model(srv, USER) == (1, 2)
        # APPEND into Junk (a message dragged in from another account)
        append(m, "imap lesson appended", "Junk")
        assert model(srv, USER) == (2, 2)
    finally:
        m.logout()
    log = srv.log()
    assert re.search(r"event=junk_learned account=%d email=\d+ spam=-1 ham=\+1" % account_id(srv, USER), log)
    # what an admin sees
    r = srv.run("user", "junk", USER)
    assert r.returncode == 0, r.stderr
    assert "learned: 2 spam, 2 ham" in r.stdout, r.stdout


def test_jmap_spam_and_not_spam(srv):
    cl = Client(srv, OTHER)
    inbox, junk = cl.mailbox("inbox"), cl.mailbox("junk")
    m = imap(srv, OTHER)
    try:
        append(m, "jmap lesson")
    finally:
        m.logout()
    ids = cl.find("jmap lesson", inbox)
    assert len(ids) == 1
    # the webmail's "Spam" button
    r = cl.ok("Email/set", {"update": {ids[0]: {"mailboxIds/" + inbox: None, "mailboxIds/" + junk: True,
                                                "keywords/$junk": True, "keywords/$notjunk": None}}})
    assert ids[0] in r["updated"], r
    assert model(srv, OTHER) == (1, 0)
    # "Not spam" in the Junk folder
    r = cl.ok("Email/set", {"update": {ids[0]: {"mailboxIds/" + junk: None, "mailboxIds/" + inbox: True,
                                                "keywords/$junk": None, "keywords/$notjunk": True}}})
    assert ids[0] in r["updated"], r
    assert model(srv, OTHER) == (0, 1)


def multiappend(sock_file, sock, tag, msgs):
    """One MULTIAPPEND (RFC 3502) of msgs into INBOX with LITERAL+; returns the tagged reply."""
    parts = [("%s APPEND INBOX" % tag).encode()]
    for msg in msgs:
        parts.append(b" {%d+}\r\n" % len(msg) + msg)
    sock.sendall(b"".join(parts) + b"\r\n")
    while True:
        line = sock_file.readline()
        assert line, "connection closed"
        if line.startswith(tag.encode() + b" "):
            return line


def test_big_move_into_junk(srv):
    # 5,000 here; the 50,000 of docs/spam.md were measured with POSTAMT_JUNK_BIG_MOVE=50000
    n = int(os.environ.get("POSTAMT_JUNK_BIG_MOVE", "5000"))
    assert n % 500 == 0
    s = socket.create_connection((srv.host, srv.port("imap")), timeout=60)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"a LOGIN %s %s\r\n" % (USER.encode(), PW[USER].encode()))
    while not f.readline().startswith(b"a "):
        pass
    for k in range(0, n, 500):
        msgs = [("From: bulk%d@shop.example\r\nSubject: bulk %d\r\n\r\nbuy cheap pills %d\r\n" % (i, i, i)).encode()
                for i in range(k, k + 500)]
        assert multiappend(f, s, "b%d" % k, msgs).startswith(b"b%d OK" % k)
    s.close()
    before = model(srv, USER)
    mark = srv.log_size()
    a, b = imap(srv), imap(srv)
    try:
        a.select("INBOX")
        b.select("Sent")
        typ, data = a.uid("SEARCH", "SUBJECT", '"bulk "')
        uids = data[0].split()
        assert len(uids) == n
        # first into a folder of their own (no lesson), then from there into Junk: the
        # figures compare a MOVE with and without the lessons the store records
        assert a.create("Bulk")[0] == "OK"
        t0 = time.monotonic()
        typ, data = a.uid("MOVE", b"%s:%s" % (uids[0], uids[-1]), "Bulk")
        assert typ == "OK", data
        t1 = time.monotonic()
        assert pending(srv) == 0
        a.select("Bulk")
        t2 = time.monotonic()
        typ, data = a.uid("MOVE", b"1:*", "Junk")
        assert typ == "OK", data
        t3 = time.monotonic()
        print("MOVE of %d messages: %.2f s into another folder, %.2f s into Junk (with lessons)" % (n, t1 - t0, t3 - t2))
        # the MOVE did not wait for the learner, and another session is answered while
        # the lessons are still being learned
        typ, data = b.noop()
        assert typ == "OK"
        assert pending(srv) > 0
        typ, data = a.select("Junk")
        assert typ == "OK"
        # the other session while the learner works: NOOP round trips (printed, not asserted)
        rtt = []
        while pending(srv) > 0 and len(rtt) < 5000:
            t4 = time.monotonic()
            assert b.noop()[0] == "OK"
            rtt.append(time.monotonic() - t4)
            time.sleep(0.02)  # a sample every 20 ms, leaving the cores to the learner
        if rtt:
            print("NOOP of another session while learning: %d, median %.1f ms, max %.1f ms"
                  % (len(rtt), 1000 * sorted(rtt)[len(rtt) // 2], 1000 * max(rtt)))
        assert model(srv, USER, wait=max(300, n / 50)) == (before[0] + n, before[1])
    finally:
        a.logout()
        b.logout()
    batches = [int(x) for x in re.findall(r"event=junk_batch lessons=(\d+)", srv.log()[mark:])]
    assert sum(batches) == n and max(batches) == 200, batches
    stamps = re.findall(r"^(\S+)T(\d+):(\d+):([\d.]+)Z info event=junk_batch", srv.log()[mark:], re.M)
    secs = [int(h) * 3600 + int(m) * 60 + float(x) for _, h, m, x in stamps]
    print("learned %d messages in %d batches, %.1f s from the first batch to the last" % (n, len(secs), secs[-1] - secs[0]))


def test_stop_keeps_pending_lessons(make_server):
    """A stop while the learner works: the server stops in time (the learner finishes
    its batch, starts no other), the lessons left wait in the store, and the next start
    learns them: every message exactly once."""
    n = 2000
    s = make_server(config=["spam.learn_batch = 10"], users=[(USER, PW[USER])])
    sock = socket.create_connection((s.host, s.port("imap")), timeout=60)
    f = sock.makefile("rb")
    f.readline()
    sock.sendall(b"a LOGIN %s %s\r\n" % (USER.encode(), PW[USER].encode()))
    while not f.readline().startswith(b"a "):
        pass
    for k in range(0, n, 500):
        msgs = [("From: stop%d@shop.example\r\nSubject: stop %d\r\n\r\ncheap pills %d\r\n" % (i, i, i)).encode()
                for i in range(k, k + 500)]
        assert multiappend(f, sock, "b%d" % k, msgs).startswith(b"b%d OK" % k)
    sock.sendall(b"c SELECT INBOX\r\n")
    while not f.readline().startswith(b"c "):
        pass
    sock.sendall(b"d UID MOVE 1:* Junk\r\n")
    while True:
        line = f.readline()
        if line.startswith(b"d "):
            assert line.startswith(b"d OK"), line
            break
    sock.close()
    rc, _ = s.stop()
    assert rc == 0
    left = pending(s)
    print("stopped with %d of %d lessons pending" % (left, n))
    first = len(re.findall(r"event=junk_batch lessons=", s.log()))
    s.start()
    assert model(s, USER) == (n, 0)
    batches = len(re.findall(r"event=junk_batch lessons=", s.log()))
    assert batches - first == (left + 9) // 10, (left, first, batches)
