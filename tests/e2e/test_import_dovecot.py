"""`postamt import ADDRESS imap[s]://USER@HOST:PORT` from a real Dovecot (Debian's
dovecot-imapd), started here on loopback with a private configuration in a temporary
directory (docs/import.md, DESIGN.md §1 "Backup, restore, import, export").

The source account's Maildir is written first (folders with non-ASCII names in
Dovecot's modified UTF-7, flags, a dovecot-keywords file, file dates), more mail is
added over IMAP with APPEND (keywords, INTERNALDATE); the import must carry folders,
special-use roles (from Dovecot's SPECIAL-USE and from German names), flags,
keywords and dates, and a second run must add only what is new. A fake server
checks that a hostile one (an endless line, a huge literal, bogus UIDs) is bounded.
"""

import imaplib
import mailbox
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import finish_server, new_server
from helpers import new_user

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
SRC_USER = "alice@old.example"  # the "@" goes into the URL as %40
PW = "s3cret pass"
EXPORT_USER = "bob@old.example"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Dovecot:
    """A private Dovecot: IMAP with STARTTLS and IMAPS on free loopback ports."""

    def __init__(self):
        # not below the e2e base directory (mode 0700): Dovecot's mail processes run
        # as the mail user and must reach the home directory
        self.dir = tempfile.mkdtemp(prefix="postamt-dovecot-")
        os.chmod(self.dir, 0o755)
        self.home = os.path.join(self.dir, "home")
        os.makedirs(self.home)
        self.maildir = os.path.join(self.home, "Maildir")
        self.imap_port, self.imaps_port = free_port(), free_port()
        self.cert = os.path.join(self.dir, "cert.pem")
        self.proc = None

    def write_config(self):
        d = self.dir
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/key.pem",
                        "-out", self.cert, "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
        me = pwd.getpwuid(os.geteuid())
        if os.geteuid() == 0:
            mail = pwd.getpwnam("mail")
            uid, gid, internal = mail.pw_uid, mail.pw_gid, ""
        else:  # an unprivileged Dovecot runs everything as the caller
            uid, gid = me.pw_uid, me.pw_gid
            internal = "default_internal_user = %s\ndefault_login_user = %s\ndefault_internal_group = %s\n" % (
                me.pw_name, me.pw_name, "nogroup" if False else me.pw_name)
        with open(d + "/users", "w") as f:
            f.write("%s:{PLAIN}%s:%d:%d::%s::\n" % (SRC_USER, PW, uid, gid, self.home))
            # the account that serves what `postamt export` writes (test_export_read_by_dovecot)
            f.write("%s:{PLAIN}%s:%d:%d::%s::\n" % (EXPORT_USER, PW, uid, gid, os.path.join(d, "exported")))
        os.makedirs(d + "/run", exist_ok=True)
        with open(d + "/dovecot.conf", "w") as f:
            f.write(f"""instance_name = postamt-e2e-{self.imap_port}
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{self.cert}
ssl_key = <{d}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:~/Maildir
{internal}passdb {{
  driver = passwd-file
  args = username_format=%u {d}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {d}/users
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Versandt {{
    special_use = \\Sent
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
  }}
}}
service anvil {{
  chroot =
}}
""")
        for sub in ("run", "state"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        self.uid, self.gid = uid, gid

    def start(self):
        for dirpath, dirnames, filenames in os.walk(self.home):
            for n in dirnames + filenames:
                os.chown(os.path.join(dirpath, n), self.uid, self.gid)
        os.chown(self.home, self.uid, self.gid)
        # the master forks into the background: no pipes it could keep open
        r = subprocess.run([DOVECOT, "-c", self.dir + "/dovecot.conf"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        assert r.returncode == 0, "dovecot did not start:\n" + self.log()
        pidfile = os.path.join(self.dir, "run", "master.pid")
        deadline = time.monotonic() + 10
        # the master listens before it writes its pid file: wait for both
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.imap_port), timeout=1).close()
                with open(pidfile) as f:
                    self.pid = int(f.read().split()[0])
                break
            except (OSError, ValueError, IndexError):
                assert time.monotonic() < deadline, "dovecot did not start:\n" + self.log()
                time.sleep(0.05)

    def stop(self):
        if getattr(self, "pid", None):
            try:
                os.kill(self.pid, 15)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(self.pid, 0)
                except ProcessLookupError:
                    return
                time.sleep(0.05)

    def log(self):
        try:
            with open(os.path.join(self.dir, "dovecot.log")) as f:
                return f.read()[-4000:]
        except FileNotFoundError:
            return ""

    def imap(self):
        m = imaplib.IMAP4("127.0.0.1", self.imap_port)
        m.starttls()
        m.login(SRC_USER, PW)
        return m


def fill_maildir(root):
    """The source account before Dovecot first sees it. Returns the INBOX messages."""
    md = mailbox.Maildir(root, create=True)
    with open(os.path.join(root, "dovecot-keywords"), "w") as f:
        f.write("0 $Label1\n1 Rechnung\n")
    inbox = []
    for i, (flags, date) in enumerate([("S", 1600000000), ("FSa", 1500000000), ("Rb", 1400000000)]):
        raw = b"From: bob@old.example\nSubject: inbox %d\nMessage-ID: <in%d@old.example>\n\nbody %d\n" % (i, i, i)
        m = mailbox.MaildirMessage(raw)
        m.set_subdir("cur")
        m.set_flags(flags)
        key = md.add(m)
        os.utime(os.path.join(root, md._lookup(key)), (date, date))
        inbox.append(raw)
    md.add_folder("Versandt").add(b"Subject: sent\n\nsent by me\n")
    md.add_folder("Entw&APw-rfe").add(b"Subject: draft\n\nnot yet\n")  # Entwürfe: Drafts by its name
    koeln = md.add_folder("Reisen.K&APY-ln")                          # Reisen/Köln
    m = mailbox.MaildirMessage(b"Subject: dom\n\ncathedral\n")
    m.set_subdir("cur")
    m.set_flags("S")
    key = koeln.add(m)
    os.utime(os.path.join(root, ".Reisen.K&APY-ln", koeln._lookup(key)), (1300000000, 1300000000))
    return inbox


@pytest.fixture(scope="module")
def dovecot():
    if DOVECOT is None:
        pytest.skip("dovecot is not installed (scripts/install-deps --bench)")
    dc = Dovecot()
    dc.write_config()
    fill_maildir(dc.maildir)
    dc.start()
    try:
        yield dc
    finally:
        dc.stop()
        shutil.rmtree(dc.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin)
    yield s
    finish_server(s)


def url(dc, scheme="imap", user=SRC_USER.replace("@", "%40")):
    return "%s://%s@127.0.0.1:%d" % (scheme, user, dc.imap_port if scheme == "imap" else dc.imaps_port)


def run_import(srv, *args, input=None, timeout=120):
    r = srv.run("import", *args, input=input, timeout=timeout)
    # an ASan/UBSan build reports on stderr; commands expected to fail would hide it
    assert "Sanitizer" not in r.stderr and "runtime error:" not in r.stderr, r.stderr
    return r


def pull(srv, dc, user, scheme="imap", src_user=SRC_USER.replace("@", "%40")):
    return run_import(srv, user, url(dc, scheme, src_user), "--ca", dc.cert, input=PW + "\n", timeout=120)


def account(srv, user):
    """{folder: [(flags, internaldate, raw)]} and {folder: LIST attributes} of user."""
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    m.login(user, "secret")
    try:
        _, data = m.list()
        attrs, out = {}, {}
        for line in data:
            mm = re.match(rb'\((.*?)\) "/" "?(.*?)"?$', line)
            attrs[mm.group(2).decode()] = set(mm.group(1).decode().split())
        for name in attrs:
            typ, _ = m.select('"%s"' % name, readonly=True)
            if typ != "OK":
                continue
            _, d = m.uid("SEARCH", None, "ALL")
            msgs = []
            for uid in d[0].split():
                _, parts = m.uid("FETCH", uid, "(FLAGS INTERNALDATE BODY.PEEK[])")
                head = parts[0][0]
                flags = set(re.search(rb"FLAGS \((.*?)\)", head).group(1).decode().split()) - {"\\Recent"}
                msgs.append((flags, int(time.mktime(imaplib.Internaldate2tuple(head))), parts[0][1]))
            out[name] = msgs
        return out, attrs
    finally:
        m.logout()


def test_dovecot_import_then_incremental(srv, dovecot):
    # mail that arrives over IMAP: a keyword and an INTERNALDATE of its own
    src = dovecot.imap()
    try:
        typ, _ = src.append('"Reisen/K&APY-ln"', "(\\Flagged Urlaub)", imaplib.Time2Internaldate(1200000000),
                            b"Subject: appended\r\nMessage-ID: <ap1@old.example>\r\n\r\nvia IMAP\r\n")
        assert typ == "OK"
    finally:
        src.logout()

    user = new_user(srv, "dc")
    t0 = time.monotonic()
    r = pull(srv, dovecot, user)
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stdout + r.stderr + dovecot.log()
    assert re.search(r"imported 7 messages .* into 4 folders", r.stdout), r.stdout
    print("first import: %.2f s, %s" % (took, r.stdout.strip()))

    got, attrs = account(srv, user)
    # roles: Versandt from Dovecot's SPECIAL-USE, Entwürfe from its German name
    assert "\\Sent" in attrs["Sent"] and "Versandt" not in attrs
    assert "\\Drafts" in attrs["Drafts"] and "Entw&APw-rfe" not in attrs
    assert [m[2] for m in got["Sent"]] == [b"Subject: sent\r\n\r\nsent by me\r\n"]
    assert [m[2] for m in got["Drafts"]] == [b"Subject: draft\r\n\r\nnot yet\r\n"]
    inbox = got["INBOX"]
    assert [(m[0], m[1]) for m in inbox] == [
        ({"\\Seen"}, 1600000000),
        ({"\\Flagged", "\\Seen", "$Label1"}, 1500000000),
        ({"\\Answered", "Rechnung"}, 1400000000)]
    assert inbox[1][2] == b"From: bob@old.example\r\nSubject: inbox 1\r\nMessage-ID: <in1@old.example>\r\n\r\nbody 1\r\n"
    koeln = got["Reisen/K&APY-ln"]
    assert [(m[0], m[1], m[2]) for m in koeln] == [
        ({"\\Seen"}, 1300000000, b"Subject: dom\r\n\r\ncathedral\r\n"),
        ({"\\Flagged", "Urlaub"}, 1200000000,
         b"Subject: appended\r\nMessage-ID: <ap1@old.example>\r\n\r\nvia IMAP\r\n")]

    # new mail at the source; the second run (over implicit TLS, "@" as it is) adds only that
    src = dovecot.imap()
    try:
        src.append("INBOX", "(\\Seen)", imaplib.Time2Internaldate(1700000000), b"Subject: new one\r\n\r\nnew\r\n")
        src.create('"Neu/Unterordner"')
        src.append('"Neu/Unterordner"', None, None, b"Subject: new two\r\n\r\nnew\r\n")
    finally:
        src.logout()
    r = run_import(srv, user, url(dovecot, "imaps", SRC_USER), "--ca", dovecot.cert, input=PW + "\n", timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"imported 2 messages .* 7 already there", r.stdout), r.stdout
    got, _ = account(srv, user)
    assert got["INBOX"][-1][:2] == ({"\\Seen"}, 1700000000)
    assert [m[2] for m in got["Neu/Unterordner"]] == [b"Subject: new two\r\n\r\nnew\r\n"]
    assert sum(len(v) for v in got.values()) == 9

    # a wrong password is a clear error, nothing imported
    r = run_import(srv, user, url(dovecot), "--ca", dovecot.cert, input="wrong\n", timeout=120)
    assert r.returncode != 0 and re.search(r"LOGIN|login|authentic", r.stderr), r.stderr


def test_dovecot_certificate_checked(srv, dovecot):
    """Without --ca the self-signed certificate is refused (and no password is sent)."""
    user = new_user(srv, "dc")
    r = run_import(srv, user, url(dovecot, "imaps"), input=PW + "\n", timeout=60)
    assert r.returncode != 0 and re.search(r"certificate", r.stderr), r.stderr


# ------------------------------------------------------------------ a hostile server

class FakeImap:
    """Answers one connection with a script: greeting, then per command a callback."""

    def __init__(self, respond):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.respond = respond
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        try:
            c, _ = self.sock.accept()
        except OSError:
            return
        c.settimeout(10)
        f = c.makefile("rwb")
        try:
            f.write(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake\r\n")
            f.flush()
            while True:
                line = f.readline()
                if not line:
                    break
                tag, cmd = line.strip().split(b" ", 2)[:2]
                if cmd.upper() == b"LOGOUT":
                    f.write(b"* BYE\r\n" + tag + b" OK bye\r\n")
                    f.flush()
                    break
                if not self.respond(f, tag, cmd.upper(), line):
                    break
                f.flush()
        except (OSError, ValueError):
            pass
        finally:
            c.close()
            self.sock.close()


def standard(f, tag, cmd, line):
    if cmd == b"LOGIN":
        f.write(tag + b" OK logged in\r\n")
    elif cmd == b"CAPABILITY":
        f.write(b"* CAPABILITY IMAP4rev1\r\n" + tag + b" OK\r\n")
    elif cmd == b"LIST":
        f.write(b'* LIST () "/" INBOX\r\n' + tag + b" OK\r\n")
    elif cmd == b"EXAMINE":
        f.write(b"* 3 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n" + tag + b" OK [READ-ONLY] done\r\n")
    else:
        return False
    return True


def test_hostile_server_bounded(srv):
    user = new_user(srv, "hostile")

    def endless(f, tag, cmd, line):
        if cmd == b"LOGIN":
            f.write(b"* OK " + b"x" * (4 * 1024 * 1024))
            f.flush()
            return False
        return standard(f, tag, cmd, line)

    fake = FakeImap(endless)
    r = run_import(srv, user, "imap://u@127.0.0.1:%d" % fake.port, input="pw\n", timeout=60)
    assert r.returncode != 0 and re.search(r"line|long|limit", r.stderr), r.stderr

    def huge_literal_and_bogus_uids(f, tag, cmd, line):
        if cmd == b"UID" and b"BODY.PEEK[]" in line and b"HEADER" not in line:
            f.write(b"* 1 FETCH (UID 5 BODY[] {999999999999}\r\n")
            f.flush()
            return False
        if cmd == b"UID":
            f.write(b"* 1 FETCH (UID 0 FLAGS () RFC822.SIZE 10)\r\n"
                    b"* 2 FETCH (UID 5 FLAGS (\\Seen) RFC822.SIZE 10 INTERNALDATE \"01-Jan-2026 00:00:00 +0000\")\r\n"
                    b"* 3 FETCH (UID 5 FLAGS () RFC822.SIZE 10)\r\n" + tag + b" OK\r\n")
            return True
        return standard(f, tag, cmd, line)

    fake = FakeImap(huge_literal_and_bogus_uids)
    r = run_import(srv, user, "imap://u@127.0.0.1:%d" % fake.port, input="pw\n", timeout=60)
    assert r.returncode != 0, r.stdout + r.stderr
    assert re.search(r"UID", r.stderr), r.stderr          # UID 0 and the repeated UID 5 reported
    assert re.search(r"literal|large|limit", r.stderr), r.stderr
    assert "imported 0 messages" in r.stdout, r.stdout


def test_export_read_by_dovecot(srv, dovecot):
    """What `postamt export` writes, Dovecot serves: folders, flags, keywords, dates."""
    user = new_user(srv, "dc")
    r = pull(srv, dovecot, user)
    assert r.returncode == 0, r.stderr
    home = os.path.join(dovecot.dir, "exported")
    os.makedirs(home)
    r = srv.run("export", user, os.path.join(home, "Maildir"))
    assert r.returncode == 0, r.stderr
    for dirpath, dirnames, filenames in os.walk(home):
        for n in dirnames + filenames:
            os.chown(os.path.join(dirpath, n), dovecot.uid, dovecot.gid)
    os.chown(home, dovecot.uid, dovecot.gid)
    m = imaplib.IMAP4("127.0.0.1", dovecot.imap_port)
    try:
        m.starttls()
        m.login(EXPORT_USER, PW)
        _, data = m.list()
        names = {re.match(rb'\(.*?\) "/" "?(.*?)"?$', l).group(1).decode() for l in data}
        assert {"INBOX", "Sent", "Drafts", "Reisen/K&APY-ln", "Neu/Unterordner"} <= names, names
        typ, _ = m.select('"Reisen/K&APY-ln"', readonly=True)
        assert typ == "OK"
        _, data = m.fetch("1:*", "(FLAGS INTERNALDATE BODY.PEEK[])")
        got = []
        for part in data:
            if isinstance(part, tuple):
                flags = set(re.search(rb"FLAGS \((.*?)\)", part[0]).group(1).decode().split()) - {"\\Recent"}
                got.append((flags, int(time.mktime(imaplib.Internaldate2tuple(part[0]))), part[1]))
        assert got == [({"\\Seen"}, 1300000000, b"Subject: dom\r\n\r\ncathedral\r\n"),
                       ({"\\Flagged", "Urlaub"}, 1200000000,
                        b"Subject: appended\r\nMessage-ID: <ap1@old.example>\r\n\r\nvia IMAP\r\n")], got
        m.select("INBOX", readonly=True)
        _, data = m.fetch("1:*", "(FLAGS)")
        flags = [set(re.search(rb"FLAGS \((.*?)\)", l).group(1).decode().split()) - {"\\Recent"} for l in data]
        assert flags[:3] == [{"\\Seen"}, {"\\Flagged", "\\Seen", "$Label1"}, {"\\Answered", "Rechnung"}], flags
    finally:
        m.logout()
