/**
 * GitHub, which is OAuth 2.0 without OpenID Connect: no discovery, no ID token. The code is
 * redeemed (with PKCE and the client secret) for an access token, used at once for two API reads:
 * the numeric account id (the identity: the login name can change hands) and the addresses, of
 * which only the primary one counts, verified only when GitHub says so.
 */
import type { GithubProviderConfig } from './config'
import type { IdTokenClaims } from './id-token'
import { call, codeForm, failed, isObject } from './provider-http'
import type { ProviderClient } from './provider-http'

const AUTHORIZE = 'https://github.com/login/oauth/authorize'
const TOKEN = 'https://github.com/login/oauth/access_token'
const API = 'https://api.github.com/user'
/** Goes into a header: printable, and bounded. */
const ACCESS_TOKEN = /^[\x21-\x7e]{1,1024}$/

/** GitHub refuses API requests without a User-Agent. */
const USER_AGENT = 'edge-jwt-auth'

/** Who signed in: GET /user's `id`, and GET /user/emails' primary address. */
const whoIs = async (token: string): Promise<IdTokenClaims> => {
  const headers = {
    Authorization: `Bearer ${token}`,
    Accept: 'application/vnd.github+json',
    'User-Agent': USER_AGENT,
    'X-GitHub-Api-Version': '2022-11-28',
  }
  const [user, emails] = await Promise.all([
    call(API, { headers }),
    call(`${API}/emails`, { headers }),
  ])
  const id = isObject(user) ? user.id : undefined
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0 || !Array.isArray(emails)) {
    throw failed()
  }
  // Exactly one primary entry, or none counts; any other address is ignored.
  const primaries = emails.filter((entry) => isObject(entry) && entry.primary === true)
  const primary = primaries.length === 1 ? (primaries[0] as Record<string, unknown>) : {}
  return {
    sub: String(id),
    email: typeof primary.email === 'string' ? primary.email : undefined,
    emailVerified: primary.verified === true,
  }
}

export const githubClient = (config: GithubProviderConfig): ProviderClient => ({
  config,
  authorization: () => Promise.resolve({ endpoint: AUTHORIZE, nonce: false }),
  async identify(code, verifier, redirectUri) {
    const form = codeForm(code, verifier, redirectUri)
    form.set('client_id', config.clientId)
    form.set('client_secret', config.clientSecret ?? '')
    // A refused code is a 200 too, with `error` instead of `access_token`.
    const body = await call(TOKEN, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
        'User-Agent': USER_AGENT,
      },
      body: form,
    })
    const token = isObject(body) ? body.access_token : undefined
    if (typeof token !== 'string' || !ACCESS_TOKEN.test(token)) throw failed()
    return whoIs(token)
  },
})
