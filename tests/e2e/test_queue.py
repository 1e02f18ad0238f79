"""The outbound queue end to end: two postamt instances on loopback that deliver to
each other through `route.` keys (issue 4, Tests).

Server A serves example.test (alice), server B serves b.test (bob). A has
`route.b.test = 127.0.0.1:<B's SMTP port>`; mail is submitted to A on 587 with AUTH
over STARTTLS and read with IMAP. The queue's retry timing uses the configuration
keys `queue.retry_initial` / `queue.retry_max` (seconds).

Needs: the SMTP server (src/smtpd) submitting remote recipients to the queue, the
queue started by `serve`, `queue` wired into main.c, and the queue.* keys in the
configuration table. Tests marked NEEDS_SMTPD fail until smtpd lands; the CLI tests
at the end need only main.c's `queue` command.
"""

import email
import imaplib
import re
import smtplib
import time

from helpers import imap_messages


def NEEDS_SMTPD(fn):
    """Marks (for readers) a test that fails until smtpd submits to the queue."""
    fn.needs_smtpd = True
    return fn

QUEUE_KEYS = ["queue.retry_initial = 1", "queue.retry_max = 2"]


def make_pair(make_server, start_b=True, b_config=()):
    """Server B (b.test, bob) and server A (example.test, alice) routing b.test to B.
    B does not serve example.test: its port 25 refuses local senders without a login,
    so alice@example.test must be a remote sender there, as on the Internet."""
    b = make_server(list(b_config), start=False, domain="b.test")
    b.add_user("bob@b.test")
    if start_b:
        b.start()
    a = make_server(QUEUE_KEYS + ["route.b.test = 127.0.0.1:%d" % b.port("smtp")],
                    users=["alice@example.test"])
    return a, b


def submit(a, to, subject="queue test", sender="alice@example.test", body="Hello from A.\r\n.dot line\r\n"):
    msg = ("From: Alice <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@example.test>\r\n\r\n%s"
           % (sender, to, subject, re.sub(r"\W", "", subject) + str(time.time()), body))
    with smtplib.SMTP(a.host, a.port("submission"), timeout=10) as s:
        s.starttls(context=a.ssl_context())
        s.login("alice@example.test", "secret")
        refused = s.sendmail(sender, [to], msg.encode())
        assert refused == {}
    return msg


def inbox(srv, user, password="secret"):
    """Every message in user's INBOX as email.message.Message objects."""
    return [email.message_from_bytes(m) for m in imap_messages(srv, user, password)]


def wait_inbox(srv, user, pred, timeout=20):
    deadline = time.monotonic() + timeout
    msgs = []
    while time.monotonic() < deadline:
        try:
            msgs = inbox(srv, user)
        except (OSError, imaplib.IMAP4.error):
            msgs = []
        found = [m for m in msgs if pred(m)]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError("no matching message in %s's INBOX within %ss; have subjects %r\n%s"
                         % (user, timeout, [m["Subject"] for m in msgs], srv.log_tail()))


def queue_list(srv):
    r = srv.run("queue", "list")
    assert r.returncode == 0, r.stderr
    return r.stdout


def wait_queue(srv, pred, timeout=20):
    deadline = time.monotonic() + timeout
    out = ""
    while time.monotonic() < deadline:
        out = queue_list(srv)
        if pred(out):
            return out
        time.sleep(0.2)
    raise AssertionError("queue never matched; last listing:\n%s\n%s" % (out, srv.log_tail()))


# ---------------------------------------------------------------------------
# delivery between two instances


@NEEDS_SMTPD
def test_delivers_to_other_instance_over_starttls(make_server):
    a, b = make_pair(make_server)
    submit(a, "bob@b.test", subject="over the wire")
    got = wait_inbox(b, "bob@b.test", lambda m: m["Subject"] == "over the wire")
    assert "Hello from A." in got.get_payload()
    assert ".dot line" in got.get_payload() and "..dot line" not in got.get_payload()
    # the queue said STARTTLS with B and logged the TLS version
    a.wait_log(r"event=queue_tls .*version=TLSv1\.[23]", timeout=5)
    a.wait_log(r"event=queue_delivered .*to=<bob@b\.test>", timeout=5)
    wait_queue(a, lambda out: out.strip() == "queue is empty")


@NEEDS_SMTPD
def test_destination_down_stays_queued_then_delivered(make_server):
    a, b = make_pair(make_server, start_b=False)
    submit(a, "bob@b.test", subject="while you were down")
    out = wait_queue(a, lambda out: "bob@b.test" in out and "deferred" in out)
    assert "connection refused" in out
    assert "<alice@example.test>" in out
    b.start()
    # retried on its own after the (1 s) backoff; flush makes it immediate either way
    r = a.run("queue", "flush")
    assert r.returncode == 0, r.stderr
    wait_inbox(b, "bob@b.test", lambda m: m["Subject"] == "while you were down")
    wait_queue(a, lambda out: out.strip() == "queue is empty")


@NEEDS_SMTPD
def test_permanent_failure_bounces_to_local_sender(make_server):
    a, b = make_pair(make_server)
    submit(a, "nobody@b.test", subject="to nobody")
    dsn = wait_inbox(a, "alice@example.test", lambda m: "Undelivered" in (m["Subject"] or ""))
    assert dsn.get_content_type() == "multipart/report"
    assert dsn.get_param("report-type") == "delivery-status"
    assert dsn["From"].startswith("Mail Delivery System <MAILER-DAEMON@")
    parts = dsn.get_payload()
    report = parts[1].as_string()
    assert "Final-Recipient: rfc822; nobody@b.test" in report
    assert "Action: failed" in report
    assert re.search(r"Status: 5\.1\.1", report)
    # the original headers (RET=HDRS by default), not the body
    original = parts[2].as_string()
    assert "Subject: to nobody" in original
    assert "Hello from A." not in original
    # nothing left queued, nothing delivered at B
    wait_queue(a, lambda out: out.strip() == "queue is empty")
    assert not [m for m in inbox(b, "bob@b.test") if m["Subject"] == "to nobody"]


