import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Same answers on every machine: no colours, UTC, and the CLI pins ANSIBLE_CONFIG itself.
    env: { NO_COLOR: '1', TZ: 'UTC' },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/{env,render,ansible,cli,role,lint}/**/*.test.ts'], testTimeout: 60_000 },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 900_000,
          hookTimeout: 900_000,
          // The e2e files share the Docker daemon and build the same images.
          fileParallelism: false,
        },
      },
    ],
  },
});
