"""`postamt import` from Maildir trees and mbox files, and `postamt export`
(DESIGN.md §1 "Backup, restore, import, export"; docs/import.md).

The sources are made here with Python's `mailbox` module (Maildir++ as Dovecot and
Courier write it, a Dovecot `dovecot-keywords` file) or written byte for byte (mbox
variants); the result is read back over IMAP with imaplib, and the exports with
`mailbox` again. One server serves the whole file; each test has its own users.
"""

import email.utils
import imaplib
import mailbox
import os
import pty
import re
import signal
import subprocess
import time

import pytest

from conftest import e2e_tmpdir, finish_server, new_server
from helpers import mailbox as stored, new_user, user_stats


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin)
    yield s
    finish_server(s)


def imap(srv, user):
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    m.login(user, "secret")
    return m


def folder_list(srv, user):
    """{name: set of attributes} of the account's mailboxes (names as the server sends them)."""
    m = imap(srv, user)
    try:
        _, data = m.list()
    finally:
        m.logout()
    out = {}
    for line in data:
        mm = re.match(rb'\((.*?)\) (?:"."|NIL) (.*)$', line)
        name = mm.group(2).decode()
        out[name.strip('"')] = set(mm.group(1).decode().split())
    return out


def fetch_meta(srv, user, folder):
    """[(flags set, internaldate unix seconds, raw message)] of a folder, in UID order."""
    m = imap(srv, user)
    try:
        typ, _ = m.select('"%s"' % folder, readonly=True)
        assert typ == "OK", folder
        _, data = m.uid("SEARCH", None, "ALL")
        out = []
        for uid in data[0].split():
            _, parts = m.uid("FETCH", uid, "(FLAGS INTERNALDATE BODY.PEEK[])")
            head = parts[0][0]
            flags = set(re.search(rb"FLAGS \((.*?)\)", head).group(1).decode().split()) - {"\\Recent"}
            when = imaplib.Internaldate2tuple(head)
            out.append((flags, int(time.mktime(when)), parts[0][1]))
        return out
    finally:
        m.logout()


def run_import(srv, *args, input=None):
    r = srv.run("import", *args, input=input, timeout=120)
    # an ASan/UBSan build reports on stderr; commands expected to fail would hide it
    assert "Sanitizer" not in r.stderr and "runtime error:" not in r.stderr, r.stderr
    return r


def crlf(b):
    return b.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


# ------------------------------------------------------------------ Maildir

def test_maildir_tree_folders_flags_keywords_dates_and_second_run(srv):
    user = new_user(srv, "md")
    root = os.path.join(e2e_tmpdir("maildir"), "Maildir")
    md = mailbox.Maildir(root, create=True)
    with open(os.path.join(root, "dovecot-keywords"), "w") as f:
        f.write("0 $Forwarded\n1 projekt\n2 bad keyword\n")
    inbox_msgs = []
    for i, (flags, date) in enumerate([("S", 1600000000), ("FRab", 1500000000), ("", 1400000000)]):
        raw = b"From: a@example.org\nSubject: inbox %d\nMessage-ID: <in%d@example.org>\n\nbody %d\n" % (i, i, i)
        msg = mailbox.MaildirMessage(raw)
        msg.set_flags(flags)
        if flags:
            msg.set_subdir("cur")
        key = md.add(msg)
        os.utime(os.path.join(root, md._lookup(key)), (date, date))
        inbox_msgs.append(raw)
    # Maildir++ sub-folders: a German special-use name, a nested non-ASCII folder (mUTF-7)
    sent = md.add_folder("Gesendet")
    sent.add(mailbox.MaildirMessage(b"Subject: sent\n\nsent body\n"))
    nested = md.add_folder("Projekte.Gr&APw-n")  # Projekte/Grün
    nested.add(b"Subject: green\n\ngreen\n")
    bin_ = md.add_folder("Papierkorb")
    bin_.add(b"Subject: deleted\n\nx\n")
    with open(os.path.join(root, "new", "junkfile:2,S,bogus"), "wb") as f:
        f.write(b"Subject: odd name\n\nstill a message\n")

    r = run_import(srv, user, root)
    assert r.returncode == 0, r.stderr
    assert re.search(r"imported 7 messages .* into 4 folders", r.stdout), r.stdout

    folders = folder_list(srv, user)
    assert "Projekte/Gr&APw-n" in folders, folders
    assert "\\Sent" in folders["Sent"] and "Gesendet" not in folders
    assert "\\Trash" in folders["Trash"] and "Papierkorb" not in folders

    got = fetch_meta(srv, user, "INBOX")
    assert [g[2] for g in got[:3]] == [crlf(m) for m in inbox_msgs]
    assert got[0][0] == {"\\Seen"} and got[0][1] == 1600000000
    # a: $Forwarded, b: projekt (the keyword with a space is not valid and dropped)
    assert got[1][0] == {"\\Flagged", "\\Answered", "$Forwarded", "projekt"}, got[1][0]
    assert got[1][1] == 1500000000
    assert got[2][0] == set() and got[2][1] == 1400000000
    assert got[3][2] == b"Subject: odd name\r\n\r\nstill a message\r\n"
    assert [g[2] for g in fetch_meta(srv, user, "Sent")] == [b"Subject: sent\r\n\r\nsent body\r\n"]
    assert len(fetch_meta(srv, user, "Projekte/Gr&APw-n")) == 1

    # a second run adds nothing; one new message is all a third run adds
    r = run_import(srv, user, root)
    assert r.returncode == 0, r.stderr
    assert re.search(r"imported 0 messages .* 7 already there", r.stdout), r.stdout
    md.add(b"Subject: later\n\nnew\n")
    r = run_import(srv, user, root)
    assert r.returncode == 0, r.stderr
    assert re.search(r"imported 1 messages .* 7 already there", r.stdout), r.stdout
    assert len(stored(srv, user)) == 5