@NEEDS_SMTPD
def test_restart_in_between(make_server):
    a, b = make_pair(make_server, start_b=False)
    submit(a, "bob@b.test", subject="survives a restart")
    wait_queue(a, lambda out: "deferred" in out)
    rc, _ = a.stop()
    assert rc == 0
    assert "bob@b.test" in queue_list(a)  # still on disk, listed without a server
    b.start()
    a.start()
    wait_inbox(b, "bob@b.test", lambda m: m["Subject"] == "survives a restart")
    wait_queue(a, lambda out: out.strip() == "queue is empty")


@NEEDS_SMTPD
def test_killed_server_loses_nothing(make_server):
    a, b = make_pair(make_server, start_b=False)
    submit(a, "bob@b.test", subject="survives SIGKILL")
    a.kill()  # the 250 was sent: the message must be on disk
    assert "bob@b.test" in queue_list(a)
    b.start()
    a.start()
    wait_inbox(b, "bob@b.test", lambda m: m["Subject"] == "survives SIGKILL")


# ---------------------------------------------------------------------------
# delivery through MX records asked of a DNS server (dns.server, the stub)


def make_mx_pair(make_server, dns_stub, key="dns.server", extra=()):
    """B serves b.test; A finds it through the MX of b.test at the stub DNS server
    (no route), on B's SMTP port (queue.smtp_port: the MX port, 25 on the Internet)."""
    b = make_server(start=False, domain="b.test")
    b.add_user("bob@b.test")
    b.start()
    a = make_server(QUEUE_KEYS + ["%s = %s" % (key, dns_stub.server), "queue.smtp_port = %d" % b.port("smtp")]
                    + list(extra), users=["alice@example.test"])
    return a, b


def test_delivers_through_mx_at_dns_server(make_server, dns_stub):
    dns_stub.set("b.test", {"MX": ["20 backup.b.test.", "10 mx.b.test."]})
    dns_stub.set("mx.b.test", {"A": ["127.0.0.1"]})
    dns_stub.set("backup.b.test", {"A": ["127.0.0.1"]})
    a, b = make_mx_pair(make_server, dns_stub)
    submit(a, "bob@b.test", subject="via MX")
    wait_inbox(b, "bob@b.test", lambda m: m["Subject"] == "via MX")
    assert dns_stub.count("b.test", "MX") >= 1
    assert dns_stub.count("mx.b.test", "A") >= 1
    wait_queue(a, lambda out: out.strip() == "queue is empty")


def test_old_key_queue_dns_server_still_works(make_server, dns_stub):
    # no MX: the domain's own address is its mail exchanger (RFC 5321 §5.1)
    dns_stub.set("b.test", {"A": ["127.0.0.1"]})
    a, b = make_mx_pair(make_server, dns_stub, key="queue.dns_server")
    submit(a, "bob@b.test", subject="implicit MX, old key")
    wait_inbox(b, "bob@b.test", lambda m: m["Subject"] == "implicit MX, old key")
    assert dns_stub.count("b.test", "MX") >= 1 and dns_stub.count("b.test", "A") >= 1


def test_null_mx_and_nxdomain_bounce(make_server, dns_stub):
    dns_stub.set("b.test", {"MX": ["0 ."]})
    a, b = make_mx_pair(make_server, dns_stub)
    submit(a, "bob@b.test", subject="to a null MX")
    dsn = wait_inbox(a, "alice@example.test", lambda m: "Undelivered" in (m["Subject"] or ""))
    assert re.search(r"Status: 5\.1\.10", dsn.get_payload()[1].as_string())
    submit(a, "carol@nowhere.test", subject="to no domain")
    wait_inbox(a, "alice@example.test", lambda m: "Undelivered" in (m["Subject"] or "")
               and "carol@nowhere.test" in m.get_payload()[1].as_string())
    wait_queue(a, lambda out: out.strip() == "queue is empty")


def test_dns_timeout_defers(make_server, dns_stub):
    dns_stub.set("b.test", "timeout")
    a, b = make_mx_pair(make_server, dns_stub, extra=["dns.timeout = 300ms"])
    submit(a, "bob@b.test", subject="DNS is down")
    out = wait_queue(a, lambda out: "bob@b.test" in out and "deferred" in out)
    assert "DNS timeout" in out
    # DNS comes back: delivered on a retry
    dns_stub.set("b.test", {"MX": ["10 mx.b.test."]})
    dns_stub.set("mx.b.test", {"A": ["127.0.0.1"]})
    assert a.run("queue", "flush").returncode == 0
    wait_inbox(b, "bob@b.test", lambda m: m["Subject"] == "DNS is down")


# ---------------------------------------------------------------------------
# the command line (needs only `queue` in main.c)


def test_queue_list_empty(new_datadir):
    d = new_datadir()
    r = d.run("queue", "list")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "queue is empty"


def test_queue_flush_and_usage(new_datadir):
    d = new_datadir()
    r = d.run("queue", "flush")
    assert r.returncode == 0, r.stderr
    assert "flush requested" in r.stdout
    r = d.run("queue", "frobnicate")
    assert r.returncode == 1
    assert r.stderr.startswith("postamt: ") and len(r.stderr.strip().splitlines()) == 1
