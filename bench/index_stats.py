#!/usr/bin/env python3
"""The full-text index of a postamt data directory, for `make bench` (scripts/bench, the
large phase) and docs/search.md. Python standard library only.

    bench/index_stats.py --bin build/postamt --data DIR [--json FILE] [--timeout S]

Waits until `postamt index status` says pending=0 (the server's indexer has caught up
with the mail delivered before; the wait is reported as catchup_s), then reads the store
database (read-only, while the server runs) with SQLite's dbstat table:

  index_bytes          pages of the FTS5 table email_text and its shadow tables
  of which text_bytes  pages of email_text_content (the stored folded text)
  indexed_text_bytes   the text itself (the sum of the entries' lengths)
  messages             entries in the index
and the ratios per message and per byte of text.
"""

import argparse
import json
import sqlite3
import subprocess
import sys
import time


def pending(binary, data):
    r = subprocess.run([binary, "-d", data, "index", "status"], capture_output=True, text=True, check=True)
    return {k: int(v) for k, v in (kv.split("=") for kv in r.stdout.split())}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--json", default="")
    ap.add_argument("--timeout", type=float, default=3600)
    a = ap.parse_args()
    t0 = time.monotonic()
    first = st = pending(a.bin, a.data)
    while st["pending"] > 0:
        if time.monotonic() - t0 > a.timeout:
            sys.exit("index_stats: the indexer did not catch up: %s" % st)
        time.sleep(1)
        st = pending(a.bin, a.data)
    catchup = time.monotonic() - t0
    db = sqlite3.connect("file:%s/db/store.sqlite?mode=ro" % a.data, uri=True)
    pages = dict(db.execute("SELECT name, SUM(pgsize) FROM dbstat WHERE name LIKE 'email_text%' GROUP BY name"))
    total = db.execute("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()").fetchone()[0]
    n, text = db.execute("SELECT COUNT(*), SUM(LENGTH(CAST(hdr AS BLOB)) + LENGTH(CAST(body AS BLOB)))"
                         " FROM email_text").fetchone()
    db.close()
    text = text or 0
    index = sum(pages.values())
    res = {"phase": "largeindex", "messages": n, "pending_at_start": first["pending"], "too_big": st["too_big"],
           "catchup_s": round(catchup, 1), "db_bytes": total, "index_bytes": index,
           "text_bytes": pages.get("email_text_content", 0), "indexed_text_bytes": text,
           "index_bytes_per_msg": round(index / n) if n else None,
           "indexed_text_bytes_per_msg": round(text / n) if n else None,
           "index_bytes_per_text_byte": round(index / text, 2) if text else None,
           "tables": pages}
    out = json.dumps(res, indent=1)
    if a.json:
        with open(a.json, "w") as f:
            f.write(out + "\n")
    print(out)


if __name__ == "__main__":
    main()
