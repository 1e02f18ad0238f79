"""The compose window's safety nets and the sender settings in Chromium (issue #25;
review bugs B2, B5, B6, B8), driven by playwright-core (tests/e2e/webmail/compose.mjs)
against a real `postamt serve`, in English and in German: display name and signature
set in the settings and carried by the delivered mail; a contact suggested and taken
with the keyboard; Undo send; autosave to Drafts; a server restart (SIGTERM) with the
message open (still signed in, the draft in Drafts over IMAP); the network gone; a
session ended by `postamt user logout` (sign in again over the open compose); an
attachment too large after base64 refused before upload; a refused recipient shown
as a sentence. This side restarts the server and checks what arrived over IMAP and
JMAP (never through the page). Skipped, saying why, only without chromium, node/npm
or the playwright-core module (as test_webmail.py)."""

import base64
import email
import email.policy
import http.client
import json

import pytest

from test_webmail import _node_setup, _until, run_browser
import imaplib

USER = "anna@example.test"
PEER = "peer@example.test"
PASSWORDS = {USER: "anna-pw-7341", PEER: "peer-pw-9913"}
LIMIT = 512 * 1024  # limits.message_size of the test server: a small attachment limit
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission",
         "urn:postamt:params:jmap:settings"]


def imap(server, user):
    c = imaplib.IMAP4_SSL(server.host, server.port("imaps"), ssl_context=server.ssl_context())
    c.login(user, PASSWORDS[user])
    return c


def messages(server, user, folder):
    """Every message of a folder, parsed."""
    c = imap(server, user)
    try:
        typ, _ = c.select('"%s"' % folder, readonly=True)
        assert typ == "OK", folder
        typ, data = c.fetch("1:*", "(BODY.PEEK[])")
        return [email.message_from_bytes(d[1], policy=email.policy.default) for d in data if isinstance(d, tuple)]
    finally:
        c.logout()


def text_of(m):
    part = m.get_body(("plain",))
    return part.get_content() if part is not None else ""


class Helper:
    """Answers compose.mjs's requests (`@@ask {...}`)."""

    def __init__(self, server):
        self.server = server

    def jmap(self, name, args, user=USER):
        tok = base64.b64encode(("%s:%s" % (user, PASSWORDS[user])).encode()).decode()
        c = http.client.HTTPSConnection(self.server.tls_name, self.server.port("https"),
                                        context=self.server.ssl_context(), timeout=20)
        try:
            c.request("GET", "/.well-known/jmap", None, {"Authorization": "Basic " + tok})
            r = c.getresponse()
            acct = json.loads(r.read())["primaryAccounts"]["urn:ietf:params:jmap:mail"]
            body = json.dumps({"using": USING, "methodCalls": [[name, dict(args, accountId=acct), "c"]]})
            c.request("POST", "/jmap/api", body, {"Authorization": "Basic " + tok, "Content-Type": "application/json"})
            res = json.loads(c.getresponse().read())["methodResponses"][0]
            assert res[0] == name, res
            return res[1]
        finally:
            c.close()

    def handle(self, req):
        return getattr(self, "do_" + req["action"])(req)

    def do_identity(self, req):
        def check():
            i0 = self.jmap("Identity/get", {"ids": ["I0"]})["list"][0]
            assert i0["name"] == req["name"] and i0["textSignature"] == req["signature"], i0
            return True
        return _until(check)

    def do_settings(self, req):
        def check():
            s = self.jmap("Settings/get", {"ids": None})["list"][0]
            for k, v in req["expect"].items():
                assert s[k] == v, (k, s)
            return True
        return _until(check)

    def do_seed_contact(self, req):
        """USER writes to "Peer Pan" once over JMAP, so the contacts know PEER."""
        drafts = [m["id"] for m in self.jmap("Mailbox/get", {"ids": None})["list"] if m.get("role") == "drafts"][0]
        r = self.jmap("Email/set", {"create": {"d": {
            "mailboxIds": {drafts: True}, "from": [{"email": USER}], "to": [{"name": "Peer Pan", "email": PEER}],
            "subject": "seed", "textBody": [{"partId": "t"}], "bodyValues": {"t": {"value": "hi"}}}}})
        eid = r["created"]["d"]["id"]
        r = self.jmap("EmailSubmission/set", {"create": {"s": {"identityId": "I0", "emailId": eid}},
                                             "onSuccessDestroyEmail": ["#s"]})
        assert "s" in r["created"], r
        return True

    def do_peer_got(self, req):
        def check():
            got = [m for m in messages(self.server, PEER, "INBOX") if m["Subject"] == req["subject"]]
            assert len(got) == req["count"], "%d copies of %r" % (len(got), req["subject"])
            frm = got[0]["From"].addresses[0]
            assert frm.display_name == req["from_name"] and frm.addr_spec == USER, str(got[0]["From"])
            assert req["body"] in text_of(got[0]), text_of(got[0])
            return True
        return _until(check, 30)

    def do_draft(self, req):
        def check():
            got = [m for m in messages(self.server, USER, "Drafts") if m["Subject"] == req["subject"]]
            assert len(got) == req["count"], "%d drafts %r" % (len(got), req["subject"])
            assert req["body"] in text_of(got[0]), text_of(got[0])
            return True
        return _until(check, 30)

    def do_restart(self, req):
        rc, _ = self.server.stop()
        assert rc == 0, self.server.log_tail()
        self.server.start()
        return True

    def do_end_sessions(self, req):
        r = self.server.run("user", "logout", USER)
        assert r.returncode == 0, r.stderr
        return True

    def do_near_limit_size(self, req):
        # under the limit as a file, over it once base64-encoded
        return int(LIMIT * 0.9)


@pytest.mark.parametrize("locale", ["en-US", "de-DE"])
def test_compose_never_loses_work(make_server, locale):
    _node_setup()  # skips before any work when the browser cannot run
    server = make_server(config=["limits.message_size = %d" % LIMIT])
    server.add_user(USER, PASSWORDS[USER])
    server.add_user(PEER, PASSWORDS[PEER])
    run_browser(server, "compose.mjs", Helper(server), USER, PASSWORDS[USER],
                env=dict(PEER_ADDR=PEER, LOCALE=locale))
