// Turns the measurements into the budget verdicts, a markdown table and a vega-lite chart.
import * as vega from 'vega'
import * as vegaLite from 'vega-lite'

const BUNDLE_BUDGET_KIB = 45

const round = (value, digits = 2) =>
  value === null || value === undefined ? null : Number(value.toFixed(digits))

/** Each scenario by name, and the worker isolate's CPU per request of one (null if unmeasured). */
const indexScenarios = (scenarios) => {
  const byName = Object.fromEntries(scenarios.map((scenario) => [scenario.name, scenario]))
  return { byName, isolate: (name) => byName[name]?.isolateCpu?.worker ?? null }
}

/** A resource-worker scenario's CPU in both isolates: its own and the auth worker's behind it. */
const bothWorkers = (scenario) => {
  const { worker, auth } = scenario?.isolateCpu ?? {}
  return worker === undefined || worker === null ? null : worker + (auth ?? 0)
}

const bothWorkersLine = (byName, label, name, baseName, limit) => {
  const [value, base] = [bothWorkers(byName[name]), bothWorkers(byName[baseName])]
  if (value === null || !base) return { label, verdict: 'SKIP', detail: 'not measured in this run' }
  const ratio = value / base
  return {
    label,
    verdict: ratio <= limit ? 'PASS' : 'FAIL',
    ratio: round(ratio),
    limit,
    detail: `${round(value, 3)} ms vs ${round(base, 3)} ms: ${round(ratio)}× (limit ${limit}×)`,
  }
}

/** Another Worker's three ways to verify a token (docs/other-workers.md), both isolates apart. */
const otherWorkerLines = (results) => {
  const rows = results.scenarios.filter((s) => s.worker === 'resource')
  if (rows.length === 0) return []
  return [
    '## Verifying from another Worker (bench/resource-worker, docs/other-workers.md)',
    '',
    '| scenario | p50 ms | resource worker isolate CPU ms/req | auth worker isolate CPU ms/req | both |',
    '|---|---:|---:|---:|---:|',
    ...rows.map(
      (s) =>
        `| ${s.title} | ${cell(s.latencyMs.p50, 1)} | ${cell(s.isolateCpu?.worker ?? null, 3)} | ` +
        `${cell(s.isolateCpu?.auth ?? null, 3)} | ${cell(bothWorkers(s), 3)} |`
    ),
    '',
  ]
}

/**
 * What one storage call or log line adds to the floor worker (its route less the constant route):
 * the binding's client code, the await and the reply, before any of the app's own code.
 */
const floorPrices = (isolate) => {
  const floor = isolate('floor')
  const price = (name) => (isolate(name) !== null && floor ? isolate(name) - floor : null)
  return {
    floor,
    d1Read: price('floor-d1'),
    d1Write: price('floor-d1-write'),
    kvRead: price('floor-kv'),
    kvWrite: price('floor-kv-write'),
    logLine: price('floor-log'),
  }
}

/** The sum of some priced calls, with its wording; null when one of them was not measured. */
const priced = (prices, calls) => {
  const names = {
    d1Read: 'D1 read',
    d1Write: 'D1 write',
    kvRead: 'KV read',
    kvWrite: 'KV write',
    logLine: 'log line',
  }
  let ms = 0
  for (const call of calls) {
    if (prices[call] === null) return null
    ms += prices[call]
  }
  return { ms, text: calls.map((call) => names[call]).join(' + ') }
}

/** The storage calls each route makes (test/round-trips.test.ts counts them), by kind. */
export const ROUTE_CALLS = {
  // The lockout check (a batch that writes the attempt) and the user read, then the session's
  // batch and the refresh record; after the response, the security event's row (waitUntil). Two
  // lines: the request's and the security event's.
  login: ['d1Write', 'd1Read', 'd1Write', 'kvWrite', 'd1Write', 'logLine', 'logLine'],
  // The record, the session row, the successor's record, the compare-and-swap, the line.
  refresh: ['kvRead', 'd1Read', 'kvWrite', 'd1Write', 'logLine'],
}

/**
 * The performance budget, held on the worker isolate's own CPU (what Cloudflare bills), each line
 * against figures measured in the same run, so that the shared machine's load mostly cancels out:
 * a ratio to a floor, or the floor worker's own price of the route's storage calls plus a fixed
 * allowance for the app's code. A benchmark on a shared machine is noisy, so a FAIL is reported,
 * never turned into an exit status.
 */
