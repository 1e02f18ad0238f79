"""POP3 end to end: RFC 1939 commands, CAPA (RFC 2449), STLS (RFC 2595), AUTH
(RFC 5034), the maildrop semantics of issue 7 (snapshot, [IN-USE], deletes only in
UPDATE, stable UIDLs, byte-exact RETR), the bad-input list, the shared failed-login
limiter, and poplib, fetchmail and curl as real clients.

Mail is put into the maildrop over SMTP on port 25 (BDAT, so the stored bytes are
exactly the bytes sent, after the Received header the server adds)."""

import base64
import getpass
import os
import imaplib
import poplib
import re
import socket
import subprocess
import threading
import time

import pytest

from conftest import DOMAIN, HOST, TLS_NAME, LineClient, finish_server, have_tool, new_server
from helpers import new_user, pop_cmd, port25_head, read_multiline, user_stats

CAPA_ALWAYS = ("TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "EXPIRE NEVER", "LOGIN-DELAY 0",
               "UTF8")


@pytest.fixture(scope="module")
def srv(postamt_bin, tmp_path_factory):
    s = new_server(postamt_bin, tmp_path_factory, ["timeout.pop3 = 20"])
    yield s
    finish_server(s)


# ---------------------------------------------------------------------------
# helpers


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def smtp_reply(c):
    r = c.read_smtp_reply()
    return r[-1]


def deliver(srv, rcpt, data):
    """Delivers data (bytes) to rcpt with BDAT LAST over port 25; returns the stored size
    reported by user list growth."""
    if isinstance(data, str):
        data = data.encode()
    before = user_stats(srv, rcpt)["usage"]
    with srv.connect("smtp") as c:
        assert c.readline().startswith("220")
        c.sendline("EHLO client.example.org")
        c.read_smtp_reply()
        c.sendline("MAIL FROM:<sender@example.org>")
        assert smtp_reply(c).startswith("250")
        c.sendline("RCPT TO:<%s>" % rcpt)
        assert smtp_reply(c).startswith("250")
        c.send(b"BDAT %d LAST\r\n" % len(data) + data)
        r = smtp_reply(c)
        assert r.startswith("250"), r
        c.sendline("QUIT")
    return user_stats(srv, rcpt)["usage"] - before


def simple(subject, body="Hello.\r\n"):
    return ("From: sender@example.org\r\nTo: someone@example.test\r\nSubject: %s\r\n\r\n%s" % (subject, body)).encode()


def pop_open(srv, service="pop3s", stls=False):
    c = srv.tls_connect(service) if service == "pop3s" else srv.connect(service)
    g = c.readline()
    assert g.startswith("+OK"), g
    if stls:
        r = pop_cmd(c, "STLS")
        assert r.startswith("+OK"), r
        c.starttls(srv.ssl_context())
    return c


def pop_login(srv, user, password="secret", service="pop3s", stls=False):
    c = pop_open(srv, service, stls)
    r = pop_cmd(c, "USER " + user)
    assert r.startswith("+OK"), r
    r = pop_cmd(c, "PASS " + password)
    assert r.startswith("+OK"), r
    return c


def capa(c):
    r = pop_cmd(c, "CAPA")
    assert r.startswith("+OK"), r
    return [l for l in read_multiline(c).decode().split("\r\n") if l]


def uidl_map(c):
    r = pop_cmd(c, "UIDL")
    assert r.startswith("+OK"), r
    out = {}
    for l in read_multiline(c).decode().split("\r\n"):
        if l:
            n, u = l.split(" ")
            out[int(n)] = u
    return out


def stat(c):
    r = pop_cmd(c, "STAT")
    m = re.match(r"^\+OK (\d+) (\d+)$", r)
    assert m, r
    return int(m.group(1)), int(m.group(2))


def retr(c, n):
    r = pop_cmd(c, "RETR %d" % n)
    assert r.startswith("+OK"), r
    return read_multiline(c)


def quit_(c):
    r = pop_cmd(c, "QUIT")
    assert r.startswith("+OK"), r
    assert c.wait_closed(3)
    c.close()
    return r


def run_tool(args, timeout=30, env=None):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)


# ---------------------------------------------------------------------------
# greeting, CAPA, STLS


