"""A small IMAP client that keeps its view of the selected mailbox only from the
server's untagged responses, as a real client does (issue 16): the sequence map
(EXISTS, EXPUNGE, VANISHED), each message's flags and keywords (FETCH FLAGS) and,
with CONDSTORE, its MODSEQ (FETCH MODSEQ), and the client's HIGHESTMODSEQ computed
as RFC 7162 §3.1.2.1/§6 tells a client to. It records what a correct server never
does (a FETCH for a sequence number it does not have, a UID that changes, a MODSEQ
that goes down, a keyword not announced in FLAGS, a BAD reply) in `problems`.

Responses are parsed by a tokenizer over the raw bytes (atoms, quoted strings,
literals and literal8, parenthesised lists), so FETCH responses with body literals
are understood as a whole."""

import re
import socket

SYSTEM_FLAGS = {"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"}


class Msg:
    __slots__ = ("uid", "flags", "modseq")

    def __init__(self, uid=None, flags=None, modseq=None):
        self.uid = uid
        self.flags = flags
        self.modseq = modseq

    def __repr__(self):
        return "Msg(uid=%r, flags=%r, modseq=%r)" % (self.uid, sorted(self.flags or ()), self.modseq)


def parse_items(data, pos=0, end_char=None):
    """Tokenizes data (bytes) from pos: returns (list, pos). Lists are Python lists,
    strings and atoms str (atoms keep brackets: BODY[HEADER.FIELDS (X)] comes back as
    the atom "BODY[HEADER.FIELDS" followed by a list and "]"), literals bytes."""
    out = []
    n = len(data)
    while pos < n:
        c = data[pos:pos + 1]
        if c == b" ":
            pos += 1
            continue
        if c == b"\r" or c == b"\n":
            pos += 1
            continue
        if c == b"(":
            sub, pos = parse_items(data, pos + 1, b")")
            out.append(sub)
            continue
        if c == b")" or c == b"]" and end_char == b"]":
            return out, pos + 1
        if c == b'"':
            pos += 1
            s = bytearray()
            while data[pos:pos + 1] != b'"':
                if data[pos:pos + 1] == b"\\":
                    pos += 1
                s += data[pos:pos + 1]
                pos += 1
            out.append(s.decode("utf-8", "replace"))
            pos += 1
            continue
        m = re.compile(rb"~?\{(\d+)\+?\}\r\n").match(data, pos)
        if m:
            k = int(m.group(1))
            out.append(bytes(data[m.end():m.end() + k]))
            pos = m.end() + k
            continue
        m = re.compile(rb"[^ ()\r\n\"]+(\[[^\]]*\])?(<[0-9.]+>)?").match(data, pos)
        if m is None:
            raise ValueError("cannot tokenize %r" % data[pos:pos + 40])
        tok = m.group(0)
        if b"[" in tok and not tok.endswith((b"]", b">")) and b"]" not in tok:
            # "BODY[HEADER.FIELDS (A B)]": the section contains a list; keep it as text
            j = data.index(b"]", pos)
            tok = data[pos:j + 1]
            m2 = re.compile(rb"<[0-9.]+>").match(data, j + 1)
            if m2:
                tok += m2.group(0)
            pos = j + 1 + (len(m2.group(0)) if m2 else 0)
        else:
            pos = m.end()
        out.append(tok.decode("utf-8", "replace"))
    return out, pos


def fetch_pairs(lst):
    """The name/value pairs of a FETCH msg-att list: {NAME_UPPER: value}."""
    d = {}
    for i in range(0, len(lst) - 1, 2):
        name = lst[i] if isinstance(lst[i], str) else repr(lst[i])
        d[name.upper()] = lst[i + 1]
    return d


def parse_set(s):
    out = []
    for part in s.split(","):
        if ":" in part:
            a, b = part.split(":")
            a, b = int(a), int(b)
            out.extend(range(min(a, b), max(a, b) + 1))
        else:
            out.append(int(part))
    return out


