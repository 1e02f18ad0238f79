// Unit tests of web/js/clients.js (the mail-program settings from autoconfig).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAutoconfig, autoconfigUrl } from '../js/clients.js';

const XML = `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <incomingServer type="imap">
      <hostname>mail.example.test</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>mail.example.test</hostname><port>110</port><socketType>STARTTLS</socketType><username>%EMAILLOCALPART%@%EMAILDOMAIN%</username>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>mail.example.test</hostname>
      <port>465</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>`;

test('servers, ports, security and the user name from autoconfig', () => {
  assert.deepEqual(parseAutoconfig(XML, 'anna@example.test'), [
    { direction: 'incoming', type: 'imap', hostname: 'mail.example.test', port: 993, socketType: 'SSL', username: 'anna@example.test' },
    { direction: 'incoming', type: 'pop3', hostname: 'mail.example.test', port: 110, socketType: 'STARTTLS', username: 'anna@example.test' },
    { direction: 'outgoing', type: 'smtp', hostname: 'mail.example.test', port: 465, socketType: 'SSL', username: 'anna@example.test' },
  ]);
  assert.deepEqual(parseAutoconfig('', 'a@b.test'), []);
  assert.deepEqual(parseAutoconfig('<incomingServer type="imap"><hostname>a&amp;b</hostname></incomingServer>')[0].hostname, 'a&b');
  assert.equal(autoconfigUrl('a+b@example.test'), '/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=a%2Bb%40example.test');
});
