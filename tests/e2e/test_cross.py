"""One mailbox across SMTP, POP3 and IMAP (issue 7, "One mailbox"): mail delivered
over SMTP is in the next POP3 STAT; a POP3 DELE+QUIT is an expunge that an IMAP
session idling on INBOX sees at once; an IMAP \\Deleted+EXPUNGE is gone for the next
POP3 session; quota filled over SMTP and freed over POP3; byte-exact content through
every door."""

import base64
import re
import smtplib
import time

import pytest

from conftest import finish_server, new_server
from helpers import new_user, pop_cmd, port25_head, read_multiline, user_stats


@pytest.fixture(scope="module")
def srv(postamt_bin, tmp_path_factory):
    s = new_server(postamt_bin, tmp_path_factory, ["timeout.pop3 = 20", "limits.message_size = 1M"])
    yield s
    finish_server(s)


# ---------------------------------------------------------------------------
# helpers


def smtp_session(srv):
    c = srv.connect("smtp")
    assert c.readline().startswith("220")
    c.sendline("EHLO client.example.org")
    c.read_smtp_reply()
    return c


def smtp_cmd(c, line):
    c.sendline(line)
    return c.read_smtp_reply()[-1]


def deliver_bdat(srv, rcpt, data, size_param=False):
    """One message to rcpt over port 25 with BDAT LAST; returns the final reply line."""
    if isinstance(data, str):
        data = data.encode()
    with smtp_session(srv) as c:
        r = smtp_cmd(c, "MAIL FROM:<sender@example.org>" + (" SIZE=%d" % len(data) if size_param else ""))
        assert r.startswith("250"), r
        r = smtp_cmd(c, "RCPT TO:<%s>" % rcpt)
        if not r.startswith("250"):
            return r
        c.send(b"BDAT %d LAST\r\n" % len(data) + data)
        return c.read_smtp_reply()[-1]


def simple(subject, body="Hello.\r\n", frm="sender@example.org"):
    return ("From: %s\r\nSubject: %s\r\n\r\n%s" % (frm, subject, body)).encode()


def pop_login(srv, user):
    c = srv.tls_connect("pop3s")
    assert c.readline().startswith("+OK")
    assert pop_cmd(c, "USER " + user).startswith("+OK")
    r = pop_cmd(c, "PASS secret")
    assert r.startswith("+OK"), r
    return c


def pop_stat(c):
    m = re.match(r"^\+OK (\d+) (\d+)$", pop_cmd(c, "STAT"))
    assert m
    return int(m.group(1)), int(m.group(2))


def pop_quit(c):
    r = pop_cmd(c, "QUIT")
    assert r.startswith("+OK"), r
    c.wait_closed(3)
    c.close()


def pop_retr(c, n):
    r = pop_cmd(c, "RETR %d" % n)
    assert r.startswith("+OK"), r
    return read_multiline(c)


# -- IMAP, by hand (the IMAP server is being written; these helpers need only LOGIN,
# SELECT, IDLE, STORE, EXPUNGE, FETCH, LOGOUT)

class Imap:
    def __init__(self, c):
        self.c = c
        self.n = 0

    def command(self, line, timeout=None):
        self.n += 1
        tag = "t%d" % self.n
        self.c.sendline("%s %s" % (tag, line))
        return self.c.read_imap_tagged(tag, timeout)

    def read_exact(self, n, timeout=5.0):
        deadline = time.monotonic() + timeout
        while len(self.c.buf) < n:
            self.c._fill(max(0.01, deadline - time.monotonic()))
        out, self.c.buf = self.c.buf[:n], self.c.buf[n:]
        return out

    def fetch_body(self, seq):
        self.n += 1
        tag = "t%d" % self.n
        self.c.sendline("%s FETCH %d BODY.PEEK[]" % (tag, seq))
        body = None
        while True:
            line = self.c.readline()
            m = re.search(r"\{(\d+)\}$", line)
            if m and body is None:
                body = self.read_exact(int(m.group(1)))
                continue
            if line.startswith(tag + " "):
                assert " OK" in line, line
                return body

    def close(self):
        try:
            self.command("LOGOUT", timeout=2)
        except Exception:
            pass
        self.c.close()


