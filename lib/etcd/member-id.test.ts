import { describe, expect, it } from 'vitest';
import { memberIdToHex, NO_MEMBER } from './member-id';

describe('memberIdToHex', () => {
  it('prints ids above 2^53 exactly as etcdctl does', () => {
    expect(memberIdToHex('17237436991929493444')).toBe('ef37ad9dc622a7c4');
    // etcd's well-known id of a default single-member cluster.
    expect(memberIdToHex('10276657743932975437')).toBe('8e9e05c52164694d');
    expect(memberIdToHex('18446744073709551615')).toBe('ffffffffffffffff');
  });

  it('does not round through a double (2^53 + 1 stays odd)', () => {
    expect(memberIdToHex('9007199254740993')).toBe('20000000000001');
  });

  it('prints small ids without padding', () => {
    expect(memberIdToHex('1')).toBe('1');
    expect(memberIdToHex('255')).toBe('ff');
  });

  it('keeps "0" (no leader, no member) as "0"', () => {
    expect(memberIdToHex('0')).toBe('0');
    expect(memberIdToHex('0')).toBe(NO_MEMBER);
  });

  it.each(['', '-1', '0x1f', 'ef37ad9dc622a7c4', '1e3', '12.0', ' 12', '12 ', '+5'])(
    'rejects non-decimal input %j, naming it',
    (input) => {
      expect(() => memberIdToHex(input)).toThrow(`not a decimal member id: ${JSON.stringify(input)}`);
    },
  );
});
