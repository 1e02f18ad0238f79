"""Mail authentication on port 25 (DESIGN.md §1 "Mail authentication", issue 17):
SPF, DKIM, DMARC and iprev against a stub authoritative DNS server (dnsstub.py), with
Debian's python3-spf and python3-dkim as oracles and signers.

Every message comes from 127.0.0.1 (loopback gets no exemption, DESIGN.md §1 "Spam
defence"); the stub answers the client's PTR with a name that resolves back, so iprev
passes unless a test says otherwise. What was stored is read over IMAP. The
authserv-id is the `hostname` key, "localhost" in these servers.
"""

import email
import imaplib
import re
import smtplib
import subprocess
import threading
import time

import dkim
import dns.resolver
import pytest
import spf

from helpers import new_user, mailbox

pytestmark = pytest.mark.filterwarnings("ignore:please use dns.resolver.resolve:DeprecationWarning")

HOSTNAME = "localhost"
CLIENT_NAME = "client.mail.test"


def auth_results(raw):
    """The unfolded values of every Authentication-Results field, in order."""
    msg = email.message_from_bytes(raw)
    return [re.sub(r"\s+", " ", str(v)) for v in msg.get_all("Authentication-Results", [])]


def ours(raw):
    """Our Authentication-Results field: the first one, claiming HOSTNAME."""
    ar = auth_results(raw)
    assert ar, raw[:600]
    assert ar[0].startswith(HOSTNAME + ";"), ar[0]
    return ar[0]


def method(ar, name):
    """The resinfo of one method ("spf=pass smtp.mailfrom=...") from a field value."""
    for part in ar.split(";")[1:]:
        part = part.strip()
        if part.startswith(name + "="):
            return part
    raise AssertionError("no %s= in %r" % (name, ar))




def send(srv, mail_from, rcpt, data, helo=CLIENT_NAME):
    """One message to port 25 with smtplib. Returns (code, text) of the end of data."""
    if isinstance(data, str):
        data = data.encode()
    with smtplib.SMTP(srv.host, srv.port("smtp"), local_hostname=helo, timeout=60) as s:
        code, _ = s.ehlo()
        assert code == 250
        code, text = s.mail(mail_from)
        assert code == 250, text
        code, text = s.rcpt(rcpt)
        assert code == 250, text
        code, text = s.data(data)
        return code, text.decode()


def message(frm, to, subject, extra="", body="Hello.\r\n"):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: Mon, 07 Dec 2026 01:00:00 +0000\r\n"
            "Message-ID: <%s@mail.test>\r\n%s\r\n%s" % (frm, to, subject, re.sub(r"\W", "", subject), extra, body))


@pytest.fixture
def zone(dns_stub):
    """The stub with the client's reverse DNS; tests add their records."""
    dns_stub.set("1.0.0.127.in-addr.arpa", {"PTR": [CLIENT_NAME + "."]})
    dns_stub.set(CLIENT_NAME, {"A": ["127.0.0.1"]})
    return dns_stub


@pytest.fixture
def mta(make_server, zone):
    """A server asking the stub; a question times out after 1 s and all of one message's
    after 3 s (mailauth.timeout), so timeouts cost little."""
    return make_server(["dns.server = " + zone.server, "dns.timeout = 1s", "mailauth.timeout = 3"])


def pyspf(stub, ip, sender, helo):
    """python3-spf's result for the same question, asking the same stub."""
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = [stub.host]
    r.port = stub.port
    saved = dns.resolver.default_resolver
    dns.resolver.default_resolver = r
    try:
        return spf.check2(i=ip, s=sender, h=helo)[0]
    finally:
        dns.resolver.default_resolver = saved


# ------------------------------------------------------------------ SPF

@pytest.mark.parametrize("record", ["v=spf1 ip4:127.0.0.0/8 -all", "v=spf1 -all", "v=spf1 ~all", "v=spf1 ?all",
                                    "v=spf1 a:client.mail.test mx -all", "v=spf1 include:nowhere.test -all",
                                    "v=spf1 ip4:127.0.0.1 ip4:", None])
