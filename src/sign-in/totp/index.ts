export { totpFeature } from './feature'
