import { parseQuantity } from "../k8s/quantity";

/**
 * Size formats of the three worlds the logging stack straddles: JVM heap flags ("2g"), Logstash byte sizes
 * ("4gb") and Kubernetes quantities ("100Gi"). Parsed here once, so the validation that compares them (heap under
 * the memory limit, queues inside their volume) compares bytes with bytes.
 */

const JVM_UNITS: Record<string, number> = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** Bytes of a JVM -Xmx style size ("2g", "512m", "1073741824"), or undefined if malformed. */
export function parseJvmSize(value: string): number | undefined {
  const match = /^(\d+)([kKmMgGtT]?)$/.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * JVM_UNITS[match[2].toLowerCase()];
}

const LOGSTASH_UNITS: Record<string, number> = {
  b: 1,
  kb: 2 ** 10,
  mb: 2 ** 20,
  gb: 2 ** 30,
  tb: 2 ** 40,
  pb: 2 ** 50,
};

/**
 * Bytes of a Logstash byte-size setting ("1024mb", "4gb"), or of a Kubernetes quantity ("4Gi"), which config
 * authors tend to write next to storage sizes. Undefined if neither.
 */
export function parseLogstashBytes(value: string): number | undefined {
  const match = /^(\d+)\s*(b|kb|mb|gb|tb|pb)$/i.exec(value.trim());
  if (match) return Number(match[1]) * LOGSTASH_UNITS[match[2].toLowerCase()];
  const quantity = parseQuantity(value);
  return quantity === undefined || !Number.isInteger(quantity) ? undefined : quantity;
}

/** A byte count in Logstash notation, in whole mebibytes (Logstash's own "mb" is binary). */
export function formatLogstashBytes(bytes: number): string {
  return `${Math.floor(bytes / 2 ** 20)}mb`;
}
