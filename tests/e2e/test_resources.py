"""Resource exhaustion (hardening issue, item 7): clients that stream without end
cannot grow the server's memory beyond what its limits allow, and a slowloris HTTP
client is closed after timeout.http.

Each attack runs with ATTACKERS connections at once and streams far more than any
limit (STREAM bytes per connection). A server that buffers what it is sent would grow
by ATTACKERS * STREAM; one that honours its limits holds at most about one limit per
connection. The bound is derived from the configured limits:

    growth <= ATTACKERS * 2 * (largest limit that attack can reach) + SLACK

measured as the peak resident size (VmHWM in /proc/PID/status, so no sampling and no
timing) minus the resident size before the attack (VmRSS), after a warm-up that has
already done the logins and TLS handshakes whose memory is not part of the attack.
SLACK allows for allocator noise (per-thread malloc arenas, TLS buffers). Under
AddressSanitizer the numbers mean nothing (quarantine): the bound is then skipped,
the attacks still run and the server must survive them."""

import base64
import os
import re
import socket
import ssl
import threading
import time
import zlib

import pytest

from conftest import finish_server, new_server

USER, PW = "res@example.test", "res-pw"
K = 1024
M = 1024 * K
MESSAGE_SIZE = 1 * M
LINE = 8 * K
IMAP_COMMAND = 64 * K
HTTP_TIMEOUT = 4
ATTACKERS = 4
STREAM = 48 * M           # streamed per connection, 48 times the largest limit
SLACK = 24 * M
CONFIG = [
    "limits.message_size = 1M",
    "limits.line_length = 8K",
    "limits.imap_command = 64K",
    "limits.connections_per_ip = 1000",
    "limits.connections = 10000",
    "timeout.http = %d" % HTTP_TIMEOUT,
]


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin, config=CONFIG, users=[(USER, PW)])
    yield s
    finish_server(s)


def status(pid):
    with open("/proc/%d/status" % pid) as f:
        text = f.read()
    return {k: int(v) * 1024 for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", text, re.M)}


def sanitized(pid):
    with open("/proc/%d/maps" % pid) as f:
        maps = f.read()
    if "libasan" in maps or "libtsan" in maps:
        return True
    try:
        with open("/proc/%d/exe" % pid, "rb") as f:
            return b"AddressSanitizer" in f.read()
    except OSError:
        return False


def reset_hwm(pid):
    """Resets VmHWM to the current RSS (Linux: write 5 to clear_refs)."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Growth:
    """Context: the peak growth of the server's RSS while the block runs."""

    def __init__(self, srv, bound, what):
        self.srv, self.bound, self.what = srv, bound, what

    def __enter__(self):
        pid = self.srv.pid
        if not reset_hwm(pid):
            pytest.skip("cannot reset VmHWM through /proc/%d/clear_refs" % pid)
        self.before = status(pid)["VmRSS"]
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            return False
        assert self.srv.running(), "the server died during %s\n%s" % (self.what, self.srv.log_tail())
        peak = status(self.srv.pid)["VmHWM"]
        self.growth = peak - self.before
        if sanitized(self.srv.pid):
            return False
        assert self.growth <= self.bound, (
            "%s grew the server by %.1f MiB (RSS %.1f -> peak %.1f MiB); the limits allow %.1f MiB"
            % (self.what, self.growth / M, self.before / M, peak / M, self.bound / M))
        return False


def stream(sock, head, chunk, total):
    """Sends head, then chunk repeatedly up to total bytes or until the server closes.
    Returns (bytes sent, closed by server)."""
    sent = 0
    try:
        if head:
            sock.sendall(head)
        while sent < total:
            sock.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout, OSError):
        return sent, True
    return sent, False


