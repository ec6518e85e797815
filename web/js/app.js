// diemcau meeting page: pre-join screen, lobby, meeting (with the chair's console for hosts),
// leave/error screen, and the window.diemcau test hooks. Protocol: docs/protocol.md.

import { initI18n, t, hasKey, localize, bindLanguageButton } from './i18n.js';
import { Signaling } from './signaling.js';
import { MediaSession, getLocalMedia } from './media.js';
import { TileGrid } from './tiles.js';
import { ViewReporter } from './adaptive.js';
import { decodeJwtPayload } from './token.js';
import { ICONS } from './icons.js';
import { byId, setBadge } from './dom.js';
import { MeetingState } from './meeting-state.js';
import { SitePrompts } from './site-prompts.js';
import { SidePanel } from './side-panel.js';
import { ChatPane } from './chat.js';
import { HostConsole, hostActions } from './host-console.js';
import { RollCallPane } from './roll-call-pane.js';

/** @typedef {'prejoin'|'joining'|'lobby'|'joined'|'reconnecting'|'left'|'error'} AppState */
/** @typedef {'idle'|'connecting'|'connected'|'reconnecting'|'disconnected'|'error'} StatusKind */
/** @typedef {import('./signaling.js').Message} Message */
/** @typedef {import('./signaling.js').ConnectionInfo} ConnectionInfo */
/** @typedef {'audio'|'video'} Kind */

/** Close code -> error code, for fatal closes not preceded by an `error` message. */
const CLOSE_ERRORS = /** @type {Record<number, string>} */ ({
  4400: 'unsupported_version',
  4401: 'token_invalid',
  4403: 'token_wrong_room',
  4404: 'unknown_meeting',
  4409: 'replaced',
  4410: 'meeting_ended',
  4423: 'meeting_locked',
  4429: 'room_full',
});
/** Refusals after which joining again with the same link cannot work. */
const FINAL_ERRORS = new Set(['meeting_ended', 'removed', 'invitation_revoked', 'unknown_meeting']);
const TRANSIENT_ERROR_MS = 6000;
/** Do not force a new session for a broken subscriber negotiation more often than this. */
const MEDIA_RECOVERY_MIN_MS = 30000;

const els = {
  prejoin: byId('prejoin'),
  meeting: byId('meeting'),
  lobbyScreen: byId('lobby-screen'),
  ended: byId('ended'),
  form: /** @type {HTMLFormElement} */ (byId('prejoin-form')),
  preview: /** @type {HTMLVideoElement} */ (byId('preview')),
  previewWrap: byId('preview-wrap'),
  nameInput: /** @type {HTMLInputElement} */ (byId('name-input')),
  joinBtn: /** @type {HTMLButtonElement} */ (byId('join-btn')),
  mediaNote: byId('media-note'),
  roomLabel: byId('room-label'),
  status: byId('status'),
  grid: byId('grid'),
  audioUnblock: /** @type {HTMLButtonElement} */ (byId('audio-unblock')),
  micBtn: /** @type {HTMLButtonElement} */ (byId('mic-btn')),
  camBtn: /** @type {HTMLButtonElement} */ (byId('cam-btn')),
  audioOnlyBtn: /** @type {HTMLButtonElement} */ (byId('audio-only-btn')),
  dataCap: /** @type {HTMLSelectElement} */ (byId('data-cap')),
  linkState: byId('link-state'),
  leaveBtn: /** @type {HTMLButtonElement} */ (byId('leave-btn')),
  langBtn: /** @type {HTMLButtonElement} */ (byId('lang-btn')),
  endedHeading: byId('ended-heading'),
  endedDetail: byId('ended-detail'),
  rejoinBtn: /** @type {HTMLButtonElement} */ (byId('rejoin-btn')),
  handBtn: /** @type {HTMLButtonElement} */ (byId('hand-btn')),
  chatBtn: /** @type {HTMLButtonElement} */ (byId('chat-btn')),
  consoleBtn: /** @type {HTMLButtonElement} */ (byId('console-btn')),
  sidePanel: byId('side-panel'),
};

const params = new URLSearchParams(location.search);
const room = params.get('room') ?? '';
const token = params.get('token') ?? '';
const claims = decodeJwtPayload(token);

