// `npm run bench`: loads the worker with fixed, bounded scenarios and reports throughput, latency,
// the worker isolate's CPU per request against the floor worker, and the performance budget. Usage:
//   node bench/run.mjs [--url http://127.0.0.1:8787] [--rounds 3] [--duration 4] [--warmup 1]
//                      [--connections 10] [--out bench] [--only floor,health,me]
//                      [--profiles DIR]
// --only runs the named scenarios alone (to profile one change quickly) and leaves results.{md,json}
// and chart.svg as they were.
// --profiles writes the worker isolate's V8 profile of each run (DIR/<scenario>-<round>.cpuprofile,
// for Chrome DevTools) and the bundle with its source map, to find what a change made dearer.
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { findInspector, hotFunctions, openProfilers } from './lib/isolate-profiler.mjs'
import { measurePbkdf2Floor, measurePolicyFloor } from './lib/password-floors.mjs'
import { beyondStorage, chartSvg, evaluateBudget, markdownReport } from './lib/report.mjs'
import { load, registerUsers, scenarios, seedNotes } from './lib/scenarios.mjs'
import { buildWorker, startWorker, waitForHealth } from './lib/worker-process.mjs'
import { setTimeout as sleep } from 'node:timers/promises'

const APP_NAME = 'edge-jwt-auth'
const FLOOR_NAME = 'bench-floor'
const RESOURCE_NAME = 'bench-resource'
/**
 * The isolates profiled in the app's workerd, by what they stand for on Cloudflare: the worker
 * (billed CPU), the D1 and KV simulators (I/O the worker waits for), and the local request
 * plumbing (miniflare's entry worker and the assets router, which decide where a request goes).
 */
const APP_ISOLATES = {
  worker: (id) => id === `core:user:${APP_NAME}`,
  d1: (id) => id.startsWith('d1:'),
  kv: (id) => id.startsWith('kv:'),
  plumbing: (id) => id === 'core:entry' || id.startsWith('assets:router'),
}
const FLOOR_ISOLATES = { worker: (id) => id === `core:user:${FLOOR_NAME}` }
const RESOURCE_ISOLATES = { worker: (id) => id === `core:user:${RESOURCE_NAME}` }
/** The same bundle over three D1 databases (DB_SHARDS=3), under a name of its own to profile it. */
const SHARDED_NAME = 'bench-sharded'
const SHARDED_ISOLATES = { ...APP_ISOLATES, worker: (id) => id === `core:user:${SHARDED_NAME}` }
const SHARDED_CONFIG = '.bench-sharded.wrangler.toml'
const SHARDS = 3

/**
 * wrangler.toml with its own name and the shards' D1 bindings beside DB, written next to it so
 * that its relative paths (assets, migrations) hold; removed when the run ends.
 */
const writeShardedConfig = () => {
  const config = readFileSync('wrangler.toml', 'utf8').replace(
    /^name = "edge-jwt-auth"$/m,
    `name = "${SHARDED_NAME}"`
  )
  const shards = Array.from({ length: SHARDS - 1 }, (_, index) => {
    const k = index + 1
    return [
      '[[d1_databases]]',
      `binding = "DB_${k}"`,
      `database_name = "bench-shard-${k}"`,
      `database_id = "00000000-0000-0000-0000-00000000000${k}"`,
      'migrations_dir = "migrations"',
    ].join('\n')
  })
  writeFileSync(SHARDED_CONFIG, `${config}\n${shards.join('\n\n')}\n`)
  process.on('exit', () => rmSync(SHARDED_CONFIG, { force: true }))
  return Array.from({ length: SHARDS }, (_, k) => (k ? `DB_${k}` : 'DB'))
}

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '10' },
    out: { type: 'string', default: 'bench' },
    only: { type: 'string' },
    profiles: { type: 'string' },
  },
})
const rounds = Number(args.rounds)
const durationSeconds = Number(args.duration)
const warmupSeconds = Number(args.warmup)
const connections = Number(args.connections)
const only = args.only?.split(',').map((name) => name.trim())

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

