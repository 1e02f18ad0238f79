"""postamt backup, restore and verify (docs/operations.md, DESIGN.md §1 "Backup, restore, import, export").

One server (module scope) takes deliveries and flag changes from threads while `postamt backup` runs; the
backup is restored into a new DIR, served on other ports, and compared over IMAP with what the live server
showed before the backup began: every acknowledged message once, same bytes, flags, keywords, UIDs and
UIDVALIDITY. The restored copy is then damaged (a truncated and a missing message file, a wrong counter, an
orphan file) for `verify` and `verify --repair`. An interrupted backup and restore (kill -9 where
POSTAMT_TEST_STOP stops them) leave a target that restore and serve refuse, and the source intact."""
import imaplib
import os
import re
import signal
import smtplib
import sqlite3
import subprocess
import threading
import time

import pytest

from conftest import Server, finish_server, free_offset, new_server, run_postamt

USERS = ["bk1@example.test", "bk2@example.test"]
ARCHIVE = "Archiv/Gr&APYA3w-e"  # "Archiv/Größe" in IMAP's modified UTF-7
LIST_RE = re.compile(rb'\((?P<attrs>[^)]*)\) (?:"(?P<sep>.)"|NIL) (?P<name>.+)$')
FETCH_RE = re.compile(rb"UID (\d+) FLAGS \(([^)]*)\)")


def message(n, to, sender=None):
    return ("From: %s\r\nTo: %s\r\nSubject: backup test %d\r\nMessage-ID: <bk-%d@example.test>\r\n\r\n"
            "Body %d.\r\n" % (sender or to, to, n, n, n)).encode()


def imap_state(srv, user):
    """{mailbox: (UIDVALIDITY, {uid: (flags, bytes)})} of every mailbox of user."""
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    try:
        m.login(user, "secret")
        _, listing = m.list()
        out = {}
        for line in listing:
            name = LIST_RE.match(line).group("name")
            if name.startswith(b'"'):
                name = name[1:-1]
            name = name.decode()
            typ, _ = m.select('"%s"' % name, readonly=True)
            assert typ == "OK", name
            uidvalidity = int(m.response("UIDVALIDITY")[1][0])
            msgs = {}
            typ, data = m.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
            for item in data:
                if not isinstance(item, tuple):
                    continue
                uid, flags = FETCH_RE.search(item[0]).groups()
                assert int(uid) not in msgs, "UID %s twice in %s" % (uid, name)
                msgs[int(uid)] = (frozenset(flags.split()), item[1])
            out[name] = (uidvalidity, msgs)
        return out
    finally:
        m.logout()


def serve_copy(srv, datadir):
    """A server on the restored datadir (its postamt.conf is srv's) on other free ports."""
    offset = free_offset()
    copy = Server(srv.bin, datadir, offset, os.path.dirname(datadir))
    copy.add_config("port_offset = %d" % offset)
    return copy


