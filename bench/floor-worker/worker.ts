/**
 * The floor: a bare Hono app answering a constant, served beside the real worker in the same run,
 * so that the real worker's CPU is read as a ratio to the least a Hono worker costs here. It also
 * times one PBKDF2 derivation with the parameters of the default password policy, in workerd's
 * own Web Crypto (BoringSSL): the least a login can cost, CPU against CPU in the same runtime.
 */
import { Hono } from 'hono'

const PASSWORD = new TextEncoder().encode('bench password, long enough to pass')

export default new Hono()
  .get('/', (c) => c.json({ status: 'ok' }))
  .post('/pbkdf2', async (c) => {
    const salt = crypto.getRandomValues(new Uint8Array(16))
    const key = await crypto.subtle.importKey('raw', PASSWORD, 'PBKDF2', false, ['deriveBits'])
    await crypto.subtle.deriveBits(
      { name: 'PBKDF2', hash: 'SHA-256', salt, iterations: 100_000 },
      key,
      256
    )
    return c.json({ status: 'ok' })
  })
