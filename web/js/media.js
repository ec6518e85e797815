// Media side of protocol v1: one publisher PC (client offers, sendonly) and one subscriber
// PC (bridge offers). Candidates travel inside the SDP: we always wait for ICE gathering to
// complete before sending an offer or answer (no trickle).
//
// Events dispatched by MediaSession:
//   `track`           detail {track, participantId|null, previousParticipantId|null}
//                     a subscriber track now belongs to participantId (null = to nobody).
//   `connectionstate` detail {pc: 'publisher'|'subscriber', state: RTCPeerConnectionState}
//   `negotiationerror` detail {pc: 'publisher'|'subscriber', error}
//
// The camera is published as simulcast (rids q, h, f; low to high) with L1T3 temporal layers
// where the browser supports them; `setPublisherLayers` applies the bridge's dynacast hints.

/** @typedef {import('./signaling.js').Message} Message */
/** @typedef {'no_video'|'no_audio'|'none'|'denied'|'insecure'|null} MediaProblem */

const GATHER_TIMEOUT_MS = 10000;

/**
 * Camera simulcast layers, low to high (docs/protocol.md, Simulcast). The per-layer caps add
 * up to about 2.15 Mbit/s at 720p; dynacast (`publisher_layers`) turns off layers nobody
 * receives, and the browser itself drops layers the uplink or the capture size cannot carry.
 */
export const SIMULCAST_LAYERS = Object.freeze([
  Object.freeze({ rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 }),
  Object.freeze({ rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 }),
  Object.freeze({ rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 }),
]);
/** Temporal layers on every simulcast layer, where the browser supports it. */
const SCALABILITY_MODE = 'L1T3';
/**
 * A browser that refuses simulcast sends one stream: keep it at about 640x360 and 600 kbit/s
 * so one commune hall on a weak uplink does not saturate it.
 */
const SINGLE_LAYER_MAX_BITRATE = 600_000;
const SINGLE_LAYER_HEIGHT = 360;

/** getUserMedia video constraints: 1280x720 at 30 fps when the camera can (less is fine). */
export const VIDEO_CONSTRAINTS = {
  width: { ideal: 1280 },
  height: { ideal: 720 },
  frameRate: { ideal: 30 },
};

/**
 * Whether the browser says it can encode video with the given scalability mode.
 * null when it does not say (capabilities without `scalabilityModes`).
 * @param {string} mode
 * @returns {boolean|null}
 */
export function scalabilityModeSupport(mode) {
  try {
    const caps = typeof RTCRtpSender !== 'undefined' && RTCRtpSender.getCapabilities
      ? RTCRtpSender.getCapabilities('video')
      : null;
    const codecs = /** @type {Array<{mimeType: string, scalabilityModes?: string[]}>} */ (caps?.codecs ?? []);
    const listed = codecs.filter((c) => Array.isArray(c.scalabilityModes));
    if (listed.length === 0) return null;
    return listed.some((c) => /** @type {string[]} */ (c.scalabilityModes).includes(mode));
  } catch {
    return null;
  }
}

/**
 * Send encodings for the camera, most capable first: simulcast with temporal layers,
 * simulcast alone, one stream.
 * @param {MediaStreamTrack} track
 * @returns {Array<{encodings: RTCRtpEncodingParameters[], simulcast: boolean, svc: boolean}>}
 */
function videoEncodingCandidates(track) {
  const simulcast = SIMULCAST_LAYERS.map((l) => ({ ...l, active: true }));
  /** @type {Array<{encodings: RTCRtpEncodingParameters[], simulcast: boolean, svc: boolean}>} */
  const out = [];
  if (scalabilityModeSupport(SCALABILITY_MODE) === true) {
    out.push({
      encodings: simulcast.map((e) => ({ ...e, scalabilityMode: SCALABILITY_MODE })),
      simulcast: true,
      svc: true,
    });
  }
  out.push({ encodings: simulcast, simulcast: true, svc: false });
  const height = track.getSettings?.().height ?? 0;
  /** @type {RTCRtpEncodingParameters} */
  const single = { maxBitrate: SINGLE_LAYER_MAX_BITRATE };
  if (height > SINGLE_LAYER_HEIGHT * 1.2) single.scaleResolutionDownBy = height / SINGLE_LAYER_HEIGHT;
  out.push({ encodings: [single], simulcast: false, svc: false });
  return out;
}

/**
 * Open mic and camera, falling back to one of them, or to nothing.
 * @returns {Promise<{stream: MediaStream|null, problem: MediaProblem}>}
 */
