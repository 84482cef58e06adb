import { writeFileSync } from 'node:fs';
import { configJsonSchema } from './file-schema.js';

/**
 * `npm run config:schema`: writes schema/herald.schema.json from the file's zod schema (file-schema.ts).
 * test/config-schema.test.ts fails while the committed file differs from what this writes.
 */
export const JSON_SCHEMA_PATH = 'schema/herald.schema.json';
export const jsonSchemaText = (): string => `${JSON.stringify(configJsonSchema(), null, 2)}\n`;

if (process.argv[1]?.endsWith('write-json-schema.ts')) {
  writeFileSync(JSON_SCHEMA_PATH, jsonSchemaText());
  process.stdout.write(`wrote ${JSON_SCHEMA_PATH}\n`);
}
