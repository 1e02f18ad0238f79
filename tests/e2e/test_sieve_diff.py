"""The Sieve interpreter against Pigeonhole: each (script, message) pair below runs
through `postamt sieve test` and Dovecot Pigeonhole's `sieve-test` (standalone, with
a minimal configuration file via -c; no Dovecot running), and the two must agree on
where the message lands (folders, with :create), its IMAP flags, redirects, rejects
and vacation replies (subject, from, period, text). Discard is where nothing lands.

The cases (every extension of DESIGN.md §1 "Sieve" that Pigeonhole 2.3 has):
  core        if/elsif/else, header :contains/:is/:matches, address parts, exists,
              size, anyof/allof/not, stop, keep, discard, redirect, comparators,
              RFC 2047 decoded headers
  fileinto    fileinto, :copy, mailbox (:create, mailboxexists)
  imap4flags  addflag/setflag/removeflag, :flags, hasflag, implicit keep's flags
  reject      reject (ereject is not in Pigeonhole 2.3: unit tests only)
  envelope    from/to parts, subaddress :user/:detail
  body        :contains over text, :raw, :content
  variables   set with modifiers, match variables of :matches, string test
  vacation    :days, :subject, :from, :addresses; vacation-seconds
  relational  :count and :value with i;ascii-numeric
  date        date :originalzone/:zone, std11, the zone of Received, currentdate
              (Pigeonhole 2.3 ignores :index in the date test and reads only the
              first Received field; postamt follows RFC 5260 §6 there, so the index
              case uses header :index)
  regex       :regex with captures into variables
  duplicate   first sight of a Message-ID
  spamtest    spamtest and spamtestplus :percent over the junk filter's score
  include     :personal and :global, return
  encoded-character, multi-line strings
  errors      more redirects than allowed, reject with another action, two
              vacations: a run-time error, after which both keep in INBOX
"""
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import SANITIZER_MARKERS
from conftest import run_postamt as _run_postamt


def run_postamt(binary, *args):
    """run_postamt, failing on any sanitizer report (an ASan build exits 1 on one,
    which the error cases below also expect)."""
    r = _run_postamt(binary, *args)
    assert not any(m in r.stderr for m in SANITIZER_MARKERS), r.stderr
    return r

SIEVE_TEST = shutil.which("sieve-test")

MSG = {
    "plain": (
        "Return-Path: <alice@example.org>\n"
        "From: Alice Example <alice@example.org>\n"
        "To: bob+lists@example.com, \"Carol, C.\" <carol@example.net>\n"
        "Cc: dave@example.com\n"
        "Subject: [dev] Meeting at 10\n"
        "Date: Mon, 07 Dec 2026 09:30:15 +0100\n"
        "Received: from a by b; Sun, 06 Dec 2026 23:00:00 -0500\n"
        "Received: from c by d; Sat, 05 Dec 2026 12:00:00 +0000\n"
        "Message-ID: <m1@example.org>\n"
        "X-Priority: 2\n"
        "\n"
        "Hello Bob,\nthe meeting is at 10 in room 42.\n"),
    "mime": (
        "From: shop@example.net\n"
        "To: bob@example.com\n"
        "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= aus Berlin\n"
        "Message-ID: <m2@example.net>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"b\"\n"
        "\n"
        "--b\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: quoted-printable\n"
        "\n"
        "Ihre Rechnung: Summe =E2=82=AC 12\n"
        "--b\n"
        "Content-Type: application/octet-stream\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "c2VjcmV0IGJ5dGVz\n"
        "--b--\n"),
    "odd": (
        "From: \"Doe, John\" <john@example.org> (comment)\n"
        "To: a@x.example, b@x.example\n"
        "To: c@x.example\n"
        "Subject:\n"
        "X-A: one\n"
        "X-A: two\n"
        "Reply-To: <@route.example:real@example.net>\n"
        "Sender: plain@example.com (Plain)\n"
        "\n"
        "b\n"),
}

R = 'require ["fileinto", "copy", "mailbox", "imap4flags", "variables", "relational", ' \
    '"comparator-i;ascii-numeric"];\n'

