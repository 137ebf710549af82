// `npm run bench`: loads the worker with fixed, bounded scenarios and reports throughput, latency,
// server CPU per request and the performance budget. Usage:
//   node bench/run.mjs [--url http://127.0.0.1:8787] [--duration 8] [--warmup 2] [--connections 10]
//                      [--out bench]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { measurePbkdf2Floor, measurePolicyFloor } from './lib/password-floors.mjs'
import { chartSvg, evaluateBudget, markdownReport } from './lib/report.mjs'
import { load, registerUsers, scenarios, seedNotes } from './lib/scenarios.mjs'
import { buildWorker, startWorker, waitForHealth } from './lib/worker-process.mjs'

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    duration: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '10' },
    out: { type: 'string', default: 'bench' },
  },
})
const durationSeconds = Number(args.duration)
const warmupSeconds = Number(args.warmup)
const connections = Number(args.connections)

const log = (message) => console.error(`bench: ${message}`)

const machine = () => {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')
  return {
    nproc: cpus().length,
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1].trim() ?? 'unknown',
    node: process.versions.node,
    wrangler: JSON.parse(readFileSync('node_modules/wrangler/package.json', 'utf8')).version,
    loadAverage: loadavg().map((value) => Number(value.toFixed(2))),
  }
}

const sumCpu = (processes) => processes.reduce((total, p) => total + p.cpuSeconds, 0)

/** CPU spent by each workerd process between two samples; processes that started in between count whole. */
const cpuDelta = (before, after) =>
  after.map((p) => ({
    pid: p.pid,
    cpuSeconds: Number((p.cpuSeconds - (before.find((b) => b.pid === p.pid)?.cpuSeconds ?? 0)).toFixed(2)),
  }))

const runScenario = async (worker, scenario) => {
  if (warmupSeconds > 0) await load(worker.baseUrl, scenario, warmupSeconds)
  const cpuBefore = worker.cpuSeconds?.()
  const clientBefore = process.cpuUsage()
  const result = await load(worker.baseUrl, scenario, durationSeconds)
  const client = process.cpuUsage(clientBefore)
  const cpuAfter = worker.cpuSeconds?.()
  const requests = result.requests.total
  let cpu = null
  if (cpuBefore && cpuAfter) {
    const processes = cpuDelta(cpuBefore, cpuAfter)
    const totalSeconds = sumCpu(processes)
    cpu = { totalSeconds: Number(totalSeconds.toFixed(2)), perRequestMs: requests ? (totalSeconds * 1000) / requests : null, processes }
  }
  return {
    name: scenario.name,
    title: scenario.title,
    connections: scenario.connections,
    durationSeconds,
    requests,
    requestsPerSecond: requests / (result.duration || durationSeconds),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, mean: result.latency.average, max: result.latency.max },
    errors: { non2xx: result.non2xx, socket: result.errors - result.timeouts, timeouts: result.timeouts },
    cpu,
    loadGeneratorCpuMsPerRequest: requests ? (client.user + client.system) / 1000 / requests : null,
  }
}

const main = async () => {
  const machineInfo = machine()
  const pbkdf2 = await measurePbkdf2Floor()
  log(`PBKDF2 floor ${pbkdf2.medianMs.toFixed(1)} ms`)
  const passwordPolicy = await measurePolicyFloor()
  log(passwordPolicy.skipped ?? `current password policy (${passwordPolicy.policy}) floor ${passwordPolicy.medianMs.toFixed(1)} ms`)
  const buildDir = mkdtempSync(join(tmpdir(), 'edge-jwt-bench-build-'))
  process.on('exit', () => rmSync(buildDir, { recursive: true, force: true }))
  log('bundling the worker (wrangler deploy --dry-run)')
  const build = buildWorker(buildDir)
  const bundle = { rawKiB: build.rawKiB, gzipKiB: build.gzipKiB }
  log(`bundle ${bundle.gzipKiB} KiB gzip`)

  let worker
  if (args.url) {
    const baseUrl = args.url.replace(/\/$/, '')
    await waitForHealth(baseUrl, 10_000)
    worker = { baseUrl, stop: async () => {} }
    log(`targeting ${baseUrl}; server CPU is not measured for a worker this run did not start`)
  } else {
    worker = await startWorker({ entry: build.entry, log })
    log(`worker up at ${worker.baseUrl}`)
  }

  const measured = []
  const startedAt = new Date()
  try {
    log('registering users')
    const users = await registerUsers(worker.baseUrl, connections, 'chain')
    const [loginUser] = await registerUsers(worker.baseUrl, 1, 'login')
    const noteUsers = await registerUsers(worker.baseUrl, connections, 'notes')
    await seedNotes(worker.baseUrl, noteUsers)
    for (const scenario of scenarios({ users, loginUser, noteUsers, connections })) {
      log(`${scenario.title}: ${warmupSeconds} s warm-up, ${durationSeconds} s measured, ${scenario.connections} connection(s)`)
      const outcome = await runScenario(worker, scenario)
      measured.push(outcome)
      const cpuText = outcome.cpu ? `${outcome.cpu.perRequestMs.toFixed(3)} ms CPU/request` : 'CPU not measured'
      log(
        `  ${outcome.requestsPerSecond.toFixed(0)} req/s, p50 ${outcome.latencyMs.p50} ms, p99 ${outcome.latencyMs.p99} ms, ` +
          `${outcome.errors.non2xx + outcome.errors.socket + outcome.errors.timeouts} errors, ${cpuText}`
      )
    }
  } finally {
    await worker.stop()
  }

  const results = {
    date: startedAt.toISOString(),
    target: args.url ? `${args.url} (server CPU not measured)` : 'wrangler dev on 127.0.0.1 (local D1 and KV), started by this run',
    machine: machineInfo,
    settings: { durationSeconds, warmupSeconds, connections },
    pbkdf2,
    passwordPolicy,
    bundle,
    scenarios: measured,
  }
  results.budget = evaluateBudget(results)

  const report = markdownReport(results)
  writeFileSync(join(args.out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`)
  writeFileSync(join(args.out, 'results.md'), report)
  writeFileSync(join(args.out, 'chart.svg'), await chartSvg(results))
  console.log(report)
  log(`wrote ${join(args.out, 'results.json')}, results.md and chart.svg`)
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
