import test from "ava";
import * as yaml from "js-yaml";
import {
  applicationPipeline,
  auditPipeline,
  type LsPipeline,
  logstashYml,
  PIPELINE_FILES,
  pipelineFiles,
  pipelinesYml,
  renderPipeline,
} from "../components/logging/logstash-config";
import { parseLogstashConfig, pluginsOf } from "./logging-helpers";

const input = {
  elasticsearchUrl: "https://elasticsearch.logging.svc:9200",
  auditSources: ["zarish-sphere-api", "zarish-sphere-fhir"],
};
const files = pipelineFiles(input);
const application = parseLogstashConfig(files[PIPELINE_FILES["zarish-sphere"]]);
const audit = parseLogstashConfig(files[PIPELINE_FILES["zarish-audit"]]);

test("the rendered pipeline files parse back into exactly the typed pipelines", (t) => {
  t.deepEqual(application, JSON.parse(JSON.stringify(applicationPipeline(input))));
  t.deepEqual(audit, JSON.parse(JSON.stringify(auditPipeline(input))));
});

test("the reader used above refuses malformed configuration (so the round trip can fail)", (t) => {
  t.throws(() => parseLogstashConfig("input { beats { port => 5044 }"), { message: /expected/ });
  t.throws(() => parseLogstashConfig('filter { mutate { add_field => { "a" => "b } } }'), { message: /unterminated/ });
  t.throws(() => parseLogstashConfig("inputs { }"), { message: /unknown section/ });
});

test("seed pipeline: beats input on 5044 with TLS", (t) => {
  t.is(application.input.length, 1);
  const [beats] = pluginsOf(application.input);
  t.is(beats.plugin, "beats");
  t.is(beats.settings.port, 5044);
  t.is(beats.settings.ssl_enabled, true);
  t.truthy(beats.settings.ssl_certificate);
  t.truthy(beats.settings.ssl_key);
});

test("seed pipeline: zarish-sphere-api events get json on message, date from ISO8601 timestamp, service and environment", (t) => {
  t.is(application.filter.length, 1);
  const conditional = application.filter[0];
  if (!("if" in conditional)) return t.fail("the filter is not a conditional");
  t.is(conditional.if, '[fields][service] == "zarish-sphere-api"');
  t.is(conditional.else, undefined);
  t.deepEqual(
    conditional.statements.map((s) => ("plugin" in s ? s.plugin : "if")),
    ["json", "date", "mutate"],
  );
  const [json, date, mutate] = pluginsOf(conditional.statements);
  t.deepEqual(json.settings, { source: "message" });
  t.deepEqual(date.settings, { match: ["timestamp", "ISO8601"] });
  t.deepEqual(mutate.settings, {
    add_field: { service: "zarish-sphere-api", environment: "%{[fields][environment]}" },
  });
});

test("seed pipeline: audit events go to the audit pipeline, everything else to the daily zarish-sphere index", (t) => {
  const output = application.output[0];
  if (!("if" in output)) return t.fail("the output is not a conditional");
  t.is(output.if, '[fields][log_type] == "audit" or [log_type] == "audit"');
  t.deepEqual(pluginsOf(output.statements), [{ plugin: "pipeline", settings: { send_to: ["zarish-audit"] } }]);
  const [es] = pluginsOf(output.else ?? []);
  t.is(es.plugin, "elasticsearch");
  t.is(es.settings.index, "zarish-sphere-%{+YYYY.MM.dd}");
  t.deepEqual(es.settings.hosts, ["https://elasticsearch.logging.svc:9200"]);
});

test("every Elasticsearch output verifies TLS, authenticates as logstash_writer from the environment, manages no template", (t) => {
  const outputs = [...pluginsOf(application.output), ...pluginsOf(audit.output)].filter(
    (p) => p.plugin === "elasticsearch",
  );
  t.is(outputs.length, 2);
  for (const es of outputs) {
    t.is(es.settings.user, "logstash_writer");
    t.is(es.settings.password, `\${LOGSTASH_WRITER_PASSWORD}`);
    t.is(es.settings.ssl_enabled, true);
    t.is(es.settings.ssl_verification_mode, "full");
    t.deepEqual(es.settings.ssl_certificate_authorities, ["/usr/share/logstash/certs/elasticsearch/ca.crt"]);
    t.is(es.settings.manage_template, false);
    t.is(es.settings.ilm_enabled, "false");
    t.is(es.settings.data_stream, "false");
  }
});

