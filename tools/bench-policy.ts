/**
 * `npm run bench:policy -- [--resources 2000] [--runs 30]`: times the policy pack on a generated plan. A benchmark,
 * not a test: it prints the figures (goal: a 2,000-resource plan under 1 s) and always exits 0 unless its options
 * are wrong. The plan mixes what the platform declares: namespaces with their network policies, workloads of every
 * kind (init containers and CronJob templates included), Services, ConfigMaps (ILM bodies among them), PDBs, S3
 * buckets with their settings linked through propertyDependencies, and IAM policies; a few resources break a rule,
 * so the violation paths are timed too.
 */
import { performance } from "node:perf_hooks";
import { evaluatePolicies, type PlanResource } from "./lib/policy-engine";

type Json = Record<string, unknown>;

const STACK = "prod";
const urn = (type: string, name: string) => `urn:pulumi:${STACK}::zarish-sphere-ops::${type}::${name}`;

function resource(
  type: string,
  name: string,
  inputs: Json,
  propertyDependencies: Record<string, string[]> = {},
): PlanResource {
  return {
    urn: urn(type, name),
    type,
    name,
    parent: null,
    dependencies: Object.values(propertyDependencies).flat(),
    propertyDependencies,
    inputs,
  };
}

function container(name: string, i: number, init = false): Json {
  return {
    name,
    // One image in fifty is unpinned, so images-pinned reports.
    image: i % 50 === 0 ? "docker.io/library/busybox:latest" : `registry.example.com/zarish/${name}:1.${i % 7}.0`,
    args: ["--port=8080"],
    ports: init ? undefined : [{ name: "http", containerPort: 8080 }],
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 10001,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
    ...(init
      ? {}
      : {
          livenessProbe: { httpGet: { path: "/healthz", port: "http" } },
          readinessProbe: { httpGet: { path: "/ready", port: "http" } },
        }),
  };
}

function podSpec(app: string, i: number): Json {
  return {
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 10001,
      fsGroup: 10001,
      seccompProfile: { type: "RuntimeDefault" },
    },
    initContainers: [container("init", i, true)],
    containers: [container(app, i), container("sidecar", i + 1)],
    volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { app } } },
          },
        ],
      },
    },
  };
}

function workload(kind: string, namespace: string, name: string, i: number): PlanResource {
  const labels = { "app.kubernetes.io/name": name };
  const metadata = { name, namespace, labels };
  const template = { metadata: { labels }, spec: podSpec(name, i) };
  switch (kind) {
    case "CronJob":
      return resource("kubernetes:batch/v1:CronJob", name, {
        apiVersion: "batch/v1",
        kind,
        metadata,
        spec: {
          schedule: "0 2 * * *",
          jobTemplate: { spec: { template: { ...template, spec: { ...template.spec, restartPolicy: "OnFailure" } } } },
        },
      });
    case "DaemonSet":
      return resource("kubernetes:apps/v1:DaemonSet", name, {
        apiVersion: "apps/v1",
        kind,
        metadata,
        spec: { selector: { matchLabels: labels }, template },
      });
    default:
      return resource(`kubernetes:apps/v1:${kind}`, name, {
        apiVersion: "apps/v1",
        kind,
        metadata,
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template,
          ...(kind === "StatefulSet" ? { serviceName: name } : {}),
        },
      });
  }
}

function bucket(name: string, expirationDays: number): PlanResource[] {
  const b = resource("aws:s3/bucket:Bucket", name, { bucket: name, tags: { "zarish.health/backup": "true" } });
  const link = { bucket: [b.urn] };
  return [
    b,
    resource(
      "aws:s3/bucketVersioning:BucketVersioning",
      `${name}-versioning`,
      { bucket: name, versioningConfiguration: { status: "Enabled" } },
      link,
    ),
    resource(
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      `${name}-encryption`,
      {
        bucket: name,
        rules: [
          {
            applyServerSideEncryptionByDefault: {
              sseAlgorithm: "aws:kms",
              kmsMasterKeyId: "arn:aws:kms:eu-west-1:1:key/k",
            },
          },
        ],
      },
      link,
    ),
    resource(
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
      `${name}-pab`,
      {
        bucket: name,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      link,
    ),
    resource(
      "aws:s3/bucketPolicy:BucketPolicy",
      `${name}-policy`,
      {
        bucket: name,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [`arn:aws:s3:::${name}`, `arn:aws:s3:::${name}/*`],
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
          ],
        }),
      },
      link,
    ),
    resource(
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      `${name}-lifecycle`,
      {
        bucket: name,
        rules: [
          {
            id: "expire",
            status: "Enabled",
            expiration: { days: expirationDays },
            noncurrentVersionExpiration: { noncurrentDays: 90 },
          },
        ],
      },
      link,
    ),
  ];
}

