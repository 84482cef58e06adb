import { z } from 'zod';
import { channelInput, channelUpdate, createChannel, deleteChannel, listChannels, updateChannel } from '../../services/channels.js';
import { channelView, createdId } from '../../services/views.js';
import { errorBody } from '../error-body.js';
import type { App } from '../typed-app.js';
import { admin, errors, errorsWith404, idParams, noContent } from './schema-parts.js';
import type { DepsOf } from '../../services/deps-of.js';

/** What these routes use of the app: what the channel services they call need. */
export type ChannelRouteDeps = DepsOf<typeof createChannel> &
  DepsOf<typeof deleteChannel> &
  DepsOf<typeof listChannels> &
  DepsOf<typeof updateChannel>;

/** Discord channels alerts go to. */
export function registerChannelRoutes(app: App, herald: ChannelRouteDeps): void {
  app.post(
    '/channels',
    {
      schema: {
        ...admin,
        summary: 'Add a channel (optionally the default one, for alerts no route matches; while another channel is the default, that needs "move_default": true, 409 otherwise)',
        body: channelInput,
        response: { 201: createdId, ...errors, 409: errorBody },
      },
    },
    async (req, reply) => reply.code(201).send(await createChannel(herald, req.body)),
  );

  app.get(
    '/channels',
    { schema: { ...admin, summary: 'List channels with their webhook counts and backlog', response: { 200: z.array(channelView), ...errors } } },
    async () => await listChannels(herald),
  );

  app.patch(
    '/channels/:id',
    {
      schema: {
        ...admin,
        summary: 'Make a channel the default (or not); taking the default from another channel needs "move_default": true (409 otherwise)',
        params: idParams,
        body: channelUpdate,
        response: { 200: channelView, ...errorsWith404, 409: errorBody },
      },
    },
    async (req) => await updateChannel(herald, req.params.id, req.body),
  );

  app.delete(
    '/channels/:id',
    {
      schema: {
        ...admin,
        summary: 'Delete a channel with its webhooks, routes and queued deliveries',
        params: idParams,
        response: { 204: noContent, ...errorsWith404 },
      },
    },
    async (req, reply) => {
      await deleteChannel(herald, req.params.id);
      return reply.code(204).send(null);
    },
  );
}
