#!/usr/bin/env node
/**
 * Mutation testing of the security-critical code: small plausible bugs (mutants) are generated
 * by operator from the source, applied one at a time, type-checked, and run against the test
 * files that import the mutated module. A mutant that no test notices (a survivor) is a hole in
 * the tests, or an equivalent change (scripts/mutation-equivalents.json says why).
 *
 *   npm run test:mutation                      every mutant of the default scope
 *   npm run test:mutation -- --sample 60 --seed 1
 *   npm run test:mutation -- --per-module 4 --seed 28    every module gets 4 mutants that compile
 *   npm run test:mutation -- --files 'src/sign-in/**' --list
 *   npm run test:mutation -- --only <id> --tests test/x.test.ts   one mutant against chosen tests
 *
 * Options: --files glob[,glob] (repeatable; replaces the default scope), --operators a,b,
 * --sample N, --per-module N (a stratified sample: in each module, mutants are drawn in a seeded
 * order until N of them type-check or the module has no more; the type errors met on the way are
 * kept as such; the run goes round robin over the modules, so that one cut short still covers
 * every module), --seed S, --list, --only id[,id], --tests file[,file], --timeout seconds (per test
 * run), --no-baseline, --out file (default docs/mutation-results.json; not written for --list
 * and --only unless given; written after every mutant), --max-load L (wait while the 1-minute
 * load average is above L), --resume (keep the out file's kills and type errors of mutants whose
 * module is unchanged; survivors run again, against the tests as they are now; mutants not chosen
 * this time stay in the out file as they were if their module is unchanged, so `--only <ids>
 * --resume` updates a few in place; those of a changed module are dropped, having been judged on
 * other code), --report (runs nothing: prints the out file again with
 * scripts/mutation-equivalents.json applied, and saves it).
 *
 * Not StrykerJS: its vitest runner forces vitest's threads pool, which the Workers pool does not
 * use. The mutated file is always put back: in a finally, on SIGINT/SIGTERM/SIGHUP, and on the
 * next start from .mutation-restore.json should the process have been killed outright.
 */
import { spawn, execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, setPriority, tmpdir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const RESTORE_FILE = join(root, '.mutation-restore.json')
const EQUIVALENTS_FILE = join(root, 'scripts', 'mutation-equivalents.json')
const FC_SEED = '20261202' // the seed CI pins: property tests draw the same inputs every run

const DEFAULT_SCOPE = [
  'src/auth/**/*.ts',
  'src/adapters/d1/*.ts',
  'src/adapters/kv/*.ts',
  'src/http/require-auth.ts',
  'src/http/csrf.ts',
  'src/http/cookies.ts',
  'src/http/body-limit.ts',
  'src/http/json-body.ts',
  'src/http/cookie-origin.ts',
  'src/http/oauth-schemas.ts',
  'src/routes/oauth.ts',
  // Sign-in methods: their stores and second factors are part of the same promises.
  'src/sign-in/totp/**/*.ts',
  'src/sign-in/passkeys/**/*.ts',
]
const OPERATORS = [
  'equality-flip',
  'relational-negate',
  'boundary',
  'logical-swap',
  'condition-true',
  'condition-false',
  'await-drop',
  'sql-predicate-drop',
  'statement-drop',
  'batch-statement-drop',
  'return-negate',
  'regex-anchor-drop',
]
/** The first stage runs this many of the best-ranked test files; the rest only if all pass. */
const FIRST_STAGE = 3

const rel = (file) => relative(root, file).split(sep).join('/')

// ---------------------------------------------------------------------------------------------
// Arguments

const parseArgs = (argv) => {
  const args = {
    files: [],
    operators: OPERATORS,
    sample: null,
    perModule: null,
    seed: 1,
    list: false,
    only: null,
    tests: null,
    timeout: null,
    baseline: true,
    out: null,
    maxLoad: null,
    resume: false,
    report: false,
  }
  const list = (value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean)
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const value = () => {
      const next = argv[++i]
      if (next === undefined) throw new Error(`${arg} needs a value`)
      return next
    }
    if (arg === '--files') args.files.push(...list(value()))
    else if (arg === '--operators') args.operators = list(value())
    else if (arg === '--sample') args.sample = Number(value())
    else if (arg === '--per-module') args.perModule = Number(value())
    else if (arg === '--seed') args.seed = Number(value())
    else if (arg === '--list') args.list = true
    else if (arg === '--only') args.only = list(value())
    else if (arg === '--tests') args.tests = list(value())
    else if (arg === '--timeout') args.timeout = Number(value())
    else if (arg === '--no-baseline') args.baseline = false
    else if (arg === '--out') args.out = value()
    else if (arg === '--max-load') args.maxLoad = Number(value())
    else if (arg === '--resume') args.resume = true
    else if (arg === '--report') args.report = true
    else if (arg === '--help' || arg === '-h') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0])
      process.exit(0)
    } else throw new Error(`unknown option ${arg}`)
  }
  for (const operator of args.operators) {
    if (!OPERATORS.includes(operator)) throw new Error(`unknown operator ${operator}`)
  }
  if (args.sample !== null && !(args.sample > 0)) throw new Error('--sample needs a count')
  if (args.perModule !== null && !(args.perModule > 0))
    throw new Error('--per-module needs a count')
  if (args.perModule !== null && args.sample !== null) {
    throw new Error('--sample and --per-module are two ways to sample: choose one')
  }
  if (args.files.length === 0) args.files = DEFAULT_SCOPE
  return args
}

// ---------------------------------------------------------------------------------------------
// Files: a small glob (**, *, ?, {a,b}) over the .ts files of src/

