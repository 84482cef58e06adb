import type { z } from 'zod';

/**
 * Validation messages in plain words for the people who read a 400 answer ("title is required",
 * "id must be a number") instead of zod's defaults ("Invalid input: expected string, received
 * undefined"). Pass `PLAIN` to `safeParse`; a message a schema sets itself still wins.
 */
export const plainWords = (iss: z.core.$ZodRawIssue): string | undefined => {
  const field = fieldName(iss.path);
  const i = iss as z.core.$ZodRawIssue & Record<string, unknown>;
  switch (iss.code) {
    case 'invalid_type': {
      if (iss.input === undefined) return `${field} is required`;
      if (i.expected === 'number' || i.expected === 'bigint') return `${field} must be a number`;
      if (i.expected === 'int') return `${field} must be a whole number`;
      const kind = KINDS[String(i.expected)];
      return kind ? `${field} must be ${kind} (got ${describe(iss.input)})` : undefined;
    }
    case 'invalid_value': {
      const values = (i.values as unknown[] | undefined) ?? [];
      if (values.length === 1) return `${field} must be ${show(values[0])} (got ${show(iss.input)})`;
      return `${field} must be one of ${values.map((v) => (typeof v === 'string' ? v : show(v))).join(', ')} (got ${show(iss.input)})`;
    }
    case 'too_small':
    case 'too_big':
      return sizeMessage(field, iss.code, i);
    case 'invalid_format':
      if (i.format === 'url') return `${field} must be an http(s) URL`;
      return `${field} is not a valid ${String(i.format)}`;
    default:
      return undefined;
  }
};

/** Parse options that give `plainWords` messages: `schema.safeParse(data, PLAIN)`. */
export const PLAIN = { error: plainWords } as const;

const KINDS: Record<string, string> = {
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
};

function sizeMessage(field: string, code: 'too_small' | 'too_big', i: Record<string, unknown>): string | undefined {
  const small = code === 'too_small';
  const bound = Number(small ? i.minimum : i.maximum);
  const inclusive = i.inclusive !== false;
  switch (i.origin) {
    case 'string':
      if (small && bound === 1) return `${field} must not be empty`;
      return `${field} must be ${small ? 'at least' : 'at most'} ${bound} character${bound === 1 ? '' : 's'}`;
    case 'array':
    case 'set':
      if (small && bound === 1) return `${field} must not be empty`;
      return `${field} must have ${small ? 'at least' : 'at most'} ${bound} item${bound === 1 ? '' : 's'}`;
    case 'number':
    case 'int':
    case 'bigint':
      if (inclusive) return `${field} must be ${small ? 'at least' : 'at most'} ${bound}`;
      return `${field} must be ${small ? 'greater' : 'less'} than ${bound}`;
    default:
      return undefined;
  }
}

/** The name a person knows a value by: its key (`labels.team` → team), or "the body". */
function fieldName(path: PropertyKey[] | undefined): string {
  const key = [...(path ?? [])].reverse().find((p) => typeof p === 'string');
  return key === undefined ? (path?.length ? 'each item' : 'the body') : String(key);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return typeof v === 'string' ? 'text' : typeof v;
}

/** A value as it was sent, short: `"critical"`, `3`, `null`. */
function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