# (name, script, message, options): options may set "from", "to" (the envelope),
# "spam" (a score 0..100: X-Spam-Score for Pigeonhole, --spam for postamt), "error"
# (a run-time error is expected: both keep the message in INBOX).
CASES = [
    ("core-if-chain", R + 'if header :contains "subject" "lunch" { fileinto "Lunch"; }\n'
     'elsif header :matches "subject" "*meeting*" { fileinto "Meetings"; }\n'
     'else { fileinto "Other"; }', "plain", {}),
    ("core-address-parts", R + 'if address :domain :is "to" "example.net" { fileinto "net"; }\n'
     'if address :localpart :is "from" "ALICE" { fileinto "alice"; }\n'
     'if address :all :comparator "i;octet" :is "cc" "Dave@example.com" { fileinto "octet"; }', "plain", {}),
    ("core-exists-size", R + 'if allof (exists ["x-priority", "date"], size :under 2K, not size :over 5K) '
     '{ fileinto "small"; } if exists "x-none" { discard; }', "plain", {}),
    ("core-stop-discard", 'if anyof (false, header :is "x-priority" "2") { discard; stop; } keep;', "plain", {}),
    ("core-redirect", R + 'redirect :copy "archive@example.net"; redirect "bob@elsewhere.example";',
     "plain", {}),
    ("core-decoded-header", R + 'if header :is "subject" "Grüße aus Berlin" { fileinto "decoded"; }',
     "mime", {}),
    ("fileinto-copy", R + 'fileinto :copy "Copy"; fileinto "Moved";', "plain", {}),
    ("mailbox-create", R + 'fileinto :create "Lists/dev";', "plain", {}),
    ("mailbox-exists", R + 'if mailboxexists "Spam" { fileinto "spam-exists"; }\n'
     'if mailboxexists "Nope" { fileinto "nope-exists"; }', "plain", {}),
    ("imap4flags-internal", R + 'addflag ["\\\\Flagged", "$work"]; addflag "\\\\Seen";'
     'removeflag "\\\\seen"; fileinto :copy "Work";', "plain", {}),
    ("imap4flags-flags-tag", R + 'setflag "$x"; fileinto :flags ["\\\\Answered", "$y"] "Tagged"; '
     'keep :flags "\\\\Deleted";', "plain", {}),
    ("imap4flags-hasflag", R + 'addflag "f" ["a", "b"]; if hasflag :is "f" "b" { fileinto "has-b"; }\n'
     'if hasflag :count "eq" "f" "2" { fileinto "two"; }', "plain", {}),
    ("reject", 'require "reject"; if header :contains "subject" "meeting" { reject "No meetings, please."; }',
     "plain", {}),
    ("envelope", 'require ["envelope", "fileinto"];\n'
     'if envelope :domain :is "from" "example.org" { fileinto "from-org"; }\n'
     'if envelope :all :is "to" "bob+lists@example.com" { fileinto "to-bob"; }',
     "plain", {"from": "alice@example.org", "to": "bob+lists@example.com"}),
    ("subaddress", 'require ["envelope", "subaddress", "fileinto", "variables"];\n'
     'if envelope :detail :matches "to" "*" { fileinto "detail-${1}"; }\n'
     'if envelope :user :is "to" "bob" { fileinto "user-bob"; }\n'
     'if address :detail :is "cc" "" { fileinto "no-detail"; }',
     "plain", {"from": "alice@example.org", "to": "bob+lists@example.com"}),
    ("body-text", 'require ["body", "fileinto"];\n'
     'if body :contains "room 42" { fileinto "room"; }\n'
     'if body :text :contains "Summe" { fileinto "never"; }', "plain", {}),
    ("body-content-raw", 'require ["body", "fileinto"];\n'
     'if body :text :contains "Summe \u20ac 12" { fileinto "euro"; }\n'
     'if body :raw :contains "=E2=82=AC" { fileinto "raw-qp"; }\n'
     'if body :content "application/octet-stream" :contains "secret bytes" { fileinto "octets"; }\n'
     'if body :content "text/plain" :contains "secret" { fileinto "wrong"; }', "mime", {}),
    ("variables", R + 'if header :matches "from" "* <*@*>" { set :lower "dom" "${3}"; '
     'set :upperfirst "user" "${2}"; set :length "n" "${1}"; fileinto "${dom}/${user}/${n}"; }',
     "plain", {}),
    ("variables-string", R + 'set "a" "x"; set "b" ""; if string :is "${a}${b}" "x" { fileinto "concat"; }\n'
     'if string :count "eq" ["${a}", "${b}"] "1" { fileinto "count-nonempty"; }', "plain", {}),
    ("vacation", 'require "vacation"; vacation :days 3 :subject "Away" :from "bob@example.com" '
     ':addresses ["bob@example.com"] "I am away until Monday.";',
     "plain", {"from": "alice@example.org", "to": "bob+lists@example.com"}),
    ("vacation-seconds", 'require ["vacation-seconds"]; vacation :seconds 7200 :subject "Back soon" '
     'text:\nBack in two hours.\n..\n.\n;',
     "plain", {"from": "alice@example.org", "to": "bob+lists@example.com"}),
    ("relational", R + 'if header :count "ge" "received" "2" { fileinto "hops"; }\n'
     'if header :value "lt" :comparator "i;ascii-numeric" "x-priority" "3" { fileinto "urgent"; }\n'
     'if address :count "eq" :comparator "i;ascii-numeric" ["to", "cc"] "3" { fileinto "three"; }',
     "plain", {}),
    ("date", 'require ["date", "fileinto", "relational", "variables"];\n'
     'if date :originalzone "date" "date" "2026-12-07" { fileinto "day"; }\n'
     'if date :zone "+0000" "date" "time" "08:30:15" { fileinto "utc"; }\n'
     'if date :originalzone :matches "date" "std11" "*" { fileinto "${1}"; }\n'
     'if currentdate :value "ge" "year" "2020" { fileinto "now"; }', "plain", {}),
    ("index", 'require ["date", "index", "fileinto"];\n'
     'if header :index 1 :last :contains "received" "from c" { fileinto "first-hop"; }\n'
     'if header :index 1 :contains "received" "from a" { fileinto "last-hop"; }\n'
     'if header :index 3 :contains "received" "from" { fileinto "no-third"; }\n'
     'if date :originalzone "received" "zone" "-0500" { fileinto "received-zone"; }', "plain", {}),
    ("regex", R.replace('"fileinto"', '"fileinto", "regex"') +
     'if header :regex "subject" "^\\\\[([a-z]+)\\\\] (.*) at ([0-9]+)$" { fileinto "${1}-${3}"; }\n'
     'if address :regex :domain "from" "^example\\\\.(org|net)$" { fileinto "rx-domain"; }', "plain", {}),
    ("duplicate", 'require ["duplicate", "fileinto"]; if duplicate { fileinto "dup"; } else { fileinto "new"; }',
     "plain", {}),
    ("spamtest", R + 'require "spamtest";\n'
     'if spamtest :value "eq" :comparator "i;ascii-numeric" "0" { fileinto "unclassified"; }\n'
     'elsif spamtest :value "ge" :comparator "i;ascii-numeric" "5" { fileinto "Junk"; }', "plain",
     {"spam": 55}),
    ("spamtest-unclassified", R + 'require "spamtest";\n'
     'if spamtest :value "eq" :comparator "i;ascii-numeric" "0" { fileinto "unclassified"; }', "plain", {}),
    ("spamtestplus", R + 'require "spamtestplus";\n'
     'if spamtest :percent :value "gt" :comparator "i;ascii-numeric" "90" { discard; stop; }\n'
     'if spamtest :percent :value "ge" :comparator "i;ascii-numeric" "50" { fileinto "Junk"; }', "plain",
     {"spam": 60}),
    ("include", 'require ["include", "fileinto"]; include :personal "inc1"; include :global "g1";\n'
     'include :once "inc1"; fileinto "after";', "plain", {}),
    ("core-merge-same-target", R + 'fileinto :flags "$a" "Same"; fileinto :flags "$b" "Same"; '
     'fileinto "INBOX"; keep; redirect "x@example.net"; redirect "X@example.net"; redirect "x@EXAMPLE.net";', "plain",
     {}),
    ("core-wildcards", R + 'if header :matches "subject" "?dev? *ing at ??" { fileinto "q"; }\n'
     'if header :matches "subject" "*\\\\*" { fileinto "no-star"; }\n'
     'if header :contains "subject" "" { fileinto "empty-key"; }\n'
     'if header :is :comparator "i;ascii-numeric" "x-priority" "002" { fileinto "numeric-is"; }', "plain", {}),
    ("core-size-suffix", R + 'if size :under 1M { fileinto "under-1M"; } if size :over 1K { fileinto "big"; }',
     "mime", {}),
    ("imap4flags-spaces", R + 'addflag "$a $b  $c"; removeflag "$b"; addflag ["$A", "\\answered"];', "plain",
     {}),
    ("variables-quotewildcard", R + 'set :quotewildcard "q" "a*b"; '
     'if string :matches "a*b" "${q}" { fileinto "quoted"; }\n'
     'if string :matches "axxb" "${q}" { fileinto "not-quoted"; }', "plain", {}),
    ("core-odd-addresses", R + 'if address :matches "from" "*" { fileinto "f-${1}"; }\n'
     'if address :matches "reply-to" "*" { fileinto "r-${1}"; }\n'
     'if address :matches "sender" "*" { fileinto "s-${1}"; }\n'
     'if address :localpart :is "from" "john" { fileinto "lp"; }', "odd", {}),
    ("core-several-fields", R + 'if header :count "eq" :comparator "i;ascii-numeric" "to" "2" { fileinto "to2"; }\n'
     'if address :count "eq" :comparator "i;ascii-numeric" "to" "3" { fileinto "a3"; }\n'
     'if header :matches "x-a" "*" { fileinto "${1}"; }\n'
     'if header :matches :comparator "i;octet" "x-a" "t?o" { fileinto "octet"; }\n'
     'if allof (header :is "subject" "", exists "subject") { fileinto "empty-subject"; }', "odd", {}),
    # run-time errors: both fall back to keeping the message in INBOX
    ("error-redirects", 'redirect "a@example.net"; redirect "b@example.net"; redirect "c@example.net"; '
     'redirect "d@example.net"; redirect "e@example.net";', "plain", {"error": True}),
    ("error-reject-conflict", 'require ["reject", "fileinto"]; fileinto "A"; reject "no";', "plain",
     {"error": True}),
    ("error-two-vacations", 'require "vacation"; vacation :subject "a" "a"; vacation :subject "b" "b";', "plain",
     {"from": "alice@example.org", "to": "bob+lists@example.com", "error": True}),
    ("encoded-character", 'require ["encoded-character", "fileinto"];\n'
     'if header :contains "subject" "${hex:5b 64 65 76 5d}" { fileinto "${unicode:48}ex"; }', "plain", {}),
]

