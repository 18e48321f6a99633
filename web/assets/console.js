// The issuer console: log in (session cookie + CSRF token from the login
// answer), choose an area on the map, write the alert per language, preview
// who will be reached (live while drawing), send or wait for a supervisor's
// approval, and follow the alerts in force: update, cancel, correct a false
// alarm, declare recovery, watch delivery and relay progress.

import { api } from './api.js';
import { AreaMap } from './console-map.js';
import { HAZARDS, clear, colourBadge, describeError, el, exerciseBadge, formatTime, hazardName, say } from './format.js';

const CSRF_KEY = 'hazardline.csrf';
// Live counts create a draft per change; wait for the drawing to settle.
const LIVE_COUNT_DELAY_MS = 900;
const PROGRESS_EVERY_MS = 3000;
const APPROVAL_CHECK_EVERY_MS = 5000;

const $ = (id) => document.getElementById(id);
const status = $('status');
let csrf = sessionStorage.getItem(CSRF_KEY);
let account = null;
let areaMap = null;
let currentDraft = null;
let updating = null; // alert_id the next draft updates
let liveTimer = null;
let liveSeq = 0;
let timers = [];

const call = (method, path, body) => api(method, path, { body, csrf });

// --- session ---------------------------------------------------------------

async function start() {
  if (csrf) {
    try {
      const me = await call('GET', '/auth/me');
      return enter(me.account || me);
    } catch {
      // Expired or logged out elsewhere: log in again.
    }
  }
  showLogin();
}

function showLogin() {
  timers.forEach(clearInterval);
  timers = [];
  $('workspace').hidden = true;
  $('who').hidden = true;
  $('login').hidden = false;
  $('username').focus();
}

async function login(event) {
  event.preventDefault();
  try {
    const answer = await api('POST', '/auth/login', {
      body: { username: $('username').value.trim(), password: $('password').value },
    });
    csrf = answer.csrf_token;
    sessionStorage.setItem(CSRF_KEY, csrf);
    $('password').value = '';
    say(status, '');
    enter(answer.account);
  } catch (error) {
    say(status, describeError(error), 'error');
  }
}

async function logout() {
  try {
    await call('POST', '/auth/logout');
  } catch {
    // Logged out either way on this side.
  }
  sessionStorage.removeItem(CSRF_KEY);
  csrf = null;
  showLogin();
}

function enter(who) {
  account = who;
  $('login').hidden = true;
  $('who').hidden = false;
  $('who-name').textContent = `${who.display_name || who.username} · ${who.role}${
    who.jurisdiction && who.jurisdiction.length ? ' · ' + who.jurisdiction.join(', ') : ''}`;
  if (who.role === 'village_chief') {
    say(status, 'Village chiefs work their relay lists on the chief page: /chief', 'error');
    return;
  }
  if (who.role === 'operator') {
    say(status, 'Operators run the service and send no alerts; log in as an issuer to compose.', 'error');
  }
  $('workspace').hidden = false;
  $('approve-box').hidden = who.role !== 'supervisor';
  if (!areaMap) setUpMap();
  refreshActive();
  timers.push(setInterval(refreshActive, PROGRESS_EVERY_MS));
}

// --- area and live counts -----------------------------------------------------

function setUpMap() {
  areaMap = new AreaMap($('map'), {
    onChange: areaChanged,
    onError: (error) => say(status, describeError(error), 'error'),
  });
  $('mode-help').textContent = areaMap.setMode('polygon');
  areaMap.load().catch((error) => say(status, `Boundaries: ${describeError(error)}`, 'error'));
}

function areaChanged(area) {
  $('area-summary').textContent = areaMap ? areaMap.describe() : '';
  const picked = areaMap ? areaMap.pickedNames() : [];
  clear($('picked'), picked.map(({ code, name }) => {
    const remove = el('button', { type: 'button', class: 'small', 'aria-label': `Remove ${name}` }, '×');
    remove.addEventListener('click', () => areaMap.unpick(code));
    return el('li', {}, el('span', { lang: 'zh-TW' }, name), ` (${code}) `, remove);
  }));
  invalidateDraft();
  clearTimeout(liveTimer);
  if (!area) {
    clear($('live-count'));
    return;
  }
  $('live-count').textContent = 'Counting recipients…';
  liveTimer = setTimeout(liveCount, LIVE_COUNT_DELAY_MS);
}

