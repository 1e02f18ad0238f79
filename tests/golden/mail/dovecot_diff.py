#!/usr/bin/env python3
"""Differential check of the mail golden corpus against Dovecot.

Usage: dovecot_diff.py DOVECOT_CONF
Saves every *.eml (after LF -> CRLF, as postamt stores it) into its own Dovecot
user with `doveadm save`, fetches imap.envelope, imap.bodystructure and imap.body
with `doveadm -f json fetch`, and compares them with the ENVELOPE, BODYSTRUCTURE
and BODY lines of the matching .expected file (written by postamt's parser).
Prints one line per difference; exit status 1 if an unexpected one is found.
Known, intentional differences are listed in KNOWN with the reason."""
import json, os, re, subprocess, sys

KNOWN = {
    ("07-encoded-subject", "ENVELOPE"):
        "Dovecot keeps the folding CRLF of a header value inside a literal; postamt "
        "unfolds (removes CR LF, keeps the space) and can then use a quoted string",
    ("09-latin1-raw-header", "ENVELOPE"):
        "same bytes on the wire (a {4} literal with the raw 8-bit byte); doveadm's JSON "
        "output replaces the invalid UTF-8 byte",
    ("14-rfc822-multipart", "BODYSTRUCTURE"):
        "after a close delimiter inside a message/rfc822 part Dovecot counts the CRLF "
        "before the parent's delimiter in the part (2 bytes, 1 line more); postamt gives "
        "that CRLF to the delimiter as RFC 2046 5.1.1 says, as Dovecot itself does elsewhere",
    ("14-rfc822-multipart", "BODY"): "see BODYSTRUCTURE",
    ("18-wrong-boundary", "BODYSTRUCTURE"):
        "a multipart without any matching delimiter: Dovecot describes an empty text/plain "
        "part, postamt one text/plain part covering the whole body (BODY[1] shows the text)",
    ("18-wrong-boundary", "BODY"): "see BODYSTRUCTURE",
    ("19-no-boundary-param", "BODYSTRUCTURE"): "as 18-wrong-boundary",
    ("19-no-boundary-param", "BODY"): "as 18-wrong-boundary",
    ("27-nul-bytes", "ENVELOPE"):
        "a NUL in a header value: Dovecot writes U+FFFD (a literal), postamt a space",
    ("48-message-global", "BODYSTRUCTURE"):
        "Dovecot 2.3 treats message/global (RFC 6532) as opaque; postamt describes the "
        "enclosed message like message/rfc822 (envelope, body, lines)",
    ("48-message-global", "BODY"): "see BODYSTRUCTURE",
    ("50-params-odd", "BODYSTRUCTURE"):
        "Dovecot drops a parameter that follows empty ';;' and a bare 'x' token; postamt "
        "skips only the malformed pieces and keeps name=\"a;b.txt\"",
    ("50-params-odd", "BODY"): "see BODYSTRUCTURE",
}

def run(args, data=None):
    return subprocess.run(args, input=data, capture_output=True, check=False)

def main():
    conf = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    bad = 0
    for name in sorted(os.listdir(here)):
        if not name.endswith(".eml"):
            continue
        base = name[:-4]
        raw = open(os.path.join(here, name), "rb").read()
        data = re.sub(rb"(?<!\r)\n", b"\r\n", raw)
        if data.endswith(b"\r"):
            data += b"\n"
        user = "g" + re.sub(r"[^a-z0-9]", "", base.lower())
        run(["doveadm", "-c", conf, "mailbox", "delete", "-u", user, "INBOX"])  # ignore
        r = run(["doveadm", "-c", conf, "save", "-u", user], data)
        if r.returncode != 0:
            print(f"{base}: doveadm save failed: {r.stderr.decode(errors='replace').strip()}")
            continue
        r = run(["doveadm", "-c", conf, "-f", "json", "fetch", "-u", user,
                 "imap.envelope imap.bodystructure imap.body", "mailbox", "INBOX", "all"])
        rows = json.loads(r.stdout.decode("utf-8", errors="surrogateescape") or "[]")
        run(["doveadm", "-c", conf, "expunge", "-u", user, "mailbox", "INBOX", "all"])
        if not rows:
            print(f"{base}: no Dovecot result")
            continue
        row = rows[-1]
        exp = {}
        text = open(os.path.join(here, base + ".expected"), "rb").read().decode("utf-8", errors="surrogateescape")
        # The .expected lines may contain literals with CRLF inside: keep the three
        # fields by their line prefixes up to the next known prefix.
        for key in ("ENVELOPE", "BODYSTRUCTURE", "BODY"):
            m = re.search(r"(?m)^" + key + r" (.*?)\n(?=[A-Z-]+ )", text, re.S)
            exp[key] = m.group(1) if m else None
        for key, dkey in (("ENVELOPE", "imap.envelope"), ("BODYSTRUCTURE", "imap.bodystructure"),
                          ("BODY", "imap.body")):
            ours = exp[key]
            theirs = "(" + row.get(dkey, "") + ")"
            if ours != theirs:
                tag = KNOWN.get((base, key))
                print(f"{base} {key}{' (known: ' + tag + ')' if tag else ''}\n  postamt: {ours[:600]}\n  dovecot: {theirs[:600]}")
                bad += tag is None
    print(f"{bad} unexpected difference(s)")
    return 1 if bad else 0

if __name__ == "__main__":
    sys.exit(main())
