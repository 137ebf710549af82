/**
 * The WebAuthn checks, on Web Crypto alone (docs/passkeys.md says why each exists): the client
 * data (type, challenge, origin), the authenticator data (RP id hash, flags, counter, the new
 * credential), COSE public keys (EdDSA, ES256, RS256) and assertion signatures. Every failure is
 * InvalidPasskey; nothing here touches storage.
 */
import {
  constantTimeEqual,
  fromBase64Url,
  toBase64Url,
  utf8,
  utf8Decoder,
} from '../../auth/encoding'
import { decodeCbor } from './cbor'
import type { CborMap } from './cbor'
import { refuse } from './errors'

/** COSE algorithms, in the order offered: EdDSA, ES256, RS256. */
export const ALGORITHMS = [-8, -7, -257] as const
export type CoseAlgorithm = (typeof ALGORITHMS)[number]

const FLAG_UP = 0x01
const FLAG_UV = 0x04
const FLAG_BE = 0x08
const FLAG_AT = 0x40
const FLAG_ED = 0x80

/** What the relying party accepts: WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS. */
export interface RelyingParty {
  id: string
  origins: readonly string[]
}

export interface AuthenticatorData {
  /** User verification (UV): a PIN or biometric, not only a touch. */
  verified: boolean
  /** Backup eligible (BE): a synced passkey, so a software key rather than a hardware one. */
  synced: boolean
  counter: number
  /** Present at registration (AT): the new credential's id and public key. */
  credentialId?: Uint8Array
  publicKey?: CborMap
}

/** Schema-checked base64url still decodes to null for an impossible length (4n+1 characters). */
export const decodeBase64Url = (text: string): Uint8Array => fromBase64Url(text) ?? refuse()

const sha256 = async (bytes: Uint8Array): Promise<Uint8Array> =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))

/**
 * The client data of a create() or get(): its type (a signed assertion cannot pass for a
 * registration), an origin of ours (phishing), not framed by another origin. Returns the
 * challenge it answers, for the caller to redeem.
 */
export const readClientData = (
  encoded: string,
  type: 'webauthn.create' | 'webauthn.get',
  rp: RelyingParty
): { challenge: string; bytes: Uint8Array } => {
  const bytes = decodeBase64Url(encoded)
  let data: Partial<Record<'type' | 'origin' | 'challenge' | 'crossOrigin', unknown>> | undefined
  try {
    data = JSON.parse(utf8Decoder.decode(bytes)) as typeof data
  } catch {
    return refuse()
  }
  if (
    data?.type !== type ||
    !rp.origins.includes(data.origin as string) ||
    data.crossOrigin === true ||
    typeof data.challenge !== 'string'
  ) {
    refuse()
  }
  return { challenge: data.challenge, bytes }
}

/**
 * The authenticator data: signed for our RP id, with the user present (UP) always; the attested
 * credential (AT) and extensions (ED) as flagged, and nothing after them.
 */
export const readAuthenticatorData = async (
  bytes: Uint8Array,
  rp: RelyingParty
): Promise<AuthenticatorData> => {
  if (bytes.length < 37) refuse()
  const flags = bytes[32]
  if (!constantTimeEqual(bytes.subarray(0, 32), await sha256(utf8.encode(rp.id)))) refuse()
  if (!(flags & FLAG_UP)) refuse()
  const data: AuthenticatorData = {
    verified: (flags & FLAG_UV) !== 0,
    synced: (flags & FLAG_BE) !== 0,
    counter: new DataView(bytes.buffer, bytes.byteOffset + 33, 4).getUint32(0),
  }
  let at = 37
  const nextMap = (): CborMap => {
    const item = decodeCbor(bytes, at)
    at = item.end
    return item.value instanceof Map ? item.value : refuse()
  }
  if (flags & FLAG_AT) {
    // The AAGUID (16 bytes), the id's length (2 bytes), the id (at most 1023 bytes), the key.
    const length = (bytes[at + 16] << 8) | bytes[at + 17]
    at += 18
    if (length < 16 || length > 1023 || bytes.length < at + length) refuse()
    data.credentialId = bytes.slice(at, at + length)
    at += length
    data.publicKey = nextMap()
  }
  if (flags & FLAG_ED) nextMap()
  if (at !== bytes.length) refuse()
  return data
}

