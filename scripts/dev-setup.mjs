// Prepares a fresh clone for `wrangler dev`: a random JWT_SECRET (and MFA_SECRET) in .dev.vars when there is none,
// or when the one there is too short or the placeholder of .dev.vars.example (copied by hand),
// local mail settings (the outbox, read by the demo page's Mailbox) when absent, the local
// addresses moved to the dev port (DEV_PORT, set by scripts/dev.mjs; default 8787), and the local
// D1 database migrated. Idempotent, no prompt, no network.
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'

const DEV_VARS = '.dev.vars'
const EXAMPLE = '.dev.vars.example'
const MIN_SECRET_BYTES = 32

const secretLine = (name) => new RegExp(`^${name}=(.*)$`, 'm')
const secretIn = (file, name) =>
  existsSync(file) ? (secretLine(name).exec(readFileSync(file, 'utf8'))?.[1] ?? null) : null

// JWT_SECRET signs tokens; MFA_SECRET keeps TOTP secrets and recovery codes (docs/mfa.md).
for (const name of ['JWT_SECRET', 'MFA_SECRET']) {
  const current = secretIn(DEV_VARS, name)
  const placeholder = secretIn(EXAMPLE, name)
  const usable =
    current !== null &&
    current !== placeholder &&
    Buffer.byteLength(current, 'utf8') >= MIN_SECRET_BYTES
  if (usable) continue
  const line = `${name}=${randomBytes(48).toString('base64url')}`
  const existing = existsSync(DEV_VARS) ? readFileSync(DEV_VARS, 'utf8') : ''
  const replaced = secretLine(name).test(existing)
    ? existing.replace(secretLine(name), line)
    : existing + (existing && !existing.endsWith('\n') ? '\n' : '') + line + '\n'
  writeFileSync(DEV_VARS, replaced, { mode: 0o600 })
  const why = current === null ? 'none was set' : 'the one there was short or the placeholder'
  console.log(`dev-setup: wrote a random ${name} to ${DEV_VARS} (gitignored): ${why}`)
}

// Mail stays on this machine: messages go to D1, and GET /dev/outbox lists them; the per-client
// limiter, required by wrangler.toml for deploys, is off. The issuer is the local origin, so that
// OAuth discovery works against `wrangler dev` (tokens' `iss` and the metadata's issuer are the
// same URL). A setting the developer already chose is left alone.
const port = process.env.DEV_PORT || '8787'
const LOCAL_ORIGIN = `http://localhost:${port}`
const LOCAL_MAIL = {
  MAIL_TRANSPORT: 'outbox',
  DEV_OUTBOX: 'on',
  APP_URL: LOCAL_ORIGIN,
  CLIENT_RATE_LIMIT_MODE: 'off',
  JWT_ISSUER: LOCAL_ORIGIN,
}

// APP_URL (the mail links) and JWT_ISSUER, when they name this machine, follow the dev port, so
// that a link in the outbox opens the page that is running. Any other value is the developer's.
const LOCAL_ADDRESS = /^((?:APP_URL|JWT_ISSUER)=https?:\/\/(?:localhost|127\.0\.0\.1)):\d+(\/?)$/gm
const before = readFileSync(DEV_VARS, 'utf8')
const moved = before.replace(LOCAL_ADDRESS, (_line, start, slash) => `${start}:${port}${slash}`)
if (moved !== before) {
  writeFileSync(DEV_VARS, moved, { mode: 0o600 })
  console.log(`dev-setup: local addresses in ${DEV_VARS} now use port ${port}`)
}

const devVars = readFileSync(DEV_VARS, 'utf8')
const missing = Object.entries(LOCAL_MAIL).filter(
  ([name]) => !new RegExp(`^${name}=`, 'm').test(devVars)
)
if (missing.length > 0) {
  const separator = devVars && !devVars.endsWith('\n') ? '\n' : ''
  const lines = missing.map(([name, value]) => `${name}=${value}\n`).join('')
  writeFileSync(DEV_VARS, devVars + separator + lines, { mode: 0o600 })
  console.log(`dev-setup: local settings added (${missing.map(([n]) => n).join(', ')})`)
}

// Standard input is closed so that wrangler never stops to ask for confirmation.
const migrate = spawnSync('npx', ['wrangler', 'd1', 'migrations', 'apply', 'DB', '--local'], {
  stdio: ['ignore', 'inherit', 'inherit'],
})
if (migrate.status !== 0) {
  console.error('dev-setup: applying the local D1 migrations failed')
  process.exit(migrate.status ?? 1)
}
