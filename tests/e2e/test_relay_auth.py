"""Smarthost login (route_auth, route_tls; src/queue/queue_client.c), end to end with
two postamt instances: A routes b.test (or everything, route.*) to B's submission port
and logs in there with AUTH PLAIN, after STARTTLS on 587 or on implicit TLS on 465
(route_tls = implicit); B is a relay like a provider's, where the login is an account
(alice@example.test, the same address as A's sender). A wrong password keeps the mail
queued with a loud log line, and a SIGHUP with the right one delivers it; a relay that
offers AUTH without TLS never gets the password. The password never appears in either
server's log nor in `postamt check`."""

import re
import signal

import pytest

from helpers import CaptureSMTP
from test_queue import QUEUE_KEYS, inbox, queue_list, submit, wait_inbox, wait_queue

PASSWORD = "re:lay pw=+/\\x\"1"  # ':' ' ' '=' '+' '/' '\\' '"': AUTH PLAIN carries them all


def relay(make_server):
    """B: serves b.test (bob) and knows alice@example.test as an account with PASSWORD."""
    b = make_server([], start=False, domain="b.test")
    b.add_user("bob@b.test")
    r = b.run("domain", "add", "example.test")
    assert r.returncode == 0, r.stderr
    b.add_user("alice@example.test", PASSWORD)
    b.start()
    return b


def sender(make_server, lines):
    return make_server(QUEUE_KEYS + lines, users=["alice@example.test"])


def no_password_anywhere(*servers):
    for s in servers:
        assert PASSWORD not in s.log(), "password in the log of %s" % s.dir
        r = s.run("check")
        assert PASSWORD not in r.stdout + r.stderr


@pytest.mark.parametrize("route,login", [("b.test", "b.test"), ("*", "*"), ("*", "b.test")])
def test_login_after_starttls_on_587(make_server, route, login):
    """route_auth.DOMAIN with route.DOMAIN, route_auth.* with route.*, and route_auth.DOMAIN
    for DOMAIN's mail through route.*."""
    b = relay(make_server)
    a = sender(make_server, ["route.%s = 127.0.0.1:%d" % (route, b.port("submission")),
                             "route_auth.%s = alice@example.test:%s" % (login, PASSWORD)])
    submit(a, "bob@b.test", subject="via the relay")
    got = wait_inbox(b, "bob@b.test", lambda m: m["Subject"] == "via the relay")
    assert "Hello from A." in got.get_payload()
    # B took it as an authenticated submission of alice's
    assert re.search(r"with ESMTPSA", str(got["Received"])), got["Received"]
    assert a.wait_log(r"event=queue_tls .*version=TLSv1\.[23]", timeout=5)
    assert a.wait_log(r"event=queue_auth id=\S+ host=127\.0\.0\.1 user=alice@example\.test", timeout=5)
    wait_queue(a, lambda out: out.strip() == "queue is empty")
    no_password_anywhere(a, b)


def test_login_on_implicit_tls_465(make_server):
    b = relay(make_server)
    a = sender(make_server, ["route.b.test = 127.0.0.1:%d" % b.port("submissions"),
                             "route_tls.b.test = implicit",
                             "route_auth.b.test = alice@example.test:%s" % PASSWORD])
    submit(a, "bob@b.test", subject="via 465")
    wait_inbox(b, "bob@b.test", lambda m: m["Subject"] == "via 465")
    assert a.wait_log(r"event=queue_tls .* mode=implicit", timeout=5)
    no_password_anywhere(a, b)


def test_wrong_password_stays_queued_until_reload(make_server):
    b = relay(make_server)
    a = sender(make_server, ["route.b.test = 127.0.0.1:%d" % b.port("submission"),
                             "route_auth.b.test = alice@example.test:not-the-password"])
    submit(a, "bob@b.test", subject="after the fix")
    m = a.wait_log(r"^\S+ error event=queue_auth_failed id=\S+ host=127\.0\.0\.1 user=alice@example\.test "
                   r"error=\"[^\"]*login as alice@example\.test refused: 535 ", timeout=15)
    assert m, a.log_tail()
    out = wait_queue(a, lambda out: "bob@b.test" in out and "deferred" in out)
    assert "535" in out
    assert not [x for x in inbox(b, "bob@b.test") if x["Subject"] == "after the fix"]
    assert not [x for x in inbox(a, "alice@example.test") if "Undelivered" in (x["Subject"] or "")]  # no bounce
    assert "not-the-password" not in a.log()
    # the admin fixes the key; a reload and a flush deliver it
    since = a.log_size()
    a.add_config("route_auth.b.test = alice@example.test:%s" % PASSWORD)
    a.send_signal(signal.SIGHUP)
    assert a.wait_log(r"event=reloaded", since=since), a.log_tail()
    assert a.run("queue", "flush").returncode == 0
    wait_inbox(b, "bob@b.test", lambda m: m["Subject"] == "after the fix")
    wait_queue(a, lambda out: out.strip() == "queue is empty")
    no_password_anywhere(a, b)


def test_relay_without_tls_never_gets_the_password(make_server):
    cap = CaptureSMTP(ehlo_extra=[b"AUTH PLAIN LOGIN"])
    try:
        a = sender(make_server, ["route.b.test = 127.0.0.1:%d" % cap.port,
                                 "route_auth.b.test = alice@example.test:%s" % PASSWORD])
        submit(a, "bob@b.test", subject="not in the clear")
        assert a.wait_log(r"error event=queue_auth_failed .*the relay offers no STARTTLS; the password is not sent "
                          r"in the clear", timeout=15), a.log_tail()
        out = wait_queue(a, lambda out: "bob@b.test" in out and "deferred" in out)
        assert "no STARTTLS" in out
        with cap.lock:
            lines = list(cap.lines)
        assert lines and lines[0].upper().startswith(b"EHLO")
        assert not [l for l in lines if l[:4].upper() in (b"AUTH", b"MAIL")], lines
        assert not cap.messages
        no_password_anywhere(a)
    finally:
        cap.close()