/** The attestation object of a registration: format "none" only, its authenticator data. */
export const readAttestationObject = (encoded: string): Uint8Array => {
  const bytes = decodeBase64Url(encoded)
  const { value, end } = decodeCbor(bytes)
  if (!(value instanceof Map) || end !== bytes.length) return refuse()
  const [statement, authData] = [value.get('attStmt'), value.get('authData')]
  if (
    value.get('fmt') !== 'none' ||
    !(statement instanceof Map) ||
    statement.size !== 0 ||
    !(authData instanceof Uint8Array)
  ) {
    return refuse()
  }
  return authData
}

export interface PublicJwk {
  kty: string
  crv?: string
  x?: string
  y?: string
  n?: string
  e?: string
}

const bytesOf = (key: CborMap, label: number, min: number, max = min): string => {
  const value = key.get(label)
  return value instanceof Uint8Array && value.length >= min && value.length <= max
    ? toBase64Url(value)
    : refuse()
}

/**
 * A COSE key (RFC 9053) as a JWK Web Crypto imports: OKP Ed25519 for EdDSA, EC2 P-256 for ES256,
 * RSA of 2048 to 4096 bits for RS256 (a larger modulus would only cost us CPU on every sign-in).
 */
export const coseToJwk = (key: CborMap): { algorithm: CoseAlgorithm; jwk: PublicJwk } => {
  const algorithm = key.get(3)
  const [kty, crv] = [key.get(1), key.get(-1)]
  if (algorithm === -8 && kty === 1 && crv === 6) {
    return { algorithm, jwk: { kty: 'OKP', crv: 'Ed25519', x: bytesOf(key, -2, 32) } }
  }
  if (algorithm === -7 && kty === 2 && crv === 1) {
    const jwk = { kty: 'EC', crv: 'P-256', x: bytesOf(key, -2, 32), y: bytesOf(key, -3, 32) }
    return { algorithm, jwk }
  }
  if (algorithm === -257 && kty === 3) {
    const jwk = { kty: 'RSA', n: bytesOf(key, -1, 256, 512), e: bytesOf(key, -2, 1, 4) }
    return { algorithm, jwk }
  }
  return refuse()
}

/** One parameter set per algorithm serves importKey and verify (each ignores what it does not use). */
const PARAMS: Record<CoseAlgorithm, SubtleCryptoImportKeyAlgorithm & SubtleCryptoSignAlgorithm> = {
  [-8]: { name: 'Ed25519' },
  [-7]: { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' },
  [-257]: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
}

/** Imports a key; one Web Crypto refuses (a point off the curve) is not a passkey's. */
export const importPublicKey = (algorithm: CoseAlgorithm, jwk: PublicJwk): Promise<CryptoKey> =>
  crypto.subtle.importKey('jwk', jwk, PARAMS[algorithm], false, ['verify']).catch(refuse)

/**
 * WebAuthn's ECDSA signatures are DER (a SEQUENCE of two INTEGERs); Web Crypto wants r and s as
 * two 32-byte halves. Short-form lengths only: a P-256 signature is at most 72 bytes.
 */
export const derToRawSignature = (der: Uint8Array): Uint8Array => {
  if (der.length > 72 || der[0] !== 0x30 || der[1] !== der.length - 2) refuse()
  const raw = new Uint8Array(64)
  let at = 2
  for (const half of [0, 32]) {
    const length = der[at + 1]
    // A 33rd byte is only a zero that keeps the high bit from reading as a sign.
    const skip = length === 33 && der[at + 2] === 0 ? 1 : 0
    if (der[at] !== 0x02 || !(length >= 1 && length - skip <= 32) || at + 2 + length > der.length) {
      refuse()
    }
    raw.set(der.subarray(at + 2 + skip, at + 2 + length), half + 32 - length + skip)
    at += 2 + length
  }
  if (at !== der.length) refuse()
  return raw
}

/** The assertion's signature, over the authenticator data and the client data's hash. */
export const verifyAssertion = async (
  algorithm: CoseAlgorithm,
  jwk: PublicJwk,
  signature: Uint8Array,
  authData: Uint8Array,
  clientData: Uint8Array
): Promise<void> => {
  const key = await importPublicKey(algorithm, jwk)
  const signed = new Uint8Array(authData.length + 32)
  signed.set(authData)
  signed.set(await sha256(clientData), authData.length)
  const raw = algorithm === -7 ? derToRawSignature(signature) : signature
  const valid = await crypto.subtle.verify(PARAMS[algorithm], key, raw, signed).catch(() => false)
  if (!valid) refuse()
}