def wait_stopped(pid, timeout=30):
    """Polls until process pid is stopped (SIGSTOP from POSTAMT_TEST_STOP)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/%d/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "T":
                return
        time.sleep(0.02)
    pytest.fail("process %d never reached its stop point" % pid)


def tree(path):
    """{relative path: bytes} of every file below path."""
    out = {}
    for root, _, files in os.walk(path):
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, path)] = fh.read()
    return out


@pytest.fixture(scope="module")
def live(postamt_bin):
    srv = new_server(postamt_bin, users=USERS)
    ctx = srv.ssl_context()
    for user, first in ((USERS[0], 0), (USERS[1], 1000)):
        with smtplib.SMTP_SSL(srv.host, srv.port("submissions"), context=ctx) as s:
            s.login(user, "secret")
            for i in range(first, first + 20):
                s.sendmail(user, [user], message(i, user))
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    m.login(USERS[0], "secret")
    m.create('"%s"' % ARCHIVE)
    m.select("INBOX")
    m.uid("STORE", "1:5", "+FLAGS", r"(\Seen)")
    m.uid("STORE", "3", "+FLAGS", r"(\Flagged $Label1 Projekt)")
    m.uid("STORE", "4", "+FLAGS", r"(\Answered \Deleted)")
    m.uid("COPY", "6:9", '"%s"' % ARCHIVE)
    m.logout()
    yield srv
    finish_server(srv)


class Load:
    """Threads that deliver to both users and flag bk2's messages until stopped."""

    def __init__(self, srv):
        self.srv = srv
        self.stop = threading.Event()
        self.acked = []  # (monotonic time of the 250 reply, message number)
        self.stores = 0
        self.errors = []
        self.threads = [threading.Thread(target=self._deliver), threading.Thread(target=self._flag)]

    def _deliver(self):
        try:
            with smtplib.SMTP_SSL(self.srv.host, self.srv.port("submissions"), context=self.srv.ssl_context()) as s:
                s.login(USERS[0], "secret")
                n = 5000
                while not self.stop.is_set():
                    to = USERS[n % 2]
                    s.sendmail(USERS[0], [to], message(n, to, USERS[0]))
                    self.acked.append((time.monotonic(), n, to))
                    n += 1
        except Exception as e:  # noqa: BLE001
            self.errors.append(e)

    def _flag(self):
        try:
            m = imaplib.IMAP4(self.srv.host, self.srv.port("imap"))
            m.login(USERS[1], "secret")
            m.select("INBOX")
            on = True
            while not self.stop.is_set():
                m.uid("STORE", "1:*", "+FLAGS" if on else "-FLAGS", r"(\Flagged busy)")
                on = not on
                self.stores += 1
            m.logout()
        except Exception as e:  # noqa: BLE001
            self.errors.append(e)

    def wait(self, deliveries, stores, timeout=30):
        d0, s0 = len(self.acked), self.stores
        deadline = time.monotonic() + timeout
        while len(self.acked) < d0 + deliveries or self.stores < s0 + stores:
            assert not self.errors, self.errors
            assert time.monotonic() < deadline, "the load made no progress"
            time.sleep(0.01)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)
        assert not self.errors, self.errors


@pytest.fixture(scope="module")
def backup(live, tmp_path_factory):
    """A backup taken under load, its restored copy (not served) and what to compare."""
    before = {u: imap_state(live, u) for u in USERS}
    base = tmp_path_factory.mktemp("backup")
    dest = str(base / "monday")
    with Load(live) as load:
        load.wait(deliveries=5, stores=3)
        began = time.monotonic()
        r = live.run("backup", dest)
        load.wait(deliveries=3, stores=2)
    assert r.returncode == 0, r.stderr
    assert re.match(r"backup \S+: \d+ files, \d+ bytes \(\d+ linked", r.stdout), r.stdout
    restored = str(base / "restored")
    r = run_postamt(live.bin, "-d", restored, "restore", dest)
    assert r.returncode == 0, r.stderr
    assert "restored" in r.stdout
    return {"dest": dest, "restored": restored, "before": before, "began": began, "acked": list(load.acked),
            "base": base}


def test_restore_has_everything_acknowledged_before(live, backup):
    """Under load, every message acknowledged before the backup began is in the restored copy once, with the
    same bytes, UID and UIDVALIDITY; bk1's (not touched by the load) with the same flags and keywords."""
    r = run_postamt(live.bin, "-d", backup["restored"], "verify")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().endswith("OK")
    copy = serve_copy(live, backup["restored"])
    copy.start()
    try:
        after = {u: imap_state(copy, u) for u in USERS}
    finally:
        finish_server(copy)
    for user in USERS:
        for name, (uidvalidity, msgs) in backup["before"][user].items():
            assert name in after[user], "%s lost %s" % (user, name)
            new_validity, new_msgs = after[user][name]
            assert new_validity == uidvalidity, (user, name)
            for uid, (flags, body) in msgs.items():
                assert uid in new_msgs, "%s %s UID %d lost" % (user, name, uid)
                assert new_msgs[uid][1] == body, (user, name, uid)
                if user == USERS[0]:
                    assert new_msgs[uid][0] == flags, (user, name, uid)
    archive = after[USERS[0]][ARCHIVE][1]
    assert len(archive) == 4
    inbox = after[USERS[0]]["INBOX"][1]
    assert {b"\\Flagged", b"$Label1", b"Projekt", b"\\Seen"} <= inbox[3][0]
    # the load's messages: each acknowledged before the backup began is there exactly once
    bodies = [b for u in USERS for _, msgs in after[u].values() for _, b in msgs.values()]
    early = [(n, to) for t, n, to in backup["acked"] if t < backup["began"]]
    assert len(early) >= 5
    for n, to in early:
        tag = b"<bk-%d@example.test>" % n
        assert sum(1 for b in bodies if tag in b) == 1, "message %d: not once in the backup" % n
    # and nothing else is twice
    tags = [re.search(rb"<bk-\d+@example.test>", b).group(0) for _, b in after[USERS[1]]["INBOX"][1].values()]
    assert len(tags) == len(set(tags))


