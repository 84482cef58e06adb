// Only the promise rules (npm run lint:promises): with the store's asynchronous interface, a call whose promise
// nobody awaits would run out of order with its transaction, and its failure would be an unhandled rejection; an
// async function handed to a timer or an event emitter (no-misused-promises) would end the process the same way.
// Style is tsc's and the reviewer's business, not this file's.
import tseslint from 'typescript-eslint';

export default tseslint.config({
  files: ['src/**/*.ts', 'commands/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
  languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  plugins: { '@typescript-eslint': tseslint.plugin },
  linterOptions: { reportUnusedDisableDirectives: 'off' },
  rules: {
    '@typescript-eslint/no-floating-promises': 'error',
    '@typescript-eslint/no-misused-promises': 'error',
  },
});