def test_greeting_and_capa_plain_loopback(srv):
    with pop_open(srv, "pop3") as c:
        caps = capa(c)
        for k in CAPA_ALWAYS:
            assert k in caps, (k, caps)
        assert any(k.startswith("IMPLEMENTATION") for k in caps), caps
        assert "STLS" in caps
        # loopback: a password may be sent in the clear, so USER and SASL are offered
        assert "USER" in caps
        sasl = [k for k in caps if k.startswith("SASL ")]
        assert sasl and set(sasl[0].split()[1:]) >= {"PLAIN", "LOGIN"}, caps
        assert not any("APOP" in k for k in caps)
        assert pop_cmd(c, "STLS").startswith("+OK")
        c.starttls(srv.ssl_context())
        caps = capa(c)
        assert "STLS" not in caps and "USER" in caps, caps
        r = pop_cmd(c, "STLS")
        assert r.startswith("-ERR"), r


def test_capa_pop3s(srv):
    with pop_open(srv, "pop3s") as c:
        caps = capa(c)
        assert "STLS" not in caps and "USER" in caps and any(k.startswith("SASL ") for k in caps), caps
        for k in CAPA_ALWAYS:
            assert k in caps


def test_capa_after_login_and_pipelined_commands(srv):
    u = new_user(srv)
    deliver(srv, u, simple("one"))
    deliver(srv, u, simple("two"))
    with pop_login(srv, u) as c:
        caps = capa(c)
        assert "TOP" in caps and "UIDL" in caps
        assert "STLS" not in caps and "USER" not in caps  # not valid in TRANSACTION
        c.send(b"STAT\r\nLIST\r\nUIDL 2\r\nNOOP\r\nRETR 1\r\nLIST 2\r\n")
        assert c.readline().startswith("+OK 2 ")
        assert c.readline().startswith("+OK")
        lst = read_multiline(c)
        assert re.fullmatch(rb"1 \d+\r\n2 \d+\r\n", lst), lst
        assert c.readline().startswith("+OK 2 ")
        assert c.readline().startswith("+OK")
        assert c.readline().startswith("+OK")
        assert b"Subject: one" in read_multiline(c)
        assert re.match(r"^\+OK 2 \d+$", c.readline())


# ---------------------------------------------------------------------------
# authentication


def test_user_pass(srv):
    u = new_user(srv)
    c = pop_open(srv, "pop3", stls=True)
    with c:
        assert pop_cmd(c, "USER " + u).startswith("+OK")
        r = pop_cmd(c, "PASS secret")
        assert re.match(r"^\+OK", r), r
        assert stat(c) == (0, 0)
        quit_(c)


def test_password_with_spaces(srv):
    u = new_user(srv, password="pass word  with spaces")
    c = pop_login(srv, u, password="pass word  with spaces")
    quit_(c)


def test_auth_plain_initial_response(srv):
    u = new_user(srv)
    with pop_open(srv, "pop3s") as c:
        r = pop_cmd(c, "AUTH PLAIN " + b64("\0%s\0secret" % u))
        assert r.startswith("+OK"), r
        assert stat(c) == (0, 0)


def test_auth_plain_without_initial_response(srv):
    u = new_user(srv)
    with pop_open(srv, "pop3", stls=True) as c:
        r = pop_cmd(c, "AUTH PLAIN")
        assert r in ("+ ", "+"), r
        r = pop_cmd(c, b64("\0%s\0secret" % u))
        assert r.startswith("+OK"), r


def test_auth_login(srv):
    u = new_user(srv)
    with pop_open(srv, "pop3s") as c:
        r = pop_cmd(c, "AUTH LOGIN")
        assert r == "+ VXNlcm5hbWU6", r
        r = pop_cmd(c, b64(u))
        assert r == "+ UGFzc3dvcmQ6", r
        r = pop_cmd(c, b64("secret"))
        assert r.startswith("+OK"), r


def test_auth_cancel_and_garbage(srv):
    u = new_user(srv)
    with pop_open(srv, "pop3s") as c:
        assert pop_cmd(c, "AUTH PLAIN").startswith("+")
        assert pop_cmd(c, "*").startswith("-ERR")
        assert pop_cmd(c, "AUTH LOGIN").startswith("+ ")
        assert pop_cmd(c, "*").startswith("-ERR")
        assert pop_cmd(c, "AUTH PLAIN ***garbage***").startswith("-ERR")
        assert pop_cmd(c, "AUTH LOGIN").startswith("+ ")
        assert pop_cmd(c, "@@@").startswith("-ERR")
        assert pop_cmd(c, "AUTH CRAM-MD5").startswith("-ERR")
        # still in AUTHORIZATION and usable
        assert pop_cmd(c, "AUTH PLAIN " + b64("\0%s\0secret" % u)).startswith("+OK")


