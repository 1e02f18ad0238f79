"""The webmail's JMAP methods of issue #25, end to end over HTTP Basic:

- Identity/get|set|changes (RFC 8621 section 6) kept in the store: a display name,
  reply-to and signature survive a restart; an alias may become an identity, a
  foreign address may not; the state moves with each change;
- EmailSubmission/set checks the identity: the message's From must be the
  identity's address (forbiddenFrom), and the sent mail carries the display name;
- Settings/get|set (urn:postamt:params:jmap:settings): defaults, a change kept
  across a restart, bad values and unknown properties refused, create/destroy
  refused as for a singleton; limits.webmail_identities kept;
- ContactSuggestion/query (urn:postamt:params:jmap:contacts): the recipients of sent
  mail, found by address or name prefix, most used first, the limit kept; the senders
  of received personal mail (not list mail), counted apart; `exact` for one address."""

import email
import email.policy
import json

import pytest

from conftest import DOMAIN, finish_server, new_server
from helpers import Jmap, imap_messages

USER, PEER, FRIEND = "ida@" + DOMAIN, "jon@" + DOMAIN, "kai@" + DOMAIN
ALIAS, ALIAS2 = "ida.alias@" + DOMAIN, "ida.two@" + DOMAIN
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission",
         "urn:postamt:params:jmap:settings", "urn:postamt:params:jmap:contacts"]


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin, config=["limits.webmail_identities = 2"],
                   users=[(USER, "secret"), (PEER, "secret"), (FRIEND, "secret")])
    assert s.run("alias", "add", ALIAS, USER).returncode == 0
    assert s.run("alias", "add", ALIAS2, USER).returncode == 0
    yield s
    finish_server(s)


def jmap(srv, user=USER):
    return Jmap(srv, user, using=USING)


def call_error(cl, name, args):
    """The error type of a method call that must fail."""
    args = dict(args, accountId=cl.account)
    st, body = cl.request("POST", "/jmap/api", json.dumps({"using": USING, "methodCalls": [[name, args, "c"]]}),
                          {"Content-Type": "application/json"})
    assert st == 200, body
    r = json.loads(body)["methodResponses"][0]
    assert r[0] == "error", r
    return r[1]["type"]


def restart(srv):
    rc, _ = srv.stop()
    assert rc == 0, srv.log_tail()
    srv.start()


def send(cl, identity, frm, to, subject):
    drafts = cl.mailbox("drafts")
    r = cl.call("Email/set", {"create": {"d": {
        "mailboxIds": {drafts: True}, "from": frm, "to": to, "subject": subject,
        "textBody": [{"partId": "t"}], "bodyValues": {"t": {"value": "hello"}}}}})
    eid = r["created"]["d"]["id"]
    return cl.call("EmailSubmission/set", {"create": {"s": {"identityId": identity, "emailId": eid}}})


def test_session_advertises_the_capabilities(srv):
    cl = jmap(srv)
    st, body = cl.request("GET", "/.well-known/jmap")
    caps = json.loads(body)["capabilities"]
    assert "urn:postamt:params:jmap:settings" in caps and "urn:postamt:params:jmap:contacts" in caps


def test_identity_name_and_signature_survive_a_restart(srv):
    cl = jmap(srv)
    g = cl.call("Identity/get", {"ids": None})
    i0 = [i for i in g["list"] if i["id"] == "I0"][0]
    assert i0["email"] == USER and i0["mayDelete"] is False
    r = cl.call("Identity/set", {"ifInState": g["state"], "update": {"I0": {
        "name": "Ida Ärmel", "textSignature": "Ida\nPhone 123", "replyTo": [{"name": "Ida", "email": ALIAS}]}}})
    assert "I0" in r["updated"], r
    assert r["newState"] != r["oldState"]
    # a stale ifInState is refused
    assert call_error(cl, "Identity/set", {"ifInState": g["state"], "update": {"I0": {"name": "x"}}}) == "stateMismatch"
    restart(srv)
    cl = jmap(srv)
    i0 = cl.call("Identity/get", {"ids": ["I0"]})["list"][0]
    assert i0["name"] == "Ida Ärmel" and i0["textSignature"] == "Ida\nPhone 123"
    assert i0["replyTo"] == [{"name": "Ida", "email": ALIAS}]
    # a name over one line, a bad replyTo, an unknown property: refused
    r = cl.call("Identity/set", {"update": {"I0": {"name": "a\r\nBcc: x@y"}}})
    assert r["notUpdated"]["I0"]["type"] == "invalidProperties"
    r = cl.call("Identity/set", {"update": {"I0": {"replyTo": ["nobody"]}}})
    assert r["notUpdated"]["I0"]["type"] == "invalidProperties"
    r = cl.call("Identity/set", {"update": {"I0": {"colour": "red"}}})
    assert r["notUpdated"]["I0"]["type"] == "invalidProperties"


