// WebSocket signaling for protocol v1 (docs/protocol.md).
//
// Every bridge message is re-dispatched as a CustomEvent named after its `type`
// (`joined`, `subscribe_offer`, `error`, …) with the message as `detail`.
// Connection life is reported with `connection` events, detail {@link ConnectionInfo}.
//
// On an unexpected close the socket is reopened with backoff 1, 2, 4, 8, 8… s and `join` is
// sent again with the same token; the bridge replaces the old session for that identity.
// Close codes in FATAL_CLOSE_CODES end the session for good.

import { measuredDownlinkKbps } from './link-hint.js';

/** @typedef {{type: string, [field: string]: any}} Message */

/**
 * @typedef {object} ConnectionInfo
 * @property {'connecting'|'open'|'reconnecting'|'failed'|'closed'} state
 *   connecting: first attempt; open: socket open and join sent; reconnecting: waiting
 *   `delay` ms before the next attempt; failed: fatal close, no retry; closed: after leave().
 * @property {number} [code] close code (failed/reconnecting)
 * @property {string} [reason] close reason (failed/reconnecting)
 * @property {number} [delay] ms until the next attempt (reconnecting)
 * @property {number} [attempt] reconnect attempt number, from 1 (reconnecting)
 */

/**
 * Close codes after which reconnecting cannot help. 4409 = same identity opened elsewhere;
 * 4404 unknown meeting, 4410 meeting ended, 4423 meeting locked.
 */
export const FATAL_CLOSE_CODES = new Set([4400, 4401, 4403, 4404, 4409, 4410, 4423, 4429]);

const BACKOFF_MS = [1000, 2000, 4000, 8000];
const PING_INTERVAL_MS = 15000;
/** No frame at all for this long (two missed pongs plus slack) = dead link. */
const SILENCE_LIMIT_MS = 40000;
/** A socket that has not opened after this long is abandoned and retried. */
const OPEN_TIMEOUT_MS = 10000;
const LEAVE_WAIT_MS = 1500;

/**
 * @param {string} room
 * @returns {string}
 */
