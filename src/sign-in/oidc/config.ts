/**
 * OIDC_PROVIDERS and the OIDC_CLIENT_SECRET_<ID> secrets, validated once. An invalid list is kept
 * as its error and thrown by the oidc routes only (500 server_misconfigured): the rest of the
 * service goes on signing people in with passwords.
 */
import { Misconfigured } from '../../auth/errors'
import { isLoopbackHost } from '../../options'

interface CommonConfig {
  /** Lower case: the path segment (/auth/oidc/<id>/...) and the secret's suffix. */
  id: string
  /** Shown on the sign-in button; the id when not given. */
  name: string
  clientId: string
  /** OIDC_CLIENT_SECRET_<ID>; an OpenID provider without one is a public client (PKCE only). */
  clientSecret?: string
  scopes: string
}

/** An OpenID provider: its endpoints and keys come from the issuer's discovery document. */
export interface OidcProviderConfig extends CommonConfig {
  kind?: 'oidc'
  issuer: string
}

/** GitHub's OAuth apps: fixed endpoints, no ID token; who signed in comes from its API. */
export interface GithubProviderConfig extends CommonConfig {
  kind: 'github'
}

export type ProviderConfig = OidcProviderConfig | GithubProviderConfig

/** What the feature is set up with: the providers, or why there are none. */
export type OidcOptions = { providers: readonly ProviderConfig[] } | { error: Misconfigured }

const ID = /^[a-z0-9_]{1,32}$/
const PRINTABLE = /^[\x20-\x7e]{1,256}$/
const MAX_PROVIDERS = 16
const DEFAULT_SCOPES = 'openid email profile'
/** Enough to read the account's id and its addresses (GET /user, GET /user/emails). */
const GITHUB_SCOPES = 'user:email'

const invalid = (what: string) => new Misconfigured(`OIDC_PROVIDERS: invalid ${what}`)

/** https, or http on a loopback host (local development and tests); no query or fragment. */
export const isAllowedProviderUrl = (raw: string): boolean => {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return false
  }
  const secure =
    url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))
  return secure && url.search === '' && url.hash === '' && url.username === ''
}

const readProvider = (entry: unknown, vars: Readonly<Record<string, unknown>>): ProviderConfig => {
  if (typeof entry !== 'object' || entry === null) throw invalid('an entry')
  const {
    id,
    kind = 'oidc',
    name,
    issuer,
    client_id: clientId,
    scopes,
  } = entry as Record<string, unknown>
  const github = kind === 'github'
  // The messages name the field only; docs/identity-providers.md says what each must be.
  if (typeof id !== 'string' || !ID.test(id)) throw invalid('id')
  if (!github && kind !== 'oidc') throw invalid('kind')
  // GitHub's endpoints are fixed: an issuer there would be a mistake, not a setting.
  if (github ? issuer !== undefined : typeof issuer !== 'string' || !isAllowedProviderUrl(issuer)) {
    throw invalid('issuer')
  }
  if (typeof clientId !== 'string' || !PRINTABLE.test(clientId)) throw invalid('client_id')
  if (name !== undefined && (typeof name !== 'string' || !PRINTABLE.test(name))) {
    throw invalid('name')
  }
  if (
    scopes !== undefined &&
    (typeof scopes !== 'string' ||
      !PRINTABLE.test(scopes) ||
      !scopes.split(' ').some((scope) => (github ? /^user(:email)?$/ : /^openid$/).test(scope)))
  ) {
    throw invalid('scopes')
  }
  const secretName = `OIDC_CLIENT_SECRET_${id.toUpperCase()}`
  const secret = vars[secretName]
  const clientSecret = typeof secret === 'string' && secret !== '' ? secret : undefined
  // GitHub redeems no code without the secret: better refused here than every sign-in failing.
  if (github && clientSecret === undefined) throw new Misconfigured(`${secretName} is not set`)
  const common = { id, name: name ?? id, clientId, clientSecret }
  return github
    ? { ...common, kind: 'github', scopes: scopes ?? GITHUB_SCOPES }
    : { ...common, kind: 'oidc', issuer: issuer as string, scopes: scopes ?? DEFAULT_SCOPES }
}

/** Throws Misconfigured naming the problem (never a secret). Unset or empty: no providers. */
export const readProviders = (vars: Readonly<Record<string, unknown>>): ProviderConfig[] => {
  const raw = vars.OIDC_PROVIDERS
  if (raw === undefined || raw === '') return []
  let list: unknown
  try {
    list = JSON.parse(typeof raw === 'string' ? raw : '')
  } catch {
    throw invalid('JSON')
  }
  if (!Array.isArray(list) || list.length > MAX_PROVIDERS) {
    throw invalid('list')
  }
  const providers = list.map((entry) => readProvider(entry, vars))
  if (new Set(providers.map((provider) => provider.id)).size !== providers.length) {
    throw invalid('id (repeated)')
  }
  return providers
}

export const oidcOptionsFromEnv = (vars: Readonly<Record<string, unknown>>): OidcOptions => {
  try {
    return { providers: readProviders(vars) }
  } catch (error) {
    if (error instanceof Misconfigured) return { error }
    throw error
  }
}