INCLUDES = {
    "inc1.sieve": 'require ["fileinto", "include"]; if header :contains "subject" "meeting" '
                  '{ fileinto "FromInclude"; return; } fileinto "NotReached";',
    "global/g1.sieve": 'require "fileinto"; fileinto "FromGlobal";',
}


@pytest.fixture(scope="module")
def work():
    assert SIEVE_TEST, "sieve-test is missing: scripts/install-deps installs dovecot-sieve"
    # not under the e2e base directory (0700): sieve-test drops to mail_uid (nobody
    # when run as root) and must reach the scripts and write compiled ones next to them
    d = tempfile.mkdtemp(prefix="postamt-sieve-diff-")
    os.chmod(d, 0o777)
    scripts = os.path.join(d, "scripts")
    os.makedirs(os.path.join(scripts, "global"))
    for name, text in INCLUDES.items():
        with open(os.path.join(scripts, name), "w") as f:
            f.write(text)
    mdir = os.path.join(d, "mdir")
    for sub in ("", ".Spam"):
        for leaf in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(mdir, sub, leaf), exist_ok=True)
    uid = 65534 if os.getuid() == 0 else os.getuid()
    gid = 65534 if os.getuid() == 0 else os.getgid()
    conf = os.path.join(d, "dovecot.conf")
    with open(conf, "w") as f:
        f.write("mail_uid = %d\nmail_gid = %d\nfirst_valid_uid = 1\nfirst_valid_gid = 1\n"
                "mail_location = maildir:%s\n"
                "plugin {\n  sieve = file:%s\n  sieve_global = %s/global\n"
                "  sieve_extensions = +vacation-seconds +spamtest +spamtestplus\n"
                "  sieve_spamtest_status_type = score\n  sieve_spamtest_status_header = X-Spam-Score\n"
                "  sieve_spamtest_max_value = 100\n  sieve_vacation_min_period = 1h\n}\n"
                % (uid, gid, mdir, scripts, scripts))
    for root, dirs, files in os.walk(d):
        for x in dirs + files:
            os.chmod(os.path.join(root, x), 0o777)
    yield d, scripts, conf
    if not os.environ.get("POSTAMT_E2E_KEEP"):
        shutil.rmtree(d, True)


