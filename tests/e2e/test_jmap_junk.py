"""The junk filter's per-account switch through JMAP (docs/spam.md, "Per account"):
capability urn:postamt:params:jmap:junk, JunkSettings/get and JunkSettings/set with
the webmail's cookie and with HTTP Basic, against a real `postamt serve`. The switch
is the one `postamt user junk --on/--off` sets: each side sees what the other did, and
mail from port 25 shows it in its verdict header."""

import smtplib

import pytest

from conftest import finish_server, new_server
from helpers import imap_messages
from test_jmap import Client, PW, USER, PEER

JUNK = "urn:postamt:params:jmap:junk"
USING = ["urn:ietf:params:jmap:core", JUNK]


@pytest.fixture(scope="module")
def srv(postamt_bin, tmp_path_factory):
    s = new_server(postamt_bin, tmp_path_factory, config=("mailauth.inbound = off",),
                   users=[(USER, PW[USER]), (PEER, PW[PEER])])
    yield s
    finish_server(s)


def call(cl, name, args, using=USING):
    args = dict(args)
    args.setdefault("accountId", cl.account)
    return cl.api([[name, args, "c"]], using=using)[0]


def ok(cl, name, args):
    r = call(cl, name, args)
    assert r[0] == name, r
    return r[1]


def cli(srv, *flags):
    r = srv.run("user", "junk", USER, *flags)
    assert r.returncode == 0, r.stderr
    return r.stdout


def deliver(srv, n):
    msg = ("From: Shop <offers@shop.test>\r\nTo: %s\r\nSubject: Offer %d\r\n\r\nBuy now.\r\n" % (USER, n)).encode()
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=30) as s:
        s.sendmail("offers@shop.test", [USER], msg)


def test_capability_in_session(srv):
    for cl in (Client(srv), Client(srv, basic=True)):
        sess = cl.session()
        assert sess["capabilities"][JUNK] == {}
        assert sess["accounts"][cl.account]["accountCapabilities"][JUNK] == {}
        assert sess["primaryAccounts"][JUNK] == cl.account


def test_get_set_and_the_cli_see_one_switch(srv):
    cookie, basic = Client(srv), Client(srv, basic=True)
    got = ok(cookie, "JunkSettings/get", {"ids": None})
    assert got["list"] == [{"id": "singleton", "enabled": True, "trained": False, "spamCount": 0, "hamCount": 0,
                            "threshold": 0.95, "minimum": 20}], got
    assert got["notFound"] == []
    state = got["state"]
    # ids ["singleton"], an unknown id, properties
    got = ok(basic, "JunkSettings/get", {"ids": ["singleton", "other"], "properties": ["enabled"]})
    assert got["list"] == [{"id": "singleton", "enabled": True}] and got["notFound"] == ["other"], got

    # off through JMAP (webmail cookie): the CLI and mail from port 25 see it
    r = ok(cookie, "JunkSettings/set", {"ifInState": state, "update": {"singleton": {"enabled": False}}})
    assert r["updated"] == {"singleton": None} and r["oldState"] == state and r["newState"] != state, r
    assert "junk filter off" in cli(srv)
    assert ok(basic, "JunkSettings/get", {})["list"][0]["enabled"] is False
    deliver(srv, 1)
    assert b"\r\nX-Postamt-Junk: off\r\n" in imap_messages(srv, USER, PW[USER])[-1]

    # on through the CLI: JMAP (Basic) sees it, and the state moved on
    cli(srv, "--on")
    got = ok(basic, "JunkSettings/get", {"ids": ["singleton"]})
    assert got["list"][0]["enabled"] is True and got["state"] != r["newState"], got
    # a stale ifInState is refused
    r2 = call(basic, "JunkSettings/set", {"ifInState": r["newState"], "update": {"singleton": {"enabled": False}}})
    assert r2[0] == "error" and r2[1]["type"] == "stateMismatch", r2
    # off again through Basic auth
    r = ok(basic, "JunkSettings/set", {"update": {"singleton": {"enabled": False}}})
    assert r["updated"] == {"singleton": None}, r
    assert "junk filter off" in cli(srv)
    cli(srv, "--on")
    # the other account's switch is its own
    assert ok(Client(srv, PEER), "JunkSettings/get", {})["list"][0]["enabled"] is True


def test_set_refuses_server_set_properties_create_and_destroy(srv):
    cl = Client(srv)
    r = ok(cl, "JunkSettings/set", {
        "update": {"singleton": {"threshold": 0.5, "enabled": False}, "other": {"enabled": True}},
        "create": {"k1": {"enabled": True}},
        "destroy": ["singleton"],
    })
    bad = r["notUpdated"]["singleton"]
    assert bad["type"] == "invalidProperties" and bad["properties"] == ["threshold"], r
    assert r["notUpdated"]["other"]["type"] == "notFound", r
    assert r["notCreated"]["k1"]["type"] == "singleton", r
    assert r["notDestroyed"]["singleton"]["type"] == "singleton", r
    assert r["updated"] == {} and r["oldState"] == r["newState"], r
    for patch in ({"enabled": "no"}, {"spamCount": 3}, {"trained": True}, {"id": "x"}):
        r = ok(cl, "JunkSettings/set", {"update": {"singleton": patch}})
        assert r["notUpdated"]["singleton"]["type"] == "invalidProperties", (patch, r)
    # nothing changed: still on
    assert ok(cl, "JunkSettings/get", {})["list"][0]["enabled"] is True
    assert "junk filter on" in cli(srv)
    # without the capability in "using" the methods are unknown; bad arguments are typed errors
    r = call(cl, "JunkSettings/get", {}, using=["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"])
    assert r[0] == "error" and r[1]["type"] == "unknownMethod", r
    r = call(cl, "JunkSettings/get", {"ids": "singleton"})
    assert r[0] == "error" and r[1]["type"] == "invalidArguments", r
    r = call(cl, "JunkSettings/get", {"accountId": "nope"})
    assert r[0] == "error" and r[1]["type"] == "accountNotFound", r
