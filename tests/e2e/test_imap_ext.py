"""IMAP extensions (issue 6), end to end over plain IMAP on loopback: CONDSTORE and
QRESYNC (RFC 7162), ESEARCH/SEARCHRES/WITHIN, OBJECTID, SAVEDATE, PREVIEW, SORT and
THREAD (RFC 5256, 5267, 5957), UTF8=ACCEPT, MULTIAPPEND, REPLACE, LITERAL-, COMPRESS.

The client here is a small raw one (Client) so that every byte is the test's own,
and so that COMPRESS=DEFLATE can be spoken with Python's zlib underneath."""

import re
import socket
import time
import zlib

import pytest

from conftest import finish_server, new_server
from helpers import UserPool

PW = "secret"
USERS = ["cs%d@example.test" % i for i in range(40)]


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin, users=[(u, PW) for u in USERS])
    yield s
    finish_server(s)


fresh_user = UserPool(USERS)


class Client:
    """IMAP over a plain socket; literals in responses are folded into the line they
    belong to (as "{n}\\r\\n" + data). After compress() both directions are deflated."""

    def __init__(self, srv, user=None, timeout=10):
        self.sock = socket.create_connection((srv.host, srv.port("imap")), timeout=timeout)
        self.timeout = timeout
        self.buf = b""
        self.inflate = None
        self.deflate = None
        self.raw_in = 0
        greeting = self.line()
        assert greeting.startswith("* OK"), greeting
        self.tagn = 0
        self.user = user
        if user:
            _, t = self.cmd("LOGIN %s %s" % (user, PW))
            assert " OK" in t, t

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        if self.deflate is not None:
            data = self.deflate.compress(data) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError("connection closed")
        self.raw_in += len(d)
        if self.inflate is not None:
            d = self.inflate.decompress(d)
        self.buf += d

    def _rawline(self):
        while b"\r\n" not in self.buf:
            self._fill()
        i = self.buf.index(b"\r\n")
        line, self.buf = self.buf[:i], self.buf[i + 2:]
        return line

    def line(self):
        """One response line with its literals folded in."""
        out = self._rawline()
        while True:
            m = re.search(rb"~?\{(\d+)\}$", out)
            if not m:
                break
            n = int(m.group(1))
            while len(self.buf) < n:
                self._fill()
            out += b"\r\n" + self.buf[:n]
            self.buf = self.buf[n:]
            out += self._rawline()
        return out.decode("utf-8", "replace")

    def tag(self):
        self.tagn += 1
        return "t%d" % self.tagn

    def read_tagged(self, tag):
        untagged = []
        while True:
            line = self.line()
            if line.startswith(tag + " "):
                return untagged, line
            untagged.append(line)

    def cmd(self, text):
        t = self.tag()
        self.send("%s %s\r\n" % (t, text))
        return self.read_tagged(t)

    def ok(self, text):
        u, t = self.cmd(text)
        assert re.match(r"t\d+ OK", t), (text, u, t)
        return u, t

    def append(self, mailbox, msg, flags=""):
        if isinstance(msg, str):
            msg = msg.encode()
        t = self.tag()
        self.send(("%s APPEND %s %s{%d+}\r\n" % (t, mailbox, (flags + " ") if flags else "", len(msg))).encode()
                  + msg + b"\r\n")
        u, r = self.read_tagged(t)
        assert " OK" in r, r
        return int(re.search(r"APPENDUID \d+ (\d+)", r).group(1))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def msg(subject, body="hello\r\n", frm="a@remote.test", to="x@example.test", date="Mon, 1 Jan 2024 10:00:00 +0000",
        extra=""):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n%s\r\n%s" % (frm, to, subject, date, extra, body))


def fill(c, n, mailbox="INBOX"):
    return [c.append(mailbox, msg("m%d" % i)) for i in range(n)]


def code(line, name):
    m = re.search(r"\[%s ([^\]]*)\]" % name, line)
    return m.group(1) if m else None


