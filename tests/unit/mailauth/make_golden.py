#!/usr/bin/python3
"""Makes the DKIM golden files of test_dkim.c with Debian's python3-dkim (the oracle).

Run from anywhere: /usr/bin/python3 tests/unit/mailauth/make_golden.py
Writes golden/*.eml (CRLF) and golden/dns.txt ("NAME<TAB>TXT" lines). Keys are made
fresh each run, so the files change as a set; commit them together.
"""
import base64
import os
import subprocess
import tempfile

import dkim

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "golden")

MSG = (b"From: Alice Example <alice@sign.test>\r\n"
       b"To: Bob <bob@example.net>,\r\n"
       b"  Carol <carol@example.net>\r\n"
       b"To: dave@example.net\r\n"
       b"Subject:   A   folded\r\n"
       b"\t subject line  \r\n"
       b"Date: Mon, 07 Dec 2026 04:00:00 +0000\r\n"
       b"Message-ID: <golden.1@sign.test>\r\n"
       b"MIME-Version: 1.0\r\n"
       b"Content-Type: text/plain; charset=utf-8\r\n"
       b"List-Id: <list.sign.test>\r\n"
       b"\r\n"
       b"Hello  Bob,\t \r\n"
       b"\r\n"
       b"  indented line with trailing space \r\n"
       b"last line\r\n"
       b"\r\n"
       b"\r\n")


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, check=True, capture_output=True).stdout


def main():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        rsa_path = os.path.join(tmp, "rsa.pem")
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", rsa_path)
        rsa_priv = open(rsa_path, "rb").read()
        rsa_pub = openssl("pkey", "-in", rsa_path, "-pubout", "-outform", "DER")
        ed_path = os.path.join(tmp, "ed.pem")
        openssl("genpkey", "-algorithm", "ED25519", "-out", ed_path)
        ed_der = openssl("pkey", "-in", ed_path, "-outform", "DER")
        ed_seed = ed_der[-32:]
        ed_pub = openssl("pkey", "-in", ed_path, "-pubout", "-outform", "DER")[-32:]
    dns = {
        b"rsa._domainkey.sign.test": b"v=DKIM1; k=rsa; p=" + base64.b64encode(rsa_pub),
        b"ed._domainkey.sign.test": b"v=DKIM1; k=ed25519; p=" + base64.b64encode(ed_pub),
    }
    ed_key = base64.b64encode(ed_seed)

    def dnsfunc(name, timeout=5):
        return dns.get(name.rstrip(b"."))

    cases = [
        # name, selector, key, algorithm, canonicalization, length
        ("ed25519_relaxed", b"ed", ed_key, b"ed25519-sha256", (b"relaxed", b"relaxed"), False),
        ("rsa_relaxed", b"rsa", rsa_priv, b"rsa-sha256", (b"relaxed", b"relaxed"), False),
        ("rsa_simple", b"rsa", rsa_priv, b"rsa-sha256", (b"simple", b"simple"), False),
        ("ed25519_simple_relaxed", b"ed", ed_key, b"ed25519-sha256", (b"simple", b"relaxed"), False),
        ("rsa_relaxed_simple_l", b"rsa", rsa_priv, b"rsa-sha256", (b"relaxed", b"simple"), True),
    ]
    headers = [b"from", b"to", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type",
               b"list-id", b"from"]
    for name, sel, key, alg, canon, length in cases:
        sig = dkim.sign(MSG, sel, b"sign.test", key, canonicalize=canon, include_headers=headers,
                        signature_algorithm=alg, length=length, linesep=b"\r\n")
        signed = sig + MSG
        assert dkim.verify(signed, dnsfunc=dnsfunc), name
        if length:  # content appended beyond l= is not covered
            signed += b"-- \r\nappended by a list\r\n"
            assert dkim.verify(signed, dnsfunc=dnsfunc), name
        with open(os.path.join(OUT, name + ".eml"), "wb") as f:
            f.write(signed)
    with open(os.path.join(OUT, "dns.txt"), "wb") as f:
        for k, v in sorted(dns.items()):
            f.write(k + b"\t" + v + b"\n")
        # RFC 8463 Appendix A.2: the key records of the example in rfc8463.eml
        f.write(b"brisbane._domainkey.football.example.com\t"
                b"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n")
        f.write(b"test._domainkey.football.example.com\tv=DKIM1; k=rsa; "
                b"p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx"
                b"/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT"
                b"+l/K4w3QIDAQAB\n")


if __name__ == "__main__":
    main()
