// Applying one event to a cached list of entities, the same for every cache library.

/**
 * The list as it is after the event: ADDED appends (or replaces a row with the
 * same id), UPDATED and STATUS_CHANGED replace the row, DELETED removes it.
 * Returns the same array when the event does not change it, so caches can skip
 * re-rendering.
 */
export function applyToList(list, event) {
  if (!Array.isArray(list)) return list;
  const payload = event.data.payload;
  const index = list.findIndex((row) => String(row.id) === String(payload.id));
  switch (event.event) {
    case "ADDED":
      return index < 0 ? [...list, payload] : list.map((row, i) => (i === index ? payload : row));
    case "UPDATED":
    case "STATUS_CHANGED":
      return index < 0 ? list : list.map((row, i) => (i === index ? payload : row));
    case "DELETED":
      return index < 0 ? list : list.filter((_, i) => i !== index);
    default:
      return list;
  }
}
