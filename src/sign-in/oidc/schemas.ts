/** The oidc routes' bodies and answers (validation and the OpenAPI document alike). */
import * as v from 'valibot'

export const ExchangeBody = v.object({
  code: v.pipe(v.string('code must be a string'), v.maxLength(128, 'code is too long')),
})

export const LinkResponse = v.object({
  url: v.pipe(v.string(), v.description("The provider's authorization URL to open.")),
})

export const IdentitySchema = v.object({
  id: v.string(),
  provider: v.string(),
  email: v.nullable(v.string()),
  created_at: v.string(),
})

export const IdentitiesResponse = v.object({ identities: v.array(IdentitySchema) })

export const ProvidersResponse = v.object({
  providers: v.array(v.object({ id: v.string(), name: v.string() })),
})
