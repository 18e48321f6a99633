// The resident page: subscribe by address (with a geocoding preview), choose
// hazards, thresholds, language and exercises; then see my alerts live, my
// places, my inbox and the public alerts in force, and delete my data.
//
// The device key the service returns at registration is the only credential;
// it stays in this browser's localStorage and goes out only as the bearer
// token of our own API calls.

import { api } from './api.js';
import {
  COLOURS, HAZARDS, LOCALES, clear, colourBadge, describeError, el, exerciseBadge,
  formatTime, hazardName, say,
} from './format.js';

const STORAGE_KEY = 'hazardline.device';
// Polling is the fallback when the live stream is down; a stream message
// also triggers an immediate refresh.
const ALERTS_EVERY_MS = 4000;
const SLOW_EVERY_MS = 20000;

const $ = (id) => document.getElementById(id);
const status = $('status');
let device = loadDevice();
let timers = [];
let liveStream = null;

function loadDevice() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || 'null');
    return saved && typeof saved.key === 'string' ? saved : null;
  } catch {
    return null;
  }
}

function saveDevice(value) {
  device = value;
  if (value) localStorage.setItem(STORAGE_KEY, JSON.stringify(value));
  else localStorage.removeItem(STORAGE_KEY);
}

// --- preferences form (used for subscribing and for editing) --------------

const INTENSITIES = ['1', '2', '3', '4', '5-', '5+', '6-', '6+', '7'];
const RAINFALL = [
  ['heavy', 'Heavy rain 大雨'],
  ['extremely_heavy', 'Extremely heavy rain 豪雨'],
  ['torrential', 'Torrential rain 大豪雨'],
  ['extremely_torrential', 'Extremely torrential rain 超大豪雨'],
];

function select(id, label, options, chosen) {
  const control = el('select', { id, name: id });
  for (const [value, text] of options) {
    control.append(el('option', { value, selected: value === chosen }, text));
  }
  return [el('label', { for: id }, label), control];
}

// Renders the preference controls into `container`, ids prefixed by `prefix`.
function preferenceFields(container, prefix, prefs = {}, locale) {
  const kinds = new Set(prefs.kinds && prefs.kinds.length ? prefs.kinds : HAZARDS.map(([k]) => k));
  const hazards = el('fieldset', { class: 'checks' }, el('legend', {}, 'Hazards to be told about'));
  for (const [code, english, chinese] of HAZARDS) {
    const id = `${prefix}-kind-${code}`;
    hazards.append(el('span', { class: 'check' },
      el('input', { type: 'checkbox', id, name: 'kinds', value: code, checked: kinds.has(code) }),
      el('label', { for: id }, `${english} `, el('span', { lang: 'zh-TW' }, chinese))));
  }
  const colourOptions = [['', 'Every level'], ...Object.entries(COLOURS)
    .filter(([key]) => key !== 'green')
    .map(([key, words]) => [key, `${words[0]} ${words[1]} and above`])];
  const thresholds = el('fieldset', {}, el('legend', {}, 'Only when at least'),
    ...select(`${prefix}-min-colour`, 'Warning level', colourOptions, prefs.min_colour || ''),
    ...select(`${prefix}-min-intensity`, 'Earthquake intensity (CWA scale) at my place',
      [['', 'Any felt intensity'], ...INTENSITIES.map((i) => [i, `Intensity ${i} and above`])],
      prefs.min_intensity || ''),
    ...select(`${prefix}-min-rainfall`, 'Rainfall warning',
      [['', 'Any rainfall warning'], ...RAINFALL], prefs.min_rainfall || ''));
  const quiet = prefs.quiet_hours || {};
  const other = el('fieldset', {}, el('legend', {}, 'Other'),
    el('span', { class: 'check' },
      el('input', { type: 'checkbox', id: `${prefix}-exercises`, checked: !!prefs.exercises }),
      el('label', { for: `${prefix}-exercises` }, 'Also send me exercises (drills, clearly marked)')),
    el('p', { class: 'hint' }, 'Quiet hours: non-urgent messages wait until the end (Taiwan time). Leave empty for none.'),
    el('div', { class: 'row' },
      el('label', { for: `${prefix}-quiet-start` }, 'From'),
      el('input', { type: 'time', id: `${prefix}-quiet-start`, value: quiet.start || '' }),
      el('label', { for: `${prefix}-quiet-end` }, 'to'),
      el('input', { type: 'time', id: `${prefix}-quiet-end`, value: quiet.end || '' })));
  const language = locale === undefined ? [] : select(`${prefix}-locale`, 'Language of messages', LOCALES, locale);
  clear(container, ...language, hazards, thresholds, other);
}

function readPreferences(prefix) {
  const value = (id) => $(`${prefix}-${id}`).value || undefined;
  const kinds = [...document.querySelectorAll(`input[id^="${prefix}-kind-"]:checked`)].map((i) => i.value);
  const start = value('quiet-start');
  const end = value('quiet-end');
  const prefs = {
    kinds: kinds.length === HAZARDS.length ? [] : kinds,
    min_colour: value('min-colour'),
    min_intensity: value('min-intensity'),
    min_rainfall: value('min-rainfall'),
    exercises: $(`${prefix}-exercises`).checked,
  };
  if (start && end) prefs.quiet_hours = { start, end };
  return prefs;
}

