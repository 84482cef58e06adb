import { defineConfig } from 'drizzle-kit';

/** The PostgreSQL backend's migrations (`npm run db:generate:pg`); SQLite's stay in drizzle.config.ts. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/store/pg/schema.ts',
  out: './drizzle/pg',
});
