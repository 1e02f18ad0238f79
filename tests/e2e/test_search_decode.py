"""What IMAP SEARCH and SORT see of a message's header text (issue 23, item 6):

- RFC 2047 words decoded per §6.2: a padded B-encoded word followed by another one
  ("=?UTF-8?B?R3LDtg==?= =?UTF-8?B?w59l?=" is "Größe", not "Grö"), a character split
  across two words, so SEARCH SUBJECT and SORT (SUBJECT) find and order such mail;
- SEARCH TEXT covers MIME part headers too (RFC 9051 §6.4.4: "header (including MIME
  header fields) or body"): a word only in an attachment's file name (plain or RFC
  2231), only in a part's Content-Description, or only in the header of an attached
  message is found; BODY does not look at headers.
"""

import imaplib

import pytest

from conftest import finish_server, new_server
from helpers import new_user

MIXED = """From: a@example.test\r
To: b@example.test\r
Subject: {subject}\r
Date: {date}\r
Message-ID: <{mid}@example.test>\r
MIME-Version: 1.0\r
Content-Type: multipart/mixed; boundary="b1"\r
\r
--b1\r
Content-Type: text/plain; charset=utf-8\r
\r
plain words only\r
--b1\r
Content-Type: application/pdf\r
Content-Description: quarterlyreview sheet\r
Content-Disposition: attachment; {filename}\r
Content-Transfer-Encoding: base64\r
\r
JVBERi0xLjQK\r
--b1\r
Content-Type: message/rfc822\r
\r
From: c@example.test\r
Subject: enclosedtopic\r
\r
the enclosed body\r
--b1--\r
"""

SUBJECTS = {
    1: "=?UTF-8?B?R3LDtg==?= =?UTF-8?B?w59l?= Liste",            # Größe Liste
    2: "=?utf-8?q?Gr=C3=B6=C3?= =?utf-8?q?=9Fenordnung?=",         # Größenordnung
    3: "Apfel",
    4: "=?iso-8859-1?q?Zebra?=",
    5: "Gr=?utf-8?q?=C3=B6?= Zebra",                              # Grö Zebra
}
FILENAMES = {
    1: 'filename="bilanz2026.pdf"',
    2: "filename*=utf-8''%C3%9Cbersicht%20Kosten.pdf",             # Übersicht Kosten.pdf
    3: 'filename="=?utf-8?q?Rechnung_M=C3=A4rz?=.pdf"',             # Rechnung März.pdf
    4: 'filename="plain.pdf"',
    5: 'filename="plain.pdf"',
}


@pytest.fixture(scope="module")
def box(postamt_bin):
    srv = new_server(postamt_bin)
    user = new_user(srv)
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    m.login(user, "secret")
    for i in sorted(SUBJECTS):
        msg = MIXED.format(subject=SUBJECTS[i], filename=FILENAMES[i], mid="m%d" % i,
                           date="Mon, %d Dec 2026 10:00:00 +0000" % i)
        typ, _ = m.append("INBOX", None, None, msg.encode())
        assert typ == "OK"
    m.select("INBOX")
    yield m
    m.logout()
    finish_server(srv)


def uids(m, *criteria, charset="UTF-8"):
    typ, data = m.uid("SEARCH", "CHARSET", charset, *criteria)
    assert typ == "OK", data
    return sorted(int(x) for x in data[0].split())


def search_literal(m, key, value):
    """SEARCH CHARSET UTF-8 key {literal}: imaplib sends m.literal after the command."""
    m.literal = value.encode()
    typ, data = m.uid("SEARCH", "CHARSET", "UTF-8", key)
    assert typ == "OK", data
    return sorted(int(x) for x in data[0].split())


def test_padded_b_word_then_another(box):
    assert search_literal(box, "SUBJECT", "Größe") == [1, 2]
    assert search_literal(box, "SUBJECT", "Größe Liste") == [1]
    assert search_literal(box, "SUBJECT", "größenordnung") == [2]  # split ß, case folded


def test_sort_subject_uses_the_decoded_subject(box):
    typ, data = box.uid("SORT", "(SUBJECT)", "UTF-8", "ALL")
    assert typ == "OK", data
    # Apfel, Grö Zebra, Größe Liste, Größenordnung, Zebra (" " < "ß"); with "ße"
    # dropped, 1 sorted before 5
    assert [int(x) for x in data[0].split()] == [3, 5, 1, 2, 4]


def test_text_finds_file_names(box):
    assert uids(box, "TEXT", "bilanz2026") == [1]
    assert search_literal(box, "TEXT", "Übersicht Kosten") == [2]        # RFC 2231
    assert search_literal(box, "TEXT", "Rechnung März") == [3]           # RFC 2047 in a name
    assert uids(box, "BODY", "bilanz2026") == []                        # BODY: bodies only


def test_text_finds_mime_part_headers_and_enclosed_headers(box):
    assert uids(box, "TEXT", "quarterlyreview") == [1, 2, 3, 4, 5]        # Content-Description
    assert uids(box, "TEXT", "enclosedtopic") == [1, 2, 3, 4, 5]           # attached message's Subject
    assert uids(box, "TEXT", "\"enclosed body\"") == [1, 2, 3, 4, 5]
    assert uids(box, "BODY", "quarterlyreview") == []
    assert uids(box, "TEXT", "nowhere-at-all") == []