def _unquote(s):
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), s)


def _reason(s):
    return s.replace("\r\n", "\n").rstrip("\n")


def parse_postamt(out):
    """The canonical set of what happens, from sieve_result_format's lines."""
    acts = []
    q = r'"((?:[^"\\]|\\.)*)"'
    for line in out.splitlines():
        flags = frozenset(f.lower() for f in line.split(" flags: ", 1)[1].split()) if " flags: " in line \
            else frozenset()
        head = line.split(" flags: ", 1)[0]
        if head == "keep":
            acts.append(("store", "INBOX", False, flags))
        elif head.startswith("fileinto "):
            m = re.match("fileinto " + q + "(.*)", head)
            acts.append(("store", _unquote(m.group(1)), " create" in m.group(2), flags))
        elif head.startswith("redirect "):
            acts.append(("redirect", _unquote(re.match("redirect " + q, head).group(1)).lower()))
        elif head.startswith("reject "):
            acts.append(("reject", _reason(_unquote(re.match("reject " + q, head).group(1)))))
        elif head.startswith("vacation "):
            f = dict((k, _unquote(v)) for k, v in re.findall(r'(\w+)=' + q, head))
            secs = re.search(r" seconds=(\d+)", head).group(1)
            acts.append(("vacation", f["subject"], f["from"], int(secs), _reason(f["reason"])))
        elif head == "discard":
            pass
        else:
            raise AssertionError("unexpected line from postamt: %r" % line)
    return sorted(acts, key=repr)


