import { SELF } from "cloudflare:test";
import { expect, it } from "vitest";
it("serves", async () => {
  const r = await SELF.fetch("http://x/healthz");
  expect(await r.text()).toBe("ok");
});
