// The chair's roll-call pane: start/stop, a live grid of every invited site (present / poor
// link / absent, and whether it clicked "Có mặt") from the bridge's `roll_call` messages, and
// "Xuất CSV": the server's attendance for a meeting, or a CSV built from the grid for an
// ad-hoc room (the note under the buttons says which it was).

import { localize } from './i18n.js';
import { fetchAttendance, saveCsv } from './attendance.js';

/** @typedef {import('./meeting-state.js').MeetingState} MeetingState */
/** @typedef {import('./meeting-state.js').RollCallEntry} RollCallEntry */
/** @typedef {import('./host-console.js').HostActions} HostActions */
/** @typedef {import('./attendance.js').AttendanceSource} AttendanceSource */

const STATUS_ORDER = { poor_link: 0, absent: 1, present: 2 };

export class RollCallPane {
  /**
   * @param {object} opts
   * @param {MeetingState} opts.meeting
   * @param {HostActions} opts.actions
   * @param {{room: string, token: string}} opts.link
   * @param {{toggle: HTMLButtonElement, exportBtn: HTMLButtonElement, note: HTMLElement,
   *   summary: HTMLElement, grid: HTMLElement}} opts.els
   */
  constructor({ meeting, actions, link, els }) {
    this.meeting = meeting;
    this.actions = actions;
    this.link = link;
    this.els = els;
    /** @type {{source: AttendanceSource, csv: string}|null} the last export */
    this.lastExport = null;
    this.enabled = false;

    meeting.addEventListener('change', (ev) => {
      const { part } = /** @type {CustomEvent} */ (ev).detail;
      if (part !== 'chat' && part !== 'lobby') this.render();
    });
    els.toggle.addEventListener('click', () => {
      if (this.meeting.state.roll_call?.open) actions.rollCallStop();
      else actions.rollCallStart();
    });
    els.exportBtn.addEventListener('click', () => void this.exportCsv());
  }

  /** @param {boolean} on this client is a host */
  setEnabled(on) {
    this.enabled = on;
    this.render();
  }

  /**
   * Fetch (or build) the attendance CSV and save it as a file.
   * @returns {Promise<{source: AttendanceSource, csv: string}|null>} null when it failed
   */
  async exportCsv() {
    this.els.exportBtn.disabled = true;
    localize(this.els.note, 'roll_call.export_busy');
    try {
      const result = await fetchAttendance({ ...this.link, rollCall: this.meeting.rollCall });
      const day = new Date().toISOString().slice(0, 10);
      saveCsv(result.csv, `diem-danh-${this.link.room}-${day}.csv`);
      this.lastExport = result;
      localize(this.els.note, result.source === 'server' ? 'roll_call.export_server' : 'roll_call.export_browser');
      return result;
    } catch (err) {
      console.warn('attendance export failed', err);
      localize(this.els.note, 'roll_call.export_failed', { reason: String(/** @type {Error} */ (err).message ?? err) });
      return null;
    } finally {
      this.els.exportBtn.disabled = false;
    }
  }

  render() {
    if (!this.enabled) return;
    const open = !!this.meeting.state.roll_call?.open;
    localize(this.els.toggle, open ? 'roll_call.stop' : 'roll_call.start');
    this.els.toggle.setAttribute('aria-pressed', String(open));
    if (!this.lastExport && !this.els.note.textContent) localize(this.els.note, 'roll_call.export_hint');
    const rc = this.meeting.rollCall;
    if (!rc) {
      localize(this.els.summary, 'roll_call.none');
      this.els.grid.replaceChildren();
      return;
    }
    const count = (/** @type {(e: RollCallEntry) => boolean} */ f) => rc.entries.filter(f).length;
    localize(this.els.summary, open ? 'roll_call.summary_open' : 'roll_call.summary_closed', {
      present: count((e) => e.status === 'present'),
      poor: count((e) => e.status === 'poor_link'),
      absent: count((e) => e.status === 'absent'),
      answered: count((e) => e.answered),
      total: rc.entries.length,
    });
    const sorted = [...rc.entries].sort(
      (a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || a.name.localeCompare(b.name, 'vi')
    );
    this.els.grid.replaceChildren(
      ...sorted.map((e) => {
        const li = document.createElement('li');
        li.className = 'roll-call-cell';
        li.dataset.status = e.status;
        li.dataset.answered = String(e.answered);
        li.dataset.siteId = e.site_id;
        const name = document.createElement('span');
        name.className = 'cell-name';
        name.textContent = e.district ? `${e.name} · ${e.district}` : e.name;
        const status = document.createElement('span');
        status.className = 'cell-status';
        localize(status, e.answered ? `roll_call.status_${e.status}_answered` : `roll_call.status_${e.status}`);
        li.append(name, status);
        return li;
      })
    );
  }
}
