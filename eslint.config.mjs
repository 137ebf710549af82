// ESLint: hono's shared config (typed typescript-eslint rules, import order, prettier-compatible),
// on the TypeScript sources; the plain-JS scripts in bench/ and scripts/ are left to Node.
import baseConfig from '@hono/eslint-config'

/**
 * Identifiers named like a hash, digest, MAC, signature or fingerprint, in camelCase, snake_case or
 * CONSTANT_CASE as a whole word (`tokenHash`, `refresh_hash`, `mac`, not `hasher` or `machine`).
 */
const SECRET_DIGEST_NAME =
  '/(^|_)(hash|digest|mac|signature|fingerprint|HASH|DIGEST|MAC|SIGNATURE|FINGERPRINT)($|_|[A-Z0-9])|[a-z0-9](Hash|Digest|Mac|Signature|Fingerprint)($|_|[A-Z0-9])/'
// A comparison with a literal (null, '') asks whether there is a value at all, not which one.
// esquery compares attribute values as strings, so a missing `name` would equal "undefined": the
// type is checked too.
const EQUALITY_NOT_WITH_LITERAL =
  'BinaryExpression[operator=/^[!=]==?$/]:not([left.type="Literal"]):not([right.type="Literal"])' +
  ':not([left.type="Identifier"][left.name="undefined"])' +
  ':not([right.type="Identifier"][right.name="undefined"])'

export default [
  {
    // Generated: worker-configuration.d.ts by wrangler types, examples/api.d.ts by client:types.
    ignores: [
      '**/*.js',
      '**/*.mjs',
      'worker-configuration.d.ts',
      'examples/api.d.ts',
      'dist/',
      '.wrangler/',
    ],
  },
  ...baseConfig,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // One-line guards (`if (!user) throw …`) read best without braces; blocks keep them.
      curly: ['error', 'multi-line'],
      // Rows from D1 and bodies from clients are typed by what we expect, not what arrives:
      // the defensive checks this rule calls unnecessary are the point.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // Counting code points with [...text] is deliberate (passwords are measured that way).
      '@typescript-eslint/no-misused-spread': 'off',
      // The schemas refuse control characters, so their pattern must name them.
      'no-control-regex': 'off',
      // An empty string is as absent as undefined for headers, cookies and paths.
      '@typescript-eslint/prefer-nullish-coalescing': [
        'error',
        { ignorePrimitives: { string: true } },
      ],
    },
  },
  {
    // Hashes, digests, MACs and signatures are compared in constant time (constantTimeEqual,
    // constantTimeEqualText in src/auth/encoding.ts), never with === or !==, whose early exit
    // leaks how many leading bytes match. Functional tests cannot see the difference, so a rule
    // does: any strict or loose equality whose operand is named like one of them. A comparison
    // with null, undefined or another literal (is there a hash at all?) is not one of those. All of
    // src/, not only src/auth and the stores, so that the rule follows the code when files move.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...[
          `Identifier[name=${SECRET_DIGEST_NAME}]`,
          `MemberExpression[property.name=${SECRET_DIGEST_NAME}]`,
          `ChainExpression > MemberExpression[property.name=${SECRET_DIGEST_NAME}]`,
          `CallExpression[callee.name=${SECRET_DIGEST_NAME}]`,
          `CallExpression[callee.property.name=${SECRET_DIGEST_NAME}]`,
          `AwaitExpression > CallExpression[callee.name=${SECRET_DIGEST_NAME}]`,
          `AwaitExpression > CallExpression[callee.property.name=${SECRET_DIGEST_NAME}]`,
        ].map((operand) => ({
          selector: `${EQUALITY_NOT_WITH_LITERAL} > ${operand}`,
          message:
            'Compare hashes, digests, MACs and signatures with constantTimeEqual / constantTimeEqualText, not === or !==.',
        })),
      ],
    },
  },
  {
    // The bundle is the cold start (45 KiB gzip): hono's default router carries two routers
    // (RegExpRouter and TrieRouter, 2.4 KiB gzip); hono/tiny's PatternRouter is enough for the
    // service's few dozen routes. The generic secure-headers middleware is replaced by a fixed
    // list (src/http/security-headers.ts).
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'hono',
              importNames: ['Hono'],
              allowTypeImports: true,
              message: "Import Hono from 'hono/tiny' (the bundle budget).",
            },
            {
              name: 'hono/secure-headers',
              message: 'Use securityHeaders() from src/http/security-headers.ts.',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests parse untyped JSON bodies and build hostile input on purpose; `SELF` and `env` from
    // cloudflare:test are the documented test API even though the types mark them deprecated.
    files: ['test/**/*.ts', 'e2e/**/*.ts'],
    rules: {
      '@typescript-eslint/no-deprecated': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-dynamic-delete': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false }],
    },
  },
]
