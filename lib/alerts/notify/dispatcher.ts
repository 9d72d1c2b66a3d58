// Sends alert state changes to the configured receivers: one queue each, retries with backoff, repeats throttled.
import 'server-only';
import type { AlertNotification, AlertState, DeliveryOutcome, DeliveryRecord } from './notification-types';
import { postJson, type PostResult } from './post-json';
import { receiverSchema, type Receiver } from '@/lib/config/receiver-schema';
import { BATCH_LIMIT, ONE_CAUSE_PER_REQUEST, receiverRequest, receiverTarget, sameCause } from './receiver-request';
import { receiverSecrets, scrubSecrets } from './receiver-secrets';

export interface RetryPolicy {
  /** Wait after the first failed attempt; doubled after each further one. */
  initialMs: number;
  /** The longest wait between attempts. */
  maxMs: number;
  /** Attempts in all, the first included, for a firing notice; a resolved one is retried until it is delivered. */
  maxAttempts: number;
}

export interface NotificationDispatcherOptions {
  receivers: Receiver[];
  /** Epoch ms; decides repeats and the times in records. Waits between retries use the real monotonic clock. */
  now?: () => number;
  /** Repeat a still-firing alert to webhook and Slack receivers at most this often. */
  repeatIntervalMs?: number;
  /** Re-send firing alerts to Alertmanager this often, well inside its resolve_timeout (5 min by default). */
  alertmanagerResendMs?: number;
  retry?: RetryPolicy;
  /** Per request, answer body included. */
  timeoutMs?: number;
  /**
   * Every receiver it was queued for is done with an alert's state notice: delivered, or failed for good, given up or
   * dropped. What the caller records, so that a replica taking over sends again only what was not done.
   */
  onSettled?: (alertId: string, state: AlertState) => void;
}

export const DEFAULT_REPEAT_INTERVAL_MS = 4 * 60 * 60_000;
export const DEFAULT_ALERTMANAGER_RESEND_MS = 60_000;
export const DEFAULT_RETRY: Readonly<RetryPolicy> = { initialMs: 1000, maxMs: 5 * 60_000, maxAttempts: 8 };
export const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;
/** Alerts waiting per receiver; beyond it the oldest waiting one is dropped, with a record. */
export const MAX_PENDING_PER_RECEIVER = 1000;
export const MAX_DELIVERY_RECORDS = 200;
// An alert neither notified nor passed to tick() for this long was lost by the caller; forgetting it keeps memory
// bounded. The cap is the backstop for a caller that never calls tick().
const FORGET_AFTER_MS = 60 * 60_000;
const MAX_KNOWN_PER_RECEIVER = 10_000;
const JITTER = 0.2;
// Node may run a timer a millisecond before the monotonic clock reaches the time it was set for.
const TIMER_SLACK_MS = 1;

interface Job {
  alert: AlertNotification;
  /** Attempts made so far. */
  attempts: number;
  /** Monotonic ms (performance.now) from which the next attempt may start. */
  dueAt: number;
  inFlight: boolean;
  /** A newer notification for the same alert that arrived while this one was in flight. */
  next: AlertNotification | null;
}

/** The firing alerts this receiver has been sent, for repeats and for sending each resolved once. */
interface Known {
  /** Epoch ms (opts.now) it was last queued for this receiver. */
  queuedAt: number;
  /** Epoch ms it was last reported firing through notify() or tick(). */
  seenAt: number;
}

/** Since the dashboard started, per receiver: what /metrics exports as counters. */
export interface DeliveryCounts {
  receiver: string;
  type: Receiver['type'];
  /** Notifications delivered (a batch of n alerts counts n). */
  sent: number;
  /** Notifications not delivered: refused, given up, replaced by a newer state after failing, or dropped. */
  failed: number;
  /** Attempts that failed and are tried again. */
  retried: number;
}

interface ReceiverQueue {
  receiver: Receiver;
  counts: DeliveryCounts;
  target: string;
  secrets: string[];
  repeatEveryMs: number;
  /** Waiting and in-flight deliveries by alert id, oldest first: one per alert, the newest state wins. */
  jobs: Map<string, Job>;
  known: Map<string, Known>;
  sending: boolean;
  timer: NodeJS.Timeout | null;
  /** A pump is queued for when the current evaluation's notify() calls are done. */
  pumpQueued: boolean;
}

