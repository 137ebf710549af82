/**
 * The document's request schemas against the server: for every declared request body (and the
 * X-Auth-Mode parameter), values at each boundary the schema states (lengths at and past their
 * limits, in ASCII and in astral characters, the control characters around the pattern's edges,
 * required fields left out, enums and constants) are judged by the document's own validator,
 * then sent. A value the document allows must not be refused as malformed; one it forbids must
 * be refused with 400. An API tester generating requests from the document finds the same.
 */
import { Validator } from '@cfworker/json-schema'
import type { Schema } from '@cfworker/json-schema'
import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS } from '../src/options'
import { loginUser, PASSWORD, registerUser, uniqueEmail } from './helpers/accounts'
import { openApiDocument, operations } from './helpers/openapi'
import type { DocOperation } from './helpers/openapi'
import { api, BASE_URL } from './helpers/requests'

type Body = Record<string, string>

interface StringSchema {
  type?: string
  const?: string
  enum?: string[]
  minLength?: number
  maxLength?: number
  pattern?: string
}

interface ObjectSchema {
  properties: Record<string, StringSchema>
  required?: string[]
  anyOf?: { required: string[] }[]
}

/** A request the walk sends, and what the document says of it. */
interface Candidate {
  what: string
  body: Body
  authMode?: string
}

/**
 * The characters at the edges of the control-character rule: C0 controls (the first, the last
 * and the whitespace ones a trim removes), DEL, and their allowed neighbours (space, a C1
 * control, a no-break space).
 */
const EDGE_CHARACTERS = ['\u0000', '\u0001', '\t', '\n', '\u000b', '\r', '\u001f', ' ', '\u007f']
  .concat(['\u0080', '\u00a0'])
  .map((char) => [char, `U+${char.codePointAt(0)!.toString(16).padStart(4, '0')}`] as const)

/** Shapes of the one patterned field (the email) on both sides of its rule. */
const EMAIL_SHAPES = ['a@b', 'a@b.', '@b.co', 'a@@b.co', 'a@b..co', 'a.b@c.de', 'A@B.CO', 'a@b.c']

const codePoints = (value: string) => [...value].length

/** `seed` grown (padded in front with `pad`) or cut to `length` code points. */
const fit = (seed: string, length: number, pad = 'a') => {
  const points = [...seed]
  if (length <= points.length) return points.slice(0, length).join('')
  return pad.repeat(length - points.length) + seed
}

/** The values the walk tries for one string field. */
const valuesFor = (field: string, schema: StringSchema, seed: string): [string, string][] => {
  if (schema.const !== undefined) {
    return [
      [schema.const, 'the constant'],
      ['other', 'not it'],
    ]
  }
  if (schema.enum) {
    return [
      ...schema.enum.map((value): [string, string] => [value, value]),
      ['other', 'not listed'],
    ]
  }
  const values: [string, string][] = []
  const lengths = new Set<number>()
  if (schema.minLength !== undefined) {
    lengths.add(schema.minLength)
    if (schema.minLength > 0) lengths.add(schema.minLength - 1)
  }
  if (schema.maxLength !== undefined) {
    lengths.add(schema.maxLength)
    lengths.add(schema.maxLength + 1)
  }
  lengths.add(0)
  for (const length of lengths) {
    values.push([fit(seed, length), `${length} characters`])
    if (length > codePoints(seed)) {
      values.push([fit(seed, length, '\u{1F600}'), `${length} characters, astral ones`])
    }
  }
  for (const [char, name] of EDGE_CHARACTERS) {
    const middle = Math.floor(seed.length / 2)
    values.push([`${seed.slice(0, middle)}${char}${seed.slice(middle)}`, `${name} inside`])
    values.push([`${char}${seed}`, `${name} in front`])
    values.push([`${seed}${char}`, `${name} at the end`])
  }
  if (field === 'email') {
    for (const shape of EMAIL_SHAPES) values.push([shape, shape])
  }
  return values
}

