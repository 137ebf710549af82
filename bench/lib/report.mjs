// Turns the measurements into the budget verdicts, a markdown table and a vega-lite chart.
import * as vega from 'vega'
import * as vegaLite from 'vega-lite'

const BUNDLE_BUDGET_KIB = 60

const round = (value, digits = 2) =>
  value === null || value === undefined ? null : Number(value.toFixed(digits))

/**
 * The performance budget. A benchmark on a shared machine is noisy, so a FAIL is reported, never
 * turned into an exit status.
 */
export const evaluateBudget = ({ scenarios, pbkdf2, bundle }) => {
  const byName = Object.fromEntries(scenarios.map((scenario) => [scenario.name, scenario]))
  const cpu = (name) => byName[name]?.cpu?.perRequestMs ?? null
  const ratioLine = (label, value, base, limit, baseLabel, unit) => {
    if (value === null || base === null || !base) {
      return {
        label,
        verdict: 'SKIP',
        detail: `no ${unit} figure (CPU is only measured for a worker this run started)`,
      }
    }
    const ratio = value / base
    return {
      label,
      verdict: ratio <= limit ? 'PASS' : 'FAIL',
      ratio: round(ratio),
      limit,
      detail: `${round(value, 3)} ${unit} vs ${baseLabel} ${round(base, 3)} ${unit}: ${round(ratio)}× (limit ${limit}×)`,
    }
  }
  const lines = [
    ratioLine(
      'GET /me CPU per request ≤ 1.5× health',
      cpu('me'),
      cpu('health'),
      1.5,
      'health',
      'ms CPU'
    ),
    ratioLine(
      'POST /auth/refresh CPU per request ≤ 3× health',
      cpu('refresh'),
      cpu('health'),
      3,
      'health',
      'ms CPU'
    ),
    ratioLine(
      'POST /auth/login p50 latency (1 connection) ≤ 1.2× the PBKDF2 floor',
      byName.login?.latencyMs.p50 ?? null,
      pbkdf2.medianMs,
      1.2,
      'PBKDF2 floor',
      'ms'
    ),
  ]
  if (bundle) {
    lines.push({
      label: `bundle ≤ ${BUNDLE_BUDGET_KIB} KiB gzip`,
      verdict: bundle.gzipKiB <= BUNDLE_BUDGET_KIB ? 'PASS' : 'FAIL',
      detail: `${bundle.gzipKiB} KiB gzip (${bundle.rawKiB} KiB raw)`,
    })
  }
  return lines
}

const cell = (value, digits = 2) =>
  value === null || value === undefined ? '—' : value.toFixed(digits)

export const markdownTable = (results) => {
  const header = [
    '| scenario | connections | requests | requests/s | p50 ms | p99 ms | errors | server CPU ms/request |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ]
  const rows = results.scenarios.map((s) =>
    [
      `| ${s.title}`,
      s.connections,
      s.requests,
      cell(s.requestsPerSecond, 0),
      cell(s.latencyMs.p50, 1),
      cell(s.latencyMs.p99, 1),
      s.errors.unexpected + s.errors.socket + s.errors.timeouts,
      `${cell(s.cpu?.perRequestMs ?? null, 3)} |`,
    ].join(' | ')
  )
  return [...header, ...rows].join('\n')
}

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
      'token). Server CPU is user + system time of every workerd process the run started ' +
      '(/proc/<pid>/stat), divided by the responses.',
    '',
    markdownTable(results),
    '',
    `PBKDF2 floor: ${pbkdf2.medianMs.toFixed(1)} ms median of ${pbkdf2.rounds} ` +
      `${pbkdf2.iterations.toLocaleString('en')}-iteration derivations (${pbkdf2.method}).`,
    passwordPolicy?.skipped
      ? ''
      : `Current password policy floor: ${passwordPolicy.medianMs.toFixed(1)} ms median of ${passwordPolicy.rounds} ` +
        `${passwordPolicy.policy} derivations (${passwordPolicy.method}; node's OpenSSL, not workerd's BoringSSL).`,
    bundle
      ? `Bundle: ${bundle.gzipKiB} KiB gzip, ${bundle.rawKiB} KiB raw (wrangler deploy --dry-run).`
      : '',
    '',
    '## Budget',
    '',
    ...results.budget.map((line) => `- **${line.verdict}** ${line.label}: ${line.detail}`),
    '',
  ].join('\n')
}

/** Two panels: server CPU per request, and p50/p99 latency, per scenario (log scales: login is ~100× health). */
export const chartSvg = async (results) => {
  const cpuRows = results.scenarios
    .filter((s) => s.cpu)
    .map((s) => ({ scenario: s.title, value: s.cpu.perRequestMs }))
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
    hconcat: [
      {
        title: 'server CPU per request (ms, log scale)',
        width: 260,
        height: 220,
        data: { values: cpuRows },
        layer: [
          {
            mark: { type: 'bar', color: '#4c78a8' },
            encoding: {
              x: axisX,
              y: {
                field: 'value',
                type: 'quantitative',
                stack: null,
                scale: { type: 'log' },
                title: 'ms',
              },
            },
          },
          {
            mark: { type: 'text', dy: -6, fontSize: 10 },
            encoding: {
              x: axisX,
              y: { field: 'value', type: 'quantitative', stack: null, scale: { type: 'log' } },
              text: { field: 'value', type: 'quantitative', format: '.2f' },
            },
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
