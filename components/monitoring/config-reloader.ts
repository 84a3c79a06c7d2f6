import type * as k8s from "@pulumi/kubernetes";
import { hardenedContainer, images, resources } from "../k8s";

/** The reloader only watches directories and posts a request: a few MiB are plenty. */
export const RELOADER_COMPUTE = resources("10m", "16Mi", "50m", "32Mi");
export const RELOADER_PORT = 9533;

/** The configmap-reload sidecar: POSTs `webhookUrl` when the kubelet swaps one of the mounted ConfigMap directories. */
export function reloaderContainer(
  mounts: readonly { readonly volume: string; readonly path: string }[],
  webhookUrl: string,
  runAsUser: number,
): k8s.types.input.core.v1.Container {
  return hardenedContainer({
    name: "config-reloader",
    image: images.configReloader,
    args: [
      ...mounts.map((m) => `--volume-dir=${m.path}`),
      `--webhook-url=${webhookUrl}`,
      `--web.listen-address=:${RELOADER_PORT}`,
    ],
    ports: [{ name: "reloader-web", containerPort: RELOADER_PORT }],
    // Its web server (metrics and a landing page) runs beside the watcher; if it stops answering, restart it.
    readinessProbe: { httpGet: { path: "/", port: "reloader-web" }, periodSeconds: 10 },
    livenessProbe: { httpGet: { path: "/", port: "reloader-web" }, periodSeconds: 20, failureThreshold: 3 },
    volumeMounts: mounts.map((m) => ({ name: m.volume, mountPath: m.path, readOnly: true })),
    compute: RELOADER_COMPUTE,
    runAsUser,
  });
}
