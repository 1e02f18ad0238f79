"""HTML signatures end to end (tests/e2e/webmail/signature.mjs in Debian's chromium,
driven by playwright-core, against a real `postamt serve`). The settings store an HTML
signature cleaned (no script, event handler, javascript: link, picture or style), and a
message written in the webmail goes out as multipart/alternative: the text with the
text signature, and an HTML version with the HTML signature in its place. One stored by
another JMAP client with scripts, pictures and frames is cleaned when used; without
one the message is plain text. The sent mail is read at the recipient over IMAP.

playwright-core is set up as for test_webmail.py (skipped, saying why, only without
chromium, node/npm or the module)."""

import email
import email.policy

from helpers import Jmap
from test_webmail import _node_setup, _until, run_browser
from test_webmail_reader import _imap, PASSWORDS, PEER, USER

USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission",
         "urn:postamt:params:jmap:settings"]


class Helper:
    def __init__(self, server):
        self.server = server
        self.jmap = Jmap(server, USER, PASSWORDS[USER], using=USING)

    def handle(self, req):
        return getattr(self, "do_" + req["action"])(req)

    def do_identity(self, req):
        return self.jmap.call("Identity/get", {"ids": ["I0"]})["list"][0]

    def do_set_html_signature(self, req):
        r = self.jmap.call("Identity/set", {"update": {"I0": {"htmlSignature": req["html"]}}})
        assert "I0" in r["updated"], r
        return True

    def do_sent_mail(self, req):
        """The message req["subject"] at PEER: with an HTML version (req["html"]) that
        holds the cleaned signature and nothing active, or plain text only."""
        def fetch():
            c = _imap(self.server, PEER)
            try:
                c.select("INBOX", readonly=True)
                typ, data = c.search(None, "SUBJECT", '"%s"' % req["subject"])
                nums = data[0].split()
                assert nums, "no %r at %s yet" % (req["subject"], PEER)
                typ, data = c.fetch(nums[-1], "(RFC822)")
                return email.message_from_bytes(data[0][1], policy=email.policy.default)
            finally:
                c.logout()
        m = _until(fetch, 20)
        text = m.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert "Hello Peer, 1 < 2 & so on." in text, text
        assert "\n-- \nAnna Example\n" in text, text
        html = m.get_body(("html",))
        if not req["html"]:
            assert m.get_content_type() == "text/plain", m.get_content_type()
            return True
        assert m.get_content_type() == "multipart/alternative", m.get_content_type()
        assert html is not None, "no HTML version"
        h = html.get_content()
        assert "Hello Peer, 1 &lt; 2 &amp; so on." in h, h
        assert "<b>Anna</b> <i>Example</i>" in h and 'href="https://example.org/team"' in h, h
        assert "Anna Example<br>" not in h, "the text signature is still in the HTML version: " + h
        for bad in ("<script", "onerror", "javascript:", "<img", "<style", "<iframe", "track.png"):
            assert bad not in h.lower(), "%s in the HTML version: %s" % (bad, h)
        return True


def test_html_signature_in_chromium(make_server):
    _node_setup()  # skips before any work when the browser cannot run
    server = make_server()
    server.add_user(USER, PASSWORDS[USER])
    server.add_user(PEER, PASSWORDS[PEER])
    h = Helper(server)
    r = h.jmap.call("Settings/set", {"update": {"singleton": {"undoSendSeconds": 0}}})
    assert "singleton" in r["updated"], r
    run_browser(server, "signature.mjs", h, USER, PASSWORDS[USER], env=dict(PEER=PEER), timeout=120)