def test_spf_result_as_pyspf_computes_it(mta, zone, record):
    dom = "spf%d.test" % (abs(hash(record)) % 100000)
    if record is not None:
        zone.set(dom, {"TXT": [record]})
    want = pyspf(zone, "127.0.0.1", "alice@" + dom, CLIENT_NAME)
    u = new_user(mta, "spf")
    code, text = send(mta, "alice@" + dom, u, message("alice@" + dom, u, "spf " + str(record)))
    assert code == 250, text
    (raw,) = mailbox(mta, u)
    ar = ours(raw)
    assert method(ar, "spf").startswith("spf=%s " % want), (want, ar)
    assert "smtp.mailfrom=alice@" + dom in method(ar, "spf")
    assert method(ar, "iprev") == "iprev=pass policy.iprev=127.0.0.1 (%s)" % CLIENT_NAME
    # the field stands first, right below Return-Path and above our Received
    lines = raw.split(b"\r\n")
    assert lines[0].startswith(b"Return-Path: ")
    assert lines[1] == b"Authentication-Results: " + HOSTNAME.encode() + b";"


def test_null_sender_is_checked_by_helo(mta, zone):
    zone.set("helo.mail.test", {"A": ["127.0.0.1"], "TXT": ["v=spf1 a -all"]})
    zone.set("1.0.0.127.in-addr.arpa", {"PTR": ["helo.mail.test."]})
    u = new_user(mta, "null")
    code, text = send(mta, "", u, message("MAILER-DAEMON@helo.mail.test", u, "bounce"), helo="helo.mail.test")
    assert code == 250, text
    assert pyspf(zone, "127.0.0.1", "", "helo.mail.test") == "pass"
    ar = ours(mailbox(mta, u)[0])
    assert method(ar, "spf") == "spf=pass smtp.helo=helo.mail.test"


# ------------------------------------------------------------------ DKIM

@pytest.fixture(scope="module")
def rsa_key(tmp_path_factory):
    """An RSA-2048 key: (private PEM bytes, public key base64 for p=)."""
    d = tmp_path_factory.mktemp("dkim")
    key = d / "key.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    der = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    import base64
    return key.read_bytes(), base64.b64encode(der).decode()