export function signalingUrl(room) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/ws?room=${encodeURIComponent(room)}`;
}

export class Signaling extends EventTarget {
  /**
   * @param {{room: string, token: string, name?: string, url?: string}} opts
   */
  constructor({ room, token, name, url }) {
    super();
    this.url = url ?? signalingUrl(room);
    this.token = token;
    /** Display name typed on the pre-join screen (the token's name when empty). */
    this.name = name;
    /** @type {WebSocket|null} */
    this.ws = null;
    /** Consecutive failed attempts since the last `joined`. */
    this.attempt = 0;
    this.leaving = false;
    this.stopped = false;
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.retryTimer = undefined;
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.openTimer = undefined;
    /** @type {ReturnType<typeof setInterval>|undefined} */
    this.pingTimer = undefined;
    this.lastFrameAt = 0;
    /** @type {(() => void)|null} */
    this.onLeft = null;
    this._onOnline = () => {
      if (this.retryTimer !== undefined) {
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        this._open();
      }
    };
  }

  /** Open the first connection. */
  connect() {
    if (this.ws || this.stopped) return;
    window.addEventListener('online', this._onOnline);
    this._emitConnection({ state: 'connecting' });
    this._open();
  }

  /**
   * Send one message. Returns false if the socket is not open (the message is dropped:
   * everything stateful is re-sent after the next `joined`).
   * @param {Message} msg
   * @returns {boolean}
   */
  send(msg) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(msg));
    return true;
  }

  /** Drop the current socket now and reconnect (e.g. after media ICE failure). */
  reconnectNow() {
    if (this.stopped || !this.ws) return;
    this._drop(1006, 'client reconnect');
  }

  /**
   * Leave the room: send `leave`, wait briefly for the bridge's 1000 close, then close.
   * @returns {Promise<void>}
   */
  leave() {
    if (this.stopped) return Promise.resolve();
    this.leaving = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      this._finish({ state: 'closed' });
      return Promise.resolve();
    }
    this.send({ type: 'leave' });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (!this.stopped) this._finish({ state: 'closed' });
        resolve();
      }, LEAVE_WAIT_MS);
      this.onLeft = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Best-effort leave without waiting (page unload). */
  leaveNow() {
    if (this.stopped) return;
    this.leaving = true;
    this.send({ type: 'leave' });
    this._finish({ state: 'closed' });
  }

  // ---- internals -------------------------------------------------------------------------

  _open() {
    this.retryTimer = undefined;
    if (this.stopped) return;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      console.error('signaling: cannot open WebSocket', err);
      this._scheduleRetry(1006, String(err));
      return;
    }
    this.ws = ws;
    this.openTimer = setTimeout(() => {
      if (ws === this.ws && ws.readyState === WebSocket.CONNECTING) this._drop(1006, 'open timeout');
    }, OPEN_TIMEOUT_MS);

    ws.onopen = () => {
      if (ws !== this.ws) return;
      clearTimeout(this.openTimer);
      this.lastFrameAt = Date.now();
      ws.send(JSON.stringify({
        type: 'join', v: 1, token: this.token, name: this.name,
        downlink_kbps: measuredDownlinkKbps(),
      }));
      this._startPing();
      this._emitConnection({ state: 'open' });
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      this.lastFrameAt = Date.now();
      if (typeof ev.data !== 'string') return;
      /** @type {Message} */
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        console.warn('signaling: ignoring non-JSON frame');
        return;
      }
      if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') return;
      if (msg.type === 'joined') this.attempt = 0;
      this.dispatchEvent(new CustomEvent(msg.type, { detail: msg }));
    };
    ws.onerror = () => {
      // A close event always follows; nothing to do here.
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this._onClose(ev.code, ev.reason);
    };
  }

  /**
   * @param {number} code
   * @param {string} reason
   */
  _onClose(code, reason) {
    this._detach();
    if (this.leaving) {
      this._finish({ state: 'closed', code, reason });
      return;
    }
    if (FATAL_CLOSE_CODES.has(code)) {
      this._finish({ state: 'failed', code, reason });
      return;
    }
    this._scheduleRetry(code, reason);
  }

  /**
   * Abandon the current socket without waiting for its close handshake.
   * @param {number} code
   * @param {string} reason
   */
  _drop(code, reason) {
    const ws = this.ws;
    this._detach();
    if (ws) {
      try {
        ws.close(4000, reason.slice(0, 100));
      } catch {
        // already closing
      }
    }
    if (this.leaving) this._finish({ state: 'closed', code, reason });
    else this._scheduleRetry(code, reason);
  }

  /**
   * @param {number} code
   * @param {string} reason
   */
  _scheduleRetry(code, reason) {
    if (this.stopped) return;
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this._emitConnection({ state: 'reconnecting', code, reason, delay, attempt: this.attempt });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this._open(), delay);
  }

  /** Forget the current socket: handlers off, timers off. */
  _detach() {
    const ws = this.ws;
    this.ws = null;
    clearTimeout(this.openTimer);
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    }
  }

  _startPing() {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastFrameAt > SILENCE_LIMIT_MS) {
        this._drop(1006, 'no pong');
        return;
      }
      this.send({ type: 'ping' });
    }, PING_INTERVAL_MS);
  }

  /** @param {ConnectionInfo} info */
  _finish(info) {
    if (this.stopped) return;
    this.stopped = true;
    const ws = this.ws;
    this._detach();
    if (ws && ws.readyState <= WebSocket.OPEN) {
      try {
        ws.close(1000);
      } catch {
        // ignore
      }
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    window.removeEventListener('online', this._onOnline);
    this._emitConnection(info);
    if (this.onLeft) this.onLeft();
  }

  /** @param {ConnectionInfo} info */
  _emitConnection(info) {
    this.dispatchEvent(new CustomEvent('connection', { detail: info }));
  }
}
