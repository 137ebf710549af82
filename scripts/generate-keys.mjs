// Prints a new access-token signing key pair as JWK: `npm run keys:generate -- EdDSA` (or ES256).
import { randomBytes, webcrypto } from 'node:crypto'

const ALGORITHMS = {
  EdDSA: { name: 'Ed25519' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
}

const alg = process.argv[2] ?? 'EdDSA'
if (!(alg in ALGORITHMS)) {
  console.error(`usage: npm run keys:generate -- [${Object.keys(ALGORITHMS).join('|')}]`)
  process.exit(2)
}

// A date tells an operator at a glance which key is older; the random tail keeps kids unique.
const kid = `${alg.toLowerCase()}-${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`
const pair = await webcrypto.subtle.generateKey(ALGORITHMS[alg], true, ['sign', 'verify'])
const { kty, crv, x, y, d } = await webcrypto.subtle.exportKey('jwk', pair.privateKey)
const publicJwk = { kty, crv, x, ...(y ? { y } : {}), kid, alg, use: 'sig' }
const privateJwk = { ...publicJwk, d }

console.log(JSON.stringify({ private: privateJwk, public: publicJwk }, null, 2))
console.error(
  `\nPut "private" first in the "keys" array of the JWT_PRIVATE_KEYS secret (it signs from then on),\n` +
    `keep the old keys after it until ACCESS_TOKEN_TTL has passed, then remove them.\n` +
    `Set JWT_ALGORITHM = "${alg}". Never commit or log the private key.`
)