def test_auth_without_mechanism_lists_them(srv):
    with pop_open(srv, "pop3s") as c:
        assert pop_cmd(c, "AUTH").startswith("+OK")
        mechs = read_multiline(c).split()
        assert set(mechs) >= {b"PLAIN", b"LOGIN"}


def test_wrong_password_err_auth_after_delay(srv):
    u = new_user(srv)
    with pop_open(srv, "pop3s") as c:
        assert pop_cmd(c, "USER " + u).startswith("+OK")
        t0 = time.monotonic()
        r = pop_cmd(c, "PASS wrong")
        took = time.monotonic() - t0
        assert r.startswith("-ERR [AUTH]"), r
        assert took >= 0.8, "failure answered after %.2f s" % took
        # RFC 1939: after a failed PASS the client starts again with USER
        assert pop_cmd(c, "PASS secret").startswith("-ERR")
        assert pop_cmd(c, "USER " + u).startswith("+OK")
        assert pop_cmd(c, "PASS secret").startswith("+OK")


def test_pass_without_user(srv):
    with pop_open(srv, "pop3s") as c:
        r = pop_cmd(c, "PASS secret")
        assert r.startswith("-ERR"), r
        assert pop_cmd(c, "NOOP").startswith("-ERR")  # still not logged in


@pytest.mark.parametrize("line", ["STAT", "LIST", "LIST 1", "UIDL", "RETR 1", "DELE 1", "TOP 1 0", "RSET",
                                  "NOOP"])
def test_commands_before_authentication(srv, line):
    with pop_open(srv, "pop3s") as c:
        r = pop_cmd(c, line)
        assert r.startswith("-ERR"), (line, r)
        assert pop_cmd(c, "CAPA").startswith("+OK")


def test_commands_only_before_authentication(srv):
    u = new_user(srv)
    with pop_login(srv, u) as c:
        for line in ("USER " + u, "PASS secret", "AUTH PLAIN " + b64("\0%s\0secret" % u), "STLS"):
            assert pop_cmd(c, line).startswith("-ERR"), line
        assert stat(c) == (0, 0)


def own_non_loopback_ipv4():
    """An IPv4 address of this host outside 127.0.0.0/8 (a connection to it comes
    from it, so the server sees a non-loopback peer), or None."""
    r = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True)
    for m in re.finditer(r"\binet (\d+\.\d+\.\d+\.\d+)/", r.stdout):
        if not m.group(1).startswith("127."):
            return m.group(1)
    return None


def test_plaintext_refused_from_non_loopback(make_server):
    """RFC 2595 §2.3 / RFC 8314: no password over a plain connection from another
    host. The server listens on one of this host's own non-loopback addresses, so the
    peer it sees is not loopback: POP3 refuses USER/PASS and AUTH until STLS (CAPA
    offers neither), IMAP advertises LOGINDISABLED and refuses LOGIN, SMTP submission
    offers no AUTH before STARTTLS. After the TLS upgrade the same login works."""
    ip = own_non_loopback_ipv4()
    if ip is None:
        pytest.skip("this host has no non-loopback IPv4 address to listen on")
    u = "far@" + DOMAIN
    srv = make_server(users=[u], start=False)
    with open(srv.conf) as f:
        conf = f.read()
    with open(srv.conf, "w") as f:
        f.write(re.sub(r"(?m)^bind\s*=.*$", "bind = " + ip, conf))
    srv.host = ip
    srv.start()

    c = pop_open(srv, "pop3")
    capa = pop_cmd(c, "CAPA") + read_multiline(c).decode()
    assert "STLS" in capa and "USER" not in capa and "SASL" not in capa, capa
    for line in ("USER " + u, "PASS secret", "AUTH PLAIN " + base64.b64encode(("\0%s\0secret" % u).encode()).decode()):
        r = pop_cmd(c, line)
        assert r.startswith("-ERR"), (line, r)
    assert pop_cmd(c, "STLS").startswith("+OK")
    c.starttls(srv.ssl_context())
    assert pop_cmd(c, "USER " + u).startswith("+OK")
    assert pop_cmd(c, "PASS secret").startswith("+OK")
    c.close()

    im = imaplib.IMAP4(ip, srv.port("imap"))
    assert "LOGINDISABLED" in im.capabilities, im.capabilities
    with pytest.raises(imaplib.IMAP4.error):
        im.login(u, "secret")
    # the certificate names TLS_NAME, not the address: the chain is still checked
    im.starttls(ssl_context=srv.ssl_context(check_hostname=False))
    assert im.login(u, "secret")[0] == "OK"
    im.logout()

    import smtplib
    sm = smtplib.SMTP(ip, srv.port("submission"), timeout=10)
    sm.ehlo()
    assert not sm.has_extn("auth"), sm.esmtp_features
    code, _ = sm.docmd("AUTH", "PLAIN " + base64.b64encode(("\0%s\0secret" % u).encode()).decode())
    assert code >= 500, code
    sm.starttls(context=srv.ssl_context(check_hostname=False))
    sm.ehlo()
    assert sm.has_extn("auth")
    sm.login(u, "secret")
    sm.quit()


