// ESLint: hono's shared config (typed typescript-eslint rules, import order, prettier-compatible),
// on the TypeScript sources; the plain-JS scripts in bench/ and scripts/ are left to Node.
import baseConfig from '@hono/eslint-config'

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
