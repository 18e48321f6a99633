// The HTTP API as the pages use it: JSON in and out, and every failure as
// an ApiError carrying the server's stable error code, so the pages can
// switch on the code and show people the server's message.

export class ApiError extends Error {
  constructor(status, code, message, field, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    this.details = details || [];
  }
}

// Sends one request under /api/v1. `key` is a resident's device key (bearer);
// `csrf` is the token an issuer or chief got at login, required on every
// unsafe method when the session cookie authenticates.
export async function api(method, path, { body, key, csrf, query } = {}) {
  const url = new URL('/api/v1' + path, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
  }
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (key) headers.Authorization = 'Bearer ' + key;
  if (csrf && method !== 'GET') headers['X-CSRF-Token'] = csrf;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch (error) {
    throw new ApiError(0, 'unavailable', 'The service cannot be reached. Check the connection and try again.');
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const error = (json && json.error) || {};
    throw new ApiError(
      response.status,
      error.code || 'http_' + response.status,
      error.message || `The service answered ${response.status}.`,
      error.field,
      error.details,
    );
  }
  return json;
}
