"""The admin JSON API (/admin/api/..., docs/admin-api.md) over HTTPS: every area with
an admin, the same requests refused for a non-admin (403, nothing else in the body),
the CSRF check for cookie sessions, no change through GET, the admin flag taken away
acting at once on an open session, the queue actions (retry, delete, bounce) on
messages held for an unreachable destination, and the audit log lines.

One server for the file: the tests run in order and build on each other's state
only where named (the queue tests submit their own messages)."""

import base64
import http.client
import imaplib
import json
import re
import smtplib
import socket
import time

import pytest

from conftest import finish_server, new_server
from test_sasl import imap_scram

ADMIN = "admin@example.test"
USER = "bob@example.test"


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin, config=["route.far.test = 127.0.0.1:%d" % closed_port(),
                                        "queue.retry_initial = 3600", "queue.retry_max = 3600",
                                        "limits.auth_failures_per_minute = 1000"],
                   start=False)
    s.add_user(ADMIN, "secret", "--admin")
    s.add_user(USER)
    s.start()
    yield s
    finish_server(s)


class Api:
    """HTTP Basic (scripts) or a cookie session (the browser) on the HTTPS port."""

    def __init__(self, srv, user, password="secret", cookie=False):
        self.conn = http.client.HTTPSConnection(srv.tls_name, srv.port("https"), context=srv.ssl_context(),
                                                timeout=30)
        self.headers = {}
        if cookie:
            st, body, resp = self.raw("POST", "/api/login", json.dumps({"username": user, "password": password}),
                                      {"Content-Type": "application/json", "X-Postamt-CSRF": "1"})
            assert st == 200, body
            m = re.match(r"(postamt_session=[^;]+)", resp.getheader("Set-Cookie"))
            self.headers["Cookie"] = m.group(1)
        else:
            tok = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
            self.headers["Authorization"] = "Basic " + tok

    def raw(self, method, path, body=None, headers=None):
        h = dict(self.headers)
        h.update(headers or {})
        self.conn.request(method, path, body, h)
        r = self.conn.getresponse()
        return r.status, r.read(), r

    def get(self, path):
        st, body, _ = self.raw("GET", "/admin/api/" + path)
        return st, json.loads(body) if body[:1] in (b"{", b"[") else body

    def post(self, path, obj, csrf=True):
        h = {"Content-Type": "application/json"}
        if csrf:
            h["X-Postamt-CSRF"] = "1"
        st, body, _ = self.raw("POST", "/admin/api/" + path, json.dumps(obj) if not isinstance(obj, bytes) else obj, h)
        return st, json.loads(body) if body[:1] in (b"{", b"[") else body


READS = ["me", "overview", "domains", "dns?domain=example.test&check=0", "dkim?domain=example.test", "users",
         "aliases", "queue", "certificate", "events", "spam"]


def test_every_read_for_an_admin(srv):
    a = Api(srv, ADMIN)
    for path in READS:
        st, body = a.get(path)
        assert st == 200, (path, body)
    st, me = a.get("me")
    assert me == {"address": ADMIN, "admin": True}
    st, users = a.get("users")
    byaddr = {u["address"]: u for u in users}
    assert byaddr[ADMIN]["admin"] is True and byaddr[USER]["admin"] is False
    st, doms = a.get("domains")
    assert {"domain": "example.test"} in doms
    st, dns = a.get("dns?domain=example.test&check=0")
    kinds = {r["what"].split()[0] for r in dns["records"]}
    assert {"MX", "SPF", "DMARC", "DKIM"} <= kinds, kinds
    assert all(r["state"] in ("unchecked", "optional") for r in dns["records"])
    st, keys = a.get("dkim?domain=example.test")
    assert {k["algorithm"] for k in keys} == {"ed25519", "rsa"}
    st, cert = a.get("certificate")
    assert cert["source"] == "tls.cert" and cert["daysLeft"] > 300 and "localhost" in cert["names"]
    # this test's own Basic login is recorded (on the pool, so poll)
    deadline = time.monotonic() + 10
    while "lastLogin" not in byaddr[ADMIN] and time.monotonic() < deadline:
        time.sleep(0.1)
        byaddr = {u["address"]: u for u in a.get("users")[1]}
    assert byaddr[ADMIN]["lastLogin"]["protocol"] == "http" and byaddr[ADMIN]["lastLogin"]["ip"] == "127.0.0.1"
    assert "lastLogin" not in byaddr[USER]
    st, ov = a.get("overview")
    assert ov["accounts"] == 2 and "queueMessages" in ov and 0 < ov["disk"]["usedPercent"] <= 100


