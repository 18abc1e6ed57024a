// The admin API (/api/v1) as the signed-in user: the session cookie goes with every request
// (same origin), and every request that changes something carries the session's CSRF token.
// Failures become ApiError {status, code}; the console shows its own translated text per code
// (server messages are English and never shown as they are).

import { has, t } from './i18n.js';

let csrfToken = null;
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(`${status} ${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

/** Remember the CSRF token of the session answer (sign-in or GET /session). */
export function setSession(info) {
  csrfToken = info ? info.csrf_token : null;
}

/** Called with the ApiError when a request finds the session ended or expired. */
export function whenSignedOut(f) {
  onSignedOut = f;
}

/** Codes that mean "this session is no longer valid: sign in again". */
const SESSION_ENDED = new Set(['unauthenticated', 'session_expired', 'unauthorized']);

/**
 * One API call. `path` is under /api/v1 (`/apps`); `body` is sent as JSON.
 * Resolves to the parsed answer (null for 204); rejects with ApiError.
 */
export async function api(method, path, body, { quiet401 = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (!['GET', 'HEAD'].includes(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network', String(e));
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const code = data && typeof data.error === 'string' ? data.error : `http_${res.status}`;
    const err = new ApiError(res.status, code, data && data.message ? data.message : '');
    if (res.status === 401 && SESSION_ENDED.has(code) && !quiet401) onSignedOut(err);
    throw err;
  }
  return data;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const patch = (path, body) => api('PATCH', path, body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);

/** A public (unauthenticated) JSON document outside /api/v1, e.g. /icp/{app}. */
export async function publicJson(path) {
  let res;
  try {
    res = await fetch(path, { headers: { Accept: 'application/json' }, credentials: 'omit' });
  } catch (e) {
    throw new ApiError(0, 'network', String(e));
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    throw new ApiError(res.status, data && data.error ? data.error : `http_${res.status}`, '');
  }
  return data;
}

/** Path segment: app ids, channel names, versions and device ids are encoded. */
export function seg(s) {
  return encodeURIComponent(s);
}

/** The console's own text for a failure: per stable code, else a generic text with the code. */
export function errorText(err) {
  if (!(err instanceof ApiError)) return t('error.unexpected');
  if (err.code === 'network') return t('error.network');
  const key = `error.${err.code}`;
  if (has(key)) return t(key);
  if (err.status >= 500) return t('error.server', { code: err.code });
  return t('error.generic', { code: err.code });
}
