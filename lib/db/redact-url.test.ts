import { describe, expect, it } from 'vitest';
import { redactUrl } from './redact-url';

describe('redactUrl', () => {
  it('masks the password in the user info and in a password query parameter, and keeps the rest', () => {
    expect(redactUrl('postgres://dash:s3cret@db.example:5432/dashboard')).toBe(
      'postgres://dash:***@db.example:5432/dashboard',
    );
    expect(redactUrl('postgresql://db.example/dashboard?user=dash&password=s3cret&sslmode=require')).toBe(
      'postgresql://db.example/dashboard?user=dash&password=***&sslmode=require',
    );
  });

  it('says what it got without repeating a value that is not a URL', () => {
    expect(redactUrl('dash:s3cret')).not.toContain('s3cret');
  });
});
