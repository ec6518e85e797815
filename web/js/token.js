// Read (never verify) the claims of the join JWT: only used to prefill the UI.

/**
 * @typedef {object} TokenClaims
 * @property {string} [room]
 * @property {string} [sub]
 * @property {string} [name]
 * @property {'host'|'participant'|'viewer'} [role]
 * @property {number} [exp]
 * @property {number} [iat]
 */

/**
 * Decode the payload of a JWT (base64url JSON, UTF-8). Returns null if it is not one.
 * @param {string|null|undefined} token
 * @returns {TokenClaims|null}
 */
export function decodeJwtPayload(token) {
  if (typeof token !== 'string') return null;
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    let b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    while (b64.length % 4) b64 += '=';
    const bin = atob(b64);
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === 'object' && !Array.isArray(claims) ? claims : null;
  } catch {
    return null;
  }
}