def test_backup_manifest_and_links(live, backup):
    """The manifest lists the database, every message file, keys, certificate and configuration with
    their SHA-256, ends with its end line; message files are hard links of the live ones."""
    with open(os.path.join(backup["dest"], "manifest")) as f:
        lines = f.read().splitlines()
    assert lines[0] == "postamt-backup 1"
    assert lines[-1] == "end %d" % sum(1 for l in lines if l.startswith("file "))
    paths = {l.split(" ", 3)[3] for l in lines if l.startswith("file ")}
    assert {"db/store.sqlite", "postamt.conf", "tls/cert.pem", "tls/key.pem"} <= paths
    assert any(p.startswith("dkim/example.test/") for p in paths)
    blobs = [p for p in paths if p.startswith("blobs/")]
    assert len(blobs) >= 40
    st_live = os.stat(os.path.join(live.dir, blobs[0]))
    st_bk = os.stat(os.path.join(backup["dest"], blobs[0]))
    assert st_live.st_ino == st_bk.st_ino
    assert not os.path.exists(backup["dest"] + ".incomplete")


def test_backup_since(live, backup):
    """--since PREVIOUS takes the files PREVIOUS has from it and the rest from DIR; it restores whole."""
    with smtplib.SMTP_SSL(live.host, live.port("submissions"), context=live.ssl_context()) as s:
        s.login(USERS[0], "secret")
        s.sendmail(USERS[0], [USERS[0]], message(9000, USERS[0]))
    dest = str(backup["base"] / "tuesday")
    r = live.run("backup", dest, "--since", backup["dest"])
    assert r.returncode == 0, r.stderr
    reused = int(re.search(r"(\d+) from --since", r.stdout).group(1))
    assert reused >= 40
    restored = str(backup["base"] / "tuesday-restored")
    r = run_postamt(live.bin, "-d", restored, "restore", dest)
    assert r.returncode == 0, r.stderr
    r = run_postamt(live.bin, "-d", restored, "verify")
    assert r.returncode == 0, r.stdout + r.stderr
    r = live.run("backup", str(backup["base"] / "x"), "--since", str(backup["base"] / "nothing"))
    assert r.returncode == 1 and "--since" in r.stderr


def test_refusals(live, backup, tmp_path):
    """An existing DEST, a DEST inside DIR, an existing or non-empty DIR for restore, verify of a running
    server's DIR: each is refused with a clear message and nothing is overwritten."""
    before = tree(backup["dest"])
    r = live.run("backup", backup["dest"])
    assert r.returncode == 1 and "exists" in r.stderr, r.stderr
    assert tree(backup["dest"]) == before
    empty = tmp_path / "empty"
    empty.mkdir()
    r = live.run("backup", str(empty))
    assert r.returncode == 1 and "exists" in r.stderr
    assert list(empty.iterdir()) == []
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine\n")
    for target, why in ((full, "not empty"), (empty, "exists")):
        r = run_postamt(live.bin, "-d", str(target), "restore", backup["dest"])
        assert r.returncode == 1 and why in r.stderr, r.stderr
    assert (full / "keep.txt").read_text() == "mine\n" and len(list(full.iterdir())) == 1
    assert list(empty.iterdir()) == []
    for inside in ("bk", "blobs/bk"):  # a backup inside DIR would copy itself
        r = live.run("backup", os.path.join(live.dir, inside))
        assert r.returncode == 1 and "is inside the data directory" in r.stderr, r.stderr
        assert not os.path.exists(os.path.join(live.dir, inside + ".incomplete"))
    r = live.run("verify")
    assert r.returncode == 1
    assert "in use by a running postamt serve (pid %d)" % live.pid in r.stderr
    r = run_postamt(live.bin, "-d", str(tmp_path / "new"), "restore", str(tmp_path))
    assert r.returncode == 1 and "no manifest" in r.stderr
    assert not os.path.exists(tmp_path / "new")