/** Every candidate of one body schema: the seed body, then each field's values, each field left out. */
const candidatesOf = (schema: ObjectSchema, seeds: () => Body): Candidate[] => {
  const required = new Set(schema.required ?? [])
  // The seed body has the required fields, and the first of an anyOf's when none is required.
  const seedBody = (): Body => {
    const all = seeds()
    const wanted = new Set(required)
    if (schema.anyOf && wanted.size === 0) wanted.add(schema.anyOf[0].required[0])
    return Object.fromEntries(Object.entries(all).filter(([name]) => wanted.has(name)))
  }
  const candidates: Candidate[] = [{ what: 'no field at all', body: {} }]
  for (const [field, fieldSchema] of Object.entries(schema.properties)) {
    const seed = seeds()[field]
    if (seed === undefined) throw new Error(`the walk has no seed value for ${field}`)
    for (const [value, what] of valuesFor(field, fieldSchema, seed)) {
      candidates.push({ what: `${field}: ${what}`, body: { ...seedBody(), [field]: value } })
    }
    if (required.has(field)) {
      const { [field]: _left, ...rest } = seedBody()
      candidates.push({ what: `${field} left out`, body: rest })
    }
  }
  // The seed body last: on /auth/logout it ends the session the others use.
  candidates.push({ what: 'the seed body', body: seedBody() })
  return candidates
}

const validatorFor = (schema: Schema) => new Validator(schema, '2020-12', false)

const authModeParameter = (operation: DocOperation) =>
  operation.parameters?.some((p) => '$ref' in p && p.$ref.endsWith('/AuthMode')) ?? false

const authModeSchema = (openApiDocument.components.parameters as Record<string, { schema: Schema }>)
  .AuthMode.schema

/** What a JSON route answers a body it finds malformed, and a form route (RFC 6749's codes). */
const refusedAsMalformed = (form: boolean, status: number, error: string | undefined) =>
  status === 400 &&
  (form
    ? error === 'invalid_request' || error === 'unsupported_grant_type'
    : error === 'validation_failed' || error === 'invalid_json')

/** What an operation needs around its body: a session, a path with real ids, seed values. */
interface Setting {
  path: string
  token?: string
  seeds: () => Body
  /** Called before each candidate: a new session where the candidate would end the one in use. */
  before?: (candidate: Candidate) => Promise<void>
  /** A rule the document states only in words, which refuses an allowed value on purpose. */
  refusesOnPurpose?: (body: Body, answer: { details?: Record<string, string> }) => boolean
}

const WRONG_PASSWORD = 'not the password at all'

const settingFor = async (path: string, operation: DocOperation): Promise<Setting> => {
  const account = await registerUser()
  const note = await api('/notes', {
    token: account.accessToken,
    json: { title: 'first', body: 'hello' },
  })
  const { note: created } = (await note.json()) as { note: { id: string } }
  const seeds = (): Body => ({
    email: uniqueEmail(),
    // A wrong one where a password is checked: no seed body changes or deletes the account.
    password: path === '/auth/register' ? PASSWORD : WRONG_PASSWORD,
    current_password: WRONG_PASSWORD,
    new_password: 'another long password',
    nickname: 'Ada',
    title: 'a title',
    body: 'a body',
    refresh_token: 'not-a-refresh-token',
    token: 'not-a-one-time-token',
    grant_type: 'refresh_token',
    client_id: 'an-app',
    scope: 'anything',
    token_type_hint: 'refresh_token',
    // The second factor's: a wrong code on a token that was never issued changes nothing.
    mfa_token: 'not-an-mfa-token',
    method: 'totp',
    code: '000000',
    // Not an object: only the candidates the document forbids carry it.
    credential: 'not-a-credential',
  })
  const setting: Setting = {
    path: path.replace('{id}', created.id),
    token: operation.security.length > 0 ? account.accessToken : undefined,
    seeds,
    refusesOnPurpose:
      path === '/auth/logout'
        ? (body, answer) =>
            body.refresh_token !== undefined &&
            answer.details?.refresh_token === 'refresh_token does not belong to the current session'
        : undefined,
  }
  if (path === '/auth/logout') {
    // A logout without a refresh token ends the session: the next candidate gets a new one.
    let ended = false
    setting.before = async (candidate) => {
      if (ended) setting.token = (await loginUser(account.email, account.password)).accessToken
      ended = candidate.body.refresh_token === undefined
    }
  }
  return setting
}

const send = (setting: Setting, method: string, form: boolean, candidate: Candidate) => {
  const headers: Record<string, string> = {}
  if (candidate.authMode !== undefined) {
    // From the page's own origin, as a browser in cookie mode sends it (the CSRF rule).
    headers['X-Auth-Mode'] = candidate.authMode
    headers.Origin = BASE_URL
  }
  if (form) headers['Content-Type'] = 'application/x-www-form-urlencoded'
  return api(setting.path, {
    method: method.toUpperCase(),
    token: setting.token,
    headers,
    ...(form ? { body: new URLSearchParams(candidate.body).toString() } : { json: candidate.body }),
  })
}

