// Prepares a fresh clone for `wrangler dev`: a random JWT_SECRET in .dev.vars when there is
// none, local mail settings (the outbox, read by the demo page's Mailbox) when absent, and the
// local D1 database migrated. Idempotent, no prompt, no network.
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'

const DEV_VARS = '.dev.vars'

const hasSecret = existsSync(DEV_VARS) && /^JWT_SECRET=.+$/m.test(readFileSync(DEV_VARS, 'utf8'))
if (!hasSecret) {
  const line = `JWT_SECRET=${randomBytes(48).toString('base64url')}\n`
  const existing = existsSync(DEV_VARS) ? readFileSync(DEV_VARS, 'utf8') : ''
  const separator = existing && !existing.endsWith('\n') ? '\n' : ''
  writeFileSync(DEV_VARS, existing + separator + line, { mode: 0o600 })
  console.log(`dev-setup: wrote a random JWT_SECRET to ${DEV_VARS} (gitignored)`)
}

// Mail stays on this machine: messages go to D1, and GET /dev/outbox lists them. A setting the
// developer already chose is left alone.
const LOCAL_MAIL = {
  MAIL_TRANSPORT: 'outbox',
  DEV_OUTBOX: 'on',
  APP_URL: 'http://localhost:8787',
}
const current = readFileSync(DEV_VARS, 'utf8')
const missing = Object.entries(LOCAL_MAIL).filter(
  ([name]) => !new RegExp(`^${name}=`, 'm').test(current)
)
if (missing.length > 0) {
  const separator = current && !current.endsWith('\n') ? '\n' : ''
  const lines = missing.map(([name, value]) => `${name}=${value}\n`).join('')
  writeFileSync(DEV_VARS, current + separator + lines, { mode: 0o600 })
  console.log(`dev-setup: local mail goes to the outbox (${missing.map(([n]) => n).join(', ')})`)
}

// Standard input is closed so that wrangler never stops to ask for confirmation.
const migrate = spawnSync('npx', ['wrangler', 'd1', 'migrations', 'apply', 'DB', '--local'], {
  stdio: ['ignore', 'inherit', 'inherit'],
})
if (migrate.status !== 0) {
  console.error('dev-setup: applying the local D1 migrations failed')
  process.exit(migrate.status ?? 1)
}
