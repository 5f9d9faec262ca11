// The staff console's one way to call the API: relative URLs (the API may sit under a stage
// prefix such as /prod), the staff token in memory and sessionStorage only, and every error
// answer turned into words a person can act on.

const SESSION_KEY = 'portal-console-session';

/** The API base, computed once: the page is served at <base>/console, the API at <base>/…. */
const apiBase = new URL(document.body.dataset.apiBase || './', location.href);

/** @type {{ accessToken: string, username: string, admin: boolean } | null} */
let session = null;

/** Called when any API call answers 401: the console goes back to sign-in. */
let onSessionEnded = () => {};

export function whenSessionEnds(callback) {
  onSessionEnded = callback;
}

/** Reads the staff user's name and groups from the access token, only to choose what to show. */
function claimsOf(jwt) {
  try {
    const part = jwt.split('.')[1] ?? '';
    const json = atob(part.replaceAll('-', '+').replaceAll('_', '/'));
    return JSON.parse(json);
  } catch {
    return {};
  }
}

export function startSession(accessToken) {
  const claims = claimsOf(accessToken);
  const groups = Array.isArray(claims['cognito:groups']) ? claims['cognito:groups'] : [];
  session = { accessToken, username: String(claims.username ?? ''), admin: groups.includes('admin') };
  // sessionStorage (never localStorage or a cookie): survives a reload of this tab only.
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

export function restoreSession() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
    if (stored && typeof stored.accessToken === 'string') session = stored;
  } catch {
    session = null;
  }
  return session;
}

export function endSession() {
  session = null;
  sessionStorage.removeItem(SESSION_KEY);
}

export const currentSession = () => session;

/**
 * One request. Resolves to { status, json, headers } for any HTTP answer; rejects only when the
 * service could not be reached. A 401 on a signed-in call ends the session.
 */
export async function request(method, path, { body, ifMatch, anonymous = false } = {}) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (ifMatch !== undefined) headers['if-match'] = String(ifMatch);
  if (!anonymous && session) headers.authorization = `Bearer ${session.accessToken}`;
  let res;
  try {
    res = await fetch(new URL(path, apiBase), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    return { status: 0, json: undefined, headers: new Headers() };
  }
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (res.status === 401 && !anonymous) {
    endSession();
    onSessionEnded();
  }
  return { status: res.status, json, headers: res.headers };
}

/** A path segment, encoded: patient and staff ids never change the path's shape. */
export const seg = (value) => encodeURIComponent(value);

/**
 * An error answer in words. `doing` completes "you do not have permission to …"; `labels` maps
 * request field paths (e.g. "body.email") to the labels the person sees.
 */
export function problemText(res, doing, labels = {}) {
  const problem = res.json ?? {};
  if (res.status === 0) return 'Could not reach the service. Check the connection and try again.';
  if (res.status === 401) return 'Your session has ended. Sign in again.';
  if (res.status === 403) return `You do not have permission to ${doing}.`;
  if (res.status === 429) {
    const wait = Number(res.headers.get('retry-after'));
    return wait > 0 ? `Too many attempts. Try again in ${wait} seconds.` : 'Too many attempts. Try again later.';
  }
  if (Array.isArray(problem.errors) && problem.errors.length > 0) {
    return problem.errors
      .map((e) => {
        const label = labels[e.path] ?? labels[String(e.path).split('.').pop()];
        return label ? `${label}: ${e.message}` : String(e.message);
      })
      .join(' ');
  }
  if (res.status >= 500) return `Something went wrong on our side while trying to ${doing}. Try again in a moment.`;
  return String(problem.detail ?? problem.title ?? `Could not ${doing} (status ${res.status}).`);
}
