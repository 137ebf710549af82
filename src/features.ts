/**
 * The features the standalone Worker registers: one line each. A new sign-in method adds its
 * folder (src/sign-in/<method>/, exporting an AuthFeature) and one line here.
 */
import type { AuthFeature } from './feature'

export const DEFAULT_FEATURES: readonly AuthFeature[] = [
  // totpFeature,
  // passkeysFeature,
  // oidcFeature,
]
