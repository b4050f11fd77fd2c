// transformer_decode: a small decoder-only transformer, prefill then
// token-by-token decode, with float16 or sub-1-bit (0.75 bits per weight)
// linear layers. The weights are random (drawn from --seed), so the tokens
// mean nothing; what it shows is the lumen API a real model uses and what
// it costs: time, tokens/s and peak memory.
//
//   ./transformer_decode                         default device, small model
//   ./transformer_decode --device cpu --weights binary --tokens 64
//   ./transformer_decode --compare               fp16 vs binary logits (cosine)
//   ./transformer_decode --trace decode.json     Chrome trace (chrome://tracing)
//
// The model: token embedding, then per layer
//   x += attention(rms_norm(x))   RoPE, grouped-query attention, KV cache
//   x += mlp(rms_norm(x))         SwiGLU
// then a final rms_norm and the output projection to vocabulary logits.
#include <lumen/lumen.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace lumen;

// ---------------------------------------------------------------- options

struct Options {
  std::string device;  // "" = the default device
  std::string weights = "fp16";
  int layers = 2, dim = 256, heads = 8, kv_heads = 2, ffn = 512, vocab = 1024;
  int group_size = 128;
  int prompt_len = 32, tokens = 32;
  float temperature = 0.8f, top_p = 0.95f;
  int top_k = 50;
  uint64_t seed = 0;
  bool compare = false;
  std::string trace;
};

[[noreturn]] void usage(const char* bad) {
  std::fprintf(stderr,
               "bad argument: %s\n"
               "usage: transformer_decode [--device cpu|gpu] [--weights fp16|binary] [--compare]\n"
               "  [--layers N] [--dim N] [--heads N] [--kv-heads N] [--ffn N] [--vocab N]\n"
               "  [--group-size N] [--prompt-len N] [--tokens N] [--temperature T]\n"
               "  [--top-k K] [--top-p P] [--seed S] [--trace FILE]\n",
               bad);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--compare") {
      o.compare = true;
      continue;
    }
    if (i + 1 >= argc) usage(argv[i]);
    const std::string v = argv[++i];
    auto integer = [&] { return std::stoi(v); };
    if (flag == "--device") o.device = v;
    else if (flag == "--weights") o.weights = v;
    else if (flag == "--layers") o.layers = integer();
    else if (flag == "--dim") o.dim = integer();
    else if (flag == "--heads") o.heads = integer();
    else if (flag == "--kv-heads") o.kv_heads = integer();
    else if (flag == "--ffn") o.ffn = integer();
    else if (flag == "--vocab") o.vocab = integer();
    else if (flag == "--group-size") o.group_size = integer();
    else if (flag == "--prompt-len") o.prompt_len = integer();
    else if (flag == "--tokens") o.tokens = integer();
    else if (flag == "--temperature") o.temperature = std::stof(v);
    else if (flag == "--top-k") o.top_k = integer();
    else if (flag == "--top-p") o.top_p = std::stof(v);
    else if (flag == "--seed") o.seed = std::stoull(v);
    else if (flag == "--trace") o.trace = v;
    else usage(argv[i - 1]);
  }
  if (o.device != "" && o.device != "cpu" && o.device != "gpu") usage(o.device.c_str());
  if (o.weights != "fp16" && o.weights != "binary") usage(o.weights.c_str());
  if (o.dim % o.heads || o.heads % o.kv_heads || (o.dim / o.heads) % 2) {
    usage("--dim must split into --heads heads of even size, --heads into --kv-heads groups");
  }
  if (o.tokens < 2 || o.prompt_len < 1) usage("--tokens must be at least 2, --prompt-len at least 1");
  if (o.dim % o.group_size || o.ffn % o.group_size) {
    usage("--dim and --ffn must be multiples of --group-size");
  }
  return o;
}

// ---------------------------------------------------------------- linear layers

// A linear layer y = x @ W^T with W [out, in], stored either as float16 or as
// binary weights (quantized once, at load).
struct Linear {
  std::optional<array> fp16;
  std::optional<BinaryWeights> binary;
};

// Where binary_matmul runs: the model's device, or the CPU when that device
// has no kernel for it yet (the GPU then reads its inputs across devices).
std::optional<Device> g_binary_device;

