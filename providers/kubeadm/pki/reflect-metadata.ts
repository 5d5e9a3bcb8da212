// The part of the Reflect metadata API (reflect-metadata) that tsyringe, @peculiar/x509's
// dependency-injection container, needs: it refuses to load without `Reflect.getMetadata`.
// @peculiar/x509's injectable classes take no constructor arguments, so nothing is ever
// stored here but what tsyringe's own `@inject` would define. A real polyfill, when one is
// loaded first, is left alone.
type Metadata = Map<unknown, unknown>;
type ReflectMetadata = {
  getMetadata?: (key: unknown, target: object) => unknown;
  getOwnMetadata?: (key: unknown, target: object) => unknown;
  defineMetadata?: (key: unknown, value: unknown, target: object) => void;
};

const reflect = Reflect as unknown as ReflectMetadata;
if (!reflect.getMetadata) {
  const store = new WeakMap<object, Metadata>();
  reflect.getOwnMetadata = (key, target) => store.get(target)?.get(key);
  reflect.getMetadata = (key, target) => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t)) {
      const value = store.get(t)?.get(key);
      if (value !== undefined) return value;
    }
    return undefined;
  };
  reflect.defineMetadata = (key, value, target) => {
    const own = store.get(target) ?? new Map<unknown, unknown>();
    own.set(key, value);
    store.set(target, own);
  };
}
