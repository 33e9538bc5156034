#!/usr/bin/env node
// `npx tideline`: runs the TypeScript CLI through tsx's loader (no build step).
import { register } from "tsx/esm/api";

register();
await import("./tideline.ts");
