// Media side of protocol v1: one publisher PC (client offers, sendonly) and one subscriber
// PC (bridge offers). Candidates travel inside the SDP: we always wait for ICE gathering to
// complete before sending an offer or answer (no trickle).
//
// Events dispatched by MediaSession:
//   `track`           detail {track, participantId|null, previousParticipantId|null}
//                     a subscriber track now belongs to participantId (null = to nobody).
//   `connectionstate` detail {pc: 'publisher'|'subscriber', state: RTCPeerConnectionState}
//   `negotiationerror` detail {pc: 'publisher'|'subscriber', error}

/** @typedef {import('./signaling.js').Message} Message */
/** @typedef {'no_video'|'no_audio'|'none'|'denied'|'insecure'|null} MediaProblem */

const GATHER_TIMEOUT_MS = 10000;
/** Cap our own camera so one commune hall on a weak uplink does not saturate it. */
const VIDEO_MAX_BITRATE = 600_000;

/** getUserMedia video constraints: 640x360 at 30 fps. */
export const VIDEO_CONSTRAINTS = {
  width: { ideal: 640 },
  height: { ideal: 360 },
  frameRate: { ideal: 30 },
};

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
    try {
      for (const track of tracks) {
        /** @type {RTCRtpTransceiverInit} */
        const init = { direction: 'sendonly', streams: [stream] };
        if (track.kind === 'video') init.sendEncodings = [{ maxBitrate: VIDEO_MAX_BITRATE }];
        pc.addTransceiver(track, init);
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
   * @returns {Promise<Array<{participantId: string, kind: string, packetsReceived: number,
   *   framesDecoded: number, bytesReceived: number}>>}
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
    /** @type {Array<{participantId: string, kind: string, packetsReceived: number, framesDecoded: number, bytesReceived: number}>} */
    const out = [];
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      const trackId = s.trackIdentifier ?? (s.trackId ? legacyTracks.get(s.trackId) : undefined);
      const participantId =
        (trackId !== undefined ? ownerByTrackId.get(trackId) : undefined) ??
        (s.mid !== undefined ? ownerByMid.get(String(s.mid)) : undefined);
      if (!participantId) return;
      out.push({
        participantId,
        kind: s.kind ?? s.mediaType,
        packetsReceived: s.packetsReceived ?? 0,
        framesDecoded: s.framesDecoded ?? 0,
        bytesReceived: s.bytesReceived ?? 0,
      });
    });
    return out;
  }

  /** Close both PCs; the session is unusable afterwards. */
  close() {
    this.closed = true;
    this.publisher?.close();
    this.subscriber?.close();
    this.trackOwner.clear();
  }

  /**
   * @param {string} type
   * @param {object} detail
   */
  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
