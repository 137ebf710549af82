/**
 * A software authenticator: real key pairs (ES256, EdDSA, RS256), real CBOR, real signatures and a
 * counter the test controls, answering the worker's options the way a browser's
 * `PublicKeyCredential.toJSON()` does. Every field can be bent, so that each attack is built from
 * bytes the test made rather than described to the code under test.
 */
import { base64UrlEncode } from './tokens'

export type PasskeyAlgorithm = 'ES256' | 'EdDSA' | 'RS256'

/** The relying party the passkey tests configure (the test requests' host). */
export const RP_ID = 'auth.example.test'
export const ORIGIN = `https://${RP_ID}`

const encoder = new TextEncoder()

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

export const base64UrlToBytes = (text: string): Uint8Array =>
  Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (char) => char.charCodeAt(0))

// CBOR (RFC 8949), definite lengths, as authenticators write it.
export type CborInput = number | string | Uint8Array | CborInput[] | Map<number | string, CborInput>

const cborHead = (major: number, value: number): Uint8Array => {
  const type = major << 5
  if (value < 24) return Uint8Array.of(type | value)
  if (value < 0x100) return Uint8Array.of(type | 24, value)
  if (value < 0x10000) return Uint8Array.of(type | 25, value >> 8, value & 0xff)
  return Uint8Array.of(
    type | 26,
    value >>> 24,
    (value >> 16) & 0xff,
    (value >> 8) & 0xff,
    value & 0xff
  )
}

export const encodeCbor = (value: CborInput): Uint8Array => {
  if (typeof value === 'number') return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value)
  if (typeof value === 'string') {
    const bytes = encoder.encode(value)
    return concat(cborHead(3, bytes.length), bytes)
  }
  if (value instanceof Uint8Array) return concat(cborHead(2, value.length), value)
  if (Array.isArray(value)) return concat(cborHead(4, value.length), ...value.map(encodeCbor))
  const entries = [...value.entries()].flatMap(([key, item]) => [encodeCbor(key), encodeCbor(item)])
  return concat(cborHead(5, value.size), ...entries)
}

const sha256 = async (bytes: Uint8Array): Promise<Uint8Array> =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))

const PARAMS = {
  ES256: {
    generate: { name: 'ECDSA', namedCurve: 'P-256' },
    sign: { name: 'ECDSA', hash: 'SHA-256' },
  },
  EdDSA: { generate: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
  RS256: {
    generate: {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: Uint8Array.of(1, 0, 1),
      hash: 'SHA-256',
    },
    sign: { name: 'RSASSA-PKCS1-v1_5' },
  },
} as const

const generateKeyPair = async (algorithm: PasskeyAlgorithm): Promise<CryptoKeyPair> =>
  (await crypto.subtle.generateKey(PARAMS[algorithm].generate, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair

/** The public key as a COSE_Key (RFC 9053), the way it travels in the attested credential data. */
export const coseKeyOf = async (
  algorithm: PasskeyAlgorithm,
  publicKey: CryptoKey
): Promise<Map<number, CborInput>> => {
  const jwk = (await crypto.subtle.exportKey('jwk', publicKey)) as JsonWebKey
  const b = (text: string | undefined) => base64UrlToBytes(text ?? '')
  if (algorithm === 'ES256') {
    return new Map<number, CborInput>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, b(jwk.x)],
      [-3, b(jwk.y)],
    ])
  }
  if (algorithm === 'EdDSA') {
    return new Map<number, CborInput>([
      [1, 1],
      [3, -8],
      [-1, 6],
      [-2, b(jwk.x)],
    ])
  }
  return new Map<number, CborInput>([
    [1, 3],
    [3, -257],
    [-1, b(jwk.n)],
    [-2, b(jwk.e)],
  ])
}