// --- subscribing -----------------------------------------------------------

function placeWords(place) {
  const name = (part) => (part && typeof part === 'object' ? part.name || part.code : part);
  const parts = [place.county_name || name(place.county), place.town_name || name(place.town),
    place.village_name || name(place.village)].filter(Boolean);
  return parts.join(' ');
}

async function checkAddress() {
  const address = $('place-address').value.trim();
  const out = $('geocode-result');
  if (!address) {
    clear(out, el('p', { class: 'error' }, 'Type an address first.'));
    return;
  }
  clear(out, el('p', {}, 'Looking up…'));
  try {
    const answer = await api('GET', '/geocode', { query: { address } });
    const candidates = Array.isArray(answer) ? answer : answer.candidates || [answer];
    clear(out, el('p', {}, candidates.length === 1 ? 'Found:' : 'Several places match; add more detail:'),
      el('ul', { class: 'candidates' }, candidates.map((c) => el('li', { lang: 'zh-TW' },
        placeWords(c) || c.address || 'a place',
        c.precision ? el('span', { class: 'hint', lang: 'en' }, ` (located by ${c.precision})`) : null))));
  } catch (error) {
    const found = (error.details || []).map((c) => el('li', { lang: 'zh-TW' }, placeWords(c) || JSON.stringify(c)));
    clear(out, el('p', { class: 'error' }, describeError(error)), found.length ? el('ul', {}, found) : null);
  }
}

async function subscribe(event) {
  event.preventDefault();
  const locale = $('sub-locale').value;
  const channel = $('channel').value;
  const address = $('channel-address').value.trim();
  const body = {
    locale,
    devices: address ? [{ channel, address }] : [],
    places: [{ label: $('place-label').value.trim(), address: $('place-address').value.trim() }],
    preferences: { ...readPreferences('sub'), languages: [locale] },
  };
  say(status, 'Subscribing…');
  try {
    const created = await api('POST', '/subscribers', { body });
    saveDevice({ id: created.id, key: created.key });
    say(status, `Subscribed. We will tell you about ${(created.places || []).map(placeWords).join(', ') || 'your place'}.`, 'ok');
    showMine();
  } catch (error) {
    say(status, describeError(error), 'error');
  }
}

function showSubscribe() {
  stopTimers();
  $('mine').hidden = true;
  $('subscribe').hidden = false;
  const browserLocale = LOCALES.find(([code]) => navigator.language === code || navigator.language.startsWith(code + '-'));
  preferenceFields($('preferences-fields'), 'sub', { exercises: false }, browserLocale ? browserLocale[0] : 'zh-TW');
}

// --- my alerts, places, inbox ---------------------------------------------

function text(value) {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  return value.name || value.label || value.text || '';
}

function alertItem(alert, locale) {
  const shelter = alert.shelter;
  return el('li', { class: `alert level-${alert.colour || 'unknown'}`, dataset: { alertId: alert.alert_id || '' } },
    el('p', { class: 'meta' }, alert.exercise ? exerciseBadge() : null, colourBadge(alert.colour),
      el('span', { class: 'hazard' }, hazardName(alert.hazard)),
      alert.kind && alert.kind !== 'new' ? el('span', { class: 'badge' }, alert.kind.replace('_', ' ')) : null),
    el('h3', { lang: locale }, alert.title || hazardName(alert.hazard)),
    alert.body ? el('p', { lang: locale, class: 'body' }, alert.body) : null,
    alert.place ? el('p', {}, 'For: ', el('span', { lang: locale }, text(alert.place))) : null,
    shelter ? el('p', {}, 'Nearest shelter: ', el('span', { lang: 'zh-TW' }, text(shelter)),
      shelter.address ? ` — ${shelter.address}` : '') : null,
    alert.expires ? el('p', { class: 'hint' }, `Until ${formatTime(alert.expires)}`) : null);
}

let myLocale = 'zh-TW';

