export * from './maintenance';
export * from './notifications';
export * from './projects';
export * from './traces';
export * from './trackers';
