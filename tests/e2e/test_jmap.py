"""JMAP (RFC 8620, 8621, 9425) and the webmail's HTTP API end to end, with Python's
http.client against a real `postamt serve`: login, cookie and CSRF, the session
resource, Basic auth, mailboxes, email query/get after an SMTP delivery, keywords seen
over IMAP, push (EventSource) within one second of a delivery, upload + import +
download, sending to a local user, quota, typed errors, static files, and the HTTP
limits (413, 431, slowloris); Email/query's fast path (the store's receivedAt index)
against the general path, and queryChanges after it."""

import base64
import imaplib
import json
import smtplib
import socket
import ssl
import time
import http.client

import pytest

from conftest import finish_server, new_server

USER, PEER, SMALL = "anna@example.test", "bert@example.test", "tiny@example.test"
QUSER = "quinn@example.test"  # Email/query's fast path against the general one, on a mailbox of its own
PW = {USER: "anna-secret-1", PEER: "bert-secret-2", SMALL: "tiny-secret-3", QUSER: "quinn-secret-4"}
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission",
         "urn:ietf:params:jmap:quota"]


@pytest.fixture(scope="module")
def srv(postamt_bin, tmp_path_factory):
    s = new_server(postamt_bin, tmp_path_factory, users=[(USER, PW[USER]), (PEER, PW[PEER]), (QUSER, PW[QUSER])])
    s.run("user", "add", SMALL, "--quota", "20K", input=PW[SMALL] + "\n")
    yield s
    finish_server(s)


def https(srv, timeout=10):
    return http.client.HTTPSConnection(srv.tls_name, srv.port("https"), context=srv.ssl_context(), timeout=timeout)


class Client:
    """A logged-in webmail session (cookie + CSRF header), or Basic auth."""

    def __init__(self, srv, user=USER, basic=False):
        self.srv = srv
        self.conn = https(srv)
        self.headers = {"Content-Type": "application/json"}
        if basic:
            tok = base64.b64encode(("%s:%s" % (user, PW[user])).encode()).decode()
            self.headers["Authorization"] = "Basic " + tok
            self.account = None
        else:
            st, body, resp = self.request("POST", "/api/login",
                                          json.dumps({"username": user, "password": PW[user]}),
                                          {"X-Postamt-CSRF": "1"})
            assert st == 200, body
            self.cookie = resp.getheader("Set-Cookie").split(";")[0]
            self.headers["Cookie"] = self.cookie
            self.headers["X-Postamt-CSRF"] = "1"
            self.account = json.loads(body)["accountId"]
        if self.account is None:
            self.account = self.session()["primaryAccounts"]["urn:ietf:params:jmap:mail"]

    def request(self, method, path, body=None, headers=None):
        h = dict(getattr(self, "headers", {}))
        h.update(headers or {})
        self.conn.request(method, path, body, h)
        r = self.conn.getresponse()
        return r.status, r.read(), r

    def session(self):
        st, body, _ = self.request("GET", "/.well-known/jmap")
        assert st == 200, body
        return json.loads(body)

    def api(self, calls, using=USING):
        st, body, _ = self.request("POST", "/jmap/api", json.dumps({"using": using, "methodCalls": calls}))
        assert st == 200, body
        return json.loads(body)["methodResponses"]

    def call(self, name, args):
        args = dict(args)
        args.setdefault("accountId", self.account)
        r = self.api([[name, args, "c"]])
        return r[0]

    def ok(self, name, args):
        resp = self.call(name, args)
        assert resp[0] == name, resp
        return resp[1]

    def mailbox(self, role):
        for m in self.ok("Mailbox/get", {"ids": None})["list"]:
            if m["role"] == role:
                return m["id"]
        raise KeyError(role)

    def find(self, subject, mailbox=None, wait=5.0):
        """Email ids whose subject contains subject (waits for delivery)."""
        deadline = time.monotonic() + wait
        flt = {"subject": subject}
        if mailbox:
            flt = {"operator": "AND", "conditions": [flt, {"inMailbox": mailbox}]}
        while True:
            ids = self.ok("Email/query", {"filter": flt})["ids"]
            if ids or time.monotonic() > deadline:
                return ids
            time.sleep(0.1)


def smtp_send(srv, to, subject, body="Hello.\r\n", extra=b""):
    msg = ("From: Sender <sender@remote.test>\r\nTo: %s\r\nSubject: %s\r\n" % (to, subject)).encode() + extra
    msg += b"\r\n" + body.encode()
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=10) as s:
        s.sendmail("sender@remote.test", [to], msg)


# ---------------------------------------------------------------- login, cookie, CSRF


def test_login_cookie_and_logout(srv):
    c = https(srv)
    c.request("POST", "/api/login", json.dumps({"username": USER, "password": PW[USER]}),
              {"Content-Type": "application/json", "X-Postamt-CSRF": "1"})
    r = c.getresponse()
    body = json.loads(r.read())
    assert r.status == 200 and body["username"] == USER and body["accountId"]
    cookie = r.getheader("Set-Cookie")
    name, _, rest = cookie.partition("=")
    assert name == "postamt_session"
    token = rest.split(";")[0]
    assert len(token) >= 43  # 256 random bits
    flags = [f.strip().lower() for f in cookie.split(";")[1:]]
    for f in ("httponly", "secure", "samesite=strict", "path=/"):
        assert f in flags, cookie
    hdr = {"Cookie": "postamt_session=" + token}
    c.request("GET", "/api/session-check", headers=hdr)
    r = c.getresponse()
    assert r.status == 200 and json.loads(r.read())["username"] == USER
    c.request("POST", "/api/logout", "", dict(hdr, **{"X-Postamt-CSRF": "1"}))
    r = c.getresponse()
    r.read()
    assert r.status == 200
    c.request("GET", "/api/session-check", headers=hdr)
    r = c.getresponse()
    r.read()
    assert r.status == 401
    c.request("GET", "/.well-known/jmap", headers=hdr)
    r = c.getresponse()
    r.read()
    assert r.status == 401