export async function getLocalMedia() {
  const md = navigator.mediaDevices;
  if (!md || typeof md.getUserMedia !== 'function') {
    return { stream: null, problem: window.isSecureContext ? 'none' : 'insecure' };
  }
  try {
    const stream = await md.getUserMedia({ audio: true, video: VIDEO_CONSTRAINTS });
    return { stream, problem: null };
  } catch (err) {
    console.warn('getUserMedia audio+video failed', err);
    if (err instanceof DOMException && (err.name === 'NotAllowedError' || err.name === 'SecurityError')) {
      return { stream: null, problem: 'denied' };
    }
  }
  try {
    return { stream: await md.getUserMedia({ audio: true }), problem: 'no_video' };
  } catch (err) {
    console.warn('getUserMedia audio failed', err);
  }
  try {
    return { stream: await md.getUserMedia({ video: VIDEO_CONSTRAINTS }), problem: 'no_audio' };
  } catch (err) {
    console.warn('getUserMedia video failed', err);
  }
  return { stream: null, problem: 'none' };
}

/**
 * Resolve once ICE gathering is complete (or after a safety timeout, so a black-holed STUN
 * server cannot stall joining; host candidates are gathered within milliseconds).
 * @param {RTCPeerConnection} pc
 * @param {number} [timeoutMs]
 * @returns {Promise<void>}
 */
export function waitForIceGathering(pc, timeoutMs = GATHER_TIMEOUT_MS) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', onState);
      pc.removeEventListener('icecandidate', onCandidate);
      resolve();
    };
    const onState = () => {
      if (pc.iceGatheringState === 'complete' || pc.signalingState === 'closed') done();
    };
    /** @param {RTCPeerConnectionIceEvent} ev */
    const onCandidate = (ev) => {
      if (!ev.candidate) done(); // null candidate = end of gathering
    };
    const timer = setTimeout(() => {
      console.warn('ICE gathering did not complete in time; sending the candidates we have');
      done();
    }, timeoutMs);
    pc.addEventListener('icegatheringstatechange', onState);
    pc.addEventListener('icecandidate', onCandidate);
  });
}

/**
 * For each m-section of an SDP: mid, direction and the stream id of a=msid.
 * @param {string} sdp
 * @returns {Map<string, {direction: string, streamId: string|null, rejected: boolean}>}
 */
export function parseMsids(sdp) {
  /** @type {Map<string, {direction: string, streamId: string|null, rejected: boolean}>} */
  const out = new Map();
  const sections = sdp.split(/\r?\n(?=m=)/).slice(1);
  for (const section of sections) {
    const lines = section.split(/\r?\n/);
    const rejected = /^m=\S+ 0 /.test(lines[0]);
    let mid = null;
    let direction = 'sendrecv';
    /** @type {string|null} */
    let streamId = null;
    for (const line of lines) {
      if (line.startsWith('a=mid:')) mid = line.slice(6).trim();
      else if (line.startsWith('a=msid:')) streamId = line.slice(7).trim().split(/\s+/)[0] || null;
      else if (/^a=(sendrecv|sendonly|recvonly|inactive)\s*$/.test(line)) direction = line.slice(2).trim();
    }
    if (streamId === '-') streamId = null;
    if (mid !== null) out.set(mid, { direction, streamId, rejected });
  }
  return out;
}

export class MediaSession extends EventTarget {
  /**
   * @param {{iceServers?: RTCIceServer[], send: (msg: Message) => boolean}} opts
   */
  constructor({ iceServers, send }) {
    super();
    /** @type {RTCIceServer[]} */
    this.iceServers = Array.isArray(iceServers) ? iceServers : [];
    this.send = send;
    /** @type {RTCPeerConnection|null} */
    this.publisher = null;
    /** @type {RTCPeerConnection|null} */
    this.subscriber = null;
    /** Which participant each subscriber track currently belongs to. */
    /** @type {Map<MediaStreamTrack, string>} */
    this.trackOwner = new Map();
    /** Subscriber offers are handled strictly one after another. */
    /** @type {Promise<void>} */
    this.subscriberQueue = Promise.resolve();
    this.closed = false;
    /** The camera's sender in the publisher PC. */
    /** @type {RTCRtpSender|null} */
    this.videoSender = null;
    /** How the camera is sent: simulcast layers, temporal layers in sendEncodings. */
    this.videoMode = { simulcast: false, svc: false };
    /** Last `publisher_layers.active` from the bridge (low to high), null = all on. */
    /** @type {boolean[]|null} */
    this.wantedLayers = null;
    /** The bridge asked for no video at all: our uplink cannot carry it (`publisher_layers.paused`). */
    this.videoPaused = false;
    /** setParameters calls run one after another (each needs fresh getParameters). */
    /** @type {Promise<void>} */
    this.paramsQueue = Promise.resolve();
  }