def test_failed_login_limit_shared_with_smtp(make_server):
    """limits.auth_failures_per_minute = 3: three failures (each after the delay),
    then every further attempt from the address is refused at once, in POP3 and in
    SMTP AUTH alike, even with the right password."""
    u = "lim@" + DOMAIN
    s = make_server(["limits.auth_failures_per_minute = 3"], users=[u])
    conns = [pop_open(s, "pop3s") for _ in range(3)]
    for c in conns:
        assert pop_cmd(c, "USER " + u).startswith("+OK")
    t0 = time.monotonic()
    for c in conns:
        c.sendline("PASS wrong")
    for c in conns:
        r = c.readline()
        assert r.startswith("-ERR [AUTH]"), r
    assert time.monotonic() - t0 >= 0.8
    for c in conns:
        c.close()
    with pop_open(s, "pop3s") as c:
        assert pop_cmd(c, "USER " + u).startswith("+OK")
        t0 = time.monotonic()
        r = pop_cmd(c, "PASS secret")
        took = time.monotonic() - t0
        assert r.startswith("-ERR [SYS/TEMP]"), r
        assert took < 0.5, "limited attempt answered after %.2f s, not at once" % took
        t0 = time.monotonic()
        r = pop_cmd(c, "AUTH PLAIN " + b64("\0%s\0secret" % u))
        assert r.startswith("-ERR [SYS/TEMP]"), r
        assert time.monotonic() - t0 < 0.5
    with s.tls_connect("submissions") as c:
        assert c.readline().startswith("220")
        c.sendline("EHLO client.example.org")
        c.read_smtp_reply()
        t0 = time.monotonic()
        c.sendline("AUTH PLAIN " + b64("\0%s\0secret" % u))
        r = c.read_smtp_reply()[-1]
        assert r.startswith("454 4.7.0"), r
        assert time.monotonic() - t0 < 0.5
    assert s.wait_log(r"event=auth_failed proto=pop3 ip=127\.0\.0\.1", 2)


# ---------------------------------------------------------------------------
# the maildrop


def test_stat_list_uidl_stable_and_unique(srv):
    u = new_user(srv)
    sizes = [deliver(srv, u, simple("m%d" % i, "x" * (10 * i) + "\r\n")) for i in range(3)]
    with pop_login(srv, u) as c:
        n, total = stat(c)
        assert n == 3 and total == sum(sizes) == user_stats(srv, u)["usage"]
        assert pop_cmd(c, "LIST").startswith("+OK")
        lst = dict(map(int, l.split()) for l in read_multiline(c).decode().split("\r\n") if l)
        assert lst == {1: sizes[0], 2: sizes[1], 3: sizes[2]}
        r = pop_cmd(c, "LIST 2")
        assert r == "+OK 2 %d" % sizes[1], r
        first = uidl_map(c)
        assert len(set(first.values())) == 3
        for v in first.values():
            assert re.fullmatch(r"[\x21-\x7e]{1,70}", v), v  # RFC 1939 section 7
        assert pop_cmd(c, "UIDL 3") == "+OK 3 " + first[3]
        quit_(c)
    deliver(srv, u, simple("m3"))
    with pop_login(srv, u) as c:
        second = uidl_map(c)
        assert {k: second[k] for k in (1, 2, 3)} == first
        assert second[4] not in first.values()
        assert pop_cmd(c, "DELE 1").startswith("+OK")
        quit_(c)
    with pop_login(srv, u) as c:
        third = uidl_map(c)
        assert sorted(third.values()) == sorted([first[2], first[3], second[4]])


