/**
 * Asymmetric signing keys (EdDSA, ES256): the private JWK set from the `JWT_PRIVATE_KEYS` secret,
 * checked once, imported once per isolate, and published without its private parts.
 */
import { fromBase64Url, utf8 } from './encoding'

export const SIGNING_ALGORITHMS = ['HS256', 'EdDSA', 'ES256'] as const
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number]
export type AsymmetricAlgorithm = Exclude<SigningAlgorithm, 'HS256'>

// Spelled out, not SubtleCryptoSignAlgorithm: that Workers-only name would reach the published
// client declarations (src/client.ts) and break them for a front end compiled with DOM types.
interface SignParams {
  name: string
  hash?: string
}

interface KeyFamily {
  kty: string
  crv: string
  coordinates: readonly ('x' | 'y')[]
  importParams: SubtleCryptoImportKeyAlgorithm
  signParams: SignParams
}

// Both curves use 32-byte coordinates and 32-byte private scalars.
const KEY_BYTES = 32

const FAMILIES: Record<AsymmetricAlgorithm, KeyFamily> = {
  EdDSA: {
    kty: 'OKP',
    crv: 'Ed25519',
    coordinates: ['x'],
    importParams: { name: 'Ed25519' },
    signParams: { name: 'Ed25519' },
  },
  ES256: {
    kty: 'EC',
    crv: 'P-256',
    coordinates: ['x', 'y'],
    importParams: { name: 'ECDSA', namedCurve: 'P-256' },
    signParams: { name: 'ECDSA', hash: 'SHA-256' },
  },
}

/** What /.well-known/jwks.json shows of a key: never `d`. */
export interface PublicJwk {
  kty: string
  crv: string
  x: string
  y?: string
  kid: string
  alg: AsymmetricAlgorithm
  use: 'sig'
}

/** A published key, as a verifier holds it. */
export interface PublicKey {
  kid: string
  alg: AsymmetricAlgorithm
  publicJwk: PublicJwk
}

export interface SigningKey extends PublicKey {
  /** Only the members Web Crypto needs, so that stray members (key_ops, ext) cannot upset import. */
  privateJwk: JsonWebKey
}

export interface KeySet {
  active: SigningKey
  keys: SigningKey[]
}

/** A key set that cannot be used; the message names the problem, never key material. */
export class KeySetError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'KeySetError'
  }
}

const MAX_KEYS = 16
const KID_PATTERN = /^[\x21-\x7e]{1,128}$/

export const isAsymmetricAlgorithm = (alg: unknown): alg is AsymmetricAlgorithm =>
  alg === 'EdDSA' || alg === 'ES256'

const familyOf = (kty: unknown, crv: unknown): AsymmetricAlgorithm | undefined =>
  (Object.keys(FAMILIES) as AsymmetricAlgorithm[]).find(
    (alg) => FAMILIES[alg].kty === kty && FAMILIES[alg].crv === crv
  )

const requireKeyBytes = (value: unknown, what: string): string => {
  const bytes = typeof value === 'string' ? fromBase64Url(value) : null
  if (bytes?.length !== KEY_BYTES) {
    throw new KeySetError(`${what} is not ${KEY_BYTES} base64url bytes`)
  }
  return value as string
}

/** The members that make up the key itself, without its labels. */
const keyMembers = ({ kty, crv, x, y }: PublicJwk): JsonWebKey =>
  y === undefined ? { kty, crv, x } : { kty, crv, x, y }

/**
 * A key's public half, checked as strictly as our own keys are: the resource servers' verifier
 * (src/verify/) reads a published JWK set with it. Throws KeySetError.
 */
export const readPublicKey = (raw: unknown, where: string): PublicKey => {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new KeySetError(`${where} is not an object`)
  }
  const jwk = raw as Record<string, unknown>
  if (typeof jwk.kid !== 'string' || !KID_PATTERN.test(jwk.kid)) {
    throw new KeySetError(`${where} needs a kid of printable characters`)
  }
  const alg = familyOf(jwk.kty, jwk.crv)
  if (!alg) throw new KeySetError(`${where} is neither an OKP Ed25519 nor an EC P-256 key`)
  if (jwk.alg !== undefined && jwk.alg !== alg) {
    throw new KeySetError(`${where} declares alg other than ${alg}`)
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') {
    throw new KeySetError(`${where} is not a signing key`)
  }
  const family = FAMILIES[alg]
  const publicJwk: PublicJwk = {
    kty: family.kty,
    crv: family.crv,
    x: '',
    kid: jwk.kid,
    alg,
    use: 'sig',
  }
  for (const coordinate of family.coordinates) {
    publicJwk[coordinate] = requireKeyBytes(jwk[coordinate], `${where} ${coordinate}`)
  }
  return { kid: jwk.kid, alg, publicJwk }
}

