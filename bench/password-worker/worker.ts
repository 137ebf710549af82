/** The benchmark's worker: runs the app's own hashers in workerd, a given number of times per request. */
import {
  type PasswordPolicy,
  hashPasswordWith,
  pbkdf2Sha256,
  scryptHasher,
} from '../../src/auth/password'

const policyFrom = (query: URLSearchParams): PasswordPolicy<unknown> | null => {
  const number = (name: string) => Number(query.get(name))
  if (query.get('alg') === 'pbkdf2-sha256')
    return { hasher: pbkdf2Sha256, params: { iterations: number('i') } }
  if (query.get('alg') === 'scrypt') {
    return { hasher: scryptHasher, params: { logN: number('ln'), r: number('r'), p: number('p') } }
  }
  return null
}

export default {
  async fetch(request: Request): Promise<Response> {
    const query = new URL(request.url).searchParams
    const policy = policyFrom(query)
    if (!policy) return new Response('unknown algorithm', { status: 400 })
    const count = Math.min(Number(query.get('n')) || 1, 50)
    try {
      for (let i = 0; i < count; i++) await hashPasswordWith(policy, 'correct horse battery staple')
      return new Response('ok')
    } catch (error) {
      return new Response(String(error), { status: 500 })
    }
  },
}
