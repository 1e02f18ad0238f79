"""Schema upgrades (docs/operations.md "Upgrading"): tests/fixtures/schema1.tar.gz is a data directory written by
the release before numbered migrations (schema 1; tests/fixtures/make_schema1.py). `postamt upgrade --dry-run`
says what would change and changes nothing; `postamt upgrade` and `postamt serve` migrate it forward after an
automatic copy of the database; the result verifies and serves the fixture's mail with its flags. A database
newer than the binary is refused by serve, verify and upgrade alike."""
import hashlib
import imaplib
import os
import pwd
import re
import shutil
import sqlite3
import tarfile

from conftest import Server, e2e_tmpdir, finish_server, free_offset, quiet_dns_server
from helpers import serve_fails

SCHEMA = 3  # this postamt's (src/store/store_backup.h STORE_SCHEMA_VERSION)
FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "schema1.tar.gz")


def schema1_dir(binary):
    """A fresh copy of the fixture as a Server (not started) on free ports."""
    parent = e2e_tmpdir()
    with tarfile.open(FIXTURE) as t:
        t.extractall(parent)  # our own fixture: no foreign paths in it
    datadir = os.path.join(parent, "data")
    if os.geteuid() == 0:  # serve drops to its `user`, who must own DIR (as after init)
        pw = pwd.getpwnam("postamt")
        for root, dirs, files in os.walk(datadir):
            for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                os.lchown(name, pw.pw_uid, pw.pw_gid)
    offset = free_offset()
    srv = Server(binary, datadir, offset, parent)
    srv.add_config("port_offset = %d" % offset, "dns.server = " + quiet_dns_server())
    return srv


def db_schema(srv):
    c = sqlite3.connect(os.path.join(srv.dir, "db", "store.sqlite"))
    try:
        return c.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0]
    finally:
        c.close()


