import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'

// A fixed secret for the test pool only; real ones come from .dev.vars or `wrangler secret put`.
const TEST_JWT_SECRET = 'test-only-secret-that-is-long-enough-0123456789'

export default defineConfig(async () => ({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: {
          JWT_SECRET: TEST_JWT_SECRET,
          TEST_MIGRATIONS: await readD1Migrations('./migrations'),
        },
      },
    }),
  ],
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['./test/apply-migrations.ts'],
    // The worker logs a JSON line per request; show it only for failing tests.
    silent: 'passed-only',
    // Every register and login runs the production scrypt policy (~150 ms of CPU, README
    // "Password storage"); tests that log in a dozen times need more than vitest's 5 s default.
    testTimeout: 30_000,
  },
}))
