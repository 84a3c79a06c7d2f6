import { createHash } from "node:crypto";

/**
 * A short stable hash of configuration content. Put on a pod template as an annotation, it changes when the
 * content changes, so Kubernetes rolls the pods and the new configuration reaches the running process.
 */
export function checksum(...contents: readonly (string | Record<string, string>)[]): string {
  const hash = createHash("sha256");
  for (const content of contents) {
    hash.update(typeof content === "string" ? content : JSON.stringify(Object.entries(content).sort()));
    hash.update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}
