import { endpointUrl, type ServiceEndpoint } from "../../../k8s/endpoints";
import { toYaml } from "../yaml";

/** Fixed data source uids: the dashboards reference them, so they must not depend on names or order. */
export const DATASOURCE_UIDS = { prometheus: "prometheus", elasticsearch: "elasticsearch", jaeger: "jaeger" } as const;

export interface GrafanaDatasourcesArgs {
  /** Prometheus's Service (port 9090). */
  readonly prometheus: ServiceEndpoint;
  /** Elasticsearch's HTTP Service (port 9200). Omitted when the stack runs no Elasticsearch: no logs data source. */
  readonly elasticsearch?: ServiceEndpoint;
  /** Jaeger query's Service (port 16686). */
  readonly jaeger: ServiceEndpoint;
  /** Elasticsearch user Grafana reads logs as (a read-only role); required with `elasticsearch`. */
  readonly elasticsearchUser?: string;
  /**
   * Environment variable of the Grafana container that holds the Elasticsearch password (from a Secret,
   * secretKeyRef). Grafana expands `${NAME}` in provisioning files, so the file names the variable, never the
   * password. Default: "ES_PASSWORD".
   */
  readonly elasticsearchPasswordEnv?: string;
  /**
   * Environment variable holding the PEM CA certificate that signed Elasticsearch's HTTPS certificate. Unset:
   * Grafana verifies against its system CAs. Default: unset.
   */
  readonly elasticsearchCaCertEnv?: string;
  /** Index pattern of the application logs. Default: "zarish-sphere-*" (the Logstash pipeline's daily indices). */
  readonly elasticsearchIndex?: string;
}

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/** Grafana's datasources provisioning file (provisioning/datasources/*.yaml). */
export function renderGrafanaDatasources(args: GrafanaDatasourcesArgs): string {
  const passwordEnv = args.elasticsearchPasswordEnv ?? "ES_PASSWORD";
  const caEnv = args.elasticsearchCaCertEnv;
  const problems: string[] = [];
  if (!ENV_NAME.test(passwordEnv)) {
    problems.push(`elasticsearchPasswordEnv must be an environment variable name (got "${passwordEnv}")`);
  }
  if (caEnv !== undefined && !ENV_NAME.test(caEnv)) {
    problems.push(`elasticsearchCaCertEnv must be an environment variable name (got "${caEnv}")`);
  }
  const es = args.elasticsearch;
  if (es !== undefined && (args.elasticsearchUser ?? "").trim() === "") {
    problems.push("elasticsearchUser must not be empty when elasticsearch is set");
  }
  for (const [what, e] of Object.entries({ prometheus: args.prometheus, elasticsearch: es, jaeger: args.jaeger })) {
    if (e?.scheme === "tcp") problems.push(`${what} endpoint must be http or https (got tcp)`);
  }
  if (problems.length > 0) throw new Error(`grafana datasources: ${problems.join("; ")}`);

  return toYaml(
    {
      apiVersion: 1,
      datasources: [
        {
          name: "Prometheus",
          uid: DATASOURCE_UIDS.prometheus,
          type: "prometheus",
          access: "proxy",
          url: endpointUrl(args.prometheus),
          isDefault: true,
          editable: false,
          // timeInterval = the scrape interval, so $__rate_interval never spans fewer than two samples.
          jsonData: { httpMethod: "POST", timeInterval: "15s" },
        },
        ...(es === undefined
          ? []
          : [
              {
                name: "Elasticsearch logs",
                uid: DATASOURCE_UIDS.elasticsearch,
                type: "elasticsearch",
                access: "proxy",
                url: endpointUrl(es),
                basicAuth: true,
                basicAuthUser: args.elasticsearchUser,
                editable: false,
                jsonData: {
                  index: args.elasticsearchIndex ?? "zarish-sphere-*",
                  timeField: "@timestamp",
                  logMessageField: "message",
                  logLevelField: "level",
                  ...(caEnv === undefined ? {} : { tlsAuthWithCACert: true }),
                },
                secureJsonData: {
                  basicAuthPassword: `\${${passwordEnv}}`,
                  ...(caEnv === undefined ? {} : { tlsCACert: `\${${caEnv}}` }),
                },
              },
            ]),
        {
          name: "Jaeger",
          uid: DATASOURCE_UIDS.jaeger,
          type: "jaeger",
          access: "proxy",
          url: endpointUrl(args.jaeger),
          editable: false,
        },
      ],
    },
    "components/monitoring/config/grafana/datasources.ts",
  );
}
