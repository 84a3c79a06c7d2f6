/**
 * A small validating reader over parsed config values. Every problem is collected (never thrown one by one) and
 * names the full key, the offending value and what is allowed, so a user fixes a stack file in one pass.
 */
export class Problems {
  readonly messages: string[] = [];
  add(key: string, message: string): void {
    this.messages.push(`${key}: ${message}`);
  }
  get empty(): boolean {
    return this.messages.length === 0;
  }
}

/** A short, single-line rendering of a bad value for error messages. */
export function show(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

interface Common<T> {
  /** Used when the key is absent; a key without default is required. */
  readonly default?: T;
  /** What a valid value looks like, for the message about a missing key. */
  readonly example?: string;
}

export interface StringRule extends Common<string> {
  readonly pattern?: RegExp;
  /** Human description of the pattern, e.g. "a DNS domain such as zarishsphere.com". */
  readonly describe?: string;
  readonly oneOf?: readonly string[];
  readonly check?: (value: string) => string | undefined;
  /** Accept a YAML number and read it as text (Kubernetes quantities such as `cpu: 2`). */
  readonly acceptNumber?: boolean;
}

export interface NumberRule extends Common<number> {
  readonly min?: number;
  readonly max?: number;
}

/** Reads one object of config, remembering which keys were read so unknown keys (typos) are reported. */
export class ObjectReader {
  private readonly read = new Set<string>();

  constructor(
    readonly problems: Problems,
    readonly path: string,
    private readonly value: Record<string, unknown>,
  ) {}

  /** Reads a nested object; absent means {} so its own keys' defaults apply. */
  object(name: string): ObjectReader {
    const v = this.take(name);
    if (v === undefined) return new ObjectReader(this.problems, this.key(name), {});
    if (!isPlainObject(v)) {
      this.problems.add(this.key(name), `must be an object (got ${show(v)})`);
      return new ObjectReader(this.problems, this.key(name), {});
    }
    return new ObjectReader(this.problems, this.key(name), v);
  }

  /** Reads a nested object that may be absent altogether. */
  optionalObject(name: string): ObjectReader | undefined {
    if (this.value[name] === undefined) {
      this.take(name);
      return undefined;
    }
    return this.object(name);
  }

  has(name: string): boolean {
    return this.value[name] !== undefined;
  }

  string(name: string, rule: StringRule = {}): string {
    const taken = this.take(name);
    const v = rule.acceptNumber && typeof taken === "number" ? String(taken) : taken;
    if (v === undefined) return this.missing(name, rule, "");
    if (typeof v !== "string" || v.trim() === "") {
      this.problems.add(this.key(name), `must be a non-empty string (got ${show(v)})`);
      return rule.default ?? "";
    }
    if (rule.oneOf && !rule.oneOf.includes(v)) {
      this.problems.add(
        this.key(name),
        `must be one of ${rule.oneOf.map((o) => `"${o}"`).join(", ")} (got ${show(v)})`,
      );
    } else if (rule.pattern && !rule.pattern.test(v)) {
      this.problems.add(this.key(name), `must be ${rule.describe ?? `like ${rule.pattern}`} (got ${show(v)})`);
    } else {
      const problem = rule.check?.(v);
      if (problem) this.problems.add(this.key(name), `${problem} (got ${show(v)})`);
    }
    return v;
  }

  integer(name: string, rule: NumberRule = {}): number {
    const v = this.take(name);
    if (v === undefined) return this.missing(name, rule, 0);
    const range = describeRange(rule);
    if (typeof v !== "number" || !Number.isInteger(v)) {
      this.problems.add(this.key(name), `must be an integer${range} (got ${show(v)})`);
      return rule.default ?? 0;
    }
    if ((rule.min !== undefined && v < rule.min) || (rule.max !== undefined && v > rule.max)) {
      this.problems.add(this.key(name), `must be an integer${range} (got ${show(v)})`);
    }
    return v;
  }

  boolean(name: string, rule: Common<boolean> = {}): boolean {
    const v = this.take(name);
    if (v === undefined) return this.missing(name, rule, false);
    if (typeof v !== "boolean") {
      this.problems.add(this.key(name), `must be true or false (got ${show(v)})`);
      return rule.default ?? false;
    }
    return v;
  }

  stringList(name: string, item: StringRule & { readonly minItems?: number } = {}): string[] {
    const v = this.take(name);
    if (v === undefined) return [...this.missing<readonly string[]>(name, { example: item.example }, [])];
    if (!Array.isArray(v)) {
      this.problems.add(this.key(name), `must be a list (got ${show(v)})`);
      return [];
    }
    if (v.length < (item.minItems ?? 1)) {
      this.problems.add(this.key(name), `must list at least ${item.minItems ?? 1} item(s) (got ${show(v)})`);
    }
    const element = new ObjectReader(this.problems, this.key(name), Object.fromEntries(v.map((x, i) => [`${i}`, x])));
    const out = v.map((_, i) => element.string(`${i}`, { ...item, default: undefined }));
    return out;
  }

  /** Reports every key of this object that no reader asked for. */
  done(): void {
    for (const name of Object.keys(this.value)) {
      if (!this.read.has(name)) {
        const known = [...this.read].sort().join(", ");
        this.problems.add(this.key(name), `is not a known key${known ? ` (known: ${known})` : ""}`);
      }
    }
  }

  key(name: string): string {
    return this.path.endsWith(":") ? `${this.path}${name}` : `${this.path}.${name}`;
  }

  private take(name: string): unknown {
    this.read.add(name);
    const v = this.value[name];
    return v === null ? undefined : v;
  }

  private missing<T>(name: string, rule: Common<T>, fallback: T): T {
    if (rule.default !== undefined) return rule.default;
    this.problems.add(this.key(name), `required key is missing${rule.example ? ` (for example ${rule.example})` : ""}`);
    return fallback;
  }
}

function describeRange(rule: NumberRule): string {
  if (rule.min !== undefined && rule.max !== undefined) return ` from ${rule.min} to ${rule.max}`;
  if (rule.min !== undefined) return ` >= ${rule.min}`;
  if (rule.max !== undefined) return ` <= ${rule.max}`;
  return "";
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
