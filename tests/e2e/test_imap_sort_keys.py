"""IMAP SORT and THREAD from the keys stored at delivery (docs/search.md "Sorting and threading"):

- SORT by DATE, SUBJECT, FROM, TO, CC, ARRIVAL, SIZE, DISPLAYFROM, DISPLAYTO, each plain and REVERSE, and
  combinations of keys, on a generated mailbox of 2,400 messages (umlauts, RFC 2047 subjects and names,
  Re:/Fwd:/[list] leaders, missing Date:, identical dates and arrival times, no Cc), equal the RFC 5256 /
  RFC 5957 order an oracle written here computes (ties by sequence number, also after REVERSE);
  THREAD ORDEREDSUBJECT equals the oracle's, and SORT with a search program (a subset) too;
- after an expunge the sequence numbers shift and the answers still equal the oracle's;
- the same mailbox after its keys are removed and the database set back to schema 2 (a store from before
  the keys) is migrated at the next start, and SORT, THREAD REFERENCES and ORDEREDSUBJECT give what they
  gave before; a message whose keys are missing is sorted by the derivation from its metadata (the path
  kept as the fallback) with the same answers.
"""

import imaplib
import os
import random
import re
import sqlite3
import time
from base64 import b64encode
from email.utils import format_datetime, parsedate_tz, mktime_tz
import datetime

import pytest

from conftest import finish_server, new_server
from helpers import new_user

imaplib._MAXLINE = 10_000_000
N = int(os.environ.get("POSTAMT_SORT_N", "2400"))  # make check's ASan run takes fewer

SUBJECTS = [
    "Meeting", "Re: Meeting", "RE: re: meeting", "Fwd: Meeting", "[fwd: Meeting]", "Meeting (fwd)",
    "[list] Re: Meeting", "Re: [list] Meeting", "Grüße aus Köln", "Re: Grüße aus Köln", "über alles",
    "Über alles", "Zürich", "zebra", "Apfel", "Re: Fw: Re: Apfel", "  spaced   out ", "[nur blob]", "",
    "Fwd: [list] Straße (fwd)",
]
NAMES = ["Anna Müller", "Jürgen", "Zed", "bob", "Ärger", "", "Émile Zola", "anna"]
LOCALS = ["anna", "jurgen", "zed", "bob", "aerger", "eve", "emile", "Anna"]
DATES = [
    datetime.datetime(2026, 12, 7, 10, 0, tzinfo=datetime.timezone.utc),
    datetime.datetime(2026, 12, 7, 11, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1))),  # same instant
    datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=-8))),
    datetime.datetime(2019, 6, 1, 0, 0, tzinfo=datetime.timezone.utc),
    None,  # no Date: the internal date counts
]


