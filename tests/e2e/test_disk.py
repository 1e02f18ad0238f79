"""A full disk (review finding 10): users can still open their mailbox and delete
mail to free space, and new mail is refused temporarily before the disk fills.

- On a real full file system (a tmpfs the test mounts, so root only; the server
  still runs as its unprivileged user): SMTP gets 452 4.3.1, IMAP SELECT opens the
  mailbox (claiming \\Recent is a write that fails), STORE \\Deleted + EXPUNGE, POP3
  DELE + QUIT and JMAP Email/set destroy work (the store gives up its reserve file
  DIR/db/reserve and runs the deletion again), and once space is free the reserve
  comes back and mail is accepted again.
- limits.disk_reserve (any user; set huge with a SIGHUP reload): SMTP MAIL FROM gets
  452 4.3.1, IMAP APPEND NO [OVERQUOTA], a JMAP upload 507 and Email/import
  overQuota, while deletions still work; and on a tmpfs the check at the end of DATA
  refuses a message that would take the free space under the reserve.
- Under a file-size limit (RLIMIT_FSIZE) a message that crosses it gets 452 instead
  of SIGXFSZ killing the server."""

import errno
import imaplib
import json
import os
import poplib
import smtplib
import subprocess
import time

import pytest

from conftest import Server, e2e_tmpdir, finish_server, free_offset, init_datadir
import helpers

USER, PW = "dora@example.test", "dora-secret-1"
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]
MIB = 1024 * 1024


