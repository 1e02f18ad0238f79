"""Sieve at delivery (issue 20, docs/sieve.md "Delivery" and "Vacation").

Two servers share the module: A (example.test) where the scripts run, and B (b.test)
behind A's `route.b.test`, which captures what A's scripts send out (redirects,
vacation replies, rejection notices) in bob@b.test's INBOX. Scripts are uploaded
with python3-sievelib over ManageSieve, mail comes in on A's port 25 with smtplib,
and what was stored is read over IMAP with imaplib.
"""

import email
import imaplib
import re
import smtplib
import time

import pytest

from conftest import finish_server, new_server
from helpers import mailbox
from sievelib.managesieve import Client

USERS = ["alice@example.test", "carol@example.test", "dave@example.test", "erin@example.test",
         "frank@example.test", "gina@example.test"]


@pytest.fixture(scope="module")
def pair(postamt_bin, tmp_path_factory):
    b = new_server(postamt_bin, tmp_path_factory, [], users=["bob@b.test"], domain="b.test")
    a = new_server(postamt_bin, tmp_path_factory,
                   ["queue.retry_initial = 1", "queue.retry_max = 2",
                    "route.b.test = 127.0.0.1:%d" % b.port("smtp")], users=USERS)
    yield a, b
    finish_server(a)
    finish_server(b)


def put_active(srv, user, script, name="main"):
    c = Client(srv.host, srv.port("sieve"))
    assert c.connect(user, "secret", starttls=True, authmech="PLAIN")
    assert c.putscript(name, script), getattr(c, "errmsg", None)
    assert c.setactive(name)
    c.logout()


def send25(srv, to, subject, sender="ext@outside.test", extra="", body="Hello.\r\n", rcpts=None):
    msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s.%f@outside.test>\r\n%s\r\n%s"
           % (sender, to, subject, subject.replace(" ", "-"), time.time(), extra, body))
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=10) as s:
        s.ehlo("mx.outside.test")
        return s.sendmail(sender, rcpts or [to], msg.encode())


def wait_for(fn, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.1)


def subjects(srv, user, box="INBOX"):
    return [email.message_from_bytes(m)["Subject"] for m in mailbox(srv, user, box)]


def flags_of(srv, user, box):
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    try:
        m.login(user, "secret")
        m.select('"%s"' % box, readonly=True)
        _, data = m.fetch("1:*", "(FLAGS)")
        return [d.decode() for d in data]
    finally:
        m.logout()


def test_fileinto_create_flags_and_missing_folder(pair):
    a, _ = pair
    put_active(a, "alice@example.test", 'require ["fileinto", "mailbox", "imap4flags"];\r\n'
               'if header :contains "subject" "create" { fileinto :create :flags ["\\\\Flagged", "$Work"] "Projects/New"; }\r\n'
               'elsif header :contains "subject" "missing" { fileinto "NoSuchFolder"; }\r\n')
    send25(a, "alice@example.test", "please create")
    send25(a, "alice@example.test", "missing folder")
    assert wait_for(lambda: subjects(a, "alice@example.test", "Projects/New"), what="fileinto :create") == \
        ["please create"]
    flags = flags_of(a, "alice@example.test", "Projects/New")[0]
    assert "\\Flagged" in flags and "$Work" in flags
    # without :create a missing folder means INBOX and a log line
    assert "missing folder" in subjects(a, "alice@example.test")
    assert "please create" not in subjects(a, "alice@example.test")
    a.wait_log(r"event=hook_mailbox_missing .*mailbox=NoSuchFolder")


def test_discard_and_subaddress(pair):
    a, _ = pair
    put_active(a, "carol@example.test", 'require ["envelope", "subaddress", "fileinto", "mailbox"];\r\n'
               'if envelope :detail "to" "lists" { fileinto :create "Lists"; }\r\n'
               'elsif header :contains "subject" "drop me" { discard; }\r\n')
    send25(a, "carol+lists@example.test", "via detail")
    send25(a, "carol@example.test", "drop me now")
    send25(a, "carol@example.test", "plain one")
    wait_for(lambda: "plain one" in subjects(a, "carol@example.test"), what="plain delivery")
    assert subjects(a, "carol@example.test", "Lists") == ["via detail"]
    assert "drop me now" not in subjects(a, "carol@example.test")
    a.wait_log(r"event=sieve_discard")