def enc_words(text):
    """text as RFC 2047 B-encoded words, split inside a multi-byte character now and then."""
    raw = text.encode()
    cut = max(1, len(raw) // 2)
    return "=?UTF-8?B?%s?= =?UTF-8?B?%s?=" % (b64encode(raw[:cut]).decode(), b64encode(raw[cut:]).decode())


def gen(rnd):
    msgs = []
    for i in range(N):
        subj = rnd.choice(SUBJECTS)
        wire_subj = subj
        if subj and rnd.random() < 0.3 and not subj.startswith(" "):
            # encode the part after any "Re: " leader, which must stay visible
            head, _, tail = subj.rpartition(": ")
            wire_subj = (head + ": " if head else "") + enc_words(tail) if tail else subj
        def addr():
            k = rnd.randrange(len(NAMES))
            name, local = NAMES[k], LOCALS[k]
            a = "%s@example.test" % local
            if not name:
                return a, "", a
            if any(ord(c) > 127 for c in name) and rnd.random() < 0.5:
                return "%s <%s>" % (enc_words(name), a), name, a
            return "%s <%s>" % (name, a), name, a
        frm, to = addr(), addr()
        cc = addr() if rnd.random() < 0.6 else None
        date = rnd.choice(DATES)
        lines = ["From: " + frm[0], "To: " + to[0]]
        if cc:
            lines.append("Cc: " + cc[0])
        if date is not None:
            lines.append("Date: " + format_datetime(date))
        lines.append("Subject: " + wire_subj)
        lines.append("Message-ID: <m%d@example.test>" % i)
        if i and rnd.random() < 0.5:
            p = rnd.randrange(max(0, i - 50), i)
            lines.append("In-Reply-To: <m%d@example.test>" % p)
            if rnd.random() < 0.5:
                lines.append("References: <m%d@example.test> <m%d@example.test>" % (rnd.randrange(0, p + 1), p))
        body = "x" * rnd.choice((10, 10, 200, 3000))
        data = ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()
        arrival = 1_780_000_000 + rnd.randrange(30) * 60  # many equal arrival times
        msgs.append({"data": data, "subject": subj, "from": frm, "to": to, "cc": cc,
                     "date": None if date is None else int(date.timestamp()), "arrival": arrival})
    return msgs


# ------------------------------------------------------------------ the oracle (RFC 5256, RFC 5957)

def upper_ascii(s):
    return "".join(chr(ord(c) - 32) if "a" <= c <= "z" else c for c in s)


BLOB = r"\[[^\[\]]*\][ \t]*"
REFWD = re.compile(r"^(?:%s)*(?:re|fwd?)[ \t]*(?:%s)?:" % (BLOB, BLOB), re.I)


def base_subject(s):
    s = re.sub(r"[ \t\r\n]+", " ", s)
    while True:
        while True:  # (2) trailers
            if s.endswith(" ") or s.endswith("\t"):
                s = s[:-1]
            elif s.lower().endswith("(fwd)"):
                s = s[:-5]
            else:
                break
        changed = True
        while changed:  # (3)-(5) leaders and blobs
            changed = False
            if s[:1] in (" ", "\t") and s:
                s, changed = s[1:], True
                continue
            m = REFWD.match(s)
            if m:
                s, changed = s[m.end():], True
                continue
            m = re.match(BLOB, s)
            if m and m.end() < len(s):
                s, changed = s[m.end():], True
        if s.lower().startswith("[fwd:") and s.endswith("]"):  # (6)
            s = s[5:-1]
            continue
        return upper_ascii(s)


def keyfn(m, key):
    if key == "DATE":
        return m["date"] if m["date"] is not None else m["arrival"]
    if key == "ARRIVAL":
        return m["arrival"]
    if key == "SIZE":
        return len(m["data"])
    if key == "SUBJECT":
        return base_subject(m["subject"]).encode()
    if key in ("FROM", "TO", "CC"):
        a = m[key.lower()]
        return upper_ascii(a[2].split("@")[0]).encode() if a else b""
    a = m["from" if key == "DISPLAYFROM" else "to"]
    return upper_ascii(a[1] or a[2]).encode()


def oracle_sort(msgs, seqs, crit):
    """seqs: the sequence numbers to sort (msgs[seq - 1]); crit: [(key, reverse)]."""
    import functools

    def cmp(x, y):
        for key, rev in crit:
            a, b = keyfn(msgs[x - 1], key), keyfn(msgs[y - 1], key)
            if a != b:
                r = -1 if a < b else 1
                return -r if rev else r
        return -1 if x < y else (x > y)
    return sorted(seqs, key=functools.cmp_to_key(cmp))


def oracle_orderedsubject(msgs, seqs):
    groups = {}
    for s in seqs:
        groups.setdefault(base_subject(msgs[s - 1]["subject"]), []).append(s)
    threads = [sorted(g, key=lambda s: (keyfn(msgs[s - 1], "DATE"), s)) for g in groups.values()]
    threads.sort(key=lambda t: (keyfn(msgs[t[0] - 1], "DATE"), t[0]))
    out = ""
    for t in threads:
        out += "(%d%s)" % (t[0], "".join(" %d" % s for s in t[1:]) if len(t) <= 2 else
                           " " + "".join("(%d)" % s for s in t[1:]))
    return out


# ------------------------------------------------------------------ the mailbox

def imap_date(ts):
    return '"%s"' % time.strftime("%d-%b-%Y %H:%M:%S +0000", time.gmtime(ts))


@pytest.fixture(scope="module")
def box(postamt_bin):
    srv = new_server(postamt_bin)
    user = new_user(srv)
    msgs = gen(random.Random(5256))
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    m.login(user, "secret")
    for x in msgs:
        typ, _ = m.append("INBOX", None, imap_date(x["arrival"]), x["data"])
        assert typ == "OK"
    m.select("INBOX")
    yield srv, user, m, msgs
    try:
        m.logout()
    except Exception:  # noqa: BLE001 - the last test restarts the server
        pass
    finish_server(srv)


def sort(m, crit, search="ALL"):
    typ, data = m.sort("(%s)" % crit, "UTF-8", search)
    assert typ == "OK", data
    return [int(x) for x in data[0].split()]


CRITERIA = ["DATE", "SUBJECT", "FROM", "TO", "CC", "ARRIVAL", "SIZE", "DISPLAYFROM", "DISPLAYTO"]


def parse_crit(text):
    out, rev = [], False
    for w in text.split():
        if w == "REVERSE":
            rev = True
        else:
            out.append((w, rev))
            rev = False
    return out


COMBOS = ["SUBJECT DATE", "REVERSE SUBJECT REVERSE DATE", "FROM REVERSE SIZE", "REVERSE ARRIVAL SUBJECT",
          "CC REVERSE DISPLAYTO DATE", "DISPLAYFROM REVERSE ARRIVAL", "REVERSE TO SIZE"]


def test_sort_equals_oracle(box):
    srv, user, m, msgs = box
    seqs = list(range(1, len(msgs) + 1))
    for key in CRITERIA:
        for crit in (key, "REVERSE " + key):
            assert sort(m, crit) == oracle_sort(msgs, seqs, parse_crit(crit)), crit
    for crit in COMBOS:
        assert sort(m, crit) == oracle_sort(msgs, seqs, parse_crit(crit)), crit
    # a subset: the search program picks, the keys order
    sub = [s for s in seqs if s % 7 == 3]
    search = ",".join(str(s) for s in sub)
    assert sort(m, "SUBJECT REVERSE DATE", search) == oracle_sort(msgs, sub, parse_crit("SUBJECT REVERSE DATE"))
    few = sub[:20]
    assert sort(m, "REVERSE FROM", ",".join(map(str, few))) == oracle_sort(msgs, few, parse_crit("REVERSE FROM"))


def test_thread_orderedsubject_equals_oracle(box):
    srv, user, m, msgs = box
    typ, data = m.thread("ORDEREDSUBJECT", "UTF-8", "ALL")
    assert typ == "OK"
    assert data[0].decode() == oracle_orderedsubject(msgs, list(range(1, len(msgs) + 1)))


def test_after_expunge(box):
    srv, user, m, msgs = box
    gone = list(range(1, 200, 3))
    m.store(",".join(map(str, gone)), "+FLAGS.SILENT", "(\\Deleted)")
    m.expunge()
    for s in reversed(gone):
        del msgs[s - 1]
    seqs = list(range(1, len(msgs) + 1))
    for crit in ("DATE", "REVERSE SUBJECT", "SIZE ARRIVAL", "DISPLAYFROM"):
        assert sort(m, crit) == oracle_sort(msgs, seqs, parse_crit(crit)), crit
    typ, data = m.thread("ORDEREDSUBJECT", "UTF-8", "ALL")
    assert data[0].decode() == oracle_orderedsubject(msgs, seqs)


def answers(srv, user):
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    m.login(user, "secret")
    m.select("INBOX", readonly=True)
    out = {}
    for crit in CRITERIA + COMBOS:
        out[crit] = sort(m, crit)
    for alg in ("REFERENCES", "ORDEREDSUBJECT"):
        typ, data = m.thread(alg, "UTF-8", "ALL")
        assert typ == "OK"
        out[alg] = data[0]
        typ, data = m.uid("THREAD", alg, "UTF-8", "SUBJECT meeting")
        out["UID " + alg] = data[0]
    m.logout()
    return out


def test_migration_and_fallback(box):
    srv, user, m, msgs = box
    m.logout()
    before = answers(srv, user)
    assert before["REFERENCES"].count(b"(") > 100
    db = os.path.join(srv.dir, "db", "store.sqlite")
    # a message without keys: the metadata path answers, the same
    c = sqlite3.connect(db)
    c.execute("DELETE FROM msg_keys WHERE uid % 5 = 0")
    c.commit()
    c.close()
    assert answers(srv, user) == before
    assert srv.wait_log(r"event=imap_sort_fallback"), srv.log_tail()
    assert srv.wait_log(r"event=imap_thread_fallback"), srv.log_tail()
    # a store from before the keys: migrated at the start
    srv.stop()
    c = sqlite3.connect(db)
    c.executescript("DROP TRIGGER msg_keys_delete; DROP TRIGGER msg_keys_move; DROP TABLE msg_keys;"
                    " UPDATE meta SET value = 2 WHERE key = 'schema'")
    c.close()
    srv.start()
    assert srv.wait_log(r"event=store_migrate schema=3 rows=%d\b" % len(msgs), timeout=30), srv.log_tail()
    mark = srv.log_size()
    assert answers(srv, user) == before
    assert not srv.wait_log(r"event=imap_(sort|thread)_fallback", timeout=0.5, since=mark)
