import type { Interaction } from 'discord.js';
import { broadMuteReason, type MuteTarget } from '../domain/mute-scope.js';
import { ServiceError } from '../services/errors.js';
import { adminRefusal, isAdmin } from './permissions.js';
import type { BotContext } from './types.js';

/**
 * On-call people may mute, but not so broadly that every service, or a P0, goes quiet: that takes an
 * admin. Throws the refusal (shown to the person as it is) before anything is muted.
 */
export function requireAdminFor(i: Interaction, ctx: BotContext, target: MuteTarget): void {
  const reason = broadMuteReason(target);
  if (reason === undefined || isAdmin(i, ctx.access)) return;
  ctx.log.info({ user: i.user.id, target: target.kind }, 'mute refused: too broad for on-call');
  throw new ServiceError(403, 'forbidden', adminRefusal(ctx.access, reason));
}
