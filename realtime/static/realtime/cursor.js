// Resume cursors as they travel in text (PROTOCOL.md section 4): `topic@seq,...`.

/** Cursor text `topic@seq,topic@seq` of a Map of positions. */
export function formatCursor(positions) {
  return [...positions].map(([topic, seq]) => `${topic}@${seq}`).join(",");
}

/** A Map of positions from cursor text; malformed parts are ignored. */
export function parseCursor(text) {
  const positions = new Map();
  for (const part of (text || "").split(",")) {
    const at = part.lastIndexOf("@");
    const seq = Number(part.slice(at + 1));
    if (at > 0 && Number.isInteger(seq) && seq >= 0) positions.set(part.slice(0, at), seq);
  }
  return positions;
}