def test_retr_byte_exact(srv):
    u = new_user(srv)
    body = (b".\r\n"                      # a line that is just a dot
            b"..two dots\r\n"
            b".one dot\r\n"
            b"\r\n.\r\n"                  # CRLF.CRLF inside the message
            b"8bit \xc3\xa9 \xff\r\n"
            b"trailing spaces   \r\n"
            b"last line without CRLF")
    data = b"From: a@example.org\r\nSubject: dots\r\n\r\n" + body
    size = deliver(srv, u, data)
    with pop_login(srv, u) as c:
        r = pop_cmd(c, "RETR 1")
        assert r.startswith("+OK"), r
        m = read_multiline(c)
        # the stored message is Return-Path + Authentication-Results + Received + data; POP3 adds the
        # CRLF the last line lacks
        assert port25_head("sender@example.org").match(m), m[:400]
        assert b"\r\nReceived: from client.example.org ([127.0.0.1])" in m
        assert m.endswith(data + b"\r\n"), m
        assert len(m) == size + 2
        assert pop_cmd(c, "LIST 1") == "+OK 1 %d" % size


def test_retr_stored_bare_lf_cannot_end_the_reply_early(srv):
    """A message appended with bare LF line ends; a line "." after a bare LF is still
    stuffed, so a client that splits on LF (poplib does) never sees an early end.
    (SMTP refuses bare LF, in BDAT too since the outside review: IMAP APPEND here.)"""
    u = new_user(srv)
    data = b"Subject: lf\n\nbefore\n.\nafter the dot\n.\r\nafter crlf dot\n"
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    try:
        m.login(u, "secret")
        typ, resp = m.append("INBOX", None, None, data)
        assert typ == "OK", resp
    finally:
        m.logout()
    p = poplib.POP3_SSL(srv.host, srv.port("pop3s"), context=srv.ssl_context(), timeout=10)
    try:
        p.user(u)
        p.pass_("secret")
        _, lines, _ = p.retr(1)
        assert b"after the dot" in lines and b"after crlf dot" in lines, lines
        assert p.stat()[0] == 1  # the session is still in step
    finally:
        p.quit()


def test_top(srv):
    u = new_user(srv)
    head = b"From: a@example.org\r\nSubject: top\r\nX-Long: folded\r\n continued\r\n"
    body = b"".join(b"body line %d\r\n" % i for i in range(1, 11)) + b".dotted\r\n"
    deliver(srv, u, head + b"\r\n" + body)
    with pop_login(srv, u) as c:
        r = pop_cmd(c, "TOP 1 0")
        assert r.startswith("+OK"), r
        t0 = read_multiline(c)
        assert t0.endswith(head + b"\r\n"), t0
        assert b"body line" not in t0
        assert pop_cmd(c, "TOP 1 3").startswith("+OK")
        t3 = read_multiline(c)
        assert t3.endswith(head + b"\r\nbody line 1\r\nbody line 2\r\nbody line 3\r\n"), t3
        assert pop_cmd(c, "TOP 1 100").startswith("+OK")
        assert read_multiline(c).endswith(head + b"\r\n" + body)
        r = pop_cmd(c, "TOP 1")
        assert r.startswith("-ERR"), r
        r = pop_cmd(c, "TOP 1 x")
        assert r.startswith("-ERR"), r


@pytest.mark.parametrize("verb", ["RETR", "DELE", "TOP", "LIST", "UIDL"])
def test_bad_message_numbers(srv, verb):
    u = new_user(srv)
    deliver(srv, u, simple("a"))
    deliver(srv, u, simple("b"))
    with pop_login(srv, u) as c:
        assert pop_cmd(c, "DELE 2").startswith("+OK")
        for arg in ("0", "-1", "999999999", "99999999999999999999999", "abc", "1.5", "2"):
            line = "%s %s" % (verb, arg) + (" 0" if verb == "TOP" else "")
            r = pop_cmd(c, line)
            assert r.startswith("-ERR ") and len(r) > 6, (line, r)  # with a reason
        # the session is fine and message 1 is untouched
        assert stat(c)[0] == 1
        assert b"Subject: a" in retr(c, 1)


