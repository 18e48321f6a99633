// The village chief's page: log in, see the relay lists of my villages for
// the alerts in force (people to phone or visit), record per person how the
// call or visit went, dismiss an entry that does not belong on the list, and
// open the printable list.

import { api } from './api.js';
import { clear, describeError, el, say } from './format.js';

const CSRF_KEY = 'hazardline.csrf';
const REFRESH_EVERY_MS = 10000;

const OUTCOMES = [
  ['reached', 'Reached, safe 已聯繫'],
  ['no_answer', 'No answer 未接'],
  ['needs_help', 'Needs help 需協助'],
  ['moved_away', 'Moved away 已遷出'],
];

const $ = (id) => document.getElementById(id);
const status = $('status');
let csrf = sessionStorage.getItem(CSRF_KEY);
let timer = null;

const call = (method, path, body) => api(method, path, { body, csrf });

async function start() {
  if (csrf) {
    try {
      const me = await call('GET', '/auth/me');
      return enter(me.account || me);
    } catch {
      // Log in again.
    }
  }
  showLogin();
}

function showLogin() {
  clearInterval(timer);
  $('lists-section').hidden = true;
  $('who').hidden = true;
  $('login').hidden = false;
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
    // Logged out on this side either way.
  }
  sessionStorage.removeItem(CSRF_KEY);
  csrf = null;
  showLogin();
}

function enter(who) {
  $('login').hidden = true;
  $('who').hidden = false;
  $('who-name').textContent = `${who.display_name || who.username} · ${(who.jurisdiction || []).join(', ')}`;
  $('lists-section').hidden = false;
  refresh();
  clearInterval(timer);
  timer = setInterval(refresh, REFRESH_EVERY_MS);
}

async function refresh() {
  // Do not redraw under someone typing a note.
  if ($('lists').contains(document.activeElement) && document.activeElement.tagName !== 'BUTTON') return;
  try {
    const answer = await call('GET', '/relay');
    const lists = answer.lists || [];
    clear($('lists'), lists.length ? lists.map(listSection) : [el('p', { class: 'none' }, 'No relay lists right now.')]);
  } catch (error) {
    if (error.status === 401) return showLogin();
    say(status, describeError(error), 'error');
  }
}

function listSection(list) {
  const printUrl = `/relay/${encodeURIComponent(list.alert_id)}/${encodeURIComponent(list.village)}/print`;
  const people = list.people || [];
  const done = people.filter((p) => p.ack).length;
  return el('section', { class: 'relay-list', dataset: { alertId: list.alert_id, village: list.village } },
    el('h3', {}, `Alert ${list.alert_id} · village `, el('span', { lang: 'zh-TW' }, list.village_name || list.village)),
    el('p', {}, `${done} of ${people.length} recorded · `, el('a', { href: printUrl, target: '_blank', rel: 'noopener' }, 'Printable list')),
    el('ul', { class: 'people' }, people.map((person) => personItem(list, person))));
}

function personItem(list, person) {
  const id = `${list.alert_id}-${list.village}-${person.person}`;
  const outcome = el('select', { id: `${id}-outcome` },
    OUTCOMES.map(([value, text]) => el('option', { value, selected: person.ack && person.ack.outcome === value }, text)));
  const note = el('input', { id: `${id}-note`, lang: 'zh-TW', value: (person.ack && person.ack.note) || '' });
  const save = el('button', { type: 'submit', class: 'small' }, 'Record');
  const form = el('form', { class: 'inline ack' },
    el('label', { for: `${id}-outcome` }, 'Outcome'), outcome,
    el('label', { for: `${id}-note` }, 'Note'), note, save);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await call('POST', `/relay/${encodeURIComponent(list.alert_id)}/${encodeURIComponent(list.village)}/ack`, {
        person: person.person,
        outcome: outcome.value,
        note: note.value.trim() || undefined,
      });
      say(status, `Recorded for ${person.name || person.person}.`, 'ok');
      document.activeElement.blur();
      refresh();
    } catch (error) {
      say(status, describeError(error), 'error');
    }
  });
  const dismiss = el('button', { type: 'button', class: 'small dismiss' }, 'Dismiss 移除');
  dismiss.addEventListener('click', async () => {
    const who = person.name || person.person;
    // Dismissing removes the person's request; they would have to ask again.
    if (!window.confirm(`Remove ${who} from this village's relay list? 確定移除?`)) return;
    try {
      await call('POST', `/relay/${encodeURIComponent(list.alert_id)}/${encodeURIComponent(list.village)}/dismiss`, {
        person: person.person,
      });
      say(status, `Removed ${who} from the list.`, 'ok');
      refresh();
    } catch (error) {
      say(status, describeError(error), 'error');
    }
  });
  const ack = person.ack;
  return el('li', { class: ack ? 'acknowledged' : '', dataset: { person: person.person } },
    el('strong', { lang: 'zh-TW' }, person.name || person.person),
    person.phone ? [' · ', el('a', { href: `tel:${person.phone}` }, person.phone)] : null,
    person.hidden_characters_removed
      ? el('p', { class: 'flagged' }, 'Hidden characters were removed from this entry: check it before calling. 此筆含隱藏字元,已移除。')
      : null,
    person.note ? el('p', { class: 'hint', lang: 'zh-TW' }, person.note) : null,
    ack ? el('p', { class: 'ack-state' }, `Recorded: ${outcomeWords(ack)}`) : null,
    form,
    dismiss);
}

function outcomeWords(ack) {
  const outcome = typeof ack === 'object' ? ack.outcome : ack;
  const found = OUTCOMES.find(([value]) => value === outcome);
  return found ? found[1] : String(outcome);
}

$('login-form').addEventListener('submit', login);
$('logout').addEventListener('click', logout);
start();
