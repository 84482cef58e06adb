import { muteStage, type MuteTable } from './mute-stage.js';
import type { RouteTable } from './route-stage.js';
import { routeStage } from './route-stage.js';
import { sequence, type Stage } from './types.js';

export interface PipelineDeps {
  routes: RouteTable;
  mutes: MuteTable;
}

/**
 * The whole path of an alert between validation and the outbox, in order. Read this function to know
 * what happens to an alert; add a stage here (dedup, mute, business hours, escalation) without touching the others.
 * Accepting (the commit) and enqueueing are done by `Acceptor` around this, in the same transaction.
 */
export function buildPipeline(deps: PipelineDeps): Stage {
  return sequence(
    routeStage(deps.routes),
    muteStage(deps.mutes, deps.routes),
  );
}

export { Acceptor } from './accept.js';
export { RouteTable } from './route-stage.js';
export { MuteTable } from './mute-stage.js';
