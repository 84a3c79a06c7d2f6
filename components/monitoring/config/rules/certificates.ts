import type { RuleFile } from "../types";

const EXPIRY = "certmanager_certificate_expiration_timestamp_seconds - time()";

/**
 * Certificate health from cert-manager's own metrics. The seed checks expiry with an openssl script and a
 * 30-day warning; cert-manager already exports every Certificate's expiry, and watching the resource covers
 * every host it manages without a list of domains to keep in step. 30 days warns (the seed's WARNING_DAYS),
 * 7 days pages.
 */
export const certificateRules: RuleFile = {
  file: "certificates.rules.yml",
  groups: [
    {
      name: "certificates",
      rules: [
        {
          name: "CertificateExpiringSoon",
          // cert-manager renews a 90-day Let's Encrypt certificate 30 days before expiry (renewBefore = 1/3 of
          // the duration), exactly when this threshold is crossed; `for: 1h` leaves it time to finish.
          expr: `${EXPIRY} < 30 * 86400`,
          for: "1h",
          severity: "warning",
          summary: "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in less than 30 days",
          description:
            "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in {{ $value | humanizeDuration }} and cert-manager has not renewed it.",
          inhibitGroup: "certificate-expiry",
        },
        {
          name: "CertificateExpiryImminent",
          expr: `${EXPIRY} < 7 * 86400`,
          for: "10m",
          severity: "critical",
          summary: "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in less than 7 days",
          description:
            "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in {{ $value | humanizeDuration }}; clients will refuse the connection after that.",
          inhibitGroup: "certificate-expiry",
        },
        {
          name: "CertificateNotReady",
          expr: 'certmanager_certificate_ready_status{condition="False"} == 1',
          for: "15m",
          severity: "warning",
          summary: "Certificate {{ $labels.namespace }}/{{ $labels.name }} is not ready",
          description:
            "cert-manager reports Certificate {{ $labels.namespace }}/{{ $labels.name }} (issuer {{ $labels.issuer_name }}) as not Ready for 15 minutes: issuance or renewal is failing.",
        },
      ],
    },
  ],
};
