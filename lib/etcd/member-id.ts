// etcd's 64-bit member ids: the API returns decimal strings, etcdctl prints lowercase hex.

/** Decimal id string (as etcd3 returns it) → hex as etcdctl prints it. "0" means "none" and stays "0". */
export function memberIdToHex(decimal: string): string {
  if (!/^\d+$/.test(decimal)) throw new Error(`not a decimal member id: ${JSON.stringify(decimal)}`);
  return BigInt(decimal).toString(16);
}

export const NO_MEMBER = '0';
