"""What a forwarded message looks like at the next hop (docs/deliverability.md,
"Forwarded mail"): an alias whose target is outside (`alias add fwd@example.test
x@remote.test`) sends mail from port 25 on with the original envelope sender (no SRS
rewriting), the original header and body unchanged below postamt's own Received
line, so the sender's DKIM signature still verifies at the next hop while its SPF
does not."""

import re
import smtplib

from conftest import DOMAIN
from helpers import CaptureSMTP

ORIGINAL = ("DKIM-Signature: v=1; a=rsa-sha256; d=sender.test; s=s1; h=from:to:subject; bh=x; b=y\r\n"
            "From: Someone <someone@sender.test>\r\nTo: fwd@%s\r\nSubject: forward me\r\n"
            "Message-ID: <fwd-1@sender.test>\r\n\r\nBody line.\r\n" % DOMAIN)


def test_forward_keeps_envelope_sender_and_message(make_server):
    cap = CaptureSMTP()
    try:
        srv = make_server(["route.remote.test = 127.0.0.1:%d" % cap.port], users=["user@" + DOMAIN])
        r = srv.run("alias", "add", "fwd@" + DOMAIN, "x@remote.test", "user@" + DOMAIN)
        assert r.returncode == 0, r.stderr
        with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=10) as s:
            s.ehlo("mx.sender.test")
            assert s.sendmail("bounces@sender.test", ["fwd@" + DOMAIN], ORIGINAL.encode()) == {}
        mail, rcpts, data = cap.wait(b"forward me")
        assert mail.startswith(b"MAIL FROM:<bounces@sender.test>"), mail  # not rewritten (no SRS)
        assert len(rcpts) == 1 and rcpts[0].startswith(b"RCPT TO:<x@remote.test>"), rcpts
        # our fields on top (the checks' Authentication-Results, folded; the junk filter's
        # verdict for the local target of the alias; Received), then the original bytes
        # unchanged (the signature's input)
        assert re.match(rb"Authentication-Results: localhost;\r\n(?:\t[^\r\n]*\r\n)+"
                        rb"X-Postamt-Junk: untrained\r\nReceived: from mx\.sender\.test", data), data[:400]
        assert data.endswith(ORIGINAL.encode() + b".\r\n")
    finally:
        cap.close()
