"""Search correctness at scale (issue 23, "Done when"): a generated mailbox of 20,000
messages (POSTAMT_SEARCH_N to change it) with every encoding real mail uses:
quoted-printable with soft line breaks (some inside words), base64 text, ISO-8859-1,
UTF-8 umlauts and emoji, RFC 2047 subjects and names (Q and B, adjacent padded B
words, a character split across two words), HTML parts with entities, attachments with
plain and RFC 2231 file names (and a word in their binary content that no search may
find).

Each search runs three times and must give the same set each time:
  - the oracle: Python computes the expected UIDs from the generator's model of each
    message (its decoded header fields, body text and file names), not from the bytes;
  - the server with its full-text index (after the indexer has caught up);
  - the server reading every message file, forced by `search.index_text_max = 1` and
    `postamt index rebuild` (every message is then too big for the index).
JMAP Email/query with text/from/to/cc/bcc/subject/body filters must return the IMAP sets.

The mailbox is made as a Maildir (flags in the file names, dates as modification times)
and brought in with `postamt import`, the fastest path into the store.
"""

import base64
import datetime
import html
import http.client
import json
import os
import random
import re
import socket
import threading
import urllib.parse

import pytest

from conftest import finish_server, new_server
import helpers
from helpers import new_user

N = int(os.environ.get("POSTAMT_SEARCH_N", "20000"))
T0 = datetime.datetime(2024, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)

# (word, weight): common words in most messages, rare ones in a few
VOCAB = [("meeting", 30), ("budget", 20), ("invoice", 15), ("quarterly", 10), ("Lieferschein", 8),
         ("Kostenvoranschlag", 6), ("Größe", 6), ("Übersicht", 5), ("Straße", 5), ("Zürich", 4), ("café", 4),
         ("naïve", 2), ("Öffnungszeiten", 3), ("Müllabfuhr", 2), ("fußball", 3), ("Ärger", 2), ("AT&T", 2),
         ("emoji😀", 2), ("🎉", 2), ("Besprechung", 10), ("Quittung", 1), ("déjà", 2), ("vu", 3),
         ("5€-Gutschein", 2), ("„Zitat“", 2), ("Grüße", 3)]
WORDS = [w for w, k in VOCAB for _ in range(k)]
FIRST = ["Jürgen", "Anna", "Björn", "Zoë", "Peter", "Grace", "Søren", "Heike"]
LAST = ["Müller", "Schmidt", "Weber", "Öztürk", "Brown", "Hall", "Lindqvist"]
LATIN1 = "Latin-1"


def can_encode(s, charset):
    try:
        s.encode(charset)
        return True
    except UnicodeEncodeError:
        return False


def latin1_ok(s):
    return can_encode(s, "iso-8859-1")


def qp(text, charset, soft=()):
    """Quoted-printable of text: a soft line break after every word in soft (inside the
    word, before its last 6 characters) and whenever a line would pass 70 characters."""
    out, line = [], ""
    for ch in text:
        if ch == "\n":
            out.append(line + "\r\n")
            line = ""
            continue
        b = ch.encode(charset)
        enc = "".join("=%02X" % x for x in b) if (len(b) > 1 or b[0] > 126 or ch == "=") else ch
        if len(line) + len(enc) > 70:
            out.append(line + "=\r\n")
            line = ""
        line += enc
        for w in soft:
            if line.endswith(qp_plain(w[:-6], charset)):
                out.append(line + "=\r\n")
                line = ""
    out.append(line + "\r\n")
    return "".join(out)


def qp_plain(s, charset):
    return "".join(("=%02X" % x if x > 126 or x == 61 else chr(x)) for x in s.encode(charset))


def b64_lines(data):
    s = base64.b64encode(data).decode()
    return "".join(s[i:i + 76] + "\r\n" for i in range(0, len(s), 76))


def ew_b(data, charset="UTF-8"):
    return "=?%s?B?%s?=" % (charset, base64.b64encode(data).decode())


def ew_q(text, charset):
    return "=?%s?Q?%s?=" % (charset, "".join(
        "_" if c == " " else c if c.isascii() and c.isalnum() else "".join("=%02X" % x for x in c.encode(charset.split("*")[0]))
        for c in text))


class Msg:
    pass


