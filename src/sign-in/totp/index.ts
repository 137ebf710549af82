export { totpDocs, totpFeature } from './feature'
