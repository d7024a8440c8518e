// site.config: the part of the server's configuration the SPA needs (the cover image host), so that the page and
// the Content-Security-Policy name the same host and nothing is baked into the build.
import type { SiteConfig } from '../outputs';
import { publicProcedure, router } from '../trpc';

export const siteRouter = router({
  config: publicProcedure.query(({ ctx }): SiteConfig => ({ imagesUrl: ctx.deps.archiveLinks.imagesUrl })),
});
