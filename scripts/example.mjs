#!/usr/bin/env node
// Runs the examples' tour (examples/openapi-fetch/tour.ts) against a running worker:
//   npm run example                      # http://localhost:8787, i.e. `npm run dev`
//   npm run example -- --url http://localhost:8788
// The TypeScript is bundled with esbuild first, as scripts/openapi.mjs does.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const at = process.argv.indexOf('--url')
const baseUrl = at === -1 ? `http://localhost:${process.env.PORT || 8787}` : process.argv[at + 1]

const workDir = await mkdtemp(join(tmpdir(), 'example-'))
const bundlePath = join(workDir, 'tour.mjs')
await build({
  entryPoints: [join(root, 'examples/openapi-fetch/tour.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile: bundlePath,
  logLevel: 'error',
})
const { tour } = await import(pathToFileURL(bundlePath).href).finally(() =>
  rm(workDir, { recursive: true })
)
try {
  await tour(baseUrl, (line) => console.log(`example: ${line}`))
} catch (error) {
  const offline = error instanceof TypeError && /fetch failed/.test(error.message)
  console.error(
    offline ? `example: nothing answers at ${baseUrl}; is \`npm run dev\` running?` : error
  )
  process.exit(1)
}
