"""The webmail's HTTP/JMAP server against the December 2026 outside review (findings 2,
4, 5 and 7 of docs/security.md's "Outside review" section), end to end:

- header-only uploads without credentials get 401 at once and take none of the
  shared message memory, so SMTP delivery keeps working (finding 2); an
  unauthenticated route refuses a large body before reading it;
- Email/get returns a repeated id once, fails with requestTooLarge past
  limits.jmap_response, and cuts body values at a server default (finding 4);
- a cross-site form POST with cached Basic credentials is refused, curl-style Basic
  keeps working, and browser navigations get no Basic challenge (finding 5);
- a password change or `postamt user logout` ends webmail sessions and remembered
  Basic logins, and POST /api/logout-everywhere ends all of an account's sessions
  (finding 7).

Changes made by the command line reach the running server within WEB_GEN_CACHE_MS (2 s);
the tests poll for the expected answer (up to 10 s) instead of sleeping a fixed time."""

import base64
import http.client
import json
import smtplib
import socket
import ssl
import time

import pytest

from conftest import DOMAIN, finish_server, new_server

USER, PEER, OTHER = "hana@" + DOMAIN, "ivo@" + DOMAIN, "jan@" + DOMAIN
PW = {USER: "hana-pw-1", PEER: "ivo-pw-2", OTHER: "jan-pw-3"}
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]
M = 1024 * 1024


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin, config=["limits.message_memory = 16M", "limits.message_size = 8M"],
                   users=[(USER, PW[USER]), (PEER, PW[PEER]), (OTHER, PW[OTHER])])
    yield s
    finish_server(s)


@pytest.fixture(scope="module")
def small_budget(postamt_bin):
    s = new_server(postamt_bin, config=["limits.jmap_response = 2M"], users=[(OTHER, PW[OTHER])])
    yield s
    finish_server(s)


def https(srv, timeout=10):
    return http.client.HTTPSConnection(srv.tls_name, srv.port("https"), context=srv.ssl_context(), timeout=timeout)


def basic(user, pw):
    return "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()


def request(srv, method, path, body=None, headers=None):
    c = https(srv)
    try:
        c.request(method, path, body, headers or {})
        r = c.getresponse()
        return r.status, r.read(), r
    finally:
        c.close()


def login(srv, user, pw=None):
    st, body, r = request(srv, "POST", "/api/login", json.dumps({"username": user, "password": pw or PW[user]}),
                          {"Content-Type": "application/json", "X-Postamt-CSRF": "1"})
    assert st == 200, body
    return r.getheader("Set-Cookie").split(";")[0], json.loads(body)["accountId"]


def api(srv, headers, calls):
    h = {"Content-Type": "application/json"}
    h.update(headers)
    return request(srv, "POST", "/jmap/api", json.dumps({"using": USING, "methodCalls": calls}), h)


def cookie_api(srv, cookie, calls):
    return api(srv, {"Cookie": cookie, "X-Postamt-CSRF": "1"}, calls)


def mailbox_get(srv, headers, account):
    st, body, _ = api(srv, headers, [["Mailbox/get", {"accountId": account, "ids": None}, "0"]])
    return st


def wait_status(fn, want, timeout=10.0):
    """Calls fn() until it returns want (the server's generation cache is 2 s)."""
    deadline = time.monotonic() + timeout
    got = fn()
    while got != want and time.monotonic() < deadline:
        time.sleep(0.2)
        got = fn()
    return got


def smtp_send(srv, to, subject, body):
    msg = ("From: <sender@example.org>\r\nTo: <%s>\r\nSubject: %s\r\n\r\n" % (to, subject)).encode() + body
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=30) as s:
        s.sendmail("sender@example.org", [to], msg)


def find_ids(srv, cookie, account, subject, n=1, wait=10.0):
    deadline = time.monotonic() + wait
    while True:
        st, body, _ = cookie_api(srv, cookie, [["Email/query", {"accountId": account,
                                                                "filter": {"subject": subject}}, "0"]])
        assert st == 200, body
        ids = json.loads(body)["methodResponses"][0][1]["ids"]
        if len(ids) >= n or time.monotonic() > deadline:
            return ids
        time.sleep(0.1)


