/**
 * Second factors and step-up, the same for every method: the mfa_token between two factors,
 * POST /auth/mfa/verify and POST /auth/reauthenticate. A method (TOTP, passkeys) only checks its
 * own answers (SecondFactorMethod); counting wrong ones, single use and sessions are decided here.
 */
import { nowSeconds } from '../clock'
import type { PublicUser } from '../ports'
import { requirePassword } from './accounts'
import type { Core } from './core'
import { isOpaqueToken, newOpaqueToken, shardTag, tokenHash } from './encoding'
import { InvalidCredentials, InvalidMfaToken, LoginThrottled, WrongSecondFactor } from './errors'
import { reproveSession, startSession } from './sessions'
import type {
  AuthMethodReference,
  SecondFactorAttempt,
  SecondFactorGate,
  SecondFactorMethod,
  SignInMeta,
} from './sign-in'

export const MFA_TOKEN_TTL_SECONDS = 300
/** An mfa_token dies at its fifth wrong answer. */
export const MFA_TOKEN_MAX_FAILURES = 5

/** The second factors this account has, in registration order; [] when none. */
const enrolledMethods = async (core: Core, user: PublicUser) => {
  const methods: string[] = []
  for (const method of core.hooks.secondFactors) methods.push(...(await method.enrolled(user)))
  return methods
}

/** RFC 8176 values only a second factor gives: a one-time or recovery code, a passkey. */
const SECOND_FACTOR_AMR = ['otp', 'hwk', 'swk']

/**
 * Whether a sign-in may change how this account signs in: on an account with a second factor,
 * only one that used it. A password alone (a stolen one) must not reach the routes that would
 * let it replace the factor or get round it (new recovery codes, a passkey of its own).
 */
export const provesSecondFactor = async (core: Core, user: PublicUser, amr: string[]) =>
  amr.some((value) => SECOND_FACTOR_AMR.includes(value)) ||
  (await enrolledMethods(core, user)).length === 0

/** The one gate of all second factors: an mfa_token when the account has any. */
export const secondFactorGate =
  (core: Core): SecondFactorGate =>
  async (signIn, user) => {
    const methods = await enrolledMethods(core, user)
    if (methods.length === 0) return null
    const token = newOpaqueToken(shardTag(user.id))
    const now = nowSeconds()
    await core.ports.mfaChallenges.insert({
      id: await tokenHash(token),
      user_id: user.id,
      amr: JSON.stringify(signIn.amr),
      credential_version: signIn.credentialVersion,
      created_at: now,
      expires_at: now + MFA_TOKEN_TTL_SECONDS,
    })
    return { mfa_token: token, methods, expires_in: MFA_TOKEN_TTL_SECONDS }
  }

/**
 * The live challenge of an mfa_token: only read (a method's options route), or with one of its
 * answers taken (/auth/mfa/verify, before the answer is checked).
 */
const liveChallenge = async (core: Core, mfaToken: string, takeAttempt: boolean) => {
  if (!isOpaqueToken(mfaToken)) throw new InvalidMfaToken()
  const { mfaChallenges } = core.ports
  const id = await tokenHash(mfaToken)
  const now = nowSeconds()
  const challenge = await (takeAttempt
    ? mfaChallenges.takeAttempt(id, now, MFA_TOKEN_MAX_FAILURES)
    : mfaChallenges.findLive(id, now, MFA_TOKEN_MAX_FAILURES))
  if (!challenge) throw new InvalidMfaToken()
  return challenge
}

export const peekMfaToken = (core: Core, mfaToken: string) => liveChallenge(core, mfaToken, false)

const methodFor = (core: Core, method: string): SecondFactorMethod => {
  const found = core.hooks.secondFactors.find((candidate) => candidate.methods.includes(method))
  // A method this deployment does not offer cannot have been answered right.
  if (!found) throw new WrongSecondFactor('invalid_mfa_code')
  return found
}

/**
 * Checks an answer on the account's login throttle: a place is taken before the method runs (a
 * full window is LoginThrottled, and nothing is checked), and a wrong answer keeps it.
 */
const checkAnswer = async (core: Core, attempt: SecondFactorAttempt) => {
  const method = methodFor(core, attempt.method)
  const { reservation, lockout } = await core.ports.loginThrottle.reserve(
    attempt.user.email,
    nowSeconds()
  )
  if (lockout) throw new LoginThrottled(lockout.retryAfter)
  try {
    return { amr: await method.verify(attempt), reservation }
  } catch (error) {
    if (error instanceof WrongSecondFactor) error.userId = attempt.user.id
    throw error
  }
}

/** A second factor's answer checked for a signed-in user: a right one gives its place back. */
export const proveSecondFactor = async (core: Core, attempt: SecondFactorAttempt) => {
  const { amr, reservation } = await checkAnswer(core, attempt)
  await core.ports.loginThrottle.release(reservation)
  return amr
}

export interface SecondFactorAnswer {
  method: string
  code?: string
  credential?: Record<string, unknown>
}

/** POST /auth/mfa/verify: the second factor of an mfa_token; the session starts. */
export const verifySecondFactor = async (
  core: Core,
  mfaToken: string,
  answer: SecondFactorAnswer,
  meta: SignInMeta
) => {
  core.options.signer.check()
  // A wrong answer keeps the attempt it took: the token dies at its fifth.
  const challenge = await liveChallenge(core, mfaToken, true)
  const user = await core.ports.users.findById(challenge.user_id)
  if (!user) throw new InvalidMfaToken()
  const { amr, reservation } = await checkAnswer(core, {
    ...answer,
    user,
    purpose: 'sign_in',
    challengeId: challenge.id,
  })
  const now = nowSeconds()
  if (!(await core.ports.mfaChallenges.consume(challenge.id, now))) {
    throw new InvalidMfaToken()
  }
  const firstFactor = JSON.parse(challenge.amr) as AuthMethodReference[]
  try {
    const tokens = await startSession(
      core,
      {
        userId: user.id,
        amr: [...firstFactor, ...amr],
        authTime: now,
        credentialVersion: challenge.credential_version,
        reservation,
      },
      meta
    )
    return { user, tokens }
  } catch (error) {
    // The password changed since the first factor: this sign-in is over, not retryable.
    if (error instanceof InvalidCredentials) throw new InvalidMfaToken()
    throw error
  }
}

/** POST /auth/reauthenticate: the user proves it again; the same session gets a new auth_time. */
export const reauthenticate = async (
  core: Core,
  subject: { user: PublicUser; sessionId: string },
  proof: { password?: string } & Partial<SecondFactorAnswer>
) => {
  core.options.signer.check()
  const { user } = subject
  let amr: AuthMethodReference[] = ['pwd']
  if (proof.password !== undefined) {
    await requirePassword(core, user.id, proof.password)
  } else {
    amr = await proveSecondFactor(core, {
      method: proof.method ?? '',
      code: proof.code,
      credential: proof.credential,
      user,
      purpose: 'reauthenticate',
    })
  }
  return reproveSession(core, subject.sessionId, amr)
}
