"""JMAP Email/set updates in bulk (issue 15 item 6): the updates of one Email/set are
one store operation, so marking 50 messages read or moving them to another mailbox is
one state change: the JMAP state and IMAP's HIGHESTMODSEQ grow by one, and an
EventSource client gets one StateChange. Per-item SetErrors (notFound,
invalidProperties), `ifInState` and the partial result stay as RFC 8620 §5.3 says."""

import imaplib
import json
import re
import socket
import time

import pytest

from conftest import finish_server, new_server
from test_jmap import PW, USER, Client, read_events

N = 50


@pytest.fixture(scope="module")
def bulk(postamt_bin, tmp_path_factory):
    s = new_server(postamt_bin, tmp_path_factory, users=[(USER, PW[USER])])
    yield s
    finish_server(s)


def create_many(cl, mailbox, n, subject):
    """n emails made with Email/set create in mailbox; their ids."""
    create = {}
    for i in range(n):
        create["c%d" % i] = {"mailboxIds": {mailbox: True}, "from": [{"email": USER}], "to": [{"email": USER}],
                             "subject": "%s %d" % (subject, i), "textBody": [{"partId": "t", "type": "text/plain"}],
                             "bodyValues": {"t": {"value": "message %d\n" % i}}}
    r = cl.ok("Email/set", {"create": create})
    assert len(r["created"]) == n, r.get("notCreated")
    return [r["created"]["c%d" % i]["id"] for i in range(n)]


def highestmodseq(im, mailbox):
    typ, data = im.status(mailbox, "(HIGHESTMODSEQ)")
    assert typ == "OK", data
    return int(re.search(rb"HIGHESTMODSEQ (\d+)", data[0]).group(1))


def open_push(srv, cl):
    raw = socket.create_connection((srv.host, srv.port("https")), timeout=10)
    s = srv.ssl_context().wrap_socket(raw, server_hostname=srv.tls_name)
    s.sendall(("GET /jmap/eventsource?types=*&closeafter=no&ping=0 HTTP/1.1\r\nHost: %s\r\n"
               "Cookie: %s\r\nAccept: text/event-stream\r\n\r\n" % (srv.tls_name, cl.cookie)).encode())
    head = read_events(s, "\r\n\r\n", time.monotonic() + 5)
    assert head.startswith("HTTP/1.1 200"), head
    return s


def state_events(text):
    """The Email states of the `event: state` blocks in text, in order."""
    out = []
    for block in text.split("\n\n"):
        if block.startswith("event: state") and "data:" in block:
            data = json.loads(block.split("data:", 1)[1])
            for changes in data["changed"].values():
                if "Email" in changes:
                    out.append(changes["Email"])
    return out


def test_bulk_update_is_one_state_change(bulk):
    cl = Client(bulk)
    inbox, archive = cl.mailbox("inbox"), cl.mailbox("archive")
    ids = create_many(cl, inbox, N, "Bulk")
    im = imaplib.IMAP4_SSL(bulk.host, bulk.port("imaps"), ssl_context=bulk.ssl_context(check_hostname=False))
    push = open_push(bulk, cl)
    try:
        im.login(USER, PW[USER])
        m0_inbox = highestmodseq(im, "INBOX")
        state0 = cl.ok("Email/get", {"ids": []})["state"]
        # 50 marked read in one Email/set
        r = cl.ok("Email/set", {"update": {i: {"keywords/$seen": True} for i in ids}})
        assert sorted(r["updated"]) == sorted(ids) and not r.get("notUpdated"), r
        assert int(r["newState"]) == int(state0) + 1, (state0, r["newState"])
        assert r["oldState"] == state0
        m1_inbox = highestmodseq(im, "INBOX")
        assert m1_inbox == m0_inbox + 1 == int(r["newState"])
        q = cl.ok("Email/query", {"filter": {"inMailbox": inbox, "notKeyword": "$seen"}})
        assert q["ids"] == []
        # 50 moved to Archive in one Email/set: both mailboxes get the one new MODSEQ
        state1 = r["newState"]
        r = cl.ok("Email/set", {"update": {i: {"mailboxIds": {archive: True}} for i in ids}})
        assert sorted(r["updated"]) == sorted(ids), r
        assert int(r["newState"]) == int(state1) + 1
        assert highestmodseq(im, "INBOX") == highestmodseq(im, "Archive") == int(r["newState"])
        im.select("Archive", readonly=True)
        typ, data = im.search(None, "ALL")
        assert len(data[0].split()) == N
        # the push stream saw exactly one StateChange per Email/set
        text = read_events(push, "never", time.monotonic() + 1.5)
        assert state_events(text) == [state1, r["newState"]], text
    finally:
        push.close()
        im.logout()


def test_bulk_update_per_item_errors(bulk):
    cl = Client(bulk)
    inbox = cl.mailbox("inbox")
    ids = create_many(cl, inbox, 3, "Mixed")
    state0 = cl.ok("Email/get", {"ids": []})["state"]
    r = cl.ok("Email/set", {"update": {
        ids[0]: {"keywords/$flagged": True},
        ids[1]: {"keywords/$flagged": True, "mailboxIds": {"Mnosuch": True}},
        "Enosuch": {"keywords/$seen": True},
        ids[2]: {"keywords/$flagged": True, "subject": "no"},
    }})
    assert r["updated"] == {ids[0]: None}, r
    nu = r["notUpdated"]
    assert nu["Enosuch"]["type"] == "notFound"
    assert nu[ids[1]]["type"] == "invalidProperties"
    assert nu[ids[2]]["type"] == "invalidProperties"
    assert int(r["newState"]) == int(state0) + 1
    kws = {e["id"]: e["keywords"] for e in cl.ok("Email/get", {"ids": ids, "properties": ["keywords"]})["list"]}
    assert kws == {ids[0]: {"$flagged": True}, ids[1]: {}, ids[2]: {}}
    # ifInState: a stale state changes nothing
    resp = cl.call("Email/set", {"ifInState": state0, "update": {ids[1]: {"keywords/$seen": True}}})
    assert resp[0] == "error" and resp[1]["type"] == "stateMismatch", resp
    # nothing to change: the state stays
    r = cl.ok("Email/set", {"update": {ids[0]: {"keywords/$flagged": True}}})
    assert r["updated"] == {ids[0]: None} and r["newState"] == r["oldState"]
