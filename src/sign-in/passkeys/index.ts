export { passkeyDocs, passkeysFeature } from './feature'
export type { PasskeyOptions } from './options'