def imap_login(srv, user):
    """An Imap logged in as user over IMAPS."""
    c = srv.tls_connect("imaps")
    greeting = c.readline()
    assert greeting.startswith("* OK"), greeting
    im = Imap(c)
    _, tagged = im.command('LOGIN "%s" "secret"' % user)
    assert re.match(r"^\S+ OK", tagged), tagged
    return im


def imap_select(im, mailbox="INBOX"):
    untagged, tagged = im.command("SELECT " + mailbox)
    assert re.match(r"^\S+ OK", tagged), (untagged, tagged)
    exists = [int(m.group(1)) for l in untagged for m in [re.match(r"^\* (\d+) EXISTS", l)] if m]
    assert exists, untagged
    return exists[0]


# ---------------------------------------------------------------------------
# SMTP -> POP3


def test_smtp_delivery_then_pop3_stat(srv):
    u = new_user(srv)
    with pop_login(srv, u) as c:
        assert pop_stat(c) == (0, 0)
        pop_quit(c)
    assert deliver_bdat(srv, u, simple("via 25")).startswith("250")
    with smtplib.SMTP_SSL(srv.host, srv.port("submissions"), context=srv.ssl_context(), timeout=10) as s:
        s.login(u, "secret")
        s.sendmail(u, [u], simple("via 465", frm=u))  # submission: the From: must be the user's
    c = pop_login(srv, u)
    n, size = pop_stat(c)
    assert n == 2 and size == user_stats(srv, u)["usage"]
    assert b"Subject: via 25" in pop_retr(c, 1)
    assert b"Subject: via 465" in pop_retr(c, 2)
    pop_quit(c)


DOTTED_BODY = b".\r\n..\r\n.starts with a dot\r\n...three\r\n\r\n.\r\nend"
DATA_MSG = b"Subject: data dots\r\n\r\n" + DOTTED_BODY + b"\r\n"
BDAT_MSG = b"Subject: bdat dots\r\n\r\n" + DOTTED_BODY  # no final CRLF


def deliver_dotted(srv, u):
    """DATA_MSG over DATA (smtplib stuffs the dots) and BDAT_MSG over BDAT."""
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=10) as s:
        s.sendmail("sender@example.org", [u], DATA_MSG)
    assert deliver_bdat(srv, u, BDAT_MSG).startswith("250")


def test_dotted_lines_and_final_line_without_crlf_pop3_byte_exact(srv):
    u = new_user(srv)
    deliver_dotted(srv, u)
    c = pop_login(srv, u)
    m1, m2 = pop_retr(c, 1), pop_retr(c, 2)
    pop_quit(c)
    assert port25_head("sender@example.org").match(m1) and m1.endswith(DATA_MSG), m1
    assert port25_head("sender@example.org").match(m2) and m2.endswith(BDAT_MSG + b"\r\n"), m2
    assert user_stats(srv, u)["usage"] == len(m1) + len(m2) - 2


def test_dotted_lines_same_bytes_over_imap_and_pop3(srv):
    u = new_user(srv)
    deliver_dotted(srv, u)
    c = pop_login(srv, u)
    m1, m2 = pop_retr(c, 1), pop_retr(c, 2)
    pop_quit(c)
    im = imap_login(srv, u)
    try:
        imap_select(im)
        b1, b2 = im.fetch_body(1), im.fetch_body(2)
        assert b1 == m1
        assert b2 == m2[:-2]  # IMAP has the stored bytes, without the CRLF POP3 had to add
    finally:
        im.close()


# ---------------------------------------------------------------------------
# quota over SMTP and POP3


def test_quota_filled_over_smtp_emptied_over_pop3(srv):
    u = new_user(srv, "quota", quota="8K")
    chunk = simple("fill", "z" * 2500 + "\r\n")
    accepted = 0
    for _ in range(10):
        r = deliver_bdat(srv, u, chunk)
        if not r.startswith("250"):
            break
        accepted += 1
    assert r.startswith("452 4.2.2"), r  # port 25: temporary (smtp.quota_full_temporary)
    assert accepted >= 2
    st = user_stats(srv, u)
    assert st["messages"] == accepted and st["usage"] <= 8 * 1024
    # with SIZE= the refusal comes at RCPT
    r = deliver_bdat(srv, u, chunk, size_param=True)
    assert r.startswith("452 4.2.2"), r
    c = pop_login(srv, u)
    n, _ = pop_stat(c)
    for i in range(1, n + 1):
        assert pop_cmd(c, "DELE %d" % i).startswith("+OK")
    pop_quit(c)
    st = user_stats(srv, u)
    assert (st["usage"], st["messages"]) == (0, 0)
    assert deliver_bdat(srv, u, chunk, size_param=True).startswith("250")
    assert deliver_bdat(srv, u, chunk).startswith("250")
    assert user_stats(srv, u)["messages"] == 2


