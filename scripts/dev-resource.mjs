// `npm run dev:resource`: the auth worker (http://localhost:8787) and the example resource server
// (examples/resource-worker, http://localhost:8788) in two `wrangler dev` processes, which find
// each other through wrangler's local dev registry (the resource server's Service Bindings say
// "[connected]"). Ctrl-C stops both; either one stopping stops the other.
import { spawn } from 'node:child_process'

const AUTH_PORT = process.env.AUTH_PORT ?? '8787'
const RESOURCE_PORT = process.env.RESOURCE_PORT ?? '8788'

const workers = [
  ['auth', ['wrangler', 'dev', '--port', AUTH_PORT]],
  [
    'resource',
    [
      'wrangler',
      'dev',
      '-c',
      'examples/resource-worker/wrangler.toml',
      '--port',
      RESOURCE_PORT,
      // The auth worker's inspector takes the default port.
      '--inspector-port',
      '9230',
    ],
  ],
]

const children = workers.map(([label, args]) => {
  // A process group of its own, so that stopping it takes npx, wrangler and workerd together.
  const child = spawn('npx', args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk) => {
      for (const line of String(chunk).split('\n')) if (line) console.log(`[${label}] ${line}`)
    })
  }
  return child
})

let stopping = false
const stopAll = (code) => {
  if (stopping) return
  stopping = true
  for (const child of children) {
    try {
      if (child.exitCode === null) process.kill(-child.pid, 'SIGTERM')
    } catch {
      // Already gone.
    }
  }
  process.exitCode = code
}
for (const child of children) child.on('exit', (code) => stopAll(code ?? 0))
process.on('SIGINT', () => stopAll(0))
process.on('SIGTERM', () => stopAll(0))
