import { spawn } from "node:child_process";
import * as path from "node:path";
import test from "ava";

// `pulumi preview --policy-pack policies` starts the SDK's policy-pack runner in policies/ (ts-node with type
// checking on, the folder's tsconfig.json), which loads index.ts and serves the analyzer on a port it prints. The
// same runner here proves the pack loads and type-checks as the CLI will run it; the process is stopped after.
test("the pack loads under the SDK's policy-pack runner and serves the analyzer", async (t) => {
  const root = path.join(__dirname, "..");
  const runner = path.join(root, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack", "index.js");
  const child = spawn(process.execPath, [runner, "127.0.0.1:0", "."], {
    cwd: path.join(root, "policies"),
    stdio: "pipe",
  });
  let stdout = "";
  let stderr = "";
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no port after 60 s; stderr: ${stderr}`)), 60_000);
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
        const match = /^(\d+)\s*$/m.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      child.stderr.on("data", (chunk) => {
        stderr += chunk;
      });
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the runner exited (${code}) before serving: ${stderr}`));
      });
    });
    t.true(port > 0);
    t.is(stderr, "");
  } finally {
    child.kill();
  }
});
