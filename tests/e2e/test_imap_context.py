"""CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267, issue 16): SEARCH/SORT RETURN (UPDATE)
keeps a result up to date with untagged ESEARCH ADDTO/REMOVEFROM as another session
(or this one) changes the mailbox; CANCELUPDATE; PARTIAL; the limit
limits.imap_search_updates (NO [NOUPDATE]). Two real sessions over loopback; a
session waits for an update by NOOP until it comes (bounded by a deadline, no timing
asserts)."""

import re
import time

import pytest

from conftest import finish_server, new_server
from test_imap_ext import PW, Client, msg

USERS = ["ctx%d@example.test" % i for i in range(12)]


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin, config=["limits.imap_search_updates = 3"], users=[(u, PW) for u in USERS])
    yield s
    finish_server(s)


_next = [0]


def pair(srv, n=5):
    """Two sessions of a fresh user on INBOX with n messages (subjects s0..s{n-1})."""
    u = USERS[_next[0]]
    _next[0] += 1
    a, b = Client(srv, u), Client(srv, u)
    uids = [a.append("INBOX", msg("s%d" % i)) for i in range(n)]
    a.ok("SELECT INBOX")
    b.ok("SELECT INBOX")
    return a, b, uids


def esearch(lines, tag):
    return [l for l in lines if l.startswith('* ESEARCH (TAG "%s")' % tag)]


def wait_for(c, pattern, seconds=10):
    """NOOP until an untagged line matching pattern arrives; returns all untagged lines
    seen up to then."""
    seen = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        u, _ = c.ok("NOOP")
        seen += u
        if any(re.search(pattern, l) for l in seen):
            return seen
    raise AssertionError("no %r in %r" % (pattern, seen))


def test_capability(srv):
    c = Client(srv)
    u, _ = c.ok("CAPABILITY")
    caps = u[0].split()
    assert "CONTEXT=SEARCH" in caps and "CONTEXT=SORT" in caps, u
    c.close()


def test_uid_search_update_follows_other_session(srv):
    a, b, uids = pair(srv)
    u, t = a.ok("UID SEARCH RETURN (UPDATE) UNSEEN")
    tag = t.split()[0]
    assert esearch(u, tag) == ['* ESEARCH (TAG "%s") UID ALL %d:%d' % (tag, uids[0], uids[-1])], u
    # another session reads two messages: they leave the result
    b.ok("UID STORE %d,%d +FLAGS (\\Seen)" % (uids[1], uids[3]))
    seen = wait_for(a, r"REMOVEFROM")
    assert esearch(seen, tag) == ['* ESEARCH (TAG "%s") UID REMOVEFROM (0 %d,%d)' % (tag, uids[1], uids[3])], seen
    # a delivery joins it, after the EXISTS that announces it
    new = b.append("INBOX", msg("late"))
    seen = wait_for(a, r"ADDTO")
    assert esearch(seen, tag) == ['* ESEARCH (TAG "%s") UID ADDTO (0 %d)' % (tag, new)], seen
    assert seen.index("* 6 EXISTS") < seen.index(esearch(seen, tag)[0]), seen
    # unread again: back in
    b.ok("UID STORE %d -FLAGS (\\Seen)" % uids[1])
    seen = wait_for(a, r"ADDTO")
    assert esearch(seen, tag) == ['* ESEARCH (TAG "%s") UID ADDTO (0 %d)' % (tag, uids[1])], seen
    # an expunged member: REMOVEFROM before the EXPUNGE
    b.ok("UID STORE %d +FLAGS (\\Deleted)" % uids[0])
    b.ok("EXPUNGE")
    seen = wait_for(a, r"EXPUNGE")
    rm = '* ESEARCH (TAG "%s") UID REMOVEFROM (0 %d)' % (tag, uids[0])
    assert rm in seen and seen.index(rm) < seen.index("* 1 EXPUNGE"), seen
    # after CANCELUPDATE a change brings no ESEARCH (NOOP reads the store every time)
    a.ok('CANCELUPDATE "%s"' % tag)
    b.ok("UID STORE %d +FLAGS (\\Seen)" % uids[2])
    seen = wait_for(a, r"FETCH")
    assert esearch(seen, tag) == [], seen
    _, t = a.cmd('CANCELUPDATE "%s"' % tag)
    assert " NO " in t, t
    a.close()
    b.close()


