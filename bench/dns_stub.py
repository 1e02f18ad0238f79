#!/usr/bin/env python3
"""The benchmark's DNS server: tests/e2e/dnsstub.py as a standalone process (scripts/bench).

usage: dns_stub.py PORTFILE STATSFILE [DKIM_TXT]

Answers authoritatively for the load generator's sender domain, so that postamt's port-25 checks (SPF,
DKIM, DMARC, iprev; docs/deliverability.md) get real answers over real DNS instead of waiting for
recursion on a machine without Internet:

    bench.example.org          TXT "v=spf1 ip4:127.0.0.1 -all", A 127.0.0.1, MX 10 bench.example.org.
    _dmarc.bench.example.org   TXT "v=DMARC1; p=none"
    1.0.0.127.in-addr.arpa     PTR client.bench.example.org.
    client.bench.example.org   A 127.0.0.1          (so iprev passes: the PTR name leads back to 127.0.0.1)
    bench._domainkey.bench.example.org   TXT DKIM_TXT (the load generator's --dkim-key), when given

Every other name gets NXDOMAIN at once. Writes "127.0.0.1:PORT" (the value for `dns.server`) to PORTFILE
once it listens; on SIGUSR1 writes the questions answered so far, per type, as JSON to STATSFILE; exits on
SIGTERM or SIGINT. The answers carry a TTL of 3600 s so that postamt's cache (docs/dns.md) holds them for
a whole run.
"""

import collections
import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from dnsstub import DnsStub  # noqa: E402

RECORDS = {
    "bench.example.org": {"TXT": ["v=spf1 ip4:127.0.0.1 -all"], "A": ["127.0.0.1"], "MX": ["10 bench.example.org."]},
    "_dmarc.bench.example.org": {"TXT": ["v=DMARC1; p=none"]},
    "1.0.0.127.in-addr.arpa": {"PTR": ["client.bench.example.org."]},
    "client.bench.example.org": {"A": ["127.0.0.1"]},
}


def main():
    portfile, statsfile = sys.argv[1], sys.argv[2]
    records = dict(RECORDS)
    if len(sys.argv) > 3:
        records["bench._domainkey.bench.example.org"] = {"TXT": [sys.argv[3]]}
    stub = DnsStub(records, ttl=3600).start()
    stop = threading.Event()

    def stats(*_):
        with stub._lock:
            q = list(stub.queries)
        by_type = collections.Counter(t for _, t, _ in q)
        with open(statsfile + ".tmp", "w") as f:
            json.dump({"queries": len(q), "by_type": dict(by_type),
                       "names": sorted({n for n, _, _ in q})[:50]}, f)
        os.replace(statsfile + ".tmp", statsfile)

    signal.signal(signal.SIGUSR1, stats)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with open(portfile + ".tmp", "w") as f:
        f.write(stub.server + "\n")
    os.replace(portfile + ".tmp", portfile)
    while not stop.wait(1):
        pass
    stub.stop()


if __name__ == "__main__":
    main()
