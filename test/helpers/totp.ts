/**
 * A TOTP generator of the tests' own (RFC 6238 over Web Crypto, written apart from the worker's),
 * and setting TOTP up on an account: the authenticator app a test plays.
 */
import { expect } from 'vitest'
import { api } from './requests'

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

export const base32Decode = (text: string): Uint8Array => {
  const bytes: number[] = []
  let buffer = 0
  let bits = 0
  for (const char of text.replace(/=+$/, '').toUpperCase()) {
    const index = BASE32.indexOf(char)
    if (index < 0) throw new Error(`not Base32: ${char}`)
    buffer = (buffer << 5) | index
    bits += 5
    if (bits >= 8) {
      bytes.push((buffer >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return new Uint8Array(bytes)
}

/** The 6-digit code of a Base32 secret at a time in milliseconds (default: now, as the worker sees it). */
export const totpAt = async (secret: string, at = Date.now()): Promise<string> => {
  const key = await crypto.subtle.importKey(
    'raw',
    base32Decode(secret),
    { name: 'HMAC', hash: 'SHA-1' },
    false,
    ['sign']
  )
  const counter = new Uint8Array(8)
  let step = Math.floor(at / 1000 / 30)
  for (let i = 7; i >= 0; i--) {
    counter[i] = step & 0xff
    step = Math.floor(step / 256)
  }
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, counter))
  const offset = mac[19] & 0x0f
  const number =
    ((mac[offset] & 0x7f) * 2 ** 24 +
      mac[offset + 1] * 2 ** 16 +
      mac[offset + 2] * 2 ** 8 +
      mac[offset + 3]) %
    1_000_000
  return String(number).padStart(6, '0')
}

export interface Enrolment {
  secret: string
  otpauthUri: string
  recoveryCodes: string[]
}

/** Sets TOTP up and confirms it with the current code (whose step then counts as used). */
export const enrolTotp = async (accessToken: string): Promise<Enrolment> => {
  const setup = await api('/auth/mfa/totp', { method: 'POST', token: accessToken })
  expect(setup.status, await setup.clone().text()).toBe(200)
  const { secret, otpauth_uri: otpauthUri } = await setup.json<{
    secret: string
    otpauth_uri: string
  }>()
  const confirm = await api('/auth/mfa/totp/confirm', {
    token: accessToken,
    json: { code: await totpAt(secret) },
  })
  expect(confirm.status, await confirm.clone().text()).toBe(200)
  const { recovery_codes: recoveryCodes } = await confirm.json<{ recovery_codes: string[] }>()
  return { secret, otpauthUri, recoveryCodes }
}

export interface MfaChallengeBody {
  mfa_required: true
  mfa_token: string
  methods: string[]
  expires_in: number
}

/** A login whose password is right on an account with a second factor: the 202's body. */
export const loginForChallenge = async (email: string, password: string) => {
  const res = await api('/auth/login', { json: { email, password } })
  expect(res.status, await res.clone().text()).toBe(202)
  return res.json<MfaChallengeBody>()
}

export const verifyMfa = (body: Record<string, unknown>, headers?: Record<string, string>) =>
  api('/auth/mfa/verify', { json: body, headers })

/**
 * Re-authenticates the session with the current step's code: a token whose `amr` shows the
 * second factor, as the fresh routes of an account with one need. That step is used up after.
 */
export const reauthenticateWithTotp = async (accessToken: string, secret: string) => {
  const res = await api('/auth/reauthenticate', {
    token: accessToken,
    json: { method: 'totp', code: await totpAt(secret) },
  })
  expect(res.status, await res.clone().text()).toBe(200)
  return (await res.json<{ access_token: string }>()).access_token
}
