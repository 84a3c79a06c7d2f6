import type { RuleFile } from "../types";

/**
 * Elasticsearch health from elasticsearch_exporter. Elasticsearch holds the application logs and the audit trail:
 * red means writes to some indices are rejected (audit events are lost), yellow means one more node failure
 * would lose data.
 */
export const elasticsearchRules: RuleFile = {
  file: "elasticsearch.rules.yml",
  groups: [
    {
      name: "elasticsearch",
      rules: [
        {
          name: "ElasticsearchClusterRed",
          expr: 'elasticsearch_cluster_health_status{color="red"} == 1',
          for: "5m",
          severity: "critical",
          summary: "Elasticsearch cluster {{ $labels.cluster }} is red",
          description:
            "Elasticsearch cluster {{ $labels.cluster }} has been red for 5 minutes: at least one primary shard is unassigned and logs and audit events for it are rejected.",
          inhibitGroup: "elasticsearch-health",
        },
        {
          name: "ElasticsearchClusterYellow",
          // Yellow is normal for a minute or two while a node restarts and its replicas recover.
          expr: 'elasticsearch_cluster_health_status{color="yellow"} == 1',
          for: "20m",
          severity: "warning",
          summary: "Elasticsearch cluster {{ $labels.cluster }} is yellow",
          description:
            "Elasticsearch cluster {{ $labels.cluster }} has been yellow for 20 minutes: some replica shards are unassigned, so one more node failure can lose data.",
          inhibitGroup: "elasticsearch-health",
        },
        {
          name: "ElasticsearchUnassignedShards",
          expr: "elasticsearch_cluster_health_unassigned_shards > 0",
          for: "30m",
          severity: "warning",
          summary: "Elasticsearch cluster {{ $labels.cluster }} has unassigned shards",
          description:
            "{{ $value }} shards of Elasticsearch cluster {{ $labels.cluster }} have been unassigned for 30 minutes.",
          inhibitGroup: "elasticsearch-health",
        },
      ],
    },
  ],
};
