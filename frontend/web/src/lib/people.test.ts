import { describe, expect, it } from 'vitest';
import { dateTime, deviceName } from './people';

describe('deviceName', () => {
  it('names the browser and system of common user agents', () => {
    expect(
      deviceName(
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
      ),
    ).toBe('Chrome on Linux');
    expect(
      deviceName(
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0',
      ),
    ).toBe('Firefox on Windows');
    expect(
      deviceName(
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      ),
    ).toBe('Safari on iOS');
    expect(
      deviceName(
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
      ),
    ).toBe('Edge on Windows');
  });

  it('falls back to the header, shortened, or says it is unknown', () => {
    expect(deviceName(null)).toBe('Unknown device');
    expect(deviceName('my-script/1.0')).toBe('my-script/1.0');
    expect(deviceName('x'.repeat(100))).toBe(`${'x'.repeat(60)}…`);
  });
});

describe('dateTime', () => {
  it('formats a timestamp and shows a dash for none', () => {
    expect(dateTime(null)).toBe('—');
    expect(dateTime('not a date')).toBe('—');
    expect(dateTime('2026-06-01T12:00:00Z')).toMatch(/2026/);
  });
});
