#!/usr/bin/env node
/**
 * The layering rules of src/, checked as text (no build needed); exits 1 and names file:line for
 * every violation.
 *   - SQL, D1 batches and statements, and KV calls live only in an `adapters/` folder
 *     (src/adapters/, or a feature's own src/sign-in/<method>/adapters/ or
 *     src/resources/<name>/adapters/).
 *   - The Worker env is read only by the Worker entry and the composition root: no `c.env`, no
 *     `env.<BINDING>`, no optionsFromEnv/readConfig anywhere else.
 *   - src/auth/ (the domain) imports nothing of HTTP: not hono (its JWT helpers excepted), not
 *     the HTTP layer, the routes, the features or the composition root.
 *   - No import circle between files, type-only imports included.
 *   - No import runs back up the layers (LAYERS below): each file imports only files of its own
 *     layer or of a lower one.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const src = join(root, 'src')

/** Bottom to top. A path is matched by its first matching prefix (relative to src/). */
const LAYERS = [
  ['base: time, logging, the ports', ['clock.ts', 'best-effort.ts', 'ports.ts']],
  ['domain', ['auth/', 'options.ts', 'mail/message.ts']],
  ['adapters', ['adapters/', 'mail/']],
  ['services', ['services.ts']],
  ['HTTP layer', ['http/', 'env.ts']],
  ['routes and features', ['routes/', 'sign-in/', 'resources/', 'feature.ts', 'openapi/']],
  ['composition root', ['create-auth.ts', 'features.ts']],
  [
    'entries: the Worker, the library, the client, the RPC entrypoint, the verifier',
    [
      'index.ts',
      'worker.ts',
      'env-options.ts',
      'worker-services.ts',
      'lib.ts',
      'client.ts',
      'rpc/',
      'verify/',
    ],
  ],
]
const ENV_READERS = [
  'index.ts',
  'worker.ts',
  'env-options.ts',
  'worker-services.ts',
  'create-auth.ts',
  'features.ts',
]

const STORAGE_ONLY = [
  [/\.prepare\s*\(/, 'a D1 statement (.prepare)'],
  [/\.batch\s*\(/, 'a D1 batch (.batch)'],
  [/\b(?:db|DB)\s*\.\s*exec\s*\(/, 'a D1 exec'],
  [/\bD1PreparedStatement\b/, 'D1PreparedStatement'],
  [/\brunBatch\b/, 'runBatch'],
  [/\b(?:SELECT\s|INSERT\s+INTO|DELETE\s+FROM|UPDATE\s+\w+\s+SET)/, 'SQL'],
  [/\bKVNamespace\b/, 'a KV namespace'],
  [/\b(?:REFRESH_TOKENS|kv)\s*\.\s*(?:get|getWithMetadata|put|delete|list)\s*\(/, 'a KV call'],
]
const ENV_ONLY = [
  [/\bc\s*\.\s*env\b/, 'c.env'],
  [/\benv\s*\.\s*[A-Z][A-Z0-9_]*\b/, 'a binding or var read from env'],
  [/\b(?:readConfig|optionsFromEnv)\s*\(/, 'configuration read from the env'],
]
const HONO_IN_DOMAIN = /^hono(?:$|\/(?!jwt$|utils\/jwt))/

const relativeToSrc = (file) => relative(src, file).split(sep).join('/')

const layerOf = (file) => {
  const path = relativeToSrc(file)
  const index = LAYERS.findIndex(([, prefixes]) =>
    prefixes.some((prefix) => (prefix.endsWith('/') ? path.startsWith(prefix) : path === prefix))
  )
  return index
}

const sourceFiles = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return /\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : []
  })

/** Comments blanked out (lines kept), so that prose about SQL or KV is not code. */
const withoutComments = (text) =>
  text
    .replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1')

const lineOf = (text, index) => text.slice(0, index).split('\n').length

/** Every import or re-export: the specifier, the imported names and where it stands. */
const importsOf = (text) =>
  [...text.matchAll(/\b(?:import|export)\s+(?:type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]/g)].map(
    (match) => ({ names: match[1], specifier: match[2], line: lineOf(text, match.index) })
  )

const files = sourceFiles(src)
const known = new Set(files)

/** A relative specifier as the file it names (./x -> x.ts or x/index.ts), or null. */
const resolvedFile = (file, specifier) => {
  if (!specifier.startsWith('.')) return null
  const base = resolve(dirname(file), specifier)
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (known.has(candidate)) return candidate
  }
  return null
}

const violations = []
const report = (file, line, rule) => violations.push(`${relative(root, file)}:${line}: ${rule}`)
const graph = new Map()

for (const file of files) {
  const path = relativeToSrc(file)
  const text = withoutComments(readFileSync(file, 'utf8'))
  const lines = text.split('\n')
  if (!/(^|\/)adapters\//.test(path)) {
    lines.forEach((line, index) => {
      for (const [pattern, what] of STORAGE_ONLY) {
        if (pattern.test(line)) report(file, index + 1, `${what} outside an adapters/ folder`)
      }
    })
  }
  if (!ENV_READERS.includes(path)) {
    lines.forEach((line, index) => {
      for (const [pattern, what] of ENV_ONLY) {
        if (pattern.test(line)) {
          report(file, index + 1, `${what} outside the Worker entry and the composition root`)
        }
      }
    })
  }
  const layer = layerOf(file)
  if (layer === -1) report(file, 1, 'a file in no layer (add its folder to LAYERS)')
  const edges = []
  for (const { names, specifier, line } of importsOf(text)) {
    const target = resolvedFile(file, specifier)
    if (path.startsWith('auth/')) {
      if (HONO_IN_DOMAIN.test(specifier) || (specifier === 'hono' && /\bContext\b/.test(names))) {
        report(file, line, `the domain imports HTTP (${specifier})`)
      }
    }
    if (!target) continue
    edges.push({ target, line })
    const targetLayer = layerOf(target)
    if (layer !== -1 && targetLayer > layer) {
      report(
        file,
        line,
        `imports up the layers: ${LAYERS[layer][0]} -> ${LAYERS[targetLayer][0]} (${specifier})`
      )
    }
  }
  graph.set(file, edges)
}

// Import circles: a depth-first walk; a file met again while still on the path closes one.
const state = new Map()
const path = []
const circles = new Set()
const walk = (file) => {
  state.set(file, 'open')
  path.push(file)
  for (const { target } of graph.get(file) ?? []) {
    if (state.get(target) === 'open') {
      const circle = path.slice(path.indexOf(target)).map(relativeToSrc)
      circles.add([...circle, relativeToSrc(target)].join(' -> '))
    } else if (!state.has(target)) {
      walk(target)
    }
  }
  path.pop()
  state.set(file, 'done')
}
for (const file of files) if (!state.has(file)) walk(file)
for (const circle of circles) violations.push(`import circle: ${circle}`)

if (violations.length > 0) {
  console.error(`architecture: ${violations.length} violation(s)`)
  for (const violation of violations) console.error(`  ${violation}`)
  process.exit(1)
}
console.log(`architecture: no violations (${files.length} files, ${LAYERS.length} layers)`)
