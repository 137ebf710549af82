// The benchmark's users and its load scenarios, each a bounded autocannon run against loopback.
import autocannon from 'autocannon'
import { createHmac, randomUUID } from 'node:crypto'

const JSON_HEADERS = { 'content-type': 'application/json' }
const PASSWORD = 'bench password, long enough to pass'
/** Notes every notes-mix user starts with, so that the list has a realistic, fixed size. */
export const SEEDED_NOTES = 20

const call = async (baseUrl, path, { method = 'GET', token, json } = {}) => {
  const headers = { ...(json === undefined ? {} : JSON_HEADERS) }
  if (token) headers.authorization = `Bearer ${token}`
  const response = await fetch(baseUrl + path, {
    method,
    headers,
    body: json === undefined ? undefined : JSON.stringify(json),
  })
  const text = await response.text()
  if (!response.ok)
    throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`)
  return text ? JSON.parse(text) : null
}

/** Registers `count` users; each keeps its own access token and refresh-token chain. */
export const registerUsers = async (baseUrl, count, label) => {
  const run = Date.now().toString(36)
  const users = []
  for (let i = 0; i < count; i++) {
    const email = `bench-${label}-${run}-${i}@example.com`
    const tokens = await call(baseUrl, '/auth/register', {
      method: 'POST',
      json: { email, password: PASSWORD, nickname: `bench ${i}` },
    })
    users.push({ email, accessToken: tokens.access_token, refreshToken: tokens.refresh_token })
  }
  return users
}

export const seedNotes = async (baseUrl, users) => {
  for (const user of users) {
    for (let i = 0; i < SEEDED_NOTES; i++) {
      await call(baseUrl, '/notes', {
        method: 'POST',
        token: user.accessToken,
        json: {
          title: `seeded note ${i}`,
          body: 'A short note body, about as long as a typical one.',
        },
      })
    }
  }
}

/**
 * A run ends with requests in flight, whose responses autocannon drops: the server may have rotated
 * a chain past the token we hold. Presenting it again at once, inside the reuse grace window, hands
 * back the successor it was rotated to; presenting it after the window would (rightly) end the
 * session as stolen.
 */
const resyncChains = async (baseUrl, users) => {
  for (const user of users) {
    const tokens = await call(baseUrl, '/auth/refresh', {
      method: 'POST',
      json: { refresh_token: user.refreshToken },
    })
    user.refreshToken = tokens.refresh_token
  }
}

/** Gives each autocannon connection its own user: the n-th connection gets users[n]. */
const perConnection = (users, requestsFor) => {
  let next = 0
  return (client) => {
    const user = users[next++ % users.length]
    client.setRequests(requestsFor(user))
  }
}

/** The token with its signature's first character changed: well formed, but not ours. */
const forgeSignature = (token) => {
  const signatureAt = token.lastIndexOf('.') + 1
  const swapped = token[signatureAt] === 'A' ? 'B' : 'A'
  return token.slice(0, signatureAt) + swapped + token.slice(signatureAt + 1)
}

let unknownEmails = 0

const bearer = (user) => ({ authorization: `Bearer ${user.accessToken}` })

/**
 * The user's access token signed again with the worker's secret under a new `jti`: genuine, and
 * never seen before, so the worker verifies it in full (src/auth/access-token.ts keeps the tokens
 * it has verified). Null when the bench does not know the secret (a worker it did not start).
 */
const freshToken = (token, secret) => {
  const [header, payload] = token.split('.')
  const claims = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), jti: randomUUID() }
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

/** The longest Authorization header the worker parses (8 KiB); one byte more is refused unread. */
const MAX_AUTHORIZATION_LENGTH = 8 * 1024

/**
 * The dearest header a stranger can send: exactly 8 KiB, shaped like a JWT so that every step
 * runs (the header is decoded, the key found, the whole signing input hashed) before the forged
 * signature fails. The padding sits in the payload, which is never decoded once the check fails.
 */
const maximalForgery = (token) => {
  const [header, , signature] = forgeSignature(token).split('.')
  const room = MAX_AUTHORIZATION_LENGTH - 'Bearer '.length - header.length - signature.length - 2
  return `Bearer ${header}.${'A'.repeat(room)}.${signature}`
}

/**
 * The scenarios, in the order they run. `connections` is bounded so that the load generator and
 * the worker share the two cores without starving each other completely.
 */
export const scenarios = ({
  baseUrl,
  users,
  loginUser,
  noteUsers,
  connections,
  jwksToken,
  jwtSecret,
}) => [
  {
    // The floor worker (bench/floor-worker): a bare Hono app answering a constant.
    name: 'floor',
    title: 'floor: bare Hono, constant',
    worker: 'floor',
    connections,
    options: { requests: [{ method: 'GET', path: '/' }] },
  },
  {
    // One PBKDF2 derivation in workerd, with the default policy's parameters: the login floor.
    name: 'floor-pbkdf2',
    title: 'floor: one PBKDF2 derivation',
    worker: 'floor',
    connections: 1,
    options: { requests: [{ method: 'POST', path: '/pbkdf2' }] },
  },
  {
    // One D1 read through the binding, and one KV read: the client code's cost per storage call.
    name: 'floor-d1',
    title: 'floor: one D1 read',
    worker: 'floor',
    connections,
    options: { requests: [{ method: 'GET', path: '/d1' }] },
  },
  {
    name: 'floor-kv',
    title: 'floor: one KV read',
    worker: 'floor',
    connections,
    options: { requests: [{ method: 'GET', path: '/kv' }] },
  },
  {
    // One write of each: a rotation's compare-and-swap and its successor's record are writes.
    name: 'floor-d1-write',
    title: 'floor: one D1 write',
    worker: 'floor',
    connections,
    options: { requests: [{ method: 'POST', path: '/d1-write' }] },
  },
  {
    name: 'floor-kv-write',
    title: 'floor: one KV write',
    worker: 'floor',
    connections,
    options: { requests: [{ method: 'POST', path: '/kv-write' }] },
  },
  {
    // One console line like the app's request line (its cost is inflated under wrangler dev).
    name: 'floor-log',
    title: 'floor: one log line',
    worker: 'floor',
    connections,
    options: { requests: [{ method: 'GET', path: '/log' }] },
  },
  {
    name: 'health',
    title: 'GET /health',
    connections,
    options: { requests: [{ method: 'GET', path: '/health' }] },
  },
  {
    name: 'me',
    title: 'GET /me',
    connections,
    options: {
      setupClient: perConnection(users, (user) => [
        { method: 'GET', path: '/me', headers: bearer(user) },
      ]),
    },
  },
  {
    // The same route and middleware as /me, stopped at the signature check: no storage call. Set
    // against health and /me, it shows what the D1 read costs and what the worker's own code does.
    name: 'me-rejected',
    title: 'GET /me, forged token (401)',
    connections,
    expectStatus: 401,
    options: {
      setupClient: perConnection(users, (user) => [
        {
          method: 'GET',
          path: '/me',
          headers: { authorization: `Bearer ${forgeSignature(user.accessToken)}` },
        },
      ]),
    },
  },
  {
    // Each request a genuine token the worker has not verified before: the full check (decoding,
    // HMAC, claims) and the session read, as on a token's first use.
    name: 'me-first-use',
    title: 'GET /me, each token on its first use',
    connections,
    skip: !jwtSecret,
    options: {
      setupClient: perConnection(users, (user) => [
        {
          method: 'GET',
          path: '/me',
          setupRequest: (request) => ({
            ...request,
            headers: { authorization: `Bearer ${freshToken(user.accessToken, jwtSecret)}` },
          }),
        },
      ]),
    },
  },
  {
    // An 8 KiB Authorization header, the largest one parsed: no dearer than a forged token.
    name: 'me-maximal-header',
    title: 'GET /me, 8 KiB forged Authorization (401)',
    connections,
    expectStatus: 401,
    options: {
      setupClient: perConnection(users, (user) => [
        {
          method: 'GET',
          path: '/me',
          headers: { authorization: maximalForgery(user.accessToken) },
        },
      ]),
    },
  },
  {
    name: 'refresh',
    title: 'POST /auth/refresh',
    connections,
    options: {
      // Refresh tokens are single-use: each connection walks its own chain, sending the token
      // that the previous response handed out. The state lives on the user, so it survives from
      // the warm-up into the measured run.
      setupClient: perConnection(users, (user) => [
        {
          method: 'POST',
          path: '/auth/refresh',
          headers: JSON_HEADERS,
          setupRequest: (request) => ({
            ...request,
            body: JSON.stringify({ refresh_token: user.refreshToken }),
          }),
          onResponse: (status, body) => {
            if (status === 200) user.refreshToken = JSON.parse(body).refresh_token
          },
        },
      ]),
    },
    afterRun: () => resyncChains(baseUrl, users),
  },
  {
    name: 'login',
    title: 'POST /auth/login',
    connections: 1,
    options: {
      requests: [
        {
          method: 'POST',
          path: '/auth/login',
          headers: JSON_HEADERS,
          body: JSON.stringify({ email: loginUser.email, password: PASSWORD }),
        },
      ],
    },
  },
  {
    // A stranger trying a new address each time: the same password hashing as a known account
    // (against a dummy hash), and a failure-count row per address. Must cost no more than `login`.
    name: 'login-unknown',
    title: 'POST /auth/login, unknown email (401)',
    connections: 1,
    expectStatus: 401,
    options: {
      requests: [
        {
          method: 'POST',
          path: '/auth/login',
          headers: JSON_HEADERS,
          // A new address per request, so that no count ever fills up and answers a cheap 429.
          setupRequest: (request) => ({
            ...request,
            body: JSON.stringify({
              email: `nobody-${unknownEmails++}@bench.test`,
              password: PASSWORD,
            }),
          }),
        },
      ],
    },
  },
  {
    name: 'notes',
    title: 'notes mix',
    connections,
    options: {
      // Create, list, then delete the new note, so that the list stays SEEDED_NOTES long and the
      // figure does not depend on how long the run was.
      setupClient: perConnection(noteUsers, (user) => [
        {
          method: 'POST',
          path: '/notes',
          headers: { ...JSON_HEADERS, ...bearer(user) },
          body: JSON.stringify({
            title: 'bench note',
            body: 'A short note body, about as long as a typical one.',
          }),
          onResponse: (status, body, context) => {
            if (status === 201) context.noteId = JSON.parse(body).note.id
          },
        },
        { method: 'GET', path: '/notes', headers: bearer(user) },
        {
          method: 'DELETE',
          path: '/notes',
          headers: bearer(user),
          setupRequest: (request, context) =>
            context.noteId ? { ...request, path: `/notes/${context.noteId}` } : null,
        },
      ]),
    },
  },
  // Another Worker verifying a token (bench/resource-worker, docs/other-workers.md): the resource
  // worker's isolate and the auth worker's (what the call costs it) are both measured.
  {
    name: 'verify-rpc',
    title: 'resource: verify over RPC',
    worker: 'resource',
    connections,
    options: {
      setupClient: perConnection(users, (user) => [
        { method: 'GET', path: '/rpc', headers: bearer(user) },
      ]),
    },
  },
  {
    name: 'verify-http',
    title: 'resource: GET /me over HTTP',
    worker: 'resource',
    connections,
    options: {
      setupClient: perConnection(users, (user) => [
        { method: 'GET', path: '/http', headers: bearer(user) },
      ]),
    },
  },
  {
    name: 'verify-jwks',
    title: 'resource: verify with JWKS',
    worker: 'resource',
    connections,
    options: {
      requests: [
        { method: 'GET', path: '/jwks', headers: { authorization: `Bearer ${jwksToken}` } },
      ],
    },
  },
]

/** One bounded run; resolves with autocannon's result. */
export const load = (baseUrl, scenario, durationSeconds) =>
  autocannon({
    url: baseUrl,
    connections: scenario.connections,
    duration: durationSeconds,
    timeout: 10,
    ...scenario.options,
  })
