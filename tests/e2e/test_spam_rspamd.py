"""The rspamd client on port 25 (DESIGN.md §1 "Spam defence", docs/spam.md "rspamd")
against Debian's real rspamd, started by this file on a loopback port with a config
directory of its own (no Redis, no DNS, a tiny TLD list so it starts in a fraction of
a second, two test rules: a subject with JUNKME scores 7 -> "add header", GREYME
scores 4.5 -> "greylist"). GTUBE is refused with 550 5.7.1 and stored nowhere; a
clean message is delivered with X-Rspamd-Score/X-Rspamd-Action; "add header" goes
to Junk; "greylist" is 451 4.7.1; rspamd stopped: accepted and logged, or 451 with
spam.rspamd_fail = tempfail; submission is never checked.
"""
import os
import pwd
import grp
import shutil
import smtplib
import socket
import subprocess
import time

import pytest

from conftest import e2e_tmpdir, finish_server, new_server
from helpers import new_user, mailbox

GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
RSPAMD = shutil.which("rspamd") or "/usr/bin/rspamd"

RULES = """
local function subject_has(task, word)
  local s = task:get_subject()
  return s ~= nil and s:find(word, 1, true) ~= nil
end
rspamd_config.POSTAMT_TEST_JUNK = { callback = function(task) return subject_has(task, 'JUNKME') end, score = 7.0 }
rspamd_config.POSTAMT_TEST_GREY = { callback = function(task) return subject_has(task, 'GREYME') end, score = 4.5 }
"""

