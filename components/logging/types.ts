import type { ElasticsearchClientAccess } from "./security-model";

/** A key of a Kubernetes Secret, for env secretKeyRef or a volume item. */
export interface SecretKeyRef {
  readonly name: string;
  readonly key: string;
}

/** A platform client of Elasticsearch outside the logging stack (Grafana, Jaeger, ...). */
export interface ElasticsearchClientSpec {
  /** Namespace the client runs in: its credentials Secret and the CA ConfigMap are created there. */
  readonly namespace: string;
  /** What it may do (security-model.ts): read the application logs, or own the jaeger-* indices. */
  readonly access: ElasticsearchClientAccess;
}

/** What a client needs to connect: user, password Secret and CA, all in its own namespace. */
export interface ElasticsearchClientCredentials {
  readonly namespace: string;
  readonly username: string;
  /** Secret with keys `username` and `password`. */
  readonly secretName: string;
  readonly usernameKey: "username";
  readonly passwordKey: "password";
  /** ConfigMap holding the logging CA certificate (filled by the bootstrap Job), key `ca.crt`. */
  readonly caConfigMap: string;
  readonly caKey: "ca.crt";
}
