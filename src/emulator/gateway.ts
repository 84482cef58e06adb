import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { GuildDirectory, Guilds } from './guild.js';
import { channelObject, threadObject } from './objects.js';
import type { EmulatorState } from './state.js';
import type { GatewayStats } from './types.js';

/**
 * Discord's gateway (topics/gateway.mdx) for one bot, one shard, plain JSON (no zlib: discord.js without
 * zlib-sync asks for none). A session outlives its connection: dispatches are numbered and kept, so a client
 * that lost its connection RESUMEs and gets what it missed, as on Discord. Close codes follow
 * opcodes-and-status-codes.mdx, because discord.js decides from them whether to resume, re-identify or give up.
 */

export const GATEWAY_PATH = '/gateway';
const GUILDS_INTENT = 1;
/** Dispatches a session keeps for a resume; a client further behind gets op 9 and identifies again. */
const REPLAY_BUFFER = 1000;
/** How long a dropped session can be resumed (Discord does not publish it; minutes in practice). */
const RESUME_WINDOW_MS = 5 * 60_000;

const OP = { dispatch: 0, heartbeat: 1, identify: 2, presence: 3, voice: 4, resume: 6, reconnect: 7, requestMembers: 8, invalidSession: 9, hello: 10, heartbeatAck: 11 } as const;
const CLOSE = { unknownError: 4000, unknownOpcode: 4001, decodeError: 4002, notAuthenticated: 4003, authenticationFailed: 4004, alreadyAuthenticated: 4005, invalidShard: 4010, invalidApiVersion: 4012, invalidIntents: 4013 } as const;

interface Session {
  id: string;
  seq: number;
  intents: number;
  /** Sent dispatches, oldest first, as their JSON text: replayed on resume. */
  sent: { s: number; text: string }[];
  conn: Conn | undefined;
  droppedAt: number | undefined;
}

interface Conn {
  ws: WebSocket;
  session: Session | undefined;
}

export interface GatewayOptions {
  botToken: string;
  heartbeatIntervalMs: number;
  /** ws://host:port/gateway, known once the server listens. */
  url: () => string;
  state: EmulatorState;
  guild: GuildDirectory;
  /** Every guild the bot is in, the home one (`guild`) first. */
  guilds: Guilds;
}

