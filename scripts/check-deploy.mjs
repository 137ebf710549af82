// Runs before `npm run deploy`: refuses a configuration in which the per-client limiter is off or
// missing, since then anyone could make the worker hash passwords and send mail without bound
// (docs/security.md, "CPU exhaustion by crafted input"). The environment is the one wrangler
// would deploy: CLOUDFLARE_ENV, or `--env <name>` when the script is run by hand.
import { unstable_readConfig } from 'wrangler'

const envFlag = process.argv.indexOf('--env')
const env = envFlag === -1 ? process.env.CLOUDFLARE_ENV : process.argv[envFlag + 1]
const config = unstable_readConfig({ config: './wrangler.toml', env })
const where = env ? `[env.${env}]` : 'wrangler.toml'
const problems = []

const mode = config.vars?.CLIENT_RATE_LIMIT_MODE ?? 'required'
if (mode !== 'required') {
  problems.push(
    `CLIENT_RATE_LIMIT_MODE is ${JSON.stringify(mode)} in ${where}; deploys need "required"`
  )
}
if (!(config.ratelimits ?? []).some((binding) => binding.name === 'CLIENT_RATE_LIMIT')) {
  problems.push(`${where} declares no [[ratelimits]] binding named CLIENT_RATE_LIMIT`)
}
if (problems.length > 0) {
  for (const problem of problems) console.error(`check-deploy: ${problem}`)
  process.exit(1)
}
console.log(`check-deploy: the per-client limiter is on (${where})`)
