"""The webmail's message list at 20,000 messages, and its URLs, end to end: Debian's chromium, driven by
playwright-core (tests/e2e/webmail/list.mjs), against a real `postamt serve` whose inbox
was filled by `postamt import` from a generated mbox.

The browser scrolls until 1,050 rows are loaded, archives one and receives a new mail
over port 25 (the review's B1: both failed with `requestTooLarge`), checks that no
request names more ids than the session's maxObjectsInGet, goes to the real end with the
End key, and prints the time of a page at 100 and at 1,250 rows (B7; printed, not
asserted), then searches across folders with operators, snippets and hints. A second
scenario (urls.mjs, 120 messages) follows the URLs of folders, messages and searches
through Back, reload, a bookmark and a new tab. This side answers its questions over IMAP and SMTP (never through the page).
playwright-core is set up as for test_webmail.py (skipped, saying why, only without
chromium, node/npm or the module)."""

import email.utils
import imaplib
import os
import smtplib
import time

from helpers import wait_indexed
import test_webmail as webmail
from test_webmail import _node_setup, _until

USER = "big@example.test"
PASSWORD = "big-pw-5521"
SENDER = "news@far.test"
COUNT = int(os.environ.get("POSTAMT_WEBMAIL_LIST_COUNT", "20000"))
# Every FOLDER_EVERY-th message goes to the folder "Projects" instead of the inbox
# (searches across folders find it there).
FOLDER_EVERY = 1000


def subject(i):
    return "Bulk message %05d" % i


def fill(server, tmp, count=COUNT, every=FOLDER_EVERY):
    inbox = os.path.join(tmp, "inbox.mbox")
    projects = os.path.join(tmp, "projects.mbox")
    # the inbox: every message but the FOLDER_EVERY-th; "Projects": those
    base = 1704067200
    with open(inbox, "w") as f, open(projects, "w") as g:
        for i in range(count):
            out = g if i % every == every - 1 else f
            date = email.utils.formatdate(base + 60 * i, usegmt=True)
            out.write("From %s %s\n" % (SENDER, time.asctime(time.gmtime(base + 60 * i))))
            out.write("From: News %d <%s>\nTo: <%s>\nSubject: %s\nDate: %s\nMessage-ID: <bulk%d@far.test>\n"
                      "\nBody of message %d, about topic%d.\n\n" % (i % 7, SENDER, USER, subject(i), date, i, i, i % 13))
    t0 = time.monotonic()
    r = server.run("import", USER, inbox, timeout=600)
    assert r.returncode == 0, r.stderr
    r = server.run("import", USER, projects, "--folder", "Projects", timeout=120)
    assert r.returncode == 0, r.stderr
    # searches are timed on the index, not on the scan it falls back to meanwhile
    wait_indexed(server, timeout=600)
    print("import and indexing of %d messages: %.1f s" % (count, time.monotonic() - t0))


def _imap(server):
    c = imaplib.IMAP4_SSL(server.host, server.port("imaps"), ssl_context=server.ssl_context())
    c.login(USER, PASSWORD)
    return c


class Helper:
    """Answers list.mjs's requests (`@@ask {...}`)."""

    def __init__(self, server):
        self.server = server

    def handle(self, req):
        return getattr(self, "do_" + req["action"])(req)

    def do_count(self, req):
        return COUNT

    def do_deliver(self, req):
        """A message from another server over port 25 (a reply to req["refs"], if given)."""
        refs = "".join("<%s>" % r for r in req.get("refs", []))
        thread = "In-Reply-To: %s\r\nReferences: %s\r\n" % (refs, refs) if refs else ""
        msg = ("From: Far <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%d@far.test>\r\n%s\r\n%s\r\n"
               % (SENDER, USER, req["subject"], time.time_ns(), thread, req.get("body", "Fresh text.")))
        with smtplib.SMTP(self.server.host, self.server.port("smtp"), timeout=10) as s:
            s.ehlo("mx.far.test")
            s.sendmail(SENDER, [USER], msg.encode())
        return True

    def do_in_folder(self, req):
        """Waits until a message with req["subject"] is in req["folder"] (IMAP)."""
        def check():
            c = _imap(self.server)
            try:
                typ, _ = c.select('"%s"' % req["folder"], readonly=True)
                assert typ == "OK"
                typ, data = c.search(None, "SUBJECT", '"%s"' % req["subject"])
                assert typ == "OK" and data[0].split(), "%r not in %s" % (req["subject"], req["folder"])
                return True
            finally:
                c.logout()
        return _until(check, 30)


def run_browser(server, script, helper, extra_env=None, timeout=600):
    return webmail.run_browser(server, script, helper, USER, PASSWORD, env=extra_env, timeout=timeout)


def test_big_list_in_chromium(make_server, tmp_path, capsys):
    _node_setup()
    server = make_server()
    server.add_user(USER, PASSWORD)
    fill(server, str(tmp_path))
    transcript = run_browser(server, "list.mjs", Helper(server))
    with capsys.disabled():
        print("\n" + "\n".join(l for l in transcript.splitlines() if l.startswith("timing:")))


def test_urls_in_chromium(make_server, tmp_path):
    _node_setup()
    server = make_server()
    server.add_user(USER, PASSWORD)
    fill(server, str(tmp_path), count=120, every=10)
    run_browser(server, "urls.mjs", Helper(server), timeout=300)
