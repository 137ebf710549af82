// `npm run bench:passwords`: CPU and wall time per password hash, for each algorithm and parameter
// set, in Node (OpenSSL) and in workerd (BoringSSL, the app's own hasher code). Usage:
//   node bench/password-hashing.mjs [--rounds 5] [--no-workerd] [--markdown]
import { pbkdf2Sync, scryptSync } from 'node:crypto'
import { cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { workerdProcesses } from './lib/worker-process.mjs'

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    'no-workerd': { type: 'boolean', default: false },
    markdown: { type: 'boolean', default: false },
  },
})
const ROUNDS = Math.max(1, Number(args.rounds))
const HERE = dirname(fileURLToPath(import.meta.url))
const MiB = 1024 * 1024

// Notes name the worker's two policies (PASSWORD_HASH); `deployable: false` marks what deployed
// Workers cannot run.
const CASES = [
  { alg: 'pbkdf2-sha256', i: 100_000, note: 'Workers cap; **default**' },
  {
    alg: 'pbkdf2-sha256',
    i: 600_000,
    note: 'OWASP minimum; refused by deployed Workers',
    deployable: false,
  },
  { alg: 'scrypt', ln: 14, r: 8, p: 1, note: 'common on Workers; below OWASP' },
  { alg: 'scrypt', ln: 13, r: 8, p: 10, note: 'OWASP option' },
  { alg: 'scrypt', ln: 14, r: 8, p: 5, note: 'OWASP option; **PASSWORD_HASH=scrypt**' },
  { alg: 'scrypt', ln: 15, r: 8, p: 3, note: 'OWASP option' },
  {
    alg: 'scrypt',
    ln: 16,
    r: 8,
    p: 2,
    note: 'OWASP option; over the 33 MiB budget',
    deployable: false,
  },
]

const label = (c) =>
  c.alg === 'scrypt' ? `scrypt N=2^${c.ln}, r=${c.r}, p=${c.p}` : `PBKDF2-SHA256 i=${c.i}`
const memoryBytes = (c) => (c.alg === 'scrypt' ? 128 * c.r * (2 ** c.ln + c.p + 2) : 0)
const query = (c) =>
  c.alg === 'scrypt' ? `alg=scrypt&ln=${c.ln}&r=${c.r}&p=${c.p}` : `alg=pbkdf2-sha256&i=${c.i}`
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const log = (message) => console.error(`bench:passwords: ${message}`)

/** One derivation in this Node process; process.cpuUsage counts every thread, so CPU is exact. */
const nodeHash = (c) => {
  const salt = Buffer.alloc(16, 7)
  if (c.alg === 'scrypt') {
    scryptSync('correct horse battery staple', salt, 32, {
      N: 2 ** c.ln,
      r: c.r,
      p: c.p,
      maxmem: memoryBytes(c),
    })
  } else pbkdf2Sync('correct horse battery staple', salt, c.i, 32, 'sha256')
}

const measureNode = (c) => {
  nodeHash(c)
  const cpu = []
  const wall = []
  for (let round = 0; round < ROUNDS; round++) {
    const [startCpu, startWall] = [process.cpuUsage(), performance.now()]
    nodeHash(c)
    const used = process.cpuUsage(startCpu)
    wall.push(performance.now() - startWall)
    cpu.push((used.user + used.system) / 1000)
  }
  return { cpuMs: median(cpu), wallMs: median(wall) }
}

// workerd is a descendant of this process (wrangler's unstable_dev runs in-process); /proc gives
// its CPU time in clock ticks, so each sample covers several hashes to stay above a tick.
const workerdCpuSeconds = () => {
  const workerd = workerdProcesses(process.pid)
  if (workerd.length === 0) return null
  return workerd.reduce((sum, { cpuSeconds }) => sum + cpuSeconds, 0)
}

const measureWorkerd = async (worker, c) => {
  const perRequest = c.alg === 'scrypt' ? 2 : 5
  const call = async (retries = 2) => {
    try {
      const response = await worker.fetch(`/?${query(c)}&n=${perRequest}`)
      const text = await response.text()
      if (!response.ok) throw new Error(`${label(c)}: ${response.status} ${text}`)
    } catch (error) {
      // A transient failure (workerd restarting under load) is retried, never reported as a result.
      if (retries === 0) throw error
      log(`${label(c)}: retrying after: ${error.message}`)
      await new Promise((resolve) => setTimeout(resolve, 2000))
      await call(retries - 1)
    }
  }
  await call()
  const cpu = []
  const wall = []
  for (let round = 0; round < ROUNDS; round++) {
    const [startCpu, startWall] = [workerdCpuSeconds(), performance.now()]
    await call()
    wall.push((performance.now() - startWall) / perRequest)
    const endCpu = workerdCpuSeconds()
    if (startCpu !== null && endCpu !== null) cpu.push(((endCpu - startCpu) * 1000) / perRequest)
  }
  return { cpuMs: cpu.length ? median(cpu) : null, wallMs: median(wall) }
}

const startWorkerd = async () => {
  const { unstable_dev } = await import('wrangler')
  return unstable_dev(join(HERE, 'password-worker', 'worker.ts'), {
    config: join(HERE, 'password-worker', 'wrangler.toml'),
    ip: '127.0.0.1',
    logLevel: 'error',
    // No watching: a source edit elsewhere in the tree would restart workerd mid-measurement.
    experimental: { disableExperimentalWarning: true, disableDevRegistry: true, watch: false },
  })
}

const fmt = (ms) =>
  ms === null || ms === undefined ? 'n/a' : ms < 10 ? ms.toFixed(1) : ms.toFixed(0)

const main = async () => {
  log(
    `${ROUNDS} rounds per case, median reported; ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load ${loadavg()[0].toFixed(2)}`
  )
  const rows = []
  let worker = null
  if (!args['no-workerd']) {
    log('starting workerd through wrangler unstable_dev')
    worker = await startWorkerd()
  }
  try {
    for (const c of CASES) {
      log(`measuring ${label(c)}`)
      const node = measureNode(c)
      const workerd = worker && c.deployable !== false ? await measureWorkerd(worker, c) : null
      rows.push({ c, node, workerd })
    }
  } finally {
    await worker?.stop()
  }

  const header = [
    '| algorithm and parameters | memory | workerd CPU ms | workerd wall ms | Node CPU ms | Node wall ms | note |',
    '|---|---|---|---|---|---|---|',
  ]
  const lines = rows.map(({ c, node, workerd }) => {
    const memory = c.alg === 'scrypt' ? `${(memoryBytes(c) / MiB).toFixed(0)} MiB` : '—'
    return `| ${label(c)} | ${memory} | ${fmt(workerd?.cpuMs)} | ${fmt(workerd?.wallMs)} | ${fmt(node.cpuMs)} | ${fmt(node.wallMs)} | ${c.note} |`
  })
  console.log([...header, ...lines].join('\n'))
  if (!args.markdown) {
    console.log(
      `\nMedian of ${ROUNDS} per hash; "n/a" in workerd: not run there (deployed Workers refuse it or it is over budget).`
    )
    console.log(
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadavg()[0].toFixed(2)}.`
    )
  }
}

await main()
