"""`postamt dns D` and `postamt dns D --check` (DESIGN.md §1 "Mail authentication")
against the stub DNS server (dnsstub.py), and the resolver's behaviour on hostile
answers through the real forwarding path (truncation and TCP, CNAME loops, huge TXT,
SERVFAIL, timeouts).

The data directories come from `init --domain example.test --hostname localhost
--bind 127.0.0.1 --port-offset N` (conftest), so `hostname` is localhost and the
reverse DNS checked is that of 127.0.0.1.
"""

import http.client
import re
import signal
import time
import urllib.request

from dnslib import QTYPE, RR

DOMAIN = "example.test"


def zone_records(text):
    """The records of `postamt dns` output: (name, type, rr) for every line that is not
    a comment; fails on a line that is not `NAME TTL IN TYPE DATA`."""
    out = []
    for line in text.splitlines():
        if not line.strip() or line.startswith(";"):
            continue
        assert re.match(r"^\S+\. \d+ IN [A-Z]+ .+$", line), line
        rrs = RR.fromZone(line)
        assert len(rrs) == 1, line
        out.append((str(rrs[0].rname).rstrip("."), QTYPE[rrs[0].rtype], rrs[0]))
    return out


def publish(d, stub):
    """The records `postamt dns` prints, served by the stub, plus the server's reverse
    DNS (127.0.0.1 <-> localhost)."""
    r = d.run("dns", DOMAIN)
    assert r.returncode == 0, r.stderr
    stub.add_zone(r.stdout)
    stub.set("1.0.0.127.in-addr.arpa", {"PTR": ["localhost."]})
    stub.set("localhost", {"A": ["127.0.0.1"]})
    return r.stdout


def check(d, stub, *extra):
    d.add_config("dns.server = " + stub.server, *extra)
    return d.run("dns", DOMAIN, "--check")


def lines_of(out):
    return {(m.group(2), m.group(3)): m.group(1)
            for m in re.finditer(r"^(ok|missing|different|warning) (\S+)\. (\w+)", out, re.M)}


def test_output_is_zone_lines_with_every_record(new_datadir):
    d = new_datadir()
    r = d.run("dns", DOMAIN)
    assert r.returncode == 0, r.stderr
    recs = zone_records(r.stdout)
    by = {}
    for name, rtype, rr in recs:
        by.setdefault((name, rtype), []).append(rr)
    assert str(by[(DOMAIN, "MX")][0].rdata.label) == "localhost."
    spf = b"".join(by[(DOMAIN, "TXT")][0].rdata.data).decode()
    assert spf == "v=spf1 a:localhost -all"
    dkim = sorted(n for n, t, _ in recs if n.endswith("._domainkey." + DOMAIN))
    assert len(dkim) == 2 and dkim[0].startswith("e") and dkim[1].startswith("r"), dkim
    for name in dkim:
        (rr,) = by[(name, "TXT")]
        assert all(len(s) <= 255 for s in rr.rdata.data)
        assert b"".join(rr.rdata.data).startswith(b"v=DKIM1; k=")
    rsa = by[(dkim[1], "TXT")][0]
    assert len(rsa.rdata.data) >= 2  # a 2048-bit key does not fit one string
    # the DKIM records are the keys `dkim list` shows
    listing = d.run("dkim", "list", DOMAIN).stdout
    for name in dkim:
        assert name.split(".")[0] in listing
    dmarc = b"".join(by[("_dmarc." + DOMAIN, "TXT")][0].rdata.data).decode()
    assert dmarc.startswith("v=DMARC1; p=quarantine; rua=mailto:postmaster@" + DOMAIN)
    assert b"".join(by[("_smtp._tls." + DOMAIN, "TXT")][0].rdata.data).startswith(b"v=TLSRPTv1; rua=mailto:")
    ports = {"_submissions": 465, "_submission": 587, "_imaps": 993, "_imap": 143, "_pop3s": 995,
             "_pop3": 110, "_autodiscover": 443, "_sieve": 4190}
    for svc, port in ports.items():
        (rr,) = by[("%s._tcp.%s" % (svc, DOMAIN), "SRV")]
        assert rr.rdata.port == port + d.offset
        assert str(rr.rdata.target) == "localhost."
    assert str(by[("autoconfig." + DOMAIN, "CNAME")][0].rdata.label) == "localhost."
    assert str(by[("autodiscover." + DOMAIN, "CNAME")][0].rdata.label) == "localhost."
    # MTA-STS: the policy host and the id of the policy webd serves (test_mta_sts_policy)
    assert re.search(r"^_mta-sts\.example\.test\. 3600 IN TXT \"v=STSv1; id=\w+\"$", r.stdout, re.M)
    assert str(by[("mta-sts." + DOMAIN, "CNAME")][0].rdata.label) == "localhost."