def test_search_update_in_sequence_numbers_own_store(srv):
    a, b, uids = pair(srv)
    u, t = a.ok("SEARCH RETURN (UPDATE COUNT) SEEN")
    tag = t.split()[0]
    assert esearch(u, tag) == ['* ESEARCH (TAG "%s") COUNT 0' % tag], u
    # this session's own STORE changes the result too: the update comes with its reply
    u, _ = a.ok("STORE 2,4 +FLAGS (\\Seen)")
    if not esearch(u, tag):
        u = wait_for(a, r"ADDTO")
    assert esearch(u, tag) == ['* ESEARCH (TAG "%s") ADDTO (0 2,4)' % tag], u
    # an expunge renumbers: REMOVEFROM names the old number, before its EXPUNGE
    a.ok("STORE 2 +FLAGS (\\Deleted)")
    u, _ = a.ok("EXPUNGE")
    if not any("REMOVEFROM" in l for l in u):
        u += wait_for(a, r"REMOVEFROM")
    assert esearch(u, tag) == ['* ESEARCH (TAG "%s") REMOVEFROM (0 2)' % tag], u
    assert u.index(esearch(u, tag)[0]) < u.index("* 2 EXPUNGE"), u
    # message 4 is now number 3: unread by the other session, it leaves as number 3
    b.ok("UID STORE %d -FLAGS (\\Seen)" % uids[3])
    seen = wait_for(a, r"REMOVEFROM")
    assert esearch(seen, tag) == ['* ESEARCH (TAG "%s") REMOVEFROM (0 3)' % tag], seen
    a.close()
    b.close()


def test_sort_update_positions(srv):
    a, b, uids = pair(srv, 0)
    for s in ("delta", "bravo", "foxtrot"):
        a.append("INBOX", msg(s))
    a.ok("NOOP")
    u, t = a.ok("UID SORT RETURN (UPDATE) (SUBJECT) UTF-8 UNSEEN")
    tag = t.split()[0]
    m = re.fullmatch(r'\* ESEARCH \(TAG "%s"\) UID ALL (.*)' % tag, esearch(u, tag)[0])
    assert m, u
    # bravo, delta, foxtrot: new ones go to their place in subject order
    charlie = b.append("INBOX", msg("charlie"))
    seen = wait_for(a, r"ADDTO")
    assert esearch(seen, tag) == ['* ESEARCH (TAG "%s") UID ADDTO (2 %d)' % (tag, charlie)], seen
    alpha = b.append("INBOX", msg("alpha"))
    echo = b.append("INBOX", msg("echo"))
    seen = wait_for(a, r"ADDTO \(.*\b%d\)" % echo)
    added = [l for l in esearch(seen, tag) if "ADDTO" in l]
    # one update or two, as the deliveries were batched; the positions are final
    joined = " ".join(re.search(r"ADDTO \((.*)\)", l).group(1) for l in added)
    assert joined == "1 %d 5 %d" % (alpha, echo), seen
    # now: alpha bravo charlie delta echo foxtrot; read charlie (3) and foxtrot (6)
    u, _ = b.ok("UID SEARCH SUBJECT foxtrot")
    f_uid = int(u[0].split()[-1])
    b.ok("UID STORE %d,%d +FLAGS (\\Seen)" % (charlie, f_uid))
    seen = wait_for(a, r"REMOVEFROM")
    assert esearch(seen, tag) == ['* ESEARCH (TAG "%s") UID REMOVEFROM (6 %d 3 %d)' % (tag, f_uid, charlie)], seen
    a.close()
    b.close()