const app = {
  /** @type {AppState} */
  state: 'prejoin',
  /** @type {string|null} */
  selfId: null,
  displayName: '',
  viewer: claims?.role === 'viewer',
  /** `joined.self.role`: host (the chair), participant (a site) or viewer. */
  selfRole: '',
  /** The chair: `joined.self.role` is `host`. */
  host: false,
  /** The host console opened by itself once (wide screens), not again after the chair closed it. */
  consoleShown: false,
  /** @type {MediaStream|null} */
  localStream: null,
  /** Local mute state (the source of truth for our own tracks). */
  muted: { audio: false, video: false },
  /** What the bridge believes about our mute state (from `joined`, then from what we send). */
  serverMuted: { audio: false, video: false },
  /** @type {Signaling|null} */
  signaling: null,
  /** @type {MediaSession|null} */
  media: null,
  /** publish_answer applied for the current session */
  published: false,
  /** @type {{code: string, reason: string, at: number}|null} */
  lastError: null,
  lastMediaRecovery: 0,
  /** @type {{kind: StatusKind, key: string, vars?: Record<string, string|number>}} */
  status: { kind: 'idle', key: 'status.idle' },
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  transientTimer: undefined,
  /** The site's choice: receive audio only (kept across reconnects). */
  audioOnly: false,
  /** The site's cap on what it receives, kbit/s; null = none (kept across reconnects). */
  /** @type {number|null} */
  maxKbps: null,
  /** `video_state` per remote participant, this bridge session. */
  /** @type {Map<string, {paused: boolean, reason: string|null}>} */
  videoStates: new Map(),
  /** Last `link_state`, this bridge session. */
  /** @type {{state: string, estimate_kbps: number|null}|null} */
  linkState: null,
  /** The bridge paused our own video: our uplink cannot carry it (`publisher_layers.paused`). */
  uplinkPaused: false,
};

const tiles = new TileGrid(els.grid);
const views = new ViewReporter(tiles, (m) => (app.state === 'joined' ? app.signaling?.send(m) ?? false : false));

/**
 * Send while in the meeting (everything meeting-related is refused before `joined`).
 * @param {Message} msg
 * @returns {boolean} whether it went out
 */
const sendJoined = (msg) => (app.state === 'joined' ? app.signaling?.send(msg) ?? false : false);
const meeting = new MeetingState();
const panel = new SidePanel(els.sidePanel);
const prompts = new SitePrompts({
  els: {
    notice: byId('notice'),
    unmutePrompt: byId('unmute-prompt'),
    unmuteAccept: byId('unmute-accept'),
    unmuteDismiss: byId('unmute-dismiss'),
    rollCallBanner: byId('roll-call-banner'),
    rollCallText: byId('roll-call-text'),
    presentBtn: byId('present-btn'),
  },
  onUnmute: () => setLocalMute('audio', false),
  onPresent: () => sendJoined({ type: 'roll_call_answer' }),
});
const chat = new ChatPane({
  meeting,
  els: {
    list: byId('chat-list'),
    form: byId('chat-form'),
    input: byId('chat-input'),
    to: byId('chat-to'),
  },
  send: sendJoined,
  selfId: () => app.selfId,
  visible: () => panel.showing('chat'),
});
const host = hostActions(sendJoined);
const hostConsole = new HostConsole({
  meeting,
  actions: host,
  participants: () => tiles.list().filter((tile) => !tile.self),
  els: {
    panel: els.sidePanel,
    actions: byId('host-actions'),
    search: byId('site-search'),
    filter: byId('site-filter'),
    count: byId('site-count'),
    siteList: byId('site-list'),
    handList: byId('hand-list'),
    handsEmpty: byId('hands-empty'),
    lobbyList: byId('lobby-list'),
    lobbyNote: byId('lobby-note'),
    attention: els.consoleBtn,
  },
});
const rollCallPane = new RollCallPane({
  meeting,
  actions: host,
  link: { room, token },
  els: {
    toggle: byId('roll-call-toggle'),
    exportBtn: byId('attendance-export'),
    note: byId('attendance-note'),
    summary: byId('roll-call-summary'),
    grid: byId('roll-call-grid'),
  },
});

// ---- state and status ------------------------------------------------------------------

/** @type {Set<(s: AppState) => void>} */
const stateListeners = new Set();

/** @param {AppState} s */
function setState(s) {
  app.state = s;
  document.body.dataset.state = s;
  els.prejoin.hidden = !(s === 'prejoin' || (s === 'error' && !app.signaling));
  els.lobbyScreen.hidden = s !== 'lobby';
  els.meeting.hidden = !(s === 'joining' || s === 'joined' || s === 'reconnecting');
  els.ended.hidden = !(s === 'left' || (s === 'error' && !!app.signaling));
  els.leaveBtn.hidden = els.meeting.hidden && els.lobbyScreen.hidden;
  renderMeetingControls();
  const ended = s === 'left' || s === 'error';
  els.audioOnlyBtn.hidden = ended;
  /** @type {HTMLElement} */ (els.dataCap.closest('label') ?? els.dataCap).hidden = ended;
  renderLinkState();
  for (const cb of [...stateListeners]) cb(s);
}

/**
 * Resolve with the state once pred(state) holds, or with the current state after timeoutMs.
 * @param {(s: AppState) => boolean} pred
 * @param {number} timeoutMs
 * @returns {Promise<AppState>}
 */
function waitForState(pred, timeoutMs) {
  if (pred(app.state)) return Promise.resolve(app.state);
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      stateListeners.delete(check);
      resolve(app.state);
    };
    const check = (/** @type {AppState} */ s) => {
      if (pred(s)) finish();
    };
    const timer = setTimeout(finish, timeoutMs);
    stateListeners.add(check);
  });
}

