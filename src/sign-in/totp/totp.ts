/**
 * TOTP as a second factor: setting it up (pending until a first code confirms it), checking codes
 * and recovery codes, turning it off. A code's time step is accepted once per account, a
 * recovery code once, each by the store's conditional update, never in memory.
 */
import type { Core } from '../../auth/core'
import { constantTimeEqualText, randomBytes } from '../../auth/encoding'
import { Misconfigured, WrongSecondFactor } from '../../auth/errors'
import { proveSecondFactor } from '../../auth/second-factor'
import type { SecondFactorMethod } from '../../auth/sign-in'
import { nowSeconds } from '../../clock'
import { ApiError } from '../../http/errors'
import type { PublicUser } from '../../ports'
import { d1TotpStore } from './adapters/d1-totp-store'
import { SECRET_BYTES, importTotpKey, stepAt, toBase32, totpCode } from './rfc6238'
import { hashRecoveryCode, mfaKeys, newRecoveryCodes, openSecret, sealSecret } from './secrets'
import type { TotpCredentialRow } from './store'

export interface TotpOptions {
  /** MFA_SECRET: the key material of the secrets at rest (at least 32 bytes). */
  secret?: string
}

const SIX_DIGITS = /^\d{6}$/

export const hasTotp = (user: PublicUser): boolean => {
  try {
    return (JSON.parse(user.mfa ?? '{}') as { totp?: unknown }).totp === true
  } catch {
    return false
  }
}

// A feature's routes answer these directly: they are its own, not the domain's.
const alreadyOn = () => new ApiError('mfa_already_enabled')
const notOn = () => new ApiError('not_found', { message: 'TOTP is not on.' })

export const createTotp = (core: Core, options: TotpOptions) => {
  const store = d1TotpStore(core.ports.d1)
  const keys = () => mfaKeys(options.secret)

  const secretOf = async (row: TotpCredentialRow): Promise<Uint8Array> => {
    const secret = await openSecret(await keys(), row.user_id, row.secret_box)
    // Sealed under another MFA_SECRET: the deployment's key changed, not the user's code.
    if (!secret) throw new Misconfigured('a TOTP secret does not open with MFA_SECRET')
    return secret
  }

  /** The step within ±1 of now, later than `after`, whose code this is; null for none. */
  const stepOf = async (secret: Uint8Array, code: string, after: number) => {
    if (!SIX_DIGITS.test(code)) return null
    const key = await importTotpKey(secret)
    const current = stepAt(nowSeconds())
    let matched: number | null = null
    // All three are computed, so the time taken says nothing about which one matched.
    for (const step of [current - 1, current, current + 1]) {
      const expected = await totpCode(key, step)
      if (constantTimeEqualText(expected, code) && step > after) matched = step
    }
    return matched
  }

  const acceptCode = async (userId: string, code: string): Promise<boolean> => {
    const row = await store.find(userId)
    if (row?.confirmed_at == null) return false
    const step = await stepOf(await secretOf(row), code, row.last_step)
    return step !== null && (await store.acceptStep(userId, step))
  }

  const acceptRecoveryCode = async (userId: string, code: string): Promise<boolean> => {
    const hash = await hashRecoveryCode(await keys(), userId, code)
    return hash !== null && (await store.useRecoveryCode(userId, hash, nowSeconds()))
  }

  const recoveryCodeSet = async (userId: string) => {
    const codes = newRecoveryCodes()
    const k = await keys()
    const hashes = await Promise.all(codes.map((code) => hashRecoveryCode(k, userId, code)))
    return { codes, hashes: hashes.filter((hash) => hash !== null) }
  }

  const method: SecondFactorMethod = {
    methods: ['totp', 'recovery_code'],
    enrolled: (user) => (hasTotp(user) ? ['totp', 'recovery_code'] : []),
    async verify({ user, method: kind, code = '' }) {
      const accepted =
        kind === 'totp' ? await acceptCode(user.id, code) : await acceptRecoveryCode(user.id, code)
      if (!accepted) throw new WrongSecondFactor('invalid_mfa_code')
      return ['otp']
    },
  }

  return {
    method,
    store,

    /** A new pending secret, shown once (replacing a pending one); TOTP already on is a 409. */
    async begin(user: { id: string; email: string }) {
      const secret = randomBytes(SECRET_BYTES)
      const box = await sealSecret(await keys(), user.id, secret)
      if (!(await store.putPending(user.id, box, nowSeconds()))) throw alreadyOn()
      const base32 = toBase32(secret)
      const issuer = encodeURIComponent(core.options.issuer)
      const label = `${issuer}:${encodeURIComponent(user.email)}`
      return {
        secret: base32,
        otpauth_uri: `otpauth://totp/${label}?secret=${base32}&issuer=${issuer}&algorithm=SHA1&digits=6&period=30`,
      }
    },

    /** The first code turns TOTP on (its step counts as used) and gives the recovery codes. */
    async confirm(userId: string, code: string) {
      const row = await store.find(userId)
      if (row?.confirmed_at != null) throw alreadyOn()
      const step = row ? await stepOf(await secretOf(row), code, row.last_step) : null
      if (!row || step === null) throw new WrongSecondFactor('invalid_mfa_code')
      const { codes, hashes } = await recoveryCodeSet(userId)
      if (!(await store.confirm(userId, row.secret_box, step, hashes, nowSeconds()))) {
        throw alreadyOn()
      }
      return codes
    },

    /** Off, with a current code or a recovery code, counted like any second factor's answer. */
    async disable(user: PublicUser, code: string) {
      if (!(await store.find(user.id))?.confirmed_at) throw notOn()
      await proveSecondFactor(core, {
        user,
        method: SIX_DIGITS.test(code) ? 'totp' : 'recovery_code',
        code,
        purpose: 'reauthenticate',
      })
      if (!(await store.remove(user.id))) throw notOn()
    },

    /** A new set of recovery codes; the old set dies. */
    async renewRecoveryCodes(userId: string) {
      const { codes, hashes } = await recoveryCodeSet(userId)
      if (!(await store.replaceRecoveryCodes(userId, hashes))) throw notOn()
      return codes
    },
  }
}

export type Totp = ReturnType<typeof createTotp>
