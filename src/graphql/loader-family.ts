import type DataLoader from 'dataloader';

/**
 * DataLoaders for a field with arguments: keys batch together only when their arguments are the
 * same, so each distinct argument set gets a loader of its own (made on first use, per request).
 */
export function loaderFamily<Args, Key, Value>(
  make: (args: Args) => DataLoader<Key, Value, string>,
  argsKey: (args: Args) => string = (args) => JSON.stringify(args),
): (args: Args) => DataLoader<Key, Value, string> {
  const loaders = new Map<string, DataLoader<Key, Value, string>>();
  return (args) => {
    const key = argsKey(args);
    let loader = loaders.get(key);
    if (!loader) {
      loader = make(args);
      loaders.set(key, loader);
    }
    return loader;
  };
}
