import { describe, expect, it } from 'vitest';
import { renderThreadNote, threadName } from '../src/cards/thread-note.js';

const a = { id: 1, service: 'api', severity: 'P1' as const, title: 'DB down', status: 'firing' as const, receivedAt: 0 };

describe('thread follow-ups', () => {
  it('say the count at send time, name who acted without pinging, and let only an escalation mention ping', () => {
    expect(renderThreadNote('repeat', { ...a, occurrences: 7 }, { username: 'Herald' })).toMatchObject({ content: '🔁 Fired again, 7 times in all', allowed_mentions: { parse: [] }, embeds: [] });
    expect(renderThreadNote('ack', { ...a, acknowledgedBy: 'pat', acknowledgedByUser: '123456789012345678' }, { username: 'Herald' }).content).toBe('👀 Acknowledged by <@123456789012345678>');
    expect(renderThreadNote('resolve', { ...a, resolvedBy: 'prometheus @everyone' }, { username: 'Herald' })).toMatchObject({ content: '✅ Resolved by prometheus @everyone', allowed_mentions: { parse: [] } });
    const esc = renderThreadNote('escalation', a, { username: 'Herald', mention: 'role:223456789012345678' });
    expect(esc.content).toBe('<@&223456789012345678> 📣 Escalation: not acknowledged yet');
    expect(esc.allowed_mentions).toEqual({ parse: [], roles: ['223456789012345678'] });
  });

  it('thread names fit Discord’s 100 characters', () => {
    expect(threadName(a)).toBe('P1 · DB down');
    expect(threadName({ severity: 'P3', title: 'x'.repeat(300) }).length).toBeLessThanOrEqual(100);
  });
});
