"""Bad or greedy clients get a clear answer and nothing breaks: the per-IP connection
limit, over-long lines, idle and TLS-handshake timeouts, garbage instead of a TLS
ClientHello, clients that vanish. After each, the server still serves."""

import base64
import socket
import struct
import threading
import time

import pytest

from conftest import IMPLICIT_TLS, finish_server, new_server

PER_IP = 3
SHORT = 1  # seconds, for the timeout tests


@pytest.fixture(scope="module")
def perip(postamt_bin, tmp_path_factory):
    srv = new_server(postamt_bin, tmp_path_factory, ["limits.connections_per_ip = %d" % PER_IP])
    yield srv
    finish_server(srv)


@pytest.fixture(scope="module")
def tight(postamt_bin, tmp_path_factory):
    srv = new_server(postamt_bin, tmp_path_factory, [
        "limits.line_length = 1000",
        "timeout.smtp = %d" % SHORT,
        "timeout.pop3 = %d" % SHORT,
        "timeout.imap_login = %d" % SHORT,
        "timeout.imap = %d" % SHORT,
        "timeout.http = %d" % SHORT,
        "timeout.tls_handshake = %d" % SHORT,
    ])
    yield srv
    finish_server(srv)


GREETING = {"smtp": "220 ", "submission": "220 ", "pop3": "+OK", "imap": "* OK"}


def greeted(srv, service):
    c = srv.connect(service)
    line = c.readline()
    assert line.startswith(GREETING[service]), "%s greeting: %r" % (service, line)
    return c


def wait_serving(srv, service, timeout=5.0):
    """A new connection gets the normal greeting again (the server may need a moment
    to notice that earlier connections were closed)."""
    deadline = time.monotonic() + timeout
    while True:
        c = srv.connect(service)
        try:
            line = c.readline()
        except (EOFError, OSError) as e:
            line = repr(e)
        finally:
            c.close()
        if line.startswith(GREETING[service]):
            time.sleep(0.2)  # let the server count the probe as closed
            return
        if time.monotonic() > deadline:
            pytest.fail("%s does not greet normally again: %r" % (service, line))
        time.sleep(0.1)


# -- connections per IP --------------------------------------------------------------

@pytest.mark.parametrize("service,refusal", [
    ("smtp", "421 4.7.0"),
    ("submission", "421 4.7.0"),
    ("pop3", "-ERR [SYS/TEMP]"),
    ("imap", "* BYE [UNAVAILABLE]"),
])
def test_connections_per_ip(perip, service, refusal):
    wait_serving(perip, service)
    held = [greeted(perip, service) for _ in range(PER_IP)]
    try:
        with perip.connect(service) as extra:
            line = extra.readline()
            assert line.startswith(refusal), "connection %d got %r" % (PER_IP + 1, line)
            assert extra.wait_closed(3), "refused connection left open"
        # Held connections are still fine.
        if service in ("smtp", "submission"):
            held[0].sendline("NOOP")
            assert held[0].readline().startswith("250")
    finally:
        for c in held:
            c.close()
    wait_serving(perip, service)


def test_connections_per_ip_counts_across_services(perip):
    wait_serving(perip, "smtp")
    held = [greeted(perip, "smtp"), greeted(perip, "pop3"), greeted(perip, "imap")]
    try:
        with perip.connect("smtp") as extra:
            assert extra.readline().startswith("421 4.7.0")
    finally:
        for c in held:
            c.close()
    wait_serving(perip, "smtp")


def test_total_connection_limit(postamt_bin):
    srv = new_server(postamt_bin, None, ["limits.connections = 3"])
    try:
        wait_serving(srv, "smtp")
        held = [greeted(srv, "smtp"), greeted(srv, "pop3"), greeted(srv, "imap")]
        try:
            with srv.connect("smtp") as extra:
                # Over the total the server may answer 421 or close without a word
                # (it saves the work of a reply under a flood); it must close.
                text, closed = extra.read_all(3)
                assert closed, "connection beyond limits.connections left open"
                assert text == "" or text.startswith("421 4."), text
        finally:
            for c in held:
                c.close()
        wait_serving(srv, "smtp")
    finally:
        finish_server(srv)


