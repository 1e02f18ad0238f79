"""SMTP and JMAP sending policy from the outside review of December 2026 (findings 6
and 8), Return-Path at final delivery (RFC 5321 §4.4) and quota refusals.

- BDAT gets DATA's policy: bare CR, bare LF and NUL are refused (554 5.6.0) at the
  LAST chunk, wherever the chunks split;
- outbound, every line ending leaves as CRLF before dot-stuffing: a message with
  `\\r.\\r\\n` that reached the queue through JMAP Email/import + EmailSubmission
  arrives at a capture SMTP server (route.remote.test) as CRLF lines, stuffed;
- an authenticated user's From:/Sender: must name addresses they own (553 5.7.1 on
  465/587, JMAP forbiddenFrom); aliases that deliver to them are theirs;
- port 25 refuses an unauthenticated local MAIL FROM (553 5.7.1), accepts remote
  senders and <>;
- every locally delivered message begins with `Return-Path: <envelope sender>`
  (port 25, submission, JMAP, a bounce with <>); one that came with the message goes;
- a full mailbox: port 25 answers 452 4.2.2 (552 5.2.2 with
  smtp.quota_full_temporary = no), submission 552 5.2.2; each refusal is logged
  (event=quota_rejected), IMAP's NO [OVERQUOTA] too."""

import imaplib
import json
import time

import pytest

from conftest import DOMAIN, finish_server, new_server
import helpers
from helpers import CaptureSMTP, imap_messages
from test_smtp import cmd, code, last, open_smtp, send_mail, simple_message

ALICE, BOB, CAROL = "alice@" + DOMAIN, "bob@" + DOMAIN, "carol@" + DOMAIN
ALIAS = "alias-alice@" + DOMAIN
FULL = "full@" + DOMAIN


# ---------------------------------------------------------------------------
# a capture SMTP server: the next hop for remote.test


@pytest.fixture(scope="module")
def capture():
    cap = CaptureSMTP()
    yield cap
    cap.close()


@pytest.fixture(scope="module")
def srv(postamt_bin, tmp_path_factory, capture):
    s = new_server(postamt_bin, tmp_path_factory, [
        "queue.retry_initial = 1", "queue.retry_max = 2",
        "route.remote.test = 127.0.0.1:%d" % capture.port,
    ], users=[ALICE, BOB, CAROL])
    assert s.run("alias", "add", ALIAS, ALICE).returncode == 0
    assert s.run("user", "add", FULL, "--quota", "2K", input="secret\n").returncode == 0
    yield s
    finish_server(s)


# ---------------------------------------------------------------------------
# helpers


def find_message(srv, user, needle, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in imap_messages(srv, user) if needle in m]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def bdat(c, chunks):
    """Sends chunks as BDAT (the last one LAST); returns the replies, one per chunk."""
    replies = []
    for i, p in enumerate(chunks):
        c.send(b"BDAT %d%s\r\n" % (len(p), b" LAST" if i == len(chunks) - 1 else b"") + p)
        replies.append(c.read_smtp_reply())
    return replies


class Jmap(helpers.Jmap):
    """JMAP over HTTP Basic, with an import into Drafts and a submission."""

    def import_raw(self, raw):
        st, body = self.upload(raw)
        assert st in (200, 201), body
        blob = json.loads(body)["blobId"]
        r = self.call("Email/import", {"emails": {"i": {"blobId": blob, "mailboxIds": {self.mailbox("drafts"): True}}}})
        assert "i" in r.get("created", {}), r
        return r["created"]["i"]["id"]

    def submit(self, email_id, mail_from, rcpts):
        ident = self.call("Identity/get", {})["list"][0]["id"]
        env = {"mailFrom": {"email": mail_from}, "rcptTo": [{"email": r} for r in rcpts]}
        return self.call("EmailSubmission/set", {"create": {"s": {"identityId": ident, "emailId": email_id,
                                                                    "envelope": env}}})


def message(frm, to, subject, extra="", body="Hello.\r\n"):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\n%sDate: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
            "Message-ID: <%s@example.test>\r\n\r\n%s" % (frm, to, subject, extra, subject.replace(" ", "."), body))


# ---------------------------------------------------------------------------
# finding 6: BDAT policy


