import { describe, expect, it } from 'vitest';
import { EndFollower, isUpKey, type ScrollBox } from './autoScroll';

function box(scrollTop: number, scrollHeight = 2000, clientHeight = 500): ScrollBox {
  return { scrollTop, scrollHeight, clientHeight };
}

describe('EndFollower', () => {
  it('follows the end as content grows', () => {
    const f = new EndFollower();
    const b = box(0, 2000);
    f.follow(b);
    expect(b.scrollTop).toBe(2000);
    b.scrollHeight = 2600;
    f.follow(b);
    expect(b.scrollTop).toBe(2600);
  });

  it('lets go at the first move up, however small, and holds while content grows', () => {
    const f = new EndFollower();
    expect(f.scrolled(box(1500))).toBe(true);
    expect(f.scrolled(box(1480))).toBe(false);
    const b = box(1480, 3000);
    f.follow(b);
    expect(b.scrollTop).toBe(1480);
  });

  it('follows again when the reader comes back to the end', () => {
    const f = new EndFollower();
    f.userMovedUp();
    expect(f.pinned).toBe(false);
    expect(f.scrolled(box(1200))).toBe(false);
    expect(f.scrolled(box(1497))).toBe(true);
  });

  it('is not let go by the page scrolling down itself (anchoring, following)', () => {
    const f = new EndFollower();
    f.scrolled(box(1500));
    f.userMovedUp();
    f.reset();
    expect(f.scrolled(box(1000, 3000))).toBe(true);
  });

  it('knows the keys that scroll up', () => {
    expect(['ArrowUp', 'PageUp', 'Home'].every(isUpKey)).toBe(true);
    expect(isUpKey('ArrowDown')).toBe(false);
  });
});
