"""The full-text index as an administrator meets it (issue 23, items 1 and 4):

- new mail waits for the server's indexer (it runs every second) and is found meanwhile;
- a store made before the index (its entries and its mark removed, as in a data
  directory of an earlier release) is indexed in the background after start, with
  the start and the end in the log, while SEARCH BODY/TEXT answer the same throughout;
- `postamt index status` counts what waits; `postamt index rebuild [ADDRESS]` rewrites
  the entries while the server runs, and searches give the same answers after;
- a message whose decoded text is over `search.index_text_max` is counted as too big
  and still found (read from its file).
"""

import imaplib
import os
import sqlite3

import pytest

from conftest import finish_server, new_server
import helpers
from helpers import new_user

WORDS = ["Kostenvoranschlag", "Lieferschein", "Größe", "quarterly", "Übersicht", "straße", "emoji😀"]


def message(i):
    body = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(3))
    return ("From: s@example.test\r\nSubject: m%d\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\nline %d: %s\r\n" % (i, i, body)).encode()


def searches(m):
    out = {}
    for key, needle in [("BODY", "voranschlag"), ("BODY", "STRASSE"), ("TEXT", "m1"), ("BODY", "größe"),
                        ("TEXT", "emoji😀"), ("BODY", "zzz-nowhere")]:
        m.literal = needle.encode()
        typ, data = m.uid("SEARCH", "CHARSET", "UTF-8", key)
        assert typ == "OK", data
        out[(key, needle)] = data[0].split()
    return out


def sql_as_owner(db, script):
    """Runs SQL on the store's database (the server stopped); files SQLite creates get
    the owner of the database (the server's user when the test runs as root)."""
    st = os.stat(db)
    c = sqlite3.connect(db)
    c.executescript(script)
    c.close()
    d = os.path.dirname(db)
    if os.geteuid() == 0:
        for name in os.listdir(d):
            os.chown(os.path.join(d, name), st.st_uid, st.st_gid)


@pytest.fixture(scope="module")
def setup(postamt_bin):
    srv = new_server(postamt_bin, config=["search.index_text_max = 2K"])
    user = new_user(srv)
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    m.login(user, "secret")
    for i in range(300):
        m.append("INBOX", None, None, message(i))
    big = b"From: s@example.test\r\nSubject: big\r\n\r\n" + b"filler line\r\n" * 400 + b"Kostenvoranschlag\r\n"
    m.append("INBOX", None, None, big)
    m.select("INBOX")
    want = searches(m)                    # most, if not all, still waiting: from the files
    helpers.wait_indexed(srv)
    assert searches(m) == want            # from the index
    m.logout()
    yield srv, user, want
    finish_server(srv)


def status(srv):
    r = srv.run("index", "status")
    assert r.returncode == 0, r.stderr
    return dict(kv.split("=") for kv in r.stdout.split())


def test_answers_and_the_too_big_message(setup):
    srv, user, want = setup
    assert len(want[("BODY", "voranschlag")]) > 100
    assert b"301" in want[("BODY", "voranschlag")]          # the big one, read from its file
    assert want[("BODY", "STRASSE")] and want[("BODY", "zzz-nowhere")] == []
    assert status(srv) == {"pending": "0", "too_big": "1"}


def test_rebuild_while_serving(setup):
    srv, user, want = setup
    r = srv.run("index", "rebuild", user)
    assert r.returncode == 0, r.stderr
    assert "indexed=300 too_big=1 unreadable=0" in r.stdout, r.stdout
    r = srv.run("index", "rebuild", "nobody@example.test")
    assert r.returncode == 1 and "no such account" in r.stderr
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    m.login(user, "secret")
    m.select("INBOX")
    assert searches(m) == want
    m.logout()


def test_store_from_before_the_index_is_caught_up(setup):
    srv, user, want = setup
    srv.stop()
    db = os.path.join(srv.dir, "db", "store.sqlite")
    sql_as_owner(db, "DELETE FROM email_text; DELETE FROM email_unindexed; DELETE FROM meta WHERE key = 'search_index';")
    since = srv.log_size()
    srv.start()
    assert srv.wait_log(r"event=index_catchup_start pending=301", timeout=10, since=since), srv.log_tail()
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    m.login(user, "secret")
    m.select("INBOX")
    assert searches(m) == want            # from the files, from the index, or both
    assert srv.wait_log(r"event=index_catchup_done indexed=300", timeout=60, since=since), srv.log_tail()
    assert searches(m) == want
    m.logout()
    assert status(srv) == {"pending": "0", "too_big": "1"}


def test_entries_of_an_older_text_are_written_anew(setup):
    """A store indexed by a release whose indexed text differed (meta search_index = 1:
    header lines not unfolded, a single-part body twice) has every entry written anew in
    the background; searches answer the same throughout."""
    srv, user, want = setup
    srv.stop()
    db = os.path.join(srv.dir, "db", "store.sqlite")
    sql_as_owner(db, "UPDATE meta SET value = 1 WHERE key = 'search_index';")
    since = srv.log_size()
    srv.start()
    assert srv.wait_log(r"event=index_text_changed from=1 to=2", timeout=10, since=since), srv.log_tail()
    assert srv.wait_log(r"event=index_catchup_start pending=301", timeout=10, since=since), srv.log_tail()
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    m.login(user, "secret")
    m.select("INBOX")
    assert searches(m) == want
    assert srv.wait_log(r"event=index_catchup_done indexed=300", timeout=60, since=since), srv.log_tail()
    assert searches(m) == want
    m.logout()
    assert status(srv) == {"pending": "0", "too_big": "1"}
    c = sqlite3.connect(db)
    assert c.execute("SELECT value FROM meta WHERE key = 'search_index'").fetchone() == (2,)
    c.close()