const readKey = (raw: unknown, index: number): SigningKey => {
  const where = `key ${index}`
  const key = readPublicKey(raw, where)
  const d = requireKeyBytes((raw as Record<string, unknown>).d, `${where} private part d`)
  return { ...key, privateJwk: { ...keyMembers(key.publicJwk), d } }
}

const parseKeySet = (text: string | undefined, activeKid: string | undefined): KeySet => {
  if (!text) throw new KeySetError('JWT_PRIVATE_KEYS is not set')
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch {
    throw new KeySetError('JWT_PRIVATE_KEYS is not JSON')
  }
  const list = (document as { keys?: unknown } | null)?.keys
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_KEYS) {
    throw new KeySetError(`JWT_PRIVATE_KEYS must be {"keys":[...]} with 1 to ${MAX_KEYS} keys`)
  }
  const keys = list.map(readKey)
  if (new Set(keys.map((key) => key.kid)).size !== keys.length) {
    throw new KeySetError('two keys share a kid')
  }
  const active = activeKid ? keys.find((key) => key.kid === activeKid) : keys[0]
  if (!active) throw new KeySetError('JWT_ACTIVE_KID names no key of JWT_PRIVATE_KEYS')
  return { active, keys }
}

// Parsing is cheap but happens on every signing or verifying request; the secret rarely changes.
const parsedSets = new Map<string, KeySet>()
const MAX_CACHED_SETS = 8

/**
 * The key set for an asymmetric algorithm, checked: every key well formed, kids unique, and the
 * active key (JWT_ACTIVE_KID, else the first) of the configured algorithm. Throws KeySetError.
 */
export const readKeySet = (
  text: string | undefined,
  activeKid: string | undefined,
  algorithm: AsymmetricAlgorithm
): KeySet => {
  const cacheKey = `${algorithm}\n${activeKid ?? ''}\n${text ?? ''}`
  let keySet = parsedSets.get(cacheKey)
  if (!keySet) {
    keySet = parseKeySet(text, activeKid)
    if (keySet.active.alg !== algorithm) {
      throw new KeySetError(
        `the active key ${keySet.active.kid} is not a JWT_ALGORITHM (${algorithm}) key`
      )
    }
    if (parsedSets.size >= MAX_CACHED_SETS) parsedSets.clear()
    parsedSets.set(cacheKey, keySet)
  }
  return keySet
}

// One import per key and usage for the isolate's life; the WeakMap dies with the parsed set.
const imported = new WeakMap<
  PublicKey,
  { sign?: Promise<CryptoKey>; verify?: Promise<CryptoKey> }
>()

/**
 * A private key whose published half is not its own would sign tokens that nobody can verify, so
 * the pair is tried once, at import, with a throwaway message.
 */
const importCheckedPrivateKey = async (key: SigningKey): Promise<CryptoKey> => {
  const { importParams, signParams } = FAMILIES[key.alg]
  const privateKey = await crypto.subtle.importKey('jwk', key.privateJwk, importParams, false, [
    'sign',
  ])
  const probe = utf8.encode(`key-pair-check:${key.kid}`)
  const signature = await crypto.subtle.sign(signParams, privateKey, probe)
  if (!(await crypto.subtle.verify(signParams, await publicKeyOf(key), signature, probe))) {
    throw new KeySetError(`key ${key.kid}: its public part does not match its private part d`)
  }
  return privateKey
}

const cachedImport = (
  key: PublicKey,
  usage: 'sign' | 'verify',
  load: () => Promise<CryptoKey>
): Promise<CryptoKey> => {
  let entry = imported.get(key)
  if (!entry) {
    entry = {}
    imported.set(key, entry)
  }
  let promise = entry[usage]
  if (!promise) {
    promise = load()
    // A failed import must not stick: the next request retries (and fails the same clean way).
    promise.catch(() => {
      if (entry[usage] === promise) entry[usage] = undefined
    })
    entry[usage] = promise
  }
  return promise
}

export const privateKeyOf = (key: SigningKey): Promise<CryptoKey> =>
  cachedImport(key, 'sign', () => importCheckedPrivateKey(key))

export const publicKeyOf = (key: PublicKey): Promise<CryptoKey> =>
  cachedImport(key, 'verify', () =>
    crypto.subtle.importKey(
      'jwk',
      keyMembers(key.publicJwk),
      FAMILIES[key.alg].importParams,
      false,
      ['verify']
    )
  )

export const signParamsOf = (alg: AsymmetricAlgorithm): SignParams => FAMILIES[alg].signParams
