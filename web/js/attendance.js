// Attendance export for the chair. A meeting of the meetings API has its attendance on the
// server (`GET /api/v1/meetings/{id}/attendance.csv?token=<host token>`: join and leave times
// of every invited site). An ad-hoc room has no such record: the CSV is then built here from
// the last roll-call grid.

/** @typedef {import('./meeting-state.js').RollCall} RollCall */
/** @typedef {'server'|'browser'} AttendanceSource */

const BROWSER_COLUMNS = ['site_id', 'name', 'district', 'joined_at', 'left_at', 'status', 'roll_call_answered'];

/** @param {string} value */
function csvCell(value) {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * The roll-call grid as CSV (RFC 4180, CRLF line ends).
 * @param {RollCall} rollCall
 * @returns {string}
 */
function rollCallCsv(rollCall) {
  const rows = rollCall.entries.map((e) => [
    e.site_id,
    e.name,
    e.district,
    e.joined_at ?? '',
    e.left_at ?? '',
    e.status,
    String(e.answered),
  ]);
  return [BROWSER_COLUMNS, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/**
 * Fetch the server's attendance CSV; when the room is not a meeting (404), build it from the
 * roll call instead.
 * @param {{room: string, token: string, rollCall: RollCall|null}} opts
 * @returns {Promise<{source: AttendanceSource, csv: string}>}
 * @throws {Error} when the server refuses for another reason, or there is nothing to export
 */
export async function fetchAttendance({ room, token, rollCall }) {
  const url = `/api/v1/meetings/${encodeURIComponent(room)}/attendance.csv?token=${encodeURIComponent(token)}`;
  const res = await fetch(url, { cache: 'no-store' });
  if (res.ok) return { source: 'server', csv: await res.text() };
  if (res.status !== 404) throw new Error(`HTTP ${res.status}`);
  if (!rollCall) throw new Error('no roll call yet');
  return { source: 'browser', csv: rollCallCsv(rollCall) };
}

/**
 * Let the browser save `csv` as a file.
 * @param {string} csv
 * @param {string} filename
 */
export function saveCsv(csv, filename) {
  const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
