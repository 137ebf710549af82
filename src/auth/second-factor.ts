/**
 * Second factors and step-up, the same for every method: the mfa_token between two factors,
 * POST /auth/mfa/verify and POST /auth/reauthenticate. A method (TOTP, passkeys) only checks its
 * own answers (SecondFactorMethod); counting wrong ones, single use and sessions are decided here.
 */
import { nowSeconds } from '../clock'
import type { PublicUser } from '../ports'
import { requirePassword } from './accounts'
import type { Core } from './core'
import { randomBytes, shardTag, tokenHash, toBase64Url } from './encoding'
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
const MFA_TOKEN_PATTERN = /^(\d+~)?[\w-]{43}$/

/** The one gate of all second factors: an mfa_token when the account has any. */
export const secondFactorGate =
  (core: Core): SecondFactorGate =>
  async (signIn, user) => {
    const methods: string[] = []
    for (const method of core.hooks.secondFactors) methods.push(...(await method.enrolled(user)))
    if (methods.length === 0) return null
    const token = shardTag(user.id) + toBase64Url(randomBytes(32))
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

/** The live challenge of an mfa_token, consuming nothing (a method's options route reads it). */
export const peekMfaToken = async (core: Core, mfaToken: string) => {
  if (!MFA_TOKEN_PATTERN.test(mfaToken)) throw new InvalidMfaToken()
  const challenge = await core.ports.mfaChallenges.findLive(
    await tokenHash(mfaToken),
    nowSeconds(),
    MFA_TOKEN_MAX_FAILURES
  )
  if (!challenge) throw new InvalidMfaToken()
  return challenge
}

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
const checkAnswer = async (
  core: Core,
  attempt: SecondFactorAttempt,
  onWrong: () => Promise<void> = async () => {}
) => {
  const method = methodFor(core, attempt.method)
  const { reservation, lockout } = await core.ports.loginThrottle.reserve(
    attempt.user.email,
    nowSeconds()
  )
  if (lockout) throw new LoginThrottled(lockout.retryAfter)
  try {
    return { amr: await method.verify(attempt), reservation }
  } catch (error) {
    if (error instanceof WrongSecondFactor) {
      error.userId = attempt.user.id
      await onWrong()
    }
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
  const challenge = await peekMfaToken(core, mfaToken)
  const user = await core.ports.users.findById(challenge.user_id)
  if (!user) throw new InvalidMfaToken()
  const { amr, reservation } = await checkAnswer(
    core,
    { ...answer, user, purpose: 'sign_in', challengeId: challenge.id },
    () => core.ports.mfaChallenges.countFailure(challenge.id)
  )
  const now = nowSeconds()
  if (!(await core.ports.mfaChallenges.consume(challenge.id, now, MFA_TOKEN_MAX_FAILURES))) {
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