def test_command_line_over_255_octets(srv):
    u = new_user(srv)
    with pop_login(srv, u) as c:
        r = pop_cmd(c, "NOOP " + "x" * 300)
        assert r.startswith("-ERR"), r
        r = pop_cmd(c, "LIST " + "1" * 260)
        assert r.startswith("-ERR"), r
        assert stat(c) == (0, 0)
    with pop_open(srv, "pop3s") as c:
        r = pop_cmd(c, "USER " + "u" * 300 + "@" + DOMAIN)
        assert r.startswith("-ERR"), r
        assert pop_cmd(c, "USER " + u).startswith("+OK")
        assert pop_cmd(c, "PASS secret").startswith("+OK")


def test_unknown_commands_and_too_many_errors(srv):
    with pop_open(srv, "pop3s") as c:
        assert pop_cmd(c, "APOP someone 0123456789abcdef0123456789abcdef").startswith("-ERR")
        assert pop_cmd(c, "XYZZY").startswith("-ERR")
        c.send("".join("BOGUS%d\r\n" % i for i in range(30)))
        text, closed = c.read_all(5)
        assert closed, text
        assert text.count("-ERR") <= 21, text


def test_dele_rset_quit(srv):
    u = new_user(srv)
    for i in range(3):
        deliver(srv, u, simple("d%d" % i))
    usage = user_stats(srv, u)["usage"]
    with pop_login(srv, u) as c:
        n, total = stat(c)
        assert pop_cmd(c, "DELE 1").startswith("+OK")
        assert pop_cmd(c, "DELE 1").startswith("-ERR")  # already deleted
        assert pop_cmd(c, "RETR 1").startswith("-ERR")
        assert stat(c)[0] == 2
        assert pop_cmd(c, "LIST").startswith("+OK")
        assert not read_multiline(c).startswith(b"1 ")
        r = pop_cmd(c, "RSET")
        assert r.startswith("+OK"), r
        assert stat(c) == (n, total)
        assert pop_cmd(c, "DELE 2").startswith("+OK")
        assert pop_cmd(c, "DELE 3").startswith("+OK")
        # not gone before QUIT
        assert user_stats(srv, u)["messages"] == 3
        quit_(c)
    st = user_stats(srv, u)
    assert st["messages"] == 1
    assert st["usage"] < usage
    with pop_login(srv, u) as c:
        assert stat(c)[0] == 1
        assert b"Subject: d0" in retr(c, 1)


def test_dropped_connection_deletes_nothing(srv):
    u = new_user(srv)
    deliver(srv, u, simple("keep me"))
    deliver(srv, u, simple("keep me too"))
    c = pop_login(srv, u)
    assert pop_cmd(c, "DELE 1").startswith("+OK")
    assert pop_cmd(c, "DELE 2").startswith("+OK")
    c.sock.shutdown(socket.SHUT_RDWR)
    c.close()
    deadline = time.monotonic() + 5
    while True:  # the lock is released once the server saw the close
        c = pop_open(srv, "pop3s")
        assert pop_cmd(c, "USER " + u).startswith("+OK")
        r = pop_cmd(c, "PASS secret")
        if r.startswith("+OK") or time.monotonic() > deadline:
            break
        c.close()
        time.sleep(0.1)
    with c:
        assert r.startswith("+OK"), r
        assert stat(c)[0] == 2


def test_second_session_in_use(srv):
    u = new_user(srv)
    deliver(srv, u, simple("locked"))
    first = pop_login(srv, u)
    with pop_open(srv, "pop3s") as c:
        assert pop_cmd(c, "USER " + u).startswith("+OK")
        r = pop_cmd(c, "PASS secret")
        assert r.startswith("-ERR [IN-USE]"), r
        r = pop_cmd(c, "AUTH PLAIN " + b64("\0%s\0secret" % u))
        assert r.startswith("-ERR [IN-USE]"), r
        quit_(first)
        r = pop_cmd(c, "AUTH PLAIN " + b64("\0%s\0secret" % u))
        assert r.startswith("+OK"), r
        assert stat(c)[0] == 1


