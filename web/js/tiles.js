// The video tile grid. One tile per participant: <video autoplay playsinline>, a name label,
// a mic-muted icon and an initials placeholder shown while there is no live video.
// Remote tiles get one MediaStream per participant, built here from the subscriber tracks
// (audio plays through the tile's <video>, which is not muted). The local tile is muted and
// mirrored.
//
// The chair's spotlight (`meeting_state.spotlight`) shows one tile large for everyone; the
// site that has the floor carries a "speaking" badge.
//
// A remote tile whose video the bridge paused (`video_state`) shows the initials placeholder
// with an overlay saying why (weak link, audio only); its name label and audio stay.
//
// Events: `autoplayblocked` {id}, `tileadded` {id, el, self}, `tileremoved` {id, el}.

import { localize } from './i18n.js';
import { ICONS } from './icons.js';

/**
 * @typedef {object} Participant
 * @property {string} id
 * @property {string} name
 * @property {string} [role]
 * @property {{audio: boolean, video: boolean}} [muted]
 * @property {string[]} [tracks]
 */

/**
 * @typedef {object} Tile
 * @property {string} id
 * @property {string} name
 * @property {string} role `host`, `participant` or `viewer` ('' until known)
 * @property {boolean} self
 * @property {{audio: boolean, video: boolean}} muted
 * @property {Set<string>} tracks published kinds
 * @property {MediaStream|null} stream
 * @property {HTMLElement} el
 * @property {HTMLVideoElement} video
 * @property {HTMLElement} nameEl
 * @property {HTMLElement} micEl
 * @property {HTMLElement} avatarEl
 * @property {HTMLElement} overlayEl
 * @property {HTMLElement} floorEl
 * @property {{paused: boolean, reason: string|null}} videoState from the bridge
 */

/** `video_state` reasons shown on the tile (hidden tiles are off screen anyway). */
const PAUSE_MESSAGES = /** @type {Record<string, string>} */ ({
  bandwidth: 'tile.paused_bandwidth',
  uplink: 'tile.paused_uplink',
  audio_only: 'tile.paused_audio_only',
});

/**
 * @param {string} name
 * @returns {string}
 */
function initials(name) {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = words[0][0] ?? '';
  const last = words.length > 1 ? words[words.length - 1][0] ?? '' : '';
  return (first + last).toUpperCase();
}

export class TileGrid extends EventTarget {
  /** @param {HTMLElement} container */
  constructor(container) {
    super();
    this.el = container;
    /** @type {Map<string, Tile>} */
    this.tiles = new Map();
    /** @type {string|null} */
    this.spotlightId = null;
    /** @type {string|null} */
    this.floorId = null;
  }

  /**
   * The chair's spotlight and floor (participant ids, or null).
   * @param {string|null} spotlightId
   * @param {string|null} floorId
   */
  setSpotlight(spotlightId, floorId) {
    if (spotlightId === this.spotlightId && floorId === this.floorId) return;
    this.spotlightId = spotlightId;
    this.floorId = floorId;
    for (const tile of this.tiles.values()) this._render(tile);
  }

  /**
   * Create or update a tile.
   * @param {Participant} p
   * @param {boolean} [self]
   * @returns {Tile}
   */
  upsert(p, self = false) {
    let tile = this.tiles.get(p.id);
    if (!tile) {
      tile = this._create(p.id, self);
      this.tiles.set(p.id, tile);
      if (self) this.el.prepend(tile.el);
      else this.el.append(tile.el);
      this._updateCount();
      this.dispatchEvent(new CustomEvent('tileadded', { detail: { id: p.id, el: tile.el, self } }));
    }
    if (typeof p.name === 'string' && p.name) tile.name = p.name;
    if (typeof p.role === 'string') tile.role = p.role;
    if (p.muted) tile.muted = { audio: !!p.muted.audio, video: !!p.muted.video };
    if (Array.isArray(p.tracks)) tile.tracks = new Set(p.tracks);
    this._render(tile);
    return tile;
  }

  /**
   * @param {string} id
   * @returns {Tile|undefined}
   */
  get(id) {
    return this.tiles.get(id);
  }

