// The site's downlink as its own page load measured it, sent with the join: a link that
// cannot carry the cheapest video starts with its video paused instead of overfilling
// the link until the first bandwidth report (signaling/protocol.py, Join.downlink_kbps).
//
// Rate = bytes that crossed the link / time during which at least one response was
// arriving (Resource Timing's responseStart..responseEnd, unioned over the page's
// concurrent requests): request round trips are left out, so a slow, far link is not
// mistaken for a narrow one. A page mostly served from cache says nothing (null).

const MIN_BYTES = 20000;

/** kbit/s from timing entries ({transferSize, responseStart, responseEnd}), or null. */
export function downlinkKbps(entries) {
  const spans = entries
    .filter((e) => e.transferSize > 0 && e.responseEnd > e.responseStart)
    .map((e) => [e.responseStart, e.responseEnd, e.transferSize])
    .sort((a, b) => a[0] - b[0]);
  let bytes = 0;
  let busyMs = 0;
  let end = -Infinity;
  for (const [start, stop, size] of spans) {
    bytes += size;
    if (stop > end) {
      busyMs += stop - Math.max(start, end);
      end = stop;
    }
  }
  if (bytes < MIN_BYTES || busyMs <= 0) return null;
  return Math.max(1, Math.round((bytes * 8) / busyMs)); // bits per ms = kbit/s
}

/** This page's measure (navigation and resources so far), or null. */
export function measuredDownlinkKbps() {
  if (typeof performance === 'undefined' || !performance.getEntriesByType) return null;
  return downlinkKbps([
    ...performance.getEntriesByType('navigation'),
    ...performance.getEntriesByType('resource'),
  ]);
}
