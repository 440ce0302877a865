// How long to wait before the next reconnection attempt.

/** Full-jitter exponential backoff: a random wait in [0, min(cap, base * 2^n)). */
export function backoffDelay(attempt, base, cap, random = Math.random) {
  return random() * Math.min(cap, base * 2 ** attempt);
}
