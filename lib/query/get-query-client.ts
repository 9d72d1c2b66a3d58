// One QueryClient per server request, one for the browser's lifetime (TanStack's App Router pattern).
import { isServer, QueryClient } from '@tanstack/react-query';
import { ApiRequestError } from './fetch-json';

function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Above zero so the data the server rendered is not fetched again the moment the page hydrates.
        staleTime: 500,
        // 4xx will not change on retry; network blips and 5xx are retried by the next poll anyway.
        retry: (failureCount, error) =>
          !(error instanceof ApiRequestError && error.status >= 400 && error.status < 500) && failureCount < 1,
      },
    },
  });
}

let browserQueryClient: QueryClient | undefined;

export function getQueryClient(): QueryClient {
  if (isServer) return makeQueryClient();
  browserQueryClient ??= makeQueryClient();
  return browserQueryClient;
}
