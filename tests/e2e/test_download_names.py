"""Download file names end to end: a JMAP download (the webmail's attachment links)
answers with a Content-Disposition whose file name has no Unicode bidirectional
controls, so `invoice<U+202E>fdp.exe` cannot be saved looking like `invoiceexe.pdf`
(docs/security.md, outside review December 2026). The webmail's display of the same
names is tested in the browser (test_webmail.py) and in web/tests/bidi.test.mjs."""

import base64
import http.client
import json
import smtplib
import time
import urllib.parse

USER = "anna@example.test"
PW = "anna-secret-1"


def _api(srv, calls):
    c = http.client.HTTPSConnection(srv.tls_name, srv.port("https"), context=srv.ssl_context(), timeout=10)
    auth = "Basic " + base64.b64encode(("%s:%s" % (USER, PW)).encode()).decode()
    c.request("GET", "/.well-known/jmap", headers={"Authorization": auth})
    r = c.getresponse()
    account = json.loads(r.read())["primaryAccounts"]["urn:ietf:params:jmap:mail"]
    for call in calls:
        call[1]["accountId"] = account
    body = json.dumps({"using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"], "methodCalls": calls})
    c.request("POST", "/jmap/api", body, {"Authorization": auth, "Content-Type": "application/json"})
    r = c.getresponse()
    assert r.status == 200
    return json.loads(r.read())["methodResponses"], c, auth, account


def test_download_name_without_bidi_controls(make_server):
    srv = make_server(users=[(USER, PW)])
    msg = ("From: Sender <sender@remote.test>\r\nTo: %s\r\nSubject: bidi name\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nsee\r\n"
           "--XX\r\nContent-Type: application/octet-stream\r\n"
           "Content-Disposition: attachment; filename*=UTF-8''invoice%%E2%%80%%AEfdp.exe\r\n\r\nMZ\r\n--XX--\r\n") % USER
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=10) as s:
        s.sendmail("sender@remote.test", [USER], msg.encode())
    deadline = time.monotonic() + 10
    while True:
        resp, c, auth, account = _api(srv, [["Email/query", {"filter": {"subject": "bidi name"}}, "q"],
                                   ["Email/get", {"#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
                                                  "properties": ["attachments"]}, "g"]])
        if resp[1][1]["list"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    att = resp[1][1]["list"][0]["attachments"][0]
    assert att["name"] == "invoice\u202efdp.exe"
    for name in (att["name"], "a\u202ab\u202bc\u202cd\u202de\u2066f\u2067g\u2068h\u2069i\u200ej\u200fk\u061cl.txt"):
        path = "/jmap/download/%s/%s/%s" % (account, att["blobId"], urllib.parse.quote(name))
        c.request("GET", path, headers={"Authorization": auth})
        r = c.getresponse()
        r.read()
        assert r.status == 200
        cd = r.getheader("Content-Disposition")
        decoded = urllib.parse.unquote(cd.split("filename*=UTF-8''", 1)[1])
        for ch in "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
            assert ch not in decoded, (name, cd)
        if name == att["name"]:
            assert decoded == "invoice_fdp.exe", cd
            assert 'filename="invoice_fdp.exe"' in cd, cd
        else:
            assert decoded == "a_b_c_d_e_f_g_h_i_j_k_l.txt", cd