const globToRegExp = (glob) => {
  let out = ''
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]
    if (ch === '*' && glob[i + 1] === '*') {
      i++
      if (glob[i + 1] === '/') {
        i++
        out += '(?:.*/)?'
      } else out += '.*'
    } else if (ch === '*') out += '[^/]*'
    else if (ch === '?') out += '[^/]'
    else if (ch === '{') out += '(?:'
    else if (ch === '}') out += ')'
    else if (ch === ',') out += '|'
    else out += ch.replace(/[.+^$()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${out}$`)
}

const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : walk(path)
    return entry.isFile() ? [path] : []
  })

const filesInScope = (globs) => {
  const patterns = globs.map((glob) => {
    // A folder stands for everything under it.
    const clean = glob.replace(/^\.\//, '').replace(/\/$/, '')
    return globToRegExp(/[*?{]/.test(clean) || clean.endsWith('.ts') ? clean : `${clean}/**`)
  })
  return walk(join(root, 'src'))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .filter((file) => patterns.some((pattern) => pattern.test(rel(file))))
    .sort((a, b) => (rel(a) < rel(b) ? -1 : 1))
}

// ---------------------------------------------------------------------------------------------
// The import graph of test/, src/ and examples/, to run only the tests that reach a module

const wranglerMain = () => {
  const match = /^main\s*=\s*"([^"]+)"/m.exec(readFileSync(join(root, 'wrangler.toml'), 'utf8'))
  return match ? resolve(root, match[1]) : null
}

const packageExports = () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const map = new Map()
  for (const [key, target] of Object.entries(pkg.exports ?? {})) {
    const file = typeof target === 'string' ? target : target.default
    if (file) map.set(key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`, resolve(root, file))
  }
  return map
}

const resolveImport = (from, specifier, packages) => {
  const bare = specifier.replace(/\?.*$/, '')
  if (packages.has(bare)) return packages.get(bare)
  if (!bare.startsWith('.')) return null
  const base = resolve(dirname(from), bare)
  const candidates = [base, `${base}.ts`, join(base, 'index.ts'), base.replace(/\.js$/, '.ts')]
  return candidates.find((file) => file.endsWith('.ts') && existsSync(file)) ?? null
}

const buildImportGraph = () => {
  const packages = packageExports()
  const main = wranglerMain()
  const edges = new Map()
  const visit = (file) => {
    if (edges.has(file)) return
    const text = readFileSync(file, 'utf8')
    const targets = new Set()
    for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
      const target = resolveImport(file, fileName, packages)
      if (target) targets.add(target)
    }
    // SELF (cloudflare:test) is the Worker of wrangler.toml's main.
    if (main && /from 'cloudflare:test'/.test(text) && /\bSELF\b/.test(text)) targets.add(main)
    edges.set(file, targets)
    for (const target of targets) visit(target)
  }
  const config = readFileSync(join(root, 'vitest.config.mts'), 'utf8')
  const setupFiles = [
    ...(/setupFiles:\s*\[([^\]]*)\]/.exec(config)?.[1].matchAll(/'([^']+)'/g) ?? []),
  ].map((match) => resolve(root, match[1]))
  const testFiles = walk(join(root, 'test'))
    .filter((file) => file.endsWith('.test.ts'))
    .sort()
  for (const file of [...testFiles, ...setupFiles]) visit(file)
  /** Shortest import distance from each test file to every file it reaches. */
  const distances = new Map()
  for (const test of testFiles) {
    const dist = new Map([[test, 0]])
    const queue = [test, ...setupFiles.filter((setup) => !dist.has(setup))]
    for (const setup of setupFiles) dist.set(setup, 1)
    while (queue.length > 0) {
      const file = queue.shift()
      for (const target of edges.get(file) ?? []) {
        if (!dist.has(target)) {
          dist.set(target, dist.get(file) + 1)
          queue.push(target)
        }
      }
    }
    distances.set(test, dist)
  }
  /** Files of src/ that import `file`, transitively (the ones a type change can break). */
  const importersOf = (file) => {
    const found = new Set([file])
    let grew = true
    while (grew) {
      grew = false
      for (const [from, targets] of edges) {
        if (found.has(from)) continue
        if ([...targets].some((target) => found.has(target))) {
          found.add(from)
          grew = true
        }
      }
    }
    return found
  }
  return { testFiles, distances, importersOf }
}

// ---------------------------------------------------------------------------------------------
// Type checking: one program of tsconfig.json; each mutant re-checks the files it can affect

const createTypeChecker = () => {
  const configPath = join(root, 'tsconfig.json')
  const parsed = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
      },
    }
  )
  const options = { ...parsed.options, noEmit: true }
  const baseHost = ts.createCompilerHost(options, true)
  const cache = new Map()
  const hostWith = (override) => ({
    ...baseHost,
    getSourceFile(fileName, languageVersion, onError, shouldCreate) {
      const path = resolve(fileName)
      if (override && path === override.file) {
        return ts.createSourceFile(fileName, override.text, languageVersion, true)
      }
      if (!cache.has(path)) {
        cache.set(path, baseHost.getSourceFile(fileName, languageVersion, onError, shouldCreate))
      }
      return cache.get(path)
    },
    readFile: (fileName) =>
      override && resolve(fileName) === override.file ? override.text : baseHost.readFile(fileName),
  })
  const base = ts.createProgram(parsed.fileNames, options, hostWith(null))
  const describe = (diagnostic) =>
    `${diagnostic.file ? rel(diagnostic.file.fileName) : ''} TS${diagnostic.code} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`
  const diagnosticsOf = (program, files) => [
    ...program.getGlobalDiagnostics(),
    ...program.getOptionsDiagnostics(),
    ...files.flatMap((file) => {
      const source = program.getSourceFile(file)
      return source
        ? [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]
        : []
    }),
  ]
  const baseline = new Set(diagnosticsOf(base, parsed.fileNames).map(describe))
  if (baseline.size > 0) {
    console.warn(`tsc: ${baseline.size} error(s) before any mutant; only new ones count`)
  }
  return {
    program: base,
    /** The first error the mutant adds, or null when it type-checks. */
    check(file, text, affected) {
      const program = ts.createProgram({
        rootNames: parsed.fileNames,
        options,
        host: hostWith({ file, text }),
        oldProgram: base,
      })
      const added = diagnosticsOf(program, affected)
        .map(describe)
        .find((line) => !baseline.has(line))
      return added ?? null
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Mutants, by operator

const EQUALITY_FLIP = {
  [ts.SyntaxKind.EqualsEqualsEqualsToken]: '!==',
  [ts.SyntaxKind.ExclamationEqualsEqualsToken]: '===',
  [ts.SyntaxKind.EqualsEqualsToken]: '!=',
  [ts.SyntaxKind.ExclamationEqualsToken]: '==',
}
const RELATIONAL_NEGATE = {
  [ts.SyntaxKind.LessThanToken]: '>=',
  [ts.SyntaxKind.LessThanEqualsToken]: '>',
  [ts.SyntaxKind.GreaterThanToken]: '<=',
  [ts.SyntaxKind.GreaterThanEqualsToken]: '<',
}
const BOUNDARY = {
  [ts.SyntaxKind.LessThanToken]: '<=',
  [ts.SyntaxKind.LessThanEqualsToken]: '<',
  [ts.SyntaxKind.GreaterThanToken]: '>=',
  [ts.SyntaxKind.GreaterThanEqualsToken]: '>',
}
const LOGICAL_SWAP = {
  [ts.SyntaxKind.AmpersandAmpersandToken]: '||',
  [ts.SyntaxKind.BarBarToken]: '&&',
}

const SQL_STATEMENT = /\b(?:SELECT|UPDATE|DELETE|INSERT)\b/
const SQL_STATEMENT_START = /^\s*(?:SELECT|UPDATE|DELETE|INSERT|WITH)\b/
const SQL_END = /^(?:RETURNING|ORDER\s+BY|GROUP\s+BY|LIMIT|ON\s+CONFLICT|UNION)\b/

/**
 * The conjuncts of each WHERE clause in a piece of SQL text: [start, end) ranges, split at
 * top-level AND, ending at a closing parenthesis of an outer level or a clause keyword.
 */
const whereConjuncts = (text, wholeIsCondition) => {
  const clauses = []
  const starts = [...text.matchAll(/\b(?:WHERE|ON(?!\s+CONFLICT))\b/g)].map(
    (match) => match.index + match[0].length
  )
  if (wholeIsCondition) starts.unshift(0)
  for (const start of starts) {
    const conjuncts = []
    let depth = 0
    let from = start
    let balanced = true
    let i = start
    for (; i < text.length; i++) {
      const ch = text[i]
      if (ch === "'") {
        const close = text.indexOf("'", i + 1)
        i = close === -1 ? text.length : close
        continue
      }
      if (ch === '(') depth++
      else if (ch === ')') {
        depth--
        if (depth < 0) break
      } else if (depth === 0 && /\s/.test(text[i - 1] ?? ' ')) {
        const rest = text.slice(i)
        if (SQL_END.test(rest) || (i > start && /^(?:WHERE|JOIN|LEFT|INNER)\b/.test(rest))) break
        if (/^AND\b/.test(rest) && !/\bBETWEEN\s+\S+\s*$/.test(text.slice(from, i))) {
          conjuncts.push({ start: from, end: i, balanced })
          from = i + 3
          balanced = true
        }
      }
      if (depth < 0) balanced = false
    }
    conjuncts.push({ start: from, end: i, balanced: balanced && depth === 0, last: true })
    clauses.push(conjuncts)
  }
  return clauses
}

const trimRange = (text, { start, end }) => {
  while (start < end && /\s/.test(text[start])) start++
  while (end > start && /\s/.test(text[end - 1])) end--
  return { start, end }
}

/** Ranges (in the literal's own text) whose removal drops one predicate of a WHERE clause. */
const sqlPredicateDrops = (text, { wholeIsCondition, openEnd }) => {
  const drops = []
  for (const conjuncts of whereConjuncts(text, wholeIsCondition)) {
    if (conjuncts.length < 2) continue
    conjuncts.forEach((conjunct, index) => {
      // The last piece before a ${} substitution goes on in code this text does not hold.
      if (!conjunct.balanced || (conjunct.last && openEnd)) return
      const own = trimRange(text, conjunct)
      if (own.start === own.end) return
      if (index === 0) {
        const next = trimRange(text, conjuncts[1])
        drops.push({ start: own.start, end: next.start, predicate: text.slice(own.start, own.end) })
      } else {
        const previous = trimRange(text, conjuncts[index - 1])
        drops.push({ start: previous.end, end: own.end, predicate: text.slice(own.start, own.end) })
      }
    })
  }
  return drops
}

const isBooleanType = (checker, node) => {
  const type = checker.getTypeAtLocation(node)
  const flags = ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral
  return (
    (type.flags & flags) !== 0 ||
    (type.isUnion() && type.types.every((part) => (part.flags & flags) !== 0))
  )
}

const isBatchCall = (node) => {
  for (let at = node.parent; at; at = at.parent) {
    if (ts.isCallExpression(at)) {
      const callee = at.expression
      const name = ts.isPropertyAccessExpression(callee) ? callee.name.text : callee.getText()
      return name === 'batch' || name === 'runBatch'
    }
    if (!ts.isConditionalExpression(at) && !ts.isParenthesizedExpression(at)) return false
  }
  return false
}

const isStatementLike = (element) =>
  !ts.isSpreadElement(element) &&
  (/Statement\s*\(|\.prepare\s*\(/.test(element.getText()) || ts.isIdentifier(element))

/** Every mutant of one file, in source order. */
const mutantsOf = (file, text, checker, sourceFile, operators) => {
  const found = []
  const add = (operator, start, end, replacement, note) => {
    if (!operators.includes(operator)) return
    found.push({ operator, start, end, replacement, note })
  }
  const visit = (node) => {
    if (ts.isBinaryExpression(node)) {
      const op = node.operatorToken
      const at = [op.getStart(sourceFile), op.end]
      if (EQUALITY_FLIP[op.kind]) add('equality-flip', ...at, EQUALITY_FLIP[op.kind])
      if (RELATIONAL_NEGATE[op.kind]) add('relational-negate', ...at, RELATIONAL_NEGATE[op.kind])
      if (BOUNDARY[op.kind]) add('boundary', ...at, BOUNDARY[op.kind])
      if (LOGICAL_SWAP[op.kind]) add('logical-swap', ...at, LOGICAL_SWAP[op.kind])
    }
    const condition = ts.isIfStatement(node)
      ? node.expression
      : ts.isConditionalExpression(node)
        ? node.condition
        : null
    if (
      condition &&
      condition.kind !== ts.SyntaxKind.TrueKeyword &&
      condition.kind !== ts.SyntaxKind.FalseKeyword
    ) {
      const at = [condition.getStart(sourceFile), condition.end]
      add('condition-true', ...at, 'true')
      add('condition-false', ...at, 'false')
    }
    if (ts.isAwaitExpression(node)) {
      add('await-drop', node.getStart(sourceFile), node.expression.getStart(sourceFile), '')
    }
    if (
      ts.isStringLiteral(node) ||
      ts.isNoSubstitutionTemplateLiteral(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    ) {
      // The literal's text without its delimiters (quotes, backticks, `}` and `${`).
      const open = node.getStart(sourceFile) + 1
      const close = ts.isTemplateHead(node) || ts.isTemplateMiddle(node) ? 2 : 1
      const start = open
      const raw = text.slice(open, node.end - close)
      const whole = ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)
      const template = ts.isTemplateLiteral(node.parent) ? node.parent : null
      const isSql =
        SQL_STATEMENT.test(raw) ||
        SQL_STATEMENT.test(template?.getText(sourceFile) ?? '') ||
        (whole && /\?\d/.test(raw) && /\bAND\b/.test(raw))
      if (isSql) {
        const drops = sqlPredicateDrops(raw, {
          // A condition handed to a statement builder (`user_id = ?2 AND …`), subqueries aside.
          wholeIsCondition: whole && !SQL_STATEMENT_START.test(raw),
          openEnd: ts.isTemplateHead(node) || ts.isTemplateMiddle(node),
        })
        for (const drop of drops) {
          add('sql-predicate-drop', start + drop.start, start + drop.end, '', drop.predicate)
        }
      }
    }
    if (ts.isBlock(node) && node.statements.length >= 2 && !ts.isSourceFile(node.parent)) {
      for (const statement of node.statements) {
        if (!ts.isExpressionStatement(statement)) continue
        let expression = statement.expression
        if (ts.isVoidExpression(expression)) expression = expression.expression
        const writes =
          ts.isAwaitExpression(expression) ||
          ts.isCallExpression(expression) ||
          (ts.isBinaryExpression(expression) &&
            expression.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
            expression.operatorToken.kind <= ts.SyntaxKind.LastAssignment) ||
          ts.isPostfixUnaryExpression(expression) ||
          ts.isPrefixUnaryExpression(expression)
        if (writes) add('statement-drop', statement.getStart(sourceFile), statement.end, '')
      }
    }
    if (ts.isArrayLiteralExpression(node) && node.elements.length >= 2 && isBatchCall(node)) {
      const elements = node.elements
      if (elements.every(isStatementLike)) {
        elements.forEach((element, index) => {
          const start = index === 0 ? element.getStart(sourceFile) : elements[index - 1].end
          const end = index === 0 ? elements[1].getStart(sourceFile) : element.end
          add('batch-statement-drop', start, end, '', element.getText(sourceFile).split('(')[0])
        })
      }
    }
    const returned = ts.isReturnStatement(node)
      ? node.expression
      : ts.isArrowFunction(node) && !ts.isBlock(node.body)
        ? node.body
        : null
    if (returned && checker && isBooleanType(checker, returned)) {
      const inner = ts.isParenthesizedExpression(returned) ? returned.expression : returned
      add(
        'return-negate',
        returned.getStart(sourceFile),
        returned.end,
        `!(${inner.getText(sourceFile)})`
      )
    }
    if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
      const literal = node.getText(sourceFile)
      const start = node.getStart(sourceFile)
      const body = literal.slice(1, literal.lastIndexOf('/'))
      if (body.startsWith('^')) add('regex-anchor-drop', start + 1, start + 2, '', '^')
      if (body.endsWith('$') && !body.endsWith('\\$')) {
        const at = start + 1 + body.length - 1
        add('regex-anchor-drop', at, at + 1, '', '$')
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(sourceFile)

  const lineStarts = sourceFile.getLineStarts()
  const lineOf = (pos) => sourceFile.getLineAndCharacterOfPosition(pos)
  const seen = new Set()
  const occurrences = new Map()
  return found
    .sort((a, b) => a.start - b.start || a.end - b.end || a.operator.localeCompare(b.operator))
    .filter((mutant) => {
      const key = `${mutant.start}:${mutant.end}:${mutant.replacement}`
      if (seen.has(key)) return false
      seen.add(key)
      return true
    })
    .map((mutant) => {
      const mutated = text.slice(0, mutant.start) + mutant.replacement + text.slice(mutant.end)
      const first = lineOf(mutant.start)
      const last = lineOf(Math.max(mutant.start, mutant.end - 1))
      const before = text
        .slice(lineStarts[first.line], lineStarts[last.line + 1] ?? text.length)
        .replace(/\n$/, '')
      const afterEnd = (lineStarts[last.line + 1] ?? text.length) - (mutant.end - mutant.start)
      const after = mutated
        .slice(lineStarts[first.line], afterEnd + mutant.replacement.length)
        .replace(/\n$/, '')
      // The id names the change, not its line: it survives edits elsewhere in the file.
      const signature = `${rel(file)}|${mutant.operator}|${before.trim()}|${after.trim()}`
      const n = (occurrences.get(signature) ?? 0) + 1
      occurrences.set(signature, n)
      const id = createHash('sha1').update(`${signature}|${n}`).digest('hex').slice(0, 8)
      return {
        id,
        file: rel(file),
        line: first.line + 1,
        column: first.character + 1,
        operator: mutant.operator,
        before,
        after,
        note: mutant.note,
        mutated,
      }
    })
}

// ---------------------------------------------------------------------------------------------
// Sampling: a seeded shuffle (mulberry32), then back to source order

const seededRandom = (seed) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const shuffledIndexes = (length, random) => {
  const order = Array.from({ length }, (_, index) => index)
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j], order[i]]
  }
  return order
}

const sampleOf = (mutants, count, seed) => {
  const chosen = new Set(shuffledIndexes(mutants.length, seededRandom(seed)).slice(0, count))
  return mutants.filter((_, index) => chosen.has(index))
}

/**
 * A stratified sample: each module's mutants in a seeded order (the seed mixed with the module's
 * path, so adding a module leaves the others' draws alone), taken until `count` of them
 * type-check. The type errors drawn on the way stay in, already decided (`typeError`).
 */
const perModuleSampleOf = (mutants, count, seed, typeErrorOf) => {
  const byFile = new Map()
  for (const mutant of mutants)
    byFile.set(mutant.file, [...(byFile.get(mutant.file) ?? []), mutant])
  const chosen = new Set()
  for (const [file, own] of byFile) {
    const mix = createHash('sha1').update(`${seed}|${file}`).digest().readUInt32LE(0)
    let compiled = 0
    for (const index of shuffledIndexes(own.length, seededRandom(mix))) {
      if (compiled >= count) break
      const mutant = own[index]
      mutant.typeError = typeErrorOf(mutant)
      if (!mutant.typeError) compiled++
      chosen.add(mutant)
    }
  }
  // Round robin over the modules (each in source order): a run cut short still covers them all.
  const lanes = [...byFile.values()].map((own) => own.filter((mutant) => chosen.has(mutant)))
  const longest = Math.max(0, ...lanes.map((lane) => lane.length))
  return Array.from({ length: longest }, (_, round) =>
    lanes.flatMap((lane) => (round < lane.length ? [lane[round]] : []))
  ).flat()
}

// ---------------------------------------------------------------------------------------------
// Applying a mutant, and putting the file back whatever happens

let applied = null // { path, original }
let child = null

const restore = () => {
  if (applied) {
    writeFileSync(applied.path, applied.original)
    applied = null
  }
  if (existsSync(RESTORE_FILE)) rmSync(RESTORE_FILE)
}

const restoreLeftover = () => {
  if (!existsSync(RESTORE_FILE)) return
  const { path, original } = JSON.parse(readFileSync(RESTORE_FILE, 'utf8'))
  writeFileSync(join(root, path), original)
  rmSync(RESTORE_FILE)
  console.warn(`restored ${path} from an interrupted run`)
}

const apply = (mutant, original) => {
  const path = join(root, mutant.file)
  writeFileSync(RESTORE_FILE, JSON.stringify({ path: mutant.file, original }))
  applied = { path, original }
  writeFileSync(path, mutant.mutated)
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (child) {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }
    restore()
    console.error(`\n${signal}: stopped; every file is restored`)
    process.exit(130)
  })
}
process.on('exit', restore)

// ---------------------------------------------------------------------------------------------
// Running tests

const vitestBin = join(root, 'node_modules', '.bin', 'vitest')

/** One vitest run with bail-on-first-failure; resolves with what it found. */
const runVitest = (files, timeoutSeconds) =>
  new Promise((resolvePromise) => {
    const dir = mkdtempSync(join(tmpdir(), 'mutation-'))
    const report = join(dir, 'report.json')
    const started = Date.now()
    child = spawn(
      vitestBin,
      ['run', ...files.map(rel), '--bail=1', '--reporter=json', `--outputFile=${report}`],
      {
        cwd: root,
        detached: true,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, FC_SEED, NO_COLOR: '1', FORCE_COLOR: '0' },
      }
    )
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-4000)
    })
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }, timeoutSeconds * 1000)
    child.on('close', (code) => {
      clearTimeout(timer)
      child = null
      let json = null
      try {
        json = JSON.parse(readFileSync(report, 'utf8'))
      } catch {
        json = null
      }
      rmSync(dir, { recursive: true, force: true })
      const failures = []
      const suiteErrors = []
      const durations = new Map()
      for (const result of json?.testResults ?? []) {
        const file = resolve(result.name)
        durations.set(file, (result.endTime ?? 0) - (result.startTime ?? 0))
        for (const assertion of result.assertionResults ?? []) {
          if (assertion.status === 'failed') failures.push(`${rel(file)} > ${assertion.fullName}`)
        }
        // A file that failed to load; files cut short by the bail fail with no message.
        if (result.status === 'failed' && result.message) {
          suiteErrors.push(`${rel(file)}: ${result.message.split('\n')[0]}`)
        }
      }
      failures.push(...suiteErrors)
      resolvePromise({
        passed: !timedOut && code === 0,
        timedOut,
        code,
        failures,
        durations,
        seconds: (Date.now() - started) / 1000,
        stderr,
      })
    })
  })

