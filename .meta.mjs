import { build } from 'esbuild'
import { gzipSync } from 'node:zlib'
const dir = process.argv[2]
const r = await build({ entryPoints: [dir + '/src/index.ts'], absWorkingDir: dir, bundle: true, minify: true, format: 'esm', platform: 'neutral', metafile: true, write: false, external: ['cloudflare:*','node:*'], conditions: ['workerd','worker','browser'], mainFields: ['module','main'] })
const out = Object.values(r.metafile.outputs)[0]
console.log('total', r.outputFiles[0].contents.length, 'gzip', gzipSync(r.outputFiles[0].contents).length)
for (const [k,v] of Object.entries(out.inputs)) console.log(v.bytesInOutput, k)
