// CPU per isolate from V8's sampling profiler, through workerd's own inspector. Under wrangler dev
// the worker shares its workerd process with the D1 and KV simulators, so the process's CPU time
// bills their SQLite work to the worker; on Cloudflare that work is I/O the worker waits for. The
// inspector lists one target per isolate (`core:user:<worker>`, `d1:db`, `kv:ns`, ...), and the
// profiler of each one samples only the thread while it runs that isolate. workerd answers the
// Profiler domain itself (Profiler.enable comes back as an echo of the request). `ws` is used
// rather than Node's built-in WebSocket, whose connections to workerd's inspector drop after the
// first message.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs'
import WebSocket from 'ws'

/** Between the profiler's default (1 ms) and a rate whose interrupts would slow the worker. */
export const SAMPLING_INTERVAL_US = 250

/** Loopback TCP ports on which `pid` listens, from its socket inodes and /proc/net/tcp. */
const listeningPorts = (pid) => {
  const inodes = new Set()
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (match) inodes.add(match[1])
    } catch {
      // The descriptor closed meanwhile.
    }
  }
  const ports = []
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    // State 0A is LISTEN; field 9 is the socket's inode.
    if (fields[3] === '0A' && inodes.has(fields[9])) {
      ports.push(Number.parseInt(fields[1].split(':')[1], 16))
    }
  }
  return ports
}

/**
 * The inspector of the workerd process that runs `workerName`: wrangler starts it with
 * `--inspector-addr=127.0.0.1:0`, so its port is found among the process's listening sockets.
 * Returns { port, targets } or null when no process answers.
 */