# -- long lines ----------------------------------------------------------------------

def send_in_background(c, data):
    """Sends data from a thread (the server may close before it has read it all) so the
    main thread can read the reply as soon as it comes."""
    def run():
        try:
            c.sock.sendall(data)
        except OSError:
            pass
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def read_until_closed(c, timeout=10.0):
    """Lines until EOF/reset; returns (lines, closed)."""
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            lines.append(c.readline(deadline - time.monotonic()))
        except (EOFError, ConnectionResetError, BrokenPipeError):
            return lines, True
        except socket.timeout:
            break
    return lines, False


MiB = 1024 * 1024

LONG_LINE_CASES = [
    ("smtp", b"NOOP ", "500 5.5.2"),
    ("submission", b"NOOP ", "500 5.5.2"),
    ("pop3", b"NOOP ", "-ERR"),
    ("imap", b"a NOOP ", "* BYE"),
]


@pytest.mark.parametrize("service,prefix,reply", LONG_LINE_CASES)
def test_one_mib_line_is_refused_and_closed(server, service, prefix, reply):
    c = greeted(server, service)
    with c:
        t = send_in_background(c, prefix + b"x" * MiB + b"\r\n")
        lines, closed = read_until_closed(c)
        t.join(10)
        assert lines and lines[0].startswith(reply), "reply to a 1 MiB line: %r" % lines[:3]
        if service in ("smtp", "submission"):
            assert "Line too long" in lines[0], lines[0]
        assert closed, "connection left open after a 1 MiB line"
    wait_serving(server, service)


FOLLOW_UP = {  # a simple command and the start of its success reply
    "smtp": ("NOOP", "250"),
    "submission": ("NOOP", "250"),
    "pop3": ("CAPA", "+OK"),
    "imap": ("b NOOP", "b OK"),
}


@pytest.mark.parametrize("service,prefix,reply", LONG_LINE_CASES)
def test_configured_line_length(tight, service, prefix, reply):
    # Under the limit: an ordinary answer, and the session goes on. (POP3 has its own
    # ceiling of 255 octets per command line, RFC 2449 section 4, so it gets less.)
    under = 200 if service == "pop3" else 800
    with greeted(tight, service) as c:
        c.send(prefix + b"y" * under + b"\r\n")
        line = c.readline()
        assert not line.startswith("* BYE") and "line too long" not in line.lower(), \
            "%d-byte line refused with limits.line_length = 1000: %r" % (under, line)
        cmd, ok = FOLLOW_UP[service]
        c.sendline(cmd)
        while True:
            line = c.readline()
            if not (service == "imap" and line.startswith("* ")) and not (service == "pop3" and line == "."):
                break
        assert line.startswith(ok), "after a %d-byte line, %s got %r" % (under, cmd, line)
    # Over the limit: refused and closed.
    with greeted(tight, service) as c:
        c.send(prefix + b"z" * 1500 + b"\r\n")
        lines, closed = read_until_closed(c, 5)
        assert lines and lines[0].startswith(reply), "reply to a 1500-byte line: %r" % lines[:3]
        assert closed, "connection left open after an over-long line"


def test_long_line_without_newline(server):
    # 1 MiB with no line end at all must not be buffered forever.
    c = greeted(server, "smtp")
    with c:
        t = send_in_background(c, b"x" * MiB)
        lines, closed = read_until_closed(c)
        t.join(10)
        assert lines and lines[0].startswith("500 5.5.2"), lines[:3]
        assert closed
    wait_serving(server, "smtp")


# -- idle timeouts -------------------------------------------------------------------

