export { oidcDocs, oidcFeature } from './feature'
export type { OidcOptions, ProviderConfig } from './config'
export { readProviders } from './config'