/**
 * @param {StatusKind} kind
 * @param {string} key
 * @param {Record<string, string|number>} [vars]
 */
function setStatus(kind, key, vars) {
  clearTimeout(app.transientTimer);
  app.status = { kind, key, vars };
  renderStatus(kind, key, vars);
}

/**
 * Show an error for a while, then go back to the connection status.
 * @param {string} key
 * @param {Record<string, string|number>} [vars]
 */
function flashError(key, vars) {
  clearTimeout(app.transientTimer);
  renderStatus('error', key, vars);
  app.transientTimer = setTimeout(() => {
    renderStatus(app.status.kind, app.status.key, app.status.vars);
  }, TRANSIENT_ERROR_MS);
}

/**
 * @param {StatusKind} kind
 * @param {string} key
 * @param {Record<string, string|number>} [vars]
 */
function renderStatus(kind, key, vars) {
  els.status.dataset.state = kind;
  localize(els.status, key, vars);
}

/**
 * Localised message for a protocol error code.
 * @param {string} code
 * @param {string} [reason]
 * @returns {{key: string, vars?: Record<string, string>}}
 */
function errorMessage(code, reason) {
  const key = `error.${code}`;
  return hasKey(key) ? { key } : { key: 'error.unknown', vars: { reason: reason || code } };
}

// ---- local media and controls ----------------------------------------------------------

/**
 * @param {Kind} kind
 * @returns {MediaStreamTrack|undefined}
 */
function localTrack(kind) {
  const s = app.localStream;
  if (!s) return undefined;
  return kind === 'audio' ? s.getAudioTracks()[0] : s.getVideoTracks()[0];
}

/**
 * @param {HTMLButtonElement} btn
 * @param {string} key
 * @param {string} icon
 * @param {boolean} off
 * @param {boolean} disabled
 */
function renderToolButton(btn, key, icon, off, disabled) {
  const iconEl = btn.querySelector('.icon');
  const labelEl = btn.querySelector('.label');
  if (iconEl) iconEl.innerHTML = icon;
  if (labelEl) localize(labelEl, key);
  localize(btn, key, undefined, 'aria-label');
  btn.dataset.off = String(off);
  btn.disabled = disabled;
}

function renderControls() {
  const mic = localTrack('audio');
  const cam = localTrack('video');
  renderToolButton(
    els.micBtn,
    !mic ? 'controls.no_mic' : app.muted.audio ? 'controls.mic_on' : 'controls.mic_off',
    !mic || app.muted.audio ? ICONS.micOff : ICONS.micOn,
    !mic || app.muted.audio,
    !mic
  );
  renderToolButton(
    els.camBtn,
    !cam ? 'controls.no_cam' : app.muted.video ? 'controls.cam_on' : 'controls.cam_off',
    !cam || app.muted.video ? ICONS.camOff : ICONS.camOn,
    !cam || app.muted.video,
    !cam
  );
  els.micBtn.hidden = app.viewer;
  els.camBtn.hidden = app.viewer;
  els.previewWrap.classList.toggle('no-video', !cam || app.muted.video);
}

function renderQualityControls() {
  els.audioOnlyBtn.setAttribute('aria-pressed', String(app.audioOnly));
  const iconEl = els.audioOnlyBtn.querySelector('.icon');
  if (iconEl && !iconEl.firstChild) iconEl.innerHTML = ICONS.headphones;
  els.dataCap.value = app.maxKbps === null ? 'none' : String(app.maxKbps);
}

/**
 * Tell the bridge the site's receive choice. Only while joined; `joined` re-sends it.
 * @returns {boolean} whether it went out
 */
function sendQuality() {
  if (app.state !== 'joined') return false;
  return app.signaling?.send({ type: 'quality', audio_only: app.audioOnly, max_kbps: app.maxKbps }) ?? false;
}

/**
 * @param {boolean} on
 * @returns {boolean} whether the bridge was told now (else it is told after joining)
 */
function setAudioOnly(on) {
  app.audioOnly = !!on;
  renderQualityControls();
  return sendQuality();
}

/** @param {string} value `none` or kbit/s */
function setDataCap(value) {
  const kbps = Number.parseInt(value, 10);
  app.maxKbps = Number.isFinite(kbps) && kbps > 0 ? kbps : null;
  renderQualityControls();
  sendQuality();
}

const LINK_KEYS = /** @type {Record<string, string>} */ ({
  good: 'link.good',
  weak: 'link.weak',
  audio_only: 'link.audio_only',
});