/** A plan of about `size` resources (exactly `size`: the mix is repeated, then cut). */
export function generatePlan(size: number): PlanResource[] {
  const out: PlanResource[] = [];
  const kinds = ["Deployment", "StatefulSet", "DaemonSet", "CronJob", "ReplicaSet"];
  for (let n = 0; out.length < size; n++) {
    const namespace = `team-${n}`;
    out.push(
      resource("kubernetes:core/v1:Namespace", namespace, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: namespace },
      }),
    );
    out.push(
      resource("kubernetes:networking.k8s.io/v1:NetworkPolicy", `${namespace}-default-deny`, {
        metadata: { name: "default-deny", namespace },
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
      }),
    );
    for (let w = 0; w < 10; w++) {
      const i = n * 10 + w;
      const kind = kinds[i % kinds.length];
      const name = `app-${i}`;
      out.push(workload(kind, namespace, name, i));
      out.push(
        resource("kubernetes:core/v1:Service", `${name}-svc`, {
          metadata: { name, namespace },
          spec: { selector: { "app.kubernetes.io/name": name }, ports: [{ port: 80 }] },
        }),
      );
      out.push(
        resource("kubernetes:core/v1:ConfigMap", `${name}-config`, {
          metadata: { name, namespace },
          data: { "app.yaml": `name: ${name}\n` },
        }),
      );
      if (kind === "StatefulSet") {
        out.push(
          resource("kubernetes:policy/v1:PodDisruptionBudget", `${name}-pdb`, {
            metadata: { name, namespace },
            spec: { maxUnavailable: 1, selector: { matchLabels: { "app.kubernetes.io/name": name } } },
          }),
        );
      }
    }
    out.push(
      resource("kubernetes:core/v1:ConfigMap", `${namespace}-ilm`, {
        metadata: { name: "ilm", namespace },
        data: {
          "zarish-audit.json": JSON.stringify({
            policy: { phases: { delete: { min_age: "2192d", actions: { delete: {} } } } },
          }),
        },
      }),
    );
    // One backup bucket in five expires too early.
    out.push(...bucket(`backups-${n}`, n % 5 === 0 ? 7 : 365));
    out.push(
      resource("aws:iam/policy:Policy", `backup-writer-${n}`, {
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: ["s3:PutObject"], Resource: `arn:aws:s3:::backups-${n}/*` }],
        }),
      }),
    );
  }
  return out.slice(0, size);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function main(argv: readonly string[]): Promise<number> {
  let size = 2000;
  let runs = 30;
  for (let i = 0; i < argv.length; i++) {
    const value = Number(argv[i + 1]);
    if (argv[i] === "--resources" && Number.isInteger(value) && value > 0) size = value;
    else if (argv[i] === "--runs" && Number.isInteger(value) && value > 0) runs = value;
    else {
      console.error(`usage: npm run bench:policy -- [--resources <n>] [--runs <n>] (got "${argv[i]}")`);
      return 2;
    }
    i++;
  }
  const plan = generatePlan(size);
  const first = performance.now();
  const violations = evaluatePolicies(plan, { environment: "prod" });
  const firstMs = performance.now() - first;
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    evaluatePolicies(plan, { environment: "prod" });
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const mandatory = violations.filter((v) => v.level === "mandatory").length;
  const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
  console.log(`policy evaluation of a generated ${plan.length}-resource plan (${runs} runs after one cold run):`);
  console.log(`  cold  ${fmt(firstMs)} (first run: config schemas compiled, code not yet optimized)`);
  console.log(`  min   ${fmt(times[0])}`);
  console.log(`  med   ${fmt(percentile(times, 50))}`);
  console.log(`  p95   ${fmt(percentile(times, 95))}`);
  console.log(`  ${violations.length} violations (${mandatory} mandatory) per run; goal: under 1000 ms`);
  return 0;
}