Device binary_matmul_device(const Device& d) {
  if (g_binary_device) return *g_binary_device;
  g_binary_device = d;
  try {
    // A tiny probe: does this device evaluate binary_matmul?
    auto w = binary_quantize(ones({8, 128}, float32, Device::cpu), 128, 8, 6, Device::cpu);
    eval(binary_matmul(ones({1, 128}, float16), w, true, d));
  } catch (const std::exception& e) {
    std::printf("note: binary_matmul has no kernel on %s (%s); it runs on the cpu\n",
                d == Device::gpu ? "gpu" : "cpu", e.what());
    g_binary_device = Device::cpu;
  }
  return *g_binary_device;
}

Linear make_linear(const array& w, bool binary, int group_size) {
  if (!binary) return {w, std::nullopt};
  // 8 signs share one 6-bit codeword index: 0.75 bits per weight (+ scales).
  // Quantizing is a load-time step with a CPU kernel only; the result then
  // moves to the device binary_matmul runs on, once (left on the CPU, every
  // product would copy the weights across devices: 1 GB per decoded token).
  auto q = binary_quantize(w, group_size, 8, 6, Device::cpu);
  const Device d = binary_matmul_device(default_device());
  q.indices = copy(q.indices, d);
  q.codebook = copy(q.codebook, d);
  q.scales = copy(q.scales, d);
  eval(q.indices, q.codebook, q.scales);
  return {std::nullopt, q};
}

array linear(const array& x, const Linear& l) {
  if (l.fp16) return matmul(x, transpose(*l.fp16));
  return binary_matmul(x, *l.binary, true, binary_matmul_device(default_device()));
}

// ---------------------------------------------------------------- the model

struct Layer {
  array attn_norm, mlp_norm;  // rms_norm weights [dim]
  Linear wq, wk, wv, wo;      // attention projections
  Linear gate, up, down;      // SwiGLU
};

struct Model {
  Options cfg;
  array embed;   // [vocab, dim] float16 (kept float16 in both formats)
  array norm;    // final rms_norm weight
  array lm_head; // [vocab, dim] float16
  std::vector<Layer> layers;
  int head_dim() const { return cfg.dim / cfg.heads; }
};

// Random float16 weights with the usual 1/sqrt(fan_in) scale, all drawn
// from one seed so that both weight formats start from the same matrices.
struct WeightSource {
  array key;
  array next(int out, int in, float scale) {
    auto [k, rest] = random::split(key);
    key = rest;
    return random::normal({out, in}, float16, 0.0f, scale, k);
  }
  // Linear layers: 1/sqrt(fan_in), so outputs keep their inputs' scale.
  array next(int out, int in) { return next(out, in, 1.0f / std::sqrt(static_cast<float>(in))); }
};

Model make_model(const Options& o, bool binary) {
  WeightSource src{random::key(o.seed)};
  auto norm_weight = [&] { return ones({o.dim}, float16); };
  const int kv_dim = o.kv_heads * (o.dim / o.heads);
  // Embeddings of unit scale, as the normalized activations the blocks add.
  Model m{o, src.next(o.vocab, o.dim, 1.0f), norm_weight(), array(0.0f), {}};
  for (int i = 0; i < o.layers; ++i) {
    auto lin = [&](int out, int in) { return make_linear(src.next(out, in), binary, o.group_size); };
    Layer l{norm_weight(), norm_weight(),
            lin(o.dim, o.dim), lin(kv_dim, o.dim), lin(kv_dim, o.dim), lin(o.dim, o.dim),
            lin(o.ffn, o.dim), lin(o.ffn, o.dim), lin(o.dim, o.ffn)};
    m.layers.push_back(std::move(l));
  }
  m.lm_head = src.next(o.vocab, o.dim);
  // Materialize the float16 weights now so that they are not part of the
  // first forward pass (nor of its peak memory).
  std::vector<array> all = {m.embed, m.norm, m.lm_head};
  for (auto& l : m.layers) {
    all.push_back(l.attn_norm);
    all.push_back(l.mlp_norm);
    for (auto* lin : {&l.wq, &l.wk, &l.wv, &l.wo, &l.gate, &l.up, &l.down}) {
      if (lin->fp16) all.push_back(*lin->fp16);
    }
  }
  eval(all);
  return m;
}

// The key/value cache of one layer: [1, kv_heads, capacity, head_dim],
// filled up to `length`. slice_update writes each step's keys in place when
// the old cache array is no longer referenced (buffer donation).
struct KVCache {
  array keys, values;
  int length = 0;
};

std::vector<KVCache> make_caches(const Model& m, int capacity) {
  std::vector<KVCache> caches;
  const Shape shape = {1, m.cfg.kv_heads, capacity, m.head_dim()};
  for (int i = 0; i < m.cfg.layers; ++i) caches.push_back({zeros(shape, float16), zeros(shape, float16)});
  return caches;
}

