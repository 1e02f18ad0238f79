"""The webmail's main flows in every combination that changes how the page looks:
desktop (1280x800) and phone (390x844) width, German and English (the browser's
language, which the webmail follows), light and dark (prefers-color-scheme). In each
of the eight, tests/e2e/webmail/matrix.mjs signs in, lists the inbox, opens a message
with attachments and a calendar invitation, writes and sends a message (to the
account itself: it shows up in the inbox live), searches all folders, opens the
settings and the shortcuts help, and has axe-core check every one of these states
(no serious or critical finding allowed). One browser, a new context per
combination (light and dark side by side); screenshots go to the test's own
temporary directory.

The mailbox is the reading side's (test_webmail_reader.seed, IMAP APPEND); Undo send
is set to off over JMAP first, so a send is not delayed. Skipped, saying why, only
without chromium, node/npm or the npm modules (as test_webmail.py)."""

from helpers import Jmap
from test_webmail import _node_setup, run_browser
from test_webmail_reader import PASSWORDS, PEER, USER, seed


class Helper:
    """matrix.mjs asks nothing of the server side: the page itself shows every result."""

    def handle(self, req):
        raise AssertionError("unexpected request %r" % req)


def test_webmail_matrix_in_chromium(make_server, tmp_path, capsys):
    _node_setup()  # skips before any work when the browser cannot run
    server = make_server()
    server.add_user(USER, PASSWORDS[USER])
    server.add_user(PEER, PASSWORDS[PEER])
    seed(server)
    j = Jmap(server, USER, PASSWORDS[USER], using=["urn:ietf:params:jmap:core", "urn:postamt:params:jmap:settings"])
    r = j.call("Settings/set", {"update": {"singleton": {"undoSendSeconds": 0}}})
    assert "singleton" in r.get("updated", {}), r
    shots = tmp_path / "shots"
    transcript = run_browser(server, "matrix.mjs", Helper(), USER, PASSWORDS[USER], env=dict(SHOTS=str(shots)))
    # every combination ran, and axe-core checked each of its states
    for combo in ("desktop en light", "desktop en dark", "desktop de light", "desktop de dark",
                  "phone en light", "phone en dark", "phone de light", "phone de dark"):
        assert "step: %s: done" % combo in transcript, combo
    # nine states checked on a desktop (the move dialog too), eight on a phone
    assert transcript.count("no serious or critical finding") == 4 * 9 + 4 * 8, transcript
    assert len(list(shots.glob("*.png"))) == 8 * 3
    with capsys.disabled():  # the timings and axe-core's lesser findings, for pytest -s
        print("\n" + "\n".join(l for l in transcript.splitlines() if l.startswith(("timing:", "axe:"))))