def signed(frm, to, subject, key, domain, selector=b"sel", body="Signed.\r\n"):
    msg = message(frm, to, subject, body=body).encode()
    sig = dkim.sign(msg, selector, domain.encode(), key,
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    return sig + msg


def test_dkim_signed_by_python_dkim_passes(mta, zone, rsa_key):
    priv, pub = rsa_key
    zone.set("sel._domainkey.signed.test", {"TXT": ["v=DKIM1; k=rsa; p=" + pub]})
    zone.set("_dmarc.signed.test", {"TXT": ["v=DMARC1; p=reject"]})
    u = new_user(mta, "dkim")
    data = signed("alice@signed.test", u, "signed", priv, "signed.test")
    # SPF fails for the envelope domain: only the aligned signature lets it pass DMARC
    zone.set("bounce.test", {"TXT": ["v=spf1 -all"]})
    code, text = send(mta, "bounces@bounce.test", u, data)
    assert code == 250, text
    (raw,) = mailbox(mta, u)
    ar = ours(raw)
    b = re.search(rb"b=([A-Za-z0-9+/]{8})", raw.split(b"DKIM-Signature:", 1)[1]).group(1).decode()
    assert method(ar, "dkim") == 'dkim=pass header.d=signed.test header.s=sel header.b="%s"' % b or \
        method(ar, "dkim") == "dkim=pass header.d=signed.test header.s=sel header.b=%s" % b, ar
    assert method(ar, "spf").startswith("spf=fail")
    assert method(ar, "dmarc") == "dmarc=pass (p=reject dis=none) header.from=signed.test"
    # the stored copy still verifies for python3-dkim (nothing we added broke it)
    assert dkim.verify(raw, dnsfunc=lambda name, timeout=5: ("v=DKIM1; k=rsa; p=" + pub).encode())


def test_tampered_signature_fails(mta, zone, rsa_key):
    priv, pub = rsa_key
    zone.set("sel._domainkey.tampered.test", {"TXT": ["v=DKIM1; k=rsa; p=" + pub]})
    u = new_user(mta, "tamper")
    data = signed("alice@tampered.test", u, "tampered", priv, "tampered.test").replace(b"Signed.", b"Altered")
    code, text = send(mta, "alice@tampered.test", u, data)
    assert code == 250, text
    ar = ours(mailbox(mta, u)[0])
    assert method(ar, "dkim").startswith("dkim=fail ")
    assert "header.d=tampered.test" in method(ar, "dkim")
    assert method(ar, "dmarc").startswith("dmarc=none")


def test_unsigned_is_dkim_none(mta, zone):
    u = new_user(mta, "unsigned")
    code, text = send(mta, "alice@plain.test", u, message("alice@plain.test", u, "unsigned"))
    assert code == 250, text
    assert method(ours(mailbox(mta, u)[0]), "dkim") == "dkim=none"


# ------------------------------------------------------------------ DMARC policy

def test_dmarc_reject_refused_and_nothing_stored(mta, zone):
    zone.set("reject.test", {"TXT": ["v=spf1 -all"]})
    zone.set("_dmarc.reject.test", {"TXT": ["v=DMARC1; p=reject; rua=mailto:d@reject.test"]})
    u = new_user(mta, "rej")
    code, text = send(mta, "ceo@reject.test", u, message("ceo@reject.test", u, "forged"))
    assert code == 550 and text.startswith("5.7.1"), (code, text)
    # the reply gives the hook's reason as text, not as an address in angle brackets
    assert "Message refused by policy: " in text and "reject.test" in text and "<" not in text, text
    assert mailbox(mta, u) == [] and mailbox(mta, u, "Junk") == []
    assert mta.wait_log(r"event=message_refused .*hook=mailauth", timeout=10)


def test_dmarc_reject_of_a_subdomain_by_organizational_record(mta, zone):
    zone.set("_dmarc.org.test", {"TXT": ["v=DMARC1; p=none; sp=reject"]})
    u = new_user(mta, "sub")
    code, text = send(mta, "x@news.org.test", u, message("x@news.org.test", u, "subdomain"))
    assert code == 550, (code, text)
    assert mailbox(mta, u) == []


def test_dmarc_quarantine_goes_to_junk(mta, zone):
    zone.set("_dmarc.quarantine.test", {"TXT": ["v=DMARC1; p=quarantine"]})
    u = new_user(mta, "quar")
    code, text = send(mta, "x@quarantine.test", u, message("x@quarantine.test", u, "to junk"))
    assert code == 250, text
    assert mailbox(mta, u) == []
    (raw,) = mailbox(mta, u, "Junk")
    assert method(ours(raw), "dmarc") == "dmarc=fail reason=\"no aligned SPF or DKIM pass\" (p=quarantine dis=quarantine) header.from=quarantine.test"


def test_quarantine_recreates_a_deleted_junk(mta, zone):
    zone.set("_dmarc.quarantine2.test", {"TXT": ["v=DMARC1; p=quarantine"]})
    u = new_user(mta, "nojunk")
    m = imaplib.IMAP4(mta.host, mta.port("imap"))
    m.login(u, "secret")
    assert m.delete("Junk")[0] == "OK"
    m.logout()
    code, text = send(mta, "x@quarantine2.test", u, message("x@quarantine2.test", u, "junk again"))
    assert code == 250, text
    assert mailbox(mta, u) == []
    assert len(mailbox(mta, u, "Junk")) == 1


def test_dmarc_none_delivers_with_fail(mta, zone):
    zone.set("_dmarc.monitor.test", {"TXT": ["v=DMARC1; p=none"]})
    u = new_user(mta, "mon")
    code, text = send(mta, "x@monitor.test", u, message("x@monitor.test", u, "monitored"))
    assert code == 250, text
    (raw,) = mailbox(mta, u)
    assert method(ours(raw), "dmarc") == "dmarc=fail reason=\"no aligned SPF or DKIM pass\" (p=none dis=none) header.from=monitor.test"


def test_several_from_addresses_are_permerror(mta, zone):
    # RFC 7489 §6.6.1: dmarc=permerror in the header, and the strictest policy of the
    # domains found applies, so a second address cannot hide a forged one
    zone.set("_dmarc.calm.test", {"TXT": ["v=DMARC1; p=none"]})
    zone.set("_dmarc.reject.test", {"TXT": ["v=DMARC1; p=reject"]})
    u = new_user(mta, "multi")
    code, text = send(mta, "a@other.test", u, message("a@calm.test, b@other.test", u, "two authors"))
    assert code == 250, text
    assert method(ours(mailbox(mta, u)[0]), "dmarc").startswith('dmarc=permerror reason="not exactly one From')
    for frm in ["b@other.test, ceo@reject.test", "friend@other.test, ceo@example.test"]:
        code, text = send(mta, "a@other.test", u, message(frm, u, "hidden " + frm))
        assert code == 550 and text.startswith("5.7.1"), (frm, code, text)
    two_fields = "From: a@other.test\r\n" + message("ceo@example.test", u, "two fields")
    code, text = send(mta, "a@other.test", u, two_fields)
    assert code == 550, (code, text)
    assert len(mailbox(mta, u)) == 1
    u2 = new_user(mta, "nofrom")
    code, text = send(mta, "a@other.test", u2, "To: %s\r\nSubject: no from\r\n\r\nx\r\n" % u2)
    assert code == 250, text
    assert method(ours(mailbox(mta, u2)[0]), "dmarc") == 'dmarc=permerror reason="no From: field"'


def test_local_domain_from_outside_is_refused(mta, zone):
    # our own record is soft (p=none); mail from outside claiming our domain is refused anyway
    zone.set("_dmarc.example.test", {"TXT": ["v=DMARC1; p=none"]})
    u = new_user(mta, "local")
    code, text = send(mta, "someone@outside.test", u, message("ceo@example.test", u, "urgent wire"))
    assert code == 550 and text.startswith("5.7.1"), (code, text)
    assert mailbox(mta, u) == []
    # in capitals too
    code, text = send(mta, "someone@outside.test", u, message("ceo@EXAMPLE.Test", u, "shouting"))
    assert code == 550, (code, text)
    # a subdomain of ours too, and without any record
    zone.remove("_dmarc.example.test")
    code, text = send(mta, "someone@outside.test", u, message("it@sub.example.test", u, "reset password"))
    assert code == 550, (code, text)
    assert mailbox(mta, u) == []


# ------------------------------------------------------------------ Authentication-Results from outside

def test_forged_authentication_results_removed(mta, zone):
    u = new_user(mta, "forged")
    extra = ("Authentication-Results: %s; dkim=pass header.d=bank.test\r\n"
             "authentication-results : (looks legit)\r\n\t%s;\r\n\tdmarc=pass header.from=bank.test\r\n"
             "Authentication-Results: \"%s\" 1; spf=pass\r\n"
             "Authentication-Results: other.example; spf=pass smtp.mailfrom=x@bank.test\r\n"
             % (HOSTNAME.upper(), HOSTNAME, HOSTNAME))
    code, text = send(mta, "x@forger.test", u, message("x@forger.test", u, "forged results", extra=extra))
    assert code == 250, text
    (raw,) = mailbox(mta, u)
    ar = auth_results(raw)
    assert len(ar) == 2, ar
    assert ar[0].startswith(HOSTNAME + ";")
    assert ar[1] == "other.example; spf=pass smtp.mailfrom=x@bank.test"
    assert b"bank.test; dkim" not in raw and b"looks legit" not in raw


# ------------------------------------------------------------------ DNS failures

def test_dns_timeout_defers_only_where_policy_would_reject(mta, zone):
    # p=reject published, but SPF's TXT never answers: a pass may be hidden -> 451, never 5xx
    zone.set("slowspf.test", "timeout")
    zone.set("_dmarc.slowspf.test", {"TXT": ["v=DMARC1; p=reject"]})
    u = new_user(mta, "slow")
    code, text = send(mta, "x@slowspf.test", u, message("x@slowspf.test", u, "slow spf"))
    assert code == 451 and text.startswith("4.7.1"), (code, text)
    assert mailbox(mta, u) == []
    # nothing answers at all: the policy is unknown -> accepted with temperror
    zone.set("slowall.test", "timeout")
    zone.set("_dmarc.slowall.test", "timeout")
    code, text = send(mta, "x@slowall.test", u, message("x@slowall.test", u, "all slow"))
    assert code == 250, (code, text)
    ar = ours(mailbox(mta, u)[0])
    assert method(ar, "spf").startswith("spf=temperror")
    assert method(ar, "dmarc").startswith("dmarc=temperror")


def test_dns_failure_for_a_local_domain_defers(mta, zone):
    zone.set("_dmarc.example.test", "servfail")
    u = new_user(mta, "localslow")
    code, text = send(mta, "x@outside.test", u, message("ceo@example.test", u, "local, no answer"))
    assert code == 451, (code, text)
    assert mailbox(mta, u) == []


# ------------------------------------------------------------------ modes

def test_report_mode_refuses_nothing(make_server, zone):
    srv = make_server(["dns.server = " + zone.server, "mailauth.timeout = 3", "mailauth.inbound = report"])
    zone.set("_dmarc.reject.test", {"TXT": ["v=DMARC1; p=reject"]})
    u = new_user(srv, "report")
    code, text = send(srv, "x@reject.test", u, message("x@reject.test", u, "reported"))
    assert code == 250, text
    (raw,) = mailbox(srv, u)
    assert method(ours(raw), "dmarc") == "dmarc=fail reason=\"no aligned SPF or DKIM pass\" (p=reject dis=reject) header.from=reject.test"


def test_off_mode_checks_nothing(make_server, zone):
    srv = make_server(["dns.server = " + zone.server, "mailauth.inbound = off"])
    zone.set("_dmarc.reject.test", {"TXT": ["v=DMARC1; p=reject"]})
    u = new_user(srv, "off")
    code, text = send(srv, "x@reject.test", u, message("x@reject.test", u, "unchecked"))
    assert code == 250, text
    (raw,) = mailbox(srv, u)
    assert auth_results(raw) == []
    assert zone.count("_dmarc.reject.test") == 0


def test_slow_dns_delays_only_the_message(make_server, zone):
    """The checks wait on DNS on the message pool (pool_threads_messages), not on the
    pool that serves sessions: with one session thread (pool_threads = 1) and a sender
    domain whose every question times out, IMAP work that needs the store (LOGIN,
    SELECT, SEARCH, FETCH) is answered while the message still waits for its checks.
    Ordering, not timing: the IMAP session finishes before the SMTP reply arrives."""
    zone.set("stalled.test", "timeout")
    zone.set("_dmarc.stalled.test", "timeout")
    srv = make_server(["dns.server = " + zone.server, "dns.timeout = 2s", "mailauth.timeout = 4",
                       "pool_threads = 1", "pool_threads_messages = 2"])
    u = new_user(srv, "slow")
    events = []
    stalled = [threading.Thread(target=lambda: events.append(("smtp",) + send(
        srv, "a@stalled.test", u, message("a@stalled.test", u, "stalled %d" % i)))) for i in range(2)]
    for t in stalled:
        t.start()
    # both messages are in their checks once the stub has been asked about them
    deadline = time.monotonic() + 10
    while zone.count("stalled.test") < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert zone.count("stalled.test") >= 1
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    m.login(u, "secret")
    assert m.select("INBOX")[0] == "OK"
    assert m.search(None, "ALL")[0] == "OK"
    m.logout()
    events.append(("imap",))
    for t in stalled:
        t.join()
    assert events[0] == ("imap",), events
    assert all(e[1] in (250, 451) for e in events[1:]), events
