/** What a follow-up in a card's thread says: a repeat, a reopen, an acknowledgement, a resolve, an escalation step's mention. */
export type ThreadNote = 'repeat' | 'reopen' | 'ack' | 'resolve' | 'escalation';

/**
 * How a card is posted with respect to threads (delivery/threads.ts decides): `forum` — as a new post of a
 * forum channel (`thread_name`: the message opens the thread and shares its id); `start` — in a text channel,
 * then the bot starts a thread from it; null — a card as any other.
 */
export type CardThreadMode = 'forum' | 'start' | null;