// [1, T, heads * head_dim] -> [1, heads, T, head_dim]
array split_heads(const array& x, int heads, int head_dim) {
  return transpose(reshape(x, {1, x.shape(1), heads, head_dim}), {0, 2, 1, 3});
}

array attention_block(const Model& m, const Layer& l, const array& x, KVCache& cache) {
  const int T = x.shape(1), hd = m.head_dim(), offset = cache.length;
  auto rope = [&](const array& a) { return fast::rope(a, hd, false, 10000.0f, 1.0f, offset); };
  array q = rope(split_heads(linear(x, l.wq), m.cfg.heads, hd));
  array k = rope(split_heads(linear(x, l.wk), m.cfg.kv_heads, hd));
  array v = split_heads(linear(x, l.wv), m.cfg.kv_heads, hd);

  // Append this step's keys and values to the cache, then attend over the
  // filled part of it. Grouped-query attention: heads share kv_heads groups.
  const Shape start = {0, 0, offset, 0}, stop = {1, m.cfg.kv_heads, offset + T, hd};
  cache.keys = slice_update(cache.keys, k, start, stop);
  cache.values = slice_update(cache.values, v, start, stop);
  cache.length = offset + T;
  const Shape filled = {1, m.cfg.kv_heads, cache.length, hd};
  array keys = slice(cache.keys, {0, 0, 0, 0}, filled);
  array values = slice(cache.values, {0, 0, 0, 0}, filled);

  // Causal within the prompt; a single decode query sees every cached key.
  const std::string mask = T > 1 ? "causal" : "";
  array o = fast::scaled_dot_product_attention(q, keys, values, 1.0f / std::sqrt(static_cast<float>(hd)),
                                               mask);
  o = reshape(transpose(o, {0, 2, 1, 3}), {1, T, m.cfg.dim});
  return linear(o, l.wo);
}

array mlp_block(const Layer& l, const array& x) {
  array g = linear(x, l.gate);
  return linear(g * sigmoid(g) * linear(x, l.up), l.down);  // silu(gate) * up
}

array layer_forward(const Model& m, const Layer& l, const array& x, KVCache& cache) {
  const float eps = 1e-5f;
  array h = x + attention_block(m, l, fast::rms_norm(x, l.attn_norm, eps), cache);
  return h + mlp_block(l, fast::rms_norm(h, l.mlp_norm, eps));
}

// tokens [1, T] int32 -> logits of the last position [1, vocab] float32.
array forward(const Model& m, const array& tokens, std::vector<KVCache>& caches) {
  array x = take(m.embed, tokens, 0);  // [1, T, dim]
  for (size_t i = 0; i < m.layers.size(); ++i) x = layer_forward(m, m.layers[i], x, caches[i]);
  const int T = x.shape(1);
  x = slice(x, {0, T - 1, 0}, {1, T, m.cfg.dim});
  x = fast::rms_norm(x, m.norm, 1e-5f);
  return astype(reshape(matmul(x, transpose(m.lm_head)), {1, m.cfg.vocab}), float32);
}

