"""A small authoritative DNS server for the end-to-end tests, on Debian's python3-dnslib.

postamt is pointed at it with `dns.server = 127.0.0.1:PORT` (DESIGN.md §1 "DNS"), so
every question postamt asks (MX, A/AAAA, PTR, TXT, TLSA, SRV) is answered from a Python
dict of records the test controls. It listens on UDP and TCP on the same free loopback
port and answers authoritatively:

    stub = DnsStub({
        "example.test": {"MX": ["10 mx.example.test."], "TXT": ["v=spf1 mx -all"]},
        "mx.example.test": {"A": ["127.0.0.1"], "AAAA": ["::1"]},
        "big.test": {"TXT": ["x" * 3000]},              # split into 255-byte strings
        "two.test": {"TXT": [("v=DKIM1; k=ed25519; ", "p=...")]},  # explicit strings
        "1.0.0.127.in-addr.arpa": {"PTR": ["mx.example.test."]},
        "www.test": {"CNAME": ["mx.example.test."]},
        "slow.test": "timeout",                          # never answered
        "broken.test": "servfail",                       # SERVFAIL (also "refused")
    })
    stub.start(); ...; stub.stop()        # or the `dns_stub` fixture of conftest.py

Record data is zone-file text for its type (dnslib parses it); TXT records are a str
(or bytes), cut into character-strings of at most 255 bytes, or a tuple of strings
sent as they are. A name that exists with other types gets NODATA (NOERROR, no
answer, an SOA for negative caching); a name with no records at all, and no records
below it, gets NXDOMAIN. CNAMEs are followed inside the data (as an authoritative
server does for its own zone), at most 16 steps, so a loop ends with a partial chain.
A UDP answer larger than the client's EDNS buffer (512 bytes without EDNS) or than
`udp_limit` is sent truncated (TC, no records); the client then asks over TCP.
`queries` records every question as (name, type, "udp"|"tcp").
"""

import socket
import struct
import sys
import threading

from dnslib import CLASS, EDNS0, DNSRecord, QTYPE, RCODE, RR, SOA

BEHAVIOURS = ("timeout", "servfail", "refused")


def _norm(name):
    return str(name).rstrip(".").lower()


def _txt_strings(data):
    if isinstance(data, tuple):
        return [s.encode() if isinstance(s, str) else bytes(s) for s in data]
    if isinstance(data, str):
        data = data.encode()
    data = bytes(data)
    if not data:
        return [b""]
    return [data[i:i + 255] for i in range(0, len(data), 255)]


def _quote(s):
    return '"' + "".join(chr(c) if 32 <= c < 127 and c not in (34, 92) else "\\%03d" % c for c in s) + '"'