/** An ECDSA signature as WebAuthn carries it: DER, each half a minimal positive INTEGER. */
export const rawToDer = (raw: Uint8Array): Uint8Array => {
  const integer = (half: Uint8Array) => {
    let start = 0
    while (start < half.length - 1 && half[start] === 0) start++
    const body =
      half[start] & 0x80 ? concat(Uint8Array.of(0), half.slice(start)) : half.slice(start)
    return concat(Uint8Array.of(0x02, body.length), body)
  }
  const body = concat(integer(raw.slice(0, 32)), integer(raw.slice(32)))
  return concat(Uint8Array.of(0x30, body.length), body)
}

export const FLAGS = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40, ED: 0x80 } as const

/** Everything a test may bend in one ceremony. */
export interface Tampering {
  type?: string
  origin?: string
  challenge?: string
  crossOrigin?: boolean
  /** The RP id whose hash goes into the authenticator data. */
  rpId?: string
  /** User presence (default true). */
  up?: boolean
  /** User verification (default true). */
  uv?: boolean
  /** The counter to report (default: the authenticator's, incremented first if counting). */
  counter?: number
  /** Signs with this key instead of the credential's. */
  signWith?: CryptoKey
  /** Replaces the credential id the JSON names. */
  id?: string
  /** Replaces the user handle (null: leaves it out). */
  userHandle?: string | null
  /** The attestation format (default "none") and statement. */
  fmt?: string
  attStmt?: Map<number | string, CborInput>
  /** Replaces the COSE key in the attested credential data. */
  coseKey?: Map<number, CborInput>
  /** Appends bytes after the authenticator data's last item. */
  trailing?: Uint8Array
}

export interface CreationOptionsJSON {
  challenge: string
  rp: { id: string; name: string }
  user: { id: string; name: string; displayName: string }
  pubKeyCredParams: { type: string; alg: number }[]
  excludeCredentials: { type: string; id: string }[]
  authenticatorSelection: Record<string, unknown>
  timeout: number
  attestation: string
}

export interface RequestOptionsJSON {
  challenge: string
  rpId: string
  timeout: number
  userVerification: string
  allowCredentials: { type: string; id: string }[]
}

export interface RegistrationJSON {
  id: string
  rawId: string
  type: 'public-key'
  response: { clientDataJSON: string; attestationObject: string; transports: string[] }
  clientExtensionResults: Record<string, never>
  authenticatorAttachment: string
}

export interface AssertionJSON {
  id: string
  rawId: string
  type: 'public-key'
  response: {
    clientDataJSON: string
    authenticatorData: string
    signature: string
    userHandle?: string
  }
  clientExtensionResults: Record<string, never>
  authenticatorAttachment: string
}

export interface SoftwareAuthenticator {
  algorithm: PasskeyAlgorithm
  credentialId: string
  keys: CryptoKeyPair
  /** The signature counter; `counting: false` makes an authenticator that keeps none (always 0). */
  counter: number
  /** Backup eligible: a synced passkey (amr "swk" rather than "hwk"). */
  synced: boolean
  /** The user handle it stored at registration. */
  userHandle: string | null
  create(options: CreationOptionsJSON, tampering?: Tampering): Promise<RegistrationJSON>
  get(options: RequestOptionsJSON, tampering?: Tampering): Promise<AssertionJSON>
}

const clientDataOf = (type: string, challenge: string, tampering: Tampering): Uint8Array =>
  encoder.encode(
    JSON.stringify({
      type: tampering.type ?? type,
      challenge: tampering.challenge ?? challenge,
      origin: tampering.origin ?? ORIGIN,
      crossOrigin: tampering.crossOrigin ?? false,
    })
  )

const authenticatorDataOf = async (
  rpId: string,
  flags: number,
  counter: number,
  attested: Uint8Array = new Uint8Array()
): Promise<Uint8Array> => {
  const count = Uint8Array.of(
    counter >>> 24,
    (counter >> 16) & 0xff,
    (counter >> 8) & 0xff,
    counter & 0xff
  )
  return concat(await sha256(encoder.encode(rpId)), Uint8Array.of(flags), count, attested)
}