# ---------------------------------------------------------------------------
# POP3 <-> IMAP


def test_pop3_dele_quit_seen_by_imap_idle(srv):
    u = new_user(srv)
    for i in range(2):
        assert deliver_bdat(srv, u, simple("idle %d" % i)).startswith("250")
    im = imap_login(srv, u)
    try:
        assert imap_select(im) == 2
        im.n += 1
        tag = "t%d" % im.n
        im.c.sendline(tag + " IDLE")
        cont = im.c.readline()
        assert cont.startswith("+"), cont
        c = pop_login(srv, u)
        assert pop_cmd(c, "DELE 1").startswith("+OK")
        assert im.c.nothing_within(0.3), "IMAP saw something before the POP3 QUIT: %r" % im.c.buf
        pop_quit(c)
        t0 = time.monotonic()
        line = im.c.readline(timeout=1.0)
        assert line == "* 1 EXPUNGE", line
        assert time.monotonic() - t0 <= 1.0
        im.c.sendline("DONE")
        _, tagged = im.c.read_imap_tagged(tag)
        assert re.match(r"^\S+ OK", tagged), tagged
        body = im.fetch_body(1)
        assert body is not None and b"Subject: idle 1" in body
    finally:
        im.close()


def test_imap_deleted_expunge_then_pop3(srv):
    u = new_user(srv)
    for i in range(3):
        assert deliver_bdat(srv, u, simple("exp %d" % i)).startswith("250")
    with pop_login(srv, u) as c:
        assert pop_cmd(c, "UIDL").startswith("+OK")
        uidl_before = read_multiline(c)
        pop_quit(c)
    im = imap_login(srv, u)
    try:
        assert imap_select(im) == 3
        _, tagged = im.command("STORE 2 +FLAGS (\\Deleted)")
        assert re.match(r"^\S+ OK", tagged), tagged
        untagged, tagged = im.command("EXPUNGE")
        assert re.match(r"^\S+ OK", tagged), tagged
        assert "* 2 EXPUNGE" in untagged, untagged
    finally:
        im.close()
    assert user_stats(srv, u)["messages"] == 2
    c = pop_login(srv, u)
    assert pop_stat(c)[0] == 2
    assert b"Subject: exp 0" in pop_retr(c, 1)
    assert b"Subject: exp 2" in pop_retr(c, 2)
    assert pop_cmd(c, "UIDL").startswith("+OK")
    after = read_multiline(c).split(b"\r\n")
    before = uidl_before.split(b"\r\n")
    # the remaining messages keep their UIDLs
    assert [l.split()[1] for l in after if l] == [before[0].split()[1], before[2].split()[1]]
    pop_quit(c)


def test_imap_expunge_during_pop3_session(srv):
    """A message expunged over IMAP while a POP3 session has it in its snapshot: RETR
    answers -ERR (the message is gone), the rest of the session works, and a DELE of
    it followed by QUIT does not fail the UPDATE."""
    u = new_user(srv)
    for i in range(2):
        assert deliver_bdat(srv, u, simple("race %d" % i)).startswith("250")
    im = imap_login(srv, u)
    c = pop_login(srv, u)
    try:
        assert pop_stat(c)[0] == 2
        imap_select(im)
        im.command("STORE 1 +FLAGS (\\Deleted)")
        _, tagged = im.command("EXPUNGE")
        assert re.match(r"^\S+ OK", tagged), tagged
        r = pop_cmd(c, "RETR 1")
        assert r.startswith("-ERR"), r
        assert b"Subject: race 1" in pop_retr(c, 2)
        assert pop_cmd(c, "DELE 1").startswith("+OK")
        pop_quit(c)
    finally:
        im.close()
    assert user_stats(srv, u)["messages"] == 1


def test_pop3_lock_does_not_block_imap(srv):
    u = new_user(srv)
    assert deliver_bdat(srv, u, simple("both")).startswith("250")
    c = pop_login(srv, u)
    try:
        im = imap_login(srv, u)
        try:
            assert imap_select(im) == 1
        finally:
            im.close()
    finally:
        pop_quit(c)