CONF = """
options {
  pidfile = "%(dir)s/rspamd.pid";
  dbdir = "%(dir)s/db";
  filters = "";
  url_tld = "%(dir)s/tld.dat";
  dns { nameserver = ["127.0.0.1:1"]; timeout = 1s; retransmits = 1; }
}
logging { type = "console"; level = "warning"; }
actions { reject = 15; add_header = 6; greylist = 4; }
lua = "%(dir)s/rules.lua";
worker "normal" { bind_socket = "127.0.0.1:%(port)d"; count = 1; task_timeout = 8s; }
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Rspamd:
    """One rspamd process with its own config directory."""

    def __init__(self):
        self.dir = e2e_tmpdir("rspamd")
        self.port = free_port()
        os.makedirs(os.path.join(self.dir, "db"))
        with open(os.path.join(self.dir, "tld.dat"), "w") as f:
            f.write("test\ncom\norg\nnet\n")
        with open(os.path.join(self.dir, "rules.lua"), "w") as f:
            f.write(RULES)
        with open(os.path.join(self.dir, "rspamd.conf"), "w") as f:
            f.write(CONF % {"dir": self.dir, "port": self.port})
        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        if os.getuid() == 0:  # rspamd drops to -u/-g; they must reach the dir
            shutil.chown(self.dir, user, group)
        self.log = open(os.path.join(self.dir, "rspamd.log"), "wb")
        self.proc = subprocess.Popen([RSPAMD, "-f", "-c", os.path.join(self.dir, "rspamd.conf"), "-u", user,
                                      "-g", group], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not self.answers():
            assert self.proc.poll() is None, "rspamd exited: " + open(self.log.name).read()[-2000:]
            assert time.monotonic() < deadline, "rspamd did not start"
            time.sleep(0.1)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"GET /ping HTTP/1.0\r\n\r\n")
                return b"pong" in s.recv(4096)
        except OSError:
            return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


pytestmark = pytest.mark.skipif(not os.path.exists(RSPAMD), reason="rspamd is not installed (scripts/install-deps)")


@pytest.fixture(scope="module")
def rspamd():
    r = Rspamd()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def srv(postamt_bin, rspamd):
    s = new_server(postamt_bin, config=["spam.rspamd = " + rspamd.url])
    yield s
    finish_server(s)


def msg(to, subject, body="Hello, this is a normal message.\r\n", extra=""):
    return ("From: someone@sender.test\r\nTo: %s\r\nSubject: %s\r\n%s\r\n%s" % (to, subject, extra, body)).encode()


def send(srv, rcpt, data):
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=60) as s:
        s.ehlo("client.test")
        assert s.mail("someone@sender.test")[0] == 250
        code, text = s.rcpt(rcpt)
        assert code == 250, text
        code, text = s.data(data)
        return code, text.decode()




def test_gtube_refused_and_stored_nowhere(srv):
    u = new_user(srv, "gtube")
    code, text = send(srv, u, msg(u, "test", "Buy now\r\n" + GTUBE + "\r\n"))
    assert code == 550 and text.startswith("5.7.1"), (code, text)
    assert mailbox(srv, u) == [] and mailbox(srv, u, "Junk") == []
    assert srv.wait_log(r"event=rspamd_checked .*action=reject score=15.00")
    assert srv.wait_log(r"event=message_refused .*hook=spam")


def test_clean_message_delivered_with_score(srv):
    u = new_user(srv, "clean")
    code, text = send(srv, u, msg(u, "lunch", extra="X-Rspamd-Score: -100 / 15\r\nX-Rspamd-Action: forged\r\n"))
    assert code == 250, text
    (raw,) = mailbox(srv, u)
    assert b"\r\nX-Rspamd-Score: 0.00 / 15.00\r\nX-Rspamd-Action: no action\r\n" in raw
    assert raw.count(b"X-Rspamd-Score") == 1 and b"forged" not in raw
    assert mailbox(srv, u, "Junk") == []


def test_add_header_goes_to_junk(srv):
    u = new_user(srv, "junk")
    code, text = send(srv, u, msg(u, "JUNKME cheap"))
    assert code == 250, text
    assert mailbox(srv, u) == []
    (raw,) = mailbox(srv, u, "Junk")
    assert b"X-Rspamd-Score: 7.00 / 15.00\r\nX-Rspamd-Action: add header\r\n" in raw


def test_greylist_is_temporary(srv):
    u = new_user(srv, "grey")
    code, text = send(srv, u, msg(u, "GREYME later"))
    assert code == 451 and text.startswith("4.7.1"), (code, text)
    assert mailbox(srv, u) == [] and mailbox(srv, u, "Junk") == []


def test_submission_is_not_checked(srv):
    u = new_user(srv, "submitter")
    with smtplib.SMTP(srv.host, srv.port("submission"), timeout=60) as s:
        s.ehlo("client.test")
        s.starttls(context=srv.ssl_context())
        s.ehlo("client.test")
        s.login(u, "secret")
        s.mail(u)
        assert s.rcpt(u)[0] == 250
        data = msg(u, "gtube from a user", GTUBE + "\r\n").replace(b"someone@sender.test", u.encode())
        assert s.data(data)[0] == 250
    (raw,) = mailbox(srv, u)
    assert b"X-Rspamd" not in raw


def test_rspamd_stopped_accepts_and_logs(postamt_bin):
    own = Rspamd()
    try:
        s = new_server(postamt_bin, config=["spam.rspamd = " + own.url, "spam.rspamd_timeout = 5s"])
        try:
            u = new_user(s, "down")
            assert send(s, u, msg(u, "while up"))[0] == 250
            own.stop()
            code, text = send(s, u, msg(u, "while down", GTUBE + "\r\n"))
            assert code == 250, text
            assert s.wait_log(r"warn event=rspamd_failed .*error=.*result=accepted")
            up, down = mailbox(s, u)
            assert b"X-Rspamd-Action: no action" in up
            assert b"X-Rspamd" not in down
        finally:
            finish_server(s)
    finally:
        own.stop()


def test_rspamd_unreachable_with_tempfail(postamt_bin):
    s = new_server(postamt_bin, config=["spam.rspamd = http://127.0.0.1:%d" % free_port(),
                                        "spam.rspamd_fail = tempfail"])
    try:
        u = new_user(s, "tempfail")
        code, text = send(s, u, msg(u, "nobody home"))
        assert code == 451 and text.startswith("4.7.1"), (code, text)
        assert s.wait_log(r"event=rspamd_failed .*error=.*cannot connect.*result=tempfail")
        assert mailbox(s, u) == []
    finally:
        finish_server(s)
