// Polling with a deadline, for tests that wait for something a background poll or run will show.

/** Reads `read` every 100 ms until `ok` holds or `timeoutMs` passes; returns the last value read either way. */
export async function until<T>(read: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await read();
  while (!ok(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    v = await read();
  }
  return v;
}
