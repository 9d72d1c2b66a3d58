// A read of the store that a live page must not wait on: its answer, or a fallback when it fails or is slow.

/** How long a live read (the NOC, the alerts panel) waits for the store before it answers without. */
export const LIVE_READ_WAIT_MS = 1000;

/** `read`'s answer, or `fallback` if it rejects or has not answered within `ms` (a late answer is ignored). */
export async function boundedRead<T>(read: Promise<T>, fallback: T, ms = LIVE_READ_WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([read.catch(() => fallback), late]);
  } finally {
    clearTimeout(timer);
  }
}
