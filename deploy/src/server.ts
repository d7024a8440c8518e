// The production server's entry point: the server of @lending/server, serving the SPA that the build copies
// beside this bundle (dist/web) unless WEB_DIST names another folder.
import { fileURLToPath } from 'node:url';

process.env.WEB_DIST ||= fileURLToPath(new URL('./web', import.meta.url));
await import('@lending/server/main');