@pytest.mark.parametrize("chunks,what", [
    ([b"Subject: bdat-bare-lf\nX: y\r\n\r\nbody\r\n"], "bare LF"),
    ([b"Subject: bdat-nul\r\nX-Nul: a\x00b\r\n\r\nbody\r\n"], "NUL"),
    ([b"Subject: bdat-nul-split\r\n\r\nfirst\r\n", b"a\x00b\r\n", b""], "NUL in a middle chunk"),
    ([b"Subject: bdat-cr-split\r\n\r\nhello\r", b".\r\n", b"MAIL FROM:<x@y>\r\n"], "bare CR across chunks"),
    ([b"Subject: bdat-cr-end\r\n\r\nhello\r"], "CR at the very end"),
])
def test_bdat_refuses_what_data_refuses(srv, chunks, what):
    before = len(imap_messages(srv, CAROL))
    with open_smtp(srv) as c:
        assert code(cmd(c, "MAIL FROM:<sender@remote.test>")) == "250"
        assert code(cmd(c, "RCPT TO:<%s>" % CAROL)) == "250"
        replies = bdat(c, chunks)
        for r in replies[:-1]:
            assert code(r) == "250", (what, r)
        assert last(replies[-1]).startswith("554 5.6.0"), (what, replies[-1])
        # the session goes on
        assert code(cmd(c, "NOOP")) == "250"
    assert len(imap_messages(srv, CAROL)) == before, what


def test_bdat_crlf_split_over_chunks_is_accepted(srv):
    with open_smtp(srv) as c:
        assert code(cmd(c, "MAIL FROM:<sender@remote.test>")) == "250"
        assert code(cmd(c, "RCPT TO:<%s>" % CAROL)) == "250"
        replies = bdat(c, [b"Subject: bdat-crlf-split\r\n\r\nline one\r", b"\nline two\r\n"])
        assert code(replies[0]) == "250" and last(replies[1]).startswith("250 2.0.0"), replies
    got = find_message(srv, CAROL, b"bdat-crlf-split")
    assert len(got) == 1 and got[0].endswith(b"line one\r\nline two\r\n")


def test_bdat_smuggling_submission_refused(srv, capture):
    body = (b"From: %s\r\nTo: <victim@remote.test>\r\nSubject: outer\r\n\r\nhello\r.\r\nMAIL FROM:<ceo@example.test>\r\n"
            b"RCPT TO:<victim@remote.test>\r\nDATA\r\nFrom: ceo@example.test\r\nSubject: SMUGGLED-BDAT\r\n\r\nx\r\n"
            % ALICE.encode())
    with open_smtp(srv, "submissions", auth=ALICE) as c:
        assert code(cmd(c, "MAIL FROM:<%s>" % ALICE)) == "250"
        assert code(cmd(c, "RCPT TO:<victim@remote.test>")) == "250"
        r = bdat(c, [body])[0]
        assert last(r).startswith("554 5.6.0"), r
    time.sleep(1.5)
    assert not any(b"SMUGGLED-BDAT" in m[2] for m in capture.messages)


def test_outbound_lines_normalised_and_stuffed(srv, capture):
    # Email/import stores the bytes as uploaded (bare CR kept); the queue must send
    # CRLF lines only, so "\r.\r\n" becomes an ordinary stuffed ".." line
    raw = (b"From: <%s>\r\nTo: <victim@remote.test>\r\nSubject: import-smuggle\r\n\r\nhello\r.\r\n"
           b"MAIL FROM:<ceo@example.test>\r\nRCPT TO:<victim@remote.test>\r\nDATA\r\nSubject: SMUGGLED\r\n\r\n"
           b"x\n.\nlast\rline\r\n" % ALICE.encode())
    cl = Jmap(srv, ALICE)
    eid = cl.import_raw(raw)
    r = cl.submit(eid, ALICE, ["victim@remote.test"])
    assert "s" in r.get("created", {}), r
    _, rcpts, data = capture.wait(b"import-smuggle")
    assert data.endswith(b"\r\n.\r\n")
    assert data.count(b"\r\n.\r\n") == 1, data
    for i, ch in enumerate(data):
        if ch == 0x0D:
            assert data[i + 1:i + 2] == b"\n", (i, data[max(0, i - 20):i + 20])
        if ch == 0x0A:
            assert data[i - 1:i] == b"\r", (i, data[max(0, i - 20):i + 20])
    assert b"\r\nhello\r\n..\r\nMAIL FROM:<ceo@example.test>\r\n" in data, data
    assert b"\r\nx\r\n..\r\nlast\r\nline\r\n" in data, data


# ---------------------------------------------------------------------------
# finding 8: From:/Sender: on submission and JMAP, local senders on port 25


@pytest.mark.parametrize("service", ["submissions", "submission"])
@pytest.mark.parametrize("header", ["From: Bob <%s>\r\n" % BOB,
                                    "From: %s\r\nSender: %s\r\n" % (ALICE, BOB),
                                    "From: %s, Bob <%s>\r\n" % (ALICE, BOB),
                                    "From: Bob\r\n\t<%s>\r\n" % BOB,
                                    "From: Team: %s;\r\n" % BOB])
