#!/usr/bin/env python3
"""Writes the MIME golden corpus (*.eml) used by tests/unit/mail/test_golden.c.

Each message exercises one tricky case. Files are written with the exact bytes
given (CRLF unless the case is about LF or bare CR). Re-run to regenerate the
.eml files; the .expected files are produced by test_mail_golden with
UPDATE_GOLDEN=1 and reviewed by hand."""
import os

H = "From: Alice <alice@example.test>\r\nTo: Bob <bob@example.test>\r\nSubject: test\r\nDate: Mon, 2 Mar 2026 12:00:00 +0000\r\nMessage-ID: <id@example.test>\r\n"
M = "MIME-Version: 1.0\r\n"
cases = {}

cases["01-simple"] = H + "\r\nHello world.\r\n"
cases["02-lf-only"] = (H + "\r\nline one\r\nline two\r\n").replace("\r\n", "\n")
cases["03-no-headers"] = "just a body line\r\nand another\r\n"
cases["04-empty"] = ""
cases["05-headers-only"] = H
cases["06-no-body-blank"] = H + "\r\n"
cases["07-encoded-subject"] = ("From: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>\r\n"
    "To: =?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>\r\n"
    "Subject: =?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=\r\n"
    "Date: Mon, 2 Mar 2026 12:00:00 +0100\r\n\r\nbody\r\n")
cases["08-8bit-header"] = ("From: J\xc3\xb6rg <joerg@example.test>\r\nSubject: Gr\xc3\xbc\xc3\x9fe aus M\xc3\xbcnchen\r\n\r\nHallo\r\n")
cases["09-latin1-raw-header"] = ("From: x@example.test\r\nSubject: caf\xe9\r\n\r\nbody\r\n")
cases["10-alternative"] = (H + M + 'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n'
    "preamble\r\n--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain text\r\n"
    "--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html <b>text</b></p>\r\n--alt--\r\nepilogue\r\n")
cases["11-mixed-attachment"] = (H + M + "Content-Type: multipart/mixed; boundary=XYZ\r\n\r\n"
    "--XYZ\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
    "--XYZ\r\nContent-Type: application/pdf; name=\"doc.pdf\"\r\nContent-Disposition: attachment; filename=\"doc.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--XYZ--\r\n")
cases["12-nested"] = (H + M + "Content-Type: multipart/mixed; boundary=outer\r\n\r\n"
    "--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n"
    "--inner\r\nContent-Type: text/plain\r\n\r\nplain\r\n--inner\r\nContent-Type: text/html\r\n\r\n<b>html</b>\r\n--inner--\r\n"
    "--outer\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\nContent-ID: <img1@x>\r\n\r\niVBORw0KGgo=\r\n--outer--\r\n")
cases["13-rfc822"] = (H + M + "Content-Type: multipart/mixed; boundary=b1\r\n\r\n"
    "--b1\r\nContent-Type: text/plain\r\n\r\nForwarded:\r\n"
    "--b1\r\nContent-Type: message/rfc822\r\n\r\n"
    "From: Carol <carol@example.test>\r\nSubject: inner\r\nDate: Sun, 1 Mar 2026 08:00:00 -0500\r\n\r\ninner body\r\nline 2\r\n"
    "--b1--\r\n")
cases["14-rfc822-multipart"] = (H + M + "Content-Type: multipart/mixed; boundary=b1\r\n\r\n"
    "--b1\r\nContent-Type: message/rfc822\r\n\r\n"
    "From: Dan <dan@example.test>\r\nSubject: inner mp\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n"
    "--b2\r\nContent-Type: text/plain\r\n\r\nA\r\n--b2\r\nContent-Type: text/html\r\n\r\n<i>A</i>\r\n--b2--\r\n"
    "--b1--\r\n")
cases["15-rfc2231-filename"] = (H + M + "Content-Type: multipart/mixed; boundary=q\r\n\r\n"
    "--q\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment;\r\n filename*=utf-8''%E2%82%AC%20rates.txt\r\n\r\ndata\r\n"
    "--q\r\nContent-Type: text/plain; name*0=\"long\"; name*1=\"name.txt\"\r\nContent-Disposition: attachment; filename*0*=us-ascii'en'part%20one; filename*1=\".txt\"\r\n\r\ntext\r\n--q--\r\n")