def test_login_failures(srv):
    c = https(srv)
    c.request("POST", "/api/login", json.dumps({"username": USER, "password": "wrong"}),
              {"Content-Type": "application/json", "X-Postamt-CSRF": "1"})
    r = c.getresponse()
    assert r.status == 401 and "error" in json.loads(r.read())
    c.request("POST", "/api/login", "not json", {"X-Postamt-CSRF": "1"})
    r = c.getresponse()
    r.read()
    assert r.status == 400
    # a login from a foreign page (no custom header, cross-site Origin) is refused
    c.request("POST", "/api/login", json.dumps({"username": USER, "password": PW[USER]}),
              {"Origin": "https://evil.test", "Sec-Fetch-Site": "cross-site"})
    r = c.getresponse()
    r.read()
    assert r.status == 403
    c.request("GET", "/api/session-check")
    r = c.getresponse()
    r.read()
    assert r.status == 401
    c.request("GET", "/api/session-check", headers={"Cookie": "postamt_session=forged-token"})
    r = c.getresponse()
    r.read()
    assert r.status == 401


def test_login_rate_limited(make_server):
    s = make_server(["limits.auth_failures_per_minute = 2"], users=[(USER, PW[USER])])
    statuses = []
    for _ in range(4):
        c = https(s, timeout=15)
        c.request("POST", "/api/login", json.dumps({"username": USER, "password": "nope"}),
                  {"X-Postamt-CSRF": "1"})
        r = c.getresponse()
        r.read()
        statuses.append(r.status)
    assert statuses[:2] == [401, 401] and statuses[-1] == 429, statuses


def test_csrf(srv):
    cl = Client(srv)
    body = json.dumps({"using": USING, "methodCalls": [["Mailbox/get", {"accountId": cl.account}, "0"]]})
    base = {"Cookie": cl.cookie, "Content-Type": "application/json"}
    c = https(srv)
    for extra, want in [({}, 403), ({"Origin": "https://evil.test"}, 403),
                        ({"Sec-Fetch-Site": "cross-site"}, 403), ({"X-Postamt-CSRF": "1"}, 200),
                        ({"Sec-Fetch-Site": "same-origin"}, 200),
                        ({"Origin": "https://%s:%d" % (srv.tls_name, srv.port("https"))}, 200)]:
        h = dict(base)
        h.update(extra)
        c.request("POST", "/jmap/api", body, h)
        r = c.getresponse()
        r.read()
        assert r.status == want, (extra, r.status)


def test_session_resource(srv):
    cl = Client(srv)
    s = cl.session()
    for cap in USING:
        assert cap in s["capabilities"]
        assert s["primaryAccounts"][cap] == cl.account
    assert s["username"] == USER
    assert s["apiUrl"] == "/jmap/api"
    assert s["downloadUrl"] == "/jmap/download/{accountId}/{blobId}/{name}?type={type}"
    assert s["uploadUrl"] == "/jmap/upload/{accountId}/"
    assert s["eventSourceUrl"] == "/jmap/eventsource?types={types}&closeafter={closeafter}&ping={ping}"
    acct = s["accounts"][cl.account]
    assert acct["isPersonal"] and not acct["isReadOnly"]
    core = s["capabilities"]["urn:ietf:params:jmap:core"]
    assert core["maxCallsInRequest"] >= 16 and core["maxSizeUpload"] > 0


def test_basic_auth(srv):
    cl = Client(srv, basic=True)
    assert cl.session()["username"] == USER
    assert cl.ok("Mailbox/get", {})["list"]
    c = https(srv)
    bad = base64.b64encode(b"%s:wrong" % USER.encode()).decode()
    c.request("GET", "/.well-known/jmap", headers={"Authorization": "Basic " + bad})
    r = c.getresponse()
    r.read()
    assert r.status == 401 and r.getheader("WWW-Authenticate", "").startswith("Basic")


# ---------------------------------------------------------------- mailboxes and email


def test_mailbox_get_and_set(srv):
    cl = Client(srv)
    got = cl.ok("Mailbox/get", {"ids": None})
    roles = {m["role"]: m for m in got["list"]}
    for role in ("inbox", "drafts", "sent", "trash", "junk", "archive"):
        assert role in roles, roles.keys()
    assert roles["inbox"]["name"] == "INBOX" and roles["inbox"]["parentId"] is None
    assert got["state"]
    r = cl.ok("Mailbox/set", {"create": {"p": {"name": "Projects"}, "c": {"name": "Child", "parentId": "#p"}}})
    pid, cid = r["created"]["p"]["id"], r["created"]["c"]["id"]
    kids = cl.ok("Mailbox/get", {"ids": [cid]})["list"]
    assert kids[0]["parentId"] == pid and kids[0]["name"] == "Child"
    r = cl.ok("Mailbox/set", {"update": {cid: {"name": "Kid"}}})
    assert cid in r["updated"]
    r = cl.ok("Mailbox/set", {"destroy": [pid]})
    assert r["notDestroyed"][pid]["type"] == "mailboxHasChild"
    r = cl.ok("Mailbox/set", {"destroy": [cid]})
    assert r["destroyed"] == [cid]
    r = cl.ok("Mailbox/set", {"destroy": [roles["inbox"]["id"]]})
    assert roles["inbox"]["id"] in r["notDestroyed"]
    q = cl.ok("Mailbox/query", {"filter": {"role": "inbox"}})
    assert q["ids"] == [roles["inbox"]["id"]]
    ch = cl.ok("Mailbox/changes", {"sinceState": got["state"]})
    assert cid in ch["destroyed"] and pid in ch["updated"] + ch["created"]


def test_email_after_smtp_delivery(srv):
    cl = Client(srv)
    inbox = cl.mailbox("inbox")
    state0 = cl.ok("Email/get", {"ids": []})["state"]
    smtp_send(srv, USER, "Delivered over SMTP", "First line.\r\nSecond line, with \xe4 umlaut?\r\n".encode(
        "ascii", "ignore").decode())
    ids = cl.find("Delivered over SMTP", inbox)
    assert len(ids) == 1
    r = cl.api([["Email/query", {"accountId": cl.account, "filter": {"inMailbox": inbox},
                                 "sort": [{"property": "receivedAt", "isAscending": False}],
                                 "calculateTotal": True, "limit": 10}, "q"],
                ["Email/get", {"accountId": cl.account,
                               "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
                               "properties": ["subject", "from", "to", "receivedAt", "keywords", "mailboxIds",
                                              "preview", "textBody", "bodyValues", "threadId",
                                              "header:Subject:asText", "header:Received:all"],
                               "fetchTextBodyValues": True}, "g"]])
    q, g = r[0][1], r[1][1]
    assert q["total"] >= 1 and ids[0] in q["ids"]
    e = [x for x in g["list"] if x["id"] == ids[0]][0]
    assert e["subject"] == "Delivered over SMTP" == e["header:Subject:asText"]
    assert e["from"] == [{"name": "Sender", "email": "sender@remote.test"}]
    assert e["to"] == [{"name": None, "email": USER}]
    assert e["mailboxIds"] == {inbox: True} and e["keywords"] == {}
    assert len(e["header:Received:all"]) == 1
    part = e["textBody"][0]["partId"]
    assert e["bodyValues"][part]["value"].startswith("First line.\nSecond line")
    assert e["preview"].startswith("First line.")
    ch = cl.ok("Email/changes", {"sinceState": state0})
    assert ids[0] in ch["created"] + ch["updated"]
    th = cl.ok("Thread/get", {"ids": [e["threadId"]]})
    assert th["list"][0]["emailIds"] == [ids[0]]
    snip = cl.ok("SearchSnippet/get", {"emailIds": ids, "filter": {"text": "Second"}})
    assert snip["list"], snip
    assert "<mark>Second</mark>" in snip["list"][0]["preview"]


