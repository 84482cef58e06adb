import picomatch from 'picomatch';
import { refuseIfManaged } from '../domain/managed.js';
import { z } from 'zod';
import { SEVERITIES } from '../domain/alert.js';
import { type BusinessHours, businessHoursInput, WEEKDAYS } from '../domain/hours.js';
import type { Store } from '../store/index.js';
import type { NewRoute } from '../store/routes.js';
import { autoResolveAfter, autoResolveAfterMs } from './auto-resolve-input.js';
import { groupBy, groupByLabels, groupWait, groupWaitMs } from './grouping-input.js';
import { invalid } from './errors.js';
import type { RouteView } from './views.js';
export type { RouteView } from './views.js';

export const routeInput = z.strictObject({
  channel_id: z.number().int().positive().describe('The channel matching alerts go to'),
  service: z.string().trim().min(1).max(200).optional().describe('A glob on the alert\'s service, e.g. "payments-*" (case-insensitive)'),
  severities: z.array(z.enum(SEVERITIES)).min(1).max(4).optional().describe('Only these severities, e.g. ["P0","P1"]'),
  environment: z.string().min(1).max(100).optional().describe('Only alerts with exactly this environment'),
  labels: z
    .record(z.string().min(1).max(128), z.string().max(1024))
    .optional()
    .refine((l) => l === undefined || Object.keys(l).length <= 64, 'at most 64 labels')
    .describe('Only alerts carrying every one of these labels with the same value'),
  business_hours: businessHoursInput
    .optional()
    .describe('Outside these hours P2/P3 wait until they open (outside: "wait", the default) or go only to the daily digest ("digest"); P0/P1 always go'),
  auto_resolve_after: autoResolveAfter.optional(),
  threads: z
    .boolean()
    .optional()
    .describe("Each card gets a thread for its follow-ups (repeats, acknowledgement, resolve, escalation mentions); the card stays the one place showing the state. In a text channel this needs the bot (DISCORD_TOKEN): refused with 400 without it"),
  group_by: groupBy.optional(),
  group_wait: groupWait.optional(),
});
export type RouteInput = z.output<typeof routeInput>;

/** The routes store refreshes its in-memory table (and what depends on routes) after each write. */
type Deps = { store: Pick<Store, 'routes'> };
/** Threads in a text channel are started by the bot: a route asking for them needs one (`bot` set when DISCORD_TOKEN is). */
type ThreadDeps = { store: Pick<Store, 'routes' | 'channels'>; bot: object | undefined };

/** Refuses threads where Herald cannot make them: a text channel without the bot (a forum's posts are the webhooks' own). */
export function checkThreads(h: ThreadDeps, channelId: number): void {
  if (h.bot !== undefined || h.store.channels.kindOf(channelId) === 'forum') return;
  throw invalid('threads', 'threads need the bot: set DISCORD_TOKEN (Herald starts a thread from each card with it)');
}

/**
 * The route as stored, from its input (validated again for callers other than the admin API: the slash
 * command, the configuration file); 400 naming the field for a bad glob, hours or duration.
 */
export function storedRoute(input: RouteInput): NewRoute {
  if (input.service !== undefined) {
    try {
      picomatch.makeRe(input.service);
    } catch {
      throw invalid('service', `"${input.service}" is not a valid glob`);
    }
  }
  let hours: BusinessHours | null = null;
  if (input.business_hours !== undefined) {
    const parsed = businessHoursInput.safeParse(input.business_hours);
    if (!parsed.success) throw invalid(['business_hours', ...parsed.error.issues[0]!.path].join('.'), parsed.error.issues[0]!.message);
    hours = normalHours(parsed.data);
  }
  return {
    channelId: input.channel_id,
    service: input.service ?? null,
    severities: input.severities ? [...new Set(input.severities)] : null,
    environment: input.environment ?? null,
    labels: input.labels && Object.keys(input.labels).length ? input.labels : null,
    businessHours: hours,
    autoResolveAfterMs: autoResolveAfterMs(input.auto_resolve_after ?? null),
    threads: input.threads ?? false,
    groupBy: groupByLabels(input.group_by ?? null),
    groupWaitMs: groupWaitMs(input.group_wait ?? null),
  };
}

/** Adds a routing rule: an alert matching every given criterion goes to the channel (as well as to other matching routes' channels). */
export async function createRoute(h: ThreadDeps, input: RouteInput): Promise<{ id: number }> {
  if (input.threads) checkThreads(h, input.channel_id);
  return { id: await h.store.routes.create(storedRoute(input)) };
}

