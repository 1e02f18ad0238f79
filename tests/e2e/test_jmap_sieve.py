"""JMAP for Sieve (RFC 9661) and VacationResponse (RFC 8621 §8) end to end, over HTTP
Basic and the webmail's session cookie, against a real `postamt serve`: the session's
capabilities, SieveScript/get, /set (create, update, destroy, onSuccessActivateScript,
onSuccessDeactivateScript), /query and /validate, script content through blob upload
and download, the errors (invalidSieve with the compiler's message, tooLarge,
overQuota, alreadyExists, sieveIsActive, notFound), and the vacation singleton."""

import base64
import json
import http.client

import pytest

from conftest import finish_server, new_server

USER, OTHER = "sieve-anna@example.test", "sieve-bert@example.test"
PW = {USER: "anna-sieve-1", OTHER: "bert-sieve-2"}
CAP_SIEVE = "urn:ietf:params:jmap:sieve"
CAP_VAC = "urn:ietf:params:jmap:vacationresponse"
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", CAP_SIEVE, CAP_VAC]
MAX_SIZE = 2048
MAX_SCRIPTS = 5

GOOD = b'require ["fileinto"];\r\nif header :contains "subject" "invoice" {\r\n  fileinto "Bills";\r\n}\r\n'
BAD = b'require ["fileinto"];\r\nif header :contains "subject" "x" {\r\n  fileinto "Bills"\r\n}\r\n'


@pytest.fixture(scope="module")
def srv(postamt_bin, tmp_path_factory):
    s = new_server(postamt_bin, tmp_path_factory, users=[(USER, PW[USER]), (OTHER, PW[OTHER])],
                   config=["sieve.max_script_size = %d" % MAX_SIZE, "sieve.max_scripts = %d" % MAX_SCRIPTS])
    yield s
    finish_server(s)


class Client:
    """JMAP with HTTP Basic, or (cookie=True) with the webmail's login cookie and CSRF header."""

    def __init__(self, srv, user=USER, cookie=False):
        self.conn = http.client.HTTPSConnection(srv.tls_name, srv.port("https"), context=srv.ssl_context(),
                                                timeout=20)
        self.headers = {}
        if cookie:
            st, body, resp = self.request("POST", "/api/login", json.dumps({"username": user, "password": PW[user]}),
                                          {"X-Postamt-CSRF": "1", "Content-Type": "application/json"})
            assert st == 200, body
            self.headers = {"Cookie": resp.getheader("Set-Cookie").split(";")[0], "X-Postamt-CSRF": "1"}
        else:
            tok = base64.b64encode(("%s:%s" % (user, PW[user])).encode()).decode()
            self.headers = {"Authorization": "Basic " + tok}
        self.sess = self.session()
        self.account = self.sess["primaryAccounts"][CAP_SIEVE]

    def request(self, method, path, body=None, headers=None):
        h = dict(self.headers)
        h.update(headers or {})
        self.conn.request(method, path, body, h)
        r = self.conn.getresponse()
        return r.status, r.read(), r

    def session(self):
        st, body, _ = self.request("GET", "/.well-known/jmap")
        assert st == 200, body
        return json.loads(body)

    def calls(self, calls, using=USING):
        calls = [[n, dict(a, accountId=a.get("accountId", self.account)), c] for n, a, c in calls]
        st, body, _ = self.request("POST", "/jmap/api", json.dumps({"using": using, "methodCalls": calls}),
                                   {"Content-Type": "application/json"})
        assert st == 200, body
        return json.loads(body)["methodResponses"]

    def call(self, name, args, using=USING):
        r = self.calls([[name, args, "c"]], using)[0]
        assert r[0] == name, r
        return r[1]

    def upload(self, data):
        st, body, _ = self.request("POST", "/jmap/upload/%s/" % self.account, data,
                                   {"Content-Type": "application/sieve"})
        assert st == 201, body
        return json.loads(body)["blobId"]

    def download(self, blob_id):
        st, body, _ = self.request("GET", "/jmap/download/%s/%s/s.sieve?type=application/sieve" %
                                   (self.account, blob_id))
        return st, body

    def create(self, name, text, activate=False):
        args = {"create": {"k": {"name": name, "blobId": self.upload(text)}}}
        if activate:
            args["onSuccessActivateScript"] = "#k"
        return self.call("SieveScript/set", args)

    def scripts(self):
        return {s["name"]: s for s in self.call("SieveScript/get", {"ids": None})["list"]}

    def cleanup(self):
        self.call("SieveScript/set", {"onSuccessDeactivateScript": True})
        ids = [s["id"] for s in self.scripts().values()]
        if ids:
            r = self.call("SieveScript/set", {"destroy": ids})
            assert sorted(r["destroyed"]) == sorted(ids), r