def test_dns_check_against_the_resolver(srv):
    """With check=1 the records are compared with what DNS answers (the quiet stub:
    nothing), so every published record is missing."""
    st, dns = Api(srv, ADMIN).get("dns?domain=example.test&check=1")
    assert st == 200
    checked = [r for r in dns["records"] if r["state"] != "optional"]
    assert checked and all(r["state"] == "missing" for r in checked)
    assert dns["problems"] == len(checked)


def test_non_admin_gets_nothing(srv):
    u = Api(srv, USER)
    for path in READS:
        st, body = u.get(path)
        assert st == 403 and body == {"error": "forbidden"}, (path, body)
    st, body = u.post("users/add", {"address": "evil@example.test", "password": "x"})
    assert st == 403 and body == {"error": "forbidden"}
    st, body, _ = u.raw("GET", "/admin")
    assert st == 404 and b"admin" not in body.lower()
    srv.wait_log(r"event=admin_refused user=bob@example\.test")
    # no account was made
    st, users = Api(srv, ADMIN).get("users")
    assert "evil@example.test" not in [x["address"] for x in users]


def test_wrong_password_and_no_login(srv):
    st, body, _ = Api(srv, ADMIN, password="wrong").raw("GET", "/admin/api/users")
    assert st == 401 and b"example.test" not in body
    c = http.client.HTTPSConnection(srv.tls_name, srv.port("https"), context=srv.ssl_context(), timeout=10)
    c.request("GET", "/admin/api/users")
    r = c.getresponse()
    assert r.status == 401 and b"example.test" not in r.read()


def test_user_lifecycle_with_audit_log(srv):
    a = Api(srv, ADMIN)
    st, body = a.post("users/add", {"address": "carol@Example.TEST", "password": "pw-carol", "quota": "10M"})
    assert st == 200, body
    line = srv.wait_log(r"event=admin_action admin=admin@example\.test .*action=users/add target=carol@example\.test result=ok")
    assert "pw-carol" not in srv.log()
    st, users = a.get("users")
    carol = [x for x in users if x["address"] == "carol@example.test"][0]
    assert carol["quota"] == 10 * 1024 * 1024 and carol["admin"] is False
    assert a.post("users/add", {"address": "carol@example.test", "password": "x"})[0] == 409
    assert a.post("users/quota", {"address": "carol@example.test", "quota": 0})[0] == 200
    imap_scram(srv, "carol@example.test", "pw-carol").logout()  # the API made the SCRAM secret too
    assert a.post("users/password", {"address": "carol@example.test", "password": "new-pw"})[0] == 200
    with pytest.raises(imaplib.IMAP4.error):
        imap_scram(srv, "carol@example.test", "pw-carol")
    imap_scram(srv, "carol@example.test", "new-pw").logout()
    assert a.post("users/password", {"address": "nobody@example.test", "password": "x"})[0] == 404
    st, _ = Api(srv, "carol@example.test", "new-pw").get("me")
    assert st == 403
    # delete needs the address repeated
    st, body = a.post("users/delete", {"address": "carol@example.test", "confirm": "someone@example.test"})
    assert st == 400 and "confirm" in body["error"]
    st, body = a.post("users/delete", {"address": "carol@example.test", "confirm": "carol@example.test"})
    assert st == 200, body
    st, users = a.get("users")
    assert "carol@example.test" not in [x["address"] for x in users]
    # an admin cannot lock themselves out
    st, body = a.post("users/admin", {"address": ADMIN, "admin": False})
    assert st == 409
    st, body = a.post("users/delete", {"address": ADMIN, "confirm": ADMIN})
    assert st == 409


@pytest.mark.parametrize("path,obj,needle", [
    ("users/add", {"address": "no-at-sign", "password": "x"}, "address"),
    ("users/add", {"address": "x@example.test", "password": ""}, "password"),
    ("users/add", {"address": "x@example.test", "password": "a\nb"}, "password"),
    ("users/add", {"address": "x@example.test"}, "missing field"),
    ("users/add", {"address": "x@example.test", "password": "p", "quota": "lots"}, "quota"),
    ("users/add", {"address": "x@example.test", "password": "p", "extra": 1}, "unknown field"),
    ("domains/add", {"domain": "bad domain"}, "domain"),
    ("domains/add", {"domain": "a" * 300 + ".test"}, "domain"),
    ("aliases/add", {"address": "x@example.test", "targets": []}, "targets"),
    ("aliases/add", {"address": "x@example.test", "targets": ["ok@example.test"] * 101}, "targets"),
    ("queue/retry", {"id": "../../etc/passwd"}, "id"),
    ("users/admin", {"address": USER, "admin": "yes"}, "admin"),
])
def test_bad_input_is_refused(srv, path, obj, needle):
    st, body = Api(srv, ADMIN).post(path, obj)
    assert st == 400 and needle in body["error"], body