def test_usage_and_unknown_domain(new_datadir):
    d = new_datadir()
    r = d.run("dns", "other.test")
    assert r.returncode == 1 and "not a local domain" in r.stderr
    r = d.run("dns")
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1
    r = d.run("dns", DOMAIN, "--frob")
    assert r.returncode == 1


def test_check_ok_when_dns_serves_exactly_those_records(new_datadir, dns_stub):
    d = new_datadir()
    out = publish(d, dns_stub)
    dns_stub.udp_limit = 300  # the big TXT answers come truncated over UDP, then over TCP
    r = check(d, dns_stub)
    assert r.returncode == 0, r.stdout + r.stderr
    got = lines_of(r.stdout)
    published = {(n, t) for n, t, _ in zone_records(out)}
    for key in published:
        assert got.get(key) == "ok", (key, r.stdout)
    assert got[("1.0.0.127.in-addr.arpa", "PTR")] == "ok"
    assert "resolves back" in r.stdout
    rsa = [n for n, t in published if n.startswith("r2")][0]
    assert dns_stub.count(rsa, "TXT", "tcp") >= 1
    # every name went to the stub: .test, the loopback reverse zone and localhost included
    assert dns_stub.count("localhost", "A") >= 1
    assert dns_stub.count("1.0.0.127.in-addr.arpa", "PTR") >= 1


def test_check_finds_missing_and_different(new_datadir, dns_stub):
    d = new_datadir()
    publish(d, dns_stub)
    dns_stub.remove("_dmarc." + DOMAIN)
    dns_stub.set(DOMAIN, {"MX": ["10 localhost."],
                          "TXT": ["google-site-verification=abc", "v=spf1 -all"]})
    dns_stub.set("_submission._tcp." + DOMAIN, {"SRV": ["0 1 587 mail.elsewhere.test."]})
    r = check(d, dns_stub)
    assert r.returncode == 1
    got = lines_of(r.stdout)
    assert got[("_dmarc." + DOMAIN, "TXT")] == "missing"
    assert got[(DOMAIN, "TXT")] == "different"
    assert 'DNS has "v=spf1 -all"' in r.stdout
    assert got[("_submission._tcp." + DOMAIN, "SRV")] == "different"
    assert got[(DOMAIN, "MX")] == "ok"
    # one line per record, nothing else but the reverse DNS
    assert all(re.match(r"^(ok|missing|different|warning) ", line) for line in r.stdout.splitlines())


def test_check_accepts_addresses_for_the_cnames_and_warns_on_ptr(new_datadir, dns_stub):
    d = new_datadir()
    publish(d, dns_stub)
    dns_stub.set("autoconfig." + DOMAIN, {"A": ["127.0.0.1"]})      # A instead of the CNAME
    dns_stub.set("autodiscover." + DOMAIN, {"A": ["192.0.2.7"]})    # somewhere else
    dns_stub.set("1.0.0.127.in-addr.arpa", {"PTR": ["other.example."]})
    r = check(d, dns_stub)
    got = lines_of(r.stdout)
    assert got[("autoconfig." + DOMAIN, "CNAME")] == "ok"
    assert got[("autodiscover." + DOMAIN, "CNAME")] == "different"
    assert got[("1.0.0.127.in-addr.arpa", "PTR")] == "warning"
    assert "names other.example., not localhost" in r.stdout
    assert r.returncode == 1  # for autodiscover; the PTR warning alone would not fail
    dns_stub.set("autodiscover." + DOMAIN, {"CNAME": ["localhost."]})
    dns_stub.remove("1.0.0.127.in-addr.arpa")
    r = d.run("dns", DOMAIN, "--check")
    assert r.returncode == 0, r.stdout
    assert re.search(r"^warning 1\.0\.0\.127\.in-addr\.arpa\. PTR .*no PTR record", r.stdout, re.M)


