import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as yaml from "js-yaml";
import { requireTool } from "../helpers/tools";

/**
 * Shared by the monitoring-config tests (and usable by a plan-level test): run promtool/amtool and make a rendered
 * prometheus.yml checkable by the promtool this machine has.
 */

export interface ToolResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr together, for assertion messages. */
  readonly output: string;
}

export function runTool(name: "promtool" | "amtool", args: readonly string[], cwd?: string): ToolResult {
  const bin = requireTool(name, name === "promtool" ? "prometheus" : "prometheus-alertmanager");
  const r = spawnSync(bin, [...args], { cwd, encoding: "utf8" });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, output: `${r.stdout}${r.stderr}` };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

/** Writes files (name -> content) into dir and returns dir. */
export function writeFiles(dir: string, files: Readonly<Record<string, string>>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** The roles and fields of upstream Prometheus's kubernetes_sd_config that this platform may use. */
const SD_ROLES = new Set(["node", "service", "pod", "endpoints", "endpointslice", "ingress"]);
const SD_FIELDS = new Set(["role", "namespaces", "selectors", "attach_metadata"]);
const SD_NAMESPACE_FIELDS = new Set(["names", "own_namespace"]);

/** Problems in one kubernetes_sd_configs entry, checked against the upstream schema (Prometheus 2.x). */
export function kubernetesSdProblems(where: string, sd: unknown): string[] {
  const problems: string[] = [];
  if (typeof sd !== "object" || sd === null || Array.isArray(sd)) return [`${where}: must be a mapping`];
  const entry = sd as Record<string, unknown>;
  for (const key of Object.keys(entry)) if (!SD_FIELDS.has(key)) problems.push(`${where}: unknown field "${key}"`);
  if (typeof entry.role !== "string" || !SD_ROLES.has(entry.role)) {
    problems.push(`${where}: role must be one of ${[...SD_ROLES].join(", ")} (got ${JSON.stringify(entry.role)})`);
  }
  if (entry.namespaces !== undefined) {
    const ns = entry.namespaces as Record<string, unknown>;
    for (const key of Object.keys(ns)) {
      if (!SD_NAMESPACE_FIELDS.has(key)) problems.push(`${where}.namespaces: unknown field "${key}"`);
    }
    const names = ns.names;
    if (!Array.isArray(names) || names.length === 0 || names.some((n) => typeof n !== "string" || n === "")) {
      problems.push(`${where}.namespaces.names must be a non-empty list of namespace names`);
    }
  }
  return problems;
}

export interface CheckableOptions {
  /** Directory holding dummy `token` and `ca.crt` (promtool stats credential files). */
  readonly serviceAccountDir: string;
  /** rule_files glob pointing at the rendered rule files on this machine. */
  readonly ruleFilesGlob: string;
}

/**
 * Debian builds Prometheus without Kubernetes service discovery (its NEWS.Debian, 1.5.0: "Kubernetes support has
 * been completely removed"), so its promtool rejects `kubernetes_sd_configs` as an unknown field. This returns the
 * same configuration with each kubernetes_sd_configs entry checked here against the upstream schema and then
 * replaced by an equivalent static target, so that promtool still validates everything else: relabelling
 * (regexes, actions, target labels), authorization, TLS, alerting, rule files and their syntax. Paths that only
 * exist in the pod (service account, rules directory) are pointed at local files.
 */
export function promtoolCheckableConfig(prometheusYml: string, o: CheckableOptions): string {
  const config = yaml.load(prometheusYml) as Record<string, unknown>;
  const problems: string[] = [];
  const neutralise = (where: string, section: Record<string, unknown>) => {
    const sds = section.kubernetes_sd_configs;
    if (sds === undefined) return;
    if (!Array.isArray(sds) || sds.length === 0) {
      problems.push(`${where}.kubernetes_sd_configs must be a non-empty list`);
      return;
    }
    sds.forEach((sd, i) => {
      problems.push(...kubernetesSdProblems(`${where}.kubernetes_sd_configs[${i}]`, sd));
    });
    delete section.kubernetes_sd_configs;
    section.static_configs = [
      ...((section.static_configs as unknown[] | undefined) ?? []),
      { targets: ["discovered-by-kubernetes-sd.invalid:9"] },
    ];
  };
  const scrapeConfigs = (config.scrape_configs ?? []) as Record<string, unknown>[];
  for (const job of scrapeConfigs) neutralise(`scrape_configs[${String(job.job_name)}]`, job);
  const alerting = config.alerting as { alertmanagers?: Record<string, unknown>[] } | undefined;
  (alerting?.alertmanagers ?? []).forEach((am, i) => {
    neutralise(`alerting.alertmanagers[${i}]`, am);
  });
  if (problems.length > 0) throw new Error(problems.join("\n"));
  config.rule_files = [o.ruleFilesGlob];
  const text = yaml.dump(config, { lineWidth: -1, noRefs: true });
  return text.replaceAll("/var/run/secrets/kubernetes.io/serviceaccount", o.serviceAccountDir);
}
