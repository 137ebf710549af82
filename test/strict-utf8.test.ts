/** JSON bodies are decoded strictly: bytes that are not UTF-8 are refused, never replaced. */
import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { registerUser, uniqueEmail } from './helpers/accounts'
import { BASE_URL, expectError } from './helpers/requests'

const encoder = new TextEncoder()

/** A JSON body with raw bytes spliced in where `%BYTES%` stands. */
const bodyWith = (template: string, bytes: number[]): Uint8Array => {
  const [before, after] = template.split('%BYTES%')
  return new Uint8Array([...encoder.encode(before), ...bytes, ...encoder.encode(after)])
}

const postBytes = (path: string, body: Uint8Array, token?: string) =>
  SELF.fetch(`${BASE_URL}${path}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body,
  })

const tenOf = (byte: number): number[] => Array<number>(10).fill(byte)

describe('invalid UTF-8 in JSON bodies', () => {
  it('POST /auth/register refuses a password of ten 0xFF bytes with 400 invalid_json', async () => {
    const email = uniqueEmail()
    const res = await postBytes(
      '/auth/register',
      bodyWith(`{"email":"${email}","password":"%BYTES%"}`, tenOf(0xff))
    )
    await expectError(res, 400, 'invalid_json')
  })

  it('a password of ten 0xFE bytes does not log in to an account whose password was ten 0xFF bytes', async () => {
    const email = uniqueEmail()
    await postBytes(
      '/auth/register',
      bodyWith(`{"email":"${email}","password":"%BYTES%"}`, tenOf(0xff))
    )
    const res = await postBytes(
      '/auth/login',
      bodyWith(`{"email":"${email}","password":"%BYTES%"}`, tenOf(0xfe))
    )
    await expectError(res, 400, 'invalid_json')
  })

  it.each([
    ['an overlong slash', [0xc0, 0xaf]],
    ['a UTF-16 surrogate encoded as UTF-8', [0xed, 0xa0, 0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['a lone continuation byte', [0x80]],
    ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ])('POST /auth/login refuses %s inside a string', async (_name, bytes) => {
    const res = await postBytes(
      '/auth/login',
      bodyWith(`{"email":"a@example.com","password":"long enough %BYTES%"}`, bytes)
    )
    await expectError(res, 400, 'invalid_json')
  })

  it('POST /notes refuses invalid UTF-8 in a note`s body', async () => {
    const account = await registerUser()
    const res = await postBytes(
      '/notes',
      bodyWith('{"title":"t","body":"%BYTES%"}', [0xff]),
      account.accessToken
    )
    await expectError(res, 400, 'invalid_json')
  })

  it('accepts valid multi-byte UTF-8, and the same password logs in again', async () => {
    const email = uniqueEmail()
    const password = 'pässwörd ✓ 🔑 密码'
    const register = await postBytes(
      '/auth/register',
      encoder.encode(JSON.stringify({ email, password }))
    )
    expect(register.status, await register.text()).toBe(201)
    const login = await postBytes(
      '/auth/login',
      encoder.encode(JSON.stringify({ email, password }))
    )
    expect(login.status).toBe(200)
  })
})
