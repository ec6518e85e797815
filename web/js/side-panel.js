// The side panel next to the video grid: tabs (sites, hands, lobby, roll call for the chair;
// chat for everyone), opened from the toolbar. On wide screens it sits beside the grid, on
// phones it covers it. Host-only parts carry data-host-only and stay hidden for sites.
//
// Events: `paneshown` {pane} whenever the visible pane changes (or the panel opens).

/** @typedef {'sites'|'hands'|'lobby'|'roll-call'|'chat'} Pane */

export class SidePanel extends EventTarget {
  /**
   * @param {HTMLElement} el the <aside>
   */
  constructor(el) {
    super();
    this.el = el;
    /** @type {Pane} */
    this.pane = 'chat';
    this.host = false;
    /** @type {HTMLButtonElement[]} */
    this.tabs = [...el.querySelectorAll('[role="tab"]')].map((t) => /** @type {HTMLButtonElement} */ (t));
    /** @type {HTMLElement[]} */
    this.panes = [...el.querySelectorAll('[role="tabpanel"]')].map((p) => /** @type {HTMLElement} */ (p));
    /** @type {Set<HTMLButtonElement>} toolbar buttons whose aria-expanded follows the panel */
    this.openers = new Set();
    for (const tab of this.tabs) {
      tab.addEventListener('click', () => this.show(/** @type {Pane} */ (tab.dataset.pane)));
      tab.addEventListener('keydown', (ev) => this._arrowKeys(ev));
    }
    this._render();
  }

  /**
   * Chair or site: the chair gets every tab, a site only the chat.
   * @param {boolean} host
   */
  setHost(host) {
    this.host = host;
    document.querySelectorAll('[data-host-only]').forEach((el) => {
      /** @type {HTMLElement} */ (el).hidden = !host;
    });
    if (!host) this.pane = 'chat';
    this._render();
  }

  /** @returns {boolean} */
  get open() {
    return !this.el.hidden;
  }

  /**
   * Open the panel on a pane.
   * @param {Pane} pane
   */
  show(pane) {
    this.pane = this.host || pane === 'chat' ? pane : 'chat';
    this.el.hidden = false;
    this._render();
    this.dispatchEvent(new CustomEvent('paneshown', { detail: { pane: this.pane } }));
  }

  close() {
    this.el.hidden = true;
    this._render();
  }

  /**
   * Toolbar button: open on `pane`, or close if that pane is already showing.
   * @param {HTMLButtonElement} btn
   * @param {Pane} pane
   */
  bindOpener(btn, pane) {
    this.openers.add(btn);
    btn.addEventListener('click', () => {
      if (this.open && (this.pane === pane || (pane !== 'chat' && this.pane !== 'chat'))) this.close();
      else this.show(pane);
    });
    this._render();
  }

  /**
   * @param {Pane} pane
   * @returns {boolean} whether that pane is on screen now
   */
  showing(pane) {
    return this.open && this.pane === pane;
  }

  _render() {
    for (const tab of this.tabs) {
      const selected = tab.dataset.pane === this.pane;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
    }
    for (const pane of this.panes) pane.hidden = pane.dataset.pane !== this.pane;
    this.el.dataset.pane = this.pane;
    for (const btn of this.openers) btn.setAttribute('aria-expanded', String(this.open));
  }

  /** @param {KeyboardEvent} ev */
  _arrowKeys(ev) {
    if (ev.key !== 'ArrowRight' && ev.key !== 'ArrowLeft') return;
    const visible = this.tabs.filter((t) => !t.hidden);
    const i = visible.findIndex((t) => t.dataset.pane === this.pane);
    const next = visible[(i + (ev.key === 'ArrowRight' ? 1 : visible.length - 1)) % visible.length];
    if (!next) return;
    ev.preventDefault();
    this.show(/** @type {Pane} */ (next.dataset.pane));
    next.focus();
  }
}