const median = (values) => {
  const sorted = values.filter((value) => value !== null).sort((a, b) => a - b)
  if (sorted.length === 0) return null
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** CPU seconds each workerd process spent between two samples (a process new since `before` counts whole). */
const cpuDelta = (before, after) =>
  after.map((p) => ({
    pid: p.pid,
    cpuSeconds: p.cpuSeconds - (before.find((b) => b.pid === p.pid)?.cpuSeconds ?? 0),
  }))

/** Per request, per isolate group: { worker: ms, d1: ms, ... }, with the worker's hot functions. */
const isolateFigures = (byGroup, requests) => {
  if (!byGroup || !requests) return { isolates: null, hot: null }
  const isolates = Object.fromEntries(
    Object.entries(byGroup).map(([group, { cpuMs }]) => [group, cpuMs / requests])
  )
  return { isolates, hot: hotFunctions(byGroup.worker.profiles[0]) }
}

/**
 * One warm-up and one measured run of a scenario, with the isolates' profilers on; `behind` is a
 * worker the target calls (the auth worker behind the resource worker), profiled alongside.
 */
const sampleScenario = async (worker, scenario, round, behind) => {
  if (warmupSeconds > 0) {
    // The heap is collected during the warm-up: the measured window holds this scenario's garbage.
    await Promise.all([
      load(worker.baseUrl, scenario, warmupSeconds),
      worker.profilers?.collectGarbage(),
      behind?.profilers?.collectGarbage(),
    ])
    await scenario.afterRun?.()
  }
  await Promise.all([worker.profilers?.start(), behind?.profilers?.start()])
  const cpuBefore = worker.cpuSeconds?.()
  const clientBefore = process.cpuUsage()
  const result = await load(worker.baseUrl, scenario, durationSeconds)
  const client = process.cpuUsage(clientBefore)
  const cpuAfter = worker.cpuSeconds?.()
  const [profiled, profiledBehind] = await Promise.all([
    worker.profilers?.stop(),
    behind?.profilers?.stop(),
  ])
  if (args.profiles && profiled?.worker) {
    const file = join(args.profiles, `${scenario.name}-${round}.cpuprofile`)
    writeFileSync(file, JSON.stringify(profiled.worker.profiles[0]))
  }
  await scenario.afterRun?.()
  const requests = result.requests.total
  const { isolates, hot } = isolateFigures(profiled, requests)
  // What the call costs the auth worker's own isolate.
  if (isolates && profiledBehind?.worker && requests) {
    isolates.auth = profiledBehind.worker.cpuMs / requests
  }
  const processes = cpuBefore && cpuAfter ? cpuDelta(cpuBefore, cpuAfter) : null
  const cpuSeconds = processes?.reduce((total, p) => total + p.cpuSeconds, 0) ?? null
  return {
    requests,
    requestsPerSecond: requests / durationSeconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: {
      // Responses other than the scenario's expected status (2xx unless it says otherwise).
      unexpected: scenario.expectStatus
        ? requests - (result.statusCodeStats[scenario.expectStatus]?.count ?? 0)
        : result.non2xx,
      socket: result.errors - result.timeouts,
      timeouts: result.timeouts,
    },
    cpuMsPerRequest: cpuSeconds !== null && requests ? (cpuSeconds * 1000) / requests : null,
    cpuMsPerRequestByProcess:
      processes?.map((p) => (requests ? (p.cpuSeconds * 1000) / requests : null)) ?? null,
    loadGeneratorCpuMsPerRequest: requests ? (client.user + client.system) / 1000 / requests : null,
    isolateCpuMsPerRequest: isolates,
    hotFunctions: hot,
  }
}

/**
 * Scenarios are interleaved round by round, and each figure is the median over the rounds, so that
 * a burst of other work on the shared machine skews one sample rather than one scenario.
 */
const summarize = (scenario, samples) => ({
  name: scenario.name,
  worker: scenario.worker ?? 'app',
  title: scenario.title,
  connections: scenario.connections,
  rounds: samples.length,
  durationSeconds,
  requests: samples.reduce((total, s) => total + s.requests, 0),
  requestsPerSecond: median(samples.map((s) => s.requestsPerSecond)),
  latencyMs: { p50: median(samples.map((s) => s.p50)), p99: median(samples.map((s) => s.p99)) },
  errors: {
    unexpected: samples.reduce((total, s) => total + s.errors.unexpected, 0),
    socket: samples.reduce((total, s) => total + s.errors.socket, 0),
    timeouts: samples.reduce((total, s) => total + s.errors.timeouts, 0),
  },
  cpu:
    samples[0].cpuMsPerRequest === null
      ? null
      : { perRequestMs: median(samples.map((s) => s.cpuMsPerRequest)) },
  isolateCpu:
    samples[0].isolateCpuMsPerRequest === null
      ? null
      : Object.fromEntries(
          Object.keys(samples[0].isolateCpuMsPerRequest).map((group) => [
            group,
            median(samples.map((s) => s.isolateCpuMsPerRequest?.[group] ?? null)),
          ])
        ),
  // The hot functions of the round whose worker figure is the median one.
  hotFunctions: [...samples].sort(
    (a, b) => (a.isolateCpuMsPerRequest?.worker ?? 0) - (b.isolateCpuMsPerRequest?.worker ?? 0)
  )[Math.floor(samples.length / 2)].hotFunctions,
  samples,
})

/** Starts a worker and opens profilers on its isolates; without an inspector, CPU is by process only. */
const startProfiledWorker = async (options, name, groups) => {
  const worker = await startWorker(options)
  const pids = worker.cpuSeconds().map((p) => p.pid)
  const inspector = await findInspector(pids, name)
  if (!inspector) {
    log(`no workerd inspector found for ${name}: isolate CPU not measured`)
    return worker
  }
  worker.profilers = await openProfilers(inspector, groups, {
    workerTarget: `core:user:${name}`,
    proxyUrl: worker.inspectorProxyUrl,
  })
  log(`${name}: profiling ${worker.profilers.targets.map((t) => t.id).join(', ')}`)
  const stop = worker.stop
  worker.stop = async () => {
    worker.profilers.close()
    await stop()
  }
  return worker
}

/**
 * An EdDSA key the resource worker trusts (BENCH_JWKS) and one access token signed with it: JWKS
 * verification costs the same whoever signed, so the bench signs it itself.
 */
const benchJwks = () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const { kty, crv, x } = publicKey.export({ format: 'jwk' })
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const claims = {
    iss: APP_NAME,
    aud: APP_NAME,
    sub: randomUUID(),
    sid: randomUUID(),
    jti: randomUUID(),
    iat: now,
    exp: now + 3600,
    token_use: 'access',
    amr: ['pwd'],
    auth_time: now,
  }
  const input = `${part({ alg: 'EdDSA', typ: 'JWT', kid: 'bench' })}.${part(claims)}`
  const signature = sign(null, Buffer.from(input), privateKey).toString('base64url')
  return {
    set: { keys: [{ kty, crv, x, kid: 'bench', alg: 'EdDSA', use: 'sig' }] },
    token: `${input}.${signature}`,
  }
}