def test_identity_for_alias_only_and_changes(srv):
    cl = jmap(srv)
    st0 = cl.call("Identity/get", {"ids": None})["state"]
    ch = cl.call("Identity/changes", {"sinceState": st0})
    assert ch["oldState"] == ch["newState"] == st0 and ch["created"] == []
    r = cl.call("Identity/set", {"create": {"a": {"email": ALIAS, "name": "Ida (alias)"},
                                            "f": {"email": "ida@elsewhere.test"}}})
    assert r["notCreated"]["f"]["type"] == "forbiddenFrom"
    aid = r["created"]["a"]["id"]
    assert call_error(cl, "Identity/changes", {"sinceState": st0}) == "cannotCalculateChanges"
    # limits.webmail_identities = 2: I0 and one more
    r = cl.call("Identity/set", {"create": {"b": {"email": ALIAS2}}})
    assert r["notCreated"]["b"]["type"] == "overQuota", r
    r = cl.call("Identity/set", {"destroy": [aid, "I0"]})
    assert r["destroyed"] == [aid] and r["notDestroyed"]["I0"]["type"] == "forbidden"
    # the other account sees none of it
    other = jmap(srv, PEER)
    ids = other.call("Identity/get", {"ids": None})["list"]
    assert [i["email"] for i in ids] == [PEER]


def test_submission_checks_identity_and_carries_the_name(srv):
    cl = jmap(srv)
    cl.call("Identity/set", {"update": {"I0": {"name": "Ida Ärmel"}}})
    # a From that is neither the identity's nor the account's: refused
    r = send(cl, "I0", [{"email": PEER}], [{"email": PEER}], "not hers")
    assert r["notCreated"]["s"]["type"] == "forbiddenFrom", r
    # an alias the account owns is permitted with its main identity, as over SMTP
    r = send(cl, "I0", [{"email": ALIAS}], [{"email": PEER}], "from the alias")
    assert "s" in r["created"], r
    r = send(cl, "I0", [{"name": "Ida Ärmel", "email": USER}], [{"name": "Jon Jansen", "email": PEER}], "named")
    assert "s" in r["created"], r
    msgs = imap_messages(srv, PEER)
    m = [email.message_from_bytes(x, policy=email.policy.default) for x in msgs]
    named = [x for x in m if x["Subject"] == "named"]
    assert named and named[0]["From"].addresses[0].display_name == "Ida Ärmel"


def test_settings_defaults_set_and_restart(srv):
    cl = jmap(srv, FRIEND)
    g = cl.call("Settings/get", {"ids": None})
    s = g["list"][0]
    assert s == {"id": "singleton", "showImagesFromKnown": False, "notifications": False,
                 "density": "comfortable", "language": "", "undoSendSeconds": 5, "imagesFrom": [],
                 "conversations": False}
    r = cl.call("Settings/set", {"update": {"singleton": {"density": "compact", "language": "de",
                                                          "undoSendSeconds": 10, "notifications": True,
                                                          "conversations": True}}})
    assert "singleton" in r["updated"], r
    for bad in ({"density": "tiny"}, {"language": "fr"}, {"undoSendSeconds": 31}, {"undoSendSeconds": -1},
                {"notifications": "yes"}, {"theme": "dark"}, {"conversations": 1}):
        r = cl.call("Settings/set", {"update": {"singleton": bad}})
        assert r["notUpdated"]["singleton"]["type"] == "invalidProperties", (bad, r)
    r = cl.call("Settings/set", {"create": {"x": {}}, "destroy": ["singleton"]})
    assert r["notCreated"]["x"]["type"] == "singleton" and r["notDestroyed"]["singleton"]["type"] == "singleton"
    restart(srv)
    cl = jmap(srv, FRIEND)
    s = cl.call("Settings/get", {"ids": ["singleton"], "properties": ["density", "undoSendSeconds", "conversations"]})
    assert s["list"][0] == {"id": "singleton", "density": "compact", "undoSendSeconds": 10, "conversations": True}


def test_collapsed_query_says_it_has_no_changes(srv):
    """The webmail's conversation list: Email/query with collapseThreads answers with
    canCalculateChanges false, and Email/queryChanges of it is refused (its per-email
    changes cannot tell a thread's row moving to a newer email of it)."""
    cl = jmap(srv, FRIEND)
    q = cl.call("Email/query", {"collapseThreads": True, "calculateTotal": True})
    assert q["canCalculateChanges"] is False, q
    assert call_error(cl, "Email/queryChanges", {"collapseThreads": True, "sinceQueryState": q["queryState"]}) \
        == "cannotCalculateChanges"
    q = cl.call("Email/query", {"calculateTotal": True, "filter": {"hasKeyword": "$seen"}})
    assert q["canCalculateChanges"] is True, q


