/** scrypt through node:crypto (the nodejs_compat flag): the memory-hard hasher that runs on Workers. */
import { scrypt } from 'node:crypto'
import type { PasswordHasher } from './hasher'
import { parseNumericParams } from './hasher'

export interface ScryptParams {
  /** log2 of N, the CPU/memory cost; PHC strings carry `ln` so N is always a power of two. */
  logN: number
  /** Block size: memory per unit of N is 128 * r bytes. */
  r: number
  /** Parallelism: repeats the work p times in the same memory (BoringSSL runs them in turn). */
  p: number
}

/** A quarter of a Worker isolate's 128 MB: a 32 MiB table plus scrypt's own small blocks. */
export const SCRYPT_MAX_MEMORY_BYTES = 33 * 1024 * 1024
/** N * r * p bounds the CPU a stored row can demand: 1.6 times the default policy's work. */
export const SCRYPT_MAX_WORK = 2 ** 20
/** The weakest accepted shape; below it a stored row is refused rather than trusted. */
export const SCRYPT_MIN = { logN: 13, r: 8, p: 1 } as const
export const SCRYPT_MAX = { logN: 15, r: 16, p: 16 } as const

/**
 * Bytes scrypt allocates: the table V (N blocks of 128 * r) plus B (p blocks) and scratch. This
 * is OpenSSL's count (Node, the benchmark); BoringSSL (workerd) needs one block less.
 */
export const scryptMemoryBytes = ({ logN, r, p }: ScryptParams): number =>
  128 * r * (2 ** logN + p + 2)

export const scryptWork = ({ logN, r, p }: ScryptParams): number => 2 ** logN * r * p

export const scryptParamsAccepted = (params: ScryptParams): boolean =>
  params.logN >= SCRYPT_MIN.logN &&
  params.logN <= SCRYPT_MAX.logN &&
  params.r >= SCRYPT_MIN.r &&
  params.r <= SCRYPT_MAX.r &&
  params.p >= SCRYPT_MIN.p &&
  params.p <= SCRYPT_MAX.p &&
  scryptMemoryBytes(params) <= SCRYPT_MAX_MEMORY_BYTES &&
  scryptWork(params) <= SCRYPT_MAX_WORK

export const scryptHasher: PasswordHasher<ScryptParams> = {
  id: 'scrypt',
  keyBytes: 32,
  formatParams: ({ logN, r, p }) => `ln=${logN},r=${r},p=${p}`,
  parseParams: (text) => {
    const fields = parseNumericParams(text, ['ln', 'r', 'p'])
    if (!fields) return null
    const params = { logN: fields.ln, r: fields.r, p: fields.p }
    return scryptParamsAccepted(params) ? params : null
  },
  derive: (password, salt, params) =>
    new Promise((resolve, reject) => {
      const { logN, r, p } = params
      // maxmem is exact, so the library itself refuses anything the bounds above missed.
      const options = { N: 2 ** logN, r, p, maxmem: scryptMemoryBytes(params) }
      scrypt(password, salt, 32, options, (error, key) => {
        error ? reject(error) : resolve(new Uint8Array(key))
      })
    }),
}
