// Small helpers the three pages share: building DOM elements without ever
// parsing strings as HTML (data from the API is always text), and the words
// for hazards, colour levels and times.

// el('p', {class: 'x'}, 'text', child) → element. Attributes starting with
// "on" are not allowed: handlers are added with addEventListener.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) throw new Error('use addEventListener for ' + name);
    if (name === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
}

export const HAZARDS = [
  ['rainfall', 'Heavy rain', '豪大雨'],
  ['flood', 'Flood', '淹水'],
  ['debris_flow', 'Debris flow / landslide', '土石流'],
  ['earthquake', 'Earthquake', '地震'],
  ['typhoon', 'Typhoon', '颱風'],
  ['thunderstorm', 'Thunderstorm', '雷雨'],
  ['tsunami', 'Tsunami', '海嘯'],
  ['heat', 'Heat', '高溫'],
  ['cold', 'Cold', '低溫'],
  ['fog', 'Fog', '濃霧'],
  ['wind', 'Strong wind', '強風'],
  ['other', 'Other', '其他'],
];

export function hazardName(kind) {
  const found = HAZARDS.find(([code]) => code === kind);
  return found ? `${found[1]} ${found[2]}` : String(kind || 'Alert');
}

// The colour is never shown by colour alone: the badge always says it.
export const COLOURS = {
  green: ['Green', '綠色', 'lowest level'],
  yellow: ['Yellow', '黃色', 'be aware'],
  orange: ['Orange', '橙色', 'be prepared'],
  red: ['Red', '紅色', 'take action'],
};

export function colourBadge(colour) {
  const key = String(colour || '').toLowerCase();
  const words = COLOURS[key];
  const text = words ? `${words[0]} ${words[1]} — ${words[2]}` : 'Level unknown';
  return el('span', { class: `badge level level-${words ? key : 'unknown'}` }, text);
}

export function exerciseBadge() {
  return el('span', { class: 'badge exercise' }, 'EXERCISE 演習 — not a real alert');
}

export const LOCALES = [
  ['zh-TW', '中文（台灣）'],
  ['en', 'English'],
  ['ja', '日本語'],
  ['ko', '한국어'],
  ['th', 'ไทย'],
  ['vi', 'Tiếng Việt'],
  ['fil', 'Filipino'],
  ['id', 'Bahasa Indonesia'],
];

export function formatTime(value) {
  if (!value) return '';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(undefined, {
    timeZone: 'Asia/Taipei',
    dateStyle: 'medium',
    timeStyle: 'short',
  }) + ' (Taiwan)';
}

// A status line that screen readers announce (role=status / alert).
export function say(node, text, kind = 'info') {
  node.textContent = text || '';
  node.dataset.kind = kind;
  node.hidden = !text;
}

// The message of an ApiError, naming the field when the server did.
export function describeError(error) {
  if (!error) return '';
  const field = error.field ? ` (${error.field})` : '';
  return `${error.message || String(error)}${field}`;
}