/** The compact downlink indicator next to the status. */
function renderLinkState() {
  const ls = app.linkState;
  const show = (!!ls || app.uplinkPaused) && app.state === 'joined';
  els.linkState.hidden = !show;
  if (!ls && !app.uplinkPaused) {
    delete els.linkState.dataset.state;
    return;
  }
  // Our own video paused for our uplink says more than our download's state.
  const state = app.uplinkPaused ? 'weak' : ls?.state ?? 'good';
  els.linkState.dataset.state = state;
  const iconEl = els.linkState.querySelector('.icon');
  if (iconEl && !iconEl.firstChild) iconEl.innerHTML = ICONS.signal;
  const textEl = els.linkState.querySelector('.link-text');
  const key = app.uplinkPaused ? 'link.uplink_paused' : LINK_KEYS[state] ?? 'link.good';
  if (textEl) localize(textEl, key);
  if (!app.uplinkPaused && ls && typeof ls.estimate_kbps === 'number') {
    localize(els.linkState, 'link.estimate', { kbps: Math.round(ls.estimate_kbps) }, 'title');
  } else {
    localize(els.linkState, key, undefined, 'title');
  }
}

/**
 * Turn a local track off or on and tell the bridge (once published; else after publishing).
 * @param {Kind} kind
 * @param {boolean} muted
 */
function setLocalMute(kind, muted) {
  const track = localTrack(kind);
  if (!track) return;
  app.muted[kind] = muted;
  track.enabled = !muted;
  renderControls();
  if (app.selfId) tiles.setMuted(app.selfId, kind, muted);
  if (app.published) sendMute(kind);
}

/** @param {Kind} kind */
function toggleMute(kind) {
  setLocalMute(kind, !app.muted[kind]);
}

/** Toolbar buttons that exist only in the meeting: raise hand, chat, the chair's console. */
function renderMeetingControls() {
  const inMeeting = app.state === 'joined' || app.state === 'reconnecting';
  const raised = meeting.handPosition(app.selfId);
  els.handBtn.hidden = !inMeeting || app.host;
  els.handBtn.setAttribute('aria-pressed', String(raised > 0));
  const handLabel = els.handBtn.querySelector('.label');
  if (handLabel) localize(handLabel, raised > 0 ? 'controls.hand_lower' : 'controls.hand_raise', { n: raised });
  localize(els.handBtn, raised > 0 ? 'controls.hand_lower_hint' : 'controls.hand_raise', { n: raised }, 'aria-label');
  els.chatBtn.hidden = !inMeeting || app.host; // the chair's console has a chat tab
  els.consoleBtn.hidden = !inMeeting || !app.host;
  if (!inMeeting) panel.close();
}

/**
 * Raise or lower this site's hand (the queue is the bridge's: `meeting_state.hands`).
 * @param {boolean} raised
 * @returns {boolean} whether it went out
 */
function raiseHand(raised) {
  return sendJoined({ type: 'raise_hand', raised });
}

/** The last `meeting_state` drives the spotlight, the roll-call banner and the hand button. */
function onMeetingChange() {
  const s = meeting.state;
  tiles.setSpotlight(s.spotlight, s.floor);
  // Only sites answer a roll call (`roll_call_answer` is for participants).
  prompts.setRollCall(app.selfRole === 'participant' ? s.roll_call : null);
  renderMeetingControls();
}

/**
 * `muted_by_host`: the chair turned one of our tracks off.
 * @param {Message} msg
 */
function onMutedByHost(msg) {
  const kind = msg.kind === 'video' ? 'video' : 'audio';
  if (kind === 'audio') prompts.dismissUnmute();
  setLocalMute(kind, true);
  prompts.notify(kind === 'audio' ? 'prompt.muted_by_host' : 'prompt.camera_off_by_host', 'warn');
}

/** `unmuted_by_host`: the chair opened our mic (the policy allows it). */
function onUnmutedByHost() {
  prompts.dismissUnmute();
  setLocalMute('audio', false);
  prompts.notify('prompt.unmuted_by_host');
}

/** @param {Kind} kind */
function sendMute(kind) {
  const muted = app.muted[kind];
  if (app.signaling?.send({ type: 'mute', kind, muted })) app.serverMuted[kind] = muted;
}

/** After publishing, tell the bridge every mute state it does not know yet. */
function syncMuteStates() {
  for (const kind of /** @type {Kind[]} */ (['audio', 'video'])) {
    if (localTrack(kind) && app.muted[kind] !== app.serverMuted[kind]) sendMute(kind);
  }
}

async function startPreview() {
  if (app.viewer) {
    localize(els.mediaNote, 'prejoin.viewer');
    renderControls();
    return;
  }
  localize(els.mediaNote, 'prejoin.media_checking');
  const { stream, problem } = await getLocalMedia();
  if (app.state === 'left' || app.state === 'error') {
    stream?.getTracks().forEach((tr) => tr.stop());
    return;
  }
  app.localStream = stream;
  if (stream && stream.getVideoTracks().length > 0 && app.state === 'prejoin') {
    els.preview.srcObject = stream;
    els.preview.play().catch(() => {});
  }
  localize(els.mediaNote, problem ? `prejoin.media_${problem}` : 'prejoin.media_ok');
  els.mediaNote.dataset.problem = String(!!problem);
  renderControls();
  if (app.selfId) {
    tiles.setLocalStream(app.selfId, stream);
  }
}

