// Every port the benchmarks bind, in one place, inside the range kept for them: etcd 25500–25899, dashboards 3350–3399.
// A member takes three ports from its base (client, peer, metrics); the figures run one after another.

/** 10 clusters × 3 members × 3 ports: 25500–25589. */
export const SCALE_ETCD_BASE = 25500;
export const SCALE_DASHBOARD_PORTS = { one: 3350, ten: 3351 } as const;

/** The 3-member stack of the live-view and page figures (bench/lib/stack.ts): 25600–25608. */
export const STACK_ETCD_BASE = 25600;
export const STACK_DASHBOARD_PORT = 3352;

/** The 1-member cluster of the snapshot throughput figure: 25620–25622. */
export const SNAPSHOT_ETCD_BASE = 25620;
export const SNAPSHOT_DASHBOARD_PORT = 3353;

/** The 1-member cluster that makes the verification figure's snapshot: 25630–25632. */
export const VERIFY_ETCD_BASE = 25630;

/** The 3-member cluster of the defragment figure (issue 15): the stack's ports, free while it runs. */
export const DEFRAGMENT_ETCD_BASE = 25600;

/** The 1-member cluster of the restore-test figure (issue 16): 25700–25702. */
export const RESTORE_ETCD_BASE = 25700;
/** The member its by-hand runs start on the restored copy, on plain loopback (the dashboard's uses unix sockets). */
export const RESTORE_HAND_PORTS = { client: 25703, peer: 25704 } as const;

/**
 * The fleet figure (issue 18), outside the range above so it can run beside the others: 10 clusters × 3 members ×
 * 3 ports from 26100 (26100–26189), PostgreSQL on 26090, one dashboard on 3400 and three replicas on 3401–3403.
 */
export const FLEET_ETCD_BASE = 26100;
export const FLEET_POSTGRES_PORT = 26090;
export const FLEET_DASHBOARD_PORTS = { one: 3400, three: [3401, 3402, 3403] } as const;
