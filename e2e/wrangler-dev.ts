/**
 * Global setup of the browser test: `wrangler dev` on a free port with its own state directory,
 * freshly migrated, a random JWT_SECRET from a temporary env file, a 5-second access token, and
 * local mail to the outbox (the demo page's Mailbox), and one identity provider on a loopback port
 * that e2e/oidc.e2e.test.ts starts (a real OpenID provider; nothing listens there otherwise).
 */
import type { TestProject } from 'vitest/node'
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const ACCESS_TOKEN_TTL = 5
const STARTUP_TIMEOUT_MS = 90_000

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string
    accessTokenTtl: number
    /** The identity provider the worker is configured with: where to start it, and its client. */
    oidcProvider: { issuer: string; port: number; clientId: string; clientSecret: string }
  }
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port'))
      })
    })
  })

// No metrics prompt or upload, no update check: CI has no network but npm and Debian.
const quietEnv = {
  ...process.env,
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_LOG: 'warn',
  NO_COLOR: '1',
}

const waitForHealth = async (
  url: string,
  child: ChildProcess,
  output: () => string
): Promise<void> => {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`wrangler dev exited (${child.exitCode}):\n${output()}`)
    }
    try {
      const res = await fetch(`${url}/health`)
      if (res.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`wrangler dev did not answer within ${STARTUP_TIMEOUT_MS / 1000} s:\n${output()}`)
}

export default async function startWranglerDev(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'edge-jwt-e2e-'))
  const persistTo = join(dir, 'state')
  const envFile = join(dir, 'e2e.env')
  const [oidcPort] = [await freePort()]
  const oidcProvider = {
    issuer: `http://127.0.0.1:${oidcPort}`,
    port: oidcPort,
    clientId: 'e2e-client',
    clientSecret: randomBytes(24).toString('base64url'),
  }
  const providers = [
    {
      id: 'local',
      name: 'Local IdP',
      issuer: oidcProvider.issuer,
      client_id: oidcProvider.clientId,
    },
  ]
  writeFileSync(
    envFile,
    [
      `JWT_SECRET=${randomBytes(48).toString('base64url')}`,
      `MFA_SECRET=${randomBytes(48).toString('base64url')}`,
      `OIDC_PROVIDERS='${JSON.stringify(providers)}'`,
      `OIDC_CLIENT_SECRET_LOCAL=${oidcProvider.clientSecret}`,
      '',
    ].join('\n'),
    { mode: 0o600 }
  )

  // Standard input stays closed so that wrangler never waits for an answer.
  const migrate = spawnSync(
    'npx',
    ['wrangler', 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistTo],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: quietEnv,
      encoding: 'utf8',
    }
  )
  if (migrate.status !== 0) {
    throw new Error(`migrations failed:\n${migrate.stdout}\n${migrate.stderr}`)
  }

  const [port, inspectorPort] = [await freePort(), await freePort()]
  const baseUrl = `http://localhost:${port}`
  const args = [
    'wrangler',
    'dev',
    // The deployed entry plus the optional features (e2e/all-features-worker.ts).
    'e2e/all-features-worker.ts',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(inspectorPort),
    '--persist-to',
    persistTo,
    '--env-file',
    envFile,
    '--var',
    `ACCESS_TOKEN_TTL:${ACCESS_TOKEN_TTL}`,
    '--var',
    'ACCESS_REFRESH_MARGIN:0',
    // Local mail, as `npm run dev` sets it up: the demo page's Mailbox reads the outbox.
    '--var',
    'MAIL_TRANSPORT:outbox',
    '--var',
    'DEV_OUTBOX:on',
    '--var',
    `APP_URL:${baseUrl}`,
    // As `npm run dev`: the per-client limiter is for deploys.
    '--var',
    'CLIENT_RATE_LIMIT_MODE:off',
    '--show-interactive-dev-session=false',
  ]
  let log = ''
  const child = spawn('npx', args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: quietEnv,
    detached: true,
  })
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()))

  const stop = () => {
    // wrangler starts workerd as a child: end the whole process group this setup created.
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true })
  }

  try {
    await waitForHealth(`http://127.0.0.1:${port}`, child, () => log)
  } catch (error) {
    stop()
    throw error
  }
  project.provide('baseUrl', baseUrl)
  project.provide('accessTokenTtl', ACCESS_TOKEN_TTL)
  project.provide('oidcProvider', oidcProvider)
  return stop
}
