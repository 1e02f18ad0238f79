"""Each protocol answers in its own words: greetings and the foundation commands
(SMTP EHLO/HELO/NOOP/RSET/QUIT, POP3 CAPA/QUIT, IMAP CAPABILITY/NOOP/LOGOUT,
HTTP redirect and HTTPS page)."""

import re
import subprocess

import pytest


# -- SMTP ------------------------------------------------------------------------

@pytest.mark.parametrize("service", ["smtp", "submission"])
def test_smtp_greeting(server, service):
    with server.connect(service) as c:
        assert c.readline() == "220 localhost ESMTP postamt"


def test_smtps_greeting(server):
    with server.tls_connect("submissions") as c:
        assert c.readline() == "220 localhost ESMTP postamt"


def ehlo_keywords(lines):
    assert lines[0].startswith("250-") or lines[0].startswith("250 "), lines
    assert all(l.startswith("250") for l in lines), lines
    assert lines[-1].startswith("250 "), lines
    return [l[4:].split()[0].upper() for l in lines[1:] if len(l) > 4]


@pytest.mark.parametrize("service", ["smtp", "submission"])
def test_smtp_ehlo(server, service):
    with server.connect(service) as c:
        c.readline()
        c.sendline("EHLO client.example.org")
        lines = c.read_smtp_reply()
        assert lines[0].startswith("250-localhost"), lines
        kw = ehlo_keywords(lines)
        for want in ("PIPELINING", "SIZE", "8BITMIME", "ENHANCEDSTATUSCODES", "STARTTLS"):
            assert want in kw, "EHLO lacks %s: %s" % (want, lines)


def test_smtp_ehlo_size_is_message_limit(server):
    with server.connect("smtp") as c:
        c.readline()
        c.sendline("EHLO client.example.org")
        lines = c.read_smtp_reply()
    size = [l for l in lines if l[4:].upper().startswith("SIZE")]
    assert size, lines
    assert size[0][4:].split()[1:] == [str(50 * 1024 * 1024)], size


def test_smtps_ehlo_does_not_offer_starttls(server):
    with server.tls_connect("submissions") as c:
        c.readline()
        c.sendline("EHLO client.example.org")
        kw = ehlo_keywords(c.read_smtp_reply())
        assert "STARTTLS" not in kw
        assert "PIPELINING" in kw


def test_smtp_helo_noop_rset_quit(server):
    with server.connect("smtp") as c:
        c.readline()
        c.sendline("HELO client.example.org")
        assert c.readline().startswith("250 "), "HELO"
        c.sendline("NOOP")
        assert c.readline().startswith("250 2.0.0"), "NOOP"
        c.sendline("RSET")
        assert c.readline().startswith("250 2.0.0"), "RSET"
        c.sendline("noop")
        assert c.readline().startswith("250 "), "lower-case noop"
        c.sendline("QUIT")
        assert c.readline().startswith("221 "), "QUIT"
        assert c.wait_closed(3), "connection still open after QUIT"


@pytest.mark.parametrize("verb", ["EHLO", "HELO"])
def test_smtp_helo_without_domain(server, verb):
    # RFC 5321 4.1.1.1: the domain is required; a syntax error in the arguments is 501.
    with server.connect("smtp") as c:
        c.readline()
        c.sendline(verb)
        assert c.readline().startswith("501"), "%s without a domain" % verb
        c.sendline("NOOP")
        assert c.readline().startswith("250")


def test_smtp_unknown_command(server):
    with server.connect("smtp") as c:
        c.readline()
        c.sendline("FROBNICATE now")
        assert c.readline().startswith("500 5.5.2"), "unknown command"
        c.sendline("NOOP")
        assert c.readline().startswith("250"), "session unusable after an unknown command"


def test_smtp_pipelined_commands_answered_in_order(server):
    with server.connect("smtp") as c:
        c.readline()
        c.send("EHLO a.example\r\nNOOP\r\nRSET\r\nBOGUS\r\nQUIT\r\n")
        ehlo = c.read_smtp_reply()
        assert ehlo[-1].startswith("250 ")
        assert c.readline().startswith("250 "), "NOOP"
        assert c.readline().startswith("250 "), "RSET"
        assert c.readline().startswith("500 "), "BOGUS"
        assert c.readline().startswith("221 "), "QUIT"


def test_smtp_bare_lf_lines(server):
    # Many scripts send LF only; the reply must still come.
    with server.connect("smtp") as c:
        c.readline()
        c.send("NOOP\n")
        line = c.readline()
        assert line.startswith("250") or line.startswith("500"), line


def test_smtplib_ehlo(server):
    import smtplib
    with smtplib.SMTP(server.host, server.port("smtp"), local_hostname="client.example.org", timeout=5) as s:
        code, msg = s.ehlo()
        assert code == 250
        assert s.has_extn("starttls") and s.has_extn("pipelining") and s.has_extn("enhancedstatuscodes")
        assert s.noop()[0] == 250
        assert s.rset()[0] == 250


# -- POP3 ------------------------------------------------------------------------

def test_pop3_greeting(server):
    with server.connect("pop3") as c:
        assert c.readline().startswith("+OK")


def test_pop3s_greeting(server):
    with server.tls_connect("pop3s") as c:
        assert c.readline().startswith("+OK")