def test_snapshot_at_login(srv):
    """The maildrop is INBOX as it was at login: mail that arrives during the session
    shows up in the next one."""
    u = new_user(srv)
    deliver(srv, u, simple("before"))
    with pop_login(srv, u) as c:
        deliver(srv, u, simple("during"))
        assert stat(c)[0] == 1
        assert pop_cmd(c, "RETR 2").startswith("-ERR")
        quit_(c)
    with pop_login(srv, u) as c:
        assert stat(c)[0] == 2


def test_delete_frees_quota_at_once(srv):
    u = new_user(srv, quota="4K")
    deliver(srv, u, simple("fill", "f" * 3000 + "\r\n"))
    st = user_stats(srv, u)
    assert st["messages"] == 1 and st["usage"] > 3000
    with pop_login(srv, u) as c:
        assert pop_cmd(c, "DELE 1").startswith("+OK")
        r = quit_(c)
    st = user_stats(srv, u)
    assert st == {"quota": st["quota"], "usage": 0, "messages": 0}, st


def test_quit_in_authorization(srv):
    with pop_open(srv, "pop3") as c:
        r = pop_cmd(c, "QUIT")
        assert r.startswith("+OK")
        assert c.wait_closed(3)


def test_pipelined_login_and_commands_in_one_write(srv):
    """USER, PASS (answered after the password check on the pool) and the
    TRANSACTION commands sent in one write are answered in order."""
    u = new_user(srv)
    deliver(srv, u, simple("pipelined login"))
    with pop_open(srv, "pop3s") as c:
        c.send("USER %s\r\nPASS secret\r\nSTAT\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n" % u)
        assert c.readline().startswith("+OK")
        assert c.readline().startswith("+OK")
        assert re.match(r"^\+OK 1 \d+$", c.readline())
        assert c.readline().startswith("+OK")
        assert b"Subject: pipelined login" in read_multiline(c)
        assert c.readline().startswith("+OK")
        assert c.readline().startswith("+OK")
        assert c.wait_closed(3)
    assert user_stats(srv, u)["messages"] == 0


def test_large_message_streamed_exactly(srv):
    u = new_user(srv)
    lines = b"".join(b"%06d .... some text to fill the line up to a normal length ....\r\n" % i
                     for i in range(40000))
    data = b"Subject: large\r\n\r\n" + lines.replace(b"000 ", b".000 ")  # some lines start with a dot
    size = deliver(srv, u, data)
    assert len(data) > 2 * 1024 * 1024
    with pop_login(srv, u) as c:
        assert pop_cmd(c, "LIST 1") == "+OK 1 %d" % size
        m = retr(c, 1)
        assert len(m) == size and m.endswith(data)
        # a client that stops reading in the middle of a RETR and goes away
        c.sendline("RETR 1")
        c.sock.recv(1000)
    c.close()
    srv.serving(["pop3"])
    with pop_login(srv, u) as c:
        assert stat(c) == (1, size)


# ---------------------------------------------------------------------------
# real clients


def test_poplib_pop3s(srv):
    u = new_user(srv)
    for i in range(3):
        deliver(srv, u, simple("lib %d" % i, "line\r\n.dot\r\n"))
    p = poplib.POP3_SSL(srv.host, srv.port("pop3s"), context=srv.ssl_context(), timeout=10)
    assert p.getwelcome().startswith(b"+OK")
    caps = p.capa()
    assert "UIDL" in caps and "TOP" in caps
    p.user(u)
    p.pass_("secret")
    count, size = p.stat()
    assert count == 3 and size == user_stats(srv, u)["usage"]
    _, listing, _ = p.list()
    assert len(listing) == 3
    _, uidls, _ = p.uidl()
    assert len(set(u_.split()[1] for u_ in uidls)) == 3
    _, lines, _ = p.top(2, 0)
    assert b"Subject: lib 1" in lines and b"line" not in lines
    _, lines, octets = p.retr(3)
    assert lines[-2:] == [b"line", b".dot"], lines
    p.dele(1)
    assert p.stat()[0] == 2
    p.rset()
    assert p.stat()[0] == 3
    p.dele(1)
    p.quit()
    assert user_stats(srv, u)["messages"] == 2


