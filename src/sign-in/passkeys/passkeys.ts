/**
 * Passkeys as the domain sees them: registration (options, then the new credential) and
 * assertions for a sign-in. Checks that need no storage run first, so a malformed credential
 * costs no D1 call; then the challenge is redeemed (single use, in D1) and the signature checked.
 * A sign-in holds a place in the account's login throttle like a password does, given back only
 * when the passkey proved itself.
 */
import { completeSignIn } from '../../auth/accounts'
import type { Core } from '../../auth/core'
import {
  isOpaqueToken,
  newOpaqueToken,
  sha256Base64Url,
  toBase64Url,
  utf8,
  shardTag,
  utf8Decoder,
} from '../../auth/encoding'
import { LoginThrottled } from '../../auth/errors'
import { startSession } from '../../auth/sessions'
import type { SignInMeta, SignInOutcome } from '../../auth/sign-in'
import { isoNow, nowSeconds } from '../../clock'
import { ApiError } from '../../http/errors'
import { UniqueViolation } from '../../ports'
import type { PublicUser, Reservation, UserRow } from '../../ports'
import { d1PasskeyStore } from './adapters/d1-passkeys'
import { refuse } from './errors'
import type { PasskeyOptions } from './options'
import type { ChallengePurpose, PasskeyRow } from './store'
import {
  ALGORITHMS,
  coseToJwk,
  decodeBase64Url,
  importPublicKey,
  readAttestationObject,
  readAuthenticatorData,
  readClientData,
  verifyAssertion,
} from './webauthn'
import type { CoseAlgorithm, PublicJwk } from './webauthn'

/** A challenge lives 5 minutes (ms for the browser's timeout). */
const CHALLENGE_LIFETIME = 300
const TIMEOUT = CHALLENGE_LIFETIME * 1000

/** The fields of `PublicKeyCredential.toJSON()` that the checks read (validated by the route). */
export interface CredentialJSON {
  id: string
  response: {
    clientDataJSON: string
    attestationObject?: string
    authenticatorData?: string
    signature?: string
    userHandle?: string
  }
}

/** The WebAuthn user handle: the user id's bytes, opaque and free of personal data. */
const userHandleOf = (userId: string): string => toBase64Url(utf8.encode(userId))

const descriptors = (passkeys: PasskeyRow[]) =>
  passkeys.map((passkey) => ({ type: 'public-key' as const, id: passkey.credential_id }))

/** What an assertion proved: whose passkey, how (RFC 8176 values), and the throttle place held. */
export interface CheckedAssertion {
  owner: UserRow
  amr: string[]
  verified: boolean
  reservation: Reservation | null
}

