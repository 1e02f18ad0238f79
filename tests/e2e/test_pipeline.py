"""One message pipeline (src/submit) for every way a message is sent: the same message
through submission on port 587 (STARTTLS, AUTH), port 465 (implicit TLS, AUTH) and the
webmail (JMAP EmailSubmission) is stored with the same trace headers (Return-Path,
Received, then Date and Message-ID when missing, in that order and shape), and the same
bad inputs get the same refusal on all three: a foreign From:, a recipient over quota,
a message over limits.message_size (one definition: the bytes sent, before trace
headers), an unknown local recipient. postmaster@ a local domain without such an
account reaches the domain's first account over JMAP as over SMTP (it was refused
over JMAP before the pipeline). The queue's bounces take the pipeline too: stored with
`Return-Path: <>` and the pipeline's `Received:`."""

import re

import pytest

from conftest import DOMAIN, finish_server, new_server
from test_smtp import cmd, code, dot_stuff, open_smtp
from helpers import CaptureSMTP as Capture
from test_smtp_policy import Jmap, find_message

ALICE, BOB, FULL = "alice@" + DOMAIN, "bob@" + DOMAIN, "full@" + DOMAIN
MAX = 32 * 1024
PATHS = ("submission", "submissions", "webmail")


def sized(subject, n, frm=ALICE, to=BOB, extra=""):
    """A CRLF message of exactly n bytes."""
    head = "From: %s\r\nTo: %s\r\nSubject: %s\r\n%s\r\n" % (frm, to, subject, extra)
    body = ""
    while len(head) + len(body) + 74 <= n:
        body += "x" * 70 + "\r\n"
    rest = n - len(head) - len(body)
    assert rest >= 2
    body += "y" * (rest - 2) + "\r\n"
    data = head + body
    assert len(data) == n
    return data


@pytest.fixture(scope="module")
def srv(postamt_bin, tmp_path_factory):
    # drafts over the final limit can only be made while the limit is higher: make
    # them, then restart with limits.message_size = MAX. remote.test is a capture
    # server that refuses reject-*@ (for bounces).
    cap = Capture()
    s = new_server(postamt_bin, tmp_path_factory, ["limits.message_size = %d" % (2 * MAX), "queue.retry_initial = 1",
                                                   "queue.retry_max = 2", "route.remote.test = 127.0.0.1:%d" % cap.port],
                   users=[ALICE, BOB])
    assert s.run("user", "add", FULL, "--quota", "2K", input="secret\n").returncode == 0
    cl = Jmap(s, ALICE)
    s.drafts = {n: cl.import_raw(sized("size %d" % n, n).encode()) for n in (MAX, MAX + 1)}
    cl.conn.close()
    rc, _ = s.stop()
    assert rc == 0, s.log_tail()
    s.add_config("limits.message_size = %d" % MAX)
    s.start()
    yield s
    finish_server(s)
    cap.sock.close()


def smtp_try(srv, service, mail_from, rcpts, data):
    """One authenticated transaction as ALICE; the first refusal as (code, enhanced
    code), or ("250", "2.0.0")."""
    c = open_smtp(srv, service, starttls=service == "submission", auth=ALICE)
    try:
        r = cmd(c, "MAIL FROM:<%s>" % mail_from)
        if code(r) != "250":
            return code(r), r[-1][4:9]
        for rc in rcpts:
            r = cmd(c, "RCPT TO:<%s>" % rc)
            if code(r) != "250":
                return code(r), r[-1][4:9]
        r = cmd(c, "DATA")
        assert code(r) == "354", r
        c.send(dot_stuff(data))
        r = c.read_smtp_reply()
        return code(r), r[-1][4:9]
    finally:
        c.close()


def jmap_try(srv, rcpts, data=None, email_id=None):
    """EmailSubmission as ALICE with an explicit envelope; the SetError type or "ok"."""
    cl = Jmap(srv, ALICE)
    try:
        eid = email_id or cl.import_raw(data.encode())
        r = cl.submit(eid, ALICE, rcpts)
        if "s" in r.get("created", {}):
            return "ok"
        return r["notCreated"]["s"]["type"]
    finally:
        cl.conn.close()


def send(srv, path, rcpts, data=None, email_id=None):
    """Sends through path; a refusal category from the two mapping tables, or "ok"."""
    if path == "webmail":
        t = jmap_try(srv, rcpts, data, email_id)
        return {"ok": "ok", "forbiddenFrom": "foreign_from", "overQuota": "over_quota", "tooLarge": "too_big",
                "invalidRecipients": "unknown_rcpt"}.get(t, t)
    got = smtp_try(srv, path, ALICE, rcpts, data)
    return {("250", "2.0.0"): "ok", ("553", "5.7.1"): "foreign_from", ("552", "5.2.2"): "over_quota",
            ("552", "5.3.4"): "too_big", ("550", "5.1.1"): "unknown_rcpt"}.get(got, got)


