"""Per-account hourly send limits (limits.send_per_hour, limits.recipients_per_hour;
src/submit/send_limit.c): an account that sent its allowance in the last hour gets
`451 4.7.1` on submission (587 with STARTTLS, 465) and the JMAP SetError `rateLimit`
in the webmail; the refusal is logged as `event=send_limit`, the first one per account
and hour at level warn; port 25 is never counted; local recipients count; a SIGHUP
applies a new limit at once. Each test uses its own accounts, since the counts last an
hour."""

import signal
import smtplib

import pytest

from conftest import DOMAIN, finish_server, new_server
from helpers import CaptureSMTP
from test_smtp_policy import Jmap, message

MESSAGES, RECIPIENTS = 3, 6


@pytest.fixture(scope="module")
def srv(postamt_bin, tmp_path_factory):
    cap = CaptureSMTP()
    users = ["%s@%s" % (u, DOMAIN) for u in ("alice", "bob", "carol", "dave", "erin", "frank", "rcpt")]
    s = new_server(postamt_bin, tmp_path_factory,
                   ["limits.send_per_hour = %d" % MESSAGES, "limits.recipients_per_hour = %d" % RECIPIENTS,
                    "route.remote.test = 127.0.0.1:%d" % cap.port], users=users)
    yield s
    finish_server(s)
    cap.close()


def addr(user):
    return "%s@%s" % (user, DOMAIN)


def login(srv, user, service):
    if service == "submissions":
        s = smtplib.SMTP_SSL(srv.host, srv.port("submissions"), context=srv.ssl_context(), timeout=10)
    else:
        s = smtplib.SMTP(srv.host, srv.port("submission"), timeout=10)
        s.starttls(context=srv.ssl_context())
    s.login(addr(user), "secret")
    return s


def smtp_send(srv, user, rcpts, service="submission", subject="limited"):
    """The replies to MAIL, each RCPT and the data, as (code, text); stops at the first refusal
    of MAIL or of every RCPT."""
    s = login(srv, user, service)
    try:
        replies = [s.mail(addr(user))]
        if replies[0][0] != 250:
            return replies
        for r in rcpts:
            replies.append(s.rcpt(r))
        if all(c != 250 for c, _ in replies[1:]):
            return replies
        replies.append(s.data(message(addr(user), rcpts[0], subject).encode()))
        return replies
    finally:
        s.quit()


def test_nth_plus_one_message_on_587_and_465(srv):
    for i in range(MESSAGES):
        r = smtp_send(srv, "alice", [addr("rcpt")], service=("submission", "submissions")[i % 2])
        assert [c for c, _ in r] == [250, 250, 250], r
    since = srv.log_size()
    for service in ("submission", "submissions"):
        code, text = smtp_send(srv, "alice", [addr("rcpt")], service=service)[0]
        assert code == 451 and text.startswith(b"4.7.1 "), (code, text)
        assert b"3 messages per hour" in text
    # logged; the admin warned once (warn), the second refusal at level info
    m = srv.wait_log(r"^\S+ warn event=send_limit account=alice@%s kind=messages limit=3 stage=mail note=" % DOMAIN,
                     since=since)
    assert m, srv.log_tail()
    assert srv.wait_log(r"^\S+ info event=send_limit account=alice@%s kind=messages" % DOMAIN, since=since)
    assert len([l for l in srv.log()[since:].splitlines() if " warn event=send_limit " in l]) == 1


def test_port_25_is_not_counted(srv):
    for i in range(MESSAGES + 2):
        with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=10) as s:
            s.ehlo("mx.remote.test")
            assert s.sendmail("x@remote.test", [addr("bob")], message("x@remote.test", addr("bob"), "mx %d" % i)) == {}
    # and bob, who received them, can still send
    r = smtp_send(srv, "bob", [addr("rcpt")])
    assert [c for c, _ in r] == [250, 250, 250], r


def test_webmail_gets_rate_limit(srv):
    cl = Jmap(srv, addr("carol"))
    try:
        for i in range(MESSAGES):
            eid = cl.import_raw(message(addr("carol"), addr("rcpt"), "web %d" % i).encode())
            r = cl.submit(eid, addr("carol"), [addr("rcpt")])
            assert "s" in r.get("created", {}), r
        eid = cl.import_raw(message(addr("carol"), addr("rcpt"), "web over").encode())
        r = cl.submit(eid, addr("carol"), [addr("rcpt")])
        err = r["notCreated"]["s"]
        assert err["type"] == "rateLimit", err
        assert "3 messages per hour" in err["description"]
    finally:
        cl.conn.close()
    # the same account is refused on 587 too: one count per account
    code, text = smtp_send(srv, "carol", [addr("rcpt")])[0]
    assert code == 451 and text.startswith(b"4.7.1")


def test_recipients_at_rcpt_local_ones_count(srv):
    # four recipients, two local and two remote: 4 of 6
    rcpts = [addr("rcpt"), addr("bob"), "x@remote.test", "y@remote.test"]
    r = smtp_send(srv, "dave", rcpts)
    assert [c for c, _ in r] == [250] * 6, r
    # the next transaction: two more fit, the third is refused at RCPT (the client learns early)
    r = smtp_send(srv, "dave", [addr("rcpt"), "z@remote.test", addr("bob")], service="submissions")
    assert [c for c, _ in r[:4]] == [250, 250, 250, 451], r
    assert r[3][1].startswith(b"4.7.1 ") and b"6 recipients per hour" in r[3][1]
    assert r[4][0] == 250  # the two accepted ones are sent (and counted)
    code, text = smtp_send(srv, "dave", [addr("rcpt")])[0]
    assert code == 451 and b"recipients per hour" in text


def test_refused_message_does_not_count(srv):
    # a foreign From: is refused after the data: not counted
    for i in range(MESSAGES + 1):
        s = login(srv, "erin", "submission")
        try:
            s.mail(addr("erin"))
            s.rcpt(addr("rcpt"))
            code, _ = s.data(message("someone@else.test", addr("rcpt"), "foreign %d" % i).encode())
            assert code == 553
        finally:
            s.quit()
    for i in range(MESSAGES):
        r = smtp_send(srv, "erin", [addr("rcpt")])
        assert [c for c, _ in r] == [250, 250, 250], r


def test_reload_applies_new_limit(srv):
    for i in range(MESSAGES):
        assert smtp_send(srv, "frank", [addr("rcpt")])[-1][0] == 250
    assert smtp_send(srv, "frank", [addr("rcpt")])[0][0] == 451
    since = srv.log_size()
    srv.add_config("limits.send_per_hour = 0")
    srv.send_signal(signal.SIGHUP)
    assert srv.wait_log(r"event=reloaded", since=since), srv.log_tail()
    assert smtp_send(srv, "frank", [addr("rcpt")])[-1][0] == 250
    srv.add_config("limits.send_per_hour = %d" % MESSAGES)
    since = srv.log_size()
    srv.send_signal(signal.SIGHUP)
    assert srv.wait_log(r"event=reloaded", since=since), srv.log_tail()
    assert smtp_send(srv, "frank", [addr("rcpt")])[0][0] == 451
