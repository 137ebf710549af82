/**
 * The same sign-in as examples/openapi-fetch, with hono's `hc` client from the published type
 * entry point "edge-jwt-auth/client": a front end gets the routes' types without compiling the
 * worker. Error responses are typed too, so each status narrows the body.
 */
import { createClient } from 'edge-jwt-auth/client'
import type { ApiClient } from 'edge-jwt-auth/client'

export { createClient }

export type SignInResult =
  | { outcome: 'signed-in'; accessToken: string; refreshToken: string }
  | { outcome: 'wrong-credentials'; message: string }
  | { outcome: 'throttled'; retryAfterSeconds: number }

export const signIn = async (
  client: ApiClient,
  email: string,
  password: string
): Promise<SignInResult> => {
  const res = await client.auth.login.$post({ json: { email, password } })
  if (res.status === 200) {
    const body = await res.json()
    if (!('access_token' in body)) throw new Error('expected a bearer-mode token response')
    return {
      outcome: 'signed-in',
      accessToken: body.access_token,
      refreshToken: body.refresh_token,
    }
  }
  if (res.status === 401) {
    const { error, message } = await res.json()
    if (error === 'invalid_credentials') return { outcome: 'wrong-credentials', message }
  }
  if (res.status === 429) {
    return { outcome: 'throttled', retryAfterSeconds: Number(res.headers.get('Retry-After') ?? 60) }
  }
  throw new Error(`sign-in failed with ${res.status}`)
}

/** The signed-in user's notes, or undefined when the access token is no longer accepted. */
export const noteTitles = async (client: ApiClient, accessToken: string) => {
  const res = await client.notes.$get({}, { headers: { Authorization: `Bearer ${accessToken}` } })
  if (res.status === 401) return undefined
  if (res.status !== 200) throw new Error(`listing notes failed with ${res.status}`)
  const { notes } = await res.json()
  return notes.map((note) => note.title)
}
