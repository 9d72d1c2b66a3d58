'use client';

import { useEffect, useState } from 'react';

/** The current time, re-rendered every `intervalMs`, so ages count up even when no data arrives. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}
