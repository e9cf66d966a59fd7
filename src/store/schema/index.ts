export * from './maintenance';
export * from './notifications';
export * from './projects';
export * from './shards';
export * from './traces';
export * from './trackers';
