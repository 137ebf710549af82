/**
 * The code flow, free of HTTP: starting a sign-in or a link (state, nonce, PKCE S256 bound to a
 * browser secret), the callback's checks and the account decision, and the one-time login code.
 *
 * The browser secret (the __Host-oidc cookie) is the only place the PKCE verifier and the nonce
 * come from: D1 holds hashes only, so a copy of the database redeems nothing.
 */
import * as v from 'valibot'
import type { Core } from '../../auth/core'
import {
  isOpaqueToken,
  newOpaqueToken,
  randomBytes,
  sha256Base64Url,
  shardTag,
  toBase64Url,
  tokenHash,
} from '../../auth/encoding'
import { InvalidOneTimeToken } from '../../auth/errors'
import type { VerifiedSignIn } from '../../auth/sign-in'
import { isoNow, nowSeconds } from '../../clock'
import { EmailSchema } from '../../http/schemas'
import { UniqueViolation } from '../../ports'
import type { UserRow } from '../../ports'
import type { OidcStore } from './adapters/d1'
import { SignInFailed } from './errors'
import type { IdTokenClaims } from './id-token'
import type { ProviderClient } from './provider-http'

/** How long a started sign-in may take (the cookie's Max-Age too). */
export const STATE_SECONDS = 600
export const LOGIN_CODE_SECONDS = 60
/**
 * 256 bits, base64url: the browser secret. The state and the login code are opaque tokens as well,
 * after the shard tag of where they are stored (none with one shard), and kept as tokenHash().
 */
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/

const newSecret = () => toBase64Url(randomBytes(32))

export const isWellFormedSecret = (value: string | undefined): value is string =>
  value !== undefined && SECRET_PATTERN.test(value)

/** What one browser secret stands for: its stored hash, the PKCE verifier and the nonce. */
const fromBrowserSecret = async (secret: string) => ({
  browserHash: await sha256Base64Url(`oidc-browser:${secret}`),
  verifier: await sha256Base64Url(`oidc-pkce:${secret}`),
  nonce: await sha256Base64Url(`oidc-nonce:${secret}`),
})

export interface OidcContext {
  core: Core
  store: OidcStore
}

/**
 * The shard tag of a random key (none with one shard; docs/scaling.md): a sign-in's state belongs
 * to nobody yet, so it goes wherever a fresh key's hash puts it, and its tag says where. A key of
 * its own, so that the tag tells nothing of the browser secret.
 */
const randomShardTag = (core: Core): string => shardTag(core.ports.newUserId?.(newSecret()) ?? '')

/** Starts a sign-in (or, with `link`, a link to a signed-in account): the URL and the cookie's secret. */
export const beginFlow = async (
  { core, store }: OidcContext,
  client: ProviderClient,
  request: { returnTo: string; redirectUri: string; link: UserRow | null }
): Promise<{ url: string; browserSecret: string }> => {
  const authorization = await client.authorization()
  const browserSecret = newSecret()
  // Tagged with its shard: a link's with the account's, where the callback's UPDATE finds it.
  const state = newOpaqueToken(request.link ? shardTag(request.link.id) : randomShardTag(core))
  const { browserHash, verifier, nonce } = await fromBrowserSecret(browserSecret)
  const now = nowSeconds()
  await store.insertState({
    stateHash: await tokenHash(state),
    provider: client.config.id,
    browserHash,
    returnTo: request.returnTo,
    link: request.link && {
      userId: request.link.id,
      credentialVersion: request.link.credential_version,
    },
    now,
    expiresAt: now + STATE_SECONDS,
  })
  const url = new URL(authorization.endpoint)
  const params = {
    response_type: 'code',
    client_id: client.config.clientId,
    redirect_uri: request.redirectUri,
    scope: client.config.scopes,
    state,
    // Only for an ID token (GitHub sends none).
    ...(authorization.nonce && { nonce }),
    code_challenge: await sha256Base64Url(verifier),
    code_challenge_method: 'S256',
  }
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value)
  return { url: url.href, browserSecret }
}