export const passkeyService = (core: Core, options: PasskeyOptions | undefined) => {
  const store = d1PasskeyStore(core.ports.d1)
  const id = options?.rpId
  const rp = id ? { id, origins: options.origins ?? [`https://${id}`] } : null
  /** Without a relying party (no WEBAUTHN_RP_ID, no APP_URL) passkeys are off: their routes 404. */
  const relyingParty = () => {
    if (!rp) throw new ApiError('not_found')
    return rp
  }

  const issueChallenge = async (purpose: ChallengePurpose, subject: string): Promise<string> => {
    relyingParty()
    const challenge = newOpaqueToken()
    const now = nowSeconds()
    const hash = await sha256Base64Url(challenge)
    await store.issueChallenge({ hash, purpose, subject, expiresAt: now + CHALLENGE_LIFETIME, now })
    return challenge
  }

  /** Single use, for this purpose and subject only; anything but a 256-bit challenge is not ours. */
  const redeemChallenge = async (challenge: string, purpose: ChallengePurpose, subject: string) =>
    isOpaqueToken(challenge) &&
    store.redeemChallenge(await sha256Base64Url(challenge), purpose, subject, nowSeconds())

  /**
   * Checks an assertion answering a challenge of `purpose` and `subject`. With `userId` the passkey
   * must be that user's (a second factor, a re-authentication); with `throttle` the attempt takes
   * a place in the owner's login count before the signature is checked; with `verified` it must
   * carry user verification.
   */
  const checkAssertion = async (
    credential: CredentialJSON,
    purpose: ChallengePurpose,
    subject: string,
    expected: { userId?: string; throttle?: boolean; verified?: boolean } = {}
  ): Promise<CheckedAssertion> => {
    const { response } = credential
    const clientData = readClientData(response.clientDataJSON, 'webauthn.get', relyingParty())
    const authData = decodeBase64Url(response.authenticatorData ?? '')
    const data = await readAuthenticatorData(authData, relyingParty())
    const signature = decodeBase64Url(response.signature ?? '')
    if (data.credentialId || (expected.verified && !data.verified)) refuse()
    const [redeemed, found] = await Promise.all([
      redeemChallenge(clientData.challenge, purpose, subject),
      // The owner the caller or the handle names (WebAuthn §7.2 step 6): its shard is the one read.
      store.findByCredentialId(
        credential.id,
        expected.userId ??
          (response.userHandle ? utf8Decoder.decode(decodeBase64Url(response.userHandle)) : null)
      ),
    ])
    const owner = found?.owner
    if (
      !redeemed ||
      !found ||
      !owner ||
      (expected.userId !== undefined && owner.id !== expected.userId)
    ) {
      return refuse()
    }
    let reservation: Reservation | null = null
    if (expected.throttle) {
      const attempt = await core.ports.loginThrottle.reserve(owner.email, nowSeconds())
      if (attempt.lockout) throw new LoginThrottled(attempt.lockout.retryAfter)
      reservation = attempt.reservation
    }
    const { passkey } = found
    const jwk = JSON.parse(passkey.public_key) as PublicJwk
    const algorithm = passkey.algorithm as CoseAlgorithm
    await verifyAssertion(algorithm, jwk, signature, authData, clientData.bytes)
    // The counter rule, decided in D1: a clone replaying an old count loses, as does a removed key.
    if (!(await store.recordUse(passkey.id, data.counter, isoNow()))) refuse()
    // A synced (backup-eligible) passkey is a software key; "user" when UV was done.
    const key = data.synced ? 'swk' : 'hwk'
    const amr = data.verified ? [key, 'user'] : [key]
    return { owner, amr, verified: data.verified, reservation }
  }

  return {
    store,
    checkAssertion,
    issueChallenge,

    requestOptions: (challenge: string, allow: PasskeyRow[] = []) => ({
      challenge,
      rpId: relyingParty().id,
      timeout: TIMEOUT,
      userVerification: 'preferred' as const,
      allowCredentials: descriptors(allow),
    }),

    registrationOptions: async (user: PublicUser) => {
      const [challenge, existing] = await Promise.all([
        issueChallenge('registration', user.id),
        store.listByUser(user.id),
      ])
      return {
        challenge,
        rp: { id: relyingParty().id, name: core.options.issuer },
        user: {
          id: userHandleOf(user.id),
          name: user.email,
          displayName: user.nickname ?? user.email,
        },
        pubKeyCredParams: ALGORITHMS.map((alg) => ({ type: 'public-key' as const, alg })),
        timeout: TIMEOUT,
        excludeCredentials: descriptors(existing),
        // Discoverable credentials, so that a sign-in needs no email first.
        authenticatorSelection: {
          residentKey: 'required' as const,
          requireResidentKey: true,
          userVerification: 'preferred' as const,
        },
        attestation: 'none' as const,
      }
    },

    /** Verifies a new credential answering this user's registration challenge, and stores it. */
    register: async (userId: string, credential: CredentialJSON, name?: string) => {
      const { response } = credential
      const clientData = readClientData(response.clientDataJSON, 'webauthn.create', relyingParty())
      const authData = readAttestationObject(response.attestationObject ?? '')
      const data = await readAuthenticatorData(authData, relyingParty())
      const credentialId = toBase64Url(data.credentialId ?? new Uint8Array())
      if (!data.publicKey || credentialId !== credential.id) return refuse()
      const { algorithm, jwk } = coseToJwk(data.publicKey)
      await importPublicKey(algorithm, jwk)
      if (!(await redeemChallenge(clientData.challenge, 'registration', userId))) refuse()
      const passkey: PasskeyRow = {
        // On the owner's shard, as its id says: recordUse finds it by this id alone.
        id: shardTag(userId) + crypto.randomUUID(),
        user_id: userId,
        credential_id: credentialId,
        public_key: JSON.stringify(jwk),
        algorithm,
        sign_count: data.counter,
        name: name || 'Passkey',
        created_at: isoNow(),
        last_used_at: null,
      }
      // The UNIQUE index decides: a credential id belongs to one account, whoever asks.
      await store.insert(passkey).catch((error: unknown) => {
        if (error instanceof UniqueViolation) refuse()
        throw error
      })
      return passkey
    },

    /**
     * A passwordless sign-in. With user verification it is complete; without, it is a first
     * factor and a second one may be asked for, as after a password.
     */
    login: async (credential: CredentialJSON, meta: SignInMeta): Promise<SignInOutcome> => {
      core.options.signer.check()
      const { owner, amr, verified, reservation } = await checkAssertion(credential, 'login', '', {
        throttle: true,
      })
      const signIn = {
        userId: owner.id,
        amr,
        authTime: nowSeconds(),
        credentialVersion: owner.credential_version,
        reservation,
      }
      if (!verified) return completeSignIn(core, signIn, owner, meta)
      return { kind: 'session', user: owner, tokens: await startSession(core, signIn, meta) }
    },
  }
}

export type PasskeyService = ReturnType<typeof passkeyService>
