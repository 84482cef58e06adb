import { renderIncidentCard } from '../cards/incident-card.js';
import type { WebhookMessage } from '../discord/message.js';
import type { Store } from '../store/index.js';
import type { IncidentFilter, IncidentMessage } from '../store/incidents.js';
export { INCIDENT_STATES, stateOf as incidentStateOf, type IncidentStateName } from '../store/incidents.js';
import { type Actor, changeMembers } from './lifecycle.js';
import type { IncidentDetail, IncidentView } from './views.js';
import type { CommitSignals } from '../delivery/signals.js';
import type { OutboundTargets } from '../outbound/targets.js';
import type { Config } from '../config.js';
export type { IncidentDetail, IncidentView } from './views.js';

type ReadDeps = { store: Pick<Store, 'incidents'> };
type ActDeps = {
  store: Pick<Store, 'incidents' | 'transaction' | 'alerts' | 'actions' | 'messageOps' | 'deliveries' | 'outbound'>;
  signals: Pick<CommitSignals, 'editsQueued'>;
  outboundTargets: Pick<OutboundTargets, 'enqueueFollowUp'>;
};

/** Incidents, newest first, with their members' state. */
export function listIncidents(h: ReadDeps, f: IncidentFilter): Promise<IncidentView[]> {
  return h.store.incidents.list(f);
}

/** One incident with its members; 404 when there is none. */
export async function getIncident(h: ReadDeps, id: number): Promise<IncidentDetail> {
  const summary = await h.store.incidents.summary(id);
  const alerts = (await h.store.incidents.members(id)).map((m) => ({
    id: m.id,
    service: m.service,
    severity: m.severity,
    title: m.title,
    status: m.status,
    dedup_key: m.dedupKey,
    received_at: m.receivedAt,
    acknowledged_at: m.acknowledgedAt ?? null,
    resolved_at: m.resolvedAt ?? null,
    retracted_at: m.retractedAt ?? null,
  }));
  return { ...summary, alerts };
}

/**
 * Acknowledges every firing member not yet acknowledged (the incident card's Acknowledge, the admin API):
 * each recorded on the member, every card of each edited; the incident's escalation stops with it (the
 * runner reads the incident's state). `skipMessageId`: the card a button press updates itself.
 */
export async function acknowledgeIncident(h: ActDeps, id: number, by: Actor, opts: { skipMessageId?: string } = {}): Promise<{ incident: IncidentDetail; changed: number[] }> {
  const members = (await h.store.incidents.members(id)).map((m) => m.id);
  const changed = await changeMembers(h, members, 'ack', by, opts);
  return { incident: await getIncident(h, id), changed };
}

/** Resolves every firing member (the incident card's Resolve, the admin API): the incident is then resolved. */
export async function resolveIncident(h: ActDeps, id: number, by: Actor, opts: { skipMessageId?: string } = {}): Promise<{ incident: IncidentDetail; changed: number[] }> {
  const members = (await h.store.incidents.members(id)).map((m) => m.id);
  const changed = await changeMembers(h, members, 'resolve', by, opts);
  return { incident: await getIncident(h, id), changed };
}

/**
 * The incident's card as the message `messageId` shows it now (its members there), e.g. for the answer to a
 * button press on it (interaction type 7).
 */
export async function incidentCard(h: { store: Pick<Store, 'incidents' | 'messageOps'>; config: Pick<Config, 'delivery'> }, id: number, messageId: string): Promise<WebhookMessage> {
  const row = await h.store.incidents.row(id);
  const shown = await h.store.messageOps.alertsOf(messageId);
  // An escalation page shows the whole incident (its edits render every member), so its answer does too.
  const members = shown.length === 1 && shown[0]!.mention !== null ? await h.store.incidents.renderMembers(id) : shown.filter((a) => a.incidentId === id);
  return renderIncidentCard({ id, title: row.title }, members, { username: h.config.delivery.username, buttons: true, mutedUntil: await h.store.incidents.mutedUntil(id, Date.now()) });
}

/** Whether the Discord message is one of the incident's cards: a button acts only on the incident of the card it was pressed on. */
export function isMessageOfIncident(h: ReadDeps, id: number, messageId: string): Promise<boolean> {
  return h.store.incidents.isMessageOf(id, messageId);
}

/** The channels each incident's members were routed to (the console's incident list), by incident id. */
export function incidentChannels(h: ReadDeps, ids: readonly number[]): Promise<Map<number, number[]>> {
  return h.store.incidents.channelsOf(ids);
}

/** The Discord messages (cards) an incident's members were posted in, per channel; 404 when there is no such incident. */
export async function incidentMessages(h: ReadDeps, id: number): Promise<IncidentMessage[]> {
  await h.store.incidents.row(id);
  return h.store.incidents.messages(id);
}
