// clientsview.js: the "Mail programs" dialog: the server, port and security to
// enter in a mail program, as the server's autoconfig announces them, and the
// Apple profile where the server offers it.

import { h, clear, icon, infoDialog } from './dom.js';
import { parseAutoconfig, autoconfigUrl } from './clients.js';

export async function showClients({ client, t, username }) {
  const body = h('div', { class: 'clients' }, h('p', { class: 'muted' }, t('clients.loading')));
  const show = infoDialog(t('clients.title'), body);
  let servers = [];
  let mobile = false;
  try {
    const res = await fetch(autoconfigUrl(username), { credentials: 'same-origin', headers: client.headers() });
    if (res.ok) servers = parseAutoconfig(await res.text(), username);
    const mc = await fetch('/api/mobileconfig', { method: 'HEAD', credentials: 'same-origin', headers: client.headers() });
    mobile = mc.ok;
  } catch (e) {
    /* shown as unavailable */
  }
  clear(body);
  body.append(h('p', { class: 'dialog-text' }, t('clients.intro')));
  if (!servers.length) {
    body.append(h('p', { class: 'muted' }, t('clients.unavailable')));
  } else {
    const sec = (s) => (s === 'SSL' ? 'SSL/TLS' : s === 'STARTTLS' ? 'STARTTLS' : s || '—');
    body.append(h('div', { class: 'table-wrap' }, h('table', { class: 'clients-table' },
      h('thead', null, h('tr', null, ['clients.protocol', 'clients.server', 'clients.port', 'clients.security'].map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', null, servers.map((s) => h('tr', null,
        h('th', { scope: 'row' }, s.type.toUpperCase(), h('span', { class: 'muted' }, ' · ' + t(s.direction === 'incoming' ? 'clients.incoming' : 'clients.outgoing'))),
        h('td', null, s.hostname), h('td', null, String(s.port || '')), h('td', null, sec(s.socketType))))))));
    body.append(h('p', null, h('strong', null, t('clients.username') + ': '), servers[0].username || username), h('p', { class: 'muted' }, t('clients.password')));
  }
  if (mobile) body.append(h('p', null, h('a', { href: '/api/mobileconfig', download: 'postamt.mobileconfig' }, icon('download'), ' ', t('clients.mobileconfig'))));
  return show;
}