def text_body(nbytes, tag):
    line = (tag + " " + "x" * 70)[:76] + "\r\n"
    return (line * (nbytes // len(line) + 1)).encode()


# ---------------------------------------------------------------- finding 2: memory before authentication


def test_unauthenticated_uploads_do_not_starve_smtp(srv):
    """30 header-only uploads without credentials, each announcing the maximum size
    (8M; the budget is 16M): each gets 401 before any body byte, and SMTP still
    delivers (the old server reserved the announced sizes and answered 452)."""
    socks = []
    try:
        for _ in range(30):
            s = srv.tls_connect("https", timeout=10)
            s.send(("POST /jmap/upload/A1/ HTTP/1.1\r\nHost: x\r\nContent-Type: message/rfc822\r\n"
                    "Content-Length: %d\r\n\r\n" % (8 * M)).encode())
            socks.append(s)
        smtp_send(srv, PEER, "delivered despite uploads", b"hello\r\n")
        for s in socks:
            text, closed = s.read_all(timeout=10)
            assert text.startswith("HTTP/1.1 401") and closed, text[:200]
    finally:
        for s in socks:
            s.close()


def test_unauthenticated_route_refuses_large_body(srv):
    """The login form is small: a 100 KiB body announced to /api/login is refused
    with 413 before it is read (it used to be accepted up to 10 MiB)."""
    s = srv.tls_connect("https", timeout=10)
    try:
        s.send(b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"X-Postamt-CSRF: 1\r\nContent-Length: 102400\r\n\r\n")
        text, closed = s.read_all(timeout=10)
        assert text.startswith("HTTP/1.1 413") and closed, text[:200]
    finally:
        s.close()


def test_authenticated_upload_still_works(srv):
    st, body, _ = request(srv, "POST", "/jmap/upload/A1/", b"x" * 300000,
                          {"Authorization": basic(USER, PW[USER]), "Content-Type": "application/octet-stream"})
    assert st == 201, body
    assert json.loads(body)["size"] == 300000


# ---------------------------------------------------------------- finding 4: Email/get amplification


def test_email_get_duplicate_ids_once(srv):
    cookie, acct = login(srv, PEER)
    smtp_send(srv, PEER, "dup-ids", text_body(200 * 1024, "dup"))
    ids = find_ids(srv, cookie, acct, "dup-ids")
    assert len(ids) == 1
    st, body, _ = cookie_api(srv, cookie, [["Email/get", {"accountId": acct, "ids": ids * 60,
                                                          "properties": ["id", "bodyValues"],
                                                          "fetchAllBodyValues": True}, "0"]])
    assert st == 200
    r = json.loads(body)["methodResponses"][0]
    assert r[0] == "Email/get", r
    assert [e["id"] for e in r[1]["list"]] == ids
    assert len(body) < 400 * 1024


def test_email_get_over_budget_is_request_too_large(small_budget):
    """Five different 600 KB messages with their bodies: 3 MB of mail against a 2M
    limits.jmap_response: the method fails instead of answering with all of it."""
    srv = small_budget
    cookie, acct = login(srv, OTHER)
    for i in range(5):
        smtp_send(srv, OTHER, "budget-%d" % i, text_body(600 * 1024, "b%d" % i))
    ids = find_ids(srv, cookie, acct, "budget-", n=5)
    assert len(ids) == 5
    st, body, _ = cookie_api(srv, cookie, [["Email/get", {"accountId": acct, "ids": ids,
                                                          "properties": ["id", "bodyValues"],
                                                          "fetchAllBodyValues": True,
                                                          "maxBodyValueBytes": 1000000}, "0"]])
    assert st == 200
    r = json.loads(body)["methodResponses"][0]
    assert r[0] == "error" and r[1]["type"] == "requestTooLarge", str(r)[:300]
    assert len(body) < 64 * 1024
    # fewer at once still works (one message: 600 KB read and 600 KB returned)
    st, body, _ = cookie_api(srv, cookie, [["Email/get", {"accountId": acct, "ids": ids[:1],
                                                          "properties": ["id", "bodyValues"],
                                                          "fetchAllBodyValues": True,
                                                          "maxBodyValueBytes": 1000000}, "0"]])
    r = json.loads(body)["methodResponses"][0]
    assert r[0] == "Email/get" and len(r[1]["list"]) == 1


def test_body_values_have_a_server_default_limit(srv):
    """No maxBodyValueBytes: a 400 KB text body comes back cut at 256 KiB with
    isTruncated; a client that asks for more (as the webmail's reader does) gets it."""
    cookie, acct = login(srv, PEER)
    smtp_send(srv, PEER, "long-text", text_body(400 * 1024, "long"))
    ids = find_ids(srv, cookie, acct, "long-text")
    args = {"accountId": acct, "ids": ids, "properties": ["bodyValues", "textBody"], "fetchTextBodyValues": True}
    st, body, _ = cookie_api(srv, cookie, [["Email/get", args, "0"]])
    e = json.loads(body)["methodResponses"][0][1]["list"][0]
    v = e["bodyValues"][e["textBody"][0]["partId"]]
    assert v["isTruncated"] is True and len(v["value"]) <= 256 * 1024
    args["maxBodyValueBytes"] = 4 * M
    st, body, _ = cookie_api(srv, cookie, [["Email/get", args, "0"]])
    e = json.loads(body)["methodResponses"][0][1]["list"][0]
    v = e["bodyValues"][e["textBody"][0]["partId"]]
    assert v["isTruncated"] is False and len(v["value"]) > 390 * 1024


# ---------------------------------------------------------------- finding 5: CSRF through cached Basic


CSRF_FORM = ('{"using":["urn:ietf:params:jmap:core","urn:ietf:params:jmap:mail"],"methodCalls":'
             '[["Mailbox/set",{"accountId":"%s","create":{"c":{"name":"CSRF-PWNED"}}},"0"]],"x":"="}')


def mailbox_names(srv, user):
    st, body, _ = api(srv, {"Authorization": basic(user, PW[user])},
                      [["Mailbox/get", {"accountId": account_of(srv, user), "ids": None}, "0"]])
    assert st == 200, body
    return [m["name"] for m in json.loads(body)["methodResponses"][0][1]["list"]]


def account_of(srv, user):
    st, body, _ = request(srv, "GET", "/.well-known/jmap", None, {"Authorization": basic(user, PW[user])})
    assert st == 200, body
    return json.loads(body)["primaryAccounts"]["urn:ietf:params:jmap:mail"]


def test_basic_cross_site_form_post_refused(srv):
    acct = account_of(srv, USER)
    auth = basic(USER, PW[USER])
    # the exact repro: a text/plain form from another origin, the browser adds Basic
    st, body, _ = request(srv, "POST", "/jmap/api", CSRF_FORM % acct,
                          {"Authorization": auth, "Content-Type": "text/plain", "Origin": "http://127.0.0.1:28888",
                           "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
                           "Sec-Fetch-Dest": "document"})
    assert st in (403, 415), body
    # JSON through fetch() from another site (would need a preflight; refused anyway)
    for extra in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                  {"Sec-Fetch-Site": "same-site"}, {"Origin": "null"}):
        h = {"Authorization": auth, "Content-Type": "application/json"}
        h.update(extra)
        st, body, _ = request(srv, "POST", "/jmap/api", CSRF_FORM % acct, h)
        assert st == 403, (extra, body)
    # an upload from another site as well
    st, body, _ = request(srv, "POST", "/jmap/upload/%s/" % acct, b"data",
                          {"Authorization": auth, "Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site"})
    assert st == 403, body
    assert "CSRF-PWNED" not in mailbox_names(srv, USER)


def test_jmap_api_requires_json_content_type(srv):
    acct = account_of(srv, USER)
    st, body, _ = request(srv, "POST", "/jmap/api", CSRF_FORM % acct,
                          {"Authorization": basic(USER, PW[USER]), "Content-Type": "text/plain"})
    assert st == 415, body
    assert "CSRF-PWNED" not in mailbox_names(srv, USER)


def test_basic_without_browser_headers_works(srv):
    """A JMAP client such as curl: Basic, application/json, no Origin or Sec-Fetch-*."""
    acct = account_of(srv, USER)
    st, body, _ = api(srv, {"Authorization": basic(USER, PW[USER])},
                      [["Mailbox/get", {"accountId": acct, "ids": None}, "0"]])
    assert st == 200, body
    st, body, _ = request(srv, "POST", "/jmap/api", json.dumps({"using": USING, "methodCalls": []}),
                          {"Authorization": basic(USER, PW[USER]),
                           "Content-Type": "application/json; charset=utf-8", "Origin": "https://" + srv.tls_name +
                           ":%d" % srv.port("https")})
    assert st == 200, body


def test_navigation_gets_no_basic_challenge(srv):
    st, _, r = request(srv, "GET", "/.well-known/jmap", None,
                       {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Sec-Fetch-Site": "none"})
    assert st == 401 and r.getheader("WWW-Authenticate") is None
    st, _, r = request(srv, "GET", "/jmap/download/A1/E1/x", None, {"Sec-Fetch-Dest": "document"})
    assert st == 401 and r.getheader("WWW-Authenticate") is None
    # a JMAP client still gets the challenge
    st, _, r = request(srv, "GET", "/.well-known/jmap")
    assert st == 401 and r.getheader("WWW-Authenticate", "").startswith("Basic")


# ---------------------------------------------------------------- finding 7: sessions after a password change


def set_password(srv, user, pw):
    srv.run("user", "passwd", user, input=pw + "\n")
    PW[user] = pw


def test_password_change_ends_sessions_and_basic(srv):
    user = USER
    cookie, acct = login(srv, user)
    old = PW[user]
    auth_old = {"Authorization": basic(user, old)}
    assert mailbox_get(srv, {"Cookie": cookie, "X-Postamt-CSRF": "1"}, acct) == 200
    assert mailbox_get(srv, auth_old, acct) == 200  # remembered now
    set_password(srv, user, "hana-new-pw")
    try:
        assert wait_status(lambda: mailbox_get(srv, {"Cookie": cookie, "X-Postamt-CSRF": "1"}, acct), 401) == 401
        assert wait_status(lambda: mailbox_get(srv, auth_old, acct), 401) == 401
        # it stays ended, and the new password works
        assert mailbox_get(srv, auth_old, acct) == 401
        assert mailbox_get(srv, {"Authorization": basic(user, PW[user])}, acct) == 200
        cookie2, _ = login(srv, user)
        assert mailbox_get(srv, {"Cookie": cookie2, "X-Postamt-CSRF": "1"}, acct) == 200
        st, _, _ = request(srv, "GET", "/api/session-check", None, {"Cookie": cookie})
        assert st == 401
    finally:
        set_password(srv, user, old)


def test_cli_user_logout_ends_sessions(srv):
    user = PEER
    cookie, acct = login(srv, user)
    hdr = {"Cookie": cookie, "X-Postamt-CSRF": "1"}
    assert mailbox_get(srv, hdr, acct) == 200
    r = srv.run("user", "logout", user)
    assert r.returncode == 0, r.stderr
    assert wait_status(lambda: mailbox_get(srv, hdr, acct), 401) == 401
    # the password is unchanged: logging in again works
    cookie2, _ = login(srv, user)
    assert mailbox_get(srv, {"Cookie": cookie2, "X-Postamt-CSRF": "1"}, acct) == 200
    r = srv.run("user", "logout", "nobody@" + DOMAIN)
    assert r.returncode == 1 and "no account" in r.stderr


def test_logout_everywhere_endpoint(srv):
    user = OTHER
    a, acct = login(srv, user)
    b, _ = login(srv, user)
    other, other_acct = login(srv, PEER)
    # CSRF-protected like the rest: without the header and with a foreign origin, refused
    st, body, _ = request(srv, "POST", "/api/logout-everywhere", "{}",
                          {"Cookie": a, "Content-Type": "application/json", "Origin": "https://evil.example"})
    assert st == 403, body
    assert mailbox_get(srv, {"Cookie": b, "X-Postamt-CSRF": "1"}, acct) == 200
    st, body, r = request(srv, "POST", "/api/logout-everywhere", "{}",
                          {"Cookie": a, "Content-Type": "application/json", "X-Postamt-CSRF": "1"})
    assert st == 200, body
    assert json.loads(body)["sessionsEnded"] >= 2
    assert "Max-Age=0" in r.getheader("Set-Cookie")
    assert mailbox_get(srv, {"Cookie": a, "X-Postamt-CSRF": "1"}, acct) == 401
    assert mailbox_get(srv, {"Cookie": b, "X-Postamt-CSRF": "1"}, acct) == 401
    # another account's session is untouched
    assert mailbox_get(srv, {"Cookie": other, "X-Postamt-CSRF": "1"}, other_acct) == 200
    # and without a session: 401
    st, _, _ = request(srv, "POST", "/api/logout-everywhere", "{}",
                       {"Content-Type": "application/json", "X-Postamt-CSRF": "1"})
    assert st == 401
