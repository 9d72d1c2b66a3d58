import { describe, expect, it, vi } from 'vitest';
import { parseTimeRange } from '@/lib/history/time-range';
import { ApiError } from './api-error';
import { errorAnswer } from './route-handler';

describe('errorAnswer: what a thrown error becomes, the same for every route', () => {
  it('a from/to that does not parse is a 400 naming the parameter and the value', () => {
    let thrown: unknown;
    try {
      parseTimeRange({ from: 'yesterday', to: null }, Date.now());
    } catch (err) {
      thrown = err;
    }
    expect(errorAnswer(thrown)).toEqual({
      status: 400,
      body: {
        error: { code: 'bad_request', message: 'from: "yesterday" is not an ISO time or a relative time like -1h' },
      },
      headers: {},
    });
  });

  it('an ApiError keeps its status, code and headers; anything else is a 500 that says nothing', () => {
    const limited = new ApiError(429, 'too_many_attempts', 'wait', { 'Retry-After': '60' });
    expect(errorAnswer(limited)).toEqual({
      status: 429,
      body: { error: { code: 'too_many_attempts', message: 'wait' } },
      headers: { 'Retry-After': '60' },
    });
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(errorAnswer(new TypeError('secret detail'))).toEqual({
      status: 500,
      body: { error: { code: 'internal', message: 'internal error; see the server log' } },
      headers: {},
    });
    expect(log).toHaveBeenCalledWith('unhandled error in route: TypeError');
    log.mockRestore();
  });
});
