"""JMAP SearchSnippet/get (RFC 8621 §5; issue 23): the subject and a preview of the body
with the matches in <mark>, HTML-escaped, found with the search's own folding (what
IMAP SEARCH and Email/query match is what is marked: "STRASSE" marks "Straße"), from
messages in the full-text index and from messages it does not hold (too big for
`search.index_text_max`), and null where a term is not in the subject or body.
"""

import base64
import imaplib

import pytest

from conftest import finish_server, new_server
import helpers
from helpers import new_user
from test_search_scale import jmap_client

MSGS = {
    "street": ("Neue Straße für <Kunden>",
               "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
               "Die Lieferadresse ist jetzt Hauptstra=C3=9Fe 5 & \"Hof\" <b>links</b>.\r\n"
               "Kostenvor=\r\nanschlag folgt.\r\n"),
    "html": ("Newsletter",
             "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
             base64.b64encode("<html><body><p>Viele Gr&#252;&#223;e aus <b>Zürich</b></p></body></html>"
                              .encode()).decode() + "\r\n"),
    "long": ("Protokoll",
             "Content-Type: text/plain; charset=utf-8\r\n\r\n" + "Vorrede ohne Treffer. " * 60 +
             "Hier steht das Stichwort mitten im Text, " + "und danach noch viel mehr Text. " * 20 + "\r\n"),
    "big": ("Groß", "Content-Type: text/plain; charset=utf-8\r\n\r\n" + "Füllzeile\r\n" * 600 +
            "Ende mit Stichwort\r\n"),
}


@pytest.fixture(scope="module")
def setup(postamt_bin):
    srv = new_server(postamt_bin, config=["search.index_text_max = 4K"])
    try:
        user = new_user(srv, "snip")
        m = imaplib.IMAP4(srv.host, srv.port("imap"))
        m.login(user, "secret")
        for key, (subject, body) in MSGS.items():
            raw = ("From: a@example.org\r\nSubject: =?UTF-8?B?%s?=\r\nMessage-ID: <%s@snip.test>\r\n%s" %
                   (base64.b64encode(subject.encode()).decode(), key, body))
            m.append("INBOX", None, None, raw.encode())
        m.logout()
        helpers.wait_indexed(srv)
        assert helpers.index_status(srv)["too_big"] == 1  # "big" is read from its file
        call, account = jmap_client(srv, user)
        ids = {}
        q = call("Email/query", {"accountId": account, "filter": {}})
        got = call("Email/get", {"accountId": account, "ids": q["ids"], "properties": ["messageId"]})
        for e in got["list"]:
            ids[e["messageId"][0].split("@")[0]] = e["id"]
    except BaseException:
        finish_server(srv)  # not left running when the setup fails
        raise
    yield srv, call, account, ids
    finish_server(srv)


def snippets(setup, flt, keys):
    srv, call, account, ids = setup
    r = call("SearchSnippet/get", {"accountId": account, "filter": flt, "emailIds": [ids[k] for k in keys]})
    assert r["notFound"] == [], r
    by_id = {s["emailId"]: s for s in r["list"]}
    return [by_id[ids[k]] for k in keys]


def test_marks_what_the_search_matched(setup):
    s, = snippets(setup, {"text": "STRASSE"}, ["street"])
    assert s["subject"] == "Neue <mark>Straße</mark> für &lt;Kunden&gt;"
    assert "Haupt<mark>straße</mark> 5 &amp; &quot;Hof&quot; &lt;b&gt;links&lt;/b&gt;." in s["preview"]
    s, = snippets(setup, {"body": "voranschlag"}, ["street"])
    assert s["subject"] is None
    assert "Kosten<mark>voranschlag</mark> folgt." in s["preview"]  # across a soft line break


def test_html_body_and_subject_terms(setup):
    s, = snippets(setup, {"operator": "AND", "conditions": [{"body": "grüsse"}, {"subject": "letter"}]},
                  ["html"])
    assert s["subject"] == "News<mark>letter</mark>"
    assert s["preview"].startswith("Viele <mark>Grüße</mark> aus Zürich"), s
    # a term under NOT is not marked; no term in the body: no preview
    s, = snippets(setup, {"operator": "AND", "conditions": [
        {"subject": "news"}, {"operator": "NOT", "conditions": [{"body": "zürich"}]}]}, ["html"])
    assert s["subject"] == "<mark>News</mark>letter" and s["preview"] is None


def test_preview_is_at_most_255_octets_around_the_match(setup):
    s, = snippets(setup, {"text": "stichwort"}, ["long", "big"])[0:1]
    prev = s["preview"]
    assert "<mark>Stichwort</mark>" in prev
    assert len(prev.replace("<mark>", "").replace("</mark>", "").encode()) <= 255
    assert prev.startswith("Hier steht das") or "Treffer. Hier steht das" in prev
    assert s["subject"] is None


def test_messages_outside_the_index(setup):
    big, other = snippets(setup, {"body": "stichwort"}, ["big", "html"])
    assert big["preview"].endswith("Ende mit <mark>Stichwort</mark>"), big
    assert other["preview"] is None and other["subject"] is None
    # one- and two-character terms are not in the index's reach either
    s, = snippets(setup, {"body": "ß"}, ["street"])
    assert "Haupt" in s["preview"] and "<mark>ß</mark>" in s["preview"]


def test_not_found_and_no_terms(setup):
    srv, call, account, ids = setup
    r = call("SearchSnippet/get", {"accountId": account, "filter": {"from": "a@"},
                                   "emailIds": [ids["street"], "Mnope"]})
    assert r["notFound"] == ["Mnope"]
    assert r["list"] == [{"emailId": ids["street"], "subject": None, "preview": None}]
