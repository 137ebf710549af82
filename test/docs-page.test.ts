/** /docs, the API reference: a static page the worker routes first, so wrong methods get JSON. */
import { describe, expect, it } from 'vitest'
import { api, expectError } from './helpers/requests'

describe('/docs', () => {
  it('GET /docs serves the static reference page with its own Content-Security-Policy', async () => {
    const res = await api('/docs')
    expect(res.status).toBe(200)
    expect(res.headers.get('Content-Type')).toMatch(/^text\/html/)
    expect(await res.text()).toContain('<script src="/docs/init.js"')
    expect(res.headers.get('Content-Security-Policy')).toContain("style-src 'self' 'unsafe-inline'")
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff')
  })

  it('POST /docs is a JSON 405 that names GET and HEAD, not the page', async () => {
    const res = await api('/docs', { method: 'POST', json: {} })
    await expectError(res, 405, 'method_not_allowed')
    expect(res.headers.get('Allow')).toBe('GET, HEAD')
  })

  it('DELETE /docs is a JSON 405 too', async () => {
    const res = await api('/docs', { method: 'DELETE' })
    await expectError(res, 405, 'method_not_allowed')
  })
})
