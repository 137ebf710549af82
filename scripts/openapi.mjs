/**
 * Writes public/openapi.json from the routes' own declarations (src/http/endpoint.ts): bundles the
 * app with the generator for Node, walks its router, and formats the result with Prettier. Also
 * docs/openapi-all-features.json: the same for a Worker that registers the optional features too
 * (the identity providers, docs/identity-providers.md), which the deployed one leaves out.
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
const allFeaturesTarget = `${root}docs/openapi-all-features.json`

const workDir = await mkdtemp(join(tmpdir(), 'openapi-'))
const bundlePath = join(workDir, 'generate.mjs')
await build({
  stdin: {
    contents: `export { openApiDocumentOf } from './src/openapi/document'
export { app } from './src/index'
export { DEFAULT_FEATURES } from './src/features'
export { oidcFeature } from './src/sign-in/oidc'
export { createWorker } from './src/worker'`,
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
const { app, DEFAULT_FEATURES, createWorker, oidcFeature, openApiDocumentOf } = await import(
  pathToFileURL(bundlePath).href
).finally(() => rm(workDir, { recursive: true }))
const allFeatures = [...DEFAULT_FEATURES, oidcFeature]
for (const [path, document] of [
  [target, openApiDocumentOf(app, DEFAULT_FEATURES)],
  [allFeaturesTarget, openApiDocumentOf(createWorker(allFeatures).app, allFeatures)],
]) {
  await writeFile(path, await prettier.format(JSON.stringify(document), { filepath: path }))
  console.log(`wrote ${path}`)
}