/** The resource worker's Service Binding connects through the registry a moment after both start. */
const waitForBinding = async (baseUrl, token) => {
  for (let attempt = 0; attempt < 120; attempt++) {
    const res = await fetch(`${baseUrl}/rpc`, { headers: { authorization: `Bearer ${token}` } })
    if (res.ok) return
    await sleep(250)
  }
  throw new Error('the resource worker could not reach the auth worker over its Service Binding')
}

const main = async () => {
  const machineInfo = machine()
  const pbkdf2 = await measurePbkdf2Floor()
  log(`PBKDF2 floor ${pbkdf2.medianMs.toFixed(1)} ms`)
  const passwordPolicy = await measurePolicyFloor()
  log(
    passwordPolicy.skipped ??
      `current password policy (${passwordPolicy.policy}) floor ${passwordPolicy.medianMs.toFixed(1)} ms`
  )

  const buildDir = mkdtempSync(join(tmpdir(), 'edge-jwt-bench-build-'))
  const registryPath = mkdtempSync(join(tmpdir(), 'edge-jwt-bench-registry-'))
  process.on('exit', () => {
    rmSync(buildDir, { recursive: true, force: true })
    rmSync(registryPath, { recursive: true, force: true })
  })
  log('bundling the worker (wrangler deploy --dry-run)')
  const build = buildWorker(buildDir)
  const bundle = { rawKiB: build.rawKiB, gzipKiB: build.gzipKiB }
  log(`bundle ${bundle.gzipKiB} KiB gzip`)
  if (args.profiles) {
    mkdirSync(args.profiles, { recursive: true })
    for (const file of ['index.js', 'index.js.map']) {
      copyFileSync(join(buildDir, file), join(args.profiles, file))
    }
  }

  let worker
  if (args.url) {
    const baseUrl = args.url.replace(/\/$/, '')
    await waitForHealth(baseUrl, 10_000)
    worker = { baseUrl, stop: async () => {} }
    log(`targeting ${baseUrl}; server CPU is not measured for a worker this run did not start`)
  } else {
    worker = await startProfiledWorker(
      { entry: build.entry, registryPath, log },
      APP_NAME,
      APP_ISOLATES
    )
    log(`worker up at ${worker.baseUrl}`)
  }

  const startedAt = new Date()
  let measured
  let floor
  let resource
  let sharded
  try {
    floor = await startProfiledWorker(
      { config: 'bench/floor-worker/wrangler.toml', floor: true, log },
      FLOOR_NAME,
      FLOOR_ISOLATES
    )
    log(`floor worker up at ${floor.baseUrl}`)
    const jwks = benchJwks()
    // A worker this run did not start cannot be bound to: the resource scenarios need both.
    resource = args.url
      ? undefined
      : await startProfiledWorker(
          {
            config: 'bench/resource-worker/wrangler.toml',
            floor: true,
            vars: { BENCH_JWKS: `'${JSON.stringify(jwks.set)}'` },
            registryPath,
            log,
          },
          RESOURCE_NAME,
          RESOURCE_ISOLATES
        )
    if (resource) log(`resource worker up at ${resource.baseUrl}`)
    sharded = args.url
      ? undefined
      : await startProfiledWorker(
          {
            entry: build.entry,
            config: SHARDED_CONFIG,
            d1Bindings: writeShardedConfig(),
            vars: { DB_SHARDS: String(SHARDS) },
            log,
          },
          SHARDED_NAME,
          SHARDED_ISOLATES
        )
    if (sharded) log(`worker with ${SHARDS} D1 shards up at ${sharded.baseUrl}`)
    log('registering users')
    const users = await registerUsers(worker.baseUrl, connections, 'chain')
    if (resource) await waitForBinding(resource.baseUrl, users[0].accessToken)
    const [loginUser] = await registerUsers(worker.baseUrl, 1, 'login')
    const noteUsers = await registerUsers(worker.baseUrl, connections, 'notes')
    await seedNotes(worker.baseUrl, noteUsers)
    let plan = scenarios({
      baseUrl: worker.baseUrl,
      users,
      loginUser,
      noteUsers,
      connections,
      jwksToken: jwks.token,
      jwtSecret: worker.jwtSecret,
    }).filter((scenario) => scenario.worker !== 'resource' || resource)
    if (sharded) {
      // The hot paths again on the sharded worker, with users of its own (spread over the shards).
      const shardedUsers = await registerUsers(sharded.baseUrl, connections, 'sharded')
      const again = scenarios({
        baseUrl: sharded.baseUrl,
        users: shardedUsers,
        loginUser,
        noteUsers,
        connections,
        jwtSecret: sharded.jwtSecret,
      })
      for (const name of ['me', 'refresh']) {
        const scenario = again.find((candidate) => candidate.name === name)
        // Right after its one-database twin, so that both meet the same load on the machine.
        const twin = plan.findIndex((candidate) => candidate.name === name)
        plan.splice(twin + 1, 0, {
          ...scenario,
          name: `sharded-${name}`,
          title: `${scenario.title}, ${SHARDS} D1 shards`,
          worker: 'sharded',
        })
      }
    }
    plan = plan
      .filter((scenario) => !scenario.skip)
      .filter((scenario) => !only || only.includes(scenario.name))
    const samples = plan.map(() => [])
    for (let round = 1; round <= rounds; round++) {
      log(
        `round ${round} of ${rounds}: each scenario ${warmupSeconds} s warm-up, ${durationSeconds} s measured`
      )
      for (const [index, scenario] of plan.entries()) {
        const target = { floor, resource, sharded }[scenario.worker] ?? worker
        const behind = scenario.worker === 'resource' ? worker : undefined
        const sample = await sampleScenario(target, scenario, round, behind)
        samples[index].push(sample)
        const errors = sample.errors.unexpected + sample.errors.socket + sample.errors.timeouts
        const isolateText =
          sample.isolateCpuMsPerRequest === null
            ? ''
            : `isolate ${sample.isolateCpuMsPerRequest.worker.toFixed(3)} ms, `
        const cpuText =
          sample.cpuMsPerRequest === null
            ? 'CPU not measured'
            : `${isolateText}process ${sample.cpuMsPerRequest.toFixed(3)} ms CPU/request`
        log(
          `  ${scenario.title.padEnd(28)} ${sample.requestsPerSecond.toFixed(0).padStart(5)} req/s, ` +
            `p50 ${sample.p50} ms, p99 ${sample.p99} ms, ${errors} errors, ${cpuText}`
        )
      }
    }
    measured = plan.map((scenario, index) => summarize(scenario, samples[index]))
  } finally {
    await worker.stop()
    await floor?.stop()
    await resource?.stop()
    await sharded?.stop()
  }

  const results = {
    date: startedAt.toISOString(),
    target: args.url
      ? `${args.url} (server CPU not measured)`
      : 'wrangler dev on 127.0.0.1 serving the bundled worker, local D1 and KV, started by this run',
    machine: machineInfo,
    settings: { rounds, durationSeconds, warmupSeconds, connections },
    pbkdf2,
    passwordPolicy,
    bundle,
    scenarios: measured,
  }
  results.budget = evaluateBudget(results)
  results.beyondStorage = beyondStorage(results)

  const report = markdownReport(results)
  if (only) {
    console.log(report)
    log('--only: a partial run, so results.{md,json} and chart.svg are left as they were')
    return
  }
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
