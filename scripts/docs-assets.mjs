// Copies Swagger UI from the swagger-ui-dist package into public/docs/vendor/, where the static
// assets serve it to /docs: the reference page needs no CDN and works offline. wrangler.toml's
// [build] runs this before `wrangler dev` and `wrangler deploy`, so a deploy always carries it.
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const FILES = ['swagger-ui-bundle.js', 'swagger-ui.css', 'LICENSE', 'NOTICE']
const TARGET = 'public/docs/vendor'

const packageDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))

const isCopied = (file) => {
  try {
    return statSync(join(TARGET, file)).size === statSync(join(packageDir, file)).size
  } catch {
    return false
  }
}

mkdirSync(TARGET, { recursive: true })
const copied = FILES.filter((file) => !isCopied(file))
for (const file of copied) copyFileSync(join(packageDir, file), join(TARGET, file))
if (copied.length > 0) console.log(`docs-assets: swagger-ui-dist ${version} → ${TARGET}`)