const encodedSize = (body: Body) => new TextEncoder().encode(JSON.stringify(body)).length

/**
 * The walk varies string fields: a body with none (passkey login options: `{}`) or whose required
 * field is an object (a WebAuthn `credential`) has no boundary here; the passkey tests build those.
 */
const walkable = (operation: DocOperation) => {
  const schema = Object.values(operation.requestBody!.content)[0].schema as unknown as ObjectSchema
  const fields = Object.entries(schema.properties ?? {})
  return (
    fields.length > 0 &&
    fields.every(([name, field]) => field.type === 'string' || !schema.required?.includes(name))
  )
}

const withBodies = operations().filter(
  ({ operation }) => operation.requestBody && walkable(operation)
)

describe('every declared request schema, at its boundaries, as the server judges it', () => {
  it('covers every operation with a body', () => {
    expect(withBodies.length).toBeGreaterThanOrEqual(15)
  })

  for (const { method, path, operation } of withBodies) {
    it(`${method.toUpperCase()} ${path}`, async () => {
      const [mediaType, { schema }] = Object.entries(operation.requestBody!.content)[0]
      const form = mediaType === 'application/x-www-form-urlencoded'
      const setting = await settingFor(path, operation)
      const bodyRule = validatorFor(schema)
      const modeRule = validatorFor(authModeSchema)
      const candidates = candidatesOf(schema as unknown as ObjectSchema, setting.seeds)
      if (authModeParameter(operation)) {
        const seedBody = candidates.at(-1)!.body
        for (const mode of ['cookie', 'bearer', 'COOKIE', 'cookies', '']) {
          candidates.unshift({ what: `X-Auth-Mode: ${mode}`, body: seedBody, authMode: mode })
        }
      }
      const disagreements: string[] = []
      let allowed = 0
      let forbidden = 0
      for (const candidate of candidates) {
        const modeAllowed =
          candidate.authMode === undefined || modeRule.validate(candidate.authMode).valid
        const documentAllows = bodyRule.validate(candidate.body).valid && modeAllowed
        await setting.before?.(candidate)
        const res = await send(setting, method, form, candidate)
        const text = await res.text()
        const answer = (text.startsWith('{') ? JSON.parse(text) : {}) as {
          error?: string
          details?: Record<string, string>
        }
        const refused = refusedAsMalformed(form, res.status, answer.error)
        const tooLarge =
          res.status === 413 && encodedSize(candidate.body) > DEFAULT_LIMITS.maxBodyBytes
        let agrees: boolean
        if (documentAllows) {
          allowed++
          agrees =
            res.status < 500 &&
            (!refused || setting.refusesOnPurpose?.(candidate.body, answer) === true || tooLarge)
        } else {
          forbidden++
          agrees = refused || tooLarge
        }
        if (!agrees) {
          disagreements.push(
            `${candidate.what}: the document ${documentAllows ? 'allows' : 'forbids'} it, the server answered ${res.status} ${answer.error ?? ''}`
          )
        }
      }
      expect(disagreements).toEqual([])
      // Both sides of the boundaries were tried.
      expect(allowed).toBeGreaterThan(0)
      expect(forbidden).toBeGreaterThan(0)
    })
  }
})

describe('POST /auth/refresh without a token', () => {
  it('answers 400 validation_failed alike for no body, an empty body and {}', async () => {
    const ways: [string, RequestInit][] = [
      ['no body, no Content-Type', {}],
      ['an empty body', { headers: { 'Content-Type': 'application/json' }, body: '' }],
      ['{}', { headers: { 'Content-Type': 'application/json' }, body: '{}' }],
      ['whitespace, no Content-Type', { body: '  ' }],
    ]
    for (const [what, init] of ways) {
      const res = await SELF.fetch(`${BASE_URL}/auth/refresh`, { method: 'POST', ...init })
      expect({ what, status: res.status, body: await res.json() }).toEqual({
        what,
        status: 400,
        body: {
          error: 'validation_failed',
          message: expect.any(String),
          details: { refresh_token: 'refresh_token is required' },
        },
      })
    }
  })

  it('still refuses a body of another media type with 415', async () => {
    const res = await SELF.fetch(`${BASE_URL}/auth/refresh`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: 'refresh_token=x',
    })
    expect(res.status).toBe(415)
  })
})
