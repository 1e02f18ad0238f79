"""Webmail state and Sieve scripts shared in PostgreSQL (store.backend = postgresql,
docs/cluster.md): two nodes on one database. A webmail login session made on node A
is valid on node B, survives a restart of A, and is ended on both by a password
change through B; a sign-out on A ends the session on B too, although B had it in
memory, and so does "Sign out everywhere" through B on A; the webmail settings (JMAP Settings/set) written through one node
are read through the other; a Sieve script put and activated through A's ManageSieve
is listed, active and the same text on B, and deactivated through B it is inactive
on A.

Changes made by a command on another node reach a running server's session cache
within WEB_GEN_CACHE_MS (2 s): the test polls for the expected answer (up to 10 s)
instead of sleeping a fixed time."""
import http.client
import json
import time

import pytest
from sievelib.managesieve import Client

from conftest import DOMAIN, finish_server
from pgfixture import pg_database, pg_query

USER = "wanda@" + DOMAIN
PW = "wanda-pw-1"
SETTINGS = "urn:postamt:params:jmap:settings"
SCRIPT = 'require "fileinto";\r\nif header :contains "subject" "cluster" { fileinto "Junk"; }\r\n'


@pytest.fixture
def nodes(new_datadir):
    uri = pg_database()
    a = new_datadir("--store", uri)
    b = new_datadir("--store", uri)
    a.add_user(USER, PW)
    yield uri, a, b
    try:
        for srv in (a, b):
            if srv.proc is not None:
                finish_server(srv)  # a clean exit, no sanitizer report in its log
    finally:
        for srv in (a, b):
            srv.kill()


def request(srv, method, path, body=None, headers=None):
    c = http.client.HTTPSConnection(srv.tls_name, srv.port("https"), context=srv.ssl_context(), timeout=10)
    try:
        c.request(method, path, body, headers or {})
        r = c.getresponse()
        return r.status, r.read(), r
    finally:
        c.close()


def login(srv, password=PW):
    st, body, r = request(srv, "POST", "/api/login", json.dumps({"username": USER, "password": password}),
                          {"Content-Type": "application/json", "X-Postamt-CSRF": "1"})
    assert st == 200, body
    return r.getheader("Set-Cookie").split(";")[0], json.loads(body)["accountId"]


def session_check(srv, cookie):
    st, body, _ = request(srv, "GET", "/api/session-check", None, {"Cookie": cookie})
    if st == 200:
        assert json.loads(body)["username"] == USER
    return st


def jmap(srv, cookie, calls):
    st, body, _ = request(srv, "POST", "/jmap/api",
                          json.dumps({"using": ["urn:ietf:params:jmap:core", SETTINGS], "methodCalls": calls}),
                          {"Content-Type": "application/json", "Cookie": cookie, "X-Postamt-CSRF": "1"})
    assert st == 200, body
    return json.loads(body)["methodResponses"]


def wait_status(fn, want, limit=10.0):
    deadline = time.monotonic() + limit
    st = fn()
    while st != want and time.monotonic() < deadline:
        time.sleep(0.2)
        st = fn()
    return st


def sieve_login(srv):
    c = Client(srv.host, srv.port("sieve"))
    assert c.connect(USER, PW, starttls=True, authmech="PLAIN"), srv.log_tail()
    return c


def test_webmail_session_on_both_nodes(nodes):
    uri, a, b = nodes
    a.start()
    b.start()
    cookie, acct = login(a)
    # made on A, valid on B (B has never seen it: read from the database)
    assert session_check(b, cookie) == 200, b.log_tail()
    assert pg_query(uri, "SELECT count(*) FROM web_sessions") == [["1"]]
    # the settings written through B are read through A
    r = jmap(b, cookie, [["Settings/set", {"accountId": acct, "update": {"singleton": {"density": "compact"}}},
                          "0"]])
    assert r[0][0] == "Settings/set" and "singleton" in r[0][1]["updated"], r
    r = jmap(a, cookie, [["Settings/get", {"accountId": acct, "ids": ["singleton"]}, "0"]])
    assert r[0][1]["list"][0]["density"] == "compact", r
    # a restart of A keeps it
    rc, _ = a.stop()
    assert rc == 0, a.log_tail()
    a.start()
    assert session_check(a, cookie) == 200, a.log_tail()
    # a sign-out on A ends a session B has in memory (B confirms it with the database)
    other, _ = login(a)
    assert session_check(b, other) == 200
    st, _, _ = request(a, "POST", "/api/logout", "", {"Cookie": other, "X-Postamt-CSRF": "1"})
    assert st == 200
    assert session_check(a, other) == 401
    assert wait_status(lambda: session_check(b, other), 401) == 401
    assert session_check(b, cookie) == 200
    # a password change through B ends it on both nodes (both have it cached now)
    r = b.run("user", "passwd", USER, input="wanda-pw-2\n")
    assert r.returncode == 0, r.stderr
    assert wait_status(lambda: session_check(a, cookie), 401) == 401
    assert wait_status(lambda: session_check(b, cookie), 401) == 401
    # "Sign out everywhere" through B ends a session A has in memory
    cookie, _ = login(a, "wanda-pw-2")
    assert session_check(a, cookie) == 200 and session_check(b, cookie) == 200
    st, body, _ = request(b, "POST", "/api/logout-everywhere", "", {"Cookie": cookie, "X-Postamt-CSRF": "1"})
    assert st == 200, body
    assert wait_status(lambda: session_check(a, cookie), 401) == 401
    assert pg_query(uri, "SELECT count(*) FROM web_sessions") == [["0"]]


def test_sieve_script_put_on_a_active_on_b(nodes):
    uri, a, b = nodes
    a.start()
    b.start()
    ca = sieve_login(a)
    assert ca.putscript("cluster", SCRIPT), ca.errmsg
    assert ca.setactive("cluster"), ca.errmsg
    cb = sieve_login(b)
    active, others = cb.listscripts()
    assert active == "cluster" and others == [], (active, others)
    # (sievelib drops the last line end of what it got)
    assert cb.getscript("cluster").replace("\r\n", "\n") == SCRIPT.replace("\r\n", "\n").rstrip("\n")
    # deactivated through B: A has no active script, and deletes it
    assert cb.setactive(""), cb.errmsg
    active, others = ca.listscripts()
    assert active is None and others == ["cluster"], (active, others)
    assert ca.deletescript("cluster"), ca.errmsg
    assert cb.listscripts() == (None, [])
    assert pg_query(uri, "SELECT count(*) FROM sieve_scripts") == [["0"]]
    ca.logout()
    cb.logout()
