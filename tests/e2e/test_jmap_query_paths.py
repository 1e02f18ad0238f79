"""JMAP Email/query: the searches that list only the index's candidates give what the
general path that lists every row gives.

Email/query with string conditions (text, body, subject, from, to, ...) searches each
mailbox first and lists only the matching messages; with before/after/hasAttachment
next to such conditions it lists only the messages that meet the string conditions
and evaluates the rest on them. A filter wrapped as
    OR(AND(filter, after 1970))
means the same but has no string condition every result must meet, so it goes the
general way: every row of each mailbox listed, then the search. Both must return the
same ids in the same order, the same total, for many filters, sorts and with
collapseThreads, on a generated mailbox (test_search_scale's generator: RFC 2047,
quoted-printable, base64, HTML, attachments) copied in part to a second mailbox, with
replies that make threads and a custom keyword.
"""

import datetime
import json
import os
import random
import re

import pytest

from conftest import finish_server, new_server
import helpers
from helpers import new_user
import test_search_scale as gen

N = 700

SORTS = [None,
         [{"property": "receivedAt", "isAscending": True}],
         [{"property": "sentAt", "isAscending": False}],
         [{"property": "size"}],
         [{"property": "from"}, {"property": "receivedAt", "isAscending": False}],
         [{"property": "to", "isAscending": False}],
         [{"property": "subject"}],
         [{"property": "hasKeyword", "keyword": "$flagged", "isAscending": False}]]


def filters(inbox, archive):
    mid = "2024-01-05T00:00:00Z"
    return [
        {"text": "meeting"},                       # in most messages: lists every row
        {"text": "größe"},
        {"text": "Prüfbericht"},                   # attachment names
        {"text": "ö"},                             # too short for the index: scanned
        {"body": "voranschlag"},
        {"body": "😀"},
        {"subject": "straße"},
        {"from": "müller"},
        {"to": "kundendienst"},
        {"cc": "søren"},
        {"header": ["X-Project", "gemini"]},
        {"text": "quittung", "inMailbox": inbox},
        {"text": "budget", "inMailbox": archive},
        {"text": "budget", "inMailboxOtherThan": [archive]},
        {"text": "Besprechung", "after": mid},
        {"text": "Besprechung", "before": mid},
        {"body": "café", "hasAttachment": True},
        {"body": "café", "hasAttachment": False},
        {"text": "invoice", "hasKeyword": "$seen"},
        {"text": "invoice", "notKeyword": "$seen", "inMailbox": inbox},
        {"text": "invoice", "hasKeyword": "projekt-x"},
        {"operator": "AND", "conditions": [{"body": "café"}, {"from": "weber"}]},
        {"operator": "AND", "conditions": [{"text": "zürich"}, {"after": mid},
                                           {"operator": "NOT", "conditions": [{"hasKeyword": "$flagged"}]}]},
        {"operator": "AND", "conditions": [{"operator": "AND", "conditions": [{"text": "quarterly"}]},
                                           {"hasAttachment": False}, {"minSize": 600}]},
        {"operator": "OR", "conditions": [{"text": "déjà"}, {"subject": "party"}]},
        {"operator": "NOT", "conditions": [{"text": "meeting"}]},
        {"operator": "AND", "conditions": [{"text": "lieferschein"},
                                           {"operator": "OR", "conditions": [{"before": mid},
                                                                             {"hasKeyword": "$answered"}]}]},
        {"hasKeyword": "$flagged", "inMailbox": inbox},
        {"after": mid, "hasAttachment": True},
    ]


def general(flt):
    """The same filter, answered the general way (every row listed)."""
    return {"operator": "OR", "conditions": [
        {"operator": "AND", "conditions": [flt, {"after": "1970-01-02T00:00:00Z"}]}]}