def message(subject, size):
    head = "From: Sender <sender@remote.test>\r\nTo: %s\r\nSubject: %s\r\n\r\n" % (USER, subject)
    line = "x" * 76 + "\r\n"
    return (head + line * max(1, size // len(line))).encode()


def smtp_send(srv, subject, size=2000, mail_options=()):
    """Sends one message on port 25; returns (code, text) of the first refusal or of
    the end of data."""
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=60) as s:
        s.ehlo("client.remote.test")
        code, text = s.mail("sender@remote.test", list(mail_options))
        if code != 250:
            return code, text.decode()
        code, text = s.rcpt(USER)
        if code != 250:
            return code, text.decode()
        code, text = s.data(message(subject, size))
        return code, text.decode()


def imap(srv):
    m = imaplib.IMAP4(srv.host, srv.port("imap"), timeout=30)
    m.login(USER, PW)
    return m


def inbox_count(srv):
    m = imap(srv)
    typ, data = m.status("INBOX", "(MESSAGES)")
    m.logout()
    assert typ == "OK", data
    return int(data[0].decode().split("MESSAGES")[1].strip(" )"))


class Jmap(helpers.Jmap):
    """JMAP over HTTP Basic as USER (no webmail session is written anywhere)."""

    def __init__(self, srv):
        super().__init__(srv, USER, PW, timeout=30, using=USING)

    def inbox(self):
        return self.mailbox("inbox")

    def email_ids(self):
        return self.call("Email/query", {"filter": {"inMailbox": self.inbox()}})["ids"]


# ---------------------------------------------------------------- a real full disk


def fill(path):
    """Writes zeros to path until the file system has no byte left."""
    with open(path, "ab", buffering=0) as f:
        for size in (MIB, 64 * 1024, 4096, 512, 1):
            chunk = b"\0" * size
            while True:
                try:
                    if f.write(chunk) == 0:
                        break
                except OSError as e:
                    assert e.errno == errno.ENOSPC, e
                    break
    st = os.statvfs(os.path.dirname(path))
    assert st.f_bavail == 0, "the disk is not full: %d blocks free" % st.f_bavail


def wait_for(cond, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.1)


@pytest.fixture
def tmpfs_server(postamt_bin):
    """Factory: a server whose DIR lives on a new tmpfs of size_mb MiB, with USER and
    `count` messages of about 1 MiB delivered. Unmounted after the test. The default
    size leaves more than the default limits.disk_reserve (256 MiB) free, so that
    these tests run with the default configuration (and against older binaries)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    made, mounts = [], []

    def factory(config=(), size_mb=320, count=4):
        parent = e2e_tmpdir("disk")
        mnt = os.path.join(parent, "mnt")
        os.mkdir(mnt)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm,mode=0755" % size_mb, "tmpfs", mnt],
                           capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip("cannot mount a tmpfs: %s" % r.stderr.strip())
        mounts.append(mnt)
        offset = free_offset()
        srv = Server(postamt_bin, init_datadir(postamt_bin, mnt, offset), offset, parent)
        srv.mnt = mnt
        srv.reserve = os.path.join(srv.dir, "db", "reserve")
        # the 1 MiB test messages stay out of the full-text index: their index entries
        # would leave the database's write-ahead log with enough slack for the small
        # writes of a deletion, which then would not need the reserve these tests prove
        srv.add_config(["search.index_text_max = 1K"] + list(config))
        srv.add_user(USER, PW)
        made.append(srv)
        srv.start()
        for i in range(count):
            code, text = smtp_send(srv, "big %d" % i, MIB)
            assert code == 250, (code, text)
        return srv

    yield factory
    try:
        for srv in made:
            finish_server(srv)
    finally:
        for srv in made:
            srv.kill()
        for mnt in mounts:
            subprocess.run(["umount", "-l", mnt])


def test_full_disk_select_store_expunge(tmpfs_server):
    srv = tmpfs_server()
    reserve_made = os.path.exists(srv.reserve) and os.path.getsize(srv.reserve) == 8 * MIB
    fill(os.path.join(srv.mnt, "filler"))
    m = imaplib.IMAP4(srv.host, srv.port("imap"), timeout=30)
    m.login(USER, PW)
    typ, data = m.select("INBOX")  # claims \Recent: a write that cannot be made
    assert typ == "OK", data
    assert int(data[0]) == 4
    assert "READ-ONLY" not in m.untagged_responses  # (imaplib raises on it too)
    assert srv.wait_log(r"event=select_recent_failed"), "the failed \\Recent claim is not logged"
    assert reserve_made, "no 8 MiB reserve file made at start"
    # new mail: a temporary refusal (free space is below limits.disk_reserve)
    code, text = smtp_send(srv, "while full", 20000)
    assert code == 452 and "4.3.1" in text, (code, text)
    typ, data = m.store("1:2", "+FLAGS", "(\\Deleted)")
    assert typ == "OK", data
    assert not os.path.exists(srv.reserve), "the reserve was not used"
    assert srv.wait_log(r"event=store_disk_full action=reserve_released")
    typ, data = m.expunge()
    assert typ == "OK", data
    assert len([x for x in data if x]) == 2, data
    m.logout()
    assert inbox_count(srv) == 2


def test_full_disk_pop3_dele_and_recovery(tmpfs_server):
    srv = tmpfs_server()
    fill(os.path.join(srv.mnt, "filler"))
    p = poplib.POP3(srv.host, srv.port("pop3"), timeout=30)
    p.user(USER)
    p.pass_(PW)
    assert p.stat()[0] == 4
    p.dele(1)
    p.dele(2)
    assert p.quit().startswith(b"+OK")
    assert not os.path.exists(srv.reserve), "the reserve was not used"
    assert inbox_count(srv) == 2
    # space is back: the reserve is made again and new mail is accepted
    os.unlink(os.path.join(srv.mnt, "filler"))
    wait_for(lambda: os.path.exists(srv.reserve), what="the reserve file to come back")
    assert os.path.getsize(srv.reserve) == 8 * MIB
    code, text = smtp_send(srv, "after", 20000)
    assert code == 250, (code, text)
    assert inbox_count(srv) == 3


def test_full_disk_jmap_destroy(tmpfs_server):
    srv = tmpfs_server()
    cl = Jmap(srv)
    ids = cl.email_ids()
    assert len(ids) == 4
    fill(os.path.join(srv.mnt, "filler"))
    before = os.statvfs(srv.mnt).f_bavail
    r = cl.call("Email/set", {"destroy": ids[:2]})
    assert sorted(r.get("destroyed") or []) == sorted(ids[:2]), r
    assert not os.path.exists(srv.reserve), "the reserve was not used"
    # the expunged messages' files are gone too: more than the reserve is free now
    assert (os.statvfs(srv.mnt).f_bavail - before) * os.statvfs(srv.mnt).f_frsize > 9 * MIB
    assert len(cl.email_ids()) == 2


# ---------------------------------------------------------------- limits.disk_reserve


def reload_with(srv, line):
    srv.add_config(line)
    since = srv.log_size()
    srv.send_signal(1)  # SIGHUP
    assert srv.wait_log(r"event=reloaded", since=since), srv.log_tail()


def test_disk_reserve_refuses_new_mail_not_deletions(make_server):
    srv = make_server(users=[(USER, PW)])
    for i in range(3):
        assert smtp_send(srv, "kept %d" % i)[0] == 250
    cl = Jmap(srv)
    st, body = cl.upload(message("to import", 1000))
    assert st == 201, body
    blob = json.loads(body)["blobId"]
    reload_with(srv, "limits.disk_reserve = 1000000G")  # more than any disk here has free
    # SMTP: at MAIL FROM, before any data is sent
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=30) as s:
        s.ehlo("client.remote.test")
        code, text = s.mail("sender@remote.test")
        assert code == 452 and text.startswith(b"4.3.1"), (code, text)
    # IMAP APPEND
    m = imap(srv)
    typ, data = m.append("INBOX", None, None, message("appended", 500))
    assert typ == "NO" and b"[OVERQUOTA]" in data[0] and b"disk" in data[0], (typ, data)
    # JMAP upload and import
    st, body = cl.upload(message("uploaded", 500))
    assert st == 507, (st, body)
    r = cl.call("Email/import", {"emails": {"k1": {"blobId": blob, "mailboxIds": {cl.inbox(): True}}}})
    assert r["notCreated"]["k1"]["type"] == "overQuota", r
    # deletions are never refused: IMAP, POP3, JMAP
    typ, data = m.select("INBOX")
    assert typ == "OK" and int(data[0]) == 3
    typ, data = m.store("1", "+FLAGS", "(\\Deleted)")
    assert typ == "OK", data
    typ, data = m.expunge()
    assert typ == "OK" and data[0] == b"1", data
    m.logout()
    p = poplib.POP3(srv.host, srv.port("pop3"), timeout=30)
    p.user(USER)
    p.pass_(PW)
    p.dele(1)
    assert p.quit().startswith(b"+OK")
    ids = cl.email_ids()
    assert len(ids) == 1
    r = cl.call("Email/set", {"destroy": ids})
    assert r.get("destroyed") == ids, r
    # 0 turns the check off again
    reload_with(srv, "limits.disk_reserve = 0")
    assert smtp_send(srv, "accepted again")[0] == 250


def test_disk_reserve_at_end_of_data(tmpfs_server):
    """64 MiB with 40 MiB reserved: a 25 MiB message passes MAIL FROM without SIZE
    but is refused after its data; with SIZE it is refused at MAIL FROM; small mail
    still gets through."""
    srv = tmpfs_server(["limits.disk_reserve = 40M"], size_mb=64, count=0)
    code, text = smtp_send(srv, "too big for the room left", 25 * MIB)
    assert code == 452 and "4.3.1" in text, (code, text)
    code, text = smtp_send(srv, "declared", 1000, mail_options=["SIZE=%d" % (25 * MIB)])
    assert code == 452 and "4.3.1" in text, (code, text)
    code, text = smtp_send(srv, "small", 1000)
    assert code == 250, (code, text)
    assert inbox_count(srv) == 1


# ---------------------------------------------------------------- RLIMIT_FSIZE


def test_file_size_limit_is_a_full_disk_not_a_crash(make_server):
    """With a 12 MiB file-size limit, writing a 14 MiB message file fails with EFBIG:
    the server must ignore SIGXFSZ and answer 452 (default configuration)."""
    srv = make_server(users=[(USER, PW)], start=False)
    wrapper = os.path.join(os.path.dirname(srv.dir), "postamt-fsize")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec prlimit --fsize=%d %s \"$@\"\n" % (12 * MIB, srv.bin))
    os.chmod(wrapper, 0o755)
    srv.bin = wrapper
    srv.start()
    code, text = smtp_send(srv, "over the file size limit", 14 * MIB)
    assert code == 452 and "4.3.1" in text, (code, text)
    assert srv.running()
    assert smtp_send(srv, "small", 1000)[0] == 250
    assert inbox_count(srv) == 1
