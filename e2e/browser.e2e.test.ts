/**
 * The demo page in real Chromium against `wrangler dev`: cookie mode end to end, from sign-up
 * through implicit refresh to sign-out, and a screenshot for docs/browser.md.
 */
import type { BrowserContext, Cookie, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openChromium } from './chromium'
import type { OpenChromium } from './chromium'

const SCREENSHOT = resolve(dirname(fileURLToPath(import.meta.url)), '../docs/screenshot.png')
const ACCESS_COOKIE = '__Host-access_token'
const REFRESH_COOKIE = '__Host-refresh_token'
const PHONE_USER_AGENT = 'Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0'

const baseUrl = inject('baseUrl')
const accessTokenTtl = inject('accessTokenTtl')

let chromium: OpenChromium
let context: BrowserContext
let page: Page

const cookieNamed = async (name: string): Promise<Cookie | undefined> =>
  (await context.cookies(baseUrl)).find((cookie) => cookie.name === name)

/** A fetch from inside the page, so that it carries the page's cookies, Origin and Sec-Fetch-Site. */
const pageFetch = (path: string, init: { method?: string; json?: unknown } = {}) =>
  page.evaluate(
    async ({ path, init }) => {
      const res = await fetch(path, {
        method: init.method ?? 'GET',
        headers: init.json === undefined ? {} : { 'Content-Type': 'application/json' },
        body: init.json === undefined ? undefined : JSON.stringify(init.json),
      })
      return { status: res.status, body: res.status === 204 ? null : await res.json() }
    },
    { path, init }
  )

const waitPastAccessLifetime = () =>
  new Promise((done) => setTimeout(done, (accessTokenTtl + 1.5) * 1000))

beforeAll(async () => {
  chromium = await openChromium({ width: 480, height: 900 })
  ;({ context, page } = chromium)
})

afterAll(async () => {
  await chromium?.close()
})