const tokensOf = (path) =>
  new Set(
    path
      .replace(/\.test\.ts$|\.ts$/, '')
      .split(/[/\\.-]/)
      .filter((token) => token && token !== 'src' && token !== 'test')
      .map((token) => token.replace(/s$/, ''))
  )

/** Test files that reach the module, best first: earlier killers, similar names, near imports. */
const rankTests = (module, graph, killers, durations, changedTests) => {
  const moduleTokens = tokensOf(rel(module))
  return graph.testFiles
    .filter((test) => graph.distances.get(test).has(module))
    .map((test) => {
      const shared = [...tokensOf(rel(test))].filter((token) => moduleTokens.has(token)).length
      return {
        test,
        changed: changedTests.has(test) ? 1 : 0,
        kills: killers.get(rel(module))?.get(rel(test)) ?? 0,
        shared,
        distance: graph.distances.get(test).get(module),
        duration: durations.get(test) ?? 0,
      }
    })
    .sort(
      (a, b) =>
        b.changed - a.changed ||
        b.kills - a.kills ||
        b.shared - a.shared ||
        a.distance - b.distance ||
        a.duration - b.duration ||
        (a.test < b.test ? -1 : 1)
    )
    .map((entry) => entry.test)
}

const waitForLoad = async (maxLoad) => {
  if (maxLoad === null) return
  while (loadavg()[0] > maxLoad) {
    console.log(`  load ${loadavg()[0].toFixed(1)} > ${maxLoad}: waiting 30 s`)
    await new Promise((done) => setTimeout(done, 30_000))
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const pad = (value, width) => String(value).padEnd(width)
const padStart = (value, width) => String(value).padStart(width)

const summarize = (results, equivalents) => {
  const modules = new Map()
  for (const result of results) {
    const entry = modules.get(result.file) ?? {
      mutants: 0,
      killed: 0,
      timeout: 0,
      survived: 0,
      equivalent: 0,
      typeError: 0,
    }
    entry.mutants++
    if (result.status === 'killed') entry.killed++
    else if (result.status === 'timeout') entry.timeout++
    else if (result.status === 'type-error') entry.typeError++
    else if (result.status === 'survived' && equivalents[result.id]) entry.equivalent++
    else if (result.status === 'survived') entry.survived++
    modules.set(result.file, entry)
  }
  const score = (entry) => {
    const counted = entry.killed + entry.timeout + entry.survived
    return counted === 0 ? null : (100 * (entry.killed + entry.timeout)) / counted
  }
  return [...modules]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([file, entry]) => ({ file, ...entry, score: score(entry) }))
}

const totalOf = (rows) => {
  const total = rows.reduce(
    (sum, row) => {
      for (const key of ['mutants', 'killed', 'timeout', 'survived', 'equivalent', 'typeError']) {
        sum[key] += row[key]
      }
      return sum
    },
    { mutants: 0, killed: 0, timeout: 0, survived: 0, equivalent: 0, typeError: 0 }
  )
  const counted = total.killed + total.timeout + total.survived
  total.score = counted === 0 ? null : (100 * (total.killed + total.timeout)) / counted
  return total
}

const printTable = (rows) => {
  const total = totalOf(rows)
  const width = Math.max(6, ...rows.map((row) => row.file.length))
  const header = ['mutants', 'killed', 'timeout', 'survived', 'equiv.', 'tsc err', 'score']
  console.log(`\n${pad('module', width)}  ${header.map((h) => padStart(h, 8)).join(' ')}`)
  for (const row of [...rows, { file: 'all', ...total }]) {
    const cells = [
      row.mutants,
      row.killed,
      row.timeout,
      row.survived,
      row.equivalent,
      row.typeError,
      row.score === null ? '-' : `${row.score.toFixed(1)} %`,
    ]
    console.log(`${pad(row.file, width)}  ${cells.map((cell) => padStart(cell, 8)).join(' ')}`)
  }
  console.log(
    '\nscore = (killed + timeout) / (killed + timeout + survived); equivalent and type-error mutants are left out'
  )
  return total
}

const diffOf = (mutant) =>
  [
    ...mutant.before.split('\n').map((line) => `  - ${line}`),
    ...mutant.after.split('\n').map((line) => `  + ${line}`),
  ].join('\n')

// ---------------------------------------------------------------------------------------------

const printSurvivors = (results, equivalents) => {
  const survivors = results.filter((result) => result.status === 'survived')
  if (survivors.length > 0) console.log('\nsurvivors:')
  for (const survivor of survivors) {
    const why = equivalents[survivor.id]
    console.log(
      `${survivor.file}:${survivor.line}  ${survivor.operator}  ${survivor.id}` +
        (why ? `  (equivalent: ${why})` : '')
    )
    console.log(diffOf(survivor))
  }
  for (const stale of results.filter((r) => equivalents[r.id] && r.status !== 'survived')) {
    console.warn(`note: ${stale.id} is listed as equivalent but was ${stale.status}`)
  }
}

/** --report: the last results again, with the equivalents as they are now. */
const report = (outPath) => {
  const equivalents = existsSync(EQUIVALENTS_FILE)
    ? JSON.parse(readFileSync(EQUIVALENTS_FILE, 'utf8'))
    : {}
  const document = JSON.parse(readFileSync(outPath, 'utf8'))
  const results = document.mutants.map(({ equivalent: _, ...result }) => result)
  const rows = summarize(results, equivalents)
  printTable(rows)
  printSurvivors(results, equivalents)
  const mutants = results.map((result) =>
    equivalents[result.id] && result.status === 'survived'
      ? { ...result, equivalent: equivalents[result.id] }
      : result
  )
  const updated = { ...document, total: totalOf(rows), modules: rows, mutants }
  writeFileSync(outPath, `${JSON.stringify(updated, null, 2)}\n`)
  console.log(`\nresults: ${rel(outPath)}`)
}

const main = async () => {
  const args = parseArgs(process.argv.slice(2))
  if (args.report) {
    report(resolve(root, args.out ?? join('docs', 'mutation-results.json')))
    return
  }
  try {
    setPriority(19) // the machine is shared: this run yields to everything else
  } catch {
    // Not permitted here: run at the current priority.
  }
  restoreLeftover()

  const scope = filesInScope(args.files)
  if (scope.length === 0) throw new Error(`no .ts file of src/ matches ${args.files.join(', ')}`)
  const originals = new Map(scope.map((file) => [file, readFileSync(file, 'utf8')]))

  console.log(`type-checking the unmutated program (tsconfig.json)…`)
  const checker = createTypeChecker()
  const typeChecker = checker.program.getTypeChecker()
  let mutants = scope.flatMap((file) =>
    mutantsOf(
      file,
      originals.get(file),
      typeChecker,
      checker.program.getSourceFile(file) ??
        ts.createSourceFile(file, originals.get(file), ts.ScriptTarget.ES2022, true),
      args.operators
    )
  )
  const generated = mutants.length
  const graph = buildImportGraph()
  const affectedCache = new Map()
  const programFiles = new Set(checker.program.getRootFileNames().map((file) => resolve(file)))
  /** The files of the program a change of `path` can break: it and its importers. */
  const affectedOf = (path) => {
    if (!affectedCache.has(path)) {
      affectedCache.set(
        path,
        [...graph.importersOf(path)].filter((file) => programFiles.has(file))
      )
    }
    return affectedCache.get(path)
  }
  const typeErrorOf = (mutant) => {
    const path = join(root, mutant.file)
    return checker.check(path, mutant.mutated, affectedOf(path))
  }
  if (args.only) {
    mutants = mutants.filter((mutant) => args.only.includes(mutant.id))
    const missing = args.only.filter((id) => !mutants.some((mutant) => mutant.id === id))
    if (missing.length > 0) throw new Error(`no mutant with id ${missing.join(', ')}`)
  } else if (args.sample !== null) {
    mutants = sampleOf(mutants, args.sample, args.seed)
  } else if (args.perModule !== null) {
    console.log(`drawing ${args.perModule} mutants that type-check from each module…`)
    // With --resume, the last run's verdicts on unchanged modules spare their type checks.
    const last = resolve(root, args.out ?? join('docs', 'mutation-results.json'))
    const known = new Map(
      args.resume && existsSync(last)
        ? JSON.parse(readFileSync(last, 'utf8')).mutants.map((result) => [result.id, result])
        : []
    )
    const hashOf = (file) =>
      createHash('sha1')
        .update(originals.get(join(root, file)))
        .digest('hex')
        .slice(0, 12)
    mutants = perModuleSampleOf(mutants, args.perModule, args.seed, (mutant) => {
      const earlier = known.get(mutant.id)
      if (earlier && earlier.moduleHash === hashOf(mutant.file)) {
        return earlier.status === 'type-error' ? earlier.detail : null
      }
      return typeErrorOf(mutant)
    })
  }
  const sampled = args.only
    ? ''
    : args.sample !== null
      ? ` (sample ${args.sample}, seed ${args.seed})`
      : args.perModule !== null
        ? ` (${args.perModule} per module, seed ${args.seed})`
        : ''
  console.log(
    `${scope.length} modules, ${generated} mutants` +
      (mutants.length === generated ? '' : `, ${mutants.length} chosen`) +
      sampled
  )

  if (args.list) {
    for (const mutant of mutants) {
      const tsc = mutant.typeError ? '  (type error)' : ''
      console.log(`${mutant.id}  ${mutant.file}:${mutant.line}  ${mutant.operator}${tsc}`)
      console.log(diffOf(mutant))
    }
    return
  }

  const equivalents = existsSync(EQUIVALENTS_FILE)
    ? JSON.parse(readFileSync(EQUIVALENTS_FILE, 'utf8'))
    : {}
  const outPath = args.out
    ? resolve(root, args.out)
    : args.only && !args.resume
      ? null
      : join(root, 'docs', 'mutation-results.json')
  // Earlier runs' killers go first: most mutants then die in the first few files.
  const killers = new Map()
  const previous = outPath && existsSync(outPath) ? JSON.parse(readFileSync(outPath, 'utf8')) : null
  for (const result of previous?.mutants ?? []) {
    if (!result.killedBy) continue
    const byTest = killers.get(result.file) ?? new Map()
    const test = result.killedBy.split(/ > |: /)[0]
    byTest.set(test, (byTest.get(test) ?? 0) + 1)
    killers.set(result.file, byTest)
  }

  // Test files changed since the last run go first: they were written to kill its survivors.
  const changedTests = new Set()
  if (previous?.commit) {
    try {
      const listed = [
        ['diff', '--name-only', previous.commit, '--', 'test'],
        ['ls-files', '--others', '--exclude-standard', '--', 'test'],
      ].flatMap((gitArgs) =>
        execFileSync('git', gitArgs, { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean)
      )
      for (const file of listed) changedTests.add(resolve(root, file))
    } catch {
      // The last run's commit is not in this clone: no preference.
    }
  }
  const testsFor = (mutant) =>
    args.tests
      ? args.tests.map((test) => resolve(root, test))
      : rankTests(join(root, mutant.file), graph, killers, durations, changedTests)

  const durations = new Map()
  const excluded = new Set()
  if (args.baseline) {
    const needed = [...new Set(mutants.flatMap(testsFor))].sort()
    console.log(`baseline: ${needed.length} test files without any mutant…`)
    const run = await runVitest(needed, args.timeout ?? 3600)
    for (const [file, ms] of run.durations) durations.set(file, ms)
    if (!run.passed) {
      for (const failure of run.failures) excluded.add(resolve(root, failure.split(/ > |: /)[0]))
      if (run.timedOut || excluded.size === 0) {
        throw new Error(`the baseline run failed (exit ${run.code}):\n${run.stderr}`)
      }
      console.warn(
        `baseline: left out (they fail without a mutant): ${[...excluded].map(rel).join(', ')}`
      )
    }
    console.log(`baseline: passed in ${run.seconds.toFixed(0)} s`)
  }

  const results = []
  const contentHash = (text) => createHash('sha1').update(text).digest('hex').slice(0, 12)
  // --resume carries the out file's other mutants along (those of modules unchanged since), so
  // that `--only <ids> --resume` re-runs a few survivors inside the last run's record.
  const chosenIds = new Set(mutants.map((mutant) => mutant.id))
  const carried = args.resume
    ? (previous?.mutants ?? [])
        .filter((result) => !chosenIds.has(result.id))
        .filter((result) => {
          const path = join(root, result.file)
          return existsSync(path) && contentHash(readFileSync(path, 'utf8')) === result.moduleHash
        })
        .map(({ equivalent: _, ...result }) => result)
    : []
  const recorded = () => [...carried, ...results]
  // What the record describes: this run's draw, or the last run's when this one only re-runs ids.
  const drawn = args.only && carried.length > 0 ? previous : null
  const writeResults = (finished) => {
    if (!outPath) return
    let commit = null
    try {
      commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()
    } catch {
      commit = null
    }
    const rows = summarize(recorded(), equivalents)
    const document = {
      date: new Date().toISOString(),
      finished,
      commit,
      scope: drawn ? drawn.scope : args.files,
      operators: drawn ? drawn.operators : args.operators,
      sample: drawn ? drawn.sample : args.only ? null : args.sample,
      perModule: drawn ? drawn.perModule : args.only ? null : args.perModule,
      seed: drawn ? drawn.seed : args.sample === null && args.perModule === null ? null : args.seed,
      generated: drawn ? drawn.generated : generated,
      chosen: drawn ? drawn.chosen : mutants.length,
      total: totalOf(rows),
      modules: rows,
      mutants: recorded().map((result) =>
        equivalents[result.id] && result.status === 'survived'
          ? { ...result, equivalent: equivalents[result.id] }
          : result
      ),
    }
    writeFileSync(outPath, `${JSON.stringify(document, null, 2)}\n`)
  }
  const reusable = new Map(
    args.resume
      ? (previous?.mutants ?? [])
          .filter((result) => ['killed', 'timeout', 'type-error'].includes(result.status))
          .map((result) => [result.id, result])
      : []
  )
  for (const [index, mutant] of mutants.entries()) {
    // A type error already found by the draw costs nothing more: no need to wait for the load.
    if (!mutant.typeError) await waitForLoad(args.maxLoad)
    const label = `[${index + 1}/${mutants.length}] ${mutant.id} ${mutant.file}:${mutant.line} ${mutant.operator}`
    const path = join(root, mutant.file)
    const started = Date.now()
    const result = {
      id: mutant.id,
      file: mutant.file,
      line: mutant.line,
      operator: mutant.operator,
      before: mutant.before,
      after: mutant.after,
      moduleHash: contentHash(originals.get(path)),
    }
    const earlier = reusable.get(mutant.id)
    if (earlier && earlier.moduleHash === result.moduleHash) {
      results.push({ ...earlier, line: mutant.line })
      console.log(`${label}: ${earlier.status} (kept from the last run)`)
      continue
    }
    // A stratified sample has type-checked its mutants already.
    const typeError = mutant.typeError !== undefined ? mutant.typeError : typeErrorOf(mutant)
    if (typeError) {
      results.push({ ...result, status: 'type-error', detail: typeError })
      writeResults(false)
      console.log(`${label}: type error`)
      continue
    }
    const tests = testsFor(mutant).filter((test) => !excluded.has(test))
    if (tests.length === 0) {
      results.push({ ...result, status: 'survived', detail: 'no test file reaches this module' })
      writeResults(false)
      console.log(`${label}: SURVIVED (no test reaches it)`)
      continue
    }
    const stages = args.tests ? [tests] : [tests.slice(0, FIRST_STAGE), tests.slice(FIRST_STAGE)]
    console.log(`${label}: first ${stages[0].map(rel).join(', ')}`)
    let outcome = { status: 'survived', testFiles: 0 }
    try {
      apply(mutant, originals.get(path))
      for (const stage of stages.filter((files) => files.length > 0)) {
        const expected = stage.reduce((sum, file) => sum + (durations.get(file) ?? 10_000), 0)
        const timeout = args.timeout ?? Math.max(120, Math.ceil((3 * expected) / 1000) + 60)
        const run = await runVitest(stage, timeout)
        outcome.testFiles += stage.length
        if (run.timedOut) {
          outcome = { ...outcome, status: 'timeout', killedBy: `timeout after ${timeout} s` }
          break
        }
        if (!run.passed) {
          outcome = {
            ...outcome,
            status: 'killed',
            killedBy: run.failures[0] ?? `vitest exit ${run.code}: ${run.stderr.split('\n')[0]}`,
          }
          break
        }
      }
    } finally {
      restore()
    }
    const seconds = (Date.now() - started) / 1000
    results.push({ ...result, ...outcome, seconds: Math.round(seconds) })
    writeResults(false)
    if (outcome.killedBy && outcome.status === 'killed') {
      const byTest = killers.get(mutant.file) ?? new Map()
      const test = outcome.killedBy.split(/ > |: /)[0]
      byTest.set(test, (byTest.get(test) ?? 0) + 1)
      killers.set(mutant.file, byTest)
    }
    const shown =
      outcome.status === 'survived'
        ? equivalents[mutant.id]
          ? 'survived (equivalent)'
          : 'SURVIVED'
        : `${outcome.status} by ${outcome.killedBy}`
    console.log(`${label}: ${shown} (${seconds.toFixed(0)} s, ${outcome.testFiles} files)`)
  }

  // Every file as it was: checked against the start, and git's view printed.
  const changed = scope.filter((file) => readFileSync(file, 'utf8') !== originals.get(file))
  if (changed.length > 0) {
    for (const file of changed) writeFileSync(file, originals.get(file))
    console.error(`restored after a check found them changed: ${changed.map(rel).join(', ')}`)
  }
  const gitDiff = execFileSync('git', ['diff', '--stat', '--', ...scope.map(rel)], {
    cwd: root,
    encoding: 'utf8',
  }).trim()
  console.log(
    gitDiff
      ? `\ngit diff of the modules (changes you had before the run):\n${gitDiff}`
      : '\ngit diff: no module in scope differs from HEAD'
  )

  printTable(summarize(recorded(), equivalents))
  printSurvivors(recorded(), equivalents)

  if (outPath) {
    writeResults(true)
    console.log(`\nresults: ${rel(outPath)}`)
  }
}

main().catch((error) => {
  restore()
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
