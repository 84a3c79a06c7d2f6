import { execFile } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import test from "ava";
import * as yaml from "js-yaml";
import {
  ES_CONFIG_KEYS,
  elasticsearchInitScript,
  elasticsearchReadinessScript,
  elasticsearchSettings,
  initialMasterNodesSettings,
  renderElasticsearchYml,
} from "../components/logging/elasticsearch-config";
import { filebeatSettings } from "../components/logging/filebeat-config";
import { kibanaSettings } from "../components/logging/kibana-config";
import { certManagerObjects } from "../components/logging/tls";
import { validateManifest } from "./helpers/schema";
import { requireTool } from "./helpers/tools";

function exec(file: string, args: string[], env?: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) =>
    execFile(file, args, { env: env ?? process.env }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    ),
  );
}

test("elasticsearch.yml: one cluster discovered through the headless Service, not the seed's single-node", (t) => {
  const settings = yaml.load(renderElasticsearchYml(elasticsearchSettings({ namespace: "logging" }), "h")) as Record<
    string,
    unknown
  >;
  t.is(settings["cluster.name"], "zarish-sphere");
  t.is(settings["node.name"], `\${POD_NAME}`);
  t.deepEqual(settings["discovery.seed_hosts"], ["elasticsearch-headless.logging.svc"]);
  t.is(settings["discovery.type"], undefined);
  t.is(settings["cluster.initial_master_nodes"], undefined, "only on a node's first start");
  t.is(settings["node.store.allow_mmap"], false, "vm.max_map_count without a privileged container");
});

test("elasticsearch.yml: security on, TLS on transport (own CA) and HTTP, no destructive wildcards", (t) => {
  const s = elasticsearchSettings({ namespace: "logging" });
  t.like(s, {
    "xpack.security.enabled": true,
    "xpack.security.transport.ssl.enabled": true,
    "xpack.security.transport.ssl.verification_mode": "certificate",
    "xpack.security.http.ssl.enabled": true,
    "action.destructive_requires_name": true,
  });
  t.deepEqual(s["xpack.security.transport.ssl.certificate_authorities"], ["certs/transport/ca.crt"]);
  t.deepEqual(s["xpack.security.http.ssl.certificate_authorities"], ["certs/http/ca.crt"]);
  t.false("s3.client.default.endpoint" in s);
  t.is(
    elasticsearchSettings({ namespace: "logging", snapshotRegion: "eu-west-1" })["s3.client.default.endpoint"],
    "s3.eu-west-1.amazonaws.com",
  );
});

test("cluster.initial_master_nodes: the StatefulSet's pod names", (t) => {
  t.deepEqual(initialMasterNodesSettings(3), {
    "cluster.initial_master_nodes": ["elasticsearch-0", "elasticsearch-1", "elasticsearch-2"],
  });
  // Flat keys, so the fragment can be appended to elasticsearch.yml and still parse as one mapping.
  const combined =
    renderElasticsearchYml(elasticsearchSettings({ namespace: "logging" })) +
    renderElasticsearchYml(initialMasterNodesSettings(3));
  t.deepEqual((yaml.load(combined) as Record<string, unknown>)["cluster.initial_master_nodes"], [
    "elasticsearch-0",
    "elasticsearch-1",
    "elasticsearch-2",
  ]);
});

