"""The webmail's settings view end to end: Debian's chromium, driven by playwright-core
(tests/e2e/webmail/settings.mjs), against a real `postamt serve`. The browser sets the
out-of-office reply, writes filter rules (stored as the active Sieve script "webmail"),
saves a script in the raw editor after the compiler refused a broken one, switches the
junk filter and reads the page in German; this side answers its questions by reading
what the server stored over JMAP with HTTP Basic (never through the page).

The rule and the out-of-office reply are also checked with real mail: a second server
(b.test, behind the first one's route.b.test) sends over port 25 and receives the
out-of-office reply; the filed message is read over IMAP. playwright-core is set up as
for test_webmail.py (skipped, saying why, only without chromium, node/npm or the
module)."""

import base64
import email
import email.policy
import http.client
import json
import smtplib
import time

from helpers import mailbox
from test_webmail import _node_setup, _imap, _until, run_browser

USER = "anna@example.test"
REMOTE = "bob@b.test"  # on the second server, password "secret"
PASSWORDS = {USER: "anna-pw-7341"}
CAP_JUNK = "urn:postamt:params:jmap:junk"
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:sieve",
         "urn:ietf:params:jmap:vacationresponse"]

# Set to False to check only what is stored (a server without Sieve at delivery).
DELIVERY = True


def send25(server, subject):
    """A message from REMOTE to USER over port 25, as another server sends it."""
    msg = ("From: Bob <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%d@b.test>\r\n\r\nHello Anna.\r\n"
           % (REMOTE, USER, subject, time.time_ns()))
    with smtplib.SMTP(server.host, server.port("smtp"), timeout=10) as s:
        s.ehlo("mx.b.test")
        s.sendmail(REMOTE, [USER], msg.encode())


class Jmap:
    """JMAP over HTTP Basic: the server's view of what the page stored."""

    def __init__(self, server):
        self.server = server
        tok = base64.b64encode(("%s:%s" % (USER, PASSWORDS[USER])).encode()).decode()
        self.headers = {"Authorization": "Basic " + tok}
        self.session = json.loads(self.request("GET", "/.well-known/jmap")[1])
        self.account = self.session["primaryAccounts"]["urn:ietf:params:jmap:core"]

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPSConnection(self.server.tls_name, self.server.port("https"),
                                        context=self.server.ssl_context(), timeout=20)
        try:
            c.request(method, path, body, dict(self.headers, **(headers or {})))
            r = c.getresponse()
            data = r.read()
            assert r.status in (200, 201), (path, r.status, data)
            return r.status, data
        finally:
            c.close()

    def call(self, name, args, using=USING):
        body = json.dumps({"using": using, "methodCalls": [[name, dict(args, accountId=self.account), "c"]]})
        r = json.loads(self.request("POST", "/jmap/api", body, {"Content-Type": "application/json"})[1])
        res = r["methodResponses"][0]
        assert res[0] == name, res
        return res[1]


class Helper:
    """Answers settings.mjs's requests (`@@ask {...}`)."""

    def __init__(self, server, remote):
        self.server = server
        self.remote = remote
        self.jmap = Jmap(server)

    def handle(self, req):
        return getattr(self, "do_" + req["action"])(req)

    def do_has_junk(self, req):
        return CAP_JUNK in self.jmap.session["capabilities"]

    def do_junk_enabled(self, req):
        def check():
            got = self.jmap.call("JunkSettings/get", {"ids": None}, using=["urn:ietf:params:jmap:core", CAP_JUNK])
            assert got["list"][0]["enabled"] is req["enabled"], got
            return True
        return _until(check)

    def do_vacation(self, req):
        v = self.jmap.call("VacationResponse/get", {"ids": None})["list"][0]
        for k, want in req["expect"].items():
            assert v[k] == want, "%s: %r, not %r" % (k, v[k], want)
        return True

    def do_script(self, req):
        scripts = {s["name"]: s for s in self.jmap.call("SieveScript/get", {"ids": None})["list"]}
        s = scripts.get(req["name"])
        assert s, "no script %r (only %s)" % (req["name"], sorted(scripts))
        assert s["isActive"] is req["active"], s
        text = self.jmap.request("GET", "/jmap/download/%s/%s/s.sieve?type=application/sieve" %
                                 (self.jmap.account, s["blobId"]))[1].decode()
        for part in req.get("contains", []):
            assert part in text, "%r not in the script:\n%s" % (part, text)
        return True

    def do_vacation_reply(self, req):
        """A message over port 25 gets the out-of-office reply (req: the reply's subject
        and a line of its text) at REMOTE on the second server."""
        send25(self.server, req["subject"])

        def check():
            for raw in mailbox(self.remote, REMOTE):
                m = email.message_from_bytes(raw, policy=email.policy.default)
                if m["Subject"] == req["reply_subject"]:
                    body = m.get_body(("plain",)).get_content()
                    assert req["reply_text"] in body, body
                    assert m["Auto-Submitted"], "no Auto-Submitted header"
                    return True
            raise AssertionError("no out-of-office reply at %s yet" % REMOTE)
        return _until(check, 30)

    def do_deliver_and_find(self, req):
        send25(self.server, req["subject"])

        def check():
            c = _imap(self.server, USER)
            try:
                typ, _ = c.select('"%s"' % req["folder"], readonly=True)
                assert typ == "OK", "select %s" % req["folder"]
                typ, data = c.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
                subjects = [email.message_from_bytes(d[1], policy=email.policy.default)["Subject"]
                            for d in data if isinstance(d, tuple)]
                assert req["subject"] in subjects, "%r not in %s (only %s)" % (req["subject"], req["folder"], subjects)
                return True
            finally:
                c.logout()
        return _until(check, 30)


def test_settings_in_chromium(make_server):
    _node_setup()  # skips before any work when the browser cannot run
    remote = make_server(users=[REMOTE], domain="b.test")
    server = make_server(config=["queue.retry_initial = 1", "route.b.test = 127.0.0.1:%d" % remote.port("smtp")])
    server.add_user(USER, PASSWORDS[USER])
    c = _imap(server, USER)
    assert c.create("Receipts")[0] == "OK"
    c.logout()
    run_browser(server, "settings.mjs", Helper(server, remote), USER, PASSWORDS[USER],
                env=dict(DELIVERY="1" if DELIVERY else "0"), timeout=240)
