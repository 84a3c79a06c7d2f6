import { NON_DISK_FSTYPES } from "../jobs";
import type { RuleFile } from "../types";

const FS = `fstype!~"${NON_DISK_FSTYPES}"`;

/** Node health: the trend before DiskSpaceLow, memory exhaustion before the OOM killer, nodes not Ready. */
export const nodeRules: RuleFile = {
  file: "nodes.rules.yml",
  groups: [
    {
      name: "nodes",
      rules: [
        {
          name: "NodeFilesystemPredictedFull",
          // The 6h trend extrapolated 24h ahead, only on filesystems already below 40% free, so that a short
          // burst of writes on an empty disk does not fire.
          expr: [
            `node_filesystem_avail_bytes{${FS}} / node_filesystem_size_bytes{${FS}} < 0.4`,
            `and predict_linear(node_filesystem_avail_bytes{${FS}}[6h], 24 * 3600) < 0`,
            `and node_filesystem_readonly{${FS}} == 0`,
          ].join("\n"),
          for: "1h",
          severity: "warning",
          summary: "Filesystem {{ $labels.mountpoint }} on {{ $labels.instance }} will fill within 24 hours",
          description:
            "{{ $labels.mountpoint }} ({{ $labels.device }}) on node {{ $labels.instance }} has {{ $value | humanizePercentage }} free and, at the rate of the last 6 hours, fills up within 24 hours.",
          inhibitGroup: "filesystem",
        },
        {
          name: "NodeMemoryPressure",
          expr: "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < 0.1",
          for: "15m",
          severity: "warning",
          summary: "Node {{ $labels.instance }} is low on memory",
          description:
            "Only {{ $value | humanizePercentage }} of the memory of node {{ $labels.instance }} is available (threshold 10%): the kubelet will start evicting pods.",
        },
        {
          name: "KubeNodeNotReady",
          expr: 'kube_node_status_condition{condition="Ready", status="true"} == 0',
          for: "15m",
          severity: "warning",
          summary: "Node {{ $labels.node }} is not Ready",
          description:
            "Kubernetes node {{ $labels.node }} has not been Ready for 15 minutes: its pods are being rescheduled and capacity is reduced.",
        },
      ],
    },
  ],
};