def test_verify_finds_and_repairs(live, backup):
    """verify finds a truncated and a missing message file, a wrong counter and an orphan file, one line each,
    exit 1; --repair recounts and moves the orphan to lost+found, says so, and leaves the damaged files
    reported."""
    d = backup["restored"]
    db = os.path.join(d, "db", "store.sqlite")
    c = sqlite3.connect(db)
    rows = c.execute("SELECT e.blob, e.size FROM emails e ORDER BY e.id").fetchall()
    c.execute("UPDATE mailboxes SET messages = messages + 3 WHERE name = 'INBOX' AND account_id ="
              " (SELECT a.id FROM accounts a WHERE a.address = ?)", (USERS[0],))
    c.commit()
    c.close()
    def blob_path(name):
        return os.path.join(d, "blobs", name[:2], name[2:])

    truncated, missing = blob_path(rows[0][0]), blob_path(rows[1][0])
    with open(truncated, "r+b") as f:  # a copy of its own: the live server's link stays whole
        data = f.read()
    os.unlink(truncated)
    with open(truncated, "wb") as f:
        f.write(data[:10])
    os.unlink(missing)
    orphan = os.path.join(os.path.dirname(truncated), "0123456789abcdef0123456789abcd")
    with open(orphan, "wb") as f:
        f.write(b"not referenced\r\n")
    r = run_postamt(live.bin, "-d", d, "verify")
    assert r.returncode == 1
    out = r.stdout
    assert "has 10 bytes, the database says %d" % rows[0][1] in out, out
    assert "missing message file blobs/%s/%s" % (rows[1][0][:2], rows[1][0][2:]) in out, out
    assert re.search(r"mailbox %s INBOX: messages counter is \d+, the messages add up to \d+" % USERS[0], out)
    assert "orphan file" in out and os.path.basename(orphan) in out
    assert "--repair" in r.stderr
    r = run_postamt(live.bin, "-d", d, "verify", "--repair")
    assert r.returncode == 1, r.stdout + r.stderr  # the damaged files remain
    assert "lost+found" in r.stdout
    orphan_name = os.path.basename(os.path.dirname(orphan)) + os.path.basename(orphan)
    assert os.path.exists(os.path.join(d, "lost+found", orphan_name))
    assert not os.path.exists(orphan)
    r = run_postamt(live.bin, "-d", d, "verify")
    assert r.returncode == 1
    assert "counter" not in r.stdout and "orphan" not in r.stdout, r.stdout
    assert "missing message file" in r.stdout and "has 10 bytes" in r.stdout


