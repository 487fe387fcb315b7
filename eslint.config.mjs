// Lints the TypeScript sources and the build/run scripts; dist/ holds only compiler output.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// nodes/ and sim/ use the engines as any other program would: through their entry point only.
const engineEntryOnly = {
  patterns: [
    {
      regex: '(^|/)engine/.+',
      message: 'Import from the engine entry point (engine/index.ts); helpers not meant for users are in its `internals`.',
    },
  ],
};

export default tseslint.config(
  { ignores: ['dist/', 'dist.*/', '.nr5/', 'node_modules/', 'resources/', 'docs/', '.node-red-user/', 'test-artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Node-RED's idiom: a node's constructor keeps `const node = this` for the callbacks it registers.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['node'] }],
      // Matching control characters is what these patterns are for: escaping them in log lines, refusing them in names.
      'no-control-regex': 'off',
    },
  },
  {
    // Tests feed deliberately ill-typed input and reach into the untyped internals of Node-RED's test helper.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['nodes/**/*.ts', 'sim/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', engineEntryOnly] },
  },
);
