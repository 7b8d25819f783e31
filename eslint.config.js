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
    // The SDK runs in browsers too: no Node built-ins, no Node globals (web/tsconfig.json also
    // type-checks it without Node's types).
    files: ['packages/client/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', 'ws'], message: '@parley/client runs in browsers: take the implementation as an option instead' }] }],
      'no-restricted-globals': ['error', 'process', 'Buffer', 'require', '__dirname', 'global'],
    },
  },
  {
    // The page shows what users wrote: text only, never parsed as HTML.
    files: ['web/src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "JSXAttribute[name.name='dangerouslySetInnerHTML']", message: 'render text, never HTML (docs/web.md, Escaping)' },
        { selector: "MemberExpression[property.name=/^(innerHTML|outerHTML|insertAdjacentHTML)$/]", message: 'render text, never HTML (docs/web.md, Escaping)' },
        { selector: "CallExpression[callee.object.name='document'][callee.property.name=/^write/]", message: 'render text, never HTML' },
      ],
    },
  },
  {
    files: ['cmd/*/main.ts', 'scripts/**/*.ts', 'bench/**/*.ts', 'packages/test-support/src/**/*.ts', 'cmd/*/test*/**/*.ts', 'packages/*/test*/**/*.ts', 'e2e/**/*.ts'],
    rules: { 'no-console': 'off', 'no-restricted-properties': 'off' },
  },
);