/** The provider's address as an account's: the same rules as register's, or none. */
const usableEmail = (email: string | undefined): string | null => {
  const parsed = v.safeParse(EmailSchema, email)
  return parsed.success && !/[,;<>"]/.test(parsed.output) ? parsed.output : null
}

/**
 * The account this identity signs in: its own, a verified local account with the same verified
 * address (linked now), or a new one without a password. Never an account whose address is not
 * verified on both sides.
 */
const accountFor = async (
  { core, store }: OidcContext,
  provider: string,
  claims: IdTokenClaims
): Promise<{ id: string; credentialVersion: number; linked: boolean }> => {
  const known = await store.accountOfIdentity(provider, claims.sub)
  if (known === 'ambiguous') throw new SignInFailed('account_exists')
  if (known) return { id: known.id, credentialVersion: known.credential_version, linked: false }
  const email = usableEmail(claims.email)
  if (email === null) throw new SignInFailed('provider_error')
  const identity = {
    id: crypto.randomUUID(),
    provider,
    subject: claims.sub,
    email,
    createdAt: isoNow(),
  }
  const local = await core.ports.users.findByEmail(email)
  if (local) {
    if (!claims.emailVerified || local.email_verified_at === null) {
      throw new SignInFailed('account_exists')
    }
    const linked = await store.linkIdentity(
      { ...identity, userId: local.id },
      local.credential_version
    )
    if (!linked) throw new SignInFailed('account_exists')
    return { id: local.id, credentialVersion: local.credential_version, linked: true }
  }
  const user = {
    // Placed as a registration's: on the address's shard, under an id that names it.
    id: core.ports.newUserId?.(email) ?? crypto.randomUUID(),
    email,
    nickname: null,
    // No password: nothing verifies against an empty hash; a reset can set one.
    password_hash: '',
    created_at: identity.createdAt,
  }
  try {
    await store.createAccount(user, claims.emailVerified ? identity.createdAt : null, {
      ...identity,
      userId: user.id,
    })
  } catch (error) {
    if (error instanceof UniqueViolation) throw new SignInFailed('account_exists')
    throw error
  }
  return { id: user.id, credentialVersion: 0, linked: true }
}

/** `linked`: an identity was added to the account (an identity_linked event). */
export type CallbackOutcome =
  | { kind: 'login'; returnTo: string; code: string; userId: string; linked: boolean }
  | { kind: 'linked'; returnTo: string; userId: string; linked: boolean }

/**
 * The callback: the state (once, from this browser), the code redeemed with the verifier, the
 * provider's answer checked (an ID token, or GitHub's API), then the account decided. Every
 * failure is one of the named errors and leaves nothing behind but the used state.
 */
export const completeFlow = async (
  context: OidcContext,
  client: ProviderClient,
  request: {
    state: string | undefined
    code: string | undefined
    providerError: boolean
    browserSecret: string | undefined
    redirectUri: string
  }
): Promise<CallbackOutcome> => {
  const { state, browserSecret } = request
  if (state === undefined || !isOpaqueToken(state) || !isWellFormedSecret(browserSecret)) {
    throw new SignInFailed('invalid_state')
  }
  const { browserHash, verifier, nonce } = await fromBrowserSecret(browserSecret)
  const now = nowSeconds()
  const taken = await context.store.takeState(
    await tokenHash(state),
    browserHash,
    client.config.id,
    now
  )
  if (!taken) throw new SignInFailed('invalid_state')
  if (request.providerError || !request.code || request.code.length > 2048) {
    throw new SignInFailed('provider_error')
  }
  const claims = await client.identify(request.code, verifier, request.redirectUri, nonce)
  const provider = client.config.id
  const returnTo = taken.return_to

  if (taken.link_user_id !== null) {
    const known = await context.store.accountOfIdentity(provider, claims.sub)
    if (known) {
      if (known === 'ambiguous' || known.id !== taken.link_user_id) {
        throw new SignInFailed('account_exists')
      }
      return { kind: 'linked', returnTo, userId: known.id, linked: false }
    }
    const linked = await context.store.linkIdentity(
      {
        id: crypto.randomUUID(),
        userId: taken.link_user_id,
        provider,
        subject: claims.sub,
        email: usableEmail(claims.email),
        createdAt: isoNow(),
      },
      taken.link_credential_version ?? -1
    )
    // A reset or password change since the link began: the link is void.
    if (!linked) throw new SignInFailed('invalid_state')
    return { kind: 'linked', returnTo, userId: taken.link_user_id, linked: true }
  }

  const account = await accountFor(context, provider, claims)
  // On the account's shard, as its tag says: the exchange's UPDATE finds it there.
  const code = newOpaqueToken(shardTag(account.id))
  await context.store.insertLoginCode(
    await tokenHash(code),
    { user_id: account.id, auth_time: now, credential_version: account.credentialVersion },
    browserHash,
    now + LOGIN_CODE_SECONDS,
    now
  )
  return { kind: 'login', returnTo, code, userId: account.id, linked: account.linked }
}

/**
 * Trades a login code (once, within 60 s) for the sign-in it stands for, in the browser that went
 * through the provider: a code carried to another browser (login CSRF: a victim signed in to the
 * attacker's account) is refused, as a code that never was.
 */
export const redeemLoginCode = async (
  { store }: OidcContext,
  code: string,
  browserSecret: string | undefined
): Promise<VerifiedSignIn> => {
  if (!isOpaqueToken(code) || !isWellFormedSecret(browserSecret)) {
    throw new InvalidOneTimeToken()
  }
  const { browserHash } = await fromBrowserSecret(browserSecret)
  const grant = await store.takeLoginCode(await tokenHash(code), browserHash, nowSeconds())
  if (!grant) throw new InvalidOneTimeToken()
  return {
    userId: grant.user_id,
    amr: ['fed'],
    authTime: grant.auth_time,
    credentialVersion: grant.credential_version,
  }
}
