import { describe, expect, it } from 'vitest';
import { classifyResponse, type DiscordAnswer } from '../src/discord/responses.js';

/** An answer from Discord: status, headers and a JSON (or raw) body. */
function answer(status: number, headers: Record<string, string> = {}, body: unknown = ''): DiscordAnswer {
  return { kind: 'answered', status, headers: new Headers(headers), body: typeof body === 'string' ? body : JSON.stringify(body) };
}

const bucketHeaders = { 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '3', 'x-ratelimit-reset-after': '1.25', 'x-ratelimit-bucket': 'abc' };

describe('classifyResponse: what an answer from Discord means', () => {
  describe('success', () => {
    it('a posted message carries its id and the webhook bucket the headers describe', () => {
      expect(classifyResponse(answer(200, bucketHeaders, { id: '1234567890123456789' }), 'execute')).toEqual({
        kind: 'sent',
        status: 200,
        messageId: '1234567890123456789',
        rate: { limit: 5, remaining: 3, resetAfterMs: 1250, bucket: 'abc' },
      });
    });

    it('an edit answers with the message too', () => {
      expect(classifyResponse(answer(200, {}, { id: '42' }), 'edit')).toMatchObject({ kind: 'sent', messageId: '42' });
    });

    it('a delete answers 204 with no body', () => {
      expect(classifyResponse(answer(204), 'delete')).toMatchObject({ kind: 'sent', status: 204, messageId: null });
    });

    it('a success without a message id cannot be edited later: it is not taken as sent', () => {
      expect(classifyResponse(answer(200, {}, 'ok'), 'execute')).toMatchObject({ kind: 'permanent-rejection', reason: 'unexpected', detail: 'answer without a message id' });
    });
  });

  describe('429: wait as told, and know whose limit it was', () => {
    it('the webhook\'s own limit: retry_after from the body, in seconds (float)', () => {
      const v = classifyResponse(answer(429, { ...bucketHeaders, 'x-ratelimit-remaining': '0', 'x-ratelimit-scope': 'user' }, { retry_after: 1.5, global: false }), 'execute');
      expect(v).toMatchObject({ kind: 'retry-after', status: 429, waitMs: 1500, scope: 'user' });
      expect(v.rate).toMatchObject({ remaining: 0, retryAfterMs: 1500, scope: 'user' });
    });

    it('the hidden per-channel cap: scope shared, although the headers still show budget left', () => {
      const v = classifyResponse(answer(429, { ...bucketHeaders, 'x-ratelimit-scope': 'shared' }, { retry_after: 41.234, global: false }), 'execute');
      expect(v).toMatchObject({ kind: 'retry-after', waitMs: 41_234, scope: 'shared' });
    });

    it('the global limit: from the scope header or from the body\'s global flag', () => {
      expect(classifyResponse(answer(429, { 'x-ratelimit-scope': 'global' }, { retry_after: 2 }), 'execute')).toMatchObject({ scope: 'global' });
      expect(classifyResponse(answer(429, {}, { retry_after: 2, global: true }), 'execute')).toMatchObject({ scope: 'global', waitMs: 2000 });
    });

    it('without a body the Retry-After header gives the wait; without either, one second', () => {
      expect(classifyResponse(answer(429, { 'retry-after': '3' }), 'execute')).toMatchObject({ waitMs: 3000, scope: 'user' });
      expect(classifyResponse(answer(429), 'edit')).toMatchObject({ kind: 'retry-after', waitMs: 1000, scope: 'user' });
    });
  });

  describe('the webhook cannot be used', () => {
    it('404 Unknown Webhook: gone (drop it at once; hammering it gets the client restricted)', () => {
      expect(classifyResponse(answer(404, {}, { message: 'Unknown Webhook', code: 10015 }), 'execute')).toMatchObject({ kind: 'dead-webhook', status: 404, gone: true });
    });

    it('401 Invalid Webhook Token: gone', () => {
      expect(classifyResponse(answer(401, {}, { message: 'Invalid Webhook Token', code: 50027 }), 'edit')).toMatchObject({ kind: 'dead-webhook', status: 401, gone: true });
    });

    it('403: may not post here, but the webhook still exists', () => {
      expect(classifyResponse(answer(403, {}, { message: 'Missing Access', code: 50001 }), 'execute')).toMatchObject({ kind: 'dead-webhook', status: 403, gone: false });
    });
  });

  describe('sending the same again cannot succeed', () => {
    it('404 Unknown Message on an edit or delete: the message was deleted already', () => {
      const unknownMessage = { message: 'Unknown Message', code: 10008 };
      expect(classifyResponse(answer(404, {}, unknownMessage), 'edit')).toMatchObject({ kind: 'permanent-rejection', reason: 'unknown-message' });
      expect(classifyResponse(answer(404, {}, unknownMessage), 'delete')).toMatchObject({ kind: 'permanent-rejection', reason: 'unknown-message' });
      // A post names no message: any 404 to it means the webhook is gone.
      expect(classifyResponse(answer(404, {}, unknownMessage), 'execute')).toMatchObject({ kind: 'dead-webhook' });
    });

    it('400 Invalid Form Body and 413: the message itself is refused, with Discord\'s reason kept', () => {
      const invalid = { code: 50035, message: 'Invalid Form Body', errors: { embeds: { 0: { description: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] } } } } };
      const v = classifyResponse(answer(400, {}, invalid), 'execute');
      expect(v).toMatchObject({ kind: 'permanent-rejection', reason: 'invalid-message', status: 400 });
      expect(v.kind === 'permanent-rejection' && v.detail).toContain('BASE_TYPE_MAX_LENGTH');
      expect(classifyResponse(answer(413, {}, 'Request Entity Too Large'), 'execute')).toMatchObject({ kind: 'permanent-rejection', reason: 'invalid-message', status: 413 });
    });

    it('any other answer (405, 415, a redirect) will not change by retrying', () => {
      for (const status of [405, 415, 302]) {
        expect(classifyResponse(answer(status), 'execute')).toMatchObject({ kind: 'permanent-rejection', reason: 'unexpected', status });
      }
    });
  });

  describe('may succeed later', () => {
    it('a 5xx: retried, with a short error for the queue and Discord\'s body as the detail', () => {
      for (const status of [500, 502, 503, 504]) {
        expect(classifyResponse(answer(status, {}, 'upstream connect error'), 'execute')).toMatchObject({
          kind: 'transient',
          cause: 'server-error',
          status,
          error: `Discord answered ${status}`,
          detail: 'upstream connect error',
        });
      }
    });

    it('no answer: a timeout or a network error, with no status and no rate-limit information', () => {
      expect(classifyResponse({ kind: 'network', error: 'no answer within 10000 ms', timedOut: true }, 'execute')).toEqual({
        kind: 'transient',
        cause: 'timeout',
        status: null,
        error: 'no answer within 10000 ms',
        detail: 'no answer within 10000 ms',
        rate: {},
      });
      expect(classifyResponse({ kind: 'network', error: 'ECONNREFUSED', timedOut: false }, 'edit')).toMatchObject({ kind: 'transient', cause: 'network' });
    });
  });

  it('never keeps a webhook token that an error body echoes', () => {
    const token = 'a'.repeat(68);
    const v = classifyResponse(answer(400, {}, `bad request to https://discord.com/api/webhooks/123456789012345678/${token}?wait=true`), 'execute');
    expect(v.kind === 'permanent-rejection' && v.detail).toContain('/webhooks/123456789012345678/****');
    expect(JSON.stringify(v)).not.toContain(token);
  });
});
