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
export { coreDocs } from './src/create-auth'
export { DEFAULT_FEATURES, DEFAULT_FEATURE_DOCS } from './src/features'
export { oidcDocs, oidcFeature } from './src/sign-in/oidc'
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
const {
  app,
  coreDocs,
  DEFAULT_FEATURES,
  DEFAULT_FEATURE_DOCS,
  createWorker,
  oidcDocs,
  oidcFeature,
  openApiDocumentOf,
} = await import(pathToFileURL(bundlePath).href).finally(() => rm(workDir, { recursive: true }))
const deployed = [coreDocs, ...DEFAULT_FEATURE_DOCS]
const allFeaturesApp = createWorker([...DEFAULT_FEATURES, oidcFeature]).app
for (const [path, document] of [
  [target, openApiDocumentOf(app, deployed)],
  [allFeaturesTarget, openApiDocumentOf(allFeaturesApp, [...deployed, oidcDocs])],
]) {
  await writeFile(path, await prettier.format(JSON.stringify(document), { filepath: path }))
  console.log(`wrote ${path}`)
}