export class Gateway {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 });
  private readonly conns = new Set<Conn>();
  private readonly sessions = new Map<string, Session>();
  private identifies = 0;
  private resumes = 0;

  constructor(private readonly o: GatewayOptions) {
    o.state.onChannelCreated = (c) => this.dispatch('CHANNEL_CREATE', channelObject(c, this.o.state.channels().length - 1));
    // THREAD_CREATE marks a thread made just now (`newly_created`), as opposed to one the bot gained access to.
    o.state.onThreadCreated = (t) => this.dispatch('THREAD_CREATE', { ...threadObject(t, this.o.state), newly_created: true });
    o.state.onThreadUpdated = (t) => this.dispatch('THREAD_UPDATE', threadObject(t, this.o.state));
    this.announceRoles(o.guild);
  }

  private announceRoles(g: GuildDirectory): void {
    g.onRoleCreated = (r) => this.dispatch('GUILD_ROLE_CREATE', { guild_id: g.guildId, role: g.roleObject(r.id) });
  }

  /** The bot was added to another guild: GUILD_CREATE, as Discord sends when a bot joins a server. */
  guildJoined(g: GuildDirectory): void {
    this.announceRoles(g);
    this.dispatch('GUILD_CREATE', this.guildCreate(g));
  }

  /** Takes WebSocket upgrades on `path` from the emulator's HTTP server; anything else is refused. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://emulator');
      if (url.pathname !== GATEWAY_PATH && url.pathname !== `${GATEWAY_PATH}/`) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, url.searchParams));
    });
  }

  private open(ws: WebSocket, params: URLSearchParams): void {
    const conn: Conn = { ws, session: undefined };
    this.conns.add(conn);
    ws.on('close', (code) => this.closed(conn, code));
    ws.on('error', () => ws.terminate());
    const version = params.get('v');
    if (version !== null && version !== '10') return ws.close(CLOSE.invalidApiVersion, 'Invalid API version.');
    if ((params.get('encoding') ?? 'json') !== 'json') return ws.close(CLOSE.decodeError, 'Only encoding=json is emulated.');
    ws.on('message', (data, isBinary) => this.receive(conn, isBinary ? null : data.toString()));
    this.send(conn, { op: OP.hello, d: { heartbeat_interval: this.o.heartbeatIntervalMs }, s: null, t: null });
  }

  private receive(conn: Conn, text: string | null): void {
    let payload: { op?: unknown; d?: unknown };
    try {
      payload = JSON.parse(text ?? '') as { op?: unknown; d?: unknown };
      if (typeof payload !== 'object' || payload === null) throw new Error('not an object');
    } catch {
      return conn.ws.close(CLOSE.decodeError, 'Error while decoding payload.');
    }
    const d = (typeof payload.d === 'object' && payload.d !== null ? payload.d : {}) as Record<string, unknown>;
    switch (payload.op) {
      case OP.heartbeat:
        return this.send(conn, { op: OP.heartbeatAck, d: null, s: null, t: null });
      case OP.identify:
        return this.identify(conn, d);
      case OP.resume:
        return this.resume(conn, d);
      case OP.presence:
      case OP.voice:
      case OP.requestMembers:
        if (!conn.session) return conn.ws.close(CLOSE.notAuthenticated, 'Not authenticated.');
        return; // accepted, nothing emulated
      default:
        return conn.ws.close(CLOSE.unknownOpcode, 'Unknown opcode.');
    }
  }

  private identify(conn: Conn, d: Record<string, unknown>): void {
    if (conn.session) return conn.ws.close(CLOSE.alreadyAuthenticated, 'Already authenticated.');
    if (d.token !== this.o.botToken) return conn.ws.close(CLOSE.authenticationFailed, 'Authentication failed.');
    if (typeof d.intents !== 'number' || !Number.isInteger(d.intents) || d.intents < 0) return conn.ws.close(CLOSE.invalidIntents, 'Invalid intent(s).');
    const shard = d.shard;
    if (shard !== undefined && !(Array.isArray(shard) && shard[0] === 0 && shard[1] === 1)) return conn.ws.close(CLOSE.invalidShard, 'Invalid shard.');
    this.identifies++;
    const session: Session = { id: randomBytes(16).toString('hex'), seq: 0, intents: d.intents, sent: [], conn, droppedAt: undefined };
    this.sessions.set(session.id, session);
    conn.session = session;
    const { state, guild } = this.o;
    this.push(session, 'READY', {
      v: 10,
      user: guild.userObject(guild.botUserId),
      guilds: this.o.guilds.all().map((g) => ({ id: g.guildId, unavailable: true })),
      session_id: session.id,
      resume_gateway_url: this.o.url(),
      shard: [0, 1],
      application: { id: state.applicationId, flags: 0 },
      user_settings: {},
      private_channels: [],
      presences: [],
      relationships: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: [],
      auth: {},
      _trace: ['["herald-emulator",{}]'],
    });
    // Discord sends the guilds of READY as GUILD_CREATE only to sessions with the GUILDS intent.
    if (session.intents & GUILDS_INTENT) for (const g of this.o.guilds.all()) this.push(session, 'GUILD_CREATE', this.guildCreate(g));
  }

  private resume(conn: Conn, d: Record<string, unknown>): void {
    if (conn.session) return conn.ws.close(CLOSE.alreadyAuthenticated, 'Already authenticated.');
    if (d.token !== this.o.botToken) return conn.ws.close(CLOSE.authenticationFailed, 'Authentication failed.');
    const session = typeof d.session_id === 'string' ? this.live(d.session_id) : undefined;
    const seq = typeof d.seq === 'number' ? d.seq : -1;
    const oldest = session?.sent[0]?.s ?? (session ? session.seq + 1 : 0);
    // Unknown or expired session, or a sequence we can no longer replay from: the client must identify anew.
    if (!session || seq < 0 || seq > session.seq || seq + 1 < oldest) {
      return this.send(conn, { op: OP.invalidSession, d: false, s: null, t: null });
    }
    if (session.conn && session.conn !== conn) session.conn.ws.close(CLOSE.unknownError, 'Session resumed elsewhere.');
    session.conn = conn;
    session.droppedAt = undefined;
    conn.session = session;
    this.resumes++;
    for (const entry of session.sent) if (entry.s > seq) conn.ws.send(entry.text);
    this.push(session, 'RESUMED', { _trace: ['["herald-emulator",{}]'] });
  }

  private closed(conn: Conn, code: number): void {
    this.conns.delete(conn);
    const session = conn.session;
    if (!session || session.conn !== conn) return;
    session.conn = undefined;
    // A client closing with 1000/1001 ends its session (gateway.mdx); any other loss leaves it resumable.
    if (code === 1000 || code === 1001) this.sessions.delete(session.id);
    else session.droppedAt = Date.now();
  }

  /** The session if it is connected or was dropped recently enough to resume. */
  private live(id: string): Session | undefined {
    const s = this.sessions.get(id);
    if (s && s.droppedAt !== undefined && Date.now() - s.droppedAt > RESUME_WINDOW_MS) {
      this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  /** True when some bot session is connected, or dropped and still resumable (dispatches wait for its resume). */
  hasSession(): boolean {
    return [...this.sessions.keys()].some((id) => this.live(id));
  }

  /** Sends an event to every live session (connected ones now, dropped ones on resume). */
  dispatch(t: string, d: unknown): number {
    let n = 0;
    for (const id of [...this.sessions.keys()]) {
      const s = this.live(id);
      if (!s) continue;
      // Guild events need the GUILDS intent; interactions always arrive.
      if (t !== 'INTERACTION_CREATE' && !(s.intents & GUILDS_INTENT)) continue;
      this.push(s, t, d);
      n++;
    }
    return n;
  }

  private push(session: Session, t: string, d: unknown): void {
    const s = ++session.seq;
    const text = JSON.stringify({ op: OP.dispatch, t, s, d });
    session.sent.push({ s, text });
    if (session.sent.length > REPLAY_BUFFER) session.sent.shift();
    if (session.conn?.ws.readyState === 1) session.conn.ws.send(text);
  }

  private send(conn: Conn, payload: unknown): void {
    if (conn.ws.readyState === 1) conn.ws.send(JSON.stringify(payload));
  }

  /** GUILD_CREATE for a guild: everything discord.js caches (channels, roles with @everyone, members). */
  guildCreate(guild: GuildDirectory = this.o.guild): Record<string, unknown> {
    const { state } = this.o;
    const members = guild.memberIds();
    return {
      id: guild.guildId,
      name: guild.name,
      icon: null,
      splash: null,
      discovery_splash: null,
      banner: null,
      description: null,
      owner_id: guild.ownerId,
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      nsfw_level: 0,
      premium_tier: 0,
      premium_subscription_count: 0,
      premium_progress_bar_enabled: false,
      preferred_locale: 'en-US',
      features: [],
      system_channel_id: null,
      system_channel_flags: 0,
      rules_channel_id: null,
      public_updates_channel_id: null,
      safety_alerts_channel_id: null,
      vanity_url_code: null,
      max_members: 500_000,
      application_id: null,
      widget_enabled: false,
      nsfw: false,
      roles: guild.roleIds().map((id) => guild.roleObject(id)),
      emojis: [],
      stickers: [],
      soundboard_sounds: [],
      joined_at: new Date(guild.createdAt).toISOString(),
      large: false,
      unavailable: false,
      member_count: members.length,
      voice_states: [],
      members: members.map((id) => guild.memberObject(id)),
      channels: state
        .channels()
        .filter((c) => c.guildId === guild.guildId)
        .map((c, i) => channelObject(c, i)),
      // Active threads only: archived ones are not synced up front (topics/threads.mdx).
      threads: state
        .threads()
        .filter((t) => t.guildId === guild.guildId && !t.archived)
        .map((t) => threadObject(t, state)),
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      incidents_data: null,
    };
  }

  /**
   * Drops every connection: a close frame with `code` (default 4000, so clients resume), none at all
   * (`abrupt`), or op 7 RECONNECT (`reconnect`: Discord asks the client to close and resume itself).
   */
  drop(opts: { code?: number | undefined; abrupt?: boolean | undefined; reconnect?: boolean | undefined } = {}): void {
    for (const conn of [...this.conns]) {
      if (opts.reconnect) this.send(conn, { op: OP.reconnect, d: null, s: null, t: null });
      else if (opts.abrupt) conn.ws.terminate();
      else conn.ws.close(opts.code ?? CLOSE.unknownError, 'Dropped by the emulator.');
    }
  }

  stats(): GatewayStats {
    return { connections: this.conns.size, identifies: this.identifies, resumes: this.resumes, sessions: [...this.sessions.keys()].filter((id) => this.live(id)).length };
  }

  /** For close(): no connection may keep the process or the HTTP server alive. */
  close(): void {
    for (const conn of this.conns) conn.ws.terminate();
    this.conns.clear();
    this.sessions.clear();
    this.wss.close();
  }
}
