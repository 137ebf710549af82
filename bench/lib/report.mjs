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
 * The performance budget, held on the worker isolate's own CPU (what Cloudflare bills), each line
 * a ratio to a figure measured in the same run, so that the shared machine's load cancels out. A
 * benchmark on a shared machine is noisy, so a FAIL is reported, never turned into an exit status.
 */
export const evaluateBudget = ({ scenarios, bundle }) => {
  const { byName, isolate } = indexScenarios(scenarios)
  const ratioLine = (label, name, baseName, limit) => {
    const [value, base] = [isolate(name), isolate(baseName)]
    if (value === null || !base) {
      return {
        label,
        verdict: 'SKIP',
        detail: 'no isolate CPU figure (only measured for workers this run started)',
      }
    }
    const ratio = value / base
    return {
      label,
      verdict: ratio <= limit ? 'PASS' : 'FAIL',
      ratio: round(ratio),
      limit,
      detail: `${round(value, 3)} ms vs ${byName[baseName].title} ${round(base, 3)} ms: ${round(ratio)}× (limit ${limit}×)`,
    }
  }
  const lines = [
    ratioLine('GET /health isolate CPU ≤ 3× the floor worker', 'health', 'floor', 3),
    ratioLine('GET /me isolate CPU ≤ 1.3× GET /health', 'me', 'health', 1.3),
    ratioLine('GET /me with a forged token isolate CPU ≤ GET /me valid', 'me-rejected', 'me', 1),
    ratioLine(
      'GET /me with an 8 KiB forged Authorization isolate CPU ≤ 1.5× a forged token',
      'me-maximal-header',
      'me-rejected',
      1.5
    ),
    ratioLine('POST /auth/refresh isolate CPU ≤ 2× GET /health', 'refresh', 'health', 2),
    ratioLine(
      'POST /auth/login isolate CPU ≤ 1.2× one PBKDF2 derivation in workerd',
      'login',
      'floor-pbkdf2',
      1.2
    ),
    ratioLine(
      'POST /auth/login with an unknown email isolate CPU ≤ 1.1× a known email',
      'login-unknown',
      'login',
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
 * Not budget lines: the failing ratios again with the storage calls each route must make taken
 * out, at what one such call adds to the floor worker (its D1, KV or log route less its constant
 * route). A successful GET writes no log line; a write does (src/http/request-log.ts). Every
 * call is priced as a read (a two-column constant row, a missing KV key), so writes and batches are
 * likely underpriced. They show roughly whether the app's own code meets the ratio, and so what
 * the remainder of a FAIL is the price of.
 */
export const beyondStorage = ({ scenarios }) => {
  const { isolate } = indexScenarios(scenarios)
  const [health, floor, pbkdf2] = [isolate('health'), isolate('floor'), isolate('floor-pbkdf2')]
  // What a call adds to the bare floor: the binding's client code, the await and the reply.
  const callPrice = (name) => (isolate(name) !== null && floor ? isolate(name) - floor : null)
  const [d1, kv, logLine] = [callPrice('floor-d1'), callPrice('floor-kv'), callPrice('floor-log')]
  const line = (
    label,
    name,
    storageMs,
    storageText,
    limit,
    base = { ms: health, title: 'GET /health' }
  ) => {
    const value = isolate(name)
    if (value === null || !base.ms || storageMs === null) return null
    const rest = value - storageMs
    const ratio = rest / base.ms
    return {
      label,
      verdict: ratio <= limit ? 'within' : 'over',
      detail:
        `${round(value, 3)} ms − ${storageText} ${round(storageMs, 3)} ms = ${round(rest, 3)} ms, ` +
        `${round(ratio)}× ${base.title} ${round(base.ms, 3)} ms (the budget's ${limit}×)`,
    }
  }
  return [
    line('GET /me beyond its one D1 read', 'me', d1, 'one D1 read', 1.3),
    line(
      'POST /auth/refresh beyond its two D1 calls, two KV calls and its log line',
      'refresh',
      d1 !== null && kv !== null && logLine !== null ? 2 * d1 + 2 * kv + logLine : null,
      'two D1 reads, two KV reads and a log line',
      2
    ),
    line(
      'POST /auth/login beyond its three D1 calls, one KV call and its log line',
      'login',
      d1 !== null && kv !== null && logLine !== null ? 3 * d1 + kv + logLine : null,
      'three D1 reads, one KV read and a log line',
      1.2,
      { ms: pbkdf2, title: 'one PBKDF2 derivation' }
    ),
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
          'Beyond the storage calls (not budget lines: each route less its calls and its log line, ' +
            "priced at the floor worker's one D1 read, one KV read and one log line; " +
            'bench/README.md):',
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