export const evaluateBudget = ({ scenarios, bundle }) => {
  const { byName, isolate } = indexScenarios(scenarios)
  const prices = floorPrices(isolate)
  const skip = (label) => ({
    label,
    verdict: 'SKIP',
    detail: 'no isolate CPU figure (only measured for workers this run started)',
  })
  const ratioLine = (label, name, baseName, limit) => {
    const [value, base] = [isolate(name), isolate(baseName)]
    if (value === null || !base) return skip(label)
    const ratio = value / base
    return {
      label,
      verdict: ratio <= limit ? 'PASS' : 'FAIL',
      ratio: round(ratio),
      limit,
      detail: `${round(value, 3)} ms vs ${byName[baseName].title} ${round(base, 3)} ms: ${round(ratio)}× (limit ${limit}×)`,
    }
  }
  /** `name` ≤ factor × (base + its calls) + allowance, the calls priced at the floor worker. */
  const pricedLine = (label, name, { base, calls, factor = 1, allowanceMs = 0 }) => {
    const value = isolate(name)
    const storage = priced(prices, calls)
    const baseMs = isolate(base)
    if (value === null || storage === null || !baseMs) return skip(label)
    const limitMs = factor * (baseMs + storage.ms) + allowanceMs
    const scaled = factor === 1 ? '' : `${factor} × `
    const extra = allowanceMs ? ` + ${allowanceMs} ms` : ''
    return {
      label,
      verdict: value <= limitMs ? 'PASS' : 'FAIL',
      ratio: round(value / limitMs),
      limitMs: round(limitMs, 3),
      detail:
        `${round(value, 3)} ms vs ${scaled}(${byName[base].title} ${round(baseMs, 3)} ms + ` +
        `${storage.text} ${round(storage.ms, 3)} ms)${extra} = ${round(limitMs, 3)} ms: ` +
        `${round(value / limitMs)}× the limit`,
    }
  }
  const lines = [
    ratioLine('GET /health isolate CPU ≤ 2× the floor worker', 'health', 'floor', 2),
    ratioLine(
      'GET /me isolate CPU ≤ 1.3× the floor worker with one D1 read',
      'me',
      'floor-d1',
      1.3
    ),
    ratioLine(
      'GET /me with a token on its first use isolate CPU ≤ 1.3× GET /me with a token the isolate has verified',
      'me-first-use',
      'me',
      1.3
    ),
    // Against the first use: a forgery is verified in full, as a new genuine token is.
    ratioLine(
      'GET /me with a forged token isolate CPU ≤ GET /me with a token on its first use',
      'me-rejected',
      'me-first-use',
      1
    ),
    ratioLine(
      'GET /me with an 8 KiB forged Authorization isolate CPU ≤ 1.5× a forged token',
      'me-maximal-header',
      'me-rejected',
      1.5
    ),
    pricedLine(
      "POST /auth/refresh isolate CPU ≤ the floor worker's cost of its storage calls and log line + 0.5 ms",
      'refresh',
      { base: 'floor', calls: ROUTE_CALLS.refresh, allowanceMs: 0.5 }
    ),
    pricedLine(
      'POST /auth/login isolate CPU ≤ 1.1× (one PBKDF2 derivation in workerd + its storage calls and log line)',
      'login',
      { base: 'floor-pbkdf2', calls: ROUTE_CALLS.login, factor: 1.1 }
    ),
    ratioLine(
      'POST /auth/login with an unknown email isolate CPU ≤ 1.1× a known email',
      'login-unknown',
      'login',
      1.1
    ),
    // Sharding adds a routing step (the shard from the id's tag), never a storage call.
    ratioLine(
      'GET /me with 3 D1 shards isolate CPU ≤ 1.1× GET /me with one database',
      'sharded-me',
      'me',
      1.1
    ),
    ratioLine(
      'POST /auth/refresh with 3 D1 shards isolate CPU ≤ 1.1× POST /auth/refresh with one database',
      'sharded-refresh',
      'refresh',
      1.1
    ),
  ]
  lines.push(
    bothWorkersLine(
      byName,
      'verification over RPC (resource + auth isolates) ≤ GET /me over HTTP from the same worker',
      'verify-rpc',
      'verify-http',
      1
    )
  )
  if (bundle) {
    lines.push({
      label: `bundle ≤ ${BUNDLE_BUDGET_KIB} KiB gzip`,
      verdict: bundle.gzipKiB <= BUNDLE_BUDGET_KIB ? 'PASS' : 'FAIL',
      detail: `${bundle.gzipKiB} KiB gzip (${bundle.rawKiB} KiB raw)`,
    })
  }
  return lines
}

/**
 * Not budget lines: each route less its storage calls and log line, priced at the floor worker
 * as in the budget; what is left is the app's own code on top of a bare Hono request.
 */
