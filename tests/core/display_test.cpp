// Rich display (mime_bundle_repr): the text entry is operator<<, the HTML entry a table.
#include "../support.hpp"

#include <string>

#include <tapeflow/core/display.hpp>

using namespace tapeflow;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

const std::string kTable = "<table style=\"font-family:monospace;text-align:right\">";

std::string titled(const std::string& title, const std::string& body) {
  return "<div class=\"tapeflow\"><div style=\"font-family:monospace\">" + title + "</div>" + body +
         "</div>";
}

}  // namespace

TEST_CASE("the bundle holds operator<< as text/plain and the table as text/html") {
  const Tensor t = {{1.0, 2.5}, {-3.0, 4.0}};
  const nlohmann::json bundle = mime_bundle_repr(t);
  REQUIRE(bundle.size() == 2);
  std::ostringstream os;
  os << t;
  CHECK(bundle["text/plain"].get<std::string>() == os.str());
  CHECK(bundle["text/html"].get<std::string>() == to_html(t));
}

TEST_CASE("a matrix is one row per row, with row and column indices") {
  const Tensor t = {{1.0, 2.5}, {-3.0, 4.0}};
  CHECK(to_html(t) ==
        titled("tapeflow.Tensor shape=(2, 2) dtype=float32",
               kTable + "<tr><th></th><th>0</th><th>1</th></tr>"
                        "<tr><th>0</th><td>1.</td><td>2.5</td></tr>"
                        "<tr><th>1</th><td>-3.</td><td>4.</td></tr></table>"));
}

TEST_CASE("vectors, scalars, integers, booleans, none and empty tensors") {
  CHECK(to_html(Tensor{1, 2, 3}) ==
        titled("tapeflow.Tensor shape=(3,) dtype=int32",
               kTable + "<tr><th>0</th><th>1</th><th>2</th></tr>"
                        "<tr><td>1</td><td>2</td><td>3</td></tr></table>"));
  CHECK(to_html(Tensor(0.1)) ==
        titled("tapeflow.Tensor shape=() dtype=float32", kTable + "<tr><td>0.1</td></tr></table>"));
  CHECK(to_html(Tensor{1.0, 2.0} > Tensor{0.0, 3.0}).find("<td>True</td><td>False</td>") !=
        std::string::npos);
  CHECK(to_html(Tensor()) == "<pre>None</pre>");
  CHECK(to_html(zeros({0, 3})).find("(empty)") != std::string::npos);
}

TEST_CASE("rank 3 is one table per leading index") {
  const std::string html = to_html(reshape(range(0, 8), {2, 2, 2}));
  CHECK(count(html, "<table") == 2);
  CHECK(html.find("<caption>[0, :, :]</caption>") != std::string::npos);
  CHECK(html.find("<caption>[1, :, :]</caption>") != std::string::npos);
  CHECK(html.find("<td>7.</td>") != std::string::npos);
}

TEST_CASE("above 1000 elements each axis shows its first and last 5 entries") {
  const std::string small = to_html(zeros({10, 100}));  // 1000 elements: all shown
  CHECK(count(small, "<td>") == 1000);
  const std::string big = to_html(reshape(range(0, 1100), {11, 100}));
  // 10 shown rows of 10 values and an ellipsis each, then a row of vertical ellipses.
  CHECK(count(big, "<td>") == 10 * 11 + 11);
  CHECK(count(big, "<td>&hellip;</td>") == 10);
  CHECK(count(big, "<td>&vellip;</td>") == 10);
  CHECK(count(big, "<td>&dtdot;</td>") == 1);
  CHECK(count(big, "<th>&hellip;</th>") == 1);
  CHECK(count(big, "<th>&vellip;</th>") == 1);
  CHECK(big.find("<td>1099.</td>") != std::string::npos);  // the last element
  CHECK(big.find("<td>500.</td>") == std::string::npos);   // row 5 is elided
}

TEST_CASE("a variable shows its name, escaped") {
  Variable v(Tensor{0.5, -1.0}, "w<1>");
  CHECK(to_html(v) == titled("tapeflow.Variable 'w&lt;1&gt;:0' shape=(2,) dtype=float32",
                             kTable + "<tr><th>0</th><th>1</th></tr>"
                                      "<tr><td>0.5</td><td>-1.</td></tr></table>"));
  const nlohmann::json bundle = mime_bundle_repr(v);
  std::ostringstream os;
  os << v;
  CHECK(bundle["text/plain"].get<std::string>() == os.str());
}

TEST_CASE("a sparse gradient is a table of (index, row)") {
  Variable table(Tensor{{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}, "table");
  GradientTape tape;
  const Tensor loss = reduce_sum(gather(table, Tensor{2, 0, 2}) * Tensor{1.0, 10.0});
  const Gradient g = tape.gradient(loss, {table})[0];
  REQUIRE(g.is_sparse());
  CHECK(to_html(g) ==
        titled("IndexedSlices dense_shape=(3, 2) dtype=float32",
               kTable + "<tr><th>index</th><th>0</th><th>1</th></tr>"
                        "<tr><th>2</th><td>1.</td><td>10.</td></tr>"
                        "<tr><th>0</th><td>1.</td><td>10.</td></tr>"
                        "<tr><th>2</th><td>1.</td><td>10.</td></tr></table>"));
  CHECK(to_html(Gradient()) == "<pre>None</pre>");
  CHECK(to_html(Gradient(Tensor{1.0})) == to_html(Tensor{1.0}));
  CHECK(mime_bundle_repr(g)["text/plain"].get<std::string>().rfind("IndexedSlices(", 0) == 0);
}