def test_hostile_answers_are_errors_not_hangs(new_datadir, dns_stub):
    d = new_datadir()
    publish(d, dns_stub)
    # SPF's name: a 30 KB TXT next to ours (only TCP can carry it)
    dns_stub.add(DOMAIN, "TXT", "x" * 30000)
    # DMARC's name: a CNAME loop; TLS-RPT's: SERVFAIL; a SRV name: never answered
    dns_stub.set("_dmarc." + DOMAIN, {"CNAME": ["loop1." + DOMAIN + "."]})
    dns_stub.set("loop1." + DOMAIN, {"CNAME": ["_dmarc." + DOMAIN + "."]})
    dns_stub.set("_smtp._tls." + DOMAIN, "servfail")
    dns_stub.set("_imap._tcp." + DOMAIN, "timeout")
    # a long CNAME chain that ends in the DKIM record
    sel = [n for n, t, _ in zone_records(d.run("dns", DOMAIN).stdout) if n.startswith("e2")][0]
    txt = dns_stub._records[sel]["TXT"]
    chain = ["c%d.%s" % (i, DOMAIN) for i in range(8)]
    dns_stub.set(sel, {"CNAME": [chain[0] + "."]})
    for i, name in enumerate(chain):
        dns_stub.set(name, {"CNAME": [chain[i + 1] + "."]} if i + 1 < len(chain) else {"TXT": txt})
    r = check(d, dns_stub, "dns.timeout = 500ms")
    assert r.returncode == 1
    got = lines_of(r.stdout)
    assert got[(DOMAIN, "TXT")] == "ok"
    assert got[(sel, "TXT")] == "ok"
    assert got[("_dmarc." + DOMAIN, "TXT")] == "missing"
    assert got[("_smtp._tls." + DOMAIN, "TXT")] == "missing"
    assert re.search(r"^missing _smtp\._tls\.\S+ TXT .*DNS error", r.stdout, re.M)
    assert re.search(r"^missing _imap\._tcp\.\S+ SRV .*DNS error: DNS timeout", r.stdout, re.M)
    # the rest was still asked and answered
    assert got[("_imaps._tcp." + DOMAIN, "SRV")] == "ok"


def test_bad_dns_server_is_refused(new_datadir):
    d = new_datadir()
    d.add_config("dns.server = dns.example.test")
    r = d.run("check")
    assert r.returncode == 1
    assert "dns.server" in r.stdout + r.stderr


def test_domain_add_keys_are_printed(new_datadir):
    d = new_datadir()
    assert d.run("domain", "add", "other.test").returncode == 0
    recs = zone_records(d.run("dns", "other.test").stdout)
    dkim = [n for n, t, _ in recs if t == "TXT" and n.endswith("._domainkey.other.test")]
    assert len(dkim) == 2
    assert ("other.test", "MX") in {(n, t) for n, t, _ in recs}


def test_mta_sts_policy(make_server):
    """RFC 8461 §3.2: the policy at https://mta-sts.D/.well-known/mta-sts.txt, over HTTPS
    only (the plain listener redirects, which senders must not follow), its mode and
    max_age from the configuration, reloadable; the _mta-sts id `postamt dns` prints
    changes with it."""
    srv = make_server(["mta_sts.mode = enforce", "mta_sts.max_age = 86400"])
    ctx = srv.ssl_context(check_hostname=False)

    def fetch():
        url = "https://%s:%d/.well-known/mta-sts.txt" % (srv.host, srv.port("https"))
        with urllib.request.urlopen(url, context=ctx, timeout=10) as resp:
            assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
            return resp.read().decode()

    def sts_id():
        out = srv.run("dns", DOMAIN).stdout
        return re.search(r"^_mta-sts\.\S+ 3600 IN TXT \"v=STSv1; id=(\w+)\"$", out, re.M).group(1)

    assert fetch() == "version: STSv1\r\nmode: enforce\r\nmx: localhost\r\nmax_age: 86400\r\n"
    before = sts_id()
    # the plain-HTTP listener does not serve it
    h = http.client.HTTPConnection(srv.host, srv.port("http"), timeout=10)
    h.request("GET", "/.well-known/mta-sts.txt")
    assert h.getresponse().status == 301
    h.close()
    srv.add_config("mta_sts.mode = testing")
    srv.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "mode: testing" not in fetch() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fetch() == "version: STSv1\r\nmode: testing\r\nmx: localhost\r\nmax_age: 86400\r\n"
    assert sts_id() != before
