/**
 * Two-step sign-in in real Chromium against `wrangler dev`: set TOTP up from the QR code the page
 * draws (decoded here, so the encoder is checked too), sign in with a code computed from the
 * secret the page showed, sign in with a recovery code, and turn it off.
 */
import jsQR from 'jsqr'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createHmac } from 'node:crypto'
import { openChromium } from './chromium'
import type { OpenChromium } from './chromium'

const baseUrl = inject('baseUrl')

let chromium: OpenChromium
let page: Page

const base32Decode = (text: string): Buffer => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  const bytes: number[] = []
  let buffer = 0
  let bits = 0
  for (const char of text) {
    buffer = (buffer << 5) | alphabet.indexOf(char)
    bits += 5
    if (bits >= 8) {
      bytes.push((buffer >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return Buffer.from(bytes)
}

/** RFC 6238 with node:crypto: the code of the step `stepsAhead` from now. */
const totp = (secret: string, stepsAhead = 0): string => {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + stepsAhead))
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest()
  const offset = mac[19] & 0x0f
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0')
}

/**
 * The page's QR code decoded with jsQR: its SVG path (one `M x y h1v1h-1z` square per dark
 * module) drawn into pixels here, since the page's CSP keeps blob: images out of a canvas.
 */
const qrText = async (): Promise<string | undefined> => {
  const svg = page.locator('#mfa-qr svg')
  const [viewBox, path] = await Promise.all([
    svg.getAttribute('viewBox'),
    svg.locator('path').getAttribute('d'),
  ])
  const modules = Number(viewBox?.split(' ')[2])
  const scale = 4
  const width = modules * scale
  const pixels = new Uint8ClampedArray(width * width * 4).fill(255)
  for (const [, x, y] of (path ?? '').matchAll(/M(\d+) (\d+)/g)) {
    for (let dy = 0; dy < scale; dy++) {
      for (let dx = 0; dx < scale; dx++) {
        const at = ((Number(y) * scale + dy) * width + Number(x) * scale + dx) * 4
        pixels.fill(0, at, at + 3)
      }
    }
  }
  return jsQR(pixels, width, width)?.data
}

const signIn = async (email: string, password: string) => {
  const form = page.locator('#sign-in-form')
  await form.getByLabel('Email').fill(email)
  await form.getByLabel('Password').fill(password)
  await form.getByRole('button', { name: 'Sign in', exact: true }).click()
}

const signOut = async () => {
  await page.getByRole('button', { name: 'Sign out' }).click()
  await expect.poll(() => page.locator('#sign-in-form').isVisible()).toBe(true)
}

beforeAll(async () => {
  chromium = await openChromium({ width: 480, height: 1400 })
  page = chromium.page
  // The page asks for the password again only for a stale sign-in; this walk stays fresh.
  page.on('dialog', (dialog) => void dialog.dismiss())
})

afterAll(async () => {
  await chromium?.close()
})

describe('two-step sign-in in the demo page', () => {
  const email = `mfa-${Date.now().toString(36)}@example.com`
  const password = 'correct horse battery staple'
  let secret = ''
  let recoveryCodes: string[] = []

  it('sets TOTP up from the QR code and shows the recovery codes', async () => {
    await page.goto(baseUrl)
    const signUp = page.locator('#sign-up-form')
    await signUp.getByLabel('Email').fill(email)
    await signUp.getByLabel('Password').fill(password)
    await signUp.getByRole('button', { name: 'Sign up' }).click()
    await expect.poll(() => page.locator('#user-label').textContent()).toContain(email)

    await page.getByRole('button', { name: 'Set up an authenticator app' }).click()
    await expect.poll(() => page.locator('#mfa-setup').isVisible()).toBe(true)
    secret = (await page.locator('#mfa-secret').textContent()) ?? ''
    expect(secret).toMatch(/^[A-Z2-7]{32}$/)
    const uri = await qrText()
    expect(uri).toMatch(/^otpauth:\/\/totp\//)
    expect(new URL(uri ?? '').searchParams.get('secret')).toBe(secret)

    const confirm = page.locator('#mfa-confirm-form')
    await confirm.getByLabel('Code from the app').fill(totp(secret))
    await confirm.getByRole('button', { name: 'Turn on' }).click()
    await expect.poll(() => page.locator('#mfa-code-list li').count()).toBe(10)
    recoveryCodes = await page.locator('#mfa-code-list li').allTextContents()
    expect(await page.locator('#mfa-status').textContent()).toContain('On')
  })

  it('signs in with a code from the secret it read', async () => {
    await signOut()
    await signIn(email, password)
    await expect.poll(() => page.locator('#mfa-form').isVisible()).toBe(true)
    // The step after the one that confirmed the setup (accepted as clock skew).
    await page
      .locator('#mfa-form')
      .getByLabel(/authenticator app/)
      .fill(totp(secret, 1))
    await page.locator('#mfa-form').getByRole('button', { name: 'Verify' }).click()
    await expect.poll(() => page.locator('#signed-in').isVisible()).toBe(true)
    const me = await page.evaluate(() => fetch('/me').then((res) => res.json()))
    expect(me, JSON.stringify(me)).toMatchObject({ user: { mfa: { totp: true, passkeys: 0 } } })
  })

  it('signs in with a recovery code, which then works no more', async () => {
    await signOut()
    await signIn(email, password)
    const form = page.locator('#mfa-form')
    await expect.poll(() => form.isVisible()).toBe(true)
    await form.getByLabel(/authenticator app/).fill(recoveryCodes[0])
    await form.getByLabel('It is a recovery code').check()
    await form.getByRole('button', { name: 'Verify' }).click()
    await expect.poll(() => page.locator('#signed-in').isVisible()).toBe(true)

    await signOut()
    await signIn(email, password)
    await expect.poll(() => form.isVisible()).toBe(true)
    await form.getByLabel(/authenticator app/).fill(recoveryCodes[0])
    await form.getByLabel('It is a recovery code').check()
    await form.getByRole('button', { name: 'Verify' }).click()
    await expect
      .poll(() => page.locator('#message').textContent())
      .toBe('That code is wrong or was already used.')
    await form.getByLabel(/authenticator app/).fill(recoveryCodes[1])
    await form.getByRole('button', { name: 'Verify' }).click()
    await expect.poll(() => page.locator('#signed-in').isVisible()).toBe(true)
  })

  it('turns it off with a recovery code; the password alone signs in again', async () => {
    const disable = page.locator('#mfa-disable-form')
    await disable.getByLabel('Code or recovery code').fill(recoveryCodes[2])
    await disable.getByRole('button', { name: 'Turn off' }).click()
    await expect.poll(() => page.locator('#message').textContent()).toBe('Two-step sign-in is off.')
    await signOut()
    await signIn(email, password)
    await expect.poll(() => page.locator('#signed-in').isVisible()).toBe(true)
    expect(await page.locator('#mfa-form').isVisible()).toBe(false)
  })
})
