/**
 * Passkeys on the demo page in real Chromium against `wrangler dev`, with the browser's own
 * virtual authenticator (the DevTools WebAuthn domain): add a passkey, sign out, sign in with it
 * and no password, remove it.
 */
import type { CDPSession, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { openChromium } from './chromium'
import type { OpenChromium } from './chromium'

const baseUrl = inject('baseUrl')

let chromium: OpenChromium
let page: Page
let cdp: CDPSession
let authenticatorId: string

interface VirtualCredential {
  credentialId: string
  isResidentCredential: boolean
  rpId: string
  signCount: number
}

const storedCredentials = async (): Promise<VirtualCredential[]> =>
  (
    (await cdp.send('WebAuthn.getCredentials', { authenticatorId })) as {
      credentials: VirtualCredential[]
    }
  ).credentials

beforeAll(async () => {
  chromium = await openChromium({ width: 480, height: 900 })
  page = chromium.page
  cdp = await chromium.context.newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  // A platform authenticator that keeps discoverable credentials and verifies its user (UV).
  ;({ authenticatorId } = (await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  })) as { authenticatorId: string })
})

afterAll(async () => {
  await chromium?.close()
})

describe('passkeys on the demo page in Chromium', () => {
  const email = `passkey-${Date.now().toString(36)}@example.com`

  it("adds a passkey after signing up: a discoverable credential for the page's host", async () => {
    await page.goto(baseUrl)
    const signUp = page.locator('#sign-up-form')
    await signUp.getByLabel('Email').fill(email)
    await signUp.getByLabel('Password').fill('correct horse battery staple')
    await signUp.getByRole('button', { name: 'Sign up' }).click()
    await expect.poll(() => page.locator('#user-label').textContent()).toContain(email)

    await page.getByRole('button', { name: 'Add a passkey' }).click()

    await expect.poll(() => page.locator('#passkeys li').count()).toBe(1)
    expect(await page.locator('#message').textContent()).toContain('Passkey added')
    const credentials = await storedCredentials()
    expect(credentials).toHaveLength(1)
    expect(credentials[0]).toMatchObject({ isResidentCredential: true, rpId: 'localhost' })
  })

  it('signs out, then signs in with the passkey alone: no email, no password', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click()
    await expect.poll(() => page.locator('#sign-in-form').isVisible()).toBe(true)

    await page.getByRole('button', { name: 'Sign in with a passkey' }).click()

    await expect.poll(() => page.locator('#signed-in').isVisible()).toBe(true)
    expect(await page.locator('#user-label').textContent()).toContain(email)
    const me = await page.evaluate(async () => (await fetch('/me')).json())
    expect(me.user.mfa).toEqual({ totp: false, passkeys: 1 })
    expect((await storedCredentials())[0].signCount).toBeGreaterThan(0)
  })

  it('removes the passkey; signing in with it is then refused', async () => {
    await page.locator('#passkeys li').getByRole('button', { name: 'Remove' }).click()
    await expect.poll(() => page.locator('#passkeys li').count()).toBe(0)

    await page.getByRole('button', { name: 'Sign out' }).click()
    await expect.poll(() => page.locator('#sign-in-form').isVisible()).toBe(true)
    // The authenticator still holds the credential; the server no longer knows it.
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click()
    await expect
      .poll(() => page.locator('#message').textContent())
      .toBe('That passkey could not be verified.')
    expect(await page.locator('#signed-in').isVisible()).toBe(false)
  })
})
