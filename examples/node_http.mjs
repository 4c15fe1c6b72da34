// ssepg inside your own node:http server, through the Node adapter.
//
//     npm run build && DATABASE_URL=postgres://… PORT=8080 node examples/node_http.mjs
//
// In your app the imports are the same: `ssepg` and `ssepg/node` from npm.

import { createServer } from "node:http";
import { createSsepg } from "ssepg";
import { nodeHandler } from "ssepg/node";

const svc = await createSsepg({ databaseUrl: process.env.DATABASE_URL });
const server = createServer(nodeHandler(svc));
server.requestTimeout = 0; // Node ends requests after 300 s by default; SSE streams live longer
server.listen(Number(process.env.PORT ?? 8080), "127.0.0.1");

process.on("SIGTERM", async () => {
  server.close();
  await svc.close();
  process.exit(0);
});
