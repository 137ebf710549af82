#!/usr/bin/env node
/**
 * The layering rules of src/, checked as text (no build needed); exits 1 and names file:line for
 * every violation.
 *   - SQL, D1 batches (.batch(, D1PreparedStatement, runBatch) and KV calls live only in src/store/.
 *   - src/auth/ imports nothing from the HTTP side (src/http/, src/middleware/, src/routes/) and
 *     not hono's Context: domain code never sees a request.
 *   - src/routes/ imports nothing from src/store/ except store/notes (the one resource without
 *     domain rules); everything else goes through src/auth/.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const src = join(root, 'src')

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
const HTTP_SIDE = ['http', 'middleware', 'routes'].map((folder) => join(src, folder) + sep)
const STORE = join(src, 'store') + sep
const ROUTES_MAY_IMPORT_FROM_STORE = [join(src, 'store', 'notes')]

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

const resolved = (file, specifier) =>
  specifier.startsWith('.') ? resolve(dirname(file), specifier) : specifier

const under = (path, folder) => path.startsWith(folder) || path + sep === folder

const violations = []
const report = (file, line, rule) => violations.push(`${relative(root, file)}:${line}: ${rule}`)

for (const file of sourceFiles(src)) {
  const text = withoutComments(readFileSync(file, 'utf8'))
  if (!under(file, STORE)) {
    text.split('\n').forEach((line, index) => {
      for (const [pattern, what] of STORAGE_ONLY) {
        if (pattern.test(line)) report(file, index + 1, `${what} outside src/store/`)
      }
    })
  }
  for (const { names, specifier, line } of importsOf(text)) {
    const target = resolved(file, specifier)
    if (under(file, join(src, 'auth') + sep)) {
      if (HTTP_SIDE.some((folder) => under(target, folder))) {
        report(file, line, `src/auth/ imports the HTTP side (${specifier})`)
      }
      if (specifier === 'hono' && /\bContext\b/.test(names)) {
        report(file, line, "src/auth/ imports hono's Context")
      }
    }
    if (
      under(file, join(src, 'routes') + sep) &&
      under(target, STORE) &&
      !ROUTES_MAY_IMPORT_FROM_STORE.includes(target.replace(/\.ts$/, ''))
    ) {
      report(file, line, `src/routes/ imports ${specifier} (only store/notes is allowed)`)
    }
  }
}

if (violations.length > 0) {
  console.error(`architecture: ${violations.length} violation(s)`)
  for (const violation of violations) console.error(`  ${violation}`)
  process.exit(1)
}
console.log('architecture: no violations')