  /** @param {string} id */
  remove(id) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    tile.video.srcObject = null;
    tile.el.remove();
    this.tiles.delete(id);
    this._updateCount();
    this.dispatchEvent(new CustomEvent('tileremoved', { detail: { id, el: tile.el } }));
  }

  /** Remove every remote tile that is not in keepIds. @param {Set<string>} keepIds */
  retain(keepIds) {
    for (const id of [...this.tiles.keys()]) {
      if (!keepIds.has(id)) this.remove(id);
    }
  }

  /**
   * @param {string} id
   * @param {'audio'|'video'} kind
   * @param {boolean} muted
   */
  setMuted(id, kind, muted) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    tile.muted = { ...tile.muted, [kind]: muted };
    this._render(tile);
  }

  /**
   * @param {string} id
   * @param {'audio'|'video'} kind
   * @param {boolean} published
   */
  setPublished(id, kind, published) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    if (published) tile.tracks.add(kind);
    else tile.tracks.delete(kind);
    this._render(tile);
  }

  /**
   * The bridge's `video_state` for a remote participant.
   * @param {string} id
   * @param {boolean} paused
   * @param {string|null} reason
   */
  setVideoState(id, paused, reason) {
    const tile = this.tiles.get(id);
    if (!tile || tile.self) return;
    tile.videoState = { paused, reason: paused ? reason : null };
    this._render(tile);
  }

  /** Forget every `video_state` (a new bridge session starts with none). */
  clearVideoStates() {
    for (const tile of this.tiles.values()) {
      if (!tile.videoState.paused) continue;
      tile.videoState = { paused: false, reason: null };
      this._render(tile);
    }
  }

  /**
   * Show the local stream in the self tile (only once it has tracks).
   * @param {string} id
   * @param {MediaStream|null} stream
   */
  setLocalStream(id, stream) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    tile.stream = stream && stream.getTracks().length > 0 ? stream : null;
    this._attach(tile);
    this._render(tile);
  }

  /**
   * Move a subscriber track to its (new) owner's stream.
   * @param {MediaStreamTrack} track
   * @param {string|null} participantId
   * @param {string|null} previousId
   */
  moveTrack(track, participantId, previousId) {
    if (previousId) this._removeTrack(previousId, track);
    // A track may also be attached to a tile we did not know was its previous owner.
    for (const tile of this.tiles.values()) {
      if (tile.id !== participantId && !tile.self && tile.stream?.getTracks().includes(track)) {
        this._removeTrack(tile.id, track);
      }
    }
    if (!participantId) return;
    // The offer may come before participant_joined: make a nameless tile, filled in later.
    const tile = this.tiles.get(participantId) ?? this.upsert({ id: participantId, name: '' });
    if (tile.self) return;
    if (tile.stream?.getTracks().includes(track)) return;
    if (tile.stream) tile.stream.addTrack(track);
    else tile.stream = new MediaStream([track]);
    this._attach(tile);
    this._render(tile);
  }

  /** Drop all remote media (the subscriber PC is being replaced). */
  clearRemoteMedia() {
    for (const tile of this.tiles.values()) {
      if (tile.self || !tile.stream) continue;
      tile.stream = null;
      this._attach(tile);
      this._render(tile);
    }
  }

  /** Retry playback, e.g. after a user gesture when autoplay with sound was refused. */
  playAll() {
    for (const tile of this.tiles.values()) {
      if (tile.video.srcObject) this._play(tile);
    }
  }

  /** @returns {Tile[]} self first, then in arrival order */
  list() {
    return [...this.tiles.values()].sort((a, b) => Number(b.self) - Number(a.self));
  }

  // ---- internals -------------------------------------------------------------------------

  /**
   * @param {string} id
   * @param {MediaStreamTrack} track
   */
  _removeTrack(id, track) {
    const tile = this.tiles.get(id);
    if (!tile || !tile.stream) return;
    if (!tile.stream.getTracks().includes(track)) return;
    tile.stream.removeTrack(track);
    if (tile.stream.getTracks().length === 0) tile.stream = null;
    this._attach(tile);
    this._render(tile);
  }

  /**
   * @param {string} id
   * @param {boolean} self
   * @returns {Tile}
   */
  _create(id, self) {
    const el = document.createElement('div');
    el.className = 'tile';
    el.setAttribute('role', 'listitem');
    el.dataset.participantId = id;
    if (self) el.dataset.self = 'true';

    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.setAttribute('playsinline', '');
    if (self) {
      video.muted = true;
      video.setAttribute('muted', '');
      video.classList.add('mirrored');
    }

    const avatarEl = document.createElement('div');
    avatarEl.className = 'tile-avatar';
    avatarEl.setAttribute('aria-hidden', 'true');

    const label = document.createElement('div');
    label.className = 'tile-label';
    const micEl = document.createElement('span');
    micEl.className = 'tile-mic';
    micEl.setAttribute('role', 'img');
    micEl.innerHTML = ICONS.micOff;
    localize(micEl, 'tile.mic_muted', undefined, 'aria-label');
    micEl.hidden = true;
    const nameEl = document.createElement('span');
    nameEl.className = 'tile-name';
    label.append(micEl, nameEl);

    const overlayEl = document.createElement('div');
    overlayEl.className = 'tile-overlay';
    overlayEl.hidden = true;

    const floorEl = document.createElement('div');
    floorEl.className = 'tile-floor';
    localize(floorEl, 'tile.floor');
    floorEl.hidden = true;

    el.append(video, avatarEl, overlayEl, floorEl, label);
    return {
      id,
      name: '',
      role: '',
      self,
      muted: { audio: false, video: false },
      tracks: new Set(),
      stream: null,
      el,
      video,
      nameEl,
      micEl,
      avatarEl,
      overlayEl,
      floorEl,
      videoState: { paused: false, reason: null },
    };
  }

  /**
   * Point the <video> at the tile's stream. Re-assigning srcObject reloads the element, which
   * makes it pick up a newly added video track reliably. Never assign an empty stream.
   * @param {Tile} tile
   */
  _attach(tile) {
    const stream = tile.stream && tile.stream.getTracks().length > 0 ? tile.stream : null;
    tile.video.srcObject = stream;
    if (stream) this._play(tile);
  }

  /** @param {Tile} tile */
  _play(tile) {
    tile.video.play().catch((err) => {
      if (err && err.name === 'NotAllowedError') {
        this.dispatchEvent(new CustomEvent('autoplayblocked', { detail: { id: tile.id } }));
      }
      // AbortError: interrupted by a newer srcObject; that load plays instead.
    });
  }

  /** @param {Tile} tile */
  _render(tile) {
    if (tile.self) {
      localize(tile.nameEl, 'tile.self_label', { name: tile.name });
    } else if (tile.name) {
      tile.nameEl.removeAttribute('data-i18n');
      tile.nameEl.removeAttribute('data-i18n-vars');
      tile.nameEl.textContent = tile.name;
    } else {
      localize(tile.nameEl, 'tile.unknown');
    }
    tile.avatarEl.textContent = initials(tile.name || '?');
    tile.micEl.hidden = !tile.muted.audio;
    tile.el.dataset.audioMuted = String(tile.muted.audio);
    tile.el.dataset.spotlight = String(tile.id === this.spotlightId);
    tile.floorEl.hidden = tile.id !== this.floorId;
    tile.el.dataset.videoMuted = String(tile.muted.video);

    const videoTrack = tile.stream?.getVideoTracks()[0];
    const hasVideo = tile.self
      ? !!videoTrack && videoTrack.enabled && videoTrack.readyState === 'live'
      : !!videoTrack && !tile.muted.video && (tile.tracks.size === 0 || tile.tracks.has('video'));
    const { paused, reason } = tile.videoState;
    // A paused track shows a frozen frame: show the placeholder instead (audio keeps playing).
    tile.el.classList.toggle('no-video', !hasVideo || paused);
    tile.el.dataset.videoPaused = String(paused);
    if (paused && reason) tile.el.dataset.pauseReason = reason;
    else delete tile.el.dataset.pauseReason;
    const cameraOn = !tile.muted.video && (tile.tracks.size === 0 || tile.tracks.has('video'));
    const message = paused && reason && cameraOn ? PAUSE_MESSAGES[reason] : undefined;
    if (message) {
      localize(tile.overlayEl, message);
      tile.overlayEl.hidden = false;
    } else {
      tile.overlayEl.hidden = true;
    }
  }

  _updateCount() {
    this.el.dataset.count = String(this.tiles.size);
  }
}
