// settings.js: the settings view (the sliders button in the top bar). Out-of-office
// reply over JMAP VacationResponse (RFC 8621 §8), simple filter rules written as a
// Sieve script named "webmail" (sieverules.js) and activated, a raw Sieve editor
// checked with SieveScript/validate (RFC 9661), and the junk filter switch
// (postamt's JunkSettings). A part whose capability the server lacks is hidden.
// Also the senders (JMAP Identity, RFC 8621 section 6: display name, reply-to
// and signature per address) and the preferences (postamt's Settings, prefs.js).

import { h, clear, icon, iconButton, confirmDialog, promptDialog } from './dom.js';
import { CAP, JmapMethodError } from './jmap.js';
import { mailboxTree } from './mailboxes.js';
import { parseAddressList, formatAddressList } from './address.js';
import { prefs, loadPrefs, savePrefs } from './prefs.js';
import { withoutSender } from './images.js';
import { getPurifier } from './sanitize.js';
import { cleanSignature } from './signature.js';
import { errorText as plainError } from './errors.js';
import { FIELDS, ACTIONS, SCRIPT_NAME, ruleError, generateScript, parseRules, moveRule, folderPath, dateToUtc, utcToDate } from './sieverules.js';

// Opens the view in container; returns {close()}. opts: client, t, lang,
// mailboxes() (the current Mailbox objects), toast(text, {error}), fail(e), onClose().
export function openSettings(container, opts) {
  const { client, t, lang, toast, fail, onClose } = opts;
  // in place of the mail's <main> (hidden meanwhile): the page's main part, its h1, a h2 per card
  const view = h('main', { class: 'settings', id: 'settings', 'aria-labelledby': 'settings-title' });
  const head = h('div', { class: 'settings-head' },
    iconButton('back', t('settings.back'), () => close(), { id: 'settings-back' }),
    h('h1', { id: 'settings-title' }, t('settings.title')));
  const body = h('div', { class: 'settings-body' });
  view.append(head, body);
  container.append(view);

  const setOk = (res, id, verb) => {
    const errs = Object.assign({}, res['not' + verb]);
    if (errs[id]) throw new JmapMethodError('/set', errs[id]);
  };

  // ---- out of office -------------------------------------------------------
  function vacationSection() {
    const enabled = h('input', { type: 'checkbox', id: 'vac-enabled' });
    const from = h('input', { type: 'date', id: 'vac-from' });
    const until = h('input', { type: 'date', id: 'vac-until' });
    const subject = h('input', { type: 'text', id: 'vac-subject', maxlength: '200', autocomplete: 'off' });
    const text = h('textarea', { id: 'vac-text', rows: '6' });
    const save = h('button', { type: 'submit', class: 'btn primary', id: 'vac-save' }, t('settings.save'));
    const form = h('form', { class: 'settings-form' },
      h('label', { class: 'switch' }, enabled, h('span', null, t('vac.enabled'))),
      h('div', { class: 'settings-row' },
        h('div', { class: 'field' }, h('label', { for: 'vac-from' }, t('vac.from')), from),
        h('div', { class: 'field' }, h('label', { for: 'vac-until' }, t('vac.until')), until)),
      h('div', { class: 'field' }, h('label', { for: 'vac-subject' }, t('vac.subject')), subject),
      h('div', { class: 'field' }, h('label', { for: 'vac-text' }, t('vac.text')), text),
      h('p', { class: 'muted small' }, t('vac.hint')),
      h('div', { class: 'settings-actions' }, save));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (enabled.checked && !text.value.trim()) { toast(t('vac.needText'), { error: true }); text.focus(); return; }
      const fd = dateToUtc(from.value, false);
      const td = dateToUtc(until.value, true);
      if (fd && td && td < fd) { toast(t('vac.badDates'), { error: true }); until.focus(); return; }
      save.disabled = true;
      try {
        const patch = { isEnabled: enabled.checked, fromDate: fd, toDate: td, subject: subject.value.trim() || null, textBody: text.value || null };
        setOk(await client.call('VacationResponse/set', { update: { singleton: patch } }), 'singleton', 'Updated');
        toast(t('vac.saved'));
      } catch (err) {
        fail(err);
      } finally {
        save.disabled = false;
      }
    });
    const sec = h('section', { class: 'settings-card', id: 'vacation', 'aria-labelledby': 'vac-title' },
      h('h2', { id: 'vac-title' }, t('vac.title')), form);
    (async () => {
      try {
        const res = await client.call('VacationResponse/get', { ids: ['singleton'] });
        const v = (res.list || [])[0] || {};
        enabled.checked = !!v.isEnabled;
        from.value = utcToDate(v.fromDate);
        until.value = utcToDate(v.toDate);
        subject.value = v.subject || '';
        text.value = v.textBody || '';
        sec.dataset.loaded = '1';
      } catch (err) {
        fail(err);
      }
    })();
    return sec;
  }

  // ---- scripts: shared ------------------------------------------------------
  async function loadScripts() {
    const res = await client.call('SieveScript/get', { ids: null });
    return res.list || [];
  }
  async function scriptText(s) {
    const res = await fetch(client.downloadUrl(s.blobId, (s.name || 'script') + '.sieve', 'application/sieve'),
      { credentials: 'same-origin', headers: client.headers(), cache: 'no-store' });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    return res.text();
  }
  async function upload(text) {
    const r = await client.upload(new Blob([text], { type: 'application/sieve' }), 'application/sieve');
    return r.blobId;
  }
  // Creates or updates the script called name with text; activates it when asked.
  // Returns null, or the SetError (invalidSieve and its description, tooLarge, ...).
  async function storeScript(scripts, name, text, activate) {
    const blobId = await upload(text);
    const old = scripts.find((s) => s.name === name);
    const args = old ? { update: { [old.id]: { blobId } } } : { create: { s: { name, blobId } } };
    if (activate) args.onSuccessActivateScript = old ? old.id : '#s';
    const res = await client.call('SieveScript/set', args);
    const err = old ? (res.notUpdated || {})[old.id] : (res.notCreated || {}).s;
    return err || null;
  }
  const errorText = (err) => (err.type === 'invalidSieve' ? t('raw.invalid', { error: err.description || '' })
    : err.type === 'tooLarge' ? t('raw.tooLarge') : err.type === 'overQuota' ? t('raw.tooMany') : (err.description || err.type));

  // ---- filter rules -----------------------------------------------------------
  function rulesSection() {
    let rules = [];
    let scripts = [];
    const list = h('ol', { class: 'rules', id: 'rules-list' });
    const notice = h('p', { class: 'notice-text', id: 'rules-notice', hidden: true });
    const add = h('button', { type: 'button', class: 'btn', id: 'rule-add', onclick: () => { rules.push({ field: 'subject', value: '', action: 'move', target: '' }); render(); focusLast(); } },
      icon('plus'), h('span', null, t('rules.add')));
    const save = h('button', { type: 'button', class: 'btn primary', id: 'rules-save', onclick: () => saveRules() }, t('rules.save'));
    const status = h('p', { class: 'muted small', id: 'rules-status', role: 'status' });
    const folders = () => mailboxTree(opts.mailboxes(), lang).map(({ mailbox, depth }) => ({ path: folderPath(opts.mailboxes(), mailbox.id), label: '\u00a0'.repeat(depth * 2) + (mailbox.role === 'inbox' && !mailbox.parentId ? t('folder.inbox') : mailbox.name) }));
    function focusLast() {
      const inputs = list.querySelectorAll('.rule-value');
      if (inputs.length) inputs[inputs.length - 1].focus();
    }
    function targetFor(r, i) {
      if (r.action === 'move') {
        const fs = folders();
        const sel = h('select', { class: 'rule-target', 'aria-label': t('rules.folder', { n: i + 1 }) },
          h('option', { value: '' }, t('rules.chooseFolder')),
          fs.map((f) => h('option', { value: f.path, selected: f.path === r.target }, f.label)));
        if (r.target && !fs.some((f) => f.path === r.target)) sel.append(h('option', { value: r.target, selected: true }, r.target));
        sel.addEventListener('change', () => { r.target = sel.value; });
        return sel;
      }
      if (r.action === 'forward') {
        const inp = h('input', { type: 'email', class: 'rule-target', value: r.target || '', placeholder: t('rules.address'), 'aria-label': t('rules.address') });
        inp.addEventListener('input', () => { r.target = inp.value; });
        return inp;
      }
      return null;
    }
    function render() {
      clear(list);
      rules.forEach((r, i) => {
        const field = h('select', { class: 'rule-field', 'aria-label': t('rules.field', { n: i + 1 }) },
          FIELDS.map((f) => h('option', { value: f, selected: f === r.field }, t('rules.field.' + f))));
        field.addEventListener('change', () => { r.field = field.value; });
        const value = h('input', { type: 'text', class: 'rule-value', value: r.value, maxlength: '500', 'aria-label': t('rules.value', { n: i + 1 }) });
        value.addEventListener('input', () => { r.value = value.value; });
        const action = h('select', { class: 'rule-action', 'aria-label': t('rules.action', { n: i + 1 }) },
          ACTIONS.map((a) => h('option', { value: a, selected: a === r.action }, t('rules.action.' + a))));
        const slot = h('span', { class: 'rule-slot' }, targetFor(r, i));
        action.addEventListener('change', () => { r.action = action.value; r.target = ''; clear(slot); const tg = targetFor(r, i); if (tg) slot.append(tg); });
        list.append(h('li', { class: 'rule', dataset: { i: String(i) } },
          h('span', { class: 'rule-words' }, t('rules.if')), field, h('span', { class: 'rule-words' }, t('rules.contains')), value,
          h('span', { class: 'rule-words' }, t('rules.then')), action, slot,
          h('span', { class: 'rule-tools' },
            iconButton('up', t('rules.up'), () => { rules = moveRule(rules, i, -1); render(); }, { class: 'icon-btn rule-up', disabled: i === 0 }),
            iconButton('down', t('rules.down'), () => { rules = moveRule(rules, i, 1); render(); }, { class: 'icon-btn rule-down', disabled: i === rules.length - 1 }),
            iconButton('trash', t('rules.remove'), () => { rules.splice(i, 1); render(); }, { class: 'icon-btn rule-remove' }))));
      });
      if (!rules.length) list.append(h('li', { class: 'muted rules-empty' }, t('rules.none')));
    }
    async function load() {
      scripts = await loadScripts();
      const mine = scripts.find((s) => s.name === SCRIPT_NAME);
      const active = scripts.find((s) => s.isActive);
      const notes = [];
      if (mine) {
        const parsed = parseRules(await scriptText(mine));
        rules = parsed.rules || [];
        if (parsed.edited) notes.push(t('rules.edited'));
      }
      if (active && active.name !== SCRIPT_NAME) notes.push(t('rules.otherActive', { name: active.name || '' }));
      notice.textContent = notes.join(' ');
      notice.hidden = !notes.length;
      render();
      sec.dataset.loaded = '1';
    }
    async function saveRules() {
      const bad = rules.findIndex((r) => ruleError(r));
      if (bad >= 0) {
        status.textContent = t('rules.bad', { n: bad + 1, why: t(ruleError(rules[bad])) });
        const li = list.children[bad];
        if (li) (li.querySelector('.rule-value') || li).focus();
        return;
      }
      const active = scripts.find((s) => s.isActive);
      if (active && active.name !== SCRIPT_NAME && !(await confirmDialog(t('rules.replaceActive', { name: active.name || '' }), { okLabel: t('rules.save') }))) return;
      save.disabled = true;
      status.textContent = '';
      try {
        const err = await storeScript(scripts, SCRIPT_NAME, generateScript(rules), true);
        if (err) { status.textContent = errorText(err); return; }
        toast(t('rules.saved'));
        await load();
        status.textContent = rules.length === 1 ? t('rules.savedOne') : t('rules.savedCount', { count: rules.length });
        raw.refresh();
      } catch (e) {
        fail(e);
      } finally {
        save.disabled = false;
      }
    }
    const sec = h('section', { class: 'settings-card', id: 'rules', 'aria-labelledby': 'rules-title' },
      h('h2', { id: 'rules-title' }, t('rules.title')), h('p', { class: 'muted small' }, t('rules.intro')), notice, list,
      h('div', { class: 'settings-actions' }, add, save), status);
    load().catch(fail);
    return sec;
  }

  // ---- raw script editor --------------------------------------------------
  function rawSection() {
    let scripts = [];
    const pick = h('select', { id: 'raw-pick', 'aria-label': t('raw.script') });
    const name = h('input', { type: 'text', id: 'raw-name', maxlength: '128', autocomplete: 'off' });
    const text = h('textarea', { id: 'raw-text', rows: '14', spellcheck: 'false', class: 'mono' });
    const result = h('pre', { class: 'raw-result', id: 'raw-result', role: 'status' });
    const active = h('input', { type: 'checkbox', id: 'raw-active' });
    const check = h('button', { type: 'button', class: 'btn', id: 'raw-check', onclick: () => validate() }, t('raw.check'));
    const save = h('button', { type: 'button', class: 'btn primary', id: 'raw-save', onclick: () => saveRaw() }, t('settings.save'));
    const del = h('button', { type: 'button', class: 'btn subtle', id: 'raw-delete', onclick: () => destroy() }, t('raw.delete'));
    const show = (msg, ok) => { result.textContent = msg; result.classList.toggle('ok', !!ok); result.classList.toggle('error', !ok); };
    async function fill() {
      const s = scripts.find((x) => x.id === pick.value);
      name.value = s ? s.name || '' : '';
      name.disabled = !!s;
      active.checked = !!(s && s.isActive);
      del.hidden = !s;
      text.value = s ? await scriptText(s) : '';
      show('', true);
    }
    async function refresh(keep) {
      scripts = await loadScripts();
      const want = keep || pick.value || (scripts.find((s) => s.isActive) || {}).id || '';
      clear(pick);
      pick.append(h('option', { value: '' }, t('raw.new')),
        ...scripts.map((s) => h('option', { value: s.id }, (s.name || s.id) + (s.isActive ? ' (' + t('raw.active') + ')' : ''))));
      pick.value = scripts.some((s) => s.id === want) ? want : '';
      await fill();
      sec.dataset.loaded = '1';
    }
    pick.addEventListener('change', () => fill().catch(fail));
    async function validate() {
      try {
        const blobId = await upload(text.value);
        const res = await client.call('SieveScript/validate', { blobId });
        if (res.error) show(errorText(res.error), false);
        else show(t('raw.valid'), true);
      } catch (e) {
        fail(e);
      }
    }
    async function saveRaw() {
      const s = scripts.find((x) => x.id === pick.value);
      const n = s ? s.name : name.value.trim();
      if (!n) { show(t('raw.needName'), false); name.focus(); return; }
      try {
        const err = await storeScript(scripts, n, text.value, active.checked);
        if (err) { show(errorText(err), false); return; }
        if (!active.checked && s && s.isActive) await client.call('SieveScript/set', { onSuccessDeactivateScript: true });
        const after = (await loadScripts()).find((x) => x.name === n);
        await refresh(after ? after.id : '');
        show(t('raw.saved'), true);
      } catch (e) {
        fail(e);
      }
    }
    async function destroy() {
      const s = scripts.find((x) => x.id === pick.value);
      if (!s || !(await confirmDialog(t('raw.deleteConfirm', { name: s.name || '' }), { okLabel: t('raw.delete'), danger: true }))) return;
      try {
        const res = await client.call('SieveScript/set', { destroy: [s.id] });
        const err = (res.notDestroyed || {})[s.id];
        if (err) { show(err.type === 'sieveIsActive' ? t('raw.deleteActive') : errorText(err), false); return; }
        pick.value = '';
        await refresh('');
      } catch (e) {
        fail(e);
      }
    }
    const sec = h('section', { class: 'settings-card', id: 'raw', 'aria-labelledby': 'raw-title' },
      h('h2', { id: 'raw-title' }, t('raw.title')), h('p', { class: 'muted small' }, t('raw.intro')),
      h('div', { class: 'settings-row' },
        h('div', { class: 'field' }, h('label', { for: 'raw-pick' }, t('raw.script')), pick),
        h('div', { class: 'field' }, h('label', { for: 'raw-name' }, t('raw.name')), name)),
      h('div', { class: 'field' }, h('label', { for: 'raw-text' }, t('raw.text')), text),
      h('label', { class: 'switch' }, active, h('span', null, t('raw.activate'))),
      h('div', { class: 'settings-actions' }, del, check, save), result);
    sec.refresh = () => refresh().catch(fail);
    refresh().catch(fail);
    return sec;
  }

  // ---- junk filter ----------------------------------------------------------
  function junkSection() {
    const enabled = h('input', { type: 'checkbox', id: 'junk-enabled' });
    const status = h('p', { class: 'muted small', id: 'junk-status' });
    const show = (j) => {
      enabled.checked = !!j.enabled;
      const min = j.minimum || 20;
      status.textContent = j.trained ? t('junkfilter.trained', { spam: j.spamCount || 0, ham: j.hamCount || 0 })
        : t('junkfilter.learning', { spam: j.spamCount || 0, ham: j.hamCount || 0, min });
    };
    enabled.addEventListener('change', async () => {
      enabled.disabled = true;
      try {
        const res = await client.call('JunkSettings/set', { update: { singleton: { enabled: enabled.checked } } });
        setOk(res, 'singleton', 'Updated');
        toast(enabled.checked ? t('junkfilter.on') : t('junkfilter.off'));
        await load();
      } catch (e) {
        fail(e);
        load().catch(() => {});
      } finally {
        enabled.disabled = false;
      }
    });
    async function load() {
      const res = await client.call('JunkSettings/get', { ids: ['singleton'] });
      show((res.list || [])[0] || {});
      sec.dataset.loaded = '1';
    }
    const sec = h('section', { class: 'settings-card', id: 'junk', 'aria-labelledby': 'junk-title' },
      h('h2', { id: 'junk-title' }, t('junkfilter.title')), h('p', { class: 'muted small' }, t('junkfilter.intro')),
      h('label', { class: 'switch' }, enabled, h('span', null, t('junkfilter.enabled'))), status);
    load().catch(fail);
    return sec;
  }

  // ---- senders (identities) -----------------------------------------------
  function identitySection() {
    const list = h('div', { class: 'ident-list' });
    const sec = h('section', { class: 'settings-card', id: 'identities', 'aria-labelledby': 'ident-title' },
      h('h2', { id: 'ident-title' }, t('ident.title')), h('p', { class: 'muted small' }, t('ident.intro')), list);
    const shared = opts.identities; // the app's array: compose sees changes at once
    async function load() {
      const res = await client.call('Identity/get', { ids: null });
      const all = (res.list || []).sort((a, b) => (a.id === 'I0' ? -1 : b.id === 'I0' ? 1 : a.email.localeCompare(b.email)));
      if (Array.isArray(shared)) shared.splice(0, shared.length, ...all);
      clear(list);
      for (const idn of all) list.append(identityForm(idn));
      sec.dataset.loaded = '1';
    }
    function identityForm(idn) {
      const k = idn.id;
      const name = h('input', { type: 'text', id: `ident-${k}-name`, value: idn.name || '', maxlength: '200', autocomplete: 'name' });
      const reply = h('input', { type: 'text', id: `ident-${k}-reply`, value: formatAddressList(idn.replyTo || []), autocomplete: 'off', inputmode: 'email' });
      const sig = h('textarea', { id: `ident-${k}-sig`, rows: '4' });
      sig.value = idn.textSignature || '';
      // the HTML signature: HTML with a few formatting tags, cleaned before it is
      // stored and in the preview (signature.js)
      const purify = getPurifier(window);
      const htmlSig = h('textarea', { id: `ident-${k}-html`, rows: '3', spellcheck: 'false', 'aria-describedby': `ident-${k}-html-hint` });
      htmlSig.value = idn.htmlSignature || '';
      const preview = h('div', { class: 'sig-preview', id: `ident-${k}-preview`, 'aria-label': t('ident.htmlPreview') });
      const showPreview = () => {
        const clean = cleanSignature(purify, htmlSig.value);
        preview.innerHTML = clean; // cleaned: formatting tags and safe links only
        preview.hidden = !clean;
      };
      htmlSig.addEventListener('input', showPreview);
      showPreview();
      const save = h('button', { type: 'submit', class: 'btn primary', id: `ident-${k}-save` }, t('settings.save'));
      const del = idn.mayDelete ? iconButton('trash', t('ident.delete'), async () => {
        if (!(await confirmDialog(t('ident.delete') + ': ' + idn.email, { danger: true }))) return;
        try {
          setOk(await client.call('Identity/set', { destroy: [k] }), k, 'Destroyed');
          await load();
        } catch (err) {
          toast(plainError(err, t, lang), { error: true });
        }
      }) : null;
      const form = h('form', { class: 'settings-form ident', 'aria-label': idn.email },
        h('p', { class: 'ident-email' }, h('strong', null, idn.email), del),
        h('div', { class: 'field' }, h('label', { for: `ident-${k}-name` }, t('ident.name')), name),
        h('div', { class: 'field' }, h('label', { for: `ident-${k}-reply` }, t('ident.replyTo')), reply),
        h('div', { class: 'field' }, h('label', { for: `ident-${k}-sig` }, t('ident.signature')), sig),
        purify ? h('div', { class: 'field' }, h('label', { for: `ident-${k}-html` }, t('ident.htmlSignature')), htmlSig,
          h('p', { class: 'muted small', id: `ident-${k}-html-hint` }, t('ident.htmlHint')), preview) : null,
        h('div', { class: 'settings-actions' }, save));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const r = parseAddressList(reply.value);
        if (r.invalid.length) { toast(t('ident.badReplyTo'), { error: true }); reply.focus(); return; }
        save.disabled = true;
        try {
          const patch = { name: name.value.trim(), textSignature: sig.value, replyTo: r.addresses.length ? r.addresses : null };
          if (purify) patch.htmlSignature = cleanSignature(purify, htmlSig.value);
          setOk(await client.call('Identity/set', { update: { [k]: patch } }), k, 'Updated');
          toast(t('ident.saved'));
          await load();
        } catch (err) {
          toast(plainError(err, t, lang), { error: true });
        } finally {
          save.disabled = false;
        }
      });
      return form;
    }
    const add = h('button', { type: 'button', class: 'btn subtle', id: 'ident-add' }, t('ident.add'));
    add.addEventListener('click', async () => {
      const addr = await promptDialog(t('ident.addPrompt'));
      if (!addr || !addr.trim()) return;
      try {
        setOk(await client.call('Identity/set', { create: { n: { email: addr.trim() } } }), 'n', 'Created');
        await load();
      } catch (err) {
        toast(plainError(err, t, lang), { error: true });
      }
    });
    sec.append(h('div', { class: 'settings-actions' }, add));
    load().catch(fail);
    return sec;
  }

  // ---- preferences ----------------------------------------------------------
  function prefsSection() {
    const images = h('input', { type: 'checkbox', id: 'pref-images' });
    const notify = h('input', { type: 'checkbox', id: 'pref-notify' });
    const conversations = h('input', { type: 'checkbox', id: 'pref-conversations' });
    const density = h('select', { id: 'pref-density' },
      h('option', { value: 'comfortable' }, t('prefs.comfortable')), h('option', { value: 'compact' }, t('prefs.compact')));
    const language = h('select', { id: 'pref-language' },
      h('option', { value: '' }, t('prefs.langAuto')), h('option', { value: 'de' }, 'Deutsch'), h('option', { value: 'en' }, 'English'));
    const undo = h('select', { id: 'pref-undo' },
      [0, 5, 10, 20, 30].map((n) => h('option', { value: String(n) }, n ? t('prefs.seconds', { n }) : t('prefs.undoOff'))));
    const save = h('button', { type: 'submit', class: 'btn primary', id: 'pref-save' }, t('settings.save'));
    // the senders whose images always show ("Always show images from …" in the reader)
    const always = h('ul', { class: 'plain-list', id: 'pref-images-from' });
    const alwaysBlock = h('div', { class: 'field', hidden: true }, h('span', { class: 'small' }, t('prefs.imagesFrom')), always);
    const showAlways = (list) => {
      clear(always);
      for (const a of list || []) {
        always.append(h('li', null, h('span', null, a), ' ', h('button', { type: 'button', class: 'btn subtle small', 'aria-label': t('prefs.imagesFromRemove', { sender: a }),
          onclick: async () => {
            try {
              showAlways((await savePrefs(client, { imagesFrom: withoutSender(prefs().imagesFrom, a) })).imagesFrom);
            } catch (err) {
              toast(plainError(err, t, lang), { error: true });
            }
          } }, '×')));
      }
      alwaysBlock.hidden = !(list && list.length);
    };
    const form = h('form', { class: 'settings-form' },
      h('label', { class: 'switch' }, images, h('span', null, t('prefs.images'))),
      h('p', { class: 'muted small' }, t('prefs.imagesHint')),
      alwaysBlock,
      h('label', { class: 'switch' }, notify, h('span', null, t('prefs.notifications'))),
      h('label', { class: 'switch' }, conversations, h('span', null, t('list.conversations'))),
      h('div', { class: 'settings-row' },
        h('div', { class: 'field' }, h('label', { for: 'pref-density' }, t('prefs.density')), density),
        h('div', { class: 'field' }, h('label', { for: 'pref-language' }, t('prefs.language')), language),
        h('div', { class: 'field' }, h('label', { for: 'pref-undo' }, t('prefs.undo')), undo)),
      h('p', { class: 'muted small' }, t('prefs.reload')),
      h('div', { class: 'settings-actions' }, save));
    const show = (p) => {
      images.checked = !!p.showImagesFromKnown;
      notify.checked = !!p.notifications;
      conversations.checked = !!p.conversations;
      density.value = p.density || 'comfortable';
      language.value = p.language || '';
      undo.value = String(p.undoSendSeconds || 0);
      showAlways(p.imagesFrom);
      sec.dataset.loaded = '1';
    };
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      save.disabled = true;
      try {
        // notifications are opt-in and need the browser's permission as well
        if (notify.checked && typeof Notification !== 'undefined' && Notification.permission === 'default') await Notification.requestPermission();
        const was = !!prefs().conversations;
        show(await savePrefs(client, { showImagesFromKnown: images.checked, notifications: notify.checked, density: density.value,
          language: language.value, undoSendSeconds: Number(undo.value), conversations: conversations.checked }));
        // the list and the reader follow the choice at once (conversation.js)
        if (was !== conversations.checked) window.dispatchEvent(new CustomEvent('postamt:conversations'));
        toast(t('prefs.saved'));
      } catch (err) {
        toast(plainError(err, t, lang), { error: true });
      } finally {
        save.disabled = false;
      }
    });
    const sec = h('section', { class: 'settings-card', id: 'prefs', 'aria-labelledby': 'prefs-title' },
      h('h2', { id: 'prefs-title' }, t('prefs.title')), form);
    show(prefs());
    loadPrefs(client).then(show).catch(fail);
    return sec;
  }

  if (client.hasCapability(CAP.submission)) body.append(identitySection());
  if (client.hasCapability(CAP.settings)) body.append(prefsSection());
  if (client.hasCapability(CAP.vacation)) body.append(vacationSection());
  const raw = client.hasCapability(CAP.sieve) ? rawSection() : null;
  if (raw) body.append(rulesSection());
  if (client.hasCapability(CAP.junk)) body.append(junkSection());
  if (raw) body.append(raw);
  if (!body.children.length) body.append(h('p', { class: 'muted' }, t('settings.none')));
  head.querySelector('button').focus();

  function onKey(e) {
    if (e.key === 'Escape' && !document.querySelector('dialog[open]')) { e.preventDefault(); close(); }
  }
  document.addEventListener('keydown', onKey);
  let closed = false;
  function close() {
    if (closed) return;
    closed = true;
    document.removeEventListener('keydown', onKey);
    view.remove();
    onClose();
  }
  return { close };
}