/** Routes in the order they are evaluated. */
export function listRoutes(h: Deps): Promise<RouteView[]> {
  return h.store.routes.list();
}

/**
 * Sets (or with null clears) a route's business hours. Outside them P2/P3 wait for the window to open, or
 * go only to the digest; P0/P1 always go. Deliveries already waiting keep the time they were given.
 */
export async function setRouteHours(h: Deps, id: number, hours: z.input<typeof businessHoursInput> | null): Promise<RouteView> {
  refuseIfManaged(await h.store.routes.managedBy(id), `route ${id}`);
  let value: BusinessHours | null = null;
  if (hours !== null) {
    const parsed = businessHoursInput.safeParse(hours);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw invalid(['business_hours', ...issue.path].join('.'), issue.message);
    }
    value = normalHours(parsed.data);
  }
  await h.store.routes.setHours(id, value);
  return (await listRoutes(h)).find((r) => r.id === id)!;
}

/** What PATCH /v1/admin/routes/:id changes: business hours, auto-resolve, or both (a field left out stays). */
export const routePatch = z
  .strictObject({
    business_hours: businessHoursInput.nullable().optional(),
    auto_resolve_after: autoResolveAfter.optional(),
    threads: z.boolean().optional().describe('Turn threads on or off for cards posted from now on (on: needs the bot in a text channel)'),
    group_by: groupBy.nullable().optional(),
    group_wait: groupWait.optional(),
  })
  .refine(
    (p) => p.business_hours !== undefined || p.auto_resolve_after !== undefined || p.threads !== undefined || p.group_by !== undefined || p.group_wait !== undefined,
    'give business_hours, auto_resolve_after, threads, group_by, group_wait or several',
  );

/** Sets (or with null clears) a route's auto_resolve_after: its firing alerts with no repeat for that long resolve as stale. */
export async function setRouteAutoResolve(h: Deps, id: number, after: string | null): Promise<RouteView> {
  refuseIfManaged(await h.store.routes.managedBy(id), `route ${id}`);
  await h.store.routes.setAutoResolve(id, autoResolveAfterMs(after));
  return (await listRoutes(h)).find((r) => r.id === id)!;
}

/** Turns threads on or off for a route's cards from now on (cards already posted keep what they have). */
export async function setRouteThreads(h: ThreadDeps, id: number, threads: boolean): Promise<RouteView> {
  refuseIfManaged(await h.store.routes.managedBy(id), `route ${id}`);
  const route = (await listRoutes(h)).find((r) => r.id === id);
  if (route && threads) checkThreads(h, route.channel_id);
  await h.store.routes.setThreads(id, threads);
  return (await listRoutes(h)).find((r) => r.id === id)!;
}

/** Applies a PATCH: each field given. */
export async function patchRoute(h: ThreadDeps, id: number, patch: z.output<typeof routePatch>): Promise<RouteView> {
  refuseIfManaged(await h.store.routes.managedBy(id), `route ${id}`);
  let view: RouteView | undefined;
  if (patch.threads !== undefined) view = await setRouteThreads(h, id, patch.threads);
  if (patch.business_hours !== undefined) view = await setRouteHours(h, id, patch.business_hours);
  if (patch.auto_resolve_after !== undefined) view = await setRouteAutoResolve(h, id, patch.auto_resolve_after);
  if (patch.group_by !== undefined || patch.group_wait !== undefined) view = await setRouteGrouping(h, id, patch);
  return view!;
}

/**
 * Sets a route's incident grouping for alerts from now on: `group_by` (null or [] ends it) and/or
 * `group_wait` (null: back to the default). Incidents already open keep their members and cards.
 */
export async function setRouteGrouping(h: Deps, id: number, g: { group_by?: string[] | null | undefined; group_wait?: string | null | undefined }): Promise<RouteView> {
  await h.store.routes.setGrouping(id, {
    ...(g.group_by !== undefined ? { groupBy: groupByLabels(g.group_by) } : {}),
    ...(g.group_wait !== undefined ? { groupWaitMs: groupWaitMs(g.group_wait) } : {}),
  });
  return (await listRoutes(h)).find((r) => r.id === id)!;
}

/** Days in week order, once each. */
const normalHours = (b: BusinessHours): BusinessHours => ({ ...b, days: WEEKDAYS.filter((d) => b.days.includes(d)) });

export async function deleteRoute(h: Deps, id: number): Promise<void> {
  refuseIfManaged(await h.store.routes.managedBy(id), `route ${id}`);
  await h.store.routes.delete(id);
}