async function liveCount() {
  const seq = ++liveSeq;
  try {
    const draft = await call('POST', '/drafts', draftBody({ forCount: true }));
    if (seq !== liveSeq) return;
    const preview = draft.preview || (await call('GET', `/drafts/${draft.id}/preview`));
    if (seq !== liveSeq) return;
    $('live-count').textContent = `About ${preview.total} people would be reached.`;
  } catch (error) {
    if (seq === liveSeq) $('live-count').textContent = `No count: ${describeError(error)}`;
  }
}

// --- composing -----------------------------------------------------------------

function texts({ forCount }) {
  const out = {};
  for (const [lang, prefix] of [['zh-TW', 'zh'], ['en', 'en']]) {
    const headline = $(`${prefix}-headline`).value.trim();
    const description = $(`${prefix}-description`).value.trim();
    const instruction = $(`${prefix}-instruction`).value.trim();
    if (headline || description || instruction) out[lang] = { headline, description, instruction };
  }
  if (forCount && !out['zh-TW']) {
    // A count needs a valid draft; the hazard's name stands in for the
    // headline not written yet. Nothing is sent from it.
    out['zh-TW'] = { headline: hazardName($('hazard').value), description: '', instruction: '' };
  }
  return out;
}

function draftBody({ forCount = false } = {}) {
  const expires = $('expires').value;
  const body = {
    hazard: $('hazard').value,
    event: $('event').value.trim() || undefined,
    area: areaMap.area(),
    severity: $('severity').value,
    urgency: $('urgency').value,
    certainty: $('certainty').value,
    colour: $('colour').value || undefined,
    texts: texts({ forCount }),
    // datetime-local has no zone: the console speaks Taiwan time.
    expires: expires ? `${expires}:00+08:00` : undefined,
    exercise: $('exercise').checked,
  };
  if (updating) body.references = updating;
  return body;
}

function invalidateDraft() {
  currentDraft = null;
  $('send').disabled = true;
}

async function preview() {
  if (!areaMap.area()) {
    say(status, 'Choose the area first.', 'error');
    return;
  }
  say(status, 'Preparing preview…');
  try {
    const draft = await call('POST', '/drafts', draftBody());
    const shown = draft.preview || (await call('GET', `/drafts/${draft.id}/preview`));
    currentDraft = draft;
    showPreview(draft, shown);
    say(status, '');
  } catch (error) {
    invalidateDraft();
    say(status, describeError(error), 'error');
  }
}

function showPreview(draft, preview) {
  const channels = Object.entries(preview.channels || {});
  const relay = preview.relay || {};
  const waiting = draft.state === 'awaiting_approval';
  clear($('preview-result'),
    el('h3', {}, 'Preview'),
    $('exercise').checked ? el('p', {}, exerciseBadge()) : null,
    el('p', { class: 'total' }, el('strong', { id: 'preview-total' }, String(preview.total ?? 0)), ' people will be reached.'),
    el('table', {},
      el('caption', {}, 'Recipients per village'),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Village'), el('th', { scope: 'col' }, 'Code'), el('th', { scope: 'col' }, 'People'))),
      el('tbody', {}, (preview.villages || []).map((v) => el('tr', {},
        el('td', { lang: 'zh-TW' }, v.name || ''), el('td', {}, v.code), el('td', { class: 'num' }, String(v.count)))))),
    el('p', {}, 'Per channel: ', channels.length ? channels.map(([c, n]) => `${c} ${n}`).join(' · ') : 'none'),
    el('p', {}, `Relay lists: ${relay.people ?? 0} people in ${relay.villages ?? 0} villages.`),
    waiting ? el('p', { class: 'banner', id: 'awaiting-approval' },
      `Awaiting approval by a supervisor (${draft.approval_reason || 'rule'}). Draft id: `, el('code', {}, draft.id)) : null);
  $('send').disabled = waiting;
  if (waiting) waitForApproval(draft.id);
}