@pytest.fixture(scope="module")
def mailbox(postamt_bin):
    srv = new_server(postamt_bin)
    try:
        user = new_user(srv, "paths")
        rng = random.Random(25)
        msgs = [gen.make(i, rng, user) for i in range(N)]
        root = os.path.join(os.path.dirname(srv.dir), "maildir")
        gen.write_maildir(root, msgs)
        r = srv.run("import", user, root, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        imap = gen.Imap(srv, user)
        # replies to earlier messages (threads), appended with their References
        for k in range(60):
            p = msgs[rng.randrange(N)]
            d = (gen.T0 + datetime.timedelta(days=rng.randrange(20))).strftime("%a, %d %b %Y %H:%M:%S +0000")
            raw = ("From: Anna Weber <anna.weber@post.test>\r\nTo: %s\r\nSubject: Re: Aa reply %d\r\n"
                   "Date: %s\r\nMessage-ID: <r%d.paths@gen.test>\r\nIn-Reply-To: %s\r\nReferences: %s\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\n\r\nmeeting budget invoice Besprechung %d\r\n"
                   % (user, k, d, k, p.msgid, p.msgid, k)).encode()
            imap.cmd(b"APPEND INBOX", b"{%d+}\r\n" % len(raw) + raw)
        imap.cmd(b"CREATE Archiv")
        imap.cmd(b"UID COPY 1:250 Archiv")
        imap.cmd(b"UID MOVE 600:650 Archiv")
        imap.cmd(b"UID STORE 100:400 +FLAGS.SILENT (projekt-x)")
        helpers.wait_indexed(srv, timeout=120)
    except BaseException:
        finish_server(srv)
        raise
    yield srv, user
    imap.sock.close()
    finish_server(srv)


def test_candidate_path_equals_general_path(mailbox):
    srv, user = mailbox
    call, account = gen.jmap_client(srv, user)
    boxes = {m["name"]: m["id"] for m in call("Mailbox/get", {"accountId": account})["list"]}
    flts = filters(boxes["INBOX"], boxes["Archiv"])
    total = N + 60
    bad, sizes = [], []
    for flt in flts:
        for sort in SORTS:
            for collapse in (False, True) if sort is None or sort[0]["property"] == "subject" else (False,):
                args = {"accountId": account, "position": 0, "limit": 5000, "calculateTotal": True,
                        "collapseThreads": collapse}
                if sort is not None:
                    args["sort"] = sort
                fast = call("Email/query", dict(args, filter=flt))
                slow = call("Email/query", dict(args, filter=general(flt)))
                assert "ids" in fast and "ids" in slow, (flt, fast, slow)
                if fast["ids"] != slow["ids"] or fast["total"] != slow["total"]:
                    bad.append("%s sort %s collapse %s: %d ids, general path %d" % (
                        json.dumps(flt, ensure_ascii=False), json.dumps(sort), collapse, len(fast["ids"]),
                        len(slow["ids"])))
                if sort is None and not collapse:
                    sizes.append(fast["total"])
    assert not bad, "\n".join(bad[:20])
    # the mailbox exercises what it claims: most filters find some but not all messages
    assert sum(1 for n in sizes if 0 < n < total) >= len(flts) - 2, sizes
    # ... and some find many (the branch that lists every row), some few
    assert max(sizes) * 4 > total and min(n for n in sizes if n > 0) * 20 < total, sizes


def test_window_and_anchor_on_candidates(mailbox):
    """position, anchor and anchorOffset over a text search's results as over the general path's."""
    srv, user = mailbox
    call, account = gen.jmap_client(srv, user)
    flt = {"text": "Besprechung", "after": "2024-01-03T00:00:00Z"}
    full = call("Email/query", {"accountId": account, "filter": general(flt), "sort": [{"property": "subject"}],
                                "calculateTotal": True})
    assert full["total"] > 20
    anchor = full["ids"][10]
    for extra in ({"position": 5, "limit": 7}, {"position": -3}, {"anchor": anchor, "anchorOffset": -2, "limit": 4}):
        args = dict({"accountId": account, "sort": [{"property": "subject"}], "calculateTotal": True}, **extra)
        a = call("Email/query", dict(args, filter=flt))
        b = call("Email/query", dict(args, filter=general(flt)))
        assert (a["ids"], a["position"], a["total"]) == (b["ids"], b["position"], b["total"]), extra
        assert a["ids"], extra


def test_sorts_use_rfc8621_keys(mailbox):
    """subject sorts by the base subject, from/to by the first address's name, else its
    email (RFC 8621 §4.4.2): the order of IMAP SORT (SUBJECT), (DISPLAYFROM), (DISPLAYTO)
    on the same messages, ties by arrival in both."""
    srv, user = mailbox
    call, account = gen.jmap_client(srv, user)
    inbox = {m["name"]: m["id"] for m in call("Mailbox/get", {"accountId": account})["list"]}["INBOX"]
    imap = gen.Imap(srv, user)
    uid_of = {}
    for line in imap.cmd(b"UID FETCH 1:* (EMAILID)"):
        mu, me = re.search(rb"UID (\d+)", line), re.search(rb"EMAILID \(([^)\s]+)\)", line)
        if mu and me:
            uid_of[me.group(1).decode()] = int(mu.group(1))
    replies = 0
    for prop, key in (("subject", b"SUBJECT"), ("from", b"DISPLAYFROM"), ("to", b"DISPLAYTO")):
        r = call("Email/query", {"accountId": account, "filter": {"inMailbox": inbox}, "limit": 5000,
                                 "sort": [{"property": prop}]})
        got = [uid_of[i] for i in r["ids"]]
        out = imap.cmd(b"UID SORT (" + key + b") UTF-8 ALL")
        want = [int(x) for l in out if l.startswith(b"* SORT") for x in l.split()[2:]]
        assert len(got) > 600 and got == want, prop
        if prop == "subject":
            # "Re: Aa reply k" sorts as "Aa reply k": first, not under R
            subjects = {e["id"]: e["subject"] for e in call("Email/get", {
                "accountId": account, "ids": r["ids"], "properties": ["subject"]})["list"]}
            order = [subjects[i] for i in r["ids"]]
            replies = sum(1 for s in order if s.startswith("Re: Aa reply"))
            assert all(s.startswith("Re: Aa reply") for s in order[:replies]), order[:replies + 1]
    assert replies == 60
    imap.sock.close()
