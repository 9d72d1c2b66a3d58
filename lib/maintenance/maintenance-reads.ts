// The maintenance API's inputs and reads: the POST body, the run list, the consistency check with its history. The
// route handlers check the role and call these or the maintenance service.
import 'server-only';
import { z } from 'zod';
import { invalidInput } from '@/lib/errors/domain-errors';
import type { ConsistencyCheck } from '@/lib/cluster/consistency-types';
import type { ConsistencyChecker } from './consistency-check';
import type { MaintenanceService } from './maintenance-service';
import { MAINTENANCE_ACTIONS, type MaintenanceRequest, type MaintenanceRun } from './maintenance-types';

const memberId = z.string().regex(/^[0-9a-f]{1,16}$/, 'must be a member id in hex, as etcdctl prints it');

/** The body of POST /api/clusters/{id}/maintenance. */
export const maintenanceInput = z
  .strictObject({
    action: z.enum(MAINTENANCE_ACTIONS),
    members: z.union([z.literal('all'), z.array(memberId).min(1).max(100)]).optional(),
    revision: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    keepRevisions: z.number().int().min(0).max(1_000_000_000).optional(),
    keepMinutes: z
      .number()
      .positive()
      .max(60 * 24 * 400)
      .optional(),
    target: memberId.optional(),
    dryRun: z.boolean().optional(),
  })
  .superRefine((b, ctx) => {
    const only = (field: keyof typeof b, actions: readonly string[]) => {
      if (b[field] !== undefined && !actions.includes(b.action)) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `is not used by "${b.action}" (only ${actions.join(', ')})`,
        });
      }
    };
    only('members', ['defragment']);
    only('revision', ['compact']);
    only('keepRevisions', ['compact']);
    only('keepMinutes', ['compact']);
    only('target', ['move-leader']);
    if (b.action === 'move-leader' && b.target === undefined) {
      ctx.addIssue({ code: 'custom', path: ['target'], message: 'is required for "move-leader"' });
    }
    const ways = (['revision', 'keepRevisions', 'keepMinutes'] as const).filter((k) => b[k] !== undefined);
    if (ways.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: [ways[1] as string],
        message: 'give one of revision, keepRevisions and keepMinutes',
      });
    }
  });

export function toMaintenanceRequest(body: z.infer<typeof maintenanceInput>): MaintenanceRequest {
  const req: MaintenanceRequest = { action: body.action };
  if (body.members !== undefined) req.members = body.members;
  if (body.revision !== undefined) req.revision = body.revision;
  if (body.keepRevisions !== undefined) req.keepRevisions = body.keepRevisions;
  if (body.keepMinutes !== undefined) req.keepMinutes = body.keepMinutes;
  if (body.target !== undefined) req.target = body.target;
  if (body.dryRun !== undefined) req.dryRun = body.dryRun;
  return req;
}

/** A run as POST answers it: the run, and its plan (the steps as planned). */
export function startedRun(run: MaintenanceRun) {
  return {
    ...run,
    plan: run.steps.map(({ memberId, memberName, step, detail, expectedReclaimBytes }) => ({
      memberId,
      memberName,
      step,
      detail,
      ...(expectedReclaimBytes !== undefined ? { expectedReclaimBytes } : {}),
    })),
  };
}

export async function listRuns(
  maintenance: MaintenanceService,
  clusterId: string,
): Promise<{ runs: MaintenanceRun[] }> {
  return { runs: await maintenance.list(clusterId) };
}

const NO_CHECK = { checkedAt: null, revision: null, agree: null, members: [], suspect: null, note: null };

/**
 * The newest check (its fields at the top level, as the API documents) and the ones before it, with the check
 * interval, the server's time, and whether the newest check is too old to trust (older than three intervals, or the
 * check is off): a wall screen judges age on the server's clock, not its own.
 */
export async function consistencyReport(
  checker: ConsistencyChecker,
  clusterId: string,
  limit: number,
  intervalMs: number,
  now = Date.now(),
): Promise<
  (ConsistencyCheck | typeof NO_CHECK) & {
    history: ConsistencyCheck[];
    intervalMs: number;
    servedAt: string;
    stale: boolean;
  }
> {
  const history = await checker.history(clusterId, limit);
  const latest = await checker.latest(clusterId);
  const stale = !latest || intervalMs <= 0 || now - Date.parse(latest.checkedAt) > 3 * intervalMs;
  return { ...(latest ?? NO_CHECK), history, intervalMs, servedAt: new Date(now).toISOString(), stale };
}

/** ?limit= of GET /api/clusters/{id}/consistency: how many past checks (default 50, at most 1000). */
export function parseConsistencyQuery(params: URLSearchParams): { limit: number } {
  const raw = params.get('limit');
  if (raw === null) return { limit: 50 };
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > 1000) {
    throw invalidInput(`limit: "${raw.slice(0, 20)}" is not a whole number from 1 to 1000`);
  }
  return { limit: Number(raw) };
}
