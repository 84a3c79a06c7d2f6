import test from "ava";
import * as yaml from "js-yaml";
import {
  FALCO_DEFAULT_MACROS,
  FALCO_PRIORITIES,
  type FalcoRuleset,
  falcoConfig,
  falcoRulesProblems,
  parseCondition,
  platformFalcoRules,
  renderFalcoConfig,
  renderFalcoRules,
} from "../components/security";

const ARGS = {
  apiHost: "api.zarishsphere.com",
  databaseNamespace: "zarish-data",
  databaseClientNamespaces: ["backup"],
};
const RULES_YAML = renderFalcoRules(platformFalcoRules(ARGS));
/** The file as Falco's loader sees it: a YAML sequence of items. */
const ITEMS = yaml.load(RULES_YAML) as Record<string, unknown>[];
const RULES = ITEMS.filter((i) => "rule" in i) as Record<string, any>[];
const byName = (name: string) => {
  const rule = RULES.find((r) => r.rule === name);
  if (rule === undefined) throw new Error(`no rule "${name}"`);
  return rule;
};

test("the rendered rules load the way Falco reads a rules file", (t) => {
  t.true(Array.isArray(ITEMS));
  for (const item of ITEMS) {
    t.is(["rule", "macro", "list"].filter((k) => k in item).length, 1, JSON.stringify(item));
  }
  for (const rule of RULES) {
    for (const key of ["desc", "condition", "output", "priority"])
      t.is(typeof rule[key], "string", `${rule.rule}.${key}`);
    t.true((FALCO_PRIORITIES as readonly string[]).includes(rule.priority), `${rule.rule}: ${rule.priority}`);
    t.notRegex(rule.output, /alert\s*\(/, rule.rule);
    t.regex(rule.output, /%proc\.cmdline/, `${rule.rule} says what ran`);
    t.true(rule.tags.length > 0, `${rule.rule} has tags`);
  }
  t.deepEqual(falcoRulesProblems(RULES_YAML), []);
});

test("the rules rely on four macros of Falco's default rules file, and define every other macro and list they use", (t) => {
  t.deepEqual([...FALCO_DEFAULT_MACROS], ["spawned_process", "container", "open_read", "outbound"]);
  const defined = new Set(ITEMS.map((i) => (i.macro ?? i.list) as string | undefined).filter(Boolean));
  const used = new Set<string>();
  for (const item of ITEMS.filter((i) => typeof i.condition === "string")) {
    const refs = parseCondition(item.condition as string);
    for (const name of [...refs.macros, ...refs.lists]) used.add(name);
    t.deepEqual(refs.inlineValues, [], `${item.rule ?? item.macro}: values live in lists`);
  }
  const external = [...used].filter((name) => !defined.has(name)).sort();
  t.deepEqual(external, [...FALCO_DEFAULT_MACROS].sort());
});

test("the seed's two rules, rewritten: Falco priorities, %field outputs, container only, no root exemption", (t) => {
  const api = byName("Unauthorized API Access");
  t.is(api.priority, "ERROR", "the seed's HIGH");
  t.is(api.condition, "spawned_process and container and proc.name in (http_clients) and api_host_in_args");
  t.notRegex(api.condition, /user\.name/);
  const db = byName("Database Access from Container");
  t.is(db.priority, "WARNING", "the seed's MEDIUM");
  t.regex(db.condition, /not k8s\.ns\.name in \(database_client_namespaces\)/);
  t.notRegex(db.condition, /container\.name/);
  for (const rule of RULES) t.regex(rule.condition, /\bcontainer\b/, `${rule.rule} ignores host processes`);

  const list = (name: string) => ITEMS.find((i) => i.list === name)?.items;
  t.deepEqual(list("http_clients"), ["curl", "wget", "python", "python3"]);
  t.deepEqual(list("db_clients"), ["psql", "mysql", "mongo", "mongosh", "redis-cli"]);
  t.deepEqual(list("database_client_namespaces"), ["zarish-data", "backup"]);
  t.deepEqual(list("database_namespaces"), ["zarish-data"]);
  t.is(ITEMS.find((i) => i.macro === "api_host_in_args")?.condition, '(proc.args contains "api.zarishsphere.com")');
});

test("the clinical rules: shell, sensitive files, database client, database egress", (t) => {
  t.deepEqual(
    RULES.map((r) => [r.rule, r.priority]),
    [
      ["Unauthorized API Access", "ERROR"],
      ["Database Access from Container", "WARNING"],
      ["Shell Spawned in Workload Container", "WARNING"],
      ["Sensitive File Read by Unexpected Process", "ERROR"],
      ["Unexpected Outbound Connection from Database Namespace", "CRITICAL"],
    ],
  );
  t.regex(
    byName("Shell Spawned in Workload Container").condition,
    /proc\.name in \(workload_shells\) and container_exec_session/,
  );
  const sensitive = byName("Sensitive File Read by Unexpected Process").condition;
  t.regex(sensitive, /^open_read and container/);
  t.regex(sensitive, /os_credential_file and not proc\.name in \(credential_file_readers\)/);
  t.regex(sensitive, /workload_token_file and proc\.name in \(token_reading_tools, workload_shells\)/);
  const files = ITEMS.find((i) => i.list === "os_credential_files")?.items as string[];
  t.true(files.includes("/etc/shadow"));
  const tokens = ITEMS.find((i) => i.list === "workload_token_directories")?.items as string[];
  t.true(tokens.includes("/var/run/secrets/kubernetes.io/serviceaccount"));
  t.is(
    byName("Unexpected Outbound Connection from Database Namespace").condition,
    "outbound and container and in_database_namespace",
  );
});

test("database egress images, when given, are an exception by image (not by user or process name)", (t) => {
  const rules = platformFalcoRules({ ...ARGS, databaseEgressImages: ["docker.io/amazon/aws-cli"] });
  const rendered = renderFalcoRules(rules);
  t.deepEqual(falcoRulesProblems(rendered), []);
  const rule = rules.rules.find((r) => r.rule === "Unexpected Outbound Connection from Database Namespace");
  t.is(
    rule?.condition,
    "outbound and container and in_database_namespace and not container.image.repository in (database_egress_images)",
  );
  t.deepEqual(rules.lists.find((l) => l.list === "database_egress_images")?.items, ["docker.io/amazon/aws-cli"]);
});

test("falco.yaml: modern eBPF, default rules then rules.d, JSON events posted to falcosidekick", (t) => {
  const text = renderFalcoConfig(
    falcoConfig({ httpOutputUrl: "http://falcosidekick.security.svc:2801/", minimumRulePriority: "NOTICE" }),
  );
  const config = yaml.load(text) as Record<string, any>;
  t.is(config.engine.kind, "modern_ebpf");
  t.deepEqual(config.rules_files, ["/etc/falco/falco_rules.yaml", "/etc/falco/rules.d"]);
  t.is(config.priority, "notice");
  t.deepEqual(config.http_output, {
    enabled: true,
    url: "http://falcosidekick.security.svc:2801/",
    user_agent: "falcosecurity/falco",
  });
  t.true(config.json_output);
  t.deepEqual(config.container_engines.cri, {
    enabled: true,
    sockets: ["/run/containerd/containerd.sock"],
    disable_async: false,
  });
  t.like(config.webserver, { enabled: true, listen_port: 8765, k8s_healthz_endpoint: "/healthz" });
});

// The checker must catch what Falco would refuse (or what the seed got wrong): one file per problem.
function withRule(rule: Record<string, unknown>, extra: Record<string, unknown>[] = []): string {
  return yaml.dump([
    ...extra,
    {
      rule: "R",
      desc: "d",
      condition: "spawned_process and container",
      output: "x %proc.name",
      priority: "WARNING",
      tags: ["t"],
      ...rule,
    },
  ]);
}

const broken: [string, string, RegExp][] = [
  ["the seed's alert(...) output", withRule({ output: 'alert("x", user=%user.name)' }), /output uses alert\(\.\.\.\)/],
  [
    "the seed's HIGH priority",
    withRule({ priority: "HIGH" }),
    /priority must be one of EMERGENCY ALERT CRITICAL ERROR WARNING NOTICE INFORMATIONAL DEBUG \(got "HIGH"\)/,
  ],
  ["a missing desc", withRule({ desc: undefined }), /rule "R": desc must be a non-empty string/],
  ["a missing output", withRule({ output: undefined }), /rule "R": output must be a non-empty string/],
  [
    "an undefined macro",
    withRule({ condition: "spawned_process and api_host_in_args" }),
    /macro "api_host_in_args" is not defined before use/,
  ],
  [
    "a macro used before its definition",
    yaml.dump([
      { macro: "a", condition: "b" },
      { macro: "b", condition: "container" },
    ]),
    /macro "a": macro "b" is not defined before use/,
  ],
  [
    "an undefined list",
    withRule({ condition: "spawned_process and proc.name in (http_clients)" }),
    /list "http_clients" is not defined before use/,
  ],
  [
    "an inline value in a list operator",
    withRule({ condition: 'spawned_process and proc.name in ("curl")' }),
    /inline value "curl" in a list operator/,
  ],
  [
    "an item of two kinds",
    yaml.dump([{ macro: "m", list: "l", condition: "container" }]),
    /item 0: must have exactly one of rule, macro, list \(has macro, list\)/,
  ],
  ["an unknown key", withRule({ severity: "high" }), /rule "R": unknown key "severity"/],
  [
    "unbalanced parentheses",
    withRule({ condition: "(spawned_process and container" }),
    /condition does not parse: unexpected end of condition/,
  ],
  ["a dangling operator", withRule({ condition: "spawned_process and" }), /condition does not parse/],
  [
    "an unknown field class",
    withRule({ condition: "container and pod.name = x" }),
    /unknown field class "pod" in "pod\.name"/,
  ],
  ["an unknown output field", withRule({ output: "x %pod.name" }), /output unknown field class "pod"/],
  [
    "a replaced default macro",
    yaml.dump([{ macro: "container", condition: "proc.name = x" }]),
    /would replace Falco's default macro/,
  ],
  ["an empty list", yaml.dump([{ list: "l", items: [] }]), /list "l": items must be a non-empty sequence/],
  ["a file that is not a sequence", yaml.dump({ rule: "R" }), /must be a YAML sequence/],
];
for (const [what, file, message] of broken) {
  test(`the rules check rejects ${what}`, (t) => {
    const problems = falcoRulesProblems(file);
    t.true(
      problems.some((p) => message.test(p)),
      `expected ${message} in ${JSON.stringify(problems)}`,
    );
  });
}

test("the condition parser reads Falco's own macro syntax (evt.dir=<, nested parentheses)", (t) => {
  const refs = parseCondition("(evt.type in (execve, execveat) and evt.dir=<) and not (proc.aname[2] exists)");
  t.deepEqual(refs.fields, ["evt.type", "evt.dir", "proc.aname[2]"]);
  t.deepEqual(refs.lists, ["execve", "execveat"]);
  t.deepEqual(refs.macros, []);
});

test("a ruleset with a seed-style rule would fail the component before any resource is registered", (t) => {
  const seedStyle: FalcoRuleset = {
    lists: [],
    macros: [],
    rules: [
      {
        rule: "Unauthorized API Access",
        desc: "seed",
        condition: "spawned_process and proc.name in (curl, wget, python) and not user.name in (root, zarishsphere)",
        output: 'alert("Unauthorized API access detected", user=%user.name)',
        priority: "HIGH" as never,
        tags: ["security"],
      },
    ],
  };
  const problems = falcoRulesProblems(renderFalcoRules(seedStyle));
  t.true(problems.some((p) => /alert\(/.test(p)));
  t.true(problems.some((p) => /HIGH/.test(p)));
  t.true(problems.some((p) => /list "curl" is not defined/.test(p)));
});
