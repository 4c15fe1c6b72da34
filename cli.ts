#!/usr/bin/env node
/**
 * The `ssepg` command for npm installs: `npx ssepg serve`, `bunx ssepg serve`,
 * `node dist/cli.js serve`. Deno users run `deno run -A mod.ts` instead.
 *
 * @module
 */

import { runCli } from "./src/cli/main.ts";

await runCli();
