"""What a page sees, sampled in the page every 500 ms (``getStats`` of the client's peer
connections plus its ``window.diemcau`` state), collected at the end of a run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playwright.async_api import Page

INTERVAL_MS = 500

# Sums over the subscriber PC's inbound-rtp entries per kind (one publisher per run) and the
# publisher PC's outbound-rtp entries. `pc` numbers subscriber PCs, so counters that restart
# with a new PC (a rejoin) can be told apart from counters going backwards.
INSTALL = """intervalMs => {
  if (window.__wl) return false;
  const samples = [];
  const pcIds = new WeakMap();
  let nextPc = 0;
  const take = async () => {
    const d = window.diemcau;
    const pcs = d.pcs;
    const s = {t: Date.now(), self: d.selfId, state: d.state, link: d.linkState(),
               paused: Object.values(d.videoStates()).some(v => v.paused), pc: -1,
               a: {recv: 0, lost: 0, concealed: 0, total: 0},
               v: {frames: 0, height: null, fps: null, freezes: 0, freezeS: 0, keyframes: 0,
                   plis: 0, nacks: 0, dropped: 0, jbDelay: 0, jbEmitted: 0},
               bytesIn: 0, audioSent: 0, audioBytes: 0, bwe: null, sent: []};
    if (pcs.subscriber) {
      if (!pcIds.has(pcs.subscriber)) pcIds.set(pcs.subscriber, nextPc++);
      s.pc = pcIds.get(pcs.subscriber);
      let best = -1;
      (await pcs.subscriber.getStats()).forEach(r => {
        if (r.type !== 'inbound-rtp') return;
        s.bytesIn += r.bytesReceived || 0;
        if (r.kind === 'audio') {
          s.a.recv += r.packetsReceived || 0; s.a.lost += r.packetsLost || 0;
          s.a.concealed += r.concealedSamples || 0; s.a.total += r.totalSamplesReceived || 0;
        } else if (r.kind === 'video') {
          s.v.frames += r.framesDecoded || 0; s.v.freezes += r.freezeCount || 0;
          s.v.freezeS += r.totalFreezesDuration || 0;
          s.v.keyframes += r.keyFramesDecoded || 0; s.v.plis += r.pliCount || 0;
          s.v.nacks += r.nackCount || 0; s.v.dropped += r.framesDropped || 0;
          s.v.jbDelay += r.jitterBufferDelay || 0; s.v.jbEmitted += r.jitterBufferEmittedCount || 0;
          if ((r.framesDecoded || 0) > best && typeof r.frameHeight === 'number') {
            best = r.framesDecoded || 0; s.v.height = r.frameHeight;
            s.v.fps = typeof r.framesPerSecond === 'number' ? r.framesPerSecond : null;
          }
        }
      });
    }
    if (pcs.publisher) {
      (await pcs.publisher.getStats()).forEach(r => {
        // the publisher's own send-side estimate (GCC with transport-cc, else REMB-capped)
        if (r.type === 'candidate-pair' && r.nominated &&
            typeof r.availableOutgoingBitrate === 'number') s.bwe = r.availableOutgoingBitrate;
        if (r.type !== 'outbound-rtp') return;
        if (r.kind === 'audio') {
          s.audioSent += r.packetsSent || 0; s.audioBytes += r.bytesSent || 0; return;
        }
        s.sent.push({rid: r.rid ?? null, height: r.frameHeight ?? null, bytes: r.bytesSent || 0,
                     fps: r.framesPerSecond ?? null, active: r.active !== false,
                     limit: r.qualityLimitationReason ?? null});
      });
    }
    samples.push(s);
  };
  let busy = false;
  const timer = setInterval(() => {
    if (busy || !window.diemcau) return;
    busy = true;
    take().catch(e => console.warn('weaklink sample failed', e)).finally(() => { busy = false; });
  }, intervalMs);
  window.__wl = {samples, stop: () => clearInterval(timer)};
  return true;
}"""

COLLECT = "() => { window.__wl.stop(); return window.__wl.samples.splice(0); }"
PEEK = "() => window.__wl.samples.length ? window.__wl.samples[window.__wl.samples.length-1] : null"


@dataclass(frozen=True)
class SentLayer:
    rid: str | None
    height: int | None
    bytes_sent: int
    fps: float | None
    active: bool
    limit: str | None


@dataclass(frozen=True)
class Sample:
    t_ms: int
    self_id: str | None
    state: str
    link_state: str | None
    link_kbps: float | None
    video_paused: bool  # the bridge said the publisher's video is paused for this site
    pc: int
    audio_packets: int
    audio_lost: int
    concealed: int
    total_samples: int
    frames: int
    height: int | None
    fps: float | None
    freezes: int
    freeze_s: float
    bytes_in: int
    audio_sent: int
    sent: tuple[SentLayer, ...]
    audio_bytes_sent: int = 0
    publisher_bwe_bps: float | None = None  # availableOutgoingBitrate of the publisher PC
    # Why video froze, for the samples file (inbound video, summed): keyFramesDecoded,
    # pliCount, nackCount, framesDropped, jitterBufferDelay (s), jitterBufferEmittedCount.
    keyframes: int = 0
    plis: int = 0
    nacks: int = 0
    frames_dropped: int = 0
    jitter_delay_s: float = 0.0
    jitter_emitted: int = 0


def parse_sample(raw: dict[str, Any]) -> Sample:
    link = raw.get("link") or {}
    a, v = raw["a"], raw["v"]
    return Sample(
        t_ms=int(raw["t"]),
        self_id=raw.get("self"),
        state=str(raw.get("state")),
        link_state=link.get("state"),
        link_kbps=link.get("estimate_kbps"),
        video_paused=bool(raw.get("paused")),
        pc=int(raw["pc"]),
        audio_packets=int(a["recv"]),
        audio_lost=int(a["lost"]),
        concealed=int(a["concealed"]),
        total_samples=int(a["total"]),
        frames=int(v["frames"]),
        height=v["height"],
        fps=v["fps"],
        freezes=int(v["freezes"]),
        freeze_s=float(v["freezeS"]),
        bytes_in=int(raw["bytesIn"]),
        audio_sent=int(raw["audioSent"]),
        sent=tuple(
            SentLayer(
                s["rid"], s["height"], int(s["bytes"]), s["fps"], bool(s["active"]), s["limit"]
            )
            for s in raw["sent"]
        ),
        audio_bytes_sent=int(raw.get("audioBytes") or 0),
        publisher_bwe_bps=raw.get("bwe"),
        keyframes=int(v.get("keyframes") or 0),
        plis=int(v.get("plis") or 0),
        nacks=int(v.get("nacks") or 0),
        frames_dropped=int(v.get("dropped") or 0),
        jitter_delay_s=float(v.get("jbDelay") or 0),
        jitter_emitted=int(v.get("jbEmitted") or 0),
    )


async def install(page: Page) -> None:
    await page.evaluate(INSTALL, INTERVAL_MS)


async def latest(page: Page) -> Sample | None:
    raw = await page.evaluate(PEEK)
    return parse_sample(raw) if raw else None


async def collect(page: Page) -> list[Sample]:
    return [parse_sample(r) for r in await page.evaluate(COLLECT)]
