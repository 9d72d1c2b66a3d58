// The react-query resource of the NOC wall: every cluster's tile in one answer.
import { queryOptions } from '@tanstack/react-query';
import type { NocResponse } from '@/lib/alerts/noc-types';
import { fetchJson } from './fetch-json';

const NOC_POLL_MS = 2000;

export const nocQuery = queryOptions({
  queryKey: ['noc'],
  queryFn: ({ signal }) => fetchJson<NocResponse>('/api/noc', signal),
  refetchInterval: NOC_POLL_MS,
  refetchIntervalInBackground: true,
  // A wall screen retries forever: the next poll is the retry.
  retry: false,
});