function stopLocalMedia() {
  app.localStream?.getTracks().forEach((tr) => tr.stop());
  app.localStream = null;
  els.preview.srcObject = null;
  renderControls();
}

// ---- meeting ---------------------------------------------------------------------------

/** @type {Promise<void>} */
let mediaReady = Promise.resolve();

async function join() {
  if (app.state !== 'prejoin' || !room || !token) return;
  app.displayName = els.nameInput.value.trim() || claims?.name || t('tile.you');
  els.joinBtn.disabled = true;
  const sig = new Signaling({ room, token, name: app.displayName });
  app.signaling = sig;
  setState('joining');
  setStatus('connecting', 'status.connecting');
  await mediaReady;
  if (app.state !== 'joining') return;
  els.preview.srcObject = null;
  bindSignaling(sig);
  sig.connect();
}

/** @param {Signaling} sig */
function bindSignaling(sig) {
  /**
   * @param {string} type
   * @param {(msg: Message) => void} fn
   */
  const on = (type, fn) =>
    sig.addEventListener(type, (ev) => {
      if (sig !== app.signaling) return;
      try {
        fn(/** @type {CustomEvent<Message>} */ (ev).detail);
      } catch (err) {
        console.error(`handling ${type} failed`, err);
      }
    });

  on('connection', (info) => onConnection(/** @type {ConnectionInfo} */ (/** @type {unknown} */ (info))));
  on('joined', onJoined);
  on('publish_answer', (msg) => {
    const media = app.media;
    if (!media || typeof msg.sdp !== 'string') return;
    void media.applyPublishAnswer(msg.sdp).then((ok) => {
      if (ok && media === app.media) {
        app.published = true;
        syncMuteStates();
      }
    });
  });
  on('subscribe_offer', (msg) => {
    if (typeof msg.sdp === 'string') app.media?.handleSubscribeOffer(msg.sdp, msg.rev);
  });
  on('participant_joined', (msg) => {
    const p = msg.participant;
    if (p && typeof p.id === 'string' && p.id !== app.selfId) tiles.upsert(p);
    hostConsole.renderSoon();
  });
  on('participant_left', (msg) => {
    if (typeof msg.id !== 'string' || msg.id === app.selfId) return;
    tiles.remove(msg.id);
    app.videoStates.delete(msg.id);
    app.media?.forgetParticipant(msg.id);
    hostConsole.renderSoon();
  });
  on('video_state', (msg) => {
    if (typeof msg.participant_id !== 'string' || msg.participant_id === app.selfId) return;
    const paused = msg.paused === true;
    const reason = paused && typeof msg.reason === 'string' ? msg.reason : null;
    app.videoStates.set(msg.participant_id, { paused, reason });
    tiles.setVideoState(msg.participant_id, paused, reason);
  });
  on('link_state', (msg) => {
    if (typeof msg.state !== 'string') return;
    const kbps = typeof msg.estimate_kbps === 'number' && Number.isFinite(msg.estimate_kbps) ? msg.estimate_kbps : null;
    app.linkState = { state: msg.state, estimate_kbps: kbps };
    renderLinkState();
  });
  on('publisher_layers', (msg) => {
    app.media?.setPublisherLayers(msg.active, msg.paused === true);
    app.uplinkPaused = msg.paused === true;
    renderLinkState();
  });
  on('track_published', (msg) => {
    if (msg.participant_id !== app.selfId) tiles.setPublished(msg.participant_id, msg.kind, true);
    hostConsole.renderSoon();
  });
  on('track_unpublished', (msg) => {
    if (msg.participant_id !== app.selfId) tiles.setPublished(msg.participant_id, msg.kind, false);
    hostConsole.renderSoon();
  });
  on('mute_changed', (msg) => {
    if (msg.kind !== 'audio' && msg.kind !== 'video') return;
    if (msg.participant_id === app.selfId) {
      app.serverMuted[/** @type {Kind} */ (msg.kind)] = !!msg.muted;
      return;
    }
    tiles.setMuted(msg.participant_id, msg.kind, !!msg.muted);
    hostConsole.renderSoon();
  });
  on('lobby_waiting', () => {
    meeting.enterLobby();
    setState('lobby');
    setStatus('connecting', 'status.lobby');
  });
  on('meeting_state', (msg) => meeting.applyState(msg));
  on('lobby', (msg) => meeting.applyLobby(msg));
  on('roll_call', (msg) => meeting.applyRollCall(msg));
  on('chat', (msg) => meeting.addChat(msg));
  on('muted_by_host', onMutedByHost);
  on('unmute_request', () => prompts.askUnmute());
  on('unmuted_by_host', onUnmutedByHost);
  on('error', onServerError);
}