test("audit pipeline: input from the pipeline address, AuditLogger fields checked, daily zarish-audit-YYYY-MM-dd index, append-only and deduplicated", (t) => {
  t.deepEqual(pluginsOf(audit.input), [{ plugin: "pipeline", settings: { address: "zarish-audit" } }]);
  const conditions = audit.filter.filter((s) => "if" in s).map((s) => ("if" in s ? s.if : ""));
  t.true(conditions.includes("![event] or ![user] or ![action] or ![resource]"));
  t.true(conditions.includes('[fields][service] not in ["zarish-sphere-api", "zarish-sphere-fhir"]'));
  // Lines of other services are parsed here; zarish-sphere-api lines were parsed by the seed's filter.
  t.is(conditions[0], '[fields][service] != "zarish-sphere-api"');
  const plugins = pluginsOf(audit.filter);
  t.deepEqual(plugins.find((p) => p.plugin === "date")?.settings, { match: ["timestamp", "ISO8601"] });
  t.deepEqual(plugins.find((p) => p.plugin === "json")?.settings, { source: "message" });
  const fingerprint = plugins.find((p) => p.plugin === "fingerprint");
  t.is(fingerprint?.settings.target, "[@metadata][fingerprint]");
  const [es] = pluginsOf(audit.output);
  // The AuditLogger's zarish-audit-YYYY-MM-DD, in Logstash's Joda-Time pattern.
  t.is(es.settings.index, "zarish-audit-%{+YYYY-MM-dd}");
  t.is(es.settings.action, "create");
  t.is(es.settings.document_id, "%{[@metadata][fingerprint]}");
});

test("no event is dropped: no drop filter in either pipeline", (t) => {
  for (const pipeline of [application, audit]) {
    t.false(
      pluginsOf([...pipeline.filter, ...pipeline.output]).some((p) => p.plugin === "drop"),
      "a drop filter would lose events",
    );
  }
});

test("pipelines.yml: two pipelines, persisted queues with the configured size, dead letter queues, ECS off for audit", (t) => {
  const pipelines = yaml.load(
    pipelinesYml({ queueMaxBytes: "8192mb", deadLetterQueueMaxBytes: "819mb", workers: 2 }),
  ) as Record<string, unknown>[];
  t.deepEqual(
    pipelines.map((p) => [p["pipeline.id"], p["path.config"]]),
    [
      ["zarish-sphere", "/usr/share/logstash/pipeline/zarish-sphere.conf"],
      ["zarish-audit", "/usr/share/logstash/pipeline/zarish-audit.conf"],
    ],
  );
  for (const p of pipelines) {
    t.is(p["queue.type"], "persisted");
    t.is(p["queue.max_bytes"], "8192mb");
    t.is(p["dead_letter_queue.enable"], true);
    t.is(p["dead_letter_queue.max_bytes"], "819mb");
  }
  t.is(pipelines[1]["pipeline.ecs_compatibility"], "disabled");
  t.is(pipelines[0]["pipeline.ecs_compatibility"], undefined);
});

test("logstash.yml: API on all interfaces for the probes, data on the volume, legacy monitoring off", (t) => {
  const settings = yaml.load(logstashYml()) as Record<string, unknown>;
  t.is(settings["api.http.host"], "0.0.0.0");
  t.is(settings["path.data"], "/usr/share/logstash/data");
  t.is(settings["xpack.monitoring.enabled"], false);
});

test("renderPipeline: quotes are chosen so no string needs an escape, and both quotes in one string are refused", (t) => {
  const pipeline: LsPipeline = {
    input: [],
    filter: [{ plugin: "mutate", settings: { add_tag: ['say "hi"'] } }],
    output: [],
  };
  t.true(renderPipeline(pipeline, "x").includes(`add_tag => ['say "hi"']`));
  t.deepEqual(parseLogstashConfig(renderPipeline(pipeline, "x")).filter, pipeline.filter);
  t.throws(
    () =>
      renderPipeline({ input: [], filter: [{ plugin: "mutate", settings: { add_tag: [`"it's"`] } }], output: [] }, "x"),
    { message: /both quote characters/ },
  );
});