def test_maildir_fs_layout_and_bad_messages(srv):
    """Sub/Folder directories (Dovecot's LAYOUT=fs), a NUL in a message (left out with
    a report line, exit status 1) and bare LF stored as CRLF."""
    user = new_user(srv, "fs")
    root = e2e_tmpdir("fslayout")
    for d in ("", "Work", "Work/2025"):
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(root, d, sub), exist_ok=True)
    with open(os.path.join(root, "Work/2025/cur/1.a.host:2,S"), "wb") as f:
        f.write(b"Subject: deep\n\nlf only\n")
    with open(os.path.join(root, "new/2.b.host"), "wb") as f:
        f.write(b"Subject: nul\n\nbad\x00byte\n")
    with open(os.path.join(root, "new/3.c.host"), "wb") as f:
        f.write(b"Subject: good\r\n\r\nfine\r\n")
    r = run_import(srv, user, root)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert re.search(r"2\.b\.host.*NUL", r.stderr), r.stderr
    assert re.search(r"imported 2 messages .* 1 left out", r.stdout), r.stdout
    assert stored(srv, user) == [b"Subject: good\r\n\r\nfine\r\n"]
    got = fetch_meta(srv, user, "Work/2025")
    assert got == [({"\\Seen"}, got[0][1], b"Subject: deep\r\n\r\nlf only\r\n")]


# ------------------------------------------------------------------ mbox

MBOXRD = (b"From alice@example.org Tue Dec  1 10:00:00 2026\n"
          b"Subject: one\nStatus: RO\nX-Status: AF\nX-Keywords: projekt\n\n"
          b">From the start\n>>From twice\nFrom-not-escaped\n\n"
          b"From bob@example.org Wed Dec  2 11:30:00 2026\n"
          b"Subject: two\n\nno final newline")


def test_mbox_into_folder_unescaped_with_status_flags(srv):
    user = new_user(srv, "mb")
    path = os.path.join(e2e_tmpdir("mbox"), "archive.mbox")
    with open(path, "wb") as f:
        f.write(MBOXRD)
    r = run_import(srv, user, path, "--folder", "Alt/2026")
    assert r.returncode == 0, r.stderr
    got = fetch_meta(srv, user, "Alt/2026")
    assert [g[2] for g in got] == [
        b"Subject: one\r\nStatus: RO\r\nX-Status: AF\r\nX-Keywords: projekt\r\n\r\n"
        b"From the start\r\n>From twice\r\nFrom-not-escaped\r\n",
        b"Subject: two\r\n\r\nno final newline\r\n"]
    assert got[0][0] == {"\\Seen", "\\Answered", "\\Flagged", "projekt"}, got[0][0]
    assert got[0][1] == 1796119200  # the From line's date
    assert got[1][0] == set() and got[1][1] == 1796211000
    assert stored(srv, user) == []  # INBOX untouched
    # again: nothing new
    r = run_import(srv, user, path, "--folder", "Alt/2026")
    assert r.returncode == 0 and re.search(r"imported 0 messages .* 2 already there", r.stdout), r.stdout