def person(rng):
    first, last = rng.choice(FIRST), rng.choice(LAST)
    addr = "%s.%s@%s" % (first.encode("ascii", "ignore").decode().lower(), last.encode("ascii", "ignore").decode().lower(),
                         rng.choice(["example.org", "firma-nord.test", "post.test"]))
    name = first + " " + last
    style = rng.randrange(3)
    if style == 0 or not latin1_ok(name):
        raw = "%s <%s>" % (ew_b(name.encode()), addr)
    elif style == 1:
        raw = "%s <%s>" % (ew_q(name, "ISO-8859-1"), addr)
    elif rng.random() < 0.8:
        raw = "%s <%s>" % (name, addr)  # 8-bit UTF-8, as some mailers send it
    else:
        # 8-bit Latin-1, as older mailers send it (kept as bytes through surrogateescape)
        raw = ("%s <%s>" % (name, addr)).encode("iso-8859-1").decode("utf-8", "surrogateescape")
    return raw, "%s <%s>" % (name, addr)


def subject(rng, i):
    """(raw header value, decoded text)"""
    n = rng.randrange(1000, 9999)
    kind = i % 6
    if kind == 0:  # folded (RFC 5322 §2.2.3): unfolded, the line break is no character
        return "Angebot %d\r\n zum Projekt" % n, "Angebot %d zum Projekt" % n
    if kind == 1:
        t = "Größe der Lieferung %d" % n
        return ew_q(t, "UTF-8*de" if n % 2 else "UTF-8"), t  # with an RFC 2231 language
    if kind == 2:  # padded B words side by side: "Grö" + "ße" (GMime loses the second)
        return "%s %s Bestellung %d" % (ew_b("Grö".encode()), ew_b("ße".encode()), n), "Größe Bestellung %d" % n
    if kind == 3:
        t = "Übersicht März %d" % n
        return ew_q(t, "ISO-8859-1"), t
    if kind == 4:
        t = "Party 🎉 am Freitag %d" % n
        return ew_b(t.encode()), t
    b = "Straße %d" % n  # the ß split between two words
    enc = b.encode()
    return "%s %s" % (ew_b(enc[:5]), ew_b(enc[5:])), b


def html_text(text):
    """The text the server's HTML reduction gives: tags as spaces, entities decoded."""
    return html.unescape(re.sub(r"<[^>]*>", " ", text))


ENTITIES = {"ä": "&auml;", "ö": "&ouml;", "ü": "&uuml;", "Ä": "&Auml;", "Ö": "&Ouml;", "Ü": "&Uuml;",
            "ß": "&szlig;", "é": "&eacute;", "ï": "&iuml;", "à": "&agrave;", "€": "&euro;", "„": "&bdquo;",
            "“": "&ldquo;"}


def html_of(words):
    """HTML as mailers write it: named entities (Outlook), numeric ones, raw UTF-8."""
    parts = []
    for k, w in enumerate(words):
        w = w.replace("&", "&amp;")
        if k % 3 == 0:
            w = "".join(ENTITIES.get(c, c) for c in w)
        elif k % 3 == 1:
            w = "".join("&#%d;" % ord(c) if 127 < ord(c) < 0x10000 else c for c in w)
        parts.append("<b>%s</b>" % w if k % 5 == 2 else w)
    city = ["K&ouml;ln", "M&uuml;nchen", "D&uuml;sseldorf", "Z&uuml;rich"][len(words) % 4]
    return ("<html><body><p>" + " ".join(parts) + "</p><p>Viele Gr&uuml;&szlig;e aus %s</p>"
            "<p>Newsletterabmeldung</p></body></html>" % city)