  /**
   * @param {'publisher'|'subscriber'} label
   * @returns {RTCPeerConnection}
   */
  _newPc(label) {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    pc.addEventListener('connectionstatechange', () => {
      if (this.closed) return;
      this._emit('connectionstate', { pc: label, state: pc.connectionState });
    });
    return pc;
  }

  /**
   * Create the publisher PC for the local tracks and send `publish` with the full offer.
   * @param {MediaStream} stream
   * @returns {Promise<boolean>} whether the offer was sent
   */
  async publish(stream) {
    if (this.closed) return false;
    const tracks = [...stream.getAudioTracks(), ...stream.getVideoTracks()];
    if (tracks.length === 0) return false;
    if (this.publisher) this.publisher.close();
    const pc = this._newPc('publisher');
    this.publisher = pc;
    this.videoSender = null;
    this.videoMode = { simulcast: false, svc: false };
    try {
      for (const track of tracks) {
        if (track.kind === 'video') this._addVideoTransceiver(pc, track, stream);
        else pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
      }
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      await waitForIceGathering(pc);
      if (this.closed || pc !== this.publisher || !pc.localDescription) return false;
      return this.send({ type: 'publish', sdp: pc.localDescription.sdp });
    } catch (error) {
      console.error('publish failed', error);
      this._emit('negotiationerror', { pc: 'publisher', error });
      return false;
    }
  }

  /**
   * Add the camera with the most capable encodings the browser accepts.
   * @param {RTCPeerConnection} pc
   * @param {MediaStreamTrack} track
   * @param {MediaStream} stream
   */
  _addVideoTransceiver(pc, track, stream) {
    for (const candidate of videoEncodingCandidates(track)) {
      try {
        const tr = pc.addTransceiver(track, {
          direction: 'sendonly',
          streams: [stream],
          sendEncodings: candidate.encodings,
        });
        this.videoSender = tr.sender;
        this.videoMode = { simulcast: candidate.simulcast, svc: candidate.svc };
        return;
      } catch (err) {
        console.info('video send encodings refused, trying simpler ones', err);
      }
    }
    const tr = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    this.videoSender = tr.sender;
  }

  /**
   * Dynacast: the bridge's `publisher_layers.active` (low to high). The lowest layer stays
   * on, so there is always something to forward, unless `paused`: the bridge saw that our
   * uplink cannot carry audio plus any video, and asks for audio only until it says again.
   * @param {unknown} active
   * @param {boolean} [paused]
   */
  setPublisherLayers(active, paused = false) {
    if (!Array.isArray(active)) return;
    this.wantedLayers = active.map((a) => a === true);
    this.videoPaused = paused;
    this._queueParams(() => this._applyLayers());
  }

  /**
   * @param {() => Promise<void>} fn
   */
  _queueParams(fn) {
    this.paramsQueue = this.paramsQueue.then(fn).catch((err) => {
      console.warn('setParameters on the camera sender failed', err);
    });
  }

  /** Bring each simulcast encoding's `active` in line with wantedLayers. */
  async _applyLayers() {
    const sender = this.videoSender;
    const pc = this.publisher;
    if (this.closed || !sender || !pc || !this.wantedLayers) return;
    if (!pc.currentRemoteDescription || pc.signalingState === 'closed') return; // after the answer
    const params = sender.getParameters();
    const encodings = params.encodings ?? [];
    let changed = false;
    encodings.forEach((enc, i) => {
      const byRid = enc.rid ? SIMULCAST_LAYERS.findIndex((l) => l.rid === enc.rid) : -1;
      const layer = byRid >= 0 ? byRid : i;
      // one stream, or the lowest layer: on unless the bridge paused our video
      const want = this.videoPaused
        ? false
        : layer === 0 || encodings.length < 2 || (this.wantedLayers?.[layer] ?? true);
      if (enc.active !== want) {
        enc.active = want;
        changed = true;
      }
    });
    if (changed) await sender.setParameters(params);
  }

