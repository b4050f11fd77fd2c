// Graph introspection, profiling traces and the peak report (issue 3 items 6, 7).
#include "test_util.h"

#include <cstdio>
#include <fstream>
#include <sstream>

using namespace lumen;
using namespace lumen::test;

TEST(Graph, PrimitiveCountsOfUnevaluatedGraph) {
  auto x = array({1.0f, 2.0f});
  auto y = exp(x) + exp(x) * x;
  auto counts = primitive_counts({y});
  EXPECT_EQ(counts["Exp"], 2);
  EXPECT_EQ(counts["Add"], 1);
  EXPECT_EQ(counts["Multiply"], 1);
  EXPECT_EQ(counts.size(), 3u);
  // Shared subgraphs count once.
  auto e = exp(x);
  EXPECT_EQ(primitive_counts({e + e})["Exp"], 1);
  // Evaluated arrays have no graph left.
  eval(y);
  EXPECT_TRUE(primitive_counts({y}).empty());
}

TEST(Graph, PrintAndDot) {
  auto x = array({1.0f, 2.0f});
  auto y = sqrt(x + array(1.0f));
  std::ostringstream g, d;
  print_graph(g, {y});
  EXPECT_NE(g.str().find("Add"), std::string::npos) << g.str();
  EXPECT_NE(g.str().find("Sqrt"), std::string::npos) << g.str();
  EXPECT_NE(g.str().find("float32"), std::string::npos) << g.str();
  export_to_dot(d, {y});
  EXPECT_EQ(d.str().rfind("digraph {", 0), 0u) << d.str();
  EXPECT_NE(d.str().find("Sqrt"), std::string::npos);
  EXPECT_NE(d.str().find("->"), std::string::npos);
}

TEST(Graph, IterativeOnAMillionNodes) {
  auto x = array(0.0f);
  auto one = array(1.0f);
  for (int i = 0; i < 1000000; ++i) x = x + one;
  EXPECT_EQ(primitive_counts({x})["Add"], 1000000);
}

TEST(Trace, ChromeTraceAndPeakReport) {
  auto s = default_stream(Device::cpu);
  std::string path = ::testing::TempDir() + "lumen_trace_test.json";
  trace::start(path);
  reset_peak_memory();
  auto x = exp(zeros({1 << 20}, float32, s), s);
  auto y = x + exp(x, s);
  eval(y);
  auto report = memory::peak_report();
  size_t written = trace::stop();
  EXPECT_GE(written, 3u);  // Broadcast, Exp, Exp, Add
  std::ifstream f(path);
  std::stringstream buf;
  buf << f.rdbuf();
  std::string json = buf.str();
  EXPECT_NE(json.find("\"traceEvents\""), std::string::npos);
  EXPECT_NE(json.find("\"name\":\"Exp\""), std::string::npos);
  EXPECT_NE(json.find("active_bytes"), std::string::npos);
  std::remove(path.c_str());
  // At the peak x, exp(x) (donated into y) were alive: two 4 MiB float32 arrays.
  EXPECT_GE(report.peak_bytes, size_t(2) << 22);
  ASSERT_GE(report.live.size(), 2u);
  EXPECT_EQ(report.live[0].bytes, size_t(1) << 22);
  EXPECT_EQ(report.live[0].dtype, float32);
  EXPECT_EQ(report.live[0].shape, std::vector<int>{1 << 20});
  EXPECT_EQ(report.live[1].bytes, size_t(1) << 22);
  std::ostringstream os;
  os << report;
  EXPECT_NE(os.str().find("Exp"), std::string::npos) << os.str();
}