def test_mbox_default_inbox_and_refusals(srv):
    user = new_user(srv, "mb")
    d = e2e_tmpdir("mbox")
    path = os.path.join(d, "inbox")
    with open(path, "wb") as f:
        f.write(b"From x Thu Jan  1 00:00:00 2026\r\nSubject: crlf\r\n\r\nok\r\n")
    r = run_import(srv, user, path)
    assert r.returncode == 0, r.stderr
    assert stored(srv, user) == [b"Subject: crlf\r\n\r\nok\r\n"]
    notmbox = os.path.join(d, "notes.txt")
    with open(notmbox, "wb") as f:
        f.write(b"just some text\n")
    r = run_import(srv, user, notmbox)
    assert r.returncode != 0 and "mbox" in r.stderr, r.stderr
    r = run_import(srv, "nobody@example.test", path)
    assert r.returncode != 0 and "no such user" in r.stderr, r.stderr
    r = run_import(srv, user, os.path.join(d, "missing"))
    assert r.returncode != 0 and "missing" in r.stderr, r.stderr
    assert len(stored(srv, user)) == 1


# ------------------------------------------------------------------ quota, IDLE

def test_over_quota_stops_before_the_folder(srv):
    user = new_user(srv, "q", quota="2K")
    root = os.path.join(e2e_tmpdir("quota"), "Maildir")
    md = mailbox.Maildir(root, create=True)
    md.add(b"Subject: small\n\nfits\n")
    big = md.add_folder("Big")
    for i in range(3):
        big.add(b"Subject: big %d\n\n%s\n" % (i, b"x" * 700))
    r = run_import(srv, user, root)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert re.search(r'over quota: folder "Big" needs .*nothing of it was imported', r.stderr), r.stderr
    assert "stopped early" in r.stdout
    assert len(stored(srv, user)) == 1
    assert stored(srv, user, "Big") == []
    r = srv.run("user", "quota", user, "1M")
    assert r.returncode == 0, r.stderr
    r = run_import(srv, user, root)
    assert r.returncode == 0, r.stderr
    assert re.search(r"imported 3 messages .* 1 already there", r.stdout), r.stdout
    assert len(stored(srv, user, "Big")) == 3


def test_idle_client_sees_imported_mail(srv):
    user = new_user(srv, "idle")
    c = srv.connect("imap")
    try:
        c.readline()
        c.sendline("a LOGIN %s secret" % user)
        assert c.read_imap_tagged("a")[1].startswith("a OK")
        c.sendline("s SELECT INBOX")
        assert c.read_imap_tagged("s")[1].startswith("s OK")
        c.sendline("i IDLE")
        assert c.readline().startswith("+ ")
        path = os.path.join(e2e_tmpdir("idle"), "mbox")
        with open(path, "wb") as f:
            f.write(b"From x Thu Jan  1 00:00:00 2026\nSubject: a\n\n1\n\n"
                    b"From x Thu Jan  1 00:00:00 2026\nSubject: b\n\n2\n")
        r = run_import(srv, user, path)
        assert r.returncode == 0, r.stderr
        line = c.readline(timeout=5)
        while "RECENT" in line:
            line = c.readline(timeout=5)
        assert re.match(r"\* 2 EXISTS", line), line
        c.sendline("DONE")
        assert c.read_imap_tagged("i")[1].startswith("i OK")
    finally:
        c.close()


# ------------------------------------------------------------------ export