test("the Elasticsearch scripts are shellcheck-clean bash", async (t) => {
  const shellcheck = requireTool("shellcheck", "shellcheck");
  const dir = mkdtempSync(path.join(tmpdir(), "logging-es-scripts-"));
  try {
    const scripts = {
      "init.sh": elasticsearchInitScript({ snapshots: true }),
      "readiness-green.sh": elasticsearchReadinessScript("green"),
      "readiness-yellow.sh": elasticsearchReadinessScript("yellow"),
    };
    for (const [name, content] of Object.entries(scripts)) {
      writeFileSync(path.join(dir, name), content);
      const result = await exec(shellcheck, ["--shell=bash", "--severity=style", path.join(dir, name)]);
      t.is(result.code, 0, `${name}: ${result.out}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the init script copies the image's config, adds initial_master_nodes on a first start only, links the IRSA token", async (t) => {
  const bash = requireTool("bash", "bash");
  const dir = mkdtempSync(path.join(tmpdir(), "logging-es-init-"));
  try {
    const paths = {
      image: `${dir}/image`,
      configMap: `${dir}/configmap`,
      target: `${dir}/target`,
      data: `${dir}/data`,
    };
    for (const d of Object.values(paths)) mkdirSync(d);
    writeFileSync(`${paths.image}/jvm.options`, "-XX:+UseG1GC\n");
    writeFileSync(`${paths.image}/${ES_CONFIG_KEYS.settings}`, "image: default\n");
    writeFileSync(`${paths.configMap}/${ES_CONFIG_KEYS.settings}`, "cluster.name: zarish-sphere\n");
    writeFileSync(
      `${paths.configMap}/${ES_CONFIG_KEYS.bootstrapSettings}`,
      "cluster.initial_master_nodes:\n  - elasticsearch-0\n",
    );
    const script = `${dir}/init.sh`;
    writeFileSync(script, elasticsearchInitScript({ snapshots: true, paths }));

    const first = await exec(bash, [script]);
    t.is(first.code, 0, first.out);
    t.is(readFileSync(`${paths.target}/jvm.options`, "utf8"), "-XX:+UseG1GC\n");
    t.is(
      readFileSync(`${paths.target}/${ES_CONFIG_KEYS.settings}`, "utf8"),
      "cluster.name: zarish-sphere\ncluster.initial_master_nodes:\n  - elasticsearch-0\n",
    );
    const link = `${paths.target}/repository-s3/aws-web-identity-token-file`;
    t.true(lstatSync(link).isSymbolicLink());
    t.is(readlinkSync(link), "/var/run/secrets/eks.amazonaws.com/serviceaccount/token");

    // A restart: the volume holds cluster state, the fresh emptyDir gets no bootstrap setting.
    rmSync(paths.target, { recursive: true });
    mkdirSync(paths.target);
    mkdirSync(`${paths.data}/_state`);
    const restart = await exec(bash, [script]);
    t.is(restart.code, 0, restart.out);
    t.is(readFileSync(`${paths.target}/${ES_CONFIG_KEYS.settings}`, "utf8"), "cluster.name: zarish-sphere\n");

    writeFileSync(script, elasticsearchInitScript({ snapshots: false, paths }));
    rmSync(paths.target, { recursive: true });
    mkdirSync(paths.target);
    t.is((await exec(bash, [script])).code, 0);
    t.false(existsSync(`${paths.target}/repository-s3`), "no token link without snapshots");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the readiness probe waits for the given health on first start, then only for the node to answer", async (t) => {
  const bash = requireTool("bash", "bash");
  const dir = mkdtempSync(path.join(tmpdir(), "logging-es-ready-"));
  try {
    // A stand-in curl that records its URL and answers with the status in $FAKE_STATUS.
    mkdirSync(`${dir}/bin`);
    writeFileSync(
      `${dir}/bin/curl`,
      `#!/bin/sh\ncat > /dev/null\nfor a; do last="$a"; done\necho "$last" >> "${dir}/urls"\nprintf '%s' "$FAKE_STATUS"\n`,
      { mode: 0o755 },
    );
    const script = elasticsearchReadinessScript("green").replace("marker=/tmp/.es-ready-once", `marker=${dir}/marker`);
    writeFileSync(`${dir}/readiness.sh`, script);
    const env = (status: string) => ({
      PATH: `${dir}/bin:${process.env.PATH}`,
      FAKE_STATUS: status,
      ELASTIC_PASSWORD: "pw",
    });
    t.not((await exec(bash, [`${dir}/readiness.sh`], env("408"))).code, 0, "not ready while the cluster is not green");
    t.is((await exec(bash, [`${dir}/readiness.sh`], env("200"))).code, 0);
    t.true(existsSync(`${dir}/marker`));
    t.is((await exec(bash, [`${dir}/readiness.sh`], env("200"))).code, 0);
    t.not((await exec(bash, [`${dir}/readiness.sh`], env("000"))).code, 0, "not ready when the node does not answer");
    t.deepEqual(readFileSync(`${dir}/urls`, "utf8").trim().split("\n"), [
      "https://localhost:9200/_cluster/health?wait_for_status=green&timeout=1s",
      "https://localhost:9200/_cluster/health?wait_for_status=green&timeout=1s",
      "https://localhost:9200/_cluster/health?local=true",
      "https://localhost:9200/_cluster/health?local=true",
    ]);
    t.false(script.includes("elastic:pw"), "the password is not in the script");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("filebeat.yml: container logs (filestream + container parser), pod metadata, service and environment fields, TLS to Logstash", (t) => {
  const s = filebeatSettings({ environment: "prod", logstashHost: "logstash.logging.svc:5044" }) as Record<string, any>;
  const [input] = s["filebeat.inputs"];
  t.is(input.type, "filestream");
  t.deepEqual(input.paths, ["/var/log/containers/*.log"]);
  t.deepEqual(input.parsers, [{ container: { stream: "all", format: "auto" } }]);
  t.is(input["prospector.scanner.symlinks"], true);
  t.deepEqual(input.fields, { environment: "prod" });
  t.is(input.fields_under_root, false);
  const processors = input.processors as Record<string, any>[];
  t.truthy(processors[0].add_kubernetes_metadata);
  t.deepEqual(processors[1].copy_fields.fields, [
    { from: "kubernetes.labels.app_kubernetes_io/name", to: "fields.service" },
  ]);
  t.deepEqual(processors[3].add_fields, {
    when: { regexp: { message: '"log_type"\\s*:\\s*"audit"' } },
    target: "fields",
    fields: { log_type: "audit" },
  });
  t.true(
    new RegExp(processors[3].add_fields.when.regexp.message.replace(/\\s/g, "\\s")).test(
      '{"event":"x","log_type": "audit"}',
    ),
  );
  t.deepEqual(s["output.logstash"].hosts, ["logstash.logging.svc:5044"]);
  t.like(s["output.logstash"].ssl, {
    enabled: true,
    verification_mode: "full",
    certificate_authorities: ["/etc/filebeat/ca/ca.crt"],
  });
});

test("kibana.yml: kibana_system from the environment, verified TLS to Elasticsearch, TLS served, telemetry off", (t) => {
  const s = kibanaSettings({
    elasticsearchUrl: "https://elasticsearch.logging.svc:9200",
    publicHost: "kibana.zarishsphere.com",
  });
  t.like(s, {
    "elasticsearch.username": "kibana_system",
    "elasticsearch.password": `\${KIBANA_SYSTEM_PASSWORD}`,
    "elasticsearch.ssl.verificationMode": "full",
    "server.ssl.enabled": true,
    "server.publicBaseUrl": "https://kibana.zarishsphere.com",
    "telemetry.optIn": false,
  });
  t.deepEqual(s["elasticsearch.hosts"], ["https://elasticsearch.logging.svc:9200"]);
});

test("cert-manager objects: valid Issuers and Certificates, two CAs, node certificates from the right one", async (t) => {
  const objects = certManagerObjects("logging");
  for (const o of objects) {
    await t.notThrowsAsync(
      validateManifest({
        apiVersion: "cert-manager.io/v1",
        kind: o.kind,
        metadata: { name: o.name, namespace: "logging" },
        spec: o.spec,
      }),
      `${o.kind} ${o.name}`,
    );
  }
  const cert = (name: string) =>
    objects.find((o) => o.kind === "Certificate" && o.name === name)?.spec as Record<string, any>;
  t.is(cert("logging-ca").isCA, true);
  t.is(cert("elasticsearch-transport-ca").isCA, true);
  t.is(
    cert("elasticsearch-transport").issuerRef.name,
    "elasticsearch-transport-ca",
    "transport trusts only its own CA",
  );
  for (const leaf of ["elasticsearch-http", "logstash-beats", "kibana"]) t.is(cert(leaf).issuerRef.name, "logging-ca");
  t.true(cert("elasticsearch-http").dnsNames.includes("elasticsearch.logging.svc"));
  t.true(cert("elasticsearch-http").dnsNames.includes("localhost"));
  t.true(cert("logstash-beats").dnsNames.includes("logstash.logging.svc"));
  t.is(cert("logstash-beats").privateKey.encoding, "PKCS8", "the Beats input reads PKCS#8 keys only");
});

test("cert-manager validation catches a wrong value (so the test above can fail)", async (t) => {
  await t.throwsAsync(
    validateManifest({
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: { name: "x" },
      spec: { secretName: "x", issuerRef: { name: "i" }, privateKey: { algorithm: "DSA" } },
    }),
  );
});
