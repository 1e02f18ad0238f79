"""The webmail's reading side end to end (tests/e2e/webmail/reader.mjs drives Debian's
chromium with playwright-core against a real `postamt serve`): a conversation of three
messages with quoted text and a signature, image thumbnails and the viewer, a PDF shown
inline under a strict policy, attachment sizes as decoded bytes (a 758-byte PDF is
"758 B", review B10), a calendar invitation answered with Accept (the iTIP REPLY is
checked in the organizer's INBOX over IMAP), and the print view (a PDF printed by the
browser, more than one page for a long message, without the app around it). German and
English, desktop and phone width, light and dark.

Messages go in with IMAP APPEND (threads come from References). playwright-core is set
up as for test_webmail.py (skipped, saying why, only without chromium, node/npm or the
module)."""

import base64
import email
import email.policy
import email.utils
import imaplib
import time
from email.message import EmailMessage

from test_webmail import _node_setup, _until, run_browser

USER = "anna@example.test"
PEER = "peer@example.test"
PASSWORDS = {USER: "anna-pw-7341", PEER: "peer-pw-9913"}
PIXEL_RED = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")
PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
# 758 bytes: a minimal PDF padded with a comment (the review's example size)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
PDF += b"%" + b"x" * (758 - len(PDF) - 8) + b"\n%%EOF\n"
assert len(PDF) == 758

INVITE = "\r\n".join([
    "BEGIN:VCALENDAR", "PRODID:-//Example Corp//Calendar//EN", "VERSION:2.0", "METHOD:REQUEST",
    "BEGIN:VEVENT", "UID:plan-2027@example.test", "SEQUENCE:1", "DTSTAMP:20261201T090000Z",
    "DTSTART;TZID=Europe/Berlin:20270112T100000", "DTEND;TZID=Europe/Berlin:20270112T113000",
    "SUMMARY:Planning 2027\\, kickoff", "LOCATION:Room 4\\; 2nd floor",
    "ORGANIZER;CN=Peer Example:mailto:%s" % PEER,
    "ATTENDEE;CN=Anna;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:%s" % USER,
    "ATTENDEE;CN=Carl;PARTSTAT=ACCEPTED:mailto:carl@example.test",
    "END:VEVENT", "END:VCALENDAR", ""])


def _imap(server, user):
    c = imaplib.IMAP4_SSL(server.host, server.port("imaps"), ssl_context=server.ssl_context())
    c.login(user, PASSWORDS[user])
    return c


def _msg(subject, body, sender=(PEER, "Peer Example"), msgid=None, refs=None, date=None):
    m = EmailMessage()
    m["From"] = "%s <%s>" % (sender[1], sender[0])
    m["To"] = USER
    m["Subject"] = subject
    m["Message-ID"] = "<%s>" % msgid if msgid else "<%d@example.test>" % time.time_ns()
    if refs:
        m["In-Reply-To"] = "<%s>" % refs[-1]
        m["References"] = " ".join("<%s>" % r for r in refs)
    m["Date"] = date or email.utils.formatdate(localtime=False)
    m.set_content(body)
    return m


def seed(server):
    c = _imap(server, USER)
    try:
        def put(m, folder="INBOX"):
            assert c.append(folder, None, None, m.as_bytes(policy=email.policy.SMTP))[0] == "OK"

        put(_msg("Quarterly plan", "Hi Anna,\n\nhere is the plan for Q1.\n\n-- \nPeer Example\nPlanning team\n",
                 msgid="q1@example.test", date="Mon, 30 Nov 2026 09:00:00 +0000"))
        put(_msg("Re: Quarterly plan", "Looks good, one question about March.\n\nOn Mon, 30 Nov 2026, Peer wrote:\n"
                 "> Hi Anna,\n>\n> here is the plan for Q1.\n>\n> -- \n> Peer Example\n",
                 sender=(USER, "Anna"), msgid="q2@example.test", refs=["q1@example.test"],
                 date="Tue, 1 Dec 2026 09:00:00 +0000"))
        put(_msg("Re: Quarterly plan", "March is fine as it is.\n\nOn Tue, 1 Dec 2026, Anna wrote:\n"
                 "> Looks good, one question about March.\n>\n> On Mon, 30 Nov 2026, Peer wrote:\n> > Hi Anna,\n"
                 "> > here is the plan for Q1.\n",
                 msgid="q3@example.test", refs=["q1@example.test", "q2@example.test"],
                 date="Wed, 2 Dec 2026 09:00:00 +0000"))

        put(_msg("Logo draft", "Could you send the logo?\n", sender=(USER, "Anna"), msgid="logo1@example.test",
                 date="Wed, 2 Dec 2026 10:00:00 +0000"))
        m = _msg("Re: Logo draft", "", msgid="logo2@example.test", refs=["logo1@example.test"],
                 date="Wed, 2 Dec 2026 11:00:00 +0000")
        m.clear_content()
        m.set_content("<html><body><p>Here it is:</p><img src=\"cid:logo@example.test\" alt=\"the logo\"></body></html>",
                      subtype="html")
        m.add_related(PIXEL_RED, maintype="image", subtype="png", cid="<logo@example.test>")
        put(m)

        m = _msg("Photos and the contract", "Two photos and the contract.\n", date="Thu, 3 Dec 2026 09:00:00 +0000")
        m.add_attachment(PIXEL_RED, maintype="image", subtype="png", filename="red.png")
        m.add_attachment(PIXEL, maintype="image", subtype="png", filename="grey.png")
        m.add_attachment(PDF, maintype="application", subtype="pdf", filename="contract.pdf")
        put(m)

        m = _msg("Invitation: Planning 2027", "You are invited to the planning kickoff.\n",
                 date="Fri, 4 Dec 2026 09:00:00 +0000")
        m.add_alternative(INVITE, subtype="calendar", params={"method": "REQUEST"})
        put(m)

        m = _msg("HTML newsletter to print", "Text version.\n", date="Sat, 5 Dec 2026 08:00:00 +0000")
        paras = "".join("<p>Paragraph %d of the newsletter.</p>" % i for i in range(1, 121))
        m.add_alternative("<html><head><style>.overlay{position:fixed;inset:0;z-index:99999;background:red}</style>"
                          "<script>window.top.__xss = 1</script></head><body><div class=overlay>cover</div>"
                          "<h1 onclick=\"window.top.__xss = 2\">Newsletter</h1>%s<p>HTML LAST PARAGRAPH</p>"
                          "</body></html>" % paras, subtype="html")
        put(m)

        long_body = "\n".join("Line %d of a long report that must print in full." % i for i in range(1, 181))
        put(_msg("Long report", long_body + "\nTHE LAST LINE\n", date="Sat, 5 Dec 2026 09:00:00 +0000"))
    finally:
        c.logout()


