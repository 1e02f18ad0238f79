"""Remote images from known senders (tests/e2e/webmail/images.mjs in Debian's chromium,
driven by playwright-core, against a real `postamt serve`). The account wrote to
peer@ over JMAP, so peer@ is a known sender; carl@ only wrote to the account (a
received contact, not known); a stranger sends the hostile XSS mail of
test_webmail.py over port 25. With "Show images from known senders automatically"
on, peer's images load at once; the stranger's mail and carl's still load nothing
remote (a canary HTTPS server records every request, each mail's references under
its own path), with the frame policy as strict as before. "Always show images from
carl@…" loads carl's images, is stored in the Settings object (imagesFrom) and
holds after a reload. German and English.

playwright-core is set up as for test_webmail.py (skipped, saying why, only without
chromium, node/npm or the module)."""

import smtplib
import time

from helpers import Jmap
from test_webmail import XSS_HTML, Canary, _deliver, _node_setup, run_browser

USER = "anna@example.test"
PEER = "peer@example.test"
PASSWORDS = {USER: "anna-pw-7341", PEER: "peer-pw-9913"}
JMAP_USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission",
              "urn:postamt:params:jmap:settings", "urn:postamt:params:jmap:contacts"]


def html_mail(origin, tag):
    return ("<html><body><p>Picture from %s</p><img src=\"%s/%s-img\" alt=\"tracker\">"
            "<div style=\"background-image: url('%s/%s-css')\">styled</div></body></html>" % (tag, origin, tag, origin, tag))


def send25(server, sender, name, subject, html=None, text="Hello Anna.\r\n"):
    """A message from another server over port 25 (HTML when given)."""
    if html is None:
        body = "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text
    else:
        body = ("MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
                html.replace("\r\n", "\n").replace("\n", "\r\n") + "\r\n")
    msg = ("From: %s <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%d@elsewhere.test>\r\n%s"
           % (name, sender, USER, subject, time.time_ns(), body))
    with smtplib.SMTP(server.host, server.port("smtp"), timeout=10) as s:
        s.ehlo("mx.elsewhere.test")
        s.sendmail(sender, [USER], msg.encode())


def write_to_peer(server):
    """The account sends to PEER over JMAP: PEER becomes a contact written to."""
    cl = Jmap(server, USER, PASSWORDS[USER], using=JMAP_USING)
    drafts = [m["id"] for m in cl.call("Mailbox/get", {"ids": None})["list"] if m["role"] == "drafts"][0]
    ident = cl.call("Identity/get", {"ids": None})["list"][0]["id"]
    r = cl.call("Email/set", {"create": {"d": {
        "mailboxIds": {drafts: True}, "from": [{"email": USER}], "to": [{"name": "Peer", "email": PEER}],
        "subject": "Lunch?", "textBody": [{"partId": "t"}], "bodyValues": {"t": {"value": "Lunch on Friday?"}}}}})
    r = cl.call("EmailSubmission/set", {"create": {"s": {"identityId": ident, "emailId": r["created"]["d"]["id"]}}})
    assert "s" in r["created"], r
    return cl


class Helper:
    def __init__(self, server, canary, jmap):
        self.server = server
        self.canary = canary
        self.jmap = jmap

    def handle(self, req):
        return getattr(self, "do_" + req["action"])(req)

    def do_canary_hits(self, req):
        """Paths the canary saw that start with req["prefix"]."""
        return [p for p in self.canary.seen() if p.startswith(req["prefix"])]

    def do_canary_wait(self, req):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if req["path"] in self.canary.seen():
                return True
            time.sleep(0.2)
        raise AssertionError("the canary has not seen %s (only %s)" % (req["path"], self.canary.seen()))

    def do_images_from(self, req):
        return self.jmap.call("Settings/get", {"ids": None})["list"][0]["imagesFrom"]

    def do_contact(self, req):
        return self.jmap.call("ContactSuggestion/query", {"prefix": req["email"], "exact": True})["list"]


def test_images_from_known_senders(make_server):
    _node_setup()  # skips before any work when the browser cannot run
    server = make_server()
    server.add_user(USER, PASSWORDS[USER])
    server.add_user(PEER, PASSWORDS[PEER])
    canary = Canary(server.cafile, server.keyfile)
    try:
        jmap = write_to_peer(server)
        _deliver(server, "Known sender pictures", "text", html=html_mail(canary.origin, "peer"))
        send25(server, "carl@elsewhere.test", "Carl Example", "Carl says hello")
        send25(server, "carl@elsewhere.test", "Carl Example", "Carl pictures", html=html_mail(canary.origin, "carl"))
        send25(server, "stranger@elsewhere.test", "Stranger", "Hostile stranger",
               html=XSS_HTML.replace("CANARY", canary.origin + "/stranger"))
        run_browser(server, "images.mjs", Helper(server, canary, jmap), USER, PASSWORDS[USER], timeout=120)
    finally:
        canary.close()
    hits = canary.seen()
    assert not [p for p in hits if p.startswith("/stranger")], hits
    assert set(hits) <= {"/peer-img", "/peer-css", "/carl-img", "/carl-css"}, hits