def test_partial(srv):
    a, b, uids = pair(srv)
    u, t = a.ok("SEARCH RETURN (PARTIAL 2:4) ALL")
    assert u == ['* ESEARCH (TAG "%s") PARTIAL (2:4 2:4)' % t.split()[0]], u
    u, t = a.ok("SEARCH RETURN (PARTIAL 4:2) ALL")
    assert u == ['* ESEARCH (TAG "%s") PARTIAL (2:4 2:4)' % t.split()[0]], u
    u, t = a.ok("UID SEARCH RETURN (PARTIAL 1:9) ALL")
    assert u == ['* ESEARCH (TAG "%s") UID PARTIAL (1:9 %d:%d)' % (t.split()[0], uids[0], uids[-1])], u
    u, t = a.ok("SEARCH RETURN (PARTIAL 7:9) ALL")
    assert u == ['* ESEARCH (TAG "%s") PARTIAL (7:9 NIL)' % t.split()[0]], u
    u, t = a.ok("SORT RETURN (PARTIAL 1:2) (REVERSE SUBJECT) UTF-8 ALL")
    assert u == ['* ESEARCH (TAG "%s") PARTIAL (1:2 5,4)' % t.split()[0]], u
    for bad in ("PARTIAL 1", "PARTIAL 1:*", "PARTIAL 0:3", "UPDATE PARTIAL 1:2"):
        _, t = a.cmd("SEARCH RETURN (%s) ALL" % bad)
        assert " BAD " in t, (bad, t)
    a.close()
    b.close()


def test_update_refusals_and_limit(srv):
    a, b, uids = pair(srv)
    # sequence numbers and $ would change meaning as the mailbox changes
    _, t = a.cmd("SEARCH RETURN (UPDATE) 1:3")
    assert " NO [CANNOT]" in t, t
    _, t = a.cmd("SEARCH RETURN (UPDATE) UNSEEN $")
    assert " NO [CANNOT]" in t, t
    u, _ = a.ok("UID SEARCH RETURN (UPDATE) UID %d:%d" % (uids[0], uids[1]))
    # limits.imap_search_updates = 3: the fourth is answered without updates
    a.ok("SEARCH RETURN (UPDATE) SEEN")
    a.ok("SORT RETURN (UPDATE) (ARRIVAL) UTF-8 ALL")
    u, t = a.ok("SEARCH RETURN (UPDATE) DELETED")
    tag = t.split()[0]
    assert '* NO [NOUPDATE "%s"] Too many search contexts (limits.imap_search_updates)' % tag in u, u
    # a new selection ends the contexts: room again
    a.ok("SELECT INBOX")
    u, t = a.ok("SEARCH RETURN (UPDATE) DELETED")
    assert not any("NOUPDATE" in l for l in u), u
    a.close()
    b.close()


def test_update_during_idle(srv):
    a, b, uids = pair(srv)
    u, t = a.ok("UID SEARCH RETURN (UPDATE) FLAGGED")
    tag = t.split()[0]
    a.send("i1 IDLE\r\n")
    assert a.line().startswith("+"), "no continuation"
    b.ok("UID STORE %d +FLAGS (\\Flagged)" % uids[2])
    want = '* ESEARCH (TAG "%s") UID ADDTO (0 %d)' % (tag, uids[2])
    got = []
    while want not in got:  # the socket timeout bounds the wait
        got.append(a.line())
    a.send("DONE\r\n")
    _, t = a.read_tagged("i1")
    assert " OK" in t, t
    a.close()
    b.close()


def _apply(model, line, tag, ordered, uid):
    """Applies one ESEARCH update line to the client's copy of a result."""
    m = re.match(r'\* ESEARCH \(TAG "%s"\)%s (ADDTO|REMOVEFROM) \((.*)\)$' % (tag, " UID" if uid else ""), line)
    if not m:
        return
    what, items = m.group(1), m.group(2).split()
    pairs = list(zip(items[0::2], items[1::2]))
    for pos, nums in pairs:
        pos = int(pos)
        vals = []
        for part in nums.split(","):
            lo, _, hi = part.partition(":")
            hi = hi or lo
            lo, hi = sorted((int(lo), int(hi)))
            vals += range(lo, hi + 1)
        if not ordered:
            assert pos == 0, line
            if what == "ADDTO":
                assert not set(vals) & set(model), (line, model)
                model.extend(vals)
            else:
                assert set(vals) <= set(model), (line, model)
                model[:] = [x for x in model if x not in vals]
        else:
            assert len(vals) == 1, line
            if what == "ADDTO":
                model.insert(pos - 1, vals[0])
            else:
                assert model[pos - 1] == vals[0], (line, model)
                del model[pos - 1]


