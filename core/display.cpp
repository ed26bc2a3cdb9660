// HTML and text renderings for Jupyter's rich display (mime_bundle_repr).

#include "tapeflow/core/display.hpp"

#include <cmath>
#include <sstream>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "tapeflow/core/dispatch.hpp"

namespace tapeflow {

namespace {

constexpr std::size_t kThreshold = 1000;  // numpy's: summarize above this many elements
constexpr std::size_t kEdgeItems = 5;     // shown at each end of a summarized axis

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

/// The indices shown along an axis; -1 stands for the ellipsis.
std::vector<long> shown_indices(std::size_t extent, bool summarize) {
  std::vector<long> idx;
  const bool cut = summarize && extent > 2 * kEdgeItems;
  for (std::size_t i = 0; i < extent; ++i) {
    if (cut && i == kEdgeItems) {
      idx.push_back(-1);
      i = extent - kEdgeItems - 1;
      continue;
    }
    idx.push_back(static_cast<long>(i));
  }
  return idx;
}

/// One element as numpy writes it: `1.`, `0.25`, `1e-05`, `nan`, `True`, `3`.
template <class T>
std::string element_text(T value) {
  if constexpr (std::is_same<T, bool>::value) {
    return value ? "True" : "False";
  } else if constexpr (std::is_floating_point<T>::value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    std::string text = fmt::format("{}", value);  // shortest text that reads back exactly
    if (text.find_first_of(".e") == std::string::npos) text += '.';
    return text;
  } else {
    return fmt::format("{}", value);
  }
}

const char* const kTable = "<table style=\"font-family:monospace;text-align:right\">";

std::string header_cell(long index) {
  return index < 0 ? "<th>&hellip;</th>" : "<th>" + std::to_string(index) + "</th>";
}

/// A table of rows x cols elements at data[offset + r * row_stride + c]; the header row holds
/// the column indices and the first column the row indices (none for a vector).
template <class T>
void write_table(std::string& out, const T* data, std::size_t offset, std::size_t rows,
                 std::size_t cols, std::size_t row_stride, bool is_vector, bool summarize,
                 const std::string& caption) {
  out += kTable;
  if (!caption.empty()) out += "<caption>" + escape(caption) + "</caption>";
  const std::vector<long> col_idx = shown_indices(cols, summarize);
  out += "<tr>";
  if (!is_vector) out += "<th></th>";
  for (long c : col_idx) out += header_cell(c);
  out += "</tr>";
  for (long r : shown_indices(rows, summarize)) {
    out += "<tr>";
    if (!is_vector) out += r < 0 ? std::string("<th>&vellip;</th>") : header_cell(r);
    for (long c : col_idx) {
      if (r < 0 || c < 0) {
        out += r >= 0 ? "<td>&hellip;</td>" : c >= 0 ? "<td>&vellip;</td>" : "<td>&dtdot;</td>";
        continue;
      }
      const std::size_t at = offset + static_cast<std::size_t>(r) * row_stride +
                             static_cast<std::size_t>(c);
      out += "<td>" + escape(element_text(data[at])) + "</td>";
    }
    out += "</tr>";
  }
  out += "</table>";
}

/// Tables for the last two axes, one per index of the leading axes ("[1, :, :]").
template <class T>
void write_blocks(std::string& out, const T* data, const Shape& shape, std::size_t axis,
                  std::size_t offset, const std::string& prefix, bool summarize) {
  const std::size_t rank = shape.size();
  if (rank - axis == 2) {
    write_table(out, data, offset, shape[rank - 2], shape[rank - 1], shape[rank - 1], false,
                summarize, "[" + prefix + ":, :]");
    return;
  }
  std::size_t stride = 1;
  for (std::size_t a = axis + 1; a < rank; ++a) stride *= shape[a];
  for (long i : shown_indices(shape[axis], summarize)) {
    if (i < 0) {
      out += "<div>&vellip;</div>";
      continue;
    }
    write_blocks(out, data, shape, axis + 1, offset + static_cast<std::size_t>(i) * stride,
                 prefix + std::to_string(i) + ", ", summarize);
  }
}

/// The values of a (non-none) tensor as tables, without a title.
std::string values_html(const Tensor& t) {
  if (t.size() == 0) return "<div>(empty)</div>";
  return detail::visit_dtype(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* data = static_cast<const T*>(t.raw_data());
    const bool summarize = t.size() > kThreshold;
    std::string out;
    if (t.rank() == 0) {
      out += kTable;
      out += "<tr><td>" + escape(element_text(data[0])) + "</td></tr></table>";
    } else if (t.rank() == 1) {
      write_table(out, data, 0, 1, t.shape()[0], 0, true, summarize, "");
    } else if (t.rank() == 2) {
      write_table(out, data, 0, t.shape()[0], t.shape()[1], t.shape()[1], false, summarize, "");
    } else {
      write_blocks(out, data, t.shape(), 0, 0, "", summarize);
    }
    return out;
  });
}

std::string titled(const std::string& title, const std::string& body) {
  return "<div class=\"tapeflow\"><div style=\"font-family:monospace\">" + escape(title) +
         "</div>" + body + "</div>";
}

std::string describe(const Shape& shape, DType dtype) {
  return "shape=" + shape_str(shape) + " dtype=" + dtype_name(dtype);
}

template <class X>
std::string stream_text(const X& x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

/// Slices as rows: the slice's index, then the values of that row.
std::string slices_html(const IndexedSlices& s) {
  const Tensor& values = s.values;
  const std::string title = "IndexedSlices dense_shape=" + shape_str(s.dense_shape) +
                            " dtype=" + dtype_name(values.dtype());
  if (values.rank() < 1 || values.rank() > 2 || values.shape()[0] != s.indices.size() ||
      values.size() == 0) {
    return titled(title, "<div>indices</div>" + values_html(s.indices) + "<div>values</div>" +
                             values_html(values));
  }
  const xt::xarray<long long> indices = s.indices.numpy<long long>();
  const std::size_t rows = values.shape()[0];
  const std::size_t cols = values.rank() == 2 ? values.shape()[1] : 1;
  const bool summarize = values.size() > kThreshold;
  std::string out = kTable;
  out += "<tr><th>index</th>";
  const std::vector<long> col_idx = shown_indices(cols, summarize);
  if (values.rank() == 2) {
    for (long c : col_idx) out += header_cell(c);
  } else {
    out += "<th>value</th>";
  }
  out += "</tr>";
  detail::visit_dtype(values.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* data = static_cast<const T*>(values.raw_data());
    for (long r : shown_indices(rows, summarize)) {
      if (r < 0) {
        out += "<tr><th>&vellip;</th>";
        for (std::size_t c = 0; c < col_idx.size(); ++c) out += "<td>&vellip;</td>";
        out += "</tr>";
        continue;
      }
      const auto row = static_cast<std::size_t>(r);
      out += "<tr><th>" + std::to_string(indices(row)) + "</th>";
      for (long c : col_idx) {
        if (c < 0) {
          out += "<td>&hellip;</td>";
        } else {
          const T value = data[row * cols + static_cast<std::size_t>(c)];
          out += "<td>" + escape(element_text(value)) + "</td>";
        }
      }
      out += "</tr>";
    }
  });
  out += "</table>";
  return titled(title, out);
}

}  // namespace

std::string repr(const Tensor& tensor) { return stream_text(tensor); }
std::string repr(const Variable& variable) { return stream_text(variable); }
std::string repr(const Gradient& gradient) { return stream_text(gradient); }

std::string to_html(const Tensor& tensor) {
  if (!tensor) return "<pre>None</pre>";
  return titled("tapeflow.Tensor " + describe(tensor.shape(), tensor.dtype()),
                values_html(tensor));
}

std::string to_html(const Variable& variable) {
  const Tensor value = variable.read_value_no_record();
  return titled("tapeflow.Variable '" + variable.name() + "' " +
                    describe(value.shape(), value.dtype()),
                values_html(value));
}

std::string to_html(const Gradient& gradient) {
  if (!gradient) return "<pre>None</pre>";
  if (!gradient.is_sparse()) return to_html(gradient.dense());
  return slices_html(gradient.indexed_slices());
}

}  // namespace tapeflow