const flagsOf = (tampering: Tampering, synced: boolean, extra = 0): number =>
  (tampering.up === false ? 0 : FLAGS.UP) |
  (tampering.uv === false ? 0 : FLAGS.UV) |
  (synced ? FLAGS.BE | FLAGS.BS : 0) |
  extra

export const createAuthenticator = async (
  options: { algorithm?: PasskeyAlgorithm; counting?: boolean; synced?: boolean } = {}
): Promise<SoftwareAuthenticator> => {
  const algorithm = options.algorithm ?? 'ES256'
  const counting = options.counting ?? true
  const keys = await generateKeyPair(algorithm)
  const idBytes = crypto.getRandomValues(new Uint8Array(32))

  /** Signs as the key's own algorithm: a foreign key of another type signs its own way. */
  const sign = async (key: CryptoKey, data: Uint8Array): Promise<Uint8Array> => {
    const name = key.algorithm.name
    const params =
      name === 'ECDSA'
        ? PARAMS.ES256.sign
        : name === 'Ed25519'
          ? PARAMS.EdDSA.sign
          : PARAMS.RS256.sign
    const signature = new Uint8Array(await crypto.subtle.sign(params, key, data))
    return name === 'ECDSA' ? rawToDer(signature) : signature
  }

  const authenticator: SoftwareAuthenticator = {
    algorithm,
    credentialId: base64UrlEncode(idBytes),
    keys,
    counter: 0,
    synced: options.synced ?? false,
    userHandle: null,

    async create(creation, tampering = {}) {
      const clientData = clientDataOf('webauthn.create', creation.challenge, tampering)
      const coseKey = tampering.coseKey ?? (await coseKeyOf(algorithm, keys.publicKey))
      const attested = concat(
        new Uint8Array(16),
        Uint8Array.of(idBytes.length >> 8, idBytes.length & 0xff),
        idBytes,
        encodeCbor(coseKey),
        tampering.trailing ?? new Uint8Array()
      )
      const authData = await authenticatorDataOf(
        tampering.rpId ?? creation.rp.id,
        flagsOf(tampering, authenticator.synced, FLAGS.AT),
        tampering.counter ?? authenticator.counter,
        attested
      )
      const attestationObject = encodeCbor(
        new Map<string, CborInput>([
          ['fmt', tampering.fmt ?? 'none'],
          ['attStmt', tampering.attStmt ?? new Map()],
          ['authData', authData],
        ])
      )
      authenticator.userHandle = creation.user.id
      const id = tampering.id ?? authenticator.credentialId
      return {
        id,
        rawId: id,
        type: 'public-key',
        response: {
          clientDataJSON: base64UrlEncode(clientData),
          attestationObject: base64UrlEncode(attestationObject),
          transports: ['internal'],
        },
        clientExtensionResults: {},
        authenticatorAttachment: 'platform',
      }
    },

    async get(request, tampering = {}) {
      if (counting && tampering.counter === undefined) authenticator.counter++
      const clientData = clientDataOf('webauthn.get', request.challenge, tampering)
      const authData = concat(
        await authenticatorDataOf(
          tampering.rpId ?? request.rpId,
          flagsOf(tampering, authenticator.synced),
          tampering.counter ?? (counting ? authenticator.counter : 0)
        ),
        tampering.trailing ?? new Uint8Array()
      )
      const signed = concat(authData, await sha256(clientData))
      const signature = await sign(tampering.signWith ?? keys.privateKey, signed)
      const id = tampering.id ?? authenticator.credentialId
      const userHandle =
        tampering.userHandle === undefined ? authenticator.userHandle : tampering.userHandle
      return {
        id,
        rawId: id,
        type: 'public-key',
        response: {
          clientDataJSON: base64UrlEncode(clientData),
          authenticatorData: base64UrlEncode(authData),
          signature: base64UrlEncode(signature),
          ...(userHandle === null ? {} : { userHandle }),
        },
        clientExtensionResults: {},
        authenticatorAttachment: 'platform',
      }
    },
  }
  return authenticator
}