_seen_updates = [0]


def _track(lines, contexts):
    """Feeds untagged lines to every context model, renumbering on EXPUNGE."""
    _seen_updates[0] += sum(1 for l in lines if "ADDTO" in l or "REMOVEFROM" in l)
    for l in lines:
        m = re.match(r"\* (\d+) EXPUNGE$", l)
        if m:
            n = int(m.group(1))
            for c in contexts:
                if not c["uid"]:
                    c["model"][:] = [x - 1 if x > n else x for x in c["model"] if x != n]
            continue
        for c in contexts:
            _apply(c["model"], l, c["tag"], c["ordered"], c["uid"])


def _numbers(line):
    out = []
    for part in line.split(" ALL ")[1].split(",") if " ALL " in line else []:
        lo, _, hi = part.partition(":")
        hi = hi or lo
        out += range(int(lo), int(hi) + 1) if int(lo) <= int(hi) else range(int(lo), int(hi) - 1, -1)
    return out


def test_random_changes_keep_contexts_exact(srv):
    """Two other sessions change flags, deliver and expunge at random; the watching
    session's copies of three results (seed: POSTAMT_CTX_SEED), kept only from ADDTO/REMOVEFROM/EXPUNGE, equal
    fresh searches at the end."""
    import os
    import random
    rnd = random.Random(int(os.environ.get("POSTAMT_CTX_SEED", "5267")))
    _seen_updates[0] = 0
    a, b, uids = pair(srv, 12)
    c = Client(srv, a.user)
    c.ok("SELECT INBOX")
    contexts = []
    for cmd, ordered, uid in (("UID SEARCH RETURN (UPDATE) UNSEEN", False, True),
                              ("SEARCH RETURN (UPDATE) FLAGGED", False, False),
                              ("UID SORT RETURN (UPDATE) (REVERSE SUBJECT) UTF-8 OR SEEN DRAFT", True, True)):
        u, t = a.ok(cmd)
        tag = t.split()[0]
        first = esearch(u, tag)
        contexts.append({"tag": tag, "ordered": ordered, "uid": uid, "cmd": cmd,
                         "model": _numbers(first[0]) if first else []})
    flags = ["\\Seen", "\\Flagged", "\\Draft", "\\Deleted"]
    for step in range(150):
        s = rnd.choice([b, c])
        op = rnd.random()
        if op < 0.6:
            s.ok("UID STORE %s %sFLAGS (%s)" % (rnd.choice(["1:*", "%d" % rnd.randint(1, 40)]),
                                                 rnd.choice("+-"), rnd.choice(flags[:3])))
        elif op < 0.8:
            s.append("INBOX", msg("r%d" % rnd.randint(0, 99)), flags=rnd.choice(["", "(\\Seen)", "(\\Flagged)"]))
        else:
            s.ok("SELECT INBOX")
            s.ok("UID STORE %d +FLAGS (\\Deleted)" % rnd.randint(1, 40))
            s.ok("EXPUNGE")
        if step % 7 == 0:
            u, _ = a.ok("NOOP")
            _track(u, contexts)
        if step % 23 == 0:
            # the watcher's own change counts too
            u, _ = a.ok("STORE %d -FLAGS (\\Seen)" % rnd.randint(1, 5))
            _track(u, contexts)
    b.ok("NOOP")
    c.ok("NOOP")
    u, _ = a.ok("NOOP")
    _track(u, contexts)
    u, _ = a.ok("NOOP")
    _track(u, contexts)
    assert _seen_updates[0] > 20, _seen_updates  # the run did exercise the updates
    for ctx in contexts:
        fresh_cmd = re.sub(r"RETURN \(UPDATE\) ", "", ctx["cmd"])
        u, _ = a.ok(fresh_cmd)
        nums = [int(x) for x in u[0].split()[2:]]
        if ctx["ordered"]:
            assert ctx["model"] == nums, (ctx["cmd"], ctx["model"], nums)
        else:
            assert sorted(ctx["model"]) == sorted(nums), (ctx["cmd"], sorted(ctx["model"]), nums)
    for s in (a, b, c):
        s.close()
