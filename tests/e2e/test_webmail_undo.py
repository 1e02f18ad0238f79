"""The webmail's undo, conversation list and sub-folders end to end
(tests/e2e/webmail/undo.mjs and tree.mjs drive Debian's chromium with playwright-core against a real
`postamt serve`): delete, archive, spam and a move of several messages undone by the
toast's button and by the key z (also after the list was refreshed by new mail), each
checked over IMAP (the folder it is back in, and $Junk gone); the list as conversations
(one row per thread with its count, the choice kept in the account's settings, an action
on the whole conversation); a folder made under a parent (review B4) and a path of
folders, seen over IMAP LIST as Parent/Child with the server's delimiter, and the tree's
collapsing. English desktop light, German phone dark.

Messages go in with IMAP APPEND (threads come from References). playwright-core is set
up as for test_webmail.py (skipped, saying why, only without chromium, node/npm or the
module)."""

import email.policy
import email.utils
import imaplib
import re
import time
from email.message import EmailMessage

from test_webmail import _node_setup, _until, run_browser

USER = "ulla@example.test"
PASSWORD = "ulla-pw-6604"
PEER = "peer@example.test"


def _imap(server):
    c = imaplib.IMAP4_SSL(server.host, server.port("imaps"), ssl_context=server.ssl_context())
    c.login(USER, PASSWORD)
    return c


def _msg(subject, body="Hello.\n", msgid=None, refs=None, date=None, sender=PEER):
    m = EmailMessage()
    m["From"] = "Peer <%s>" % sender
    m["To"] = USER
    m["Subject"] = subject
    m["Message-ID"] = "<%s>" % (msgid or "%d@example.test" % time.time_ns())
    if refs:
        m["In-Reply-To"] = "<%s>" % refs[-1]
        m["References"] = " ".join("<%s>" % r for r in refs)
    m["Date"] = date or email.utils.formatdate(localtime=False)
    m.set_content(body)
    return m.as_bytes(policy=email.policy.SMTP)


def seed(server):
    c = _imap(server)
    try:
        for i, s in enumerate(["Undo one", "Undo two", "Undo three", "Spam me", "Move me", "German delete"]):
            assert c.append("INBOX", None, None, _msg(s, date="Mon, %d Nov 2026 09:00:00 +0000" % (10 + i)))[0] == "OK"
        # a conversation of three: two in the inbox, the answer in Sent
        assert c.append("INBOX", None, None, _msg("Plan", msgid="plan1@example.test",
                                                  date="Tue, 1 Dec 2026 09:00:00 +0000"))[0] == "OK"
        assert c.append("Sent", "(\\Seen)", None, _msg("Re: Plan", msgid="plan2@example.test", refs=["plan1@example.test"],
                                                       sender=USER, date="Tue, 1 Dec 2026 10:00:00 +0000"))[0] == "OK"
        assert c.append("INBOX", None, None, _msg("Re: Plan", msgid="plan3@example.test",
                                                  refs=["plan1@example.test", "plan2@example.test"],
                                                  date="Tue, 1 Dec 2026 11:00:00 +0000"))[0] == "OK"
        assert c.create("Projekte")[0] == "OK"
    finally:
        c.logout()


def _folders_of(c, subject):
    """The folders (IMAP names) that hold a message with this subject."""
    out = []
    typ, data = c.list()
    for line in data:
        name = line.decode().rsplit(' "/" ', 1)[-1].strip().strip('"')
        if "\\Noselect" in line.decode():
            continue
        typ, _ = c.select('"%s"' % name, readonly=True)
        if typ != "OK":
            continue
        typ, found = c.search(None, "SUBJECT", '"%s"' % subject)
        if found[0].split():
            out.append(name)
    return out


class Helper:
    """Answers undo.mjs's requests (`@@ask {...}`)."""

    def __init__(self, server):
        self.server = server

    def handle(self, req):
        return getattr(self, "do_" + req["action"])(req)

    def do_where(self, req):
        """Waits until the message is in exactly req["folders"] (IMAP names); with
        req["lacks"], its flags there must not have that flag."""
        want = sorted(req["folders"])

        def check():
            c = _imap(self.server)
            try:
                got = sorted(_folders_of(c, req["subject"]))
                assert got == want, "%r is in %r, not %r" % (req["subject"], got, want)
                if req.get("lacks"):
                    c.select('"%s"' % want[0], readonly=True)
                    typ, found = c.search(None, "SUBJECT", '"%s"' % req["subject"])
                    typ, data = c.fetch(found[0].split()[-1], "(FLAGS)")
                    flags = data[0].decode().lower()
                    assert req["lacks"].lower() not in flags, flags
                return True
            finally:
                c.logout()
        return _until(check, 30)

    def do_append(self, req):
        c = _imap(self.server)
        try:
            assert c.append("INBOX", None, None, _msg(req["subject"]))[0] == "OK"
        finally:
            c.logout()
        return True

    def do_list(self, req):
        """IMAP LIST "" "*": [delimiter, name] of every folder (names as sent, UTF-7)."""
        c = _imap(self.server)
        try:
            typ, data = c.list()
            assert typ == "OK"
            out = []
            for line in data:
                m = re.match(r'\((.*?)\) "(.)" (.*)$', line.decode())
                assert m, line
                out.append([m.group(2), m.group(3).strip('"')])
            return out
        finally:
            c.logout()


def _server(make_server):
    _node_setup()  # skips before any work when the browser cannot run
    server = make_server()
    server.add_user(USER, PASSWORD)
    seed(server)
    return server


def test_undo_in_chromium(make_server):
    server = _server(make_server)
    run_browser(server, "undo.mjs", Helper(server), USER, PASSWORD)


def test_folders_and_conversations_in_chromium(make_server):
    server = _server(make_server)
    run_browser(server, "tree.mjs", Helper(server), USER, PASSWORD)