def stopped_at(binary, where, *args):
    env = dict(os.environ, POSTAMT_TEST_STOP=where)
    env.pop("POSTAMT_DATA", None)
    p = subprocess.Popen([binary, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_stopped(p.pid)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=10)
    assert p.returncode == -signal.SIGKILL
    return p


def test_kill_during_backup_and_restore(live, backup, tmp_path):
    """kill -9 in the middle of a backup leaves DEST.incomplete, which restore refuses, and the source
    serving; in the middle of a restore, DIR.incomplete without a configuration, which serve and verify
    refuse, and the backup intact."""
    dest = str(tmp_path / "killed")
    stopped_at(live.bin, "backup", "-d", live.dir, "backup", dest)
    assert not os.path.exists(dest)
    assert os.path.isdir(dest + ".incomplete")
    for src in (dest, dest + ".incomplete"):
        r = run_postamt(live.bin, "-d", str(tmp_path / "r1"), "restore", src)
        assert r.returncode == 1 and "incomplete" in r.stderr, r.stderr
        assert not os.path.exists(tmp_path / "r1")
    r = live.run("backup", dest)
    assert r.returncode == 1 and "incomplete" in r.stderr  # an earlier attempt's leftovers are not mixed in
    r = live.run("verify")
    assert r.returncode == 1 and "running" in r.stderr  # still the live server's, still serving
    assert len(imap_state(live, USERS[0])["INBOX"][1]) >= 20

    before = tree(backup["dest"])
    target = str(tmp_path / "r2")
    stopped_at(live.bin, "restore", "-d", target, "restore", backup["dest"])
    assert not os.path.exists(target)
    assert os.path.isdir(target + ".incomplete")
    assert not os.path.exists(os.path.join(target + ".incomplete", "postamt.conf"))
    for cmd in (["verify"], ["serve"]):
        r = run_postamt(live.bin, "-d", target + ".incomplete", *cmd, timeout=20)
        assert r.returncode != 0
    r = run_postamt(live.bin, "-d", target, "restore", backup["dest"])
    assert r.returncode == 1 and "interrupted restore" in r.stderr
    assert tree(backup["dest"]) == before


def test_restore_checks_the_manifest(live, tmp_path):
    """A backup whose message file was changed (same size), cut short or removed is refused by restore,
    which names the file and leaves no DIR behind."""
    dest = str(tmp_path / "bk")
    r = live.run("backup", dest)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(dest, "manifest")) as f:
        blobs = [l.split(" ", 3)[3] for l in f.read().splitlines() if l.startswith("file ") and " blobs/" in l]
    for rel, damage, why in ((blobs[0], "flip", "is damaged"), (blobs[1], "cut", "bytes, the manifest says"),
                             (blobs[2], "remove", "missing")):
        path = os.path.join(dest, rel)
        with open(path, "rb") as f:
            data = f.read()
        os.unlink(path)  # the backup's link only: the live server's file stays as it was
        if damage != "remove":
            with open(path, "wb") as f:
                f.write(data[:-1] + bytes([data[-1] ^ 1]) if damage == "flip" else data[:-5])
        target = str(tmp_path / ("r-" + damage))
        r = run_postamt(live.bin, "-d", target, "restore", dest)
        assert r.returncode == 1 and rel in r.stderr and why in r.stderr, r.stderr
        assert "nothing was restored" in r.stderr
        assert not os.path.exists(target) and not os.path.exists(target + ".incomplete")
        with open(path, "wb") as f:  # mended for the next case
            f.write(data)


def test_files_expunged_during_backup(live, tmp_path):
    """Messages expunged between the copy of the database and the link of their files make the backup start
    again with a new copy; the result has neither their rows nor their files, and restores and verifies."""
    user = "bk3@example.test"
    live.add_user(user)
    with smtplib.SMTP_SSL(live.host, live.port("submissions"), context=live.ssl_context()) as s:
        s.login(user, "secret")
        for i in range(7000, 7005):
            s.sendmail(user, [user], message(i, user))
    dest = str(tmp_path / "bk")
    env = dict(os.environ, POSTAMT_TEST_STOP="backup")
    env.pop("POSTAMT_DATA", None)
    p = subprocess.Popen([live.bin, "-d", live.dir, "backup", dest], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    wait_stopped(p.pid)  # the database is copied, one file linked: expunge all five now
    m = imaplib.IMAP4(live.host, live.port("imap"))
    m.login(user, "secret")
    m.select("INBOX")
    m.uid("STORE", "1:*", "+FLAGS.SILENT", r"(\Deleted)")
    m.expunge()
    m.logout()
    while p.poll() is None:  # every pass stops once at its first file
        p.send_signal(signal.SIGCONT)
        try:
            p.wait(0.2)
        except subprocess.TimeoutExpired:
            pass
    out, err = p.communicate()
    assert p.returncode == 0, err
    assert re.search(r"[1-5] message files were expunged while the backup ran; starting again", err), err
    with open(os.path.join(dest, "manifest")) as f:
        assert "count accounts 3\n" in f.read()
    restored = str(tmp_path / "restored")
    r = run_postamt(live.bin, "-d", restored, "restore", dest)
    assert r.returncode == 0, r.stderr
    r = run_postamt(live.bin, "-d", restored, "verify")
    assert r.returncode == 0, r.stdout + r.stderr
    db = sqlite3.connect(os.path.join(restored, "db", "store.sqlite"))
    n = db.execute("SELECT COUNT(*) FROM messages m JOIN accounts a ON a.id = m.account_id"
                   " WHERE a.address = ?", (user,)).fetchone()[0]
    db.close()
    assert n == 0
