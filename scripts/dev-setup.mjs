// Prepares a fresh clone for `wrangler dev`: a random JWT_SECRET in .dev.vars when there is
// none, and the local D1 database migrated. Idempotent, no prompt, no network.
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

// Standard input is closed so that wrangler never stops to ask for confirmation.
const migrate = spawnSync('npx', ['wrangler', 'd1', 'migrations', 'apply', 'DB', '--local'], {
  stdio: ['ignore', 'inherit', 'inherit'],
})
if (migrate.status !== 0) {
  console.error('dev-setup: applying the local D1 migrations failed')
  process.exit(migrate.status ?? 1)
}
