#!/usr/bin/env node
// `npm run dev`: prepares the clone (scripts/dev-setup.mjs) for the chosen port, then starts
// `wrangler dev` on it. The port is `PORT=<n>` or `npm run dev -- --port <n>` (default 8787);
// every other argument goes to wrangler as it is.
//
// Miniflare fetches Cloudflare's sample `Request.cf` object on start and prints a stack trace
// when the machine is offline (ENOTFOUND). Locally request.cf is a sample either way (Miniflare's
// placeholder says country US), so the fetch is turned off (CLOUDFLARE_CF_FETCH_ENABLED=false)
// unless the caller set it.
import { spawn, spawnSync } from 'node:child_process'

const args = process.argv.slice(2)
const flag = args.findIndex((arg) => arg === '--port' || arg.startsWith('--port='))
let port = process.env.PORT || '8787'
if (flag !== -1) {
  const [arg] = args.splice(flag, 1)
  port = arg.includes('=') ? arg.slice('--port='.length) : args.splice(flag, 1)[0]
}
if (!/^\d{2,5}$/.test(port ?? '') || Number(port) > 65535) {
  console.error(`dev: the port must be a number from 10 to 65535, not ${JSON.stringify(port)}`)
  process.exit(2)
}

const env = { ...process.env, DEV_PORT: port }
env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false'

const setup = spawnSync(process.execPath, ['scripts/dev-setup.mjs'], { stdio: 'inherit', env })
if (setup.status !== 0) process.exit(setup.status ?? 1)

const wrangler = spawn('npx', ['wrangler', 'dev', '--port', port, ...args], {
  stdio: 'inherit',
  env,
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => wrangler.kill(signal))
wrangler.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
