// Reading the broker's position pages (GET /portfolio/{accountId}/positions/{pageId}). The broker pages by 100
// and never says how many positions there are: a full page only means the next page may hold more.
import { getPositions } from "../../../../generated/cpapi/client.gen.ts";
import type { ClientTransport } from "../../../cpapi/index.ts";
import { POSITIONS_PAGE_SIZE } from "../../../cpapi/mappers/index.ts";

/** One page as the broker sends it (the mappers read it). */
export async function readPositionsPage(
  transport: ClientTransport,
  accountId: string,
  page: number,
): Promise<unknown> {
  // waitForSecDef: a cold read can otherwise come back before the contract details (ticker, listing
  // exchange, expiry) are loaded, and those rows would lack what the output shows.
  const answer = await getPositions(transport, {
    path: { accountId, pageId: page },
    query: { waitForSecDef: true },
  });
  return answer.body;
}

export interface FirstPositions {
  readonly page: unknown;
  /** Set when page 0 was full and page 1 was read to know: true when page 1 holds positions. */
  readonly more: boolean | undefined;
}

/**
 * Page 0, and when it is full, whether page 1 holds anything: a snapshot says "truncated" only when there
 * really is more, not merely because the account happens to hold exactly 100 positions.
 */
export async function readFirstPositions(
  transport: ClientTransport,
  accountId: string,
): Promise<FirstPositions> {
  const page = await readPositionsPage(transport, accountId, 0);
  if (!Array.isArray(page) || page.length < POSITIONS_PAGE_SIZE) return { page, more: undefined };
  const next = await readPositionsPage(transport, accountId, 1);
  // An unreadable page 1 leaves the decision to the full page 0 (the mapper then says "more").
  return { page, more: Array.isArray(next) ? next.length > 0 : undefined };
}
