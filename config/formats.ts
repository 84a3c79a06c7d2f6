import { parseQuantity } from "../components/k8s/quantity";
import type { StringRule } from "./reader";

/** Formats shared by the per-concern parsers: one definition of "a domain", "a quantity", ... */
export const formats = {
  domain: {
    pattern: /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    describe: "a lower-case DNS name such as zarishsphere.com",
  },
  email: {
    pattern: /^[A-Za-z0-9._%+-]+@([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    describe: "an e-mail address such as oncall@zarishsphere.com",
  },
  awsRegion: { pattern: /^[a-z]{2}(-gov)?-[a-z]+-\d$/, describe: "an AWS region such as us-east-1" },
  dnsLabel: { pattern: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, describe: "a DNS-1123 label such as zarish-sphere" },
  quantity: {
    acceptNumber: true,
    check: (v: string) =>
      (parseQuantity(v) ?? 0) > 0 ? undefined : "must be a positive Kubernetes quantity such as 100Gi",
  },
  /** Prometheus duration, e.g. 30d, 12h. */
  promDuration: { pattern: /^(\d+(ms|s|m|h|d|w|y))+$/, describe: "a Prometheus duration such as 30d" },
  /** Prometheus size, e.g. 45GB. */
  promSize: { pattern: /^\d+(B|KB|MB|GB|TB|PB|EB)$/, describe: "a Prometheus size such as 45GB" },
  /** JVM heap, e.g. 2g or 512m. */
  jvmHeap: { pattern: /^\d+[mg]$/, describe: "a JVM heap size such as 2g" },
  /** Logstash byte size, e.g. 4gb. */
  logstashBytes: { pattern: /^\d+(b|kb|mb|gb|tb)$/, describe: "a Logstash byte size such as 4gb" },
  cron: {
    pattern: /^(\S+\s+){4}\S+$/,
    describe: 'a five-field cron schedule such as "0 2 * * *"',
  },
  ipv4Cidr: {
    pattern: /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)\/(3[0-2]|[12]?\d)$/,
    describe: "an IPv4 CIDR such as 10.0.0.0/16",
  },
  hostPort: { pattern: /^[a-z0-9.-]+:\d{1,5}$/, describe: "host:port such as smtp.example.org:587" },
  redisUrl: { pattern: /^rediss?:\/\/[a-z0-9.-]+:\d{1,5}$/, describe: "redis://host:port" },
  slackChannel: { pattern: /^#[a-z0-9_-]{1,80}$/, describe: "a Slack channel such as #zarish-alerts" },
  oidcProviderArn: {
    pattern: /^arn:aws(-[a-z]+)?:iam::\d{12}:oidc-provider\/oidc\.eks\.[a-z0-9-]+\.amazonaws\.com\/id\/[A-F0-9]{8,64}$/,
    describe:
      "an EKS OIDC provider ARN such as arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE0123456789ABCDEF",
  },
  bucketPrefix: {
    pattern: /^[a-z0-9][a-z0-9-]{1,40}[a-z0-9]$/,
    describe: "3-42 lower-case letters, digits and hyphens (S3 bucket name prefix)",
  },
  pemPublicKey: {
    pattern: /^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PUBLIC KEY-----\n?$/,
    describe: "a PEM public key (-----BEGIN PUBLIC KEY-----)",
  },
} satisfies Record<string, StringRule>;

/** Days in a Prometheus duration (for comparing retentions), or undefined. */
export function promDurationDays(value: string): number | undefined {
  const units: Record<string, number> = {
    ms: 1 / 86_400_000,
    s: 1 / 86_400,
    m: 1 / 1440,
    h: 1 / 24,
    d: 1,
    w: 7,
    y: 365,
  };
  const parts = [...value.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0) return undefined;
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit], 0);
}

/** Bytes of a Prometheus size such as 45GB (Prometheus uses powers of 1024). */
export function promSizeBytes(value: string): number | undefined {
  const m = /^(\d+)(B|KB|MB|GB|TB|PB|EB)$/.exec(value);
  if (!m) return undefined;
  const power = ["B", "KB", "MB", "GB", "TB", "PB", "EB"].indexOf(m[2]);
  return Number(m[1]) * 1024 ** power;
}

/** Bytes of a JVM heap such as 2g. */
export function jvmHeapBytes(value: string): number | undefined {
  const m = /^(\d+)([mg])$/.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === "g" ? 2 ** 30 : 2 ** 20);
}
