// Real servers on loopback for tests, `capstan dev` and the simulated cloud.
export * from './tools.js';
export * from './ports.js';
export * from './probe.js';
export * from './process.js';
export * from './etcd.js';
export * from './kube-apiserver.js';
export * from './kube-controller-manager.js';
export * from './kube-scheduler.js';
export * from './temporal.js';