def test_keywords_seen_over_imap(srv):
    cl = Client(srv)
    inbox = cl.mailbox("inbox")
    smtp_send(srv, USER, "Flag me")
    eid = cl.find("Flag me", inbox)[0]
    r = cl.ok("Email/set", {"update": {eid: {"keywords/$seen": True, "keywords/$flagged": True,
                                             "keywords/custom": True}}})
    assert eid in r["updated"], r
    assert cl.ok("Email/get", {"ids": [eid], "properties": ["keywords"]})["list"][0]["keywords"] == {
        "$seen": True, "$flagged": True, "custom": True}
    im = imaplib.IMAP4_SSL(srv.host, srv.port("imaps"), ssl_context=srv.ssl_context(check_hostname=False))
    try:
        im.login(USER, PW[USER])
        im.select("INBOX", readonly=True)
        typ, data = im.search(None, "SUBJECT", '"Flag me"')
        num = data[0].split()[-1]
        typ, data = im.fetch(num, "(FLAGS)")
        flags = data[0].decode()
        assert "\\Seen" in flags and "\\Flagged" in flags and "custom" in flags, flags
        # and the other way: IMAP clears \Flagged, JMAP sees it
        im.select("INBOX")
        im.store(num, "-FLAGS", "(\\Flagged)")
    finally:
        im.logout()
    kw = cl.ok("Email/get", {"ids": [eid], "properties": ["keywords"]})["list"][0]["keywords"]
    assert kw == {"$seen": True, "custom": True}
    # move to Archive through mailboxIds: IMAP sees it there
    archive = cl.mailbox("archive")
    r = cl.ok("Email/set", {"update": {eid: {"mailboxIds": {archive: True}}}})
    assert eid in r["updated"], r
    assert cl.ok("Email/get", {"ids": [eid], "properties": ["mailboxIds"]})["list"][0]["mailboxIds"] == {
        archive: True}
    q = cl.ok("Email/query", {"filter": {"inMailbox": archive, "hasKeyword": "$seen"}})
    assert eid in q["ids"]
    q = cl.ok("Email/query", {"filter": {"inMailbox": inbox, "subject": "Flag me"}})
    assert eid not in q["ids"]


def read_events(sock, until, deadline):
    """Reads SSE text from sock until `until` is in it or the deadline; returns it."""
    buf = b""
    while until.encode() not in buf and time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, ssl.SSLError):
            break
        if not chunk:
            break
        buf += chunk
    return buf.decode("utf-8", "replace")


def test_eventsource_push_within_one_second(srv):
    cl = Client(srv)
    raw = socket.create_connection((srv.host, srv.port("https")), timeout=10)
    s = srv.ssl_context().wrap_socket(raw, server_hostname=srv.tls_name)
    try:
        s.sendall(("GET /jmap/eventsource?types=*&closeafter=no&ping=1 HTTP/1.1\r\nHost: %s\r\n"
                   "Cookie: %s\r\nAccept: text/event-stream\r\n\r\n" % (srv.tls_name, cl.cookie)).encode())
        head = read_events(s, "event: state", time.monotonic() + 5)
        assert head.startswith("HTTP/1.1 200"), head
        assert "text/event-stream" in head and "Content-Length" not in head
        pings = read_events(s, "event: ping", time.monotonic() + 3)
        assert "event: ping" in pings
        t0 = time.monotonic()
        smtp_send(srv, USER, "Pushed")
        text = ""
        got = None
        while time.monotonic() < t0 + 3 and got is None:
            text += read_events(s, "\n\n", t0 + 3)
            for block in text.split("\n\n"):
                if block.startswith("event: state") and "data:" in block:
                    data = json.loads(block.split("data:", 1)[1])
                    ch = data["changed"].get(cl.account, {})
                    if "EmailDelivery" in ch:
                        got = time.monotonic() - t0
        assert got is not None, text
        assert got < 1.0, got
        assert data["@type"] == "StateChange" and "Email" in ch
        # the state matches what Email/get reports now
        assert ch["Email"] == cl.ok("Email/get", {"ids": []})["state"]
    finally:
        s.close()


