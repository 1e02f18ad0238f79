#!/usr/bin/env python3
"""Trains the junk filters of postamt accounts the way a mail client does, for scripts/bench.

usage: junk_train.py --smtp-port P --imap-port P --users a,b,... --postamt BIN --data DIR [--train 50]
                     [--password secret] [--json FILE]

Each user receives TRAIN spam and TRAIN ham messages of the e2e tests' generated corpus
(tests/e2e/mailcorpus.py: German and English, plain, HTML and multipart) over port 25, then
moves the spam into Junk (UID MOVE) and marks the ham $NotJunk over IMAP, as Thunderbird and
Apple Mail do. The script waits until `postamt user junk` shows TRAIN spam and TRAIN ham
learned for every user (the learner runs on the server's pool) and writes what it did
(users, lessons, seconds) as JSON. Afterwards the ham stays in INBOX and the spam in Junk.
"""

import argparse
import imaplib
import json
import os
import random
import re
import smtplib
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import mailcorpus  # noqa: E402


def learned(a, user):
    out = subprocess.run([a.postamt, "-d", a.data, "user", "junk", user], capture_output=True, text=True)
    m = re.search(r"learned: (\d+) spam, (\d+) ham", out.stdout)
    if out.returncode != 0 or not m:
        raise SystemExit(f"junk_train: postamt user junk {user}: {out.stderr.strip() or out.stdout.strip()}")
    return int(m.group(1)), int(m.group(2))


def uids_by_message_id(m):
    typ, data = m.uid("FETCH", "1:*", "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    if typ != "OK":
        raise SystemExit(f"junk_train: FETCH: {data}")
    out = {}
    for item in data:
        if isinstance(item, tuple):
            uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
            mid = re.search(rb"(?im)^Message-ID:\s*(<[^>]+>)", item[1])
            if mid:
                out[mid.group(1).decode()] = uid
    return out


def train_user(a, user, rng):
    spam = mailcorpus.messages(rng, "spam", a.train, user)
    ham = mailcorpus.messages(rng, "ham", a.train, user)
    mixed = spam + ham
    rng.shuffle(mixed)
    with smtplib.SMTP("127.0.0.1", a.smtp_port, local_hostname="mx.sender.test", timeout=60) as s:
        for _, sender, data in mixed:
            s.sendmail(sender, [user], data)
    m = imaplib.IMAP4("127.0.0.1", a.imap_port)
    m.login(user, a.password)
    want = {mid for mid, _, _ in mixed}
    deadline = time.monotonic() + 120
    while True:  # delivery is done when the SMTP reply came; a slow store may still be committing
        m.select("INBOX")
        uids = uids_by_message_id(m)
        if want <= set(uids) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    spam_uids = ",".join(str(uids[mid]) for mid, _, _ in spam)
    ham_uids = ",".join(str(uids[mid]) for mid, _, _ in ham)
    for cmd in (("MOVE", spam_uids, "Junk"), ("STORE", ham_uids, "+FLAGS", "($NotJunk)")):
        typ, data = m.uid(*cmd)
        if typ != "OK":
            raise SystemExit(f"junk_train: UID {cmd[0]}: {data}")
    m.logout()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smtp-port", type=int, required=True)
    ap.add_argument("--imap-port", type=int, required=True)
    ap.add_argument("--users", required=True)
    ap.add_argument("--password", default="secret")
    ap.add_argument("--postamt", required=True, help="the postamt binary (for `user junk`)")
    ap.add_argument("--data", required=True, help="postamt's data directory")
    ap.add_argument("--train", type=int, default=50, help="spam and ham messages per user")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--json")
    a = ap.parse_args()
    users = [u for u in a.users.split(",") if u]
    rng = random.Random(18)
    t0 = time.monotonic()
    for u in users:
        train_user(a, u, rng)
    deadline = time.monotonic() + a.timeout
    counts = {}
    for u in users:
        while True:
            counts[u] = learned(a, u)
            if counts[u] == (a.train, a.train) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    res = {"phase": "junktrain", "users": len(users), "train": a.train, "seconds": round(time.monotonic() - t0, 2),
           "learned": {u: list(c) for u, c in counts.items()}}
    bad = [u for u, c in counts.items() if c != (a.train, a.train)]
    if bad:
        res = {"na": f"not learned within {a.timeout:.0f} s: " + ", ".join(f"{u} {counts[u]}" for u in bad)}
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(res, fh)
    print(json.dumps(res))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
