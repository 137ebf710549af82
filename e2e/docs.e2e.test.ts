/**
 * The API reference at /docs in real Chromium against `wrangler dev`: Swagger UI from the static
 * assets, offline (no request leaves the worker's origin), and every operation of the worker's
 * own GET /openapi.json listed.
 */
import { chromium } from 'playwright-core'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { existsSync } from 'node:fs'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

const baseUrl = inject('baseUrl')

interface Operation {
  method: string
  path: string
}

const documentedOperations = async (): Promise<Operation[]> => {
  const res = await fetch(`${baseUrl}/openapi.json`)
  expect(res.status).toBe(200)
  const document = (await res.json()) as { paths: Record<string, Record<string, unknown>> }
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => HTTP_METHODS.includes(method))
      .map((method) => ({ method, path }))
  )
}

let browser: Browser
let page: Page
const requestedUrls: string[] = []
const consoleErrors: string[] = []

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`)
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--no-proxy-server'],
  })
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
  page.on('request', (request) => requestedUrls.push(request.url()))
  page.on('response', (response) => {
    if (response.status() >= 400) consoleErrors.push(`${response.status()} ${response.url()}`)
  })
  // A CSP violation or a script failure shows up here.
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text())
  })
  page.on('pageerror', (error) => consoleErrors.push(error.message))
})

afterAll(async () => {
  await browser?.close()
})

describe('the API reference at /docs', () => {
  it('is linked from the demo page', async () => {
    await page.goto(baseUrl)
    await page.getByRole('link', { name: 'API reference' }).click()
    await page.waitForURL(`${baseUrl}/docs`)
  })

  it('lists every operation of /openapi.json, with nothing loaded from another origin', async () => {
    const operations = await documentedOperations()
    expect(operations.length).toBeGreaterThan(10)
    requestedUrls.length = 0
    consoleErrors.length = 0
    const res = await page.goto(`${baseUrl}/docs`)
    expect(res?.status()).toBe(200)

    await expect
      .poll(() => page.locator('.opblock').count(), { timeout: 20_000 })
      .toBe(operations.length)
    for (const { method, path } of operations) {
      const listed = page.locator(`.opblock-${method} .opblock-summary-path[data-path="${path}"]`)
      expect(await listed.count(), `${method.toUpperCase()} ${path} is listed`).toBe(1)
    }
    const origins = new Set(requestedUrls.map((url) => new URL(url).origin))
    expect([...origins]).toEqual([new URL(baseUrl).origin])
    expect(requestedUrls).toContain(`${baseUrl}/openapi.json`)
    expect(consoleErrors).toEqual([])
  })

  it('ignores a document URL in the query string: it shows this API, fetched from this origin', async () => {
    const operations = await documentedOperations()
    requestedUrls.length = 0
    const foreign = 'http://127.0.0.1:9/other-openapi.json'
    await page.goto(`${baseUrl}/docs?url=${encodeURIComponent(foreign)}`)
    await expect
      .poll(() => page.locator('.opblock').count(), { timeout: 20_000 })
      .toBe(operations.length)
    expect(requestedUrls.filter((url) => !url.startsWith(baseUrl))).toEqual([])
  })

  it('is a static page with its own Content-Security-Policy, one policy only', async () => {
    const res = await fetch(`${baseUrl}/docs`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    const policy = res.headers.get('content-security-policy') ?? ''
    expect(policy).toContain("style-src 'self' 'unsafe-inline'")
    expect(policy).toContain("script-src 'self';")
    expect(policy).not.toContain(',')
    // The demo page keeps the strict policy.
    const demo = await fetch(baseUrl)
    expect(demo.headers.get('content-security-policy')).toContain("style-src 'self';")
  })

  it('answers a wrong method on /docs with a JSON error, not the page', async () => {
    const res = await fetch(`${baseUrl}/docs`, { method: 'POST' })
    expect([404, 405]).toContain(res.status)
    expect(res.headers.get('content-type') ?? '').toMatch(/^application\/json/)
  })
})
