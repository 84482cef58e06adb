import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { describeIssues, type Faults, parseFault } from './faults.js';
import { EmulatorError, type EmulatorState } from './state.js';
import type { StatsRecorder } from './stats.js';

export interface ControlDeps {
  state: EmulatorState;
  faults: Faults;
  stats: StatsRecorder;
}

const channelBody = z.strictObject({ name: z.string().min(1).max(100).optional(), id: z.string().optional() });
const webhookBody = z.strictObject({ name: z.string().optional(), application_owned: z.boolean().optional() });

/**
 * The emulator's own API, under `/_emulator`, for a separate process (Herald's demo mode, tests that spawn
 * Herald): the same operations as the in-process Emulator object. Errors are `{ error }` with a sentence.
 */
export async function controlRoutes(app: FastifyInstance, opts: { deps: ControlDeps }): Promise<void> {
  const { state, faults, stats } = opts.deps;

  app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
    if (err instanceof EmulatorError) return reply.code(err.status).send({ error: err.message, ...(err.code ? { code: err.code } : {}) });
    if (err instanceof z.ZodError) return reply.code(400).send({ error: describeIssues(err) });
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return reply.code(status).send({ error: status === 500 ? 'internal error' : err.message });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no control route ${req.method} ${req.url.split('?')[0]}` }));

  app.get('/channels', async () => state.channels());

  app.post('/channels', async (req, reply) => {
    const body = channelBody.parse(req.body ?? {});
    const existed = body.id !== undefined && state.hasChannel(body.id);
    return reply.code(existed ? 200 : 201).send(state.createChannel(body));
  });

  app.post<{ Params: { id: string } }>('/channels/:id/webhooks', async (req, reply) => {
    const body = webhookBody.parse(req.body ?? {});
    const hook = state.createWebhook(req.params.id, {
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.application_owned !== undefined ? { applicationOwned: body.application_owned } : {}),
    });
    return reply.code(201).send(hook);
  });

  app.delete<{ Params: { id: string } }>('/webhooks/:id', async (req, reply) => {
    if (!state.deleteWebhook(req.params.id)) throw new EmulatorError(404, `unknown webhook ${req.params.id}`);
    return reply.code(204).send();
  });

  app.get<{ Params: { id: string } }>('/channels/:id/messages', async (req) => state.messages(req.params.id));

  app.post('/faults', async (req, reply) => {
    faults.inject(parseFault(req.body));
    return reply.code(204).send();
  });

  app.delete('/faults', async (_req, reply) => {
    faults.clear();
    return reply.code(204).send();
  });

  app.get('/stats', async () => stats.snapshot(Date.now()));

  app.delete('/stats', async (_req, reply) => {
    stats.reset();
    return reply.code(204).send();
  });
}