@pytest.fixture
def basic(srv):
    c = Client(srv)
    c.cleanup()
    yield c
    c.cleanup()


def test_capabilities(srv):
    s = Client(srv).session()
    assert CAP_SIEVE in s["capabilities"] and CAP_VAC in s["capabilities"]
    acct = s["accounts"][s["primaryAccounts"][CAP_SIEVE]]
    cap = acct["accountCapabilities"][CAP_SIEVE]
    assert cap["implementation"].startswith("postamt")
    assert cap["maxSizeScript"] == MAX_SIZE and cap["maxNumberScripts"] == MAX_SCRIPTS
    assert cap["maxSizeScriptName"] >= 128 and cap["maxNumberRedirects"] >= 1
    for ext in ("fileinto", "vacation", "imap4flags", "copy", "body", "variables", "regex"):
        assert ext in cap["sieveExtensions"], cap
    assert cap["notificationMethods"] is None and cap["externalLists"] is None
    assert CAP_VAC in acct["accountCapabilities"]


def test_create_get_download_activate(basic):
    r = basic.create("filters", GOOD, activate=True)
    assert not r["notCreated"], r
    made = r["created"]["k"]
    assert made["id"] and made["blobId"] and made["isActive"] is True, made
    assert r["newState"] != r["oldState"]
    got = basic.call("SieveScript/get", {"ids": [made["id"]]})
    assert got["notFound"] == [] and got["state"] == r["newState"]
    [s] = got["list"]
    assert s == {"id": made["id"], "name": "filters", "blobId": made["blobId"], "isActive": True}
    st, body = basic.download(s["blobId"])
    assert st == 200 and body == GOOD
    # properties limit what comes back (id always)
    only = basic.call("SieveScript/get", {"ids": None, "properties": ["name"]})["list"]
    assert only == [{"id": made["id"], "name": "filters"}]


def test_update_content_and_name(basic):
    made = basic.create("one", GOOD)["created"]["k"]
    new_text = b'keep;\r\n'
    r = basic.call("SieveScript/set", {"update": {made["id"]: {"blobId": basic.upload(new_text), "name": "uno"}}})
    assert not r["notUpdated"], r
    new_blob = r["updated"][made["id"]]["blobId"]
    assert new_blob != made["blobId"]
    st, body = basic.download(new_blob)
    assert st == 200 and body == new_text
    st, _ = basic.download(made["blobId"])
    assert st == 404, "the old content's blob is gone"
    assert set(basic.scripts()) == {"uno"}
    # isActive and id are server-set
    r = basic.call("SieveScript/set", {"update": {made["id"]: {"isActive": True}}})
    assert r["notUpdated"][made["id"]]["type"] == "invalidProperties"
    assert "isActive" in r["notUpdated"][made["id"]]["properties"]


def test_invalid_sieve_gets_the_compilers_message(basic):
    r = basic.create("broken", BAD)
    err = r["notCreated"]["k"]
    assert err["type"] == "invalidSieve", err
    assert "line" in err["description"], err
    assert basic.scripts() == {}
    v = basic.call("SieveScript/validate", {"blobId": basic.upload(BAD)})
    assert v["error"]["type"] == "invalidSieve" and "line" in v["error"]["description"], v
    assert basic.call("SieveScript/validate", {"blobId": basic.upload(GOOD)})["error"] is None
    r = basic.calls([["SieveScript/validate", {"blobId": "Unope"}, "v"]])[0]
    assert r[0] == "error" and r[1]["type"] == "invalidArguments", r


def test_limits(basic):
    big = b"# " + b"x" * MAX_SIZE + b"\r\nkeep;\r\n"
    err = basic.create("big", big)["notCreated"]["k"]
    assert err["type"] == "tooLarge" and err["maxSize"] == MAX_SIZE, err
    assert basic.call("SieveScript/validate", {"blobId": basic.upload(big)})["error"]["type"] == "tooLarge"
    for i in range(MAX_SCRIPTS):
        assert not basic.create("s%d" % i, b"keep;\r\n")["notCreated"]
    err = basic.create("one-more", b"keep;\r\n")["notCreated"]["k"]
    assert err["type"] == "overQuota", err
    err = basic.create("s0", b"keep;\r\n")["notCreated"]["k"]
    assert err["type"] == "alreadyExists" and err["existingId"] == basic.scripts()["s0"]["id"], err
    err = basic.create("bad\nname", b"keep;\r\n")["notCreated"]["k"]
    assert err["type"] == "invalidProperties" and err["properties"] == ["name"], err
    err = basic.call("SieveScript/set", {"create": {"k": {"name": "x"}}})["notCreated"]["k"]
    assert err["type"] == "invalidProperties" and "blobId" in err["properties"], err
    err = basic.call("SieveScript/set", {"create": {"k": {"name": "x", "blobId": "Unope"}}})["notCreated"]["k"]
    assert err["type"] == "blobNotFound", err


