import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Separate processes: each test file gets its own native addon and WASM instances.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
