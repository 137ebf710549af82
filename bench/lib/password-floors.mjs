// The password-hash floors: what one derivation costs on this machine, the least a login can take.
import { createRequire } from 'node:module'
import { webcrypto } from 'node:crypto'

const { subtle } = webcrypto
export const PBKDF2_ITERATIONS = 100_000
const PASSWORD = new TextEncoder().encode('bench password, long enough to pass')

const medianOf = async (rounds, derive) => {
  const timings = []
  // One unmeasured round first: the first call pays for loading the algorithm.
  for (let i = 0; i <= rounds; i++) {
    const started = performance.now()
    await derive()
    if (i > 0) timings.push(performance.now() - started)
  }
  timings.sort((a, b) => a - b)
  return {
    rounds,
    medianMs: timings[Math.floor(timings.length / 2)],
    minMs: timings[0],
    maxMs: timings.at(-1),
  }
}

/**
 * One 100 000-iteration PBKDF2-HMAC-SHA256 derivation through node's WebCrypto (OpenSSL): the same
 * call and parameters as the PBKDF2 hasher makes in workerd (BoringSSL), 16-byte salt, 256 bits.
 */
export const measurePbkdf2Floor = async (rounds = 7) => {
  const salt = webcrypto.getRandomValues(new Uint8Array(16))
  const timing = await medianOf(rounds, async () => {
    const key = await subtle.importKey('raw', PASSWORD, 'PBKDF2', false, ['deriveBits'])
    await subtle.deriveBits(
      { name: 'PBKDF2', hash: 'SHA-256', salt, iterations: PBKDF2_ITERATIONS },
      key,
      256
    )
  })
  return {
    method: 'node WebCrypto (crypto.webcrypto.subtle.deriveBits), PBKDF2-HMAC-SHA256',
    iterations: PBKDF2_ITERATIONS,
    ...timing,
  }
}

/**
 * The floor of the default policy new hashes are made with, whatever its algorithm: src/auth/password is
 * bundled for node with the esbuild that wrangler ships, and its own hasher is timed. Null (with
 * the reason) when that module is not there or does not build.
 */
export const measurePolicyFloor = async (rounds = 5) => {
  try {
    const { build } = createRequire(
      createRequire(import.meta.url).resolve('wrangler/package.json')
    )('esbuild')
    const bundled = await build({
      entryPoints: ['src/auth/password/index.ts'],
      bundle: true,
      format: 'esm',
      platform: 'node',
      write: false,
      logLevel: 'silent',
    })
    const source = bundled.outputFiles[0].text
    const module = await import(
      `data:text/javascript;base64,${Buffer.from(source).toString('base64')}`
    )
    // The default the worker hashes new passwords with when no PASSWORD_HASH var picks another.
    const policy = module.DEFAULT_POLICY ?? module.CURRENT_POLICY
    const salt = webcrypto.getRandomValues(new Uint8Array(16))
    const timing = await medianOf(rounds, () => policy.hasher.derive(PASSWORD, salt, policy.params))
    return {
      method: `node, the project's own ${policy.hasher.id} hasher (src/auth/password)`,
      policy: `${policy.hasher.id} ${policy.hasher.formatParams(policy.params)}`,
      ...timing,
    }
  } catch (error) {
    return {
      skipped: `could not time the current password policy: ${error.message.split('\n')[0]}`,
    }
  }
}
