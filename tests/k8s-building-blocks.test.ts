import test from "ava";
import {
  checksum,
  hardenedContainer,
  images,
  imageVersion,
  namespaceLabels,
  PlatformNamespace,
  parseQuantity,
  recommendedLabels,
  resolveNamespaceArgs,
  resources,
} from "../components/k8s";
import { findResource, runComponent } from "./helpers/harness";

test("recommended labels carry every app.kubernetes.io key", (t) => {
  t.deepEqual(recommendedLabels({ name: "prometheus", component: "monitoring", version: "v2.53.3" }), {
    "app.kubernetes.io/name": "prometheus",
    "app.kubernetes.io/instance": "prometheus",
    "app.kubernetes.io/component": "monitoring",
    "app.kubernetes.io/part-of": "zarish-sphere",
    "app.kubernetes.io/managed-by": "pulumi",
    "app.kubernetes.io/version": "v2.53.3",
  });
});

test("every image is pinned to an exact version, never latest", (t) => {
  for (const [name, image] of Object.entries(images)) {
    const version = imageVersion(image);
    t.regex(version, /^v?\d+\.\d+(\.\d+)?(-[a-z0-9.]+)?$/, `${name}: ${image}`);
    t.false(image.includes(":latest"), name);
  }
  t.is(imageVersion("repo.example:5000/a/b:1.2.3@sha256:abc"), "1.2.3");
  t.is(imageVersion("busybox"), "");
});

test("a hardened container is restricted and keeps its requests and limits", (t) => {
  const c = hardenedContainer({
    name: "x",
    image: images.prometheus,
    compute: resources("100m", "128Mi", "200m", "256Mi"),
    runAsUser: 65534,
  });
  t.deepEqual(c.securityContext, {
    runAsNonRoot: true,
    runAsUser: 65534,
    runAsGroup: 65534,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  });
  t.deepEqual(c.resources, { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "200m", memory: "256Mi" } });
  t.is(c.imagePullPolicy, "IfNotPresent");
});

test("quantities parse like Kubernetes", (t) => {
  t.is(parseQuantity("100m"), 0.1);
  t.is(parseQuantity("2"), 2);
  t.is(parseQuantity("4Gi"), 4 * 2 ** 30);
  t.is(parseQuantity("1G"), 1e9);
  t.is(parseQuantity("1e3"), 1000);
  t.is(parseQuantity("12x"), undefined);
  t.is(parseQuantity(undefined), undefined);
});

test("checksum changes with content and is stable for the same content", (t) => {
  t.is(checksum({ a: "1", b: "2" }), checksum({ b: "2", a: "1" }));
  t.not(checksum("x"), checksum("y"));
  t.regex(checksum("x"), /^[0-9a-f]{16}$/);
});

test("namespace defaults to restricted PSA at a pinned version", (t) => {
  const resolved = resolveNamespaceArgs({ name: "monitoring", component: "monitoring" });
  t.is(resolved.podSecurity, "restricted");
  const labels = namespaceLabels(resolved);
  for (const mode of ["enforce", "audit", "warn"]) {
    t.is(labels[`pod-security.kubernetes.io/${mode}`], "restricted");
    t.is(labels[`pod-security.kubernetes.io/${mode}-version`], "v1.30");
  }
});

test("a namespace below restricted must say why", (t) => {
  const err = t.throws(() => resolveNamespaceArgs({ name: "agents", component: "x", podSecurity: "privileged" }));
  t.is(err?.message, 'namespace "agents": podSecurityReason is required for podSecurity "privileged"');
  const bad = t.throws(() => resolveNamespaceArgs({ name: "Bad_Name", component: "x" }));
  t.is(bad?.message, 'namespace name must be a DNS-1123 label (got "Bad_Name")');
});

test("a platform namespace registers the namespace, a default deny and the DNS allow", async (t) => {
  const recorded = await runComponent(() => new PlatformNamespace("bb-ns", { name: "bb", component: "test" }));
  const ns = findResource(recorded, "kubernetes:core/v1:Namespace", "bb-ns");
  t.is((ns.inputs.metadata as any).name, "bb");
  const deny = findResource(recorded, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "bb-ns-default-deny");
  t.deepEqual(deny.inputs.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  t.is((deny.inputs.metadata as any).namespace, "bb");
  t.deepEqual(deny.dependencies, [ns.urn], "the policy waits for its namespace");
  const dns = findResource(recorded, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "bb-ns-allow-dns");
  t.deepEqual((dns.inputs.spec as any).egress[0].ports, [
    { protocol: "UDP", port: 53 },
    { protocol: "TCP", port: 53 },
  ]);
});
