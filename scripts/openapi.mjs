/**
 * Writes public/openapi.json from the routes' own declarations (src/http/endpoint.ts): bundles the
 * app with the generator for Node, walks its router, and formats the result with Prettier.
 * `npm run openapi` after changing a route; test/openapi.test.ts fails while the file is stale.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import * as prettier from 'prettier'

const root = fileURLToPath(new URL('..', import.meta.url))
const target = `${root}public/openapi.json`

const workDir = await mkdtemp(join(tmpdir(), 'openapi-'))
const bundlePath = join(workDir, 'generate.mjs')
await build({
  stdin: {
    contents: `export { openApiDocumentOf } from './src/openapi/document'
export { app } from './src/index'
export { DEFAULT_FEATURES } from './src/features'`,
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile: bundlePath,
  // Workers-only modules: the generator reads the routes, it never sends mail nor serves RPC.
  plugins: [
    {
      name: 'workers-runtime-stubs',
      setup(esbuild) {
        esbuild.onResolve({ filter: /^cloudflare:/ }, ({ path }) => ({ path, namespace: 'stub' }))
        esbuild.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
          contents: 'export class EmailMessage {}\nexport class WorkerEntrypoint {}',
          loader: 'js',
        }))
      },
    },
  ],
  logLevel: 'error',
})
const { app, DEFAULT_FEATURES, openApiDocumentOf } = await import(
  pathToFileURL(bundlePath).href
).finally(() => rm(workDir, { recursive: true }))
const text = await prettier.format(JSON.stringify(openApiDocumentOf(app, DEFAULT_FEATURES)), {
  filepath: target,
})
await writeFile(target, text)
console.log(`wrote ${target}`)
