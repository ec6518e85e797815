// Adaptive stream: tell the bridge which remote tiles are on screen and how tall they are, so
// it forwards no video for hidden tiles and the low layer for small ones (`view` message,
// docs/protocol.md).
//
// Visibility = the tile intersects the viewport (IntersectionObserver, which also accounts
// for scrolling containers) and the page is visible (document.visibilityState). Height is
// the tile's rendered height in CSS px. Reports are debounced and sent only when something
// changed; reset() forgets what was sent, so the next report goes out in full (after a
// (re)join the bridge session is new).

/** @typedef {import('./tiles.js').TileGrid} TileGrid */
/** @typedef {{participant_id: string, visible: boolean, height: number}} TileView */

const DEBOUNCE_MS = 300;

export class ViewReporter {
  /**
   * @param {TileGrid} tiles
   * @param {(msg: {type: 'view', tiles: TileView[]}) => boolean} send returns whether it went out
   */
  constructor(tiles, send) {
    this.tiles = tiles;
    this.send = send;
    /** Whether reports may be sent at all (joined). */
    this.enabled = false;
    /** Intersection per tile element; a tile not yet observed counts as visible. */
    /** @type {WeakMap<Element, boolean>} */
    this.intersecting = new WeakMap();
    /** JSON of the last report that went out, null = nothing yet in this session. */
    /** @type {string|null} */
    this.lastSent = null;
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.timer = undefined;

    /** @type {IntersectionObserver|null} */
    this.io =
      typeof IntersectionObserver === 'function'
        ? new IntersectionObserver((entries) => {
            for (const e of entries) this.intersecting.set(e.target, e.isIntersecting);
            this.schedule();
          }, { threshold: [0] })
        : null;
    /** @type {ResizeObserver|null} */
    this.ro = typeof ResizeObserver === 'function' ? new ResizeObserver(() => this.schedule()) : null;

    tiles.addEventListener('tileadded', (ev) => {
      const { el, self } = /** @type {CustomEvent} */ (ev).detail;
      if (self) return;
      this.io?.observe(el);
      this.ro?.observe(el);
      this.schedule();
    });
    tiles.addEventListener('tileremoved', (ev) => {
      const { el } = /** @type {CustomEvent} */ (ev).detail;
      this.io?.unobserve(el);
      this.ro?.unobserve(el);
      this.intersecting.delete(el);
      this.schedule();
    });
    document.addEventListener('visibilitychange', () => this.schedule());
    if (!this.ro) window.addEventListener('resize', () => this.schedule());
    // Tiles that existed before this reporter.
    for (const tile of tiles.list()) {
      if (tile.self) continue;
      this.io?.observe(tile.el);
      this.ro?.observe(tile.el);
    }
  }

  /** Start a new bridge session: report everything again, soon. */
  reset() {
    this.enabled = true;
    this.lastSent = null;
    this.schedule();
  }

  /** Stop reporting (left the meeting, or the socket is down). */
  stop() {
    this.enabled = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  schedule() {
    if (!this.enabled) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, DEBOUNCE_MS);
  }

  /** @returns {TileView[]} what this client shows now, one entry per remote tile */
  current() {
    const pageVisible = document.visibilityState !== 'hidden';
    /** @type {TileView[]} */
    const out = [];
    for (const tile of this.tiles.list()) {
      if (tile.self) continue;
      const rect = tile.el.getBoundingClientRect();
      const inView = this.intersecting.get(tile.el) ?? true;
      const rendered = tile.el.isConnected && rect.height > 0 && rect.width > 0;
      out.push({
        participant_id: tile.id,
        visible: pageVisible && inView && rendered,
        height: Math.round(rect.height),
      });
    }
    out.sort((a, b) => (a.participant_id < b.participant_id ? -1 : a.participant_id > b.participant_id ? 1 : 0));
    return out;
  }

  /** Send the current view if it differs from the last one sent. */
  flush() {
    if (!this.enabled) return;
    const tiles = this.current();
    const json = JSON.stringify(tiles);
    if (json === this.lastSent) return;
    if (this.send({ type: 'view', tiles })) this.lastSent = json;
  }
}