@pytest.mark.parametrize("service,reply", [
    ("smtp", "421 4.4.2"),
    ("pop3", "-ERR"),
    ("imap", "* BYE"),
])
def test_idle_timeout(tight, service, reply):
    c = greeted(tight, service)
    with c:
        t0 = time.monotonic()
        lines, closed = read_until_closed(c, SHORT + 5)
        took = time.monotonic() - t0
        assert lines and lines[0].startswith(reply), "idle %s got %r" % (service, lines)
        assert closed, "idle connection not closed"
        assert took >= SHORT - 0.5, "closed after %.1f s, before the %d s timeout" % (took, SHORT)


def test_activity_resets_idle_timeout(tight):
    with greeted(tight, "smtp") as c:
        for _ in range(4):
            time.sleep(SHORT * 0.6)
            c.sendline("NOOP")
            assert c.readline().startswith("250"), "connection timed out although it was active"


@pytest.mark.parametrize("service", IMPLICIT_TLS)
def test_silent_tls_client_closed_after_handshake_timeout(tight, service):
    with socket.create_connection((tight.host, tight.port(service)), timeout=SHORT + 5) as s:
        t0 = time.monotonic()
        try:
            data = s.recv(4096)
        except (ConnectionResetError, socket.timeout) as e:
            data = e
        took = time.monotonic() - t0
        assert data == b"" or isinstance(data, ConnectionResetError), \
            "silent client on %s: %r after %.1f s" % (service, data, took)
        assert SHORT - 0.5 <= took <= SHORT + 4, "closed after %.1f s (timeout.tls_handshake = %d)" % (took, SHORT)
    tight.serving()


@pytest.mark.parametrize("service,starttls,reply", [
    ("smtp", "STARTTLS", "220"),
    ("imap", "a STARTTLS", "a OK"),
    ("pop3", "STLS", "+OK"),
])
def test_silent_client_after_starttls_closed(tight, service, starttls, reply):
    with greeted(tight, service) as c:
        if service == "smtp":
            c.sendline("EHLO client.example.org")
            c.read_smtp_reply()
        c.sendline(starttls)
        assert c.readline().startswith(reply)
        t0 = time.monotonic()
        closed = c.wait_closed(SHORT + 5)
        took = time.monotonic() - t0
        assert closed, "no handshake after %s, still open after %.1f s" % (starttls, took)
        assert took <= SHORT + 4, took


def test_partial_client_hello_closed_after_handshake_timeout(tight):
    # The first bytes of a TLS record header, then nothing (slowloris).
    with socket.create_connection((tight.host, tight.port("imaps")), timeout=SHORT + 5) as s:
        s.sendall(b"\x16\x03\x01\x02\x00\x01")
        t0 = time.monotonic()
        try:
            data = s.recv(4096)
        except (ConnectionResetError, socket.timeout) as e:
            data = e
        took = time.monotonic() - t0
        assert not isinstance(data, socket.timeout), "still open after %.1f s" % took
        assert took <= SHORT + 4, took
    tight.serving()


def test_silent_http_client_closed(tight):
    with socket.create_connection((tight.host, tight.port("http")), timeout=SHORT + 5) as s:
        try:
            data = s.recv(4096)
        except ConnectionResetError:
            data = b""
        except socket.timeout:
            pytest.fail("silent HTTP client still connected after %d s" % (SHORT + 5))
        # An HTTP 408 before closing is fine; the connection must end.
        assert data == b"" or data.startswith(b"HTTP/1.1 408") or data.startswith(b"HTTP/1.0 408"), data[:100]


def test_silent_clients_do_not_block_others(tight):
    silent = [socket.create_connection((tight.host, tight.port(s)), timeout=5)
              for s in ("smtp", "imap", "pop3", "imaps", "submissions", "https")]
    try:
        tight.serving(["smtp", "submission", "pop3", "pop3s", "imap", "imaps"])
    finally:
        for s in silent:
            s.close()


# -- garbage instead of TLS ------------------------------------------------------------

GARBAGE = [
    b"EHLO client.example.org\r\n",
    b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    bytes(range(256)) * 8,
    b"\x16\x03\x01\x00\x10" + b"\xff" * 16,  # a handshake record whose body is nonsense
    b"\x80\x2e\x01\x00\x02" + b"\x00" * 48,   # SSLv2-style hello
]


