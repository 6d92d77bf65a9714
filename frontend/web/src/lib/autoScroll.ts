/**
 * Following the end of a conversation while an answer streams, and letting go the moment the
 * reader scrolls up.
 *
 * The view is "pinned" while it shows the end. Any move up by the reader unpins it at once
 * (however small: the old rule "within 80 px of the end counts as the end" pulled a reader who
 * scrolled up a little back down with the next token); reaching the end again pins it. A
 * scroll the page makes itself (to the end, or the browser's scroll anchoring when content is
 * added above) never moves up, so it never unpins.
 */
export const END_SLACK_PX = 4;

export interface ScrollBox {
  scrollTop: number;
  scrollHeight: number;
  clientHeight: number;
}

export function distanceFromEnd(box: ScrollBox): number {
  return box.scrollHeight - box.scrollTop - box.clientHeight;
}

export class EndFollower {
  pinned = true;
  private lastTop = 0;

  /** After a scroll event: returns whether the view follows the end. */
  scrolled(box: ScrollBox): boolean {
    if (distanceFromEnd(box) <= END_SLACK_PX) this.pinned = true;
    else if (box.scrollTop < this.lastTop) this.pinned = false;
    this.lastTop = box.scrollTop;
    return this.pinned;
  }

  /** The reader asked to go up (wheel or keys), before any scroll happened. */
  userMovedUp(): void {
    this.pinned = false;
  }

  /** Moves the view to the end when pinned (after content grew or changed). */
  follow(box: ScrollBox): void {
    if (!this.pinned) return;
    box.scrollTop = box.scrollHeight;
    this.lastTop = box.scrollTop;
  }

  /** A different conversation: start at its end. */
  reset(): void {
    this.pinned = true;
    this.lastTop = 0;
  }
}

/** Keys that scroll a view up. */
export function isUpKey(key: string): boolean {
  return key === 'ArrowUp' || key === 'PageUp' || key === 'Home';
}