def test_not_json_and_unknown_endpoint(srv):
    a = Api(srv, ADMIN)
    st, body = a.post("users/add", b"[1, 2")
    assert st == 400 and "JSON object" in body["error"]
    st, body = a.get("nothing-here")
    assert st == 404


def test_no_change_through_get(srv):
    a = Api(srv, ADMIN)
    st, body, _ = a.raw("GET", "/admin/api/users/delete?address=%s&confirm=%s" % (USER, USER))
    assert st == 405
    st, body, _ = a.raw("GET", "/admin/api/domains/add?domain=get.test")
    assert st == 405
    st, doms = a.get("domains")
    assert {"domain": "get.test"} not in doms
    # and no read through POST
    st, body = a.post("users", {})
    assert st == 405


def test_cookie_session_needs_csrf(srv):
    a = Api(srv, ADMIN, cookie=True)
    st, me = a.get("me")
    assert st == 200 and me["address"] == ADMIN
    st, body = a.post("domains/add", {"domain": "csrf.test"}, csrf=False)
    assert st == 403
    st, doms = a.get("domains")
    assert {"domain": "csrf.test"} not in doms
    st, body = a.post("domains/add", {"domain": "csrf.test"})
    assert st == 200, body
    # the new domain got its DKIM keys as with `domain add`
    assert {k["algorithm"] for k in body["dkim"]} == {"ed25519", "rsa"}
    st, keys = a.get("dkim?domain=csrf.test")
    assert len(keys) == 2
    st, body = a.post("dkim/rotate", {"domain": "csrf.test"})
    assert st == 200 and len(body) == 4
    # aliases: a catch-all, then the domain cannot go while it has one
    st, body = a.post("aliases/add", {"address": "@csrf.test", "targets": [USER]})
    assert st == 200, body
    st, aliases = a.get("aliases")
    assert {"address": "@csrf.test", "catchAll": True, "targets": [USER]} in aliases
    st, body = a.post("domains/remove", {"domain": "csrf.test"})
    assert st == 409, body
    assert a.post("aliases/remove", {"address": "@csrf.test"})[0] == 200
    assert a.post("domains/remove", {"domain": "csrf.test"})[0] == 200
    st, doms = a.get("domains")
    assert {"domain": "csrf.test"} not in doms


def test_admin_flag_acts_at_once(srv):
    srv.add_user("dora@example.test", "secret", "--admin")
    d = Api(srv, "dora@example.test", cookie=True)
    assert d.get("users")[0] == 200
    r = srv.run("user", "admin", "dora@example.test", "off")
    assert r.returncode == 0, r.stderr
    assert d.get("users")[0] == 403  # the same session, the next request
    r = srv.run("user", "admin", "dora@example.test", "on")
    assert r.returncode == 0, r.stderr
    assert d.get("users")[0] == 200
    # and through the API
    a = Api(srv, ADMIN)
    assert a.post("users/admin", {"address": "dora@example.test", "admin": False})[0] == 200
    assert d.get("users")[0] == 403


def submit(srv, subject):
    msg = ("From: <%s>\r\nTo: <far@far.test>\r\nSubject: %s\r\nMessage-ID: <%s@example.test>\r\n\r\nhi\r\n"
           % (USER, subject, re.sub(r"\W", "", subject) + str(time.time())))
    with smtplib.SMTP(srv.host, srv.port("submission"), timeout=10) as s:
        s.starttls(context=srv.ssl_context())
        s.login(USER, "secret")
        assert s.sendmail(USER, ["far@far.test"], msg.encode()) == {}


def queued(a, subject_count, timeout=20):
    """The queue once it holds subject_count messages that have been tried once."""
    deadline = time.monotonic() + timeout
    q = []
    while time.monotonic() < deadline:
        st, q = a.get("queue")
        assert st == 200
        if len(q) == subject_count and all(m["attempts"] >= 1 for m in q):
            return q
        time.sleep(0.1)
    raise AssertionError("queue: %r" % q)