@pytest.mark.parametrize("service", IMPLICIT_TLS)
@pytest.mark.parametrize("garbage", GARBAGE, ids=["plain-smtp", "plain-http", "binary", "bad-record", "sslv2"])
def test_garbage_client_hello_closed(server, service, garbage):
    with socket.create_connection((server.host, server.port(service)), timeout=10) as s:
        try:
            s.sendall(garbage)
        except OSError:
            pass
        t0 = time.monotonic()
        closed = False
        while time.monotonic() - t0 < 8:
            try:
                data = s.recv(4096)
            except ConnectionResetError:
                closed = True
                break
            except socket.timeout:
                break
            if not data:
                closed = True
                break
            # A TLS alert, or an HTTP 400 on the HTTPS port, may come first.
        assert closed, "%s: connection with garbage ClientHello left open" % service
        assert time.monotonic() - t0 < 5, "closing took %.1f s (should not wait for a timeout)" % (time.monotonic() - t0)
    with server.tls_connect(service) as c:
        assert c.sock.version() in ("TLSv1.2", "TLSv1.3")


# -- clients that vanish ------------------------------------------------------------

def abort(sock):
    """Close with RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@pytest.mark.parametrize("service", ["smtp", "pop3", "imap", "imaps", "submissions", "https"])
def test_client_reset_mid_command(server, service):
    for _ in range(5):
        s = socket.create_connection((server.host, server.port(service)), timeout=5)
        s.sendall(b"\x16\x03\x01" if service in IMPLICIT_TLS else b"EHLO half-a-comm")
        abort(s)
    server.serving()


def test_many_concurrent_connections(server):
    n = 30  # well below the default per-IP limit of 50
    conns = []
    try:
        for i in range(n):
            conns.append(server.connect(["smtp", "imap", "pop3"][i % 3]))
        for c in conns:
            assert c.readline()[:1] in ("2", "*", "+")
    finally:
        for c in conns:
            c.close()
    server.serving()


# ------------------------------------------------------------------ commands and errors per session

ERRORS = 4
COMMANDS = 6


@pytest.fixture(scope="module")
def counted(postamt_bin, tmp_path_factory):
    srv = new_server(postamt_bin, tmp_path_factory, [
        "limits.errors_per_session = %d" % ERRORS,
        "limits.commands_per_session = %d" % COMMANDS,
    ])
    yield srv
    finish_server(srv)


# a harmless command and an invalid one per protocol, and the goodbye each limit gets
SESSION = {
    "smtp": ("NOOP", "FROB", "250", "500", "421 4.7.0"),
    "pop3": ("NOOP", "FROB", "-ERR", "-ERR", "-ERR"),  # NOOP before login is refused too
    "imap": ("a NOOP", "a FROB", "a OK", "a BAD", "* BYE"),
}


@pytest.mark.parametrize("service", ["smtp", "pop3", "imap"])
def test_errors_per_session(counted, service):
    """limits.errors_per_session bad commands: the last one is answered, then the
    goodbye, then the connection is closed."""
    _, bad, _, bad_reply, bye = SESSION[service]
    with greeted(counted, service) as c:
        for i in range(ERRORS - 1):
            c.sendline(bad)
            assert c.readline().startswith(bad_reply)
        c.sendline(bad)
        assert c.readline().startswith(bad_reply)
        last = c.readline()
        assert last.startswith(bye) and ("error" in last.lower() or "invalid" in last.lower()), last
        assert c.wait_closed(5)
    assert counted.wait_log(r"event=too_many_errors")


@pytest.mark.parametrize("service", ["smtp", "pop3", "imap"])
def test_commands_per_session(counted, service):
    """limits.commands_per_session commands are served; the next one gets the
    protocol's goodbye and the connection is closed. Errors stay below their limit."""
    good, _, good_reply, _, bye = SESSION[service]
    with greeted(counted, service) as c:
        for i in range(COMMANDS):
            c.sendline(good if service != "pop3" else "CAPA")
            if service == "pop3":
                assert c.readline().startswith("+OK")
                c.read_pop_multiline()
            elif service == "imap":
                assert c.read_imap_tagged("a")[-1].startswith(good_reply)
            else:
                assert c.readline().startswith(good_reply)
        c.sendline(good)
        last = c.readline()
        assert last.startswith(bye) and "too many commands" in last.lower(), last
        assert c.wait_closed(5)
    assert counted.wait_log(r"event=too_many_commands limit=%d" % COMMANDS)
    wait_serving(counted, service)


