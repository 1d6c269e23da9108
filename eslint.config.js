// ESLint flat config: ESLint's recommended rules plus typescript-eslint's type-checked ones
// (no floating promises, no unsafe `any`) over every TypeScript file tsconfig.json covers.
// Run by scripts/lint.sh, hence by `npm run lint` and CI.
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'build/', 'node_modules/'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'scripts/*.ts', 'vitest.config.ts'],
    extends: [eslint.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        // Type information from the nearest tsconfig.json, the one `tsc --noEmit -p .` checks.
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
);