cases["16-rfc2047-filename"] = (H + M + "Content-Type: multipart/mixed; boundary=q\r\n\r\n"
    "--q\r\nContent-Type: application/octet-stream; name=\"=?UTF-8?B?w6TDtsO8LmJpbg==?=\"\r\n\r\nxx\r\n--q--\r\n")
cases["17-missing-close"] = (H + M + "Content-Type: multipart/mixed; boundary=zz\r\n\r\n"
    "--zz\r\nContent-Type: text/plain\r\n\r\nfirst\r\n--zz\r\nContent-Type: text/plain\r\n\r\nsecond, no close\r\n")
cases["18-wrong-boundary"] = (H + M + "Content-Type: multipart/mixed; boundary=right\r\n\r\n"
    "--wrong\r\nContent-Type: text/plain\r\n\r\ntext\r\n--wrong--\r\n")
cases["19-no-boundary-param"] = (H + M + "Content-Type: multipart/mixed\r\n\r\nno boundary at all\r\n")
cases["20-empty-parts"] = (H + M + "Content-Type: multipart/mixed; boundary=e\r\n\r\n--e\r\n--e\r\n\r\n--e--\r\n")
cases["21-no-from"] = "Subject: no from\r\nTo: x@example.test\r\n\r\nbody\r\n"
cases["22-group"] = ("From: a@example.test\r\nTo: undisclosed-recipients:;\r\nCc: Team: one@example.test, \"Two, Jr\" <two@example.test>;, three@example.test\r\nSubject: groups\r\n\r\nbody\r\n")
cases["23-route-addr"] = ("From: <@relay1.test,@relay2.test:user@example.test>\r\nTo: user (comment) @ example.test\r\nSubject: route\r\n\r\nx\r\n")
cases["24-quoted-specials"] = ('From: "Doe, John \\"JD\\"" <john.doe@example.test>\r\nSubject: "quoted" \\ backslash\r\n\r\nx\r\n')
cases["25-long-line"] = (H + "\r\n" + "x" * 20000 + "\r\n")
cases["26-long-header"] = ("From: a@example.test\r\nSubject: " + "word " * 3000 + "\r\n\r\nbody\r\n")
cases["27-nul-bytes"] = ("From: a@example.test\r\nSubject: nul\x00here\r\n\r\nbody\x00with nul\r\n")
cases["28-bare-cr"] = ("From: a@example.test\r\nSubject: cr\r\n\r\nline\rstill line\r\n")
cases["29-qp-latin1"] = (H + M + "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nK=F6ln ist sch=F6n =\r\nund gro=DF.\r\n")
cases["30-base64-utf8"] = (H + M + "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\nwqFIb2xhIHNlw7FvciEgw6nDqMOg\r\n")
cases["31-broken-base64"] = (H + M + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVsbG8g!!!d29y*bGQ\r\n===\r\n")
cases["32-unknown-charset"] = (H + M + "Content-Type: text/plain; charset=x-unknown-42\r\n\r\nbytes \xe4\xf6\r\n")
cases["33-digest"] = (H + M + "Content-Type: multipart/digest; boundary=d\r\n\r\n"
    "--d\r\n\r\nFrom: one@example.test\r\nSubject: digest one\r\n\r\nfirst\r\n"
    "--d\r\n\r\nFrom: two@example.test\r\nSubject: digest two\r\n\r\nsecond\r\n--d--\r\n")
cases["34-disposition-inline"] = (H + M + "Content-Type: multipart/related; boundary=r; type=\"text/html\"\r\n\r\n"
    "--r\r\nContent-Type: text/html; charset=us-ascii\r\nContent-Language: en, de\r\nContent-Location: http://x.test/a\r\n\r\n<img src=cid:a>\r\n"
    "--r\r\nContent-Type: image/gif\r\nContent-Disposition: inline; filename=a.gif\r\nContent-ID: <a>\r\nContent-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\nContent-Description: a picture\r\nContent-Transfer-Encoding: base64\r\n\r\nR0lGODlh\r\n--r--\r\n")
cases["35-uppercase-types"] = (H + M + "CONTENT-TYPE: TEXT/PLAIN; CHARSET=US-ASCII; FORMAT=flowed\r\nContent-Transfer-Encoding: 7BIT\r\n\r\nupper\r\n")
cases["36-ct-comments"] = (H + M + "Content-Type: text/plain (comment) ; charset = \"utf-8\" (another)\r\n\r\nc\r\n")
cases["37-html-only"] = (H + M + "Content-Type: text/html; charset=utf-8\r\n\r\n<html><head><style>p{}</style><script>x()</script></head><body><p>Hi &amp; welcome&nbsp;to&#33; &lt;postamt&gt;</p></body></html>\r\n")
cases["38-deep-nesting"] = (H + M + "".join(f"Content-Type: multipart/mixed; boundary=n{i}\r\n\r\n--n{i}\r\n" for i in range(60)) + "Content-Type: text/plain\r\n\r\ndeep\r\n")
cases["39-many-parts"] = (H + M + "Content-Type: multipart/mixed; boundary=p\r\n\r\n" + "".join(f"--p\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n" for i in range(3000)) + "--p--\r\n")
cases["40-boundary-prefix"] = (H + M + "Content-Type: multipart/mixed; boundary=abc\r\n\r\n"
    "--abc\r\nContent-Type: multipart/alternative; boundary=abcdef\r\n\r\n--abcdef\r\nContent-Type: text/plain\r\n\r\ninner\r\n--abcdef--\r\n"
    "--abc\r\nContent-Type: text/plain\r\n\r\nouter2\r\n--abc--\r\n")
cases["41-whitespace-boundary"] = (H + M + "Content-Type: multipart/mixed; boundary=\"w w\"\r\n\r\n--w w  \r\nContent-Type: text/plain\r\n\r\nspace\r\n--w w--\t\r\n")
cases["42-no-sender-replyto"] = ("From: a@example.test\r\nSender: \r\nReply-To: r@example.test\r\nIn-Reply-To: <p@x>\r\nReferences: <o@x> <p@x>\r\nSubject: refs\r\n\r\nb\r\n")
cases["43-bad-date"] = ("From: a@example.test\r\nDate: yesterday at noon\r\nSubject: date\r\n\r\nb\r\n")
cases["44-header-no-colon"] = ("From: a@example.test\r\nThis is not a header\r\nSubject: lost\r\n\r\nb\r\n")
cases["45-folded-continuation-first"] = (" folded first line\r\nFrom: a@example.test\r\n\r\nb\r\n")
cases["46-mbox-from-line"] = ("From sender@example.test Mon Mar  2 12:00:00 2026\r\nFrom: a@example.test\r\nSubject: mbox\r\n\r\nb\r\n")
cases["47-address-no-domain"] = ("From: localonly\r\nTo: \"Name Only\" <>, =?utf-8?q?J=C3=B6rg?= <j@x.test>\r\nSubject: addr\r\n\r\nb\r\n")
cases["48-message-global"] = (H + M + "Content-Type: message/global\r\n\r\nFrom: g@example.test\r\nSubject: =?utf-8?b?w7xiZXI=?=\r\n\r\nglobal\r\n")
cases["49-text-no-trailing-newline"] = (H + "\r\nlast line without newline")
cases["50-params-odd"] = (H + M + "Content-Type: text/plain; charset=utf-8;; ;x; name=\"a;b.txt\"; format=flowed;\r\n\r\np\r\n")

here = os.path.dirname(os.path.abspath(__file__))
for name, text in cases.items():
    data = text.encode("latin-1") if not any(ord(c) > 255 for c in text) else text.encode("utf-8")
    with open(os.path.join(here, name + ".eml"), "wb") as f:
        f.write(data)
print(len(cases), "messages")