# ------------------------------------------------------------------ failed logins
# Security review December 2026, finding 9.

LOGIN_USER, LOGIN_PW = "guess@example.test", "right-pw"


def test_concurrent_wrong_logins_are_counted_in_flight(make_server):
    """45 wrong LOGINs at once from one address against a limit of 10 per minute: the
    limit was checked when each started and counted when each ended, so all 45 got a
    real password check. Now an attempt counts while in flight: at most 10 checks
    (log lines event=auth_failed), the rest refused without one (event=auth_limited),
    and afterwards even the right password is refused from this address."""
    srv = make_server(["limits.auth_failures_per_minute = 10"], users=[(LOGIN_USER, LOGIN_PW)])
    n = 45
    clients = []
    for _ in range(n):
        c = srv.connect("imap", timeout=30)
        assert c.readline().startswith("* OK")
        clients.append(c)
    barrier = threading.Barrier(n)
    replies = [None] * n

    def attempt(i):
        barrier.wait(30)
        clients[i].sendline("a LOGIN %s wrong-%d" % (LOGIN_USER, i))
        replies[i] = clients[i].read_imap_tagged("a", timeout=60)[1]

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(r is not None and r.startswith("a NO") for r in replies), replies
    log = srv.log()
    checked = log.count("event=auth_failed proto=imap")
    refused = log.count("event=auth_limited proto=imap")
    assert checked <= 10, "%d wrong passwords were checked against a limit of 10" % checked
    assert checked + refused == n, (checked, refused)
    assert sum("Too many failed logins" in r for r in replies) == refused
    c = clients[0]
    c.sendline("b LOGIN %s %s" % (LOGIN_USER, LOGIN_PW))
    assert "Too many failed logins" in c.read_imap_tagged("b", timeout=30)[1]
    for c in clients:
        c.close()


def test_bare_user_name_gets_a_hint(make_server):
    """Users log in with their full address; a bare name gets told so where the
    protocol has failure text (IMAP NO, POP3 -ERR, SMTP 535). A full address that
    fails gets no hint."""
    srv = make_server(users=[(LOGIN_USER, LOGIN_PW)])
    hint = "use your full email address as user name"
    c = srv.connect("imap")
    c.readline()
    c.sendline("a LOGIN guess %s" % LOGIN_PW)
    reply = c.read_imap_tagged("a", timeout=30)[1]
    assert reply.startswith("a NO [AUTHENTICATIONFAILED]") and hint in reply, reply
    c.sendline("b LOGIN %s wrong" % LOGIN_USER)
    reply = c.read_imap_tagged("b", timeout=30)[1]
    assert reply.startswith("b NO") and hint not in reply, reply
    c.close()
    c = srv.connect("pop3")
    c.readline()
    c.sendline("USER guess")
    assert c.readline().startswith("+OK")
    c.sendline("PASS %s" % LOGIN_PW)
    reply = c.readline(timeout=30)
    assert reply.startswith("-ERR") and hint in reply, reply
    c.close()
    c = srv.tls_connect("submissions")
    c.read_smtp_reply()
    c.sendline("EHLO client.example")
    c.read_smtp_reply()
    c.sendline("AUTH PLAIN " + base64.b64encode(b"\0guess\0" + LOGIN_PW.encode()).decode())
    reply = c.read_smtp_reply(timeout=30)[-1]
    assert reply.startswith("535") and hint in reply, reply
    c.close()
