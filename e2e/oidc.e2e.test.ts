/**
 * Sign-in with an identity provider, end to end: a real OpenID provider (panva's oidc-provider,
 * certified) started here on the loopback port the worker is configured with, and Chromium going
 * from the demo page's "Sign in with Local IdP" through the provider's login and consent pages
 * back to the demo page, signed in. Then the same callback replayed is refused.
 */
import Provider from 'oidc-provider'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { Server } from 'node:http'
import { openChromium } from './chromium'
import type { OpenChromium } from './chromium'

const baseUrl = inject('baseUrl')
const idp = inject('oidcProvider')

let chromium: OpenChromium
let page: Page
let server: Server
/** Every URL the browser went to, to find the callback and to prove no code leaked in a query. */
const visited: string[] = []

beforeAll(async () => {
  const provider = new Provider(idp.issuer, {
    clients: [
      {
        client_id: idp.clientId,
        client_secret: idp.clientSecret,
        redirect_uris: [`${baseUrl}/auth/oidc/local/callback`],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    // Any login is an account whose verified address is <login>@example.com.
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, email: `${sub}@example.com`, email_verified: true }),
    }),
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    // The worker reads the address from the ID token, as Google's carry it.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    cookies: { keys: ['e2e-cookie-key-not-a-secret'] },
    ttl: { Interaction: 600, Session: 600, Grant: 600, AccessToken: 600, IdToken: 600 },
  })
  server = provider.listen(idp.port, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  chromium = await openChromium({ width: 480, height: 1000 })
  page = chromium.page
  page.on('request', (request) => {
    if (request.isNavigationRequest()) visited.push(request.url())
  })
})

afterAll(async () => {
  await chromium?.close()
  await new Promise((resolve) => server?.close(resolve))
})

describe('Sign in with an identity provider', () => {
  const login = `e2e-${Date.now().toString(36)}`

  it('goes from the demo page through the provider and back, signed in', async () => {
    await page.goto(baseUrl)
    const button = page.getByRole('link', { name: 'Sign in with Local IdP' })
    await button.click()

    // The provider's own pages: its login form, then its consent.
    await page.waitForURL((url) => url.href.startsWith(`${idp.issuer}/interaction/`))
    await page.locator('input[name="login"]').fill(login)
    await page.locator('input[name="password"]').fill('any password')
    await page.getByRole('button', { name: 'Sign-in' }).click()
    await page.getByRole('button', { name: 'Continue' }).click()

    await expect
      .poll(() => page.locator('#user-label').textContent(), { timeout: 20_000 })
      .toContain(`${login}@example.com`)
    expect(page.url()).toBe(`${baseUrl}/`)
    const me = await page.evaluate(() => fetch('/me').then((res) => res.json()))
    expect(me.user).toMatchObject({ email: `${login}@example.com`, email_verified: true })
    const identities = await page.evaluate(() =>
      fetch('/auth/identities').then((res) => res.json())
    )
    expect(identities.identities).toEqual([
      expect.objectContaining({ provider: 'local', email: `${login}@example.com` }),
    ])
    // The login code travelled in a fragment only: no URL the browser asked for carries one.
    expect(visited.some((url) => url.includes('login='))).toBe(false)
  })

  it('refuses the same callback again with #login_error=invalid_state', async () => {
    const callbackUrl = visited.find((url) => url.startsWith(`${baseUrl}/auth/oidc/local/callback`))
    expect(callbackUrl).toBeDefined()
    await page.goto(callbackUrl!)
    await expect
      .poll(() => page.locator('#message').textContent())
      .toBe('That sign-in took too long or was started elsewhere. Try again.')
  })
})