async function refreshAlerts() {
  try {
    const answer = await api('GET', '/me/alerts', { key: device.key });
    const alerts = answer.alerts || [];
    clear($('my-alerts'), alerts.length
      ? alerts.map((a) => alertItem(a, myLocale))
      : [el('li', { class: 'none' }, 'No alerts for your places right now.')]);
    $('alerts-updated').textContent = `Checked ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    handleMineError(error);
  }
}

async function refreshInbox() {
  try {
    const answer = await api('GET', '/me/inbox', { key: device.key, query: { limit: 50 } });
    const entries = answer.entries || [];
    clear($('inbox'), entries.length ? entries.map((entry) => el('li', {},
      el('p', { class: 'meta' }, entry.exercise ? exerciseBadge() : null, colourBadge(entry.colour),
        el('span', { class: 'hazard' }, hazardName(entry.hazard)), ' ', formatTime(entry.at)),
      el('strong', { lang: myLocale }, entry.title || ''),
      entry.body ? el('p', { lang: myLocale }, entry.body) : null))
      : [el('li', { class: 'none' }, 'Nothing yet.')]);
  } catch (error) {
    handleMineError(error);
  }
}

async function refreshPublic() {
  try {
    const answer = await api('GET', '/alerts');
    const alerts = answer.alerts || [];
    clear($('public-alerts'), alerts.length ? alerts.map((a) => el('li', {},
      el('p', { class: 'meta' }, a.exercise ? exerciseBadge() : null, colourBadge(a.colour),
        el('span', { class: 'hazard' }, hazardName(a.hazard))),
      el('strong', { lang: 'zh-TW' }, a.headline || ''),
      a.areas ? el('p', { class: 'hint', lang: 'zh-TW' }, Array.isArray(a.areas) ? a.areas.join('、') : text(a.areas)) : null))
      : [el('li', { class: 'none' }, 'No public alerts in force.')]);
  } catch {
    // The public list is a courtesy; my own alerts above are what matters.
  }
}

async function loadMe() {
  try {
    const me = await api('GET', '/me', { key: device.key });
    myLocale = me.locale || myLocale;
    renderPlaces(me.places || []);
    const localeSelect = $('locale-edit');
    clear(localeSelect, LOCALES.map(([code, name]) => el('option', { value: code, selected: code === myLocale }, name)));
    preferenceFields($('preferences-edit'), 'edit', me.preferences || {});
  } catch (error) {
    handleMineError(error);
  }
}

function renderPlaces(places) {
  clear($('my-places'), places.map((place) => {
    const remove = el('button', { type: 'button', class: 'small' }, 'Remove');
    remove.addEventListener('click', () => removePlace(place.id));
    return el('li', {}, el('strong', {}, text(place.label) || 'Place'), ' — ',
      el('span', { lang: 'zh-TW' }, placeWords(place) || `${place.lon}, ${place.lat}`), ' ', remove);
  }));
}

async function removePlace(id) {
  try {
    await api('DELETE', `/me/places/${encodeURIComponent(id)}`, { key: device.key });
    say(status, 'Place removed.', 'ok');
    loadMe();
  } catch (error) {
    say(status, describeError(error), 'error');
  }
}

async function addPlace(event) {
  event.preventDefault();
  const body = { label: $('new-place-label').value.trim(), address: $('new-place-address').value.trim() };
  try {
    await api('POST', '/me/places', { key: device.key, body });
    say(status, 'Place added.', 'ok');
    event.target.reset();
    loadMe();
  } catch (error) {
    say(status, describeError(error), 'error');
  }
}

async function savePreferences(event) {
  event.preventDefault();
  const locale = $('locale-edit').value;
  try {
    await api('PATCH', '/me', {
      key: device.key,
      body: { locale, preferences: { ...readPreferences('edit'), languages: [locale] } },
    });
    myLocale = locale;
    say(status, 'Preferences saved.', 'ok');
  } catch (error) {
    say(status, describeError(error), 'error');
  }
}

async function deleteMe() {
  try {
    await api('DELETE', '/me', { key: device.key });
    saveDevice(null);
    showSubscribe();
    say(status, 'Your data has been deleted. You will get no more alerts.', 'ok');
  } catch (error) {
    say(status, describeError(error), 'error');
  }
}

function handleMineError(error) {
  if (error.status === 401) {
    // The key no longer works (data deleted elsewhere, or a new service).
    saveDevice(null);
    showSubscribe();
    say(status, 'This browser is no longer subscribed. Subscribe again to get alerts.', 'error');
  } else {
    say(status, describeError(error), 'error');
  }
}

function stopTimers() {
  timers.forEach(clearInterval);
  timers = [];
  if (liveStream) liveStream.close();
  liveStream = null;
}

function showMine() {
  stopTimers();
  $('subscribe').hidden = true;
  $('mine').hidden = false;
  $('delete-confirm').hidden = true;
  loadMe();
  refreshAlerts();
  refreshInbox();
  refreshPublic();
  timers.push(setInterval(refreshAlerts, ALERTS_EVERY_MS));
  timers.push(setInterval(() => { refreshInbox(); refreshPublic(); }, SLOW_EVERY_MS));
  if ('EventSource' in window) {
    // Public notices arrive here first; my own list follows at once.
    liveStream = new EventSource('/api/v1/alerts/live');
    liveStream.addEventListener('message', () => { refreshAlerts(); refreshInbox(); refreshPublic(); });
  }
}

$('check-address').addEventListener('click', checkAddress);
$('subscribe-form').addEventListener('submit', subscribe);
$('place-form').addEventListener('submit', addPlace);
$('preferences-form').addEventListener('submit', savePreferences);
$('delete-start').addEventListener('click', () => {
  $('delete-confirm').hidden = false;
  $('delete-no').focus();
});
$('delete-no').addEventListener('click', () => { $('delete-confirm').hidden = true; });
$('delete-yes').addEventListener('click', deleteMe);
$('channel').addEventListener('change', () => {
  const kinds = { email: 'email', sms: 'tel', webhook: 'url', mqtt: 'text', fcm: 'text' };
  $('channel-address').type = kinds[$('channel').value] || 'text';
});

if (device) showMine();
else showSubscribe();