def drain(sock, timeout=10):
    """Reads what the server still sends until it closes; returns it (or None if it did not close)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            b = sock.recv(65536)
            if not b:
                return data
            data += b
    except (ConnectionResetError, ssl.SSLError):
        return data
    except socket.timeout:
        return None


def parallel(fn, n=ATTACKERS):
    results = [None] * n
    errors = []

    def run(i):
        try:
            results[i] = fn(i)
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors
    return results


def connect(srv, name, tls=False, timeout=30):
    raw = socket.create_connection((srv.host, srv.port(name)), timeout=timeout)
    if tls:
        return srv.ssl_context().wrap_socket(raw, server_hostname=srv.tls_name)
    return raw


def readline(sock):
    data = b""
    while not data.endswith(b"\n"):
        b = sock.recv(1)
        if not b:
            raise EOFError(data)
        data += b
    return data


def warm_up(srv):
    """Logins (password hashing) and TLS handshakes before the measurements."""
    for name in ("imaps", "https", "pop3s", "submissions"):
        s = connect(srv, name, tls=True)
        s.close()
    for _ in range(ATTACKERS):
        s = connect(srv, "imap")
        readline(s)
        s.sendall(b"a LOGIN %s %s\r\n" % (USER.encode(), PW.encode()))
        while not readline(s).startswith(b"a "):
            pass
        s.close()


@pytest.fixture(scope="module", autouse=True)
def warmed(srv):
    warm_up(srv)


# ------------------------------------------------------------------ endless lines

LINE_TARGETS = [("smtp", False, b""), ("pop3", False, b""), ("imap", False, b""), ("imaps", True, b""),
                ("http", False, b"GET /"), ("https", True, b"GET /")]


@pytest.mark.parametrize("name,tls,head", LINE_TARGETS, ids=[t[0] for t in LINE_TARGETS])
def test_endless_line(srv, name, tls, head):
    def attack(i):
        s = connect(srv, name, tls)
        sent, closed = stream(s, head, b"A" * 65536, STREAM)
        if not closed:
            closed = drain(s) is not None
        s.close()
        return sent, closed

    with Growth(srv, ATTACKERS * 2 * LINE + SLACK, "an endless line on %s" % name):
        results = parallel(attack)
    for sent, closed in results:
        assert closed, "%s: the server read %d bytes of one line and kept the connection" % (name, sent)
        assert sent < STREAM, "%s: the server swallowed %d bytes of one line" % (name, sent)
    srv.serving()


def test_endless_http_header(srv):
    def attack(i):
        s = connect(srv, "https", True)
        head = b"GET / HTTP/1.1\r\nHost: localhost\r\n"
        sent, closed = stream(s, head, b"X-Filler-%06d: %s\r\n" % (i, b"v" * 100), STREAM)
        if not closed:
            closed = drain(s) is not None
        s.close()
        return sent, closed

    with Growth(srv, ATTACKERS * 2 * LINE + SLACK, "an endless HTTP header"):
        results = parallel(attack)
    for sent, closed in results:
        assert closed and sent < STREAM, "an endless header was read in full (%d bytes)" % sent


def test_endless_http_body(srv):
    """A JSON body announced as chunked and never ending (the JMAP endpoint)."""
    def attack(i):
        s = connect(srv, "https", True)
        head = (b"POST /jmap/api HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"10000\r\n" + (b"[" * 65536) + b"\r\n"
        sent, closed = stream(s, head, chunk, STREAM)
        if not closed:
            closed = drain(s) is not None
        s.close()
        return sent, closed

    with Growth(srv, ATTACKERS * 2 * MESSAGE_SIZE + SLACK, "an endless HTTP body"):
        results = parallel(attack)
    for sent, closed in results:
        assert closed and sent < STREAM, "an endless request body was read in full (%d bytes)" % sent


# ------------------------------------------------------------------ IMAP literals

def imap_logged_in(srv):
    s = connect(srv, "imap")
    readline(s)
    s.sendall(b"a LOGIN %s %s\r\n" % (USER.encode(), PW.encode()))
    while True:
        line = readline(s)
        if line.startswith(b"a "):
            assert line.startswith(b"a OK"), line
            return s


@pytest.mark.parametrize("form", ["sync", "literal+", "literal+-command"])
def test_endless_imap_literal(srv, form):
    # log in first: password hashing is not part of the attack
    socks = [imap_logged_in(srv) for _ in range(ATTACKERS)]

    def attack(i):
        s = socks[i]
        if form == "sync":
            s.sendall(b"b APPEND INBOX {999999999}\r\n")
            reply = readline(s)
            assert not reply.startswith(b"+"), "a literal of 999999999 bytes was invited: %r" % reply
            assert b"TOOBIG" in reply or reply.startswith(b"b NO") or reply.startswith(b"* BYE"), reply
            # and the client sends it anyway
            sent, closed = stream(s, b"", b"x" * 65536, STREAM)
        elif form == "literal+":
            sent, closed = stream(s, b"b APPEND INBOX {999999999+}\r\n", b"x" * 65536, STREAM)
        else:
            sent, closed = stream(s, b"b SEARCH TEXT {999999999+}\r\n", b"x" * 65536, STREAM)
        if not closed:
            closed = drain(s) is not None
        s.close()
        return sent, closed

    bound = ATTACKERS * 2 * (MESSAGE_SIZE + IMAP_COMMAND) + SLACK
    with Growth(srv, bound, "an endless IMAP literal (%s)" % form):
        results = parallel(attack)
    for sent, closed in results:
        assert closed and sent < STREAM, "an endless literal was read in full (%d bytes)" % sent


# ------------------------------------------------------------------ IMAP before login

def test_imap_no_literal_before_login(srv):
    """Security review December 2026, finding 2 (IMAP part): before LOGIN, APPEND gets
    no "+" for its literal (and reserves nothing); LOGIN may still send its password as
    a small literal."""
    s = connect(srv, "imap")
    readline(s)
    s.sendall(b"a APPEND INBOX {10}\r\n")
    reply = readline(s)
    assert reply.startswith(b"a BAD") or reply.startswith(b"a NO"), "APPEND before login: %r" % reply
    s.sendall(b"b LOGIN %s {%d}\r\n" % (USER.encode(), len(PW)))
    assert readline(s).startswith(b"+")
    s.sendall(PW.encode() + b"\r\n")
    while True:
        line = readline(s)
        if line.startswith(b"b "):
            assert line.startswith(b"b OK"), line
            break
    s.close()


@pytest.mark.parametrize("form", ["sync", "literal+"])
def test_imap_literals_before_login(srv, form):
    """Many literals of almost line_length each in one APPEND before LOGIN (the review's
    probe got "+" 1000 times): no "+" at all for the synchronizing form; BYE as soon as
    the non-synchronizing ones pass limits.line_length (not after reading them all and
    answering BAD); memory does not grow."""
    lit = b"x" * (LINE - 200)

    def attack(i):
        s = connect(srv, "imap")
        readline(s)
        if form == "sync":
            s.sendall(b"a APPEND INBOX {%d}\r\n" % len(lit))
            invited = 0
            reply = readline(s)
            while reply.startswith(b"+") and invited < 1000:
                invited += 1
                s.sendall(lit + b" {%d}\r\n" % len(lit))
                reply = readline(s)
            s.close()
            return invited, reply
        head = b"a APPEND INBOX {%d+}\r\n" % len(lit)
        # 200 of them: within the APPEND limits, so only the login rule stops them
        sent, closed = stream(s, head, lit + b" {%d+}\r\n" % len(lit), 200 * (len(lit) + 12))
        s.settimeout(10)
        reply = b""
        try:
            while True:
                b = s.recv(4096)
                if not b:
                    break
                reply += b
        except (ConnectionResetError, socket.timeout, OSError):
            pass
        s.close()
        return 0, reply

    with Growth(srv, ATTACKERS * 2 * LINE + SLACK, "IMAP literals before login (%s)" % form):
        results = parallel(attack)
    for invited, reply in results:
        assert invited == 0, "%d literals were invited before login" % invited
        if form == "sync":
            assert reply.startswith(b"a BAD") or reply.startswith(b"a NO"), reply
        else:
            assert b"* BYE" in reply and b"a BAD" not in reply, (
                "the literals were read (%r); the server should say BYE past limits.line_length" % reply[-200:])


# ------------------------------------------------------------------ COMPRESS=DEFLATE bomb

def imap_wait(s, tag):
    while True:
        line = readline(s)
        if line.startswith(tag + b" "):
            assert line.startswith(tag + b" OK"), line
            return


def test_imap_compress_bomb(srv):
    """Security review December 2026, finding 3: with COMPRESS=DEFLATE on and a FETCH
    the client does not read, 1 MB of deflate data standing for 1 GiB of spaces used
    to be inflated in full into the server's memory. Now inflating stops while the
    session is busy and at the read watermark: the server grows by far less than the
    bomb, then reads the spaces as an over-long line and says BYE."""
    s = imap_logged_in(srv)
    s.sendall(b"c CREATE Bomb\r\n")
    readline(s)
    for k in range(12):  # random base64: FETCH output that does not compress away and
        # that the socket buffers cannot take, so that the FETCH waits for the client
        b64 = base64.b64encode(os.urandom(600 * K))
        msg = b"Subject: bomb %d\r\n\r\n" % k + b"\r\n".join(b64[i:i + 76] for i in range(0, len(b64), 76))
        s.sendall(b"a%d APPEND Bomb {%d}\r\n" % (k, len(msg)))
        assert readline(s).startswith(b"+")
        s.sendall(msg + b"\r\n")
        imap_wait(s, b"a%d" % k)
    s.sendall(b"d SELECT Bomb\r\n")
    imap_wait(s, b"d")
    s.sendall(b"e COMPRESS DEFLATE\r\n")
    imap_wait(s, b"e")
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    s.sendall(comp.compress(b"f FETCH 1:* BODY.PEEK[]\r\n") + comp.flush(zlib.Z_SYNC_FLUSH))
    bomb = {"sent": 0}

    def send_bomb():
        chunk = b" " * M
        try:
            for _ in range(1024):
                data = comp.compress(chunk)
                if data:
                    s.sendall(data)
                    bomb["sent"] += len(data)
            s.sendall(comp.flush(zlib.Z_SYNC_FLUSH))
        except OSError:
            pass

    with Growth(srv, 64 * M, "a COMPRESS=DEFLATE bomb of 1 GiB"):
        t = threading.Thread(target=send_bomb)
        t.start()
        t.join(60)  # the FETCH output is not read meanwhile
        s.settimeout(60)
        closed = False
        try:
            while s.recv(65536):
                pass
            closed = True
        except (ConnectionResetError, OSError):
            closed = True
        t.join(60)
    s.close()
    assert closed, "the server kept the connection after a 1 GiB line"
    assert bomb["sent"] < 4 * M, "the bomb is not a bomb: %d compressed bytes" % bomb["sent"]
    srv.serving()


# ------------------------------------------------------------------ SMTP DATA

def test_endless_smtp_data(srv):
    def attack(i):
        s = connect(srv, "smtp")
        f = s.makefile("rb")

        def reply():
            while True:
                line = f.readline()
                if not line or line[3:4] != b"-":
                    return line

        assert reply().startswith(b"220")
        for cmd, want in ((b"EHLO attacker.example", b"250"), (b"MAIL FROM:<a@attacker.example>", b"250"),
                          (b"RCPT TO:<%s>" % USER.encode(), b"250"), (b"DATA", b"354")):
            s.sendall(cmd + b"\r\n")
            r = reply()
            assert r.startswith(want), (cmd, r)
        # 48 times the message limit in lines of 998 bytes; then the end of data
        line = b"D" * 998 + b"\r\n"
        chunk = line * 64
        sent, closed = stream(s, b"", chunk, STREAM)
        if closed:
            return sent, b"closed"
        s.sendall(b"\r\n.\r\n")
        r = reply()
        s.close()
        return sent, r

    with Growth(srv, ATTACKERS * 2 * MESSAGE_SIZE + SLACK, "endless DATA"):
        results = parallel(attack)
    for sent, r in results:
        assert r == b"closed" or r.startswith(b"552"), "DATA of %d bytes over a 1M limit: %r" % (sent, r)


# ------------------------------------------------------------------ silent connections

SILENT_PER_PORT = 60


def test_many_silent_connections(srv):
    names = ["smtp", "submission", "submissions", "pop3", "pop3s", "imap", "imaps", "http", "https"]
    socks = []
    # measured per connection: a silent connection holds a session and (TLS) a handshake state;
    # DESIGN.md: an idle TLS connection costs ~15 KB. Allow 64 KiB each plus the slack.
    n = SILENT_PER_PORT * len(names)
    with Growth(srv, n * 64 * K + SLACK, "%d silent connections" % n):
        for name in names:
            for _ in range(SILENT_PER_PORT):
                socks.append(socket.create_connection((srv.host, srv.port(name)), timeout=10))
        # the plain-text greetings show the server has set up every session
        for s in socks[:SILENT_PER_PORT]:
            s.settimeout(10)
            assert s.recv(100).startswith(b"220")
    for s in socks:
        s.close()
    srv.serving()


# ------------------------------------------------------------------ slowloris

@pytest.mark.parametrize("name,tls", [("http", False), ("https", True)])
def test_slowloris_http_closed_after_timeout(srv, name, tls):
    """A byte every second: each arrives well within timeout.http, so only a deadline
    for the whole request head (not an idle timer reset by every byte) closes it."""
    s = connect(srv, name, tls)
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
    t0 = time.monotonic()
    limit = 3 * HTTP_TIMEOUT + 5
    closed = False
    i = 0
    while time.monotonic() - t0 < limit:
        try:
            s.sendall(b"X-Slow-%d: 1\r\n" % i if i % 2 == 0 else b"")
            s.settimeout(1.0)
            data = s.recv(4096)
            if not data:
                closed = True
                break
            # an answer (408) is fine; then the close must follow
        except socket.timeout:
            pass
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            closed = True
            break
        i += 1
    s.close()
    assert closed, ("a client sending a header line every two seconds kept its connection for %d s "
                    "(timeout.http = %d)" % (limit, HTTP_TIMEOUT))
