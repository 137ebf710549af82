/**
 * The response headers every answer carries. A fixed list rather than hono/secure-headers: the
 * API needs no per-request policy (no CSP nonces), and the generic middleware cost 1 KiB gzip of
 * the bundle's 45 for options nothing here uses.
 */

const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  // 'same-site': the demo page's origin may read the API's answers; other sites may not embed them.
  ['Cross-Origin-Resource-Policy', 'same-site'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Origin-Agent-Cluster', '?1'],
  ['Referrer-Policy', 'no-referrer'],
  ['Strict-Transport-Security', 'max-age=15552000; includeSubDomains'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-DNS-Prefetch-Control', 'off'],
  ['X-Download-Options', 'noopen'],
  ['X-Frame-Options', 'SAMEORIGIN'],
  ['X-Permitted-Cross-Domain-Policies', 'none'],
  // '0': the legacy XSS auditor could be abused to leak data; modern guidance turns it off.
  ['X-XSS-Protection', '0'],
]

/** On the response's own headers, after next(). */
export const setSecurityHeaders = (headers: Headers): void => {
  for (const [name, value] of SECURITY_HEADERS) headers.set(name, value)
}
