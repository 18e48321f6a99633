// The little of the API the browser tests do outside the browser: log in as
// the bootstrap operator and create the issuer account the console walk
// uses. Node's own fetch; cookies handled by hand (one session at a time).

import { randomBytes } from 'node:crypto';

export class ApiClient {
  constructor(base) {
    this.base = base;
    this.cookie = null;
    this.csrf = null;
  }

  async call(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.cookie) headers.Cookie = this.cookie;
    if (this.csrf && method !== 'GET') headers['X-CSRF-Token'] = this.csrf;
    const response = await fetch(new URL('/api/v1' + path, this.base), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0];
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  async login(username, password) {
    const answer = await this.call('POST', '/auth/login', { username, password });
    this.csrf = answer.csrf_token;
    return answer;
  }

  // An issuer for the demo county 霧島縣 (99000), with a fresh password.
  async createIssuer(operatorUser, operatorPassword) {
    await this.login(operatorUser, operatorPassword);
    const username = `issuer-${randomBytes(4).toString('hex')}`;
    const password = randomBytes(18).toString('base64url');
    await this.call('POST', '/accounts', {
      username,
      password,
      display_name: 'Wudao County emergency office',
      role: 'issuer',
      office: 'wudao-eoc',
      jurisdiction: ['99000'],
    });
    await this.call('POST', '/auth/logout');
    this.cookie = null;
    this.csrf = null;
    return { username, password };
  }
}
