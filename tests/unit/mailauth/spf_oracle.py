#!/usr/bin/env python3
"""Cross-checks postamt's SPF (src/mailauth/spf*.c) against python3-spf, the oracle.

    spf_oracle.py TEST_BINARY SUITE.yml[.gz]...

Runs TEST_BINARY --dump (test_spf_suite.c: our result and explanation for every case
of the generated table) and, for the same cases, python3-spf's spf.query(i, s, h).check()
with its DNS replaced by the case's zone, built as the suite's own driver builds it
(testspf.py: SPF records stand in for TXT, TIMEOUT entries, names under "error." and
labels over 63 bytes time out, CNAMEs followed). Prints every case where the two
differ, then the counts; exits 1 if a difference is not one of KNOWN below (each
with the reason), 77 (skipped) if python3-spf or PyYAML is missing."""
import gzip
import socket
import subprocess
import sys

try:
    import spf
    import yaml
except ImportError:
    print('python3-spf or python3-yaml missing: skipped')
    sys.exit(77)

# Differences we understand: (suite, case) -> why.
KNOWN = {}

ZONE = {}


def dns_lookup(name, qtype, strict=True, timeout=None, level=0):
    labels = []
    for label in name.split('.'):
        if label:
            if len(label) > 63:
                raise spf.TempError('DNS label too long')
            labels.append(label)
    name = '.'.join(labels)
    try:
        records = ZONE[name.lower()]
    except KeyError:
        if name.startswith('error.'):
            raise spf.TempError('DNS timeout')
        return []
    out = []
    pending_timeout = True
    for r in records:
        if r == 'TIMEOUT':
            if pending_timeout:
                raise spf.TempError('DNS timeout')
            break
        t, v = r
        if t == qtype:
            pending_timeout = False
        if t == 'AAAA':
            v = socket.inet_pton(socket.AF_INET6, v)
        elif t == 'TXT':
            v = tuple(s.encode('utf-8') for s in v)
        elif t == 'MX':
            v = (int(v[0]), str(v[1]))
        out.append(((name, t), v))
        if not level and t == 'CNAME':
            out.extend(dns_lookup(v, qtype, strict, timeout, 1))
    return out


def zone_of(zonedata):
    zone = {}
    for name, records in zonedata.items():
        txt_seen = any(isinstance(r, dict) and 'TXT' in r for r in records)
        rows = []
        for r in records:
            if not isinstance(r, dict):
                rows.append('TIMEOUT')
                continue
            for t, v in r.items():
                if t == 'SPF':
                    if txt_seen:
                        continue
                    t = 'TXT'
                if t == 'TXT':
                    if isinstance(v, str):
                        v = (v,)
                    if tuple(v) == ('NONE',):
                        continue
                    v = tuple(v)
                rows.append((t, v))
        zone[name.lower()] = rows
    return zone


def oracle(zone, host, mailfrom, helo):
    global ZONE
    ZONE = zone
    q = spf.query(i=host, s=mailfrom, h=helo, receiver='receiver.example')
    q.set_default_explanation('DEFAULT')
    res, _, exp = q.check()
    res = {'unknown': 'permerror', 'error': 'temperror'}.get(res, res)
    return res, exp


def main():
    binary = sys.argv[1]
    import os
    if not all(os.path.exists(p) for p in sys.argv[2:]):
        print('the suites (python3-spf documentation) are missing: skipped')
        return 77
    ours = {}
    dump = subprocess.run([binary, '--dump'], check=True, capture_output=True, text=True).stdout
    for line in dump.splitlines():
        suite, name, res, exp = line.split('\t', 3)
        ours[(suite, name)] = (res, exp)
    spf.DNSLookup = dns_lookup
    total = same = known = 0
    unexplained = []
    for path in sys.argv[2:]:
        suite = 'rfc4408' if '4408' in path else 'rfc7208'
        opener = gzip.open if path.endswith('.gz') else open
        with opener(path, 'rb') as f:
            scenarios = list(yaml.safe_load_all(f))
        for sc in scenarios:
            zone = zone_of(sc['zonedata'])
            for name, t in sorted(sc['tests'].items()):
                total += 1
                res, exp = oracle(zone, t['host'], t['mailfrom'], t['helo'])
                if res != 'fail':
                    exp = 'DEFAULT'
                mine = ours.get((suite, name))
                if mine == (res, exp):
                    same += 1
                    continue
                why = KNOWN.get((suite, name))
                print('%s %s %s: postamt %s [%s], python3-spf %s [%s]%s' % (
                    'known' if why else 'DIFF', suite, name, mine[0] if mine else '?', mine[1] if mine else '',
                    res, exp, ' -- ' + why if why else ''))
                if why:
                    known += 1
                else:
                    unexplained.append((suite, name))
    print('%d cases: %d agree, %d known differences, %d unexplained' % (total, same, known, len(unexplained)))
    return 1 if unexplained else 0


if __name__ == '__main__':
    sys.exit(main())