function positive(value: number, what: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${what}: ${value} is not a positive number`);
  return value;
}

function firstLine(err: unknown): string {
  return ((err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '').trim();
}

const settleKey = (alertId: string, state: AlertState) => `${state} ${alertId}`;

export class NotificationDispatcher {
  private readonly queues: ReceiverQueue[];
  private readonly now: () => number;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly records: DeliveryRecord[] = [];
  private readonly stopping = new AbortController();
  /** Per alert and state queued: the receivers not yet done with it. */
  private readonly unsettled = new Map<string, Set<string>>();
  private readonly onSettled: ((alertId: string, state: AlertState) => void) | undefined;

  /** Throws on an invalid receiver, two receivers with one name, or a non-positive timing. */
  constructor(opts: NotificationDispatcherOptions) {
    this.now = opts.now ?? Date.now;
    this.onSettled = opts.onSettled;
    const retry = opts.retry ?? DEFAULT_RETRY;
    this.retry = {
      initialMs: positive(retry.initialMs, 'retry.initialMs'),
      maxMs: positive(retry.maxMs, 'retry.maxMs'),
      maxAttempts: Math.floor(positive(retry.maxAttempts, 'retry.maxAttempts')),
    };
    this.timeoutMs = positive(opts.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS, 'timeoutMs');
    const repeatMs = positive(opts.repeatIntervalMs ?? DEFAULT_REPEAT_INTERVAL_MS, 'repeatIntervalMs');
    const resendMs = positive(opts.alertmanagerResendMs ?? DEFAULT_ALERTMANAGER_RESEND_MS, 'alertmanagerResendMs');
    const names = new Set<string>();
    this.queues = opts.receivers.map((raw) => {
      const receiver = receiverSchema.parse(raw);
      if (names.has(receiver.name)) throw new RangeError(`receiver name "${receiver.name}" is used twice`);
      names.add(receiver.name);
      return {
        receiver,
        counts: { receiver: receiver.name, type: receiver.type, sent: 0, failed: 0, retried: 0 },
        target: receiverTarget(receiver),
        secrets: receiverSecrets(receiver),
        repeatEveryMs: receiver.type === 'alertmanager' ? resendMs : repeatMs,
        jobs: new Map(),
        known: new Map(),
        sending: false,
        timer: null,
        pumpQueued: false,
      };
    });
  }

  /** Queues a state change for every receiver: a new firing, or the resolve of one they were sent. Never throws. */
  /**
   * Alerts another process already notified as firing (this dashboard before a restart, or the leader before this
   * replica took over): their resolved notice is sent, and their firing one is not sent again before a repeat is due.
   */
  alreadyNotified(alertIds: readonly string[]): void {
    const now = this.now();
    for (const q of this.queues) {
      for (const id of alertIds) if (!q.known.has(id)) q.known.set(id, { queuedAt: now, seenAt: now });
    }
  }

  notify(alert: AlertNotification): void {
    for (const q of this.queues) this.guarded(q, alert, () => this.offer(q, alert));
  }

  /**
   * Called each evaluation with the alerts firing now: repeats those due (repeatIntervalMs, or alertmanagerResendMs
   * for Alertmanager) and sends any not yet sent, as after a restart. Never throws.
   */
  tick(firing: AlertNotification[]): void {
    for (const q of this.queues) {
      for (const alert of firing) {
        if (alert.state === 'firing') this.guarded(q, alert, () => this.offer(q, alert));
      }
      try {
        const forgetBefore = this.now() - FORGET_AFTER_MS;
        for (const [id, known] of q.known) if (known.seenAt < forgetBefore) q.known.delete(id);
      } catch {
        // A clock that throws was already recorded by guarded(); forgetting waits for the next tick.
      }
    }
  }

  /** The last 200 delivery attempts (and drops), newest first. */
  deliveries(): DeliveryRecord[] {
    return this.records.map((r) => ({ ...r })).reverse();
  }

  /** Delivered, failed and retried notifications per receiver since the start. */
  counts(): DeliveryCounts[] {
    return this.queues.map((q) => ({ ...q.counts }));
  }

  /** Cancels timers and requests in flight; later notify() and tick() calls do nothing. */
  stop(): void {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    for (const q of this.queues) {
      if (q.timer) clearTimeout(q.timer);
      q.timer = null;
      q.jobs.clear();
      q.known.clear();
    }
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /** A fault of ours must not reach the evaluation loop that called us: it becomes a record. */
  private guarded(q: ReceiverQueue, alert: AlertNotification, run: () => void): void {
    try {
      if (!this.stopped) run();
    } catch (err) {
      try {
        this.record(q, alert.id, alert.state, 'failed', null, `not sent: ${firstLine(err)}`, 0, null);
      } catch {
        // Nothing sensible is left to do with an alert that cannot even be described.
      }
    }
  }

  private offer(q: ReceiverQueue, alert: AlertNotification): void {
    const now = this.now();
    if (alert.state === 'resolved') {
      // Resolve only what this receiver was told is firing, and only once.
      if (q.known.delete(alert.id)) this.enqueue(q, alert);
      return;
    }
    const known = q.known.get(alert.id);
    if (known) {
      known.seenAt = now;
      if (now - known.queuedAt < q.repeatEveryMs) return;
      known.queuedAt = now;
    } else {
      if (q.known.size >= MAX_KNOWN_PER_RECEIVER) {
        const oldest = q.known.keys().next();
        if (!oldest.done) q.known.delete(oldest.value);
      }
      q.known.set(alert.id, { queuedAt: now, seenAt: now });
    }
    this.enqueue(q, alert);
  }

  private enqueue(q: ReceiverQueue, alert: AlertNotification): void {
    const key = settleKey(alert.id, alert.state);
    const waiting = this.unsettled.get(key) ?? new Set<string>();
    waiting.add(q.receiver.name);
    this.unsettled.set(key, waiting);
    const job = q.jobs.get(alert.id);
    if (job?.inFlight) {
      job.next = alert;
      return;
    }
    if (job) {
      // A repeat of what is already waiting rides on its retry schedule; a new state goes out now, from attempt 1.
      if (job.alert.state !== alert.state) Object.assign(job, { attempts: 0, dueAt: performance.now() });
      job.alert = alert;
    } else {
      if (q.jobs.size >= MAX_PENDING_PER_RECEIVER) this.dropOldest(q);
      q.jobs.set(alert.id, { alert, attempts: 0, dueAt: performance.now(), inFlight: false, next: null });
    }
    // After the caller's synchronous run (one evaluation notifies every alert that changed), so that the first request
    // carries all of them: three members' slow disks go out as one Slack message, not one and then two.
    if (q.pumpQueued) return;
    q.pumpQueued = true;
    queueMicrotask(() => {
      q.pumpQueued = false;
      try {
        this.pump(q);
      } catch (err) {
        // Nothing in pump() is known to throw; a fault here must not become an unhandled exception. The next
        // notify() or tick() pumps again.
        console.error(`notifications to ${q.receiver.name}: ${firstLine(err)}`);
      }
    });
  }

  private dropOldest(q: ReceiverQueue): void {
    for (const [id, job] of q.jobs) {
      if (job.inFlight) continue;
      q.jobs.delete(id);
      const reason = `dropped: ${MAX_PENDING_PER_RECEIVER} alerts were already waiting for this receiver`;
      this.record(q, id, job.alert.state, 'gave-up', null, reason, job.attempts, null);
      return;
    }
  }

  /** Starts the next request if none is in flight, or sets the timer for the earliest retry. */
  private pump(q: ReceiverQueue): void {
    if (this.stopped || q.sending) return;
    if (q.timer) clearTimeout(q.timer);
    q.timer = null;
    const mono = performance.now();
    const batch: Job[] = [];
    let wakeAt = Infinity;
    for (const job of q.jobs.values()) {
      if (job.dueAt > mono + TIMER_SLACK_MS) wakeAt = Math.min(wakeAt, job.dueAt);
      else if (batch.length < BATCH_LIMIT[q.receiver.type]) {
        // A Slack message is about one cause: other due alerts wait for the next request, which follows at once.
        if (ONE_CAUSE_PER_REQUEST[q.receiver.type] && batch[0] && !sameCause(batch[0].alert, job.alert)) continue;
        batch.push(job);
      }
    }
    if (batch.length === 0) {
      if (wakeAt === Infinity) return;
      q.timer = setTimeout(() => {
        q.timer = null;
        this.pump(q);
      }, wakeAt - mono);
      q.timer.unref();
      return;
    }
    q.sending = true;
    for (const job of batch) {
      job.inFlight = true;
      job.attempts++;
    }
    void this.send(q, batch);
  }

  private async send(q: ReceiverQueue, batch: Job[]): Promise<void> {
    let result: PostResult;
    try {
      const request = receiverRequest(
        q.receiver,
        batch.map((j) => j.alert),
        this.now(),
      );
      result = await postJson(request, {
        timeoutMs: this.timeoutMs,
        signal: this.stopping.signal,
        now: this.now,
        redact: (text) => scrubSecrets(text, q.secrets),
      });
    } catch (err) {
      result = { ok: false, status: null, reason: `not sent: ${firstLine(err)}`, retryable: false, retryAfterMs: null };
    }
    q.sending = false;
    if (this.stopped) return;
    // One wait for the whole batch, so alerts sent together (a Slack message of one cause) are retried together.
    let batchDelay: number | undefined;
    const delay = () =>
      (batchDelay ??= this.backoff(Math.max(...batch.map((j) => j.attempts)), result.ok ? null : result.retryAfterMs));
    for (const job of batch) {
      try {
        this.settle(q, job, result, delay);
      } catch {
        q.jobs.delete(job.alert.id);
      }
    }
    this.pump(q);
  }

  private settle(q: ReceiverQueue, job: Job, result: PostResult, batchDelay: () => number): void {
    const sent = job.alert;
    const next = job.next;
    job.inFlight = false;
    job.next = null;
    const superseded = next !== null && next.state !== sent.state;
    const restartWith = (alert: AlertNotification) => Object.assign(job, { alert, attempts: 0, dueAt: 0 });

    if (result.ok) {
      this.record(q, sent.id, sent.state, 'ok', result.status, null, job.attempts, null);
      // A repeat that arrived during the send was just answered by it.
      if (superseded) restartWith(next);
      else q.jobs.delete(sent.id);
      return;
    }
    // record() scrubs the receiver's secrets from whatever reason it keeps.
    const { reason } = result;
    if (superseded) {
      this.record(
        q,
        sent.id,
        sent.state,
        'failed',
        result.status,
        `${reason}; replaced by the ${next.state} state`,
        job.attempts,
        null,
      );
      restartWith(next);
      return;
    }
    if (next) job.alert = next;
    // A resolved notice is retried until it is delivered or replaced: dropped, the receiver would show the alert
    // firing until its own timeout (Alertmanager's resolve_timeout), or for ever (a webhook, Slack).
    if (result.retryable && (job.attempts < this.retry.maxAttempts || sent.state === 'resolved')) {
      const delay = batchDelay();
      job.dueAt = performance.now() + delay;
      this.record(q, sent.id, sent.state, 'retrying', result.status, reason, job.attempts, this.now() + delay);
      return;
    }
    q.jobs.delete(sent.id);
    const outcome: DeliveryOutcome = result.retryable ? 'gave-up' : 'failed';
    this.record(q, sent.id, sent.state, outcome, result.status, reason, job.attempts, null);
  }

  /** This receiver is done with the alert's state: the last one to be calls onSettled. */
  private settled(q: ReceiverQueue, alertId: string, state: AlertState): void {
    const key = settleKey(alertId, state);
    const waiting = this.unsettled.get(key);
    if (!waiting?.delete(q.receiver.name) || waiting.size > 0) return;
    this.unsettled.delete(key);
    try {
      this.onSettled?.(alertId, state);
    } catch (err) {
      console.error(`notifications: recording ${alertId} ${state} as notified: ${firstLine(err)}`);
    }
  }

  /** Exponential from initialMs, plus up to 20 % jitter so receivers that failed together do not retry together. */
  private backoff(attempts: number, retryAfterMs: number | null): number {
    const { initialMs, maxMs } = this.retry;
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempts - 1, 52));
    const jittered = Math.min(maxMs, base * (1 + JITTER * Math.random()));
    return retryAfterMs === null ? jittered : Math.max(jittered, Math.min(maxMs, retryAfterMs));
  }

  private record(
    q: ReceiverQueue,
    alertId: string,
    state: AlertState,
    outcome: DeliveryOutcome,
    status: number | null,
    reason: string | null,
    attempt: number,
    nextAttemptAt: number | null,
  ): void {
    if (outcome === 'ok') q.counts.sent++;
    else if (outcome === 'retrying') q.counts.retried++;
    else q.counts.failed++;
    if (outcome !== 'retrying') this.settled(q, alertId, state);
    this.records.push({
      receiver: q.receiver.name,
      target: q.target,
      alertId,
      state,
      at: new Date(this.now()).toISOString(),
      outcome,
      status,
      reason: reason === null ? null : scrubSecrets(reason, q.secrets),
      attempt,
      nextAttemptAt: nextAttemptAt === null ? null : new Date(nextAttemptAt).toISOString(),
    });
    if (this.records.length > MAX_DELIVERY_RECORDS) this.records.splice(0, this.records.length - MAX_DELIVERY_RECORDS);
  }
}