export const findInspector = async (pids, workerName) => {
  for (const pid of pids) {
    let cmdline = ''
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    } catch {
      continue
    }
    if (!cmdline.includes('--inspector-addr')) continue
    for (const port of listeningPorts(pid)) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/json/list`)
        const targets = await response.json()
        if (Array.isArray(targets) && targets.some((t) => t.id === `core:user:${workerName}`)) {
          return { port, targets }
        }
      } catch {
        // Not an inspector (the request port, the debug port).
      }
    }
  }
  return null
}

/** One DevTools-protocol connection to one isolate. */
class InspectorSession {
  #socket
  #nextId = 1
  #pending = new Map()

  static async open(url) {
    const session = new InspectorSession()
    session.#socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30 })
    await new Promise((resolve, reject) => {
      session.#socket.once('open', resolve)
      session.#socket.once('error', reject)
    })
    session.#socket.on('message', (data) => session.#receive(data))
    session.#socket.on('close', () => {
      for (const waiting of session.#pending.values()) {
        waiting.reject(new Error(`${waiting.method}: the inspector closed the connection`))
      }
      session.#pending.clear()
    })
    return session
  }

  #receive(data) {
    const message = JSON.parse(String(data))
    const waiting = this.#pending.get(message.id)
    if (!waiting) return
    this.#pending.delete(message.id)
    if (message.error) waiting.reject(new Error(`${waiting.method}: ${message.error.message}`))
    else waiting.resolve(message.result)
  }

  send(method, params = {}) {
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, method })
      this.#socket.send(JSON.stringify({ id, method, params }))
    })
  }

  close() {
    this.#socket.close()
  }
}

/** Nodes V8 puts the thread in when it is not running this isolate. */
const IDLE_NODES = new Set(['(idle)'])

/**
 * The sampler's real period: V8 takes no sample while the thread is outside the isolate, so the
 * delta of the first sample after a wait spans the wait. Gaps up to four intervals are the timer
 * ticking (late under load); their median is the period one sample stands for.
 */
export const samplingPeriodUs = (profile) => {
  const ticks = profile.timeDeltas
    .filter((delta) => delta > 0 && delta <= 4 * SAMPLING_INTERVAL_US)
    .sort((a, b) => a - b)
  return ticks.length ? ticks[Math.floor(ticks.length / 2)] : SAMPLING_INTERVAL_US
}

/**
 * CPU time the profile saw the isolate use: its non-idle samples times the sampler's real period.
 * `(program)` (native work of the isolate: parsing, Web Crypto, the runtime's own C++) and
 * `(garbage collector)` are CPU too.
 */
export const profileCpuMs = (profile) => {
  const idle = new Set(
    profile.nodes.filter((n) => IDLE_NODES.has(n.callFrame.functionName)).map((n) => n.id)
  )
  const busy = profile.samples.filter((id) => !idle.has(id)).length
  return (busy * samplingPeriodUs(profile)) / 1000
}

/** The functions with the most self time: where a failing budget line should be looked at. */
export const hotFunctions = (profile, limit = 8) => {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfSamples = new Map()
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byNode.get(profile.samples[i])
    const frame = node?.callFrame
    if (!frame || IDLE_NODES.has(frame.functionName)) continue
    const file = frame.url ? frame.url.split('/').at(-1) : ''
    // Line and column: the deploy bundle is minified, so the line alone names little.
    const where = file ? ` ${file}:${frame.lineNumber + 1}:${frame.columnNumber + 1}` : ''
    const key = `${frame.functionName || '(anonymous)'}${where}`
    selfSamples.set(key, (selfSamples.get(key) ?? 0) + 1)
  }
  const total = [...selfSamples.values()].reduce((sum, value) => sum + value, 0)
  return [...selfSamples.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, samples]) => ({ name, share: total ? samples / total : 0 }))
}

/**
 * Profilers on a chosen set of isolates, started and stopped together around each measured run.
 * `groups` maps a label (worker, d1, kv, ...) to a predicate on target ids. workerd takes one
 * session per isolate and wrangler's inspector proxy already holds the worker's, so the worker's
 * own isolate is reached through that proxy (`proxyUrl`), which forwards our messages.
 */
export const openProfilers = async (inspector, groups, { workerTarget, proxyUrl } = {}) => {
  const sessions = []
  for (const target of inspector.targets) {
    const group = Object.keys(groups).find((label) => groups[label](target.id))
    if (!group) continue
    const url =
      target.id === workerTarget && proxyUrl
        ? proxyUrl
        : `ws://127.0.0.1:${inspector.port}/${target.id}`
    const session = await InspectorSession.open(url)
    await session.send('Profiler.enable')
    await session.send('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US })
    sessions.push({ id: target.id, group, session })
  }
  return {
    targets: sessions.map(({ id, group }) => ({ id, group })),
    start: () => Promise.all(sessions.map(({ session }) => session.send('Profiler.start'))),
    /**
     * A full collection in the worker's own isolate, so that a major collection of the garbage an
     * earlier scenario left is not billed to the next one's window. Sent while the isolate is under
     * load (an idle one may leave the message unanswered), and never waited on for more than 3 s.
     */
    collectGarbage: () =>
      Promise.all(
        sessions
          .filter(({ group }) => group === 'worker')
          .map(({ session }) =>
            Promise.race([
              session.send('HeapProfiler.collectGarbage'),
              new Promise((resolve) => setTimeout(resolve, 3_000).unref()),
            ])
          )
      ),
    /** Stops every profiler; returns { group: { cpuMs, isolates: [id], profiles } }. */
    stop: async () => {
      const stopped = await Promise.all(
        sessions.map(async ({ id, group, session }) => ({
          id,
          group,
          profile: (await session.send('Profiler.stop')).profile,
        }))
      )
      const byGroup = {}
      for (const { id, group, profile } of stopped) {
        const entry = (byGroup[group] ??= { cpuMs: 0, isolates: [], profiles: [] })
        entry.cpuMs += profileCpuMs(profile)
        entry.isolates.push(id)
        entry.profiles.push(profile)
      }
      return byGroup
    },
    close: () => sessions.forEach(({ session }) => session.close()),
  }
}