class ViewClient:
    """One IMAP session over plain TCP on loopback. mode: "plain", "condstore"
    (SELECT ... (CONDSTORE)) or "qresync" (ENABLE QRESYNC, VANISHED instead of
    EXPUNGE)."""

    def __init__(self, host, port, user, password, mode="plain", name="", timeout=30):
        self.host, self.port, self.user, self.password = host, port, user, password
        self.mode = mode
        self.name = name or user
        self.timeout = timeout
        self.problems = []
        self.log = []            # the last lines seen, for the report on a problem
        self.tagn = 0
        self.msgs = []           # sequence map: Msg per sequence number
        self.keywords = set()    # announced in FLAGS
        self.hms = 0             # the client's HIGHESTMODSEQ
        self.uidvalidity = None
        self.sock = None
        self.buf = b""
        self.trace = None        # a file that gets every line (debugging)

    # ------------------------------------------------------------ wire
    def connect(self):
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self.buf = b""
        greeting = self._rawline()
        assert greeting.startswith(b"* OK"), greeting
        typ, _ = self.command("LOGIN %s %s" % (self.user, self.password))
        assert typ == "OK"
        if self.mode == "qresync":
            self.command("ENABLE QRESYNC")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError("%s: connection closed" % self.name)
        self.buf += d

    def _rawline(self):
        while b"\r\n" not in self.buf:
            self._fill()
        i = self.buf.index(b"\r\n")
        line, self.buf = self.buf[:i], self.buf[i + 2:]
        return line

    def _response(self):
        """One whole response (bytes, literals included with their {n}\\r\\n)."""
        out = self._rawline()
        while True:
            m = re.search(rb"~?\{(\d+)\}$", out)
            if not m:
                return out
            n = int(m.group(1))
            while len(self.buf) < n:
                self._fill()
            out += b"\r\n" + self.buf[:n]
            self.buf = self.buf[n:]
            out += self._rawline()

    def problem(self, text):
        self.problems.append("%s: %s (recent: %s)" % (self.name, text, " | ".join(self.log[-6:])))

    def command(self, text, literal=None, check=None, literal8=False):
        """Sends "TAG text" (with a non-synchronizing literal appended when given),
        applies every untagged response to the view and returns (status, tagged line).
        check(items) is called for each FETCH response's item dict."""
        self.tagn += 1
        tag = "v%d" % self.tagn
        if literal is None:
            self.sock.sendall(("%s %s\r\n" % (tag, text)).encode())
        elif literal8:
            self.sock.sendall(("%s %s~{%d}\r\n" % (tag, text, len(literal))).encode())
            cont = self._response()
            if not cont.startswith(b"+"):
                self.log.append("<" + cont[:160].decode("utf-8", "replace"))
                return cont.decode().split(" ", 2)[1], cont.decode()
            self.sock.sendall(literal + b"\r\n")
        else:
            self.sock.sendall(("%s %s{%d+}\r\n" % (tag, text, len(literal))).encode() + literal + b"\r\n")
        self.log.append(">%s %s" % (tag, text[:120]))
        if self.trace is not None:
            self.trace.write("%s >%s %s  [view %d]\n" % (self.name, tag, text[:200], len(self.msgs)))
        del self.log[:-40]
        hms_code = None
        max_modseq = 0
        self.flags_seen = set()
        self.last = []           # this command's untagged responses (bytes)
        while True:
            resp = self._response()
            self.log.append("<" + resp[:160].decode("utf-8", "replace"))
            if self.trace is not None:
                self.trace.write("%s <%s\n" % (self.name, resp[:200].decode("utf-8", "replace")))
            if resp.startswith(tag.encode() + b" "):
                line = resp.decode("utf-8", "replace")
                status = line.split(" ", 2)[1]
                m = re.search(r"\[HIGHESTMODSEQ (\d+)\]", line)
                if m:
                    hms_code = int(m.group(1))
                if status == "BAD":
                    self.problem("BAD reply")
                new = hms_code if hms_code is not None else max(self.hms, max_modseq)
                # a client that has not learned the UID of every message yet has not
                # seen everything up to that MODSEQ: it keeps the old value
                if any(x.uid is None for x in self.msgs):
                    new = min(new, self.hms)
                self.hms = new
                return status, line
            self.last.append(resp)
            r = self._untagged(resp, check)
            if isinstance(r, tuple):
                if r[0] == "hms":
                    hms_code = r[1]
                elif r[0] == "modseq":
                    max_modseq = max(max_modseq, r[1])

    # ------------------------------------------------------------ untagged
    def _untagged(self, resp, check):
        if resp.startswith(b"+"):
            return None
        m = re.match(rb"\* (\d+) (EXISTS|EXPUNGE|RECENT|FETCH)\b ?", resp)
        if m:
            n = int(m.group(1))
            what = m.group(2)
            if what == b"EXISTS":
                if n < len(self.msgs):
                    self.problem("EXISTS %d below the %d messages known" % (n, len(self.msgs)))
                while len(self.msgs) < n:
                    self.msgs.append(Msg())
                return None
            if what == b"EXPUNGE":
                if n < 1 or n > len(self.msgs):
                    self.problem("EXPUNGE %d of %d" % (n, len(self.msgs)))
                else:
                    del self.msgs[n - 1]
                return None
            if what == b"RECENT":
                return None
            items, _ = parse_items(resp, m.end())
            return self._fetch(n, fetch_pairs(items[0]), check)
        m = re.match(rb"\* VANISHED (\(EARLIER\) )?([0-9:,]+)", resp)
        if m:
            gone = set(parse_set(m.group(2).decode()))
            if m.group(1) is None:
                known = {x.uid for x in self.msgs}
                # a message known only by its number (EXISTS, then expunged before the
                # client learned its UID) lies between its neighbours' UIDs
                for u in sorted(gone - known):
                    for i, x in enumerate(self.msgs):
                        if x.uid is not None:
                            continue
                        lo = max([y.uid for y in self.msgs[:i] if y.uid is not None] or [0])
                        hi = min([y.uid for y in self.msgs[i + 1:] if y.uid is not None] or [1 << 32])
                        if lo < u < hi:
                            x.uid = u
                            break
                    else:
                        self.problem("VANISHED %d not in the view" % u)
            self.msgs = [x for x in self.msgs if x.uid not in gone]
            return None
        m = re.match(rb"\* FLAGS \((.*)\)", resp)
        if m:
            self.keywords = {f for f in m.group(1).decode().split() if not f.startswith("\\")}
            return None
        m = re.search(rb"\[HIGHESTMODSEQ (\d+)\]", resp)
        if m:
            return ("hms", int(m.group(1)))
        m = re.search(rb"\[UIDVALIDITY (\d+)\]", resp)
        if m:
            self.uidvalidity = int(m.group(1))
        return None

    def _fetch(self, n, d, check):
        if n < 1 or n > len(self.msgs):
            self.problem("FETCH for sequence number %d of %d" % (n, len(self.msgs)))
            return None
        x = self.msgs[n - 1]
        if "UID" in d:
            uid = int(d["UID"])
            if x.uid is not None and x.uid != uid:
                self.problem("sequence %d was UID %d, FETCH says %d" % (n, x.uid, uid))
            x.uid = uid
        if "FLAGS" in d:
            fl = set(d["FLAGS"]) - {"\\Recent"}
            for f in fl:
                if not f.startswith("\\") and f not in self.keywords:
                    self.problem("keyword %s not in FLAGS" % f)
                    self.keywords.add(f)  # once is enough
            x.flags = fl
            self.flags_seen.add(id(x))
        ret = None
        if "MODSEQ" in d:
            ms = int(d["MODSEQ"][0])
            if x.modseq is not None and ms < x.modseq:
                self.problem("UID %s: MODSEQ went down from %d to %d" % (x.uid, x.modseq, ms))
            x.modseq = ms
            ret = ("modseq", ms)
        if check is not None:
            check(self, d)
        return ret

    # ------------------------------------------------------------ mailbox
    def select(self, mailbox="INBOX"):
        self.msgs = []
        if self.mode == "condstore":
            typ, line = self.command("SELECT %s (CONDSTORE)" % mailbox)
        else:
            typ, line = self.command("SELECT %s" % mailbox)
        assert typ == "OK", line
        self.complete()

    def complete(self):
        """What a client does after EXISTS: fetch UID and FLAGS of what it lacks."""
        for _ in range(5):
            missing = [i + 1 for i, x in enumerate(self.msgs) if x.uid is None or x.flags is None]
            if not missing:
                return
            items = "(UID FLAGS MODSEQ)" if self.mode != "plain" else "(UID FLAGS)"
            self.command("FETCH %d:* %s" % (missing[0], items))

    def resync_qresync(self):
        """Reconnects and SELECTs with QRESYNC from what the view holds (RFC 7162
        §3.2.5), then rebuilds the sequence map from VANISHED (EARLIER) and FETCH."""
        known = {x.uid: x for x in self.msgs if x.uid is not None}
        hms = self.hms
        self.close()
        self.connect()
        self.msgs = []
        self.vanished_earlier = set()
        uids = ",".join(str(u) for u in sorted(known)) or "1"
        self.tagn += 1
        tag = "v%d" % self.tagn
        self.sock.sendall(("%s SELECT INBOX (QRESYNC (%d %d %s))\r\n" % (tag, self.uidvalidity, hms, uids)).encode())
        exists = None
        uidnext = None
        gone = set()
        fetched = {}
        if self.trace is not None:
            self.trace.write("%s >%s SELECT INBOX (QRESYNC (%d %d %s))\n" % (self.name, tag, self.uidvalidity, hms, uids))
        while True:
            resp = self._response()
            if self.trace is not None:
                self.trace.write("%s <%s\n" % (self.name, resp[:200].decode("utf-8", "replace")))
            if resp.startswith(tag.encode() + b" "):
                break
            m = re.match(rb"\* (\d+) EXISTS", resp)
            if m:
                exists = int(m.group(1))
                continue
            m = re.match(rb"\* VANISHED \(EARLIER\) ([0-9:,]+)", resp)
            if m:
                gone |= set(parse_set(m.group(1).decode()))
                continue
            m = re.match(rb"\* (\d+) FETCH ", resp)
            if m:
                items, _ = parse_items(resp, m.end())
                d = fetch_pairs(items[0])
                fetched[int(d["UID"])] = Msg(int(d["UID"]), set(d["FLAGS"]) - {"\\Recent"}, int(d["MODSEQ"][0]))
                continue
            m = re.search(rb"\[HIGHESTMODSEQ (\d+)\]", resp)
            if m:
                self.hms = int(m.group(1))
            m = re.search(rb"\[UIDNEXT (\d+)\]", resp)
            if m:
                uidnext = int(m.group(1))
            m = re.match(rb"\* FLAGS \((.*)\)", resp)
            if m:
                self.keywords = {f for f in m.group(1).decode().split() if not f.startswith("\\")}
        have = {u: x for u, x in known.items() if u not in gone}
        have.update(fetched)
        self.msgs = [have[u] for u in sorted(have)]
        if exists is None or len(self.msgs) > exists:
            self.problem("QRESYNC from %d: %d messages known + changed, EXISTS says %s" % (hms, len(self.msgs),
                                                                                        exists))
            return
        # messages that arrived after the SELECT's snapshot (EXISTS from the sync
        # before its tagged OK) are fetched as after any EXISTS; anything older must
        # have been among the known or the changed ones
        n0 = len(self.msgs)
        while len(self.msgs) < exists:
            self.msgs.append(Msg())
        self.complete()
        for x in self.msgs[n0:]:
            if x.uid is not None and uidnext is not None and x.uid < uidnext:
                self.problem("QRESYNC from %d: UID %d (below UIDNEXT %d) was neither known nor reported" %
                             (hms, x.uid, uidnext))

    def store_silent(self, seqs, uid, kind, flags):
        """STORE ... FLAGS.SILENT as a client does it: the flags of the messages the
        server did not answer with FLAGS (and did not list in MODIFIED) are what the
        client computes itself."""
        targets = [self.msgs[s - 1] for s in seqs]
        if uid:
            sset = ",".join(str(x.uid) for x in targets)
        else:
            sset = ",".join(str(s) for s in seqs)
        typ, line = self.command("%sSTORE %s %s (%s)" % ("UID " if uid else "", sset, kind, " ".join(flags)))
        if typ != "OK":
            return
        modified = set()
        m = re.search(r"\[MODIFIED ([0-9:,]+)\]", line)
        if m:
            modified = set(parse_set(m.group(1)))
        alive = {id(x) for x in self.msgs}
        for s, x in zip(seqs, targets):
            if id(x) not in alive or id(x) in self.flags_seen or (x.uid if uid else s) in modified:
                continue
            fl = set(x.flags or ())
            if kind.startswith("+"):
                fl |= set(flags)
            elif kind.startswith("-"):
                fl -= set(flags)
            else:
                fl = set(flags)
            x.flags = fl

    def snapshot(self, with_modseq):
        """[(uid, sorted flags, modseq or None)] in sequence order."""
        return [(x.uid, tuple(sorted(x.flags or ())), x.modseq if with_modseq else None) for x in self.msgs]
