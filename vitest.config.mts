import { cloudflareTest, getRunnerName, readD1Migrations } from '@cloudflare/vitest-plugin'
import { build } from 'esbuild'
import { existsSync, readFileSync } from 'node:fs'
import { defineConfig } from 'vitest/config'
import { unstable_readConfig } from 'wrangler'

// A fixed secret for the test pool only; real ones come from .dev.vars or `wrangler secret put`.
const TEST_JWT_SECRET = 'test-only-secret-that-is-long-enough-0123456789'
// The issuer a deployment sets (its own https URL, that of test/helpers/requests.ts' BASE_URL),
// not wrangler.toml's placeholder name: OAuth discovery needs a URL (RFC 8414 §3.3).
const TEST_ISSUER = 'https://auth.example.test'
const TEST_MFA_SECRET = 'test-only-mfa-secret-that-is-long-enough-9876543210'

// Property tests draw their inputs from one seed: CI pins it so that a commit always gives the
// same answer; FC_SEED replays a run (fast-check prints the seed and path of a failure).
const PINNED_SEED = 20_261_202
const propertySeed = Number(
  process.env.FC_SEED ?? (process.env.CI ? PINNED_SEED : Math.floor(Math.random() * 2 ** 31))
)
console.log(`fast-check seed ${propertySeed} (replay: FC_SEED=${propertySeed} npm test)`)

/** wrangler.toml's [vars]: what a deployment without overrides runs with. */
const wranglerVars = unstable_readConfig({ config: './wrangler.toml' }).vars as Record<
  string,
  string
>

/**
 * What the suite runs with: wrangler.toml's vars, with the per-client limiter off (it is required
 * in a deployment; tests that exercise it bind a limiter of their own and turn it back on), and a
 * deployment-like issuer URL instead of the placeholder name.
 */
const testVars = { ...wranglerVars, CLIENT_RATE_LIMIT_MODE: 'off', JWT_ISSUER: TEST_ISSUER }

/**
 * wrangler also loads a developer's .dev.vars (or .env) into the test worker. Every name those
 * files set is pinned here, to wrangler.toml's value or to empty (unset), so that no local file
 * can change a test's result.
 */
const namesInLocalEnvFiles = ['.dev.vars', '.env'].flatMap((file) =>
  existsSync(file)
    ? [...readFileSync(file, 'utf8').matchAll(/^\s*(?:export\s+)?([A-Za-z_]\w*)\s*=/gm)].map(
        (match) => match[1]
      )
    : []
)

// ---- The resource server beside the auth worker (examples/resource-worker, test/other-workers) ----
/** The test project's name, which names the runner Worker that auxiliary Workers bind back to. */
const PROJECT_NAME = 'edge-jwt-auth'

/** Auxiliary Workers run JavaScript only: the example is bundled here as wrangler would. */
const bundleResourceWorker = async () => {
  const { outputFiles } = await build({
    entryPoints: ['examples/resource-worker/worker.ts'],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:*'],
    write: false,
  })
  return outputFiles[0].text
}

/**
 * What the resource worker's AUTH_PUBLIC binding answers in tests: the JWK set a test published
 * (PUT), and how many times it was fetched (GET /fetches), so that caching and the refetch on an
 * unknown kid are observed from outside the worker. The keys are a real auth app's, served by it.
 */
let publishedJwks = '{"keys":[]}'
let jwksFetches = 0
const testJwksEndpoint = async (request: Request): Promise<Response> => {
  const { pathname } = new URL(request.url)
  if (request.method === 'PUT') {
    publishedJwks = await request.text()
    jwksFetches = 0
    return new Response(null, { status: 204 })
  }
  if (pathname === '/fetches') return Response.json({ fetches: jwksFetches })
  jwksFetches++
  return new Response(publishedJwks, { headers: { 'Content-Type': 'application/json' } })
}

/** The pool of one test project: the runner and its bindings (the sharded project adds DB_SHARDS). */
const workersPool = async (name: string, extraBindings: Record<string, string> = {}) =>
  cloudflareTest({
    wrangler: { configPath: './wrangler.toml' },
    miniflare: {
      bindings: {
        ...Object.fromEntries(namesInLocalEnvFiles.map((local) => [local, ''])),
        ...testVars,
        JWT_SECRET: TEST_JWT_SECRET,
        TEST_MIGRATIONS: await readD1Migrations('./migrations'),
        TEST_WRANGLER_VARS: wranglerVars,
        TEST_JWT_SECRET,
        TEST_ISSUER,
        MFA_SECRET: TEST_MFA_SECRET,
        FC_SEED: String(propertySeed),
        ...extraBindings,
      },
      // Shards 1 and 2 (DB is shard 0): tests only. The sharded project runs with DB_SHARDS=3;
      // the other binds them for the sharded adapter's conformance run.
      d1Databases: { DB_1: 'edge-jwt-auth-shard-1', DB_2: 'edge-jwt-auth-shard-2' },
      serviceBindings: { RESOURCE: 'resource-worker', TEST_JWKS: testJwksEndpoint },
      workers: [
        {
          name: 'resource-worker',
          modules: [
            { type: 'ESModule', path: 'worker.mjs', contents: await bundleResourceWorker() },
          ],
          compatibilityDate: '2026-04-20',
          bindings: { JWT_ISSUER: TEST_ISSUER },
          serviceBindings: {
            // examples/resource-worker/wrangler.toml's bindings, pointed at the runner.
            AUTH: {
              name: getRunnerName({ name } as never),
              entrypoint: 'AuthService',
            },
            AUTH_PUBLIC: testJwksEndpoint,
          },
        },
      ],
    },
  })

/** Where the routes run with accounts over three databases as well (docs/scaling.md). */
const SHARDED_PROJECT = `${PROJECT_NAME}-3-shards`
const SHARDED_FILES = [
  'test/conformance.test.ts',
  'test/shards.test.ts',
  'test/shards-oidc.test.ts',
]

const common = {
  setupFiles: [
    './test/setup/apply-migrations.ts',
    './test/setup/property-seed.ts',
    './test/setup/restore-after-each.ts',
  ],
  // The worker logs a JSON line per request; show it only for failing tests.
  silent: 'passed-only' as const,
  // Every register and login derives a password hash (PBKDF2, 100 000 iterations); tests that
  // log in a dozen times, on two shared cores, need more than vitest's 5 s default.
  testTimeout: 30_000,
}

export default defineConfig(async () => ({
  test: {
    projects: [
      {
        plugins: [await workersPool(PROJECT_NAME)],
        test: {
          ...common,
          name: PROJECT_NAME,
          include: ['test/**/*.test.ts'],
          // Written for three shards: it runs in the sharded project only.
          exclude: ['test/shards.test.ts', 'test/shards-oidc.test.ts'],
        },
      },
      {
        plugins: [await workersPool(SHARDED_PROJECT, { DB_SHARDS: '3' })],
        test: { ...common, name: SHARDED_PROJECT, include: SHARDED_FILES },
      },
    ],
  },
}))
