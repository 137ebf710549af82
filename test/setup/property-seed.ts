// Every property test of a run draws from the seed vitest.config.mts chose (pinned in CI).
import { env } from 'cloudflare:test'
import fc from 'fast-check'

fc.configureGlobal({ seed: Number(env.FC_SEED) })