def db_digest(srv):
    with open(os.path.join(srv.dir, "db", "store.sqlite"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def copies(srv):
    return [f for f in os.listdir(os.path.join(srv.dir, "db")) if f.startswith("store.sqlite.schema-1-")]


def fixture_mail(srv):
    """What old1 and old2 see over IMAP: {(user, mailbox): [(flags, subject)]}."""
    out = {}
    for user, boxes in (("old1@example.test", ("INBOX", "Archiv/2025")), ("old2@example.test", ("INBOX",))):
        m = imaplib.IMAP4(srv.host, srv.port("imap"))
        m.login(user, "secret")
        for box in boxes:
            assert m.select('"%s"' % box, readonly=True)[0] == "OK"
            _, data = m.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            out[(user, box)] = [(frozenset(re.search(rb"FLAGS \(([^)]*)\)", d[0]).group(1).split()),
                                 d[1].strip().decode()) for d in data if isinstance(d, tuple)]
        m.logout()
    return out


def check_fixture_mail(srv):
    mail = fixture_mail(srv)
    inbox = mail[("old1@example.test", "INBOX")]
    assert [s for _, s in inbox] == ["Subject: fixture message %d" % i for i in range(4)]
    assert b"\\Seen" in inbox[0][0]
    assert {b"\\Flagged", b"$Label1"} <= inbox[1][0]
    assert {b"\\Answered", b"\\Deleted"} <= inbox[2][0]
    assert [s for _, s in mail[("old1@example.test", "Archiv/2025")]] == ["Subject: fixture message 0"]
    assert len(mail[("old2@example.test", "INBOX")]) == 2
    # SORT and THREAD answer from the keys migration 3 wrote (store_sortkey.c)
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    m.login("old1@example.test", "secret")
    m.select("INBOX", readonly=True)
    typ, data = m.sort("(REVERSE SUBJECT)", "UTF-8", "ALL")
    assert typ == "OK" and data == [b"4 3 2 1"], data
    typ, data = m.sort("(SUBJECT)", "UTF-8", "ALL")
    assert typ == "OK" and data == [b"1 2 3 4"], data
    typ, data = m.thread("ORDEREDSUBJECT", "UTF-8", "ALL")
    assert typ == "OK" and data[0].count(b"(") == 4, data
    m.logout()


def test_upgrade_dry_run_then_upgrade(postamt_bin):
    srv = schema1_dir(postamt_bin)
    assert db_schema(srv) == 1
    r = srv.run("verify")
    assert r.returncode == 1 and "postamt upgrade" in r.stderr, r.stderr
    before = db_digest(srv)
    r = srv.run("upgrade", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert re.search(r"would migrate: schema 1 -> 2: .*: 6 rows", r.stdout), r.stdout  # 6 messages (a copy shares its file)
    assert "the database is unchanged" in r.stdout
    assert db_digest(srv) == before and db_schema(srv) == 1
    assert copies(srv) == [] and sorted(os.listdir(os.path.join(srv.dir, "db"))) == ["store.sqlite"]
    r = srv.run("upgrade")
    assert r.returncode == 0, r.stderr
    assert "migrated: schema 1 -> 2" in r.stdout and "now has schema %d" % SCHEMA in r.stdout
    assert re.search(r"migrated: schema 2 -> 3: .*: 7 rows", r.stdout), r.stdout  # sort keys: one per message row
    assert db_schema(srv) == SCHEMA
    [copy] = copies(srv)  # the automatic copy: the database as it was, schema 1
    c = sqlite3.connect(os.path.join(srv.dir, "db", copy))
    assert c.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == 1
    assert c.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 7
    c.close()
    r = srv.run("upgrade")
    assert r.returncode == 0 and "nothing to do" in r.stdout
    r = srv.run("verify")
    assert r.returncode == 0, r.stdout + r.stderr
    srv.start()
    try:
        check_fixture_mail(srv)
    finally:
        finish_server(srv)
    shutil.rmtree(os.path.dirname(srv.dir))


def test_serve_migrates_at_start(postamt_bin):
    srv = schema1_dir(postamt_bin)
    srv.start()
    try:
        # the line may reach the log file after the ports accept: poll for it
        assert srv.wait_log(r"event=store_migrate from=1 to=%d" % SCHEMA, timeout=20), srv.log_tail()
        check_fixture_mail(srv)
    finally:
        finish_server(srv)
    assert db_schema(srv) == SCHEMA and len(copies(srv)) == 1
    r = srv.run("verify")
    assert r.returncode == 0, r.stdout + r.stderr
    shutil.rmtree(os.path.dirname(srv.dir))


def test_newer_database_refused(postamt_bin):
    srv = schema1_dir(postamt_bin)
    c = sqlite3.connect(os.path.join(srv.dir, "db", "store.sqlite"))
    c.execute("UPDATE meta SET value = 99 WHERE key = 'schema'")
    c.commit()
    c.close()
    before = db_digest(srv)
    status, err = serve_fails(postamt_bin, srv.dir)
    assert status != 0
    assert "schema 99, newer than this postamt's (%d)" % SCHEMA in err, err
    for cmd in (["verify"], ["upgrade"], ["upgrade", "--dry-run"], ["backup", srv.dir + "-bk"]):
        r = srv.run(*cmd)
        assert r.returncode == 1 and "newer than this postamt's" in r.stderr, (cmd, r.stderr)
    assert not os.path.exists(srv.dir + "-bk") and not os.path.exists(srv.dir + "-bk.incomplete")
    assert db_digest(srv) == before and copies(srv) == []
    shutil.rmtree(os.path.dirname(srv.dir))


def test_backup_of_old_schema_refused(postamt_bin):
    """A backup needs the current schema (its manifest's digests): an old DIR is told to upgrade first."""
    srv = schema1_dir(postamt_bin)
    dest = srv.dir + "-bk"
    r = srv.run("backup", dest)
    assert r.returncode == 1 and "postamt upgrade" in r.stderr, r.stderr
    assert not os.path.exists(dest)
    shutil.rmtree(os.path.dirname(srv.dir))