def untagged_code(lines, name):
    for l in lines:
        v = code(l, name)
        if v is not None:
            return v
    return None


def modseq_of(line):
    return int(re.search(r"MODSEQ \((\d+)\)", line).group(1))


# -- CONDSTORE (RFC 7162 section 3.1) ------------------------------------------------

def test_capabilities_advertised(srv):
    c = Client(srv, fresh_user())
    u, _ = c.ok("CAPABILITY")
    caps = u[0].split()
    for cap in ("CONDSTORE", "QRESYNC", "ESEARCH", "SEARCHRES", "WITHIN", "OBJECTID", "SAVEDATE", "PREVIEW"):
        assert cap in caps, cap


def test_select_condstore_highestmodseq_and_fetch_modseq(srv):
    c = Client(srv, fresh_user())
    fill(c, 3)
    u, t = c.ok("SELECT INBOX (CONDSTORE)")
    hms = int(untagged_code(u, "HIGHESTMODSEQ"))
    assert hms > 0
    assert untagged_code(u, "MAILBOXID")
    u, _ = c.ok("FETCH 1:* (FLAGS MODSEQ)")
    mods = [modseq_of(l) for l in u if "FETCH" in l]
    assert len(mods) == 3 and max(mods) <= hms
    # CHANGEDSINCE: only what changed after, MODSEQ implied (RFC 7162 3.1.4.1)
    c.ok("STORE 2 +FLAGS (\\Flagged)")
    u, _ = c.ok("FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % hms)
    fetches = [l for l in u if "FETCH" in l]
    assert len(fetches) == 1 and fetches[0].startswith("* 2 FETCH") and "MODSEQ" in fetches[0], u
    # STATUS HIGHESTMODSEQ
    u, _ = c.ok("STATUS INBOX (HIGHESTMODSEQ MESSAGES)")
    assert re.search(r"HIGHESTMODSEQ \d+", u[0]) and "MESSAGES 3" in u[0]


def test_store_unchangedsince_modified(srv):
    """RFC 7162 3.1.3 example: messages changed after UNCHANGEDSINCE fail and are
    listed in [MODIFIED]; with .SILENT the passing ones still get FETCH with MODSEQ."""
    c = Client(srv, fresh_user())
    fill(c, 4)
    c.ok("ENABLE CONDSTORE")
    u, _ = c.ok("SELECT INBOX")
    u, _ = c.ok("FETCH 1:* MODSEQ")
    mods = {int(re.match(r"\* (\d+)", l).group(1)): modseq_of(l) for l in u if "FETCH" in l}
    base = max(mods.values())
    # another session changes message 3 meanwhile
    o = Client(srv, c.user)
    o.ok("SELECT INBOX")
    o.ok("STORE 3 +FLAGS (\\Seen)")
    o.close()
    u, t = c.cmd("STORE 1:4 (UNCHANGEDSINCE %d) +FLAGS.SILENT (\\Deleted)" % base)
    assert code(t, "MODIFIED") == "3", (u, t)
    silent = [l for l in u if "FETCH" in l and "MODSEQ" in l and "FLAGS (" not in l]
    assert {l.split()[1] for l in silent} >= {"1", "2", "4"}, u
    # UID STORE reports UIDs; UNCHANGEDSINCE 0 always fails
    u, t = c.cmd("UID STORE 1:* (UNCHANGEDSINCE 0) -FLAGS (\\Deleted)")
    assert code(t, "MODIFIED"), t
    # a value beyond 2^63 is BAD
    _, t = c.cmd("STORE 1 (UNCHANGEDSINCE 9223372036854775808) +FLAGS (\\Seen)")
    assert " BAD" in t


def test_search_modseq(srv):
    c = Client(srv, fresh_user())
    fill(c, 3)
    u, _ = c.ok("SELECT INBOX (CONDSTORE)")
    hms = int(untagged_code(u, "HIGHESTMODSEQ"))
    c.ok("STORE 1 +FLAGS (\\Answered)")
    u, _ = c.ok("SEARCH MODSEQ %d" % (hms + 1))
    assert re.match(r"\* SEARCH 1 \(MODSEQ \d+\)$", u[0]), u
    u, _ = c.ok('SEARCH MODSEQ "/flags/\\\\answered" all %d' % (hms + 1))
    assert u[0].startswith("* SEARCH 1 (MODSEQ"), u
    u, _ = c.ok("SEARCH RETURN (COUNT) MODSEQ 1")
    assert re.search(r"COUNT 3 MODSEQ \d+", u[0]), u


def test_unsolicited_fetch_has_modseq(srv):
    user = fresh_user()
    c = Client(srv, user)
    fill(c, 2)
    c.ok("ENABLE CONDSTORE")
    c.ok("SELECT INBOX")
    o = Client(srv, user)
    o.ok("SELECT INBOX")
    o.ok("STORE 2 +FLAGS (\\Flagged)")
    u, _ = c.ok("NOOP")
    f = [l for l in u if "FETCH" in l]
    assert f and "MODSEQ (" in f[0] and "\\Flagged" in f[0], u


def test_enable_qresync_implies_condstore_and_vanished(srv):
    user = fresh_user()
    c = Client(srv, user)
    uids = fill(c, 5)
    u, _ = c.ok("ENABLE QRESYNC")
    assert u == ["* ENABLED QRESYNC"], u
    c.ok("SELECT INBOX")
    c.ok("STORE 2,4 +FLAGS.SILENT (\\Deleted)")
    u, t = c.ok("EXPUNGE")
    assert "* VANISHED %d,%d" % (uids[1], uids[3]) in u, u
    assert not any("EXPUNGE" in l and l.startswith("* ") for l in u)
    assert code(t, "HIGHESTMODSEQ"), t
    # QRESYNC parameters need ENABLE QRESYNC first
    d = Client(srv, user)
    _, t = d.cmd("SELECT INBOX (QRESYNC (1 1))")
    assert " BAD" in t
    # malformed QRESYNC
    _, t = c.cmd("SELECT INBOX (QRESYNC (x 1))")
    assert " BAD" in t


def test_resync_scenario(srv):
    """A client goes offline; another session changes flags and expunges; the first
    reconnects with SELECT INBOX (QRESYNC (uidvalidity modseq known-uids)) and learns
    exactly the changes (RFC 7162 3.2.5)."""
    user = fresh_user()
    a = Client(srv, user)
    uids = fill(a, 10)
    a.ok("ENABLE QRESYNC")
    u, _ = a.ok("SELECT INBOX")
    uidvalidity = int(untagged_code(u, "UIDVALIDITY"))
    hms = int(untagged_code(u, "HIGHESTMODSEQ"))
    a.ok("LOGOUT")
    a.close()

    b = Client(srv, user)
    b.ok("SELECT INBOX")
    b.ok("UID STORE %d,%d +FLAGS (\\Flagged)" % (uids[0], uids[5]))
    b.ok("UID STORE %d,%d,%d +FLAGS.SILENT (\\Deleted)" % (uids[2], uids[3], uids[7]))
    b.ok("EXPUNGE")
    new = b.append("INBOX", msg("arrived later"))
    b.close()

    a = Client(srv, user)
    a.ok("ENABLE QRESYNC")
    known = "%d:%d" % (uids[0], uids[-1])
    u, t = a.ok("SELECT INBOX (QRESYNC (%d %d %s (1:10 %s)))" % (uidvalidity, hms, known, known))
    vanished = [l for l in u if l.startswith("* VANISHED (EARLIER)")]
    assert vanished == ["* VANISHED (EARLIER) %d:%d,%d" % (uids[2], uids[3], uids[7])], u
    fetched = {int(re.search(r"UID (\d+)", l).group(1)): l for l in u if " FETCH " in l}
    assert set(fetched) == {uids[0], uids[5], new}, u
    assert all("MODSEQ (" in l and "FLAGS (" in l for l in fetched.values())
    assert "\\Flagged" in fetched[uids[0]]
    # ordering: VANISHED (EARLIER) before the FETCHes, all before the tagged OK
    vi = u.index(vanished[0])
    assert all(u.index(l) > vi for l in fetched.values())
    # known-uids narrows the VANISHED report
    a.ok("UNSELECT")
    u, _ = a.ok("SELECT INBOX (QRESYNC (%d %d %d))" % (uidvalidity, hms, uids[3]))
    assert [l for l in u if "VANISHED" in l] == ["* VANISHED (EARLIER) %d" % uids[3]], u
    # a stale UIDVALIDITY: a plain SELECT
    a.ok("UNSELECT")
    u, _ = a.ok("SELECT INBOX (QRESYNC (%d %d))" % (uidvalidity + 1, hms))
    assert not [l for l in u if "VANISHED" in l or " FETCH " in l], u
    # UID FETCH ... (CHANGEDSINCE m VANISHED)
    u, _ = a.ok("UID FETCH 1:* FLAGS (CHANGEDSINCE %d VANISHED)" % hms)
    assert u[0] == "* VANISHED (EARLIER) %d:%d,%d" % (uids[2], uids[3], uids[7]), u
    assert len([l for l in u if " FETCH " in l]) == 3
    # VANISHED without QRESYNC / CHANGEDSINCE is BAD
    _, t = a.cmd("UID FETCH 1:* FLAGS (VANISHED)")
    assert " BAD" in t
    # [CLOSED] when a QRESYNC client selects again
    u, _ = a.ok("SELECT INBOX")
    assert any("[CLOSED]" in l for l in u)


# -- ESEARCH / SEARCHRES / WITHIN (RFC 4731, 5182, 5032) --------------------------------

def test_esearch_searchres_within(srv):
    c = Client(srv, fresh_user())
    uids = fill(c, 6)
    c.ok("SELECT INBOX")
    c.ok("STORE 2,4,5 +FLAGS (\\Seen)")
    # RFC 4731 section 3.1 style
    u, _ = c.ok("SEARCH RETURN (MIN COUNT) SEEN")
    assert u == ['* ESEARCH (TAG "%s") MIN 2 COUNT 3' % ("t%d" % c.tagn)], u
    u, _ = c.ok("UID SEARCH RETURN (MAX ALL) SEEN")
    assert u[0].endswith("UID MAX %d ALL %d,%d:%d" % (uids[4], uids[1], uids[3], uids[4])), u
    u, _ = c.ok("SEARCH RETURN (COUNT) DELETED")
    assert u[0].endswith("COUNT 0"), u
    # RFC 5182: SAVE then $; "$" before any SAVE is the empty set
    u, _ = c.ok("SEARCH $")
    assert u == ["* SEARCH"], u
    u, _ = c.ok("SEARCH RETURN (SAVE) SEEN")
    assert u == [], u
    u, _ = c.ok("FETCH $ (UID)")
    assert len([l for l in u if "FETCH" in l]) == 3
    u, _ = c.ok("SEARCH RETURN (SAVE MIN) UNSEEN")
    u, _ = c.ok("UID SEARCH UID $")
    assert u == ["* SEARCH %d" % uids[0]], u
    # a failing SAVE search empties $
    c.cmd("SEARCH RETURN (SAVE) FOO")
    u, _ = c.ok("SEARCH $")
    assert u == ["* SEARCH"], u
    # WITHIN: everything was appended just now
    u, _ = c.ok("SEARCH YOUNGER 3600")
    assert u == ["* SEARCH 1 2 3 4 5 6"], u
    u, _ = c.ok("SEARCH OLDER 3600")
    assert u == ["* SEARCH"], u
    # a charset that does not exist
    _, t = c.cmd("SEARCH CHARSET X-NOPE ALL")
    assert " NO [BADCHARSET" in t


# -- OBJECTID, SAVEDATE, PREVIEW (RFC 8474, 8514, 8970) -------------------------------------

def test_objectid_savedate_preview(srv):
    c = Client(srv, fresh_user())
    _, t = c.ok("CREATE Projects")
    mbid = code(t, "MAILBOXID")
    assert re.fullmatch(r"\(M[0-9a-z]+\)", mbid), t
    c.append("Projects", msg("one", body="The preview text of this message.\r\n"))
    c.append("Projects", msg("Re: one", extra="In-Reply-To: <x@y>\r\n"))
    u, _ = c.ok("STATUS Projects (MAILBOXID HIGHESTMODSEQ)")
    assert "MAILBOXID %s" % mbid in u[0], u
    u, _ = c.ok("SELECT Projects")
    assert untagged_code(u, "MAILBOXID") == mbid
    u, _ = c.ok("FETCH 1:2 (EMAILID THREADID SAVEDATE PREVIEW)")
    f = [l for l in u if "FETCH" in l]
    e1 = re.search(r"EMAILID \((E[0-9a-z]+)\)", f[0]).group(1)
    assert re.search(r"THREADID \(T[0-9a-z]+\)", f[0])
    assert re.search(r'SAVEDATE "\d\d-\w\w\w-\d{4} ', f[0])
    assert 'PREVIEW "The preview text of this message."' in f[0], f[0]
    u, _ = c.ok("FETCH 1 (PREVIEW (LAZY))")
    assert "PREVIEW" in u[0]
    # EMAILID is kept by COPY; SEARCH EMAILID finds it
    c.ok("COPY 1 INBOX")
    c.ok("SELECT INBOX")
    u, _ = c.ok("SEARCH EMAILID %s" % e1)
    assert u == ["* SEARCH 1"], u
    u, _ = c.ok("SEARCH SAVEDSINCE 1-Jan-2020")
    assert u == ["* SEARCH 1"], u


# -- SORT and THREAD (RFC 5256, 5267, 5957) ------------------------------------------------

CORPUS = [
    # subject, from, to, date, message-id, references, size padding
    ("Hello", "Zed <zed@z.test>", "b@x.test", "Mon, 1 Jan 2024 10:00:00 +0000", "<a@t>", "", 0),
    ("Re: Hello", "Alice <alice@a.test>", "c@x.test", "Mon, 1 Jan 2024 11:00:00 +0000", "<b@t>", "<a@t>", 300),
    ("Re: Hello", "bob@b.test", "a@x.test", "Mon, 1 Jan 2024 12:00:00 +0000", "<c@t>", "<a@t>", 100),
    ("Re: Hello", "Carol <carol@c.test>", "d@x.test", "Mon, 1 Jan 2024 13:00:00 +0000", "<d@t>", "<a@t> <c@t>", 50),
    ("Other", "dave@d.test", "e@x.test", "Mon, 1 Jan 2024 10:30:00 +0000", "<e@t>", "", 20),
    ("Lost", "Eve <eve@e.test>", "f@x.test", "Mon, 1 Jan 2024 14:00:00 +0000", "<f@t>", "<zz@t>", 10),
    ("Re: Lost", "frank@f.test", "g@x.test", "Mon, 1 Jan 2024 15:00:00 +0000", "<g@t>", "<zz@t>", 0),
    ("Re: Other", "Ann <zara@a.test>", "h@x.test", "Mon, 1 Jan 2024 10:40:00 +0000", "<h@t>", "", 400),
]


@pytest.fixture(scope="module")
def corpus_client(srv):
    c = Client(srv, fresh_user())
    for subj, frm, to, date, mid, refs, pad in CORPUS:
        extra = "Message-ID: %s\r\n" % mid + ("References: %s\r\n" % refs if refs else "")
        c.append("INBOX", msg(subj, body="x" * pad + "\r\n", frm=frm, to=to, date=date, extra=extra))
    c.ok("SELECT INBOX")
    yield c
    c.close()


def test_thread_references_and_orderedsubject(corpus_client):
    c = corpus_client
    u, _ = c.ok("THREAD REFERENCES UTF-8 ALL")
    assert u == ["* THREAD (1 (2)(3 4))(5 8)((6)(7))"], u
    u, _ = c.ok("THREAD ORDEREDSUBJECT UTF-8 ALL")
    assert u == ["* THREAD (1 (2)(3)(4))(5 8)(6 7)"], u
    u, _ = c.ok("UID THREAD ORDEREDSUBJECT US-ASCII SUBJECT lost")
    m = re.fullmatch(r"\* THREAD \((\d+) (\d+)\)", u[0])
    assert m and int(m.group(2)) == int(m.group(1)) + 1, u
    u, _ = c.ok("THREAD REFERENCES UTF-8 SUBJECT nothing-matches")
    assert u == ["* THREAD"], u
    _, t = c.cmd("THREAD FOO UTF-8 ALL")
    assert " BAD" in t
    _, t = c.cmd("THREAD REFERENCES X-NOPE ALL")
    assert " NO [BADCHARSET" in t


# Looping References, self references and duplicate Message-IDs (issue 16, RFC 5256
# section 2.2 step 1): the answers are Dovecot 2.3.19's for the same messages.
LOOPS = [
    ([("<a@x>", "<b@x>"), ("<b@x>", "<a@x>")], "(2 1)"),
    ([("<s@x>", "<s@x>")], "(1)"),
    ([("<d@x>", ""), ("<d@x>", "<x@x>"), ("<e@x>", "<d@x>")], "(1 3)(2)"),
    ([("<a@x>", "<b@x> <c@x>"), ("<b@x>", "<c@x> <a@x>"), ("<c@x>", "<a@x> <b@x>")], "(2 3 1)"),
    ([("<p@x>", ""), ("<q@x>", "<p@x> <q@x> <r@x>")], "(1)(2)"),
    ([("<p@x>", ""), ("<q@x>", "<r@x> <q@x>"), ("<r@x>", "<q@x>")], "(1)(2 3)"),
]


def test_thread_references_loops(srv):
    c = Client(srv, fresh_user())
    for k, (msgs, want) in enumerate(LOOPS):
        c.ok("CREATE loop%d" % k)
        for i, (mid, refs) in enumerate(msgs):
            extra = "Message-ID: %s\r\n" % mid + ("References: %s\r\n" % refs if refs else "")
            c.append("loop%d" % k, msg("s%d-%d" % (k, i), date="Mon, 1 Jan 2024 10:%02d:00 +0000" % i, extra=extra))
        c.ok("SELECT loop%d" % k)
        u, _ = c.ok("THREAD REFERENCES UTF-8 ALL")
        assert u == ["* THREAD " + want], (k, u)
    # imaptest's "thread" case: A, then B refs C A, then C refs B; and after A is expunged
    c.ok("CREATE mbox")
    for mid, refs, date in [("<a@b>", "", "17:06"), ("<b@b>", "<c@b> <a@b>", "15:06"), ("<c@b>", "<b@b>", "16:06")]:
        extra = "Message-ID: %s\r\n" % mid + ("References: %s\r\n" % refs if refs else "")
        c.append("mbox", msg("", date="Fri, 22 Feb 2008 %s:23 +0000" % date, extra=extra))
    c.ok("SELECT mbox")
    u, _ = c.ok("THREAD REFERENCES US-ASCII ALL")
    assert u == ["* THREAD (3 1 2)"], u
    c.ok("STORE 1 +FLAGS (\\Deleted)")
    c.ok("EXPUNGE")
    u, _ = c.ok("THREAD REFERENCES US-ASCII ALL")
    assert u == ["* THREAD (2 1)"], u
    c.close()


def test_sort_keys(corpus_client):
    c = corpus_client
    u, _ = c.ok("SORT (DATE) UTF-8 ALL")
    assert u == ["* SORT 1 5 8 2 3 4 6 7"], u
    u, _ = c.ok("SORT (REVERSE DATE) UTF-8 ALL")
    assert u == ["* SORT 7 6 4 3 2 8 5 1"], u
    u, _ = c.ok("SORT (SUBJECT) UTF-8 ALL")   # HELLO x4, LOST x2, OTHER x2; ties by number
    assert u == ["* SORT 1 2 3 4 6 7 5 8"], u
    u, _ = c.ok("SORT (FROM) UTF-8 ALL")      # addr-mailbox: alice bob carol dave eve frank zara zed
    assert u == ["* SORT 2 3 4 5 6 7 8 1"], u
    u, _ = c.ok("SORT (DISPLAYFROM) UTF-8 ALL")  # Alice Ann bob@ Carol dave@ Eve frank@ Zed
    assert u == ["* SORT 2 8 3 4 5 6 7 1"], u
    u, _ = c.ok("SORT (TO) UTF-8 ALL")
    assert u == ["* SORT 3 1 2 4 5 6 7 8"], u
    u, _ = c.ok("SORT (REVERSE SIZE) UTF-8 SUBJECT hello")
    assert u == ["* SORT 2 3 4 1"], u
    u, _ = c.ok("SORT (ARRIVAL) UTF-8 ALL")
    assert u == ["* SORT 1 2 3 4 5 6 7 8"], u
    # ESORT (RFC 5267): MIN/MAX in sort order, ALL keeps the order
    u, _ = c.ok("SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 ALL")
    assert u[0].endswith(") MIN 1 MAX 7 ALL 1,5,8,2:4,6:7 COUNT 8"), u
    _, t = c.cmd("SORT (BOGUS) UTF-8 ALL")
    assert " BAD" in t
    _, t = c.cmd("SORT (DATE) X-NOPE ALL")
    assert " NO [BADCHARSET" in t


# -- UTF8=ACCEPT (RFC 6855), LITERAL- (RFC 7888) ------------------------------------------

def test_utf8_accept_and_thunderbird_append(srv):
    c = Client(srv, fresh_user())
    u, _ = c.ok("CAPABILITY")
    assert "UTF8=ACCEPT" in u[0].split() and "LITERAL-" in u[0].split()
    u, _ = c.ok("ENABLE UTF8=ACCEPT")
    assert u == ["* ENABLED UTF8=ACCEPT"], u
    name = "Grüße"
    c.ok('CREATE "%s"' % name)
    u, _ = c.ok('LIST "" "Gr*"')
    assert any(name in l for l in u), u
    # Thunderbird 128: APPEND box (flags) UTF8 (~{n}) with a synchronizing literal8
    body = ("From: Jörg <j@x.test>\r\nSubject: Grüße aus Köln\r\n\r\nHallo\r\n").encode()
    t = c.tag()
    c.send(('%s APPEND "%s" (\\Seen) UTF8 (~{%d}\r\n' % (t, name, len(body))).encode())
    assert c.line().startswith("+")
    c.send(body + b")\r\n")
    _, r = c.read_tagged(t)
    assert " OK [APPENDUID" in r, r
    # non-synchronizing literal8 too
    t = c.tag()
    c.send(('%s APPEND "%s" UTF8 (~{%d+}\r\n' % (t, name, len(body))).encode() + body + b")\r\n")
    _, r = c.read_tagged(t)
    assert " OK [APPENDUID" in r, r
    u, _ = c.ok('SELECT "%s"' % name)
    u, _ = c.ok("FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
    assert "Grüße aus Köln" in u[0], u
    # UTF8 without its parentheses is BAD
    _, r = c.cmd('APPEND "%s" UTF8 ~{3+}\r\nabc' % name)
    assert " BAD" in r


# -- COMPRESS=DEFLATE (RFC 4978) ------------------------------------------------------

def start_compress(c):
    _, t = c.cmd("COMPRESS DEFLATE")
    assert " OK" in t, t
    c.inflate = zlib.decompressobj(-15)
    c.deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    # anything read past the OK is already compressed
    rest, c.buf = c.buf, b""
    if rest:
        c.buf = c.inflate.decompress(rest)


def test_compress_small_large_and_idle(srv):
    user = fresh_user()
    c = Client(srv, user)
    big = "".join("line %06d of a large message body, padded to be long enough\r\n" % i for i in range(40000))
    c.append("INBOX", msg("large", body=big))
    fill(c, 3)
    start_compress(c)
    # small responses come back complete (sync flush), one command at a time
    for _ in range(3):
        u, t = c.ok("NOOP")
    u, _ = c.ok("SELECT INBOX")
    assert any("4 EXISTS" in l for l in u)
    before = c.raw_in
    u, _ = c.ok("FETCH 1 BODY.PEEK[]")
    assert big in u[0]
    assert c.raw_in - before < len(big) / 3, "the body went out compressed"
    # a second COMPRESS is refused
    _, t = c.cmd("COMPRESS DEFLATE")
    assert " NO [COMPRESSIONACTIVE]" in t
    # IDLE above compression: another session's change arrives at once, DONE works
    t = c.tag()
    c.send("%s IDLE\r\n" % t)
    assert c.line().startswith("+")
    o = Client(srv, user)
    o.ok("SELECT INBOX")
    o.ok("STORE 2 +FLAGS (\\Flagged)")
    c.sock.settimeout(5)
    line = c.line()
    assert "FETCH" in line and "\\Flagged" in line, line
    o.append("INBOX", msg("during idle"))
    line = c.line()
    assert line == "* 5 EXISTS", line
    c.send("DONE\r\n")
    _, r = c.read_tagged(t)
    assert " OK" in r
    # pipelined compressed commands
    c.send("p1 NOOP\r\np2 SEARCH ALL\r\n")
    c.read_tagged("p1")
    u, _ = c.read_tagged("p2")
    assert u == ["* SEARCH 1 2 3 4 5"], u
    c.ok("LOGOUT")


def test_compress_pipelined_right_after_and_corrupt_stream(srv):
    user = fresh_user()
    c = Client(srv, user)
    # the client may send compressed data right behind the COMPRESS command
    d = zlib.compressobj(6, zlib.DEFLATED, -15)
    c.sock.sendall(b"z1 COMPRESS DEFLATE\r\n" + d.compress(b"z2 NOOP\r\n") + d.flush(zlib.Z_SYNC_FLUSH))
    assert c.line().startswith("z1 OK")
    c.inflate = zlib.decompressobj(-15)
    c.deflate = d
    rest, c.buf = c.buf, b""
    c.buf = c.inflate.decompress(rest)
    _, t = c.read_tagged("z2")
    assert t.startswith("z2 OK"), t
    # garbage instead of DEFLATE: the server closes the connection and logs why
    c.sock.sendall(b"\xff\xff\xff\xff this is not deflate \x00\x01" * 4)
    c.sock.settimeout(5)
    with pytest.raises((EOFError, ConnectionResetError)):
        while True:
            c._fill()
    srv.wait_log(r"compress_error reason=corrupt-deflate-stream")


def test_compress_over_tls(srv):
    import ssl as _ssl
    user = fresh_user()
    raw = socket.create_connection((srv.host, srv.port("imaps")), timeout=10)
    s = srv.ssl_context().wrap_socket(raw, server_hostname="localhost")
    c = Client.__new__(Client)
    c.sock, c.buf, c.inflate, c.deflate, c.raw_in, c.tagn, c.user = s, b"", None, None, 0, 0, user
    assert c.line().startswith("* OK")
    c.ok("LOGIN %s %s" % (user, PW))
    start_compress(c)
    c.ok("SELECT INBOX")
    u, _ = c.ok("STATUS INBOX (MESSAGES)")
    assert "MESSAGES 0" in u[0]
    c.ok("LOGOUT")
    assert isinstance(s, _ssl.SSLSocket)
