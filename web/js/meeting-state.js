// Meeting controls as this client knows them (docs/protocol.md, "Meetings: host controls,
// lobby, hand queue, chat, roll call"): the last `meeting_state`, the lobby list and the
// roll-call grid (hosts only), the chat history, and whether this client waits in the lobby.
//
// Fed from bridge messages (each parsed defensively); emits `change` with detail {part}:
// 'state', 'lobby', 'roll_call', 'chat' or 'session' (everything was reset or replaced).

/**
 * @typedef {object} Policy
 * @property {boolean} mics_muted_on_entry
 * @property {boolean} host_may_unmute
 * @property {boolean} lobby
 */
/** @typedef {{id: string, open: boolean, started_at: string|null}} RollCallRef */
/**
 * @typedef {object} MeetingStateData
 * @property {boolean} locked
 * @property {boolean} lobby
 * @property {string|null} spotlight
 * @property {string|null} floor
 * @property {string[]} hands participant ids, first raised first
 * @property {RollCallRef|null} roll_call
 * @property {Policy} policy
 */
/**
 * @typedef {object} RollCallEntry
 * @property {string} site_id
 * @property {string} name
 * @property {string} district
 * @property {string|null} participant_id
 * @property {'present'|'absent'|'poor_link'} status
 * @property {boolean} answered
 * @property {string|null} joined_at
 * @property {string|null} left_at
 */
/** @typedef {RollCallRef & {entries: RollCallEntry[]}} RollCall */
/**
 * @typedef {object} ChatMessage
 * @property {string} id the bridge's message id (a number on the wire), as text
 * @property {{id: string, name: string}} from
 * @property {'all'|'host'} to
 * @property {string} text
 * @property {string} ts ISO 8601 UTC
 */
/** @typedef {{id: string, name: string}} LobbyEntry */

/** @typedef {import('./signaling.js').Message} Message */

/** Chat kept in memory at most (the bridge keeps the meeting's full history). */
const CHAT_LIMIT = 500;
const STATUSES = new Set(['present', 'absent', 'poor_link']);

/** @param {unknown} v @returns {string|null} */
const str = (v) => (typeof v === 'string' && v ? v : null);

/**
 * @param {any} raw
 * @returns {RollCallRef|null}
 */
function parseRollCallRef(raw) {
  if (!raw || typeof raw !== 'object' || typeof raw.id !== 'string') return null;
  return { id: raw.id, open: raw.open === true, started_at: str(raw.started_at) };
}

/**
 * @param {any} msg a `meeting_state` message or the `joined.meeting` object
 * @returns {MeetingStateData}
 */
export function parseMeetingState(msg) {
  const policy = msg?.policy ?? {};
  return {
    locked: msg?.locked === true,
    lobby: msg?.lobby === true,
    spotlight: str(msg?.spotlight),
    floor: str(msg?.floor),
    hands: Array.isArray(msg?.hands) ? msg.hands.filter((/** @type {unknown} */ h) => typeof h === 'string') : [],
    roll_call: parseRollCallRef(msg?.roll_call),
    policy: {
      mics_muted_on_entry: policy.mics_muted_on_entry !== false,
      host_may_unmute: policy.host_may_unmute === true,
      lobby: policy.lobby === true,
    },
  };
}

/**
 * @param {any} msg a `roll_call` message
 * @returns {RollCall|null}
 */
function parseRollCall(msg) {
  const ref = parseRollCallRef(msg);
  if (!ref) return null;
  const entries = (Array.isArray(msg.entries) ? msg.entries : [])
    .filter((/** @type {any} */ e) => e && typeof e.site_id === 'string')
    .map((/** @type {any} */ e) => ({
      site_id: e.site_id,
      name: typeof e.name === 'string' ? e.name : e.site_id,
      district: typeof e.district === 'string' ? e.district : '',
      participant_id: str(e.participant_id),
      status: STATUSES.has(e.status) ? e.status : 'absent',
      answered: e.answered === true,
      joined_at: str(e.joined_at),
      left_at: str(e.left_at),
    }));
  return { ...ref, entries };
}

/**
 * @param {any} msg a `chat` message or a history entry
 * @returns {ChatMessage|null}
 */
function parseChat(msg) {
  const id = typeof msg?.id === 'number' || typeof msg?.id === 'string' ? String(msg.id) : '';
  if (!id || typeof msg.text !== 'string') return null;
  const from = msg.from ?? {};
  return {
    id,
    from: { id: typeof from.id === 'string' ? from.id : '', name: typeof from.name === 'string' ? from.name : '' },
    to: msg.to === 'host' ? 'host' : 'all',
    text: msg.text,
    ts: typeof msg.ts === 'string' ? msg.ts : new Date().toISOString(),
  };
}

export class MeetingState extends EventTarget {
  constructor() {
    super();
    /** @type {MeetingStateData} */
    this.state = parseMeetingState(null);
    /** @type {LobbyEntry[]} sites waiting to be let in (hosts only) */
    this.lobby = [];
    /** @type {RollCall|null} the last roll-call grid (hosts only) */
    this.rollCall = null;
    /** @type {ChatMessage[]} oldest first */
    this.chat = [];
    /** This client is waiting in the lobby. */
    this.waiting = false;
  }

  /**
   * A `joined`: a new bridge session with its own meeting state and chat history.
   * @param {Message} joined
   */
  startSession(joined) {
    this.waiting = false;
    this.state = parseMeetingState(joined.meeting);
    this.lobby = [];
    this.chat = (Array.isArray(joined.chat) ? joined.chat : [])
      .map(parseChat)
      .filter((/** @type {ChatMessage|null} */ m) => m !== null)
      .slice(-CHAT_LIMIT);
    this._emit('session');
  }

  /** `lobby_waiting`: the bridge holds this client in the lobby. */
  enterLobby() {
    this.waiting = true;
    this._emit('session');
  }

  /** @param {Message} msg `meeting_state` */
  applyState(msg) {
    this.state = parseMeetingState(msg);
    this._emit('state');
  }

  /** @param {Message} msg `lobby` */
  applyLobby(msg) {
    this.lobby = (Array.isArray(msg.waiting) ? msg.waiting : [])
      .filter((/** @type {any} */ w) => w && typeof w.id === 'string')
      .map((/** @type {any} */ w) => ({ id: w.id, name: typeof w.name === 'string' ? w.name : w.id }));
    this._emit('lobby');
  }

  /** @param {Message} msg `roll_call` */
  applyRollCall(msg) {
    const rc = parseRollCall(msg);
    if (!rc) return;
    this.rollCall = rc;
    this._emit('roll_call');
  }

  /** @param {Message} msg `chat` */
  addChat(msg) {
    const m = parseChat(msg);
    if (!m || this.chat.some((c) => c.id === m.id)) return;
    this.chat.push(m);
    if (this.chat.length > CHAT_LIMIT) this.chat.splice(0, this.chat.length - CHAT_LIMIT);
    this._emit('chat');
  }

  /**
   * Position in the hand queue, from 1; 0 when the hand is down.
   * @param {string|null} id
   * @returns {number}
   */
  handPosition(id) {
    return id ? this.state.hands.indexOf(id) + 1 : 0;
  }

  /** @param {string} part */
  _emit(part) {
    this.dispatchEvent(new CustomEvent('change', { detail: { part } }));
  }
}
