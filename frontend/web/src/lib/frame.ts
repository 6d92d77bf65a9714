/**
 * Runs `callback` in an animation frame (requestAnimationFrame: just before the browser
 * paints), the first one at or after `notBefore` (a `performance.now()` time; default: the
 * next frame). Where there are no animation frames, a timeout stands in for them. Returns a
 * function that cancels it.
 *
 * A hidden tab gets no frames: what waits for one waits until the tab is shown again (or until
 * the caller gives up waiting and runs it itself).
 */
export function onFrame(callback: () => void, notBefore = 0): () => void {
  let cancelFrame: (() => void) | null = null;
  const inFrame = () => {
    if (typeof requestAnimationFrame !== 'function') {
      const timer = setTimeout(callback, 16);
      cancelFrame = () => clearTimeout(timer);
      return;
    }
    const id = requestAnimationFrame(() => callback());
    cancelFrame = () => cancelAnimationFrame(id);
  };
  // Wake up a little early: the frame that follows is the one.
  const wait = notBefore - performance.now() - FRAME_SLACK_MS;
  if (wait <= 0) {
    inFrame();
    return () => cancelFrame?.();
  }
  const timer = setTimeout(inFrame, wait);
  return () => {
    clearTimeout(timer);
    cancelFrame?.();
  };
}

/** About half a frame at 60 Hz. */
const FRAME_SLACK_MS = 8;
