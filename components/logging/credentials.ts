import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { recommendedLabels } from "../k8s";
import { KIBANA_ENV } from "./kibana-config";
import { CREDENTIAL_KEYS, NAMES, TLS_KEYS, USERS } from "./names";
import { clientUser, platformUsers, type UserSpec } from "./security-model";
import type { ElasticsearchClientCredentials, ElasticsearchClientSpec, SecretKeyRef } from "./types";

/**
 * Every password of the stack except `elastic` (which the Elasticsearch component owns): generated with
 * @pulumi/random, kept as Pulumi secrets, delivered as Kubernetes Secrets. They exist before the bootstrap Job
 * (which sets them in Elasticsearch) and before the workloads that use them, which the Job in turn precedes.
 * Passwords are alphanumeric: the bootstrap script places them into JSON and curl configuration unescaped.
 */

export interface LoggingCredentialsArgs {
  readonly namespace: string;
  /** Clients outside the stack, by user name. */
  readonly clients: Readonly<Record<string, ElasticsearchClientSpec>>;
}

/** The Secret name of a client's credentials (the same name in the logging and in the client's namespace). */
export function clientSecretName(username: string): string {
  return `elasticsearch-${username.replace(/_/g, "-")}-credentials`;
}

export class LoggingCredentials extends pulumi.ComponentResource {
  /** Users the bootstrap Job creates, with their password Secrets in the logging namespace. */
  public readonly users: readonly { readonly spec: UserSpec; readonly password: SecretKeyRef }[];
  public readonly kibanaSystemPassword: SecretKeyRef;
  public readonly clients: Readonly<Record<string, ElasticsearchClientCredentials>>;
  /** Every Secret, for dependsOn. */
  public readonly secrets: k8s.core.v1.Secret[] = [];

  constructor(name: string, args: LoggingCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:logging:LoggingCredentials", name, {}, opts);
    const labels = recommendedLabels({ name: "elasticsearch-credentials", component: "logging" });
    const password = (key: string, length = 32) =>
      pulumi.secret(new random.RandomPassword(`${name}-${key}`, { length, special: false }, { parent: this }).result);
    const secret = (
      key: string,
      secretName: string,
      namespace: string,
      stringData: Record<string, pulumi.Input<string>>,
    ) => {
      this.secrets.push(
        new k8s.core.v1.Secret(
          `${name}-${key}`,
          { metadata: { name: secretName, namespace, labels }, type: "Opaque", stringData },
          { parent: this },
        ),
      );
    };

    secret("kibana", NAMES.kibanaCredentials, args.namespace, {
      [KIBANA_ENV.password]: password("kibana-system"),
      // Kibana needs at least 32 characters for each encryption key; the same keys on every replica.
      [KIBANA_ENV.savedObjectsKey]: password("kibana-saved-objects-key", 48),
      [KIBANA_ENV.securityKey]: password("kibana-security-key", 48),
      [KIBANA_ENV.reportingKey]: password("kibana-reporting-key", 48),
    });
    this.kibanaSystemPassword = { name: NAMES.kibanaCredentials, key: KIBANA_ENV.password };

    const secretNames: Record<string, string> = {
      [USERS.logstashWriter]: NAMES.logstashCredentials,
      [USERS.exporter]: NAMES.exporterCredentials,
    };
    const users: { spec: UserSpec; password: SecretKeyRef }[] = [];
    for (const spec of platformUsers()) {
      const secretName = secretNames[spec.username];
      secret(spec.username, secretName, args.namespace, {
        [CREDENTIAL_KEYS.username]: spec.username,
        [CREDENTIAL_KEYS.password]: password(spec.username),
      });
      users.push({ spec, password: { name: secretName, key: CREDENTIAL_KEYS.password } });
    }

    const clients: Record<string, ElasticsearchClientCredentials> = {};
    for (const [username, client] of Object.entries(args.clients)) {
      const spec = clientUser(username, client.access);
      const secretName = clientSecretName(username);
      const data = { [CREDENTIAL_KEYS.username]: username, [CREDENTIAL_KEYS.password]: password(`client-${username}`) };
      // One copy for the bootstrap Job, one where the client's pods can mount it.
      secret(`client-${username}`, secretName, args.namespace, data);
      secret(`client-${username}-${client.namespace}`, secretName, client.namespace, data);
      users.push({ spec, password: { name: secretName, key: CREDENTIAL_KEYS.password } });
      clients[username] = {
        namespace: client.namespace,
        username,
        secretName,
        usernameKey: CREDENTIAL_KEYS.username,
        passwordKey: CREDENTIAL_KEYS.password,
        caConfigMap: NAMES.caConfigMap,
        caKey: TLS_KEYS.ca,
      };
    }
    this.users = users;
    this.clients = clients;
    this.registerOutputs({});
  }
}