class DnsStub:
    def __init__(self, records=None, host="127.0.0.1", ttl=300, negative_ttl=60, udp_limit=None):
        self.host = host
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.udp_limit = udp_limit  # also truncate UDP answers above this size
        self.queries = []
        self._lock = threading.Lock()
        self._records = {}  # name -> {type: [data, ...]} or a behaviour word
        self._udp = self._tcp = None
        self._threads = []
        self._stopping = False
        self.port = None
        for name, value in (records or {}).items():
            self.set(name, value)

    # ------------------------------------------------------------------ data

    @property
    def server(self):
        """The value for `dns.server`."""
        return "%s:%d" % (self.host, self.port)

    def set(self, name, value):
        """Replaces the records of name: a dict {TYPE: [data, ...]} or a behaviour word
        ("timeout", "servfail", "refused")."""
        if isinstance(value, str):
            assert value in BEHAVIOURS, value
        else:
            value = {t.upper(): list(v) for t, v in value.items()}
        with self._lock:
            self._records[_norm(name)] = value

    def add(self, name, rtype, data):
        """Adds one record (zone-file data for its type)."""
        with self._lock:
            entry = self._records.setdefault(_norm(name), {})
            assert isinstance(entry, dict), "name %s has a behaviour" % name
            entry.setdefault(rtype.upper(), []).append(data)

    def remove(self, name, rtype=None):
        """Removes the records of name (of one type, or all)."""
        with self._lock:
            if rtype is None:
                self._records.pop(_norm(name), None)
            elif isinstance(self._records.get(_norm(name)), dict):
                self._records[_norm(name)].pop(rtype.upper(), None)

    def add_zone(self, text):
        """Adds the records of zone-file lines `NAME TTL IN TYPE DATA` (`;` comments), as
        `postamt dns` prints them."""
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith(";"):
                continue
            for rr in RR.fromZone(line):
                rtype = QTYPE[rr.rtype]
                if rtype == "TXT":
                    data = tuple(rr.rdata.data)
                else:
                    data = rr.rdata.toZone()
                self.add(str(rr.rname), rtype, data)

    def count(self, name, rtype=None, proto=None):
        """How many questions for name (and type, and transport) arrived."""
        with self._lock:
            return sum(1 for n, t, p in self.queries
                       if n == _norm(name) and (rtype is None or t == rtype) and (proto is None or p == proto))

    # --------------------------------------------------------------- answers

    def _rr(self, name, rtype, data):
        if rtype == "TXT":
            zone = "%s %d IN TXT %s" % (name, self.ttl, " ".join(_quote(s) for s in _txt_strings(data)))
        else:
            zone = "%s %d IN %s %s" % (name, self.ttl, rtype, data)
        return RR.fromZone(zone)[0]

    def _exists_below(self, name):
        suffix = "." + name
        return any(n.endswith(suffix) for n in self._records)

    def answer(self, request):
        """The reply to a parsed request, or None for no answer at all."""
        reply = request.reply()  # QR, the question, RD copied, AA set below
        reply.header.aa = 1
        reply.header.ra = 1
        if not request.questions:
            reply.header.rcode = RCODE.FORMERR
            return reply
        q = request.questions[0]
        qname, qtype = _norm(q.qname), QTYPE[q.qtype]
        with self._lock:
            name, seen = qname, set()
            while True:
                entry = self._records.get(name)
                if isinstance(entry, str):
                    if entry == "timeout":
                        return None
                    reply.header.rcode = RCODE.SERVFAIL if entry == "servfail" else RCODE.REFUSED
                    return reply
                if entry is None:
                    if name == qname and not self._exists_below(name):
                        reply.header.rcode = RCODE.NXDOMAIN
                        self._add_soa(reply, qname)
                    elif name == qname:
                        self._add_soa(reply, qname)
                    return reply
                owner = name + "."
                if qtype in entry:
                    for data in entry[qtype]:
                        reply.add_answer(self._rr(owner, qtype, data))
                    return reply
                if "CNAME" in entry and qtype != "CNAME" and name not in seen and len(seen) < 16:
                    seen.add(name)
                    target = entry["CNAME"][0]
                    reply.add_answer(self._rr(owner, "CNAME", target))
                    name = _norm(target)
                    continue
                if name == qname:
                    self._add_soa(reply, qname)
                return reply

    def _add_soa(self, reply, qname):
        apex = qname.split(".")[-1] + "."
        reply.add_auth(RR(apex, QTYPE.SOA, CLASS.IN, self.negative_ttl,
                          SOA("ns.stub.invalid.", "hostmaster.stub.invalid.",
                              (1, 3600, 600, 86400, self.negative_ttl))))

    def _reply_bytes(self, data, proto):
        try:
            return self._reply(data, proto)
        except Exception as e:  # noqa: BLE001 - a bug here must not stop the server
            sys.stderr.write("dnsstub: %r\n" % e)
            return None

    def _reply(self, data, proto):
        try:
            request = DNSRecord.parse(data)
        except Exception:  # noqa: BLE001 - junk in, no answer out
            return None
        if request.questions:
            q = request.questions[0]
            with self._lock:
                self.queries.append((_norm(q.qname), QTYPE[q.qtype], proto))
        reply = self.answer(request)
        if reply is None:
            return None
        if request.ar and any(rr.rtype == QTYPE.OPT for rr in request.ar):
            size = max(512, next(rr.rclass for rr in request.ar if rr.rtype == QTYPE.OPT))
            reply.add_ar(EDNS0(udp_len=1232))
        else:
            size = 512
        packed = reply.pack()
        if proto == "udp" and (len(packed) > size or (self.udp_limit is not None and len(packed) > self.udp_limit)):
            short = request.reply()
            short.header.aa = 1
            short.header.ra = 1
            short.header.tc = 1
            packed = short.pack()
        return packed

    # ------------------------------------------------------------ transport

    def start(self):
        for _ in range(50):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((self.host, 0))
            port = udp.getsockname()[1]
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((self.host, port))
            except OSError:
                udp.close()
                tcp.close()
                continue
            tcp.listen(16)
            self._udp, self._tcp, self.port = udp, tcp, port
            break
        else:
            raise RuntimeError("no free port for the DNS stub")
        for fn in (self._serve_udp, self._serve_tcp):
            t = threading.Thread(target=fn, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self):
        self._stopping = True
        for s in (self._udp, self._tcp):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        for t in self._threads:
            t.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _serve_udp(self):
        while not self._stopping:
            try:
                data, peer = self._udp.recvfrom(65535)
            except OSError:
                return
            out = self._reply_bytes(data, "udp")
            if out is not None:
                try:
                    self._udp.sendto(out, peer)
                except OSError:
                    pass

    def _serve_tcp(self):
        while not self._stopping:
            try:
                conn, _ = self._tcp.accept()
            except OSError:
                return
            t = threading.Thread(target=self._serve_conn, args=(conn,), daemon=True)
            t.start()

    def _serve_conn(self, conn):
        conn.settimeout(30)
        buf = b""
        try:
            while not self._stopping:
                while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                    chunk = conn.recv(65535)
                    if not chunk:
                        return
                    buf += chunk
                n = struct.unpack("!H", buf[:2])[0]
                msg, buf = buf[2:2 + n], buf[2 + n:]
                out = self._reply_bytes(msg, "tcp")
                if out is not None:
                    conn.sendall(struct.pack("!H", len(out)) + out)
        except OSError:
            pass
        finally:
            conn.close()
