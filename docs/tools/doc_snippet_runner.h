// Support for the translation units doctool generates from docs/*.md: each
// registers a function running its file's runnable snippets, and
// doc_snippet_main.cpp runs the file named on its command line.
#pragma once

// What snippets may use without including it: <lumen/lumen.h> and these.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <lumen/lumen.h>

namespace lumen_doc {

struct DocFile {
  int snippets;
  bool (*run)();
};

std::map<std::string, DocFile>& registry();

struct Registrar {
  Registrar(const char* path, int snippets, bool (*run)()) {
    registry()[path] = {snippets, run};
  }
};

// A fragment: runs as a function body; an exception fails it.
bool run_fragment(const char* where, void (*fn)());
// A whole program: its main must return 0.
bool run_program(const char* where, const std::function<int()>& main);

// Calls a snippet's main, which may or may not take (argc, argv).
template <typename F>
int call_main(F* main) {
  if constexpr (std::is_invocable_v<F*>) {
    return main();
  } else {
    static char name[] = "snippet";
    static char* argv[] = {name, nullptr};
    return main(1, argv);
  }
}

}  // namespace lumen_doc
