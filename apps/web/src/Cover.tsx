// A book's cover from archive.org's image service (`<imagesUrl>/services/img/<identifier>`; the server says which
// host in site.config, the same one its Content-Security-Policy allows). Its box is sized before anything loads, so
// nothing moves when the picture arrives; a cover that fails to load becomes a placeholder with the title's initial.
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { trpc } from './trpc';

const SIZES = {
  /** Catalogue and loans cards. */
  card: { width: 60, height: 90 },
  /** History rows. */
  row: { width: 30, height: 45 },
} as const;

export function Cover({
  identifier,
  title,
  size = 'card',
}: {
  identifier: string;
  title: string;
  size?: keyof typeof SIZES;
}) {
  const config = useQuery({ ...trpc.site.config.queryOptions(), staleTime: Infinity, gcTime: Infinity });
  const [failed, setFailed] = useState(false);
  const { width, height } = SIZES[size];
  const className = `cover cover-${size}`;
  const imagesUrl = config.data?.imagesUrl;

  if (failed || config.isError) {
    return (
      <span className={`${className} cover-missing`} role="img" aria-label={`No cover for “${title}”`}>
        <span aria-hidden="true">{initial(title)}</span>
      </span>
    );
  }
  if (!imagesUrl) return <span className={className} aria-hidden="true" />;
  return (
    <img
      className={className}
      src={`${imagesUrl}/services/img/${encodeURIComponent(identifier)}`}
      width={width}
      height={height}
      loading="lazy"
      decoding="async"
      alt={`Cover of “${title}”`}
      onError={() => setFailed(true)}
    />
  );
}

function initial(title: string): string {
  return /\p{L}|\p{N}/u.exec(title)?.[0]?.toUpperCase() ?? '?';
}
