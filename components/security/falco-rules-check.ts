import * as yaml from "js-yaml";
import { FALCO_DEFAULT_LISTS, FALCO_DEFAULT_MACROS, FALCO_PRIORITIES } from "./falco-rules";

/**
 * Reads a Falco rules file the way Falco's rule loader does, without Falco: a YAML sequence whose items are each
 * one `rule`, `macro` or `list` with their keys; conditions parsed with Falco's filter grammar (and/or/not,
 * parentheses, `field op value`, `field in (list, ...)`, macro names); outputs with `%field` references. It
 * reports what Falco would refuse to load (unknown keys, missing desc/condition/output/priority, a priority outside
 * Falco's set, a macro or list that is not defined before it is used, a malformed condition) and two house rules:
 * `in`/`pmatch`/`intersects` name lists only (values live in lists, not inline), and no output uses the seed's
 * `alert(...)`, which Falco would print literally.
 */

const RULE_KEYS = new Set([
  "rule",
  "desc",
  "condition",
  "output",
  "priority",
  "tags",
  "enabled",
  "exceptions",
  "source",
  "warn_evttypes",
  "skip-if-unknown-filter",
]);
const MACRO_KEYS = new Set(["macro", "condition"]);
const LIST_KEYS = new Set(["list", "items"]);

/** Field classes of the syscall source (https://falco.org/docs/reference/rules/supported-fields/). */
const FIELD_CLASSES = new Set(["evt", "proc", "thread", "user", "group", "fd", "fs", "container", "k8s", "syscall"]);
const FIELD = /^([a-z0-9_]+)\.[a-zA-Z0-9_.]+(\[[^\]]*\])?$/;
const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const BINARY_OPERATORS = new Set([
  "=",
  "==",
  "!=",
  "<",
  "<=",
  ">",
  ">=",
  "contains",
  "icontains",
  "bcontains",
  "startswith",
  "bstartswith",
  "endswith",
  "glob",
  "iglob",
  "regex",
]);
const LIST_OPERATORS = new Set(["in", "intersects", "pmatch"]);
const UNARY_OPERATORS = new Set(["exists"]);

type Token = { kind: "lparen" | "rparen" | "comma" | "op" | "string" | "word"; text: string };

