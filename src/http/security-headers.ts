/**
 * The security headers, in two fixed lists rather than hono/secure-headers: the API needs no
 * per-request policy (no CSP nonces), and the generic middleware cost 1 KiB gzip of the bundle's
 * 45 for options nothing here uses.
 *
 * Every response carries the first list, which guards an answer wherever a browser meets it
 * (OWASP's REST Security Cheat Sheet names nosniff, HSTS and X-Frame-Options for every API
 * response). The second list only means something to a document a browser renders or a redirect
 * it follows, so it goes on HTML pages and 3xx answers alone: on a JSON answer it changes nothing,
 * and each header costs the worker CPU on every request (bench/README.md, "GET /health").
 */

type HeaderList = readonly (readonly [string, string])[]

const EVERY_RESPONSE: HeaderList = [
  ['X-Content-Type-Options', 'nosniff'],
  ['Strict-Transport-Security', 'max-age=15552000; includeSubDomains'],
  // 'same-site': the demo page's origin may read the API's answers; other sites may not embed them.
  ['Cross-Origin-Resource-Policy', 'same-site'],
  // No framing of an answer by another site (drag-and-drop clickjacking of a JSON body too).
  ['X-Frame-Options', 'SAMEORIGIN'],
  // A redirect's target, and any page, learns nothing of the URL that led there.
  ['Referrer-Policy', 'no-referrer'],
]

const DOCUMENTS_ONLY: HeaderList = [
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Origin-Agent-Cluster', '?1'],
  ['X-DNS-Prefetch-Control', 'off'],
  ['X-Download-Options', 'noopen'],
  ['X-Permitted-Cross-Domain-Policies', 'none'],
  // '0': the legacy XSS auditor could be abused to leak data; modern guidance turns it off.
  ['X-XSS-Protection', '0'],
]

const FOR_DOCUMENTS: HeaderList = [...EVERY_RESPONSE, ...DOCUMENTS_ONLY]

/**
 * On the response's own headers, after next(). A page keeps what its asset already declares
 * (public/_headers: the demo page's and the reference's stricter X-Frame-Options: DENY); the rest
 * is filled in.
 */
export const setSecurityHeaders = (headers: Headers, status: number): void => {
  // Media types are case-insensitive (RFC 9110 §8.3.1); XHTML renders as a page too.
  const type = headers.get('Content-Type')?.toLowerCase()
  const isDocument =
    (status >= 300 && status < 400) ||
    type?.startsWith('text/html') === true ||
    type?.startsWith('application/xhtml+xml') === true
  if (!isDocument) {
    for (const [name, value] of EVERY_RESPONSE) headers.set(name, value)
    return
  }
  for (const [name, value] of FOR_DOCUMENTS) {
    if (!headers.has(name)) headers.set(name, value)
  }
}
