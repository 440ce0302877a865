// sync.js: the list's topics kept in its queries, through the TanStack adapter:
// gift events patch the gifts, the list's own events patch the list, family
// events read the members again; a baseline or a resync reads them all again.
// Echoes of this page's own writes are left to its mutations (the adapter's
// default): they showed the change already, and their answers bring the rest.

import { applyToList } from "../../realtime/adapters/apply.js";
import { connectQueryClient } from "../../realtime/adapters/tanstack.js";
import { keys } from "../queries.js";
import { withoutPlaceholderFor } from "./mutations.js";

export function topicsOf({ listId, familyId }) {
  return { list: `gift-list:${listId}`, family: `family:${familyId}` };
}

/** Connect the page's queries to the client; returns the disconnect function. */
export function syncGiftList(client, queryClient, page) {
  const topics = topicsOf(page);
  const listKey = keys.giftList(page.listId);
  const giftsKey = keys.gifts(page.listId);
  const familyKey = keys.family(page.familyId);

  const queryKeysFor = (topic, event) => {
    const kind = event && event.data.entity_type;
    if (topic === topics.list) {
      if (!event) return [listKey, giftsKey];
      if (kind === "gift") return [giftsKey];
      if (kind === "gift-list") return [listKey];
    } else if (topic === topics.family) {
      if (!event || kind === "membership" || kind === "family") return [familyKey];
    }
    return [];
  };

  const patch = (queryClient, event) => {
    if (event.topic !== topics.list) return false;
    const kind = event.data.entity_type;
    if (kind === "gift") {
      if (queryClient.getQueryData(giftsKey) === undefined) return false;
      // The user's own gift, come back without being marked as an echo (sent
      // from another tab, or while this page was on a fallback without a
      // connection id): it takes the place of a placeholder of that title.
      const mine = event.event === "ADDED" && String(event.data.user_id) === page.me;
      queryClient.setQueryData(giftsKey, (gifts) =>
        applyToList(mine ? withoutPlaceholderFor(gifts, event.data.payload) : gifts, event),
      );
      return true;
    }
    if (kind === "gift-list") {
      // A deleted list closes the page (gift-list.js); reading it would be refused.
      if (event.event !== "DELETED") queryClient.setQueryData(listKey, event.data.payload);
      return true;
    }
    return false;
  };

  return connectQueryClient(client, queryClient, { queryKeysFor, patch });
}