def test_active_script_cannot_be_destroyed(basic):
    a = basic.create("a", GOOD, activate=True)["created"]["k"]["id"]
    b = basic.create("b", b"keep;\r\n")["created"]["k"]["id"]
    r = basic.call("SieveScript/set", {"destroy": [a]})
    assert r["notDestroyed"][a]["type"] == "sieveIsActive", r
    # switching the active script reports both
    r = basic.call("SieveScript/set", {"onSuccessActivateScript": b})
    assert r["updated"] == {a: {"isActive": False}, b: {"isActive": True}}, r
    assert basic.call("SieveScript/set", {"destroy": [a]})["destroyed"] == [a]
    r = basic.call("SieveScript/set", {"onSuccessDeactivateScript": True})
    assert r["updated"] == {b: {"isActive": False}}, r
    assert not any(s["isActive"] for s in basic.scripts().values())
    # a failed create in the same call: nothing is activated
    r = basic.call("SieveScript/set", {"create": {"k": {"name": "bad", "blobId": basic.upload(BAD)}},
                                       "onSuccessActivateScript": b})
    assert "k" in r["notCreated"] and r["updated"] == {}, r
    assert basic.scripts()["b"]["isActive"] is False


def test_nonexistent(basic):
    got = basic.call("SieveScript/get", {"ids": ["S999999", "nope"]})
    assert got["list"] == [] and got["notFound"] == ["S999999", "nope"]
    r = basic.call("SieveScript/set", {"update": {"S999999": {"name": "x"}}, "destroy": ["S999998"]})
    assert r["notUpdated"]["S999999"]["type"] == "notFound"
    assert r["notDestroyed"]["S999998"]["type"] == "notFound"
    st, _ = basic.download("S999999-1")
    assert st == 404


def test_query(basic):
    for name in ("beta", "alpha", "gamma"):
        basic.create(name, b"keep;\r\n", activate=(name == "gamma"))
    ids = {n: s["id"] for n, s in basic.scripts().items()}
    q = basic.call("SieveScript/query", {})
    assert q["ids"] == [ids["alpha"], ids["beta"], ids["gamma"]] and q["total"] == 3
    q = basic.call("SieveScript/query", {"sort": [{"property": "name", "isAscending": False}], "limit": 2})
    assert q["ids"] == [ids["gamma"], ids["beta"]]
    q = basic.call("SieveScript/query", {"filter": {"isActive": True}})
    assert q["ids"] == [ids["gamma"]]
    q = basic.call("SieveScript/query", {"filter": {"name": "ta"}})
    assert q["ids"] == [ids["beta"]]
    q = basic.call("SieveScript/query", {"sort": [{"property": "isActive", "isAscending": False}]})
    assert q["ids"][0] == ids["gamma"]
    r = basic.calls([["SieveScript/query", {"filter": {"body": "x"}}, "q"]])[0]
    assert r[0] == "error" and r[1]["type"] == "unsupportedFilter"


def test_capability_must_be_used(basic):
    r = basic.calls([["SieveScript/get", {"ids": None}, "g"]], using=["urn:ietf:params:jmap:core"])[0]
    assert r[0] == "error" and r[1]["type"] == "unknownMethod", r


def test_cookie_and_accounts_are_separate(srv, basic):
    web = Client(srv, cookie=True)
    r = web.create("from-webmail", GOOD, activate=True)
    assert r["created"]["k"]["isActive"], r
    assert "from-webmail" in basic.scripts(), "the cookie and Basic reach the same account"
    other = Client(srv, user=OTHER)
    assert other.scripts() == {}
    assert other.call("SieveScript/get", {"ids": [r["created"]["k"]["id"]]})["notFound"]
    st, _ = other.download(r["created"]["k"]["blobId"])
    assert st == 404, "another account's script blob is not readable"


