// Starts `wrangler dev` on a free loopback port with its own state and secret, and reads the CPU
// time of the workerd processes it spawned from /proc.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

const HOST = '127.0.0.1'
const STARTUP_TIMEOUT_MS = 90_000
/** /proc reports CPU time in clock ticks; 100 per second on every Linux build we target. */
const CLOCK_TICKS =
  Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100

export const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, HOST, () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

/** pid → { ppid, comm, cpuTicks } for every process we may read. */
const processTable = () => {
  const table = new Map()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // comm may contain spaces and parentheses; the fields after the last ')' are fixed.
      const close = stat.lastIndexOf(')')
      const comm = stat.slice(stat.indexOf('(') + 1, close)
      const fields = stat.slice(close + 2).split(' ')
      table.set(Number(entry), {
        ppid: Number(fields[1]),
        comm,
        cpuTicks: Number(fields[11]) + Number(fields[12]),
      })
    } catch {
      // The process ended between readdir and read.
    }
  }
  return table
}

/** The workerd processes under `rootPid` (wrangler runs them as grandchildren via npx/node). */
export const workerdProcesses = (rootPid) => {
  const table = processTable()
  const descendants = new Set([rootPid])
  let grew = true
  while (grew) {
    grew = false
    for (const [pid, info] of table) {
      if (!descendants.has(pid) && descendants.has(info.ppid)) {
        descendants.add(pid)
        grew = true
      }
    }
  }
  return [...descendants]
    .filter((pid) => table.get(pid)?.comm === 'workerd')
    .map((pid) => ({ pid, cpuSeconds: table.get(pid).cpuTicks / CLOCK_TICKS }))
}

const run = (command, args, options = {}) => {
  // Standard input is closed so that wrangler never waits for a confirmation.
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    ...options,
  })
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`)
  }
  return result.stdout
}

export const waitForHealth = async (
  baseUrl,
  timeoutMs = STARTUP_TIMEOUT_MS,
  isAlive = () => true,
  path = '/health'
) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`wrangler dev exited before the worker answered ${path}`)
    try {
      const response = await fetch(`${baseUrl}${path}`)
      if (response.ok) return
    } catch {
      // Not listening yet.
    }
    await sleep(250)
  }
  throw new Error(`${baseUrl}${path} did not answer within ${timeoutMs / 1000} s`)
}

/**
 * Bundles the worker once, as a deploy would, into `outDir`; returns the entry file and the size
 * wrangler reports for the upload. Serving this snapshot (rather than src/) means that edits made
 * while the benchmark runs neither reload the worker nor change what is measured.
 */
export const buildWorker = (outDir) => {
  const output = run('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', outDir])
  const match = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(output)
  if (!match) throw new Error(`could not find the bundle size in:\n${output}`)
  return { entry: join(outDir, 'index.js'), rawKiB: Number(match[1]), gzipKiB: Number(match[2]) }
}

/**
 * Runs a worker in a temporary directory of its own: D1/KV state, and an env file with a random
 * JWT_SECRET (passing --env-file makes wrangler skip .dev.vars, so nobody's local secret is used).
 * The app is served from its bundled snapshot with `--no-bundle`, which watches nothing in src/;
 * the floor worker (`floor: true`) is bundled by wrangler from its own config and has no storage.
 */
export const startWorker = async ({
  entry,
  config = 'wrangler.toml',
  floor = false,
  vars = {},
  d1Bindings = ['DB'],
  registryPath,
  log = () => {},
}) => {
  const dir = await mkdtemp(join(tmpdir(), 'edge-jwt-bench-'))
  const stateDir = join(dir, 'state')
  const envFile = join(dir, 'bench.env')
  // The per-client limiter would refuse a load generator from one address: off, as in development.
  // Known to the bench, which signs fresh access tokens with it (scenario me-first-use).
  const jwtSecret = randomBytes(48).toString('base64url')
  const lines = [`JWT_SECRET=${jwtSecret}`, 'CLIENT_RATE_LIMIT_MODE=off']
  for (const [name, value] of Object.entries(vars)) lines.push(`${name}=${value}`)
  writeFileSync(envFile, `${lines.join('\n')}\n`, { mode: 0o600 })

  if (!floor) {
    for (const binding of d1Bindings) {
      log(`applying migrations to ${binding} in ${stateDir}`)
      run('npx', [
        'wrangler',
        'd1',
        'migrations',
        'apply',
        binding,
        '--local',
        '--persist-to',
        stateDir,
        '--config',
        resolve(config),
      ])
    }
  }

  const [port, inspectorPort] = [await freePort(), await freePort()]
  const args = [
    'wrangler',
    'dev',
    ...(floor ? [] : [entry, '--no-bundle']),
    // Explicit, because wrangler otherwise looks for a config next to the entry file.
    '--config',
    resolve(config),
    '--ip',
    HOST,
    '--port',
    String(port),
    '--inspector-port',
    String(inspectorPort),
    '--persist-to',
    stateDir,
    '--env-file',
    envFile,
    '--show-interactive-dev-session=false',
  ]
  log(`starting npx ${args.join(' ')}`)
  // A process group of its own, so that stopping it takes npx, wrangler and workerd together.
  // Workers bound to each other find each other through a dev registry: the run's own, so that
  // no other `wrangler dev` on the machine answers for the auth worker.
  const child = spawn('npx', args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: registryPath ? { ...process.env, WRANGLER_REGISTRY_PATH: registryPath } : process.env,
  })
  // Keep only the tail of its output: enough to explain a failed start, not every request log line.
  const tail = []
  const keep = (chunk) => {
    tail.push(chunk.toString())
    if (tail.length > 40) tail.shift()
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  let exited = false
  child.on('exit', () => {
    exited = true
  })

  const baseUrl = `http://${HOST}:${port}`
  const stop = async () => {
    if (!exited) {
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {
        // Already gone.
      }
      for (let i = 0; i < 40 && !exited; i++) await sleep(100)
      if (!exited) {
        try {
          process.kill(-child.pid, 'SIGKILL')
        } catch {
          // Already gone.
        }
      }
    }
    await rm(dir, { recursive: true, force: true })
  }

  try {
    await waitForHealth(baseUrl, STARTUP_TIMEOUT_MS, () => !exited, floor ? '/' : '/health')
  } catch (error) {
    await stop()
    throw new Error(`${error.message}\n--- wrangler output ---\n${tail.join('')}`)
  }
  return {
    baseUrl,
    jwtSecret,
    pid: child.pid,
    stop,
    cpuSeconds: () => workerdProcesses(child.pid),
    // wrangler's inspector proxy, which holds workerd's one session on the worker's own isolate.
    inspectorProxyUrl: `ws://${HOST}:${inspectorPort}/ws`,
  }
}