def make(i, rng, user):
    m = Msg()
    m.msgid = "<%d.searchq@gen.test>" % i
    fr_raw, m.frm = person(rng)
    m.to = "Kundendienst <%s>" % user
    to_raw = m.to
    m.cc = m.bcc = ""
    extra = ""
    if rng.random() < 0.3:
        cc_raw, m.cc = person(rng)
        extra += "Cc: %s\r\n" % cc_raw
    if rng.random() < 0.1:
        m.bcc = "Archiv <archiv@firma-nord.test>"
        extra += "Bcc: %s\r\n" % m.bcc
    m.project = rng.choice(["apollo", "gemini", "mercury"])
    extra += "X-Project: %s\r\n" % m.project
    subj_raw, m.subject = subject(rng, i)
    m.date = T0 + datetime.timedelta(days=(i * 400) // N)
    m.flags = "".join(f for f, p in (("F", 0.1), ("R", 0.15), ("S", 0.6)) if rng.random() < p)
    words = [rng.choice(WORDS) for _ in range(rng.randrange(8, 24))]
    kind = i % 7
    charset = "utf-8"
    if kind == 2:  # ISO-8859-1 or Windows-1252 quoted-printable: only words they can hold
        charset = "iso-8859-1" if i % 2 else "windows-1252"
        words = [w for w in words if can_encode(w, charset)] or ["meeting"]
    text = " ".join(words[:len(words) // 2]) + "\n" + " ".join(words[len(words) // 2:]) + "\n"
    m.body = text
    m.files = []
    head = ("From: %s\r\nTo: %s\r\n%sSubject: %s\r\nDate: %s\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n" %
            (fr_raw, to_raw, extra, subj_raw, m.date.strftime("%a, %d %b %Y %H:%M:%S +0000"), m.msgid))
    if kind in (0, 6):
        body = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + \
            text.replace("\n", "\r\n")
    elif kind in (1, 2):
        body = ("Content-Type: text/plain; charset=%s\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" % charset +
                qp(text, charset, soft=("Kostenvoranschlag", "Öffnungszeiten")))
    elif kind == 3:
        body = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + \
            b64_lines(text.encode())
    elif kind == 4 and i % 14 == 4:  # HTML alone
        html = html_of(words)
        m.body = html_text(html)
        body = "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + \
            qp(html, "utf-8")
    elif kind == 4:
        html = html_of(words)
        m.body = text + html_text(html)
        body = ("Content-Type: multipart/alternative; boundary=\"alt%d\"\r\n\r\n--alt%d\r\n"
                "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n%s"
                "--alt%d\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n%s"
                "--alt%d--\r\n" % (i, i, qp(text, "utf-8"), i, b64_lines(html.encode()), i))
    else:  # kind 5: text and an attachment with a name
        k = rng.randrange(100)
        if rng.random() < 0.5:
            name = "Prüfbericht-%d.pdf" % k
            q = urllib.parse.quote(name)
            if k % 2:
                disp = "attachment; filename*=UTF-8''%s" % q
            else:  # RFC 2231 continuations, the ü's two octets split
                disp = "attachment;\r\n filename*0*=UTF-8''%s;\r\n filename*1*=%s" % (q[:5], q[5:])
        else:
            name = "rechnung-%d.pdf" % k
            disp = "attachment; filename=\"%s\"" % name
        m.files.append(name)
        pdf = b"%PDF-1.4\n% Geheimwort " + rng.randbytes(300)
        body = ("Content-Type: multipart/mixed; boundary=\"mix%d\"\r\n\r\n--mix%d\r\n"
                "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s"
                "--mix%d\r\nContent-Type: application/pdf\r\nContent-Disposition: %s\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n%s--mix%d--\r\n" %
                (i, i, text.replace("\n", "\r\n"), i, disp, b64_lines(pdf), i))
    m.raw = (head + body).encode("utf-8", "surrogateescape")
    # what TEXT sees besides the body: the decoded header fields and the file names
    m.headers = "\n".join([m.frm, m.to, m.cc, m.bcc, m.subject, m.project, m.msgid] + m.files)
    return m


def write_maildir(root, msgs):
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    for i, m in enumerate(msgs):
        p = os.path.join(root, "cur", "%d.M%dP1.gen:2,%s" % (1700000000 + i, i, m.flags))
        with open(p, "wb") as f:
            f.write(m.raw)
        t = (m.date + datetime.timedelta(hours=1)).timestamp()
        os.utime(p, (t, t))


# ------------------------------------------------------------------ clients

class Imap:
    """A bare IMAP client that sends every string as a LITERAL+ literal (any number of
    them in one command, which imaplib cannot)."""

    def __init__(self, srv, user):
        self.sock = socket.create_connection((srv.host, srv.port("imap")), timeout=120)
        self.f = self.sock.makefile("rb")
        self.tag = 0
        self.f.readline()
        self.cmd(b"LOGIN", self.lit(user), self.lit("secret"))
        self.cmd(b"SELECT INBOX")

    @staticmethod
    def lit(s):
        b = s.encode()
        return b"{%d+}\r\n" % len(b) + b

    def cmd(self, *parts):
        self.tag += 1
        tag = b"t%d" % self.tag
        self.sock.sendall(tag + b" " + b" ".join(parts) + b"\r\n")
        lines = []
        while True:
            line = self.f.readline()
            assert line, "connection closed"
            if line.startswith(tag + b" "):
                assert line.split()[1] == b"OK", line
                return lines
            lines.append(line)

    def search(self, prog):
        out = self.cmd(b"UID SEARCH CHARSET UTF-8", prog)
        hits = [l for l in out if l.startswith(b"* SEARCH")]
        assert len(hits) == 1, out
        return set(int(x) for x in hits[0].split()[2:])


def jmap_client(srv, user):
    conn = http.client.HTTPSConnection(srv.tls_name, srv.port("https"), context=srv.ssl_context(), timeout=120)
    tok = base64.b64encode(("%s:secret" % user).encode()).decode()
    hdr = {"Content-Type": "application/json", "Authorization": "Basic " + tok}

    def call(name, args):
        body = {"using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
                "methodCalls": [[name, args, "c"]]}
        conn.request("POST", "/jmap/api", json.dumps(body), hdr)
        r = conn.getresponse()
        data = r.read()
        assert r.status == 200, data
        resp = json.loads(data)["methodResponses"][0]
        assert resp[0] == name, resp
        return resp[1]

    conn.request("GET", "/.well-known/jmap", headers=hdr)
    r = conn.getresponse()
    sess = json.loads(r.read())
    return call, sess["primaryAccounts"]["urn:ietf:params:jmap:mail"]


# ------------------------------------------------------------------ the searches

def fold(s):
    return s.casefold()


def has(text, needle):
    return fold(needle) in fold(text)


def day(s):
    return datetime.datetime.strptime(s, "%d-%b-%Y").replace(hour=12, tzinfo=datetime.timezone.utc)


def uidset(lo, hi):
    return lambda m: lo <= m.uid <= hi


def build_searches():
    """(IMAP program as a list of atoms and ('s', string) literals, oracle(m) -> bool)"""
    S = lambda s: ("s", s)  # noqa: E731
    body = lambda n: lambda m: has(m.body, n)  # noqa: E731
    text = lambda n: lambda m: has(m.headers, n) or has(m.body, n)  # noqa: E731
    return [
        (["SUBJECT", S("größe")], lambda m: has(m.subject, "größe")),
        (["SUBJECT", S("GRÖSSE")], lambda m: has(m.subject, "grösse")),
        (["SUBJECT", S("übersicht märz")], lambda m: has(m.subject, "übersicht märz")),
        (["SUBJECT", S("straße")], lambda m: has(m.subject, "straße")),
        (["SUBJECT", S("🎉")], lambda m: "🎉" in m.subject),
        (["SUBJECT", S("ge")], lambda m: has(m.subject, "ge")),
        (["SUBJECT", S("0 zum projekt")], lambda m: has(m.subject, "0 zum projekt")),
        (["TEXT", S("5 zum projekt")], text("5 zum projekt")),
        (["FROM", S("søren")], lambda m: has(m.frm, "søren")),
        (["FROM", S("müller")], lambda m: has(m.frm, "müller")),
        (["FROM", S("zoë öztürk")], lambda m: has(m.frm, "zoë öztürk")),
        (["TO", S("kundendienst")], lambda m: True),
        (["CC", S("søren")], lambda m: has(m.cc, "søren")),
        (["BCC", S("archiv@")], lambda m: has(m.bcc, "archiv@")),
        (["BODY", S("voranschlag")], body("voranschlag")),
        (["BODY", S("Kostenvoranschlag")], body("kostenvoranschlag")),
        (["BODY", S("nungszeit")], body("nungszeit")),
        (["BODY", S("größe")], body("größe")),
        (["BODY", S("GRÖSSE")], body("grösse")),
        (["BODY", S("😀")], body("😀")),
        (["BODY", S("ß")], body("ß")),
        (["BODY", S("zü")], body("zü")),
        (["BODY", S("newsletterabmeldung")], body("newsletterabmeldung")),
        (["BODY", S("grüße aus köln")], body("grüße aus köln")),
        (["BODY", S("münchen")], body("münchen")),
        (["BODY", S("at&t")], body("at&t")),
        (["BODY", S("café zürich")], body("café zürich")),
        (["BODY", S("geheimwort")], lambda m: False),
        (["BODY", S("5€-gutschein")], body("5€-gutschein")),
        (["BODY", S("„zitat“")], body("„zitat“")),
        (["BODY", S("grüsse")], body("grüsse")),
        (["BODY", S("prüfbericht")], lambda m: False),
        (["TEXT", S("prüfbericht")], text("prüfbericht")),
        (["TEXT", S("rechnung-4")], text("rechnung-4")),
        (["TEXT", S("prüfbericht-4")], text("prüfbericht-4")),
        (["TEXT", S("größe")], text("größe")),
        (["TEXT", S("jürgen")], text("jürgen")),
        (["TEXT", S("xqzzy-nowhere")], lambda m: False),
        (["TEXT", S("nowhere")], lambda m: False),
        (["TEXT", S("ö")], text("ö")),
        (["HEADER", S("X-Project"), S("emin")], lambda m: "emin" in m.project),
        (["HEADER", S("Subject"), S("bestellung")], lambda m: has(m.subject, "bestellung")),
        (["HEADER", S("Message-ID"), S("<1234.searchq")], lambda m: m.msgid.startswith("<1234.searchq")),
        (["OR", "BODY", S("lieferschein"), "SUBJECT", S("übersicht")],
         lambda m: has(m.body, "lieferschein") or has(m.subject, "übersicht")),
        (["NOT", "BODY", S("meeting")], lambda m: not has(m.body, "meeting")),
        (["BODY", S("budget"), "SINCE", "1-Mar-2024", "BEFORE", "1-Jun-2024"],
         lambda m: has(m.body, "budget") and day("1-Mar-2024") <= m.date < day("1-Jun-2024")),
        (["BODY", S("invoice"), "FLAGGED"], lambda m: has(m.body, "invoice") and "F" in m.flags),
        (["TEXT", S("quarterly"), "UNSEEN", "UID", "1000:5000"],
         lambda m: text("quarterly")(m) and "S" not in m.flags and 1000 <= m.uid <= 5000),
        (["UID", "%d:*" % (N - 1000), "BODY", S("straße")], lambda m: m.uid >= N - 1000 and has(m.body, "straße")),
        (["OR", "FROM", S("müller"), "CC", S("müller"), "NOT", "SEEN"],
         lambda m: (has(m.frm, "müller") or has(m.cc, "müller")) and "S" not in m.flags),
        (["NOT", "TEXT", S("emoji"), "ANSWERED"], lambda m: not text("emoji")(m) and "R" in m.flags),
        (["SUBJECT", S("bestellung"), "BODY", S("größe")], lambda m: has(m.subject, "bestellung") and has(m.body, "größe")),
        (["OR", "TEXT", S("déjà vu"), "BODY", S("naïve")], lambda m: text("déjà vu")(m) or has(m.body, "naïve")),
        (["BODY", S("meeting"), "BODY", S("budget"), "NOT", "BODY", S("invoice")],
         lambda m: has(m.body, "meeting") and has(m.body, "budget") and not has(m.body, "invoice")),
    ]


def run_all(srv, user, progs, sessions=2):
    """The UID sets of the programs, run by `sessions` IMAP sessions side by side (the
    server runs SEARCH on its worker pool: both cores work on the scans)."""
    out = [None] * len(progs)

    def worker(k):
        im = Imap(srv, user)
        for i in range(k, len(progs), sessions):
            out[i] = im.search(progs[i])
        im.sock.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(o is not None for o in out), "a search session failed"
    return out


def uses_index(prog):
    """Whether the index answers part of prog (BODY or TEXT with 3 or more characters):
    the only searches whose scan is other code than their indexed run."""
    return any(a in ("BODY", "TEXT") and len(b[1]) >= 3 for a, b in zip(prog, prog[1:]) if isinstance(b, tuple))


def wire(prog):
    return b" ".join(Imap.lit(a[1]) if isinstance(a, tuple) else a.encode() for a in prog)


def show(prog):
    return " ".join('"%s"' % a[1] if isinstance(a, tuple) else a for a in prog)


# JMAP filters and the IMAP program each must equal
JMAP = [({"text": "größe"}, ["TEXT", ("s", "größe")]),
        ({"text": "prüfbericht"}, ["TEXT", ("s", "prüfbericht")]),
        ({"text": "ö"}, ["TEXT", ("s", "ö")]),
        ({"body": "voranschlag"}, ["BODY", ("s", "voranschlag")]),
        ({"body": "😀"}, ["BODY", ("s", "😀")]),
        ({"subject": "straße"}, ["SUBJECT", ("s", "straße")]),
        ({"from": "müller"}, ["FROM", ("s", "müller")]),
        ({"to": "kundendienst"}, ["TO", ("s", "kundendienst")]),
        ({"cc": "søren"}, ["CC", ("s", "søren")]),
        ({"bcc": "archiv"}, ["BCC", ("s", "archiv")]),
        ({"operator": "AND", "conditions": [{"body": "café"}, {"from": "weber"}]},
         ["BODY", ("s", "café"), "FROM", ("s", "weber")])]


@pytest.fixture(scope="module")
def corpus(postamt_bin):
    srv = new_server(postamt_bin)
    try:
        user = new_user(srv, "scale")
        rng = random.Random(23)
        msgs = [make(i, rng, user) for i in range(N)]
        root = os.path.join(os.path.dirname(srv.dir), "maildir")
        write_maildir(root, msgs)
        r = srv.run("import", user, root, timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr
        helpers.wait_indexed(srv, timeout=600)
        imap = Imap(srv, user)
        by_id = {m.msgid: m for m in msgs}
        emailid = {}
        for line in imap.cmd(b"UID FETCH 1:* (EMAILID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"):
            mu, me = re.search(rb"UID (\d+)", line), re.search(rb"EMAILID \((\S+)\)", line)
            if mu and me:
                uid, eid = int(mu.group(1)), me.group(1).decode()
            mi = re.match(rb"Message-ID: (\S+)", line, re.I)
            if mi:
                by_id[mi.group(1).decode()].uid = uid
                emailid[eid] = uid
        assert len(emailid) == N and all(hasattr(m, "uid") for m in msgs)
    except BaseException:
        finish_server(srv)  # not left running when the setup fails
        raise
    yield srv, user, imap, msgs, emailid
    imap.sock.close()
    finish_server(srv)


def test_jmap_query_equals_imap(corpus):
    srv, user, imap, msgs, emailid = corpus
    call, account = jmap_client(srv, user)
    bad = []
    for flt, prog in JMAP:
        ids, pos = [], 0
        while True:
            r = call("Email/query", {"accountId": account, "filter": flt, "position": pos, "limit": 5000})
            ids += r["ids"]
            if len(r["ids"]) < 5000:
                break
            pos += 5000
        got = set(emailid[i] for i in ids)
        want = imap.search(wire(prog))
        if got != want:
            bad.append("%s: IMAP %d, JMAP %d" % (json.dumps(flt, ensure_ascii=False), len(want), len(got)))
    assert not bad, "\n".join(bad)


def test_imap_search_oracle_index_and_scan(corpus):
    srv, user, _, msgs, _ = corpus
    searches = build_searches()
    assert len(searches) >= 30
    want = [set(m.uid for m in msgs if oracle(m)) for _, oracle in searches]
    # the corpus exercises what it claims: no search is trivially empty or full by accident
    assert sum(1 for w in want if 0 < len(w) < N) >= 30
    bad = []
    for (prog, _), w, got in zip(searches, want, run_all(srv, user, [wire(p) for p, _ in searches])):
        if got != w:
            bad.append("index: %s: %d expected, %d found, missing %s, extra %s" % (
                show(prog), len(w), len(got), sorted(w - got)[:5], sorted(got - w)[:5]))
    # every message too big for the index: the same server reads the files
    srv.add_config("search.index_text_max = 1")
    r = srv.run("index", "rebuild", timeout=600)
    assert r.returncode == 0, r.stderr
    assert helpers.index_status(srv)["too_big"] == N
    scanned = [(p, w) for (p, _), w in zip(searches, want) if uses_index(p)]
    for (prog, w), got in zip(scanned, run_all(srv, user, [wire(p) for p, _ in scanned])):
        if got != w:
            bad.append("scan: %s: %d expected, %d found, missing %s, extra %s" % (
                show(prog), len(w), len(got), sorted(w - got)[:5], sorted(got - w)[:5]))
    assert not bad, "\n".join(bad)
