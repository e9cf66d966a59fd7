import { serveUntilStopped } from './serve';

await serveUntilStopped();
