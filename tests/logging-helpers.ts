/**
 * Shared by the logging tests (tests/logging-*.test.ts): a reader of Logstash's configuration language (to prove
 * the rendered pipelines parse back into what was meant), schema validation of recorded objects, and the
 * invariants every object of the logging component holds.
 */
import type { ExecutionContext } from "ava";
import type { LsPipeline, LsStatement, LsValue } from "../components/logging/logstash-config";
import { containersOf, type RecordedResource, SECRET } from "./helpers/harness";
import { validateManifest } from "./helpers/schema";

// ---------------------------------------------------------------------------------------------------------------
// Logstash configuration reader: the grammar of logstash-core's treetop definition (sections, plugins with
// `name => value` settings, arrays, hashes, double- or single-quoted strings without escapes, numbers, barewords,
// `if` / `else if` / `else` blocks, `#` comments), strict: anything else is an error naming the position.

class Reader {
  private pos = 0;
  constructor(private readonly text: string) {}

  private skip(): void {
    for (;;) {
      while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
      if (this.text[this.pos] !== "#") return;
      while (this.pos < this.text.length && this.text[this.pos] !== "\n") this.pos++;
    }
  }

  fail(what: string): never {
    const line = this.text.slice(0, this.pos).split("\n").length;
    throw new Error(
      `Logstash config: ${what} at line ${line}: ${JSON.stringify(this.text.slice(this.pos, this.pos + 40))}`,
    );
  }

  peek(): string {
    this.skip();
    return this.text[this.pos] ?? "";
  }

  atEnd(): boolean {
    return this.peek() === "";
  }

  expect(token: string): void {
    this.skip();
    if (!this.text.startsWith(token, this.pos)) this.fail(`expected ${JSON.stringify(token)}`);
    this.pos += token.length;
  }

  lookingAt(word: string): boolean {
    this.skip();
    return new RegExp(`^${word}\\b`).test(this.text.slice(this.pos));
  }

  name(): string {
    this.skip();
    const m = /^[A-Za-z0-9_@-]+/.exec(this.text.slice(this.pos));
    if (!m) this.fail("expected a name");
    this.pos += m[0].length;
    return m[0];
  }

  string(): string {
    this.skip();
    const quote = this.text[this.pos];
    if (quote !== '"' && quote !== "'") this.fail("expected a string");
    const end = this.text.indexOf(quote, this.pos + 1);
    if (end === -1) this.fail("unterminated string");
    const value = this.text.slice(this.pos + 1, end);
    this.pos = end + 1;
    return value;
  }

  value(): LsValue {
    const c = this.peek();
    if (c === '"' || c === "'") return this.string();
    if (c === "[") {
      this.expect("[");
      const items: LsValue[] = [];
      while (this.peek() !== "]") {
        items.push(this.value());
        if (this.peek() === ",") this.expect(",");
        else if (this.peek() !== "]") this.fail("expected , or ]");
      }
      this.expect("]");
      return items;
    }
    if (c === "{") {
      this.expect("{");
      const hash: Record<string, LsValue> = {};
      while (this.peek() !== "}") {
        const key = this.peek() === '"' || this.peek() === "'" ? this.string() : this.name();
        this.expect("=>");
        hash[key] = this.value();
      }
      this.expect("}");
      return hash;
    }
    const m = /^-?\d+(\.\d+)?\b/.exec(this.text.slice(this.pos));
    if (m) {
      this.pos += m[0].length;
      return Number(m[0]);
    }
    const word = this.name();
    return word === "true" ? true : word === "false" ? false : word;
  }

  /** The raw condition text up to the block's opening brace (outside strings and brackets). */
  condition(): string {
    this.skip();
    const start = this.pos;
    let depth = 0;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === '"' || c === "'") {
        this.string();
        continue;
      }
      if (c === "[") depth++;
      if (c === "]") depth--;
      if (c === "{" && depth === 0) break;
      this.pos++;
    }
    const condition = this.text.slice(start, this.pos).trim();
    if (!condition) this.fail("empty condition");
    return condition;
  }

  block(): LsStatement[] {
    this.expect("{");
    const statements: LsStatement[] = [];
    while (this.peek() !== "}") statements.push(this.statement());
    this.expect("}");
    return statements;
  }

  statement(): LsStatement {
    if (this.lookingAt("if")) {
      this.expect("if");
      const condition = this.condition();
      const statements = this.block();
      if (this.lookingAt("else")) {
        this.expect("else");
        if (this.lookingAt("if")) return { if: condition, statements, else: [this.statement()] };
        return { if: condition, statements, else: this.block() };
      }
      return { if: condition, statements };
    }
    const plugin = this.name();
    this.expect("{");
    const settings: Record<string, LsValue> = {};
    while (this.peek() !== "}") {
      const key = this.name();
      this.expect("=>");
      settings[key] = this.value();
    }
    this.expect("}");
    return Object.keys(settings).length === 0 ? { plugin } : { plugin, settings };
  }
}

/** Parses a pipeline file into the typed form it was rendered from. */
export function parseLogstashConfig(text: string): LsPipeline {
  const reader = new Reader(text);
  const sections: Record<string, LsStatement[]> = { input: [], filter: [], output: [] };
  while (!reader.atEnd()) {
    const section = reader.name();
    if (!(section in sections)) reader.fail(`unknown section ${section}`);
    sections[section].push(...reader.block());
  }
  return { input: sections.input, filter: sections.filter, output: sections.output };
}

