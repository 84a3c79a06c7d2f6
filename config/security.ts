import { formats } from "./formats";
import type { ObjectReader } from "./reader";
import type { AcmeServer, Environment, SecurityConfig } from "./types";

/** Parses `zarish-sphere-ops:security`. */
export function readSecurity(r: ObjectReader, env: Environment): SecurityConfig {
  const cm = r.object("certManager");
  const certManager = {
    install: cm.boolean("install", { default: false }),
    namespace: cm.string("namespace", { ...formats.dnsLabel, default: "cert-manager" }),
  };
  cm.done();
  const a = r.object("acme");
  const acme = {
    email: a.string("email", { ...formats.email, example: "admin@zarishsphere.com" }),
    // Prod issues publicly trusted certificates; staging uses Let's Encrypt's staging endpoint, whose
    // rate limits are far higher, so a misconfigured staging cannot exhaust the production limits.
    server: a.string("server", {
      oneOf: ["production", "staging"],
      default: env === "prod" ? "production" : "staging",
    }) as AcmeServer,
  };
  a.done();
  const certificateHosts = r.stringList("certificateHosts", { ...formats.domain, example: "[api.zarishsphere.com]" });
  const apiHost = r.string("apiHost", { ...formats.domain, example: "api.zarishsphere.com" });
  const f = r.object("falco");
  const falco = { enabled: f.boolean("enabled", { default: true }) };
  f.done();
  // Pods reach the API server at its endpoint addresses (NetworkPolicy sees them after kube-proxy's DNAT): on EKS
  // the VPC subnets of the control-plane ENIs. Required: there is no safe guess of a cluster's VPC.
  const api = r.object("kubeApiServer");
  const kubeApiServer = {
    cidrs: api.stringList("cidrs", { ...formats.ipv4Cidr, example: "[10.0.0.0/16]" }),
    port: api.integer("port", { min: 1, max: 65535, default: 443 }),
  };
  api.done();
  r.done();
  return { certManager, acme, certificateHosts, apiHost, falco, kubeApiServer };
}