  /**
   * When the browser's capabilities did not say whether it supports L1T3, ask setParameters;
   * a refusal just leaves the layers without temporal scalability.
   */
  async _trySvcViaParameters() {
    const sender = this.videoSender;
    if (this.closed || !sender || !this.videoMode.simulcast || this.videoMode.svc) return;
    if (scalabilityModeSupport(SCALABILITY_MODE) !== null) return;
    const params = sender.getParameters();
    const encodings = params.encodings ?? [];
    if (encodings.length === 0 || encodings.every((e) => e.scalabilityMode === SCALABILITY_MODE)) return;
    for (const enc of encodings) enc.scalabilityMode = SCALABILITY_MODE;
    try {
      await sender.setParameters(params);
      this.videoMode = { ...this.videoMode, svc: true };
    } catch {
      // not supported: plain simulcast
    }
  }

  /**
   * Apply the bridge's `publish_answer`.
   * @param {string} sdp
   * @returns {Promise<boolean>} whether it was applied
   */
  async applyPublishAnswer(sdp) {
    const pc = this.publisher;
    if (this.closed || !pc || pc.signalingState !== 'have-local-offer') {
      console.warn('publish_answer without an outstanding offer; ignored');
      return false;
    }
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp });
      this._queueParams(() => this._trySvcViaParameters());
      this._queueParams(() => this._applyLayers());
      return true;
    } catch (error) {
      console.error('publish_answer rejected', error);
      this._emit('negotiationerror', { pc: 'publisher', error });
      return false;
    }
  }

  /**
   * Queue a `subscribe_offer`; it is answered with `subscribe_answer` carrying the same rev.
   * @param {string} sdp
   * @param {unknown} rev
   */
  handleSubscribeOffer(sdp, rev) {
    this.subscriberQueue = this.subscriberQueue
      .then(() => this._answerSubscribe(sdp, rev))
      .catch((error) => {
        console.error('subscribe_offer failed', error);
        if (!this.closed) this._emit('negotiationerror', { pc: 'subscriber', error });
      });
  }

  /**
   * @param {string} sdp
   * @param {unknown} rev
   */
  async _answerSubscribe(sdp, rev) {
    if (this.closed) return;
    if (!this.subscriber) {
      const created = this._newPc('subscriber');
      created.addEventListener('track', (ev) => this._onTrack(ev));
      this.subscriber = created;
    }
    const pc = this.subscriber;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    this._reconcileOwners(pc, sdp);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await waitForIceGathering(pc);
    if (this.closed || pc !== this.subscriber || !pc.localDescription) return;
    this.send({ type: 'subscribe_answer', sdp: pc.localDescription.sdp, rev });
  }

  /**
   * The `track` event does not fire when a still-active transceiver only changes its msid
   * (a leave and a join folded into one offer), and a transceiver turning inactive fires no
   * event at all, so ownership is also derived from the offer itself: mid -> msid stream id.
   * @param {RTCPeerConnection} pc
   * @param {string} sdp
   */
  _reconcileOwners(pc, sdp) {
    const sections = parseMsids(sdp);
    for (const tr of pc.getTransceivers()) {
      if (tr.mid === null) continue;
      const info = sections.get(tr.mid);
      if (!info) continue;
      const sending = !info.rejected && (info.direction === 'sendonly' || info.direction === 'sendrecv');
      this._assign(tr.receiver.track, sending ? info.streamId : null);
    }
  }

  /** @param {RTCTrackEvent} ev */
  _onTrack(ev) {
    const stream = ev.streams[0];
    if (!stream) {
      console.warn('subscriber track without msid stream; cannot tell whose it is');
      return;
    }
    this._assign(ev.track, stream.id);
  }

  /**
   * @param {MediaStreamTrack} track
   * @param {string|null} participantId
   */
  _assign(track, participantId) {
    const previous = this.trackOwner.get(track) ?? null;
    if (previous === participantId) return;
    if (participantId) this.trackOwner.set(track, participantId);
    else this.trackOwner.delete(track);
    this._emit('track', { track, participantId, previousParticipantId: previous });
  }

  /**
   * A participant left: its tracks belong to nobody until a transceiver is reused.
   * @param {string} participantId
   */
  forgetParticipant(participantId) {
    for (const [track, owner] of [...this.trackOwner]) {
      if (owner === participantId) this.trackOwner.delete(track);
    }
  }

  /**
   * Inbound RTP statistics of the subscriber PC, per participant track.
   * frameHeight and framesPerSecond are there when the browser reports them (video).
   * @returns {Promise<Array<{participantId: string, kind: string, packetsReceived: number,
   *   framesDecoded: number, bytesReceived: number, frameHeight?: number,
   *   framesPerSecond?: number}>>}
   */
  async inboundStats() {
    const pc = this.subscriber;
    if (!pc || pc.signalingState === 'closed') return [];
    /** @type {Map<string, string>} */
    const ownerByTrackId = new Map();
    /** @type {Map<string, string>} */
    const ownerByMid = new Map();
    for (const tr of pc.getTransceivers()) {
      const owner = this.trackOwner.get(tr.receiver.track);
      if (!owner) continue;
      ownerByTrackId.set(tr.receiver.track.id, owner);
      if (tr.mid !== null) ownerByMid.set(tr.mid, owner);
    }
    const report = await pc.getStats();
    /** @type {Map<string, string>} legacy `track` stats id -> track identifier */
    const legacyTracks = new Map();
    report.forEach((s) => {
      if (s.type === 'track' && s.trackIdentifier) legacyTracks.set(s.id, s.trackIdentifier);
    });
    /** @type {Array<{participantId: string, kind: string, packetsReceived: number, framesDecoded: number, bytesReceived: number, frameHeight?: number, framesPerSecond?: number}>} */
    const out = [];
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      const trackId = s.trackIdentifier ?? (s.trackId ? legacyTracks.get(s.trackId) : undefined);
      const participantId =
        (trackId !== undefined ? ownerByTrackId.get(trackId) : undefined) ??
        (s.mid !== undefined ? ownerByMid.get(String(s.mid)) : undefined);
      if (!participantId) return;
      /** @type {{participantId: string, kind: string, packetsReceived: number, framesDecoded: number, bytesReceived: number, frameHeight?: number, framesPerSecond?: number}} */
      const entry = {
        participantId,
        kind: s.kind ?? s.mediaType,
        packetsReceived: s.packetsReceived ?? 0,
        framesDecoded: s.framesDecoded ?? 0,
        bytesReceived: s.bytesReceived ?? 0,
      };
      if (typeof s.frameHeight === 'number') entry.frameHeight = s.frameHeight;
      if (typeof s.framesPerSecond === 'number') entry.framesPerSecond = s.framesPerSecond;
      out.push(entry);
    });
    return out;
  }

  /**
   * Outbound video RTP statistics of the publisher PC, one entry per simulcast layer, low
   * to high. `active` comes from the stats when the browser reports it, else from the
   * sender's parameters.
   * @returns {Promise<Array<{rid: string|null, frameHeight: number|null, bytesSent: number,
   *   active: boolean, qualityLimitationReason: string|null, framesPerSecond: number|null}>>}
   */
  async outboundStats() {
    const pc = this.publisher;
    if (!pc || pc.signalingState === 'closed') return [];
    /** @type {Map<string, boolean>} */
    const activeByRid = new Map();
    const encodings = this.videoSender?.getParameters().encodings ?? [];
    for (const enc of encodings) activeByRid.set(enc.rid ?? '', enc.active !== false);
    const report = await pc.getStats();
    /** @type {Array<{rid: string|null, frameHeight: number|null, bytesSent: number, active: boolean, qualityLimitationReason: string|null, framesPerSecond: number|null}>} */
    const out = [];
    report.forEach((s) => {
      if (s.type !== 'outbound-rtp' || (s.kind ?? s.mediaType) !== 'video') return;
      const rid = typeof s.rid === 'string' ? s.rid : null;
      out.push({
        rid,
        frameHeight: typeof s.frameHeight === 'number' ? s.frameHeight : null,
        bytesSent: s.bytesSent ?? 0,
        active: typeof s.active === 'boolean' ? s.active : activeByRid.get(rid ?? '') ?? true,
        qualityLimitationReason:
          typeof s.qualityLimitationReason === 'string' ? s.qualityLimitationReason : null,
        framesPerSecond: typeof s.framesPerSecond === 'number' ? s.framesPerSecond : null,
      });
    });
    const order = (/** @type {string|null} */ rid) => {
      const i = SIMULCAST_LAYERS.findIndex((l) => l.rid === rid);
      return i >= 0 ? i : SIMULCAST_LAYERS.length;
    };
    out.sort((a, b) => order(a.rid) - order(b.rid));
    return out;
  }

  /** Close both PCs; the session is unusable afterwards. */
  close() {
    this.closed = true;
    this.publisher?.close();
    this.subscriber?.close();
    this.trackOwner.clear();
    this.videoSender = null;
  }

  /**
   * @param {string} type
   * @param {object} detail
   */
  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
