"""DNS blocklists on port 25 (DESIGN.md §1 "Spam defence", docs/spam.md "Blocklists")
against the stub DNS server (dnsstub.py): the client (127.0.0.1: loopback gets no
exemption) is looked up once per connection at connect time as 1.0.0.127.ZONE; a
refusing list that names it gets 554 5.7.1 naming the zone at RCPT; a 127.255.255.x
answer (the list refuses our resolver) is logged and refuses nobody; a weighted list
only adds the X-DNSBL-Score header; a DNS timeout is "not listed" and RCPT waits for
it without stalling other connections; submission is never checked.
"""
import smtplib

from helpers import new_user, mailbox

CLIENT = "1.0.0.127"  # 127.0.0.1 reversed


def msg(to, subject, extra=""):
    return ("From: someone@sender.test\r\nTo: %s\r\nSubject: %s\r\n%s\r\nHello.\r\n" % (to, subject, extra)).encode()




def blocklisted_server(make_server, dns_stub, dnsbl, *extra):
    return make_server(config=["dns.server = " + dns_stub.server, "dns.cache_entries = 0",
                               "spam.dnsbl = " + dnsbl] + list(extra))


def test_listed_client_refused_at_rcpt_naming_the_zone(make_server, dns_stub):
    dns_stub.set(CLIENT + ".deny.test", {"A": ["127.0.0.2"]})
    srv = blocklisted_server(make_server, dns_stub, "clean.test, deny.test")
    u = new_user(srv, "listed")
    srv.wait_log(r"event=dnsbl_listed")  # the fixture's readiness probe on port 25 was checked too
    before = srv.log().count("event=dnsbl_listed")
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=30) as s:
        s.ehlo("client.test")
        assert s.mail("someone@sender.test")[0] == 250
        code, text = s.rcpt(u)
        assert code == 554, (code, text)
        assert text.decode() == "5.7.1 Client host [127.0.0.1] blocked using deny.test (127.0.0.2)"
        # every RCPT of the connection, and the zone was asked once
        code, _ = s.rcpt(u)
        assert code == 554
        s.rset()
        assert s.mail("other@sender.test")[0] == 250
        assert s.rcpt(u)[0] == 554
    assert srv.wait_log(r"event=dnsbl_refused ip=127.0.0.1 zone=deny.test answer=127.0.0.2")
    assert srv.wait_log(r"event=dnsbl_listed ip=127.0.0.1 zone=deny.test")
    assert srv.log().count("event=dnsbl_listed") == before + 1  # one lookup per connection
    assert mailbox(srv, u) == []


def test_unlisted_client_accepted_without_header(make_server, dns_stub):
    """(The servers listen on 127.0.0.1 only, so there is no IPv6 client here: the
    nibble names are unit-tested in tests/unit/spam/test_spam_dnsbl.c.)"""
    srv = blocklisted_server(make_server, dns_stub, "clean.test")
    u = new_user(srv, "unlisted")
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=30) as s:
        s.ehlo("client.test")
        s.mail("someone@sender.test")
        assert s.rcpt(u)[0] == 250
        assert s.data(msg(u, "clean"))[0] == 250
    assert dns_stub.count(CLIENT + ".clean.test", "A") >= 1  # asked, by its reversed-octet name
    (raw,) = mailbox(srv, u)
    assert b"X-DNSBL-Score" not in raw


def test_list_refusing_our_resolver_is_logged_not_applied(make_server, dns_stub):
    dns_stub.set(CLIENT + ".quota.test", {"A": ["127.255.255.254"]})
    srv = blocklisted_server(make_server, dns_stub, "quota.test")
    u = new_user(srv, "quota")
    for i in range(2):
        with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=30) as s:
            s.ehlo("client.test")
            s.mail("someone@sender.test")
            assert s.rcpt(u)[0] == 250
            assert s.data(msg(u, "through %d" % i))[0] == 250
    assert len(mailbox(srv, u)) == 2
    line = srv.wait_log(r"warn event=dnsbl_refused_resolver zone=quota.test answer=127.255.255.254")
    assert line
    # loudly, but once a minute per zone
    assert srv.log().count("event=dnsbl_refused_resolver") == 1