/** @param {Message} msg */
function onJoined(msg) {
  const self = msg.self ?? {};
  if (typeof self.id !== 'string') {
    console.error('joined without self.id', msg);
    return;
  }
  // A (re)join is a fresh bridge session: new PCs, remote media comes again.
  app.media?.close();
  tiles.clearRemoteMedia();
  tiles.clearVideoStates();
  app.videoStates.clear();
  app.linkState = null;
  app.uplinkPaused = false;
  if (app.selfId && app.selfId !== self.id) tiles.remove(app.selfId);
  app.selfId = self.id;
  app.serverMuted = { audio: !!self.muted?.audio, video: !!self.muted?.video };
  if (self.role === 'viewer') app.viewer = true;
  app.selfRole = typeof self.role === 'string' ? self.role : '';
  app.host = self.role === 'host';
  app.published = false;
  // Policy `mics_muted_on_entry`: the bridge starts us muted; so does our mic.
  if (app.serverMuted.audio && !app.muted.audio) setLocalMute('audio', true);

  /** @type {Array<{id: string, name: string}>} */
  const others = (Array.isArray(msg.participants) ? msg.participants : []).filter(
    (/** @type {any} */ p) => p && typeof p.id === 'string' && p.id !== self.id
  );
  tiles.retain(new Set([self.id, ...others.map((p) => p.id)]));
  const localKinds = app.localStream ? app.localStream.getTracks().map((tr) => tr.kind) : [];
  tiles.upsert({ id: self.id, name: app.displayName, muted: { ...app.muted }, tracks: localKinds }, true);
  tiles.setLocalStream(self.id, app.viewer ? null : app.localStream);
  for (const p of others) tiles.upsert(p);

  app.media = createMediaSession(msg.ice_servers);
  prompts.reset();
  panel.setHost(app.host);
  chat.setCanSend(!app.viewer);
  hostConsole.setEnabled(app.host);
  rollCallPane.setEnabled(app.host);
  setState('joined');
  meeting.startSession(msg);
  setStatus('connected', 'status.connected');
  renderControls();
  if (app.host && !app.consoleShown && window.matchMedia('(min-width: 900px)').matches) {
    app.consoleShown = true;
    panel.show('sites');
  }
  // The new bridge session knows nothing of our choices or what we show.
  if (app.audioOnly || app.maxKbps !== null) sendQuality();
  views.reset();
  if (!app.viewer && app.localStream && app.localStream.getTracks().length > 0) {
    void app.media.publish(app.localStream);
  }
}

/**
 * @param {unknown} iceServers
 * @returns {MediaSession}
 */
function createMediaSession(iceServers) {
  const media = new MediaSession({
    iceServers: Array.isArray(iceServers) ? iceServers : [],
    send: (m) => app.signaling?.send(m) ?? false,
  });
  media.addEventListener('track', (ev) => {
    if (media !== app.media) return;
    const { track, participantId, previousParticipantId } = /** @type {CustomEvent} */ (ev).detail;
    tiles.moveTrack(track, participantId, previousParticipantId);
  });
  media.addEventListener('connectionstate', (ev) => {
    const { state } = /** @type {CustomEvent} */ (ev).detail;
    if (media !== app.media || state !== 'failed') return;
    // ICE to the bridge is gone; a new session rebuilds both PCs.
    recoverMedia();
  });
  media.addEventListener('negotiationerror', (ev) => {
    if (media !== app.media) return;
    const { pc } = /** @type {CustomEvent} */ (ev).detail;
    flashError('error.bad_sdp');
    // The bridge waits for our subscribe_answer before any further offer: start over.
    if (pc === 'subscriber') recoverMedia();
  });
  return media;
}

function recoverMedia() {
  const now = Date.now();
  if (now - app.lastMediaRecovery < MEDIA_RECOVERY_MIN_MS) return;
  app.lastMediaRecovery = now;
  setStatus('reconnecting', 'status.media_failed');
  app.signaling?.reconnectNow();
}

/** @param {ConnectionInfo} info */
function onConnection(info) {
  switch (info.state) {
    case 'connecting':
      setStatus('connecting', 'status.connecting');
      break;
    case 'open':
      break; // `joined` decides
    case 'reconnecting':
      views.stop();
      if (app.state === 'joined' || app.state === 'reconnecting') {
        setState('reconnecting');
        if (navigator.onLine === false) setStatus('disconnected', 'status.disconnected');
        else setStatus('reconnecting', 'status.reconnecting');
      } else {
        setStatus('connecting', 'status.connecting');
      }
      break;
    case 'failed': {
      const recent = app.lastError && Date.now() - app.lastError.at < 10000 ? app.lastError : null;
      // The close reason names the refusal (`removed`, `lobby_denied`…) when the bridge says it.
      const reasonCode = info.reason && hasKey(`error.${info.reason}`) ? info.reason : undefined;
      const code = reasonCode ?? recent?.code ?? CLOSE_ERRORS[info.code ?? 0];
      const msg = code ? errorMessage(code, recent?.reason) : { key: 'error.closed', vars: { code: info.code ?? 0 } };
      endMeeting('error', msg.key, msg.vars, code);
      break;
    }
    case 'closed':
      if (app.state !== 'left' && app.state !== 'error') endMeeting('left', 'status.left');
      break;
  }
}