function waitForApproval(id) {
  const timer = setInterval(async () => {
    if (!currentDraft || currentDraft.id !== id) return clearInterval(timer);
    try {
      const draft = await call('GET', `/drafts/${id}`);
      if (draft.state !== 'awaiting_approval') {
        clearInterval(timer);
        currentDraft = draft;
        const note = $('awaiting-approval');
        if (note) note.textContent = `Draft ${id}: ${draft.state.replace('_', ' ')}.`;
        $('send').disabled = draft.state !== 'approved';
      }
    } catch {
      // Keep waiting; the next check may get through.
    }
  }, APPROVAL_CHECK_EVERY_MS);
  timers.push(timer);
}

async function send() {
  if (!currentDraft) return;
  $('send').disabled = true;
  try {
    const sent = await call('POST', `/drafts/${currentDraft.id}/send`);
    say(status, `Sent. Alert ${sent.alert_id}.`, 'ok');
    currentDraft = null;
    stopUpdating();
    refreshActive();
  } catch (error) {
    $('send').disabled = false;
    say(status, describeError(error), 'error');
  }
}

async function approve(event) {
  event.preventDefault();
  const id = $('approve-id').value.trim();
  try {
    await call('POST', `/drafts/${encodeURIComponent(id)}/approve`);
    say(status, `Draft ${id} approved; its author can send it now.`, 'ok');
  } catch (error) {
    say(status, describeError(error), 'error');
  }
}

function startUpdating(alert) {
  updating = alert.alert_id;
  const note = $('updating');
  clear(note, `Updating alert ${alert.alert_id} (${alert.headline || hazardName(alert.hazard)}). `);
  const stop = el('button', { type: 'button', class: 'small' }, 'Write a new alert instead');
  stop.addEventListener('click', stopUpdating);
  note.append(stop);
  note.hidden = false;
  if (alert.hazard) $('hazard').value = alert.hazard;
  invalidateDraft();
  $('zh-headline').focus();
}

function stopUpdating() {
  updating = null;
  $('updating').hidden = true;
  invalidateDraft();
}

// --- alerts in force ----------------------------------------------------------


async function refreshActive() {
  let alerts;
  try {
    alerts = (await call('GET', '/alerts')).alerts || [];
  } catch (error) {
    if (error.status === 401) return showLogin();
    return;
  }
  // Progress is followed for this office's own alerts only (those sent
  // from its drafts); other agencies' alerts are listed for awareness.
  let own = new Set();
  try {
    const drafts = (await call('GET', '/drafts')).drafts || [];
    own = new Set(drafts.map((d) => d.alert_id).filter(Boolean));
  } catch (error) {
    if (error.status === 401) return showLogin();
  }
  const list = $('active-alerts');
  const existing = new Map([...list.children].map((li) => [li.dataset.alertId, li]));
  const items = alerts.map((alert) => {
    const item = existing.get(alert.alert_id) || alertItem(alert);
    if (own.has(alert.alert_id)) refreshProgress(alert.alert_id, item);
    return item;
  });
  clear(list, items.length ? items : [el('li', { class: 'none' }, 'No alerts in force.')]);
}

function alertItem(alert) {
  const actions = el('div', { class: 'row actions' });
  const form = el('div', { class: 'action-form' });
  const item = el('li', { class: 'alert', dataset: { alertId: alert.alert_id } },
    el('p', { class: 'meta' }, alert.exercise ? exerciseBadge() : null, colourBadge(alert.colour),
      el('span', { class: 'hazard' }, hazardName(alert.hazard))),
    el('strong', { lang: 'zh-TW' }, alert.headline || ''),
    alert.areas ? el('p', { class: 'hint', lang: 'zh-TW' }, Array.isArray(alert.areas) ? alert.areas.join('、') : String(alert.areas.summary || alert.areas)) : null,
    alert.expires ? el('p', { class: 'hint' }, `Until ${formatTime(alert.expires)}`) : null,
    el('p', { class: 'progress', 'aria-live': 'polite' }),
    actions, form);
  const button = (label, handler) => {
    const b = el('button', { type: 'button', class: 'small' }, label);
    b.addEventListener('click', handler);
    actions.append(b);
  };
  button('Update', () => startUpdating(alert));
  button('Cancel…', () => actionForm(form, alert, 'cancel'));
  button('Correct (false alarm)…', () => actionForm(form, alert, 'correct'));
  button('Recovery…', () => actionForm(form, alert, 'recovery'));
  return item;
}

