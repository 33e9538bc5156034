import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSchedule, DAG_IDS, ScheduleError } from "../contracts/schedule.js";
import { ModelsSchedule, modelsIntervalSeconds } from "./models-schedule.js";

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe("the schedule spec", () => {
  it("has the fixed DAG ids and the local models interval of API.md", () => {
    const s = loadSchedule();
    expect(Object.keys(s.dags)).toEqual([...DAG_IDS]);
    expect(s.dags.tideline_models.localIntervalSeconds).toBe(900);
  });

  it("names each wrong field of a broken spec", () => {
    const dir = mkdtempSync(join(tmpdir(), "schedule-"));
    const spec = JSON.parse(JSON.stringify(loadSchedule()));
    spec.dags.tideline_quality.slos.lateRate = 2;
    delete spec.dags.tideline_models.trigger.cron;
    writeFileSync(join(dir, "s.json"), JSON.stringify(spec));
    expect(() => loadSchedule(join(dir, "s.json"))).toThrow(ScheduleError);
    expect(() => loadSchedule(join(dir, "s.json"))).toThrow(/dags\.tideline_models\.trigger\.cron[\s\S]*dags\.tideline_quality\.slos\.lateRate: Too big/);
  });
});

describe("TIDELINE_MODELS_INTERVAL", () => {
  it("defaults to the spec, accepts seconds and 0 (off), rejects the rest with what to do", () => {
    expect(modelsIntervalSeconds({})).toBe(900);
    expect(modelsIntervalSeconds({ TIDELINE_MODELS_INTERVAL: "30" })).toBe(30);
    expect(modelsIntervalSeconds({ TIDELINE_MODELS_INTERVAL: "0" })).toBe(0);
    expect(() => modelsIntervalSeconds({ TIDELINE_MODELS_INTERVAL: "soon" })).toThrow(/not a number of seconds/);
  });
});

describe("ModelsSchedule", () => {
  it("runs one at a time: requests during a run coalesce into one more run", async () => {
    let active = 0;
    let maxActive = 0;
    let release!: () => void;
    const log: string[] = [];
    const s = new ModelsSchedule({
      intervalSeconds: 3600,
      log: (l) => log.push(l),
      run: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise<void>((r) => (release = r));
        active--;
        return { seconds: 0.1, summary: "done" };
      },
    });
    s.start();
    s.trigger("after a backfill");
    await tick();
    s.trigger("schedule");
    s.trigger("after a landing upload");
    release();
    await tick();
    expect(active).toBe(1);
    release();
    await tick();
    expect(s.runs).toBe(2);
    expect(maxActive).toBe(1);
    expect(log.filter((l) => l.includes("run ("))).toEqual(["models schedule: run (after a backfill) done", "models schedule: run (schedule) done"]);
    await s.stop();
  });

  it("fires on its interval, logs a failure with the model and goes on", async () => {
    const log: string[] = [];
    let n = 0;
    const s = new ModelsSchedule({
      intervalSeconds: 0.02,
      log: (l) => log.push(l),
      run: async () => {
        n++;
        if (n === 1) throw new Error("assertion x failed (model marts.sessions)");
        return { seconds: 0, summary: "done" };
      },
    });
    s.start();
    await tick(90);
    await s.stop();
    expect(n).toBeGreaterThanOrEqual(2);
    expect(log.some((l) => /failed: assertion x failed \(model marts\.sessions\); the next run retries/.test(l))).toBe(true);
  });

  it("does nothing when off", async () => {
    let n = 0;
    const log: string[] = [];
    const s = new ModelsSchedule({ intervalSeconds: 0, log: (l) => log.push(l), run: async () => ({ seconds: 0, summary: String(++n) }) });
    s.start();
    s.trigger("after a backfill");
    await tick();
    expect(n).toBe(0);
    expect(log[0]).toMatch(/off/);
    await s.stop();
  });
});