def test_poplib_stls(srv):
    u = new_user(srv)
    deliver(srv, u, simple("stls"))
    p = poplib.POP3(srv.host, srv.port("pop3"), timeout=10)
    try:
        assert "STLS" in p.capa()
        p.stls(context=srv.ssl_context())
        assert "STLS" not in p.capa()
        p.user(u)
        p.pass_("secret")
        assert p.stat()[0] == 1
        _, lines, _ = p.retr(1)
        assert b"Subject: stls" in lines
        p.dele(1)
    finally:
        p.quit()
    assert user_stats(srv, u)["messages"] == 0


def fetchmail(srv, tmp_path, u, keep, out):
    home = tmp_path / "fetchmail-home"
    home.mkdir(exist_ok=True)
    rc = home / "fetchmailrc"
    rc.write_text(
        'poll %s service %d protocol pop3 uidl auth password timeout 15\n'
        '  user "%s" there with password "secret" is %s here\n'
        '  ssl sslcertfile "%s" sslcertck %s\n'
        '  mda "/bin/cat >> %s"\n'
        % (TLS_NAME, srv.port("pop3s"), u, getpass.getuser(), srv.cafile, "keep" if keep else "nokeep fetchall",
           out))
    os.chmod(rc, 0o600)
    env = dict(os.environ, FETCHMAILHOME=str(home), HOME=str(home))
    return run_tool(["fetchmail", "-f", str(rc), "-v", "--nosyslog", "--idfile", str(home / "fetchids")],
                    env=env, timeout=60)


@pytest.mark.skipif(not have_tool("fetchmail"), reason="fetchmail not installed")
def test_fetchmail_keep_twice_then_delete(srv, tmp_path):
    u = new_user(srv)
    for i in range(3):
        deliver(srv, u, simple("fm %d" % i))
    out = tmp_path / "mbox"
    r = fetchmail(srv, tmp_path, u, True, out)
    assert r.returncode == 0, r.stdout + r.stderr  # 0: mail was fetched
    assert out.read_bytes().count(b"Subject: fm ") == 3
    assert user_stats(srv, u)["messages"] == 3  # keep
    r = fetchmail(srv, tmp_path, u, True, out)
    assert r.returncode == 1, r.stdout + r.stderr  # 1: no new mail
    assert out.read_bytes().count(b"Subject: fm ") == 3
    deliver(srv, u, simple("fm new"))
    r = fetchmail(srv, tmp_path, u, True, out)
    assert r.returncode == 0, r.stdout + r.stderr
    text = out.read_bytes()
    assert text.count(b"Subject: fm ") == 4 and text.count(b"Subject: fm new") == 1
    # delete mode
    r = fetchmail(srv, tmp_path, u, False, out)
    assert r.returncode == 0, r.stdout + r.stderr
    assert user_stats(srv, u)["messages"] == 0
    with pop_login(srv, u) as c:
        assert stat(c) == (0, 0)


@pytest.mark.skipif(not have_tool("curl"), reason="curl not installed")
def test_curl_pop3s_and_pop3_ssl_reqd(srv):
    u = new_user(srv)
    data = b"Subject: curl\r\n\r\nline\r\n.dot line\r\nend\r\n"
    size = deliver(srv, u, data)
    base = ["curl", "-sS", "--max-time", "15", "--cacert", srv.cafile, "-u", u + ":secret"]
    r = subprocess.run(base + ["pop3s://%s:%d/" % (TLS_NAME, srv.port("pop3s"))], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == b"1 %d" % size, r.stdout
    r = subprocess.run(base + ["--ssl-reqd", "pop3://%s:%d/1" % (TLS_NAME, srv.port("pop3"))], capture_output=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert port25_head("sender@example.org").match(r.stdout) and r.stdout.endswith(data), r.stdout
    r = subprocess.run(base + ["pop3://%s:%d/" % (HOST, srv.port("pop3")), "-X", "UIDL"], capture_output=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(rb"1 \S+\r?\n", r.stdout), r.stdout
    # DELE through curl (the command's own reply has no body)
    r = subprocess.run(base + ["pop3s://%s:%d/1" % (TLS_NAME, srv.port("pop3s")), "-X", "DELE", "-I"],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert user_stats(srv, u)["messages"] == 0
