/**
 * Hands a promise's value (or error) on only while the component that asked is still mounted:
 * return it from a `useEffect` that loads something once, and an answer that arrives after
 * unmount is dropped.
 */
export function whileMounted<T>(
  promise: Promise<T>,
  onValue: (value: T) => void,
  onError: (error: unknown) => void,
): () => void {
  let live = true;
  promise.then(
    (value) => {
      if (live) onValue(value);
    },
    (error: unknown) => {
      if (live) onError(error);
    },
  );
  return () => {
    live = false;
  };
}