def test_submission_foreign_header_from_refused(srv, service, header):
    data = header + "To: %s\r\nSubject: spoof\r\n\r\nHi.\r\n" % CAROL
    before = len(imap_messages(srv, CAROL))
    with open_smtp(srv, service, starttls=service == "submission", auth=ALICE) as c:
        r = send_mail(c, ALICE, [CAROL], data)
        assert last(r).startswith("553 5.7.1"), (header, r)
        # BDAT: the same answer at the LAST chunk
        assert code(cmd(c, "MAIL FROM:<%s>" % ALICE)) == "250"
        assert code(cmd(c, "RCPT TO:<%s>" % CAROL)) == "250"
        r = bdat(c, [data.encode()])[0]
        assert last(r).startswith("553 5.7.1"), (header, r)
    assert len(imap_messages(srv, CAROL)) == before
    assert srv.wait_log(r"event=sender_rejected reason=header user=%s" % ALICE)


@pytest.mark.parametrize("frm", ["Alice <%s>" % ALICE, "Me <%s>" % ALIAS, ALIAS.upper()])
def test_submission_owned_header_from_accepted(srv, frm):
    subject = "owned from %s" % frm.split("<")[-1].rstrip(">").lower()
    data = "From: %s\r\nSender: %s\r\nTo: %s\r\nSubject: %s\r\n\r\nHi.\r\n" % (frm, ALIAS, CAROL, subject)
    with open_smtp(srv, "submissions", auth=ALICE) as c:
        r = send_mail(c, ALIAS, [CAROL], data)
        assert last(r).startswith("250"), r
    assert find_message(srv, CAROL, subject.encode())


def test_submission_without_from_keeps_being_accepted(srv):
    with open_smtp(srv, "submissions", auth=ALICE) as c:
        r = send_mail(c, ALICE, [CAROL], "To: %s\r\nSubject: no from header\r\n\r\nHi.\r\n" % CAROL)
        assert last(r).startswith("250"), r


def test_jmap_foreign_header_from_forbidden(srv):
    cl = Jmap(srv, ALICE)
    before = len(imap_messages(srv, CAROL))
    for hdr in ("From: Bob <%s>\r\n" % BOB, "From: <%s>\r\nSender: <%s>\r\n" % (ALICE, BOB)):
        eid = cl.import_raw((hdr + "To: <%s>\r\nSubject: jmap spoof\r\n\r\nHi.\r\n" % CAROL).encode())
        r = cl.submit(eid, ALICE, [CAROL])  # the envelope is alice's own: only the header is wrong
        assert r["notCreated"]["s"]["type"] == "forbiddenFrom", r
    assert len(imap_messages(srv, CAROL)) == before
    # an alias of hers in From: is hers
    eid = cl.import_raw(("From: <%s>\r\nTo: <%s>\r\nSubject: jmap alias from\r\n\r\nHi.\r\n" % (ALIAS, CAROL)).encode())
    r = cl.submit(eid, ALICE, [CAROL])
    assert "s" in r.get("created", {}), r
    assert find_message(srv, CAROL, b"jmap alias from")


@pytest.mark.parametrize("sender", ["<%s>" % ALICE, "<Nobody-Here@%s>" % DOMAIN.upper(), "<%s>" % ALIAS,
                                    '<"alice"@%s>' % DOMAIN, "<@remote.test:%s>" % ALICE])
def test_port25_local_sender_refused(srv, sender):
    with open_smtp(srv) as c:
        r = cmd(c, "MAIL FROM:%s" % sender)
        assert last(r).startswith("553 5.7.1"), r
        assert code(cmd(c, "RCPT TO:<%s>" % CAROL)) == "503"  # no transaction was opened


def test_port25_remote_and_null_sender_accepted(srv):
    with open_smtp(srv) as c:
        r = send_mail(c, "someone@remote.test", [CAROL], simple_message("p25 remote", frm="someone@remote.test", to=CAROL))
        assert last(r).startswith("250"), r
        r = send_mail(c, "", [CAROL], simple_message("p25 null", frm="mailer-daemon@remote.test", to=CAROL))
        assert last(r).startswith("250"), r
        assert code(cmd(c, "MAIL FROM:<postmaster@[127.0.0.1]>")) == "250"  # an address literal is never local


def test_port25_with_auth_is_checked_like_submission(srv):
    with open_smtp(srv, auth=ALICE) as c:  # loopback: AUTH in the clear on 25
        r = send_mail(c, ALICE, [CAROL], message(ALICE, CAROL, "p25 auth own"))
        assert last(r).startswith("250"), r
        r = send_mail(c, ALICE, [CAROL], message(BOB, CAROL, "p25 auth bob"))
        assert last(r).startswith("553 5.7.1"), r


# ---------------------------------------------------------------------------
# Return-Path at final delivery


