/** GET and PATCH /me: the signed-in user's profile. */
import { describe, expect, it } from 'vitest'
import { registerUser } from './helpers/accounts'
import { api, expectError } from './helpers/requests'

interface User {
  id: string
  email: string
  nickname: string | null
  created_at: string
}

const patchMe = (token: string, json: unknown) => api('/me', { method: 'PATCH', token, json })

describe('GET /me', () => {
  it('returns the user the token belongs to, as register returned it', async () => {
    const account = await registerUser({ nickname: 'Ada' })
    const res = await api('/me', { token: account.accessToken })
    expect(res.status).toBe(200)
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff')
    const body = await res.json<{ user: User }>()
    expect(Object.keys(body)).toEqual(['user'])
    expect(body.user).toEqual(account.tokens.user)
    expect(body.user).toMatchObject({ email: account.email, nickname: 'Ada' })
  })

  it('never shows another field of the stored row (no password hash)', async () => {
    const account = await registerUser()
    const text = await (await api('/me', { token: account.accessToken })).text()
    expect(Object.keys(JSON.parse(text).user).sort()).toEqual([
      'created_at',
      'email',
      'email_verified',
      'id',
      'mfa',
      'nickname',
    ])
    expect(text).not.toMatch(/pbkdf2|password|hash/i)
  })

  it('is 401 missing_token without a token', async () => {
    const res = await api('/me')
    await expectError(res, 401, 'missing_token')
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer\b/)
  })
})

describe('PATCH /me', () => {
  it('sets the nickname, trimmed, and GET /me shows it', async () => {
    const account = await registerUser()
    const res = await patchMe(account.accessToken, { nickname: '  Grace Hopper \n' })
    expect(res.status).toBe(200)
    const { user } = await res.json<{ user: User }>()
    expect(user).toEqual({ ...account.tokens.user, nickname: 'Grace Hopper' })
    const me = await (await api('/me', { token: account.accessToken })).json<{ user: User }>()
    expect(me.user.nickname).toBe('Grace Hopper')
  })

  it('accepts 1 and 50 characters', async () => {
    const account = await registerUser()
    expect((await patchMe(account.accessToken, { nickname: 'x' })).status).toBe(200)
    const res = await patchMe(account.accessToken, { nickname: 'y'.repeat(50) })
    expect(res.status).toBe(200)
    expect((await res.json<{ user: User }>()).user.nickname).toBe('y'.repeat(50))
  })

  it('counts characters as code points: 50 astral characters are accepted', async () => {
    const account = await registerUser()
    const res = await patchMe(account.accessToken, { nickname: '🦊'.repeat(50) })
    expect(res.status).toBe(200)
  })

  it.each([
    ['empty', ''],
    ['only spaces', '   '],
    ['51 characters', 'z'.repeat(51)],
    ['a number', 7],
    ['null', null],
    ['an object', { first: 'Ada' }],
    ['an array', ['Ada']],
    ['a boolean', true],
  ])(
    'rejects a nickname that is %s with 400 validation_failed and keeps the old one',
    async (_, nickname) => {
      const account = await registerUser({ nickname: 'Before' })
      const error = await expectError(
        await patchMe(account.accessToken, { nickname }),
        400,
        'validation_failed'
      )
      expect(Object.keys(error.details ?? {})).toEqual(['nickname'])
      const me = await (await api('/me', { token: account.accessToken })).json<{ user: User }>()
      expect(me.user.nickname).toBe('Before')
    }
  )

  it('rejects a body without nickname with 400 validation_failed naming it', async () => {
    const account = await registerUser()
    const error = await expectError(
      await patchMe(account.accessToken, {}),
      400,
      'validation_failed'
    )
    expect(error.details).toEqual({ nickname: expect.any(String) })
  })

  it('does not let the email be changed through it', async () => {
    const account = await registerUser()
    const res = await patchMe(account.accessToken, {
      nickname: 'Ok',
      email: 'someone@else.example',
    })
    if (res.status === 200) {
      expect((await res.json<{ user: User }>()).user.email).toBe(account.email)
    } else {
      await expectError(res, 400, 'validation_failed')
    }
    const me = await (await api('/me', { token: account.accessToken })).json<{ user: User }>()
    expect(me.user.email).toBe(account.email)
  })

  it('is 401 missing_token without a token', async () => {
    await expectError(
      await api('/me', { method: 'PATCH', json: { nickname: 'x' } }),
      401,
      'missing_token'
    )
  })
})
