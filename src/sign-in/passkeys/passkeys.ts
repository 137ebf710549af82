/**
 * Passkeys as the domain sees them: registration (options, then the new credential), the list,
 * removal, and assertions for a passwordless sign-in. Checks that need no storage run first, so a
 * malformed credential costs no D1 call; then the challenge is redeemed (single use, D1) and the
 * signature checked. A sign-in attempt holds a place in the account's login throttle like a
 * password does, given back only when the passkey proved itself.
 */
import { completeSignIn } from '../../auth/accounts'
import type { Core } from '../../auth/core'
import { randomBytes, sha256Base64Url, toBase64Url, utf8 } from '../../auth/encoding'
import { LoginThrottled } from '../../auth/errors'
import { startSession } from '../../auth/sessions'
import type { SignInMeta, SignInOutcome, VerifiedSignIn } from '../../auth/sign-in'
import { isoNow, nowSeconds } from '../../clock'
import { UniqueViolation } from '../../ports'
import type { PublicUser, Reservation, UserRow } from '../../ports'
import { d1PasskeyStore } from './adapters/d1-passkeys'
import { PasskeysOff } from './errors'
import { relyingPartyOf } from './options'
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
  refuse,
  verifyAssertion,
} from './webauthn'
import type { CoseAlgorithm, RelyingParty } from './webauthn'

/** A challenge lives 5 minutes; the browser's own timeout says the same. */
export const CHALLENGE_LIFETIME = 300

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

/** A passkey's RFC 8176 values: synced keys are software keys; "user" when UV was done. */
const amrOf = (data: { synced: boolean; verified: boolean }): string[] =>
  data.verified ? [data.synced ? 'swk' : 'hwk', 'user'] : [data.synced ? 'swk' : 'hwk']

/** What an assertion proved: whose passkey, how, and the throttle place it holds. */
export interface CheckedAssertion {
  owner: UserRow
  amr: string[]
  verified: boolean
  reservation: Reservation | null
}