def test_reject_sole_recipient_and_one_of_two(pair):
    a, b = pair
    put_active(a, "dave@example.test", 'require "reject";\r\n'
               'if header :contains "subject" "offer" { reject "No offers, thanks."; }\r\n')
    with pytest.raises(smtplib.SMTPDataError) as e:
        send25(a, "dave@example.test", "great offer")
    assert e.value.smtp_code == 550 or 500 <= e.value.smtp_code < 600
    assert b"No offers" in e.value.smtp_error
    # one of two recipients: the other gets it, the sender (bob@b.test) a notice
    refused = send25(a, "dave@example.test", "another offer", sender="bob@b.test",
                     rcpts=["dave@example.test", "erin@example.test"])
    assert refused == {}
    wait_for(lambda: "another offer" in subjects(a, "erin@example.test"), what="second recipient")
    assert "another offer" not in subjects(a, "dave@example.test")
    notice = wait_for(lambda: [m for m in mailbox(b, "bob@b.test") if b"No offers, thanks." in m],
                      what="rejection notice")
    msg = email.message_from_bytes(notice[0])
    assert msg.get_content_type() == "multipart/report"
    assert msg["Auto-Submitted"] == "auto-replied"


def test_redirect_with_loop_protection(pair):
    a, b = pair
    put_active(a, "frank@example.test", 'redirect "bob@b.test";\r\n')
    send25(a, "frank@example.test", "forward me", sender="someone@outside.test")
    got = wait_for(lambda: [m for m in mailbox(b, "bob@b.test") if b"forward me" in m], what="redirect")
    assert b"X-Postamt-Sieve-Redirect: frank@example.test" in got[0]
    # an outside sender is rewritten with SRS into our domain
    assert b"Return-Path: <SRS0=" in got[0] and b"@example.test>" in got[0]
    assert "forward me" not in subjects(a, "frank@example.test")
    # a bounce to that SRS address goes on to the original sender (queued to outside.test)
    srs = re.search(rb"Return-Path: <(SRS0=[^>]+)>", got[0]).group(1).decode()
    assert send25(a, srs, "bounce back", sender="") == {}
    a.wait_log(r"event=rcpt_rewritten rcpt=%s to=someone@outside.test" % re.escape(srs))
    with pytest.raises(smtplib.SMTPRecipientsRefused):  # a forged one is unknown
        send25(a, "SRS0=zzzz" + srs[9:], "forged", sender="")
    # two accounts redirecting to each other: the loop is cut, the message kept
    put_active(a, "gina@example.test", 'redirect "erin@example.test";\r\n', name="g")
    put_active(a, "erin@example.test", 'redirect "gina@example.test";\r\n', name="e")
    send25(a, "gina@example.test", "loop test")
    a.wait_log(r"event=sieve_redirect_loop")
    wait_for(lambda: "loop test" in subjects(a, "gina@example.test") + subjects(a, "erin@example.test"),
             what="kept after the loop")


def test_vacation_once_per_sender_never_to_lists(pair):
    a, b = pair
    put_active(a, "alice@example.test", 'require "vacation";\r\n'
               'vacation :days 1 :subject "Away" "I am away until Monday.";\r\n', name="away")
    send25(a, "alice@example.test", "first", sender="bob@b.test")
    send25(a, "alice@example.test", "second", sender="bob@b.test")
    send25(a, "alice@example.test", "list mail", sender="bob@b.test", extra="List-Id: <x.b.test>\r\n")
    send25(a, "alice@example.test", "bulk mail", sender="bob@b.test", extra="Precedence: bulk\r\n")
    send25(a, "alice@example.test", "auto mail", sender="bob@b.test", extra="Auto-Submitted: auto-generated\r\n")
    send25(a, "alice@example.test", "null sender", sender="")
    wait_for(lambda: "null sender" in subjects(a, "alice@example.test"), what="deliveries")
    replies = wait_for(lambda: [m for m in mailbox(b, "bob@b.test") if b"Subject: Away" in m], what="vacation")
    r = email.message_from_bytes(replies[0])
    assert r["Auto-Submitted"] == "auto-replied"
    assert r["In-Reply-To"] and r["In-Reply-To"].startswith("<first")
    assert b"Return-Path: <>" in replies[0]
    for why in ("already_replied", "reason=list", "reason=precedence", "reason=auto_submitted",
                "reason=null_sender"):
        a.wait_log(r"event=vacation_skipped .*" + why)
    assert len([m for m in mailbox(b, "bob@b.test") if b"Subject: Away" in m]) == 1


def test_run_time_limit_key_keeps_the_message_in_inbox(make_server):
    """sieve.max_variables holds at delivery: a script setting a third variable is
    a run-time error under a limit of 2, and the message stays in INBOX."""
    srv = make_server(["sieve.max_variables = 2"], users=["vic@example.test"])
    script = ('require ["variables", "fileinto", "mailbox"];\r\nset "a" "1";\r\nset "b" "2";\r\n'
              'if header :contains "subject" "three" { set "c" "3"; }\r\nfileinto :create "Filed";\r\n')
    put_active(srv, "vic@example.test", script)
    send25(srv, "vic@example.test", "two only")
    send25(srv, "vic@example.test", "three vars")
    wait_for(lambda: subjects(srv, "vic@example.test", "Filed") == ["two only"], what="filed")
    wait_for(lambda: subjects(srv, "vic@example.test") == ["three vars"], what="kept")
