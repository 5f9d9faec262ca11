/**
 * The response headers of every HTML page (security rules 14 and the pages' contract): a strict
 * CSP with no inline code and no third-party origin, no framing, no referrer (a second guard for
 * rule 26: link tokens sit after `#`, which no Referer carries, and the page clears them at once;
 * a page's own address still says which page a patient was on), and no caching (pages may show
 * secrets such as a temporary password).
 */
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const pageHeaders: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': contentSecurityPolicy,
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
};