export const passkeyService = (core: Core, options: PasskeyOptions | undefined) => {
  const store = d1PasskeyStore(core.ports.d1)
  let rp: RelyingParty | null | undefined
  /** Read on first use: a deployment without passkeys configured serves the rest as before. */
  const relyingParty = (): RelyingParty => {
    rp ??= relyingPartyOf(options)
    if (!rp) throw new PasskeysOff()
    return rp
  }

  const issueChallenge = async (purpose: ChallengePurpose, subject: string): Promise<string> => {
    relyingParty()
    const challenge = toBase64Url(randomBytes(32))
    const now = nowSeconds()
    await store.issueChallenge({
      hash: await sha256Base64Url(challenge),
      purpose,
      subject,
      expiresAt: now + CHALLENGE_LIFETIME,
      now,
    })
    return challenge
  }

  /** Single use, for this purpose and subject only; anything but our 256-bit challenge is refused. */
  const redeemChallenge = async (challenge: string, purpose: ChallengePurpose, subject: string) => {
    if (!/^[\w-]{43}$/.test(challenge)) refuse()
    const hash = await sha256Base64Url(challenge)
    return store.redeemChallenge(hash, purpose, subject, nowSeconds())
  }

  const requestOptions = (challenge: string, allow: PasskeyRow[] = []) => ({
    challenge,
    rpId: relyingParty().id,
    timeout: CHALLENGE_LIFETIME * 1000,
    userVerification: 'preferred' as const,
    allowCredentials: allow.map((passkey) => ({
      type: 'public-key' as const,
      id: passkey.credential_id,
    })),
  })

  /**
   * Checks an assertion against a challenge of `purpose` and `subject`. With `userId`, the passkey
   * must be that user's (a second factor, a re-authentication); `throttle` reserves a place in the
   * owner's login count before the signature is checked.
   */
  const checkAssertion = async (
    credential: CredentialJSON,
    purpose: ChallengePurpose,
    subject: string,
    expect: { userId?: string; throttle: boolean }
  ): Promise<CheckedAssertion> => {
    const rp = relyingParty()
    const { response } = credential
    const clientData = readClientData(response.clientDataJSON, 'webauthn.get', rp)
    const authData = decodeBase64Url(response.authenticatorData ?? '')
    const data = await readAuthenticatorData(authData, rp)
    if (data.credentialId) refuse()
    const signature = decodeBase64Url(response.signature ?? '')
    const [redeemed, found] = await Promise.all([
      redeemChallenge(clientData.challenge, purpose, subject),
      store.findByCredentialId(credential.id),
    ])
    if (!redeemed) refuse()
    if (!found || (expect.userId !== undefined && found.owner.id !== expect.userId)) {
      refuse()
    }
    const { passkey, owner } = found!
    if (response.userHandle && response.userHandle !== userHandleOf(owner.id)) {
      refuse()
    }
    let reservation: Reservation | null = null
    if (expect.throttle) {
      const attempt = await core.ports.loginThrottle.reserve(owner.email, nowSeconds())
      if (attempt.lockout) throw new LoginThrottled(attempt.lockout.retryAfter)
      reservation = attempt.reservation
    }
    await verifyAssertion(
      passkey.algorithm as CoseAlgorithm,
      JSON.parse(passkey.public_key),
      signature,
      authData,
      clientData.bytes
    )
    // The counter rule, decided in D1: a clone replaying an old count loses, as does a deleted key.
    if (!(await store.recordUse(passkey.id, data.counter, isoNow()))) refuse()
    return { owner, amr: amrOf(data), verified: data.verified, reservation }
  }

  return {
    store,
    checkAssertion,
    issueChallenge,
    requestOptions,

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
        timeout: CHALLENGE_LIFETIME * 1000,
        excludeCredentials: existing.map((passkey) => ({
          type: 'public-key' as const,
          id: passkey.credential_id,
        })),
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
    register: async (userId: string, credential: CredentialJSON, name: string | undefined) => {
      const rp = relyingParty()
      const { response } = credential
      const clientData = readClientData(response.clientDataJSON, 'webauthn.create', rp)
      const data = await readAuthenticatorData(
        readAttestationObject(response.attestationObject ?? ''),
        rp
      )
      if (!data.credentialId || !data.publicKey) return refuse()
      const credentialId = toBase64Url(data.credentialId)
      if (credentialId !== credential.id) refuse()
      const { algorithm, jwk } = coseToJwk(data.publicKey)
      await importPublicKey(algorithm, jwk)
      if (!(await redeemChallenge(clientData.challenge, 'registration', userId))) {
        refuse()
      }
      const passkey: PasskeyRow = {
        id: crypto.randomUUID(),
        user_id: userId,
        credential_id: credentialId,
        public_key: JSON.stringify(jwk),
        algorithm,
        sign_count: data.counter,
        name: name || 'Passkey',
        created_at: isoNow(),
        last_used_at: null,
      }
      try {
        await store.insert(passkey)
      } catch (error) {
        if (error instanceof UniqueViolation) refuse()
        throw error
      }
      return passkey
    },

    /**
     * A passwordless sign-in. With user verification it is complete; without, it is a first
     * factor and a second one may be asked for, as after a password.
     */
    login: async (credential: CredentialJSON, meta: SignInMeta): Promise<SignInOutcome> => {
      core.options.signer.check()
      const checked = await checkAssertion(credential, 'login', '', { throttle: true })
      const signIn: VerifiedSignIn = {
        userId: checked.owner.id,
        amr: checked.amr,
        authTime: nowSeconds(),
        credentialVersion: checked.owner.credential_version,
        reservation: checked.reservation,
      }
      if (!checked.verified) return completeSignIn(core, signIn, checked.owner, meta)
      return {
        kind: 'session',
        user: checked.owner,
        tokens: await startSession(core, signIn, meta),
      }
    },
  }
}

export type PasskeyService = ReturnType<typeof passkeyService>
