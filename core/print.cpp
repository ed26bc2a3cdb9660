// Printing tensors the way numpy prints arrays, so tapeflow output reads like TensorFlow's.
// Rules followed (numpy defaults): precision 8 with the shortest unique digits ("maxprec"),
// decimal points aligned, scientific notation when |max| >= 1e8, |min| < 1e-4 or max/min > 1e3,
// summarization with "..." above 1000 elements (3 edge items), line width 75.

#include <cmath>
#include <cstdlib>
#include <ostream>
#include <sstream>

#include "tapeflow/core/check.hpp"
#include "tapeflow/core/dispatch.hpp"
#include "tapeflow/core/tensor.hpp"

namespace tapeflow {

namespace {

constexpr std::size_t kThreshold = 1000;
constexpr std::size_t kEdgeItems = 3;
constexpr std::size_t kLineWidth = 75;
constexpr int kPrecision = 8;

template <class T>
bool round_trips(const std::string& text, T value) {
  return static_cast<T>(std::strtod(text.c_str(), nullptr)) == value;
}

/// Fewest fixed-point digits (at most kPrecision) that read back as `value`.
template <class T>
std::string positional_digits(T value) {
  std::string text;
  for (int p = 0; p <= kPrecision; ++p) {
    text = fmt::format("{:.{}f}", value, p);
    if (round_trips(text, value)) break;
  }
  return text;
}

/// Fewest mantissa digits (at most kPrecision) that read back as `value`, e.g. "1.5e-05".
template <class T>
std::string scientific_digits(T value) {
  std::string text;
  for (int p = 0; p <= kPrecision; ++p) {
    text = fmt::format("{:.{}e}", value, p);
    if (round_trips(text, value)) break;
  }
  return text;
}

std::string non_finite(double v) {
  if (std::isnan(v)) return "nan";
  return v > 0 ? "inf" : "-inf";
}

struct Element {
  std::string integer;   // sign and digits before the point (or the whole text)
  std::string fraction;  // digits after the point
  std::string exponent;  // "e-05", scientific only
  bool has_point = false;
};

/// Formats every shown element of a floating array with shared padding, as numpy does.
template <class T>
std::vector<std::string> format_floats(const std::vector<T>& values, bool repr) {
  double max_abs = 0, min_abs = 0;
  bool any_nonzero = false;
  for (T v : values) {
    if (!std::isfinite(v)) continue;
    const double a = std::abs(static_cast<double>(v));
    if (a == 0) continue;
    if (!any_nonzero || a > max_abs) max_abs = any_nonzero ? std::max(max_abs, a) : a;
    if (!any_nonzero || a < min_abs) min_abs = any_nonzero ? std::min(min_abs, a) : a;
    any_nonzero = true;
  }
  const bool scientific =
      any_nonzero && (max_abs >= 1e8 || min_abs < 1e-4 || max_abs / min_abs > 1e3);

  std::vector<Element> parts;
  parts.reserve(values.size());
  std::size_t int_width = 0, frac_width = 0, exp_width = 0;
  for (T v : values) {
    Element e;
    if (!std::isfinite(v)) {
      e.integer = non_finite(static_cast<double>(v));
      e.has_point = false;
    } else {
      std::string text = scientific ? scientific_digits(v) : positional_digits(v);
      const std::size_t e_pos = text.find('e');
      if (e_pos != std::string::npos) {
        e.exponent = text.substr(e_pos);
        text = text.substr(0, e_pos);
      }
      const std::size_t dot = text.find('.');
      e.has_point = true;
      e.integer = dot == std::string::npos ? text : text.substr(0, dot);
      e.fraction = dot == std::string::npos ? std::string() : text.substr(dot + 1);
      int_width = std::max(int_width, e.integer.size());
      frac_width = std::max(frac_width, e.fraction.size());
      exp_width = std::max(exp_width, e.exponent.size());
    }
    parts.push_back(std::move(e));
  }
  // numpy pads positional fractions with spaces ("1.5  2.25") and scientific mantissas with
  // zeros ("1.5e-05 1.0e+00"); nan and inf are right-aligned to the full width.
  const std::size_t width = int_width + 1 + frac_width + exp_width;
  std::vector<std::string> out;
  out.reserve(parts.size());
  for (const Element& e : parts) {
    std::string s;
    if (!e.has_point) {
      s = std::string(width > e.integer.size() ? width - e.integer.size() : 0, ' ') + e.integer;
    } else {
      s = std::string(int_width - e.integer.size(), ' ') + e.integer + '.' + e.fraction;
      s += std::string(frac_width - e.fraction.size(), scientific ? '0' : ' ');
      if (scientific) {
        // Exponent digits padded to the widest ("e+05" vs "e+100").
        std::string exponent = e.exponent;
        while (exponent.size() < exp_width) exponent.insert(2, "0");
        s += exponent;
      }
    }
    out.push_back(std::move(s));
  }
  (void)repr;
  return out;
}

template <class T>
std::vector<std::string> format_plain(const std::vector<T>& values) {
  std::vector<std::string> out;
  std::size_t width = 0;
  for (T v : values) {
    if constexpr (std::is_same<T, bool>::value) {
      out.emplace_back(v ? "True" : "False");
    } else {
      out.push_back(fmt::format("{}", v));
    }
    width = std::max(width, out.back().size());
  }
  for (std::string& s : out) s.insert(0, width - s.size(), ' ');
  return out;
}

/// The indices shown along one axis: all, or the first and last kEdgeItems around "...".
std::vector<long> shown_indices(std::size_t extent, bool summarize) {
  std::vector<long> idx;
  if (summarize && extent > 2 * kEdgeItems) {
    for (std::size_t i = 0; i < kEdgeItems; ++i) idx.push_back(static_cast<long>(i));
    idx.push_back(-1);  // the ellipsis
    for (std::size_t i = extent - kEdgeItems; i < extent; ++i) idx.push_back(static_cast<long>(i));
  } else {
    for (std::size_t i = 0; i < extent; ++i) idx.push_back(static_cast<long>(i));
  }
  return idx;
}

/// Collects the shown elements in row-major order (so padding is computed over what is printed).
template <class T>
void collect(const T* data, const Shape& shape, std::size_t axis, std::size_t offset,
             bool summarize, std::vector<T>& out) {
  if (axis == shape.size()) {
    out.push_back(data[offset]);
    return;
  }
  std::size_t stride = 1;
  for (std::size_t a = axis + 1; a < shape.size(); ++a) stride *= shape[a];
  for (long i : shown_indices(shape[axis], summarize)) {
    if (i < 0) continue;
    collect(data, shape, axis + 1, offset + static_cast<std::size_t>(i) * stride, summarize, out);
  }
}

struct Layout {
  const std::vector<std::string>* items;
  std::size_t next = 0;
  std::string separator;  // " " (str) or ", " (repr)
  bool summarize = false;
};

/// Writes one axis; `indent` is the column where this axis's '[' sits.
void write_axis(std::string& out, Layout& layout, const Shape& shape, std::size_t axis,
                std::size_t indent) {
  out += '[';
  const std::vector<long> idx = shown_indices(shape[axis], layout.summarize);
  const bool innermost = axis + 1 == shape.size();
  std::string trimmed_sep = layout.separator;
  while (!trimmed_sep.empty() && trimmed_sep.back() == ' ') trimmed_sep.pop_back();
  std::size_t column = indent + 1;
  for (std::size_t k = 0; k < idx.size(); ++k) {
    const bool last = k + 1 == idx.size();
    if (innermost) {
      std::string word = idx[k] < 0 ? std::string("...") : (*layout.items)[layout.next++];
      if (!last) word += trimmed_sep;
      // Wrap like numpy when the next word would pass the line width.
      if (k > 0 && column + word.size() + (last ? axis + 1 : 0) > kLineWidth) {
        while (!out.empty() && out.back() == ' ') out.pop_back();
        out += '\n';
        out += std::string(indent + 1, ' ');
        column = indent + 1;
      }
      out += word;
      column += word.size();
      if (!last) {
        out += ' ';
        ++column;
      }
    } else {
      if (idx[k] < 0) {
        out += "...";
      } else {
        write_axis(out, layout, shape, axis + 1, indent + 1);
      }
      if (!last) {
        out += trimmed_sep;
        out += std::string(shape.size() - axis - 1, '\n');
        out += std::string(indent + 1, ' ');
      }
    }
  }
  out += ']';
}

template <class T>
std::string format_scalar(T v) {
  if constexpr (std::is_same<T, bool>::value) {
    return v ? "True" : "False";
  } else if constexpr (std::is_floating_point<T>::value) {
    if (!std::isfinite(v)) return non_finite(static_cast<double>(v));
    std::string s = fmt::format("{}", v);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return s;
  } else {
    return fmt::format("{}", v);
  }
}

/// numpy's str (repr=false) or the bracketed body of its repr (repr=true).
std::string format_values(const Tensor& t, bool repr, std::size_t indent) {
  return detail::visit_dtype(t.dtype(), [&](auto tag) -> std::string {
    using T = typename decltype(tag)::type;
    const T* data = static_cast<const T*>(t.raw_data());
    if (t.rank() == 0) return format_scalar(data[0]);
    if (t.size() == 0) return std::string(t.rank(), '[') + std::string(t.rank(), ']');
    const bool summarize = t.size() > kThreshold;
    std::vector<T> shown;
    collect(data, t.shape(), 0, 0, summarize, shown);
    std::vector<std::string> items;
    if constexpr (std::is_floating_point<T>::value) {
      items = format_floats(shown, repr);
    } else {
      items = format_plain(shown);
    }
    Layout layout{&items, 0, repr ? ", " : " ", summarize};
    std::string out;
    write_axis(out, layout, t.shape(), 0, indent);
    return out;
  });
}

}  // namespace

std::string to_string(const Tensor& tensor) {
  if (!tensor) return "None";
  return format_values(tensor, false, 0);
}

std::string numpy_repr(const Tensor& tensor) {
  if (!tensor) return "None";
  if (tensor.rank() == 0) return format_values(tensor, true, 0);
  std::string body = format_values(tensor, true, 6);
  const DType d = tensor.dtype();
  // numpy omits the dtype for its defaults (float64, int64, bool) unless the array is empty.
  const bool default_dtype = d == DType::float64 || d == DType::int64 || d == DType::boolean;
  if (default_dtype && tensor.size() > 0) return "array(" + body + ")";
  return "array(" + body + ", dtype=" + dtype_name(d) + ")";
}

std::ostream& operator<<(std::ostream& os, const Tensor& tensor) {
  if (!tensor) return os << "None";
  // TensorFlow starts a multi-line value on its own line.
  const std::string body = format_values(tensor, false, 0);
  const char* lead = body.find('\n') == std::string::npos ? "" : "\n";
  return os << "tapeflow.Tensor(" << lead << body << ", shape=" << shape_str(tensor.shape()) << ", dtype=" << dtype_name(tensor.dtype())
            << ")";
}

}  // namespace tapeflow