def test_pop3_capa(server):
    with server.connect("pop3") as c:
        c.readline()
        c.sendline("CAPA")
        assert c.readline().startswith("+OK")
        caps = [l.split()[0].upper() for l in c.read_pop_multiline() if l]
        assert "STLS" in caps, caps
        c.sendline("QUIT")
        assert c.readline().startswith("+OK")
        assert c.wait_closed(3)


def test_pop3s_capa_does_not_offer_stls(server):
    with server.tls_connect("pop3s") as c:
        c.readline()
        c.sendline("CAPA")
        assert c.readline().startswith("+OK")
        caps = [l.split()[0].upper() for l in c.read_pop_multiline() if l]
        assert "STLS" not in caps, caps


def test_pop3_unknown_command(server):
    with server.connect("pop3") as c:
        c.readline()
        c.sendline("FROB")
        assert c.readline().startswith("-ERR")
        c.sendline("CAPA")
        assert c.readline().startswith("+OK")


def test_poplib_capa(server):
    import poplib
    p = poplib.POP3(server.host, server.port("pop3"), timeout=5)
    try:
        assert p.getwelcome().startswith(b"+OK")
        assert "STLS" in p.capa()
    finally:
        p.quit()


# -- IMAP ------------------------------------------------------------------------

GREETING = re.compile(r"^\* OK \[CAPABILITY ([^\]]*)\] (.*)$")


def test_imap_greeting(server):
    with server.connect("imap") as c:
        line = c.readline()
        m = GREETING.match(line)
        assert m, line
        caps = m.group(1).upper().split()
        assert "IMAP4REV1" in caps or "IMAP4REV2" in caps, caps
        assert "STARTTLS" in caps, caps
        assert "postamt ready" in m.group(2), line


def test_imaps_greeting_has_no_starttls(server):
    with server.tls_connect("imaps") as c:
        m = GREETING.match(c.readline())
        assert m
        assert "STARTTLS" not in m.group(1).upper().split()


def test_imap_capability_noop_logout(server):
    with server.connect("imap") as c:
        c.readline()
        c.sendline("a1 CAPABILITY")
        untagged, tagged = c.read_imap_tagged("a1")
        assert tagged.startswith("a1 OK"), tagged
        caps = [l for l in untagged if l.upper().startswith("* CAPABILITY ")]
        assert len(caps) == 1, untagged
        assert "STARTTLS" in caps[0].upper().split()
        c.sendline("a2 NOOP")
        _, tagged = c.read_imap_tagged("a2")
        assert tagged.startswith("a2 OK"), tagged
        c.sendline("a3 LOGOUT")
        untagged, tagged = c.read_imap_tagged("a3")
        assert any(l.startswith("* BYE") for l in untagged), untagged
        assert tagged.startswith("a3 OK"), tagged
        assert c.wait_closed(3)


def test_imap_greeting_capabilities_match_capability_command(server):
    with server.connect("imap") as c:
        greeting = set(GREETING.match(c.readline()).group(1).upper().split())
        c.sendline("a1 capability")
        untagged, tagged = c.read_imap_tagged("a1")
        assert tagged.startswith("a1 OK"), tagged
        listed = set(untagged[0].upper().split()[2:])
        assert greeting == listed, "greeting %s vs CAPABILITY %s" % (sorted(greeting), sorted(listed))


def test_imap_unknown_command_is_bad(server):
    with server.connect("imap") as c:
        c.readline()
        c.sendline("x1 FROBNICATE")
        _, tagged = c.read_imap_tagged("x1")
        assert tagged.startswith("x1 BAD"), tagged
        c.sendline("x2 NOOP")
        _, tagged = c.read_imap_tagged("x2")
        assert tagged.startswith("x2 OK"), tagged


def test_imap_garbage_line_is_bad(server):
    with server.connect("imap") as c:
        c.readline()
        c.sendline("")
        c.sendline("x2 NOOP")
        # An empty line gets "* BAD" (or is ignored); NOOP still works.
        while True:
            line = c.readline()
            if line.startswith("x2 "):
                assert line.startswith("x2 OK"), line
                break
            assert line.startswith("* BAD") or line.startswith("* "), line


def test_imaplib_capability(server):
    import imaplib
    m = imaplib.IMAP4(server.host, server.port("imap"), timeout=5)
    try:
        assert "STARTTLS" in m.capabilities
        typ, _ = m.noop()
        assert typ == "OK"
    finally:
        m.logout()


# -- HTTP ------------------------------------------------------------------------

def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", "10", *args], capture_output=True, text=True)


def test_http_redirects_to_https(server):
    r = curl("-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
             "http://%s:%d/" % (server.host, server.port("http")))
    assert r.returncode == 0, r.stderr
    code, _, location = r.stdout.partition(" ")
    assert code in ("301", "302", "307", "308"), r.stdout
    assert location.startswith("https://"), location
    assert ":%d" % server.port("https") in location, location


def test_https_page(server):
    r = curl("--cacert", server.cafile, "-w", "\n%{http_code}",
             "https://localhost:%d/" % server.port("https"))
    assert r.returncode == 0, r.stderr
    body, _, code = r.stdout.rpartition("\n")
    assert code == "200", r.stdout
    assert "postamt" in body.lower(), body[:500]