def parse_sieve_test(out, err=""):
    """The same canonical set from sieve-test's "Performed actions" and "Implicit
    keep" sections (or its fallback after a run-time error)."""
    acts = []
    if "final result: failed; resolved with successful implicit keep" in err:
        acts.append(("store", "INBOX", False, frozenset()))
    lines = out.splitlines()
    i = 0
    cur = None
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^ \* (.*)$", line)
        if m:
            what = m.group(1)
            cur = None
            if what.startswith("store message in folder: "):
                cur = ["store", what[len("store message in folder: "):], False, frozenset()]
                acts.append(cur)
            elif what.startswith("redirect message to: "):
                acts.append(("redirect", what[len("redirect message to: "):].strip("<>").lower()))
            elif what.startswith("reject message with reason: "):
                acts.append(("reject", _reason(what[len("reject message with reason: "):])))
            elif what.startswith("send vacation message:"):
                fields = {}
                i += 1
                while i < len(lines) and lines[i].startswith("    => "):
                    k, _, v = lines[i][7:].partition(":")
                    fields[k.strip()] = v.strip()
                    i += 1
                while i < len(lines) and lines[i] != "START MESSAGE":
                    i += 1
                body = []
                i += 1
                while i < len(lines) and lines[i] != "END MESSAGE":
                    body.append(lines[i])
                    i += 1
                acts.append(("vacation", fields.get("subject", ""), fields.get("from", ""),
                             int(fields.get("seconds", 0)), _reason("\n".join(body))))
        elif cur is not None and line.strip() == "+ create mailbox if it does not exist":
            cur[2] = True
        elif cur is not None and line.strip().startswith("+ add IMAP flags:"):
            cur[3] = frozenset(f.lower() for f in line.split(":", 1)[1].split())
        i += 1
    return sorted((tuple(a) for a in acts), key=repr)


