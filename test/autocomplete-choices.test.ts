import { describe, expect, it } from 'vitest';
import { CHOICE_NAME_MAX, choiceName } from '../src/bot/autocomplete.js';
import { wellFormed } from '../src/discord/text.js';

/** Pure: how sender text becomes an autocomplete choice's name (the emulator tests in bot-security.test.ts cover the wiring). */
describe('choiceName', () => {
  it('strips bidi and control characters and keeps the text on one line', () => {
    expect(choiceName('\u202Eevil\u2066 title\u0000\nnext\tline')).toBe('evil title next line');
    expect(choiceName('plain')).toBe('plain');
  });

  it("cuts to Discord's 100 characters with an ellipsis, never inside a surrogate pair", () => {
    for (const prefix of ['', 'x']) {
      const name = choiceName(prefix + '🔥'.repeat(80));
      expect(name.length).toBeLessThanOrEqual(CHOICE_NAME_MAX);
      expect(name.endsWith('…')).toBe(true);
      expect(wellFormed(name)).toBe(name);
    }
    expect(choiceName('a'.repeat(100))).toBe('a'.repeat(100));
    expect(choiceName('a'.repeat(101))).toBe(`${'a'.repeat(99)}…`);
  });
});
