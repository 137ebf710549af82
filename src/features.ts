/**
 * The features the standalone Worker registers: one line each. A new sign-in method adds its
 * folder (src/sign-in/<method>/, exporting an AuthFeature) and one line here; so does a protected
 * resource (src/resources/<name>/, docs/extending.md).
 */
import type { AuthFeature } from './feature'
import { notesResource } from './resources/notes'
import { oidcFeature } from './sign-in/oidc'
import { totpFeature } from './sign-in/totp'

// `as const`: the typed client (src/client.ts) learns the features' routes from this list's type.
export const DEFAULT_FEATURES = [
  notesResource,
  totpFeature,
  // passkeysFeature,
  oidcFeature,
] as const satisfies readonly AuthFeature[]
