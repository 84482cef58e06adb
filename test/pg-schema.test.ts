import { type Column, type SQL, getTableName, is, SQL as SQLClass, StringChunk } from 'drizzle-orm';
import { PgTable, getTableConfig as pgConfig } from 'drizzle-orm/pg-core';
import { SQLiteTable, getTableConfig as sqliteConfig } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import * as pg from '../src/store/pg/schema.js';
import * as sqlite from '../src/store/sqlite/schema.js';

/**
 * The PostgreSQL schema mirrors SQLite's, compared through drizzle's own reading of both (`getTableConfig`): a
 * table, column, index or foreign key added to one and not the other fails here, not in production.
 */

/** Tables only several instances need: in PostgreSQL, never in a single SQLite file. */
const PG_ONLY = ['lane_leases'];

interface Shape {
  columns: Record<string, { notNull: boolean; primary: boolean; unique: boolean; hasDefault: boolean | null }>;
  primaryKey: string[];
  indexes: Record<string, { columns: string[]; unique: boolean; where: string | null }>;
  foreignKeys: string[];
}

/** The text of a `where` condition, columns written by their name: the same in both dialects. */
function conditionText(where: SQL | undefined): string | null {
  if (!where) return null;
  return where.queryChunks
    .map((chunk) => {
      if (is(chunk, StringChunk)) return chunk.value.join('');
      if (is(chunk, SQLClass)) return conditionText(chunk);
      return (chunk as Column).name;
    })
    .join('')
    .trim();
}

type AnyConfig = ReturnType<typeof sqliteConfig> | ReturnType<typeof pgConfig>;

function shape(config: AnyConfig): Shape {
  const columns: Shape['columns'] = {};
  for (const c of config.columns) {
    // A single-column integer key is SQLite's rowid, which drizzle counts as a default; PostgreSQL's ids are
    // identity columns and `digest_settings.channel_id` has none: the defaults compared are those of the other columns.
    columns[c.name] = { notNull: c.notNull, primary: c.primary, unique: c.isUnique, hasDefault: c.primary ? null : c.hasDefault };
  }
  const indexes: Shape['indexes'] = {};
  for (const i of config.indexes) {
    indexes[i.config.name ?? '(unnamed)'] = {
      columns: i.config.columns.map((c) => (c as { name: string }).name),
      unique: i.config.unique ?? false,
      where: conditionText(i.config.where),
    };
  }
  const foreignKeys = config.foreignKeys
    .map((fk) => {
      const ref = fk.reference();
      return `${ref.columns.map((c) => c.name).join(',')} → ${getTableName(ref.foreignTable)}(${ref.foreignColumns.map((c) => c.name).join(',')}) on delete ${fk.onDelete ?? 'no action'}`;
    })
    .sort();
  return { columns, primaryKey: config.primaryKeys.flatMap((pk) => pk.columns.map((c) => c.name)), indexes, foreignKeys };
}

const sqliteTables = new Map(
  Object.values(sqlite as Record<string, unknown>)
    .filter((v): v is SQLiteTable => is(v, SQLiteTable))
    .map((t) => [getTableName(t), shape(sqliteConfig(t))]),
);
const pgTables = new Map(
  Object.values(pg as Record<string, unknown>)
    .filter((v): v is PgTable => is(v, PgTable))
    .map((t) => [getTableName(t), shape(pgConfig(t))]),
);

describe('the PostgreSQL schema (src/store/pg/schema.ts)', () => {
  it('has every table of the SQLite schema, and only the PostgreSQL-only ones besides', () => {
    expect(sqliteTables.size).toBeGreaterThan(20);
    expect([...pgTables.keys()].filter((t) => !PG_ONLY.includes(t)).sort()).toEqual([...sqliteTables.keys()].sort());
  });

  for (const [table, expected] of sqliteTables) {
    it(`${table}: the same columns (names, nullability, keys, defaults), indexes (columns, partial conditions) and foreign keys`, () => {
      const actual = pgTables.get(table);
      expect(actual, `no table ${table} in the PostgreSQL schema`).toBeDefined();
      expect(actual!.columns).toEqual(expected.columns);
      expect(actual!.primaryKey).toEqual(expected.primaryKey);
      expect(actual!.indexes).toEqual(expected.indexes);
      expect(actual!.foreignKeys).toEqual(expected.foreignKeys);
    });
  }

  it('gives times and durations a type as wide as SQLite integers (bigint), read as numbers', () => {
    const narrow: string[] = [];
    for (const t of Object.values(pg as Record<string, unknown>).filter((v): v is PgTable => is(v, PgTable))) {
      for (const c of pgConfig(t).columns) {
        const wide = c.columnType === 'PgBigInt53' || c.columnType === 'PgTimestamp';
        if (/(_at|_ms|^at|^sort_key)$/.test(c.name) && !wide && c.name !== 'latency_ms') narrow.push(`${getTableName(t)}.${c.name} (${c.columnType})`);
      }
    }
    expect(narrow).toEqual([]);
  });
});
