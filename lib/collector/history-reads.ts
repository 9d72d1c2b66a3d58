// The history and events API's answers: a validated query (lib/history/history-query.ts) read from the stores. A read
// does not wait for the recorder's queue: it asks the database, and the database's error (PostgreSQL down) is thrown.
import 'server-only';
import type { EventStore } from '@/lib/history/event-store';
import type { EventsQuery, HistoryQuery } from '@/lib/history/history-query';
import type { SampleStore } from '@/lib/history/sample-store';
import { SERIES, type EventsResponse, type HistoryResponse } from '@/lib/history/series';
import type { ClusterReads } from './cluster-reads';

export interface HistoryReadsDeps {
  clusters: Pick<ClusterReads, 'collector'>;
  samples: SampleStore;
  events: EventStore;
  rawRetentionMs: number;
}

export class HistoryReads {
  constructor(private readonly deps: HistoryReadsDeps) {}

  async history(clusterId: string, q: HistoryQuery, now = Date.now()): Promise<HistoryResponse> {
    this.deps.clusters.collector(clusterId);
    const result = await this.deps.samples.query({
      clusterId,
      series: q.series,
      from: q.from,
      to: q.to,
      ...(q.memberId ? { memberId: q.memberId } : {}),
      ...(q.maxPoints !== undefined ? { maxPoints: q.maxPoints } : {}),
      rawRetentionMs: this.deps.rawRetentionMs,
      now,
    });
    const { dataFrom, ...points } = result;
    return {
      series: q.series,
      unit: SERIES[q.series].unit,
      from: new Date(q.from).toISOString(),
      to: new Date(q.to).toISOString(),
      dataFrom: new Date(dataFrom).toISOString(),
      ...points,
    };
  }

  async events(clusterId: string, q: EventsQuery): Promise<EventsResponse> {
    this.deps.clusters.collector(clusterId);
    return {
      events: await this.deps.events.query({
        clusterId,
        from: q.from,
        to: q.to,
        ...(q.types ? { types: q.types } : {}),
      }),
    };
  }
}
