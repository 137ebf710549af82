/**
 * The features the standalone Worker registers: one line each. A new sign-in method adds its
 * folder (src/sign-in/<method>/, exporting an AuthFeature) and one line here; so does a protected
 * resource (src/resources/<name>/, docs/extending.md).
 */
import type { AuthFeature } from './feature'
import type { PartDocs } from './http/endpoint'
import { noteDocs, notesResource } from './resources/notes'
import { passkeyDocs, passkeysFeature } from './sign-in/passkeys'
import { totpDocs, totpFeature } from './sign-in/totp'

// Optional, left out of the deployed bundle for its size (45 KiB gzip budget; docs/extending.md):
// `oidcFeature` from './sign-in/oidc' (sign-in with an identity provider, +7.8 KiB gzip). Add it to
// this list to deploy it; the tests and the browser tests run it (e2e/all-features-worker.ts).
// `as const`: the typed client (src/client.ts) learns the features' routes from this list's type.
export const DEFAULT_FEATURES = [
  notesResource,
  totpFeature,
  passkeysFeature,
] as const satisfies readonly AuthFeature[]

/** The docs of the features above, in the same order: for the OpenAPI generator only. */
export const DEFAULT_FEATURE_DOCS: readonly PartDocs[] = [noteDocs, totpDocs, passkeyDocs]
