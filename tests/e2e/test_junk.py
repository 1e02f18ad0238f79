"""The per-account junk filter (DESIGN.md §1 "Spam defence", docs/spam.md): its
verdict header on mail from port 25, forged verdicts removed, the per-account switch
and `postamt user junk`. What the filter learns and how well it judges is in the
unit tests (tests/unit/spam: the model, the hook, the accuracy over a generated
corpus); lessons from the mailboxes come with the store's training triggers.
"""

import smtplib
import time

from helpers import imap_messages, mailbox, new_user

SPAM = ("From: Lottery <win@lottery.example>\r\nTo: {to}\r\nSubject: You won\r\n"
        "X-Postamt-Junk: ham; score=0.000\r\n"
        "Message-ID: <{n}@lottery.example>\r\n\r\nClaim your prize: https://claim.example/\r\n")


HAM = ("From: Anna <anna@friends.example>\r\nTo: {to}\r\nSubject: Dinner on Friday\r\n"
       "Message-ID: <{n}@friends.example>\r\n\r\nShall we meet at eight? Love, Anna\r\n")


def send25(srv, to, data):
    with smtplib.SMTP(srv.host, srv.port("smtp"), local_hostname="client.mail.test", timeout=60) as s:
        s.ehlo()
        s.sendmail("win@lottery.example", [to], data.encode())


def junk_info(srv, addr, *flags):
    r = srv.run("user", "junk", addr, *flags)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_verdict_header_switch_and_cli(make_server):
    # mail authentication is off here: no DNS is needed, and nothing else decides
    srv = make_server(config=("mailauth.inbound = off",))
    user = new_user(srv)
    send25(srv, user, SPAM.format(to=user, n=1))
    msgs = imap_messages(srv, user)
    assert len(msgs) == 1
    head = msgs[0].split(b"\r\n\r\n", 1)[0]
    # our verdict, once, and the sender's forged one is gone
    assert head.count(b"X-Postamt-Junk:") == 1, head
    assert b"\r\nX-Postamt-Junk: untrained\r\n" in head, head
    out = junk_info(srv, user)
    assert out.startswith(user + "\tjunk filter on\n"), out
    assert "learned: 0 spam, 0 ham (untrained" in out
    assert "tokens: 0\n" in out and "contacts: 0\n" in out
    # switched off: the verdict says so
    assert "junk filter off" in junk_info(srv, user, "--off")
    send25(srv, user, SPAM.format(to=user, n=2))
    msgs = imap_messages(srv, user)
    assert b"\r\nX-Postamt-Junk: off\r\n" in msgs[-1], msgs[-1][:400]
    assert "junk filter on" in junk_info(srv, user, "--on")
    # bad use of the command
    for args in (("junk",), ("junk", user, "--maybe"), ("junk", "nobody@example.test")):
        r = srv.run("user", *args)
        assert r.returncode == 1, r.stdout
        assert r.stderr.strip(), args


def test_sent_mail_makes_contacts(make_server):
    """What a user sends makes its recipients contacts of the account."""
    srv = make_server(config=("mailauth.inbound = off",))
    alice, bob = new_user(srv), new_user(srv)
    assert "contacts: 0\n" in junk_info(srv, alice)
    with smtplib.SMTP_SSL(srv.host, srv.port("submissions"), context=srv.ssl_context(), timeout=30) as s:
        s.login(alice, "secret")
        s.sendmail(alice, [bob], ("From: %s\r\nTo: %s\r\nSubject: hi\r\n\r\nhello\r\n" % (alice, bob)).encode())
    assert "contacts: 1\n" in junk_info(srv, alice)
    assert "contacts: 0\n" in junk_info(srv, bob)
    # sent mail is not judged
    (m,) = imap_messages(srv, bob)
    assert b"X-Postamt-Junk" not in m


def test_sighup_applies_junk_keys(make_server):
    """spam.junk_min_trained applies on SIGHUP: an account with one lesson of each kind
    is untrained under the default (20) and judges once the key says 1."""
    import imaplib
    srv = make_server(config=("mailauth.inbound = off",))
    user = new_user(srv)
    send25(srv, user, SPAM.format(to=user, n=1))
    send25(srv, user, HAM.format(to=user, n=2))
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    m.login(user, "secret")
    m.select("INBOX")
    assert m.store("1", "+FLAGS", "($Junk)")[0] == "OK"
    assert m.store("2", "+FLAGS", "($NotJunk)")[0] == "OK"
    m.logout()
    deadline = time.monotonic() + 30
    while "learned: 1 spam, 1 ham" not in junk_info(srv, user) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "learned: 1 spam, 1 ham (untrained" in junk_info(srv, user)
    send25(srv, user, SPAM.format(to=user, n=3))
    assert b"\r\nX-Postamt-Junk: untrained\r\n" in imap_messages(srv, user)[-1]
    srv.add_config("spam.junk_min_trained = 1")
    since = srv.log_size()
    srv.send_signal(1)  # SIGHUP
    assert srv.wait_log(r"event=reloaded", since=since), srv.log_tail()
    assert "reload_needs_restart" not in srv.log()[since:]
    send25(srv, user, SPAM.format(to=user, n=4))
    assert not any(b"Message-ID: <4@lottery.example>" in raw for raw in imap_messages(srv, user)), \
        "judged spam: delivered to Junk"
    (raw,) = [r for r in mailbox(srv, user, "Junk") if b"<4@lottery.example>" in r]
    assert b"\r\nX-Postamt-Junk: spam; score=" in raw, raw[:400]