def test_weighted_list_adds_the_score_header(make_server, dns_stub):
    dns_stub.set(CLIENT + ".weight.test", {"A": ["127.0.0.4"]})
    dns_stub.set(CLIENT + ".other.test", {"A": ["127.0.0.2"]})
    srv = blocklisted_server(make_server, dns_stub, "weight.test=2.5, other.test=1, clean.test=3")
    u = new_user(srv, "weighted")
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=30) as s:
        s.ehlo("client.test")
        s.mail("someone@sender.test")
        assert s.rcpt(u)[0] == 250
        # a forged copy of our field is removed
        assert s.data(msg(u, "weighted", "X-DNSBL-Score: 0.00 forged.test\r\n"))[0] == 250
    (raw,) = mailbox(srv, u)
    assert b"\r\nX-DNSBL-Score: 3.50 weight.test other.test\r\n" in raw
    assert b"forged.test" not in raw
    assert raw.count(b"X-DNSBL-Score") == 1


def test_timeout_is_not_listed_and_rcpt_waits_without_blocking(make_server, dns_stub):
    dns_stub.set(CLIENT + ".slow.test", "timeout")
    srv = blocklisted_server(make_server, dns_stub, "slow.test", "dns.timeout = 3s", "workers = 1")
    u = new_user(srv, "slow")
    a = srv.connect("smtp")
    assert a.readline().startswith("220 ")
    a.sendline("EHLO a.test")
    a.read_smtp_reply()
    a.sendline("MAIL FROM:<someone@sender.test>")
    assert a.read_smtp_reply()[-1].startswith("250")
    a.sendline("RCPT TO:<%s>" % u)  # the blocklist has not answered: RCPT waits
    # the one loop still serves another connection meanwhile
    b = srv.connect("smtp")
    assert b.readline().startswith("220 ")
    b.sendline("NOOP")
    assert b.read_smtp_reply()[-1].startswith("250")
    b.close()
    assert "event=dnsbl_failed" not in srv.log()  # b was served while a's question was out
    reply = a.read_smtp_reply(timeout=10)
    assert reply[-1].startswith("250"), reply
    a.sendline("QUIT")
    a.close()
    assert srv.wait_log(r"event=dnsbl_failed ip=127.0.0.1 zone=slow.test .*result=not_listed")


def test_submission_is_never_checked(make_server, dns_stub):
    dns_stub.set(CLIENT + ".deny.test", {"A": ["127.0.0.2"]})
    srv = blocklisted_server(make_server, dns_stub, "deny.test")
    u = new_user(srv, "sub")
    srv.wait_log(r"event=dnsbl_listed")  # the fixture's readiness probe on port 25 was checked
    before = srv.log().count("event=dnsbl_")
    with smtplib.SMTP(srv.host, srv.port("submission"), timeout=30) as s:
        s.ehlo("client.test")
        s.starttls(context=srv.ssl_context())
        s.ehlo("client.test")
        s.login(u, "secret")
        s.mail(u)
        assert s.rcpt(u)[0] == 250
        assert s.data(msg(u, "submitted").replace(b"someone@sender.test", u.encode()))[0] == 250
    assert srv.log().count("event=dnsbl_") == before
    assert len(mailbox(srv, u)) == 1


def test_sighup_applies_a_new_list(make_server, dns_stub):
    """spam.dnsbl applies on SIGHUP: a list added to the running server refuses the next
    connection; no restart is asked for."""
    dns_stub.set(CLIENT + ".late.test", {"A": ["127.0.0.2"]})
    srv = make_server(config=["dns.server = " + dns_stub.server, "dns.cache_entries = 0"])
    u = new_user(srv, "reload")
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=30) as s:
        s.ehlo("client.test")
        s.mail("someone@sender.test")
        assert s.rcpt(u)[0] == 250
    srv.add_config("spam.dnsbl = late.test")
    since = srv.log_size()
    srv.send_signal(1)  # SIGHUP
    assert srv.wait_log(r"event=reloaded", since=since), srv.log_tail()
    assert "reload_needs_restart" not in srv.log()[since:]
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=30) as s:
        s.ehlo("client.test")
        s.mail("someone@sender.test")
        code, text = s.rcpt(u)
        assert code == 554 and b"late.test" in text, (code, text)