def test_queue_actions(srv):
    a = Api(srv, ADMIN)
    for s in ("one", "two", "three"):
        submit(srv, s)
    q = queued(a, 3)
    m = q[0]
    assert m["sender"] == USER and m["recipients"][0]["address"] == "far@far.test"
    assert "refused" in m["recipients"][0]["lastError"].lower()
    ids = [x["id"] for x in q]
    # retry: tried again now (attempts grow) although the next attempt is an hour away
    before = m["attempts"]
    st, body = a.post("queue/retry", {"id": ids[0]})
    assert st == 200, body
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        now = {x["id"]: x for x in a.get("queue")[1]}
        if now[ids[0]]["attempts"] > before:
            break
        time.sleep(0.1)
    assert now[ids[0]]["attempts"] > before
    # delete: gone without a bounce
    assert a.post("queue/delete", {"id": ids[1]})[0] == 200
    # bounce: gone, and the sender gets the DSN
    assert a.post("queue/bounce", {"id": ids[2]})[0] == 200
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and {x["id"] for x in a.get("queue")[1]} != {ids[0]}:
        time.sleep(0.1)
    assert {x["id"] for x in a.get("queue")[1]} == {ids[0]}
    srv.wait_log(r"event=admin_action .*action=queue/bounce target=%s result=ok" % ids[2])
    # unknown ids
    assert a.post("queue/retry", {"id": "nosuchid"})[0] == 404
    # recent events: the bounce and the deferral, searchable by address
    st, ev = a.get("events?q=far.test")
    assert st == 200 and ev and all("far.test" in e["to"] or "far.test" in e["from"] for e in ev)
    assert {"deferred", "bounced"} <= {e["what"] for e in ev}, ev
    st, ev = a.get("events?q=nobody-at-all")
    assert ev == []
    # a non-admin cannot act on the queue
    st, body = Api(srv, USER).post("queue/delete", {"id": ids[0]})
    assert st == 403
    assert ids[0] in {x["id"] for x in a.get("queue")[1]}


def test_failed_admin_requests_hit_the_login_limiter(postamt_bin):
    """Non-admin requests count as failed logins: past auth.failures_per_min the address
    gets 429 for every admin request, admins on the same IP too."""
    s = new_server(postamt_bin, config=["limits.auth_failures_per_minute = 3"], start=False)
    try:
        s.add_user(USER)
        s.add_user(ADMIN, "secret", "--admin")
        s.start()
        u = Api(s, USER)
        statuses = [u.get("users")[0] for _ in range(5)]
        assert statuses[:3] == [403, 403, 403] and statuses[-1] == 429, statuses
        assert Api(s, ADMIN).get("users")[0] == 429
    finally:
        finish_server(s)


def test_cli_admin_flag_aliases_domains(new_datadir):
    """The commands behind the same data: `user add --admin`, `user admin on|off`
    (shown by `user list`), `alias list` and `alias del`, `domain del` refused while
    the domain has accounts or aliases."""
    d = new_datadir()
    d.add_user("root@example.test", "pw", "--admin")
    d.add_user("eve@example.test", "pw")
    lines = dict(l.split("\t", 1) for l in d.run("user", "list").stdout.splitlines())
    assert lines["root@example.test"].endswith("\tadmin") and "admin" not in lines["eve@example.test"]
    assert d.run("user", "admin", "eve@example.test", "on").returncode == 0
    assert d.run("user", "list").stdout.count("\tadmin") == 2
    assert d.run("user", "admin", "eve@example.test", "off").returncode == 0
    r = d.run("user", "admin", "eve@example.test", "maybe")
    assert r.returncode != 0 and "on|off" in r.stderr
    assert d.run("user", "admin", "nobody@example.test", "on").returncode != 0
    assert d.run("domain", "add", "side.test").returncode == 0
    assert d.run("alias", "add", "team@side.test", "root@example.test", "eve@example.test").returncode == 0
    assert d.run("alias", "add", "@side.test", "root@example.test").returncode == 0
    out = d.run("alias", "list").stdout
    assert "team@side.test\teve@example.test, root@example.test\n" in out and "@side.test\troot@example.test\n" in out
    r = d.run("domain", "del", "side.test")
    assert r.returncode != 0 and "alias" in r.stderr.lower()
    assert d.run("alias", "del", "team@side.test").returncode == 0
    assert d.run("alias", "del", "@side.test").returncode == 0
    assert d.run("alias", "del", "@side.test").returncode != 0
    assert d.run("alias", "list").stdout == ""
    assert d.run("domain", "del", "side.test").returncode == 0
    r = d.run("domain", "del", "example.test")
    assert r.returncode != 0 and "account" in r.stderr.lower()
    assert "side.test" not in d.run("domain", "list").stdout