def test_return_path_port25_replaces_incoming(srv):
    data = message("someone@remote.test", CAROL, "rp port25", extra="Return-Path: <forged@evil.test>\r\n")
    with open_smtp(srv) as c:
        r = send_mail(c, "bounces+x@remote.test", [CAROL], "Return-Path: <first@evil.test>\r\n" + data)
        assert last(r).startswith("250"), r
    m = find_message(srv, CAROL, b"rp port25")[0]
    assert helpers.port25_head("bounces+x@remote.test").match(m), m[:400]
    head = m.split(b"\r\n\r\n")[0]
    assert head.lower().count(b"return-path:") == 1 and b"evil.test" not in head, head


def test_return_path_null_sender(srv):
    with open_smtp(srv) as c:
        r = send_mail(c, "", [CAROL], message("mailer-daemon@remote.test", CAROL, "rp null"))
        assert last(r).startswith("250"), r
    assert find_message(srv, CAROL, b"rp null")[0].startswith(b"Return-Path: <>\r\n")


def test_return_path_submission_and_jmap(srv):
    with open_smtp(srv, "submissions", auth=ALICE) as c:
        r = send_mail(c, ALIAS, [CAROL], message(ALICE, CAROL, "rp submission"))
        assert last(r).startswith("250"), r
    assert find_message(srv, CAROL, b"rp submission")[0].startswith(b"Return-Path: <%s>\r\n" % ALIAS.encode())
    cl = Jmap(srv, ALICE)
    eid = cl.import_raw(message(ALICE, CAROL, "rp jmap", extra="Return-Path: <x@evil.test>\r\n").encode())
    r = cl.submit(eid, ALICE, [CAROL])
    assert "s" in r.get("created", {}), r
    m = find_message(srv, CAROL, b"rp jmap")[0]
    assert m.startswith(b"Return-Path: <%s>\r\n" % ALICE.encode()), m[:200]
    assert b"evil.test" not in m.split(b"\r\n\r\n")[0]


def test_return_path_of_a_bounce(srv):
    # the capture server refuses reject-*@remote.test: the queue bounces to alice at once
    with open_smtp(srv, "submissions", auth=ALICE) as c:
        r = send_mail(c, ALICE, ["reject-me@remote.test"], message(ALICE, "reject-me@remote.test", "rp bounce"))
        assert last(r).startswith("250"), r
    got = find_message(srv, ALICE, b"reject-me@remote.test", timeout=20)
    assert got, srv.log_tail()
    assert got[0].startswith(b"Return-Path: <>\r\n"), got[0][:200]


# ---------------------------------------------------------------------------
# quota refusals


BIG = "q" * 70 + "\r\n"


def test_quota_port25_temporary_and_logged(srv):
    since = srv.log_size()
    with open_smtp(srv) as c:
        r = send_mail(c, "sender@remote.test", [FULL], message("sender@remote.test", FULL, "too big", body=BIG * 60))
        assert last(r).startswith("452 4.2.2"), r
        assert code(cmd(c, "MAIL FROM:<sender@remote.test> SIZE=10000")) == "250"
        r = cmd(c, "RCPT TO:<%s>" % FULL)
        assert last(r).startswith("452 4.2.2"), r
    assert srv.wait_log(r"event=quota_rejected from=<sender@remote\.test> to=<> reply=452", since=since)
    assert srv.wait_log(r"event=quota_rejected from=<sender@remote\.test> to=<%s> reply=452" % FULL, since=since)


def test_quota_submission_permanent(srv):
    since = srv.log_size()
    with open_smtp(srv, "submissions", auth=ALICE) as c:
        r = send_mail(c, ALICE, [FULL], message(ALICE, FULL, "too big sub", body=BIG * 60))
        assert last(r).startswith("552 5.2.2"), r
    assert srv.wait_log(r"event=quota_rejected from=<%s> to=<> reply=552" % ALICE, since=since)


def test_quota_imap_append_logged(srv):
    since = srv.log_size()
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    try:
        m.login(FULL, "secret")
        typ, data = m.append("INBOX", None, None, message(FULL, FULL, "append big", body=BIG * 60).encode())
        assert typ == "NO" and b"OVERQUOTA" in data[0], (typ, data)
    finally:
        m.logout()
    assert srv.wait_log(r"event=quota_rejected user=%s" % FULL, since=since)


def test_quota_permanent_when_configured(make_server):
    s = make_server(["smtp.quota_full_temporary = no"], users=[ALICE])
    assert s.run("user", "add", FULL, "--quota", "2K", input="secret\n").returncode == 0
    with open_smtp(s) as c:
        r = send_mail(c, "sender@remote.test", [FULL], message("sender@remote.test", FULL, "too big", body=BIG * 60))
        assert last(r).startswith("552 5.2.2"), r
    assert s.wait_log(r"event=quota_rejected .*reply=552")
