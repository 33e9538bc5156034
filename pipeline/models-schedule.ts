/**
 * tideline_models without Airflow: while `npm start` runs, the models are rebuilt every
 * TIDELINE_MODELS_INTERVAL seconds (default: the spec's localIntervalSeconds, dags/schedule.json)
 * and after each backfill or landing upload, one run at a time: a request arriving during a run
 * makes one more run follow it, never a second one beside it. 0 turns the schedule off (when
 * Airflow runs tideline_models instead).
 */
import { loadSchedule } from "../contracts/schedule.js";

export const MODELS_INTERVAL_ENV = "TIDELINE_MODELS_INTERVAL";

/** Seconds between scheduled runs; 0 means off. */
export function modelsIntervalSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[MODELS_INTERVAL_ENV];
  if (raw === undefined || raw.trim() === "") return loadSchedule().dags.tideline_models.localIntervalSeconds;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${MODELS_INTERVAL_ENV}=${raw} is not a number of seconds (0 turns the models schedule off); unset it for the spec's default`);
  return n;
}

export interface ScheduledRunResult {
  seconds: number;
  summary: string;
}

export interface ModelsScheduleOptions {
  intervalSeconds: number;
  /** One incremental models run; rejects with the failing model and assertion in the message. */
  run: () => Promise<ScheduledRunResult>;
  log: (line: string) => void;
}

export class ModelsSchedule {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private pending: string | null = null;
  private stopped = false;
  /** Completed runs (successful or not), for status and tests. */
  runs = 0;

  constructor(private readonly o: ModelsScheduleOptions) {}

  start(): void {
    if (this.o.intervalSeconds <= 0) {
      this.o.log(`models schedule: off (${MODELS_INTERVAL_ENV}=0); run them with \`npx tideline models run\` or Airflow's tideline_models`);
      return;
    }
    this.o.log(`models schedule: an incremental run every ${this.o.intervalSeconds} s and after each backfill or landing upload (${MODELS_INTERVAL_ENV})`);
    this.timer = setInterval(() => this.trigger("schedule"), this.o.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** Asks for a run; coalesces with one already waiting. */
  trigger(reason: string): void {
    if (this.stopped || this.o.intervalSeconds <= 0) return;
    if (this.running) {
      this.pending ??= reason;
      return;
    }
    this.running = this.runOnce(reason).finally(() => {
      this.running = null;
      const next = this.pending;
      this.pending = null;
      if (next) this.trigger(next);
    });
  }

  private async runOnce(reason: string): Promise<void> {
    try {
      const r = await this.o.run();
      this.o.log(`models schedule: run (${reason}) ${r.summary}`);
    } catch (e) {
      this.o.log(`models schedule: run (${reason}) failed: ${(e as Error).message}; the next run retries`);
    } finally {
      this.runs++;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.pending = null;
    await this.running;
  }
}