@pytest.mark.parametrize("name,script,msg,opts", CASES, ids=[c[0] for c in CASES])
def test_sieve_matches_pigeonhole(postamt_bin, work, name, script, msg, opts):
    d, scripts, conf = work
    spath = os.path.join(scripts, name + ".sieve")
    with open(spath, "w") as f:
        f.write(script + "\n")
    text = MSG[msg]
    mpath = os.path.join(d, name + ".eml")
    with open(mpath, "w") as f:
        f.write(("X-Spam-Score: %d\n" % opts["spam"] if "spam" in opts else "") + text)
    for p in (spath, mpath):
        os.chmod(p, 0o666)

    args = ["sieve", "test", spath, mpath, "--mailbox", "Spam"]
    st_args = [SIEVE_TEST, "-c", conf, "-C"]
    if "from" in opts:
        args += ["--from", opts["from"]]
        st_args += ["-f", opts["from"]]
    if "to" in opts:
        args += ["--to", opts["to"]]
        st_args += ["-a", opts["to"], "-r", opts["to"]]
    if "spam" in opts:
        args += ["--spam", str(opts["spam"])]
    ours = run_postamt(postamt_bin, *args)
    assert ours.returncode == (1 if opts.get("error") else 0), ours.stderr
    theirs = subprocess.run(st_args + [spath, mpath], capture_output=True, text=True, timeout=30)
    result = "final result: failed; resolved" if opts.get("error") else "final result: success"
    assert theirs.returncode == (1 if opts.get("error") else 0) and result in theirs.stderr + theirs.stdout, \
        theirs.stdout + theirs.stderr
    got, want = parse_postamt(ours.stdout), parse_sieve_test(theirs.stdout, theirs.stderr)
    assert opts.get("error") or "Performed actions:" in theirs.stdout, theirs.stdout
    assert got == want, "postamt:\n%s\nsieve-test:\n%s" % (ours.stdout, theirs.stdout)


def test_compile_errors_agree(postamt_bin, work):
    """Scripts both refuse to compile (postamt names the line)."""
    d, scripts, conf = work
    bad = ['fileinto "x";', 'keep', 'if header :is "a" { keep; }', 'require "nosuch";',
           'if true { keep; ', 'require "variables"; set "1x" "y";', 'if address "subject" "x" { keep; }',
           'require "variables"; set :upper :lower "a" "b";']
    for i, script in enumerate(bad):
        spath = os.path.join(scripts, "bad%d.sieve" % i)
        with open(spath, "w") as f:
            f.write(script + "\n")
        os.chmod(spath, 0o666)
        ours = run_postamt(postamt_bin, "sieve", "check", spath)
        assert ours.returncode == 1 and "line " in ours.stderr, (script, ours.stderr)
        theirs = subprocess.run([SIEVE_TEST, "-c", conf, "-C", spath, os.devnull], capture_output=True,
                                text=True, timeout=30)
        assert theirs.returncode != 0, (script, theirs.stdout + theirs.stderr)


def test_cli_check_test_and_errors(postamt_bin, work):
    """`postamt sieve check` says OK or names the line; `sieve test` on a run-time
    error prints the error, "keep" (what delivery does then) and exits 1; bad
    arguments are a usage error."""
    d, scripts, conf = work
    good = os.path.join(scripts, "cli-good.sieve")
    with open(good, "w") as f:
        f.write('require "fileinto";\nfileinto "A";\n')
    r = run_postamt(postamt_bin, "sieve", "check", good)
    assert r.returncode == 0 and r.stdout == good + ": OK\n", r
    bad = os.path.join(scripts, "cli-bad.sieve")
    with open(bad, "w") as f:
        f.write('require "fileinto";\n\nfileinto :create "A";\n')
    r = run_postamt(postamt_bin, "sieve", "check", bad)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == 'postamt: %s: line 3: fileinto: :create needs require "mailbox"\n' % bad
    conflict = os.path.join(scripts, "cli-conflict.sieve")
    with open(conflict, "w") as f:
        f.write('require ["reject", "fileinto"];\nfileinto "A";\nreject "no";\n')
    mpath = os.path.join(d, "cli.eml")
    with open(mpath, "w") as f:
        f.write(MSG["plain"])
    r = run_postamt(postamt_bin, "sieve", "test", conflict, mpath)
    assert r.returncode == 1 and r.stdout == "keep\n"
    assert "line 3: reject conflicts with an earlier action" in r.stderr
    r = run_postamt(postamt_bin, "sieve", "test", good, mpath)
    assert r.returncode == 0 and r.stdout == 'fileinto "A"\n'
    for args in (["sieve"], ["sieve", "frob", good], ["sieve", "test", good], ["sieve", "test", good, mpath, "--x"],
                 ["sieve", "test", good, mpath, "--spam", "101"]):
        r = run_postamt(postamt_bin, *args)
        assert r.returncode == 1 and "usage" in r.stderr, (args, r)
    r = run_postamt(postamt_bin, "sieve", "check", os.path.join(d, "missing.sieve"))
    assert r.returncode == 1 and "No such file" in r.stderr
