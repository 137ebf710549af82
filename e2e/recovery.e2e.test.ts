/**
 * Account recovery in real Chromium against `wrangler dev` with the local outbox: register,
 * verify through the Mailbox, sign out, forget the password, reset it from the mailed link, sign
 * in with the new one, and find the sessions from before the reset ended.
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { openChromium } from './chromium'
import type { OpenChromium } from './chromium'

const baseUrl = inject('baseUrl')

let chromium: OpenChromium
let page: Page
/** Every URL and header the page sent, to prove no one-time token ever left in one. */
const sent: string[] = []

beforeAll(async () => {
  chromium = await openChromium({ width: 480, height: 1100 })
  page = chromium.page
  page.on('request', (request) => {
    sent.push(`${request.url()} ${JSON.stringify(request.headers())}`)
  })
})

afterAll(async () => {
  await chromium?.close()
})

/** Refreshes the Mailbox until a message with this subject to this address shows; returns its link. */
const linkInMailbox = async (to: string, subject: string): Promise<string> => {
  const message = page.locator('#mailbox-messages li', { hasText: subject }).filter({ hasText: to })
  await expect
    .poll(async () => {
      await page.locator('#mailbox-refresh').click()
      return message.count()
    })
    .toBeGreaterThan(0)
  const href = await message.first().locator('a').first().getAttribute('href')
  expect(href).toMatch(new RegExp(`^${baseUrl}/#(verify|reset)=[A-Za-z0-9_-]{43}$`))
  return href ?? ''
}

describe('account recovery in the demo page', () => {
  const email = `recover-${Date.now().toString(36)}@example.com`
  const password = 'correct horse battery staple'
  const newPassword = 'a brand new passphrase'
  let otherDeviceToken: string

  it('registers, then verifies the address with the link from the Mailbox', async () => {
    await page.goto(baseUrl)
    const signUp = page.locator('#sign-up-form')
    await signUp.getByLabel('Email').fill(email)
    await signUp.getByLabel('Password').fill(password)
    await signUp.getByRole('button', { name: 'Sign up' }).click()
    await expect.poll(() => page.locator('#user-label').textContent()).toContain(email)
    expect(await page.locator('#verify-banner').isVisible()).toBe(true)

    const link = await linkInMailbox(email, 'Confirm your email address')
    await page.locator(`#mailbox-messages a[href="${link}"]`).first().click()

    await expect
      .poll(() => page.locator('#message').textContent())
      .toBe('Your email address is verified.')
    await expect.poll(() => page.locator('#verify-banner').isVisible()).toBe(false)
    expect(page.url()).not.toContain('#verify=')
    const me = await page.evaluate(() => fetch('/me').then((res) => res.json()))
    expect(me.user.email_verified).toBe(true)
  })

  it('signs out, and asks for a reset link with "Forgot password?"', async () => {
    // Another device signed in before the reset: the reset must end its session.
    const login = await fetch(`${baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, password }),
    })
    expect(login.status).toBe(200)
    otherDeviceToken = ((await login.json()) as { access_token: string }).access_token

    await page.getByRole('button', { name: 'Sign out' }).click()
    await expect.poll(() => page.locator('#sign-in-form').isVisible()).toBe(true)
    await page.getByRole('button', { name: 'Forgot password?' }).click()
    const forgot = page.locator('#forgot-form')
    await forgot.getByLabel('Email').fill(email)
    await forgot.getByRole('button', { name: 'Send reset link' }).click()
    await expect
      .poll(() => page.locator('#message').textContent())
      .toBe('If an account uses this address, a reset link is on its way.')
  })

  it('resets the password from the mailed link, which leaves the address bar at once', async () => {
    const link = await linkInMailbox(email, 'Reset your password')
    const token = link.split('#reset=')[1]
    // Opened as a person would open it from their mail: a fresh page load of the link.
    await page.goto('about:blank')
    await page.goto(link)
    await expect.poll(() => page.locator('#reset-form').isVisible()).toBe(true)
    expect(page.url()).toBe(`${baseUrl}/`)

    await page.locator('#reset-form').getByLabel('New password').fill(newPassword)
    await page.getByRole('button', { name: 'Set new password' }).click()
    await expect
      .poll(() => page.locator('#message').textContent())
      .toContain('Your password is changed')

    // The token went to the API only inside the JSON body of the reset: no URL, no Referer.
    const leaks = sent.filter((line) => line.includes(token))
    expect(leaks.every((line) => !line.includes('"referer"'))).toBe(true)
    expect(leaks.every((line) => !line.startsWith(`${baseUrl}/auth`))).toBe(true)
  })

  it('signs in with the new password; the old one and the sessions from before are dead', async () => {
    const signIn = page.locator('#sign-in-form')
    await signIn.getByLabel('Email').fill(email)
    await signIn.getByLabel('Password').fill(newPassword)
    await signIn.getByRole('button', { name: 'Sign in', exact: true }).click()
    await expect.poll(() => page.locator('#user-label').textContent()).toContain(email)

    const old = await fetch(`${baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, password }),
    })
    expect(old.status).toBe(401)
    const otherDevice = await fetch(`${baseUrl}/me`, {
      headers: { Authorization: `Bearer ${otherDeviceToken}` },
    })
    expect(otherDevice.status).toBe(401)
    expect(await otherDevice.json()).toMatchObject({ error: 'token_revoked' })
  })
})
