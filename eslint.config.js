// Flat ESLint config: JS and typescript-eslint recommended rules (errors for real problems, not style),
// plus Outpost's layering rule (build/eslint/import-layering.js).
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';
import outpost from './build/eslint/index.js';

const nodeGlobals = {
  process: 'readonly',
  console: 'readonly',
  Buffer: 'readonly',
  URL: 'readonly',
  URLSearchParams: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
  setImmediate: 'readonly',
  setInterval: 'readonly',
  clearInterval: 'readonly',
  performance: 'readonly',
  fetch: 'readonly',
  AbortSignal: 'readonly',
  structuredClone: 'readonly',
  TextEncoder: 'readonly',
  TextDecoder: 'readonly',
  globalThis: 'readonly',
};

export default defineConfig(
  globalIgnores(['node_modules/', 'dist/', 'out/', 'coverage/', 'bench-data/', 'test-results/', '.outpost-data/', '**/*.d.ts']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.{js,mjs,cjs,ts,tsx}'],
    languageOptions: { globals: nodeGlobals },
    plugins: { outpost },
    rules: {
      'outpost/import-layering': 'error',
      'outpost/no-raw-store': 'error',
      'outpost/resource-sql': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // `any` is sometimes the honest type at a boundary (parsed JSON, Medplum internals): a warning would
      // fail `--max-warnings 0`, so it is left to review.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  }
);
