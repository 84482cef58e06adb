import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Finds (or starts) the PostgreSQL server of the PG tests once per run: test/support/pg-server.ts.
    globalSetup: ['test/support/pg-server.ts'],
    // Integration tests start real servers and child processes; a 2-core CI box needs room.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
