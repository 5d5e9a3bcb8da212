// Bootstrap tokens, as Cluster API's kubeadm bootstrap provider uses them: one per joining
// machine, 15 minutes to live, extended while the machine has not joined yet.
export const BOOTSTRAP_TOKEN_TTL_SECONDS = 15 * 60;