export const beyondStorage = ({ scenarios }) => {
  const { isolate } = indexScenarios(scenarios)
  const prices = floorPrices(isolate)
  const pbkdf2 = isolate('floor-pbkdf2')
  const line = (label, name, calls, derivation = false) => {
    const value = isolate(name)
    const storage = priced(prices, calls)
    if (value === null || storage === null || !prices.floor || (derivation && !pbkdf2)) return null
    // The PBKDF2 floor is a request too: less it, the derivation alone.
    const base = derivation ? pbkdf2 : prices.floor
    const rest = value - storage.ms - base
    const calling = calls.length ? ` − ${storage.text} ${round(storage.ms, 3)} ms` : ''
    const baseText = derivation ? 'one PBKDF2 derivation (its floor route)' : 'the bare floor'
    return {
      label,
      verdict: 'app code',
      detail: `${round(value, 3)} ms${calling} − ${baseText} ${round(base, 3)} ms = ${round(rest, 3)} ms`,
    }
  }
  return [
    line('GET /health', 'health', []),
    line('GET /me', 'me', ['d1Read']),
    line('POST /auth/refresh', 'refresh', ROUTE_CALLS.refresh),
    line('POST /auth/login', 'login', ROUTE_CALLS.login, true),
  ].filter((entry) => entry !== null)
}

const cell = (value, digits = 2) =>
  value === null || value === undefined ? '—' : value.toFixed(digits)