def header_of(msg):
    """[(name, value)] of the header, folded lines joined."""
    head = msg.split(b"\r\n\r\n")[0].decode()
    fields = []
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t"):
            fields[-1] = (fields[-1][0], fields[-1][1] + "\r\n" + line)
        else:
            name, _, value = line.partition(":")
            fields.append((name, value.strip()))
    return fields


RECEIVED = re.compile(r"^from (client\.example\.org|webmail) \(\[127\.0\.0\.1\]\)\r\n\tby localhost \(postamt\) "
                      r"with (ESMTPSA|HTTPSA) id \S+\r\n\tfor <%s>;\r\n\t\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d "
                      r"\+0000$" % re.escape(BOB))


@pytest.mark.parametrize("dated", [False, True])
def test_same_trace_headers_on_every_path(srv, dated):
    shapes = {}
    for path in PATHS:
        subject = "trace %s %s" % (path, dated)
        extra = "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\nMessage-ID: <%s@x.test>\r\n" % path if dated else ""
        assert send(srv, path, [BOB], sized(subject, 400, extra=extra)) == "ok"
        stored = find_message(srv, BOB, subject.encode())
        assert len(stored) == 1, (path, stored)
        fields = header_of(stored[0])
        names = [n for n, _ in fields]
        first_own = names.index("From")
        shapes[path] = names[:first_own]
        rp = dict(fields)["Return-Path"]
        assert rp == "<%s>" % ALICE, (path, rp)
        received = [v for n, v in fields if n == "Received"]
        assert len(received) == 1 and RECEIVED.match(received[0]), (path, received)
        if dated:
            assert ("Message-ID", "<%s@x.test>" % path) in fields, fields
    # the signing hook's two DKIM-Signature fields stand above the trace headers
    sigs = ["DKIM-Signature", "DKIM-Signature"]
    want = ["Return-Path"] + sigs + (["Received"] if dated else ["Received", "Date", "Message-ID"])
    assert shapes == {p: want for p in PATHS}, shapes


@pytest.mark.parametrize("case", ["foreign_from", "over_quota", "too_big", "unknown_rcpt"])
def test_same_refusals_on_every_path(srv, case):
    got = {}
    for path in PATHS:
        rcpts, data, eid = [BOB], None, None
        if case == "foreign_from":
            data = sized("foreign %s" % path, 300, frm=BOB)
        elif case == "over_quota":
            rcpts, data = [FULL], sized("quota %s" % path, 3000, to=FULL)
        elif case == "too_big":
            data = sized("size %d" % (MAX + 1), MAX + 1)
            eid = srv.drafts[MAX + 1] if path == "webmail" else None
        else:
            rcpts, data = ["nobody@" + DOMAIN], sized("unknown %s" % path, 300, to="nobody@" + DOMAIN)
        got[path] = send(srv, path, rcpts, None if eid else data, eid)
    assert got == {p: case for p in PATHS}, got


def test_size_limit_is_the_bytes_sent(srv):
    """Exactly limits.message_size bytes pass on every path (trace headers do not count)."""
    for path in PATHS:
        eid = srv.drafts[MAX] if path == "webmail" else None
        data = None if eid else sized("size %d" % MAX, MAX)
        assert send(srv, path, [BOB], data, eid) == "ok", path


def test_postmaster_over_jmap_and_smtp(srv):
    # no account or alias postmaster@: the domain's first account (alice) gets it
    for path in PATHS:
        subject = "to postmaster %s" % path
        assert send(srv, path, ["postmaster@" + DOMAIN], sized(subject, 300, to="postmaster@" + DOMAIN)) == "ok"
        assert find_message(srv, ALICE, subject.encode()), path


def test_bounce_goes_through_the_pipeline(srv):
    """A bounce is stored like any message: Return-Path <> and the pipeline's Received on top."""
    assert send(srv, "submissions", ["reject-pipeline@remote.test"],
                sized("will bounce", 300, to="reject-pipeline@remote.test")) == "ok"
    got = find_message(srv, ALICE, b"reject-pipeline@remote.test", timeout=20)
    assert got, srv.log_tail()
    assert re.match(rb"Return-Path: <>\r\nReceived: by localhost \(postamt\) id \S+\r\n\tfor <%s>;\r\n\t" % ALICE.encode(),
                    got[0]), got[0][:200]