function tokenize(condition: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < condition.length) {
    const c = condition[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "(") {
      tokens.push({ kind: "lparen", text: c });
      i++;
    } else if (c === ")") {
      tokens.push({ kind: "rparen", text: c });
      i++;
    } else if (c === ",") {
      tokens.push({ kind: "comma", text: c });
      i++;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < condition.length && condition[j] !== c) j += condition[j] === "\\" ? 2 : 1;
      if (j >= condition.length) throw new Error(`unterminated string at ${i}`);
      tokens.push({ kind: "string", text: condition.slice(i + 1, j) });
      i = j + 1;
    } else if ("=<>!".includes(c)) {
      const two = condition.slice(i, i + 2);
      const op = ["==", "!=", "<=", ">="].includes(two) ? two : c;
      if (op === "!") throw new Error(`unexpected "!" at ${i}`);
      tokens.push({ kind: "op", text: op });
      i += op.length;
    } else {
      const m = /^[^\s(),=<>!"']+/.exec(condition.slice(i));
      if (!m) throw new Error(`unexpected character "${c}" at ${i}`);
      tokens.push({ kind: "word", text: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

/** What a condition refers to. */
export interface ConditionReferences {
  readonly macros: string[];
  readonly lists: string[];
  readonly fields: string[];
  /** Inline values found inside `in (...)` and friends (house rule: there should be none). */
  readonly inlineValues: string[];
}

/** Parses a condition with Falco's filter grammar; throws with the position of the first syntax error. */
export function parseCondition(condition: string): ConditionReferences {
  const tokens = tokenize(condition);
  const refs = { macros: [] as string[], lists: [] as string[], fields: [] as string[], inlineValues: [] as string[] };
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const next = (): Token => {
    const t = tokens[pos++];
    if (t === undefined) throw new Error("unexpected end of condition");
    return t;
  };
  const isWord = (t: Token | undefined, text: string) => t?.kind === "word" && t.text === text;

  const parseOr = (): void => {
    parseAnd();
    while (isWord(peek(), "or")) {
      next();
      parseAnd();
    }
  };
  const parseAnd = (): void => {
    parseNot();
    while (isWord(peek(), "and")) {
      next();
      parseNot();
    }
  };
  const parseNot = (): void => {
    if (isWord(peek(), "not")) {
      next();
      parseNot();
      return;
    }
    parsePrimary();
  };
  const parsePrimary = (): void => {
    const t = next();
    if (t.kind === "lparen") {
      parseOr();
      const close = next();
      if (close.kind !== "rparen") throw new Error(`expected ")" but found "${close.text}"`);
      return;
    }
    if (t.kind !== "word" || ["and", "or", "not"].includes(t.text)) {
      throw new Error(`expected a field, a macro or "(" but found "${t.text}"`);
    }
    const op = peek();
    const isOperator =
      op !== undefined &&
      (op.kind === "op" ||
        (op.kind === "word" &&
          (BINARY_OPERATORS.has(op.text) || LIST_OPERATORS.has(op.text) || UNARY_OPERATORS.has(op.text))));
    if (!isOperator) {
      if (!NAME.test(t.text))
        throw new Error(`"${t.text}" is neither a macro name nor a field followed by an operator`);
      refs.macros.push(t.text);
      return;
    }
    if (!FIELD.test(t.text)) throw new Error(`"${t.text}" is not a field name (class.field)`);
    refs.fields.push(t.text);
    const operator = next().text;
    if (UNARY_OPERATORS.has(operator)) return;
    if (LIST_OPERATORS.has(operator)) {
      if (next().kind !== "lparen") throw new Error(`expected "(" after "${operator}"`);
      for (;;) {
        const item = next();
        if (item.kind === "rparen") break;
        if (item.kind === "word" && NAME.test(item.text)) refs.lists.push(item.text);
        else if (item.kind === "word" || item.kind === "string") refs.inlineValues.push(item.text);
        else throw new Error(`unexpected "${item.text}" in "${operator} (...)"`);
        const sep = next();
        if (sep.kind === "rparen") break;
        if (sep.kind !== "comma") throw new Error(`expected "," or ")" but found "${sep.text}"`);
      }
      return;
    }
    if (!BINARY_OPERATORS.has(operator)) throw new Error(`unknown operator "${operator}"`);
    const value = next();
    // `evt.dir = <` compares with the bare value "<".
    if (value.kind !== "word" && value.kind !== "string" && value.kind !== "op") {
      throw new Error(`expected a value after "${operator}" but found "${value.text}"`);
    }
  };

  if (tokens.length === 0) throw new Error("empty condition");
  parseOr();
  if (pos !== tokens.length) throw new Error(`unexpected "${tokens[pos].text}" after the end of the condition`);
  return refs;
}

/** The `%field` references of an output format. */
export function outputFields(output: string): string[] {
  return [...output.matchAll(/%([^\s,()=]*)/g)].map((m) => m[1]);
}

export interface FalcoRulesCheckOptions {
  /** Macros defined by files Falco loads before this one. Default: FALCO_DEFAULT_MACROS. */
  readonly defaultMacros?: readonly string[];
  /** Lists defined by files Falco loads before this one. Default: FALCO_DEFAULT_LISTS. */
  readonly defaultLists?: readonly string[];
}

function fieldProblem(field: string): string | undefined {
  const m = FIELD.exec(field);
  if (!m) return `"%${field}" is not a field reference`;
  return FIELD_CLASSES.has(m[1]) ? undefined : `unknown field class "${m[1]}" in "${field}"`;
}

/** Every problem Falco (or the house rules above) would find in a rules file; empty when it loads cleanly. */
export function falcoRulesProblems(rulesYaml: string, options: FalcoRulesCheckOptions = {}): string[] {
  const problems: string[] = [];
  let doc: unknown;
  try {
    doc = yaml.load(rulesYaml);
  } catch (e) {
    return [`not valid YAML: ${(e as Error).message}`];
  }
  if (!Array.isArray(doc)) return ["a rules file must be a YAML sequence of rule, macro and list items"];
  const macros = new Set<string>(options.defaultMacros ?? FALCO_DEFAULT_MACROS);
  const lists = new Set<string>(options.defaultLists ?? FALCO_DEFAULT_LISTS);
  const rules = new Set<string>();
  const priorities = new Set<string>(FALCO_PRIORITIES);

  const checkCondition = (where: string, condition: unknown): void => {
    if (typeof condition !== "string" || condition.trim() === "") {
      problems.push(`${where}: condition must be a non-empty string`);
      return;
    }
    let refs: ConditionReferences;
    try {
      refs = parseCondition(condition);
    } catch (e) {
      problems.push(`${where}: condition does not parse: ${(e as Error).message}`);
      return;
    }
    for (const m of refs.macros) if (!macros.has(m)) problems.push(`${where}: macro "${m}" is not defined before use`);
    for (const l of refs.lists)
      if (!lists.has(l))
        problems.push(`${where}: list "${l}" is not defined before use (inline values belong in a list)`);
    for (const v of refs.inlineValues)
      problems.push(`${where}: inline value "${v}" in a list operator: put it in a list`);
    for (const f of refs.fields) {
      const p = fieldProblem(f);
      if (p) problems.push(`${where}: ${p}`);
    }
  };

  for (const [index, item] of doc.entries()) {
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      problems.push(`item ${index}: must be a mapping`);
      continue;
    }
    const record = item as Record<string, unknown>;
    const kinds = ["rule", "macro", "list"].filter((k) => k in record);
    if (kinds.length !== 1) {
      problems.push(`item ${index}: must have exactly one of rule, macro, list (has ${kinds.join(", ") || "none"})`);
      continue;
    }
    const kind = kinds[0];
    const name = record[kind];
    const where = `${kind} "${String(name)}"`;
    if (typeof name !== "string" || name.trim() === "") {
      problems.push(`item ${index}: ${kind} name must be a non-empty string`);
      continue;
    }
    const allowed = kind === "rule" ? RULE_KEYS : kind === "macro" ? MACRO_KEYS : LIST_KEYS;
    for (const key of Object.keys(record)) if (!allowed.has(key)) problems.push(`${where}: unknown key "${key}"`);

    if (kind === "list") {
      const items = record.items;
      if (!Array.isArray(items) || items.length === 0) problems.push(`${where}: items must be a non-empty sequence`);
      else if (items.some((v) => typeof v !== "string" || v === "")) problems.push(`${where}: items must be strings`);
      if (lists.has(name) && !(options.defaultLists ?? FALCO_DEFAULT_LISTS).includes(name)) {
        problems.push(`${where}: defined twice`);
      }
      lists.add(name);
    } else if (kind === "macro") {
      checkCondition(where, record.condition);
      if ((options.defaultMacros ?? FALCO_DEFAULT_MACROS).includes(name)) {
        problems.push(`${where}: would replace Falco's default macro of the same name`);
      } else if (macros.has(name)) problems.push(`${where}: defined twice`);
      macros.add(name);
    } else {
      if (rules.has(name)) problems.push(`${where}: defined twice`);
      rules.add(name);
      for (const key of ["desc", "output"]) {
        if (typeof record[key] !== "string" || (record[key] as string).trim() === "") {
          problems.push(`${where}: ${key} must be a non-empty string`);
        }
      }
      checkCondition(where, record.condition);
      if (typeof record.priority !== "string" || !priorities.has(record.priority)) {
        problems.push(
          `${where}: priority must be one of ${FALCO_PRIORITIES.join(" ")} (got ${JSON.stringify(record.priority)})`,
        );
      }
      if (
        record.tags !== undefined &&
        (!Array.isArray(record.tags) || record.tags.some((t) => typeof t !== "string"))
      ) {
        problems.push(`${where}: tags must be a sequence of strings`);
      }
      if (typeof record.output === "string") {
        if (/\balert\s*\(/.test(record.output)) {
          problems.push(
            `${where}: output uses alert(...), which is not Falco syntax: write text with %field references`,
          );
        }
        for (const field of outputFields(record.output)) {
          const p = fieldProblem(field);
          if (p) problems.push(`${where}: output ${p}`);
        }
      }
    }
  }
  return problems;
}