def test_export_maildir_and_mbox_read_back(srv):
    user = new_user(srv, "ex")
    root = os.path.join(e2e_tmpdir("exsrc"), "Maildir")
    md = mailbox.Maildir(root, create=True)
    with open(os.path.join(root, "dovecot-keywords"), "w") as f:
        f.write("0 projekt\n")
    m = mailbox.MaildirMessage(b"Subject: a\n\nA\n")
    m.set_flags("FSa")
    m.set_subdir("cur")
    md.add(m)
    sent = md.add_folder("Sent")
    m = mailbox.MaildirMessage(b"Subject: s\n\nFrom here\n")
    m.set_flags("RS")
    m.set_subdir("cur")
    sent.add(m)
    md.add_folder("Reisen.K&APY-ln").add(b"Subject: k\n\nkoeln\n")
    r = run_import(srv, user, root)
    assert r.returncode == 0, r.stderr

    dest = os.path.join(e2e_tmpdir("export"), "out")
    r = srv.run("export", user, dest)
    assert r.returncode == 0, r.stderr
    out = mailbox.Maildir(dest, create=False)
    assert {"Sent", "Reisen.K&APY-ln"} <= set(out.list_folders()), out.list_folders()
    msgs = list(out)
    assert len(msgs) == 1
    assert msgs[0].get_flags() == "FSa" and msgs[0]["Subject"] == "a"
    assert msgs[0].get_subdir() == "cur"
    with open(os.path.join(dest, "dovecot-keywords")) as f:
        assert f.read().split("\n")[0] == "0 projekt"
    s = list(out.get_folder("Sent"))
    assert [(x.get_flags(), x.get_payload()) for x in s] == [("RS", "From here\n")]
    assert [x.get_payload() for x in out.get_folder("Reisen.K&APY-ln")] == ["koeln\n"]
    # an existing destination is refused, nothing overwritten
    r = srv.run("export", user, dest)
    assert r.returncode != 0 and "exists" in r.stderr, r.stderr

    mb = os.path.join(e2e_tmpdir("export"), "sent.mbox")
    r = srv.run("export", user, mb, "--mbox", "--folder", "Sent")
    assert r.returncode == 0, r.stderr
    box = list(mailbox.mbox(mb, create=False))
    assert len(box) == 1 and box[0]["Subject"] == "s"
    assert box[0].get_payload() == ">From here\n"  # escaped (Python's reader leaves it so)
    assert "R" in box[0].get_flags() and "A" in box[0].get_flags()
    other = new_user(srv, "ex")
    r = run_import(srv, other, mb)
    assert r.returncode == 0, r.stderr
    # round trip: the mbox imports back with the flags; its Status fields stay in the bytes
    got = fetch_meta(srv, other, "INBOX")
    assert [(g[0], g[2]) for g in got] == [({"\\Seen", "\\Answered"},
                                            b"Status: RO\r\nX-Status: A\r\n" + stored(srv, user, "Sent")[0])]


# ------------------------------------------------------------------ kill -9, progress bar

def test_kill_9_then_resume_without_duplicates_or_gaps(srv):
    user = new_user(srv, "kill")
    n = 1500
    path = os.path.join(e2e_tmpdir("kill"), "big.mbox")
    with open(path, "wb") as f:
        for i in range(n):
            f.write(b"From x Thu Jan  1 00:00:00 2026\nSubject: m%d\nMessage-ID: <k%d@x>\n\n%s\n\n"
                    % (i, i, b"y" * 1000))
    proc = subprocess.Popen([srv.bin, "-d", srv.dir, "import", user, path, "--folder", "Big"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while user_stats(srv, user)["messages"] == 0 and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    first = user_stats(srv, user)["messages"]
    assert 0 < first < n, first  # killed in the middle: some batches committed, not all
    r = run_import(srv, user, path, "--folder", "Big")
    assert r.returncode == 0, r.stderr
    m = re.search(r"imported (\d+) messages .* (\d+) already there", r.stdout)
    assert m and int(m.group(1)) + int(m.group(2)) == n, r.stdout
    assert int(m.group(2)) == first, (first, r.stdout)
    subjects = set()
    c = imap(srv, user)
    try:
        c.select("Big", readonly=True)
        _, data = c.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        for part in data:
            if isinstance(part, tuple):
                subjects.add(part[1].strip())
    finally:
        c.logout()
    assert len(subjects) == n and user_stats(srv, user)["messages"] == n
    print("killed after %d of %d messages" % (first, n))


def test_progress_bar_on_a_terminal_only(srv):
    user = new_user(srv, "tty")
    path = os.path.join(e2e_tmpdir("tty"), "m.mbox")
    with open(path, "wb") as f:
        f.write(b"From x Thu Jan  1 00:00:00 2026\nSubject: a\n\n1\n")
    master, slave = pty.openpty()
    try:
        p = subprocess.run([srv.bin, "-d", srv.dir, "import", user, path], stdout=slave,
                           stderr=subprocess.PIPE, timeout=60)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
    assert p.returncode == 0, p.stderr
    assert re.search(rb"\r\[#+\] 1/1 msgs .* msg/s ETA \d+:\d\d", out), out
    assert b"imported 1 messages" in out
    r = run_import(srv, user, path)  # a pipe: the summary only
    assert "[" not in r.stdout and "ETA" not in r.stdout, r.stdout
