"""Webmail end to end: Debian's chromium, driven by playwright-core, against a real
`postamt serve`; mail goes in over SMTP (smtplib) and is checked over IMAP (imaplib).

The browser side is tests/e2e/webmail/run.mjs. playwright-core and axe-core (pinned in
tests/e2e/webmail/package-lock.json) are installed with `npm ci` into a scratch
directory outside the repository ($POSTAMT_WEBMAIL_NODE_DIR, default
~/.cache/postamt-webmail-e2e/<hash of the lock file>). The test is skipped, saying why,
only when chromium, node/npm or playwright-core cannot be had.

The remote references in the XSS mail point at a canary: a local HTTPS server (with the
test server's certificate) that records every request. Before "Show images" it must see
none; after the click it must see the mail's images (and nothing but images).

Screenshots are written to $POSTAMT_WEBMAIL_SHOTS when it is set."""

import base64
import email
import email.policy
import hashlib
import http.server
import imaplib
import json
import os
import shutil
import smtplib
import sqlite3
import ssl
import subprocess
import threading
import time
from email.message import EmailMessage

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(HERE, "webmail")
CHROMIUM = os.environ.get("POSTAMT_CHROMIUM", "/usr/bin/chromium")

USER = "anna@example.test"
PEER = "peer@example.test"
PASSWORDS = {USER: "anna-pw-7341", PEER: "peer-pw-9913"}

# Every remote reference points at the canary (CANARY is replaced by its https origin).
XSS_HTML = """<html><head>
<meta http-equiv="refresh" content="0;url=CANARY/meta">
<link rel="stylesheet" href="CANARY/link.css">
<style>@import url(CANARY/import.css); body { background: url(CANARY/bg) }</style>
<script>window.top.__xss = 1; new Image().src = "CANARY/script";</script>
</head><body>
<p>Visible newsletter text</p>
<img src="x" onerror="window.top.__xss = 2">
<img src="CANARY/img" alt="tracker">
<img src="CANARY/img-http" alt="tracker over http" class="plain-http">
<a href="javascript:window.top.__xss = 3">click me</a>
<svg><script>window.top.__xss = 4</script><animate onbegin="window.top.__xss = 5" attributeName="x" dur="1s"/></svg>
<div style="background-image: url('CANARY/css')">styled</div>
<form action="CANARY/form"><input name="q" autofocus onfocus="window.top.__xss = 6"></form>
<iframe src="CANARY/frame"></iframe>
<object data="CANARY/object"></object>
<math><mtext><table><mglyph><style><img src=x onerror="window.top.__xss = 7"></style></mglyph></table></mtext></math>
</body></html>"""

# Remote CSS spelled with escapes and other loading functions (review finding 12): the
# first layer must block these too (the notice shows), and "Show images" must still
# load the images (the rewritten CSS keeps its meaning in a real browser).
ESCAPED_CSS_HTML = """<html><head>
<style>@\\69mport 'CANARY/esc-import'; p.set { background-image: -webkit-image-set('CANARY/esc-set' 1x) }</style>
</head><body>
<p>Escaped CSS text</p>
<div style="background: u\\72l(CANARY/esc-attr); height: 10px">attr</div>
<p class="set" style="height: 10px">set</p>
</body></html>"""

# A subject, display name and attachment file name with U+202E RIGHT-TO-LEFT OVERRIDE.
BIDI_SUBJECT = "Bidi invoice\u202efdp.exe check"
BIDI_FILE = "invoice\u202efdp.exe"

# What the canary may see after "Show images": images (<img>, CSS backgrounds), nothing else.
CANARY_IMAGES = {"/img", "/img-http", "/bg", "/css", "/esc-attr", "/esc-set"}
PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


