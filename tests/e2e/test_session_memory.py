"""Pre-login memory of SMTP and POP3 sessions stays bounded (outside review of
December 2026, finding 1).

One unauthenticated connection repeats a command that stores something (EHLO's
name, POP3 USER's name, an AUTH LOGIN user name that is then cancelled) a hundred
thousand times; the server's resident size (VmRSS of the one postamt process, whose
event loops are threads) must not grow by more than a few MB. Before the fix each
repetition was copied into the connection's arena: about 25 MB for 100,000 EHLOs of
255 octets."""

import base64
import os

import pytest

from conftest import DOMAIN

REPEAT = 100_000
BATCH = 500
GROWTH_MAX_KB = 4 * 1024


@pytest.fixture
def srv(make_server, monkeypatch):
    # A sanitizer build keeps freed memory in quarantine (256 MB by default), which
    # would count as growth here: no quarantine, so freed memory is reused as in a
    # normal build. (Only the server started below sees this environment.)
    opts = os.environ.get("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    monkeypatch.setenv("ASAN_OPTIONS", opts + ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0")
    # a fresh server per test: memory another test's connection freed would hide growth
    return make_server(["limits.commands_per_session = 10000000"], users=["alice@" + DOMAIN])


def rss_kb(srv):
    with open("/proc/%d/status" % srv.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % srv.pid)


def repeat(c, lines, count, read_reply):
    """Sends `lines` count times, BATCH repetitions pipelined at once, reading every reply."""
    block = b"".join(l + b"\r\n" for l in lines) * BATCH
    done = 0
    while done < count:
        c.send(block)
        for _ in range(BATCH * len(lines)):
            read_reply(c)
        done += BATCH


def smtp_reply(c):
    lines = c.read_smtp_reply(timeout=20)
    assert lines[-1][:1] in ("2", "3", "4", "5"), lines
    return lines


def pop_reply(c):
    line = c.readline(timeout=20)
    assert line.startswith("+OK") or line.startswith("-ERR") or line.startswith("+ "), line
    return line


def measure(srv, c, lines, read_reply):
    repeat(c, lines, 2 * BATCH, read_reply)  # warm up: buffers, first arena chunks
    before = rss_kb(srv)
    repeat(c, lines, REPEAT, read_reply)
    after = rss_kb(srv)
    return before, after


def test_smtp_repeated_ehlo_does_not_grow(srv):
    name = ("h" * 63 + ".") * 3 + "h" * 63  # 255 octets, a valid host name
    with srv.connect("smtp", timeout=20) as c:
        assert c.read_smtp_reply()[0].startswith("220")
        before, after = measure(srv, c, [b"EHLO " + name.encode()], smtp_reply)
        c.sendline("QUIT")
    assert after - before < GROWTH_MAX_KB, "RSS grew from %d kB to %d kB after %d EHLOs" % (before, after, REPEAT)


def test_smtp_repeated_helo_does_not_grow(srv):
    name = "x" * 250 + ".test"
    with srv.connect("smtp", timeout=20) as c:
        assert c.read_smtp_reply()[0].startswith("220")
        before, after = measure(srv, c, [b"HELO " + name.encode()], smtp_reply)
    assert after - before < GROWTH_MAX_KB, "RSS grew from %d kB to %d kB after %d HELOs" % (before, after, REPEAT)


def test_smtp_cancelled_auth_login_does_not_grow(srv):
    # loopback: AUTH is allowed in the clear. Each round: a 255-octet user name (the
    # longest the SASL exchange takes; a longer one is an error, and 20 errors end the
    # session), then "*".
    user = base64.b64encode(b"u" * 255)
    with srv.connect("smtp", timeout=20) as c:
        assert c.read_smtp_reply()[0].startswith("220")
        c.sendline("EHLO client.test")
        c.read_smtp_reply()
        before, after = measure(srv, c, [b"AUTH LOGIN " + user, b"*"], smtp_reply)
    assert after - before < GROWTH_MAX_KB, "RSS grew from %d kB to %d kB" % (before, after)


def test_pop3_repeated_user_does_not_grow(srv):
    # loopback: USER is allowed in the clear on 110
    with srv.connect("pop3", timeout=20) as c:
        assert c.readline().startswith("+OK")
        before, after = measure(srv, c, [b"USER " + b"u" * 240], pop_reply)
        c.sendline("QUIT")
    assert after - before < GROWTH_MAX_KB, "RSS grew from %d kB to %d kB after %d USERs" % (before, after, REPEAT)



def test_smtp_refused_mail_and_rcpt_do_not_grow(srv):
    # Refusals that do not count as errors: an authenticated MAIL FROM the user does
    # not own (553), and RCPT to a mailbox that is full (452) inside one transaction.
    # Their address lookups were kept in the transaction's memory until it ended.
    assert srv.run("user", "add", "full@" + DOMAIN, "--quota", "1K", input="secret\n").returncode == 0
    with srv.connect("smtp", timeout=20) as c:
        assert c.read_smtp_reply()[0].startswith("220")
        c.sendline("EHLO client.test")
        c.read_smtp_reply()
        c.sendline("AUTH PLAIN " + base64.b64encode(b"\0alice@" + DOMAIN.encode() + b"\0secret").decode())
        assert c.read_smtp_reply()[0].startswith("235")
        before, after = measure(srv, c, [b"MAIL FROM:<full@" + DOMAIN.encode() + b">"], smtp_reply)
        assert after - before < GROWTH_MAX_KB, "RSS grew from %d kB to %d kB (MAIL)" % (before, after)
        c.sendline("MAIL FROM:<alice@%s> SIZE=100000" % DOMAIN)
        assert c.read_smtp_reply()[0].startswith("250")
        before, after = measure(srv, c, [b"RCPT TO:<full@" + DOMAIN.encode() + b">"], smtp_reply)
        assert after - before < GROWTH_MAX_KB, "RSS grew from %d kB to %d kB (RCPT)" % (before, after)