def test_upload_import_download(srv):
    cl = Client(srv)
    msg = (b"From: Importer <imp@remote.test>\r\nTo: %s\r\nSubject: Imported message\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
           b"Content-Type: text/plain\r\n\r\nSee attachment.\r\n--XX\r\nContent-Type: application/pdf; name=\"r.pdf\"\r\n"
           b"Content-Disposition: attachment; filename=\"r.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           b"JVBERi0xLjQKJcOkw7w=\r\n--XX--\r\n") % USER.encode()
    st, body, _ = cl.request("POST", "/jmap/upload/%s/" % cl.account, msg, {"Content-Type": "message/rfc822"})
    assert st in (200, 201), body
    up = json.loads(body)
    assert up["size"] == len(msg) and up["type"] == "message/rfc822" and up["accountId"] == cl.account
    inbox = cl.mailbox("inbox")
    r = cl.ok("Email/import", {"emails": {"i1": {"blobId": up["blobId"], "mailboxIds": {inbox: True},
                                                  "keywords": {"$seen": True},
                                                  "receivedAt": "2024-05-06T07:08:09Z"}}})
    eid = r["created"]["i1"]["id"]
    e = cl.ok("Email/get", {"ids": [eid], "properties": ["subject", "attachments", "keywords", "receivedAt",
                                                         "hasAttachment", "blobId"]})["list"][0]
    assert e["subject"] == "Imported message" and e["keywords"] == {"$seen": True}
    assert e["receivedAt"] == "2024-05-06T07:08:09Z" and e["hasAttachment"]
    att = e["attachments"][0]
    assert att["name"] == "r.pdf" and att["type"] == "application/pdf"
    st, data, resp = cl.request("GET", "/jmap/download/%s/%s/r.pdf?type=application/pdf" % (cl.account, att["blobId"]))
    assert st == 200 and data == base64.b64decode("JVBERi0xLjQKJcOkw7w=")
    assert resp.getheader("Content-Type") == "application/pdf"
    assert "attachment" in resp.getheader("Content-Disposition") and "r.pdf" in resp.getheader("Content-Disposition")
    st, data, _ = cl.request("GET", "/jmap/download/%s/%s/m.eml" % (cl.account, e["blobId"]))
    assert st == 200 and data == msg
    p = cl.ok("Email/parse", {"blobIds": [up["blobId"]], "properties": ["subject", "from"]})
    assert p["parsed"][up["blobId"]]["subject"] == "Imported message"
    st, _, _ = cl.request("GET", "/jmap/download/%s/Bnope/x" % cl.account)
    assert st == 404
    # another user cannot download it
    other = Client(srv, PEER)
    st, _, _ = other.request("GET", "/jmap/download/%s/%s/x" % (cl.account, e["blobId"]))
    assert st == 404
    st, _, _ = other.request("GET", "/jmap/download/%s/%s/x" % (other.account, e["blobId"]))
    assert st == 404


def test_draft_and_submission_to_local_user(srv):
    cl = Client(srv)
    peer = Client(srv, PEER)
    drafts, sent = cl.mailbox("drafts"), cl.mailbox("sent")
    ident = cl.ok("Identity/get", {})["list"]
    me = [i for i in ident if i["email"] == USER][0]
    st, body, _ = cl.request("POST", "/jmap/upload/%s/" % cl.account, b"attached bytes\n", {"Content-Type": "text/plain"})
    blob = json.loads(body)["blobId"]
    r = cl.api([
        ["Email/set", {"accountId": cl.account, "create": {"d": {
            "mailboxIds": {drafts: True}, "keywords": {"$draft": True, "$seen": True},
            "from": [{"name": "Anna", "email": USER}], "to": [{"name": "Bert B\u00e4r", "email": PEER}],
            "subject": "Greetings \u00fcber JMAP",
            "textBody": [{"partId": "t", "type": "text/plain"}],
            "bodyValues": {"t": {"value": "Hello Bert,\nthis came through JMAP.\n"}},
            "attachments": [{"blobId": blob, "type": "text/plain", "name": "notes.txt"}]}}}, "0"],
        ["EmailSubmission/set", {"accountId": cl.account, "create": {"s": {"identityId": me["id"], "emailId": "#d"}},
                                 "onSuccessUpdateEmail": {"#s": {"mailboxIds/" + drafts: None,
                                                                 "mailboxIds/" + sent: True,
                                                                 "keywords/$draft": None}}}, "1"]])
    assert r[0][0] == "Email/set" and "d" in r[0][1]["created"], r
    assert r[1][0] == "EmailSubmission/set" and "s" in r[1][1]["created"], r
    assert r[2][0] == "Email/set" and r[2][2] == "1", r  # the implicit response
    eid = r[0][1]["created"]["d"]["id"]
    assert eid in r[2][1]["updated"]
    e = cl.ok("Email/get", {"ids": [eid], "properties": ["mailboxIds", "keywords"]})["list"][0]
    assert e["mailboxIds"] == {sent: True} and e["keywords"] == {"$seen": True}
    ids = peer.find("Greetings", peer.mailbox("inbox"))
    assert len(ids) == 1
    got = peer.ok("Email/get", {"ids": ids, "properties": ["subject", "from", "to", "attachments", "bodyValues",
                                                         "textBody", "header:Received:all", "messageId"],
                                "fetchTextBodyValues": True})["list"][0]
    assert got["subject"] == "Greetings \u00fcber JMAP"
    assert got["to"] == [{"name": "Bert B\u00e4r", "email": PEER}]
    assert got["attachments"][0]["name"] == "notes.txt"
    assert "this came through JMAP" in got["bodyValues"][got["textBody"][0]["partId"]]["value"]
    assert any("postamt" in h for h in got["header:Received:all"])
    assert got["messageId"]
    sub = cl.ok("EmailSubmission/get", {"ids": [r[1][1]["created"]["s"]["id"]]})["list"][0]
    assert sub["undoStatus"] == "final" and sub["emailId"] == eid


def test_submission_refused_sender_and_recipient(srv):
    cl = Client(srv)
    drafts = cl.mailbox("drafts")
    me = cl.ok("Identity/get", {})["list"][0]["id"]
    r = cl.ok("Email/set", {"create": {
        "a": {"mailboxIds": {drafts: True}, "from": [{"email": "someone@else.test"}], "to": [{"email": PEER}],
              "subject": "forged", "textBody": [{"partId": "t"}], "bodyValues": {"t": {"value": "x"}}},
        "b": {"mailboxIds": {drafts: True}, "from": [{"email": USER}], "to": [{"email": "nobody@example.test"}],
              "subject": "unknown", "textBody": [{"partId": "t"}], "bodyValues": {"t": {"value": "x"}}}}})
    a, b = r["created"]["a"]["id"], r["created"]["b"]["id"]
    forged_envelope = {"mailFrom": {"email": "someone@else.test"}, "rcptTo": [{"email": PEER}]}
    r = cl.ok("EmailSubmission/set", {"create": {"1": {"identityId": me, "emailId": a},
                                                 "2": {"identityId": me, "emailId": b},
                                                 "3": {"identityId": me, "emailId": b, "envelope": forged_envelope}}})
    # a From that is not the identity's (RFC 8621 section 7.5), a forged envelope sender
    assert r["notCreated"]["1"]["type"] == "forbiddenFrom", r
    assert r["notCreated"]["3"]["type"] == "forbiddenMailFrom", r
    assert r["notCreated"]["2"]["type"] == "invalidRecipients", r
    assert r["notCreated"]["2"]["invalidRecipients"] == ["nobody@example.test"]
    r = cl.ok("Identity/set", {"create": {"x": {"email": "someone@else.test"}}})
    assert r["notCreated"]["x"]["type"] == "forbiddenFrom"


def test_quota(srv):
    cl = Client(srv, SMALL)
    q = cl.ok("Quota/get", {"ids": None})
    assert len(q["list"]) == 1
    quota = q["list"][0]
    assert quota["resourceType"] == "octets" and quota["hardLimit"] == 20 * 1024 and quota["scope"] == "account"
    assert "Mail" in quota["types"] and quota["used"] >= 0
    # over quota: an import larger than what is left
    big = b"From: a@remote.test\r\nSubject: big\r\n\r\n" + b"x" * 76 * 400
    st, body, _ = cl.request("POST", "/jmap/upload/%s/" % cl.account, big, {"Content-Type": "message/rfc822"})
    blob = json.loads(body)["blobId"]
    r = cl.ok("Email/import", {"emails": {"b": {"blobId": blob, "mailboxIds": {cl.mailbox("inbox"): True}}}})
    assert r["notCreated"]["b"]["type"] == "overQuota", r
    assert cl.ok("Quota/get", {})["list"][0]["used"] == quota["used"]


# ---------------------------------------------------------------- errors


def raw_api(cl, body):
    st, data, resp = cl.request("POST", "/jmap/api", body)
    return st, json.loads(data), resp


def test_request_level_errors(srv):
    cl = Client(srv)
    st, j, resp = raw_api(cl, "{not json")
    assert st == 400 and j["type"] == "urn:ietf:params:jmap:error:notJSON" and j["status"] == 400
    assert resp.getheader("Content-Type").startswith("application/problem+json")
    st, j, _ = raw_api(cl, json.dumps({"methodCalls": []}))
    assert st == 400 and j["type"] == "urn:ietf:params:jmap:error:notRequest"
    st, j, _ = raw_api(cl, json.dumps({"using": ["urn:example:nope"], "methodCalls": []}))
    assert st == 400 and j["type"] == "urn:ietf:params:jmap:error:unknownCapability"
    maxcalls = cl.session()["capabilities"]["urn:ietf:params:jmap:core"]["maxCallsInRequest"]
    st, j, _ = raw_api(cl, json.dumps({"using": USING, "methodCalls": [["Core/echo", {}, str(i)]
                                                                      for i in range(maxcalls + 1)]}))
    assert st == 400 and j["type"] == "urn:ietf:params:jmap:error:limit" and j["limit"] == "maxCallsInRequest"


def test_method_errors(srv):
    cl = Client(srv)
    a = cl.account
    r = cl.api([["Nope/get", {}, "0"],
                ["Mailbox/get", {"accountId": a}, "1"],
                ["Email/get", {"accountId": a, "ids": "notalist"}, "2"],
                ["Email/get", {"accountId": a, "#ids": {"resultOf": "9", "name": "Email/query", "path": "/ids"}}, "3"],
                ["Email/set", {"accountId": a, "ifInState": "0", "update": {}}, "4"],
                ["Email/get", {"accountId": a, "ids": ["Ezzzzz", "bogus"], "properties": ["id"]}, "5"],
                ["Mailbox/get", {"accountId": "A999"}, "6"],
                ["Email/changes", {"accountId": a, "sinceState": "999999999"}, "7"],
                ["Email/query", {"accountId": a, "filter": {"unknownCondition": 1}}, "8"],
                ["Email/query", {"accountId": a, "sort": [{"property": "nope"}]}, "9"],
                ["Email/get", {"accountId": a, "ids": [], "properties": ["nope"]}, "10"],
                ["Core/echo", {"hello": True}, "11"]])
    types = {resp[2]: (resp[0], resp[1].get("type")) for resp in r}
    assert types["0"] == ("error", "unknownMethod")
    assert types["1"][0] == "Mailbox/get"
    assert types["2"] == ("error", "invalidArguments")
    assert types["3"] == ("error", "invalidResultReference")
    assert types["4"] == ("error", "stateMismatch")
    got = [x for x in r if x[2] == "5"][0][1]
    assert got["list"] == [] and sorted(got["notFound"]) == ["Ezzzzz", "bogus"]
    assert types["6"] == ("error", "accountNotFound")
    assert types["7"] == ("error", "cannotCalculateChanges")
    assert types["8"] == ("error", "unsupportedFilter")
    assert types["9"] == ("error", "unsupportedSort")
    assert types["10"] == ("error", "invalidArguments")
    assert [x for x in r if x[2] == "11"][0] == ["Core/echo", {"hello": True}, "11"]
    # a capability not in "using" makes its methods unknown
    r = cl.api([["Mailbox/get", {"accountId": a}, "0"]], using=["urn:ietf:params:jmap:core"])
    assert r[0][0] == "error" and r[0][1]["type"] == "unknownMethod"
    r = cl.ok("Email/set", {"update": {"Ezzzzz": {"keywords/$seen": True}}, "destroy": ["Ezzzzz"]})
    assert r["notUpdated"]["Ezzzzz"]["type"] == "notFound" and r["notDestroyed"]["Ezzzzz"]["type"] == "notFound"


def test_get_arguments_checked_alike_for_every_type(srv):
    """RFC 8620 §5.1 for every singleton and list type: ids and properties must be
    arrays or null, an unknown property is invalidArguments, more ids than
    maxObjectsInGet is requestTooLarge."""
    cl = Client(srv)
    a = cl.account
    using = USING + ["urn:ietf:params:jmap:submission", "urn:ietf:params:jmap:sieve",
                     "urn:ietf:params:jmap:vacationresponse", "urn:postamt:params:jmap:junk"]
    too_many = ["x%d" % i for i in range(1001)]
    for method in ["Mailbox/get", "SieveScript/get", "VacationResponse/get", "JunkSettings/get"]:
        r = cl.api([[method, {"accountId": a, "ids": "notalist"}, "1"],
                    [method, {"accountId": a, "properties": {"id": True}}, "2"],
                    [method, {"accountId": a, "properties": ["id", "nope"]}, "3"],
                    [method, {"accountId": a, "ids": too_many}, "4"],
                    [method, {"accountId": a, "ids": None, "properties": None}, "5"],
                    [method, {"accountId": a, "properties": ["id"]}, "6"]], using=using)
        types = {resp[2]: (resp[0], resp[1].get("type")) for resp in r}
        assert types["1"] == ("error", "invalidArguments"), method
        assert types["2"] == ("error", "invalidArguments"), method
        assert types["3"] == ("error", "invalidArguments"), method
        assert types["4"] == ("error", "requestTooLarge"), method
        assert types["5"][0] == method and types["6"][0] == method, (method, r)
        for item in [x for x in r if x[2] == "6"][0][1]["list"]:
            assert list(item) == ["id"], (method, item)


def test_query_changes_and_destroy(srv):
    cl = Client(srv)
    inbox = cl.mailbox("inbox")
    q0 = cl.ok("Email/query", {"filter": {"inMailbox": inbox}, "sort": [{"property": "receivedAt",
                                                                          "isAscending": False}]})
    smtp_send(srv, USER, "Query change")
    eid = cl.find("Query change", inbox)[0]
    qc = cl.ok("Email/queryChanges", {"filter": {"inMailbox": inbox}, "sinceQueryState": q0["queryState"],
                                      "sort": [{"property": "receivedAt", "isAscending": False}]})
    assert {"id": eid, "index": 0} in qc["added"]
    r = cl.ok("Email/set", {"destroy": [eid]})
    assert r["destroyed"] == [eid]
    st = r["oldState"]
    ch = cl.ok("Email/changes", {"sinceState": st})
    assert eid in ch["destroyed"]
    assert cl.ok("Email/get", {"ids": [eid]})["notFound"] == [eid]


def _general(args):
    """The same query, but with the filter inside an AND operator: Email/query's general path
    (read every message, sort in C) instead of the store's receivedAt index."""
    g = dict(args)
    g["filter"] = {"operator": "AND", "conditions": [args["filter"]]}
    return g


def _fill_query_mailboxes(cl, srv):
    """40 imported emails with 4 distinct receivedAt values (ties), keywords by number, some also
    or only in Archive; then IMAP copies of three INBOX messages into INBOX itself (the same
    email twice in one mailbox) with \\Seen and a keyword only on the copy."""
    inbox, archive = cl.mailbox("inbox"), cl.mailbox("archive")
    emails = {}
    for i in range(40):
        msg = ("From: q%d@remote.test\r\nTo: %s\r\nSubject: fastq %d\r\nMessage-ID: <fastq-%d@remote.test>\r\n"
               "\r\nbody %d\r\n" % (i, QUSER, i, i, i)).encode()
        st, body, _ = cl.request("POST", "/jmap/upload/%s/" % cl.account, msg, {"Content-Type": "message/rfc822"})
        assert st in (200, 201), body
        kw = {}
        if i % 3 == 0:
            kw["$seen"] = True
        if i % 5 == 0:
            kw["$flagged"] = True
        if i % 4 == 0:
            kw["$label1"] = True
        if i % 6 == 0:
            kw["work"] = True
        boxes = {archive: True} if i % 11 == 5 else {inbox: True, archive: True} if i % 7 == 3 else {inbox: True}
        emails["e%d" % i] = {"blobId": json.loads(body)["blobId"], "mailboxIds": boxes, "keywords": kw,
                             "receivedAt": "2026-01-0%dT10:00:00Z" % (1 + (i * 3) % 4)}
    r = cl.ok("Email/import", {"emails": emails})
    assert len(r["created"]) == 40, r
    im = imaplib.IMAP4_SSL(srv.host, srv.port("imaps"), ssl_context=srv.ssl_context(check_hostname=False))
    try:
        im.login(QUSER, PW[QUSER])
        im.select("INBOX")
        for uid in (b"2", b"9", b"20"):
            typ, data = im.uid("COPY", uid, "INBOX")
            assert typ == "OK", data
            new_uid = im.response("COPYUID")[1][-1].split()[-1].decode()  # [COPYUID v src dst]
            typ, data = im.uid("STORE", new_uid, "+FLAGS", "(\\Seen copied)")
            assert typ == "OK", data
    finally:
        im.logout()
    return inbox, archive


def test_email_query_fast_path_matches_general(srv):
    """Email/query {inMailbox, keyword conditions, sort by receivedAt} is answered from the
    store's receivedAt index; each window of it equals the general path's answer (same ids in
    the same order, ties on receivedAt by id in the sort's direction, position, total, limit,
    anchors, anchorNotFound)."""
    cl = Client(srv, QUSER)
    inbox, archive = _fill_query_mailboxes(cl, srv)
    filters = [
        {"inMailbox": inbox},
        {"inMailbox": inbox, "hasKeyword": "$seen"},
        {"inMailbox": inbox, "notKeyword": "$seen"},
        {"inMailbox": inbox, "hasKeyword": "$LABEL1", "notKeyword": "work"},
        {"inMailbox": inbox, "hasKeyword": "copied"},
        {"inMailbox": inbox, "someInThreadHaveKeyword": "$flagged", "noneInThreadHaveKeyword": "$seen"},
        {"inMailbox": inbox, "hasKeyword": "$seen", "notKeyword": "$seen"},
        {"inMailbox": archive},
        {"inMailbox": archive, "allInThreadHaveKeyword": "work"},
    ]
    sorts = [[{"property": "receivedAt", "isAscending": False}], [{"property": "receivedAt", "isAscending": True}],
             [{"property": "receivedAt"}], None]
    windows = [{"position": 0, "limit": 50, "calculateTotal": True}, {"position": 3, "limit": 5},
               {"position": -4, "limit": 10, "calculateTotal": True}, {"position": -100}, {},
               {"position": 100, "calculateTotal": True}, {"limit": 0, "calculateTotal": True},
               {"position": 1, "limit": 1, "calculateTotal": False}, {"limit": 9999, "calculateTotal": True},
               {"anchor": "Ezzzzzz", "limit": 5}]
    checked = nonempty = 0
    for flt in filters:
        for sort in sorts:
            base = {"filter": flt}
            if sort is not None:
                base["sort"] = sort
            full = cl.ok("Email/query", _general(base))["ids"]
            full_fast = cl.ok("Email/query", base)["ids"]
            assert full_fast == full, (flt, sort)
            wins = list(windows)
            # anchors: the first, one in the middle, the last; an email that is not in the results
            for a in ([full[0], full[len(full) // 2], full[-1]] if full else []):
                for off in (0, -2, 3, -100, 100):
                    wins.append({"anchor": a, "anchorOffset": off, "limit": 4, "calculateTotal": True})
                wins.append({"anchor": a, "position": 7, "limit": 2})
            others = [e for e in cl.ok("Email/query", {"filter": {"inMailbox": archive}})["ids"] if e not in full]
            if others:
                wins.append({"anchor": others[0], "limit": 3})
            calls = []
            for k, win in enumerate(wins):
                args = dict(base, accountId=cl.account, **win)
                calls.append(["Email/query", args, "f%d" % k])
                calls.append(["Email/query", _general(args), "g%d" % k])
            for i in range(0, len(calls), 60):
                resp = cl.api(calls[i:i + 60])
                for j in range(0, len(resp), 2):
                    fast, general = resp[j], resp[j + 1]
                    assert fast[0] == general[0] and fast[1] == general[1], (calls[i + j], fast, general)
                    checked += 1
                    nonempty += bool(fast[0] == "Email/query" and fast[1]["ids"])
    assert checked > 500 and nonempty > 200
    # the ties are there, and the duplicates (IMAP copies) are one entry each
    got = cl.ok("Email/get", {"ids": cl.ok("Email/query", {"filter": {"inMailbox": inbox}})["ids"],
                              "properties": ["receivedAt"]})["list"]
    assert len({e["receivedAt"] for e in got}) == 4 and len(got) == len({e["id"] for e in got}) == 36
    dates = [e["receivedAt"] for e in got]
    assert dates == sorted(dates, reverse=True)
    tie = [e["id"] for e in got if e["receivedAt"] == dates[0]]
    assert len(tie) > 1 and tie == sorted(tie, key=_id_number, reverse=True)


def _id_number(jmap_id):
    """The number in a postamt id ("E" + base32 with the digits a-z, 2-7)."""
    v = 0
    for ch in jmap_id[1:]:
        v = v * 32 + "abcdefghijklmnopqrstuvwxyz234567".index(ch)
    return v


def test_email_query_fast_path_query_changes(srv):
    """queryState and Email/queryChanges after a query the fast path answered (with more
    results than changes: queryChanges once looped for ever there)."""
    cl = Client(srv, QUSER)
    inbox = cl.mailbox("inbox")
    args = {"filter": {"inMailbox": inbox}, "sort": [{"property": "receivedAt", "isAscending": False}],
            "position": 0, "limit": 10, "calculateTotal": True}
    q0 = cl.ok("Email/query", args)
    smtp_send(srv, QUSER, "fastq changes")
    deadline = time.monotonic() + 5
    while True:
        q1 = cl.ok("Email/query", args)
        if q1["total"] == q0["total"] + 1 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert q1["total"] == q0["total"] + 1 and q1["queryState"] != q0["queryState"]
    new = q1["ids"][0]  # received now: the newest
    assert new not in q0["ids"] and q1["ids"][1:] == q0["ids"][:9]
    qc = cl.ok("Email/queryChanges", {"filter": {"inMailbox": inbox}, "sinceQueryState": q0["queryState"],
                                      "sort": args["sort"], "calculateTotal": True})
    assert qc["oldQueryState"] == q0["queryState"] and qc["newQueryState"] == q1["queryState"]
    assert {"id": new, "index": 0} in qc["added"] and qc["total"] == q1["total"]
    # an anchored page that starts at the new email
    q2 = cl.ok("Email/query", dict(args, anchor=new, anchorOffset=1, limit=3))
    assert q2["position"] == 1 and q2["ids"] == q1["ids"][1:4]


def test_email_query_general_sorts_and_has_attachment(srv):
    """The general path's sorts by subject, from and sentAt and the hasAttachment filter (they
    read the store's sort keys, not the whole metadata): case-insensitive, ties by id in the
    direction of the last comparator."""
    cl = Client(srv, QUSER)
    mbox = cl.ok("Mailbox/set", {"create": {"s": {"name": "Sorts"}}})["created"]["s"]["id"]
    spec = [("b", "Zed <z@remote.test>", "Mon, 5 Jan 2026 10:00:00 +0000", False),
            ("A", "amy@remote.test", "Sun, 4 Jan 2026 10:00:00 +0000", True),
            ("c", "Bob <b@remote.test>", "Sat, 3 Jan 2026 10:00:00 +0000", False),
            ("a", "amy@remote.test", "Tue, 6 Jan 2026 10:00:00 +0000", False),
            ("B", "zed@remote.test", "Sun, 4 Jan 2026 10:00:00 +0000", True)]
    emails = {}
    for i, (subj, frm, date, attach) in enumerate(spec):
        msg = "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n" % (frm, QUSER, subj, date)
        if attach:
            msg += ("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
                    "Content-Type: text/plain\r\n\r\nsee\r\n--XX\r\nContent-Type: application/pdf\r\n"
                    "Content-Disposition: attachment; filename=x.pdf\r\n\r\nPDF\r\n--XX--\r\n")
        else:
            msg += "\r\nbody\r\n"
        st, body, _ = cl.request("POST", "/jmap/upload/%s/" % cl.account, msg.encode(),
                                 {"Content-Type": "message/rfc822"})
        assert st in (200, 201), body
        emails["s%d" % i] = {"blobId": json.loads(body)["blobId"], "mailboxIds": {mbox: True},
                             "receivedAt": "2026-02-01T00:00:00Z"}
    created = cl.ok("Email/import", {"emails": emails})["created"]
    ids = [created["s%d" % i]["id"] for i in range(len(spec))]

    def order(key, asc):
        idx = sorted(range(len(spec)), key=lambda i: (key(i), _id_number(ids[i])),
                     reverse=not asc)
        return [ids[i] for i in idx]

    def query(sort, flt=None):
        return cl.ok("Email/query", {"filter": dict({"inMailbox": mbox}, **(flt or {})), "sort": sort})["ids"]

    assert query([{"property": "subject"}]) == order(lambda i: spec[i][0].lower(), True)
    assert query([{"property": "subject", "isAscending": False}]) == order(lambda i: spec[i][0].lower(), False)
    assert query([{"property": "from", "isAscending": False}]) == order(lambda i: spec[i][1].lower(), False)
    sent = cl.ok("Email/get", {"ids": ids, "properties": ["sentAt"]})["list"]
    sent = {e["id"]: e["sentAt"] for e in sent}
    assert query([{"property": "sentAt"}]) == order(lambda i: sent[ids[i]], True)
    with_att = [ids[i] for i in range(len(spec)) if spec[i][3]]
    assert sorted(query(None, {"hasAttachment": True})) == sorted(with_att)
    assert sorted(query(None, {"hasAttachment": False})) == sorted(set(ids) - set(with_att))


# ---------------------------------------------------------------- static files and HTTP


def test_static_files(srv):
    c = https(srv)
    c.request("GET", "/", headers={"Accept-Encoding": "gzip"})
    r = c.getresponse()
    page = r.read()
    assert r.status == 200 and r.getheader("Content-Type").startswith("text/html")
    csp = r.getheader("Content-Security-Policy")
    for d in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "connect-src 'self'",
              "img-src 'self' data: blob: https:;"):
        assert d in csp, csp
    # remote images (https: only, for "show images" in the mail frame); nothing else remote
    assert "http:" not in csp and csp.count("https:") == 1, csp
    assert r.getheader("Strict-Transport-Security") and r.getheader("X-Content-Type-Options") == "nosniff"
    assert r.getheader("Referrer-Policy")
    etag = r.getheader("ETag")
    assert etag and r.getheader("Cache-Control")
    c.request("GET", "/", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    r = c.getresponse()
    r.read()
    assert r.status == 304
    for path in ("/static/../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd", "/static/nope.js",
                 "/static/%2E%2E%2Fmeson.build", "/static/meson.build"):
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        assert r.status == 404, path


def test_static_gzip(srv):
    c = https(srv)
    c.request("GET", "/", headers={"Accept-Encoding": "identity"})
    r = c.getresponse()
    plain = r.read()
    c.request("GET", "/", headers={"Accept-Encoding": "gzip"})
    r = c.getresponse()
    body = r.read()
    if r.getheader("Content-Encoding") == "gzip":
        import gzip
        assert gzip.decompress(body) == plain
        assert r.getheader("Vary") == "Accept-Encoding"


@pytest.fixture(scope="module")
def tight(postamt_bin, tmp_path_factory):
    s = new_server(postamt_bin, tmp_path_factory, config=["timeout.http = 2", "limits.message_size = 64K"],
                   users=[(USER, PW[USER])])
    yield s
    finish_server(s)


def test_upload_too_large_413(tight):
    cl = Client(tight)
    # the reply comes before the body is read (and the connection closes): send the head only
    with tight.tls_connect("https") as c:
        c.send("POST /jmap/upload/%s/ HTTP/1.1\r\nHost: x\r\nCookie: %s\r\nX-Postamt-CSRF: 1\r\n"
               "Content-Length: %d\r\n\r\n" % (cl.account, cl.cookie, 64 * 1024 + 1))
        text, closed = c.read_all(5)
        assert text.startswith("HTTP/1.1 413"), text[:100]
        assert closed
    st, body, _ = cl.request("POST", "/jmap/upload/%s/" % cl.account, b"x" * (64 * 1024),
                             {"Content-Type": "application/octet-stream"})
    assert st in (200, 201)


def test_header_too_large_431(tight):
    with tight.tls_connect("https") as c:
        try:
            c.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n" % ("a" * 40000))
        except OSError:
            pass  # the server may answer and close before all of it is sent
        text, closed = c.read_all(5)
        assert text.startswith("HTTP/1.1 431"), text[:100]


def test_slowloris_408(tight):
    with tight.tls_connect("https") as c:
        t0 = time.monotonic()
        c.send("GET / HTTP/1.1\r\n")
        got = ""
        for _ in range(12):
            time.sleep(0.5)
            try:
                c.send("X-A: b\r\n")
            except OSError:
                break
            if not c.nothing_within(0.01):
                break
        text, closed = c.read_all(3)
        assert time.monotonic() - t0 < 8
        assert closed or text.startswith("HTTP/1.1 408"), text[:100]


def test_json_body_limit(srv):
    cl = Client(srv)
    c = https(srv)
    c.putrequest("POST", "/jmap/api")
    c.putheader("Cookie", cl.cookie)
    c.putheader("X-Postamt-CSRF", "1")
    c.putheader("Content-Length", str(11 * 1024 * 1024))
    c.endheaders()
    r = c.getresponse()
    r.read()
    assert r.status == 413


def test_http_port_redirects_but_not_autoconfig(srv):
    c = http.client.HTTPConnection(srv.host, srv.port("http"), timeout=5)
    c.request("GET", "/jmap/api")
    r = c.getresponse()
    r.read()
    assert r.status == 301 and r.getheader("Location").startswith("https://")
    c.request("POST", "/api/login", json.dumps({"username": USER, "password": PW[USER]}))
    r = c.getresponse()
    r.read()
    assert r.status == 301


def test_mobileconfig_for_logged_in_user(srv):
    import plistlib
    cl = Client(srv)
    st, body, resp = cl.request("GET", "/api/mobileconfig")
    assert st == 200 and resp.getheader("Content-Type") == "application/x-apple-aspen-config"
    assert plistlib.loads(body)["PayloadContent"][0]["EmailAddress"] == USER
    c = https(srv)
    c.request("HEAD", "/api/mobileconfig")
    r = c.getresponse()
    r.read()
    assert r.status == 401


DOMPURIFY_NPM = "/usr/local/share/postamt/npm/node_modules/dompurify/dist/purify.min.js"
DOMPURIFY_DEBIAN = "/usr/share/nodejs/dompurify/dist/purify.min.js"


def test_dompurify_served_when_installed(srv):
    """DOMPurify 3 from npm (scripts/install-deps, web/vendor-lock) is embedded when it is
    installed; else Debian's node-dompurify; the served file is exactly that one."""
    import os
    import re
    src = next((p for p in (DOMPURIFY_NPM, DOMPURIFY_DEBIAN) if os.path.exists(p)), None)
    if src is None:
        pytest.skip("neither npm's DOMPurify (scripts/install-deps) nor node-dompurify is installed")
    with open(src, "rb") as f:
        want = f.read()
    c = https(srv)
    c.request("GET", "/static/vendor/purify.min.js")
    r = c.getresponse()
    body = r.read()
    assert r.status == 200 and r.getheader("Content-Type").startswith("text/javascript") and b"DOMPurify" in body
    assert body == want, "the embedded DOMPurify is not %s" % src
    if src == DOMPURIFY_NPM:
        with open(os.path.join(os.path.dirname(__file__), "..", "..", "web", "vendor-lock", "package.json")) as f:
            pinned = json.load(f)["dependencies"]["dompurify"]
        m = re.search(rb"DOMPurify (\d+\.\d+\.\d+)", body)
        assert m and m.group(1).decode() == pinned and pinned.startswith("3."), (m and m.group(1), pinned)