// ---------------------------------------------------------------- measuring

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double mib(size_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

// Evaluates `outputs` and returns the memory the evaluation needed on top of
// what was alive before it (weights, cache): the peak minus the start.
size_t eval_peak(const std::vector<array>& outputs) {
  synchronize();
  const size_t before = get_active_memory();
  reset_peak_memory();
  eval(outputs);
  return get_peak_memory() - before;
}

double cosine(const array& a, const array& b) {
  auto dot = [](const array& x, const array& y) { return sum(x * y).item<float>(); };
  return dot(a, b) / std::sqrt(static_cast<double>(dot(a, a)) * dot(b, b));
}

// ---------------------------------------------------------------- main

array prompt_tokens(const Options& o) {
  return random::randint(0, o.vocab, {1, o.prompt_len}, int32, random::key(o.seed + 1));
}

array prefill_logits(const Model& m, const Options& o) {
  auto caches = make_caches(m, o.prompt_len);
  array logits = forward(m, prompt_tokens(o), caches);
  eval(logits);
  return logits;
}

int compare_formats(const Options& o) {
  array a = prefill_logits(make_model(o, false), o);
  array b = prefill_logits(make_model(o, true), o);
  // For scale: how close one weight matrix is to its own quantization.
  array w = WeightSource{random::key(o.seed)}.next(o.dim, o.dim);
  array wq = binary_dequantize(binary_quantize(w, o.group_size, 8, 6, Device::cpu), Device::cpu);
  std::printf("one %dx%d weight matrix vs its binary form: cosine similarity %.4f\n", o.dim, o.dim,
              cosine(astype(w, float32), wq));
  std::printf("final logits, fp16 vs binary (0.75 bpw): cosine similarity %.4f\n", cosine(a, b));
  return 0;
}

int run(const Options& o) {
  const bool binary = o.weights == "binary";
  const size_t before_weights = get_active_memory();
  Model m = make_model(o, binary);
  std::printf("model: %d layers, dim %d, %d heads (%d kv), ffn %d, vocab %d, %s linear layers; "
              "weights %.2f MiB (embedding and output head float16)\n",
              o.layers, o.dim, o.heads, o.kv_heads, o.ffn, o.vocab,
              binary ? "binary 0.75 bpw" : "float16", mib(get_active_memory() - before_weights));

  auto caches = make_caches(m, o.prompt_len + o.tokens);
  std::vector<array> cache_arrays;
  for (auto& c : caches) cache_arrays.insert(cache_arrays.end(), {c.keys, c.values});
  eval(cache_arrays);
  cache_arrays.clear();  // the caches own them now (so that updates donate)

  array key = random::key(o.seed + 2);
  const array temperature(o.temperature);
  auto sample_next = [&](const array& logits) {
    auto [k, rest] = random::split(key);
    key = rest;
    return sample(logits, temperature, o.top_k, o.top_p, k);
  };

  // Warm-up: one prefill and one decode step on a scratch cache, sampled with
  // a throwaway key, so that the timings below do not include one-time work
  // (GPU pipeline creation, which costs up to a quarter second per kernel).
  {
    auto scratch = make_caches(m, o.prompt_len + 1);
    const array warm_key = random::key(o.seed + 3);
    eval(sample(forward(m, prompt_tokens(o), scratch), temperature, o.top_k, o.top_p, warm_key));
    eval(sample(forward(m, zeros({1, 1}, int32), scratch), temperature, o.top_k, o.top_p, warm_key));
  }

  if (!o.trace.empty()) trace::start(o.trace);

  // Prefill: the whole prompt in one graph, one evaluation.
  array prompt = prompt_tokens(o);
  eval(prompt);
  auto t0 = std::chrono::steady_clock::now();
  array token = sample_next(forward(m, prompt, caches));
  const size_t prefill_peak = eval_peak({token});
  const double prefill_s = seconds_since(t0);
  // While tracing, the allocator also records which arrays were alive at
  // the peak: the prefill's peak report, largest first.
  if (trace::enabled()) std::cout << "prefill " << memory::peak_report();

  // Decode: one graph and one evaluation per token. The first step is
  // evaluated alone to measure its peak; from then on the next step's graph
  // is built and scheduled (async_eval) before the host waits for a token.
  auto step = [&](const array& tok) { return sample_next(forward(m, reshape(tok, {1, 1}), caches)); };
  std::vector<int> generated = {token.item<int>()};
  array next = step(token);
  const size_t step_peak = eval_peak({next});

  t0 = std::chrono::steady_clock::now();
  for (int i = 1; i < o.tokens; ++i) {
    array after = step(next);
    async_eval(after);
    generated.push_back(next.item<int>());
    next = after;
  }
  generated.push_back(next.item<int>());
  const double decode_s = seconds_since(t0);

  if (!o.trace.empty()) std::printf("trace: %zu events written to %s\n", trace::stop(), o.trace.c_str());

  std::printf("generated:");
  for (int t : generated) std::printf(" %d", t);
  std::printf("\n");
  std::printf("prefill: %d tokens in %.2f ms, peak %.2f MiB above weights and cache\n", o.prompt_len,
              prefill_s * 1e3, mib(prefill_peak));
  const int timed = o.tokens - 1;  // the first step was evaluated alone, for its peak
  std::printf("decode:  %d tokens in %.2f ms, %.1f tokens/s; one step peaks %.2f MiB above weights and cache\n",
              timed, decode_s * 1e3, timed / decode_s, mib(step_peak));
  return 0;
}

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (o.device == "gpu" && !is_available(Device::gpu)) {
    std::printf("no GPU (Vulkan device) available\n");
    return 77;  // ctest's SKIP_RETURN_CODE
  }
  if (!o.device.empty()) set_default_device(o.device == "gpu" ? Device::gpu : Device::cpu);
  std::printf("device: %s\n", default_device() == Device::gpu ? "gpu" : "cpu");
  try {
    return o.compare ? compare_formats(o) : run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
