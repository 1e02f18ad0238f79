"""The session core (lib/conn: holds, docs/architecture.md "The session core"): a client that goes away
while its command is still out (a password check on the hashing pool and its failure delay, an APPEND's
commit in the store) leaves a session that the completion finds closed; the session is freed at the last
release, exactly once, in every protocol. The failed login is the deterministic case: its completion
comes a second after the check (the limiter's delay), so the client is gone by then. Run against the
ASan build this also checks that nothing is touched after the free and nothing leaks."""
import base64
import re
import socket

import pytest

from conftest import finish_server, new_server

USER = "core@example.test"


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin, config=("log.level = debug",), users=(USER,))
    yield s
    finish_server(s)
    assert "event=conn_leak" not in s.log()


def freed_once(srv, proto, cid, since):
    assert srv.wait_log(r"conn=%s proto=%s .*event=session_freed" % (cid, proto), 10, since), srv.log_tail()
    text = srv.log()[since:]
    assert len(re.findall(r"conn=%s proto=%s .*event=session_freed" % (cid, proto), text)) == 1


def freed_after_close(srv, proto, since):
    """A connection of proto closed while its command held it, and its session was freed, once."""
    m = srv.wait_log(r"conn=(\d+) proto=%s .*event=close_held" % proto, 10, since)
    assert m, srv.log_tail()
    freed_once(srv, proto, m.group(1), since)


def fail_login_and_leave(srv, proto, since, client, send_login):
    """Sends a login with a wrong password, waits until the check failed (the reply is a second away),
    closes the socket. since: the log offset before the client connected."""
    send_login(client)
    assert srv.wait_log(r"event=auth_failed proto=%s " % proto, 10, since), srv.log_tail()
    client.sock.close()
    freed_after_close(srv, proto, since)


def test_smtp_auth_client_leaves(srv):
    since = srv.log_size()
    c = srv.connect("smtp")
    c.read_smtp_reply()
    c.sendline("EHLO client.test")
    c.read_smtp_reply()
    token = base64.b64encode(b"\0" + USER.encode() + b"\0wrong").decode()
    fail_login_and_leave(srv, "smtp", since, c, lambda c: c.sendline("AUTH PLAIN " + token))


def test_imap_login_client_leaves(srv):
    since = srv.log_size()
    c = srv.connect("imap")
    c.readline()
    fail_login_and_leave(srv, "imap", since, c, lambda c: c.sendline("a LOGIN %s wrong" % USER))


def test_imap_authenticate_client_leaves(srv):
    since = srv.log_size()
    c = srv.connect("imap")
    c.readline()
    token = base64.b64encode(b"\0" + USER.encode() + b"\0wrong").decode()
    fail_login_and_leave(srv, "imap", since, c, lambda c: c.sendline("a AUTHENTICATE PLAIN " + token))


def test_pop3_pass_client_leaves(srv):
    since = srv.log_size()
    c = srv.connect("pop3")
    c.readline()
    c.sendline("USER " + USER)
    assert c.readline().startswith("+OK")
    fail_login_and_leave(srv, "pop3", since, c, lambda c: c.sendline("PASS wrong"))


def test_sieve_authenticate_client_leaves(srv):
    since = srv.log_size()
    c = srv.connect("sieve")
    while not c.readline().startswith("OK"):  # the capabilities, then OK
        pass
    token = base64.b64encode(b"\0" + USER.encode() + b"\0wrong").decode()
    fail_login_and_leave(srv, "sieve", since, c, lambda c: c.sendline('AUTHENTICATE "PLAIN" "%s"' % token))


def test_http_basic_client_leaves(srv):
    since = srv.log_size()
    c = srv.tls_connect("https")
    token = base64.b64encode(("%s:wrong" % USER).encode()).decode()
    req = "GET /jmap/session HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic %s\r\n\r\n" % token
    fail_login_and_leave(srv, "http", since, c, lambda c: c.send(req))


def test_imap_append_client_leaves(srv):
    """The commit of an APPEND is out in the store when the client goes: however the race falls, the
    session is freed once and the server goes on."""
    since = srv.log_size()
    c = srv.connect("imap")
    c.readline()
    c.sendline("a LOGIN %s secret" % USER)
    c.read_imap_tagged("a")
    msg = b"From: a@example.test\r\nSubject: left\r\n\r\n" + b"x" * 100000 + b"\r\n"
    c.send(b"b APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
    c.sock.shutdown(socket.SHUT_RDWR)
    c.sock.close()
    m = None
    for m in re.finditer(r"conn=(\d+) proto=imap ip=\S+ event=connect port=%d " % srv.port("imap"), srv.log()[since:]):
        pass
    assert m is not None, srv.log_tail()
    freed_once(srv, "imap", m.group(1), since)


def test_server_still_serves(srv):
    for name in ("smtp", "imap", "pop3", "sieve"):
        c = srv.connect(name)
        assert c.readline()
        c.sock.close()
