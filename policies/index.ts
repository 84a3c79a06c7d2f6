// Entry of the policy pack that `pulumi preview --policy-pack policies` loads. Constructing the PolicyPack starts
// the analyzer's gRPC server, so this file does that and nothing else; the policies live in pack.ts.
import { PolicyPack } from "@pulumi/policy";
import { packEnforcementLevel, packName, policies } from "./pack";

new PolicyPack(packName, { policies, enforcementLevel: packEnforcementLevel });
