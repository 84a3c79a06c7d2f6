/**
 * Shared by the logging tests (tests/logging-*.test.ts): a reader of Logstash's configuration language (to prove
 * the rendered pipelines parse back into what was meant), and the invariants every object of the logging
 * component holds beyond those of every component (tests/helpers/invariants.ts).
 */
import type { ExecutionContext } from "ava";
import type { LsPipeline, LsStatement, LsValue } from "../components/logging/logstash-config";
import { containersOf, type RecordedResource, SECRET } from "./helpers/harness";
import { assertObjectInvariants, describeObject } from "./helpers/invariants";
import { allStrings, kubernetesObjects, workloads } from "./helpers/objects";

// ---------------------------------------------------------------------------------------------------------------
// Logstash configuration reader: the grammar of logstash-core's treetop definition (sections, plugins with
// `name => value` settings, arrays, hashes, double- or single-quoted strings without escapes, numbers, barewords,
// `if` / `else if` / `else` blocks, `#` comments), strict: anything else is an error naming the position.

class Reader {
  private pos = 0;
  constructor(private readonly text: string) {}

  private skipSpace(): void {
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
    this.skipSpace();
    return this.text[this.pos] ?? "";
  }

  atEnd(): boolean {
    return this.peek() === "";
  }

  expect(token: string): void {
    this.skipSpace();
    if (!this.text.startsWith(token, this.pos)) this.fail(`expected ${JSON.stringify(token)}`);
    this.pos += token.length;
  }

  lookingAt(word: string): boolean {
    this.skipSpace();
    return new RegExp(`^${word}\\b`).test(this.text.slice(this.pos));
  }

  name(): string {
    this.skipSpace();
    const m = /^[A-Za-z0-9_@-]+/.exec(this.text.slice(this.pos));
    if (!m) this.fail("expected a name");
    this.pos += m[0].length;
    return m[0];
  }

  string(): string {
    this.skipSpace();
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
    this.skipSpace();
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

/**
 * What every object of the logging component holds on top of tests/helpers/invariants.ts: more than 30 objects
 * (the whole component was recorded), no generated password in a ConfigMap or in plain text in a Secret, and
 * every container hardened (no privilege escalation, read-only root filesystem, every capability dropped).
 */
export async function assertLoggingInvariants(
  t: ExecutionContext,
  resources: readonly RecordedResource[],
): Promise<void> {
  await assertObjectInvariants(t, resources);
  const objects = kubernetesObjects(resources);
  t.true(objects.length > 30, `only ${objects.length} Kubernetes objects recorded`);
  for (const r of objects) {
    const where = describeObject(r);
    if (r.inputs.kind === "ConfigMap") {
      t.false(
        allStrings(r.inputs).some((s) => /mock-.*password/.test(s)),
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
  for (const w of workloads(resources)) {
    for (const c of containersOf(w) as Record<string, any>[]) {
      const where = `${describeObject(w)} container ${c.name}`;
      t.is(c.securityContext?.allowPrivilegeEscalation, false, `${where}: no privilege escalation`);
      t.is(c.securityContext?.readOnlyRootFilesystem, true, `${where}: read-only root filesystem`);
      t.deepEqual(c.securityContext?.capabilities, { drop: ["ALL"] }, `${where}: drops every capability`);
    }
  }
}