def test_vacation_singleton(srv):
    for c in (Client(srv), Client(srv, cookie=True)):
        c.call("VacationResponse/set", {"update": {"singleton": {"isEnabled": False, "fromDate": None, "toDate": None,
                                                                 "subject": None, "textBody": None}}})
        got = c.call("VacationResponse/get", {"ids": None})
        assert got["list"] == [{"id": "singleton", "isEnabled": False, "fromDate": None, "toDate": None,
                                "subject": None, "textBody": None, "htmlBody": None}], got
        r = c.call("VacationResponse/set", {"update": {"singleton": {
            "isEnabled": True, "fromDate": "2026-12-20T00:00:00Z", "toDate": "2027-01-06T23:59:59Z",
            "subject": "Away \"until\" January", "textBody": "Back on 7 January.\n\u2014 Anna"}}})
        assert r["updated"] == {"singleton": None} and r["newState"] != r["oldState"], r
        got = c.call("VacationResponse/get", {"ids": ["singleton", "other"]})
        assert got["notFound"] == ["other"]
        assert got["list"][0] == {"id": "singleton", "isEnabled": True, "fromDate": "2026-12-20T00:00:00Z",
                                  "toDate": "2027-01-06T23:59:59Z", "subject": "Away \"until\" January",
                                  "textBody": "Back on 7 January.\n\u2014 Anna", "htmlBody": None}, got
        # a patch changes only what it names
        c.call("VacationResponse/set", {"update": {"singleton": {"isEnabled": False}}})
        v = c.call("VacationResponse/get", {"ids": None, "properties": ["isEnabled", "subject"]})["list"][0]
        assert v == {"id": "singleton", "isEnabled": False, "subject": "Away \"until\" January"}, v
    c = Client(srv)
    r = c.call("VacationResponse/set", {"create": {"x": {"isEnabled": True}}, "destroy": ["singleton"],
                                        "update": {"other": {"isEnabled": True}}})
    assert r["notCreated"]["x"]["type"] == "singleton"
    assert r["notDestroyed"]["singleton"]["type"] == "singleton"
    assert r["notUpdated"]["other"]["type"] == "notFound"
    for bad in ({"fromDate": "24.12.2026"}, {"isEnabled": "yes"}, {"subject": 5}, {"subject": "Away\r\nBcc: x@example.test"}, {"unknown": 1},
                {"fromDate": "2027-01-02T00:00:00Z", "toDate": "2027-01-01T00:00:00Z"}):
        err = c.call("VacationResponse/set", {"update": {"singleton": bad}})["notUpdated"]["singleton"]
        assert err["type"] == "invalidProperties", (bad, err)
    assert Client(srv, user=OTHER).call("VacationResponse/get", {"ids": None})["list"][0]["isEnabled"] is False


def test_limits_apply_on_reload(make_server):
    """sieve.max_scripts and sieve.max_script_size are read per request: a SIGHUP
    changes the capability and what SieveScript/set accepts."""
    srv = make_server(users=[(USER, PW[USER])])
    c = Client(srv)
    cap = c.sess["accounts"][c.account]["accountCapabilities"][CAP_SIEVE]
    assert (cap["maxNumberScripts"], cap["maxSizeScript"], cap["maxNumberRedirects"]) == (20, 256 * 1024, 4), cap
    assert not c.create("first", b"keep;\r\n")["notCreated"]
    srv.add_config("sieve.max_scripts = 1", "sieve.max_script_size = 1024", "sieve.max_redirects = 2")
    since = srv.log_size()
    srv.send_signal(1)  # SIGHUP
    assert srv.wait_log(r"event=reloaded", since=since), srv.log_tail()
    c = Client(srv)
    cap = c.sess["accounts"][c.account]["accountCapabilities"][CAP_SIEVE]
    assert (cap["maxNumberScripts"], cap["maxSizeScript"], cap["maxNumberRedirects"]) == (1, 1024, 2), cap
    assert c.create("second", b"keep;\r\n")["notCreated"]["k"]["type"] == "overQuota"
    big = b"# " + b"x" * 1024 + b"\r\nkeep;\r\n"
    err = c.call("SieveScript/validate", {"blobId": c.upload(big)})["error"]
    assert err["type"] == "tooLarge" and err["maxSize"] == 1024, err


def test_changes(basic):
    state = basic.call("SieveScript/get", {"ids": []})["state"]
    r = basic.call("SieveScript/changes", {"sinceState": state})
    assert (r["oldState"], r["newState"], r["created"], r["updated"], r["destroyed"], r["hasMoreChanges"]) == \
        (state, state, [], [], [], False), r
    basic.create("x", b"keep;\r\n")
    r = basic.calls([["SieveScript/changes", {"sinceState": state}, "c"],
                     ["SieveScript/queryChanges", {"sinceQueryState": state}, "q"]])
    assert [x[0] for x in r] == ["error", "error"], r
    assert r[0][1]["type"] == "cannotCalculateChanges" and r[1][1]["type"] == "cannotCalculateChanges", r
