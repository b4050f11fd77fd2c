// Token sampling for language-model decoding: Gumbel-max with runtime
// temperature, top-k and top-p.
//
// sample(logits, temperature, top_k, top_p, key) returns int32 token ids,
// shape [B] for logits [B, V] (shape [] for logits [V]), drawn from
// softmax(logits / T) restricted to the tokens that pass top-k and top-p:
//   id = argmax_i(keep_i ? logits_i / T + g_i : -inf),  g = -log(-log(u)),
// with u = random::uniform({B, V}, float32, key) (the bits of random::gumbel
// for that key), all in float32. A row whose temperature is 0 takes
// argmax(logits) instead (ties: the lowest index), decided at run time.
//
// Filtering, on s = logits / T in float32:
// - top_k (0 = off; >= V keeps all): keep s_i >= the k-th largest s.
// - top_p (1 = off): keep the smallest set of most probable tokens whose mass
//   reaches top_p (the token that crosses it is kept): with sorted values
//   v_0 >= v_1 >= ... and fixed-point masses q = floor(exp(v - max s) * 2^32)
//   (int64, so sums are exact in any order), the threshold is v_r for the last
//   r whose exclusive cumulative mass is < top_p * total (in float64).
// - Both: intersection (the larger threshold). Ties at a threshold are kept.
//
// temperature: float scalar or [B]; top_k (int32) and top_p (float32) scalars
// or [B] in the array overload. NaN: a row with a NaN logit (or a NaN
// logit / T) samples the index of its first NaN, as argmax does. A +inf
// logit wins its row (its first +inf), with or without filtering.
//
// Outside transforms this is one fused GumbelSample primitive (one pass over
// the vocabulary without top-p; a threshold search with no sort for top-p);
// under grad, vmap and compile the plain composition (RandomBits,
// elementwise ops, sort, cumsum, argmax) is built instead. Both give the same
// ids for the same key.
#pragma once

#include <optional>

#include <lumen/array.h>
#include <lumen/stream.h>

namespace lumen {

/** Sample token ids; top_k < 0 or top_p outside (0, 1] throw here, a
 * negative temperature known only as data throws when evaluated. */
array sample(const array& logits, const array& temperature, int top_k = 0, float top_p = 1.0f,
             const std::optional<array>& key = {}, StreamOrDevice s = {});

/** Sample token ids with runtime top_k (int32, scalar or [B]) and top_p
 * (float32, scalar or [B]); bad values throw when evaluated. */
array sample(const array& logits, const array& temperature, const array& top_k,
             const array& top_p, const std::optional<array>& key = {}, StreamOrDevice s = {});

}  // namespace lumen
