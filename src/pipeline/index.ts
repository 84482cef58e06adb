import { dedupStage } from './dedup-stage.js';
import { hoursStage } from './hours-stage.js';
import { incidentStage } from './incident-stage.js';
import { muteStage, type MuteTable } from './mute-stage.js';
import { routeStage, type RouteTable } from './route-stage.js';
import { type Pipeline, sequence } from './types.js';
import type { RouteStore } from '../store/routes.js';

export interface PipelineDeps {
  routes: RouteTable & Pick<RouteStore, 'anyGroupBy'>;
  mutes: MuteTable;
  /** A resolved alert firing again within this many ms reopens (HERALD_REOPEN_WINDOW_MS). */
  reopenWindowMs: number;
  /** The wall clock business hours and maintenance windows are read against (default: the process clock). */
  clock?: () => number;
}

/**
 * The whole path of an alert between validation and the outbox, in order. Read this function to know
 * what happens to an alert; add a stage here without touching the others.
 * Accepting (the commit) and acting on the plan (insert and enqueue, or fold a repeat into an alert
 * already stored, or resolve one) are done by `Acceptor` around this, in the same transaction, whose store
 * (`tx`) the pipeline is given with each alert: the stages that read stored alerts read them through it.
 */
export function buildPipeline(deps: PipelineDeps): Pipeline {
  return sequence(
    routeStage(deps.routes), // which channels (every matching route, else the default channel)
    incidentStage(deps.routes), // which incident: the sender's group, a native group, a route's group_by (else none)
    muteStage(deps.mutes, deps.routes, deps.clock), // silenced (mutes, open maintenance windows): kept, delivered nowhere
    hoursStage(deps.routes, deps.clock), // outside business hours: P2/P3 wait, or go to the digest only
    dedupStage(deps.reopenWindowMs), // new, a repeat of an open alert, a reopen, or a resolve
  );
}

export { Acceptor } from './accept.js';
export type { AlertLookup, Pipeline, Stage, StageStore } from './types.js';
export type { RouteTable } from './route-stage.js';
export type { MuteTable } from './mute-stage.js';
