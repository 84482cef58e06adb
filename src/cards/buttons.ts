/**
 * The buttons on an alert's card: which ones its state offers, what they say, and their custom ids
 * (`herald:<action>:<alertId>`, well under Discord's 100 characters), which the bot parses back.
 */
import type { ActionRow } from '../discord/message.js';
import { isResolved, isRetracted, type StatefulAlert } from '../domain/alert-state.js';

export type ButtonAction = 'ack' | 'resolve' | 'mute';

/** Custom ids of the card's buttons; the bot parses them back with `parseButtonId`. */
export const buttonId = (action: ButtonAction, alertId: number) => `herald:${action}:${alertId}`;

export function parseButtonId(customId: string): { action: ButtonAction; alertId: number } | undefined {
  const m = /^herald:(ack|resolve|mute):(\d{1,15})$/.exec(customId);
  return m ? { action: m[1] as ButtonAction, alertId: Number(m[2]) } : undefined;
}

const BUTTON = { primary: 1, secondary: 2, success: 3 } as const;

/** What each button says; the bot names a button the same way in its answers. */
export const BUTTON_LABEL = { ack: 'Acknowledge', resolve: 'Resolve', mute: 'Mute 1h' } as const;

/**
 * The buttons an alert's card offers in its state: Acknowledge, Resolve, Mute 1h while firing (Mute 1h
 * not while a mute made from it is in force: pressing it twice made two mutes); Resolve only once
 * acknowledged; none once resolved or retracted.
 */
export function cardButtons(alert: StatefulAlert): ActionRow[] {
  if (isRetracted(alert) || isResolved(alert)) return [];
  const resolve = { type: 2, style: BUTTON.success, label: BUTTON_LABEL.resolve, custom_id: buttonId('resolve', alert.id) } as const;
  if (alert.acknowledgedAt) return [{ type: 1, components: [resolve] }];
  return [
    {
      type: 1,
      components: [
        { type: 2, style: BUTTON.primary, label: BUTTON_LABEL.ack, custom_id: buttonId('ack', alert.id) },
        resolve,
        ...(alert.mutedUntil ? [] : [{ type: 2, style: BUTTON.secondary, label: BUTTON_LABEL.mute, custom_id: buttonId('mute', alert.id) } as const]),
      ],
    },
  ];
}

/** What the buttons of an incident's card act on: every firing member (Acknowledge, Resolve) or the group (Mute). */
export type IncidentButtonAction = 'incident-ack' | 'incident-resolve' | 'incident-mute';

/** Custom ids of an incident card's buttons: `herald:incident-<action>:<incidentId>`. */
export const incidentButtonId = (action: IncidentButtonAction, incidentId: number) => `herald:${action}:${incidentId}`;

export function parseIncidentButtonId(customId: string): { action: IncidentButtonAction; incidentId: number } | undefined {
  const m = /^herald:(incident-ack|incident-resolve|incident-mute):(\d{1,15})$/.exec(customId);
  return m ? { action: m[1] as IncidentButtonAction, incidentId: Number(m[2]) } : undefined;
}

/** What each incident button says; the bot names a button the same way in its answers. */
export const INCIDENT_BUTTON_LABEL = { 'incident-ack': 'Acknowledge', 'incident-resolve': 'Resolve', 'incident-mute': 'Mute 1h' } as const;

/**
 * The buttons an incident's card offers: while a member fires, Acknowledge (while one is not yet
 * acknowledged), Resolve and Mute 1h (the group's later members; not while the group is muted: a second
 * press would only say so); none once no member fires.
 */
export function incidentButtons(incidentId: number, s: { firing: number; acknowledged: number }, muted = false): ActionRow[] {
  if (s.firing === 0) return [];
  return [
    {
      type: 1,
      components: [
        ...(s.acknowledged < s.firing ? [{ type: 2, style: BUTTON.primary, label: INCIDENT_BUTTON_LABEL['incident-ack'], custom_id: incidentButtonId('incident-ack', incidentId) } as const] : []),
        { type: 2, style: BUTTON.success, label: INCIDENT_BUTTON_LABEL['incident-resolve'], custom_id: incidentButtonId('incident-resolve', incidentId) },
        ...(muted ? [] : [{ type: 2, style: BUTTON.secondary, label: INCIDENT_BUTTON_LABEL['incident-mute'], custom_id: incidentButtonId('incident-mute', incidentId) } as const]),
      ],
    },
  ];
}
