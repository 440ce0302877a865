// mutations.js: the user's own changes to a list's gifts, as TanStack mutations.
// Each shows its guess at once (onMutate), takes back only that guess if the
// server refuses (onError), and the last one to finish reads the list again
// (onSettled). Live events keep patching the cache meanwhile: a guess never
// hides them, and a rollback never undoes them.

import { MutationObserver } from "../query-core.js";
import { keys } from "../queries.js";

// A row field naming the change whose guess the row shows (an object of its own).
const GUESS = "guessedBy";

/** The gift mutations of one page: `http` is {api} (http.js, or a fake). */
export function giftMutations(queryClient, http, { listId, me, myName }) {
  const giftsKey = keys.gifts(listId);
  const mutationKey = ["gift", String(listId)];
  let placeholders = 0; // numbers the rows of gifts being added

  const setGifts = (change) =>
    queryClient.setQueryData(giftsKey, (gifts) => (gifts === undefined ? gifts : change(gifts)));

  // A read in flight would overwrite the guess with what it read before.
  const holdReads = () => queryClient.cancelQueries({ queryKey: giftsKey });

  function run(options, variables) {
    const observer = new MutationObserver(queryClient, {
      mutationKey,
      onSettled: () => {
        // The last change to finish reads the list again: the server's word, and
        // no guess still waiting is lost to that read.
        if (queryClient.isMutating({ mutationKey }) === 1) {
          queryClient.invalidateQueries({ queryKey: giftsKey });
        }
      },
      ...options,
    });
    return observer.mutate(variables);
  }

  /** Show `fields` on the gift at once; the server's answer then replaces them. */
  function change(id, fields, request) {
    id = String(id);
    return run(
      {
        mutationFn: request,
        onMutate: async () => {
          await holdReads();
          const guess = {};
          let previous;
          setGifts((gifts) =>
            gifts.map((gift) => {
              if (String(gift.id) !== id) return gift;
              previous = gift;
              return { ...gift, ...fields, [GUESS]: guess };
            }),
          );
          return { guess, previous };
        },
        // A row the server sent since (an event, a read) is newer than the guess: keep it.
        onError: (_error, _variables, context) => {
          if (!context) return;
          setGifts((gifts) => gifts.map((gift) => (gift[GUESS] === context.guess ? context.previous : gift)));
        },
        onSuccess: (row) => setGifts((gifts) => answered(gifts, row, { append: false })),
      },
      { id },
    );
  }

  const transition = (verb, fields) => (id) =>
    change(id, fields, () => http.api("POST", `/api/gifts/${id}/${verb}/`));

  return {
    claim: transition("claim", { status: "claimed", claimed_by: Number(me), claimed_by_username: myName }),
    unclaim: transition("unclaim", { status: "wanted", claimed_by: null, claimed_by_username: null }),
    purchase: transition("purchase", { status: "purchased", claimed_by: Number(me), claimed_by_username: myName }),

    edit: (id, fields) => change(id, fields, () => http.api("PATCH", `/api/gifts/${id}/`, fields)),

    remove(id) {
      id = String(id);
      return run(
        {
          mutationFn: () => http.api("DELETE", `/api/gifts/${id}/`),
          onMutate: async () => {
            await holdReads();
            let previous;
            let index = -1;
            setGifts((gifts) => {
              index = gifts.findIndex((gift) => String(gift.id) === id);
              previous = gifts[index];
              return index < 0 ? gifts : gifts.filter((_, i) => i !== index);
            });
            return { previous, index };
          },
          // Put it back where it was, unless it is gone for good or back already.
          onError: (error, _variables, context) => {
            if (!context?.previous || error.status === 404) return;
            setGifts((gifts) =>
              gifts.some((gift) => String(gift.id) === id)
                ? gifts
                : [...gifts.slice(0, context.index), context.previous, ...gifts.slice(context.index)],
            );
          },
        },
        { id },
      );
    },

    /** Add a gift: a placeholder row until the server answers. */
    add(body) {
      const placeholder = { ...body, id: `new-${++placeholders}`, status: "wanted", pending: true };
      const withoutPlaceholder = (gifts) => gifts.filter((gift) => gift.id !== placeholder.id);
      return run(
        {
          mutationFn: () => http.api("POST", "/api/gifts/", body),
          onMutate: async () => {
            await holdReads();
            setGifts((gifts) => [...gifts, placeholder]);
          },
          onError: () => setGifts(withoutPlaceholder),
          onSuccess: (row) => setGifts((gifts) => answered(withoutPlaceholder(gifts), row, { append: true })),
        },
        { id: placeholder.id },
      );
    },
  };
}

/** The ids of gifts with a change waiting for the server. */
export function busyGifts(queryClient, listId) {
  const pending = queryClient
    .getMutationCache()
    .findAll({ mutationKey: ["gift", String(listId)], status: "pending" });
  return new Set(pending.map((mutation) => String(mutation.state.variables.id)));
}

/**
 * The list after the server's answer `row`: it replaces a guess, or a row it is
 * not older than (an event may have brought a newer one first); a gift not in
 * the list is added only for `append` (it may have been deleted meanwhile).
 */
export function answered(gifts, row, { append }) {
  const index = gifts.findIndex((gift) => String(gift.id) === String(row.id));
  if (index < 0) return append ? [...gifts, row] : gifts;
  const current = gifts[index];
  if (!current[GUESS] && Date.parse(row.updated_at) < Date.parse(current.updated_at)) return gifts;
  return gifts.map((gift, i) => (i === index ? row : gift));
}

/** `gifts` without one placeholder for `payload`, the event of a gift added here. */
export function withoutPlaceholderFor(gifts, payload) {
  const index = gifts.findIndex((gift) => gift.pending && gift.title === payload.title);
  return index < 0 ? gifts : gifts.filter((_, i) => i !== index);
}