class Canary:
    """An HTTPS server on 127.0.0.1 the XSS mail's remote references point at. It
    records the path of every request and answers with a 1x1 PNG (cacheable, so a
    re-render in the same page does not ask again)."""

    def __init__(self, certfile, keyfile):
        self.hits = []
        self.lock = threading.Lock()
        canary = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                with canary.lock:
                    canary.hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PIXEL)))
                self.send_header("Cache-Control", "max-age=3600")
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(PIXEL)

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certfile, keyfile)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.origin = "https://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def seen(self):
        with self.lock:
            return list(self.hits)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def plain_http(self):
        """The origin of the same server as an http: URL (the mail's plain-http image)."""
        return self.origin.replace("https:", "http:")


def _node_setup():
    """Returns (node, path of playwright-core's index.mjs) or skips."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium not installed at %s (apt-get install chromium)" % CHROMIUM)
    node = shutil.which("node")
    npm = shutil.which("npm")
    if not node or not npm:
        pytest.skip("node/npm not installed (apt-get install nodejs npm)")
    with open(os.path.join(NODE_DIR, "package-lock.json"), "rb") as f:
        lock_hash = hashlib.sha256(f.read()).hexdigest()[:16]
    base = os.environ.get("POSTAMT_WEBMAIL_NODE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "postamt-webmail-e2e", lock_hash)
    module = os.path.join(base, "node_modules", "playwright-core", "index.mjs")
    # axe-core (harness.mjs's axe()) comes from the same lock file, next to playwright-core
    axe = os.path.join(base, "node_modules", "axe-core", "axe.min.js")
    if not os.path.exists(module) or not os.path.exists(axe):
        os.makedirs(base, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(os.path.join(NODE_DIR, name), base)
        r = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=base,
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0 or not os.path.exists(module) or not os.path.exists(axe):
            pytest.skip("playwright-core and axe-core could not be installed with npm ci: %s" % (r.stderr.strip()[-400:]))
    return node, module


def run_browser(server, script, helper, user, password, env=None, timeout=300):
    """Runs tests/e2e/webmail/SCRIPT (playwright-core in chromium) against server, signed
    in as user: its `@@ask {...}` lines are answered with helper.handle(request) (an
    exception goes back as an error, and the browser side fails), `timing:` and axe-core's
    lines are printed (pytest -s shows them). Asserts that it ran to `step: done` with status 0;
    returns the transcript. env adds to (or replaces in) the scenario's environment."""
    node, module = _node_setup()
    base = "https://%s:%d" % (server.host, server.port("https"))
    full_env = dict(os.environ, PW_MODULE=module, BASE=base, USER_ADDR=user, PASS=password, CHROMIUM=CHROMIUM,
                    SHOTS=os.environ.get("POSTAMT_WEBMAIL_SHOTS", ""))
    full_env.update(env or {})
    proc = subprocess.Popen([node, os.path.join(NODE_DIR, script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=full_env, cwd=NODE_DIR)
    out = []
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        for line in proc.stdout:
            out.append(line.rstrip("\n"))
            if line.startswith(("timing: ", "axe: ", "step: axe: ")):
                print(line.rstrip("\n"))
            if line.startswith("@@ask "):
                req = json.loads(line[6:])
                try:
                    reply = {"ok": True, "result": helper.handle(req)}
                except Exception as e:  # noqa: BLE001 - reported to the browser side, which fails
                    reply = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
                proc.stdin.write(json.dumps(reply) + "\n")
                proc.stdin.flush()
        rc = proc.wait(timeout=30)
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
    transcript = "\n".join(out)
    if rc != 0:
        # the cause first: a long transcript is cut in the middle by CI's log
        steps = [l for l in out if l.startswith("step: ") and not l.startswith("step: axe: ")]
        cause = [l for l in out if not l.startswith(("step: ", "timing: ", "axe: ", "@@ask "))]
        raise AssertionError("browser test failed (exit %s) after %s:\n%s\n--- transcript:\n%s"
                             % (rc, steps[-1] if steps else "no step", "\n".join(cause[-40:]), transcript))
    assert "step: done" in transcript, transcript
    return transcript


def _imap(server, user):
    c = imaplib.IMAP4_SSL(server.host, server.port("imaps"), ssl_context=server.ssl_context())
    c.login(user, PASSWORDS[user])
    return c


def _folder_for(c, role=None, name=None):
    typ, data = c.list()
    assert typ == "OK"
    for line in data:
        text = line.decode() if isinstance(line, bytes) else str(line)
        flags = text[text.index("(") + 1:text.index(")")]
        mbox = text.rsplit(" ", 1)[1].strip('"') if not text.endswith('"') else text[text.rindex('"', 0, -1) + 1:-1]
        if role and role.lower() in flags.lower():
            return mbox
        if name and mbox == name:
            return mbox
    return None


def _find(c, folder, subject):
    """UIDs of messages with subject in folder."""
    typ, _ = c.select('"%s"' % folder)
    assert typ == "OK", "select %s" % folder
    typ, data = c.uid("SEARCH", "CHARSET", "UTF-8", "SUBJECT", '"%s"' % subject)
    assert typ == "OK"
    return data[0].split()


def _until(fn, timeout=15.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            r = fn()
            if r:
                return r
        except (AssertionError, imaplib.IMAP4.error) as e:
            last = e
        time.sleep(0.3)
    raise AssertionError("timed out: %s" % (last or "condition not met"))


def _deliver(server, subject, body="", html=None, sender=PEER, rcpt=USER, name="Peer Example", attachment=None):
    msg = EmailMessage()
    msg["From"] = "%s <%s>" % (name, sender)
    msg["To"] = rcpt
    msg["Subject"] = subject
    msg["Message-ID"] = "<%s.%d@example.test>" % (hashlib.sha1(subject.encode()).hexdigest()[:12], time.time_ns())
    msg.set_content(body or "Text of %s.\n" % subject)
    if html:
        msg.add_alternative(html, subtype="html")
    if attachment:
        msg.add_attachment(b"MZ not really\n", maintype="application", subtype="octet-stream", filename=attachment)
    # sender is a local user: port 25 refuses local senders without a login (DESIGN.md
    # §1), so the peer sends as a mail program would, over submission
    with smtplib.SMTP_SSL(server.host, server.port("submissions"), context=server.ssl_context(), timeout=10) as s:
        s.login(sender, PASSWORDS[sender])
        s.send_message(msg, from_addr=sender, to_addrs=[rcpt])


class Helper:
    """Answers the browser test's requests (see run.mjs)."""

    def __init__(self, server, canary):
        self.server = server
        self.canary = canary

    def user(self, req):
        return PEER if req.get("user") == "peer" else USER

    def handle(self, req):
        a = req["action"]
        return getattr(self, "do_" + a)(req)

    def do_imap_flags(self, req):
        def check():
            c = _imap(self.server, self.user(req))
            try:
                uids = _find(c, "INBOX", req["subject"])
                assert uids, "no message %r in INBOX" % req["subject"]
                typ, data = c.uid("FETCH", uids[-1], "(FLAGS)")
                flags = data[0].decode()
                for f in req.get("has", []):
                    assert f in flags, "%s not in %s" % (f, flags)
                for f in req.get("lacks", []):
                    assert f not in flags, "%s in %s" % (f, flags)
                return True
            finally:
                c.logout()
        return _until(check)

    def do_imap_set_flag(self, req):
        c = _imap(self.server, self.user(req))
        try:
            uids = _find(c, "INBOX", req["subject"])
            assert uids
            typ, _ = c.uid("STORE", uids[-1], "+FLAGS", "(%s)" % req["flag"])
            assert typ == "OK"
        finally:
            c.logout()
        return True

    def do_imap_in_folder(self, req):
        def check():
            c = _imap(self.server, self.user(req))
            try:
                folder = req.get("folder") or _folder_for(c, role=req["role"])
                assert folder, "no folder with %s" % req.get("role")
                assert _find(c, folder, req["subject"]), "%r not in %s" % (req["subject"], folder)
                return True
            finally:
                c.logout()
        return _until(check, 30)

    def do_junk_model(self, req):
        """The user's junk filter model has learned req's spam and ham counts (read from the
        store once the learner has drained every lesson)."""
        path = os.path.join(self.server.dir, "db", "store.sqlite")

        def check():
            with sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10) as c:
                if c.execute("SELECT COUNT(*) FROM junk_lessons").fetchone()[0]:
                    return False
                row = c.execute("SELECT j.nspam, j.nham FROM junk_count j JOIN accounts a ON a.id = j.account_id"
                                " WHERE a.address = ?", (self.user(req),)).fetchone()
            assert tuple(row or (0, 0)) == (req["spam"], req["ham"]), row
            return True
        return _until(check, 30)

    def do_imap_reply_check(self, req):
        def check():
            c = _imap(self.server, self.user(req))
            try:
                uids = _find(c, "INBOX", req["subject"])
                assert uids, "no reply in INBOX yet"
                typ, data = c.uid("FETCH", uids[-1], "(BODY.PEEK[])")
                raw = data[0][1]
                m = email.message_from_bytes(raw, policy=email.policy.default)
                assert m["In-Reply-To"], "no In-Reply-To"
                assert m["References"], "no References"
                names = [p.get_filename() for p in m.iter_attachments()]
                assert req["attachment"] in names, "attachments: %r" % names
                body = m.get_body(("plain",)).get_content()
                assert "> This came in over SMTP." in body, body
                return True
            finally:
                c.logout()
        return _until(check, 30)

    def do_canary_hits(self, req):
        return self.canary.seen()

    def do_canary_wait(self, req):
        def check():
            seen = self.canary.seen()
            missing = [p for p in req["paths"] if p not in seen]
            assert not missing, "the canary has not seen %s (only %s)" % (missing, seen)
            return True
        _until(check)
        return self.canary.seen()

    def do_smtp_deliver(self, req):
        _deliver(self.server, req["subject"])
        return True


def test_webmail_in_chromium(make_server):
    _node_setup()  # skips before any work when the browser cannot run
    server = make_server()
    server.add_user(USER, PASSWORDS[USER], "--quota", "50M")
    server.add_user(PEER, PASSWORDS[PEER])
    base = "https://%s:%d" % (server.host, server.port("https"))

    # The webmail page must be served at /.
    import ssl
    import urllib.request
    ctx = ssl.create_default_context(cafile=server.cafile)
    ctx.check_hostname = False
    try:
        page = urllib.request.urlopen(base + "/", context=ctx, timeout=10).read().decode()
    except Exception as e:  # noqa: BLE001
        pytest.fail("GET / over HTTPS failed: %s" % e)
    assert "/static/js/main.js" in page, "the webmail page is not served at /"

    _deliver(server, "Hello from SMTP", "Hi Anna,\nThis came in over SMTP.\n")
    _deliver(server, "Second message")
    canary = Canary(server.cafile, server.keyfile)
    xss = XSS_HTML.replace("CANARY/img-http", canary.plain_http() + "/img-http").replace("CANARY", canary.origin)
    _deliver(server, "Newsletter with tricks", "Visible newsletter text", html=xss)
    _deliver(server, "Escaped CSS", "Escaped CSS text", html=ESCAPED_CSS_HTML.replace("CANARY", canary.origin))
    _deliver(server, BIDI_SUBJECT, name="Peer \u202eevil", attachment=BIDI_FILE)

    # The webmail must run the DOMPurify the build embedded: npm's pinned 3.x when installed.
    expect_purify = ""
    if os.path.exists("/usr/local/share/postamt/npm/node_modules/dompurify/dist/purify.min.js"):
        with open(os.path.join(HERE, "..", "..", "web", "vendor-lock", "package.json")) as f:
            expect_purify = json.load(f)["dependencies"]["dompurify"]
    env = dict(EXPECT_PURIFY=expect_purify, PEER=PEER, CANARY=canary.origin,
               IMAPS_PORT=str(server.port("imaps")), SUBMISSIONS_PORT=str(server.port("submissions")))
    try:
        run_browser(server, "run.mjs", Helper(server, canary), USER, PASSWORDS[USER], env=env)
    finally:
        canary.close()
    hits = canary.seen()
    assert set(hits) <= CANARY_IMAGES, "the canary saw more than images: %s" % hits