class Helper:
    """Answers reader.mjs's requests (`@@ask {...}`)."""

    def __init__(self, server):
        self.server = server

    def handle(self, req):
        return getattr(self, "do_" + req["action"])(req)

    def do_rsvp_arrived(self, req):
        """The organizer has the iTIP REPLY: text/calendar; method=REPLY with the
        attendee's PARTSTAT, the invitation's UID and SEQUENCE."""
        def check():
            c = _imap(self.server, PEER)
            try:
                c.select("INBOX", readonly=True)
                typ, data = c.search(None, "SUBJECT", '"%s"' % req["subject"])
                nums = data[0].split()
                assert nums, "no reply %r in %s's INBOX yet" % (req["subject"], PEER)
                typ, data = c.fetch(nums[-1], "(RFC822)")
                m = email.message_from_bytes(data[0][1], policy=email.policy.default)
            finally:
                c.logout()
            cal = [p for p in m.walk() if p.get_content_type() == "text/calendar"]
            assert cal, "no text/calendar part"
            assert cal[0].get_param("method") == "REPLY", cal[0]["Content-Type"]
            text = cal[0].get_content().replace("\r\n ", "").replace("\n ", "")
            for want in ("METHOD:REPLY", "UID:plan-2027@example.test", "SEQUENCE:1",
                         "ATTENDEE;PARTSTAT=%s;CN=Anna:mailto:%s" % (req["partstat"], USER)):
                assert want in text, "%r not in the reply:\n%s" % (want, text)
            assert "carl@example.test" not in text, "the reply names other attendees"
            assert m["To"].addresses[0].addr_spec == PEER
            assert m["In-Reply-To"], "no In-Reply-To"
            return True
        return _until(check, 30)

    def do_invite_keywords(self, req):
        """The invitation's keywords in USER's INBOX over IMAP: req["has"] all there,
        req["lacks"] none."""
        def check():
            c = _imap(self.server, USER)
            try:
                c.select("INBOX", readonly=True)
                typ, data = c.search(None, "SUBJECT", '"Invitation: Planning 2027"')
                typ, data = c.fetch(data[0].split()[-1], "(FLAGS)")
                flags = data[0].decode().lower()
            finally:
                c.logout()
            for k in req["has"]:
                assert k.lower() in flags, "%s not in %s" % (k, flags)
            for k in req["lacks"]:
                assert k.lower() not in flags, "%s in %s" % (k, flags)
            return True
        return _until(check)


def _run(server, script):
    run_browser(server, script, Helper(server), USER, PASSWORDS[USER])


def _server(make_server):
    _node_setup()  # skips before any work when the browser cannot run
    server = make_server()
    server.add_user(USER, PASSWORDS[USER])
    server.add_user(PEER, PASSWORDS[PEER])
    seed(server)
    return server


def test_reader_in_chromium(make_server):
    _run(_server(make_server), "reader.mjs")


def seed_bulk(server, n=1000):
    """n unread messages in a folder "Rechnungen 2026", for the number formats (B15) and
    a long folder name in the list header (B14): one MULTIAPPEND (RFC 3502) with LITERAL+
    literals, as one write."""
    c = _imap(server, USER)
    try:
        assert c.create('"Rechnungen 2026"')[0] == "OK"
        tag = c._new_tag()
        cmd = [tag + b' APPEND "Rechnungen 2026"']
        for i in range(n):
            raw = ("From: s%d@example.test\r\nTo: %s\r\nSubject: bulk %d\r\nMessage-ID: <bulk%d@example.test>\r\n"
                   "\r\nbulk\r\n" % (i, USER, i, i)).encode()
            cmd.append(b" {%d+}\r\n" % len(raw) + raw)
        c.send(b"".join(cmd) + b"\r\n")
        while True:
            line = c.readline()
            assert line, "connection closed during APPEND"
            if line.startswith(tag + b" "):
                assert line.split()[1] == b"OK", line
                break
    finally:
        c.logout()


def test_small_bugs_in_chromium(make_server):
    """Review B11, B13-B19: each a check that failed before its fix."""
    server = _server(make_server)
    seed_bulk(server)
    _run(server, "reader_bugs.mjs")


def test_invite_answer_after_reload(make_server):
    """The card shows the answer given after a reload (the $rsvp_* keyword), a new
    answer replaces it; the iTIP REPLY of each reaches the organizer."""
    _run(_server(make_server), "invite_answer.mjs")