/** @param {Message} msg */
function onServerError(msg) {
  const code = typeof msg.code === 'string' ? msg.code : 'unknown';
  const reason = typeof msg.reason === 'string' ? msg.reason : '';
  app.lastError = { code, reason, at: Date.now() };
  console.warn('bridge error', code, reason);
  if (code === 'stale_answer') return; // a newer offer is on its way
  if (msg.request === 'view') return; // background report, nothing the user can act on
  const { key, vars } = errorMessage(code, reason);
  flashError(key, vars); // a fatal one is followed by a close, which ends the meeting
}

/**
 * @param {'left'|'error'} state
 * @param {string} key
 * @param {Record<string, string|number>} [vars]
 * @param {string} [code] the error code that ended it
 */
function endMeeting(state, key, vars, code) {
  views.stop();
  prompts.reset();
  hostConsole.setEnabled(false);
  rollCallPane.setEnabled(false);
  app.linkState = null;
  app.uplinkPaused = false;
  app.videoStates.clear();
  app.media?.close();
  app.media = null;
  app.published = false;
  for (const tile of tiles.list()) tiles.remove(tile.id);
  stopLocalMedia();
  setState(state);
  els.rejoinBtn.hidden = !!code && FINAL_ERRORS.has(code);
  if (state === 'error') {
    setStatus('error', key, vars);
    // The chair ending the meeting, or removing or refusing this site, is not a failure.
    const heading = code && hasKey(`left.heading_${code}`) ? `left.heading_${code}` : 'left.error_heading';
    localize(els.endedHeading, heading);
    localize(els.endedDetail, key, vars);
  } else {
    setStatus('disconnected', 'status.left');
    localize(els.endedHeading, 'left.heading');
    els.endedDetail.removeAttribute('data-i18n');
    els.endedDetail.textContent = '';
  }
}

async function leave() {
  if (!(app.state === 'joining' || app.state === 'lobby' || app.state === 'joined' || app.state === 'reconnecting')) return;
  const sig = app.signaling;
  endMeeting('left', 'status.left');
  await sig?.leave();
}

// ---- wiring ----------------------------------------------------------------------------

function init() {
  setState('prejoin');
  bindLanguageButton(els.langBtn);
  els.leaveBtn.querySelector('.icon')?.insertAdjacentHTML('afterbegin', ICONS.leave);
  els.audioUnblock.querySelector('.icon')?.insertAdjacentHTML('afterbegin', ICONS.speaker);
  if (room) localize(els.roomLabel, 'app.room', { room });
  els.nameInput.value = typeof claims?.name === 'string' ? claims.name : '';

  els.form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void join();
  });
  els.micBtn.addEventListener('click', () => toggleMute('audio'));
  els.handBtn.querySelector('.icon')?.insertAdjacentHTML('afterbegin', ICONS.hand);
  els.chatBtn.querySelector('.icon')?.insertAdjacentHTML('afterbegin', ICONS.chat);
  els.consoleBtn.querySelector('.icon')?.insertAdjacentHTML('afterbegin', ICONS.console);
  els.handBtn.addEventListener('click', () => raiseHand(meeting.handPosition(app.selfId) === 0));
  panel.bindOpener(els.chatBtn, 'chat');
  panel.bindOpener(els.consoleBtn, 'sites');
  byId('panel-close').addEventListener('click', () => panel.close());
  panel.addEventListener('paneshown', (ev) => {
    if (/** @type {CustomEvent} */ (ev).detail.pane === 'chat') chat.markRead();
  });
  chat.addEventListener('unread', (ev) => setBadge(document, 'chat', /** @type {CustomEvent} */ (ev).detail.count));
  meeting.addEventListener('change', onMeetingChange);
  els.camBtn.addEventListener('click', () => toggleMute('video'));
  els.audioOnlyBtn.addEventListener('click', () => setAudioOnly(!app.audioOnly));
  els.dataCap.addEventListener('change', () => setDataCap(els.dataCap.value));
  els.leaveBtn.addEventListener('click', () => void leave());
  els.rejoinBtn.addEventListener('click', () => location.reload());
  els.audioUnblock.addEventListener('click', () => {
    els.audioUnblock.hidden = true;
    tiles.playAll();
  });
  tiles.addEventListener('autoplayblocked', () => {
    els.audioUnblock.hidden = false;
  });
  window.addEventListener('pagehide', () => {
    if (app.state === 'joined' || app.state === 'reconnecting' || app.state === 'joining' || app.state === 'lobby') {
      app.signaling?.leaveNow();
    }
  });
  window.addEventListener('pageshow', (ev) => {
    if (ev.persisted && app.signaling) location.reload(); // restored from bfcache after leaving
  });

  renderControls();
  renderQualityControls();
  if (!room || !token) {
    els.joinBtn.disabled = true;
    setState('error');
    setStatus('error', 'prejoin.bad_link');
    localize(els.mediaNote, 'prejoin.bad_link');
  } else {
    mediaReady = startPreview().catch((err) => console.error('preview failed', err));
  }
  void initI18n().catch((err) => console.error('i18n failed', err));
}

