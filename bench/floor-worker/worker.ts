/**
 * The floors: a bare Hono app served beside the real worker in the same run, so that the real
 * worker's CPU is read as a ratio to the least a Hono worker costs here. Besides the constant it
 * times what the app cannot do without, each alone, in workerd itself:
 * - one PBKDF2 derivation with the default password policy's parameters (Web Crypto in workerd is
 *   BoringSSL, not Node's OpenSSL): the least a login can cost, CPU against CPU;
 * - one D1 read and one KV read, through the bindings' client code in the worker's isolate: what a
 *   session check or a token rotation pays per storage call before any of the app's own code;
 * - one D1 write (a one-row conditional UPDATE, like a rotation's compare-and-swap) and one KV write
 *   (a put with a TTL, like a refresh token's record): writes carry more arguments and metadata
 *   than reads, so a route's writes are priced as writes;
 * - one log line shaped like the app's: under wrangler dev each console call is also serialised to
 *   wrangler's inspector session (that is how it prints them), a cost a deployed worker does not pay.
 */
import { Hono } from 'hono'

interface Bindings {
  DB: D1Database
  KV: KVNamespace
}

const PASSWORD = new TextEncoder().encode('bench password, long enough to pass')

// The one row the write route updates, made once per isolate (the floor's D1 has no migrations).
let table: Promise<unknown> | undefined
const floorTable = (db: D1Database) =>
  (table ??= db.batch([
    db.prepare(
      'CREATE TABLE IF NOT EXISTS floor_rows (id TEXT PRIMARY KEY, hash TEXT, at INTEGER)'
    ),
    db.prepare("INSERT OR IGNORE INTO floor_rows (id, hash, at) VALUES ('row', '', 0)"),
  ]))

export default new Hono<{ Bindings: Bindings }>()
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
  // A bound one-row read, like the session check's, with no table for the database to search.
  .get('/d1', async (c) => {
    await c.env.DB.prepare('SELECT ?1 AS id, ?2 AS revoked').bind(crypto.randomUUID(), 0).first()
    return c.json({ status: 'ok' })
  })
  // A conditional one-row UPDATE with bound values, shaped like a rotation's compare-and-swap.
  .post('/d1-write', async (c) => {
    await floorTable(c.env.DB)
    await c.env.DB.prepare('UPDATE floor_rows SET hash = ?2, at = ?3 WHERE id = ?1 AND at >= 0')
      .bind('row', crypto.randomUUID(), Date.now())
      .run()
    return c.json({ status: 'ok' })
  })
  // A small JSON record under a fresh key, with a TTL, like a refresh token's record.
  .post('/kv-write', async (c) => {
    const record = { sid: crypto.randomUUID(), uid: crypto.randomUUID(), exp: 0 }
    await c.env.KV.put(`floor:${crypto.randomUUID()}`, JSON.stringify(record), {
      expirationTtl: 60,
    })
    return c.json({ status: 'ok' })
  })
  .get('/log', (c) => {
    console.log(
      JSON.stringify({
        level: 'info',
        msg: 'request',
        request_id: crypto.randomUUID(),
        method: c.req.method,
        route: '/log',
        status: 200,
        duration_ms: 0,
      })
    )
    return c.json({ status: 'ok' })
  })
  .get('/kv', async (c) => {
    await c.env.KV.get(`floor:${crypto.randomUUID()}`)
    return c.json({ status: 'ok' })
  })
