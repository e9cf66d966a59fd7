import { Hono } from 'hono';
import type { ConsoleEnv } from './session';

export const trackerRoutes = new Hono<ConsoleEnv>();
