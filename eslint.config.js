import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.infra/**', 'packages/proto/src/gen/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
      // Config is parsed in one place per service; nothing else reads the environment.
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read configuration through @parley/config in main or test-support' }],
    },
  },
  {
    files: ['cmd/*/main.ts', 'scripts/**/*.ts', 'bench/**/*.ts', 'packages/test-support/src/**/*.ts', 'cmd/*/test*/**/*.ts', 'packages/*/test*/**/*.ts', 'e2e/**/*.ts'],
    rules: { 'no-console': 'off', 'no-restricted-properties': 'off' },
  },
);