const ACTIONS = {
  cancel: { label: 'Reason for cancelling', field: 'reason', required: true, confirm: 'Cancel this alert' },
  correct: { label: 'Correction text (optional)', field: 'text', required: false, confirm: 'Tell everyone it was a false alarm' },
  recovery: { label: null, confirm: 'Send the relief steps to everyone told' },
};

function actionForm(container, alert, action) {
  const spec = ACTIONS[action];
  const id = `${action}-${alert.alert_id}`;
  const input = spec.label ? el('input', { id, lang: 'zh-TW', required: spec.required }) : null;
  const confirm = el('button', { type: 'submit', class: 'destructive small' }, spec.confirm);
  const dismiss = el('button', { type: 'button', class: 'small' }, 'Back');
  const form = el('form', { class: 'inline' }, spec.label ? el('label', { for: id }, spec.label) : null, input, confirm, dismiss);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = spec.field ? { [spec.field]: input.value.trim() || undefined } : undefined;
    try {
      await call('POST', `/alerts/${encodeURIComponent(alert.alert_id)}/${action}`, body ?? {});
      say(status, `${spec.confirm}: done.`, 'ok');
      clear(container);
      refreshActive();
    } catch (error) {
      say(status, describeError(error), 'error');
    }
  });
  clear(container, form);
  (input || confirm).focus();
}

async function refreshProgress(alertId, item) {
  const line = item.querySelector('.progress');
  try {
    const progress = await call('GET', `/alerts/${encodeURIComponent(alertId)}/progress`);
    const deliveries = Object.entries(progress.deliveries || {}).map(([state, n]) => `${state} ${n}`).join(' · ');
    const relay = progress.relay || {};
    line.textContent = `Deliveries: ${deliveries || 'none yet'}. Relay: ${relay.acknowledged ?? 0} of ${relay.people ?? 0} acknowledged.`;
  } catch (error) {
    // Alerts of other offices are listed but their progress is not ours.
    line.textContent = error.status === 403 ? '' : `Progress unavailable: ${describeError(error)}`;
  }
}

// --- wiring ------------------------------------------------------------------

function defaultExpiry() {
  // Six hours from now, in Taiwan time, as datetime-local wants it.
  const taiwan = new Date(Date.now() + 6 * 3600e3 + 8 * 3600e3);
  return taiwan.toISOString().slice(0, 16);
}

for (const [code, english, chinese] of HAZARDS) {
  $('hazard').append(el('option', { value: code }, `${english} ${chinese}`));
}
$('expires').value = defaultExpiry();
$('login-form').addEventListener('submit', login);
$('logout').addEventListener('click', logout);
$('preview').addEventListener('click', preview);
$('send').addEventListener('click', send);
$('approve-form').addEventListener('submit', approve);
$('undo-point').addEventListener('click', () => areaMap && areaMap.undo());
$('clear-area').addEventListener('click', () => areaMap && areaMap.clear());
$('radius').addEventListener('input', () => areaMap && areaMap.setRadius(Number($('radius').value)));
$('exercise').addEventListener('change', () => {
  $('exercise-banner').hidden = !$('exercise').checked;
  invalidateDraft();
});
$('compose-form').addEventListener('input', (event) => {
  if (event.target.id !== 'radius') invalidateDraft();
});
for (const radio of document.querySelectorAll('input[name="mode"]')) {
  radio.addEventListener('change', () => {
    if (radio.checked && areaMap) $('mode-help').textContent = areaMap.setMode(radio.value);
  });
}

start();