// ---- test hooks (Playwright) -----------------------------------------------------------

const hooks = {
  /** @returns {AppState} */
  get state() {
    return app.state;
  },
  /** @returns {string|null} */
  get selfId() {
    return app.selfId;
  },
  /** Everyone with a tile, self first (flagged self: true). */
  participants: () =>
    tiles.list().map((tile) => ({
      id: tile.id,
      name: tile.name,
      muted: { audio: tile.muted.audio, video: tile.muted.video },
      self: tile.self,
    })),
  /** @returns {{publisher: RTCPeerConnection|null, subscriber: RTCPeerConnection|null}} */
  get pcs() {
    return { publisher: app.media?.publisher ?? null, subscriber: app.media?.subscriber ?? null };
  },
  /** Entries gain frameHeight and framesPerSecond (video) when the browser reports them. */
  inboundStats: async () => (app.media ? app.media.inboundStats() : []),
  /**
   * The publisher's outbound video RTP, one entry per simulcast layer, low to high.
   * @returns {Promise<Array<{rid: string|null, frameHeight: number|null, bytesSent: number,
   *   active: boolean, qualityLimitationReason: string|null, framesPerSecond: number|null}>>}
   */
  outboundStats: async () => (app.media ? app.media.outboundStats() : []),
  /** @returns {Record<string, {paused: boolean, reason: string|null}>} last video_state per participant */
  videoStates: () => Object.fromEntries([...app.videoStates].map(([id, v]) => [id, { ...v }])),
  /** @returns {{state: string, estimate_kbps: number|null}|null} last link_state */
  linkState: () => (app.linkState ? { ...app.linkState } : null),
  /**
   * Toggle audio only, as the toolbar button does.
   * @param {boolean} on
   * @returns {boolean} whether `quality` went out now (else it goes after joining)
   */
  setAudioOnly: (on) => setAudioOnly(on),
  /** @returns {boolean} */
  get audioOnly() {
    return app.audioOnly;
  },
  /** @returns {Array<{participant_id: string, visible: boolean, height: number}>} the current `view` */
  view: () => views.current(),
  /** @returns {string} `joined.self.role` ('' before joining) */
  get role() {
    return app.selfRole;
  },
  /** @returns {{audio: boolean, video: boolean}} this client's own mute state */
  localMuted: () => ({ ...app.muted }),
  /** @returns {import('./meeting-state.js').MeetingStateData} the last `meeting_state` */
  meetingState: () => structuredClone(meeting.state),
  /** @returns {boolean} this client waits in the lobby */
  lobbyWaiting: () => app.state === 'lobby' && meeting.waiting,
  /** @returns {Array<{id: string, name: string}>} the lobby (hosts only) */
  lobby: () => structuredClone(meeting.lobby),
  /** @returns {import('./meeting-state.js').ChatMessage[]} oldest first */
  chatMessages: () => structuredClone(meeting.chat),
  /** @returns {import('./meeting-state.js').RollCall|null} the last roll-call grid (hosts only) */
  rollCall: () => structuredClone(meeting.rollCall),
  /** What the site is shown: the chair's request to speak, the roll-call banner, a notice. */
  prompts: () => ({
    unmuteRequested: prompts.unmuteRequested,
    rollCallOpen: !!prompts.rollCall?.open,
    rollCallAnswered: prompts.answeredOpenRollCall,
    notice: byId('notice').hidden ? null : byId('notice').textContent,
  }),
  /** @param {boolean} raised @returns {boolean} whether `raise_hand` went out */
  raiseHand: (raised) => raiseHand(raised),
  /** @param {string} text @param {'all'|'host'} [to] @returns {boolean} whether it went out */
  sendChat: (text, to = 'all') => chat.submit(text, to),
  /** The chair's actions, one host_* message each (the bridge refuses them from non-hosts). */
  host,
  /** @returns {Promise<{source: 'server'|'browser', csv: string}|null>} as "Xuất CSV" does */
  exportAttendance: () => rollCallPane.exportCsv(),
  /**
   * Fill the name, click join, resolve with the state once joining is over (or after 30 s).
   * @param {string} [name]
   * @returns {Promise<AppState>}
   */
  join: async (name) => {
    if (app.state !== 'prejoin') return app.state;
    if (typeof name === 'string') els.nameInput.value = name;
    const done = waitForState((s) => s !== 'prejoin' && s !== 'joining', 30000);
    els.joinBtn.click();
    return done;
  },
};

Object.defineProperty(window, 'diemcau', { value: hooks, configurable: true, enumerable: true });

init();