describe('the worker behind wrangler dev', () => {
  it('serves the API next to the static page: /health, /openapi.json and a JSON 404', async () => {
    const health = await fetch(`${baseUrl}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })
    const openapi = await fetch(`${baseUrl}/openapi.json`)
    expect(openapi.status).toBe(200)
    expect((await openapi.json()).openapi).toMatch(/^3\.1/)
    const unknown = await fetch(`${baseUrl}/no/such/path`)
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toMatchObject({ error: 'not_found' })
    const unknownApi = await fetch(`${baseUrl}/auth/no-such-route`)
    expect(unknownApi.status).toBe(404)
    expect(unknownApi.headers.get('content-type')).toMatch(/^application\/json/)
  })
})

describe('the demo page in Chromium', () => {
  const email = `e2e-${Date.now().toString(36)}@example.com`
  const password = 'correct horse battery staple'
  let firstCookies: { access: string; refresh: string }

  it('registers in cookie mode; Chromium keeps HttpOnly, Secure cookies on http://localhost', async () => {
    const res = await page.goto(baseUrl)
    expect(res?.status()).toBe(200)
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'")
    const signUp = page.locator('#sign-up-form')
    await signUp.getByLabel('Email').fill(email)
    await signUp.getByLabel('Password').fill(password)
    await signUp.getByLabel('Nickname').fill('Ada')
    await signUp.getByRole('button', { name: 'Sign up' }).click()
    await expect.poll(() => page.locator('#user-label').textContent()).toContain(email)

    const access = await cookieNamed(ACCESS_COOKIE)
    const refresh = await cookieNamed(REFRESH_COOKIE)
    expect(access).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' })
    expect(refresh).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' })
    // HttpOnly: the page's own scripts cannot read either token.
    expect(await page.evaluate(() => document.cookie)).toBe('')
    firstCookies = { access: access!.value, refresh: refresh!.value }
  })

  it('creates a note and still shows it, signed in, after a reload', async () => {
    const form = page.locator('#note-form')
    await form.getByLabel('Title').fill('Buy milk')
    await form.getByLabel('Text').fill('Two litres, the organic one.')
    await form.getByRole('button', { name: 'Add note' }).click()
    await expect.poll(() => page.locator('#notes .title').allTextContents()).toEqual(['Buy milk'])

    await page.reload()
    await expect.poll(() => page.locator('#notes .title').allTextContents()).toEqual(['Buy milk'])
    expect(await page.locator('#signed-in').isVisible()).toBe(true)
    expect(await page.locator('#user-label').textContent()).toContain(email)
  })

  it('keeps working past the access lifetime through implicit refresh, also for parallel requests', async () => {
    await waitPastAccessLifetime()
    // Several requests at once with the same expired cookie: one rotation, no reuse alarm.
    const parallel = await page.evaluate(() =>
      Promise.all(
        ['/notes', '/me', '/auth/sessions', '/notes'].map((path) =>
          fetch(path).then((res) => res.status)
        )
      )
    )
    expect(parallel).toEqual([200, 200, 200, 200])
    const rotated = await cookieNamed(REFRESH_COOKIE)
    expect(rotated?.value).not.toBe(firstCookies.refresh)
    expect((await cookieNamed(ACCESS_COOKIE))?.value).not.toBe(firstCookies.access)

    await waitPastAccessLifetime()
    const form = page.locator('#note-form')
    await form.getByLabel('Title').fill('Call the bank')
    await form.getByLabel('Text').fill('About the new card.')
    await form.getByRole('button', { name: 'Add note' }).click()
    await expect
      .poll(() => page.locator('#notes .title').allTextContents())
      .toEqual(['Call the bank', 'Buy milk'])
    expect(await page.locator('#message').isVisible()).toBe(false)
    expect((await cookieNamed(REFRESH_COOKIE))?.value).not.toBe(rotated?.value)
    expect((await pageFetch('/auth/sessions')).body.sessions).toHaveLength(1)
  })

  it('lists another device and signs it out with "Sign out other devices"', async () => {
    const login = await fetch(`${baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': PHONE_USER_AGENT },
      body: JSON.stringify({ email, password }),
    })
    expect(login.status).toBe(200)
    const { access_token: phoneToken } = (await login.json()) as { access_token: string }

    await page.reload()
    await expect.poll(() => page.locator('#sessions li').count()).toBe(2)
    expect(await page.locator('#sessions').textContent()).toContain('Firefox on Android')
    mkdirSync(dirname(SCREENSHOT), { recursive: true })
    await page.screenshot({ path: SCREENSHOT, fullPage: true })

    await page.getByRole('button', { name: 'Sign out other devices' }).click()
    await expect
      .poll(() => page.locator('#message').textContent())
      .toBe('Signed out 1 other device.')
    await expect.poll(() => page.locator('#sessions li').count()).toBe(1)
    const phone = await fetch(`${baseUrl}/me`, {
      headers: { Authorization: `Bearer ${phoneToken}` },
    })
    expect(phone.status).toBe(401)
    expect(await phone.json()).toMatchObject({ error: 'token_revoked' })
  })

  it('edits one note and deletes another', async () => {
    const milk = page.locator('#notes li', { hasText: 'Buy milk' })
    await milk.getByRole('button', { name: 'Edit' }).click()
    await milk.locator('.editor').getByLabel('Title').fill('Buy oat milk')
    await milk.getByRole('button', { name: 'Save' }).click()
    await expect
      .poll(() => page.locator('#notes .title').allTextContents())
      .toEqual(['Call the bank', 'Buy oat milk'])

    await page
      .locator('#notes li', { hasText: 'Call the bank' })
      .getByRole('button', { name: 'Delete' })
      .click()
    await expect
      .poll(() => page.locator('#notes .title').allTextContents())
      .toEqual(['Buy oat milk'])
  })

  it('signs out: both cookies are gone and protected calls are refused, even with the old cookies', async () => {
    const before = await context.cookies(baseUrl)
    await page.getByRole('button', { name: 'Sign out' }).click()
    await expect.poll(() => page.locator('#sign-in-form').isVisible()).toBe(true)
    expect(await cookieNamed(ACCESS_COOKIE)).toBeUndefined()
    expect(await cookieNamed(REFRESH_COOKIE)).toBeUndefined()

    const refused = await pageFetch('/notes')
    expect(refused).toMatchObject({ status: 401, body: { error: 'missing_token' } })

    // A copy of the cookies taken before sign-out is dead too: the session ended on the server.
    await context.addCookies(before)
    const replayed = await pageFetch('/notes')
    expect(replayed).toMatchObject({ status: 401, body: { error: 'token_revoked' } })
    await context.clearCookies()
  })

  it('explains an API error in words: a wrong password on sign-in', async () => {
    const signIn = page.locator('#sign-in-form')
    await signIn.getByLabel('Email').fill(email)
    await signIn.getByLabel('Password').fill('not the password')
    await signIn.getByRole('button', { name: 'Sign in', exact: true }).click()
    await expect
      .poll(() => page.locator('#message').textContent())
      .toBe('The email or password is wrong.')
    expect(await cookieNamed(ACCESS_COOKIE)).toBeUndefined()
  })
})