def test_contacts_from_sent_mail(srv):
    cl = jmap(srv, FRIEND)
    assert cl.call("ContactSuggestion/query", {"prefix": "jo"})["list"] == []
    for subject in ("one", "two"):
        r = send(cl, "I0", [{"email": FRIEND}], [{"name": "Jon Jansen", "email": PEER}], subject)
        assert "s" in r["created"], r
    r = send(cl, "I0", [{"email": FRIEND}], [{"name": "Jolanda Ida", "email": USER}], "three")
    assert "s" in r["created"], r
    found = cl.call("ContactSuggestion/query", {"prefix": "j"})["list"]
    # by name word: both; Jon (twice) first
    assert [c["email"] for c in found] == [PEER, USER]
    assert found[0]["name"] == "Jon Jansen" and found[0]["uses"] == 2
    assert [c["email"] for c in cl.call("ContactSuggestion/query", {"prefix": "ida@"})["list"]] == [USER]
    assert [c["email"] for c in cl.call("ContactSuggestion/query", {"prefix": "Ida"})["list"]] == [USER]
    assert len(cl.call("ContactSuggestion/query", {"prefix": "", "limit": 1})["list"]) == 1
    assert call_error(cl, "ContactSuggestion/query", {"prefix": 5}) == "invalidArguments"
    # another account's contacts are its own
    assert jmap(srv, PEER).call("ContactSuggestion/query", {"prefix": "j"})["list"] == []


def test_contacts_from_received_mail(srv):
    """Delivered personal mail makes its sender a contact of the recipient, counted
    as received (not as a use); list mail over port 25 does not."""
    import smtplib
    ida = jmap(srv, USER)
    before = (ida.call("ContactSuggestion/query", {"prefix": PEER, "exact": True})["list"] or
              [{"uses": 0, "received": 0}])[0]
    r = send(jmap(srv, PEER), "I0", [{"name": "Jon Jansen", "email": PEER}], [{"email": USER}], "hello ida")
    assert "s" in r["created"], r
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=10) as s:
        s.ehlo("mx.example.net")
        s.sendmail("news@example.net", [USER], b"From: News <news@example.net>\r\nTo: <%s>\r\n"
                   b"List-Id: <news.example.net>\r\nSubject: issue 1\r\n\r\nnews\r\n" % USER.encode())
        s.sendmail("lea@example.net", [USER], b"From: Lea Lang <lea@example.net>\r\nTo: <%s>\r\n"
                   b"Subject: hi\r\n\r\nhi\r\n" % USER.encode())

    def found():
        got = ida.call("ContactSuggestion/query", {"prefix": PEER.upper(), "exact": True})["list"]
        return got if got and got[0]["received"] > before["received"] else None
    import time
    for _ in range(50):
        got = found()
        if got:
            break
        time.sleep(0.1)
    assert got and got[0]["email"] == PEER, got
    assert got[0]["uses"] == before["uses"] and got[0]["received"] == before["received"] + 1, (before, got)
    lea = ida.call("ContactSuggestion/query", {"prefix": "lea"})["list"]
    assert [(c["email"], c["name"], c["received"]) for c in lea] == [("lea@example.net", "Lea Lang", 1)], lea
    assert ida.call("ContactSuggestion/query", {"prefix": "news"})["list"] == []
    assert call_error(ida, "ContactSuggestion/query", {"prefix": "x", "exact": 1}) == "invalidArguments"


def test_contacts_from_smtp_submission(srv):
    """Mail the account sends through SMTP submission (a desktop client) counts its
    envelope recipients as used, with the name its To/Cc give (none for a Bcc-like
    envelope-only recipient)."""
    import smtplib
    import time
    with smtplib.SMTP(srv.host, srv.port("submission"), timeout=10) as s:
        s.starttls(context=srv.ssl_context())
        s.login(USER, "secret")
        s.sendmail(USER, ["nina@example.net", "omar@example.net"],
                   b"From: <%s>\r\nTo: Nina Nagel <nina@example.net>\r\nSubject: plan\r\n\r\nhi\r\n" % USER.encode())
    ida = jmap(srv, USER)
    got = []
    for _ in range(50):
        got = ida.call("ContactSuggestion/query", {"prefix": "nina@"})["list"]
        if got:
            break
        time.sleep(0.1)
    assert [(c["email"], c["name"], c["uses"]) for c in got] == [("nina@example.net", "Nina Nagel", 1)], got
    omar = ida.call("ContactSuggestion/query", {"prefix": "omar"})["list"]
    assert [(c["email"], c["name"], c["uses"]) for c in omar] == [("omar@example.net", None, 1)], omar
