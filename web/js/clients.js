// clients.js: the settings a mail program needs (server, port, security), read
// from the server's own Thunderbird autoconfig document
// (/.well-known/autoconfig/mail/config-v1.1.xml), so the webmail shows exactly
// what the server announces. parseAutoconfig is pure (no DOM).

function tag(xml, name) {
  const m = new RegExp(`<${name}>\\s*([^<]*?)\\s*</${name}>`, 'i').exec(xml);
  return m ? decodeXml(m[1]) : '';
}

function decodeXml(s) {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);/gi, (m, e) => {
    const named = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[e.toLowerCase()];
    if (named) return named;
    const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    try {
      return String.fromCodePoint(code);
    } catch (err) {
      return m;
    }
  });
}

// -> [{direction: 'incoming'|'outgoing', type: 'imap'|'pop3'|'smtp', hostname,
//      port: number, socketType: 'SSL'|'STARTTLS'|'plain', username}]
export function parseAutoconfig(xml, address) {
  const out = [];
  const re = /<(incomingServer|outgoingServer)\s+type="([a-z0-9]+)"\s*>([\s\S]*?)<\/\1>/gi;
  let m;
  while ((m = re.exec(String(xml || '')))) {
    const body = m[3];
    const port = parseInt(tag(body, 'port'), 10);
    let username = tag(body, 'username');
    if (address) {
      const [local, domain] = address.split('@');
      username = username.replace(/%EMAILADDRESS%/g, address).replace(/%EMAILLOCALPART%/g, local || '').replace(/%EMAILDOMAIN%/g, domain || '');
    }
    out.push({
      direction: m[1].toLowerCase() === 'incomingserver' ? 'incoming' : 'outgoing',
      type: m[2].toLowerCase(),
      hostname: tag(body, 'hostname'),
      port: Number.isFinite(port) ? port : null,
      socketType: tag(body, 'socketType'),
      username,
    });
  }
  return out;
}

export function autoconfigUrl(address) {
  return '/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=' + encodeURIComponent(address || '');
}
