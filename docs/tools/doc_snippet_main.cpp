// Runs the snippets of one documentation file (or of all of them): the
// ctest tests docs.snippets.<file> call this with the file's path.
#include <exception>
#include <iostream>

#include "doc_snippet_runner.h"

namespace lumen_doc {

std::map<std::string, DocFile>& registry() {
  static std::map<std::string, DocFile> files;
  return files;
}

bool run_fragment(const char* where, void (*fn)()) {
  try {
    fn();
    return true;
  } catch (const std::exception& e) {
    std::cerr << where << ": the snippet threw: " << e.what() << "\n";
    return false;
  }
}

bool run_program(const char* where, const std::function<int()>& main) {
  try {
    int rc = main();
    if (rc != 0) std::cerr << where << ": the program returned " << rc << "\n";
    return rc == 0;
  } catch (const std::exception& e) {
    std::cerr << where << ": the program threw: " << e.what() << "\n";
    return false;
  }
}

}  // namespace lumen_doc

int main(int argc, char** argv) {
  auto& files = lumen_doc::registry();
  bool ok = true;
  int matched = 0;
  for (auto& [path, file] : files) {
    if (argc > 1 && path != argv[1]) continue;
    ++matched;
    bool file_ok = file.run();
    std::cout << path << ": " << file.snippets << " snippets, " << (file_ok ? "ok" : "FAILED")
              << "\n";
    ok &= file_ok;
  }
  if (argc > 1 && matched == 0) {
    std::cerr << "no documentation file " << argv[1] << " was compiled in\n";
    return 1;
  }
  return ok ? 0 : 1;
}