/** Every plugin of a statement list, depth first, conditionals' branches included. */
export function pluginsOf(statements: readonly LsStatement[]): { plugin: string; settings: Record<string, LsValue> }[] {
  return statements.flatMap((s) =>
    "if" in s
      ? [...pluginsOf(s.statements), ...pluginsOf(s.else ?? [])]
      : [{ plugin: s.plugin, settings: { ...(s.settings ?? {}) } as Record<string, LsValue> }],
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Recorded objects.

export function kubernetesObjects(resources: readonly RecordedResource[]): RecordedResource[] {
  return resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && r.inputs.kind !== undefined);
}

export function metadataOf(r: RecordedResource): {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
} {
  return (r.inputs.metadata ?? {}) as ReturnType<typeof metadataOf>;
}

/** The recorded object of `kind` named `name` (in `namespace`, if given); throws with the candidates otherwise. */
export function objectNamed(
  resources: readonly RecordedResource[],
  kind: string,
  name: string,
  namespace?: string,
): RecordedResource {
  const all = kubernetesObjects(resources).filter((r) => r.inputs.kind === kind);
  const found = all.find(
    (r) => metadataOf(r).name === name && (namespace === undefined || metadataOf(r).namespace === namespace),
  );
  if (!found)
    throw new Error(
      `no ${kind} ${namespace ?? "*"}/${name} (have: ${all.map((r) => `${metadataOf(r).namespace}/${metadataOf(r).name}`).join(", ")})`,
    );
  return found;
}

/** The pod spec of a workload. */
export function podSpecOf(r: RecordedResource): Record<string, any> {
  return ((r.inputs.spec ?? {}) as Record<string, any>).template.spec;
}

export function containerNamed(r: RecordedResource, name: string): Record<string, any> {
  const found = containersOf(r).find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name} in ${r.inputs.kind} ${metadataOf(r).name}`);
  return found as Record<string, any>;
}

export function allStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value !== null && typeof value === "object")
    return Object.entries(value).flatMap(([k, v]) => [k, ...allStrings(v)]);
  return [];
}

const CLUSTER_SCOPED = new Set(["ClusterRole", "ClusterRoleBinding"]);
const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"]);

/**
 * What every object of the logging component holds: explicit name and namespace, recommended labels, a valid
 * schema, no secret in a ConfigMap, requests and limits on every container, pinned images.
 */
export async function assertLoggingInvariants(
  t: ExecutionContext,
  resources: readonly RecordedResource[],
): Promise<void> {
  const objects = kubernetesObjects(resources);
  t.true(objects.length > 30, `only ${objects.length} Kubernetes objects recorded`);
  for (const r of objects) {
    const m = metadataOf(r);
    const where = `${r.inputs.kind} ${m.namespace}/${m.name}`;
    t.is(typeof m.name, "string", `${r.name}: explicit metadata.name`);
    if (!CLUSTER_SCOPED.has(r.inputs.kind as string))
      t.is(typeof m.namespace, "string", `${where}: explicit namespace`);
    for (const label of [
      "app.kubernetes.io/name",
      "app.kubernetes.io/instance",
      "app.kubernetes.io/component",
      "app.kubernetes.io/part-of",
      "app.kubernetes.io/managed-by",
    ]) {
      t.truthy(m.labels?.[label], `${where}: label ${label}`);
    }
    await t.notThrowsAsync(validateManifest(r.inputs), `${where}: schema`);
    if (r.inputs.kind === "ConfigMap") {
      const strings = allStrings(r.inputs);
      t.false(strings.includes(SECRET), `${where}: a ConfigMap holds a secret`);
      t.false(
        strings.some((s) => /mock-.*password/.test(s)),
        `${where}: a ConfigMap holds a generated password`,
      );
    }
    if (r.inputs.kind === "Secret") {
      for (const value of Object.values((r.inputs.stringData ?? {}) as Record<string, string>)) {
        // Secret values are either the literal user name or a Pulumi secret.
        t.true(value === SECRET || !/mock-/.test(value), `${where}: a generated password in plain text`);
      }
    }
  }
  for (const w of objects.filter((r) => WORKLOADS.has(r.inputs.kind as string))) {
    for (const c of containersOf(w) as Record<string, any>[]) {
      const where = `${w.inputs.kind} ${metadataOf(w).name} container ${c.name}`;
      for (const kind of ["requests", "limits"]) {
        t.truthy(c.resources?.[kind]?.cpu, `${where}: ${kind}.cpu`);
        t.truthy(c.resources?.[kind]?.memory, `${where}: ${kind}.memory`);
      }
      t.regex(c.image, /:[^:@/]+(@sha256:[a-f0-9]{64})?$/, `${where}: pinned image`);
      t.notRegex(c.image, /:latest(@|$)/, `${where}: not latest`);
      t.is(c.securityContext?.allowPrivilegeEscalation, false, `${where}: no privilege escalation`);
      t.is(c.securityContext?.readOnlyRootFilesystem, true, `${where}: read-only root filesystem`);
      t.deepEqual(c.securityContext?.capabilities, { drop: ["ALL"] }, `${where}: drops every capability`);
    }
  }
}