export const markdownTable = (results) => {
  const header = [
    '| scenario | conn. | requests | req/s | p50 ms | p99 ms | errors | **worker isolate CPU ms/req** | × floor | D1 isolates | KV isolates | local plumbing | process CPU ms/req |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  const floor = results.scenarios.find((s) => s.name === 'floor')?.isolateCpu?.worker ?? null
  const rows = results.scenarios.map((s) => {
    const worker = s.isolateCpu?.worker ?? null
    return [
      `| ${s.title}`,
      s.connections,
      s.requests,
      cell(s.requestsPerSecond, 0),
      cell(s.latencyMs.p50, 1),
      cell(s.latencyMs.p99, 1),
      s.errors.unexpected + s.errors.socket + s.errors.timeouts,
      `**${cell(worker, 3)}**`,
      worker !== null && floor ? `${(worker / floor).toFixed(1)}×` : '—',
      cell(s.isolateCpu?.d1 ?? null, 3),
      cell(s.isolateCpu?.kv ?? null, 3),
      cell(s.isolateCpu?.plumbing ?? null, 3),
      `${cell(s.cpu?.perRequestMs ?? null, 3)} |`,
    ].join(' | ')
  })
  return [...header, ...rows].join('\n')
}

const hotFunctionLines = (results) =>
  results.scenarios
    .filter((s) => s.hotFunctions?.length && s.worker !== 'floor')
    .map(
      (s) =>
        `- ${s.title}: ` +
        s.hotFunctions
          .slice(0, 5)
          .map((f) => `\`${f.name}\` ${(f.share * 100).toFixed(0)}%`)
          .join(', ')
    )

export const markdownReport = (results) => {
  const { machine, settings, pbkdf2, passwordPolicy, bundle } = results
  return [
    '# Benchmark results',
    '',
    `Run on ${results.date}: ${machine.nproc} CPUs (${machine.cpuModel}), Node ${machine.node}, ` +
      `wrangler ${machine.wrangler}, load average before the run ${machine.loadAverage.join(' / ')}.`,
    `Target: ${results.target}. ${settings.rounds} rounds; in each, every scenario gets ` +
      `${settings.warmupSeconds} s of warm-up and ${settings.durationSeconds} s measured (autocannon on ` +
      '127.0.0.1). Figures are medians over the rounds; "requests" and "errors" are totals, an error ' +
      'being a socket error, a timeout or a status other than the expected one (2xx; 401 for the forged ' +
      'token).',
    '',
    "**Worker isolate CPU** is what Cloudflare bills: the non-idle samples of V8's profiler on the " +
      "worker's own isolate (workerd's inspector), times the sampler's real period, divided by the " +
      "responses. The D1 and KV columns are the simulators' isolates (on Cloudflare, I/O the worker " +
      "waits for); local plumbing is miniflare's entry worker and the assets router. Process CPU is " +
      'the old figure: user + system time of every workerd process the run started, all of the above ' +
      "and the runtime's own threads together. The floor rows come from bench/floor-worker, a bare " +
      'Hono app served by its own wrangler dev in the same run. The machine is shared with other ' +
      'work, so absolute figures are noisy; the budget holds ratios measured in the same run.',
    '',
    markdownTable(results),
    '',
    `Node's PBKDF2 (for reference, not a budget line): ${pbkdf2.medianMs.toFixed(1)} ms median of ${pbkdf2.rounds} ` +
      `${pbkdf2.iterations.toLocaleString('en')}-iteration derivations (${pbkdf2.method}).`,
    passwordPolicy?.skipped
      ? ''
      : `Current password policy in Node: ${passwordPolicy.medianMs.toFixed(1)} ms median of ${passwordPolicy.rounds} ` +
        `${passwordPolicy.policy} derivations (${passwordPolicy.method}).`,
    bundle
      ? `Bundle: ${bundle.gzipKiB} KiB gzip, ${bundle.rawKiB} KiB raw (wrangler deploy --dry-run).`
      : '',
    '',
    ...otherWorkerLines(results),
    '## Budget',
    '',
    ...results.budget.map((line) => `- **${line.verdict}** ${line.label}: ${line.detail}`),
    '',
    ...(results.beyondStorage?.length
      ? [
          "The app's own code (not budget lines: each route less its storage calls and log line, " +
            'priced at the floor worker by kind, and less the bare floor; bench/README.md):',
          '',
          ...results.beyondStorage.map(
            (line) => `- ${line.verdict}: ${line.label}: ${line.detail}`
          ),
          '',
        ]
      : []),
    "## Hot functions (self time in the worker's isolate, the median round)",
    '',
    ...hotFunctionLines(results),
    '',
  ].join('\n')
}

/** Two panels: worker isolate CPU per request against the floors, and p50/p99 latency, per scenario (log scales: login is ~100× health). */
export const chartSvg = async (results) => {
  const cpuRows = results.scenarios
    .filter((s) => s.isolateCpu)
    .map((s) => ({
      scenario: s.title,
      value: s.isolateCpu.worker,
      kind: s.worker === 'floor' ? 'floor worker' : 'edge-jwt-auth',
    }))
  const floorRules = results.scenarios
    .filter((s) => s.worker === 'floor' && s.isolateCpu)
    .map((s) => ({ floor: s.title, value: s.isolateCpu.worker }))
  const latencyRows = results.scenarios.flatMap((s) => [
    { scenario: s.title, percentile: 'p50', value: s.latencyMs.p50 },
    { scenario: s.title, percentile: 'p99', value: s.latencyMs.p99 },
  ])
  const order = results.scenarios.map((s) => s.title)
  const axisX = {
    field: 'scenario',
    type: 'nominal',
    sort: order,
    title: null,
    axis: { labelAngle: -30, labelLimit: 200 },
  }
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      offset: 16,
      text: 'edge-jwt-auth under wrangler dev',
      subtitle: `${results.machine.nproc} × ${results.machine.cpuModel}, Node ${results.machine.node}, ${results.date.slice(0, 10)}`,
    },
    config: { font: 'sans-serif', view: { stroke: null } },
    spacing: 40,
    // The CPU panel colours app against floor, the latency panel p50 against p99.
    resolve: { scale: { color: 'independent' } },
    hconcat: [
      {
        title: 'worker isolate CPU per request (ms, log scale); dashed: the floors',
        width: 320,
        height: 220,
        layer: [
          {
            data: { values: cpuRows },
            mark: { type: 'bar' },
            encoding: {
              x: axisX,
              y: {
                field: 'value',
                type: 'quantitative',
                stack: null,
                scale: { type: 'log' },
                title: 'ms',
              },
              color: {
                field: 'kind',
                scale: { range: ['#4c78a8', '#bab0ac'] },
                title: null,
                legend: { orient: 'top-left' },
              },
            },
          },
          {
            data: { values: cpuRows },
            mark: { type: 'text', dy: -6, fontSize: 10 },
            encoding: {
              x: axisX,
              y: { field: 'value', type: 'quantitative', stack: null, scale: { type: 'log' } },
              text: { field: 'value', type: 'quantitative', format: '.2f' },
            },
          },
          {
            data: { values: floorRules },
            mark: { type: 'rule', strokeDash: [4, 3], color: '#888' },
            encoding: { y: { field: 'value', type: 'quantitative', scale: { type: 'log' } } },
          },
        ],
      },
      {
        title: 'latency (ms, log scale)',
        width: 260,
        height: 220,
        data: { values: latencyRows },
        mark: 'bar',
        encoding: {
          x: axisX,
          xOffset: { field: 'percentile' },
          y: {
            field: 'value',
            type: 'quantitative',
            stack: null,
            scale: { type: 'log' },
            title: 'ms',
          },
          color: { field: 'percentile', scale: { range: ['#72b7b2', '#e45756'] }, title: null },
        },
      },
    ],
  }
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' })
  await view.runAsync()
  const svg = await view.toSVG()
  view.finalize()
  return svg
}
