import { describe, expect, it, vi } from 'vitest';
import { whileMounted } from './whileMounted';

describe('whileMounted', () => {
  it('hands the value or the error on while mounted', async () => {
    const onValue = vi.fn();
    const onError = vi.fn();
    whileMounted(Promise.resolve(42), onValue, onError);
    whileMounted(Promise.reject(new Error('down')), onValue, onError);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(onValue).toHaveBeenCalledWith(42);
    expect(onError).toHaveBeenCalledWith(new Error('down'));
  });

  it('drops what arrives after the cleanup ran', async () => {
    const onValue = vi.fn();
    const onError = vi.fn();
    whileMounted(Promise.resolve(1), onValue, onError)();
    whileMounted(Promise.reject(new Error('late')), onValue, onError)();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(onValue).not.toHaveBeenCalled();
    expect(onError).not.toHaveBeenCalled();
  });
});
